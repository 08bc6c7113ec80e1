/*
 * test_events.c: `vigilctl events` against the real vigild: the current
 * state first, then every change in order, the same for every subscriber;
 * names as a filter; the text for people; and a subscriber that stops
 * reading, which costs vigild nothing and is resynchronised.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

TestSuite(events, .fini = vh_teardown, .timeout = 180);

#define LINE_MS	20000	/* generous: a busy 2-core machine, maybe under ASan */

static const char *
str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "(none)";
}

/* The next line of a background vigilctl, as a JSON object; fails the test otherwise. */
static json_t *
next_event(struct vh_bg *b, const char *what, char **raw)
{
	char *line = vh_bg_line(b, LINE_MS);
	json_error_t jerr;
	json_t *o;

	cr_assert_not_null(line, "%s: no line within %d ms; vigild's log:\n%s", what,
	    LINE_MS, vh_log_tail());
	o = json_loads(line, 0, &jerr);
	cr_assert(json_is_object(o), "%s: not a JSON object (%s): %s", what, jerr.text, line);
	if (raw != NULL)
		*raw = line;
	else
		free(line);
	return o;
}

/* e says that svc went from `from` (NULL: a current state) to `to`. */
static void
expect_event(json_t *e, const char *svc, const char *from, const char *to)
{
	char *dump = json_dumps(e, JSON_COMPACT);

	cr_expect_str_eq(str_of(e, "service"), svc, "%s", dump);
	if (from == NULL)
		cr_expect(json_is_null(json_object_get(e, "from")), "from is not null: %s", dump);
	else
		cr_expect_str_eq(str_of(e, "from"), from, "%s", dump);
	cr_expect_str_eq(str_of(e, "to"), to, "%s", dump);
	cr_expect(json_is_string(json_object_get(e, "reason")), "no reason: %s", dump);
	cr_expect(json_is_number(json_object_get(e, "time")), "no time: %s", dump);
	cr_expect(json_is_boolean(json_object_get(e, "ready")), "no ready: %s", dump);
	cr_expect(json_is_integer(json_object_get(e, "pid")) ||
	    json_is_null(json_object_get(e, "pid")), "no pid: %s", dump);
	free(dump);
}

static long long
pid_of(const char *name)
{
	json_t *s = vh_service(name);
	long long pid = s ? json_integer_value(json_object_get(s, "pid")) : 0;

	json_decref(s);
	return pid;
}

Test(events, two_subscribers_see_the_state_then_the_same_changes_in_order)
{
	static const char *const changes[][2] = {
		{ "running", "stopping" }, { "stopping", "stopped" },
		{ "stopped", "starting" }, { "starting", "running" },
	};
	struct vh_bg *b = calloc(2, sizeof(*b));
	struct vh_result r;
	char *lines[2][4];
	long long pid;
	json_t *e;

	vh_setup("[service:web]\ncommand = %s\nstart_secs = 200ms\n"
	    "[service:idle]\ncommand = %s\nautostart = no\n", vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 10000), "web never ran; log:\n%s",
	    vh_log_tail());
	pid = pid_of("web");

	for (int k = 0; k < 2; k++) {
		vh_bg_start(&b[k], "--json", "events", NULL);
		/* the current state of every service, in configuration order */
		e = next_event(&b[k], "first line", NULL);
		expect_event(e, "web", NULL, "running");
		cr_expect_eq(json_integer_value(json_object_get(e, "pid")), pid);
		cr_expect(json_is_true(json_object_get(e, "ready")));
		json_decref(e);
		e = next_event(&b[k], "second line", NULL);
		expect_event(e, "idle", NULL, "stopped");
		cr_expect(json_is_null(json_object_get(e, "pid")));
		cr_expect_str_eq(str_of(e, "reason"), "autostart is off");
		json_decref(e);
	}

	cr_assert_eq(vh_ctl(&r, "stop", "web", NULL), 0, "stop: %s", r.err);
	cr_assert_eq(vh_ctl(&r, "start", "web", NULL), 0, "start: %s", r.err);
	pid = pid_of("web");
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 4; i++) {
			e = next_event(&b[k], "a change", &lines[k][i]);
			expect_event(e, "web", changes[i][0], changes[i][1]);
			json_decref(e);
		}
	}
	/* one change, one line, sent alike to each subscriber */
	for (int i = 0; i < 4; i++) {
		cr_expect_str_eq(lines[0][i], lines[1][i], "change %d differs", i);
		free(lines[0][i]);
		free(lines[1][i]);
	}
	cr_expect_gt(pid, 1);
	for (int k = 0; k < 2; k++) {
		char *more = vh_bg_line(&b[k], 300);
		cr_expect_null(more, "subscriber %d got more: %s", k, more);
		free(more);
	}
	for (int k = 0; k < 2; k++)
		vh_bg_end(&b[k]);
	free(b);
}

/*
 * With names, only their lines come. A reason that changes without a state
 * (a dependent waiting for what it requires) is a line from a state to itself.
 */
Test(events, names_filter_and_a_new_reason_is_a_change_to_the_same_state)
{
	struct vh_bg *b = calloc(1, sizeof(*b));
	struct vh_result r;
	json_t *e;

	vh_setup("[service:db]\ncommand = %s\nautostart = no\nstart_secs = 300ms\n"
	    "[service:app]\ncommand = %s\nautostart = no\nstart_secs = 100ms\nrequires = db\n",
	    vh_testsvc(), vh_testsvc());
	vh_start_ok();
	vh_bg_start(b, "--json", "events", "app", "app", NULL);
	e = next_event(b, "the state of app", NULL);
	expect_event(e, "app", NULL, "stopped");
	json_decref(e);

	cr_assert_eq(vh_ctl(&r, "start", "app", NULL), 0, "start app: %s", r.err);
	e = next_event(b, "app waits for db", NULL);
	expect_event(e, "app", "stopped", "stopped");
	cr_expect_str_eq(str_of(e, "reason"), "waiting for db");
	json_decref(e);
	e = next_event(b, "app starts", NULL);
	expect_event(e, "app", "stopped", "starting");
	json_decref(e);
	e = next_event(b, "app runs", NULL);
	expect_event(e, "app", "starting", "running");
	cr_expect_eq(json_integer_value(json_object_get(e, "pid")), pid_of("app"));
	json_decref(e);
	{
		char *more = vh_bg_line(b, 300);
		cr_expect_null(more, "a line not about app, or a repeat: %s", more);
		free(more);
	}
	vh_bg_end(b);
	free(b);
}

Test(events, vigilctl_events_prints_for_people_and_ends_with_0)
{
	struct vh_bg *b = calloc(1, sizeof(*b));
	struct vh_result r;
	char *line;

	vh_setup("[service:web]\ncommand = %s\nstart_secs = 200ms\n"
	    "[service:worker]\ncommand = %s\nautostart = no\n", vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 10000));

	/* "HH:MM:SS.mmm NAME    STATE, pid N (reason)", names padded alike */
	vh_bg_start(b, "events", NULL);
	line = vh_bg_line(b, LINE_MS);
	cr_assert_not_null(line, "no first line; log:\n%s", vh_log_tail());
	cr_expect(strlen(line) > 13 && line[2] == ':' && line[5] == ':' && line[8] == '.',
	    "no time first: %s", line);
	cr_expect(strstr(line, " web     running, pid ") != NULL, "%s", line);
	cr_expect(strstr(line, "(up for 200ms)") != NULL, "%s", line);
	free(line);
	line = vh_bg_line(b, LINE_MS);
	cr_expect(line != NULL && strstr(line, " worker  stopped (autostart is off)") != NULL,
	    "%s", line);
	free(line);
	cr_assert_eq(vh_ctl(&r, "stop", "web", NULL), 0, "%s", r.err);
	line = vh_bg_line(b, LINE_MS);
	cr_expect(line != NULL && strstr(line, " web     running -> stopping, pid ") != NULL,
	    "%s", line);
	free(line);
	line = vh_bg_line(b, LINE_MS);
	cr_expect(line != NULL && strstr(line, " web     stopping -> stopped (") != NULL,
	    "%s", line);
	free(line);
	kill(b->pid, SIGINT);
	cr_expect_eq(vh_bg_wait(b, 10000), 0, "SIGINT ends events with 0");
	vh_bg_end(b);

	/* vigild going away ends it with 0 too */
	vh_bg_start(b, "events", "worker", NULL);
	line = vh_bg_line(b, LINE_MS);
	cr_expect(line != NULL && strstr(line, " worker  stopped (") != NULL, "%s", line);
	free(line);
	cr_expect_eq(vh_ctl(&r, "shutdown", NULL), 0, "%s", r.err);
	cr_expect_eq(vh_bg_wait(b, 20000), 0, "vigild's exit ends events with 0");
	vh_bg_end(b);
	free(b);
}

Test(events, unknown_names_and_options_are_refused)
{
	struct vh_result r;

	vh_setup("[service:web]\ncommand = %s\nautostart = no\n", vh_testsvc());
	vh_start_ok();
	cr_expect_eq(vh_ctl(&r, "events", "web", "nosuch", NULL), 1, "%s", r.out);
	cr_expect(strstr(r.err, "no such service: nosuch") != NULL, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "--json", "events", "nosuch", NULL), 1);
	cr_expect(strstr(r.out, "\"error\":\"no-such-service\"") != NULL, "%s", r.out);
	cr_expect_eq(vh_ctl(&r, "events", "--for", "ready", NULL), 2, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "--json", "hello", NULL), 0);
	cr_expect(strstr(r.out, "\"events\"") != NULL && strstr(r.out, "\"wait\"") != NULL,
	    "hello does not list events and wait: %s", r.out);
}

/* ---- a subscriber that does not read ---- */

static int
raw_subscriber(const char *request)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), small = 4096;

	cr_assert_neq(fd, -1, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	cr_assert_lt(strlen(vh.sock), sizeof(sun.sun_path));
	memcpy(sun.sun_path, vh.sock, strlen(vh.sock));
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "connect: %s",
	    strerror(errno));
	cr_assert_eq(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
	return fd;
}

/* The next line from fd into buf (which keeps what follows it); NULL after LINE_MS. */
static char *
raw_line(int fd, char *buf, size_t cap, size_t *len)
{
	long long deadline = vh_now_ms() + LINE_MS;

	for (;;) {
		char *nl = memchr(buf, '\n', *len);
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (nl != NULL) {
			size_t used = (size_t)(nl - buf) + 1;
			char *line = strndup(buf, used - 1);
			memmove(buf, buf + used, *len - used);
			*len -= used;
			return line;
		}
		if (vh_now_ms() >= deadline || poll(&p, 1, 100) < 0)
			return NULL;
		if (!(p.revents & POLLIN))
			continue;
		n = recv(fd, buf + *len, cap - *len, 0);
		if (n <= 0)
			return NULL;
		*len += (size_t)n;
	}
}

static long long
failures_of(const char *name)
{
	json_t *s = vh_service(name);
	long long n = s ? json_integer_value(json_object_get(s, "failures")) : -1;

	json_decref(s);
	return n;
}

/*
 * A service fails to start as fast as it can while a subscriber reads
 * nothing: vigild keeps answering others, queues a bounded amount for the
 * subscriber, and once it reads again it learns how many changes it missed
 * and the state of each service anew. Every change line then continues the
 * state the line before it left the service in.
 */
Test(events, a_subscriber_that_does_not_read_is_skipped_then_resynchronised)
{
	static char buf[1 << 16];
	long long deadline;
	size_t len = 0, skipped = 0, lines = 0;
	char state[32] = "", *line;
	bool stopped = false, want_state = true;
	struct vh_result r;
	int fd;

	vh_setup("[service:flap]\ncommand = /bin/false\nrestart_delay = 0ms\n"
	    "restart_delay_max = 0ms\nstdout = null\nstderr = null\n"
	    "[service:calm]\ncommand = %s\nstart_secs = 100ms\n", vh_testsvc());
	vh_start_ok();
	fd = raw_subscriber("events flap\n");

	/* ~150 bytes a change, two changes a failure: far past what vigild and the socket hold */
	deadline = vh_now_ms() + 120000;
	while (failures_of("flap") < 6000) {
		cr_assert_lt(vh_now_ms(), deadline, "flap failed only %lld times in 120 s",
		    failures_of("flap"));
		/* answered at all is what counts: how fast is the benchmark's business */
		cr_assert_eq(vh_ctl(&r, "status", "calm", NULL), 0, "status: %s", r.err);
	}
	cr_assert_eq(vh_ctl(&r, "stop", "flap", NULL), 0, "stop flap: %s", r.err);

	/* read it all: until flap is stopped, seen through changes or a fresh state */
	while (!stopped) {
		json_t *e;
		const char *from, *to;

		line = raw_line(fd, buf, sizeof(buf), &len);
		cr_assert_not_null(line, "the stream ended or stalled after %zu lines, "
		    "%zu skip markers", lines, skipped);
		e = json_loads(line, 0, NULL);
		cr_assert(json_is_object(e), "not an object: %s", line);
		lines++;
		if (json_object_get(e, "ok") != NULL) {
			cr_expect(lines == 1 && json_is_true(json_object_get(e, "ok")), "%s", line);
		} else if (json_is_integer(json_object_get(e, "skipped"))) {
			cr_expect_gt(json_integer_value(json_object_get(e, "skipped")), 0, "%s", line);
			skipped++;
			want_state = true;	/* the state of flap comes next */
		} else {
			cr_assert_str_eq(str_of(e, "service"), "flap", "%s", line);
			from = json_string_value(json_object_get(e, "from"));
			to = str_of(e, "to");
			/* a current state comes first, and right after each skip marker only */
			cr_assert_eq(from == NULL, want_state, "line %zu: %s", lines, line);
			if (from != NULL)
				cr_assert_str_eq(from, state, "line %zu does not continue the "
				    "state before it: %s", lines, line);
			want_state = false;
			snprintf(state, sizeof(state), "%s", to);
			stopped = strcmp(to, "stopped") == 0;
		}
		json_decref(e);
		free(line);
	}
	cr_expect_gt(skipped, 0, "a subscriber that read nothing during %lld failures "
	    "skipped nothing", failures_of("flap"));
	close(fd);
	/* and vigild is fine */
	cr_expect_eq(vh_ctl(&r, "status", NULL), 0, "%s", r.err);
}
