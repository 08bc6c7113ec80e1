/*
 * test_ready.c: readiness as services speak it. Each kind (notify, fd:N,
 * tcp:, exec:) is ready exactly when the service says so, and not before;
 * never ready means a failed start; a missed watchdog means a restart.
 * Real clients too: redis-server --supervised systemd, systemd-notify, and
 * a shell script speaking the protocol through systemd-notify.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(ready, .fini = vh_teardown, .timeout = 90);

static bool
is_ready(const char *name)
{
	json_t *s = vh_service(name);
	bool r = s != NULL && json_is_true(json_object_get(s, "ready"));

	json_decref(s);
	return r;
}

static long
pid_of(const char *name)
{
	json_t *s = vh_service(name);
	long pid = s ? (long)json_integer_value(json_object_get(s, "pid")) : 0;

	json_decref(s);
	return pid;
}

/* GO's path: the service waits for it before it says ready. */
static const char *
go(void)
{
	return vh_path("GO");
}

static void
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fclose(f);
}

static void
say_go(void)
{
	touch(go());
}

static void
say_fed(void)
{
	touch(vh_path("FED"));
}

/*
 * Up start_secs, yet not ready: running with ready false and a reason that
 * says what it waits for, until the service speaks.
 */
static void
assert_waits_for(const char *name, const char *what)
{
	char buf[512];

	cr_assert(vh_wait_state(name, "running", 10000), "%s never got past start_secs:\n%s",
	    name, vh_log_tail());
	cr_assert_not(is_ready(name), "%s: ready before it said so:\n%s", name, vh_log_tail());
	cr_assert(strstr(vh_reason(name, buf, sizeof(buf)), what) != NULL,
	    "%s: the reason should say it waits for '%s', got '%s'", name, what, buf);
}

Test(ready, notify_ready_only_after_READY_1)
{
	vh_setup("[service:n]\ncommand = %s await:%s 'notify:STATUS=warm\\nREADY=1'\n"
	    "ready = notify\nstart_secs = 100ms\n", vh_testsvc(), go());
	cr_assert(vh_start());
	assert_waits_for("n", "waiting for READY=1");
	say_go();
	cr_assert(vh_wait_ready("n", 10000), "READY=1 was not heard:\n%s", vh_log_tail());
	json_t *s = vh_service("n");
	cr_expect_str_eq(json_string_value(json_object_get(s, "status_text")), "warm");
	cr_expect_str_eq(json_string_value(json_object_get(s, "ready_kind")), "notify");
	json_decref(s);
	cr_expect(vh_log_contains("n: running -> running (ready: READY=1"), "%s", vh_log_tail());
}

Test(ready, notify_environment_names_socket_and_watchdog)
{
	char want[64], *env;
	long pid;

	vh_setup("[service:w]\ncommand = %s env:%s notify:READY=1\nready = notify\n"
	    "watchdog = 1h\n", vh_testsvc(), vh_path("env"));
	cr_assert(vh_start());
	cr_assert(vh_wait_ready("w", 10000), "%s", vh_log_tail());
	pid = pid_of("w");
	env = vh_slurp(vh_path("env"));
	cr_expect(strstr(env, "NOTIFY_SOCKET=") != NULL, "no NOTIFY_SOCKET in:\n%s", env);
	cr_expect(strstr(env, "\nWATCHDOG_USEC=3600000000\n") != NULL, "WATCHDOG_USEC:\n%s", env);
	snprintf(want, sizeof(want), "\nWATCHDOG_PID=%ld\n", pid);
	cr_expect(strstr(env, want) != NULL, "expected%s(the service's own pid) in:\n%s",
	    want, env);
}

Test(ready, never_ready_is_a_failed_start_then_fatal)
{
	char buf[512];

	vh_setup("[service:slow]\ncommand = %s\nready = notify\nready_timeout = 300ms\n"
	    "start_secs = 100ms\nstart_retries = 2\nrestart_delay = 50ms\n", vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_state("slow", "fatal", 15000), "never gave up:\n%s", vh_log_tail());
	vh_reason("slow", buf, sizeof(buf));
	cr_expect(strstr(buf, "not ready within 300ms (no READY=1)") != NULL, "reason: %s", buf);
	cr_expect(strstr(buf, "gave up after 2 failed starts") != NULL, "reason: %s", buf);
	cr_expect(vh_log_contains("slow: stopping -> backoff (not ready within 300ms"),
	    "the first miss must back off:\n%s", vh_log_tail());
	cr_expect_eq(vh_zombie_children(), 0);
}

Test(ready, watchdog_miss_kills_and_restarts)
{
	struct vh_bg *b = calloc(1, sizeof(*b));
	long first, second;
	char kill_line[128];
	json_t *e;

	/*
	 * ready, five pings, then silent until FED exists: the first run is
	 * killed; the test then makes FED, so the second run feeds the
	 * watchdog for good and stays, its status steady to read.
	 */
	vh_setup("[service:dog]\ncommand = %s notify:READY=1 pings:50:5 await:%s "
	    "pings:50:100000\nready = notify\nwatchdog = 1s\nrestart_delay = 50ms\n",
	    vh_testsvc(), vh_path("FED"));
	cr_assert(vh_start());
	/* the events stream misses no state, however short */
	vh_events_start(b, "dog");
	e = vh_events_until(b, "running", true, 20000);
	cr_assert_not_null(e, "never ready:\n%s", vh_log_tail());
	first = (long)json_integer_value(json_object_get(e, "pid"));
	json_decref(e);
	e = vh_events_until(b, "backoff", false, 20000);
	cr_assert_not_null(e, "the watchdog never fired:\n%s", vh_log_tail());
	cr_expect(strstr(json_string_value(json_object_get(e, "reason")),
	    "watchdog: no WATCHDOG=1 for 1s, killed by ABRT") != NULL, "reason: %s",
	    json_string_value(json_object_get(e, "reason")));
	json_decref(e);
	snprintf(kill_line, sizeof(kill_line), "dog: watchdog: no WATCHDOG=1 for 1s, killing pid %ld",
	    first);
	cr_expect(vh_log_contains(kill_line), "%s", vh_log_tail());
	say_fed();
	e = vh_events_until(b, "running", true, 20000);
	cr_assert_not_null(e, "not back:\n%s", vh_log_tail());
	second = (long)json_integer_value(json_object_get(e, "pid"));
	json_decref(e);
	vh_bg_end(b);
	free(b);
	cr_expect_neq(first, second, "restarted, so a new pid");
	json_t *s = vh_service("dog");
	json_t *le = json_object_get(s, "last_exit");
	cr_expect_str_eq(json_string_value(json_object_get(le, "signal")), "ABRT",
	    "the watchdog sends ABRT; last_exit: %s", json_dumps(le, 0));
	cr_expect_eq(json_integer_value(json_object_get(le, "pid")), first);
	cr_expect_eq(json_integer_value(json_object_get(s, "pid")), second,
	    "the fed second run must stay");
	json_decref(s);
}

Test(ready, fd_ready_at_the_first_line)
{
	vh_setup("[service:f]\ncommand = %s await:%s fdline:5\nready = fd:5\n"
	    "start_secs = 100ms\n", vh_testsvc(), go());
	cr_assert(vh_start());
	assert_waits_for("f", "a line on fd 5");
	say_go();
	cr_assert(vh_wait_ready("f", 10000), "%s", vh_log_tail());
	cr_expect(vh_log_contains("f: running -> running (ready: a line on fd 5"), "%s",
	    vh_log_tail());
}

Test(ready, tcp_ready_once_the_port_accepts)
{
	int port = vh_free_port();
	char what[64];

	vh_setup("[service:t]\ncommand = %s await:%s listen:%d\nready = tcp:%d\n"
	    "start_secs = 100ms\n", vh_testsvc(), go(), port, port);
	cr_assert(vh_start());
	snprintf(what, sizeof(what), "connection to 127.0.0.1 port %d", port);
	assert_waits_for("t", what);
	say_go();
	cr_assert(vh_wait_ready("t", 10000), "%s", vh_log_tail());
}

Test(ready, exec_ready_when_the_check_exits_0)
{
	vh_setup("[service:x]\ncommand = %s\nready = exec:test -e %s\nstart_secs = 100ms\n",
	    vh_testsvc(), go());
	cr_assert(vh_start());
	assert_waits_for("x", "success of test -e");
	say_go();
	cr_assert(vh_wait_ready("x", 10000), "%s", vh_log_tail());
	cr_expect(vh_log_contains("x: running -> running (ready: check command exited 0"),
	    "%s", vh_log_tail());
	cr_expect_eq(vh_zombie_children(), 0, "every check was reaped");
}

Test(ready, dependent_waits_for_ready_not_for_running)
{
	vh_setup("[service:db]\ncommand = %s await:%s notify:READY=1\nready = notify\n"
	    "start_secs = 50ms\n\n[service:web]\ncommand = %s\nrequires = db\n",
	    vh_testsvc(), go(), vh_testsvc());
	cr_assert(vh_start());
	assert_waits_for("db", "READY=1");
	cr_assert(vh_wait_reason("web", "waiting for db", 5000), "%s", vh_log_tail());
	cr_expect(pid_of("web") == 0, "web must not start before db is ready");
	say_go();
	cr_assert(vh_wait_state("web", "running", 10000), "%s", vh_log_tail());
}

Test(ready, start_returns_once_ready)
{
	struct vh_result r;

	vh_setup("[service:s]\ncommand = %s sleep:300 notify:READY=1\nready = notify\n"
	    "autostart = off\nstart_secs = 50ms\n", vh_testsvc());
	cr_assert(vh_start());
	cr_assert_eq(vh_ctl(&r, "start", "s", NULL), 0, "start: %s%s", r.out, r.err);
	cr_expect(is_ready("s"), "start returned before the service was ready");
}

Test(ready, bad_messages_are_dropped_whole)
{
	/* 4097 bytes; then READY=1, a NUL, STATUS=x: the NUL spoils all of it */
	vh_setup("[service:b]\ncommand = %s notify-size:4097 "
	    "notify-hex:52454144593d31005354415455533d78 await:%s notify:READY=1\n"
	    "ready = notify\nstart_secs = 100ms\n", vh_testsvc(), go());
	cr_assert(vh_start());
	/* running comes from start_secs; the datagrams are heard when they are heard */
	cr_assert(vh_wait_state("b", "running", 10000), "%s", vh_log_tail());
	cr_assert(vh_wait_log_count("b: notify: dropped a message from pid", 2, 20000), "%s",
	    vh_log_tail());
	cr_assert(vh_log_contains("longer than 4096 bytes"), "%s", vh_log_tail());
	cr_assert(vh_log_contains("it holds a NUL byte"), "%s", vh_log_tail());
	cr_expect_not(is_ready("b"), "READY=1 next to a NUL must not count");
	say_go();
	cr_assert(vh_wait_ready("b", 10000), "%s", vh_log_tail());
	json_t *s = vh_service("b");
	cr_expect_null(json_object_get(s, "status_text"), "no STATUS= was valid");
	json_decref(s);
}

Test(ready, a_4096_byte_message_is_whole)
{
	vh_setup("[service:m]\ncommand = %s notify-size:4096 notify:READY=1\nready = notify\n",
	    vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_ready("m", 10000), "%s", vh_log_tail());
	json_t *s = vh_service("m");
	const char *t = json_string_value(json_object_get(s, "status_text"));
	cr_expect(t != NULL && strlen(t) == 4096 - 7, "STATUS= of a 4096-byte message: %zu bytes",
	    t ? strlen(t) : 0);
	json_decref(s);
}

/* Whether vigild logged the end of a forking service's first process, as either kind. */
static bool
parent_exit_logged(int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	do {
		if (vh_log_contains("reaped orphan pid") || vh_log_contains("former main pid"))
			return true;
		usleep(20000);
	} while (vh_now_ms() < deadline);
	return false;
}

Test(ready, mainpid_moves_the_main_process)
{
	long child;

	vh_setup("[service:fork]\ncommand = %s mainpid:%s\nready = notify\n",
	    vh_testsvc(), vh_path("child"));
	cr_assert(vh_start());
	cr_assert(vh_wait_ready("fork", 10000), "%s", vh_log_tail());
	cr_assert(vh_wait_file(vh_path("child"), 5000));
	child = vh_read_long(vh_path("child"));
	cr_expect_eq(pid_of("fork"), child, "status must show the forked child");
	/*
	 * the parent's exit 0 was no death of the service: reaped as an orphan
	 * once MAINPID= moved the main pid, or as a former main process when
	 * vigild took its exit and the datagram in one turn
	 */
	cr_expect(parent_exit_logged(20000), "%s", vh_log_tail());
	cr_expect_str_eq(vh_state("fork", (char[32]){ 0 }, 32), "running");
	struct vh_result r;
	cr_assert_eq(vh_ctl(&r, "stop", "fork", NULL), 0, "%s%s", r.out, r.err);
	cr_expect(vh_wait_gone((pid_t)child, 5000), "stop must end the new main pid");
}

/*
 * The race of a daemon that forks: its MAINPID= datagram and its own exit
 * reach vigild in one loop turn (vigild is stopped across both). The exit
 * is a former main process's, not the service's end.
 */
Test(ready, mainpid_and_the_parents_exit_in_one_turn)
{
	char state[32];
	long parent, child;
	FILE *go;

	vh_setup("%s", "");
	vh_add_services("[service:fork]\ncommand = %s pid:%s await:%s mainpid:%s\n"
	    "ready = notify\nrestart = never\n", vh_testsvc(), vh_path("parent"),
	    vh_path("go"), vh_path("child"));
	cr_assert(vh_start());
	cr_assert(vh_wait_file(vh_path("parent"), 20000), "%s", vh_log_tail());
	parent = vh_read_long(vh_path("parent"));
	/* a failed assertion from here on leaves it stopped: teardown's SIGKILL still ends it */
	cr_assert_eq(kill(vh.pid, SIGSTOP), 0);
	cr_assert_not_null(go = fopen(vh_path("go"), "w"));
	fclose(go);
	/* the parent has forked, notified and exited: a zombie until vigild runs again */
	cr_assert(vh_wait_file(vh_path("child"), 20000));
	child = vh_read_long(vh_path("child"));
	for (long long deadline = vh_now_ms() + 20000;
	    vh_pid_state((pid_t)parent) != 'Z' && vh_now_ms() < deadline; )
		usleep(10000);
	cr_expect_eq(vh_pid_state((pid_t)parent), 'Z', "the parent did not exit");
	cr_assert_eq(kill(vh.pid, SIGCONT), 0);

	cr_assert(vh_wait_ready("fork", 20000), "%s", vh_log_tail());
	cr_expect_eq(pid_of("fork"), child, "%s", vh_log_tail());
	cr_expect_str_eq(vh_state("fork", state, sizeof(state)), "running", "%s",
	    vh_log_tail());
	cr_expect(vh_pid_alive((pid_t)child), "the new main process must run on");
	cr_expect(parent_exit_logged(20000), "%s", vh_log_tail());
}

/*
 * STATUS= before READY=1 is what the table's INFO shows while the service
 * gets ready; without one, INFO says what it waits for, with no duration
 * that would stay as written while UPTIME grows.
 */
Test(ready, status_text_shows_before_ready_and_no_frozen_duration)
{
	static struct vh_result r;
	char reason[256];

	vh_setup("[service:slow]\ncommand = %s 'notify:STATUS=loading 3 of 9'\n"
	    "ready = notify\nready_timeout = 1h\n"
	    "[service:quiet]\ncommand = %s\nready = notify\nready_timeout = 1h\n",
	    vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_status_text("slow", "loading 3 of 9", 20000), "%s", vh_log_tail());
	cr_assert(vh_wait_reason("quiet", "not ready: waiting for", 20000), "%s",
	    vh_log_tail());
	cr_assert_eq(vh_ctl(&r, "status", NULL), 0, "%s", r.err);
	cr_expect(strstr(r.out, "loading 3 of 9") != NULL, "status:\n%s", r.out);
	cr_expect(strstr(r.out, "not ready: waiting for READY=1") != NULL, "status:\n%s", r.out);
	cr_expect(strstr(r.out, "up for") == NULL, "status:\n%s", r.out);
	cr_expect(strstr(vh_reason("quiet", reason, sizeof(reason)), "ms") == NULL, "%s",
	    reason);
}
