/*
 * spawnreq.c: a service's definition turned into a spawn request (spawn.h)
 * for one of its processes. The environment is composed at each spawn into
 * one scratch array, as spawns happen one at a time.
 */
#include "config.h"
#include "spawnreq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

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

/*
 * The mounts of a service's own namespace, made anew at each spawn (a
 * path may have become a file or a folder); one spawn at a time, so one
 * array and one set of strings serve them all.
 */
static struct spawn_mount *mounts;
static size_t	  nmounts, mounts_cap;
static char	**mount_strs;	/* what mounts point into, freed at the next build */
static size_t	  nstrs, strs_cap;
static struct spawn_join join = { -1, -1 };

/* A malloc'd string kept until the next build; NULL when out of memory. */
static const char *
keep(char *str)
{
	char **v;

	if (str == NULL)
		return NULL;
	if (nstrs == strs_cap) {
		if ((v = reallocarray(mount_strs, strs_cap * 2 + 8, sizeof(*v))) == NULL) {
			free(str);
			return NULL;
		}
		mount_strs = v;
		strs_cap = strs_cap * 2 + 8;
	}
	return mount_strs[nstrs++] = str;
}

static const char *
keepf(const char *fmt, const char *a, const char *b)
{
	char *str;

	return asprintf(&str, fmt, a, b) == -1 ? NULL : keep(str);
}

static int
add_mount(const char *source, const char *target, const char *fstype,
    unsigned long flags, const char *data, const char *step, bool may_miss)
{
	struct spawn_mount *v;

	if (target == NULL || step == NULL)
		return -1;
	if (nmounts == mounts_cap) {
		if ((v = reallocarray(mounts, mounts_cap * 2 + 8, sizeof(*v))) == NULL)
			return -1;
		mounts = v;
		mounts_cap = mounts_cap * 2 + 8;
	}
	mounts[nmounts++] = (struct spawn_mount){ source, target, fstype, flags, data,
	    step, may_miss };
	return 0;
}

/* The per-mount flags path has now, which a read-only remount must keep. */
static unsigned long
mount_flags_of(const char *path)
{
	struct statvfs st;
	unsigned long f = 0;

	if (statvfs(path, &st) == -1)
		return 0;
	f |= (st.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
	f |= (st.f_flag & ST_NODEV) ? MS_NODEV : 0;
	f |= (st.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
	f |= (st.f_flag & ST_NOATIME) ? MS_NOATIME : 0;
	f |= (st.f_flag & ST_NODIRATIME) ? MS_NODIRATIME : 0;
	f |= (st.f_flag & ST_RELATIME) ? MS_RELATIME : 0;
	return f;
}

/* read_only_paths: bound onto itself, then that bind made read-only. */
static int
add_read_only(const char *word, const char *root)
{
	bool may_miss = word[0] == '-';
	const char *p = may_miss ? word + 1 : word, *target = keepf("%s%s", root, p);

	if (target == NULL)
		return -1;
	if (add_mount(target, target, NULL, MS_BIND | MS_REC, NULL,
	    keepf("read_only_paths bind %s%s", p, ""), may_miss) == -1)
		return -1;
	return add_mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY |
	    mount_flags_of(target), NULL, keepf("read_only_paths remount %s%s", p, ""),
	    may_miss);
}

/*
 * inaccessible_paths: a folder is covered by an empty read-only tmpfs of
 * mode 000; anything else by /dev/null on a read-only, nodev mount, which
 * no one can open, root included.
 */
static int
add_inaccessible(const char *word, const char *root)
{
	bool may_miss = word[0] == '-';
	const char *p = may_miss ? word + 1 : word, *target = keepf("%s%s", root, p);
	const char *step = keepf("inaccessible_paths cover %s%s", p, "");
	unsigned long hide = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	struct stat st;

	if (target == NULL || step == NULL)
		return -1;
	if (stat(target, &st) == -1) {
		if (errno == ENOENT && may_miss)
			return 0;
		/* let the child fail on it, by name */
		return add_mount("none", target, "tmpfs", hide, "mode=000", step, false);
	}
	if (S_ISDIR(st.st_mode))
		return add_mount("none", target, "tmpfs", hide, "mode=000", step, may_miss);
	if (add_mount("/dev/null", target, NULL, MS_BIND, NULL, step, may_miss) == -1)
		return -1;
	return add_mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | hide, NULL, step,
	    may_miss);
}

/* Every mount of c's own namespace, into mounts; -1 when out of memory. */
static int
build_mounts(const struct service_conf *c)
{
	const char *root = c->chroot != NULL ? c->chroot : "";

	for (size_t i = 0; i < nstrs; i++)
		free(mount_strs[i]);
	nstrs = nmounts = 0;
	if (c->private_tmp) {
		if (add_mount("tmpfs", keepf("%s%s", root, "/tmp"), "tmpfs",
		    MS_NOSUID | MS_NODEV, "mode=1777", "private_tmp mount /tmp", false) == -1 ||
		    add_mount("tmpfs", keepf("%s%s", root, "/var/tmp"), "tmpfs",
		    MS_NOSUID | MS_NODEV, "mode=1777", "private_tmp mount /var/tmp", true) == -1)
			return -1;
	}
	for (char **w = c->read_only_paths; w != NULL && *w != NULL; w++)
		if (add_read_only(*w, root) == -1)
			return -1;
	for (char **w = c->inaccessible_paths; w != NULL && *w != NULL; w++)
		if (add_inaccessible(*w, root) == -1)
			return -1;
	return 0;
}

static bool
wants_mount_ns(const struct service_conf *c)
{
	return c->private_tmp || (c->read_only_paths != NULL && c->read_only_paths[0] != NULL) ||
	    (c->inaccessible_paths != NULL && c->inaccessible_paths[0] != NULL);
}

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
		.stdout_fd = -1,	/* spawnreq_output() */
		.stderr_fd = -1,
		.extra_fd = -1,
		.cgroup_fd = -1,
		.new_mount_ns = wants_mount_ns(c),
		.new_net_ns = c->private_network,
		.chroot = c->chroot,
	};
	if (req->new_mount_ns) {
		if (build_mounts(c) == -1)
			req->envp = NULL;	/* out of memory, as the callers know it */
		req->mounts = mounts;
		req->nmounts = nmounts;
	}
}

int
spawnreq_output(const struct service *s, struct spawn_request *req, char *err, size_t errlen)
{
	return output_spawn_fds(s->output, &req->stdout_fd, &req->stderr_fd, err, errlen);
}

void
spawnreq_output_done(void)
{
	output_spawned();
}

static void
close_join(void)
{
	if (join.mnt_fd >= 0)
		close(join.mnt_fd);
	if (join.net_fd >= 0)
		close(join.net_fd);
	join.mnt_fd = join.net_fd = -1;
}

/* /proc/PID/ns/NAME, close-on-exec; -1 with err filled */
static int
open_ns(pid_t pid, const char *name, char *err, size_t errlen)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/ns/%s", (long)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		snprintf(err, errlen, "opening %s: %s", path, strerror(errno));
	return fd;
}

int
spawnreq_join(const struct service *s, struct spawn_request *req, char *err, size_t errlen)
{
	close_join();
	if (!req->new_mount_ns && !req->new_net_ns)
		return 0;
	if (s->pid <= 0) {
		snprintf(err, errlen, "the service has no process whose namespaces to enter");
		return -1;
	}
	if ((req->new_mount_ns && (join.mnt_fd = open_ns(s->pid, "mnt", err, errlen)) == -1) ||
	    (req->new_net_ns && (join.net_fd = open_ns(s->pid, "net", err, errlen)) == -1)) {
		close_join();
		return -1;
	}
	req->join = &join;
	req->new_mount_ns = req->new_net_ns = false;
	req->mounts = NULL;
	req->nmounts = 0;
	return 0;
}

void
spawnreq_join_done(void)
{
	close_join();
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
	for (size_t i = 0; i < nstrs; i++)
		free(mount_strs[i]);
	free(mount_strs);
	free(mounts);
	mount_strs = NULL;
	mounts = NULL;
	nstrs = strs_cap = nmounts = mounts_cap = 0;
	close_join();
}
