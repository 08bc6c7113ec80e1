/*
 * vigil-testsvc: a controllable service for the integration tests. It runs
 * its arguments as actions, in order, then pauses until a signal ends it:
 *
 *   stamp:FILE        append "PID MONOTONIC_NS REALTIME_NS" to FILE
 *   pid:FILE          write PID to FILE
 *   fds:FILE          write the open fd numbers, one per line
 *   env:FILE          write the environment, one per line
 *   info:FILE         write cwd, umask, uid, gid, pgid, sid
 *   ids:FILE          write uid, euid, gid, egid and the supplementary groups
 *   proc:NAME:FILE    copy /proc/self/NAME (limits, status, oom_score_adj, stat) to FILE
 *   bind:PORT:FILE    bind a TCP socket to 127.0.0.1:PORT, write "ok" or the
 *                     error's text (strerror) to FILE, then close it
 *   mount:FILE        mount a small tmpfs on FILE.mnt (made, then unmounted and
 *                     removed) and write "0 ok" or "ENAME text" of the failure
 *   touch:PATH:FILE   create PATH and write "hello" in it; write "ok" or the
 *                     errno's text to FILE
 *   read:PATH:FILE    read PATH (a folder: list it); write "ok:" and what was
 *                     read, or the errno's text, to FILE
 *   ifflags:IF:FILE   write "up" or "down" for network interface IF, or the
 *                     errno's text, to FILE
 *   sigs:FILE         write the signals we start with: "blocked=N,N,..." and
 *                     "ignored=N,N,..." as sigprocmask and sigaction see them,
 *                     then the SigBlk and SigIgn lines of /proc/self/status
 *   ignore:SIG        ignore signal SIG (a number)
 *   child:FILE        fork a child in our process group that writes its pid
 *                     to FILE and pauses (inheriting ignored signals)
 *   orphan:FILE:MS    double-fork a grandchild that leaves our group
 *                     (setsid), writes its pid to FILE, lives MS ms, exits 0
 *   sleep:MS          sleep MS milliseconds
 *   echo:TEXT         print TEXT and a newline on stdout
 *   err:TEXT          print TEXT and a newline on stderr
 *   partial:TEXT      print TEXT on stdout, no newline
 *   bytes:HEX         write the bytes HEX spells (e.g. ff00410a) on stdout, as is
 *   line:N[:MS]       print one line of N bytes ('a' + i % 26) and a newline;
 *                     with MS, the newline is a separate write MS ms later
 *   count:N           print "line 000000" ... "line N-1" on stdout, one write each
 *   burst:BYTES       write BYTES/100 lines of 100 bytes ("000000042 xxx...\n")
 *                     on stdout as fast as possible, in 64 KiB writes
 *   flood:BYTES:FILE  burst:BYTES again and again until FILE exists
 *   every:MS:TEXT     print "TEXT 000000", "TEXT 000001", ... every MS ms, forever
 *   await:FILE        wait until FILE exists (checked every millisecond)
 *   orphan-echo:TEXT:MS
 *                     double-fork a grandchild that leaves our group (setsid),
 *                     waits until we are gone, sleeps MS ms, prints TEXT and a
 *                     newline on stdout, exits 0
 *   onterm:FILE       on SIGTERM, append "PID MONOTONIC_NS" to FILE and exit 0
 *   notify:TEXT       send TEXT to $NOTIFY_SOCKET as one datagram; "\n" in
 *                     TEXT (backslash, n) stands for a newline
 *   notify-hex:HEX    send the bytes HEX spells to $NOTIFY_SOCKET
 *   notify-size:N     send "STATUS=aaa..." of N bytes in all to $NOTIFY_SOCKET
 *   notify-times:N:TEXT
 *                     notify:TEXT N times, as fast as the socket takes them
 *   pings:MS:N        send WATCHDOG=1 every MS ms, N times
 *   mainpid:FILE      fork a child in our group that writes its pid to FILE
 *                     and pauses; send MAINPID=child and READY=1; exit 0
 *                     (a daemon that forks)
 *   fdline:N          write "ready\n" to fd N
 *   listen:PORT       listen on 127.0.0.1:PORT (kept open)
 *   exit:N            exit with code N
 *   raise:SIG         send SIG to ourselves
 *
 * Files are written whole (tmp + rename) so a test never reads half a line.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
do_proc(const char *arg)
{
	const char *colon = strchr(arg, ':');
	char src[128], tmp[4096], buf[4096];
	FILE *in, *out;
	size_t n;

	if (colon == NULL || (size_t)(colon - arg) >= sizeof(src) - 16)
		die("proc: expected NAME:FILE");
	snprintf(src, sizeof(src), "/proc/self/%.*s", (int)(colon - arg), arg);
	if ((in = fopen(src, "r")) == NULL)
		die(src);
	out = open_tmp(colon + 1, tmp, sizeof(tmp));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	close_tmp(out, tmp, colon + 1);
}

/* A harmless mount(2), to see whether a syscall_filter lets it through. */
static void
do_mount(const char *file)
{
	char dir[4096], tmp[4096];
	FILE *out;
	int err = 0;

	snprintf(dir, sizeof(dir), "%s.mnt", file);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		die(dir);
	if (mount("vigil-test", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") == -1)
		err = errno;
	else if (umount2(dir, 0) == -1)
		die("umount2");
	rmdir(dir);
	out = open_tmp(file, tmp, sizeof(tmp));
	if (err == 0)
		fprintf(out, "0 ok\n");
	else
		fprintf(out, "%s %s\n", strerrorname_np(err), strerror(err));
	close_tmp(out, tmp, file);
}

static void
do_bind(const char *arg)
{
	struct sockaddr_in sin;
	const char *colon = strchr(arg, ':');
	char tmp[4096];
	FILE *out;
	int fd, r;

	if (colon == NULL)
		die("bind: expected PORT:FILE");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(arg));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	out = open_tmp(colon + 1, tmp, sizeof(tmp));
	fprintf(out, "%s\n", r == 0 ? "ok" : strerror(errno));
	close(fd);
	close_tmp(out, tmp, colon + 1);
}

/* PATH:FILE split at the last colon; FILE is returned, path filled */
static const char *
path_and_file(const char *arg, char *path, size_t len)
{
	const char *colon = strrchr(arg, ':');

	if (colon == NULL || (size_t)(colon - arg) >= len)
		die("expected PATH:FILE");
	snprintf(path, len, "%.*s", (int)(colon - arg), arg);
	return colon + 1;
}

static void
write_result(const char *file, const char *text)
{
	char tmp[4096];
	FILE *f = open_tmp(file, tmp, sizeof(tmp));

	fprintf(f, "%s\n", text);
	close_tmp(f, tmp, file);
}

static void
do_touch(const char *arg)
{
	char path[4096];
	const char *file = path_and_file(arg, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd == -1 || write(fd, "hello\n", 6) != 6) {
		write_result(file, strerror(errno));
		return;
	}
	close(fd);
	write_result(file, "ok");
}

static void
do_read(const char *arg)
{
	char path[4096], buf[4096] = "ok:";
	const char *file = path_and_file(arg, path, sizeof(path));
	size_t len = strlen(buf);
	struct dirent *de;
	ssize_t n;
	DIR *d;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		write_result(file, strerror(errno));
		return;
	}
	if ((d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL && len < sizeof(buf) - 300)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s ",
				    de->d_name);
		closedir(d);
		write_result(file, buf);
		return;
	}
	if ((n = read(fd, buf + len, sizeof(buf) - len - 1)) == -1) {
		write_result(file, strerror(errno));
		close(fd);
		return;
	}
	buf[len + (size_t)n] = '\0';
	close(fd);
	write_result(file, buf);
}

static void
do_ifflags(const char *arg)
{
	char name[IFNAMSIZ];
	const char *file = path_and_file(arg, name, sizeof(name));
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	if (fd == -1 || ioctl(fd, SIOCGIFFLAGS, &ifr) == -1) {
		write_result(file, strerror(errno));
		return;
	}
	close(fd);
	write_result(file, (ifr.ifr_flags & IFF_UP) ? "up" : "down");
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
	struct timespec ts, real;
	char line[96];
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	clock_gettime(CLOCK_REALTIME, &real);
	snprintf(line, sizeof(line), "%d %lld %lld\n", (int)getpid(),
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec,
	    (long long)real.tv_sec * 1000000000LL + real.tv_nsec);
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
do_ids(const char *file)
{
	char tmp[4096];
	FILE *f = open_tmp(file, tmp, sizeof(tmp));
	gid_t groups[256];
	int n = getgroups(256, groups);

	fprintf(f, "uid=%d\neuid=%d\ngid=%d\negid=%d\ngroups=", (int)getuid(), (int)geteuid(),
	    (int)getgid(), (int)getegid());
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? "," : "", (int)groups[i]);
	fprintf(f, "\n");
	close_tmp(f, tmp, file);
}

static void
do_sigs(const char *file)
{
	char tmp[4096], line[256];
	FILE *f = open_tmp(file, tmp, sizeof(tmp)), *st;
	const char *sep = "";
	sigset_t mask;

	if (sigprocmask(SIG_SETMASK, NULL, &mask) == -1)
		die("sigprocmask");
	fprintf(f, "blocked=");
	for (int sig = 1; sig < NSIG; sig++) {
		if (sigismember(&mask, sig) == 1) {
			fprintf(f, "%s%d", sep, sig);
			sep = ",";
		}
	}
	fprintf(f, "\nignored=");
	sep = "";
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
			fprintf(f, "%s%d", sep, sig);
			sep = ",";
		}
	}
	fprintf(f, "\n");
	if ((st = fopen("/proc/self/status", "r")) == NULL)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), st) != NULL)
		if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0)
			fputs(line, f);
	fclose(st);
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

/*
 * Fork twice: returns true in a grandchild that left our process group and
 * whose parent has already exited (so it is re-parented to the subreaper);
 * returns false in the caller once the middle process is gone.
 */
static bool
orphan_fork(void)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);	/* the middle process: its child is orphaned */
		setsid();
		return true;
	}
	while (waitpid(pid, NULL, 0) == -1)
		;
	return false;
}

static void
do_orphan(const char *arg)
{
	char file[4096];
	const char *colon = strrchr(arg, ':');

	if (colon == NULL)
		die("orphan:FILE:MS");
	snprintf(file, sizeof(file), "%.*s", (int)(colon - arg), arg);
	if (orphan_fork()) {
		write_pid(file);
		usleep((useconds_t)atoi(colon + 1) * 1000);
		_exit(0);
	}
}

/* One write(2) per call, so lines from several writers never mix. */
static void
put(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		text += n;
		len -= (size_t)n;
	}
}

static void
put_line(int fd, const char *text)
{
	size_t len = strlen(text);
	char *buf = malloc(len + 1);

	if (buf == NULL)
		die("malloc");
	memcpy(buf, text, len);
	buf[len] = '\n';
	put(fd, buf, len + 1);
	free(buf);
}

static size_t
unhex(const char *hex, char *buf)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			die("HEX");
		buf[i] = (char)v;
	}
	return n;
}

static void
do_bytes(const char *hex)
{
	char *buf = malloc(strlen(hex) / 2 + 1);

	if (buf == NULL)
		die("malloc");
	put(1, buf, unhex(hex, buf));
	free(buf);
}

/* One datagram to $NOTIFY_SOCKET; the kernel adds our credentials. */
static void
notify_send(const char *msg, size_t len)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (path == NULL || strlen(path) >= sizeof(sa.sun_path))
		die("NOTIFY_SOCKET");
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	if (sendto(fd, msg, len, 0, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		die("sendto NOTIFY_SOCKET");
	close(fd);
}

static void
do_notify(const char *text)
{
	char *buf = malloc(strlen(text) + 1);
	size_t n = 0;

	if (buf == NULL)
		die("malloc");
	for (const char *p = text; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			buf[n++] = '\n';
			p++;
		} else {
			buf[n++] = *p;
		}
	}
	notify_send(buf, n);
	free(buf);
}

static void
do_notify_times(const char *arg)
{
	long n = atol(arg);
	const char *colon = strchr(arg, ':');

	if (colon == NULL)
		die("notify-times: expected N:TEXT");
	for (long i = 0; i < n; i++)
		do_notify(colon + 1);
}

static void
do_notify_hex(const char *hex)
{
	char *buf = malloc(strlen(hex) / 2 + 1);

	if (buf == NULL)
		die("malloc");
	notify_send(buf, unhex(hex, buf));
	free(buf);
}

static void
do_notify_size(const char *arg)
{
	size_t n = (size_t)atol(arg);
	char *buf = malloc(n + 8);

	if (buf == NULL)
		die("malloc");
	memcpy(buf, "STATUS=", 7);
	memset(buf + 7, 'a', n > 7 ? n - 7 : 0);
	notify_send(buf, n > 7 ? n : 7);
	free(buf);
}

static void
do_pings(const char *arg)
{
	int ms = atoi(arg);
	const char *colon = strchr(arg, ':');
	long n = colon ? atol(colon + 1) : 1;

	for (long i = 0; i < n; i++) {
		notify_send("WATCHDOG=1", 10);
		usleep((useconds_t)ms * 1000);
	}
}

static void
do_mainpid(const char *file)
{
	char msg[64];
	pid_t pid = fork();

	if (pid == -1)
		die("fork");
	if (pid == 0) {
		write_pid(file);
		for (;;)
			pause();
	}
	snprintf(msg, sizeof(msg), "MAINPID=%d\nREADY=1", (int)pid);
	notify_send(msg, strlen(msg));
	exit(0);
}

static void
do_fdline(const char *arg)
{
	if (write(atoi(arg), "ready\n", 6) != 6)
		die("fdline");
}

static void
do_listen(const char *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg)) };
	int fd, one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(fd, 16) == -1)
		die("listen");
}

static void
do_line(const char *arg)
{
	size_t n = (size_t)atol(arg);
	const char *colon = strchr(arg, ':');
	char *buf = malloc(n + 1);

	if (buf == NULL)
		die("malloc");
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + i % 26);
	buf[n] = '\n';
	if (colon != NULL) {
		put(1, buf, n);
		usleep((useconds_t)atoi(colon + 1) * 1000);
		put(1, "\n", 1);
	} else {
		put(1, buf, n + 1);
	}
	free(buf);
}

static void
do_count(const char *arg)
{
	long n = atol(arg);
	char line[32];

	for (long i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "line %06ld\n", i);
		put(1, line, (size_t)len);
	}
}

static void
do_burst(const char *arg)
{
	static char buf[65500];		/* 655 lines of 100 bytes */
	long lines = atol(arg) / 100, next = 0;

	while (next < lines) {
		size_t len = 0;
		for (; next < lines && len + 100 <= sizeof(buf); next++, len += 100) {
			char num[32];
			snprintf(num, sizeof(num), "%09ld ", next % 1000000000);
			memcpy(buf + len, num, 10);
			memset(buf + len + 10, 'x', 89);
			buf[len + 99] = '\n';
		}
		put(1, buf, len);
	}
}

static void
do_flood(const char *arg)
{
	const char *colon = strchr(arg, ':');

	if (colon == NULL)
		die("flood:BYTES:FILE");
	while (access(colon + 1, F_OK) != 0)
		do_burst(arg);
}

static void
do_every(const char *arg)
{
	char text[4096];
	const char *colon = strchr(arg, ':');
	int ms = atoi(arg);

	if (colon == NULL)
		die("every:MS:TEXT");
	for (long i = 0; ; i++) {
		snprintf(text, sizeof(text), "%s %06ld", colon + 1, i);
		put_line(1, text);
		usleep((useconds_t)ms * 1000);
	}
}

static void
do_await(const char *file)
{
	while (access(file, F_OK) != 0)
		usleep(1000);
}

static void
do_orphan_echo(const char *arg)
{
	char text[4096];
	const char *colon = strrchr(arg, ':');
	pid_t main_pid = getpid();

	if (colon == NULL)
		die("orphan-echo:TEXT:MS");
	snprintf(text, sizeof(text), "%.*s", (int)(colon - arg), arg);
	if (orphan_fork()) {
		/* gone means reaped too; give up after 60 s so nothing lingers */
		for (int i = 0; i < 60000 && kill(main_pid, 0) == 0; i++)
			usleep(1000);
		usleep((useconds_t)atoi(colon + 1) * 1000);
		put_line(1, text);
		_exit(0);
	}
}

static const char *onterm_file;

/* "N" in decimal at the end of buf; returns where it starts. Signal-safe. */
static char *
put_decimal(char *end, long long n)
{
	do {
		*--end = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	return end;
}

static void
onterm_cb(int sig)
{
	struct timespec ts;
	char buf[64], *p = buf + sizeof(buf);
	int fd;

	(void)sig;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*--p = '\n';
	p = put_decimal(p, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	*--p = ' ';
	p = put_decimal(p, getpid());
	if ((fd = open(onterm_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) != -1) {
		(void)!write(fd, p, (size_t)(buf + sizeof(buf) - p));
		close(fd);
	}
	_exit(0);
}

static void
do_onterm(const char *file)
{
	onterm_file = file;
	signal(SIGTERM, onterm_cb);
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
	else if (strncmp(a, "ids:", 4) == 0)
		do_ids(v);
	else if (strncmp(a, "sigs:", 5) == 0)
		do_sigs(v);
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
	else if (strncmp(a, "err:", 4) == 0)
		put_line(2, v);
	else if (strncmp(a, "partial:", 8) == 0)
		put(1, v, strlen(v));
	else if (strncmp(a, "bytes:", 6) == 0)
		do_bytes(v);
	else if (strncmp(a, "line:", 5) == 0)
		do_line(v);
	else if (strncmp(a, "count:", 6) == 0)
		do_count(v);
	else if (strncmp(a, "burst:", 6) == 0)
		do_burst(v);
	else if (strncmp(a, "flood:", 6) == 0)
		do_flood(v);
	else if (strncmp(a, "every:", 6) == 0)
		do_every(v);
	else if (strncmp(a, "await:", 6) == 0)
		do_await(v);
	else if (strncmp(a, "orphan-echo:", 12) == 0)
		do_orphan_echo(v);
	else if (strncmp(a, "onterm:", 7) == 0)
		do_onterm(v);
	else if (strncmp(a, "notify:", 7) == 0)
		do_notify(v);
	else if (strncmp(a, "notify-hex:", 11) == 0)
		do_notify_hex(v);
	else if (strncmp(a, "notify-size:", 12) == 0)
		do_notify_size(v);
	else if (strncmp(a, "proc:", 5) == 0)
		do_proc(v);
	else if (strncmp(a, "bind:", 5) == 0)
		do_bind(v);
	else if (strncmp(a, "mount:", 6) == 0)
		do_mount(v);
	else if (strncmp(a, "touch:", 6) == 0)
		do_touch(v);
	else if (strncmp(a, "read:", 5) == 0)
		do_read(v);
	else if (strncmp(a, "ifflags:", 8) == 0)
		do_ifflags(v);
	else if (strncmp(a, "notify-times:", 13) == 0)
		do_notify_times(v);
	else if (strncmp(a, "pings:", 6) == 0)
		do_pings(v);
	else if (strncmp(a, "mainpid:", 8) == 0)
		do_mainpid(v);
	else if (strncmp(a, "fdline:", 7) == 0)
		do_fdline(v);
	else if (strncmp(a, "listen:", 7) == 0)
		do_listen(v);
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
