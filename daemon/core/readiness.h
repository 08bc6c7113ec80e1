/*
 * readiness.h: the probes that tell when a starting service is ready,
 * for ready = fd:N, tcp: and exec: (notify.c serves ready = notify). A
 * probe reports through service_ready(); the state machine ends it with
 * ops->ready_unwatch when the service is ready, stopped or dead.
 */
#ifndef VIGIL_READINESS_H
#define VIGIL_READINESS_H

#include <stdbool.h>
#include <sys/types.h>

struct service;

/* ready = fd:N: the write end the child gets as N, or -1 (errno set). */
int	 readiness_child_fd(struct service *s);
/* After the spawn: ok, start probing; not ok, drop what child_fd made. */
void	 readiness_spawned(struct service *s, bool ok);
/* Stop probing: close the pipe or socket, kill a running check. */
void	 readiness_stop(struct service *s);
/* The reaper's question for a pid that is no service's: a check of ours? */
bool	 readiness_reaped(pid_t pid, int status);
void	 readiness_free(struct service *s);
/* A probe runs for s (it is starting and not ready yet). */
bool	 readiness_probing(const struct service *s);

#endif
