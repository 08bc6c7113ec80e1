/*
 * log.h: vigild's and vigilctl's own diagnostics: levels, one line per event,
 * "subject: what happened: OS error" in lower case.
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR,	/* something failed and was not retried */
	LOG_LEVEL_WARN,		/* something failed and vigild carries on */
	LOG_LEVEL_NOTICE,	/* state changes people care about */
	LOG_LEVEL_INFO,		/* spawns, reaps, clients */
	LOG_LEVEL_DEBUG		/* everything else */
};

void	log_init(const char *ident, enum log_level level);
void	log_set_level(enum log_level level);
/* From now on write to syslog (daemon facility) instead of stderr. */
void	log_to_syslog(void);
/*
 * From now on send each line to the systemd journal with its fields
 * (MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER=, VIGIL_SERVICE=, VIGIL_PID=):
 * 0, or -1 (said on the current target) when there is no journal socket
 * or no libsystemd, and the target stays as it was.
 */
int	log_to_journal(void);
/*
 * Who a line is about, for the journal's fields: lines say their subject
 * first ("%s: ..."), and lookup tells whether that subject is a service
 * and its main pid (0 when none). vigild sets it; vigilctl does not.
 */
void	log_set_subject_lookup(bool (*lookup)(const char *subject, long *pid));
int	log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

/*
 * A budget for lines a peer can cause (refused messages, evicted clients):
 * at most burst lines per window; the rest are counted. Zero it to start.
 */
struct log_limit {
	int64_t		 since;		/* monotonic ms the window began */
	unsigned	 logged;	/* lines in it */
	unsigned	 suppressed;	/* left out of it */
};
/*
 * Whether one more line may be logged now. When a window that left lines
 * out is over, *left_out (unless NULL) gets how many, to be said once.
 */
bool	log_limit(struct log_limit *l, unsigned burst, int64_t window_ms, unsigned *left_out);

void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
