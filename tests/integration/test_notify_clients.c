/*
 * test_notify_clients.c: the sd_notify socket against real clients, not
 * our own test service: Debian's redis-server --supervised systemd,
 * systemd-notify run as a service's main process, and a shell script that
 * forks its worker and feeds the watchdog through systemd-notify.
 * scripts/deps.sh installs redis-server and systemd.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

TestSuite(notify_clients, .fini = vh_teardown, .timeout = 90);

static const char *
need(const char *prog)
{
	static const char *const dirs[] = { "/usr/bin", "/usr/sbin", "/bin", NULL };
	static char path[256];

	for (size_t i = 0; dirs[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], prog);
		if (access(path, X_OK) == 0)
			return path;
	}
	cr_assert_fail("%s is not installed: scripts/deps.sh installs it", prog);
	return NULL;
}

static json_t *
field(const char *name, const char *key)
{
	json_t *s = vh_service(name), *v;

	cr_assert_not_null(s, "no status for %s", name);
	v = json_incref(json_object_get(s, key));
	json_decref(s);
	return v;
}

static bool
port_accepts(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

Test(notify_clients, redis_is_ready_when_it_says_READY_1)
{
	const char *redis = need("redis-server");
	int port = vh_free_port();
	json_t *text;

	/* start_secs far away: only READY=1 can make it ready in time */
	vh_setup("[service:redis]\ncommand = %s --port %d --bind 127.0.0.1 --supervised "
	    "systemd --daemonize no --save '' --appendonly no --dir %s\nready = notify\n"
	    "start_secs = 1h\n", redis, port, vh_path(""));
	cr_assert(vh_start());
	cr_assert(vh_wait_ready("redis", 20000), "%s", vh_log_tail());
	cr_expect(vh_log_contains("redis: starting -> running (ready: READY=1"),
	    "ready must come from READY=1:\n%s", vh_log_tail());
	cr_expect(port_accepts(port), "ready, so redis must accept connections");
	text = field("redis", "status_text");
	cr_expect(json_string_value(text) != NULL &&
	    strstr(json_string_value(text), "Ready to accept connections") != NULL,
	    "redis's STATUS= should show, got %s", json_string_value(text));
	json_decref(text);
}

Test(notify_clients, systemd_notify_as_the_main_process)
{
	/*
	 * Run as root, systemd-notify claims its parent's pid, which is vigild:
	 * only a socket of the service's own can tell whose READY=1 it is.
	 */
	vh_setup("[service:sn]\ncommand = %s --ready --status=hello\nready = notify\n"
	    "restart = never\nstart_secs = 1h\n", need("systemd-notify"));
	cr_assert(vh_start());
	cr_assert(vh_wait_state("sn", "exited", 10000), "%s", vh_log_tail());
	cr_expect(vh_log_contains("sn: starting -> running (ready: READY=1"),
	    "systemd-notify's READY=1 was not heard:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("sn: running -> exited (exited 0"), "%s", vh_log_tail());
}

Test(notify_clients, script_with_status_mainpid_and_watchdog)
{
	struct vh_bg *b = calloc(1, sizeof(*b));
	char script[512], buf[512];
	long worker, later;
	json_t *v, *e;

	need("systemd-notify");
	snprintf(script, sizeof(script), "%s/tests/helpers/notify-script.sh", SRCDIR);
	vh_setup("[service:sh]\ncommand = /bin/sh %s %s %s\nready = notify\nwatchdog = 600ms\n"
	    "restart_delay = 50ms\n", script, vh_path("worker"), vh_path("stop"));
	cr_assert(vh_start());
	cr_assert(vh_wait_ready("sh", 10000), "%s", vh_log_tail());
	cr_assert(vh_wait_file(vh_path("worker"), 5000));
	worker = vh_read_long(vh_path("worker"));
	v = field("sh", "pid");
	cr_expect_eq(json_integer_value(v), worker, "MAINPID= must make the worker the main pid");
	json_decref(v);
	v = field("sh", "status_text");
	snprintf(buf, sizeof(buf), "worker %ld up", worker);
	cr_expect_str_eq(json_string_value(v), buf);
	json_decref(v);
	/*
	 * fed: it outlives three watchdog periods. vigild logs each message it
	 * hears (log_level = debug), so count the pings: 20 at 100 ms apiece
	 * span 2 s, more than three times 600 ms.
	 */
	cr_assert(vh_wait_log_count("sh: notify from pid", 20, 20000),
	    "the script stopped feeding:\n%s", vh_log_tail());
	cr_expect_not(vh_log_contains("watchdog: no WATCHDOG=1"),
	    "a fed watchdog fired:\n%s", vh_log_tail());
	v = field("sh", "pid");
	cr_expect_eq(json_integer_value(v), worker, "restarted although fed");
	json_decref(v);
	/*
	 * starved: the script stops feeding, the worker is killed and replaced.
	 * The new run starves too (the stop file stays), so it is ready for
	 * about 600 ms only: the events stream, not a poll, sees it.
	 */
	vh_events_start(b, "sh");
	FILE *f = fopen(vh_path("stop"), "w");
	cr_assert_not_null(f);
	fclose(f);
	e = vh_events_until(b, "backoff", false, 20000);
	cr_assert_not_null(e, "no restart:\n%s", vh_log_tail());
	cr_expect(strstr(json_string_value(json_object_get(e, "reason")),
	    "watchdog: no WATCHDOG=1 for 600ms") != NULL, "reason: %s",
	    json_string_value(json_object_get(e, "reason")));
	json_decref(e);
	cr_expect(vh_wait_gone((pid_t)worker, 10000), "the starved worker must be killed");
	e = vh_events_until(b, "running", true, 20000);
	cr_assert_not_null(e, "not ready again:\n%s", vh_log_tail());
	json_decref(e);
	/* the script writes the file before it says READY=1 */
	later = vh_read_long(vh_path("worker"));
	cr_expect_neq(later, worker, "a new worker after the restart");
	vh_bg_end(b);
	free(b);
}
