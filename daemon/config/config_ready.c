/*
 * config_ready.c: the value of `ready =`, the way a service says it is up:
 * none, notify, fd:N, tcp:PORT, tcp:HOST:PORT or exec:COMMAND. Checked here
 * once, so the readiness code later never meets a malformed spec.
 */
#include "config.h"
#include "config_values.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

#define READY_FD_MAX	1023	/* below FD_SETSIZE: some services select() on it */

#define EXPECT_READY	"none, notify, fd:N, tcp:PORT, tcp:HOST:PORT or exec:COMMAND"

/* Digits only, 1 to 65535. */
static bool
port_ok(const char *p)
{
	unsigned long n = 0;

	if (*p == '\0' || strlen(p) > 5)
		return false;
	for (const char *c = p; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return false;
		n = n * 10 + (unsigned long)(*c - '0');
	}
	return n >= 1 && n <= 65535;
}

static int
ready_fd(struct service_conf *sc, const char *n, char *what, size_t len)
{
	char *end;
	long fd;

	fd = strtol(n, &end, 10);
	if (*n < '0' || *n > '9' || *end != '\0' || fd < 3 || fd > READY_FD_MAX) {
		snprintf(what, len, "fd:N with N from 3 to %d (0, 1 and 2 are "
		    "stdin, stdout and stderr)", READY_FD_MAX);
		return -1;
	}
	sc->ready_fd = (int)fd;
	return 0;
}

/*
 * The probe's addresses, found once here (at load and at reload), never in
 * the loop: a name may mean a DNS query that blocks for seconds. An
 * address needs no lookup; a name that does not resolve is a config error.
 */
static int
ready_resolve(struct service_conf *sc, char *what, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *res = NULL, *ai;
	size_t n = 0;
	int rc;

	rc = getaddrinfo(sc->ready_host, sc->ready_port, &hints, &res);
	if (rc == EAI_NONAME) {
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(sc->ready_host, sc->ready_port, &hints, &res);
	}
	if (rc != 0) {
		snprintf(what, len, "tcp:HOST:PORT with a HOST that resolves (%s: %s)",
		    sc->ready_host, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	if ((sc->ready_addrs = calloc(n, sizeof(*sc->ready_addrs))) == NULL) {
		freeaddrinfo(res);
		snprintf(what, len, "memory for it (out of memory)");
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(sc->ready_addrs[0].sa))
			continue;
		memcpy(&sc->ready_addrs[sc->ready_naddrs].sa, ai->ai_addr, ai->ai_addrlen);
		sc->ready_addrs[sc->ready_naddrs++].len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return 0;
}

/* tcp:PORT, tcp:HOST:PORT, tcp:[V6ADDR]:PORT */
static int
ready_tcp(struct service_conf *sc, const char *a, char *what, size_t len)
{
	const char *colon = strrchr(a, ':');
	size_t hlen;

	snprintf(what, len, "tcp:PORT or tcp:HOST:PORT with a port from 1 to 65535");
	if (colon == NULL) {
		if (!port_ok(a))
			return -1;
		sc->ready_host = strdup("127.0.0.1");
		sc->ready_port = strdup(a);
	} else {
		hlen = (size_t)(colon - a);
		if (hlen >= 2 && a[0] == '[' && a[hlen - 1] == ']') {
			a++;	/* [::1]:80: the brackets only guard the colons */
			hlen -= 2;
		}
		if (hlen == 0 || !port_ok(colon + 1))
			return -1;
		sc->ready_host = strndup(a, hlen);
		sc->ready_port = strdup(colon + 1);
	}
	if (sc->ready_host == NULL || sc->ready_port == NULL) {
		snprintf(what, len, "memory for it (out of memory)");
		return -1;
	}
	return ready_resolve(sc, what, len);
}

static int
ready_exec(struct service_conf *sc, const char *cmd, char *what, size_t len)
{
	const char *err;
	size_t n;

	if ((sc->ready_argv = words_split(cmd, &n, &err)) == NULL) {
		snprintf(what, len, "exec:COMMAND with a command line (%s)", err);
		return -1;
	}
	if (n == 0 || sc->ready_argv[0][0] == '\0') {
		snprintf(what, len, "exec:COMMAND with a command line after the colon");
		return -1;
	}
	return 0;
}

static void
ready_clear(struct service_conf *sc)
{
	free(sc->ready_spec);
	free(sc->ready_host);
	free(sc->ready_port);
	free(sc->ready_addrs);
	sc->ready_addrs = NULL;
	sc->ready_naddrs = 0;
	words_free(sc->ready_argv);
	sc->ready_spec = sc->ready_host = sc->ready_port = NULL;
	sc->ready_argv = NULL;
	sc->ready = READY_NONE;
	sc->ready_fd = 0;
}

int
values_ready(struct service_conf *sc, const char *v, char *what, size_t len)
{
	int rc = 0;

	ready_clear(sc);	/* a key given twice: the last one counts */
	if (strcmp(v, "none") == 0)
		sc->ready = READY_NONE;
	else if (strcmp(v, "notify") == 0)
		sc->ready = READY_NOTIFY;
	else if (strncmp(v, "fd:", 3) == 0) {
		sc->ready = READY_FD;
		rc = ready_fd(sc, v + 3, what, len);
	} else if (strncmp(v, "tcp:", 4) == 0) {
		sc->ready = READY_TCP;
		rc = ready_tcp(sc, v + 4, what, len);
	} else if (strncmp(v, "exec:", 5) == 0) {
		sc->ready = READY_EXEC;
		rc = ready_exec(sc, v + 5, what, len);
	} else {
		snprintf(what, len, "%s", EXPECT_READY);
		rc = -1;
	}
	if (rc == 0 && (sc->ready_spec = strdup(v)) == NULL) {
		snprintf(what, len, "memory for it (out of memory)");
		rc = -1;
	}
	if (rc == -1)
		ready_clear(sc);
	return rc;
}

void
values_ready_free(struct service_conf *sc)
{
	ready_clear(sc);
	words_free(sc->ready_exec_paths);
	sc->ready_exec_paths = NULL;
}
