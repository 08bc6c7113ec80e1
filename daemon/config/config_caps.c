/*
 * config_caps.c: `capabilities =`, a list of capability names turned into
 * a mask at load. libcap knows the names (and the kernel's newest ones
 * with each release), so we ask it rather than keep a table; spawnreq.c
 * turns the mask into the child's system calls.
 */
#include "config.h"
#include "config_values.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

/* One name: CAP_NET_BIND_SERVICE, cap_net_bind_service or net_bind_service. */
static int
cap_number(const char *word, size_t len, int *cap)
{
	char name[64];
	cap_value_t v;
	size_t n = 0;

	if (len == 0 || len + 4 >= sizeof(name) || isdigit((unsigned char)word[0]))
		return -1;	/* cap_from_name takes numbers: not here */
	if (len < 4 || strncasecmp(word, "cap_", 4) != 0) {
		memcpy(name, "cap_", 4);
		n = 4;
	}
	for (size_t i = 0; i < len; i++)
		name[n++] = (char)tolower((unsigned char)word[i]);
	name[n] = '\0';
	if (cap_from_name(name, &v) == -1 || v < 0 || v > 63)
		return -1;
	*cap = v;
	return 0;
}

int
values_capabilities(uint64_t *mask, const char *v, char *bad, size_t badlen)
{
	const char *sep = " \t,";
	uint64_t m = 0;
	size_t len, words = 0;
	bool none = false;
	int cap;

	for (v += strspn(v, sep); *v != '\0'; v += strspn(v, sep)) {
		len = strcspn(v, sep);
		words++;
		if (len == 4 && strncasecmp(v, "none", 4) == 0)
			none = true;
		else if (cap_number(v, len, &cap) == 0)
			m |= 1ULL << cap;
		else {
			snprintf(bad, badlen, "%.*s", (int)len, v);
			return -1;
		}
		v += len;
	}
	if (words == 0 || (none && words > 1))
		return -2;
	*mask = m;
	return 0;
}
