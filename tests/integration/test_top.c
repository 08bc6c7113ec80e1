/*
 * test_top.c: the real `vigilctl top` on a real terminal: each test runs it
 * in a tmux of its own (a private server, -L, killed at teardown even after
 * a failed assertion) and reads the screen with capture-pane until what it
 * expects shows or a deadline passes. States move from events, restarts
 * from the periodic status, keys sort, and every way out puts the terminal
 * back. Skipped, saying why, where tmux is not installed.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define SCREEN_MS	20000	/* generous: a busy 2-core machine, maybe under ASan */

static char server[64];		/* the tmux -L name of this test, "" when none runs */

/* tmux -L SERVER ARGS...: its exit code, and its stdout in out (if not NULL). */
static int
tmux(char *out, size_t outlen, ...)
{
	char *argv[32];
	int p[2], status, n = 0;
	size_t len = 0;
	va_list ap;
	pid_t pid;

	argv[n++] = "tmux";
	argv[n++] = "-L";
	argv[n++] = server;
	va_start(ap, outlen);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		execvp("tmux", argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		char junk[4096];
		ssize_t r = out != NULL && len + 1 < outlen ?
		    read(p[0], out + len, outlen - len - 1) : read(p[0], junk, sizeof(junk));
		if (r > 0 && out != NULL && len + 1 < outlen)
			len += (size_t)r;
		else if (r == 0 || (r == -1 && errno != EINTR))
			break;
	}
	if (out != NULL)
		out[len] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The pid of vigilctl top: the only child of the pane's shell, which wrote its pid; 0: none. */
static pid_t
top_pid(void)
{
	char path[64], buf[64];
	FILE *f = fopen(vh_path("shell.pid"), "r");
	long shell = 0, child = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &shell) != 1)
		shell = 0;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", shell, shell);
	if (shell <= 0 || (f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) == NULL || sscanf(buf, "%ld", &child) != 1)
		child = 0;
	fclose(f);
	return (pid_t)child;
}

/*
 * The tmux server goes, and with it the pane; vigilctl top, told by
 * SIGHUP, must go too: a top that has not after 10 s is killed by its pid,
 * so no test leaves one behind.
 */
static void
top_fini(void)
{
	pid_t top = server[0] != '\0' ? top_pid() : 0;

	if (server[0] != '\0')
		tmux(NULL, 0, "kill-server", NULL);
	server[0] = '\0';
	if (top > 0 && !vh_wait_gone(top, 10000))
		kill(top, SIGKILL);
	vh_teardown();
}

TestSuite(top, .fini = top_fini, .timeout = 180);

static void
need_tmux(void)
{
	char v[64];

	snprintf(server, sizeof(server), "vigil-top-%ld", (long)getpid());
	if (tmux(v, sizeof(v), "-V", NULL) != 0) {
		server[0] = '\0';
		VH_SKIP("tmux is not installed (scripts/deps.sh installs it)");
	}
}

static const char *
vigilctl_path(void)
{
	static char path[PATH_MAX];
	const char *p = getenv("VIGILCTL");

	if (realpath(p != NULL ? p : "./vigilctl", path) == NULL)
		cr_assert_fail("no vigilctl at %s", p != NULL ? p : "./vigilctl");
	return path;
}

/*
 * vigilctl top in a 120x30 pane, run by a shell that writes its exit code
 * and what `stty -a` says afterwards to files, then waits: the pane stays
 * to be read, and the files tell how top left the terminal.
 */
static void
top_start(const char *args)
{
	char cmd[PATH_MAX + 1024];

	snprintf(cmd, sizeof(cmd), "echo $$ > '%s'; '%s' --socket '%s' top %s; echo $? > '%s'; "
	    "stty -a > '%s'; exec sleep 600", vh_path("shell.pid"), vigilctl_path(), vh.sock,
	    args, vh_path("top.rc"), vh_path("stty.txt"));
	cr_assert_eq(tmux(NULL, 0, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "30",
	    cmd, NULL), 0, "tmux new-session failed");
}

static const char *
screen(void)
{
	static char text[65536];

	if (tmux(text, sizeof(text), "capture-pane", "-p", NULL) != 0)
		text[0] = '\0';
	return text;
}

/* A tmux format of the pane, "#{alternate_on}" say. */
static const char *
pane_format(const char *fmt)
{
	static char out[256];

	if (tmux(out, sizeof(out), "display-message", "-p", fmt, NULL) != 0)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/*
 * The cells of name's row on the screen (NAME STATE PID UPTIME RESTARTS
 * CPU% PROCS LAST-EXIT...), as words; 0 if the row is not there.
 */
static int
row_words(const char *text, const char *name, char words[][64], int max)
{
	size_t nlen = strlen(name);
	const char *line = text;
	char buf[512], *save, *w;
	int n = 0;

	for (; *line != '\0'; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
		if (strncmp(line, name, nlen) == 0 && line[nlen] == ' ')
			break;
	}
	if (*line == '\0')
		return 0;
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(line, "\n"), line);
	for (w = strtok_r(buf, " ", &save); w != NULL && n < max; w = strtok_r(NULL, " ", &save))
		snprintf(words[n++], 64, "%s", w);
	return n;
}

enum { COL_NAME, COL_STATE, COL_PID, COL_UPTIME, COL_RESTARTS, COL_CPU, COL_PROCS, COL_EXIT };

/* Poll the screen until name's row has want in column col; false after the deadline. */
static bool
wait_cell(const char *name, int col, const char *want)
{
	long long deadline = vh_now_ms() + SCREEN_MS;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	char words[16][64];

	do {
		if (row_words(screen(), name, words, 16) > col && strcmp(words[col], want) == 0)
			return true;
		nanosleep(&ts, NULL);
	} while (vh_now_ms() < deadline);
	return false;
}

static bool
wait_text(const char *needle)
{
	long long deadline = vh_now_ms() + SCREEN_MS;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	do {
		if (strstr(screen(), needle) != NULL)
			return true;
		nanosleep(&ts, NULL);
	} while (vh_now_ms() < deadline);
	return false;
}

/* The order the named rows stand in on the screen, as "a,b,c". */
static const char *
row_order(const char *const *names, size_t n)
{
	static char order[256];
	const char *text = screen(), *pos[8];
	size_t k = 0;

	order[0] = '\0';
	for (size_t i = 0; i < n && i < 8; i++) {
		char pat[80];
		snprintf(pat, sizeof(pat), "\n%s ", names[i]);
		pos[i] = strstr(text, pat);
		if (pos[i] == NULL)
			return "(missing rows)";
	}
	/* n is small: pick the topmost left each time */
	for (size_t done = 0; done < n; done++) {
		size_t best = n;
		for (size_t i = 0; i < n; i++)
			if (pos[i] != NULL && (best == n || pos[i] < pos[best]))
				best = i;
		k += (size_t)snprintf(order + k, sizeof(order) - k, "%s%s", done ? "," : "",
		    names[best]);
		pos[best] = NULL;
	}
	return order;
}

/* Press key, then poll until the rows stand in the order want. */
static void
expect_order_after(const char *key, const char *const *names, size_t n, const char *want)
{
	long long deadline = vh_now_ms() + SCREEN_MS;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	cr_assert_eq(tmux(NULL, 0, "send-keys", key, NULL), 0);
	while (strcmp(row_order(names, n), want) != 0 && vh_now_ms() < deadline)
		nanosleep(&ts, NULL);
	cr_assert_str_eq(row_order(names, n), want, "after key %s; the screen:\n%s", key,
	    screen());
}

/* The shell after top wrote its exit code: top's status, or -1 if none within the deadline. */
static int
wait_top_exit(void)
{
	if (!vh_wait_file(vh_path("stty.txt"), SCREEN_MS))
		return -1;
	return (int)vh_read_long(vh_path("top.rc"));
}

/* top is gone and the terminal is as a shell wants it: line mode, echo, main screen. */
static void
expect_terminal_restored(void)
{
	const char *stty = vh_slurp(vh_path("stty.txt"));

	cr_expect(strstr(stty, " icanon") != NULL && strstr(stty, "-icanon") == NULL,
	    "line mode not restored:\n%s", stty);
	cr_expect(strstr(stty, " echo ") != NULL || strstr(stty, " echo\n") != NULL,
	    "echo not restored:\n%s", stty);
	cr_expect_str_eq(pane_format("#{alternate_on}"), "0", "still on the alternate screen");
	cr_expect_str_eq(pane_format("#{cursor_flag}"), "1", "the cursor is still hidden");
	cr_expect(strstr(screen(), "Sanitizer") == NULL, "a sanitizer report:\n%s", screen());
}

static void
three_services(void)
{
	vh_setup("[service:web]\ncommand = %s\nstart_secs = 100ms\n\n"
	    "[service:db]\ncommand = %s\nstart_secs = 100ms\n\n"
	    "[service:off]\ncommand = %s\nautostart = no\n",
	    vh_testsvc(), vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", SCREEN_MS), "%s", vh_log_tail());
	cr_assert(vh_wait_state("db", "running", SCREEN_MS), "%s", vh_log_tail());
}

Test(top, lists_every_service)
{
	char pid[32], words[16][64];

	need_tmux();
	three_services();
	top_start("-d 0.5");
	cr_assert(wait_cell("web", COL_STATE, "running"), "web not running on screen:\n%s",
	    screen());
	cr_assert(wait_cell("off", COL_STATE, "stopped"), "%s", screen());
	snprintf(pid, sizeof(pid), "%d", (int)vh_main_pid("db"));
	cr_assert(wait_cell("db", COL_PID, pid), "db's pid %s not shown:\n%s", pid, screen());
	cr_expect(strstr(screen(), "3 services: 2 running, 1 stopped") != NULL, "header:\n%s",
	    screen());
	cr_expect(strstr(screen(), "NAME") != NULL && strstr(screen(), "RESTARTS") != NULL &&
	    strstr(screen(), "CPU%") != NULL && strstr(screen(), "q quit") != NULL, "%s",
	    screen());
	cr_assert_eq(row_words(screen(), "off", words, 16), 8, "%s", screen());
	cr_expect_str_eq(words[COL_PID], "-");
	cr_expect_str_eq(words[COL_UPTIME], "-");
	/* CPU% needs two samples of the cgroup's counter; without cgroups it stays "-" */
	if (vh_cgroup_base() != NULL)
		cr_expect(wait_cell("web", COL_CPU, "0.0"), "no CPU%% for web:\n%s", screen());
}

Test(top, a_stop_shows_from_events)
{
	struct vh_result r;

	need_tmux();
	three_services();
	/* a periodic status every minute: the stop comes by the events stream (which asks one) */
	top_start("-d 60");
	cr_assert(wait_cell("web", COL_STATE, "running"), "%s", screen());
	cr_assert_eq(vh_ctl(&r, "stop", "web", NULL), 0, "%s", r.err);
	cr_assert(wait_cell("web", COL_STATE, "stopped"), "web not stopped on screen:\n%s",
	    screen());
	cr_expect(wait_cell("web", COL_PID, "-"), "%s", screen());
	cr_expect(wait_cell("db", COL_STATE, "running"), "%s", screen());
}

Test(top, a_killed_service_counts_a_restart)
{
	pid_t pid;

	need_tmux();
	three_services();
	top_start("-d 0.5");
	cr_assert(wait_cell("web", COL_RESTARTS, "0"), "%s", screen());
	pid = vh_main_pid("web");
	cr_assert(pid > 0);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert(wait_cell("web", COL_RESTARTS, "1"), "restarts did not go up:\n%s", screen());
	cr_expect(wait_cell("web", COL_EXIT, "KILL"), "%s", screen());
	cr_expect(wait_cell("web", COL_STATE, "running"), "%s", screen());
}

Test(top, a_reload_adds_and_removes_rows)
{
	struct vh_result r;
	long long deadline;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	need_tmux();
	three_services();
	/* a periodic status every minute: the events stream brings the rows (and asks one) */
	top_start("-d 60");
	cr_assert(wait_cell("web", COL_STATE, "running"), "%s", screen());
	vh_setup("[service:db]\ncommand = %s\nstart_secs = 100ms\n\n"
	    "[service:off]\ncommand = %s\nautostart = no\n\n"
	    "[service:cache]\ncommand = %s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_testsvc(), vh_testsvc());
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "%s", r.err);
	cr_assert(wait_cell("cache", COL_STATE, "running"), "the added service:\n%s", screen());
	/* web is gone, and its stopping, which the stream still tells, does not bring it back */
	deadline = vh_now_ms() + SCREEN_MS;
	while (strstr(screen(), "\nweb ") != NULL && vh_now_ms() < deadline)
		nanosleep(&ts, NULL);
	cr_assert(strstr(screen(), "\nweb ") == NULL, "web still shown:\n%s", screen());
	cr_assert(vh_wait_log("web: stopping -> stopped", SCREEN_MS), "%s", vh_log_tail());
	cr_expect(strstr(screen(), "\nweb ") == NULL, "web came back:\n%s", screen());
	cr_expect(wait_text("3 services: 2 running, 1 stopped"), "%s", screen());
}

Test(top, outlives_client_timeout)
{
	pid_t pid;

	need_tmux();
	/* vigild closes a connection that sends nothing for 1 s; top asks every 3 s */
	vh_setup("[vigil]\nclient_timeout = 1s\n\n"
	    "[service:web]\ncommand = %s\nstart_secs = 100ms\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", SCREEN_MS), "%s", vh_log_tail());
	top_start("-d 3");
	cr_assert(wait_cell("web", COL_RESTARTS, "0"), "%s", screen());
	cr_assert(vh_wait_log("sent no request for 1s", SCREEN_MS), "%s", vh_log_tail());
	pid = vh_main_pid("web");
	cr_assert(pid > 0);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert(wait_cell("web", COL_RESTARTS, "1"), "restarts did not go up:\n%s", screen());
	cr_expect(!vh_wait_file(vh_path("top.rc"), 100), "top exited: %s", screen());
}

Test(top, keys_sort_the_rows)
{
	static const char *const names[] = { "web", "db", "off" };
	char want[64];
	pid_t web, db;

	need_tmux();
	three_services();
	top_start("-d 0.5");
	cr_assert(wait_cell("web", COL_STATE, "running"), "%s", screen());
	cr_assert(wait_cell("db", COL_STATE, "running"), "%s", screen());
	/* by name at first; the same key again turns the order round */
	cr_assert_str_eq(row_order(names, 3), "db,off,web", "%s", screen());
	expect_order_after("n", names, 3, "web,off,db");
	cr_expect(wait_text("sort: name, reversed"), "%s", screen());
	/* by state: running before stopped, then by name */
	expect_order_after("s", names, 3, "db,web,off");
	expect_order_after("s", names, 3, "off,web,db");
	/* by pid: low first, none last */
	web = vh_main_pid("web");
	db = vh_main_pid("db");
	snprintf(want, sizeof(want), "%s,off", web < db ? "web,db" : "db,web");
	expect_order_after("p", names, 3, want);
	cr_expect(wait_text("sort: pid"), "%s", screen());
	/* < steps back to the column before, state */
	expect_order_after("<", names, 3, "db,web,off");
	cr_expect(wait_text("sort: state"), "%s", screen());
}

Test(top, q_quits_and_restores_the_terminal)
{
	need_tmux();
	three_services();
	top_start("");
	cr_assert(wait_cell("web", COL_STATE, "running"), "%s", screen());
	cr_assert_str_eq(pane_format("#{alternate_on}"), "1", "top did not take the screen");
	cr_assert_eq(tmux(NULL, 0, "send-keys", "q", NULL), 0);
	cr_assert_eq(wait_top_exit(), 0, "top's exit; the screen:\n%s", screen());
	expect_terminal_restored();
}

Test(top, sigterm_and_ctrl_c_restore_the_terminal)
{
	need_tmux();
	three_services();
	top_start("");
	cr_assert(wait_cell("web", COL_STATE, "running"), "%s", screen());
	cr_assert_eq(tmux(NULL, 0, "send-keys", "C-c", NULL), 0);
	cr_assert_eq(wait_top_exit(), 0, "top's exit after Ctrl-C; the screen:\n%s", screen());
	expect_terminal_restored();
}

Test(top, vigild_going_away_is_an_error)
{
	struct vh_result r;
	int rc;

	need_tmux();
	three_services();
	top_start("");
	cr_assert(wait_cell("web", COL_STATE, "running"), "%s", screen());
	cr_assert_eq(vh_ctl(&r, "shutdown", NULL), 0, "%s", r.err);
	rc = wait_top_exit();
	cr_assert_eq(rc, 3, "top's exit %d after vigild left; the screen:\n%s", rc, screen());
	cr_expect(strstr(screen(), "vigilctl: top: vigild went away") != NULL,
	    "no message after the terminal came back:\n%s", screen());
	expect_terminal_restored();
}

Test(top, a_narrow_terminal_cuts_names)
{
	char words[16][64];
	const char *line;

	need_tmux();
	/* 120 columns leave NAME 55 of them, 80 only 15 */
	vh_setup("[service:a-service-name-of-forty-characters-long]\ncommand = %s\n",
	    vh_testsvc());
	vh_start_ok();
	top_start("");
	cr_assert(wait_text("a-service-name-of-forty-characters-long "), "%s", screen());
	cr_assert_eq(tmux(NULL, 0, "resize-window", "-x", "80", NULL), 0);
	cr_assert(wait_text("a-service-name~ "), "not cut to 80 columns:\n%s", screen());
	cr_assert(row_words(screen(), "a-service-name~", words, 16) >= 5, "%s", screen());
	cr_expect_str_eq(words[COL_RESTARTS], "0", "%s", screen());
	line = strstr(screen(), "a-service-name");
	cr_expect(strcspn(line, "\n") <= 80, "a line wider than the terminal:\n%s", screen());
}

Test(top, batch_prints_one_frame)
{
	struct vh_result r;

	three_services();
	cr_assert_eq(vh_ctl(&r, "top", "-b", "-d", "0.2", NULL), 0, "%s", r.err);
	cr_expect(strstr(r.out, "3 services: 2 running, 1 stopped") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\nweb ") != NULL && strstr(r.out, "\ndb ") != NULL &&
	    strstr(r.out, "\noff ") != NULL, "%s", r.out);
	cr_expect(strchr(r.out, '\033') == NULL, "escape sequences in a pipe:\n%s", r.out);
	/* not a terminal, and no -b: said so, not drawn */
	cr_assert_eq(vh_ctl(&r, "top", NULL), 2, "%s", r.out);
	cr_expect(strstr(r.err, "not a terminal") != NULL, "%s", r.err);
	cr_assert_eq(vh_ctl(&r, "status", "-d", "1", NULL), 2, "%s", r.out);
	cr_expect(strstr(r.err, "-b and -d belong to top") != NULL, "%s", r.err);
}
