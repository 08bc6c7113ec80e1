/*
 * proto.c: the wire format, shared by vigild and vigilctl: request
 * splitting and reply objects. What each command does lives in the daemon.
 */
#include "config.h"
#include "proto.h"
#include "utf8.h"
#include "words.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct proto_command_info proto_commands[] = {
	{ "hello", "hello", "protocol and program version, supported commands" },
	{ "help", "help", "the commands with their usage" },
	{ "status", "status [--fields=LIST] [--] [NAME...]", "state of all or the named services" },
	{ "start", "start [--wait[=DURATION]] [--] NAME...", "start services" },
	{ "stop", "stop [--wait[=DURATION]] [--] NAME...", "stop services" },
	{ "restart", "restart [--wait[=DURATION]] [--] NAME...", "stop then start services" },
	{ "signal", "signal [--main] SIGNAL NAME...", "send a signal to every process of each service (--main: its main process)" },
	{ "shutdown", "shutdown", "stop every service, then vigild exits" },
	{ "log", "log [-n N] [--since=DURATION] [--follow] [--] [NAME...]",
	    "the last lines of output of all or the named services; --follow streams new ones" },
	{ "log-reopen", "log-reopen", "reopen every log file (after logrotate moved them)" },
	{ "wait", "wait [--for=running|ready|stopped|exited] [--timeout=DURATION] [--] NAME...",
	    "wait until every named service is there (default: ready, 60s)" },
	{ "events", "events [--] [NAME...]",
	    "the state of all or the named services, then every change, as a stream" },
	{ "reload", "reload [--dry-run]",
	    "re-read the configuration and apply it; --dry-run: only say what would change" },
	{ "show", "show [--] NAME...",
	    "each key of the running definition of services, its value and where it came from" },
	{ "daemon-reexec", "daemon-reexec",
	    "vigild executes its binary anew, services and their output kept (live upgrade)" },
	{ "metrics", "metrics [--format=openmetrics|prometheus]",
	    "the services and vigild as OpenMetrics (default) or Prometheus text" },
	{ NULL, NULL, NULL },
};

const char *const proto_status_fields[PROTO_NFIELDS] = {
	[PROTO_F_NAME] = PROTO_K_NAME,
	[PROTO_F_STATE] = PROTO_K_STATE,
	[PROTO_F_REASON] = PROTO_K_REASON,
	[PROTO_F_SINCE] = PROTO_K_SINCE,
	[PROTO_F_RESTARTS] = PROTO_K_RESTARTS,
	[PROTO_F_FAILURES] = PROTO_K_FAILURES,
	[PROTO_F_LAST_EXIT] = PROTO_K_LAST_EXIT,
	[PROTO_F_AUTOSTART] = PROTO_K_AUTOSTART,
	[PROTO_F_RESTART] = PROTO_K_RESTART,
	[PROTO_F_PID] = PROTO_K_PID,
	[PROTO_F_UPTIME] = PROTO_K_UPTIME,
	[PROTO_F_NEXT_START_IN] = PROTO_K_NEXT_START_IN,
	[PROTO_F_LOG_FILE] = PROTO_K_LOG_FILE,
	[PROTO_F_LOG_DROPPED_BYTES] = PROTO_K_LOG_DROPPED_BYTES,
	[PROTO_F_READY] = PROTO_K_READY,
	[PROTO_F_READY_KIND] = PROTO_K_READY_KIND,
	[PROTO_F_STATUS_TEXT] = PROTO_K_STATUS_TEXT,
	[PROTO_F_ERRNO] = PROTO_K_ERRNO,
	[PROTO_F_PROCESSES] = PROTO_K_PROCESSES,
	[PROTO_F_CPU] = PROTO_K_CPU,
	[PROTO_F_ISOLATION] = PROTO_K_ISOLATION,
	[PROTO_F_TEMPLATE] = PROTO_K_TEMPLATE,
	[PROTO_F_INSTANCE] = PROTO_K_INSTANCE,
	[PROTO_F_ON_DEMAND] = PROTO_K_ON_DEMAND,
};

const char *
proto_access_name(enum proto_access level)
{
	static const char *const names[] = {
		[PROTO_ACCESS_NONE] = "none",
		[PROTO_ACCESS_READ] = "read",
		[PROTO_ACCESS_OPERATE] = "operate",
		[PROTO_ACCESS_ADMIN] = "admin",
	};

	return (size_t)level < sizeof(names) / sizeof(names[0]) ? names[level] : "none";
}

/* The option of opts that word names, its index, or -1; *value what follows "=". */
static int
option_find(const struct proto_option *opts, const char *word, const char **value)
{
	for (int i = 0; opts[i].name != NULL; i++) {
		size_t n = strlen(opts[i].name);

		if (strncmp(word, opts[i].name, n) != 0 || (word[n] != '\0' && word[n] != '='))
			continue;
		*value = word[n] == '=' ? word + n + 1 : NULL;
		return i;
	}
	return -1;
}

int
proto_parse_options(char **argv, size_t argc, const struct proto_option *opts,
    const char **values, size_t *first, char *err, size_t errlen)
{
	size_t i = 1;
	const char *v;
	int k;

	for (k = 0; opts[k].name != NULL; k++)
		values[k] = NULL;
	for (; i < argc; i++) {
		if (strcmp(argv[i], PROTO_OPT_END) == 0) {
			i++;
			break;
		}
		if ((k = option_find(opts, argv[i], &v)) == -1) {
			if (strncmp(argv[i], "--", 2) != 0)
				break;	/* the first name (names may begin with one '-') */
			snprintf(err, errlen, "%s: unknown option '%s'", argv[0], argv[i]);
			return -1;
		}
		switch (opts[k].kind) {
		case PROTO_OPT_ALONE:
			if (v != NULL) {
				snprintf(err, errlen, "%s: %s takes no value, found '%s'",
				    argv[0], opts[k].name, v);
				return -1;
			}
			v = "";
			break;
		case PROTO_OPT_EQUALS:
			if (v == NULL) {
				snprintf(err, errlen, "%s: %s needs a value: %s=VALUE",
				    argv[0], opts[k].name, opts[k].name);
				return -1;
			}
			break;
		case PROTO_OPT_ALONE_OR_EQUALS:
			if (v == NULL)
				v = "";
			break;
		case PROTO_OPT_NEXT:
			if (v != NULL || ++i == argc) {
				snprintf(err, errlen, "%s: %s needs a value: %s VALUE",
				    argv[0], opts[k].name, opts[k].name);
				return -1;
			}
			v = argv[i];
			break;
		}
		values[k] = v;
	}
	*first = i;
	return 0;
}

int
proto_parse_request(const char *line, struct proto_request *req, const char **err)
{
	req->argv = words_split(line, &req->argc, err);
	if (req->argv == NULL)
		return -1;
	if (req->argc == 0) {
		*err = "empty request";
		proto_request_free(req);
		return -1;
	}
	return 0;
}

void
proto_request_free(struct proto_request *req)
{
	words_free(req->argv);
	req->argv = NULL;
	req->argc = 0;
}

json_t *
proto_reply_ok(void)
{
	return json_pack("{s:b}", PROTO_K_OK, 1);
}

json_t *
proto_stringn(const char *s, size_t len)
{
	char *clean;
	json_t *j;

	if (utf8_valid_prefix(s, len) == len)
		return json_stringn(s, len);
	/* jansson takes only UTF-8: what is not becomes U+FFFD */
	if (len > SIZE_MAX / 3 || (clean = malloc(len * 3 + 1)) == NULL)
		return NULL;
	j = json_stringn(clean, utf8_sanitize(s, len, clean));
	free(clean);
	return j;
}

json_t *
proto_string(const char *s)
{
	return s == NULL ? json_null() : proto_stringn(s, strlen(s));
}

/*
 * A long message is cut at PROTO_MESSAGE_MAX bytes, never inside a
 * character, and says so with "...". The cut is made after the repair, so
 * it only ever meets well-formed UTF-8.
 */
json_t *
proto_reply_error(const char *code, const char *fmt, ...)
{
	char raw[PROTO_MESSAGE_MAX + 1], clean[PROTO_MESSAGE_MAX * 3 + 4];
	size_t len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	len = utf8_sanitize(raw, strnlen(raw, sizeof(raw)), clean);
	if ((size_t)n > PROTO_MESSAGE_MAX || len > PROTO_MESSAGE_MAX) {
		len = utf8_truncate(clean, len, PROTO_MESSAGE_MAX - 3);
		memcpy(clean + len, "...", 3);
		len += 3;
	}
	return json_pack("{s:b, s:s, s:s%}", PROTO_K_OK, 0, PROTO_K_ERROR, code,
	    PROTO_K_MESSAGE, clean, len);
}

char *
proto_dump_line(json_t *reply, size_t *len)
{
	char *s, *line;
	size_t n;

	if (reply == NULL)
		return NULL;
	/* JSON_COMPACT never emits a newline, so one object stays one line */
	s = json_dumps(reply, PROTO_JSON_FLAGS);
	json_decref(reply);
	if (s == NULL)
		return NULL;
	n = strlen(s);
	if ((line = realloc(s, n + 2)) == NULL) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	if (len != NULL)
		*len = n + 1;
	return line;
}
