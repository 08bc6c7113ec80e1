/*
 * test_metrics.c: `vigilctl metrics` and GET /metrics on metrics_listen,
 * against the real vigild. The texts are read by prometheus_client's own
 * parsers (tests/helpers/parse-metrics.py, run with /usr/bin/python3),
 * OpenMetrics and Prometheus 0.0.4 each with its own; the values follow a
 * kill, a stop, a service of three processes and its output. The HTTP
 * side is driven with raw sockets: formats by Accept, errors, bounds.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(metrics, .fini = vh_teardown, .timeout = 120);

#define DEADLINE_MS	20000	/* generous: a busy 2-core machine, maybe under ASan */
#define PYTHON		"/usr/bin/python3"	/* Debian's, with python3-prometheus-client */
#define HTTP_BIG	10000	/* bytes of a request past vigild's 8 KiB */
#define HTTP_IDLE	20	/* silent connections, past vigild's 16 */

static void
need_parser(void)
{
	if (system(PYTHON " -c 'import prometheus_client.openmetrics.parser' 2>/dev/null") != 0)
		VH_SKIP("needs " PYTHON " with prometheus_client (python3-prometheus-client, "
		    "scripts/deps.sh)");
}

/* text parsed by the parser of fmt: one line per sample (see parse-metrics.py); static */
static const char *
parse(const char *text, const char *fmt)
{
	static char out[262144];
	char cmd[2048];
	FILE *f;
	int st;

	f = fopen(vh_path("metrics.txt"), "w");
	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), PYTHON " %s/tests/helpers/parse-metrics.py %s <%s >%s 2>%s",
	    getenv("VIGIL_SRCDIR"), fmt, vh_path("metrics.txt"), vh_path("parsed.txt"),
	    vh_path("parse-err.txt"));
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the %s parser refused the text: %s\ntext:\n%s", fmt,
	    vh_slurp(vh_path("parse-err.txt")), text);
	snprintf(out, sizeof(out), "%s", vh_slurp(vh_path("parsed.txt")));
	return out;
}

/* The value of the sample spelled key ("NAME{k=v,...}", labels sorted) in parsed; NAN if absent. */
static double
sample(const char *parsed, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = parsed; *p != '\0'; p += strcspn(p, "\n"), p += *p == '\n') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtod(p + klen + 1, NULL);
	}
	return NAN;
}

/* `vigilctl metrics [--format FMT]`'s output; fails the test unless it exits 0. static */
static const char *
ctl_metrics(const char *fmt)
{
	static struct vh_result r;
	int rc = fmt != NULL ? vh_ctl(&r, "metrics", "--format", fmt, NULL) :
	    vh_ctl(&r, "metrics", NULL);

	cr_assert_eq(rc, 0, "vigilctl metrics: exit %d, stderr: %s", rc, r.err);
	return r.out;
}

/* One service's value in the OpenMetrics text, parsed */
static double
om_value(const char *key)
{
	return sample(parse(ctl_metrics(NULL), "openmetrics"), key);
}

/* Poll until key's value in `vigilctl metrics` is want; false after timeout_ms. */
static bool
wait_value(const char *key, double want, int timeout_ms)
{
	long long end = vh_now_ms() + timeout_ms;

	do {
		if (om_value(key) == want)
			return true;
		usleep(20000);
	} while (vh_now_ms() < end);
	return false;
}

static const char *
testsvc_conf(const char *name, const char *args)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "[service:%s]\ncommand = %s %s\nrestart = always\n"
	    "restart_delay = 50ms\n", name, vh_testsvc(), args);
	return buf;
}

Test(metrics, both_texts_parse_with_their_own_parsers)
{
	const char *om, *prom, *parsed;

	need_parser();
	vh_setup("%s", testsvc_conf("web", "echo:hello"));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", DEADLINE_MS), "log:\n%s", vh_log_tail());

	om = ctl_metrics(NULL);
	parsed = parse(om, "openmetrics");
	cr_expect_eq(sample(parsed, "vigil_service_state{service=web,state=running}"), 1);
	cr_expect_eq(sample(parsed, "vigil_service_state{service=web,state=stopped}"), 0);
	cr_expect_eq(sample(parsed, "vigil_service_up{service=web}"), 1);
	cr_expect_eq(sample(parsed, "vigil_service_ready{service=web}"), 1);
	cr_expect_eq(sample(parsed, "vigil_service_restarts_total{service=web}"), 0);
	cr_expect_eq(sample(parsed, "vigil_services{state=running}"), 1);
	cr_expect_geq(sample(parsed, "vigil_service_uptime_seconds{service=web}"), 0);
	cr_expect_gt(sample(parsed, "vigil_daemon_resident_memory_bytes{}"), 0);
	cr_expect_gt(sample(parsed, "vigil_daemon_open_fds{}"), 2);
	cr_expect_eq(sample(parsed, "vigil_control_clients{}"), 1, "the asking vigilctl");
	cr_expect_eq(sample(parsed, "vigil_http_clients{}"), 0);
	cr_expect_not_null(strstr(parsed, "family vigil_service_restarts counter\n"), "%s", parsed);
	cr_expect_not_null(strstr(parsed, "family vigil_service_log_bytes counter bytes\n"),
	    "%s", parsed);
	cr_expect_not_null(strstr(parsed, "family vigil_service_uptime_seconds gauge seconds\n"),
	    "%s", parsed);
	cr_expect_not_null(strstr(parsed, "family vigil_build info\n"), "%s", parsed);
	/* OpenMetrics: the family of a counter has no _total, the text ends with # EOF */
	cr_expect_not_null(strstr(om, "# TYPE vigil_service_restarts counter\n"), "%s", om);
	cr_expect_not_null(strstr(om, "# UNIT vigil_service_uptime_seconds seconds\n"), "%s", om);
	cr_expect(strlen(om) > 6 && strcmp(om + strlen(om) - 6, "# EOF\n") == 0, "%s", om);

	prom = ctl_metrics("prometheus");
	parsed = parse(prom, "prometheus");
	cr_expect_eq(sample(parsed, "vigil_service_state{service=web,state=running}"), 1);
	cr_expect_eq(sample(parsed, "vigil_service_restarts_total{service=web}"), 0);
	cr_expect_eq(sample(parsed, "vigil_build_info{version=" VIGIL_VERSION "}"), 1, "%s", parsed);
	/* 0.0.4: the family is named as its samples, no # UNIT, no info type, no # EOF */
	cr_expect_not_null(strstr(prom, "# TYPE vigil_service_restarts_total counter\n"), "%s", prom);
	cr_expect_null(strstr(prom, "# UNIT"), "%s", prom);
	cr_expect_null(strstr(prom, "# EOF"), "%s", prom);
	cr_expect_null(strstr(prom, " info\n"), "%s", prom);
}

Test(metrics, restarts_counter_and_last_exit_follow_a_kill)
{
	pid_t pid, next;

	need_parser();
	vh_setup("%s", testsvc_conf("web", ""));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", DEADLINE_MS), "log:\n%s", vh_log_tail());
	cr_assert_eq(om_value("vigil_service_restarts_total{service=web}"), 0);
	cr_assert(isnan(om_value("vigil_service_last_exit_signal{service=web}")),
	    "no process ended yet: no last exit");

	pid = vh_main_pid("web");
	cr_assert_gt(pid, 0);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	next = vh_wait_new_pid("web", pid, DEADLINE_MS);
	cr_assert_gt(next, 0, "web was not restarted; log:\n%s", vh_log_tail());
	cr_expect_eq(om_value("vigil_service_restarts_total{service=web}"), 1);
	cr_expect_eq(om_value("vigil_service_last_exit_signal{service=web}"), SIGKILL);
	cr_expect(isnan(om_value("vigil_service_last_exit_code{service=web}")),
	    "a signal ended it: no exit code");

	cr_assert_eq(kill(next, SIGKILL), 0);
	cr_assert_gt(vh_wait_new_pid("web", next, DEADLINE_MS), 0, "log:\n%s", vh_log_tail());
	cr_expect_eq(om_value("vigil_service_restarts_total{service=web}"), 2);
}

Test(metrics, state_gauge_follows_a_stop_and_exit_code_is_kept)
{
	struct vh_result r;
	const char *parsed;

	need_parser();
	vh_setup("[service:web]\ncommand = %s\n\n[service:once]\ncommand = %s exit:3\n"
	    "restart = never\n", vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", DEADLINE_MS), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_state("once", "exited", DEADLINE_MS), "log:\n%s", vh_log_tail());
	cr_assert_eq(vh_ctl(&r, "stop", "web", NULL), 0, "%s", r.err);

	parsed = parse(ctl_metrics(NULL), "openmetrics");
	cr_expect_eq(sample(parsed, "vigil_service_state{service=web,state=stopped}"), 1);
	cr_expect_eq(sample(parsed, "vigil_service_state{service=web,state=running}"), 0);
	cr_expect_eq(sample(parsed, "vigil_service_up{service=web}"), 0);
	cr_expect_eq(sample(parsed, "vigil_service_ready{service=web}"), 0);
	cr_expect_eq(sample(parsed, "vigil_service_uptime_seconds{service=web}"), 0);
	cr_expect_eq(sample(parsed, "vigil_services{state=stopped}"), 1);
	cr_expect_eq(sample(parsed, "vigil_services{state=exited}"), 1);
	cr_expect_eq(sample(parsed, "vigil_services{state=running}"), 0);
	cr_expect_eq(sample(parsed, "vigil_service_state{service=once,state=exited}"), 1);
	cr_expect_eq(sample(parsed, "vigil_service_last_exit_code{service=once}"), 3, "%s", parsed);
}

Test(metrics, processes_and_cpu_come_from_the_cgroup)
{
	const char *parsed;

	need_parser();
	vh_setup("[service:three]\ncommand = %s child:%s child:%s\n", vh_testsvc(),
	    vh_path("c1"), vh_path("c2"));
	vh_start_ok();
	if (vh_cgroup_base() == NULL)
		VH_SKIP("vigild runs without cgroups here: no processes or cpu metrics");
	cr_assert(vh_wait_file(vh_path("c2"), DEADLINE_MS), "log:\n%s", vh_log_tail());
	cr_assert(wait_value("vigil_service_processes{service=three}", 3, DEADLINE_MS),
	    "processes is %g, want 3", om_value("vigil_service_processes{service=three}"));
	parsed = parse(ctl_metrics(NULL), "openmetrics");
	cr_expect_geq(sample(parsed, "vigil_service_cpu_seconds_total{service=three}"), 0,
	    "%s", parsed);
}

Test(metrics, log_bytes_count_what_the_service_wrote)
{
	need_parser();
	/* "hello\n" on stdout and "abc\n" on stderr: 10 bytes */
	vh_setup("%s", testsvc_conf("talk", "echo:hello err:abc"));
	vh_start_ok();
	cr_assert(wait_value("vigil_service_log_bytes_total{service=talk}", 10, DEADLINE_MS),
	    "log bytes %g, want 10", om_value("vigil_service_log_bytes_total{service=talk}"));
	cr_expect_eq(om_value("vigil_service_log_dropped_bytes_total{service=talk}"), 0);
}

/* ---- HTTP ---- */

static int http_port;

static void
setup_http(const char *extra)
{
	http_port = vh_free_port();
	vh_setup("[vigil]\nmetrics_listen = 127.0.0.1:%d\n%s\n%s", http_port, extra,
	    testsvc_conf("web", ""));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", DEADLINE_MS), "log:\n%s", vh_log_tail());
}

static int
http_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)http_port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "connecting to 127.0.0.1:%d: %s", http_port, strerror(errno));
	return fd;
}

/* Read fd until EOF (true) or the deadline (false); what came is in buf. */
static bool
read_to_eof(int fd, char *buf, size_t cap, size_t *len, int timeout_ms)
{
	long long end = vh_now_ms() + timeout_ms;

	*len = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = end - vh_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		n = read(fd, buf + *len, cap - 1 - *len);
		if (n < 0 && errno == ECONNRESET)
			n = 0;
		if (n <= 0) {
			buf[*len] = '\0';
			return true;
		}
		*len += (size_t)n;
		if (*len == cap - 1) {
			buf[*len] = '\0';
			return true;
		}
	}
}

/* The whole response to req (static buffer), or the test fails. */
static const char *
http(const char *req, size_t len)
{
	static char buf[262144];
	int fd = http_connect();
	size_t off = 0, got;

	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);

		cr_assert_gt(n, 0, "sending the request: %s", strerror(errno));
		off += (size_t)n;
	}
	cr_assert(read_to_eof(fd, buf, sizeof(buf), &got, DEADLINE_MS),
	    "no whole response within %d ms; got:\n%.*s", DEADLINE_MS, (int)got, buf);
	close(fd);
	return buf;
}

static const char *
http_s(const char *req)
{
	return http(req, strlen(req));
}

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The body of a response: after the blank line */
static const char *
body(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	cr_assert_not_null(b, "no end of headers in:\n%s", resp);
	return b + 4;
}

Test(metrics, http_serves_openmetrics_or_0_0_4_by_accept)
{
	const char *resp, *parsed;

	need_parser();
	setup_http("");
	resp = http_s("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;"
	    "version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
	    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 200 OK\r\n"), "%s", resp);
	cr_expect_not_null(strstr(resp, "\r\nContent-Type: application/openmetrics-text; "
	    "version=1.0.0; charset=utf-8\r\n"), "%s", resp);
	cr_expect_not_null(strstr(resp, "\r\nConnection: close\r\n"), "%s", resp);
	parsed = parse(body(resp), "openmetrics");
	cr_expect_eq(sample(parsed, "vigil_service_state{service=web,state=running}"), 1);
	cr_expect_eq(sample(parsed, "vigil_http_clients{}"), 1, "the one being answered");

	resp = http_s("GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 200 OK\r\n"), "%s", resp);
	cr_expect_not_null(strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4; "
	    "charset=utf-8\r\n"), "%s", resp);
	parsed = parse(body(resp), "prometheus");
	cr_expect_eq(sample(parsed, "vigil_service_up{service=web}"), 1);
	cr_expect_null(strstr(body(resp), "# EOF"));

	/* HEAD: the same headers, no body */
	resp = http_s("HEAD /metrics HTTP/1.1\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 200 OK\r\n"), "%s", resp);
	cr_expect_str_eq(body(resp), "", "%s", resp);
}

Test(metrics, http_errors_and_the_daemon_serves_on)
{
	char big[HTTP_BIG];
	const char *resp;
	int before;

	setup_http("");
	before = vh_count_fds(vh.pid);
	resp = http_s("GET /nope HTTP/1.1\r\n\r\n");
	cr_expect(starts(resp, "HTTP/1.1 404 Not Found\r\n"), "%s", resp);
	resp = http_s("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
	cr_expect(starts(resp, "HTTP/1.1 405 Method Not Allowed\r\n"), "%s", resp);
	cr_expect_not_null(strstr(resp, "\r\nAllow: GET, HEAD\r\n"), "%s", resp);
	resp = http_s("hello\r\n\r\n");
	cr_expect(starts(resp, "HTTP/1.1 400 Bad Request\r\n"), "%s", resp);
	resp = http_s("GET /metrics HTTP/2.0\r\n\r\n");
	cr_expect(starts(resp, "HTTP/1.1 505 "), "%s", resp);

	/* a request past 8 KiB of headers: 431, its rest read and dropped */
	memcpy(big, "GET /metrics HTTP/1.1\r\nX-Big: ", 30);
	memset(big + 30, 'a', sizeof(big) - 30);
	resp = http(big, sizeof(big));
	cr_expect(starts(resp, "HTTP/1.1 431 "), "%.200s", resp);

	resp = http_s("GET /metrics HTTP/1.1\r\n\r\n");
	cr_expect(starts(resp, "HTTP/1.1 200 OK\r\n"), "%.200s", resp);
	/* every client closed: the fds vigild has are those it had */
	{
		long long end = vh_now_ms() + DEADLINE_MS;
		int now;

		while ((now = vh_count_fds(vh.pid)) != before && vh_now_ms() < end)
			usleep(20000);
		cr_expect_eq(now, before, "vigild had %d fds, now %d", before, now);
	}
}

Test(metrics, idle_clients_make_room_for_a_scrape)
{
	int idle[HTTP_IDLE];
	const char *resp;
	char buf[64];
	size_t got;

	setup_http("");
	for (int i = 0; i < HTTP_IDLE; i++)
		idle[i] = http_connect();	/* and say nothing */
	resp = http_s("GET /metrics HTTP/1.1\r\n\r\n");
	cr_assert(starts(resp, "HTTP/1.1 200 OK\r\n"), "%.200s", resp);
	/* at most 16 at once: the scrape, and the 15 that spoke last of the idle */
	cr_expect_not_null(strstr(resp, "\nvigil_http_clients 16\n"), "%s", resp);
	/* the first idle connections made room: vigild closed them */
	for (int i = 0; i < HTTP_IDLE - 15; i++)
		cr_expect(read_to_eof(idle[i], buf, sizeof(buf), &got, DEADLINE_MS) && got == 0,
		    "idle client %d was not closed", i);
	for (int i = 0; i < HTTP_IDLE; i++)
		close(idle[i]);
}

Test(metrics, a_silent_http_client_is_closed_after_client_timeout)
{
	char buf[64];
	size_t got;
	int fd;

	setup_http("client_timeout = 1s\n");
	fd = http_connect();
	cr_expect(read_to_eof(fd, buf, sizeof(buf), &got, DEADLINE_MS) && got == 0,
	    "a client that sent nothing was not closed");
	close(fd);
	cr_expect(starts(http_s("GET /metrics HTTP/1.0\r\n\r\n"), "HTTP/1.1 200 OK\r\n"));
}

Test(metrics, a_bad_metrics_listen_is_a_config_error)
{
	vh_setup("[vigil]\nmetrics_listen = localhost:9753\n\n%s", testsvc_conf("web", ""));
	cr_assert(!vh_start(), "vigild started; log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains(":7: [vigil] metrics_listen: expected off, IPV4:PORT like "
	    "127.0.0.1:9753 or [IPV6]:PORT like [::1]:9753, found 'localhost:9753'"),
	    "log:\n%s", vh_log_tail());
}

Test(metrics, a_port_in_use_stops_the_start_with_address_and_error)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char want[128];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(fd, 1) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	vh_setup("[vigil]\nmetrics_listen = 127.0.0.1:%d\n\n%s", ntohs(sa.sin_port),
	    testsvc_conf("web", ""));
	cr_assert(!vh_start(), "vigild started; log:\n%s", vh_log_tail());
	snprintf(want, sizeof(want), "metrics_listen 127.0.0.1:%d: cannot listen: bind: "
	    "Address already in use", ntohs(sa.sin_port));
	cr_expect(vh_log_contains(want), "want '%s' in log:\n%s", want, vh_log_tail());
	close(fd);
}

Test(metrics, reload_keeps_the_address_and_says_a_restart_applies_a_new_one)
{
	struct vh_result r;
	int old;

	setup_http("");
	old = http_port;
	vh_setup("[vigil]\nmetrics_listen = [::1]:%d\n\n%s", vh_free_port(),
	    testsvc_conf("web", ""));
	cr_assert_eq(vh_ctl(&r, "--json", "reload", NULL), 0, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "[vigil] metrics_listen: changed to [::1]:"), "%s", r.out);
	http_port = old;
	cr_expect(starts(http_s("GET /metrics HTTP/1.0\r\n\r\n"), "HTTP/1.1 200 OK\r\n"),
	    "the old address serves on");
}

Test(metrics, daemon_reexec_keeps_the_restarts_and_serves_again)
{
	struct vh_result r;
	pid_t pid;

	need_parser();
	setup_http("");
	pid = vh_main_pid("web");
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_gt(vh_wait_new_pid("web", pid, DEADLINE_MS), 0, "log:\n%s", vh_log_tail());
	cr_assert_eq(om_value("vigil_service_restarts_total{service=web}"), 1);
	cr_assert_eq(vh_ctl(&r, "daemon-reexec", NULL), 0, "%s%s\nlog:\n%s", r.out, r.err,
	    vh_log_tail());
	cr_expect_eq(om_value("vigil_service_restarts_total{service=web}"), 1,
	    "the counter went back: a scraper would see a reset");
	cr_expect(starts(http_s("GET /metrics HTTP/1.0\r\n\r\n"), "HTTP/1.1 200 OK\r\n"),
	    "the new vigild serves metrics_listen; log:\n%s", vh_log_tail());
}

Test(metrics, the_request_refuses_a_format_it_does_not_know)
{
	struct vh_result r;

	vh_setup("%s", testsvc_conf("web", ""));
	vh_start_ok();
	cr_expect_eq(vh_ctl(&r, "metrics", "--format", "xml", NULL), 2, "a usage error");
	cr_expect_not_null(strstr(r.err, "--format: expected openmetrics or prometheus, "
	    "found 'xml'"), "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "--json", "metrics", NULL), 0, "%s", r.err);
	cr_expect_not_null(strstr(r.out, "\"format\":\"openmetrics\""), "%s", r.out);
}
