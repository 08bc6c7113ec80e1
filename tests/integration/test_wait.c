/*
 * test_wait.c: `vigilctl wait` and the waits of start, stop and restart,
 * against the real vigild: done when every service is there, a failure at
 * once when one can no longer get there, a timeout that names what was
 * waited for, and the exit status of each.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(wait, .fini = vh_teardown, .timeout = 120);

static const char *
state_of(const char *name)
{
	static char buf[32];

	return vh_state(name, buf, sizeof(buf));
}

Test(wait, wait_returns_once_every_service_is_ready)
{
	struct vh_result r;

	vh_setup("[service:web]\ncommand = %s\nautostart = no\nstart_secs = 300ms\n"
	    "[service:api]\ncommand = %s\nautostart = no\nstart_secs = 600ms\n",
	    vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert_eq(vh_ctl(&r, "--no-wait", "start", "web", "api", NULL), 0, "%s", r.err);
	cr_assert_eq(vh_ctl(&r, "wait", "web", "api", NULL), 0, "wait: %s", r.err);
	cr_expect_str_eq(state_of("web"), "running");
	cr_expect_str_eq(state_of("api"), "running", "wait returned before api was ready");
	cr_expect(strstr(r.out, "web: running (pid ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "api: running (pid ") != NULL, "%s", r.out);

	/* there already: at once, for ready and for running */
	cr_expect_eq(vh_ctl(&r, "wait", "--for", "running", "web", NULL), 0, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "wait", "--for=ready", "--timeout", "1s", "web", NULL), 0,
	    "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "--json", "wait", "api", NULL), 0, "%s", r.err);
	cr_expect(strstr(r.out, "{\"ok\":true,\"services\":[{\"name\":\"api\"") == r.out,
	    "%s", r.out);
}

Test(wait, a_service_waiting_for_what_it_requires_is_waited_for)
{
	struct vh_result r;

	vh_setup("[service:db]\ncommand = %s\nautostart = no\nstart_secs = 500ms\n"
	    "[service:app]\ncommand = %s\nautostart = no\nstart_secs = 100ms\nrequires = db\n",
	    vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert_eq(vh_ctl(&r, "--no-wait", "start", "app", NULL), 0, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "wait", "app", NULL), 0, "wait: %s", r.err);
	cr_expect_str_eq(state_of("db"), "running");
	cr_expect_str_eq(state_of("app"), "running");
}

Test(wait, a_timeout_exits_1_naming_the_service_and_what_was_waited_for)
{
	struct vh_result r;
	long long t0;

	vh_setup("[service:slow]\ncommand = %s\nstart_secs = 1h\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("slow", "starting", 10000));
	t0 = vh_now_ms();
	cr_expect_eq(vh_ctl(&r, "wait", "--timeout", "300ms", "slow", NULL), 1, "%s", r.out);
	cr_expect_geq(vh_now_ms() - t0, 300, "the timeout came early");
	cr_expect(strstr(r.err, "slow: still starting after 300ms, waiting to be ready") != NULL,
	    "%s", r.err);
	cr_expect_str_eq(state_of("slow"), "starting", "a timeout undoes nothing");
	/* --json: vigild's reply, with the services */
	cr_expect_eq(vh_ctl(&r, "--json", "wait", "--timeout", "200ms", "slow", NULL), 1);
	cr_expect(strstr(r.out, "\"error\":\"timeout\"") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"services\":[{\"name\":\"slow\"") != NULL, "%s", r.out);
}

Test(wait, a_service_gone_fatal_fails_the_wait_at_once_with_its_reason)
{
	struct vh_result r;

	vh_setup("[service:crash]\ncommand = %s exit:3\nautostart = no\nstart_retries = 1\n"
	    "[service:ok]\ncommand = %s\nautostart = no\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert_eq(vh_ctl(&r, "--no-wait", "start", "crash", "ok", NULL), 0, "%s", r.err);
	/* at once, not at the timeout: the reason is the fatal service's, not a timeout's */
	cr_expect_eq(vh_ctl(&r, "wait", "--timeout", "60s", "ok", "crash", NULL), 1, "%s", r.out);
	cr_expect(strstr(r.err, "crash: fatal instead of ready (exited 3; gave up after 1 "
	    "failed starts)") != NULL, "%s", r.err);
	cr_expect_str_eq(state_of("crash"), "fatal");

	/* what is fatal already fails at once; so does a stopped service, nothing will start it */
	cr_expect_eq(vh_ctl(&r, "wait", "crash", NULL), 1);
	cr_expect(strstr(r.err, "crash: fatal instead of ready") != NULL, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "stop", "ok", NULL), 0, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "wait", "--for", "running", "ok", NULL), 1);
	cr_expect(strstr(r.err, "ok: stopped instead of running (") != NULL, "%s", r.err);
	/* start --wait reports the same way */
	cr_expect_eq(vh_ctl(&r, "start", "crash", NULL), 1);
	cr_expect(strstr(r.err, "crash: fatal instead of ready (exited 3") != NULL, "%s", r.err);
}

Test(wait, for_stopped_waits_out_a_slow_stop)
{
	struct vh_result r;

	vh_setup("[service:stubborn]\ncommand = %s ignore:15\nstart_secs = 100ms\n"
	    "stop_timeout = 3s\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("stubborn", "running", 10000));
	cr_assert_eq(vh_ctl(&r, "--no-wait", "stop", "stubborn", NULL), 0, "%s", r.err);
	cr_expect_str_eq(state_of("stubborn"), "stopping", "TERM is ignored: it stops slowly");
	cr_expect_eq(vh_ctl(&r, "wait", "--for", "stopped", "stubborn", NULL), 0, "%s", r.err);
	cr_expect_str_eq(state_of("stubborn"), "stopped", "wait returned before it stopped");
	cr_expect(strstr(r.out, "stubborn: stopped") != NULL, "%s", r.out);
	/* stopped already: at once */
	cr_expect_eq(vh_ctl(&r, "wait", "--for", "stopped", "--timeout", "1s", "stubborn", NULL),
	    0, "%s", r.err);
}

Test(wait, for_exited_waits_for_a_job_to_end)
{
	struct vh_result r;

	vh_setup("[service:job]\ncommand = %s sleep:1000 exit:0\nrestart = never\n"
	    "start_secs = 100ms\n"
	    "[service:idle]\ncommand = %s\nautostart = no\n", vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_expect_eq(vh_ctl(&r, "wait", "--for", "exited", "job", NULL), 0, "%s", r.err);
	cr_expect_str_eq(state_of("job"), "exited", "wait returned before the job ended");
	cr_expect(strstr(r.out, "job: exited") != NULL, "%s", r.out);
	/* a stopped service is not going to exit */
	cr_expect_eq(vh_ctl(&r, "wait", "--for", "exited", "idle", NULL), 1);
	cr_expect(strstr(r.err, "idle: stopped instead of exited (autostart is off)") != NULL,
	    "%s", r.err);
}

Test(wait, bad_names_and_options)
{
	struct vh_result r;

	vh_setup("[service:web]\ncommand = %s\nautostart = no\n", vh_testsvc());
	vh_start_ok();
	cr_expect_eq(vh_ctl(&r, "wait", "web", "nosuch", NULL), 1);
	cr_expect(strstr(r.err, "no such service: nosuch") != NULL, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "wait", NULL), 2, "no names: %s", r.err);
	cr_expect_eq(vh_ctl(&r, "wait", "--for", "up", "web", NULL), 2, "%s", r.err);
	cr_expect(strstr(r.err, "--for: expected running, ready, stopped or exited, found 'up'")
	    != NULL, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "wait", "--timeout", "0", "web", NULL), 2, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "status", "--for", "ready", NULL), 2, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "start", "--wait", "--no-wait", "web", NULL), 2, "%s", r.err);
}

Test(wait, start_and_restart_wait_for_ready_and_stop_for_stopped)
{
	struct vh_result r;
	json_t *svc;
	long long pid;

	vh_setup("[service:web]\ncommand = %s\nautostart = no\nstart_secs = 300ms\n",
	    vh_testsvc());
	vh_start_ok();
	cr_assert_eq(vh_ctl(&r, "start", "--wait", "web", NULL), 0, "%s", r.err);
	cr_expect_str_eq(state_of("web"), "running", "start returned before ready");
	svc = vh_service("web");
	pid = json_integer_value(json_object_get(svc, "pid"));
	json_decref(svc);
	cr_assert_eq(vh_ctl(&r, "--json", "restart", "web", NULL), 0, "%s", r.err);
	cr_expect(strstr(r.out, "{\"ok\":true,\"services\":[{\"name\":\"web\",\"state\":\"running\"")
	    != NULL, "%s", r.out);
	svc = vh_service("web");
	cr_expect_neq(json_integer_value(json_object_get(svc, "pid")), pid, "restart kept the pid");
	json_decref(svc);
	cr_assert_eq(vh_ctl(&r, "stop", "web", NULL), 0, "%s", r.err);
	cr_expect_str_eq(state_of("web"), "stopped");
	cr_expect_str_eq(r.out, "web: stopped\n");
}
