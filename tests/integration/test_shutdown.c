/*
 * test_shutdown.c: how vigild ends things: SIGTERM, SIGINT and `shutdown`
 * stop every service and leave no process behind; a stop escalates to KILL;
 * orphans are reaped; SIGHUP is survived.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/*
 * The test process is a subreaper: whatever vigild leaves behind when it
 * exits, running or zombie, becomes our child and stays visible in /proc
 * (we never reap it), instead of vanishing into init.
 */
static void
shutdown_init(void)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0, "prctl: %s", strerror(errno));
}

TestSuite(shutdown, .init = shutdown_init, .fini = vh_teardown, .timeout = 180);

#define UP_MS	20000	/* deadlines: generous, for a busy machine under ASan */
#define EXIT_MS	30000

static long
wait_pid_file(const char *name)
{
	const char *path = vh_path(name);
	long pid;

	cr_assert(vh_wait_file(path, UP_MS), "%s never written; log:\n%s", path, vh_log_tail());
	pid = vh_read_long(path);
	cr_assert_gt(pid, 1, "%s holds no pid", path);
	cr_assert(vh_pid_alive((pid_t)pid), "pid %ld from %s is not alive", pid, name);
	return pid;
}

/* vigild has exited; with code, having reaped everything and removed its socket. */
static void
expect_exit(int code, const long *pids, const char *const *names, size_t n)
{
	cr_expect(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) == code,
	    "vigild ended with wait status 0x%x, want exit %d; log:\n%s",
	    (unsigned)vh.exit_status, code, vh_log_tail());
	/* no deadline needed: what vigild did not reap would now be ours, and visible */
	for (size_t i = 0; i < n; i++)
		cr_expect(!vh_pid_exists((pid_t)pids[i]),
		    "%s (pid %ld) outlived vigild, state %c; log:\n%s", names[i], pids[i],
		    vh_pid_state((pid_t)pids[i]), vh_log_tail());
	cr_expect_eq(access(vh.sock, F_OK), -1, "socket %s was left behind", vh.sock);
}

static void
shutdown_by_signal(int sig, const char *signame)
{
	static const char *const names[] = { "plain", "stubborn", "parent", "parent's child" };
	char needle[64];
	long pids[4];

	vh_setup("%s", "");
	vh_add_services("[service:plain]\ncommand = %s pid:%s\nstart_secs = 100ms\n\n"
	    "[service:stubborn]\ncommand = %s ignore:15 pid:%s\nstart_secs = 100ms\n"
	    "stop_timeout = 300ms\n\n"
	    "[service:parent]\ncommand = %s child:%s pid:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("plain.pid"),
	    vh_testsvc(), vh_path("stubborn.pid"),
	    vh_testsvc(), vh_path("child.pid"), vh_path("parent.pid"));
	vh_start_ok();
	pids[0] = wait_pid_file("plain.pid");
	pids[1] = wait_pid_file("stubborn.pid");
	pids[2] = wait_pid_file("parent.pid");
	pids[3] = wait_pid_file("child.pid");
	cr_assert(vh_wait_state("plain", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_state("stubborn", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_state("parent", "running", UP_MS), "log:\n%s", vh_log_tail());

	cr_assert(vh_signal_and_wait(sig, EXIT_MS), "vigild still running %d ms after %s; log:\n%s",
	    EXIT_MS, signame, vh_log_tail());
	/* stubborn had to be KILLed: not a clean stop, and the status says so */
	expect_exit(3, pids, names, 4);
	snprintf(needle, sizeof(needle), "shutting down (%s)", signame);
	cr_expect(vh_log_contains(needle), "log lacks '%s': %s", needle, vh_log_tail());
	cr_expect(vh_log_contains("stubborn: still alive"), "stubborn was not KILLed; log:\n%s",
	    vh_log_tail());
}

Test(shutdown, sigterm_stops_every_service_and_leaves_nothing)
{
	shutdown_by_signal(SIGTERM, "SIGTERM");
}

/* SIGPWR: how LXC asks an init to halt */
Test(shutdown, sigpwr_stops_every_service_and_leaves_nothing)
{
	shutdown_by_signal(SIGPWR, "SIGPWR");
}

Test(shutdown, sigint_stops_every_service_and_leaves_nothing)
{
	shutdown_by_signal(SIGINT, "SIGINT");
}

Test(shutdown, stop_escalates_to_kill_for_the_whole_group)
{
	struct vh_result r;
	long main_pid, child;
	char st[32];

	vh_setup("%s", "");
	vh_add_services("[service:stubborn]\ncommand = %s ignore:15 child:%s pid:%s\n"
	    "start_secs = 100ms\nstop_timeout = 300ms\n",
	    vh_testsvc(), vh_path("child.pid"), vh_path("main.pid"));
	vh_start_ok();
	main_pid = wait_pid_file("main.pid");
	child = wait_pid_file("child.pid");
	cr_assert(vh_wait_state("stubborn", "running", UP_MS), "log:\n%s", vh_log_tail());

	vh_ctl(&r, "stop", "stubborn", NULL);
	cr_assert_eq(r.code, 0, "stop: exit %d; out: %s; err: %s; log:\n%s", r.code, r.out, r.err,
	    vh_log_tail());
	cr_expect_str_eq(vh_state("stubborn", st, sizeof(st)), "stopped");
	/* stop waited out stop_timeout: the KILL came first, then stopped */
	cr_expect_geq(vh_log_line_of("stubborn: still alive 300ms after TERM, sending KILL"), 0,
	    "log:\n%s", vh_log_tail());
	cr_expect_lt(vh_log_line_of("stubborn: still alive 300ms after TERM"),
	    vh_log_line_of("stubborn: stopping -> stopped"), "log:\n%s", vh_log_tail());
	cr_expect(vh_wait_gone((pid_t)main_pid, 10000), "main pid %ld still there, state %c",
	    main_pid, vh_pid_state((pid_t)main_pid));
	cr_expect(vh_wait_gone((pid_t)child, 10000), "child pid %ld still there, state %c",
	    child, vh_pid_state((pid_t)child));
	cr_expect(vh_log_contains("KILL"), "log does not mention KILL: %s", vh_log_tail());
	cr_expect_eq(vh_zombie_children(), 0, "vigild has zombie children");
	cr_expect(vh_pid_alive(vh.pid), "vigild died; log:\n%s", vh_log_tail());
}

Test(shutdown, a_double_forked_orphan_is_reaped_by_vigild)
{
	char needle[64];
	long main_pid, orphan;

	vh_setup("%s", "");
	vh_add_services("[service:dbl]\ncommand = %s orphan:%s:300 pid:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("orphan.pid"), vh_path("dbl.pid"));
	vh_start_ok();
	cr_assert(vh_wait_file(vh_path("orphan.pid"), UP_MS), "no orphan; log:\n%s", vh_log_tail());
	orphan = vh_read_long(vh_path("orphan.pid"));
	cr_assert_gt(orphan, 1);
	main_pid = wait_pid_file("dbl.pid");

	/* it lives 300 ms, exits, and vigild (its subreaper) must reap it */
	cr_expect(vh_wait_gone((pid_t)orphan, UP_MS), "orphan %ld still there, state %c; log:\n%s",
	    orphan, vh_pid_state((pid_t)orphan), vh_log_tail());
	snprintf(needle, sizeof(needle), "reaped orphan pid %ld (", orphan);
	cr_expect(vh_wait_log(needle, UP_MS), "log lacks '%s': %s", needle, vh_log_tail());
	cr_expect_eq(vh_zombie_children(), 0, "vigild has zombie children");
	cr_expect(vh_pid_alive((pid_t)main_pid), "the service itself died; log:\n%s", vh_log_tail());
	cr_expect(vh_wait_state("dbl", "running", UP_MS), "log:\n%s", vh_log_tail());
}

Test(shutdown, vigilctl_shutdown_ends_vigild_and_every_service)
{
	static const char *const names[] = { "one", "two", "two's child" };
	struct vh_result r;
	long pids[3];

	vh_setup("%s", "");
	vh_add_services("[service:one]\ncommand = %s pid:%s\nstart_secs = 100ms\n\n"
	    "[service:two]\ncommand = %s child:%s pid:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("one.pid"),
	    vh_testsvc(), vh_path("child.pid"), vh_path("two.pid"));
	vh_start_ok();
	pids[0] = wait_pid_file("one.pid");
	pids[1] = wait_pid_file("two.pid");
	pids[2] = wait_pid_file("child.pid");

	cr_assert_eq(vh_ctl(&r, "shutdown", NULL), 0, "shutdown: exit %d; out: %s; err: %s",
	    r.code, r.out, r.err);
	/* signal 0 only probes: this just waits for vigild to exit on its own */
	cr_assert(vh_signal_and_wait(0, EXIT_MS), "vigild still running %d ms after shutdown; "
	    "log:\n%s", EXIT_MS, vh_log_tail());
	expect_exit(0, pids, names, 3);
}

Test(shutdown, sighup_does_not_kill_the_daemon_or_its_services)
{
	struct vh_result r;
	long a, b;
	json_t *s;

	vh_setup("%s", "");
	vh_add_services("[service:a]\ncommand = %s pid:%s\nstart_secs = 100ms\n\n"
	    "[service:b]\ncommand = %s pid:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("a.pid"), vh_testsvc(), vh_path("b.pid"));
	vh_start_ok();
	a = wait_pid_file("a.pid");
	b = wait_pid_file("b.pid");
	cr_assert(vh_wait_state("a", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_state("b", "running", UP_MS), "log:\n%s", vh_log_tail());

	cr_assert_eq(kill(vh.pid, SIGHUP), 0);
	/* the log line is the sign that the signal was handled */
	cr_expect(vh_wait_log("SIGHUP", UP_MS), "SIGHUP not logged; log:\n%s", vh_log_tail());
	cr_assert_eq(vh_ctl(&r, "status", NULL), 0, "status after SIGHUP: exit %d; %s; log:\n%s",
	    r.code, r.err, vh_log_tail());
	cr_assert(vh_pid_alive(vh.pid), "vigild died of SIGHUP; log:\n%s", vh_log_tail());
	s = vh_service("a");
	cr_expect_eq(json_integer_value(json_object_get(s, "pid")), a, "a's pid changed");
	json_decref(s);
	s = vh_service("b");
	cr_expect_eq(json_integer_value(json_object_get(s, "pid")), b, "b's pid changed");
	json_decref(s);
	cr_expect(vh_pid_alive((pid_t)a) && vh_pid_alive((pid_t)b), "a service died");

}

Test(shutdown, daemon_mode_detaches_once_listening)
{
	struct vh_result *r = malloc(sizeof(*r));
	json_t *hello;
	pid_t child, daemon_pid;
	int status, fd;
	struct stat st;
	const char *said;
	FILE *f;

	vh_setup("[service:a]\ncommand = %s pid:%s\n", vh_testsvc(), vh_path("a.pid"));
	child = fork();
	cr_assert_neq(child, -1);
	if (child == 0) {
		/* what it says before it detaches, on the terminal's stderr */
		if ((fd = open(vh_path("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1)
			dup2(fd, 2);
		execl(getenv("VIGILD"), "vigild", "-d", "-c", vh.conf, (char *)NULL);
		_exit(98);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "vigild -d: status 0x%x", (unsigned)status);
	said = vh_slurp(vh_path("stderr"));
	if (stat("/dev/log", &st) == -1)	/* no syslog daemon: the log would be lost unsaid */
		cr_expect(strstr(said, "vigild: warning: /dev/log: No such file or directory: "
		    "vigild logs to syslog, and no syslog daemon listens there") != NULL,
		    "stderr: '%s'", said);
	else
		cr_expect_str_empty(said, "with /dev/log there is nothing to say");
	/* no waiting: the parent returned only once the socket was listening */
	cr_assert_eq(vh_ctl(r, "--json", "hello", NULL), 0, "hello: %s", r->err);
	hello = json_loads(r->out, 0, NULL);
	cr_assert_not_null(hello, "%s", r->out);
	daemon_pid = (pid_t)json_integer_value(json_object_get(hello, "pid"));
	json_decref(hello);
	cr_assert_neq(daemon_pid, child, "the daemon is the forked child, not the parent");
	f = fopen(vh_path("vigild.pid"), "w");	/* so teardown can kill it by pid */
	fprintf(f, "%d\n", (int)daemon_pid);
	fclose(f);
	cr_expect_eq(getsid(daemon_pid), daemon_pid, "detached into its own session");
	cr_assert(vh_wait_state("a", "running", 10000));
	cr_assert_eq(vh_ctl(r, "shutdown", NULL), 0, "shutdown: %s", r->err);
	/* this suite is a subreaper, so the detached daemon ends as our child */
	{
		long long deadline = vh_now_ms() + 15000;
		pid_t got = 0;
		while ((got = waitpid(daemon_pid, &status, WNOHANG)) == 0 && vh_now_ms() < deadline)
			usleep(10000);
		cr_assert_eq(got, daemon_pid, "daemon %d did not exit", (int)daemon_pid);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x",
		    (unsigned)status);
	}
	free(r);
}

/*
 * An essential service that ends for good ends vigild: every other service
 * is stopped and vigild exits with the essential one's code, as a
 * container's init must for the container to end with its job.
 */
/* job waits for other.pid (await:), so other has surely run when job ends */
static void
essential_ends_vigild(const char *job, int want, const char *state, bool other_runs)
{
	static const char *const names[] = { "other" };
	char needle[128];
	long pids[1];

	vh_setup("[service:job]\ncommand = %s\nessential = yes\nstart_secs = 100ms\n"
	    "start_retries = 1\n%s\n[service:other]\ncommand = %s pid:%s\n",
	    job, strstr(job, "restart") ? "" : "restart = never\n",
	    vh_testsvc(), vh_path("other.pid"));
	/* on a fast machine it may be over before the socket is even tried */
	if (!vh_start())
		cr_assert_eq(vh.pid, 0, "vigild did not start; log:\n%s", vh_log_tail());
	if (other_runs) {
		/* other may already be stopped again: only its pid is wanted, to check it is gone */
		cr_assert(vh_wait_file(vh_path("other.pid"), UP_MS), "log:\n%s", vh_log_tail());
		pids[0] = vh_read_long(vh_path("other.pid"));
		cr_assert_gt(pids[0], 1);
	}
	cr_assert(vh_signal_and_wait(0, EXIT_MS), "vigild still running %d ms on; log:\n%s",
	    EXIT_MS, vh_log_tail());
	expect_exit(want, pids, names, other_runs ? 1 : 0);
	snprintf(needle, sizeof(needle), "job: essential and %s (", state);
	cr_expect(vh_log_contains(needle), "log lacks '%s':\n%s", needle, vh_log_tail());
	snprintf(needle, sizeof(needle), "vigild will exit %d", want);
	cr_expect(vh_log_contains(needle), "log lacks '%s':\n%s", needle, vh_log_tail());
	cr_expect(vh_log_contains("shutting down (essential service job ended)"), "log:\n%s",
	    vh_log_tail());
}

Test(shutdown, an_essential_service_that_exits_ends_vigild_with_its_code)
{
	char job[512];

	snprintf(job, sizeof(job), "%s await:%s exit:3", vh_testsvc(), vh_path("other.pid"));
	essential_ends_vigild(job, 3, "exited", true);
}

Test(shutdown, an_essential_service_done_under_on_failure_ends_vigild_with_0)
{
	char job[512];

	snprintf(job, sizeof(job), "%s await:%s exit:0\nrestart = on-failure", vh_testsvc(),
	    vh_path("other.pid"));
	essential_ends_vigild(job, 0, "exited", true);
}

/* the kernel's SIGTERM to it: 128 + 15, as a shell reports it */
Test(shutdown, an_essential_service_killed_by_a_signal_ends_vigild_with_128_plus_it)
{
	char job[512];

	snprintf(job, sizeof(job), "/bin/sh -c 'while [ ! -s %s ]; do sleep 0.05; done; "
	    "kill -TERM $$'", vh_path("other.pid"));
	essential_ends_vigild(job, 143, "exited", true);
}

/* never reached execve, gave up: 127, as a shell says for a command it cannot run */
Test(shutdown, an_essential_service_that_cannot_start_ends_vigild_with_127)
{
	essential_ends_vigild("/nonexistent/job\nrestart = on-failure", 127, "fatal", false);
}

/* stopped by request is not an end: vigild and the other services go on */
Test(shutdown, stopping_an_essential_service_by_request_does_not_end_vigild)
{
	struct vh_result *r = malloc(sizeof(*r));

	vh_setup("[service:job]\ncommand = %s\nessential = yes\nrestart = never\n\n"
	    "[service:other]\ncommand = %s\n", vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("job", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_assert_eq(vh_ctl(r, "stop", "job", NULL), 0, "stop: %s", r->err);
	cr_assert(vh_wait_state("job", "stopped", UP_MS), "log:\n%s", vh_log_tail());
	cr_expect_eq(vh_ctl(r, "status", "other", NULL), 0, "vigild gone? %s", r->err);
	cr_expect(vh_wait_state("other", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_expect(!vh_log_contains("essential and"), "log:\n%s", vh_log_tail());
	free(r);
}

/*
 * shutdown_timeout bounds the whole shutdown: a service that ignores TERM
 * and has a long stop_timeout is KILLed when it passes, and vigild's exit
 * status says that a KILL was needed.
 */
Test(shutdown, shutdown_timeout_bounds_the_whole_shutdown)
{
	static const char *const names[] = { "stubborn" };
	long pids[1];

	vh_setup("[vigil]\nshutdown_timeout = 1s\n\n[service:stubborn]\ncommand = %s ignore:15 "
	    "pid:%s\nstop_timeout = 1h\n", vh_testsvc(), vh_path("stubborn.pid"));
	vh_start_ok();
	pids[0] = wait_pid_file("stubborn.pid");
	cr_assert(vh_wait_state("stubborn", "running", UP_MS), "log:\n%s", vh_log_tail());
	/* within EXIT_MS: it never waited out stubborn's hour */
	cr_assert(vh_signal_and_wait(SIGTERM, EXIT_MS), "vigild still running %d ms after "
	    "SIGTERM; log:\n%s", EXIT_MS, vh_log_tail());
	expect_exit(3, pids, names, 1);
	cr_expect(vh_log_contains("shutdown_timeout (1s) passed: sending KILL to what is still "
	    "running"), "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("stubborn: shutdown_timeout (1s) passed, sending KILL"),
	    "log:\n%s", vh_log_tail());
}

/* SIGQUIT: a fast shutdown, KILL at once whatever stop_timeout says */
Test(shutdown, sigquit_kills_every_service_at_once)
{
	static const char *const names[] = { "stubborn", "plain" };
	long pids[2];

	vh_setup("[vigil]\nshutdown_timeout = 0\n\n[service:stubborn]\ncommand = %s ignore:15 "
	    "pid:%s\nstop_timeout = 1h\n\n[service:plain]\ncommand = %s pid:%s\n",
	    vh_testsvc(), vh_path("stubborn.pid"), vh_testsvc(), vh_path("plain.pid"));
	vh_start_ok();
	pids[0] = wait_pid_file("stubborn.pid");
	pids[1] = wait_pid_file("plain.pid");
	cr_assert(vh_wait_state("stubborn", "running", UP_MS), "log:\n%s", vh_log_tail());
	/* within EXIT_MS: neither stop_timeout (1h) nor a shutdown_timeout (none) was waited */
	cr_assert(vh_signal_and_wait(SIGQUIT, EXIT_MS), "vigild still running %d ms after "
	    "SIGQUIT; log:\n%s", EXIT_MS, vh_log_tail());
	expect_exit(3, pids, names, 2);
	cr_expect(vh_log_contains("shutting down (SIGQUIT)"), "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("SIGQUIT: a fast shutdown: sending KILL"), "log:\n%s",
	    vh_log_tail());
}

/*
 * vigild as a container's init, without a container runtime: PID 1 of a
 * fresh pid namespace (unshare). log_console is on by default there, and
 * the essential job's exit code becomes the namespace's, which is what
 * `docker run` would return.
 */
Test(shutdown, as_pid_1_the_essential_jobs_code_is_the_containers)
{
	const char *go = vh_path("go");
	char *unshare[] = { "unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM",
	    getenv("VIGILD"), "-f", "-c", vh.conf, NULL };

	vh_setup("[service:job]\ncommand = %s echo:hello-from-pid-1 await:%s exit:7\n"
	    "essential = yes\nrestart = never\n\n[service:helper]\ncommand = %s\n",
	    vh_testsvc(), go, vh_testsvc());
	/* if the test dies, unshare dies, and --kill-child ends vigild */
	vh_exec(unshare, NULL, NULL);
	cr_assert(vh_wait_log("job    | hello-from-pid-1", UP_MS), "log_console is not on as PID 1; "
	    "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("vigild[1]: "), "not PID 1; log:\n%s", vh_log_tail());
	cr_assert(vh_wait_state("helper", "running", UP_MS), "log:\n%s", vh_log_tail());
	close(open(go, O_WRONLY | O_CREAT, 0644));
	cr_assert(vh_signal_and_wait(0, EXIT_MS), "still running %d ms on; log:\n%s", EXIT_MS,
	    vh_log_tail());
	cr_expect(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) == 7,
	    "wait status 0x%x, want exit 7; log:\n%s", (unsigned)vh.exit_status, vh_log_tail());
	cr_expect(vh_log_contains("helper: running -> stopping"), "log:\n%s", vh_log_tail());
}
