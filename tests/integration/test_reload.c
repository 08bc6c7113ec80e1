/*
 * test_reload.c: `vigilctl reload` and SIGHUP against the real vigild. One
 * reload that adds, removes, restarts, updates in place and leaves alone,
 * judged by the reply and by pids before and after; --dry-run changing
 * nothing; an invalid config changing nothing; the clients of a removed
 * service; removed services stopped in dependency order.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(reload, .fini = vh_teardown, .timeout = 120);

#define DEADLINE_MS	20000	/* generous: a busy 2-core machine, maybe under ASan */

static bool
wait_no_zombies(void)
{
	long long end = vh_now_ms() + DEADLINE_MS;

	do {
		if (vh_zombie_children() == 0)
			return true;
		usleep(20000);
	} while (vh_now_ms() < end);
	return false;
}

static json_t *
reload_json(struct vh_result *r, bool dry_run)
{
	json_t *reply;

	if (dry_run)
		vh_ctl(r, "--json", "reload", "--dry-run", NULL);
	else
		vh_ctl(r, "--json", "reload", NULL);
	cr_assert_eq(r->code, 0, "reload: %s %s", r->out, r->err);
	reply = json_loads(r->out, 0, NULL);
	cr_assert_not_null(reply, "reload reply: %s", r->out);
	return reply;
}

#define SVC(name, args, extra) \
	"[service:" name "]\ncommand = %s pid:%s/" name ".pid " args "\nstart_secs = 100ms\n" \
	extra "\n"

/* The five fates at once; pids say what really happened. */
static void
setup_five(void)
{
	vh_setup(SVC("keep", "", "") SVC("inplace", "", "") SVC("cmd", "", "")
	    SVC("gone", "", ""),
	    vh_testsvc(), vh.dir, vh_testsvc(), vh.dir, vh_testsvc(), vh.dir,
	    vh_testsvc(), vh.dir);
	cr_assert(vh_start(), "vigild did not start; log: %s", vh_log_tail());
	cr_assert(vh_wait_state("keep", "running", DEADLINE_MS), "log: %s", vh_log_tail());
	cr_assert(vh_wait_state("inplace", "running", DEADLINE_MS));
	cr_assert(vh_wait_state("cmd", "running", DEADLINE_MS));
	cr_assert(vh_wait_state("gone", "running", DEADLINE_MS));
	vh_setup(SVC("keep", "", "") SVC("inplace", "", "restart_delay = 2s\nstop_timeout = 5s")
	    SVC("cmd", "echo:v2", "") SVC("new", "", ""),
	    vh_testsvc(), vh.dir, vh_testsvc(), vh.dir, vh_testsvc(), vh.dir,
	    vh_testsvc(), vh.dir);
}

Test(reload, dry_run_reports_the_plan_and_changes_nothing)
{
	pid_t keep, inplace, cmd, gone;
	struct vh_result r;
	json_t *reply;

	setup_five();
	keep = vh_main_pid("keep");
	inplace = vh_main_pid("inplace");
	cmd = vh_main_pid("cmd");
	gone = vh_main_pid("gone");
	cr_assert(keep > 0 && inplace > 0 && cmd > 0 && gone > 0);

	cr_assert_eq(vh_ctl(&r, "reload", "--dry-run", NULL), 0, "%s %s", r.out, r.err);
	cr_expect_str_eq(r.out, "added: new\nremoved: gone\nrestarted: cmd (command changed)\n"
	    "updated: inplace (restart_delay, stop_timeout changed)\nunchanged: keep\n"
	    "dry run: nothing was changed\n");
	cr_expect_str_eq(r.err, "");

	reply = reload_json(&r, true);
	cr_expect(json_is_true(json_object_get(reply, "dry_run")), "%s", r.out);
	cr_expect_str_eq(vh_json_list(reply, "added"), "new");
	cr_expect_str_eq(vh_json_list(reply, "removed"), "gone");
	cr_expect_str_eq(vh_json_list(reply, "restarted"), "cmd");
	cr_expect_str_eq(vh_json_list(reply, "updated"), "inplace");
	cr_expect_str_eq(vh_json_list(reply, "unchanged"), "keep");
	json_decref(reply);

	cr_expect_eq(vh_main_pid("keep"), keep);
	cr_expect_eq(vh_main_pid("inplace"), inplace);
	cr_expect_eq(vh_main_pid("cmd"), cmd);
	cr_expect_eq(vh_main_pid("gone"), gone);
	cr_expect(vh_pid_alive(gone));
	cr_expect_str_eq(vh_status_names(NULL), "keep,inplace,cmd,gone");
	cr_expect_neq(vh_ctl(&r, "status", "new", NULL), 0, "new exists: %s", r.out);
}

Test(reload, adds_removes_restarts_updates_and_keeps_at_once)
{
	pid_t keep, inplace, cmd, gone, ncmd;
	struct vh_result r;
	json_t *reply, *changes;

	setup_five();
	keep = vh_main_pid("keep");
	inplace = vh_main_pid("inplace");
	cmd = vh_main_pid("cmd");
	gone = vh_main_pid("gone");

	reply = reload_json(&r, false);
	cr_expect(json_is_true(json_object_get(reply, "ok")));
	cr_expect(json_is_false(json_object_get(reply, "dry_run")));
	cr_expect_str_eq(vh_json_list(reply, "added"), "new");
	cr_expect_str_eq(vh_json_list(reply, "removed"), "gone");
	cr_expect_str_eq(vh_json_list(reply, "restarted"), "cmd");
	cr_expect_str_eq(vh_json_list(reply, "updated"), "inplace");
	cr_expect_str_eq(vh_json_list(reply, "unchanged"), "keep");
	changes = json_object_get(reply, "changes");
	cr_expect_str_eq(vh_json_list(changes, "cmd"), "command");
	cr_expect_str_eq(vh_json_list(changes, "inplace"), "restart_delay,stop_timeout");
	cr_expect_null(json_object_get(changes, "keep"));
	cr_expect_eq(json_array_size(json_object_get(reply, "warnings")), 0, "%s", r.out);
	json_decref(reply);

	/* added and autostart: it runs */
	cr_expect_gt(vh_wait_new_pid("new", 0, DEADLINE_MS), 0, "new never ran; log: %s", vh_log_tail());
	/* restarted: a new process, with the new command */
	cr_expect_gt(ncmd = vh_wait_new_pid("cmd", cmd, DEADLINE_MS), 0, "cmd was not restarted; log: %s",
	    vh_log_tail());
	cr_expect(vh_wait_gone(cmd, DEADLINE_MS), "cmd's old process is still there");
	cr_expect(vh_log_contains("cmd: spawned pid"), "log: %s", vh_log_tail());
	/* removed: stopped, reaped, forgotten */
	cr_expect(vh_wait_gone(gone, DEADLINE_MS), "gone's process %d is still there", (int)gone);
	cr_expect(wait_no_zombies(), "vigild left zombies");
	cr_expect_str_eq(vh_status_names(NULL), "keep,inplace,cmd,new");
	cr_expect_neq(vh_ctl(&r, "status", "gone", NULL), 0, "gone is still known: %s", r.out);
	/* in place and unchanged: the same processes */
	cr_expect_eq(vh_main_pid("keep"), keep);
	cr_expect_eq(vh_main_pid("inplace"), inplace);
	cr_expect(vh_pid_alive(keep) && vh_pid_alive(inplace));

	/* the same file again: nothing to do */
	reply = reload_json(&r, false);
	cr_expect_str_eq(vh_json_list(reply, "unchanged"), "keep,inplace,cmd,new", "%s", r.out);
	json_decref(reply);
	cr_expect_eq(vh_main_pid("cmd"), ncmd);
}

Test(reload, invalid_config_lists_every_error_and_changes_nothing)
{
	pid_t keep, gone;
	struct vh_result r;
	char want[512];

	setup_five();
	keep = vh_main_pid("keep");
	gone = vh_main_pid("gone");
	vh_setup(SVC("keep", "", "restart_delay = soon") SVC("web", "", "requires = nosuch"),
	    vh_testsvc(), vh.dir, vh_testsvc(), vh.dir);

	cr_assert_eq(vh_ctl(&r, "reload", NULL), 1, "out: %s err: %s", r.out, r.err);
	cr_expect_str_eq(r.out, "");
	/* [vigil] takes lines 1-5; keep starts at 6, web at 10 */
	snprintf(want, sizeof(want), "%s:9: [service:keep] restart_delay: expected a duration "
	    "like 250ms, 10s, 5m or 1h, found 'soon'\n", vh.conf);
	cr_expect(strstr(r.err, want) != NULL, "err: %s", r.err);
	snprintf(want, sizeof(want), "%s:13: [service:web] requires: expected the name of a "
	    "configured service, found 'nosuch'\n", vh.conf);
	cr_expect(strstr(r.err, want) != NULL, "err: %s", r.err);
	cr_expect(strstr(r.err, "2 errors, nothing changed") != NULL, "err: %s", r.err);
	cr_expect(vh_log_contains("[service:keep] restart_delay: expected a duration"),
	    "log: %s", vh_log_tail());
	cr_expect(vh_log_contains("[service:web] requires: expected the name"),
	    "log: %s", vh_log_tail());

	cr_assert_eq(vh_ctl(&r, "--json", "reload", NULL), 1);
	cr_expect(strstr(r.out, "\"error\":\"invalid-config\"") != NULL, "out: %s", r.out);
	cr_expect(strstr(r.out, "\"errors\":[") != NULL, "out: %s", r.out);

	cr_expect_eq(vh_main_pid("keep"), keep);
	cr_expect_eq(vh_main_pid("gone"), gone);
	cr_expect(vh_pid_alive(gone));
	cr_expect_str_eq(vh_status_names(NULL), "keep,inplace,cmd,gone");
}

Test(reload, sighup_reloads)
{
	pid_t keep;

	vh_setup(SVC("keep", "", ""), vh_testsvc(), vh.dir);
	cr_assert(vh_start(), "log: %s", vh_log_tail());
	cr_assert(vh_wait_state("keep", "running", DEADLINE_MS));
	keep = vh_main_pid("keep");
	vh_setup(SVC("keep", "", "") SVC("extra", "", ""), vh_testsvc(), vh.dir,
	    vh_testsvc(), vh.dir);
	cr_assert_eq(kill(vh.pid, SIGHUP), 0);
	cr_expect_gt(vh_wait_new_pid("extra", 0, DEADLINE_MS), 0, "extra never ran; log: %s", vh_log_tail());
	cr_expect(vh_log_contains("reload: added extra; 1 unchanged"), "log: %s", vh_log_tail());
	cr_expect_eq(vh_main_pid("keep"), keep);
	/* an invalid config on SIGHUP: logged, nothing changes, vigild carries on */
	vh_setup(SVC("keep", "", "umask = 999"), vh_testsvc(), vh.dir);
	cr_assert_eq(kill(vh.pid, SIGHUP), 0);
	for (long long end = vh_now_ms() + DEADLINE_MS; vh_now_ms() < end; usleep(20000))
		if (vh_log_contains("1 error, nothing changed"))
			break;
	cr_expect(vh_log_contains("[service:keep] umask: expected"), "log: %s", vh_log_tail());
	cr_expect_str_eq(vh_status_names(NULL), "keep,extra");
	cr_expect_eq(vh_main_pid("keep"), keep);
}

/* Where ctl_background records pid, so teardown kills it should the test fail first. */
static const char *
ctl_pidfile(pid_t pid)
{
	char name[32];

	snprintf(name, sizeof(name), "ctl-%d.pid", (int)pid);
	return vh_path(name);
}

/* vigilctl in the background, its stdout and stderr into a file of the test folder. */
static pid_t
ctl_background(const char *outfile, const char *a1, const char *a2, const char *a3)
{
	const char *ctl = getenv("VIGILCTL");
	pid_t pid = fork();
	FILE *f;

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(ctl != NULL && *ctl ? ctl : "./vigilctl", "vigilctl", "--socket", vh.sock,
		    a1, a2, a3, (char *)NULL);
		_exit(97);
	}
	if ((f = fopen(ctl_pidfile(pid), "w")) != NULL) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	return pid;
}

/* Its exit code, or -1 (and killed) after the deadline. */
static int
ctl_wait(pid_t pid)
{
	long long end = vh_now_ms() + DEADLINE_MS;
	bool reaped = false;
	int status, code = -1;

	do {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			break;
		}
		usleep(10000);
	} while (vh_now_ms() < end);
	if (!reaped) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	unlink(ctl_pidfile(pid));	/* its pid may be someone else's soon */
	return code;
}

Test(reload, waits_and_followers_of_a_removed_service_end)
{
	char out_stop[512], out_log[512];
	pid_t stopper, follower;
	struct vh_result r;

	/* it ignores SIGTERM: a stop of it waits until stop_timeout sends KILL */
	vh_setup(SVC("stubborn", "ignore:15 every:200:tick", "stop_timeout = 8s")
	    SVC("other", "", ""), vh_testsvc(), vh.dir, vh_testsvc(), vh.dir);
	cr_assert(vh_start(), "log: %s", vh_log_tail());
	cr_assert(vh_wait_state("stubborn", "running", DEADLINE_MS), "log: %s", vh_log_tail());
	snprintf(out_log, sizeof(out_log), "%s", vh_path("follow.out"));
	snprintf(out_stop, sizeof(out_stop), "%s", vh_path("stop.out"));
	follower = ctl_background(out_log, "log", "-f", "stubborn");
	cr_assert(vh_wait_file(out_log, DEADLINE_MS), "the follower printed nothing");
	stopper = ctl_background(out_stop, "stop", "stubborn", NULL);
	cr_assert(vh_wait_state("stubborn", "stopping", DEADLINE_MS));

	vh_setup(SVC("other", "", ""), vh_testsvc(), vh.dir);
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "%s %s", r.out, r.err);
	cr_expect_str_eq(r.out, "removed: stubborn\nunchanged: other\n");
	cr_expect_eq(ctl_wait(stopper), 1, "stop: %s", vh_slurp(out_stop));
	cr_expect(strstr(vh_slurp(out_stop), "stubborn: removed from the configuration by a "
	    "reload") != NULL, "stop: %s", vh_slurp(out_stop));
	cr_expect_eq(ctl_wait(follower), 1, "log -f: %s", vh_slurp(out_log));
	cr_expect(strstr(vh_slurp(out_log), "stubborn: removed from the configuration by a "
	    "reload") != NULL, "log -f: %s", vh_slurp(out_log));
	cr_expect(strstr(vh_slurp(out_log), "tick") != NULL, "log -f: %s", vh_slurp(out_log));
	/* the stop goes on without them: KILL after stop_timeout */
	cr_expect(vh_wait_gone((pid_t)vh_read_long(vh_path("stubborn.pid")), DEADLINE_MS));
	cr_expect(wait_no_zombies());
	cr_expect_str_eq(vh_status_names(NULL), "other");
}

Test(reload, removed_services_stop_dependents_first)
{
	struct vh_result r;
	pid_t db, web;

	vh_setup(SVC("db", "", "") SVC("web", "", "requires = db") SVC("keep", "", ""),
	    vh_testsvc(), vh.dir, vh_testsvc(), vh.dir, vh_testsvc(), vh.dir);
	cr_assert(vh_start(), "log: %s", vh_log_tail());
	cr_assert(vh_wait_state("web", "running", DEADLINE_MS), "log: %s", vh_log_tail());
	db = vh_main_pid("db");
	web = vh_main_pid("web");
	vh_setup(SVC("keep", "", ""), vh_testsvc(), vh.dir);
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "%s %s", r.out, r.err);
	cr_expect_str_eq(r.out, "removed: db, web\nunchanged: keep\n");
	cr_expect(vh_wait_gone(db, DEADLINE_MS) && vh_wait_gone(web, DEADLINE_MS));
	cr_expect_gt(vh_log_line_of("db: running -> stopping"), vh_log_line_of("web: stopping -> stopped"),
	    "db was stopped before web was gone; log: %s", vh_log_tail());
	cr_expect_geq(vh_log_line_of("web: stopping -> stopped"), 0, "log: %s", vh_log_tail());
	cr_expect(wait_no_zombies());
	cr_expect_str_eq(vh_status_names(NULL), "keep");
}

Test(reload, a_service_removed_and_added_again_waits_for_its_old_process)
{
	struct vh_result r;
	pid_t old, new;

	/* it ignores TERM and stop_timeout is far away: only the test ends it */
	vh_setup(SVC("svc", "ignore:15", "stop_timeout = 1h"), vh_testsvc(), vh.dir);
	cr_assert(vh_start(), "log: %s", vh_log_tail());
	cr_assert(vh_wait_state("svc", "running", DEADLINE_MS), "log: %s", vh_log_tail());
	old = vh_main_pid("svc");
	vh_setup("%s", "");
	/* --no-wait: reload would wait (an hour) for the removed svc to stop */
	cr_assert_eq(vh_ctl(&r, "reload", "--no-wait", NULL), 0, "%s %s", r.out, r.err);
	vh_setup(SVC("svc", "ignore:15", "stop_timeout = 1h"), vh_testsvc(), vh.dir);
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "%s %s", r.out, r.err);
	cr_expect_str_eq(r.out, "added: svc\n");
	/* the new one waits for the old one, which lives on until it is killed */
	cr_assert(vh_wait_reason("svc", "waiting for the removed svc to stop", DEADLINE_MS),
	    "log: %s", vh_log_tail());
	cr_expect(vh_pid_alive(old));
	cr_expect_eq(vh_main_pid("svc"), 0, "svc runs next to its old process");
	cr_assert_eq(kill(old, SIGKILL), 0);
	new = vh_wait_new_pid("svc", old, DEADLINE_MS);
	cr_expect_gt(new, 0, "svc never ran again; log: %s", vh_log_tail());
	cr_expect(!vh_pid_alive(old), "two processes of svc at once");
	cr_expect(vh_log_contains("svc: stopped (waiting for the removed svc to stop)"),
	    "log: %s", vh_log_tail());
}

/* reload returns once what it removed is stopped: a script can reuse its port at once. */
Test(reload, returns_once_the_removed_services_are_stopped)
{
	struct vh_result r;
	pid_t old;

	/* TERM is ignored: only the KILL after stop_timeout ends it */
	vh_setup(SVC("svc", "ignore:15", "stop_timeout = 500ms") SVC("keep", "", ""),
	    vh_testsvc(), vh.dir, vh_testsvc(), vh.dir);
	vh_start_ok();
	cr_assert(vh_wait_state("svc", "running", DEADLINE_MS), "log: %s", vh_log_tail());
	old = vh_main_pid("svc");
	vh_setup(SVC("keep", "", ""), vh_testsvc(), vh.dir);
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "%s %s", r.out, r.err);
	cr_expect_str_eq(r.out, "removed: svc\nunchanged: keep\n");
	cr_expect(!vh_pid_exists(old), "reload returned while the removed svc (pid %d) ran",
	    (int)old);
	cr_expect(vh_log_contains("svc: still alive 500ms after TERM, sending KILL"),
	    "log: %s", vh_log_tail());
}

Test(reload, no_wait_returns_before_the_removed_services_are_stopped)
{
	struct vh_result r;
	pid_t old;

	vh_setup(SVC("svc", "ignore:15", "stop_timeout = 1h"), vh_testsvc(), vh.dir);
	vh_start_ok();
	cr_assert(vh_wait_state("svc", "running", DEADLINE_MS), "log: %s", vh_log_tail());
	old = vh_main_pid("svc");
	vh_setup("%s", "");
	cr_assert_eq(vh_ctl(&r, "reload", "--no-wait", NULL), 0, "%s %s", r.out, r.err);
	cr_expect_str_eq(r.out, "removed: svc\n");
	cr_expect(vh_pid_alive(old), "the removed svc cannot have stopped: it ignores TERM");
	cr_assert_eq(kill(old, SIGKILL), 0);
	cr_expect(vh_wait_gone(old, DEADLINE_MS));
}

Test(reload, a_restarted_service_writes_where_its_new_definition_says)
{
	struct vh_result r;
	pid_t old;

	vh_setup(SVC("out", "echo:first", ""), vh_testsvc(), vh.dir);
	cr_assert(vh_start(), "log: %s", vh_log_tail());
	cr_assert(vh_wait_state("out", "running", DEADLINE_MS), "log: %s", vh_log_tail());
	old = vh_main_pid("out");
	vh_setup(SVC("out", "echo:second", "stdout = file:%s/out.txt"), vh_testsvc(), vh.dir,
	    vh.dir);
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "%s %s", r.out, r.err);
	cr_expect_str_eq(r.out, "restarted: out (command, stdout changed)\n");
	cr_assert_gt(vh_wait_new_pid("out", old, DEADLINE_MS), 0, "log: %s", vh_log_tail());
	cr_expect(vh_wait_file(vh_path("out.txt"), DEADLINE_MS));
	cr_expect_str_eq(vh_slurp(vh_path("out.txt")), "second\n");
	/* what the first process wrote is still in its log; the second's is not */
	cr_assert_eq(vh_ctl(&r, "log", "out", NULL), 0, "%s", r.err);
	cr_expect(strstr(r.out, "first") != NULL, "log: %s", r.out);
	cr_expect(strstr(r.out, "second") == NULL, "log: %s", r.out);
}

Test(reload, vigil_settings_that_need_a_restart_are_warnings)
{
	struct vh_result r;
	pid_t keep;
	FILE *f;

	vh_setup(SVC("keep", "", ""), vh_testsvc(), vh.dir);
	cr_assert(vh_start(), "log: %s", vh_log_tail());
	cr_assert(vh_wait_state("keep", "running", DEADLINE_MS), "log: %s", vh_log_tail());
	keep = vh_main_pid("keep");
	cr_assert_not_null(f = fopen(vh.conf, "w"));
	fprintf(f, "[vigil]\nsocket = %s/other.sock\nlog_dir = %s/logs2\n\n" SVC("keep", "", ""),
	    vh.dir, vh.dir, vh_testsvc(), vh.dir);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "%s %s", r.out, r.err);
	cr_expect_str_eq(r.out, "unchanged: keep\n");
	cr_expect(strstr(r.err, "warning: [vigil] socket: changed to ") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "takes effect when vigild restarts, until then it listens on ")
	    != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "warning: [vigil] log_dir: changed to ") != NULL, "%s", r.err);
	/* still on the old socket, the same process */
	cr_expect_eq(vh_main_pid("keep"), keep);
	cr_expect_eq(access(vh_path("other.sock"), F_OK), -1);
}
