/*
 * spawnreq.h: the spawn request of a service's process: its argv, its
 * environment, ids, folder, umask, limits, output pipes and a session of
 * its own. The main process (world.c) and an exec readiness check
 * (readiness.c) are both started from one.
 */
#ifndef VIGIL_SPAWNREQ_H
#define VIGIL_SPAWNREQ_H

#include "core.h"
#include "spawn.h"

/*
 * What every process of s is run with, for argv; envp is composed with
 * extra into the one scratch array spawns share, NULL when out of memory.
 */
void	 spawnreq_build(const struct service *s, char *const *argv,
	    char *const *exec_paths, char *const *extra, struct spawn_request *req);
/*
 * Its stdout and stderr into req, last before the spawn, as a journal
 * stream is opened for each: 0, or -1 with err. spawnreq_output_done()
 * after the spawn (or instead of it) closes vigild's copies.
 */
int	 spawnreq_output(const struct service *s, struct spawn_request *req, char *err,
	    size_t errlen);
void	 spawnreq_output_done(void);
/*
 * Read s's environment files anew, for the spawns of this start: 0, or -1
 * with err naming the file and line (s keeps what it had).
 */
int	 spawnreq_read_env(struct service *s, char *err, size_t errlen);
/*
 * For a process that must live in the service's namespaces (an exec
 * check): req enters those of s's main process instead of making new
 * ones. 0, or -1 with err; spawnreq_join_done() after the spawn.
 */
int	 spawnreq_join(const struct service *s, struct spawn_request *req, char *err,
	    size_t errlen);
void	 spawnreq_join_done(void);
void	 spawnreq_free(void);	/* the scratch array, at exit */

#endif
