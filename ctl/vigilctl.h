/*
 * vigilctl.h: the map of vigilctl. The options, the verb table, the
 * connection to vigild and the renderers, each under the file that owns it.
 * vigilctl speaks only the line protocol of common/proto.h.
 */
#ifndef VIGILCTL_H
#define VIGILCTL_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* What the exit status tells a script. */
enum ctl_exit {
	CTL_EXIT_OK = 0,		/* done */
	CTL_EXIT_FAILED = 1,		/* refused, failed or timed out */
	CTL_EXIT_USAGE = 2,		/* bad command line */
	CTL_EXIT_UNREACHABLE = 3	/* no vigild to talk to, or it went away */
};

/* How `log` shows a line (-o). */
enum ctl_log_format {
	CTL_LOG_DEFAULT = 0,	/* not said: short, or json with --json */
	CTL_LOG_SHORT,		/* "Dec 06 03:19:35.123 web | text" */
	CTL_LOG_SHORT_ISO,	/* "2026-12-06T03:19:35.123+01:00 web | text" */
	CTL_LOG_RAW,		/* the text alone */
	CTL_LOG_JSON		/* each LINE object as vigild sent it */
};

#define CTL_TIMEOUT_DEFAULT_MS	60000
/* the read deadline outlives --wait by this much, so vigild's own timeout reply wins */
#define CTL_WAIT_SLACK_MS	2000
/* a status of 1000 services is about 400 KB; anything near this is not vigild */
#define CTL_REPLY_MAX		(64 * 1024 * 1024)
/* top -d: a status of every service ten times a second is the most it asks */
#define CTL_TOP_DELAY_MIN_MS	100

struct ctl_options {
	const char	 *socket;	/* --socket, VIGIL_SOCKET or the default */
	bool		  json;		/* print vigild's replies as they came */
	bool		  no_wait;	/* start/stop/restart: do not wait */
	bool		  wait;		/* start/stop/restart: wait (the default, said aloud) */
	const char	 *wait_for;	/* wait --for: running, ready, stopped, exited; NULL: ready */
	int64_t		  timeout_ms;	/* deadline of the whole operation */
	bool		  help;
	bool		  version;
	long		  lines;	/* log -n N; -1 when not given */
	bool		  follow;	/* log -f */
	int64_t		  since_ms;	/* log --since; -1 when not given */
	bool		  dry_run;	/* reload --dry-run */
	bool		  main_only;	/* signal --main */
	const char	 *format;	/* metrics --format: openmetrics or prometheus; NULL: the first */
	bool		  batch;	/* top -b: one frame on stdout */
	int64_t		  delay_ms;	/* top -d: between status samples; -1 when not given */
	char		**args;		/* the verb and its operands */
	int		  nargs;
	enum ctl_log_format log_format;	/* log -o; CTL_LOG_DEFAULT when not given */
	int		  service_prefix;	/* log: 1 --service-prefix, 0 --no-service-prefix, -1 neither */
	bool		  colour;	/* stdout is a TTY and NO_COLOR is unset */
	bool		  tty;		/* stdout is a TTY */
};

/* main.c */
/*
 * Fill o from argv, taking options anywhere until "--". On -1, err holds
 * the message and o->args is already freed.
 */
int		 ctl_parse_options(int argc, char **argv, struct ctl_options *o,
		    char *err, size_t errlen);

/* usage.c: full: every option and verb (--help); else the synopsis a usage error needs */
struct ctl_verb;
void		 ctl_usage(FILE *f, bool full, const struct ctl_verb *verbs);
/* text, after col columns already printed, in lines of at most CTL_HELP_COLUMNS */
#define CTL_HELP_COLUMNS	80
void		 ctl_wrap(FILE *f, int col, int indent, const char *text);

/* commands.c */
struct ctl_verb {
	const char	*name;
	const char	*usage;
	const char	*summary;
	int		 min_args;	/* operands after the verb */
	int		 max_args;	/* -1: no limit */
	int		(*run)(const struct ctl_options *o, int argc, char **argv);
};
extern const struct ctl_verb ctl_verbs[];	/* NULL-name terminated */
const struct ctl_verb *ctl_verb_find(const char *name);

/* import_supervisord.c: a verb that needs no vigild */
int		 verb_import_supervisord(const struct ctl_options *o, int argc, char **argv);

/* top.c: the live table; top_view.h is its model and its frame */
int		 verb_top(const struct ctl_options *o, int argc, char **argv);

/* client.c */
/* Set by a signal handler: a wait for vigild gives up with EINTR. */
extern volatile sig_atomic_t client_stop;
/*
 * Block sig1 and sig2 except inside the client's waits (ppoll): one that
 * comes while a line is printed then ends the next wait at once, instead
 * of slipping in before poll(2) and being missed.
 */
void	client_catch_in_poll_only(int sig1, int sig2);
struct ctl_client {
	int	 fd;
	char	*buf;		/* bytes received and not yet handed out */
	size_t	 len, cap;
	size_t	 used;		/* the line handed out last, dropped on the next read */
};
int64_t	 client_now_ms(void);	/* monotonic */
/* Connect before deadline; -1 with errno set. */
int	 client_open(struct ctl_client *c, const char *path, int64_t deadline);
/*
 * One request line, '\n' included, quoted for vigild's word splitting;
 * -1 with EINVAL if a word holds a newline, E2BIG if it is too long.
 */
int	 client_format_request(char *const *words, size_t n, char *buf, size_t len);
int	 client_send(struct ctl_client *c, const char *line, int64_t deadline);
/*
 * Next reply line, NUL-terminated in place without its '\n', valid until the
 * next call. 1: a line, 0: vigild closed the connection, -1: errno
 * (ETIMEDOUT, EMSGSIZE, ...).
 */
int	 client_read_line(struct ctl_client *c, int64_t deadline, char **line,
	    size_t *len);
/* Whether a whole line is already buffered (then reading it will not wait). */
bool	 client_has_line(const struct ctl_client *c);
/* 0 once vigild closes the connection, -1 with errno (ETIMEDOUT) otherwise. */
int	 client_wait_close(struct ctl_client *c, int64_t deadline);
/*
 * The pid of whoever listens on the socket (vigild, unless the socket was
 * handed to it), as the kernel translates it into our pid namespace: 0
 * when it has no number here; -1 with errno when it cannot be asked.
 */
pid_t	 client_peer_pid(const struct ctl_client *c);
void	 client_close(struct ctl_client *c);
/* The socket when neither --socket nor VIGIL_SOCKET says: same rule as vigild. */
const char	*ctl_default_socket(uid_t euid, const char *xdg_runtime_dir,
		    char *buf, size_t len);
/*
 * The default socket's folder when it is the fallback under TMPDIR or
 * /tmp, where anyone may have made it first: 0 if it is ours and private
 * (or not there), -1 and why.
 */
int		 ctl_fallback_dir_check(const char *sock, uid_t euid, char *why, size_t len);

/* pidns.c */
/*
 * Whether vigild may be in another pid namespace, from the peer's pid
 * alone: false when /proc shows the peer in ours, where hello need not be asked.
 */
bool		 pidns_may_differ(pid_t peer);
/*
 * Whether peer (client_peer_pid) and own (the pid hello reports) say that
 * vigild runs in another pid namespace than ours, whose pids every reply
 * then carries; if so, the note for the user in buf.
 */
bool		 pidns_note(pid_t peer, long long own, char *buf, size_t len);

/* output.c */
struct table;
struct table	*table_new(const char *const *headers, size_t ncols);
/* Copy a row of ncols cells; styles may be NULL, or hold an SGR code per cell. */
int		 table_add_row(struct table *t, const char *const *cells,
		    const char *const *styles);
/* Columns padded to the widest cell, two blanks apart, no trailing blanks. */
void		 table_print(const struct table *t, FILE *f, bool colour);
void		 table_free(struct table *t);

bool		 output_use_colour(bool is_tty, const char *no_color);
const char	*output_state_style(const char *state);
/* "exit 3", "KILL", "SEGV (core)", "exec failed", "-" */
void		 output_last_exit(const json_t *last_exit, char *buf, size_t len);
/* The INFO column: why a service is fatal, backing off or exited. */
void		 output_info(const json_t *svc, char *buf, size_t len);
/* "850ms", "1.2s", "42s", "3m12s": a precise short duration */
void		 output_seconds(double secs, char *buf, size_t len);
/* The status table of a reply's "services" array; -1 if out of memory. */
int		 output_status_table(const json_t *services, FILE *f, bool colour);
/* "web: running (pid 1234)", "web: stopped" */
void		 output_service_line(const json_t *svc, FILE *f);
/*
 * One object of an `events` stream: "12:00:01.123 web  running -> stopping,
 * pid 42 (stop requested)", or "web  running, pid 42 (...)" for a current
 * state ("from" null); {"skipped":N} as a line saying so. Names padded to width.
 */
void		 output_event_line(const json_t *obj, int width, bool colour, FILE *f);
/* The SGR colour of a service's name in `log`: from a small palette, by its name. */
const char	*output_service_colour(const char *name);
/* How a line of `log` (and of `events`) is shown. */
struct line_style {
	enum ctl_log_format format;	/* CTL_LOG_SHORT, CTL_LOG_SHORT_ISO or CTL_LOG_RAW */
	bool	 prefix;		/* the service's name before the text */
	int	 width;			/* names padded to this */
	bool	 colour;		/* service names in colour, markers dim */
	bool	 tty;			/* stdout is a terminal: raw text escaped too */
};
#define CTL_LOG_SHORT_TIME_WIDTH	19	/* "Dec 06 03:19:35.123" */
#define CTL_LOG_ISO_TIME_WIDTH		29	/* "2026-12-06T03:19:35.123+01:00" */
/*
 * One object of a `log` reply or stream. Short formats: a LINE as
 * "Dec 06 03:19:35.123 web  | text" (the line's time in local time; the
 * name only with st->prefix; '!' for stderr, '+' after it for a
 * continuation piece), a {"skipped":N} marker as "... web  | [... N lines
 * skipped ...]", a {"removed":true} marker as "... web  | [... removed
 * from the configuration ...]", with blanks for the time; control
 * characters in the text show as '?'. Raw: the text alone, and the markers
 * on stderr. Anything else prints nothing.
 */
void		 output_log_line(const json_t *obj, const struct line_style *st, FILE *f);
/*
 * A reload reply: one line per group that is not empty, each service with
 * the keys that changed ("restarted: web (command changed)").
 */
void		 output_reload_plan(const json_t *reply, FILE *f);

/*
 * show.c: a show reply's "services" as config text: per service a
 * [service:NAME] header and "key = value ; SOURCE" lines, aligned.
 */
void		 output_show(const json_t *services, FILE *f);

#endif
