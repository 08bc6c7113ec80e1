/*
 * test_tracking.c: vigild knows every process of a service (issue 12):
 * what a dead main process leaves behind ends before the restart, stop
 * reaches processes that left the group, a vigild killed and started again
 * never runs a service twice, and MAINPID= names only the service's own
 * processes. The real vigild, real processes, its cgroups where it can
 * write them and the process group where it cannot.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(tracking, .fini = vh_teardown, .timeout = 120);

/* The pid a service's action wrote to NAME in the test folder, once it is there. */
static pid_t
wait_pid(const char *name)
{
	cr_assert(vh_wait_file(vh_path(name), 20000), "%s never written; log:\n%s", name,
	    vh_log_tail());
	return (pid_t)vh_read_long(vh_path(name));
}

/* Skip unless this vigild put its services in cgroups (root, cgroup v2 writable). */
static void
need_cgroups(void)
{
	if (vh_cgroup_base() == NULL)
		VH_SKIP("cgroups are off here (%s)", strstr(vh_slurp(vh.log), "cgroups: off") ?
		    "vigild's log says why" : "no cgroup line in vigild's log");
}

/*
 * The main process is killed; the child it left in its group and (with
 * cgroups) a grandchild that called setsid() end before the service is
 * started again, and the new main process does not share the machine with
 * them.
 */
static void
leftovers_end_before_the_restart(bool cgroups)
{
	pid_t main1, child, orphan = 0, main2;

	vh_setup("%s[service:web]\ncommand = %s pid:%s child:%s%s%s\n"
	    "start_secs = 200ms\nrestart_delay = 100ms\n",
	    cgroups ? "" : "cgroup = off\n\n", vh_testsvc(), vh_path("main.pid"),
	    vh_path("child.pid"), cgroups ? " orphan:" : "",
	    cgroups ? vh_path("orphan.pid:600000") : "");
	vh_start_ok();
	if (cgroups)
		need_cgroups();
	else
		cr_assert(vh_log_contains("cgroups: off ([vigil] cgroup = off)"), "log:\n%s",
		    vh_log_tail());
	cr_assert(vh_wait_state("web", "running", 20000));
	main1 = wait_pid("main.pid");
	child = wait_pid("child.pid");
	if (cgroups)
		orphan = wait_pid("orphan.pid");
	cr_assert_eq(vh_main_pid("web"), main1);
	cr_assert_eq(kill(main1, SIGKILL), 0);
	main2 = vh_wait_new_pid("web", main1, 20000);
	cr_assert_gt(main2, 0, "web never ran again; log:\n%s", vh_log_tail());
	cr_expect(vh_wait_gone(child, 5000), "the child %d outlived its main process", child);
	if (cgroups)
		cr_expect(vh_wait_gone(orphan, 5000), "the setsid() grandchild %d outlived its "
		    "main process", orphan);
	/* and they were gone before the new main process was spawned */
	cr_expect(vh_log_contains("web: running -> stopping (main process killed by KILL; "
	    "sent TERM to the "), "log:\n%s", vh_log_tail());
	cr_expect_lt(vh_log_line_of("web: running -> stopping (main process killed"),
	    vh_log_line_of("web: stopping -> backoff"), "log:\n%s", vh_log_tail());
	cr_expect_lt(vh_log_line_of("web: stopping -> backoff"),
	    vh_log_line_of("web: backoff -> starting"), "log:\n%s", vh_log_tail());
}

Test(tracking, leftovers_of_a_killed_main_process_end_before_the_restart)
{
	leftovers_end_before_the_restart(true);
}

Test(tracking, leftovers_in_the_process_group_end_without_cgroups_too)
{
	leftovers_end_before_the_restart(false);
}

/*
 * nginx after a kill -9 of its master: the workers hold the port, and a new
 * master could not bind it while they live. They go with the old master, so
 * the new one binds at the first try (one restart, its last exit the KILL).
 */
Test(tracking, workers_holding_the_port_go_with_their_master)
{
	int port = vh_free_port();
	pid_t main1, worker, main2;
	json_t *s, *last;

	vh_setup("[service:web]\ncommand = %s listen:%d child:%s pid:%s\nready = tcp:%d\n"
	    "start_secs = 100ms\nrestart_delay = 100ms\n",
	    vh_testsvc(), port, vh_path("worker.pid"), vh_path("main.pid"), port);
	vh_start_ok();
	cr_assert(vh_wait_ready("web", 20000), "log:\n%s", vh_log_tail());
	main1 = wait_pid("main.pid");
	worker = wait_pid("worker.pid");
	cr_assert_eq(unlink(vh_path("main.pid")), 0);
	cr_assert_eq(kill(main1, SIGKILL), 0);
	main2 = wait_pid("main.pid");
	cr_assert_neq(main2, main1);
	cr_assert(vh_wait_ready("web", 20000), "log:\n%s", vh_log_tail());
	cr_expect(!vh_pid_alive(worker), "the old worker %d still holds the port", worker);
	s = vh_service("web");
	last = json_object_get(s, "last_exit");
	cr_expect_eq(json_integer_value(json_object_get(s, "restarts")), 1,
	    "the new master did not bind at once; log:\n%s", vh_log_tail());
	cr_expect_str_eq(json_string_value(json_object_get(last, "signal")), "KILL");
	cr_expect_eq(json_integer_value(json_object_get(s, "pid")), main2);
	json_decref(s);
}

/* The rare service that wants its children to outlive the main process says so. */
Test(tracking, kill_mode_main_leaves_the_rest_running)
{
	pid_t main1, child;

	vh_setup("[service:web]\ncommand = %s pid:%s child:%s\nkill_mode = main\n"
	    "start_secs = 200ms\nrestart_delay = 100ms\n",
	    vh_testsvc(), vh_path("main.pid"), vh_path("child.pid"));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000));
	main1 = wait_pid("main.pid");
	child = wait_pid("child.pid");
	cr_assert_eq(kill(main1, SIGKILL), 0);
	cr_assert_gt(vh_wait_new_pid("web", main1, 20000), 0, "log:\n%s", vh_log_tail());
	cr_expect(vh_pid_alive(child), "kill_mode = main ended the child %d", child);
	cr_expect(!vh_log_contains("processes left"), "log:\n%s", vh_log_tail());
}

/* A process that called setsid() left the process group, not the cgroup: stop ends it. */
Test(tracking, stop_ends_a_process_that_left_the_group)
{
	struct vh_result r;
	pid_t orphan;

	vh_setup("[service:web]\ncommand = %s orphan:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("orphan.pid:600000"));
	vh_start_ok();
	need_cgroups();
	cr_assert(vh_wait_state("web", "running", 20000));
	orphan = wait_pid("orphan.pid");
	cr_assert_eq(vh_ctl(&r, "stop", "web", NULL), 0, "stop: %s %s", r.out, r.err);
	cr_expect(vh_wait_gone(orphan, 5000), "the setsid() grandchild %d survived stop", orphan);
}

/*
 * Children that ignore the stop signal: after stop_timeout they get KILL,
 * and the service is started again once they are gone.
 */
Test(tracking, leftovers_that_ignore_term_are_killed_after_stop_timeout)
{
	pid_t main1, child;

	vh_setup("[service:web]\ncommand = %s pid:%s ignore:15 child:%s\n"
	    "stop_timeout = 300ms\nstart_secs = 200ms\nrestart_delay = 100ms\n",
	    vh_testsvc(), vh_path("main.pid"), vh_path("child.pid"));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000));
	main1 = wait_pid("main.pid");
	child = wait_pid("child.pid");
	cr_assert_eq(kill(main1, SIGKILL), 0);
	cr_assert_gt(vh_wait_new_pid("web", main1, 20000), 0, "log:\n%s", vh_log_tail());
	cr_expect(vh_wait_gone(child, 5000), "the child %d that ignores TERM survived", child);
	cr_expect(vh_log_contains("sending KILL to every process of the service"), "log:\n%s",
	    vh_log_tail());
}

/* signal --main: nginx takes HUP at its master only. */
Test(tracking, signal_main_reaches_only_the_main_process)
{
	struct vh_result r;
	pid_t main1, child;

	vh_setup("[service:web]\ncommand = %s pid:%s child:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("main.pid"), vh_path("child.pid"));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000));
	main1 = wait_pid("main.pid");
	child = wait_pid("child.pid");
	cr_assert_eq(vh_ctl(&r, "signal", "--main", "STOP", "web", NULL), 0, "%s %s", r.out,
	    r.err);
	cr_expect(strstr(r.out, "main process") != NULL, "out: %s", r.out);
	cr_expect(vh_wait_pid_state(main1, 'T', 20000), "the main process was not stopped");
	cr_expect_neq(vh_pid_state(child), 'T', "--main reached the child too");
	cr_assert_eq(vh_ctl(&r, "signal", "CONT", "web", NULL), 0, "%s %s", r.out, r.err);
	/* without --main: every process */
	cr_assert_eq(vh_ctl(&r, "--json", "signal", "STOP", "web", NULL), 0, "%s %s", r.out,
	    r.err);
	cr_expect(vh_wait_pid_state(child, 'T', 20000), "the child was not stopped; reply %s",
	    r.out);
	cr_assert_eq(vh_ctl(&r, "signal", "CONT", "web", NULL), 0, "%s %s", r.out, r.err);
	cr_assert_eq(vh_ctl(&r, "signal", "--main", "CONT", "--", NULL), 2,
	    "--main with no name: usage error; %s %s", r.out, r.err);
}

/* A vigild killed with SIGKILL and started again with the same config: never two copies. */
Test(tracking, a_vigild_started_after_one_was_killed_ends_what_it_left)
{
	pid_t main1, child, orphan, main2;
	char spawned[64];

	vh_setup("[service:web]\ncommand = %s pid:%s child:%s orphan:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("main.pid"), vh_path("child.pid"),
	    vh_path("orphan.pid:600000"));
	vh_start_ok();
	need_cgroups();
	cr_assert(vh_wait_state("web", "running", 20000));
	main1 = wait_pid("main.pid");
	child = wait_pid("child.pid");
	orphan = wait_pid("orphan.pid");
	cr_assert(vh_signal_and_wait(SIGKILL, 10000));
	cr_assert(vh_pid_alive(main1) && vh_pid_alive(child) && vh_pid_alive(orphan),
	    "the processes died with vigild: nothing to recover");
	cr_assert_eq(unlink(vh_path("main.pid")), 0);
	vh_start_ok();
	cr_expect(vh_wait_gone(main1, 15000), "old main %d still runs", main1);
	cr_expect(vh_wait_gone(child, 5000), "old child %d still runs", child);
	cr_expect(vh_wait_gone(orphan, 5000), "old grandchild %d still runs", orphan);
	cr_expect(vh_wait_log("web: ending 3 processes a previous vigild left running", 10000),
	    "log:\n%s", vh_log_tail());
	main2 = wait_pid("main.pid");
	cr_expect_neq(main2, main1);
	/* the old ones were ended before the new one started */
	snprintf(spawned, sizeof(spawned), "web: spawned pid %d", (int)main2);
	/* the pid file can be written before vigild's line about it is in the log */
	cr_assert(vh_wait_log(spawned, 10000), "no \"%s\" in the log:\n%s", spawned, vh_log_tail());
	cr_expect_lt(vh_log_line_of("a previous vigild left running"), vh_log_line_of(spawned),
	    "log:\n%s", vh_log_tail());
}

/* The same without cgroups: the record of its process group under the socket's folder. */
Test(tracking, without_cgroups_a_vigild_started_after_one_was_killed_ends_its_group)
{
	pid_t main1, child, main2;
	char spawned[64];

	vh_setup("cgroup = off\n\n[service:web]\ncommand = %s pid:%s child:%s\n"
	    "start_secs = 100ms\n\n[service:idle]\ncommand = %s\nautostart = no\n",
	    vh_testsvc(), vh_path("main.pid"), vh_path("child.pid"), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000));
	main1 = wait_pid("main.pid");
	child = wait_pid("child.pid");
	cr_assert(vh_signal_and_wait(SIGKILL, 10000));
	cr_assert(vh_pid_alive(main1) && vh_pid_alive(child));
	cr_assert_eq(unlink(vh_path("main.pid")), 0);
	vh_start_ok();
	cr_expect(vh_wait_gone(main1, 15000), "old main %d still runs", main1);
	cr_expect(vh_wait_gone(child, 5000), "old child %d still runs", child);
	cr_expect(vh_wait_log("web: ending process group", 10000), "log:\n%s", vh_log_tail());
	cr_expect(!vh_log_contains("idle: ending"), "log:\n%s", vh_log_tail());
	main2 = wait_pid("main.pid");
	snprintf(spawned, sizeof(spawned), "web: spawned pid %d", (int)main2);
	/* the pid file can be written before vigild's line about it is in the log */
	cr_assert(vh_wait_log(spawned, 10000), "no \"%s\" in the log:\n%s", spawned, vh_log_tail());
	cr_expect_lt(vh_log_line_of("a previous vigild left running"), vh_log_line_of(spawned),
	    "log:\n%s", vh_log_tail());
}

/*
 * MAINPID= naming a process of another service is refused: `stop evil`
 * must not reach the victim.
 */
Test(tracking, mainpid_naming_another_services_process_is_refused)
{
	struct vh_result r;
	char mainpid[64];
	pid_t victim;

	vh_setup("%s", "");
	vh_add_services("[service:victim]\ncommand = %s pid:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("victim.pid"));
	vh_start_ok();
	cr_assert(vh_wait_state("victim", "running", 20000));
	victim = wait_pid("victim.pid");
	snprintf(mainpid, sizeof(mainpid), "MAINPID=%d", (int)victim);
	vh_add_services("\n[service:evil]\ncommand = %s notify:%s pid:%s\nready = notify\n"
	    "ready_timeout = 1h\n", vh_testsvc(), mainpid, vh_path("evil.pid"));
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "reload: %s %s", r.out, r.err);
	cr_assert(vh_wait_log("MAINPID=", 20000), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_log("ignored: not a process of this service", 20000), "log:\n%s",
	    vh_log_tail());
	cr_expect_neq(vh_main_pid("evil"), victim);
	cr_assert_eq(vh_ctl(&r, "stop", "evil", NULL), 0, "stop evil: %s %s", r.out, r.err);
	cr_expect(vh_pid_alive(victim), "stopping evil killed the victim");
	cr_expect(vh_wait_state("victim", "running", 1000));
}

/*
 * MAINPID= naming a child that its own parent (a shell) reaps: vigild
 * gets no SIGCHLD for it, and must still see it end (a pidfd).
 */
Test(tracking, a_main_process_reaped_by_its_own_parent_is_seen_to_end)
{
	pid_t worker;
	json_t *s, *last;

	vh_setup("[service:web]\ncommand = /bin/sh -c 'sleep 3600 & w=$!; echo $w > %s; "
	    "systemd-notify --pid=$w --ready; wait $w; sleep 3600'\nready = notify\n"
	    "restart = never\nstop_timeout = 2s\n", vh_path("worker.pid"));
	if (access("/bin/systemd-notify", X_OK) != 0 && access("/usr/bin/systemd-notify", X_OK) != 0)
		VH_SKIP("systemd-notify is not installed");
	vh_start_ok();
	cr_assert(vh_wait_ready("web", 20000), "log:\n%s", vh_log_tail());
	worker = wait_pid("worker.pid");
	cr_assert(vh_wait_main_pid("web", worker, 20000), "MAINPID= was not taken; log:\n%s",
	    vh_log_tail());
	cr_assert_eq(kill(worker, SIGTERM), 0);
	cr_assert(vh_wait_state("web", "exited", 20000), "the end of main pid %d went unseen; "
	    "log:\n%s", worker, vh_log_tail());
	s = vh_service("web");
	last = json_object_get(s, "last_exit");
	cr_expect_eq(json_integer_value(json_object_get(last, "pid")), worker);
	cr_expect_eq(json_integer_value(json_object_get(last, "code")), -1,
	    "its status is not ours to know");
	json_decref(s);
	cr_expect(vh_log_contains("is gone (not vigild's child"), "log:\n%s", vh_log_tail());
}

/* status: how many processes each service has, and the CPU its cgroup used. */
Test(tracking, status_counts_the_processes_and_their_cpu)
{
	struct vh_result r;
	json_t *s;

	vh_setup("[service:web]\ncommand = %s child:%s\nstart_secs = 100ms\n\n"
	    "[service:idle]\ncommand = %s\nautostart = no\n",
	    vh_testsvc(), vh_path("child.pid"), vh_testsvc());
	vh_start_ok();
	need_cgroups();
	cr_assert(vh_wait_state("web", "running", 20000));
	wait_pid("child.pid");
	s = vh_service("web");
	cr_expect_eq(json_integer_value(json_object_get(s, "processes")), 2,
	    "main process and child; got %lld",
	    (long long)json_integer_value(json_object_get(s, "processes")));
	cr_expect(json_is_number(json_object_get(s, "cpu")) &&
	    json_number_value(json_object_get(s, "cpu")) >= 0);
	json_decref(s);
	/* never run: no cgroup yet, so nothing to count */
	s = vh_service("idle");
	cr_expect(json_is_null(json_object_get(s, "processes")));
	json_decref(s);
	cr_assert_eq(vh_ctl(&r, "status", NULL), 0, "%s %s", r.out, r.err);
	cr_expect(strstr(r.out, "PROCS") != NULL && strstr(r.out, "CPU") != NULL, "%s", r.out);
}

Test(tracking, status_has_no_process_count_without_cgroups)
{
	json_t *s;

	vh_setup("cgroup = off\n\n[service:web]\ncommand = %s\nstart_secs = 100ms\n",
	    vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000));
	s = vh_service("web");
	cr_expect(json_is_null(json_object_get(s, "processes")));
	cr_expect(json_is_null(json_object_get(s, "cpu")));
	json_decref(s);
}
