/*
 * test_container.c: the example container of contrib/docker, without
 * Docker: its vigil.conf (ports and paths moved to the test's own) under
 * vigild as PID 1 of a fresh pid namespace, as `docker run` would start it.
 * Its HEALTHCHECK (vigilctl check) turns healthy, the services' output is
 * on vigild's stdout as docker logs shows it, the web server answers, and
 * docker stop's SIGTERM ends the container with 0. And vigilctl status from
 * outside the container says that the pids it shows are the container's.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(container, .fini = vh_teardown, .timeout = 180);

#define UP_MS	30000	/* redis and httpd start in a busy machine under ASan */
#define EXIT_MS	30000

static bool
have(const char *program)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", program);
	return system(cmd) == 0;
}

/* Every "from" in buf (of size bytes) replaced by "to", in place. */
static void
replace_all(char *buf, size_t size, const char *from, const char *to)
{
	char *tmp = strdup(buf);
	const char *s = tmp;
	size_t n = 0, lf = strlen(from), lt = strlen(to);

	cr_assert_not_null(tmp);
	while (*s != '\0' && n + lt + 1 < size) {
		if (strncmp(s, from, lf) == 0) {
			memcpy(buf + n, to, lt);
			n += lt;
			s += lf;
		} else {
			buf[n++] = *s++;
		}
	}
	buf[n] = '\0';
	free(tmp);
}


/* GET / on 127.0.0.1:port; what came back, "" if nothing */
static const char *
http_get(int port)
{
	static char buf[4096];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	const char req[] = "GET / HTTP/1.0\r\n\r\n";
	size_t n = 0;
	ssize_t k;
	int fd;

	buf[0] = '\0';
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return buf;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1))
		while (n < sizeof(buf) - 1 && (k = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
			n += (size_t)k;
	buf[n] = '\0';
	close(fd);
	return buf;
}

Test(container, the_example_container_is_healthy_logs_serves_and_stops_with_0)
{
	char to[16], dir[512], path[600], conf[16384];
	struct vh_result r;
	char *unshare[] = { "unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM",
	    getenv("VIGILD"), "-f", "-c", vh.conf, NULL };
	static const char *const names[] = { "redis", "worker", "web" };
	int redis_port, web_port, rc;
	pid_t init;

	if (!have("redis-server") || !have("redis-cli") || !have("busybox") || !have("unshare"))
		cr_skip_test("needs redis-server, redis-cli, busybox and unshare");
	vh_setup("%s", "");
	redis_port = vh_free_port();
	web_port = vh_free_port();
	cr_assert(redis_port > 0 && web_port > 0 && redis_port != web_port);
	snprintf(dir, sizeof(dir), "%s/contrib/docker/", getenv("VIGIL_SRCDIR"));
	snprintf(path, sizeof(path), "%svigil.conf", dir);
	snprintf(conf, sizeof(conf), "%s", vh_slurp(path));
	cr_assert(strstr(conf, "[service:web]") != NULL, "contrib/docker/vigil.conf: %s", conf);
	snprintf(to, sizeof(to), "%d", redis_port);
	replace_all(conf, sizeof(conf), "6379", to);
	snprintf(to, sizeof(to), "%d", web_port);
	replace_all(conf, sizeof(conf), "8080", to);
	replace_all(conf, sizeof(conf), "/etc/vigil/docker/", dir);
	vh_add_services("%s", conf);

	vh_exec(unshare, NULL, NULL);

	/* the HEALTHCHECK: healthy once all three are ready */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_assert(vh_wait_ready(names[i], UP_MS), "%s never ready; log:\n%s", names[i],
		    vh_log_tail());
	rc = vh_ctl(&r, "check", NULL);
	cr_assert_eq(rc, 0, "not healthy: %s%s; log:\n%s", r.out, r.err, vh_log_tail());
	cr_expect(strstr(r.out, "ok: 3 services up and ready") != NULL, "out: %s", r.out);

	cr_expect(strstr(http_get(web_port), "served by busybox httpd under vigil") != NULL,
	    "web: %s", http_get(web_port));
	/* docker logs: every service's lines on vigild's stdout, by name */
	cr_expect(vh_wait_log("worker | worker: 1 ticks", UP_MS), "log:\n%s", vh_log_tail());

	/* docker stop: SIGTERM to the container's init (unshare ignores it, and passes on its exit) */
	cr_assert_gt(init = vh_first_child(vh.pid), 0, "no init below unshare %d", (int)vh.pid);
	cr_assert_eq(kill(init, SIGTERM), 0);
	cr_assert(vh_signal_and_wait(0, EXIT_MS), "still running; log:\n%s", vh_log_tail());
	cr_expect(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) == 0,
	    "wait status 0x%x; log:\n%s", (unsigned)vh.exit_status, vh_log_tail());
	cr_expect(vh_log_contains("vigild exiting with status 0"), "log:\n%s", vh_log_tail());
}

static void
need_pid_namespaces(void)
{
	if (system("unshare --pid --fork --mount-proc true >/dev/null 2>&1") != 0)
		VH_SKIP("unshare --pid does not work here");
}

/* vigild as PID 1 of a fresh pid namespace, one service in it; its init as we see it */
static pid_t
start_in_pid_namespace(void)
{
	char *unshare[] = { "unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM",
	    getenv("VIGILD"), "-f", "-c", vh.conf, NULL };
	pid_t init;

	need_pid_namespaces();
	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_exec(unshare, NULL, NULL);
	cr_assert(vh_wait_state("web", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_assert_gt(init = vh_first_child(vh.pid), 0, "no init below unshare %d", (int)vh.pid);
	return init;
}

Test(container, status_from_outside_says_the_pids_are_the_containers)
{
	struct vh_result r;
	char want[160];
	json_t *j;
	pid_t init = start_in_pid_namespace();

	cr_assert_eq(vh_ctl(&r, "status", NULL), 0, "%s", r.err);
	snprintf(want, sizeof(want), "vigilctl: note: vigild runs in another pid namespace "
	    "(pid 1 there, %d here): PIDs below are that namespace's\n", (int)init);
	cr_expect_str_eq(r.err, want);
	cr_expect(strncmp(r.out, "NAME", 4) == 0 && strstr(r.out, "web") != NULL, "out: %s", r.out);
	/* --json: stdout is the reply as it came, the note on stderr */
	cr_assert_eq(vh_ctl(&r, "--json", "status", "web", NULL), 0, "%s", r.err);
	cr_expect_str_eq(r.err, want);
	cr_assert_not_null(j = json_loads(r.out, 0, NULL), "out: %s", r.out);
	cr_expect(json_is_true(json_object_get(j, "ok")), "out: %s", r.out);
	cr_expect_eq(json_array_size(json_object_get(j, "services")), 1, "out: %s", r.out);
	cr_expect_null(json_object_get(j, "pid"), "no field of vigilctl's own: %s", r.out);
	json_decref(j);
	/* an error is still just that */
	cr_expect_eq(vh_ctl(&r, "status", "nosuch", NULL), 1, "%s", r.err);
	cr_expect(strstr(r.err, "nosuch") != NULL, "err: %s", r.err);

	cr_assert_eq(kill(init, SIGTERM), 0);
	cr_assert(vh_signal_and_wait(0, EXIT_MS), "still running; log:\n%s", vh_log_tail());
}

Test(container, status_from_inside_a_namespace_that_cannot_see_vigild_says_so)
{
	char cmd[1024], *out;
	int status;

	need_pid_namespaces();
	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", UP_MS), "log:\n%s", vh_log_tail());
	/* vigilctl in a namespace of its own: vigild has no pid there */
	snprintf(cmd, sizeof(cmd), "unshare --pid --fork --mount-proc '%s' --socket '%s' status "
	    ">'%s' 2>&1", getenv("VIGILCTL"), vh.sock, vh_path("inside.out"));
	status = system(cmd);
	out = vh_slurp(vh_path("inside.out"));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x: %s",
	    (unsigned)status, out);
	snprintf(cmd, sizeof(cmd), "vigilctl: note: vigild runs in another pid namespace "
	    "(pid %d there, not visible here): PIDs below are that namespace's\n", (int)vh.pid);
	cr_expect(strncmp(out, cmd, strlen(cmd)) == 0, "out: %s", out);
	cr_expect(strstr(out, "web") != NULL, "out: %s", out);
}

Test(container, status_in_the_same_namespace_has_no_note)
{
	struct vh_result r;

	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_assert_eq(vh_ctl(&r, "status", NULL), 0, "%s", r.err);
	cr_expect_str_eq(r.err, "");
	cr_expect(strstr(r.out, "web") != NULL, "out: %s", r.out);
	cr_assert_eq(vh_ctl(&r, "--json", "status", NULL), 0, "%s", r.err);
	cr_expect_str_eq(r.err, "");
}
