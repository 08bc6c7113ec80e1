/*
 * harness.c: the integration tests' way to run vigild and vigilctl for
 * real. Paths of the programs come from the environment that `make check`
 * sets (VIGILD, VIGILCTL, VIGIL_TESTSVC).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct vh vh;

static const char *
env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

const char *
vh_testsvc(void)
{
	return env_or("VIGIL_TESTSVC", "tests/helpers/vigil-testsvc");
}

long long
vh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
vh_log_time(const char *line)
{
	static const char shape[] = "Aaa dd dd:dd:dd.ddd ";
	struct tm tm = { 0 }, now;
	time_t t = time(NULL);
	const char *end;
	double best = -1;

	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (line[i] == '\0' || (shape[i] == 'd' && (line[i] < '0' || line[i] > '9')) ||
		    (shape[i] == ' ' && line[i] != ' ') || (shape[i] == ':' && line[i] != ':') ||
		    (shape[i] == '.' && line[i] != '.'))
			return -1;
	if ((end = strptime(line, "%b %d %H:%M:%S", &tm)) == NULL || end != line + 15)
		return -1;
	localtime_r(&t, &now);
	/* the line's year is not shown: the one of last, this or next year nearest to now */
	for (int y = now.tm_year - 1; y <= now.tm_year + 1; y++) {
		struct tm c = tm;
		double s;

		c.tm_year = y;
		c.tm_isdst = -1;
		s = (double)mktime(&c) + atoi(line + 16) / 1000.0;
		if (best < 0 || (s > (double)t ? s - (double)t : (double)t - s) <
		    (best > (double)t ? best - (double)t : (double)t - best))
			best = s;
	}
	return best;
}

const char *
vh_untimed(const char *out)
{
	static char buf[262144];
	size_t n = 0;

	buf[0] = '\0';
	while (*out != '\0' && n < sizeof(buf) - 16) {
		size_t len = strcspn(out, "\n");

		if (vh_log_time(out) >= 0) {
			out += 20;
			len -= 20;
		} else {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "NO TIME: ");
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%.*s%s", (int)len, out,
		    out[len] == '\n' ? "\n" : "");
		out += len + (out[len] == '\n');
	}
	return buf;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The private folder, made on first use: vh_path() may run before vh_setup(). */
static void
ensure_dir(void)
{
	if (vh.dir[0] != '\0')
		return;
	memset(&vh, 0, sizeof(vh));
	snprintf(vh.dir, sizeof(vh.dir), "/tmp/vigil-test-XXXXXX");
	cr_assert_not_null(mkdtemp(vh.dir), "mkdtemp: %s", strerror(errno));
	snprintf(vh.sock, sizeof(vh.sock), "%s/vigil.sock", vh.dir);
	snprintf(vh.conf, sizeof(vh.conf), "%s/vigil.conf", vh.dir);
	snprintf(vh.log, sizeof(vh.log), "%s/vigild.log", vh.dir);
}

const char *
vh_path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];

	ensure_dir();
	snprintf(b, sizeof(bufs[0]), "%s/%s", vh.dir, name);
	return b;
}

/*
 * Write text to f with every line longer than CONF_FOLD_AT cut at single
 * blanks into indented continuation lines, which vigild joins again with
 * one blank: the build folder's path is in most commands, and a checkout
 * in a deep folder (CI's, distcheck's _build/sub) must not push a line
 * past the parser's 198 characters. Never before ';' or '#', which would
 * start a comment.
 */
#define CONF_FOLD_AT	120
static void
write_folded(FILE *f, const char *text)
{
	const char *line = text;

	while (*line != '\0') {
		size_t len = strcspn(line, "\n"), col = 0;

		for (size_t i = 0; i < len; i++, col++) {
			if (col >= CONF_FOLD_AT && line[i] == ' ' && i > 0 && line[i - 1] != ' ' &&
			    i + 1 < len && line[i + 1] != ' ' && line[i + 1] != ';' &&
			    line[i + 1] != '#') {
				fputs("\n\t", f);
				col = 0;
				continue;
			}
			fputc(line[i], f);
		}
		if (line[len] == '\n')
			fputc('\n', f);
		line += len + (line[len] == '\n');
	}
}

static void
write_conf(const char *mode, const char *fmt, va_list ap)
{
	char *text;
	FILE *f;

	cr_assert_neq(vasprintf(&text, fmt, ap), -1);
	f = fopen(vh.conf, mode);
	cr_assert_not_null(f, "%s: %s", vh.conf, strerror(errno));
	if (*mode == 'w')
		fprintf(f, "[vigil]\nsocket = %s\nlog_level = debug\nlog_dir = %s/logs\n\n",
		    vh.sock, vh.dir);
	write_folded(f, text);
	free(text);
	cr_assert_eq(fclose(f), 0, "%s: %s", vh.conf, strerror(errno));
}

void
vh_setup(const char *services_fmt, ...)
{
	va_list ap;

	ensure_dir();
	va_start(ap, services_fmt);
	write_conf("w", services_fmt, ap);
	va_end(ap);
}

void
vh_add_services(const char *fmt, ...)
{
	va_list ap;

	cr_assert_neq(vh.dir[0], '\0', "vh_add_services before vh_setup");
	va_start(ap, fmt);
	write_conf("a", fmt, ap);
	va_end(ap);
}

const char *
vh_log_tail(void)
{
	static char buf[4096];
	FILE *f = fopen(vh.log, "r");
	size_t n = 0;

	if (f != NULL) {
		if (fseek(f, -(long)(sizeof(buf) - 1), SEEK_END) != 0)
			rewind(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return n > 0 ? buf : "(empty)";
}

char *
vh_slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static bool
socket_answers(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	cr_assert_lt(strlen(vh.sock), sizeof(sun.sun_path), "socket path too long");
	memcpy(sun.sun_path, vh.sock, strlen(vh.sock) + 1);
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

/* In the forked child: the signal state vigild is to inherit. */
static void
child_signals(const sigset_t *blocked, const int *ignored, size_t n)
{
	for (size_t i = 0; i < n; i++)
		signal(ignored[i], SIG_IGN);
	sigprocmask(SIG_SETMASK, blocked, NULL);
}

/* Who vh_start_as() runs vigild as; as == false: as the test itself. */
static struct {
	bool	 as;
	uid_t	 uid;
	gid_t	 gid;
	const char *tmpdir;
} child_user;

/* In the forked child: become that user, in an environment with no XDG folders. */
static void
child_become(void)
{
	if (!child_user.as)
		return;
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("XDG_STATE_HOME");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	if (child_user.tmpdir != NULL)
		setenv("TMPDIR", child_user.tmpdir, 1);
	if (setgroups(0, NULL) == -1 || setgid(child_user.gid) == -1 ||
	    setuid(child_user.uid) == -1) {
		fprintf(stderr, "harness: becoming uid %u: %s\n", (unsigned)child_user.uid,
		    strerror(errno));
		_exit(96);
	}
}

static bool
start_vigild(const sigset_t *blocked, const int *ignored, size_t n)
{
	long long deadline = vh_now_ms() + 10000;
	pid_t parent = getpid();
	int status;

	vh.pid = fork();
	cr_assert_neq(vh.pid, -1, "fork: %s", strerror(errno));
	if (vh.pid == 0) {
		int fd = open(vh.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		/* if the test process dies, vigild is told to stop everything */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(99);
		dup2(fd, 2);
		dup2(fd, 1);
		if (blocked != NULL)
			child_signals(blocked, ignored, n);
		child_become();
		execl(env_or("VIGILD", "./vigild"), "vigild", "-f", "-c", vh.conf, (char *)NULL);
		_exit(98);
	}
	while (vh_now_ms() < deadline) {
		if (waitpid(vh.pid, &status, WNOHANG) == vh.pid) {
			vh.exit_status = status;
			vh.pid = 0;
			return false;
		}
		if (socket_answers())
			return true;
		sleep_ms(5);
	}
	return false;
}

void
vh_start_ok(void)
{
	cr_assert(vh_start(), "vigild did not start (wait status 0x%x); log:\n%s",
	    (unsigned)vh.exit_status, vh_log_tail());
}

bool
vh_start(void)
{
	return start_vigild(NULL, NULL, 0);
}

bool
vh_start_as(uid_t uid, gid_t gid, const char *tmpdir)
{
	bool up;

	child_user.as = true;
	child_user.uid = uid;
	child_user.gid = gid;
	child_user.tmpdir = tmpdir;
	up = start_vigild(NULL, NULL, 0);
	child_user.as = false;
	return up;
}

bool
vh_start_with_signals(const sigset_t *blocked, const int *ignored, size_t n)
{
	return start_vigild(blocked, ignored, n);
}

/* Read both pipes to EOF so a chatty vigilctl never blocks on us. */
static void
drain(int out, int err, struct vh_result *r)
{
	size_t no = 0, ne = 0;
	struct pollfd p[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
	int open_fds = 2;

	while (open_fds > 0 && poll(p, 2, 30000) > 0) {
		for (int i = 0; i < 2; i++) {
			char *buf = i == 0 ? r->out : r->err;
			size_t *n = i == 0 ? &no : &ne;
			size_t cap = (i == 0 ? sizeof(r->out) : sizeof(r->err)) - 1;
			char junk[4096];
			ssize_t k;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (*n < cap)
				k = read(p[i].fd, buf + *n, cap - *n);
			else
				k = read(p[i].fd, junk, sizeof(junk));
			if (k <= 0) {
				p[i].fd = -1;
				open_fds--;
			} else if (*n < cap) {
				*n += (size_t)k;
			}
		}
	}
	r->out[no] = '\0';
	r->err[ne] = '\0';
}

void
vh_become(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	/* groups first, uid last: after setuid there is no right left to change them */
	if (setgroups(ngroups, groups) == -1 || setgid(gid) == -1 || setuid(uid) == -1)
		_exit(96);
}

/* Who a vigilctl runs as; gid is its only group. */
struct ctl_user {
	uid_t	 uid;
	gid_t	 gid;
};

/* vigilctl --socket SOCK and the words of ap, as ourselves or (as != NULL) as another user. */
static int
run_ctl(struct vh_result *r, const struct ctl_user *as, va_list ap)
{
	char *argv[64];
	int out[2], err[2], status, n = 0;
	pid_t pid;

	argv[n++] = "vigilctl";
	argv[n++] = "--socket";
	argv[n++] = vh.sock;
	while (n < 63 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	argv[n] = NULL;
	cr_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0);
	if ((pid = fork()) == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (as != NULL)
			vh_become(as->uid, as->gid, &as->gid, 1);
		execv(env_or("VIGILCTL", "./vigilctl"), argv);
		_exit(97);
	}
	close(out[1]);
	close(err[1]);
	drain(out[0], err[0], r);
	close(out[0]);
	close(err[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	r->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return r->code;
}

int
vh_ctl(struct vh_result *r, ...)
{
	va_list ap;
	int rc;

	va_start(ap, r);
	rc = run_ctl(r, NULL, ap);
	va_end(ap);
	return rc;
}

int
vh_ctl_as(uid_t uid, gid_t gid, struct vh_result *r, ...)
{
	struct ctl_user as = { uid, gid };
	va_list ap;
	int rc;

	va_start(ap, r);
	rc = run_ctl(r, &as, ap);
	va_end(ap);
	return rc;
}

json_t *
vh_service(const char *name)
{
	struct vh_result *r = malloc(sizeof(*r));
	json_t *reply, *svc = NULL;

	if (vh_ctl(r, "--json", "status", name, NULL) == 0 &&
	    (reply = json_loads(r->out, 0, NULL)) != NULL) {
		svc = json_incref(json_array_get(json_object_get(reply, "services"), 0));
		json_decref(reply);
	}
	free(r);
	return svc;
}

const char *
vh_state(const char *name, char *buf, size_t len)
{
	json_t *s = vh_service(name);

	snprintf(buf, len, "%s", s ? json_string_value(json_object_get(s, "state")) : "?");
	json_decref(s);
	return buf;
}

bool
vh_wait_state(const char *name, const char *state, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	char buf[32];

	do {
		if (strcmp(vh_state(name, buf, sizeof(buf)), state) == 0)
			return true;
		sleep_ms(20);
	} while (vh_now_ms() < deadline);
	return false;
}

bool
vh_wait_file_contains(const char *path, const char *needle, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	do {
		if (strstr(vh_slurp(path), needle) != NULL)
			return true;
		sleep_ms(10);
	} while (vh_now_ms() < deadline);
	return false;
}

bool
vh_wait_file(const char *path, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	FILE *f;

	do {
		if ((f = fopen(path, "r")) != NULL) {
			int c = fgetc(f);
			fclose(f);
			if (c != EOF)
				return true;
		}
		sleep_ms(10);
	} while (vh_now_ms() < deadline);
	return false;
}

long
vh_read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

char
vh_pid_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	char st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 1, " %c", &st);
	fclose(f);
	return st;
}

bool
vh_pid_exists(pid_t pid)
{
	return pid > 0 && vh_pid_state(pid) != 0;
}

bool
vh_pid_alive(pid_t pid)
{
	char st = pid > 0 ? vh_pid_state(pid) : 0;
	return st != 0 && st != 'Z' && st != 'X';
}

bool
vh_wait_gone(pid_t pid, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	do {
		if (!vh_pid_exists(pid))
			return true;
		sleep_ms(10);
	} while (vh_now_ms() < deadline);
	return false;
}

pid_t
vh_main_pid(const char *name)
{
	json_t *s = vh_service(name);
	pid_t pid = s != NULL ? (pid_t)json_integer_value(json_object_get(s, "pid")) : 0;

	json_decref(s);
	return pid;
}

const char *
vh_status_names(const char *name)
{
	static char buf[1024];
	struct vh_result r;
	json_t *reply, *svc;
	size_t i;

	buf[0] = '\0';
	if (vh_ctl(&r, "--json", "status", name, NULL) != 0 ||
	    (reply = json_loads(r.out, 0, NULL)) == NULL)
		return "?";
	json_array_foreach(json_object_get(reply, "services"), i, svc) {
		if (i > 0)
			strncat(buf, ",", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, json_string_value(json_object_get(svc, "name")),
		    sizeof(buf) - strlen(buf) - 1);
	}
	json_decref(reply);
	return buf;
}

const char *
vh_json_list(json_t *obj, const char *key)
{
	static char bufs[4][256];
	static int next;
	char *buf = bufs[next++ % 4];
	json_t *v;
	size_t i;

	buf[0] = '\0';
	json_array_foreach(json_object_get(obj, key), i, v) {
		if (i > 0)
			strncat(buf, ",", sizeof(bufs[0]) - strlen(buf) - 1);
		strncat(buf, json_string_value(v) ? json_string_value(v) : "?",
		    sizeof(bufs[0]) - strlen(buf) - 1);
	}
	return buf;
}

bool
vh_wait_main_pid(const char *name, pid_t pid, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	do {
		if (vh_main_pid(name) == pid)
			return true;
		sleep_ms(10);
	} while (vh_now_ms() < deadline);
	return false;
}

pid_t
vh_wait_new_pid(const char *name, pid_t old, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	char state[32];
	pid_t pid;

	do {
		if ((pid = vh_main_pid(name)) > 0 && pid != old &&
		    strcmp(vh_state(name, state, sizeof(state)), "running") == 0)
			return pid;
		sleep_ms(20);
	} while (vh_now_ms() < deadline);
	return 0;
}

bool
vh_wait_pid_state(pid_t pid, char state, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	do {
		if (vh_pid_state(pid) == state)
			return true;
		sleep_ms(10);
	} while (vh_now_ms() < deadline);
	return false;
}

int
vh_zombie_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (d == NULL || vh.pid <= 0) {
		if (d)
			closedir(d);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char path[300], buf[512], st, *p;
		long ppid;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %c %ld", &st, &ppid) == 2 && ppid == vh.pid && st == 'Z')
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

bool
vh_signal_and_wait(int sig, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	int status;

	if (vh.pid <= 0)
		return true;
	kill(vh.pid, sig);
	do {
		if (waitpid(vh.pid, &status, WNOHANG) == vh.pid) {
			vh.exit_status = status;
			vh.pid = 0;
			return true;
		}
		sleep_ms(10);
	} while (vh_now_ms() < deadline);
	return false;
}

bool
vh_log_contains(const char *needle)
{
	FILE *f = fopen(vh.log, "r");
	char line[4096];
	bool found = false;

	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	if (f != NULL)
		fclose(f);
	return found;
}

bool
vh_wait_log(const char *needle, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	do {
		if (vh_log_contains(needle))
			return true;
		sleep_ms(20);
	} while (vh_now_ms() < deadline);
	return false;
}

void
vh_bg_start(struct vh_bg *b, ...)
{
	char *argv[64], name[32];
	int pipefd[2], n = 0;
	va_list ap;
	FILE *f;

	argv[n++] = "vigilctl";
	argv[n++] = "--socket";
	argv[n++] = vh.sock;
	va_start(ap, b);
	while (n < 63 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	cr_assert(pipe2(pipefd, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	b->pid = fork();
	cr_assert_neq(b->pid, -1, "fork: %s", strerror(errno));
	if (b->pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execv(env_or("VIGILCTL", "./vigilctl"), argv);
		_exit(97);
	}
	close(pipefd[1]);
	b->fd = pipefd[0];
	fcntl(b->fd, F_SETFL, fcntl(b->fd, F_GETFL) | O_NONBLOCK);
	snprintf(name, sizeof(name), "bg-%d.pid", (int)b->pid);
	snprintf(b->pidfile, sizeof(b->pidfile), "%s", vh_path(name));
	if ((f = fopen(b->pidfile, "w")) != NULL) {
		fprintf(f, "%d\n", (int)b->pid);
		fclose(f);
	}
}

char *
vh_take_line(char *buf, size_t *len)
{
	char *nl = memchr(buf, '\n', *len), *line;
	size_t used;

	if (nl == NULL)
		return NULL;
	used = (size_t)(nl - buf) + 1;
	line = strndup(buf, used - 1);
	memmove(buf, buf + used, *len - used);
	*len -= used;
	return line;
}

char *
vh_bg_line(struct vh_bg *b, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { b->fd, POLLIN, 0 };
		long long left = deadline - vh_now_ms();
		char *line;
		ssize_t n;

		if ((line = vh_take_line(b->buf, &b->len)) != NULL)
			return line;
		cr_assert_lt(b->len, sizeof(b->buf), "a line longer than %zu bytes",
		    sizeof(b->buf));
		if (b->fd < 0 || left <= 0)
			return NULL;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(b->fd, b->buf + b->len, sizeof(b->buf) - b->len);
		if (n == 0)
			return NULL;
		if (n > 0)
			b->len += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR)
			return NULL;
	}
}

int
vh_bg_wait(struct vh_bg *b, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	int status;

	if (b->pid <= 0)
		return -1;
	do {
		if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
			b->pid = 0;
			unlink(b->pidfile);	/* its pid may be someone else's soon */
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		sleep_ms(10);
	} while (vh_now_ms() < deadline);
	return -1;
}

void
vh_bg_end(struct vh_bg *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGKILL);
		while (waitpid(b->pid, NULL, 0) == -1 && errno == EINTR)
			;
		b->pid = 0;
		unlink(b->pidfile);
	}
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

/* Kill every process whose pid a test helper wrote to a *.pid file. */
static void
kill_recorded_pids(void)
{
	DIR *d = opendir(vh.dir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		long pid;

		if (len < 5 || strcmp(de->d_name + len - 4, ".pid") != 0)
			continue;
		if ((pid = vh_read_long(vh_path(de->d_name))) > 1)
			kill((pid_t)pid, SIGKILL);
	}
	if (d != NULL)
		closedir(d);
}

/*
 * In a sanitizer build vigild reports leaks, overflows and undefined
 * behaviour in its log. Criterion does not count a failed assertion in a
 * teardown, so such a report aborts: the test binary then fails.
 */
static void
check_sanitizer_reports(void)
{
	static const char *const marks[] = { "ERROR: AddressSanitizer",
	    "ERROR: LeakSanitizer", "runtime error:" };

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if (vh_log_contains(marks[i])) {
			char cmd[600];
			fprintf(stderr, "vigild reported \"%s\"; its log:\n", marks[i]);
			snprintf(cmd, sizeof(cmd), "cat '%s' >&2", vh.log);
			if (system(cmd) != 0)
				fprintf(stderr, "(could not print %s)\n", vh.log);
			abort();
		}
	}
}

#define CGROUP_LINE	"cgroups: each service in a cgroup of its own below "

const char *
vh_cgroup_base(void)
{
	static char base[512];
	const char *log = vh_slurp(vh.log), *p = strstr(log, CGROUP_LINE);

	if (p == NULL)
		return NULL;
	p += strlen(CGROUP_LINE);
	snprintf(base, sizeof(base), "%.*s", (int)strcspn(p, "\n"), p);
	return base;
}

/* What a test's vigild left in its cgroups (a test that killed it): killed, then removed. */
static void
cleanup_cgroups(void)
{
	const char *base = vh_cgroup_base();
	char path[1024];
	struct dirent *de;
	DIR *d;

	if (base == NULL || (d = opendir(base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/cgroup.kill", base, de->d_name);
		if ((f = fopen(path, "w")) != NULL) {
			fputs("1", f);
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
		for (int i = 0; i < 500 && rmdir(path) == -1 && errno == EBUSY; i++)
			sleep_ms(10);
	}
	closedir(d);
	rmdir(base);
}

void
vh_teardown(void)
{
	char cmd[600];

	if (vh.dir[0] == '\0')
		return;
	if (vh.pid > 0 && !vh_signal_and_wait(SIGTERM, 20000))
		vh_signal_and_wait(SIGKILL, 5000);
	kill_recorded_pids();
	cleanup_cgroups();
	check_sanitizer_reports();
	if (getenv("VIGIL_KEEP_TEST_DIR") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vh.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", vh.dir);
	} else {
		fprintf(stderr, "kept %s\n", vh.dir);
	}
	vh.dir[0] = '\0';
}

const char *
vh_reason(const char *name, char *buf, size_t len)
{
	json_t *s = vh_service(name);
	const char *r = s ? json_string_value(json_object_get(s, "reason")) : NULL;

	snprintf(buf, len, "%s", r ? r : "?");
	json_decref(s);
	return buf;
}

bool
vh_wait_reason(const char *name, const char *text, int timeout_ms)
{
	long long end = vh_now_ms() + timeout_ms;
	char buf[512];

	do {
		if (strstr(vh_reason(name, buf, sizeof(buf)), text) != NULL)
			return true;
		sleep_ms(20);
	} while (vh_now_ms() < end);
	return false;
}

bool
vh_wait_ready(const char *name, int timeout_ms)
{
	long long end = vh_now_ms() + timeout_ms;

	do {
		json_t *s = vh_service(name);
		bool ready = s != NULL && json_is_true(json_object_get(s, "ready"));

		json_decref(s);
		if (ready)
			return true;
		sleep_ms(10);
	} while (vh_now_ms() < end);
	return false;
}

void
vh_events_start(struct vh_bg *b, const char *name)
{
	vh_bg_start(b, "--json", "events", name, NULL);
}

json_t *
vh_events_until(struct vh_bg *b, const char *to, bool ready, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	long long left;

	while ((left = deadline - vh_now_ms()) > 0) {
		char *line = vh_bg_line(b, (int)left);
		const char *state;
		json_t *e;

		if (line == NULL)
			return NULL;
		e = json_loads(line, 0, NULL);
		free(line);
		state = json_string_value(json_object_get(e, "to"));
		if (state != NULL && strcmp(state, to) == 0 &&
		    (!ready || json_is_true(json_object_get(e, "ready"))))
			return e;
		json_decref(e);
	}
	return NULL;
}

/*
 * vigild logs every transition as it makes it, so the order of its lines
 * is the order of events, free of any scheduling delay of the services.
 */
int
vh_log_line_of(const char *needle)
{
	FILE *f = fopen(vh.log, "r");
	char line[4096];
	int n = 0, found = -1;

	while (f != NULL && found < 0 && fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, needle) != NULL)
			found = n;
		n++;
	}
	if (f != NULL)
		fclose(f);
	return found;
}

int
vh_log_line_of_nth(const char *a, const char *b, int nth)
{
	FILE *f = fopen(vh.log, "r");
	char line[4096];
	int n = 0, found = -1;

	while (f != NULL && found < 0 && fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, a) != NULL && strstr(line, b) != NULL && --nth == 0)
			found = n;
		n++;
	}
	if (f != NULL)
		fclose(f);
	return found;
}

int
vh_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "binding a free port: %s", strerror(errno));
	cr_assert(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int
vh_log_count(const char *needle)
{
	FILE *f = fopen(vh.log, "r");
	char line[4096];
	int seen = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		seen += strstr(line, needle) != NULL;
	if (f != NULL)
		fclose(f);
	return seen;
}

bool
vh_wait_log_count(const char *needle, int n, int timeout_ms)
{
	long long end = vh_now_ms() + timeout_ms;

	do {
		if (vh_log_count(needle) >= n)
			return true;
		sleep_ms(20);
	} while (vh_now_ms() < end);
	return false;
}

bool
vh_wait_status_text(const char *name, const char *text, int timeout_ms)
{
	long long end = vh_now_ms() + timeout_ms;

	do {
		json_t *s = vh_service(name);
		const char *t = json_string_value(json_object_get(s, "status_text"));
		bool same = t != NULL && strcmp(t, text) == 0;

		json_decref(s);
		if (same)
			return true;
		sleep_ms(20);
	} while (vh_now_ms() < end);
	return false;
}

void
vh_exec(char *const argv[], void (*setup)(void *), void *arg)
{
	vh.pid = fork();
	cr_assert_neq(vh.pid, -1, "fork: %s", strerror(errno));
	if (vh.pid == 0) {
		int fd = open(vh.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		/* if the test dies, so does what it started */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		if (setup != NULL)
			setup(arg);
		execvp(argv[0], argv);
		_exit(98);
	}
}

const char *
vh_check_as_nobody(int *status, const char *fmt, ...)
{
	static char out[16384];
	char dir[] = "/tmp/vigil-check-XXXXXX", conf[64], *text;
	int fds[2];
	ssize_t n, len = 0;
	va_list ap;
	FILE *f;
	pid_t pid;

	/* a folder nobody can read: the config must be readable by its reader */
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0755), 0);
	/* nobody's: --check asks whether nobody could make its log folder there */
	cr_assert_eq(chown(dir, 65534, 65534), 0);
	snprintf(conf, sizeof(conf), "%s/vigil.conf", dir);
	va_start(ap, fmt);
	cr_assert_neq(vasprintf(&text, fmt, ap), -1);
	va_end(ap);
	cr_assert_not_null(f = fopen(conf, "w"));
	fprintf(f, "[vigil]\nsocket = %s/vigil.sock\n", dir);
	/* line 3 either way: the test's line numbers stay where they were */
	if (strstr(text, "log_dir") == NULL)	/* unless the test sets its own */
		fprintf(f, "log_dir = %s/logs\n", dir);
	else
		fputc('\n', f);
	fputs(text, f);
	free(text);
	fclose(f);
	cr_assert_eq(chmod(conf, 0644), 0);
	cr_assert_eq(pipe(fds), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 || setuid(65534) == -1)
			_exit(99);
		execl(env_or("VIGILD", "./vigild"), "vigild", "--check", "-c", conf, (char *)NULL);
		_exit(98);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - (size_t)len)) > 0)
		len += n;
	out[len] = '\0';
	close(fds[0]);
	cr_assert_eq(waitpid(pid, status, 0), pid);
	unlink(conf);
	rmdir(dir);
	return out;
}

void
vh_expect_isolation(const char *name, const char *want)
{
	json_t *svc = vh_service(name);
	char *got;

	cr_assert_not_null(svc, "no status of %s", name);
	got = json_dumps(json_object_get(svc, "isolation"), JSON_PRESERVE_ORDER);
	cr_expect(got != NULL && strcmp(got, want) == 0, "%s isolation: %s, want %s", name,
	    got ? got : "(none)", want);
	free(got);
	json_decref(svc);
}

int
vh_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

pid_t
vh_first_child(pid_t pid)
{
	char path[64];
	long child = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &child) != 1)
			child = 0;
		fclose(f);
	}
	return (pid_t)child;
}
