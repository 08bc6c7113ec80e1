/*
 * logread.c: log files read back for `log`: a bounded read from the end of
 * a file, its lines walked newest first, and output.c's line prefix parsed
 * back into time, stream and continuation. Which lines to keep is logcmd.c's.
 */
#include "config.h"
#include "logread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* n decimal digits at p, or -1 */
static int
digits(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (27 bytes) into microseconds; -1 if it is not one. */
static int64_t
parse_time(const char *p)
{
	int y = digits(p, 4), mo = digits(p + 5, 2), d = digits(p + 8, 2);
	int h = digits(p + 11, 2), mi = digits(p + 14, 2), s = digits(p + 17, 2);
	int us = digits(p + 20, 6);

	if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
	    p[16] != ':' || p[19] != '.' || p[26] != 'Z')
		return -1;
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 60 || us < 0)
		return -1;
	return ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) *
	    (int64_t)1000000) + us;
}

void
logread_parse(const char *p, size_t len, struct logread_line *out)
{
	/* 27 bytes of time, a blank, "out" or "err", maybe '+', a blank */
	enum { TIME_LEN = 27, STREAM_AT = 28, MIN_LEN = 32 };
	int64_t usec;
	size_t at;

	memset(out, 0, sizeof(*out));
	out->stream = OUTPUT_STDOUT;
	out->text = p;
	out->len = len;
	if (len < MIN_LEN || p[TIME_LEN] != ' ' || (usec = parse_time(p)) == -1)
		return;
	if (memcmp(p + STREAM_AT, "out", 3) == 0)
		out->stream = OUTPUT_STDOUT;
	else if (memcmp(p + STREAM_AT, "err", 3) == 0)
		out->stream = OUTPUT_STDERR;
	else
		return;
	at = STREAM_AT + 3;
	if (p[at] == '+') {
		out->cont = true;
		at++;
	}
	if (at >= len || p[at] != ' ') {
		out->stream = OUTPUT_STDOUT;
		out->cont = false;
		return;
	}
	out->timed = true;
	out->usec = usec;
	out->text = p + at + 1;
	out->len = len - at - 1;
}

int
logread_tail_open(struct logread_tail *t, const char *path, size_t max)
{
	struct stat st;
	off_t from;
	size_t want, got = 0;
	int fd, saved;
	char c;

	memset(t, 0, sizeof(*t));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		saved = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		errno = saved;
		return -1;
	}
	t->mtime_usec = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
	want = (uint64_t)st.st_size > max ? max : (size_t)st.st_size;
	from = st.st_size - (off_t)want;
	if ((t->buf = malloc(want ? want : 1)) == NULL) {
		close(fd);
		return -1;
	}
	/* the file may shrink under us (logrotate's copytruncate): take what is there */
	while (got < want) {
		ssize_t n = pread(fd, t->buf + got, want - got, from + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	t->len = t->pos = got;
	t->from_start = from == 0;
	/* a read that starts right after a newline cuts no line */
	t->first_whole = from == 0 || (pread(fd, &c, 1, from - 1) == 1 && c == '\n');
	close(fd);
	return 0;
}

bool
logread_tail_prev(struct logread_tail *t, const char **line, size_t *len)
{
	size_t end = t->pos, start;

	if (end == 0)
		return false;
	if (end == t->len && t->buf[end - 1] == '\n')
		end--;		/* the newline that ends the file */
	else if (end < t->len)
		end--;		/* the newline that ends this line */
	start = end;
	while (start > 0 && t->buf[start - 1] != '\n')
		start--;
	if (start == 0 && !t->first_whole) {
		t->pos = 0;	/* the read began inside this line */
		return false;
	}
	*line = t->buf + start;
	*len = end - start;
	t->pos = start;
	return true;
}

void
logread_tail_free(struct logread_tail *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}
