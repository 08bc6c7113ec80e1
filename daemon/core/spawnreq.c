/*
 * spawnreq.c: a service's definition turned into a spawn request (spawn.h)
 * for one of its processes. The environment is composed at each spawn into
 * one scratch array, as spawns happen one at a time.
 */
#include "config.h"
#include "spawnreq.h"

#include <stdlib.h>

#include "output/output.h"

static char	**envp_scratch;	/* one spawn at a time: one array serves them all */
static size_t	  envp_cap;

void
spawnreq_build(const struct service *s, char *const *argv,
    char *const *exec_paths, char *const *extra, struct spawn_request *req)
{
	const struct service_conf *c = s->conf;

	*req = (struct spawn_request){
		.argv = argv,
		.envp = config_service_envp(c, extra, &envp_scratch, &envp_cap),
		.exec_paths = exec_paths,
		.directory = c->directory,
		.umask = c->umask,
		.set_ids = c->set_ids,
		.uid = c->uid,
		.gid = c->gid,
		.groups = c->groups,
		.ngroups = c->ngroups,
		.new_session = true,	/* its own group, which stop signals go to */
		.nofile = vigild.nofile_raised ? &vigild.nofile_orig : NULL,
		.stdin_fd = -1,
		.stdout_fd = output_child_fd(s->output, OUTPUT_STDOUT),
		.stderr_fd = output_child_fd(s->output, OUTPUT_STDERR),
		.extra_fd = -1,
		.cgroup_fd = -1,
	};
}

void
spawnreq_free(void)
{
	free(envp_scratch);
	envp_scratch = NULL;
	envp_cap = 0;
}
