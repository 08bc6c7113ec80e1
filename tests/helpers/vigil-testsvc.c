/*
 * vigil-testsvc: a controllable service for the integration tests. It runs
 * its arguments as actions, in order, then pauses until a signal ends it:
 *
 *   stamp:FILE        append "PID MONOTONIC_NS" to FILE
 *   pid:FILE          write PID to FILE
 *   fds:FILE          write the open fd numbers, one per line
 *   env:FILE          write the environment, one per line
 *   info:FILE         write cwd, umask, uid, gid, pgid, sid
 *   ignore:SIG        ignore signal SIG (a number)
 *   child:FILE        fork a child in our process group that writes its pid
 *                     to FILE and pauses (inheriting ignored signals)
 *   orphan:FILE:MS    double-fork a grandchild that leaves our group
 *                     (setsid), writes its pid to FILE, lives MS ms, exits 0
 *   sleep:MS          sleep MS milliseconds
 *   echo:TEXT         print TEXT and a newline on stdout
 *   exit:N            exit with code N
 *   raise:SIG         send SIG to ourselves
 *
 * Files are written whole (tmp + rename) so a test never reads half a line.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void
die(const char *what)
{
	perror(what);
	exit(111);
}

static FILE *
open_tmp(const char *file, char *tmp, size_t len)
{
	FILE *f;

	snprintf(tmp, len, "%s.tmp.%d", file, (int)getpid());
	if ((f = fopen(tmp, "w")) == NULL)
		die(tmp);
	return f;
}

static void
close_tmp(FILE *f, const char *tmp, const char *file)
{
	if (fclose(f) != 0 || rename(tmp, file) != 0)
		die(file);
}

static void
write_pid(const char *file)
{
	char tmp[4096];
	FILE *f = open_tmp(file, tmp, sizeof(tmp));

	fprintf(f, "%d\n", (int)getpid());
	close_tmp(f, tmp, file);
}

static void
do_stamp(const char *file)
{
	struct timespec ts;
	char line[64];
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(line, sizeof(line), "%d %lld\n", (int)getpid(),
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	/* O_APPEND with one write: lines from successive runs never mix */
	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		die(file);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		die(file);
	close(fd);
}

static void
do_fds(const char *file)
{
	char tmp[4096];
	FILE *f = open_tmp(file, tmp, sizeof(tmp));
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (d == NULL)
		die("/proc/self/fd");
	while ((de = readdir(d)) != NULL) {
		/* skip the directory stream's own fd and our output file */
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d) ||
		    atoi(de->d_name) == fileno(f))
			continue;
		fprintf(f, "%s\n", de->d_name);
	}
	closedir(d);
	close_tmp(f, tmp, file);
}

static void
do_env(const char *file)
{
	char tmp[4096];
	FILE *f = open_tmp(file, tmp, sizeof(tmp));

	for (char **e = environ; *e != NULL; e++)
		fprintf(f, "%s\n", *e);
	close_tmp(f, tmp, file);
}

static void
do_info(const char *file)
{
	char tmp[4096], cwd[4096];
	FILE *f = open_tmp(file, tmp, sizeof(tmp));
	mode_t m = umask(0);

	umask(m);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		die("getcwd");
	fprintf(f, "cwd=%s\numask=%03o\nuid=%d\ngid=%d\npgid=%d\nsid=%d\n", cwd,
	    (unsigned)m, (int)getuid(), (int)getgid(), (int)getpgrp(), (int)getsid(0));
	close_tmp(f, tmp, file);
}

static void
do_child(const char *file)
{
	pid_t pid = fork();

	if (pid == -1)
		die("fork");
	if (pid == 0) {
		write_pid(file);
		for (;;)
			pause();
	}
}

static void
do_orphan(const char *arg)
{
	char file[4096];
	const char *colon = strrchr(arg, ':');
	pid_t pid;

	if (colon == NULL)
		die("orphan:FILE:MS");
	snprintf(file, sizeof(file), "%.*s", (int)(colon - arg), arg);
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);	/* the middle process: its child is orphaned */
		setsid();
		write_pid(file);
		usleep((useconds_t)atoi(colon + 1) * 1000);
		_exit(0);
	}
	while (waitpid(pid, NULL, 0) == -1)
		;
}

static void
run_action(const char *a)
{
	const char *v = strchr(a, ':');

	v = v ? v + 1 : "";
	if (strncmp(a, "stamp:", 6) == 0)
		do_stamp(v);
	else if (strncmp(a, "pid:", 4) == 0)
		write_pid(v);
	else if (strncmp(a, "fds:", 4) == 0)
		do_fds(v);
	else if (strncmp(a, "env:", 4) == 0)
		do_env(v);
	else if (strncmp(a, "info:", 5) == 0)
		do_info(v);
	else if (strncmp(a, "ignore:", 7) == 0)
		signal(atoi(v), SIG_IGN);
	else if (strncmp(a, "child:", 6) == 0)
		do_child(v);
	else if (strncmp(a, "orphan:", 7) == 0)
		do_orphan(v);
	else if (strncmp(a, "sleep:", 6) == 0)
		usleep((useconds_t)atoi(v) * 1000);
	else if (strncmp(a, "echo:", 5) == 0)
		printf("%s\n", v), fflush(stdout);
	else if (strncmp(a, "exit:", 5) == 0)
		exit(atoi(v));
	else if (strncmp(a, "raise:", 6) == 0)
		raise(atoi(v));
	else {
		fprintf(stderr, "vigil-testsvc: unknown action '%s'\n", a);
		exit(112);
	}
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		run_action(argv[i]);
	for (;;)
		pause();
}
