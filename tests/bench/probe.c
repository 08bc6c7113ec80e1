/*
 * probe.c: the benchmark's service. Its first action is to read
 * CLOCK_MONOTONIC and append "PID SEC.NSEC\n" (nsec zero-padded to 9 digits)
 * with one write(2) to $PROBE_STAMP, or to argv[1] when that is given and is
 * not "exit"; with neither, nothing is written. Then it _exit(0)s if any
 * argument is "exit", else pause()s until killed. Built -static so execve
 * maps no ld.so; no stdio, no allocation.
 *
 *   probe [STAMPFILE] [exit]
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Writes v in decimal, at least width digits, ending just before end. */
static char *
put_uint(char *end, unsigned long long v, int width)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
		width--;
	} while (v != 0 || width > 0);
	return end;
}

static void
stamp(const struct timespec *ts, const char *path)
{
	char buf[64];
	char *end = buf + sizeof(buf), *p = end;
	int fd;

	*--p = '\n';
	p = put_uint(p, (unsigned long long)ts->tv_nsec, 9);
	*--p = '.';
	p = put_uint(p, (unsigned long long)ts->tv_sec, 1);
	*--p = ' ';
	p = put_uint(p, (unsigned long long)getpid(), 1);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		_exit(2);
	/* one write with O_APPEND: concurrent probes never interleave a line */
	if (write(fd, p, (size_t)(end - p)) != end - p)
		_exit(2);
	close(fd);
}

int
main(int argc, char **argv)
{
	struct timespec ts;
	const char *path;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	path = getenv("PROBE_STAMP");
	if (argc > 1 && strcmp(argv[1], "exit") != 0)
		path = argv[1];
	if (path != NULL && path[0] != '\0')
		stamp(&ts, path);
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "exit") == 0)
			_exit(0);
	for (;;)
		pause();
}
