/*
 * groupfile.h: without cgroups, a record of each running service's process
 * group under the socket's folder, so a vigild started after one was
 * killed ends what the killed one left (groupfile.c).
 */
#ifndef VIGIL_GROUPFILE_H
#define VIGIL_GROUPFILE_H

#include "core.h"

/* SOCKET.groups, made if missing without cgroups; -1 (logged) if it cannot be. */
int		 groupfile_init(const char *control_path);
void		 groupfile_spawned(const struct service *s);	/* s->pid leads its group */
void		 groupfile_gone(const struct service *s);	/* s has no process left */
/* End the groups a killed vigild left (stop_signal, KILL after stop_timeout); one line each. */
void		 groupfile_recover(const struct config *conf);
void		 groupfile_cleanup(void);

#endif
