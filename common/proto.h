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
 *   5  signal --main; signal's delivered gains processes; status objects gain
 *      processes and cpu; reload replies once what it removed is stopped,
 *      reload --no-wait at once; last_exit code -1: status unknown
 *   6  access levels: a verb above the client's level is refused with error
 *      permission-denied (carrying needed, granted and uid); hello gains
 *      access, help's commands gain access (the level each needs)
 *   7  the status object gains isolation (the isolation keys as written)
 *   8  log replies (and a follow's first reply) gain notes: what of the
 *      services asked for goes to the journal, where no line of it shows
 *   9  daemon-reexec; a client may be sent error reconnect as its last line
 *      (vigild is executing itself anew: connect again, send the request
 *      again); hello gains generation, started and reexec_error
 *  10  service templates: status objects of instances gain template,
 *      instance and on_demand; a template's name (NAME@) in a request stands
 *      for its instances; start NAME@INSTANCE makes an instance not made yet
 *      (bad-request for a bad instance name, invalid-config with errors when
 *      its template gives it errors)
 *  11  show NAME...: each service's every key, its value as it could be
 *      written back, and where it came from (file:line, [vigil], default)
 *  12  metrics [--format=openmetrics|prometheus]: {"ok":true,"format":F,"text":T},
 *      T the metrics as GET /metrics on [vigil] metrics_listen serves them
 */
#ifndef VIGIL_PROTO_H
#define VIGIL_PROTO_H

#include <jansson.h>
#include <stddef.h>

#define PROTO_VERSION	12
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
#define PROTO_ERR_PERMISSION_DENIED "permission-denied" /* the verb needs a higher access level */
#define PROTO_ERR_RECONNECT	  "reconnect"	     /* vigild re-executes itself: connect again */
#define PROTO_ERR_REEXEC	  "reexec-refused"   /* daemon-reexec refused; vigild goes on as it was */

/*
 * The schema: every name both programs spell, defined once. Options of
 * requests; a VALUE option is written OPTION=VALUE, except PROTO_OPT_LINES,
 * whose value is the next word.
 */
#define PROTO_OPT_END		"--"		/* every word after it is a name */
#define PROTO_OPT_FIELDS	"--fields"	/* status: =LIST */
#define PROTO_OPT_WAIT		"--wait"	/* start, stop, restart: alone or =DURATION */
#define PROTO_OPT_FOR		"--for"		/* wait: =TARGET */
#define PROTO_OPT_TIMEOUT	"--timeout"	/* wait: =DURATION */
#define PROTO_OPT_LINES		"-n"		/* log: N, the next word */
#define PROTO_OPT_SINCE		"--since"	/* log: =DURATION */
#define PROTO_OPT_FOLLOW	"--follow"	/* log */
#define PROTO_OPT_DRY_RUN	"--dry-run"	/* reload */
#define PROTO_OPT_MAIN		"--main"	/* signal: the main process only */
#define PROTO_OPT_NO_WAIT	"--no-wait"	/* reload: reply before removed services are stopped */
#define PROTO_OPT_FORMAT	"--format"	/* metrics: =openmetrics|prometheus */

/*
 * Keys of replies, status objects and stream lines (doc/protocol.md); each
 * spelled once, here, for vigild, vigilctl and the tests.
 */
#define PROTO_K_OK                "ok"
#define PROTO_K_ERROR             "error"
#define PROTO_K_MESSAGE           "message"
#define PROTO_K_SERVICES          "services"	/* status objects */
#define PROTO_K_LINES             "lines"	/* log: LINE objects */
#define PROTO_K_FOLLOW            "follow"	/* log --follow: the stream begins */
#define PROTO_K_NOTES             "notes"	/* log: what no line shows (since protocol 8) */
#define PROTO_K_EVENTS            "events"	/* events: the stream begins */
#define PROTO_K_SKIPPED           "skipped"	/* a stream's lines left out */
#define PROTO_K_SERVICE           "service"	/* LINE and event objects */
#define PROTO_K_REMOVED           "removed"
#define PROTO_K_DELIVERED         "delivered"	/* signal: what it reached */
#define PROTO_K_PROTOCOL          "protocol"
#define PROTO_K_PROGRAM           "program"
#define PROTO_K_VERSION           "version"
#define PROTO_K_COMMANDS          "commands"
#define PROTO_K_USAGE             "usage"
#define PROTO_K_SUMMARY           "summary"
#define PROTO_K_ERRORS            "errors"
#define PROTO_K_WARNINGS          "warnings"
#define PROTO_K_CHANGES           "changes"
#define PROTO_K_DRY_RUN           "dry_run"
#define PROTO_K_ALSO_STOPPED      "also_stopped"
#define PROTO_K_ALSO_RESTARTED    "also_restarted"
#define PROTO_K_PROCESS_GROUP     "process_group"
#define PROTO_K_PROCESSES         "processes"	/* signal's delivered; status: processes alive */
#define PROTO_K_CPU               "cpu"		/* status: CPU seconds of its cgroup */
#define PROTO_K_ISOLATION         "isolation"	/* status: the isolation keys set, as written */
#define PROTO_K_TEMPLATE          "template"	/* status of an instance: its template, "worker@" */
#define PROTO_K_INSTANCE          "instance"	/* status of an instance: what %i is */
#define PROTO_K_ON_DEMAND         "on_demand"	/* status of an instance: made by start, not by the file */
#define PROTO_K_NAME              "name"	/* status objects and the first of a status object's fields */
#define PROTO_K_STATE             "state"
#define PROTO_K_REASON            "reason"
#define PROTO_K_SINCE             "since"
#define PROTO_K_RESTARTS          "restarts"
#define PROTO_K_FAILURES          "failures"
#define PROTO_K_LAST_EXIT         "last_exit"
#define PROTO_K_AUTOSTART         "autostart"
#define PROTO_K_RESTART           "restart"
#define PROTO_K_PID               "pid"
#define PROTO_K_GENERATION        "generation"	/* hello: execs since vigild started, 0 first */
#define PROTO_K_STARTED           "started"	/* hello: when this vigild started (wall, seconds) */
#define PROTO_K_REEXEC_ERROR      "reexec_error"	/* hello: why the last daemon-reexec failed */
#define PROTO_K_UPTIME            "uptime"
#define PROTO_K_NEXT_START_IN     "next_start_in"
#define PROTO_K_LOG_FILE          "log_file"
#define PROTO_K_LOG_DROPPED_BYTES "log_dropped_bytes"
#define PROTO_K_READY             "ready"
#define PROTO_K_READY_KIND        "ready_kind"
#define PROTO_K_STATUS_TEXT       "status_text"
#define PROTO_K_ERRNO             "errno"
#define PROTO_K_TIME              "time"
#define PROTO_K_RAN_FOR           "ran_for"
#define PROTO_K_CPU_USER          "cpu_user"
#define PROTO_K_CPU_SYSTEM        "cpu_system"
#define PROTO_K_MAX_RSS_KB        "max_rss_kb"
#define PROTO_K_CODE              "code"
#define PROTO_K_SIGNAL            "signal"
#define PROTO_K_CORE_DUMPED       "core_dumped"
#define PROTO_K_SPAWN_ERROR       "spawn_error"
#define PROTO_K_STREAM            "stream"
#define PROTO_K_TEXT              "text"	/* LINE objects; metrics: the whole text */
#define PROTO_K_FORMAT            "format"	/* metrics: openmetrics or prometheus */
#define PROTO_K_CONTINUED         "continued"
#define PROTO_K_PARTIAL           "partial"
#define PROTO_K_SEQ               "seq"
#define PROTO_K_FROM              "from"
#define PROTO_K_TO                "to"
#define PROTO_K_ACCESS            "access"	/* hello: the client's level; help: the level a verb needs */
#define PROTO_K_NEEDED            "needed"	/* permission-denied: the level the verb needs */
#define PROTO_K_GRANTED           "granted"	/* permission-denied: the client's level */
#define PROTO_K_UID               "uid"		/* permission-denied: the client's uid as vigild saw it */
#define PROTO_K_KEYS              "keys"	/* show: a service's rows */
#define PROTO_K_KEY               "key"	/* show: a row's key */
#define PROTO_K_VALUE             "value"	/* show: as it could be written back */
#define PROTO_K_SOURCE            "source"	/* show: {kind, file, line} */
#define PROTO_K_KIND              "kind"	/* show: one of PROTO_SOURCE_* */
#define PROTO_K_FILE              "file"
#define PROTO_K_LINE              "line"
#define PROTO_K_HIDDEN            "hidden"	/* show: values left out for the client's level */
#define PROTO_K_LOADED            "loaded"	/* show: environment_file's variables at the last start */
/* show: where a value came from */
#define PROTO_SOURCE_FILE         "file"	/* the service's own section */
#define PROTO_SOURCE_VIGIL        "vigil"	/* [vigil]'s key of the same name */
#define PROTO_SOURCE_DEFAULT      "default"	/* built in */
#define PROTO_HIDDEN_VALUE        "<hidden>"	/* what a hidden value shows */
/*
 * A reply whose array is written one element at a time (status, log): its
 * head, then elements separated by ",", then the tail.
 */
#define PROTO_ARRAY_HEAD(key)	"{\"" PROTO_K_OK "\":true,\"" key "\":["
#define PROTO_ARRAY_TAIL	"]}\n"

/* Fields of a status object, in the order they are sent (doc/protocol.md) */
enum proto_status_field {
	PROTO_F_NAME, PROTO_F_STATE, PROTO_F_REASON, PROTO_F_SINCE, PROTO_F_RESTARTS,
	PROTO_F_FAILURES, PROTO_F_LAST_EXIT, PROTO_F_AUTOSTART, PROTO_F_RESTART,
	PROTO_F_PID, PROTO_F_UPTIME, PROTO_F_NEXT_START_IN, PROTO_F_LOG_FILE,
	PROTO_F_LOG_DROPPED_BYTES, PROTO_F_READY, PROTO_F_READY_KIND, PROTO_F_STATUS_TEXT,
	PROTO_F_ERRNO, PROTO_F_PROCESSES, PROTO_F_CPU, PROTO_F_ISOLATION, PROTO_F_TEMPLATE,
	PROTO_F_INSTANCE, PROTO_F_ON_DEMAND, PROTO_NFIELDS
};
/* Their names, by enum proto_status_field */
extern const char *const proto_status_fields[PROTO_NFIELDS];

/* What a client may do, decided once when it connects; each level includes the ones below. */
enum proto_access {
	PROTO_ACCESS_NONE,	/* nothing: connected, yet in no list and not in socket_group */
	PROTO_ACCESS_READ,	/* look: hello, help, status, log, events, wait, metrics */
	PROTO_ACCESS_OPERATE,	/* act on services: start, stop, restart, signal */
	PROTO_ACCESS_ADMIN	/* everything: reload, shutdown, log-reopen, daemon-reexec */
};
/* "none", "read", "operate", "admin" */
const char *proto_access_name(enum proto_access level);

/* How an option of a request takes its value. */
enum proto_opt_kind {
	PROTO_OPT_ALONE,	/* --follow */
	PROTO_OPT_EQUALS,	/* --for=TARGET */
	PROTO_OPT_ALONE_OR_EQUALS,	/* --wait or --wait=DURATION */
	PROTO_OPT_NEXT		/* -n N */
};
struct proto_option {
	const char	*name;
	enum proto_opt_kind kind;
};

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

/*
 * The options at the front of a request: argv[1] on, up to PROTO_OPT_END
 * or the first word that is neither an option of opts (a NULL-name
 * terminated list) nor begins with "--". values[i] is what opts[i] was
 * given: NULL if absent, "" if given alone, else its value; the last one
 * wins. *first is the first word after the options. -1 with a message in
 * err for an unknown "--" option, or a missing or unwanted value.
 */
int	 proto_parse_options(char **argv, size_t argc, const struct proto_option *opts,
	    const char **values, size_t *first, char *err, size_t errlen);

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
