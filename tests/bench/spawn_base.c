/*
 * spawn_base.c: the baseline of scenario 1's "no isolation keys" row. It is
 * compiled against an older commit's daemon/core/spawn.h and linked, with
 * that commit's spawn.c, into one object whose only global symbols are the
 * two below (Makefile.bench, SPAWN_BASE): so spawn_bench times today's
 * spawn_process() and the older one in the same process, in turns.
 * Only request fields every spawn.h since the cgroup work has are set.
 */
#include "config.h"
#include "spawn.h"		/* the baseline's, through -iquote */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

int	spawn_base_setup(char *const *argv, char *const *envp, char *const *paths);
pid_t	spawn_base_probe(void);

static struct spawn_request base_req;

int
spawn_base_setup(char *const *argv, char *const *envp, char *const *paths)
{
	base_req.argv = argv;
	base_req.envp = envp;
	base_req.exec_paths = paths;
	base_req.umask = -1;
	base_req.new_session = true;
	base_req.stdin_fd = -1;
	base_req.stdout_fd = -1;
	base_req.stderr_fd = -1;
	base_req.extra_fd = -1;
	base_req.cgroup_fd = -1;
	return spawn_init();
}

pid_t
spawn_base_probe(void)
{
	struct spawn_error e;
	char buf[256];
	pid_t pid;

	if ((pid = spawn_process(&base_req, &e)) == -1) {
		spawn_error_text(&e, buf, sizeof(buf));
		fprintf(stderr, "spawn_bench: vigil-base: %s\n", buf);
		exit(1);
	}
	return pid;
}
