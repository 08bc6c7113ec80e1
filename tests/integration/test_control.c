/*
 * test_control.c: the control socket as a client sees it, raw over a real
 * socket and through the real vigilctl: protocol replies and error codes,
 * hostile clients, exit statuses, the socket file, and vigild --check.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "harness.h"
#include "rawclient.h"
#include "proto.h"

TestSuite(control, .fini = vh_teardown, .timeout = 180);

/* ---- running programs directly ---- */

/*
 * Run argv with stdout and stderr to files in the test folder; its pid is
 * kept in a .pid file while it runs, so teardown kills it if we fail.
 * Returns the wait status, or -1 if it did not end within timeout_ms.
 */
static int
run_to_files(char *const argv[], const char *out, const char *err, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	const char *pidfile = vh_path("run.pid");
	int status;
	FILE *f;
	pid_t pid;

	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (o == -1 || e == -1)
			_exit(96);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(95);
	}
	if ((f = fopen(pidfile, "w")) != NULL) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	do {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			unlink(pidfile);
			return status;
		}
		usleep(10000);
	} while (vh_now_ms() < deadline);
	return -1;
}

static char *
vigild_path(void)
{
	static char path[4096];
	const char *v = getenv("VIGILD");

	snprintf(path, sizeof(path), "%s", v && *v ? v : "./vigild");
	return path;
}

/* ---- raw protocol ---- */

Test(control, hello_announces_the_protocol_and_every_command)
{
	static const char *const v1[] = { "hello", "help", "status", "start", "stop",
	    "restart", "signal", "shutdown", "log", "log-reopen", "reload" };
	struct raw c;
	json_t *r, *cmds;

	vh_setup("%s", "");
	vh_add_services("[service:idle]\ncommand = %s\nautostart = no\n", vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	r = raw_request(&c, "hello");
	cr_assert(reply_ok(r), "hello: %s", show(r));
	cr_expect_eq(json_integer_value(json_object_get(r, "protocol")), PROTO_VERSION,
	    "hello: %s", show(r));
	cmds = json_object_get(r, "commands");
	cr_assert(json_is_array(cmds), "hello without a commands array: %s", show(r));
	for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
		bool found = false;
		size_t j;
		json_t *v;

		json_array_foreach(cmds, j, v)
			found = found || (json_is_string(v) && strcmp(json_string_value(v), v1[i]) == 0);
		cr_expect(found, "hello does not list '%s': %s", v1[i], show(r));
	}
	json_decref(r);
	raw_close(&c);
}

/* Both halves of help, ours and vigild's, fit an 80-column terminal. */
Test(control, help_fits_80_columns)
{
	static struct vh_result r;
	size_t lines = 0;

	vh_setup("%s", "");
	vh_start_ok();
	cr_assert_eq(vh_ctl(&r, "help", NULL), 0, "help: %s", r.err);
	cr_assert(strstr(r.out, "requests vigild understands") != NULL,
	    "help without vigild's half:\n%s", r.out);
	cr_expect(strstr(r.out, "\n      wait until every named service is there") != NULL,
	    "vigild's summaries are not on their own lines:\n%s", r.out);
	for (char *line = r.out, *nl; *line != '\0'; line = nl + 1, lines++) {
		nl = strchrnul(line, '\n');
		cr_expect_leq(nl - line, 80, "a line of %d columns: %.*s", (int)(nl - line),
		    (int)(nl - line), line);
		if (*nl == '\0')
			break;
	}
	cr_expect_gt(lines, 30);
}

Test(control, several_requests_on_one_connection_are_answered_in_order)
{
	struct raw c;
	json_t *r;

	vh_setup("%s", "");
	vh_add_services("[service:a]\ncommand = %s\nautostart = no\n\n"
	    "[service:b]\ncommand = %s\nautostart = no\n", vh_testsvc(), vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	/* one write: the daemon gets them all at once and must still answer each in turn */
	raw_send(&c, "hello\nstatus b\nstatus nosuch\nhelp\nstatus\nstatus a\n", 50);

	r = raw_reply(&c, "1st (hello)");
	cr_expect(reply_ok(r) && json_is_integer(json_object_get(r, "protocol")),
	    "1st reply is not hello's: %s", show(r));
	json_decref(r);

	r = raw_reply(&c, "2nd (status b)");
	cr_expect(reply_ok(r), "2nd: %s", show(r));
	cr_expect_eq(json_array_size(json_object_get(r, "services")), 1, "2nd: %s", show(r));
	cr_expect_str_eq(reply_str(json_array_get(json_object_get(r, "services"), 0), "name"), "b",
	    "2nd reply is not status b's: %s", show(r));
	json_decref(r);

	expect_error(raw_reply(&c, "3rd (status nosuch)"), "no-such-service", "3rd");

	r = raw_reply(&c, "4th (help)");
	cr_expect(reply_ok(r), "4th: %s", show(r));
	cr_expect(json_is_object(json_array_get(json_object_get(r, "commands"), 0)),
	    "4th reply is not help's: %s", show(r));
	json_decref(r);

	r = raw_reply(&c, "5th (status)");
	cr_expect_eq(json_array_size(json_object_get(r, "services")), 2,
	    "5th reply is not a status of both: %s", show(r));
	json_decref(r);

	r = raw_reply(&c, "6th (status a)");
	cr_expect_str_eq(reply_str(json_array_get(json_object_get(r, "services"), 0), "name"), "a",
	    "6th reply is not status a's: %s", show(r));
	json_decref(r);
	raw_close(&c);
}

Test(control, malformed_requests_get_their_error_and_the_connection_lives_on)
{
	char big[5010];
	struct raw c;
	json_t *r;

	vh_setup("%s", "");
	vh_add_services("[service:svc]\ncommand = %s\nautostart = no\n", vh_testsvc());
	vh_start_ok();
	raw_connect(&c);

	expect_error(raw_request(&c, "frobnicate"), "unknown-command", "frobnicate");
	expect_status_ok(&c, "unknown command");

	expect_error(raw_request(&c, "status nosuch"), "no-such-service", "status nosuch");
	expect_status_ok(&c, "unknown service");

	/* 5000 bytes, then the newline in a separate write */
	memcpy(big, "status ", 7);
	memset(big + 7, 'x', 5000 - 7);
	raw_send(&c, big, 5000);
	raw_send(&c, "\n", 1);
	expect_error(raw_reply(&c, "5000-byte line"), "line-too-long", "5000-byte line");
	expect_status_ok(&c, "a 5000-byte line");

	/* the same with the over-long line and the next request in one write */
	memcpy(big + 5000, "\nstatus\n", 8);
	raw_send(&c, big, 5008);
	expect_error(raw_reply(&c, "5000-byte line, one write"), "line-too-long",
	    "5000-byte line, one write");
	r = raw_reply(&c, "status right after a 5000-byte line");
	cr_expect(reply_ok(r), "status right after a 5000-byte line: %s", show(r));
	json_decref(r);

	expect_error(raw_request(&c, "signal BOGUS svc"), "bad-signal", "signal BOGUS svc");
	expect_status_ok(&c, "a bad signal");

	expect_error(raw_request(&c, "start"), "bad-request", "start without a name");
	expect_status_ok(&c, "start without a name");

	expect_error(raw_request(&c, "status 'svc"), "bad-request", "unbalanced quote");
	expect_status_ok(&c, "an unbalanced quote");

	expect_error(raw_request(&c, "status \"svc"), "bad-request", "unbalanced double quote");
	expect_status_ok(&c, "an unbalanced double quote");

	expect_error(raw_request(&c, ""), "bad-request", "empty line");
	expect_status_ok(&c, "an empty line");

	expect_error(raw_request(&c, "signal TERM svc"), "not-running", "signal to a stopped service");
	expect_status_ok(&c, "signal to a stopped service");
	raw_close(&c);
}

Test(control, line_length_limit_is_4096_bytes)
{
	char line[4100];
	struct raw c;
	json_t *r;

	vh_setup("%s", "");
	vh_add_services("[service:svc]\ncommand = %s\nautostart = no\n", vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	/* "status" padded with blanks to exactly 4096 bytes: accepted */
	memset(line, ' ', sizeof(line));
	memcpy(line, "status", 6);
	line[4096] = '\n';
	raw_send(&c, line, 4097);
	r = raw_reply(&c, "4096-byte line");
	cr_expect(reply_ok(r), "a 4096-byte line must be accepted: %s", show(r));
	json_decref(r);
	/* one byte more: refused */
	line[4096] = ' ';
	line[4097] = '\n';
	raw_send(&c, line, 4098);
	expect_error(raw_reply(&c, "4097-byte line"), "line-too-long", "4097-byte line");
	expect_status_ok(&c, "a 4097-byte line");
	raw_close(&c);
}

Test(control, silent_and_flooding_clients_do_not_stall_the_daemon)
{
	enum { FLOOD = 2000 };
	static char flood[FLOOD * 7];
	struct raw partial, flooder;
	struct vh_result r;
	json_t *j;
	char *line;
	int answered = 0, bad = 0;

	/* several services make each status reply ~2 KB: 4 MB of unread replies */
	vh_setup("%s", "");
	vh_add_services("[service:s1]\ncommand = %s\nautostart = no\n\n"
	    "[service:s2]\ncommand = %s\nautostart = no\n\n"
	    "[service:s3]\ncommand = %s\nautostart = no\n\n"
	    "[service:s4]\ncommand = %s\nautostart = no\n\n"
	    "[service:s5]\ncommand = %s\nautostart = no\n\n"
	    "[service:s6]\ncommand = %s\nautostart = no\n\n"
	    "[service:s7]\ncommand = %s\nautostart = no\n\n"
	    "[service:s8]\ncommand = %s\nautostart = no\n",
	    vh_testsvc(), vh_testsvc(), vh_testsvc(), vh_testsvc(),
	    vh_testsvc(), vh_testsvc(), vh_testsvc(), vh_testsvc());
	vh_start_ok();

	raw_connect(&partial);
	raw_send(&partial, "status", 6);	/* and never the newline, for now */
	raw_connect(&flooder);
	for (int i = 0; i < FLOOD; i++)
		memcpy(flood + i * 7, "status\n", 7);
	raw_send(&flooder, flood, sizeof(flood));

	/* a stalled daemon never answers: the only clock here is a hang guard */
	vh_ctl(&r, "--timeout", "60s", "status", NULL);
	cr_assert_eq(r.code, 0, "vigilctl status exited %d with a silent and a flooding client "
	    "connected; stderr: %s; log:\n%s", r.code, r.err, vh_log_tail());
	cr_assert(vh_pid_alive(vh.pid), "vigild died; log:\n%s", vh_log_tail());
	cr_expect(strstr(r.out, "s8") != NULL, "status table lacks s8: %s", r.out);

	/* the silent client was kept, not dropped: finishing its line gets an answer */
	raw_send(&partial, "\n", 1);
	j = raw_reply(&partial, "the partial line, finished");
	cr_expect(reply_ok(j), "partial client: %s", show(j));
	json_decref(j);

	/* the flooder, once it reads, gets every reply, in full */
	while (answered < FLOOD && (line = raw_line(&flooder, 60000)) != NULL) {
		json_t *o = json_loads(line, 0, NULL);
		if (o == NULL || !reply_ok(o) ||
		    json_array_size(json_object_get(o, "services")) != 8)
			bad++;
		json_decref(o);
		free(line);
		answered++;
	}
	cr_expect_eq(answered, FLOOD, "the flooding client got %d of %d replies; log:\n%s",
	    answered, FLOOD, vh_log_tail());
	cr_expect_eq(bad, 0, "%d of the flood replies were not good status replies", bad);
	cr_expect(vh_pid_alive(vh.pid), "vigild died; log:\n%s", vh_log_tail());
	raw_close(&partial);
	raw_close(&flooder);
}

/* ---- vigilctl ---- */

Test(control, vigilctl_exits_3_and_names_the_socket_when_no_daemon_listens)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct vh_result r;
	int fd;

	vh_setup("%s", "");
	vh_add_services("[service:svc]\ncommand = %s\n", vh_testsvc());
	/* nothing at the path */
	cr_expect_eq(vh_ctl(&r, "status", NULL), 3, "no socket file: exit %d; stderr: %s",
	    r.code, r.err);
	cr_expect(strstr(r.err, vh.sock) != NULL, "stderr does not name %s: %s", vh.sock, r.err);

	/* a dead socket file at the path: connection refused */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	raw_sock_addr(&sun);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "bind: %s", strerror(errno));
	close(fd);
	cr_expect_eq(vh_ctl(&r, "status", NULL), 3, "dead socket: exit %d; stderr: %s",
	    r.code, r.err);
	cr_expect(strstr(r.err, vh.sock) != NULL, "stderr does not name %s: %s", vh.sock, r.err);
}

Test(control, vigilctl_exit_codes_for_refusals_and_usage_errors)
{
	struct vh_result r;
	json_error_t jerr;
	json_t *j;

	vh_setup("%s", "");
	vh_add_services("[service:svc]\ncommand = %s\nautostart = no\n", vh_testsvc());
	vh_start_ok();

	cr_expect_eq(vh_ctl(&r, "status", "nosuch", NULL), 1, "status nosuch: exit %d; %s",
	    r.code, r.err);
	cr_expect(strstr(r.err, "no such service: nosuch") != NULL,
	    "stderr lacks the daemon's message: %s", r.err);
	cr_expect_eq(vh_ctl(&r, "start", "nosuch", NULL), 1, "start nosuch: exit %d; %s",
	    r.code, r.err);
	cr_expect(strstr(r.err, "nosuch") != NULL, "stderr: %s", r.err);

	cr_expect_eq(vh_ctl(&r, "frobnicate", NULL), 2, "unknown verb: exit %d; %s", r.code, r.err);
	cr_expect_eq(vh_ctl(&r, "start", NULL), 2, "start without a name: exit %d; %s",
	    r.code, r.err);
	cr_expect_eq(vh_ctl(&r, "stop", NULL), 2, "stop without a name: exit %d; %s",
	    r.code, r.err);
	cr_expect_eq(vh_ctl(&r, "signal", "USR1", NULL), 2, "signal without a name: exit %d; %s",
	    r.code, r.err);

	cr_assert_eq(vh_ctl(&r, "--json", "status", NULL), 0, "--json status: exit %d; %s",
	    r.code, r.err);
	j = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(j, "--json status is not one JSON document (%s): %s", jerr.text, r.out);
	cr_expect(reply_ok(j), "--json status: %s", r.out);
	cr_expect_str_eq(reply_str(json_array_get(json_object_get(j, "services"), 0), "name"), "svc",
	    "--json status: %s", r.out);
	json_decref(j);
}

Test(control, signal_reaches_a_running_service_and_is_refused_for_a_stopped_one)
{
	struct vh_result r;
	json_t *s, *last;
	long pid;

	vh_setup("%s", "");
	vh_add_services("[service:target]\ncommand = %s pid:%s\nrestart = never\nstart_secs = 100ms\n\n"
	    "[service:idle]\ncommand = %s\nautostart = no\n",
	    vh_testsvc(), vh_path("target.pid"), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("target", "running", 20000), "target never running; log:\n%s", vh_log_tail());
	cr_assert(vh_wait_file(vh_path("target.pid"), 10000));
	pid = vh_read_long(vh_path("target.pid"));

	cr_assert_eq(vh_ctl(&r, "signal", "USR1", "target", NULL), 0, "signal USR1: exit %d; %s",
	    r.code, r.err);
	cr_assert(vh_wait_state("target", "exited", 20000), "target did not die of USR1; log:\n%s",
	    vh_log_tail());
	cr_expect(vh_wait_gone((pid_t)pid, 10000), "pid %ld still there", pid);
	s = vh_service("target");
	cr_assert_not_null(s);
	last = json_object_get(s, "last_exit");
	cr_expect_str_eq(reply_str(last, "signal"), "USR1", "last_exit: %s", show(last));
	cr_expect_eq(json_integer_value(json_object_get(last, "pid")), pid, "last_exit: %s",
	    show(last));
	json_decref(s);

	cr_expect_eq(vh_ctl(&r, "signal", "USR1", "idle", NULL), 1,
	    "signal to a stopped service: exit %d; out: %s; err: %s", r.code, r.out, r.err);
	cr_expect_eq(vh_ctl(&r, "signal", "USR1", "target", NULL), 1,
	    "signal to an exited service: exit %d; out: %s; err: %s", r.code, r.out, r.err);
}

static long
pid_of(const char *name)
{
	json_t *s = vh_service(name);
	long pid = s ? (long)json_integer_value(json_object_get(s, "pid")) : -1;

	json_decref(s);
	return pid;
}

Test(control, start_restart_stop_through_vigilctl)
{
	struct vh_result r;
	char st[32];
	long pid, pid2;

	vh_setup("%s", "");
	vh_add_services("[service:man]\ncommand = %s pid:%s\nautostart = no\nstart_secs = 200ms\n",
	    vh_testsvc(), vh_path("man.pid"));
	vh_start_ok();
	cr_expect_str_eq(vh_state("man", st, sizeof(st)), "stopped");

	cr_assert_eq(vh_ctl(&r, "start", "man", NULL), 0, "start: exit %d; %s %s", r.code,
	    r.out, r.err);
	cr_expect_str_eq(vh_state("man", st, sizeof(st)), "running", "start returned before running");
	pid = pid_of("man");
	cr_assert_gt(pid, 1, "no pid after start");
	cr_expect(vh_pid_alive((pid_t)pid), "pid %ld is not alive", pid);

	cr_assert_eq(vh_ctl(&r, "restart", "man", NULL), 0, "restart: exit %d; %s %s", r.code,
	    r.out, r.err);
	cr_expect_str_eq(vh_state("man", st, sizeof(st)), "running",
	    "restart returned before running");
	pid2 = pid_of("man");
	cr_assert_gt(pid2, 1, "no pid after restart");
	cr_expect_neq(pid2, pid, "restart kept pid %ld", pid);
	cr_expect(vh_pid_alive((pid_t)pid2), "new pid %ld is not alive", pid2);
	cr_expect(vh_wait_gone((pid_t)pid, 10000), "old pid %ld still there (state %c)", pid,
	    vh_pid_state((pid_t)pid));

	cr_assert_eq(vh_ctl(&r, "stop", "man", NULL), 0, "stop: exit %d; %s %s", r.code,
	    r.out, r.err);
	cr_expect_str_eq(vh_state("man", st, sizeof(st)), "stopped", "stop returned before stopped");
	cr_expect_eq(pid_of("man"), 0, "a pid after stop");
	cr_expect(vh_wait_gone((pid_t)pid2, 10000), "pid %ld still there (state %c)", pid2,
	    vh_pid_state((pid_t)pid2));
	cr_expect_eq(vh_zombie_children(), 0, "zombies left behind");
}

Test(control, start_of_a_missing_program_fails_with_the_reason)
{
	struct vh_result r;

	vh_setup("%s", "");
	vh_add_services("[service:ghost]\ncommand = /nonexistent/vigil-ghost\nautostart = no\n"
	    "start_retries = 1\n");
	vh_start_ok();
	cr_expect_eq(vh_ctl(&r, "start", "ghost", NULL), 1, "start: exit %d; out: %s; err: %s",
	    r.code, r.out, r.err);
	cr_expect(strstr(r.err, "No such file or directory") != NULL, "stderr: %s", r.err);
	cr_expect(vh_pid_alive(vh.pid), "vigild died; log:\n%s", vh_log_tail());
}

/* ---- the socket file and vigild's own checks ---- */

Test(control, socket_file_is_mode_0600)
{
	struct stat st;

	vh_setup("%s", "");
	vh_add_services("[service:svc]\ncommand = %s\nautostart = no\n", vh_testsvc());
	vh_start_ok();
	cr_assert_eq(lstat(vh.sock, &st), 0, "%s: %s", vh.sock, strerror(errno));
	cr_expect(S_ISSOCK(st.st_mode), "%s is not a socket", vh.sock);
	cr_expect_eq(st.st_mode & 07777, 0600, "mode is %04o", (unsigned)(st.st_mode & 07777));
}

Test(control, a_stale_socket_file_is_replaced)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct raw c;
	json_t *r;
	int fd;

	vh_setup("%s", "");
	vh_add_services("[service:svc]\ncommand = %s\nautostart = no\n", vh_testsvc());
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	raw_sock_addr(&sun);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "bind: %s", strerror(errno));
	close(fd);	/* the file stays: a stale socket, like after a crash */
	vh_start_ok();
	raw_connect(&c);
	r = raw_request(&c, "hello");
	cr_expect(reply_ok(r), "hello: %s", show(r));
	cr_expect_eq(json_integer_value(json_object_get(r, "pid")), vh.pid,
	    "someone else answers: %s", show(r));
	json_decref(r);
	raw_close(&c);
}

Test(control, a_second_vigild_on_the_same_socket_refuses_to_start)
{
	char *argv[] = { vigild_path(), "-f", "-c", vh.conf, NULL };
	struct vh_result r;
	struct raw c;
	char st[32];
	json_t *j;
	int status;

	vh_setup("%s", "");
	vh_add_services("[service:svc]\ncommand = %s pid:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("svc.pid"));
	argv[3] = vh.conf;
	vh_start_ok();
	cr_assert(vh_wait_state("svc", "running", 20000), "svc never running; log:\n%s", vh_log_tail());

	status = run_to_files(argv, vh_path("second.out"), vh_path("second.err"), 20000);
	cr_assert_neq(status, -1, "the second vigild is still running after 20 s; stderr: %s",
	    vh_slurp(vh_path("second.err")));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0,
	    "the second vigild ended with wait status 0x%x; stderr: %s", (unsigned)status,
	    vh_slurp(vh_path("second.err")));
	cr_expect(strstr(vh_slurp(vh_path("second.err")), "another vigild is already listening") != NULL,
	    "stderr of the second vigild: %s", vh_slurp(vh_path("second.err")));

	/* the first one is untouched: same socket, same daemon, same service */
	cr_expect(vh_pid_alive(vh.pid), "the first vigild died; log:\n%s", vh_log_tail());
	cr_expect_eq(vh_ctl(&r, "status", "svc", NULL), 0, "status: exit %d; %s", r.code, r.err);
	raw_connect(&c);
	j = raw_request(&c, "hello");
	cr_expect_eq(json_integer_value(json_object_get(j, "pid")), vh.pid,
	    "someone else answers: %s", show(j));
	json_decref(j);
	raw_close(&c);
	cr_expect_str_eq(vh_state("svc", st, sizeof(st)), "running");
}

Test(control, check_mode_accepts_a_good_config_and_names_file_and_line_of_a_bad_one)
{
	char *argv[] = { vigild_path(), "--check", "-c", NULL, NULL };
	char bad[512], where[600];
	FILE *f;
	int status;

	vh_setup("%s", "");
	vh_add_services("[service:svc]\ncommand = %s\nrestart = on-failure\nstop_timeout = 2s\n",
	    vh_testsvc());
	argv[3] = vh.conf;
	status = run_to_files(argv, vh_path("check.out"), vh_path("check.err"), 20000);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "--check of a good config: wait status 0x%x; stderr: %s", (unsigned)status,
	    vh_slurp(vh_path("check.err")));
	cr_expect_eq(access(vh.sock, F_OK), -1, "--check created the socket");

	snprintf(bad, sizeof(bad), "%s", vh_path("bad.conf"));
	f = fopen(bad, "w");
	cr_assert_not_null(f);
	fprintf(f, "[vigil]\nsocket = %s\n\n[service:svc]\ncommand = %s\n"
	    "restart = sometimes\n", vh.sock, vh_testsvc());	/* line 6 */
	fclose(f);
	argv[3] = bad;
	status = run_to_files(argv, vh_path("check.out"), vh_path("check.err"), 20000);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "--check of a bad config: wait status 0x%x; stderr: %s", (unsigned)status,
	    vh_slurp(vh_path("check.err")));
	snprintf(where, sizeof(where), "%s:6:", bad);
	cr_expect(strstr(vh_slurp(vh_path("check.err")), where) != NULL, "stderr lacks '%s': %s",
	    where, vh_slurp(vh_path("check.err")));
}

Test(control, status_fields_limit_the_reply_to_the_named_fields)
{
	struct raw c;
	json_t *reply, *svc, *v;
	const char *key;

	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	cr_assert(vh_start());
	raw_connect(&c);
	reply = raw_request(&c, "status a");
	svc = json_array_get(json_object_get(reply, "services"), 0);
	cr_expect_not_null(json_object_get(svc, "since"), "a plain status has every field");
	cr_expect_not_null(json_object_get(svc, "autostart"), "a plain status has every field");
	json_decref(reply);

	reply = raw_request(&c, "status --fields=name,pid -- a");
	svc = json_array_get(json_object_get(reply, "services"), 0);
	cr_expect_eq(json_object_size(svc), 2, "fields: %s", show(svc));
	json_object_foreach(svc, key, v)
		cr_expect(strcmp(key, "name") == 0 || strcmp(key, "pid") == 0, "extra %s", key);
	json_decref(reply);

	expect_error(raw_request(&c, "status --fields=name,bogus"), "bad-request",
	    "unknown field");
	expect_error(raw_request(&c, "status --colour"), "bad-request", "unknown option");
	raw_close(&c);
}

/* ---- log: the last lines, and followers ---- */

static void
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fclose(f);
}


static const char *
line_text(const json_t *lines, size_t i)
{
	return reply_str(json_array_get(lines, i), "text");
}

Test(control, log_merges_services_by_time_and_refuses_bad_options)
{
	const char *bad[] = { "log -n", "log -n x", "log -n -1", "log -n 1000001",
	    "log --since=soon", "log --frob", "log-reopen now" };
	json_t *r, *lines, *l;
	struct raw c;
	double prev = 0;
	size_t i;

	vh_setup("%s", "");
	/*
	 * a's last line holds a byte that is not UTF-8: it comes back as U+FFFD.
	 * Two services, and stdout and stderr are two pipes: only the test,
	 * which lets each line out once vigild has the one before, orders them.
	 */
	vh_add_services("[service:a]\ncommand = %s echo:a-one await:%s echo:a-two bytes:ff410a\n"
	    "[service:b]\ncommand = %s await:%s echo:b-one await:%s err:b-err\n",
	    vh_testsvc(), vh_path("go-a2"), vh_testsvc(), vh_path("go-b1"), vh_path("go-b2"));
	vh_start_ok();
	raw_connect(&c);

	json_decref(raw_log_until(&c, "log", 1));
	touch(vh_path("go-b1"));
	json_decref(raw_log_until(&c, "log", 2));
	touch(vh_path("go-a2"));
	json_decref(raw_log_until(&c, "log", 4));
	touch(vh_path("go-b2"));
	r = raw_log_until(&c, "log", 5);
	lines = json_object_get(r, "lines");
	cr_assert_eq(json_array_size(lines), 5, "%s", show(r));
	cr_expect_str_eq(line_text(lines, 0), "a-one", "%s", show(r));
	cr_expect_str_eq(line_text(lines, 1), "b-one", "%s", show(r));
	cr_expect_str_eq(line_text(lines, 3), "\xef\xbf\xbd" "A", "%s", show(r));
	cr_expect_str_eq(line_text(lines, 4), "b-err", "%s", show(r));
	json_array_foreach(lines, i, l) {
		double t = json_number_value(json_object_get(l, "time"));
		cr_expect_geq(t, prev, "lines out of time order: %s", show(r));
		prev = t;
		cr_expect(json_is_string(json_object_get(l, "service")));
		cr_expect(json_is_false(json_object_get(l, "continued")));
		cr_expect(json_is_false(json_object_get(l, "partial")));
	}
	json_decref(r);

	r = raw_request(&c, "log -n 2 -- a");
	lines = json_object_get(r, "lines");
	cr_assert_eq(json_array_size(lines), 2, "%s", show(r));
	cr_expect_str_eq(line_text(lines, 0), "a-two", "%s", show(r));
	cr_expect_str_eq(reply_str(json_array_get(lines, 1), "service"), "a");
	json_decref(r);

	r = raw_request(&c, "log -n 1 b b");
	lines = json_object_get(r, "lines");
	cr_assert_eq(json_array_size(lines), 1, "a name given twice counts once: %s", show(r));
	cr_expect_str_eq(line_text(lines, 0), "b-err");
	cr_expect_str_eq(reply_str(json_array_get(lines, 0), "stream"), "err");
	json_decref(r);

	r = raw_request(&c, "log --since=1h -n 0 a");
	cr_expect_eq(json_array_size(json_object_get(r, "lines")), 0, "%s", show(r));
	json_decref(r);
	r = raw_request(&c, "log --since=1h a");
	cr_expect_eq(json_array_size(json_object_get(r, "lines")), 3, "%s", show(r));
	json_decref(r);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(raw_request(&c, bad[i]), "bad-request", bad[i]);
	expect_error(raw_request(&c, "log a nosuch"), "no-such-service", "log a nosuch");
	r = raw_request(&c, "log-reopen");
	cr_expect(reply_ok(r), "log-reopen: %s", show(r));
	json_decref(r);
	raw_close(&c);
}

/* vigild's open fds, to see a follower's connection go */
static int
daemon_fds(void)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)vh.pid);
	cr_assert_not_null(d = opendir(path), "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(control, followers_get_the_backlog_then_each_new_line_and_nothing_else)
{
	struct raw one, all, gone;
	long long deadline;
	json_t *r;
	char *line;
	int fds;

	vh_setup("%s", "");
	/* stdout and stderr are two pipes: the second line waits for the first to arrive */
	vh_add_services("[service:talk]\ncommand = %s echo:before await:%s echo:after-one "
	    "await:%s err:after-two\n[service:quiet]\ncommand = %s\n", vh_testsvc(), vh_path("go"),
	    vh_path("go2"), vh_testsvc());
	vh_start_ok();
	raw_connect(&one);
	json_decref(raw_log_until(&one, "log talk", 1));

	/* pipelined after the follow request: ignored, a follower asks nothing more */
	raw_send(&one, "log --follow -n 1 talk\nstatus\n", 30);
	r = raw_reply(&one, "log --follow");
	cr_expect(reply_ok(r) && json_is_true(json_object_get(r, "follow")), "%s", show(r));
	json_decref(r);
	r = raw_reply(&one, "the backlog");
	cr_expect_str_eq(reply_str(r, "text"), "before", "%s", show(r));
	cr_expect_str_eq(reply_str(r, "service"), "talk", "%s", show(r));
	json_decref(r);

	raw_connect(&all);
	r = raw_request(&all, "log --follow -n 0");
	cr_expect(reply_ok(r), "%s", show(r));
	json_decref(r);

	/* a follower that leaves is freed at once */
	fds = daemon_fds();
	raw_connect(&gone);
	json_decref(raw_request(&gone, "log --follow talk"));
	raw_close(&gone);
	deadline = vh_now_ms() + 5000;
	while (daemon_fds() > fds && vh_now_ms() < deadline)
		usleep(10000);
	cr_expect_eq(daemon_fds(), fds, "the connection of a follower that left is still open");

	touch(vh_path("go"));
	r = raw_reply(&one, "after-one");
	cr_expect_str_eq(reply_str(r, "text"), "after-one", "%s", show(r));
	cr_expect_str_eq(reply_str(r, "stream"), "out", "%s", show(r));
	json_decref(r);
	touch(vh_path("go2"));
	r = raw_reply(&one, "after-two");
	cr_expect_str_eq(reply_str(r, "text"), "after-two", "%s", show(r));
	cr_expect_str_eq(reply_str(r, "stream"), "err", "%s", show(r));
	json_decref(r);
	r = raw_reply(&all, "after-one, to the follower of every service");
	cr_expect_str_eq(reply_str(r, "text"), "after-one", "%s", show(r));
	json_decref(r);
	line = raw_line(&one, 300);
	cr_expect_null(line, "the follower got more: %s", line);
	free(line);
	raw_close(&one);
	raw_close(&all);
}

/*
 * A follower that stops reading while a service bursts: vigild queues at
 * most about 1 MiB for it, counts what it leaves out, and once the follower
 * catches up says how much with {"skipped":N}. Every line is then either
 * received or counted, in order.
 */
Test(control, a_slow_follower_is_told_what_it_skipped_and_never_dropped)
{
	enum { LINES = 200000 };
	static char buf[1 << 20];
	long long deadline, expected = 0;
	size_t len = 0, markers = 0;
	int rcvbuf = 4096;
	struct raw c;
	json_t *r;

	vh_setup("%s", "");
	vh_add_services("[service:burst]\ncommand = %s await:%s burst:%d pid:%s\n"
	    "log_max_size = 1M\nlog_keep = 1\n", vh_testsvc(), vh_path("go"), LINES * 100,
	    vh_path("done"));
	vh_start_ok();
	c.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_neq(c.fd, -1);
	setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	{
		struct sockaddr_un sun;
		raw_sock_addr(&sun);
		cr_assert_eq(connect(c.fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	}
	c.len = 0;
	r = raw_request(&c, "log --follow -n 0 burst");
	cr_assert(reply_ok(r), "%s", show(r));
	json_decref(r);
	touch(vh_path("go"));
	/*
	 * Not reading while 20 MB go by: once the service has written it all,
	 * vigild has read all but a pipe's worth, far more than the ~1 MiB it
	 * may queue for us plus what the socket holds, so it must have skipped.
	 */
	cr_assert(vh_wait_file(vh_path("done"), 60000), "the burst never ended; log:\n%s",
	    vh_log_tail());

	deadline = vh_now_ms() + 120000;
	while (expected < LINES && vh_now_ms() < deadline) {
		ssize_t n = recv(c.fd, buf + len, sizeof(buf) - len, 0);
		char *p = buf, *nl;

		cr_assert_gt(n, 0, "the follower was disconnected after line %lld", expected);
		len += (size_t)n;
		while ((nl = memchr(p, '\n', len - (size_t)(p - buf))) != NULL) {
			json_t *o = json_loadb(p, (size_t)(nl - p), 0, NULL);
			json_t *skipped = json_object_get(o, "skipped");
			cr_assert_not_null(o, "not JSON: %.*s", (int)(nl - p), p);
			if (json_is_integer(skipped)) {
				cr_expect_str_eq(reply_str(o, "service"), "burst", "%s", show(o));
				expected += json_integer_value(skipped);
				markers++;
			} else {
				long long num = atoll(reply_str(o, "text"));
				cr_assert_eq(num, expected, "line %lld came after %lld (%zu markers)",
				    num, expected - 1, markers);
				expected++;
			}
			json_decref(o);
			p = nl + 1;
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
	}
	cr_expect_eq(expected, LINES, "lines received and skipped add up to %lld", expected);
	cr_expect_gt(markers, 0, "a follower that read nothing during a 20 MB burst skipped nothing");
	{	/* and vigild is fine */
		struct raw s;
		raw_connect(&s);
		expect_status_ok(&s, "a slow follower");
		raw_close(&s);
	}
	raw_close(&c);
}

/* Start vigilctl ARGS... in the background, stdout and stderr to out; teardown kills it. */
static pid_t
ctl_background(const char *out, const char *const *args)
{
	const char *ctl = getenv("VIGILCTL") ? getenv("VIGILCTL") : "./vigilctl";
	char *argv[16];
	int n = 0;
	pid_t pid;
	FILE *f;

	argv[n++] = (char *)(uintptr_t)ctl;
	argv[n++] = "--socket";
	argv[n++] = vh.sock;
	for (; *args != NULL && n < 15; args++)
		argv[n++] = (char *)(uintptr_t)*args;
	argv[n] = NULL;
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd == -1)
			_exit(96);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(ctl, argv);
		_exit(95);
	}
	if ((f = fopen(vh_path("ctl.pid"), "w")) != NULL) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	return pid;
}

/* The exit status of pid, or -1 if it did not end within timeout_ms. */
static int
wait_exit(pid_t pid, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	int status;

	do {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(10000);
	} while (vh_now_ms() < deadline);
	return -1;
}

Test(control, vigilctl_log_prefixes_names_and_follows_until_stopped)
{
	/* one name: no name before the lines unless asked for */
	static const char *const follow[] = { "log", "-f", "-n", "1", "--service-prefix", "web",
	    NULL };
	struct vh_result r;
	char out[512];
	json_t *j;
	pid_t pid;

	vh_setup("%s", "");
	/* each line is let out once vigild has the one before: a fixed order */
	vh_add_services("[service:web]\ncommand = %s echo:GET await:%s err:oops\n"
	    "[service:worker]\ncommand = %s await:%s echo:job\n", vh_testsvc(), vh_path("go-web"),
	    vh_testsvc(), vh_path("go-worker"));
	vh_start_ok();
	cr_assert(vh_wait_file_contains(vh_path("logs/web.log"), "GET", 20000), "log:\n%s", vh_log_tail());
	touch(vh_path("go-web"));
	cr_assert(vh_wait_file_contains(vh_path("logs/web.log"), "oops", 20000), "log:\n%s", vh_log_tail());
	touch(vh_path("go-worker"));
	cr_assert(vh_wait_file_contains(vh_path("logs/worker.log"), "job", 20000), "log:\n%s", vh_log_tail());

	cr_assert_eq(vh_ctl(&r, "log", "web", "worker", NULL), 0, "%s", r.err);
	cr_expect_str_eq(vh_untimed(r.out), "web    | GET\nweb    ! oops\nworker | job\n");
	cr_assert_eq(vh_ctl(&r, "--json", "log", "-n", "1", "web", NULL), 0, "%s", r.err);
	j = json_loads(r.out, 0, NULL);
	cr_assert_not_null(j, "--json log: %s", r.out);
	cr_expect_str_eq(reply_str(j, "text"), "oops");
	cr_expect_null(json_object_get(j, "ok"), "--json log prints LINE objects: %s", r.out);
	json_decref(j);

	cr_expect_eq(vh_ctl(&r, "log", "nosuch", NULL), 1, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "log", "-n", "many", "web", NULL), 2, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "status", "-f", NULL), 2, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "log-reopen", NULL), 0, "%s", r.err);

	/* interrupted: exit 0 (vh_path's buffers rotate: keep a copy) */
	snprintf(out, sizeof(out), "%s", vh_path("follow.out"));
	pid = ctl_background(out, follow);
	cr_assert(vh_wait_file_contains(out, "web ! oops", 10000), "follower printed: %s", vh_slurp(out));
	kill(pid, SIGINT);
	cr_expect_eq(wait_exit(pid, 10000), 0, "SIGINT: %s", vh_slurp(out));

	/* vigild shuts down: exit 0 (a fresh file: the old one may not be truncated yet) */
	snprintf(out, sizeof(out), "%s", vh_path("follow2.out"));
	pid = ctl_background(out, follow);
	cr_assert(vh_wait_file_contains(out, "web ! oops", 10000), "follower printed: %s", vh_slurp(out));
	cr_expect_eq(vh_ctl(&r, "shutdown", NULL), 0, "%s", r.err);
	cr_expect_eq(wait_exit(pid, 20000), 0, "after shutdown: %s", vh_slurp(out));
	unlink(vh_path("ctl.pid"));
}

/*
 * check: 0 only when every autostart service is running and ready (or a
 * restart = never job exited 0); each one that is not is named.
 */
Test(control, check_passes_only_when_every_autostart_service_is_up_and_ready)
{
	struct vh_result r;
	int rc;

	vh_setup("%s", "");
	vh_add_services("[service:web]\ncommand = %s await:%s notify:READY=1\nready = notify\n"
	    "[service:job]\ncommand = %s exit:0\nrestart = never\n"
	    "[service:manual]\ncommand = %s\nautostart = no\n",
	    vh_testsvc(), vh_path("go"), vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("job", "exited", 10000), "log: %s", vh_log_tail());
	cr_assert(vh_wait_state("web", "running", 10000), "log: %s", vh_log_tail());
	rc = vh_ctl(&r, "check", NULL);
	cr_expect_eq(rc, 1, "web is not ready: exit %d, out: %s", rc, r.out);
	cr_expect(strstr(r.out, "web: running, not ready") != NULL, "out: %s", r.out);
	cr_expect(strstr(r.out, "job") == NULL, "a job that exited 0 is fine: %s", r.out);
	cr_expect(strstr(r.out, "manual") == NULL, "autostart = no is not checked: %s", r.out);

	fclose(fopen(vh_path("go"), "w"));
	cr_assert(vh_wait_ready("web", 10000), "log: %s", vh_log_tail());
	rc = vh_ctl(&r, "check", NULL);
	cr_expect_eq(rc, 0, "exit %d, out: %s err: %s", rc, r.out, r.err);
	cr_expect(strstr(r.out, "ok: 2 services up and ready") != NULL, "out: %s", r.out);

	/* named: only those, autostart or not */
	rc = vh_ctl(&r, "check", "manual", NULL);
	cr_expect_eq(rc, 1, "manual is stopped: exit %d, out: %s", rc, r.out);
	cr_expect(strstr(r.out, "manual: stopped") != NULL, "out: %s", r.out);
	rc = vh_ctl(&r, "check", "nosuch", NULL);
	cr_expect_eq(rc, 1, "unknown name: exit %d", rc);
	cr_expect(strstr(r.err, "nosuch") != NULL, "err: %s", r.err);
}
