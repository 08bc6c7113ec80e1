/*
 * test_service.c: the state machine, driven with a fake spawner, a fake
 * kill and a settable clock; no process is created.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "vigild.h"

static int64_t fake_now;
static int next_pid = 100;
static int spawn_fail;		/* make the next spawns fail */
static int kills[16][2], nkills;
static int kill_errno;	/* make kills fail with this */
static int64_t armed_ms = -1;	/* -1: no timer armed */
static int changes;

static int
fake_spawn(struct service *s, char *err, size_t len)
{
	if (spawn_fail) {
		snprintf(err, len, "exec failed: /nope: No such file or directory");
		return -1;
	}
	s->pid = next_pid++;
	return 0;
}

static int
fake_kill(pid_t pid, int sig)
{
	if (nkills < 16) {
		kills[nkills][0] = (int)pid;
		kills[nkills][1] = sig;
		nkills++;
	}
	if (kill_errno != 0) {
		errno = kill_errno;
		return -1;
	}
	return 0;
}

static void fake_arm(struct service *s, int64_t ms) { (void)s; armed_ms = ms; }
static void fake_disarm(struct service *s) { (void)s; armed_ms = -1; }
static int64_t fake_clock(void) { return fake_now; }
static void fake_changed(struct service *s, enum service_state from) { (void)s; (void)from; changes++; }

static const struct service_ops fake_ops = {
	.spawn = fake_spawn, .kill = fake_kill, .timer_arm = fake_arm,
	.timer_disarm = fake_disarm, .now_ms = fake_clock, .changed = fake_changed,
};

static struct service_conf conf;
static struct service *svc;

static void
setup(void)
{
	memset(&conf, 0, sizeof(conf));
	conf.name = "web";
	conf.autostart = true;
	conf.restart = RESTART_ALWAYS;
	conf.restart_delay_ms = 100;
	conf.restart_delay_max_ms = 1000;
	conf.start_secs_ms = 1000;
	conf.stop_signal = SIGTERM;
	conf.stop_timeout_ms = 5000;
	fake_now = 1000000;
	spawn_fail = 0;
	nkills = 0;
	kill_errno = 0;
	armed_ms = -1;
	changes = 0;
	log_init("test", LOG_LEVEL_ERROR);
	svc = service_new(&conf, &fake_ops);
}

static void
teardown(void)
{
	service_free(svc);
}

static void
die_with(int code)
{
	fake_now += 10;
	service_process_ended(svc, code << 8, NULL);	/* as wait4 reports exit(code) */
}

TestSuite(service, .init = setup, .fini = teardown);

Test(service, backoff_doubles_up_to_the_maximum)
{
	const int64_t want[] = { 100, 100, 200, 400, 800, 1000, 1000 };

	for (unsigned f = 0; f < 7; f++)
		cr_expect_eq(service_backoff_ms(&conf, f), want[f], "failures=%u: %lld",
		    f, (long long)service_backoff_ms(&conf, f));
	cr_expect_eq(service_backoff_ms(&conf, 4000000000u), 1000, "no overflow");
	conf.restart_delay_ms = 0;
	cr_expect_eq(service_backoff_ms(&conf, 5), 0, "zero delay stays zero");
}

Test(service, starts_and_counts_as_running_after_start_secs)
{
	cr_expect_eq(svc->state, SERVICE_STOPPED);
	service_start(svc);
	cr_expect_eq(svc->state, SERVICE_STARTING);
	cr_expect_eq(svc->pid, 100);
	cr_expect_eq(armed_ms, 1000, "start_secs timer, got %lld", (long long)armed_ms);
	fake_now += 1000;
	service_timer_fired(svc);
	cr_expect_eq(svc->state, SERVICE_RUNNING);
	cr_expect_eq(svc->failures, 0);
	cr_expect_eq(changes, 2);
}

Test(service, failed_starts_back_off_then_become_fatal)
{
	conf.start_retries = 3;
	service_start(svc);
	die_with(3);
	cr_expect_eq(svc->state, SERVICE_BACKOFF);
	cr_expect_eq(svc->failures, 1);
	cr_expect_eq(armed_ms, 100);
	cr_expect_eq(svc->last_exit.code, 3);
	cr_expect(strstr(svc->reason, "exited 3") != NULL, "reason: %s", svc->reason);
	service_timer_fired(svc);
	cr_expect_eq(svc->state, SERVICE_STARTING);
	cr_expect_eq(svc->restarts, 1);
	die_with(3);
	cr_expect_eq(armed_ms, 200, "second failure doubles: %lld", (long long)armed_ms);
	service_timer_fired(svc);
	die_with(3);
	cr_expect_eq(svc->state, SERVICE_FATAL);
	cr_expect_eq(svc->failures, 3);
	cr_expect_eq(armed_ms, -1, "no timer left armed when fatal");
	cr_expect(strstr(svc->reason, "gave up after 3 failed starts") != NULL,
	    "reason: %s", svc->reason);
}

Test(service, death_after_a_good_run_restarts_after_the_initial_delay)
{
	service_start(svc);
	die_with(1);
	service_timer_fired(svc);	/* failures = 1, now starting again */
	fake_now += 1000;
	service_timer_fired(svc);	/* up start_secs: running, failures reset */
	cr_expect_eq(svc->state, SERVICE_RUNNING);
	cr_expect_eq(svc->failures, 0);
	die_with(1);
	cr_expect_eq(svc->state, SERVICE_BACKOFF);
	cr_expect_eq(armed_ms, 100);
	cr_expect_eq(svc->failures, 0);
}

Test(service, restart_policies)
{
	conf.restart = RESTART_NEVER;
	service_start(svc);
	die_with(1);
	cr_expect_eq(svc->state, SERVICE_EXITED);

	conf.restart = RESTART_ON_FAILURE;
	service_start(svc);
	die_with(0);
	cr_expect_eq(svc->state, SERVICE_EXITED, "clean exit is not a failure");
	service_start(svc);
	die_with(2);
	cr_expect_eq(svc->state, SERVICE_BACKOFF);
	service_timer_fired(svc);
	fake_now += 10;
	service_process_ended(svc, SIGSEGV, NULL);	/* killed by a signal */
	cr_expect_eq(svc->state, SERVICE_BACKOFF);
	cr_expect_eq(svc->last_exit.signal, SIGSEGV);
}

Test(service, stop_sends_stop_signal_then_kill_after_timeout)
{
	service_start(svc);
	service_stop(svc);
	cr_expect_eq(svc->state, SERVICE_STOPPING);
	cr_assert_eq(nkills, 1);
	cr_expect_eq(kills[0][0], -100, "to the process group");
	cr_expect_eq(kills[0][1], SIGTERM);
	cr_expect_eq(armed_ms, 5000);
	service_timer_fired(svc);
	cr_assert_eq(nkills, 2);
	cr_expect_eq(kills[1][1], SIGKILL);
	cr_expect_eq(svc->state, SERVICE_STOPPING, "stopped only once reaped");
	service_process_ended(svc, SIGKILL, NULL);
	cr_expect_eq(svc->state, SERVICE_STOPPED);
	cr_expect_eq(svc->pid, 0);
	cr_expect(service_is_settled(svc));
}

Test(service, restart_stops_then_starts_a_new_process)
{
	service_start(svc);
	fake_now += 1000;
	service_timer_fired(svc);
	service_restart(svc);
	cr_expect_eq(svc->state, SERVICE_STOPPING);
	service_process_ended(svc, SIGTERM, NULL);
	cr_expect_eq(svc->state, SERVICE_STARTING);
	cr_expect_eq(svc->pid, 101);
}

Test(service, spawn_failure_is_a_failed_start_with_its_reason)
{
	spawn_fail = 1;
	service_start(svc);
	cr_expect_eq(svc->state, SERVICE_BACKOFF);
	cr_expect_eq(svc->pid, 0);
	cr_expect(strstr(svc->reason, "exec failed: /nope: No such file or directory") != NULL,
	    "reason: %s", svc->reason);
	cr_expect_str_eq(svc->last_exit.spawn_error,
	    "exec failed: /nope: No such file or directory");
	conf.restart = RESTART_NEVER;
	service_start(svc);
	cr_expect_eq(svc->state, SERVICE_EXITED);
}

Test(service, stop_during_backoff_cancels_the_restart)
{
	service_start(svc);
	die_with(1);
	cr_expect_eq(svc->state, SERVICE_BACKOFF);
	service_stop(svc);
	cr_expect_eq(svc->state, SERVICE_STOPPED);
	cr_expect_eq(armed_ms, -1);
	cr_expect_eq(nkills, 0, "nothing to signal");
}

Test(service, start_request_resets_the_failure_count)
{
	conf.start_retries = 2;
	service_start(svc);
	die_with(1);
	service_timer_fired(svc);
	die_with(1);
	cr_expect_eq(svc->state, SERVICE_FATAL);
	service_start(svc);
	cr_expect_eq(svc->state, SERVICE_STARTING);
	cr_expect_eq(svc->failures, 0);
	cr_expect_eq(svc->restarts, 0);
}

/* ready = notify with ready_timeout 3s, start_secs 1s */
static void
use_notify(void)
{
	conf.ready = READY_NOTIFY;
	conf.ready_spec = "notify";
	conf.ready_timeout_ms = 3000;
}

Test(service, notify_service_is_running_but_not_ready_until_it_says_so)
{
	use_notify();
	service_start(svc);
	cr_expect_eq(armed_ms, 1000, "start_secs first: %lld", (long long)armed_ms);
	fake_now += 1000;
	service_timer_fired(svc);
	cr_expect_eq(svc->state, SERVICE_RUNNING);
	cr_expect_not(service_is_ready(svc));
	cr_expect_eq(armed_ms, 2000, "the rest of ready_timeout: %lld", (long long)armed_ms);
	cr_expect(strstr(svc->reason, "not ready: waiting for READY=1") != NULL, "%s", svc->reason);
	service_ready(svc, "READY=1");
	cr_expect(service_is_ready(svc));
	cr_expect_eq(armed_ms, -1, "no watchdog: nothing armed");
	cr_expect(strstr(svc->reason, "ready: READY=1") != NULL, "%s", svc->reason);
}

Test(service, ready_before_start_secs_ends_the_start_at_once)
{
	use_notify();
	service_start(svc);
	fake_now += 20;
	service_ready(svc, "READY=1");
	cr_expect_eq(svc->state, SERVICE_RUNNING);
	cr_expect(service_is_ready(svc));
	cr_expect_eq(svc->failures, 0);
}

Test(service, not_ready_in_time_is_a_failed_start)
{
	use_notify();
	conf.start_retries = 2;
	service_start(svc);
	fake_now += 1000;
	service_timer_fired(svc);	/* running, not ready */
	fake_now += 2000;
	service_timer_fired(svc);	/* ready_timeout */
	cr_expect_eq(svc->state, SERVICE_STOPPING);
	cr_assert_eq(nkills, 1);
	cr_expect_eq(kills[0][1], SIGTERM);
	service_process_ended(svc, SIGTERM, NULL);
	cr_expect_eq(svc->state, SERVICE_BACKOFF);
	cr_expect_eq(svc->failures, 1);
	cr_expect(strstr(svc->reason, "not ready within 3s (no READY=1)") != NULL, "%s", svc->reason);
	service_timer_fired(svc);	/* again: starting */
	fake_now += 3000;
	service_timer_fired(svc);	/* ready_timeout before start_secs was even left */
	service_process_ended(svc, SIGTERM, NULL);
	cr_expect_eq(svc->state, SERVICE_FATAL, "two failed starts: %s", svc->reason);
}

Test(service, death_before_ready_is_a_failed_start_even_after_start_secs)
{
	use_notify();
	service_start(svc);
	fake_now += 1500;
	service_timer_fired(svc);
	die_with(1);
	cr_expect_eq(svc->state, SERVICE_BACKOFF);
	cr_expect_eq(svc->failures, 1, "never ready: a failed start");
}

Test(service, watchdog_miss_sends_abrt_and_restarts)
{
	conf.watchdog_ms = 500;
	service_start(svc);
	fake_now += 1000;
	service_timer_fired(svc);	/* ready = none: ready now, watchdog armed */
	cr_expect(service_is_ready(svc));
	cr_expect_eq(armed_ms, 500);
	fake_now += 400;
	service_watchdog_ping(svc);
	cr_expect_eq(armed_ms, 500, "a ping re-arms");
	fake_now += 500;
	service_timer_fired(svc);
	cr_expect_eq(svc->state, SERVICE_STOPPING);
	cr_assert_eq(nkills, 1);
	cr_expect_eq(kills[0][1], SIGABRT);
	service_process_ended(svc, SIGABRT, NULL);
	cr_expect_eq(svc->state, SERVICE_BACKOFF);
	cr_expect(strstr(svc->reason, "watchdog: no WATCHDOG=1 for 500ms") != NULL, "%s", svc->reason);
	cr_expect_eq(svc->failures, 0, "it was ready: not a failed start");
}

Test(service, extend_timeout_moves_the_ready_deadline)
{
	use_notify();
	service_start(svc);
	fake_now += 1000;
	service_timer_fired(svc);	/* running, not ready, 2s left */
	service_extend_timeout(svc, 5000);
	cr_expect_eq(armed_ms, 5000, "deadline now + 5s: %lld", (long long)armed_ms);
	fake_now += 2000;
	service_timer_fired(svc);	/* the old deadline: nothing happens */
	cr_expect_eq(svc->state, SERVICE_RUNNING);
	cr_expect_eq(nkills, 0);
	fake_now += 3000;
	service_timer_fired(svc);
	cr_expect_eq(svc->state, SERVICE_STOPPING);
}

Test(service, stop_during_a_not_ready_stop_is_a_plain_stop)
{
	use_notify();
	service_start(svc);
	fake_now += 3000;
	service_timer_fired(svc);	/* ready_timeout first */
	cr_expect_eq(svc->state, SERVICE_STOPPING);
	service_stop(svc);
	service_process_ended(svc, SIGTERM, NULL);
	cr_expect_eq(svc->state, SERVICE_STOPPED, "asked to stop: %s", svc->reason);
}

Test(service, a_signal_says_what_it_reached)
{
	struct service_signal_result res;

	service_start(svc);
	cr_assert_eq(service_signal(svc, SIGHUP, false, &res), 0);
	cr_expect(res.reached);
	cr_expect_eq(res.group, 100, "sent to the process group");
	cr_expect_eq(kills[0][0], -100, "kill(-pgid), not kill(pid)");
	cr_expect_eq(res.pid, 0, "the main process leads the group: not signalled twice");
}

Test(service, a_signal_that_reaches_no_process_is_not_a_success)
{
	struct service_signal_result res;

	service_start(svc);
	kill_errno = ESRCH;
	cr_expect_eq(service_signal(svc, SIGHUP, false, &res), 0, "ESRCH: nothing failed");
	cr_expect_not(res.reached);
	cr_expect_not(res.failed);
	cr_expect(strstr(res.why, "process group 100: No such process") != NULL, "%s", res.why);
	kill_errno = EPERM;
	cr_expect_eq(service_signal(svc, SIGHUP, false, &res), -1);
	cr_expect(res.failed);
	cr_expect(strstr(res.why, "Operation not permitted") != NULL, "%s", res.why);
}
