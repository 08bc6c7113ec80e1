/*
 * log.c: the one place that formats diagnostics. Lines go to stderr with a
 * UTC timestamp and level, to syslog, or to the systemd journal with
 * fields of their own; the caller owns the wording. Whatever a message
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
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-journal.h>
#endif

/* where sd_journal_send sends: a system journald listens there */
#define JOURNAL_SOCKET	"/run/systemd/journal/socket"
#define LOG_RAW_MAX	2048	/* a line as formatted, before escaping */

static const char *log_ident = "vigil";
static enum log_level log_max = LOG_LEVEL_INFO;
static int log_syslog;
static int log_journal;
static bool (*log_subject)(const char *subject, long *pid);

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

int
log_to_journal(void)
{
#ifdef HAVE_LIBSYSTEMD
	struct stat st;

	/* checked once: a missing journald would otherwise fail every line */
	if (stat(JOURNAL_SOCKET, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		log_warnx("journal: no %s (is systemd-journald running?); logging to %s instead",
		    JOURNAL_SOCKET, log_syslog ? "syslog" : "stderr");
		return -1;
	}
	log_syslog = 0;
	log_journal = 1;
	return 0;
#else
	log_warnx("journal: this vigild was built without journal support (libsystemd)");
	return -1;
#endif
}

void
log_set_subject_lookup(bool (*lookup)(const char *subject, long *pid))
{
	log_subject = lookup;
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

#ifdef HAVE_LIBSYSTEMD
/*
 * One line with its fields; -1 if journald did not take it. subject is the
 * line's first word when its format began "%s: ", else NULL.
 */
static int
journal_write(enum log_level level, const char *msg, const char *err, const char *subject)
{
	/* the escaped line, ": " and strerror's text */
	char message[UTF8_ESCAPED_MAX(LOG_RAW_MAX) + 300], prio[16], ident[64], service[128],
	    pid[32];
	struct iovec iov[5];
	long main_pid = 0;
	int n = 0;

	snprintf(message, sizeof(message), "MESSAGE=%s%s%s", msg, err ? ": " : "",
	    err ? err : "");
	snprintf(prio, sizeof(prio), "PRIORITY=%d", syslog_prio[level]);
	snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", log_ident);
	iov[n++] = (struct iovec){ message, strlen(message) };
	iov[n++] = (struct iovec){ prio, strlen(prio) };
	iov[n++] = (struct iovec){ ident, strlen(ident) };
	if (subject != NULL && log_subject != NULL && log_subject(subject, &main_pid)) {
		snprintf(service, sizeof(service), "VIGIL_SERVICE=%s", subject);
		iov[n++] = (struct iovec){ service, strlen(service) };
		if (main_pid > 0) {
			snprintf(pid, sizeof(pid), "VIGIL_PID=%ld", main_pid);
			iov[n++] = (struct iovec){ pid, strlen(pid) };
		}
	}
	return sd_journal_sendv(iov, n) < 0 ? -1 : 0;
}
#endif

/* The first argument of a "%s: ..." format: who the line is about. */
static const char *
log_subject_of(const char *fmt, va_list ap)
{
	const char *subject = NULL;
	va_list aq;

	if (strncmp(fmt, "%s: ", 4) != 0)
		return NULL;
	va_copy(aq, ap);
	subject = va_arg(aq, const char *);
	va_end(aq);
	return subject;
}

static void
log_vwrite(enum log_level level, const char *err, const char *fmt, va_list ap)
{
	char raw[LOG_RAW_MAX], msg[UTF8_ESCAPED_MAX(sizeof(raw))], stamp[32];
	const char *subject = log_journal ? log_subject_of(fmt, ap) : NULL;
	struct timeval tv;
	struct tm tm;
	int saved = errno, n;

	if (level > log_max)
		return;
	if ((n = vsnprintf(raw, sizeof(raw), fmt, ap)) < 0)
		n = 0;
	utf8_escape(raw, (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1, msg,
	    sizeof(msg));
#ifdef HAVE_LIBSYSTEMD
	/* a line journald refused (it was stopped, say) still goes to stderr */
	if (log_journal && journal_write(level, msg, err, subject) == 0) {
		errno = saved;
		return;
	}
#else
	(void)subject;
#endif
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
