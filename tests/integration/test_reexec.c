/*
 * test_reexec.c: `vigilctl daemon-reexec` against the real vigild. A
 * service writing a numbered line every millisecond loses none across
 * three re-execs; pids, restart counts, back-off deadlines and stopped
 * services are kept; clients are told to reconnect and vigilctl does;
 * a binary that reads another state format, or a changed config, is
 * refused with the old vigild serving on; no fd leaks either way.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(reexec, .fini = vh_teardown, .timeout = 180);

#define DEADLINE_MS	20000	/* generous: a busy 2-core machine, maybe under ASan */

/* vigilctl ARGS..., its exit code (the output is not needed) */
#define ctl(...)	vh_ctl(&scratch, __VA_ARGS__)
static struct vh_result scratch;

static void
reexec_ok(void)
{
	struct vh_result r;

	cr_assert_eq(vh_ctl(&r, "daemon-reexec", NULL), 0,
	    "daemon-reexec failed: %s%s\nlog:\n%s", r.out, r.err, vh_log_tail());
	cr_assert(strstr(r.out, "re-executed") != NULL, "out: %s", r.out);
}

/* hello's integer field, -1 if vigild did not answer. */
static long long
hello_int(const char *key)
{
	struct vh_result r;
	json_t *j;
	long long v = -1;

	if (vh_ctl(&r, "--json", "hello", NULL) == 0 && (j = json_loads(r.out, 0, NULL)) != NULL) {
		v = json_integer_value(json_object_get(j, key));
		json_decref(j);
	}
	return v;
}

/* The last number in a service's log file "... tick 000042" lines: checks order on the way. */
struct seq_check {
	long	 first, last, lines, gaps, dups;
};

static void
seq_add(struct seq_check *c, long n)
{
	if (c->first == -1 && c->lines == 0)
		c->first = n;
	else if (n == c->last)
		c->dups++;
	else if (n != c->last + 1)
		c->gaps++;
	c->last = n;
	c->lines++;
}

static void
check_sequence(const char *path, struct seq_check *c)
{
	FILE *f = fopen(path, "r");
	char line[512];

	memset(c, 0, sizeof(*c));
	c->first = c->last = -1;
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strstr(line, "tick ");
		long n;

		if (p == NULL)
			continue;
		n = strtol(p + 5, NULL, 10);
		seq_add(c, n);
	}
	fclose(f);
}

/* The last tick number in the log file, -1 if none yet. */
static long
last_tick(void)
{
	struct seq_check c;

	if (access(vh_path("logs/tick.log"), R_OK) != 0)
		return -1;
	check_sequence(vh_path("logs/tick.log"), &c);
	return c.last;
}

static bool
wait_tick_past(long n)
{
	long long end = vh_now_ms() + DEADLINE_MS;

	while (vh_now_ms() < end) {
		if (last_tick() > n)
			return true;
		usleep(10000);
	}
	return false;
}

Test(reexec, no_line_lost_across_three_reexecs)
{
	struct seq_check c;
	pid_t pid, vpid;
	long before;

	vh_setup("[service:tick]\ncommand = %s every:1:tick\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("tick", "running", DEADLINE_MS));
	pid = vh_main_pid("tick");
	vpid = vh.pid;
	cr_assert(wait_tick_past(200), "no output:\n%s", vh_log_tail());
	for (int i = 1; i <= 3; i++) {
		before = last_tick();
		reexec_ok();
		cr_assert_eq(hello_int("generation"), i);
		/* lines keep coming mid-stream, through the new vigild */
		cr_assert(wait_tick_past(before + 100), "output stopped after reexec %d:\n%s", i,
		    vh_log_tail());
	}
	cr_expect_eq(hello_int("pid"), vpid, "vigild's pid changed");
	cr_expect_eq(vh_main_pid("tick"), pid, "the service's pid changed");
	cr_assert_eq(ctl("stop", "tick", NULL), 0);
	check_sequence(vh_path("logs/tick.log"), &c);
	cr_expect_eq(c.first, 0, "first line %ld", c.first);
	cr_expect_eq(c.gaps, 0, "%ld gaps in %ld lines", c.gaps, c.lines);
	cr_expect_eq(c.dups, 0, "%ld duplicates in %ld lines", c.dups, c.lines);
	cr_expect_eq(c.lines, c.last + 1, "%ld lines, last %ld", c.lines, c.last);
	cr_expect(c.last > 300, "only %ld lines", c.last);
	/* the ring the new vigild took over answers `log` as the old one did */
	{
		struct vh_result r;
		cr_assert_eq(vh_ctl(&r, "log", "-n", "3", "tick", NULL), 0);
		cr_expect(strstr(r.out, "tick ") != NULL, "log: %s", r.out);
	}
}

/* Read a `log -f` follower's lines into c until it has shown tick target. */
static bool
follow_until(struct vh_bg *b, long target, struct seq_check *c)
{
	long long end = vh_now_ms() + DEADLINE_MS;
	char *line, *p;

	while (c->last < target && vh_now_ms() < end) {
		if ((line = vh_bg_line(b, 1000)) == NULL)
			continue;
		/* the text's "tick 000042", not the name column before it */
		for (p = strstr(line, "tick "); p != NULL && (p[5] < '0' || p[5] > '9');
		    p = strstr(p + 1, "tick "))
			;
		if (p != NULL)
			seq_add(c, strtol(p + 5, NULL, 10));
		free(line);
	}
	return c->last >= target;
}

/* `log -f` through three re-execs: every line once, none missing, in order. */
Test(reexec, follower_sees_every_line_once)
{
	struct seq_check c = { -1, -1, 0, 0, 0 };
	struct vh_bg b;

	vh_setup("[service:tick]\ncommand = %s every:1:tick\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("tick", "running", DEADLINE_MS));
	vh_bg_start(&b, "log", "-f", "tick", NULL);
	cr_assert(follow_until(&b, 50, &c), "the follower saw nothing");
	for (int i = 1; i <= 3; i++) {
		long target = c.last + 200;

		reexec_ok();
		cr_assert(follow_until(&b, target, &c), "the follower stopped after re-exec %d "
		    "at %ld\n%s", i, c.last, vh_log_tail());
	}
	cr_expect_eq(c.gaps, 0, "%ld gaps in %ld lines", c.gaps, c.lines);
	cr_expect_eq(c.dups, 0, "%ld duplicates in %ld lines", c.dups, c.lines);
	cr_expect_eq(vh_bg_wait(&b, 0), -1, "the follower ended");
	vh_bg_end(&b);
}

/* A status object's field of NAME, as a number (-1 if missing). */
static double
field_of(const char *name, const char *key)
{
	json_t *s = vh_service(name);
	double v = -1;

	if (s != NULL) {
		const json_t *f = json_object_get(s, key);
		if (json_is_number(f))
			v = json_number_value(f);
		json_decref(s);
	}
	return v;
}

static const char *
str_field(const char *name, const char *key, char *buf, size_t len)
{
	json_t *s = vh_service(name);

	snprintf(buf, len, "%s", s != NULL && json_is_string(json_object_get(s, key)) ?
	    json_string_value(json_object_get(s, key)) : "");
	json_decref(s);
	return buf;
}

Test(reexec, pids_counts_backoff_and_stopped_kept)
{
	char a[256], b[256];
	double up, next, since;
	pid_t pid, once_pid;

	vh_setup("[service:run]\ncommand = %s\n"
	    "[service:once]\ncommand = /bin/sh -c 'if [ -e %s ]; then exec sleep 1000; fi; "
	    ": > %s; exit 3'\nrestart = on-failure\nrestart_delay = 50ms\n"
	    "[service:back]\ncommand = %s exit:4\nrestart = always\nrestart_delay = 30s\n"
	    "[service:off]\ncommand = %s\nautostart = no\n",
	    vh_testsvc(), vh_path("ran"), vh_path("ran"), vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("run", "running", DEADLINE_MS));
	cr_assert(vh_wait_state("back", "backoff", DEADLINE_MS));
	cr_assert(vh_wait_state("once", "running", DEADLINE_MS), "%s", vh_log_tail());
	cr_assert_eq(field_of("once", "restarts"), 1);
	pid = vh_main_pid("run");
	once_pid = vh_main_pid("once");
	up = field_of("run", "uptime");
	next = field_of("back", "next_start_in");
	since = field_of("back", "since");
	str_field("back", "reason", a, sizeof(a));
	cr_assert(next > 20, "next_start_in %g", next);

	reexec_ok();

	cr_expect_eq(vh_main_pid("run"), pid);
	cr_expect_eq(vh_main_pid("once"), once_pid);
	cr_expect_eq(field_of("once", "restarts"), 1);
	cr_expect_eq(field_of("run", "restarts"), 0);
	cr_expect_geq(field_of("run", "uptime"), up, "uptime went back");
	cr_expect(field_of("run", "uptime") < up + 15, "uptime %g, was %g",
	    field_of("run", "uptime"), up);
	/* the back-off deadline is kept, not started anew nor dropped */
	cr_expect_eq(vh_state("back", b, sizeof(b)) ? strcmp(b, "backoff") : 1, 0, "back is %s", b);
	cr_expect(field_of("back", "next_start_in") <= next &&
	    field_of("back", "next_start_in") > next - 15, "next_start_in %g, was %g",
	    field_of("back", "next_start_in"), next);
	cr_expect_eq(field_of("back", "since"), since);
	cr_expect_str_eq(str_field("back", "reason", b, sizeof(b)), a);
	cr_expect_str_eq(vh_state("off", b, sizeof(b)), "stopped");
	/* the stopped one still starts on request, and the running one still stops */
	cr_assert_eq(ctl("start", "off", NULL), 0);
	cr_assert_eq(ctl("stop", "run", NULL), 0);
	cr_expect(vh_wait_gone(pid, DEADLINE_MS));
	cr_expect_eq(vh_zombie_children(), 0);
}

/* A line printed without its newline before the exec ends after it, as one line. */
Test(reexec, partial_line_kept)
{
	struct vh_result r;

	vh_setup("[service:half]\ncommand = %s partial:abc await:%s echo:def\n",
	    vh_testsvc(), vh_path("go"));
	vh_start_ok();
	cr_assert(vh_wait_state("half", "running", DEADLINE_MS));
	reexec_ok();
	cr_assert_eq(creat(vh_path("go"), 0644) >= 0, 1);
	cr_assert(vh_wait_file(vh_path("logs/half.log"), DEADLINE_MS));
	for (long long end = vh_now_ms() + DEADLINE_MS; vh_now_ms() < end; usleep(20000))
		if (strstr(vh_slurp(vh_path("logs/half.log")), "abcdef") != NULL)
			break;
	cr_expect(strstr(vh_slurp(vh_path("logs/half.log")), "abcdef") != NULL, "log: %s",
	    vh_slurp(vh_path("logs/half.log")));
	cr_assert_eq(vh_ctl(&r, "log", "half", NULL), 0);
	cr_expect(strstr(r.out, "abcdef") != NULL, "log: %s", r.out);
}

Test(reexec, clients_reconnect)
{
	struct vh_bg ev, rx;
	int ok = 0, n = 0, code;
	char *line;

	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("a", "running", DEADLINE_MS));
	vh_events_start(&ev, "a");
	json_decref(vh_events_until(&ev, "running", false, DEADLINE_MS));
	/* statuses all through a re-exec: each one succeeds */
	vh_bg_start(&rx, "daemon-reexec", NULL);
	while ((code = vh_bg_wait(&rx, 0)) == -1 && n < 1000) {
		struct vh_result r;
		ok += vh_ctl(&r, "status", NULL) == 0;
		n++;
	}
	if (code == -1)
		code = vh_bg_wait(&rx, DEADLINE_MS);
	line = vh_bg_line(&rx, 100);
	cr_assert_eq(code, 0, "daemon-reexec failed (%d): %s\n%s", code, line ? line : "",
	    vh_log_tail());
	free(line);
	vh_bg_end(&rx);
	cr_expect_eq(ok, n, "%d of %d statuses failed", n - ok, n);
	cr_assert_eq(hello_int("generation"), 1);
	/* the follower is connected again: it hears of a change made after the exec */
	cr_assert_eq(ctl("stop", "a", NULL), 0);
	{
		json_t *e = vh_events_until(&ev, "stopped", false, DEADLINE_MS);
		cr_expect_not_null(e, "the events client heard nothing after the re-exec");
		json_decref(e);
	}
	cr_expect_eq(vh_bg_wait(&ev, 0), -1, "the events client ended");
	vh_bg_end(&ev);
}

static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	cr_assert_geq(in, 0, "%s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	cr_assert_geq(out, 0, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	close(in);
	cr_assert_eq(close(out), 0);
}

/* Put the file at path in place of dest, as a package manager does (a new inode). */
static void
replace_with(const char *dest, const char *content_from, const char *script)
{
	char tmp[512];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", dest);
	if (script != NULL) {
		cr_assert_not_null(f = fopen(tmp, "w"));
		fputs(script, f);
		cr_assert_eq(fclose(f), 0);
		cr_assert_eq(chmod(tmp, 0755), 0);
	} else {
		copy_file(content_from, tmp);
	}
	cr_assert_eq(rename(tmp, dest), 0, "rename: %s", strerror(errno));
}


/*
 * vigild's fd count once it is at most want, or what it is at the deadline:
 * the connection of the vigilctl that just left may not be closed yet.
 */
static int
fds_down_to(pid_t pid, int want)
{
	long long end = vh_now_ms() + DEADLINE_MS;
	int n;

	while ((n = vh_count_fds(pid)) > want && vh_now_ms() < end)
		usleep(20000);
	return n;
}

/* vigild's fds without the passing ones: the least of samples over 300 ms. */
static int
settled_fds(pid_t pid)
{
	int least = vh_count_fds(pid), n;

	for (int i = 0; i < 15; i++) {
		usleep(20000);
		if ((n = vh_count_fds(pid)) < least)
			least = n;
	}
	return least;
}

Test(reexec, replaced_binary_refused_then_taken)
{
	const char *real = getenv("VIGILD") != NULL ? getenv("VIGILD") : "./vigild";
	char bin[512];
	struct vh_result r;
	pid_t pid;
	int fds;

	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	snprintf(bin, sizeof(bin), "%s", vh_path("vigild"));
	copy_file(real, bin);
	cr_assert_eq(setenv("VIGILD", bin, 1), 0);
	vh_start_ok();
	cr_assert(vh_wait_state("a", "running", DEADLINE_MS));
	pid = vh_main_pid("a");
	fds = vh_count_fds(vh.pid);

	/* a new binary that reads another format: refused, nothing touched */
	replace_with(bin, NULL, "#!/bin/sh\n[ \"$1\" = --handover-version ] && echo 999 && exit 0\n"
	    "exit 1\n");
	cr_assert_eq(vh_ctl(&r, "daemon-reexec", NULL), 1, "out: %s", r.out);
	cr_expect(strstr(r.err, "speaks handover format 999, this vigild writes 1") != NULL,
	    "err: %s", r.err);
	cr_expect_eq(hello_int("generation"), 0);
	cr_expect_eq(vh_main_pid("a"), pid);
	cr_expect_leq(fds_down_to(vh.pid, fds), fds, "fds of vigild: %d, were %d",
	    vh_count_fds(vh.pid), fds);

	/* one that does not know the question at all */
	replace_with(bin, NULL, "#!/bin/sh\necho vigild 0.0.1\n");
	cr_assert_eq(vh_ctl(&r, "daemon-reexec", NULL), 1);
	cr_expect(strstr(r.err, "does not know --handover-version") != NULL, "err: %s", r.err);
	cr_expect_eq(vh_main_pid("a"), pid);
	cr_expect_eq(vh_zombie_children(), 0);

	/* the real upgrade: a new file at the same path is the one that runs */
	replace_with(bin, real, NULL);
	reexec_ok();
	cr_expect_eq(hello_int("generation"), 1);
	cr_expect_eq(vh_main_pid("a"), pid);
	cr_expect(vh_log_contains("daemon-reexec: took back 1 services"), "%s", vh_log_tail());
}

Test(reexec, changed_config_refused)
{
	struct vh_result r;
	pid_t pid;

	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("a", "running", DEADLINE_MS));
	pid = vh_main_pid("a");
	vh_add_services("[service:b]\ncommand = %s\n", vh_testsvc());
	cr_assert_eq(vh_ctl(&r, "daemon-reexec", NULL), 1);
	cr_expect(strstr(r.err, "changed since it was loaded") != NULL, "err: %s", r.err);
	cr_expect_eq(hello_int("generation"), 0);
	cr_expect_eq(vh_main_pid("a"), pid);
	/* reloaded, the running definitions are the file's again */
	cr_assert_eq(ctl("reload", NULL), 0);
	reexec_ok();
	cr_expect_eq(vh_main_pid("a"), pid);
	cr_expect(vh_wait_state("b", "running", DEADLINE_MS));
}

Test(reexec, no_fd_leaks)
{
	int before, after1, after3;

	vh_setup("[service:a]\ncommand = %s every:5:a\n"
	    "[service:n]\ncommand = %s notify:READY=1 await:%s notify:STATUS=after\n"
	    "ready = notify\n"
	    "[service:late]\ncommand = %s fds:%s\nautostart = no\n",
	    vh_testsvc(), vh_testsvc(), vh_path("go"), vh_testsvc(), vh_path("fds"));
	vh_start_ok();
	cr_assert(vh_wait_state("a", "running", DEADLINE_MS));
	cr_assert(vh_wait_ready("n", DEADLINE_MS));
	before = settled_fds(vh.pid);
	reexec_ok();
	after1 = settled_fds(vh.pid);
	reexec_ok();
	reexec_ok();
	after3 = settled_fds(vh.pid);
	cr_expect_eq(after1, after3, "vigild's fds: %d after one re-exec, %d after three",
	    after1, after3);
	cr_expect(after1 <= before, "vigild's fds: %d before, %d after", before, after1);
	/* the notify socket was taken over: it is still heard */
	cr_assert_eq(creat(vh_path("go"), 0644) >= 0, 1);
	cr_expect(vh_wait_status_text("n", "after", DEADLINE_MS), "%s", vh_log_tail());
	cr_assert_eq(ctl("start", "late", NULL), 0);
	cr_assert(vh_wait_file(vh_path("fds"), DEADLINE_MS));
	cr_expect_str_eq(vh_slurp(vh_path("fds")), "0\n1\n2\n");
}


/* As PID 1 of a pid namespace (a container's init): the same pid 1 after, services kept. */
Test(reexec, as_pid_1)
{
	char *unshare[] = { "unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM",
	    getenv("VIGILD") != NULL ? getenv("VIGILD") : "./vigild", "-f", "-c", vh.conf, NULL };
	pid_t pid, init;

	if (system("unshare --pid --fork --mount-proc true >/dev/null 2>&1") != 0)
		VH_SKIP("unshare --pid does not work here");
	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	vh_exec(unshare, NULL, NULL);
	cr_assert(vh_wait_state("a", "running", DEADLINE_MS), "log:\n%s", vh_log_tail());
	cr_assert_eq(hello_int("pid"), 1);
	pid = vh_main_pid("a");
	cr_assert_gt(init = vh_first_child(vh.pid), 0, "no init below unshare %d", (int)vh.pid);
	reexec_ok();
	reexec_ok();
	cr_expect_eq(hello_int("pid"), 1);
	cr_expect_eq(hello_int("generation"), 2);
	cr_expect_eq(vh_main_pid("a"), pid);
	cr_expect_eq(vh_first_child(vh.pid), init);
	/* still the reaper of its services, and it stops as an init does */
	cr_assert_eq(ctl("restart", "a", NULL), 0, "%s", vh_log_tail());
	cr_expect_neq(vh_main_pid("a"), pid);
	cr_assert_eq(kill(init, SIGTERM), 0);
	cr_assert(vh_signal_and_wait(0, DEADLINE_MS), "still running; log:\n%s", vh_log_tail());
	cr_expect(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) == 0,
	    "wait status 0x%x; log:\n%s", (unsigned)vh.exit_status, vh_log_tail());
}
