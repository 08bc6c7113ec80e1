/*
 * config_listen.c: [vigil] metrics_listen, an address to serve metrics
 * on: "off", IPV4:PORT or [IPV6]:PORT. Numbers only: a name would need a
 * resolver at start, and a listener on a name that resolves elsewhere
 * later is a surprise. control/http.c binds what this parses.
 */
#include "config.h"
#include "conf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* A port of 1 to 65535, all digits; -1 otherwise. */
static int
parse_port(const char *s)
{
	long n = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n >= 1 && n <= 65535 ? (int)n : -1;
}

int
config_listen_parse(const char *v, struct config_listen *out)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	size_t hlen;
	int port;

	memset(out, 0, sizeof(*out));
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		hlen = (size_t)(close - v - 1);
		colon = close + 1;
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, v + 1, hlen);
		host[hlen] = '\0';
		if ((port = parse_port(colon + 1)) == -1)
			return -1;
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &out->in6.sin6_addr) != 1)
			return -1;
		out->len = sizeof(out->in6);
		return 0;
	}
	if ((colon = strrchr(v, ':')) == NULL)
		return -1;
	hlen = (size_t)(colon - v);
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	if ((port = parse_port(colon + 1)) == -1)
		return -1;
	out->in4.sin_family = AF_INET;
	out->in4.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &out->in4.sin_addr) != 1)
		return -1;
	out->len = sizeof(out->in4);
	return 0;
}
