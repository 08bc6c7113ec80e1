/*
 * floor_restart.c: the floor for scenario 2, "crash -> restart". The least
 * a supervisor of one service can do: spawn the probe (pause mode) with
 * clone(CLONE_VM|CLONE_VFORK) + execve, learn of its death through
 * signalfd(SIGCHLD) + epoll, reap with wait4(WNOHANG), spawn again at once.
 * After each spawn the child's pid goes to --pidfile (tmp + rename). SIGTERM
 * or SIGINT: SIGKILL the child, reap it, exit 0.
 *
 *   floor_restart --probe PATH --stamp FILE --pidfile FILE
 */
#define _GNU_SOURCE 1

#include <err.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)

extern char **environ;

static char	 *probe_path;
static const char *pidfile;
static char	 *child_argv[2];
static char	**child_envp;
static char	 *child_stack;
static sigset_t	  empty_mask;
static volatile int exec_errno;		/* written by a child whose execve failed */
static pid_t	  child_pid = -1;

/* The service must not inherit our blocked mask; that one call is all it gets. */
static int
child_main(void *arg)
{
	(void)arg;
	sigprocmask(SIG_SETMASK, &empty_mask, NULL);
	execve(probe_path, child_argv, child_envp);
	exec_errno = errno;
	_exit(127);
}

static void
write_pidfile(pid_t pid)
{
	char tmp[4096], buf[32];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", pidfile);
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
		err(1, "%s", tmp);
	if (write(fd, buf, (size_t)n) != n || close(fd) == -1)
		err(1, "%s", tmp);
	if (rename(tmp, pidfile) == -1)
		err(1, "rename %s", pidfile);
}

static void
spawn_child(void)
{
	exec_errno = 0;
	child_pid = clone(child_main, child_stack + STACK_SIZE,
	    CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	if (child_pid == -1)
		err(1, "clone");
	if (exec_errno != 0) {
		/* CLONE_VFORK: the child has already _exit()ed */
		waitpid(child_pid, NULL, 0);
		errno = exec_errno;
		err(1, "execve %s", probe_path);
	}
	write_pidfile(child_pid);
}

/* Many deaths may come as one SIGCHLD: reap until none is left. */
static void
reap(void)
{
	struct rusage ru;
	bool died = false;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0)
		if (pid == child_pid)
			died = true;
	if (died)
		spawn_child();
}

static void
stop(void)
{
	if (child_pid > 0) {
		kill(child_pid, SIGKILL);
		while (waitpid(child_pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	exit(0);
}

/* environ with PROBE_STAMP=stamp instead of any PROBE_STAMP it had */
static char **
make_env(const char *stamp)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		err(1, "calloc");
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "PROBE_STAMP=", 12) != 0)
			env[k++] = environ[i];
	if (asprintf(&env[k], "PROBE_STAMP=%s", stamp) == -1)
		err(1, "asprintf");
	return env;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: floor_restart --probe PATH --stamp FILE --pidfile FILE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "probe",	required_argument, NULL, 'p' },
		{ "stamp",	required_argument, NULL, 's' },
		{ "pidfile",	required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	const char *stamp = NULL;
	struct epoll_event ev = { .events = EPOLLIN };
	struct signalfd_siginfo si;
	sigset_t mask;
	int c, sfd, ep;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': probe_path = optarg; break;
		case 's': stamp = optarg; break;
		case 'f': pidfile = optarg; break;
		default: usage();
		}
	}
	if (probe_path == NULL || stamp == NULL || pidfile == NULL || optind != argc)
		usage();

	child_argv[0] = probe_path;
	child_argv[1] = NULL;
	child_envp = make_env(stamp);
	sigemptyset(&empty_mask);
	child_stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (child_stack == MAP_FAILED)
		err(1, "mmap");

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		err(1, "sigprocmask");
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(1, "signalfd");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	ev.data.fd = sfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) == -1)
		err(1, "epoll_ctl");

	spawn_child();
	for (;;) {
		if (epoll_wait(ep, &ev, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		bool chld = false;
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
				stop();
			if (si.ssi_signo == SIGCHLD)
				chld = true;
		}
		if (chld)
			reap();
	}
}
