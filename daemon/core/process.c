/*
 * process.c: a wait status in words, and a process's parent read from
 * /proc/PID/stat. Pure helpers: who reaps, and what a death means, is
 * reap.c's and service.c's.
 */
#include "config.h"
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "signame.h"

void
process_status_text(int status, char *buf, size_t len)
{
	char name[16];

	if (status == -1)	/* EXIT_STATUS_UNKNOWN (core.h) */
		snprintf(buf, len, "ended (exit status unknown: not vigild's child)");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s%s",
		    signame_name(WTERMSIG(status), name, sizeof(name)),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "status 0x%x", (unsigned)status);
}

int
process_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	unsigned long long t;
	ssize_t n;
	int fd, pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/*
	 * "pid (comm) state ppid ... starttime": comm may hold anything, so
	 * look past the last ')'; starttime is field 22, the 20th after it.
	 */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*s %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
	    "%*s %*s %*s %*s %llu", &pp, &t) != 2)
		return -1;
	if (ppid != NULL)
		*ppid = (pid_t)pp;
	if (start != NULL)
		*start = t;
	return 0;
}

pid_t
process_parent_of(pid_t pid)
{
	pid_t ppid;

	return process_stat(pid, &ppid, NULL) == 0 ? ppid : -1;
}

int64_t
process_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
process_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
