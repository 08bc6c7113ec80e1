/*
 * log.c: the one place that formats diagnostics. Lines go to stderr with a
 * UTC timestamp and level; the caller owns the wording. Whatever a message
 * quotes (a service's notify text, a path, a client's verb) is escaped
 * here, once for every caller: no byte can start a forged line or drive
 * the terminal of whoever reads the log.
 */
#include "config.h"
#include "log.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "vigil";
static enum log_level log_max = LOG_LEVEL_INFO;
static int log_syslog;

static const int syslog_prio[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_NOTICE] = LOG_NOTICE,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *ident, enum log_level level)
{
	log_ident = ident;
	log_max = level;
}

void
log_set_level(enum log_level level)
{
	log_max = level;
}

void
log_to_syslog(void)
{
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

int
log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void
log_vwrite(enum log_level level, const char *err, const char *fmt, va_list ap)
{
	char raw[2048], msg[UTF8_ESCAPED_MAX(sizeof(raw))], stamp[32];
	struct timeval tv;
	struct tm tm;
	int saved = errno, n;

	if (level > log_max)
		return;
	if ((n = vsnprintf(raw, sizeof(raw), fmt, ap)) < 0)
		n = 0;
	utf8_escape(raw, (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1, msg,
	    sizeof(msg));
	if (log_syslog) {
		if (err != NULL)
			syslog(syslog_prio[level], "%s: %s", msg, err);
		else
			syslog(syslog_prio[level], "%s", msg);
		errno = saved;
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* one fprintf per line so concurrent writers do not interleave mid-line */
	if (err != NULL)
		fprintf(stderr, "%s.%03ldZ %s[%d]: %s: %s: %s\n", stamp,
		    (long)(tv.tv_usec / 1000), log_ident, (int)getpid(),
		    level_names[level], msg, err);
	else
		fprintf(stderr, "%s.%03ldZ %s[%d]: %s: %s\n", stamp,
		    (long)(tv.tv_usec / 1000), log_ident, (int)getpid(),
		    level_names[level], msg);
	errno = saved;
}

bool
log_limit(struct log_limit *l, unsigned burst, int64_t window_ms, unsigned *left_out)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (left_out != NULL)
		*left_out = 0;
	if (l->logged > 0 && now - l->since >= window_ms) {
		if (left_out != NULL)
			*left_out = l->suppressed;
		l->logged = l->suppressed = 0;
	}
	if (l->logged == 0)
		l->since = now;
	if (l->logged >= burst) {
		l->suppressed++;
		return false;
	}
	l->logged++;
	return true;
}

#define LOG_FN(fn, level, with_errno)					\
void									\
fn(const char *fmt, ...)						\
{									\
	const char *err = (with_errno) ? strerror(errno) : NULL;	\
	va_list ap;							\
	va_start(ap, fmt);						\
	log_vwrite(level, err, fmt, ap);				\
	va_end(ap);							\
}

LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_notice, LOG_LEVEL_NOTICE, 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_error, LOG_LEVEL_ERROR, 0)

void
fatal(const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
