/*
 * test_lifecycle.c: restart policies and back-off as a user sees them,
 * with the real vigild, the real vigilctl and real dying processes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

TestSuite(lifecycle, .fini = vh_teardown, .timeout = 90);

/* Start times (ms, monotonic) of successive runs from a stamp file. */
static int
read_stamps(const char *path, long long *ms, int max)
{
	FILE *f = fopen(path, "r");
	long long ns;
	int pid, n = 0;

	while (f != NULL && n < max && fscanf(f, "%d %lld%*[^\n]", &pid, &ns) == 2)
		ms[n++] = ns / 1000000;
	if (f != NULL)
		fclose(f);
	return n;
}

/* Wait until the stamp file records at least n starts; the count seen. */
static int
wait_stamps(const char *path, int n, int timeout_ms)
{
	long long t[16], deadline = vh_now_ms() + timeout_ms;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int seen;

	while ((seen = read_stamps(path, t, 16)) < n && vh_now_ms() < deadline)
		nanosleep(&tick, NULL);
	return seen;
}

static long long
json_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

Test(lifecycle, crashing_service_backs_off_with_growing_delays_then_is_fatal)
{
	long long t[8];
	json_t *s, *last;
	int n;

	vh_setup("[service:flaky]\n"
	    "command = %s stamp:%s exit:3\n"
	    "restart_delay = 150ms\nrestart_delay_max = 5s\nstart_secs = 2s\n"
	    "start_retries = 4\n", vh_testsvc(), vh_path("stamps"));
	cr_assert(vh_start(), "vigild did not start; log: %s", vh.log);
	cr_assert(vh_wait_state("flaky", "fatal", 30000), "never became fatal; log: %s", vh.log);

	n = read_stamps(vh_path("stamps"), t, 8);
	cr_assert_eq(n, 4, "expected exactly 4 starts before fatal, saw %d", n);
	/* the timer guarantees lower bounds: 150ms, then 300ms, then 600ms */
	cr_expect_geq(t[1] - t[0], 150, "1st delay %lld ms", t[1] - t[0]);
	cr_expect_geq(t[2] - t[1], 300, "2nd delay %lld ms", t[2] - t[1]);
	cr_expect_geq(t[3] - t[2], 600, "3rd delay %lld ms", t[3] - t[2]);

	s = vh_service("flaky");
	cr_assert_not_null(s);
	cr_expect_eq(json_int(s, "failures"), 4);
	cr_expect_eq(json_int(s, "restarts"), 3);
	cr_expect(json_is_null(json_object_get(s, "pid")));
	last = json_object_get(s, "last_exit");
	cr_expect_eq(json_int(last, "code"), 3, "last_exit: %s", json_dumps(last, 0));
	cr_expect(strstr(json_string_value(json_object_get(s, "reason")),
	    "gave up after 4 failed starts") != NULL, "reason: %s",
	    json_string_value(json_object_get(s, "reason")));
	json_decref(s);
	cr_expect(vh_log_contains("flaky: backoff -> starting"), "transitions are logged");
	cr_expect(vh_log_contains("flaky: starting -> fatal"), "fatal transition is logged");
}

Test(lifecycle, status_table_shows_fatal_with_its_reason)
{
	struct vh_result r;

	vh_setup("[service:flaky]\ncommand = %s exit:7\nrestart_delay = 10ms\n"
	    "start_retries = 2\n\n[service:calm]\ncommand = %s\n", vh_testsvc(), vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_state("flaky", "fatal", 20000));
	cr_assert(vh_wait_state("calm", "running", 20000));
	cr_assert_eq(vh_ctl(&r, "status", NULL), 0, "status failed: %s", r.err);
	cr_expect(strstr(r.out, "NAME") && strstr(r.out, "STATE") && strstr(r.out, "LAST-EXIT"),
	    "no header: %s", r.out);
	cr_expect(strstr(r.out, "exit 7") != NULL, "no last exit: %s", r.out);
	cr_expect(strstr(r.out, "gave up after 2 failed starts") != NULL, "no reason: %s", r.out);
	cr_expect(strstr(r.out, "running") != NULL, "%s", r.out);
}

Test(lifecycle, a_good_run_resets_the_back_off)
{
	json_t *s;

	/* each run outlives start_secs, so no run is a failed start */
	vh_setup("[service:worker]\ncommand = %s stamp:%s sleep:400 exit:1\n"
	    "start_secs = 150ms\nrestart_delay = 50ms\nstart_retries = 2\n",
	    vh_testsvc(), vh_path("stamps"));
	cr_assert(vh_start());
	cr_assert(vh_wait_file(vh_path("stamps"), 10000));
	cr_assert_geq(wait_stamps(vh_path("stamps"), 4, 20000), 4, "did not restart 3 times");
	s = vh_service("worker");
	cr_assert_not_null(s);
	cr_expect_neq(strcmp(json_string_value(json_object_get(s, "state")), "fatal"), 0,
	    "start_retries must not count good runs");
	cr_expect_geq(json_int(s, "restarts"), 3);
	cr_expect_leq(json_int(s, "failures"), 1, "failures: %lld", json_int(s, "failures"));
	json_decref(s);
}

Test(lifecycle, restart_policies_never_and_on_failure)
{
	vh_setup("[service:never]\ncommand = %s sleep:50 exit:1\nrestart = never\n\n"
	    "[service:clean]\ncommand = %s sleep:50 exit:0\nrestart = on-failure\n\n"
	    "[service:dirty]\ncommand = %s stamp:%s sleep:50 exit:2\nrestart = on-failure\n"
	    "restart_delay = 20ms\n",
	    vh_testsvc(), vh_testsvc(), vh_testsvc(), vh_path("dirty"));
	cr_assert(vh_start());
	cr_expect(vh_wait_state("never", "exited", 10000));
	cr_expect(vh_wait_state("clean", "exited", 10000));
	cr_expect_geq(wait_stamps(vh_path("dirty"), 2, 10000), 2,
	    "on-failure did not restart after exit 2");
}

Test(lifecycle, autostart_off_stays_stopped_until_started)
{
	struct vh_result r;
	json_t *s;
	long pid;

	vh_setup("[service:manual]\ncommand = %s pid:%s\nautostart = no\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("manual.pid"));
	cr_assert(vh_start());
	cr_expect(vh_wait_state("manual", "stopped", 5000));
	s = vh_service("manual");
	cr_expect(json_is_null(json_object_get(s, "pid")));
	json_decref(s);
	cr_assert_eq(vh_ctl(&r, "start", "manual", NULL), 0, "start: %s %s", r.out, r.err);
	cr_expect(vh_wait_state("manual", "running", 1), "start waits for running");
	cr_assert(vh_wait_file(vh_path("manual.pid"), 5000));
	pid = vh_read_long(vh_path("manual.pid"));
	cr_expect(vh_pid_alive((pid_t)pid));
	cr_assert_eq(vh_ctl(&r, "stop", "manual", NULL), 0, "stop: %s %s", r.out, r.err);
	cr_expect(vh_wait_state("manual", "stopped", 1), "stop waits for stopped");
	cr_expect(vh_wait_gone((pid_t)pid, 5000), "process %ld still there", pid);
}

/*
 * Timers count from the time they are armed, not from the start of the
 * loop turn: 300 services released in one turn (their requirement became
 * ready) are spawned one after another, and each must be `starting` for
 * its whole start_secs. With libev's cached turn time the last ones were
 * counted up after 286 ms.
 */
#define MANY	300
Test(lifecycle, start_secs_never_ends_early_for_services_spawned_in_one_long_turn)
{
	static char conf[MANY * 300 + 4096];
	double starting[MANY], running[MANY];
	struct vh_bg ev;
	size_t off = 0;
	int nrunning = 0, early = 0, worst = -1;
	char *line;
	FILE *f;

	off += (size_t)snprintf(conf + off, sizeof(conf) - off,
	    "[service:gate]\ncommand = %s await:%s notify:READY=1\nready = notify\n\n",
	    vh_testsvc(), vh_path("open"));
	for (int i = 0; i < MANY; i++)
		off += (size_t)snprintf(conf + off, sizeof(conf) - off,
		    "[service:s%03d]\ncommand = %s\nrequires = gate\nstart_secs = 1s\n\n",
		    i, vh_testsvc());
	cr_assert_lt(off, sizeof(conf));
	vh_setup("%s", conf);
	vh_start_ok();
	for (int i = 0; i < MANY; i++)
		starting[i] = running[i] = -1;
	vh_events_start(&ev, NULL);
	/* the stream begins with where each service is: once all are told, it is live */
	for (int n = 0; n < MANY + 1; n++) {
		bool snapshot;

		line = vh_bg_line(&ev, 20000);
		snapshot = line != NULL && strstr(line, "\"from\":null") != NULL;
		free(line);
		cr_assert(snapshot, "event %d of the stream's beginning is not a snapshot", n);
	}
	/* the gate opens: every s### becomes startable in the same turn */
	f = fopen(vh_path("open"), "w");
	cr_assert(f != NULL && fputs("1\n", f) >= 0 && fclose(f) == 0, "open: %s",
	    strerror(errno));
	while (nrunning < MANY && (line = vh_bg_line(&ev, 60000)) != NULL) {
		json_t *e = json_loads(line, 0, NULL);
		const char *name = json_string_value(json_object_get(e, "service"));
		const char *to = json_string_value(json_object_get(e, "to"));
		double t = json_real_value(json_object_get(e, "time"));
		int i;

		free(line);
		if (name != NULL && to != NULL && sscanf(name, "s%d", &i) == 1 &&
		    i >= 0 && i < MANY && json_is_string(json_object_get(e, "from"))) {
			if (strcmp(to, "starting") == 0 && starting[i] < 0)
				starting[i] = t;
			else if (strcmp(to, "running") == 0 && running[i] < 0) {
				running[i] = t;
				nrunning++;
			}
		}
		json_decref(e);
	}
	vh_bg_end(&ev);
	cr_assert_eq(nrunning, MANY, "only %d of %d services ran; log: %s", nrunning, MANY,
	    vh_log_tail());
	for (int i = 0; i < MANY; i++) {
		cr_assert(starting[i] > 0, "no starting event for s%03d", i);
		/* 2 ms of slack: the wall clock may be slewed against the monotonic one */
		if (running[i] - starting[i] < 0.998) {
			early++;
			if (worst < 0 || running[i] - starting[i] < running[worst] - starting[worst])
				worst = i;
		}
	}
	cr_expect_eq(early, 0, "%d services counted up early; s%03d after %.0f ms", early,
	    worst, worst >= 0 ? (running[worst] - starting[worst]) * 1000 : 0.);
}
