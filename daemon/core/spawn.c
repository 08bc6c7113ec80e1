/*
 * spawn.c: create a service's process with clone(CLONE_VM|CLONE_VFORK) on
 * a dedicated stack. The parent prepares everything; the child only makes
 * async-signal-safe system calls, then execve. A failing step is written to
 * the parent's struct spawn_error (shared memory) and the child _exit(127)s.
 * Reaping of a started process belongs to reap.c; a child that failed
 * before execve is reaped here so nobody mistakes it for a crash.
 */
#include "config.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#else
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

#define SPAWN_STACK_SIZE (64 * 1024)

struct spawn_child {
	const struct spawn_request *req;
	struct spawn_error	   *err;
	int			    procs_fd;	/* cgroup.procs to join by writing 0, or -1 */
};

static char	*spawn_stack;		/* one (CLONE_VFORK: one child at a time), a guard page below */
static int	 devnull_fd = -1;
static sigset_t	 caught_signals;	/* dispositions the child must reset to SIG_DFL */

int
spawn_init(void)
{
	struct sigaction sa;

	if (spawn_stack == NULL) {
		/*
		 * MAP_GROWSDOWN is not needed: the child's path is short and
		 * bounded. One more page below it, PROT_NONE: should the child
		 * ever overrun its stack, it faults (SIGSEGV, a crash the
		 * parent sees) instead of silently writing over whatever
		 * mapping of vigild's lies below, which it shares.
		 */
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		char *p = mmap(NULL, page + SPAWN_STACK_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

		if (p == MAP_FAILED)
			return -1;
		if (mprotect(p, page, PROT_NONE) == -1) {
			munmap(p, page + SPAWN_STACK_SIZE);
			return -1;
		}
		spawn_stack = p + page;
	}
	if (devnull_fd == -1 &&
	    (devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	/*
	 * Scan once, here, instead of 64 sigactions per spawn: whatever is
	 * caught or ignored now (libev's handlers, an inherited SIG_IGN) is
	 * reset in each child, and nothing else is touched.
	 */
	sigemptyset(&caught_signals);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL)
			sigaddset(&caught_signals, sig);
	}
	return 0;
}

/*
 * The child runs on a stack ASan does not know; instrumenting it only buys
 * a "false positive error reports may follow" warning at each _exit.
 */
#define CHILD_CODE __attribute__((no_sanitize_address))

#define CHILD_FAIL(e, s) do { (e)->step = (s); (e)->err = errno; _exit(127); } while (0)

CHILD_CODE static void
child_reset_signals(void)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&caught_signals, sig) == 1)
			sigaction(sig, &dfl, NULL);
}

CHILD_CODE static void
child_setup_fds(const struct spawn_request *req, struct spawn_error *err)
{
	int in = req->stdin_fd >= 0 ? req->stdin_fd : devnull_fd;

	/* dup2 clears FD_CLOEXEC on the target, so these three survive execve */
	if (dup2(in, 0) == -1)
		CHILD_FAIL(err, "dup2 stdin");
	if (req->stdout_fd >= 0 && dup2(req->stdout_fd, 1) == -1)
		CHILD_FAIL(err, "dup2 stdout");
	if (req->stderr_fd >= 0 && dup2(req->stderr_fd, 2) == -1)
		CHILD_FAIL(err, "dup2 stderr");
	if (req->extra_fd >= 0) {
		if (req->extra_fd == req->extra_fd_as) {
			/* already in place: only drop its close-on-exec */
			if (fcntl(req->extra_fd, F_SETFD, 0) == -1)
				CHILD_FAIL(err, "fcntl ready fd");
		} else if (dup2(req->extra_fd, req->extra_fd_as) == -1) {
			CHILD_FAIL(err, "dup2 ready fd");
		}
	}
}

/* getpid() in decimal after the prefix; no stdio in here. */
CHILD_CODE static void
child_fill_pid_env(char *entry)
{
	char digits[24], *p = entry + sizeof(SPAWN_PID_ENV_PREFIX) - 1;
	unsigned long pid = (unsigned long)getpid();
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid > 0);
	while (n > 0)
		*p++ = digits[--n];
	*p = '\0';
}

/*
 * The ids by raw system calls, not glibc's setgroups/setresgid/setresuid:
 * POSIX wants ids per process, so glibc's wrappers make every thread of
 * the caller change too, by signalling each one (SIGSETXID) and waiting
 * for it. A CLONE_VM child has no threads of its own but shares glibc's
 * thread list with vigild, so it would signal vigild's threads and wait
 * on locks the parent may hold. The kernel call changes this process
 * only, which is what we want. 32-bit x86 and arm name the calls taking
 * 32-bit ids with a 32 suffix.
 */
#ifdef SYS_setresuid32
#define SYS_SETGROUPS	SYS_setgroups32
#define SYS_SETRESGID	SYS_setresgid32
#define SYS_SETRESUID	SYS_setresuid32
#else
#define SYS_SETGROUPS	SYS_setgroups
#define SYS_SETRESGID	SYS_setresgid
#define SYS_SETRESUID	SYS_setresuid
#endif

/* A network namespace starts with lo down: bring it up, as `ip link set lo up` would. */
CHILD_CODE static void
child_loopback_up(struct spawn_error *err)
{
	struct ifreq ifr;
	int fd;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		CHILD_FAIL(err, "private_network socket");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1)
		CHILD_FAIL(err, "private_network reading lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) == -1)
		CHILD_FAIL(err, "private_network lo up");
	close(fd);
}

/*
 * First of all: namespaces and mounts (made or entered), then chroot,
 * while the child still has every privilege vigild has. The mount
 * namespace is made a slave of the host's, so nothing mounted here is
 * ever seen outside, while the host's later mounts still come in.
 */
CHILD_CODE static void
child_namespaces(const struct spawn_request *req, struct spawn_error *err)
{
	const struct spawn_mount *m;

	if (req->join != NULL) {
		if (req->join->net_fd >= 0 && setns(req->join->net_fd, CLONE_NEWNET) == -1)
			CHILD_FAIL(err, "setns into the service's network");
		if (req->join->mnt_fd >= 0 && setns(req->join->mnt_fd, CLONE_NEWNS) == -1)
			CHILD_FAIL(err, "setns into the service's mounts");
	} else {
		if (req->new_mount_ns) {
			if (unshare(CLONE_NEWNS) == -1)
				CHILD_FAIL(err, "unshare mount namespace");
			if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1)
				CHILD_FAIL(err, "making its mounts a slave of the host's");
			for (m = req->mounts; m < req->mounts + req->nmounts; m++)
				if (mount(m->source, m->target, m->fstype, m->flags, m->data) == -1 &&
				    !(m->may_miss && errno == ENOENT))
					CHILD_FAIL(err, m->step);
		}
		if (req->new_net_ns) {
			if (unshare(CLONE_NEWNET) == -1)
				CHILD_FAIL(err, "private_network unshare");
			child_loopback_up(err);
		}
	}
	if (req->chroot != NULL && chroot(req->chroot) == -1)
		CHILD_FAIL(err, "chroot");
	if (req->chroot != NULL && chdir("/") == -1)
		CHILD_FAIL(err, "chdir / in the chroot");
}

CHILD_CODE static void
child_set_ids(const struct spawn_request *req, struct spawn_error *err)
{
	if (syscall(SYS_SETGROUPS, req->ngroups, req->groups) == -1)
		CHILD_FAIL(err, "setgroups");
	if (syscall(SYS_SETRESGID, req->gid, req->gid, req->gid) == -1)
		CHILD_FAIL(err, "setresgid");
	if (syscall(SYS_SETRESUID, req->uid, req->uid, req->uid) == -1)
		CHILD_FAIL(err, "setresuid");
}

/* Before the ids change: the bounding set needs CAP_SETPCAP to shrink. */
CHILD_CODE static void
child_bound_caps(const struct spawn_caps *caps, struct spawn_error *err)
{
	for (size_t i = 0; i < caps->ndrop; i++)
		if (prctl(PR_CAPBSET_DROP, caps->drop[i], 0, 0, 0) == -1)
			CHILD_FAIL(err, "PR_CAPBSET_DROP");
	if (caps->keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		CHILD_FAIL(err, "PR_SET_KEEPCAPS");
}

/*
 * After: the uid change left the permitted set (KEEPCAPS) and cleared the
 * effective one; capset(2) (no glibc wrapper) makes all three the list,
 * and the ambient ones need the capability both permitted and inheritable.
 */
CHILD_CODE static void
child_set_caps(const struct spawn_caps *caps, struct spawn_error *err)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	for (int i = 0; i < 2; i++)
		d[i].effective = d[i].permitted = d[i].inheritable = caps->mask[i];
	if (syscall(SYS_capset, &h, d) == -1)
		CHILD_FAIL(err, "capset");
	for (size_t i = 0; i < caps->nambient; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, caps->ambient[i], 0, 0) == -1)
			CHILD_FAIL(err, "PR_CAP_AMBIENT_RAISE");
}

/*
 * Limits, niceness and OOM score, before the ids change: raising a hard
 * limit or lowering either score needs the privileges root still has.
 */
CHILD_CODE static void
child_set_resources(const struct spawn_request *req, struct spawn_error *err)
{
	size_t len = 0;
	int fd;

	for (size_t i = 0; i < req->nrlimits; i++)
		if (setrlimit(req->rlimits[i].resource, &req->rlimits[i].rl) == -1)
			CHILD_FAIL(err, req->rlimits[i].step);
	if (req->nice != SPAWN_NICE_KEEP && setpriority(PRIO_PROCESS, 0, req->nice) == -1)
		CHILD_FAIL(err, "setpriority (nice)");
	if (req->oom_score_adj == NULL)
		return;
	while (req->oom_score_adj[len] != '\0')
		len++;
	if ((fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC)) == -1)
		CHILD_FAIL(err, "open /proc/self/oom_score_adj");
	if (write(fd, req->oom_score_adj, len) != (ssize_t)len)
		CHILD_FAIL(err, "writing oom_score_adj");
	close(fd);
}

/*
 * Like execvp: ENOENT and friends move on, EACCES is kept if nothing better
 * turns up. What the error names: the file when one file is to blame
 * (EACCES, ENOEXEC...), the command as written when no candidate was
 * found, and no file for EAGAIN, which is the user's process limit
 * (RLIMIT_NPROC, checked by the kernel at execve after setuid).
 */
CHILD_CODE static void
child_exec(const struct spawn_request *req, struct spawn_error *err)
{
	int saved = ENOENT;
	const char *saved_path = req->argv[0];

	err->searched = req->exec_paths[0] != NULL && req->exec_paths[1] != NULL;
	for (char *const *p = req->exec_paths; *p != NULL; p++) {
		execve(*p, req->argv, req->envp);
		if (errno == EAGAIN) {
			saved = EAGAIN;
			saved_path = NULL;
			break;
		} else if (errno == EACCES) {
			saved = EACCES;
			saved_path = *p;
		} else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE) {
			saved = errno;
			saved_path = *p;
			break;
		}
	}
	err->path = saved_path;
	errno = saved;
	CHILD_FAIL(err, "execve");
}

/*
 * The child's steps, in this order, each for a reason:
 *
 *   cgroup         first, so every process of the service starts in it
 *   signals        handlers vigild installed back to SIG_DFL
 *   setsid, fds    its own session; stdin, stdout, stderr, the ready fd
 *   namespaces and mounts   while still root, before anything is looked
 *                  up in the file system the service will see
 *   chroot         after the mounts it may need, before paths are used
 *   rlimits, nice, oom_score_adj   need root's privileges to raise or lower
 *   bounding set   capabilities: reduced while CAP_SETPCAP is still there
 *   groups, gid, uid   (PR_SET_KEEPCAPS first when a user keeps capabilities)
 *   capabilities   capset, then the ambient ones, which survive execve
 *   directory, umask   after the ids, as Go and systemd do: a service
 *                  cannot start in a folder its user cannot reach
 *   no_new_privs   after the ids, which it would not stop, before seccomp
 *   signal mask
 *   seccomp        last: the filter need allow none of the steps above
 *   execve
 */
CHILD_CODE static int
child_main(void *arg)
{
	struct spawn_child *c = arg;
	const struct spawn_request *req = c->req;
	sigset_t empty;

	/* first: every process the service will ever have starts in its cgroup */
	if (c->procs_fd >= 0 && write(c->procs_fd, "0", 1) != 1)
		CHILD_FAIL(c->err, "joining its cgroup");
	child_reset_signals();
	if (req->new_session && setsid() == -1)
		CHILD_FAIL(c->err, "setsid");
	child_setup_fds(req, c->err);
	if (req->pid_env != NULL)
		child_fill_pid_env(req->pid_env);
	child_namespaces(req, c->err);	/* then chroot; directory is inside it */
	if (req->nofile != NULL && setrlimit(RLIMIT_NOFILE, req->nofile) == -1)
		CHILD_FAIL(c->err, "setrlimit");
	child_set_resources(req, c->err);
	if (req->caps.set)
		child_bound_caps(&req->caps, c->err);
	if (req->set_ids)
		child_set_ids(req, c->err);
	if (req->caps.set)
		child_set_caps(&req->caps, c->err);
	/* the folder after the ids: a service never starts where its user cannot go */
	if (req->directory != NULL && chdir(req->directory) == -1)
		CHILD_FAIL(c->err, "chdir");
	if (req->umask >= 0)
		umask((mode_t)req->umask);
	if (req->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		CHILD_FAIL(c->err, "no_new_privileges");
	sigemptyset(&empty);
	if (sigprocmask(SIG_SETMASK, &empty, NULL) == -1)
		CHILD_FAIL(c->err, "sigprocmask");
	/* last: from here on only execve (and _exit) must get through the filter */
	if (req->seccomp != NULL &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, req->seccomp, 0, 0) == -1)
		CHILD_FAIL(c->err, "seccomp");
	child_exec(req, c->err);
	return 127;
}

/*
 * Born in a cgroup: clone3(CLONE_INTO_CGROUP) puts the child there at
 * fork. Joining later, by writing to cgroup.procs, takes the kernel's
 * cgroup_threadgroup_rwsem for writing, which waits out an RCU grace
 * period: measured here, 13 ms per spawn when spawns are apart (a crash,
 * then its restart), against under 1 ms. glibc has no clone3 wrapper, and
 * a child on its own stack cannot return from syscall(2), so the call and
 * the jump to the child's code are a few lines of assembly, on x86-64;
 * elsewhere, and on kernels before 5.7, the child writes cgroup.procs.
 */
#if defined(__x86_64__) && defined(SYS_clone3) && defined(CLONE_INTO_CGROUP)
#define HAVE_CLONE3_ASM 1

/* The child's pid, or -errno; in the child, fn(arg) runs on the new stack and exits with its value. */
static long
clone3_call(struct clone_args *ca, int (*fn)(void *), void *arg)
{
	register long nr __asm__("rax") = SYS_clone3;
	register void *fn_reg __asm__("r12") = (void *)fn;
	register void *arg_reg __asm__("r13") = arg;

	__asm__ volatile(
	    "syscall\n\t"
	    "test %%rax, %%rax\n\t"
	    "jnz 1f\n\t"
	    /* the child: a fresh stack, no frame above it */
	    "xor %%ebp, %%ebp\n\t"
	    "mov %%r13, %%rdi\n\t"
	    "call *%%r12\n\t"
	    "mov %%eax, %%edi\n\t"
	    "mov %[exit_nr], %%eax\n\t"
	    "syscall\n\t"
	    "hlt\n"
	    "1:"
	    : "+r"(nr)
	    : "D"(ca), "S"(sizeof(*ca)), "r"(fn_reg), "r"(arg_reg), [exit_nr] "i"(SYS_exit)
	    : "rcx", "r11", "rdx", "memory", "cc");
	return nr;
}
#endif

static bool	 clone3_unusable;	/* the kernel refused it once: write cgroup.procs from then on */

/* clone(2) or clone3(2) as the request needs; the pid, or -1 with errno set. */
static pid_t
clone_child(const struct spawn_request *req, struct spawn_child *child)
{
	pid_t pid;

	child->procs_fd = -1;
#ifdef HAVE_CLONE3_ASM
	if (req->cgroup_fd >= 0 && !clone3_unusable) {
		struct clone_args ca;
		long r;

		memset(&ca, 0, sizeof(ca));
		ca.flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP;
		ca.exit_signal = SIGCHLD;
		ca.stack = (uint64_t)(uintptr_t)spawn_stack;
		ca.stack_size = SPAWN_STACK_SIZE;
		ca.cgroup = (uint64_t)req->cgroup_fd;
		if ((r = clone3_call(&ca, child_main, child)) >= 0)
			return (pid_t)r;
		if (r != -ENOSYS && r != -E2BIG && r != -EINVAL) {
			errno = (int)-r;
			return -1;
		}
		clone3_unusable = true;	/* before Linux 5.7: the slow way */
	}
#endif
	if (req->cgroup_fd >= 0 &&
	    (child->procs_fd = openat(req->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	pid = clone(child_main, spawn_stack + SPAWN_STACK_SIZE,
	    CLONE_VM | CLONE_VFORK | SIGCHLD, child);
	if (child->procs_fd >= 0) {
		int saved = errno;

		close(child->procs_fd);
		errno = saved;
	}
	return pid;
}

pid_t
spawn_process(const struct spawn_request *req, struct spawn_error *err)
{
	struct spawn_child child = { req, err, -1 };
	sigset_t all, old;
	pid_t pid;
	int status, saved;

	err->step = NULL;
	err->path = NULL;
	err->searched = false;
	err->err = 0;
	if (spawn_stack == NULL && spawn_init() == -1) {
		err->step = "spawn setup";
		err->err = errno;
		return -1;
	}
	/* no handler may run in the child while it borrows our memory */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* earlier children never returned from their frames: clear ASan's stale marks */
	ASAN_UNPOISON_MEMORY_REGION(spawn_stack, SPAWN_STACK_SIZE);
	pid = clone_child(req, &child);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		err->step = "clone";
		err->err = saved;
		return -1;
	}
	if (err->step != NULL) {
		/* CLONE_VFORK: the child has already _exit()ed; reap it now */
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		return -1;
	}
	return pid;
}

void
spawn_error_text(const struct spawn_error *err, char *buf, size_t len)
{
	if (err->step != NULL && strcmp(err->step, "execve") == 0 && err->err == EAGAIN)
		snprintf(buf, len, "exec failed: %s: the service's user is at its "
		    "process limit (RLIMIT_NPROC, limit_nproc)", strerror(err->err));
	else if (err->step != NULL && strcmp(err->step, "execve") == 0)
		snprintf(buf, len, "exec failed: %s: %s%s", err->path ? err->path : "?",
		    strerror(err->err), err->searched && err->err == ENOENT ?
		    " (searched PATH)" : "");
	else
		snprintf(buf, len, "spawn failed at %s: %s",
		    err->step ? err->step : "?", strerror(err->err));
}
