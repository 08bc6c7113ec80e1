/*
 * logfile.c: writing a service's log file. Writes are whole batches of
 * whole lines, so rotation never splits a line. Errors (no space, folder
 * gone, permissions) are logged once with the OS error, then the bytes are
 * counted as dropped and the file is retried at most once a second until
 * it works again, which is logged too.
 */
#include "config.h"
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "safedir.h"

#define RETRY_US	1000000

#define REPORT_EVERY_US	(60 * 1000000LL)

/*
 * Once per trouble, and a disk that fills and frees again and again gets
 * at most one line a minute: the count in status says the rest.
 */
static void
report_failure(struct logfile *lf, const char *what)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (!lf->failing && (lf->last_report_us == 0 || now - lf->last_report_us >= REPORT_EVERY_US)) {
		log_warn("%s: %s %s, dropping output until it works again", lf->who,
		    what, lf->path);
		lf->last_report_us = now;
	}
	lf->failing = true;
}

/* Like report_failure, for a file vigild will not write to: err says why and what to do. */
static void
report_refused(struct logfile *lf, const char *err)
{
	if (!lf->failing)
		log_warnx("%s: refusing its log file: %s; dropping output until it is fixed",
		    lf->who, err);
	lf->failing = true;
}

/*
 * Never through a link, never into a FIFO or a device, never into a file
 * of another user: in a folder others could write to, any of them would
 * turn our appends against a file vigild's user may write.
 */
static int
open_fd(struct logfile *lf)
{
	char err[1024];
	struct stat st;

	lf->fd = open(lf->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644);
	if (lf->fd == -1 && errno == ELOOP) {
		snprintf(err, sizeof(err), "%s is a symbolic link: vigild does not follow "
		    "links for log files; remove it", lf->path);
		report_refused(lf, err);
		return -1;
	}
	if (lf->fd == -1) {
		report_failure(lf, "opening");
		return -1;
	}
	if (safefile_check_fd(lf->fd, lf->path, err, sizeof(err)) == -1) {
		report_refused(lf, err);
		close(lf->fd);
		lf->fd = -1;
		return -1;
	}
	lf->size = fstat(lf->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

int
logfile_open(struct logfile *lf, const char *who, const char *path,
    int64_t max_size, unsigned keep)
{
	memset(lf, 0, sizeof(*lf));
	lf->who = who;
	lf->max_size = max_size;
	lf->keep = keep;
	lf->fd = -1;
	/* opened at the first write: a quiet service costs no fd and no empty file */
	if ((lf->path = strdup(path)) == NULL)
		return -1;
	return 0;
}

/* A reload: the next write rotates by the new limits; who is the new definition's. */
void
logfile_set_limits(struct logfile *lf, const char *who, int64_t max_size, unsigned keep)
{
	lf->who = who;
	lf->max_size = max_size;
	lf->keep = keep;
}

void
logfile_close(struct logfile *lf)
{
	if (lf->fd != -1)
		close(lf->fd);
	lf->fd = -1;
	free(lf->path);
	lf->path = NULL;
}

void
logfile_reopen(struct logfile *lf)
{
	if (lf->path == NULL)
		return;
	if (lf->fd == -1)
		return;	/* not open yet, or failing: the next write opens it */
	close(lf->fd);
	open_fd(lf);
}

/* NAME.log.(k-1) -> NAME.log.k from the oldest kept down, then NAME.log -> NAME.log.1 */
static void
rotate(struct logfile *lf)
{
	char from[PATH_MAX], to[PATH_MAX];

	close(lf->fd);
	lf->fd = -1;
	if (lf->keep == 0) {
		if (unlink(lf->path) == -1 && errno != ENOENT)
			report_failure(lf, "removing");
	} else {
		for (unsigned k = lf->keep; k > 1; k--) {
			snprintf(from, sizeof(from), "%s.%u", lf->path, k - 1);
			snprintf(to, sizeof(to), "%s.%u", lf->path, k);
			if (rename(from, to) == -1 && errno != ENOENT)
				log_warn("%s: rotating %s", lf->who, from);
		}
		snprintf(to, sizeof(to), "%s.1", lf->path);
		if (rename(lf->path, to) == -1 && errno != ENOENT)
			log_warn("%s: rotating %s", lf->who, lf->path);
	}
	open_fd(lf);
}

/* Write whole lines; a torn write is taken back. Returns 0, or -1 (all dropped). */
static int
write_lines(struct logfile *lf, const char *buf, size_t len, int64_t now_us)
{
	int64_t before = lf->size;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(lf->fd, buf + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			report_failure(lf, "writing");
			/* take back a torn batch: the file keeps whole lines only */
			if (done > 0 && ftruncate(lf->fd, before) == 0)
				lf->size = before;
			/* a fresh open later finds out whether space came back */
			close(lf->fd);
			lf->fd = -1;
			lf->retry_after_us = now_us + RETRY_US;
			return -1;
		}
		done += (size_t)n;
		lf->size += n;
	}
	return 0;
}

/* How much of buf (whole lines) still fits under max_size; 0 if not one line. */
static size_t
fitting_lines(const struct logfile *lf, const char *buf, size_t len)
{
	size_t room = (size_t)(lf->max_size - lf->size);
	const char *nl;

	if (lf->max_size <= 0 || lf->size + (int64_t)len <= lf->max_size)
		return len;
	if (lf->max_size <= lf->size)
		return 0;
	nl = memrchr(buf, '\n', room < len ? room : len);
	return nl != NULL ? (size_t)(nl - buf) + 1 : 0;
}

void
logfile_write(struct logfile *lf, const char *buf, size_t len, int64_t now_us)
{
	if (lf->path == NULL)
		return;
	if (lf->fd == -1 && (now_us < lf->retry_after_us || open_fd(lf) == -1)) {
		if (lf->fd == -1 && now_us >= lf->retry_after_us)
			lf->retry_after_us = now_us + RETRY_US;
		lf->dropped += len;
		return;
	}
	/* fill the file up to max_size with whole lines, rotate, go on */
	while (len > 0) {
		size_t n = fitting_lines(lf, buf, len);

		if (n == 0 && lf->size > 0) {
			rotate(lf);
			if (lf->fd == -1) {
				lf->retry_after_us = now_us + RETRY_US;
				break;
			}
			continue;
		}
		if (n == 0)	/* one line longer than max_size: it gets a file of its own */
			n = (memchr(buf, '\n', len) != NULL) ?
			    (size_t)((const char *)memchr(buf, '\n', len) - buf) + 1 : len;
		if (write_lines(lf, buf, n, now_us) == -1)
			break;
		buf += n;
		len -= n;
	}
	lf->dropped += len;
	if (len == 0 && lf->failing) {
		log_info("%s: writing %s works again (%llu bytes were dropped so far)",
		    lf->who, lf->path, (unsigned long long)lf->dropped);
		lf->failing = false;
	}
}
