/*
 * process.c: a wait status in words, and a process's parent read from
 * /proc/PID/stat. Pure helpers: who reaps, and what a death means, is
 * reap.c's and service.c's.
 */
#include "config.h"
#include "process.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

pid_t
process_parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, ppid;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid": comm may hold anything, so look past the last ')' */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}
