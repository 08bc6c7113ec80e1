/*
 * fuzz_values.c: the libFuzzer target of the small value parsers: the
 * first byte picks one ('d' duration, 's' signal name, 'z' size, 'r'
 * ready =, 'k' any config key as "KEY=VALUE"; other bytes pick by
 * value), the rest is the text. Each result is checked against what the
 * parser promises: ranges, no wrap-around, and names that parse back.
 */
#include "config.h"
#include "vigild.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_values.h"
#include "duration.h"
#include "signame.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DURATION_MAX_MS	9.0e15	/* duration.c refuses more */
#define SIZE_MAX_BYTES	(1LL << 40)	/* config_values.c: at most 1024G */

static void
fail(const char *what, const char *input)
{
	fprintf(stderr, "fuzz_values: %s; input: '%s'\n", what, input);
	abort();
}

/* A parsed duration is in range, and what duration_format prints of it parses back. */
static void
check_duration(const char *v)
{
	char buf[64], *end;
	int64_t ms = -1, again = -1;
	size_t len;

	if (duration_parse(v, &ms) == -1)
		return;
	if (ms < 0 || (double)ms > DURATION_MAX_MS + 1)
		fail("a duration out of range was accepted", v);
	duration_format(ms, buf, sizeof(buf));
	if (buf[0] == '\0' || strlen(buf) >= sizeof(buf) - 1)
		fail("duration_format printed nothing or filled its buffer", v);
	/* under a minute it prints one unit ("850ms", "42s"), which parses back, cut to that unit */
	if (ms < 60000) {
		if (duration_parse(buf, &again) == -1 || again != ms - (ms >= 1000 ? ms % 1000 : 0))
			fail("a formatted duration does not parse back", v);
	}
	/* a whole number of ms is taken exactly */
	len = strlen(v);
	if (len >= 3 && len <= 17 && strspn(v, "0123456789") == len - 2 &&
	    strcmp(v + len - 2, "ms") == 0 && (int64_t)strtoll(v, &end, 10) != ms)
		fail("a whole number of ms was not taken exactly", v);
}

/* A known signal's name (and SIG + it, and its number) names it again. */
static void
check_signal(const char *v)
{
	char buf[32], with_sig[40], num[16];
	const char *name;
	int sig = signame_parse(v);

	if (sig == -1)
		return;
	if (sig < 1 || sig >= NSIG)
		fail("a signal out of range was accepted", v);
	name = signame_name(sig, buf, sizeof(buf));
	if (signame_parse(name) != sig)
		fail("the name printed for a signal does not parse back", v);
	/* "SIG32" has it already; the prefix is not case-sensitive */
	snprintf(with_sig, sizeof(with_sig), "%s%s",
	    strncasecmp(name, "SIG", 3) == 0 ? "" : "sig", name);
	snprintf(num, sizeof(num), "%d", sig);
	if (signame_parse(with_sig) != sig || signame_parse(num) != sig)
		fail("SIGNAME or the number does not give the same signal", v);
}

/* Digits and an optional K, M or G: exactly n << shift, or refused when over 1024G. */
static void
check_size(const char *v)
{
	struct config conf;
	struct value_error e = { "", false, false };
	size_t digits = strspn(v, "0123456789"), len = strlen(v);
	int shift = -1, rc;
	long long want = 0;
	bool over = false;

	memset(&conf, 0, sizeof(conf));
	conf.log_max_size = -1;
	rc = values_parse(VALUE_SECTION_VIGIL, &conf, "log_max_size", v, &e);
	if (digits > 0 && digits == len)
		shift = 0;
	else if (digits > 0 && digits + 1 == len) {
		switch (v[digits]) {
		case 'K': case 'k': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		}
	}
	for (size_t i = 0; shift >= 0 && i < digits && !over; i++) {
		want = want * 10 + (v[i] - '0');
		over = want > SIZE_MAX_BYTES;
	}
	if (shift >= 0 && !over)
		over = want > SIZE_MAX_BYTES >> shift;
	if (shift < 0 || over) {
		if (rc != -1)
			fail("a size that is not one (or over 1024G) was accepted", v);
		if (e.msg[0] == '\0')
			fail("a refused size has no message", v);
		return;
	}
	if (rc != 0)
		fail("a size was refused", v);
	if (conf.log_max_size != want << shift)
		fail("a size parsed to another number", v);
}

/* ready =: the spec and its parts, or nothing at all when refused. */
static void
check_ready(const char *v)
{
	struct service_conf *sc = values_service_new("fuzz", "fuzz.conf", 1);
	char what[160] = "";
	long port;

	if (sc == NULL)
		abort();
	if (values_ready(sc, v, what, sizeof(what)) == -1) {
		if (what[0] == '\0')
			fail("a refused ready = says nothing", v);
		if (sc->ready != READY_NONE || sc->ready_spec != NULL || sc->ready_host != NULL ||
		    sc->ready_port != NULL || sc->ready_argv != NULL)
			fail("a refused ready = left something set", v);
		values_service_free(sc);
		return;
	}
	if (sc->ready_spec == NULL || strcmp(sc->ready_spec, v) != 0)
		fail("ready_spec is not the value", v);
	switch (sc->ready) {
	case READY_NONE:
	case READY_NOTIFY:
		if (strcmp(v, sc->ready == READY_NONE ? "none" : "notify") != 0)
			fail("none or notify from another word", v);
		break;
	case READY_FD:
		if (sc->ready_fd < 3 || sc->ready_fd > 1023)
			fail("fd:N out of 3..1023", v);
		break;
	case READY_TCP:
		port = sc->ready_port ? strtol(sc->ready_port, NULL, 10) : 0;
		if (sc->ready_host == NULL || sc->ready_host[0] == '\0' || port < 1 ||
		    port > 65535 || strspn(sc->ready_port, "0123456789") != strlen(sc->ready_port))
			fail("tcp: without a host or a port of 1..65535", v);
		break;
	case READY_EXEC:
		if (sc->ready_argv == NULL || sc->ready_argv[0] == NULL || sc->ready_argv[0][0] == '\0')
			fail("exec: without a command", v);
		break;
	}
	values_service_free(sc);
}

/* Whether name is a key of section. */
static bool
key_known(enum value_section section, const char *name)
{
	const char *k;

	for (size_t i = 0; (k = values_key_name(section, i)) != NULL; i++)
		if (strcmp(k, name) == 0)
			return true;
	return false;
}

/*
 * "KEY=VALUE" through values_parse, as a [service:NAME] key, or a [vigil]
 * one: unknown keys get a message (and maybe a suggestion), known ones are
 * stored or refused with a message; everything is freed as config_free does.
 */
static void
check_key(const char *kv)
{
	const char *eq = strchr(kv, '=');
	struct value_error e = { "", false, false };
	struct service_conf *sc;
	struct config *conf;
	char *key;
	int rc;

	if (eq == NULL)
		return;
	if ((key = strndup(kv, (size_t)(eq - kv))) == NULL)
		abort();
	if ((sc = values_service_new("fuzz", "fuzz.conf", 1)) == NULL)
		abort();
	rc = values_parse(VALUE_SECTION_SERVICE, sc, key, eq + 1, &e);
	if ((rc == -1 && e.msg[0] == '\0') || e.unknown == key_known(VALUE_SECTION_SERVICE, key))
		fail("values_parse: unknown is not 'not a key', or no message", kv);
	/* as config.c: the fields that need several keys, then the whole service freed */
	if (rc == 0 && values_service_finish(sc, &e) == -1)
		fail("values_service_finish failed", kv);
	values_service_free(sc);
	if (!e.unknown) {
		free(key);
		return;
	}
	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		abort();
	memset(&e, 0, sizeof(e));
	rc = values_parse(VALUE_SECTION_VIGIL, conf, key, eq + 1, &e);
	if ((rc == -1 && e.msg[0] == '\0') || e.unknown == key_known(VALUE_SECTION_VIGIL, key))
		fail("values_parse ([vigil]): unknown is not 'not a key', or no message", kv);
	config_free(conf);
	free(key);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("vigild-fuzz", LOG_LEVEL_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const checks[])(const char *) = {
		check_duration, check_signal, check_size, check_ready, check_key
	};
	char *v;

	if (size == 0)
		return 0;
	if ((v = malloc(size)) == NULL)
		abort();
	memcpy(v, data + 1, size - 1);
	v[size - 1] = '\0';	/* the parsers take C strings: up to the first NUL */
	switch (data[0]) {
	case 'd': check_duration(v); break;
	case 's': check_signal(v); break;
	case 'z': check_size(v); break;
	case 'r': check_ready(v); break;
	case 'k': check_key(v); break;
	default: checks[data[0] % (sizeof(checks) / sizeof(checks[0]))](v); break;
	}
	free(v);
	return 0;
}
