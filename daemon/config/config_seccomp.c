/*
 * config_seccomp.c: syscall_filter and syscall_filter_action. Names and
 * @groups are checked as each key is read; the filter is compiled to BPF
 * once per load, by libseccomp, and kept in the service's conf. Loading it
 * is the spawn child's last step (core/spawn.c), with a raw prctl.
 */
#include "config.h"
#include "config_values.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/filter.h>

#define FIELD(obj, off, type)	((type *)(void *)((char *)(obj) + (off)))

/* A name of one list may be another @group; names this machine lacks are skipped. */
struct syscall_group {
	const char		*name;
	const char *const	*calls;
};

static const char *const group_mount[] = { "mount", "umount", "umount2",
	"pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
	"fspick", "mount_setattr", NULL };
static const char *const group_reboot[] = { "reboot", "kexec_load",
	"kexec_file_load", NULL };
static const char *const group_module[] = { "init_module", "finit_module",
	"delete_module", NULL };
static const char *const group_raw_io[] = { "ioperm", "iopl", "pciconfig_iobase",
	"pciconfig_read", "pciconfig_write", "s390_pci_mmio_read",
	"s390_pci_mmio_write", NULL };
static const char *const group_swap[] = { "swapon", "swapoff", NULL };
static const char *const group_debug[] = { "ptrace", "process_vm_readv",
	"process_vm_writev", "perf_event_open", "kcmp", "lookup_dcookie", NULL };
/*
 * What a shell and an ordinary program (files, sockets, threads, signals,
 * timers, children) need, and nothing that changes the machine: no mounts,
 * modules, clock setting, reboot, swap, raw I/O, debugging or set*id.
 */
static const char *const group_basic[] = {
	/* process life, memory, threads */
	"execve", "execveat", "exit", "exit_group", "brk", "mmap", "mmap2", "munmap",
	"mremap", "mprotect", "madvise", "mincore", "mlock", "munlock", "msync",
	"arch_prctl", "set_tid_address", "set_robust_list", "get_robust_list",
	"rseq", "futex", "futex_waitv", "membarrier", "clone", "clone3", "fork",
	"vfork", "wait4", "waitid", "kill", "tkill", "tgkill", "pidfd_open",
	"pidfd_send_signal", "pidfd_getfd", "prctl", "capget", "getrusage",
	"getpriority", "sched_yield", "sched_getaffinity", "sched_setaffinity",
	"sched_getparam", "sched_getscheduler", "sched_get_priority_max",
	"sched_get_priority_min", "getcpu", "uname", "sysinfo", "getrandom",
	"restart_syscall", "personality", "get_mempolicy",
	/* ids, limits and sessions as they are */
	"getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"getresuid", "getresgid", "getgroups", "getpgid", "getpgrp", "getsid",
	"setpgid", "setsid", "getrlimit", "ugetrlimit", "prlimit64", "setrlimit",
	"umask",
	/* signals */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
	"rt_sigsuspend", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
	"sigaltstack", "signalfd", "signalfd4", "pause",
	/* time and timers */
	"clock_gettime", "clock_getres", "clock_nanosleep", "gettimeofday", "time",
	"nanosleep", "alarm", "getitimer", "setitimer", "times", "timer_create",
	"timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime",
	"timerfd_create", "timerfd_gettime", "timerfd_settime",
	/* file descriptors and I/O */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "lseek", "_llseek", "close", "close_range",
	"dup", "dup2", "dup3", "fcntl", "fcntl64", "ioctl", "flock", "pipe", "pipe2",
	"sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range",
	"fadvise64", "readahead", "fsync", "fdatasync", "sync_file_range", "syncfs",
	"eventfd", "eventfd2", "memfd_create",
	"poll", "ppoll", "select", "_newselect", "pselect6", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	/* the file system, as files */
	"open", "openat", "openat2", "creat", "access", "faccessat", "faccessat2",
	"stat", "lstat", "fstat", "newfstatat", "stat64", "lstat64", "fstat64",
	"fstatat64", "statx", "statfs", "fstatfs", "statfs64", "fstatfs64",
	"getcwd", "chdir", "fchdir", "getdents", "getdents64", "readlink",
	"readlinkat", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename",
	"renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod",
	"fchmod", "fchmodat", "truncate", "ftruncate", "truncate64", "ftruncate64",
	"fallocate", "utime", "utimes", "utimensat", "futimesat",
	"getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
	/* sockets */
	"socket", "socketpair", "bind", "connect", "listen", "accept", "accept4",
	"getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "send",
	"recv", "socketcall",
	NULL
};

static const struct syscall_group groups[] = {
	{ "@basic",	group_basic },
	{ "@debug",	group_debug },
	{ "@module",	group_module },
	{ "@mount",	group_mount },
	{ "@raw-io",	group_raw_io },
	{ "@reboot",	group_reboot },
	{ "@swap",	group_swap },
};
#define NGROUPS	(sizeof(groups) / sizeof(groups[0]))

#define EXPECT_FILTER	"system call names or @groups (@basic @debug @module " \
	"@mount @raw-io @reboot @swap), all after ~ for a deny-list"

static const struct syscall_group *
group_named(const char *name, size_t len)
{
	for (size_t i = 0; i < NGROUPS; i++)
		if (strlen(groups[i].name) == len && strncmp(groups[i].name, name, len) == 0)
			return &groups[i];
	return NULL;
}

/* The list's words, after the ~ of a deny-list; *deny says which it was. */
static const char *
filter_words(const char *v, bool *deny)
{
	v += strspn(v, " \t");
	*deny = *v == '~';
	if (*deny)
		v++;
	return v + strspn(v, " \t");
}

/* Each word of text in turn: fn(word, len, arg) until one returns -1. */
static int
filter_each(const char *text, int (*fn)(const char *, size_t, void *), void *arg)
{
	size_t len;

	for (const char *p = text; *p != '\0'; p += len) {
		p += strspn(p, " \t");
		if ((len = strcspn(p, " \t")) == 0)
			break;
		if (fn(p, len, arg) == -1)
			return -1;
	}
	return 0;
}

/* The number of a native system call, or -1 (unknown, or another machine's). */
static int
syscall_number(const char *name, size_t len)
{
	char buf[64];
	int nr;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	nr = seccomp_syscall_resolve_name(buf);
	return nr == __NR_SCMP_ERROR || nr < 0 ? -1 : nr;
}

/*
 * The group or native call a typo most likely meant, within two edits,
 * copied to hint; false if none. Only on an error: it asks libseccomp for
 * every number's name.
 */
static bool
word_suggest(const char *word, char *hint, size_t len)
{
	size_t best = 3, d;
	char *name;

	hint[0] = '\0';
	for (size_t i = 0; *word == '@' && i < NGROUPS; i++)
		if ((d = values_edit_distance(word, groups[i].name)) < best) {
			snprintf(hint, len, "%s", groups[i].name);
			best = d;
		}
	for (int nr = 0; *word != '@' && nr < 1024; nr++) {
		if ((name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr)) == NULL)
			continue;
		if ((d = values_edit_distance(word, name)) < best) {
			snprintf(hint, len, "%s", name);
			best = d;
		}
		free(name);
	}
	return hint[0] != '\0';
}

static int
check_word(const char *w, size_t len, void *arg)
{
	struct value_error *e = arg;
	char word[VALUE_SHOWN_MAX + 1], shown[VALUE_SHOWN_MAX + 8], hint[64];
	int n;

	if (*w == '@' ? group_named(w, len) != NULL : syscall_number(w, len) >= 0)
		return 0;
	snprintf(word, sizeof(word), "%.*s", (int)(len < VALUE_SHOWN_MAX ? len :
	    VALUE_SHOWN_MAX), w);
	values_quote(shown, sizeof(shown), word);
	if (*w == '~') {
		snprintf(e->msg, sizeof(e->msg), "expected a deny-list's ~ only at the start "
		    "of the list, found %s", shown);
		return -1;
	}
	n = snprintf(e->msg, sizeof(e->msg), "expected %s, found %s", EXPECT_FILTER, shown);
	if (word_suggest(word, hint, sizeof(hint)) && n > 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, " (did you mean '%s'?)", hint);
	return -1;
}

int
values_syscall_filter(void *obj, size_t off, const char *v, struct value_error *e)
{
	char **text = FIELD(obj, off, char *);
	char shown[VALUE_SHOWN_MAX + 8];
	const char *words;
	bool deny;

	words = filter_words(v, &deny);
	if (*words == '\0') {
		values_quote(shown, sizeof(shown), v);
		snprintf(e->msg, sizeof(e->msg), "expected %s, found %s", EXPECT_FILTER,
		    shown);
		return -1;
	}
	if (filter_each(words, check_word, e) == -1)
		return -1;
	free(*text);
	if ((*text = strdup(v)) == NULL) {
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		return -1;
	}
	return 0;
}

int
values_syscall_filter_action(void *obj, size_t off, const char *v,
    struct value_error *e)
{
	char shown[VALUE_SHOWN_MAX + 8];

	if (strcmp(v, "eperm") == 0)
		*FIELD(obj, off, enum syscall_action) = SYSCALL_ACTION_EPERM;
	else if (strcmp(v, "kill") == 0)
		*FIELD(obj, off, enum syscall_action) = SYSCALL_ACTION_KILL;
	else {
		values_quote(shown, sizeof(shown), v);
		snprintf(e->msg, sizeof(e->msg), "expected eperm or kill, found %s", shown);
		return -1;
	}
	return 0;
}

struct rule_ctx {
	scmp_filter_ctx	 ctx;
	uint32_t	 action;	/* what each listed call gets */
	int		 depth;		/* of @groups within @groups */
};

static int add_word(const char *w, size_t len, void *arg);

static int
add_rule(struct rule_ctx *r, int nr)
{
	int rc = seccomp_rule_add(r->ctx, r->action, nr, 0);

	/* a call listed twice, or twice through groups, is one rule */
	return rc == 0 || rc == -EEXIST ? 0 : -1;
}

static int
add_word(const char *w, size_t len, void *arg)
{
	struct rule_ctx *r = arg;
	const struct syscall_group *g;
	int nr;

	if (*w != '@')
		return (nr = syscall_number(w, len)) < 0 ? 0 : add_rule(r, nr);
	if ((g = group_named(w, len)) == NULL || r->depth > 4)
		return 0;
	r->depth++;
	for (const char *const *c = g->calls; *c != NULL; c++)
		if (add_word(*c, strlen(*c), r) == -1)
			return -1;
	r->depth--;
	return 0;
}

/* The program libseccomp wrote to fd, read back into sc. */
static int
filter_read(struct service_conf *sc, int fd)
{
	struct stat st;
	size_t n;

	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    (n = (size_t)st.st_size / sizeof(struct sock_filter)) > BPF_MAXINSNS)
		return -1;
	if ((sc->syscall_bpf = calloc(n, sizeof(struct sock_filter))) == NULL)
		return -1;
	if (pread(fd, sc->syscall_bpf, (size_t)st.st_size, 0) != st.st_size) {
		free(sc->syscall_bpf);
		sc->syscall_bpf = NULL;
		return -1;
	}
	sc->syscall_bpf_len = (unsigned short)n;
	return 0;
}

/*
 * An allow-list's default is the action, a deny-list's is to allow. The
 * child loads the filter before its execve, so an allow-list always lets
 * execve and exit through. Other architectures' calls (a 32-bit program
 * on a 64-bit kernel) get the action too: the filter knows only native
 * numbers.
 */
int
values_seccomp_build(struct service_conf *sc)
{
	struct rule_ctx r = { NULL, 0, 0 };
	const char *words;
	uint32_t bad;
	bool deny;
	int fd = -1, rc = -1;

	if (sc->syscall_filter == NULL)
		return 0;
	bad = sc->syscall_filter_action == SYSCALL_ACTION_KILL ? SCMP_ACT_KILL_PROCESS :
	    SCMP_ACT_ERRNO(EPERM);
	words = filter_words(sc->syscall_filter, &deny);
	if ((r.ctx = seccomp_init(deny ? SCMP_ACT_ALLOW : bad)) == NULL)
		return -1;
	r.action = deny ? bad : SCMP_ACT_ALLOW;
	if (seccomp_attr_set(r.ctx, SCMP_FLTATR_ACT_BADARCH, bad) != 0 ||
	    filter_each(words, add_word, &r) == -1)
		goto done;
	if (!deny && filter_each("execve exit exit_group", add_word, &r) == -1)
		goto done;
	if ((fd = memfd_create("vigil-seccomp", MFD_CLOEXEC)) == -1 ||
	    seccomp_export_bpf(r.ctx, fd) != 0)
		goto done;
	rc = filter_read(sc, fd);
done:
	if (fd != -1)
		close(fd);
	seccomp_release(r.ctx);
	return rc;
}
