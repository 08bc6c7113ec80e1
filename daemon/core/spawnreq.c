/*
 * spawnreq.c: a service's definition turned into a spawn request (spawn.h)
 * for one of its processes. The environment is composed at each spawn into
 * one scratch array, as spawns happen one at a time.
 */
#include "config.h"
#include "spawnreq.h"

#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/filter.h>

#include "config/envfile.h"
#include "output/output.h"
#include "words.h"

static char	**envp_scratch;	/* one spawn at a time: one array serves them all */
static size_t	  envp_cap;
static struct spawn_rlimit rlimits[SERVICE_NLIMITS];	/* likewise */
static char	  oom_text[16];
static struct sock_fprog seccomp_prog;	/* points into the conf's compiled filter */

static int	  cap_drop[64], cap_ambient[64];
static int	  cap_last = -1;

/*
 * The kernel's highest capability, read once: libcap and our headers may
 * know newer ones than the running kernel, which refuses to drop those.
 */
static int
last_cap(void)
{
	FILE *f;

	if (cap_last != -1)
		return cap_last;
	if ((f = fopen("/proc/sys/kernel/cap_last_cap", "re")) == NULL ||
	    fscanf(f, "%d", &cap_last) != 1 || cap_last < 0 || cap_last > 63)
		cap_last = CAP_LAST_CAP;
	if (f != NULL)
		fclose(f);
	return cap_last;
}

/*
 * capabilities = as system calls: the bounding set loses every other
 * capability, so no execve can bring one back; a user other than root
 * keeps the listed ones across setresuid and as ambient ones, which
 * survive its execve (root gets its permitted set from the bounding set).
 */
static struct spawn_caps
caps_prepare(const struct service_conf *c)
{
	struct spawn_caps sc = { 0 };
	bool user = c->set_ids && c->uid != 0;
	uint64_t m = c->capabilities;

	if (m == SERVICE_CAPS_UNSET)
		return sc;
	sc.set = true;
	sc.drop = cap_drop;
	sc.ambient = cap_ambient;
	for (int cap = 0; cap <= last_cap(); cap++) {
		if ((m & (1ULL << cap)) == 0)
			cap_drop[sc.ndrop++] = cap;
		else if (user)
			cap_ambient[sc.nambient++] = cap;
	}
	sc.keep = user && m != 0;
	sc.mask[0] = (uint32_t)m;
	sc.mask[1] = (uint32_t)(m >> 32);
	return sc;
}

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
	seccomp_prog = (struct sock_fprog){ c->syscall_bpf_len, c->syscall_bpf };

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
		/* a filter implies no_new_privs: a setuid program must not get back what it forbids */
		.no_new_privs = c->no_new_privileges || c->syscall_bpf != NULL,
		.caps = caps_prepare(c),
		.seccomp = c->syscall_bpf != NULL ? &seccomp_prog : NULL,
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
