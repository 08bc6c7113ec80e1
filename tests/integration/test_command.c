/*
 * test_command.c: vigild -- COMMAND [ARG...], a container's init without a
 * configuration file (as tini): the command's output is vigild's, its exit
 * code is vigild's, --restart says what a crash does, and vigilctl reaches
 * it on --socket.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(command, .fini = vh_teardown, .timeout = 180);

#define UP_MS	20000	/* deadlines: generous, for a busy machine under ASan */
#define EXIT_MS	30000

/* vigild ARGS... with its stdout and stderr in vh.log; NULL-terminated. */
static void
start_command(const char *first, ...)
{
	char *argv[32];
	size_t n = 0;
	va_list ap;

	/* execv's prototype is not const; the strings are never written */
	argv[n++] = getenv("VIGILD");
	va_start(ap, first);
	for (char *a = (char *)(uintptr_t)first; a != NULL && n < 31; a = va_arg(ap, char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	vh_exec(argv, NULL, NULL);
}

static int
exit_code(void)
{
	return WIFEXITED(vh.exit_status) ? WEXITSTATUS(vh.exit_status) : -1;
}

Test(command, the_commands_output_and_exit_code_are_vigilds_and_its_words_arrive_intact)
{
	vh_setup("%s", "");
	start_command("--socket", vh.sock, "--", vh_testsvc(), "echo:it's a \"word\"  with  blanks",
	    "exit:7", NULL);
	cr_assert(vh_signal_and_wait(0, EXIT_MS), "still running; log:\n%s", vh_log_tail());
	cr_expect_eq(exit_code(), 7, "wait status 0x%x; log:\n%s", (unsigned)vh.exit_status,
	    vh_log_tail());
	cr_expect(vh_log_contains("it's a \"word\"  with  blanks"), "log:\n%s", vh_log_tail());
	/* vigild itself says nothing when all is well: the output is the command's */
	cr_expect(!vh_log_contains("notice:"), "log:\n%s", vh_log_tail());
}

Test(command, a_command_that_cannot_run_is_a_warning_and_exit_127)
{
	vh_setup("%s", "");
	start_command("--socket", vh.sock, "--", "/nonexistent/vigil-cmd", NULL);
	cr_assert(vh_signal_and_wait(0, EXIT_MS), "still running; log:\n%s", vh_log_tail());
	cr_expect_eq(exit_code(), 127, "wait status 0x%x", (unsigned)vh.exit_status);
	cr_expect(vh_log_contains("vigil-cmd: essential and"), "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("exec failed: /nonexistent/vigil-cmd: No such file or directory"),
	    "log:\n%s", vh_log_tail());
}

/*
 * --restart always: a crash is restarted; vigilctl sees the service under
 * the command's name; there is no file to reload; SIGTERM stops it cleanly.
 */
Test(command, restart_always_restarts_it_and_vigilctl_reaches_it)
{
	struct vh_result r;
	char pidarg[320];
	long first;

	vh_setup("%s", "");
	snprintf(pidarg, sizeof(pidarg), "pid:%s", vh_path("pid"));
	start_command("--restart", "always", "--socket", vh.sock, "--", vh_testsvc(), pidarg,
	    NULL);
	cr_assert(vh_wait_file(vh_path("pid"), UP_MS), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_state("vigil-testsvc", "running", UP_MS), "log:\n%s", vh_log_tail());
	first = vh_read_long(vh_path("pid"));
	cr_assert_gt(first, 0);
	unlink(vh_path("pid"));
	kill((pid_t)first, SIGKILL);
	cr_assert(vh_wait_file(vh_path("pid"), UP_MS), "not restarted; log:\n%s", vh_log_tail());
	cr_expect_neq(vh_read_long(vh_path("pid")), first);

	cr_expect_eq(vh_ctl(&r, "reload", NULL), 1, "out: %s err: %s", r.out, r.err);
	cr_expect(strstr(r.err, "no configuration file to reload") != NULL, "err: %s", r.err);

	cr_assert(vh_signal_and_wait(SIGTERM, EXIT_MS), "still running; log:\n%s", vh_log_tail());
	cr_expect_eq(exit_code(), 0, "a clean stop: wait status 0x%x; log:\n%s",
	    (unsigned)vh.exit_status, vh_log_tail());
}

Test(command, a_command_with_a_config_file_or_options_without_a_command_are_usage_errors)
{
	vh_setup("%s", "");
	start_command("-c", vh.conf, "--", "/bin/true", NULL);
	cr_assert(vh_signal_and_wait(0, EXIT_MS));
	cr_expect_eq(exit_code(), 2);
	cr_expect(vh_log_contains("not both"), "log:\n%s", vh_log_tail());
	start_command("--restart", "always", "-c", vh.conf, NULL);
	cr_assert(vh_signal_and_wait(0, EXIT_MS));
	cr_expect_eq(exit_code(), 2);
	cr_expect(vh_log_contains("--restart is for a command"), "log:\n%s", vh_log_tail());
	start_command("--restart", "sometimes", "--socket", vh.sock, "--", "/bin/true", NULL);
	cr_assert(vh_signal_and_wait(0, EXIT_MS));
	cr_expect_eq(exit_code(), 1);
	cr_expect(vh_log_contains("restart: expected always, on-failure or never, found 'sometimes'"),
	    "log:\n%s", vh_log_tail());
}
