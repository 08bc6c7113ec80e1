/*
 * logread.c: log files read back for `log`: a bounded read from the end of
 * a file, its lines walked newest first. What each line says is
 * logformat.c's; which lines to keep is logcmd.c's.
 */
#include "config.h"
#include "logread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
logread_tail_open(struct logread_tail *t, const char *path, size_t max)
{
	struct stat st;
	off_t from;
	size_t want, got = 0;
	int fd, saved;
	char c;

	memset(t, 0, sizeof(*t));
	/* a log file that became a link is nothing vigild wrote: never read through it */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW)) == -1)
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
