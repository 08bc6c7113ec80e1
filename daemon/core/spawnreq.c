/*
 * spawnreq.c: a service's definition turned into a spawn request (spawn.h)
 * for one of its processes. The environment is composed at each spawn into
 * one scratch array, as spawns happen one at a time.
 */
#include "config.h"
#include "spawnreq.h"

#include <stdio.h>
#include <stdlib.h>

#include "config/envfile.h"
#include "output/output.h"
#include "words.h"

static char	**envp_scratch;	/* one spawn at a time: one array serves them all */
static size_t	  envp_cap;
static struct spawn_rlimit rlimits[SERVICE_NLIMITS];	/* likewise */
static char	  oom_text[16];

/* The step a failed limit is reported as, by enum service_limit. */
static const char *const limit_steps[SERVICE_NLIMITS] = {
	"setrlimit limit_nofile", "setrlimit limit_nproc", "setrlimit limit_core",
	"setrlimit limit_as", "setrlimit limit_fsize", "setrlimit limit_memlock",
	"setrlimit limit_stack", "setrlimit limit_cpu",
};

void
spawnreq_build(const struct service *s, char *const *argv,
    char *const *exec_paths, char *const *extra, struct spawn_request *req)
{
	const struct service_conf *c = s->conf;
	size_t nrlimits = 0;

	for (int i = 0; i < SERVICE_NLIMITS; i++)
		if (c->limits[i].set)
			rlimits[nrlimits++] = (struct spawn_rlimit){ c->limits[i].resource,
			    c->limits[i].rl, limit_steps[i] };
	if (c->oom_score_adj != SERVICE_OOM_UNSET)
		snprintf(oom_text, sizeof(oom_text), "%d", c->oom_score_adj);

	*req = (struct spawn_request){
		.argv = argv,
		.envp = config_service_envp_files(c, s->file_env, extra, &envp_scratch,
		    &envp_cap),
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
		.rlimits = rlimits,
		.nrlimits = nrlimits,
		.nice = c->nice == SERVICE_NICE_UNSET ? SPAWN_NICE_KEEP : c->nice,
		.oom_score_adj = c->oom_score_adj == SERVICE_OOM_UNSET ? NULL : oom_text,
		.no_new_privs = c->no_new_privileges,
		.stdin_fd = -1,
		.stdout_fd = output_child_fd(s->output, OUTPUT_STDOUT),
		.stderr_fd = output_child_fd(s->output, OUTPUT_STDERR),
		.extra_fd = -1,
		.cgroup_fd = -1,
	};
}

int
spawnreq_read_env(struct service *s, char *err, size_t errlen)
{
	char **w = NULL, why[224];

	if (s->conf->environment_files == NULL) {
		words_free(s->file_env);
		s->file_env = NULL;
		return 0;
	}
	if (envfile_load(s->conf->environment_files, &w, why, sizeof(why)) == -1) {
		words_free(w);
		snprintf(err, errlen, "spawn failed at %s", why);
		return -1;
	}
	words_free(s->file_env);
	s->file_env = w;
	return 0;
}

void
spawnreq_free(void)
{
	free(envp_scratch);
	envp_scratch = NULL;
	envp_cap = 0;
}
