/*
 * utf8.c: UTF-8 validation and repair (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). Pure functions; callers pick the
 * buffers.
 */
#include "config.h"
#include "utf8.h"

#include <string.h>

/*
 * Length of the well-formed sequence at s, or 0 when it is ill-formed;
 * *bad then holds how many bytes form the maximal ill-formed subpart
 * (at least 1), all of which one U+FFFD replaces.
 */
static size_t
sequence(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else {
		*bad = 1;	/* a stray continuation byte, 0xc0, 0xc1 or 0xf5.. */
		return 0;
	}
	/* the second byte's range is what rules out overlongs, surrogates and > U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (i = 1; i < need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

size_t
utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, bad;

	while (i < len) {
		if (p[i] < 0x80) {	/* ASCII runs are the common case */
			i++;
			continue;
		}
		if ((n = sequence(p + i, len - i, &bad)) == 0)
			break;
		i += n;
	}
	return i;
}

size_t
utf8_sanitize(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, n, bad;

	while (i < len) {
		n = utf8_valid_prefix(s + i, len - i);
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
		if (i == len)
			break;
		(void)sequence(p + i, len - i, &bad);
		memcpy(out + o, UTF8_REPLACEMENT, 3);
		o += 3;
		i += bad;
	}
	return o;
}

size_t
utf8_truncate(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	/*
	 * s[max] is the first byte left out: back up while it continues a
	 * character, at most the 3 bytes a character can continue for, so
	 * that bytes which are not UTF-8 at all are cut anywhere
	 */
	for (int i = 0; i < 3 && max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80; i++)
		max--;
	return max;
}
