/*
 * cgroup.h: every process of a service, tracked through a cgroup v2 of its
 * own. Where vigild can write a cgroup v2 hierarchy, each service runs in
 * BASE/NAME, BASE being `[vigil] cgroup` or a folder below vigild's own
 * cgroup named after its socket; the child is born in it (spawn.c). A service
 * is over when its cgroup is empty, which cgroup.events tells without
 * polling. Without cgroups every function here says so (-1, false) and the
 * state machine falls back to the process group.
 */
#ifndef VIGIL_CGROUP_H
#define VIGIL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/conf.h"

struct service;

/* Decide the mode and make BASE; one log line says which mode and why. */
void		 cgroup_init(const struct config *conf);
bool		 cgroup_enabled(void);
/*
 * End what a previous vigild (killed before it could stop its services)
 * left in BASE: stop_signal, then SIGKILL after stop_timeout. Before
 * anything starts, so a service never runs twice; one log line each.
 */
void		 cgroup_recover(const struct config *conf);
void		 cgroup_cleanup(void);	/* at exit: remove BASE if it is empty */

/* An fd of s's cgroup folder (made and watched at the first call) for spawn.c; -1 and err. */
int		 cgroup_dir_fd(struct service *s, char *err, size_t errlen);
void		 cgroup_service_free(struct service *s);	/* unwatch, rmdir if empty */
/* daemon-reexec: whether s has a cgroup (and whether cgroup.kill was used on it) ... */
bool		 cgroup_handover(const struct service *s, bool *killed);
/* ... and, after the exec, watch it again; -1 (logged) if it cannot be. */
int		 cgroup_adopt(struct service *s, bool killed);
/* Send sig to every process of s's cgroup: how many got it, -1 if s has none. */
int		 cgroup_signal(struct service *s, int sig);
/* Processes in s's cgroup, 0 when empty, -1 if s has no cgroup. */
int		 cgroup_count(const struct service *s);
/* Whether pid is in s's cgroup (or one below it). */
bool		 cgroup_holds(const struct service *s, pid_t pid);
/* CPU time of everything that ran in s's cgroup, microseconds; -1 if unknown. */
int64_t		 cgroup_cpu_usec(const struct service *s);

/* A reload changed s's cgroup limits: rewrite them in its cgroup, the process kept. */
void		 cgroup_limits_changed(struct service *s);
/*
 * cglimits.c: write s's memory_max and the like into its cgroup at path
 * (below base), and the kernel's default for a key it no longer has (bit
 * i of written: key i was written); warn once per controller that cgroup
 * cannot have, warned keeping which ones were said.
 */
void		 cglimits_write(const struct service *s, const char *base,
		    const char *path, unsigned *warned, unsigned *written);

#endif
