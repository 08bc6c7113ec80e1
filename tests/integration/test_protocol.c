/*
 * test_protocol.c: requests a hostile or careless client sends, raw over
 * the socket: bytes that are not UTF-8, messages that must be cut, NUL
 * bytes, a last line without its newline, followers that half-close,
 * clients that go silent; and what a signal really reached.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "rawclient.h"
#include "proto.h"
#include "utf8.h"

TestSuite(protocol, .fini = vh_teardown, .timeout = 240);

/* The error r carries must be code, and its message well-formed UTF-8 (jansson checked that). */
static void
expect_error_about(json_t *r, const char *code, const char *needle, const char *what)
{
	const char *msg = reply_str(r, "message");

	cr_expect(strstr(msg, needle) != NULL, "%s: message lacks '%s': %s", what, needle,
	    show(r));
	expect_error(r, code, what);
}

/* "x" and 600 times "é": over the 1 KiB a message holds, so it must be cut */
static char *
long_utf8_name(void)
{
	static char name[1 + 600 * 2 + 1];

	name[0] = 'x';
	for (int i = 0; i < 600; i++)
		memcpy(name + 1 + 2 * i, "\xc3\xa9", 2);
	name[sizeof(name) - 1] = '\0';
	return name;
}

Test(protocol, names_that_are_not_utf8_or_too_long_get_errors_and_vigild_serves_on)
{
	static const char *const verbs[] = {
		"status", "start", "stop", "restart", "signal TERM", "log", "wait", "events",
	};
	char line[PROTO_MAX_LINE];
	struct raw c;
	json_t *r;

	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		snprintf(line, sizeof(line), "%s \xff", verbs[i]);
		expect_error_about(raw_request(&c, line), PROTO_ERR_NO_SUCH_SERVICE,
		    "no such service: \xef\xbf\xbd", verbs[i]);
		snprintf(line, sizeof(line), "%s %s", verbs[i], long_utf8_name());
		r = raw_request(&c, line);
		/* cut between two characters, and marked as cut */
		cr_expect(strlen(reply_str(r, "message")) <= PROTO_MESSAGE_MAX, "%s: %zu bytes",
		    verbs[i], strlen(reply_str(r, "message")));
		expect_error_about(r, PROTO_ERR_NO_SUCH_SERVICE, "\xc3\xa9...", verbs[i]);
	}
	expect_error_about(raw_request(&c, "start --wait=\xff web"), PROTO_ERR_BAD_REQUEST,
	    "found '\xef\xbf\xbd'", "start --wait=\\xff");
	expect_error_about(raw_request(&c, "log -n \xff"), PROTO_ERR_BAD_REQUEST,
	    "found '\xef\xbf\xbd'", "log -n \\xff");
	expect_error_about(raw_request(&c, "wait --timeout=\xfe\xff web"), PROTO_ERR_BAD_REQUEST,
	    "found '\xef\xbf\xbd\xef\xbf\xbd'", "wait --timeout");
	expect_error_about(raw_request(&c, "signal \xc3 web"), PROTO_ERR_BAD_SIGNAL,
	    "found '\xef\xbf\xbd'", "signal \\xc3");
	snprintf(line, sizeof(line), "%s", long_utf8_name() + 1);
	expect_error_about(raw_request(&c, line), PROTO_ERR_UNKNOWN_COMMAND, "try 'help'",
	    "a long unknown verb");
	expect_status_ok(&c, "every bad name");
	raw_close(&c);
	cr_expect(vh_pid_alive(vh.pid), "vigild died; log:\n%s", vh_log_tail());
}

Test(protocol, vigilctl_reports_a_bad_name_and_exits_1)
{
	struct vh_result r;

	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	cr_expect_eq(vh_ctl(&r, "status", "\xff", NULL), 1, "exit %d; err: %s", r.code, r.err);
	cr_expect(strstr(r.err, "no such service") != NULL, "stderr: %s", r.err);
	cr_expect_eq(vh_ctl(&r, "restart", long_utf8_name(), NULL), 1, "exit %d; err: %s",
	    r.code, r.err);
	cr_expect_eq(vh_ctl(&r, "status", "web", NULL), 0, "status after: exit %d; err: %s; "
	    "log:\n%s", r.code, r.err, vh_log_tail());
}

Test(protocol, the_last_request_without_a_newline_is_answered_too)
{
	struct raw c;
	json_t *r;

	vh_setup("%s", "");
	vh_start_ok();
	raw_connect(&c);
	raw_send(&c, "hello\nhello", 11);
	r = raw_reply(&c, "the first hello");
	cr_expect(reply_ok(r), "%s", show(r));
	json_decref(r);
	/* the first reply is out; only then does the client say it has no more */
	shutdown(c.fd, SHUT_WR);
	r = raw_reply(&c, "the second hello, which had no newline");
	cr_expect(reply_ok(r), "%s", show(r));
	json_decref(r);
	cr_expect_null(raw_line(&c, IO_DEADLINE_MS), "more than two replies");
	raw_close(&c);
}

Test(protocol, a_nul_byte_is_a_bad_request_and_nothing_is_done)
{
	char state[32];
	struct raw c;

	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000), "web not running; log:\n%s",
	    vh_log_tail());
	raw_connect(&c);
	/* "stop" and a NUL: the part before it must not be taken as the request */
	raw_send(&c, "stop web\0 and more\n", 19);
	expect_error_about(raw_reply(&c, "stop with a NUL"), PROTO_ERR_BAD_REQUEST, "NUL",
	    "stop with a NUL");
	expect_status_ok(&c, "a NUL byte");
	raw_close(&c);
	/* had the stop been done, the status reply that came after would have been stopping */
	cr_expect_str_eq(vh_state("web", state, sizeof(state)), "running", "log:\n%s",
	    vh_log_tail());
}

Test(protocol, status_fields_lists_of_any_length)
{
	char line[PROTO_MAX_LINE];
	size_t len;
	struct raw c;
	json_t *r, *svc;

	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	len = (size_t)snprintf(line, sizeof(line), "status --fields=");
	for (int i = 0; i < 150; i++)	/* 750 bytes of field names */
		len += (size_t)snprintf(line + len, sizeof(line) - len, "name,");
	snprintf(line + len, sizeof(line) - len, "state web");
	r = raw_request(&c, line);
	cr_assert(reply_ok(r), "%s", show(r));
	svc = json_array_get(json_object_get(r, "services"), 0);
	cr_expect_eq(json_object_size(svc), 2, "expected name and state only: %s", show(svc));
	cr_expect_str_eq(reply_str(svc, "name"), "web", "%s", show(svc));
	json_decref(r);
	snprintf(line + len, sizeof(line) - len, "bogus web");
	expect_error_about(raw_request(&c, line), PROTO_ERR_BAD_REQUEST, "found 'bogus'",
	    "a long list that ends in a bad name");
	raw_close(&c);
}

/* vigild's open fds, -1 if unreadable */
static int
daemon_fds(void)
{
	char path[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)vh.pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* The slot and the fd of a follower that half-closes, then closes, come back. */
static void
half_close_then_close(const char *request)
{
	struct raw c;
	json_t *r;

	raw_connect(&c);
	raw_send(&c, request, strlen(request));
	shutdown(c.fd, SHUT_WR);	/* what socat does at the end of its input */
	r = raw_reply(&c, request);
	cr_assert(reply_ok(r), "%s: %s", request, show(r));
	json_decref(r);
	raw_close(&c);
}

Test(protocol, followers_that_half_close_then_close_give_their_slot_back)
{
	long long deadline;
	struct vh_result r;
	int before, now = -1;

	/* a quiet service: nothing is ever written to its followers */
	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000), "log:\n%s", vh_log_tail());
	before = daemon_fds();
	/* more than the 256 clients vigild serves at once */
	for (int i = 0; i < 150; i++) {
		half_close_then_close("log --follow web\n");
		half_close_then_close("events web\n");
	}
	cr_expect_eq(vh_ctl(&r, "--timeout", "20s", "status", "web", NULL), 0,
	    "status after 300 followers left: exit %d; err: %s; log:\n%s", r.code, r.err,
	    vh_log_tail());
	/* one more is allowed: the epoll set that watches half-closed followers, kept once made */
	deadline = vh_now_ms() + IO_DEADLINE_MS;
	while (vh_now_ms() < deadline && (now = daemon_fds()) > before + 1)
		usleep(20000);
	cr_expect_leq(now, before + 1, "vigild holds %d fds, %d before the followers came; "
	    "log:\n%s", now, before, vh_log_tail());
}

/* Whether vigild closes c (EOF, and no reply before it) within the deadline. */
static bool
closed_by_vigild(struct raw *c)
{
	long long deadline = vh_now_ms() + IO_DEADLINE_MS;
	char buf[256];

	while (vh_now_ms() < deadline) {
		struct pollfd p = { c->fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) == 0)
			return true;
		if (n > 0)
			return false;	/* a reply: it was served, not closed */
	}
	return false;
}

Test(protocol, a_client_silent_mid_request_is_closed_but_followers_and_waits_stay)
{
	struct raw partial, idle, follower, waiter;
	char *line;
	json_t *r;

	vh_setup("[vigil]\nclient_timeout = 1s\n\n"
	    "[service:ticker]\ncommand = %s every:100:tick\n", vh_testsvc());
	vh_start_ok();
	raw_connect(&follower);
	raw_send(&follower, "log -n 0 --follow ticker\n", 25);
	r = raw_reply(&follower, "log --follow");
	cr_assert(reply_ok(r), "%s", show(r));
	json_decref(r);
	raw_connect(&waiter);
	/* a parked wait longer than client_timeout: it is not idle, it waits for us */
	raw_send(&waiter, "wait --for=exited --timeout=3s ticker\n", 38);
	raw_connect(&partial);
	raw_send(&partial, "stat", 4);
	raw_connect(&idle);

	cr_expect(closed_by_vigild(&partial), "the partial client was not closed; log:\n%s",
	    vh_log_tail());
	cr_expect(closed_by_vigild(&idle), "the idle client was not closed; log:\n%s",
	    vh_log_tail());
	cr_expect(vh_wait_log_count("sent only part of a request for 1s, closing it", 1,
	    IO_DEADLINE_MS), "log:\n%s", vh_log_tail());
	cr_expect(vh_wait_log_count("sent no request for 1s, closing it", 1, IO_DEADLINE_MS),
	    "log:\n%s", vh_log_tail());

	/* both were closed; the follower still gets lines, the waiter its timeout */
	line = raw_line(&follower, IO_DEADLINE_MS);
	cr_expect(line != NULL && strstr(line, "tick") != NULL, "follower: %s",
	    line ? line : "(closed)");
	free(line);
	r = raw_reply(&waiter, "wait --timeout=3s");
	cr_expect_str_eq(reply_str(r, "error"), PROTO_ERR_TIMEOUT, "%s", show(r));
	json_decref(r);
	raw_close(&partial);
	raw_close(&idle);
	raw_close(&follower);
	raw_close(&waiter);
}

/*
 * A daemon that forks: MAINPID= moves the main pid to a child that is not
 * the group leader. The signal goes to the group, which the child is in,
 * and vigilctl says so.
 */
Test(protocol, signal_reaches_a_main_process_that_is_not_the_group_leader)
{
	char expect[128];
	struct vh_result r;
	json_t *s;
	long child, pid, pgid = -1;

	vh_setup("%s", "");
	vh_add_services("[service:fork]\ncommand = %s mainpid:%s\nready = notify\n"
	    "restart = never\n", vh_testsvc(), vh_path("child.pid"));
	vh_start_ok();
	cr_assert(vh_wait_ready("fork", 20000), "never ready; log:\n%s", vh_log_tail());
	cr_assert(vh_wait_file(vh_path("child.pid"), 10000));
	child = vh_read_long(vh_path("child.pid"));
	s = vh_service("fork");
	cr_assert_not_null(s);
	pid = (long)json_integer_value(json_object_get(s, "pid"));
	json_decref(s);
	cr_assert_eq(pid, child, "MAINPID did not move the main pid; log:\n%s", vh_log_tail());
	pgid = (long)getpgid((pid_t)child);
	cr_assert_neq(pgid, child, "the child leads its group: nothing to test");

	cr_expect_eq(vh_ctl(&r, "signal", "USR1", "fork", NULL), 0, "exit %d; err: %s",
	    r.code, r.err);
	/* with cgroups: every process of the service, which is the child alone by now */
	if (vh_cgroup_base() != NULL)
		snprintf(expect, sizeof(expect), "fork: sent USR1 to 1 process\n");
	else
		snprintf(expect, sizeof(expect), "fork: sent USR1 to process group %ld\n", pgid);
	cr_expect_str_eq(r.out, expect);
	cr_expect(vh_wait_gone((pid_t)child, 20000), "the main process %ld did not get USR1; "
	    "log:\n%s", child, vh_log_tail());
	cr_expect(vh_wait_state("fork", "exited", 20000), "log:\n%s", vh_log_tail());
}

Test(protocol, a_client_that_reads_none_of_its_replies_is_closed_after_client_timeout)
{
	enum { FLOOD = 4000 };
	static char flood[FLOOD * 7];
	struct vh_result r;
	struct raw c;

	vh_setup("[vigil]\nclient_timeout = 1s\n\n"
	    "[service:a]\ncommand = %s\nautostart = no\n\n"
	    "[service:b]\ncommand = %s\nautostart = no\n", vh_testsvc(), vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	/* far more replies than the socket buffers hold: they wait in vigild */
	for (int i = 0; i < FLOOD; i++)
		memcpy(flood + i * 7, "status\n", 7);
	raw_send(&c, flood, sizeof(flood));
	cr_expect(vh_wait_log_count("read none of its reply for 1s, closing it", 1,
	    IO_DEADLINE_MS), "log:\n%s", vh_log_tail());
	cr_expect_eq(vh_ctl(&r, "status", NULL), 0, "exit %d; err: %s", r.code, r.err);
	raw_close(&c);
}

/*
 * 300 hostile clients at once, more than the 256 vigild serves: 100 send
 * half a request and stall (slow-loris), 100 say nothing, 100 send
 * requests and never read a reply. vigilctl status still answers every
 * time, because at the limit the client that has moved no byte for
 * longest gives up its slot; vigild says so, a few times, not 300.
 */
Test(protocol, hostile_clients_at_the_limit_cannot_shut_out_status)
{
	struct raw *c = calloc(300, sizeof(*c));
	static const char many[] = "status\nstatus\nstatus\nstatus\nstatus\nstatus\nstatus\n";
	struct vh_result r;

	cr_assert_not_null(c);
	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	for (int i = 0; i < 300; i++) {
		raw_connect(&c[i]);
		if (i % 3 == 0)
			raw_send(&c[i], "stat", 4);
		else if (i % 3 == 1)
			raw_send(&c[i], many, sizeof(many) - 1);
	}
	for (int i = 0; i < 5; i++)
		cr_expect_eq(vh_ctl(&r, "--timeout", "20s", "status", "web", NULL), 0,
		    "status %d among hostile clients: exit %d; err: %s; log:\n%s", i, r.code,
		    r.err, vh_log_tail());
	cr_expect(vh_wait_log("the most vigild serves: closed client fd", IO_DEADLINE_MS),
	    "log:\n%s", vh_log_tail());
	cr_expect_leq(vh_log_count("the most vigild serves: closed client fd"), 5,
	    "one line per closed client:\n%s", vh_log_tail());
	for (int i = 0; i < 300; i++)
		raw_close(&c[i]);
	free(c);
}

/*
 * One connection that pipelines 3000 requests: every one is answered, in
 * order, but no more than 1000 a second, so one client cannot keep the
 * loop to itself; vigild says so once.
 */
Test(protocol, a_flood_of_requests_on_one_connection_is_paced_not_dropped)
{
	struct raw c;
	char chunk[4000];
	size_t len = 0;
	int sent = 0, answered = 0;

	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	while (len + 6 <= sizeof(chunk)) {
		memcpy(chunk + len, "hello\n", 6);
		len += 6;
		sent++;
	}
	/* 6 chunks of 666 requests, 24 KB: all in the socket's buffer before a reply is read */
	for (int round = 0; round < 6; round++)
		raw_send(&c, chunk, len);
	for (int i = 0; i < 6 * sent; i++) {
		json_t *r = raw_reply(&c, "hello");

		answered += reply_ok(r);
		json_decref(r);
	}
	cr_expect_eq(answered, 6 * sent);
	cr_expect(vh_wait_log("requests in a second; the rest wait their turn", IO_DEADLINE_MS),
	    "log:\n%s", vh_log_tail());
	cr_expect_eq(vh_log_count("requests in a second; the rest wait their turn"), 1,
	    "log:\n%s", vh_log_tail());
	expect_status_ok(&c, "3996 requests");
	raw_close(&c);
}
