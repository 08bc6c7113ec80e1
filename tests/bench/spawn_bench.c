/*
 * spawn_bench.c: scenario 1, "spawn core". Times spawn + wait4 of the static
 * probe (exit mode, no stamp) through vigil's spawn_process(), fork+execve,
 * posix_spawn and the floor (a bare clone(CLONE_VM|CLONE_VFORK) + execve),
 * while this process holds M bytes of touched memory. Methods take turns in
 * batches so machine drift hits all alike. Prints markdown, optionally CSV.
 *
 *   spawn_bench --probe PATH [--iterations N] [--mem 4M,256M,2G]
 *               [--csv FILE] [--batch N] [--cgroup DIR]
 *
 * With --cgroup (a cgroup v2 folder), also "vigil-cgroup": spawn_process()
 * with the child born in that cgroup, as vigild spawns a service.
 *
 * The isolation keys (issue 14) each get a method, "vigil+FAMILY": the
 * same spawn with the request one family of keys makes, set so the probe
 * still runs (limits at their current values, and so on; "vigil+seccomp"
 * a small deny-list filter). Built with
 * SPAWN_BASE (Makefile.bench), "vigil-base" is the spawn core of an older
 * commit, for the check that a spawn asking for none of them costs what
 * it did. Run as root, "vigil+user" runs the probe as nobody and
 * "vigil+caps" as nobody keeping CAP_NET_BIND_SERVICE (capabilities =):
 * their difference is what the capability steps cost.
 */
#include "config.h"
#include "spawn.h"		/* daemon/core/spawn.h, found through -iquote */

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#define FLOOR_STACK_SIZE (64 * 1024)
#define MAX_SIZES 16

enum method_id {
	M_VIGIL,		/* spawn_process() from daemon/core/spawn.c */
	M_FORK,			/* fork + execve */
	M_POSIX_SPAWN,		/* glibc posix_spawn */
	M_FLOOR,		/* bare clone(CLONE_VM|CLONE_VFORK) + execve */
	M_VIGIL_CGROUP,		/* spawn_process() into a cgroup (--cgroup) */
	M_VIGIL_BASE,		/* an older commit's spawn_process() (SPAWN_BASE) */
	M_VIGIL_LIMITS,		/* + limit_* (all eight), nice, oom_score_adj, no_new_privileges */
	M_VIGIL_USER,		/* + user = nobody (as root) */
	M_VIGIL_CAPS,		/* + user = nobody, capabilities = CAP_NET_BIND_SERVICE */
	M_VIGIL_SECCOMP,	/* + a syscall_filter the size of ~@mount @reboot @module @swap */
	M_VIGIL_TMP,		/* + private_tmp: a mount namespace, tmpfs on /tmp and /var/tmp (root) */
	M_VIGIL_NET,		/* + private_network: a network namespace, lo up (root) */
	M_COUNT
};

struct result {
	double	 median, p99, mean;
};

static char	  *probe_path;
static char	  *probe_argv[3];
static char	  *probe_envp[1];	/* empty: same for every method */
static int	   devnull_fd;
static struct spawn_request vigil_req, vigil_cgroup_req, limits_req, tmp_req, net_req;
static struct spawn_request seccomp_req;	/* vigil+seccomp */
static const struct spawn_mount tmp_mounts[2] = {
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", "private_tmp", false },
	{ "tmpfs", "/var/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", "private_tmp", true },
};
static struct spawn_rlimit limits_set[8];
static char	   oom_now[16];
static struct spawn_request user_req, caps_req;
static bool	   user_ok;	/* root, and nobody may run the probe */
static int	   caps_drop[64], caps_ambient[1];
static char	  *vigil_paths[2];
static posix_spawnattr_t	  ps_attr;
static posix_spawn_file_actions_t ps_actions;
static char	  *floor_stack;

static pid_t spawn_vigil(void);
static pid_t spawn_fork(void);
static pid_t spawn_posix(void);
static pid_t spawn_floor(void);
static pid_t spawn_vigil_cgroup(void);
static pid_t spawn_vigil_base(void);
static pid_t spawn_vigil_limits(void);
static pid_t spawn_vigil_user(void);
static pid_t spawn_vigil_caps(void);
static pid_t spawn_vigil_seccomp(void);
static pid_t spawn_vigil_tmp(void);
static pid_t spawn_vigil_net(void);

#ifdef HAVE_SPAWN_BASE
int	spawn_base_setup(char *const *argv, char *const *envp, char *const *paths);
pid_t	spawn_base_probe(void);
#endif

static const struct {
	const char	*name;
	pid_t		(*spawn)(void);
} methods[M_COUNT] = {
	[M_VIGIL]	= { "vigil",		spawn_vigil },
	[M_FORK]	= { "fork",		spawn_fork },
	[M_POSIX_SPAWN]	= { "posix_spawn",	spawn_posix },
	[M_FLOOR]	= { "floor",		spawn_floor },
	[M_VIGIL_CGROUP] = { "vigil-cgroup",	spawn_vigil_cgroup },
	[M_VIGIL_BASE]	= { "vigil-base",	spawn_vigil_base },
	[M_VIGIL_LIMITS] = { "vigil+limits",	spawn_vigil_limits },
	[M_VIGIL_USER]	= { "vigil+user",	spawn_vigil_user },
	[M_VIGIL_CAPS]	= { "vigil+caps",	spawn_vigil_caps },
	[M_VIGIL_SECCOMP] = { "vigil+seccomp",	spawn_vigil_seccomp },
	[M_VIGIL_TMP]	= { "vigil+private_tmp", spawn_vigil_tmp },
	[M_VIGIL_NET]	= { "vigil+private_network", spawn_vigil_net },
};

/* vigil-cgroup only with --cgroup, vigil-base only when built with SPAWN_BASE */
static bool
enabled(int m)
{
	if (m == M_VIGIL_CGROUP)
		return vigil_cgroup_req.cgroup_fd >= 0;
	if (m == M_VIGIL_USER || m == M_VIGIL_CAPS)
		return user_ok;
	/* namespaces and mounts need CAP_SYS_ADMIN */
	if (m == M_VIGIL_TMP || m == M_VIGIL_NET)
		return geteuid() == 0;
#ifndef HAVE_SPAWN_BASE
	if (m == M_VIGIL_BASE)
		return false;
#endif
	return true;
}

static pid_t
spawn_with(const struct spawn_request *req, const char *name)
{
	struct spawn_error e;
	char buf[256];
	pid_t pid;

	if ((pid = spawn_process(req, &e)) == -1) {
		spawn_error_text(&e, buf, sizeof(buf));
		errx(1, "%s: %s", name, buf);
	}
	return pid;
}

static pid_t
spawn_vigil(void)
{
	return spawn_with(&vigil_req, "vigil");
}

static pid_t
spawn_vigil_cgroup(void)
{
	return spawn_with(&vigil_cgroup_req, "vigil-cgroup");
}

static pid_t
spawn_vigil_base(void)
{
#ifdef HAVE_SPAWN_BASE
	return spawn_base_probe();
#else
	errx(1, "vigil-base: not built with SPAWN_BASE");
#endif
}

static pid_t
spawn_vigil_limits(void)
{
	return spawn_with(&limits_req, "vigil+limits");
}

static pid_t
spawn_vigil_user(void)
{
	return spawn_with(&user_req, "vigil+user");
}

static pid_t
spawn_vigil_caps(void)
{
	return spawn_with(&caps_req, "vigil+caps");
}

static pid_t
spawn_vigil_seccomp(void)
{
	return spawn_with(&seccomp_req, "vigil+seccomp");
}

static pid_t
spawn_vigil_tmp(void)
{
	return spawn_with(&tmp_req, "vigil+private_tmp");
}

static pid_t
spawn_vigil_net(void)
{
	return spawn_with(&net_req, "vigil+private_network");
}

/* fork and posix_spawn do the same work as vigil: new session, stdin /dev/null */
static pid_t
spawn_fork(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		setsid();
		dup2(devnull_fd, 0);
		execve(probe_path, probe_argv, probe_envp);
		_exit(127);
	}
	if (pid == -1)
		err(1, "fork");
	return pid;
}

static pid_t
spawn_posix(void)
{
	pid_t pid;
	int e;

	e = posix_spawn(&pid, probe_path, &ps_actions, &ps_attr, probe_argv,
	    probe_envp);
	if (e != 0)
		errx(1, "posix_spawn: %s", strerror(e));
	return pid;
}

/* The least a vfork-style spawn can do: no mask work, no setsid, no dup2. */
static int
floor_child(void *arg)
{
	(void)arg;
	execve(probe_path, probe_argv, probe_envp);
	_exit(127);
}

static pid_t
spawn_floor(void)
{
	pid_t pid = clone(floor_child, floor_stack + FLOOR_STACK_SIZE,
	    CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);

	if (pid == -1)
		err(1, "clone");
	return pid;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One spawn + reap; returns its duration in µs. */
static double
run_once(enum method_id m)
{
	struct rusage ru;
	double t0, t1;
	pid_t pid;
	int status;

	t0 = now_us();
	pid = methods[m].spawn();
	while (wait4(pid, &status, 0, &ru) == -1)
		if (errno != EINTR)
			err(1, "wait4");
	t1 = now_us();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errx(1, "%s: probe did not exit 0 (status 0x%x): is --probe right?",
		    methods[m].name, status);
	return t1 - t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct result
summarise(double *s, int n)
{
	struct result r;
	double sum = 0;
	int i99;

	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	for (int i = 0; i < n; i++)
		sum += s[i];
	r.mean = sum / n;
	r.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	i99 = (int)((99LL * n + 99) / 100) - 1;	/* nearest rank */
	r.p99 = s[i99 < 0 ? 0 : i99];
	return r;
}

/* Maps and touches size bytes with 4 KiB pages, as a long-lived heap would be. */
static void *
hold_memory(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		err(1, "mmap %zu bytes", size);
	/* THP would let fork copy 2 MiB entries and hide its real cost */
	madvise(p, size, MADV_NOHUGEPAGE);
	memset(p, 0x5a, size);
	return p;
}

static void
measure(size_t mem, int iterations, int batch, struct result res[M_COUNT])
{
	double *samples[M_COUNT];
	int warm = iterations / 10;
	void *hold = hold_memory(mem);

	if (warm < 5)
		warm = 5;
	if (warm > 100)
		warm = 100;
	for (int i = 0; i < warm; i++)
		for (int m = 0; m < M_COUNT; m++)
			if (enabled(m))
				run_once(m);
	for (int m = 0; m < M_COUNT; m++)
		if ((samples[m] = calloc((size_t)iterations, sizeof(double))) == NULL)
			err(1, "calloc");
	/* A B C D, B C D A, ...: drift and what ran just before hit all alike */
	for (int done = 0, round = 0; done < iterations; done += batch, round++) {
		int k = iterations - done < batch ? iterations - done : batch;

		for (int j = 0; j < M_COUNT; j++) {
			int m = (round + j) % M_COUNT;

			for (int i = 0; i < k && enabled(m); i++)
				samples[m][done + i] = run_once(m);
		}
	}
	for (int m = 0; m < M_COUNT; m++) {
		if (enabled(m))
			res[m] = summarise(samples[m], iterations);
		free(samples[m]);
	}
	munmap(hold, mem);
}

static size_t
parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		errx(2, "--mem: bad size \"%s\"", s);
	switch (*end) {
	case 'G': case 'g': v <<= 30; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'K': case 'k': v <<= 10; end++; break;
	case '\0': break;
	default: errx(2, "--mem: bad size \"%s\": expected K, M or G", s);
	}
	if (*end != '\0' || v == 0)
		errx(2, "--mem: bad size \"%s\"", s);
	return (size_t)v;
}

static int
parse_sizes(char *list, size_t *sizes)
{
	int n = 0;

	for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (n == MAX_SIZES)
			errx(2, "--mem: at most %d sizes", MAX_SIZES);
		sizes[n++] = parse_size(tok);
	}
	if (n == 0)
		errx(2, "--mem: empty list");
	return n;
}

static int	  cgroup_dir = -1;	/* --cgroup */

/*
 * user = nobody, without and with capabilities = CAP_NET_BIND_SERVICE, as
 * spawnreq.c prepares them: every other capability to drop from the
 * bounding set, KEEPCAPS, the mask, the ambient one. Only as root, and
 * only if nobody may run the probe (one trial spawn says).
 */
static void
setup_user_families(void)
{
	struct spawn_error e;
	int last = CAP_LAST_CAP, status;
	FILE *f;
	pid_t pid;

	if (geteuid() != 0)
		return;
	user_req = vigil_req;
	user_req.set_ids = true;
	user_req.uid = 65534;
	user_req.gid = 65534;
	user_req.ngroups = 0;
	caps_req = user_req;
	if ((f = fopen("/proc/sys/kernel/cap_last_cap", "re")) != NULL) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	caps_req.caps.set = true;
	caps_req.caps.drop = caps_drop;
	for (int cap = 0; cap <= last; cap++)
		if (cap != CAP_NET_BIND_SERVICE)
			caps_drop[caps_req.caps.ndrop++] = cap;
	caps_req.caps.keep = true;
	caps_req.caps.mask[0] = 1u << CAP_NET_BIND_SERVICE;
	caps_ambient[0] = CAP_NET_BIND_SERVICE;
	caps_req.caps.ambient = caps_ambient;
	caps_req.caps.nambient = 1;
	if (spawn_init() == -1)
		err(1, "spawn_init");
	if ((pid = spawn_process(&caps_req, &e)) == -1 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		warnx("vigil+user and vigil+caps left out: nobody cannot run %s", probe_path);
		return;
	}
	user_ok = true;
}

/*
 * The request of each family of isolation keys, set to what this process
 * already has, so the child does every step and the probe still runs.
 */
static void
setup_families(void)
{
	static const int resources[8] = { RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE,
	    RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_MEMLOCK, RLIMIT_STACK, RLIMIT_CPU };
	ssize_t n;
	int fd;

	limits_req = vigil_req;
	for (int i = 0; i < 8; i++) {
		limits_set[i].resource = resources[i];
		limits_set[i].step = "setrlimit";
		if (getrlimit(resources[i], &limits_set[i].rl) == -1)
			err(1, "getrlimit");
	}
	limits_req.rlimits = limits_set;
	limits_req.nrlimits = 8;
	errno = 0;
	limits_req.nice = getpriority(PRIO_PROCESS, 0);
	if (errno != 0)
		err(1, "getpriority");
	if ((fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC)) == -1 ||
	    (n = read(fd, oom_now, sizeof(oom_now) - 1)) <= 0)
		err(1, "/proc/self/oom_score_adj");
	close(fd);
	oom_now[strcspn(oom_now, "\n")] = '\0';
	limits_req.oom_score_adj = oom_now;
	limits_req.no_new_privs = true;
	tmp_req = vigil_req;
	tmp_req.new_mount_ns = true;
	tmp_req.mounts = tmp_mounts;
	tmp_req.nmounts = 2;
	net_req = vigil_req;
	net_req.new_net_ns = true;
	setup_user_families();
}

/*
 * A deny-list the size the daemon compiles for ~@mount @reboot @module
 * @swap: load the number, one comparison per call, EPERM or allow.
 * Written by hand, as the bench links no libseccomp.
 */
static struct sock_filter seccomp_insns[16];
static struct sock_fprog seccomp_prog;

static void
setup_seccomp(void)
{
	static const int calls[] = { SYS_mount, SYS_umount2, SYS_pivot_root,
	    SYS_reboot, SYS_kexec_load, SYS_init_module, SYS_finit_module,
	    SYS_delete_module, SYS_swapon, SYS_swapoff };
	size_t n = sizeof(calls) / sizeof(calls[0]), k = 0;

	seccomp_insns[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < n; i++)
		seccomp_insns[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, (unsigned)calls[i], (unsigned char)(n - i), 0);
	seccomp_insns[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	seccomp_insns[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ERRNO | EPERM);
	seccomp_prog = (struct sock_fprog){ (unsigned short)k, seccomp_insns };
	seccomp_req = vigil_req;
	seccomp_req.no_new_privs = true;
	seccomp_req.seccomp = &seccomp_prog;
}

static void
setup(void)
{
	short flags = POSIX_SPAWN_SETSID;

	if ((devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		err(1, "/dev/null");
	probe_argv[0] = probe_path;
	probe_argv[1] = "exit";
	probe_argv[2] = NULL;
	probe_envp[0] = NULL;

	/* what the daemon asks for: own session, stdin /dev/null, rest inherited */
	vigil_paths[0] = probe_path;
	vigil_paths[1] = NULL;
	vigil_req.argv = probe_argv;
	vigil_req.envp = probe_envp;
	vigil_req.exec_paths = vigil_paths;
	vigil_req.umask = -1;
	vigil_req.new_session = true;
	vigil_req.stdin_fd = -1;
	vigil_req.stdout_fd = -1;
	vigil_req.stderr_fd = -1;
	vigil_req.extra_fd = -1;
	vigil_req.cgroup_fd = -1;
	vigil_req.nice = SPAWN_NICE_KEEP;
	vigil_cgroup_req = vigil_req;
	vigil_cgroup_req.cgroup_fd = cgroup_dir;
	setup_families();
	setup_seccomp();
	if (spawn_init() == -1)
		err(1, "spawn_init");
#ifdef HAVE_SPAWN_BASE
	if (spawn_base_setup(probe_argv, probe_envp, vigil_paths) == -1)
		err(1, "vigil-base: spawn_init");
#endif

	posix_spawnattr_init(&ps_attr);
	posix_spawnattr_setflags(&ps_attr, flags);
	posix_spawn_file_actions_init(&ps_actions);
	posix_spawn_file_actions_adddup2(&ps_actions, devnull_fd, 0);

	floor_stack = mmap(NULL, FLOOR_STACK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (floor_stack == MAP_FAILED)
		err(1, "mmap");
}

static void
print_results(FILE *csv, const size_t *sizes, int nsizes, int iterations,
    struct result res[][M_COUNT])
{
	printf("| method | parent MiB | iterations | median µs | p99 µs | mean µs |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	for (int s = 0; s < nsizes; s++)
		for (int m = 0; m < M_COUNT; m++) {
			const struct result *r = &res[s][m];

			if (!enabled(m))
				continue;
			printf("| %s | %zu | %d | %.1f | %.1f | %.1f |\n",
			    methods[m].name, sizes[s] >> 20, iterations,
			    r->median, r->p99, r->mean);
			if (csv != NULL)
				fprintf(csv, "spawn,%s,%zu,%d,%.2f,%.2f,%.2f\n",
				    methods[m].name, sizes[s] >> 20, iterations,
				    r->median, r->p99, r->mean);
		}
	printf("\n| parent MiB | vigil/floor | vigil/posix_spawn | fork/vigil | vigil/vigil-base |\n");
	printf("|---:|---:|---:|---:|---:|\n");
	for (int s = 0; s < nsizes; s++) {
		const struct result *r = res[s];

		printf("| %zu | %.3f | %.3f | %.1f |", sizes[s] >> 20,
		    r[M_VIGIL].median / r[M_FLOOR].median,
		    r[M_VIGIL].median / r[M_POSIX_SPAWN].median,
		    r[M_FORK].median / r[M_VIGIL].median);
		if (enabled(M_VIGIL_BASE))
			printf(" %.3f |\n", r[M_VIGIL].median / r[M_VIGIL_BASE].median);
		else
			printf(" n/a |\n");
	}
	printf("\n(ratios of medians)\n");
	if (!enabled(M_VIGIL_CAPS))
		return;
	printf("\n| parent MiB | vigil+caps - vigil+user µs |\n|---:|---:|\n");
	for (int s = 0; s < nsizes; s++)
		printf("| %zu | %.1f |\n", sizes[s] >> 20,
		    res[s][M_VIGIL_CAPS].median - res[s][M_VIGIL_USER].median);
	printf("\n(the capability steps: difference of medians)\n");
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: spawn_bench --probe PATH [--iterations N] "
	    "[--mem 4M,256M,2G] [--csv FILE] [--batch N] [--cgroup DIR]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "probe",	required_argument, NULL, 'p' },
		{ "iterations",	required_argument, NULL, 'n' },
		{ "mem",	required_argument, NULL, 'm' },
		{ "csv",	required_argument, NULL, 'c' },
		{ "batch",	required_argument, NULL, 'b' },
		{ "cgroup",	required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 }
	};
	char default_mem[] = "4M,256M,2G";
	char *mem_list = default_mem;
	const char *csv_path = NULL;
	size_t sizes[MAX_SIZES];
	struct result (*res)[M_COUNT];
	int iterations = 2000, batch = 10, nsizes, c;
	FILE *csv = NULL;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': probe_path = optarg; break;
		case 'n': iterations = atoi(optarg); break;
		case 'm': mem_list = optarg; break;
		case 'c': csv_path = optarg; break;
		case 'b': batch = atoi(optarg); break;
		case 'g':
			if ((cgroup_dir = open(optarg, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
				err(2, "%s", optarg);
			break;
		default: usage();
		}
	}
	if (probe_path == NULL || optind != argc || iterations < 1 || batch < 1)
		usage();
	if (access(probe_path, X_OK) == -1)
		err(2, "%s", probe_path);
	nsizes = parse_sizes(mem_list, sizes);
	if ((res = calloc((size_t)nsizes, sizeof(*res))) == NULL)
		err(1, "calloc");
	if (csv_path != NULL) {
		if ((csv = fopen(csv_path, "w")) == NULL)
			err(1, "%s", csv_path);
		fprintf(csv, "scenario,method,mem_mib,iterations,median_us,p99_us,mean_us\n");
	}
	setup();
	for (int s = 0; s < nsizes; s++) {
		fprintf(stderr, "spawn_bench: %zu MiB held, %d iterations x %d methods\n",
		    sizes[s] >> 20, iterations, M_COUNT);
		measure(sizes[s], iterations, batch, res[s]);
	}
	print_results(csv, sizes, nsizes, iterations, res);
	if (csv != NULL && fclose(csv) != 0)
		err(1, "%s", csv_path);
	free(res);
	return 0;
}
