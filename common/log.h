/*
 * log.h: vigild's and vigilctl's own diagnostics: levels, one line per event,
 * "subject: what happened: OS error" in lower case.
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdarg.h>

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
int	log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

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
