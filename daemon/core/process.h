/*
 * process.h: facts about processes that several parts of the core need:
 * a wait status in words, and a process's parent from /proc. No state.
 */
#ifndef VIGIL_PROCESS_H
#define VIGIL_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "exited 3", "killed by SEGV (core dumped)" */
void	 process_status_text(int status, char *buf, size_t len);
/* The parent of pid, from /proc; -1 if it is gone. */
pid_t	 process_parent_of(pid_t pid);
/* Its parent and start time (clock ticks since boot) from /proc/PID/stat; -1 if gone. */
int	 process_stat(pid_t pid, pid_t *ppid, unsigned long long *start);
int64_t	 process_now_ms(void);		/* the monotonic clock */
void	 process_sleep_ms(long ms);	/* for the waits before the loop runs */

#endif
