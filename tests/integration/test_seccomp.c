/*
 * test_seccomp.c: syscall_filter and syscall_filter_action, seen from
 * inside the service (mount(2) refused, /proc/self/status) and from
 * vigild (a call the filter kills for is a death by SIGSYS).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY	65534

TestSuite(seccomp, .fini = vh_teardown, .timeout = 120);

/* The file a service wrote, once it is there; fails the test with the log if it never is. */
static char *
result_of(const char *name)
{
	cr_assert(vh_wait_file(vh_path(name), 20000), "no %s; log:\n%s", name, vh_log_tail());
	return strdup(vh_slurp(vh_path(name)));
}

/*
 * ~@mount refuses mount(2) with EPERM where the same service without a
 * filter may mount (as root); the filtered one runs with Seccomp: 2 and,
 * although it did not ask, NoNewPrivs: 1.
 */
Test(seccomp, a_deny_list_refuses_its_calls_with_eperm)
{
	char *got;

	if (geteuid() != 0)
		cr_skip_test("mounting needs root");
	vh_setup("[service:filtered]\ncommand = %s mount:%s proc:status:%s\n"
	    "syscall_filter = ~@mount\n\n[service:plain]\ncommand = %s mount:%s proc:status:%s\n",
	    vh_testsvc(), vh_path("filtered"), vh_path("filtered-status"), vh_testsvc(),
	    vh_path("plain"), vh_path("plain-status"));
	vh_start_ok();
	got = result_of("plain");
	if (strncmp(got, "0 ok", 4) != 0) {
		free(got);
		cr_skip_test("this machine refuses a tmpfs mount even to root: %s", got);
	}
	free(got);
	got = result_of("filtered");
	cr_expect(strncmp(got, "EPERM ", 6) == 0, "mount under ~@mount: %s", got);
	free(got);
	got = result_of("filtered-status");
	cr_expect(strstr(got, "Seccomp:\t2\n") != NULL, "%s", got);
	cr_expect(strstr(got, "NoNewPrivs:\t1\n") != NULL, "%s", got);
	free(got);
	got = result_of("plain-status");
	cr_expect(strstr(got, "Seccomp:\t0\n") != NULL, "without a filter: %s", got);
	free(got);
}

/* syscall_filter_action = kill: the first forbidden call ends the service by SIGSYS. */
Test(seccomp, the_kill_action_ends_the_service_by_sigsys)
{
	vh_setup("[service:web]\ncommand = %s stamp:%s mount:%s\nsyscall_filter = ~@mount\n"
	    "syscall_filter_action = kill\nrestart = never\n",
	    vh_testsvc(), vh_path("stamp"), vh_path("mount"));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "exited", 20000), "log:\n%s", vh_log_tail());
	cr_expect(vh_wait_reason("web", "killed by SYS", 5000), "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("web: pid "), "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("killed by SYS"), "log:\n%s", vh_log_tail());
	/* it ran up to the call, and never wrote what the call returned */
	cr_expect(vh_wait_file(vh_path("stamp"), 5000));
	cr_expect_eq(access(vh_path("mount"), F_OK), -1, "mount was let through");
}

/*
 * @basic is enough for the test service and for a shell; an allow-list
 * without what a service needs fails it visibly: mount(2), which @basic
 * leaves out, kills it, and a list without even openat or mmap ends it
 * before it can run.
 */
Test(seccomp, an_allow_list_lets_through_only_what_it_names)
{
	char *got;

	vh_setup("[service:basic]\ncommand = %s proc:status:%s\nsyscall_filter = @basic\n\n"
	    "[service:sh]\ncommand = /bin/sh -c 'echo hello > %s'\nsyscall_filter = @basic\n"
	    "syscall_filter_action = kill\nrestart = never\n\n"
	    "[service:nomount]\ncommand = %s mount:%s\nsyscall_filter = @basic\n"
	    "syscall_filter_action = kill\nrestart = never\n\n"
	    "[service:bare]\ncommand = %s pid:%s\nsyscall_filter = read write exit_group\n"
	    "syscall_filter_action = kill\nrestart = never\n",
	    vh_testsvc(), vh_path("status"), vh_path("hello"), vh_testsvc(), vh_path("mount"),
	    vh_testsvc(), vh_path("pid"));
	vh_start_ok();
	got = result_of("status");
	cr_expect(strstr(got, "Seccomp:\t2\n") != NULL, "%s", got);
	free(got);
	got = result_of("hello");
	cr_expect_str_eq(got, "hello\n");
	free(got);
	cr_expect(vh_wait_state("nomount", "exited", 20000), "log:\n%s", vh_log_tail());
	cr_expect(vh_wait_reason("nomount", "killed by SYS", 5000), "log:\n%s", vh_log_tail());
	cr_expect(vh_wait_state("bare", "exited", 20000), "log:\n%s", vh_log_tail());
	cr_expect(vh_wait_reason("bare", "killed by SYS", 5000), "log:\n%s", vh_log_tail());
	cr_expect_eq(access(vh_path("pid"), F_OK), -1, "bare ran without its calls");
}

/* Status shows both keys among the service's isolation, as written. */
Test(seccomp, status_shows_the_filter_as_isolation)
{
	vh_setup("[service:web]\ncommand = %s\nsyscall_filter = ~@mount @reboot ptrace\n"
	    "syscall_filter_action = kill\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000), "log:\n%s", vh_log_tail());
	vh_expect_isolation("web", "{\"syscall_filter\": \"~@mount @reboot ptrace\", "
	    "\"syscall_filter_action\": \"kill\"}");
}

/* Whether nobody may run path (a build under a private home may not be reachable). */
static bool
nobody_can_run(const char *path)
{
	int status;
	pid_t pid;

	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		vh_become(NOBODY, NOBODY, NULL, 0);
		_exit(access(path, X_OK) == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * vigild as nobody: no_new_privs lets an unprivileged process load a
 * filter, so the service starts filtered just the same.
 */
Test(seccomp, an_unprivileged_vigild_filters_its_services)
{
	char *got;

	if (geteuid() != 0)
		cr_skip_test("the test becomes nobody, which needs root");
	if (!nobody_can_run(vh_testsvc()) || !nobody_can_run(getenv("VIGILD") ?
	    getenv("VIGILD") : "./vigild"))
		cr_skip_test("nobody cannot run the build's programs here");
	vh_setup("[service:web]\ncommand = %s proc:status:%s\nsyscall_filter = ~@mount @debug\n",
	    vh_testsvc(), vh_path("status"));
	cr_assert_eq(chown(vh.dir, NOBODY, NOBODY), 0, "%s", strerror(errno));
	cr_assert_eq(chown(vh.conf, NOBODY, NOBODY), 0, "%s", strerror(errno));
	cr_assert(vh_start_as(NOBODY, NOBODY, NULL), "vigild as nobody did not start "
	    "(wait status 0x%x); log:\n%s", (unsigned)vh.exit_status, vh_log_tail());
	got = result_of("status");
	cr_expect(strstr(got, "Seccomp:\t2\n") != NULL, "%s", got);
	cr_expect(strstr(got, "NoNewPrivs:\t1\n") != NULL, "%s", got);
	cr_expect(strstr(got, "Uid:\t65534\t") != NULL, "%s", got);
	free(got);
}
