/*
 * test_templates.c: [service:NAME@] templates against the real vigild and
 * vigilctl. instances = N runs N processes, each with its own %i; start
 * makes an instance on request, a reload keeps it while it is wanted and
 * drops it once stopped; instances = N -> M and a changed template through
 * reload; a bad template named by file:line; requires naming an instance;
 * daemon-reexec keeping an instance made on request.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(templates, .fini = vh_teardown, .timeout = 180);

#define DEADLINE_MS	20000	/* generous: a busy 2-core machine, maybe under ASan */

/*
 * A template whose instances write their pid and environment to files
 * named after %i; its arguments: the testsvc, the folder twice. It is a
 * printf format: %%i reaches the file as %i, %%%% as %%.
 */
#define WORKER(extra) \
	"[service:w@]\n" \
	"command = %s pid:%s/w-%%i.pid env:%s/w-%%i.env\n" \
	"environment = INST=%%i PCT=100%%%%\n" \
	"stop_timeout = 5s\n" \
	extra "\n"

/* /proc/PID/cmdline with its NULs as blanks, "" if it cannot be read. */
static const char *
cmdline_of(pid_t pid)
{
	static char buf[4096];
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	return buf;
}

static json_t *
reload_ok(void)
{
	struct vh_result r;
	json_t *reply;

	cr_assert_eq(vh_ctl(&r, "--json", "reload", NULL), 0, "reload: %s %s\nlog:\n%s",
	    r.out, r.err, vh_log_tail());
	cr_assert_not_null(reply = json_loads(r.out, 0, NULL), "out: %s", r.out);
	return reply;
}

static pid_t
wait_running(const char *name)
{
	pid_t pid;

	cr_assert(vh_wait_state(name, "running", DEADLINE_MS), "%s never ran\nlog:\n%s", name,
	    vh_log_tail());
	pid = vh_main_pid(name);
	cr_assert_gt(pid, 0, "%s: no pid", name);
	return pid;
}

static void
ctl_ok(const char *a, const char *b, const char *c)
{
	struct vh_result r;

	cr_assert_eq(vh_ctl(&r, a, b, c, NULL), 0, "vigilctl %s %s %s: %s %s\nlog:\n%s",
	    a, b ? b : "", c ? c : "", r.out, r.err, vh_log_tail());
}

Test(templates, instances_run_with_their_own_name)
{
	char path[600], want[64];
	static char env[65536 + 2];
	pid_t pids[4];
	json_t *s;

	vh_setup(WORKER("instances = 3"), vh_testsvc(), vh.dir, vh.dir);
	vh_start_ok();
	for (int i = 1; i <= 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "w@%d", i);
		pids[i] = wait_running(name);
		snprintf(path, sizeof(path), "%s/w-%d.pid", vh.dir, i);
		cr_assert(vh_wait_file(path, DEADLINE_MS), "%s never written", path);
		cr_expect_eq(vh_read_long(path), pids[i], "%s", path);
		/* %i is in the command line the process runs with ... */
		snprintf(path, sizeof(path), "pid:%s/w-%d.pid", vh.dir, i);
		cr_expect(strstr(cmdline_of(pids[i]), path) != NULL, "cmdline of %s: %s", name,
		    cmdline_of(pids[i]));
		/* ... and in its environment; %% is one percent sign */
		snprintf(path, sizeof(path), "%s/w-%d.env", vh.dir, i);
		cr_assert(vh_wait_file(path, DEADLINE_MS), "%s never written", path);
		/* a newline before the first line: every variable is "\nNAME=VALUE\n" */
		snprintf(env, sizeof(env), "\n%s", vh_slurp(path));
		snprintf(want, sizeof(want), "\nINST=%d\n", i);
		cr_expect(strstr(env, want) != NULL, "%s: %s", path, env);
		cr_expect(strstr(env, "\nPCT=100%\n") != NULL, "%s: %s", path, env);
	}
	cr_expect_neq(pids[1], pids[2]);
	cr_expect_neq(pids[2], pids[3]);
	cr_expect_neq(pids[1], pids[3]);
	/* the template is never a service; its name stands for its instances */
	cr_expect_str_eq(vh_status_names(NULL), "w@1,w@2,w@3");
	cr_expect_str_eq(vh_status_names("w@"), "w@1,w@2,w@3");
	cr_assert_not_null(s = vh_service("w@2"));
	cr_expect_str_eq(json_string_value(json_object_get(s, "template")), "w@");
	cr_expect_str_eq(json_string_value(json_object_get(s, "instance")), "2");
	cr_expect(json_is_false(json_object_get(s, "on_demand")));
	json_decref(s);
	/* a template's name acts on them all */
	ctl_ok("stop", "w@", NULL);
	for (int i = 1; i <= 3; i++)
		cr_expect(vh_wait_gone(pids[i], DEADLINE_MS), "w@%d still runs", i);
}

Test(templates, start_makes_an_instance_and_reload_keeps_it_while_wanted)
{
	struct vh_result r;
	json_t *reply, *s;
	pid_t pid;
	char path[600];

	vh_setup(WORKER(""), vh_testsvc(), vh.dir, vh.dir);
	vh_start_ok();
	/* no instances = : nothing runs until asked */
	cr_expect_str_eq(vh_status_names(NULL), "");
	cr_expect_eq(vh_ctl(&r, "status", "w@", NULL), 1, "out: %s", r.out);
	cr_expect(strstr(r.err, "w@ (a template with no instances)") != NULL, "err: %s", r.err);
	/* only start makes one */
	cr_expect_eq(vh_ctl(&r, "stop", "w@web7", NULL), 1);
	cr_expect(strstr(r.err, "no such service: w@web7") != NULL, "err: %s", r.err);
	cr_expect_eq(vh_ctl(&r, "start", "w@a/b", NULL), 1);
	cr_expect(strstr(r.err, "w@a/b: expected an instance name of 1 to 62 characters from "
	    "A-Z a-z 0-9 _ . -, found 'a/b'") != NULL, "err: %s", r.err);
	cr_expect_eq(vh_ctl(&r, "start", "w@", NULL), 1);

	ctl_ok("start", "w@web7", NULL);
	pid = wait_running("w@web7");
	snprintf(path, sizeof(path), "pid:%s/w-web7.pid", vh.dir);
	cr_expect(strstr(cmdline_of(pid), path) != NULL, "cmdline: %s", cmdline_of(pid));
	cr_assert_not_null(s = vh_service("w@web7"));
	cr_expect(json_is_true(json_object_get(s, "on_demand")));
	json_decref(s);

	/* wanted: the reload keeps it, process and all */
	reply = reload_ok();
	cr_expect_str_eq(vh_json_list(reply, "unchanged"), "w@web7");
	cr_expect_str_eq(vh_json_list(reply, "removed"), "");
	json_decref(reply);
	cr_expect_eq(vh_main_pid("w@web7"), pid);

	/* stopped: the next reload drops it */
	ctl_ok("stop", "w@web7", NULL);
	cr_expect(vh_wait_state("w@web7", "stopped", DEADLINE_MS));
	reply = reload_ok();
	cr_expect_str_eq(vh_json_list(reply, "removed"), "w@web7");
	json_decref(reply);
	cr_expect_eq(vh_ctl(&r, "status", "w@web7", NULL), 1);
	cr_expect(strstr(r.err, "no such service: w@web7") != NULL, "err: %s", r.err);
	cr_expect_str_eq(vh_status_names(NULL), "");
}

Test(templates, reload_follows_instances_and_a_changed_template)
{
	pid_t p[5], n1, n2;
	json_t *reply;

	vh_setup(WORKER("instances = 4"), vh_testsvc(), vh.dir, vh.dir);
	vh_start_ok();
	for (int i = 1; i <= 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "w@%d", i);
		p[i] = wait_running(name);
	}
	vh_setup(WORKER("instances = 2"), vh_testsvc(), vh.dir, vh.dir);
	reply = reload_ok();
	cr_expect_str_eq(vh_json_list(reply, "removed"), "w@3,w@4");
	cr_expect_str_eq(vh_json_list(reply, "unchanged"), "w@1,w@2");
	json_decref(reply);
	cr_expect(vh_wait_gone(p[3], DEADLINE_MS), "w@3 still runs");
	cr_expect(vh_wait_gone(p[4], DEADLINE_MS), "w@4 still runs");
	cr_expect_eq(vh_main_pid("w@1"), p[1]);
	cr_expect_str_eq(vh_status_names(NULL), "w@1,w@2");

	/* a changed template restarts each instance, as a changed service */
	vh_setup(WORKER("instances = 2\ndirectory = /tmp"), vh_testsvc(), vh.dir,
	    vh.dir);
	reply = reload_ok();
	cr_expect_str_eq(vh_json_list(reply, "restarted"), "w@1,w@2");
	json_decref(reply);
	n1 = vh_wait_new_pid("w@1", p[1], DEADLINE_MS);
	n2 = vh_wait_new_pid("w@2", p[2], DEADLINE_MS);
	cr_expect(n1 > 0 && n1 != p[1], "w@1 not restarted");
	cr_expect(n2 > 0 && n2 != p[2], "w@2 not restarted");
}

Test(templates, a_bad_template_is_named_by_file_and_line)
{
	struct vh_result r;
	char want[700];
	pid_t pid;

	vh_setup(WORKER("instances = 1"), vh_testsvc(), vh.dir, vh.dir);
	vh_start_ok();
	pid = wait_running("w@1");
	/* [vigil] is lines 1-5, w@ starts at 6: restart at 10, ready at 11 */
	vh_setup(WORKER("restart = sometimes\nready = tcp:127.0.0.1:%%i\ninstances = 1 http"),
	    vh_testsvc(), vh.dir, vh.dir);
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 1, "out: %s err: %s", r.out, r.err);
	snprintf(want, sizeof(want), "%s:10: [service:w@] restart: expected always, "
	    "on-failure or never, found 'sometimes'", vh.conf);
	cr_expect(strstr(r.err, want) != NULL, "err: %s", r.err);
	cr_expect(strstr(r.err, "nothing changed") != NULL, "err: %s", r.err);
	/* once the instance-independent keys are right: each instance's own */
	vh_setup(WORKER("ready = tcp:127.0.0.1:%%i\ninstances = 1 http"),
	    vh_testsvc(), vh.dir, vh.dir);
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 1, "out: %s err: %s", r.out, r.err);
	snprintf(want, sizeof(want), "%s:10: [service:w@http] ready: expected tcp:PORT or "
	    "tcp:HOST:PORT with a port from 1 to 65535, found 'tcp:127.0.0.1:http'", vh.conf);
	cr_expect(strstr(r.err, want) != NULL, "err: %s", r.err);
	cr_expect(strstr(r.err, "1 error, nothing changed") != NULL, "err: %s", r.err);
	/* and an escape that is not %i or %% */
	vh_setup(WORKER("directory = /tmp/%%n"), vh_testsvc(), vh.dir, vh.dir);
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 1, "out: %s err: %s", r.out, r.err);
	snprintf(want, sizeof(want), "%s:10: [service:w@] directory: expected %%i (the "
	    "instance name) or %%%% (a '%%') after '%%', found '%%n'", vh.conf);
	cr_expect(strstr(r.err, want) != NULL, "err: %s", r.err);
	cr_expect_eq(vh_main_pid("w@1"), pid, "nothing changed");
	cr_expect(vh_pid_alive(pid));
}

Test(templates, requires_may_name_an_instance_and_an_instance_may_require)
{
	pid_t db, app;

	/* app requires w@db, which no instances = lists: the requires makes it */
	vh_setup(WORKER("")
	    "[service:app]\ncommand = %s\nrequires = w@db\nautostart = no\n\n"
	    "[service:cache]\ncommand = %s\nautostart = no\n\n"
	    "[service:c@]\ncommand = %s\nrequires = cache\n",
	    vh_testsvc(), vh.dir, vh.dir, vh_testsvc(), vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_expect_str_eq(vh_status_names(NULL), "app,cache,w@db");
	/* the template's autostart: w@db started at once, as any service */
	db = wait_running("w@db");
	ctl_ok("start", "app", NULL);
	app = wait_running("app");
	cr_expect_eq(vh_main_pid("w@db"), db);
	/* stopping the instance stops what requires it */
	ctl_ok("stop", "w@db", NULL);
	cr_expect(vh_wait_gone(app, DEADLINE_MS), "app outlived what it requires");
	cr_expect(vh_wait_gone(db, DEADLINE_MS));

	/* an instance made on request starts what it requires first */
	cr_expect(vh_wait_state("cache", "stopped", DEADLINE_MS));
	ctl_ok("start", "c@1", NULL);
	wait_running("c@1");
	cr_expect(vh_wait_state("cache", "running", DEADLINE_MS), "cache not started");
}

Test(templates, daemon_reexec_keeps_an_instance_made_on_request)
{
	struct vh_result r;
	json_t *s, *reply;
	pid_t pid, vigild_pid;

	vh_setup(WORKER("instances = 1"), vh_testsvc(), vh.dir, vh.dir);
	vh_start_ok();
	vigild_pid = vh.pid;
	wait_running("w@1");
	ctl_ok("start", "w@x", NULL);
	pid = wait_running("w@x");

	cr_assert_eq(vh_ctl(&r, "daemon-reexec", NULL), 0, "daemon-reexec: %s%s\nlog:\n%s",
	    r.out, r.err, vh_log_tail());
	cr_assert(vh_wait_log("daemon-reexec: took back 2 services", DEADLINE_MS),
	    "log:\n%s", vh_log_tail());
	cr_expect_eq(vh.pid, vigild_pid);
	cr_expect_eq(vh_main_pid("w@x"), pid, "the same process, still supervised");
	cr_assert_not_null(s = vh_service("w@x"));
	cr_expect_str_eq(json_string_value(json_object_get(s, "state")), "running");
	cr_expect(json_is_true(json_object_get(s, "on_demand")), "still made on request");
	json_decref(s);
	/* and a reload after it still treats it so: kept while wanted, dropped once stopped */
	reply = reload_ok();
	cr_expect_str_eq(vh_json_list(reply, "removed"), "");
	json_decref(reply);
	ctl_ok("stop", "w@x", NULL);
	cr_expect(vh_wait_gone(pid, DEADLINE_MS));
	reply = reload_ok();
	cr_expect_str_eq(vh_json_list(reply, "removed"), "w@x");
	json_decref(reply);
}
