/*
 * proto.h: the control protocol spoken between vigild and vigilctl (and
 * anyone with socat). One request per line, one JSON object per reply line.
 *
 * Version history (numbers and names are never reused):
 *   1  hello help status start stop restart signal shutdown;
 *      start/stop/restart take --wait[=DURATION]; status takes --fields=LIST
 *   2  log, log-reopen; status gains log_file, log_dropped_bytes
 *   3  readiness (status gains ready, ready_kind, status_text, errno);
 *      wait, events; start/restart --wait wait for ready; restart takes
 *      dependents along; reload [--dry-run]; errors invalid-config and
 *      removed; a follower of named services gets {"service":NAME,"removed":true}
 *   4  signal replies carry "delivered" and fail when nothing was reached; a
 *      NUL byte in a request is bad-request; idle clients are closed
 *      (client_timeout); messages cut at PROTO_MESSAGE_MAX between characters
 */
#ifndef VIGIL_PROTO_H
#define VIGIL_PROTO_H

#include <jansson.h>
#include <stddef.h>

#define PROTO_VERSION	4
#define PROTO_MAX_LINE	4096	/* bytes in one request line, newline excluded */
/* How every reply is serialised: compact (so one line), ASCII, short floats */
#define PROTO_JSON_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15))
/* LINE objects of `log`: the same, with the microseconds of "time" kept */
#define PROTO_LINE_JSON_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(16))
#define PROTO_LOG_MAX_LINES	1000000	/* the largest `log -n` */

/* Stable error codes: scripts match on these, so never rename one. */
#define PROTO_ERR_BAD_REQUEST	  "bad-request"	     /* malformed line or arguments */
#define PROTO_ERR_LINE_TOO_LONG	  "line-too-long"    /* request over PROTO_MAX_LINE */
#define PROTO_ERR_UNKNOWN_COMMAND "unknown-command"  /* no such verb */
#define PROTO_ERR_NO_SUCH_SERVICE "no-such-service"  /* a NAME is not configured */
#define PROTO_ERR_BAD_SIGNAL	  "bad-signal"	     /* signal name not known */
#define PROTO_ERR_NOT_RUNNING	  "not-running"	     /* signal to a service with no process */
#define PROTO_ERR_FAILED	  "failed"	     /* a waited-for operation failed */
#define PROTO_ERR_TIMEOUT	  "timeout"	     /* a wait ran out of time */
#define PROTO_ERR_SHUTTING_DOWN	  "shutting-down"    /* vigild is stopping everything */
#define PROTO_ERR_TOO_MANY_CLIENTS "too-many-clients" /* connection refused */
#define PROTO_ERR_INTERNAL	  "internal"	     /* a bug or out of memory */
#define PROTO_ERR_INVALID_CONFIG  "invalid-config"   /* reload: the config has errors; nothing changed */
#define PROTO_ERR_REMOVED	  "removed"	     /* a reload removed the service waited for or followed */

struct proto_request {
	char	**argv;		/* argv[0] is the command */
	size_t	  argc;
};

struct proto_command_info {
	const char *name;
	const char *usage;
	const char *summary;
};

/* The commands of this protocol version, NULL-name terminated. */
extern const struct proto_command_info proto_commands[];

/* Split one request line (no newline). -1 with *err set on bad quoting or empty. */
int	 proto_parse_request(const char *line, struct proto_request *req, const char **err);
void	 proto_request_free(struct proto_request *req);

/*
 * The reply line sent when a reply could not be built (out of memory): a
 * constant, so that sending it needs no allocation and cannot fail.
 */
#define PROTO_REPLY_INTERNAL_LINE \
	"{\"ok\":false,\"error\":\"internal\",\"message\":\"out of memory\"}\n"
#define PROTO_MESSAGE_MAX	1024	/* bytes of an error message, at a character boundary */

/*
 * Reply builders. They return NULL only when out of memory, never because
 * of what is in their arguments: any bytes (a client's name, a path from a
 * config, a service's STATUS=) are carried as UTF-8, each ill-formed
 * sequence replaced by U+FFFD. A caller must treat NULL as an error.
 */
json_t	*proto_reply_ok(void);
json_t	*proto_reply_error(const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
json_t	*proto_string(const char *s);	/* NULL s: JSON null */
json_t	*proto_stringn(const char *s, size_t len);
/* Serialise a reply as one compact line ending in '\n'; steals reply. NULL: out of memory. */
char	*proto_dump_line(json_t *reply, size_t *len);

#endif
