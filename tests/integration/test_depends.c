/*
 * test_depends.c: requires and after as a user sees them: start order from
 * the services' own recorded start times, a dependent of a fatal service
 * left stopped with the reason, stop cascades and shutdown in reverse order.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(depends, .fini = vh_teardown, .timeout = 90);

/* First time (ns, monotonic) in a "PID NS" stamp file, -1 if none. */
static long long
stamp_ns(const char *name)
{
	FILE *f = fopen(vh_path(name), "r");
	long long ns = -1;
	int pid;

	if (f != NULL) {
		if (fscanf(f, "%d %lld", &pid, &ns) != 2)
			ns = -1;
		fclose(f);
	}
	return ns;
}

/*
 * The same, once the service wrote it: `running` comes from vigild's
 * start_secs timer, not from the process having run its first action.
 */
static long long
wait_stamp_ns(const char *name)
{
	cr_assert(vh_wait_file(vh_path(name), 20000), "%s never written; log:\n%s", name,
	    vh_log_tail());
	return stamp_ns(name);
}

Test(depends, dependent_starts_once_its_requirement_is_up_and_others_at_once)
{
	long long db, web, solo;

	vh_setup("[service:db]\ncommand = %s stamp:%s\nstart_secs = 300ms\n\n"
	    "[service:web]\ncommand = %s stamp:%s\nrequires = db\nstart_secs = 100ms\n\n"
	    "[service:solo]\ncommand = %s stamp:%s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("db.stamp"), vh_testsvc(), vh_path("web.stamp"),
	    vh_testsvc(), vh_path("solo.stamp"));
	cr_assert(vh_start(), "vigild did not start; log: %s", vh.log);
	cr_assert(vh_wait_state("web", "running", 20000), "web never ran; log: %s", vh.log);
	cr_assert(vh_wait_state("db", "running", 1000));
	db = wait_stamp_ns("db.stamp");
	web = wait_stamp_ns("web.stamp");
	solo = wait_stamp_ns("solo.stamp");
	cr_assert(db > 0 && web > 0 && solo > 0, "stamps: db %lld web %lld solo %lld",
	    db, web, solo);
	/*
	 * Each process ran. The order is vigild's log's to tell: db's process
	 * may take longer than start_secs to reach its first action on a busy
	 * machine, so its stamp says nothing about when web was spawned.
	 */
	cr_expect_gt(vh_log_line_of("web: stopped -> starting"), vh_log_line_of("db: starting -> running"),
	    "web was spawned before db was up; log: %s", vh.log);
	/* solo waits for nothing: it starts with db, not after it is up */
	cr_expect_lt(vh_log_line_of("solo: stopped -> starting"), vh_log_line_of("db: starting -> running"),
	    "solo waited for db; log: %s", vh.log);
	cr_expect(vh_log_contains("web: stopped -> starting"), "log: %s", vh.log);
}

Test(depends, waiting_service_says_what_it_waits_for)
{
	char buf[512];

	vh_setup("[service:db]\ncommand = %s\nstart_secs = 1h\n\n"
	    "[service:web]\ncommand = %s\nrequires = db\n",
	    vh_testsvc(), vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_state("db", "starting", 10000));
	cr_assert(vh_wait_reason("web", "waiting for db", 10000), "web: %s",
	    vh_reason("web", buf, sizeof(buf)));
	cr_expect_str_eq(vh_state("web", buf, sizeof(buf)), "stopped");
}

Test(depends, start_starts_what_it_requires_first)
{
	struct vh_result r;
	json_t *reply, *also;
	long long db, cache, web;

	/* ready once stamped: the stamps' order is then the order of the starts */
	vh_setup("[service:db]\ncommand = %s stamp:%s notify:READY=1\nready = notify\n"
	    "autostart = no\n\n"
	    "[service:cache]\ncommand = %s stamp:%s notify:READY=1\nready = notify\n"
	    "autostart = no\nrequires = db\n\n"
	    "[service:web]\ncommand = %s stamp:%s notify:READY=1\nready = notify\n"
	    "requires = cache\nautostart = no\n",
	    vh_testsvc(), vh_path("db.stamp"), vh_testsvc(), vh_path("cache.stamp"),
	    vh_testsvc(), vh_path("web.stamp"));
	cr_assert(vh_start());
	cr_assert_eq(vh_ctl(&r, "start", "web", NULL), 0, "start web: %s %s", r.out, r.err);
	cr_expect(strstr(r.out, "web") != NULL, "out: %s", r.out);
	cr_assert(vh_wait_state("web", "running", 1000), "start returned before web ran");
	cr_expect(vh_wait_state("db", "running", 1000));
	cr_expect(vh_wait_state("cache", "running", 1000));
	db = wait_stamp_ns("db.stamp");
	cache = wait_stamp_ns("cache.stamp");
	web = wait_stamp_ns("web.stamp");
	cr_expect(db < cache && cache < web, "stamps out of order: db %lld cache %lld web %lld",
	    db, cache, web);
	cr_expect_gt(vh_log_line_of("cache: stopped -> starting"), vh_log_line_of("db: starting -> running"),
	    "cache was spawned before db was up; log: %s", vh.log);
	cr_expect_gt(vh_log_line_of("web: stopped -> starting"), vh_log_line_of("cache: starting -> running"),
	    "web was spawned before cache was up; log: %s", vh.log);

	cr_assert_eq(vh_ctl(&r, "--json", "stop", "db", NULL), 0, "stop: %s", r.err);
	reply = json_loads(r.out, 0, NULL);
	cr_assert_not_null(reply, "reply: %s", r.out);
	also = json_object_get(reply, "also_stopped");
	cr_assert_eq(json_array_size(also), 2, "reply: %s", r.out);
	cr_expect_str_eq(json_string_value(json_array_get(also, 0)), "cache");
	cr_expect_str_eq(json_string_value(json_array_get(also, 1)), "web");
	json_decref(reply);
	cr_expect(vh_wait_state("web", "stopped", 1000));
	cr_expect(vh_wait_state("cache", "stopped", 1000));
}

Test(depends, dependent_of_a_fatal_service_stays_stopped_and_says_why)
{
	struct vh_result r;
	char buf[512];

	vh_setup("[service:db]\ncommand = %s exit:3\nstart_retries = 1\n\n"
	    "[service:web]\ncommand = %s stamp:%s\nrequires = db\n\n"
	    "[service:solo]\ncommand = %s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_testsvc(), vh_path("web.stamp"), vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_state("db", "fatal", 10000), "log: %s", vh.log);
	cr_assert(vh_wait_reason("web", "not started: requires db, which is fatal", 10000),
	    "web: %s", vh_reason("web", buf, sizeof(buf)));
	cr_expect_str_eq(vh_state("web", buf, sizeof(buf)), "stopped");
	cr_expect(vh_wait_state("solo", "running", 10000));
	cr_expect_eq(access(vh_path("web.stamp"), F_OK), -1, "web must never have run");
	/* asked directly, db is tried again, fails again, and web says why it did not start */
	cr_expect_neq(vh_ctl(&r, "start", "web", NULL), 0, "out: %s", r.out);
	cr_expect(strstr(r.err, "requires db, which is fatal") != NULL, "err: %s", r.err);
	cr_expect_eq(access(vh_path("web.stamp"), F_OK), -1, "web must never have run");
}

Test(depends, stop_stops_dependents_first_and_says_so)
{
	struct vh_result r;
	long long db, web, api;

	vh_setup("[service:db]\ncommand = %s onterm:%s\nstart_secs = 100ms\n\n"
	    "[service:web]\ncommand = %s onterm:%s\nrequires = db\nstart_secs = 100ms\n\n"
	    "[service:api]\ncommand = %s onterm:%s\nrequires = web\nstart_secs = 100ms\n\n"
	    "[service:other]\ncommand = %s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("db.term"), vh_testsvc(), vh_path("web.term"),
	    vh_testsvc(), vh_path("api.term"), vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_state("api", "running", 20000), "log: %s", vh.log);
	cr_assert(vh_wait_state("other", "running", 20000));
	cr_assert_eq(vh_ctl(&r, "stop", "db", NULL), 0, "stop: %s %s", r.out, r.err);
	cr_expect(strstr(r.out, "also stopping: web, api\n") != NULL, "out: %s", r.out);
	cr_expect(vh_wait_state("db", "stopped", 1000));
	cr_expect(vh_wait_state("web", "stopped", 1000));
	cr_expect(vh_wait_state("api", "stopped", 1000));
	cr_expect(vh_wait_state("other", "running", 1000), "other does not depend on db");
	db = stamp_ns("db.term");
	web = stamp_ns("web.term");
	api = stamp_ns("api.term");
	cr_assert(db > 0 && web > 0 && api > 0, "db %lld web %lld api %lld", db, web, api);
	cr_expect_leq(api, web, "api must end before web");
	cr_expect_leq(web, db, "web must end before db");
}

Test(depends, restart_restarts_what_requires_it_in_order)
{
	struct vh_result r;
	json_t *db0 = NULL, *web0 = NULL;
	long db_pid, web_pid, solo_pid;

	vh_setup("[service:db]\ncommand = %s\nstart_secs = 100ms\n\n"
	    "[service:web]\ncommand = %s\nrequires = db\nstart_secs = 100ms\n\n"
	    "[service:solo]\ncommand = %s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_testsvc(), vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_state("web", "running", 20000), "%s", vh_log_tail());
	cr_assert(vh_wait_state("solo", "running", 20000), "%s", vh_log_tail());
	db0 = vh_service("db");
	web0 = vh_service("web");
	db_pid = (long)json_integer_value(json_object_get(db0, "pid"));
	web_pid = (long)json_integer_value(json_object_get(web0, "pid"));
	json_decref(db0);
	json_decref(web0);
	solo_pid = (long)json_integer_value(json_object_get(db0 = vh_service("solo"), "pid"));
	json_decref(db0);
	cr_assert_eq(vh_ctl(&r, "restart", "db", NULL), 0, "restart: %s %s", r.out, r.err);
	cr_expect(strstr(r.out, "also restarting: web\n") != NULL, "out: %s", r.out);
	cr_assert(vh_wait_state("web", "running", 20000), "%s", vh_log_tail());
	cr_expect_neq((long)json_integer_value(json_object_get(db0 = vh_service("db"), "pid")),
	    db_pid, "db has a new process");
	json_decref(db0);
	cr_expect_neq((long)json_integer_value(json_object_get(web0 = vh_service("web"), "pid")),
	    web_pid, "web was restarted with db");
	json_decref(web0);
	cr_expect_eq((long)json_integer_value(json_object_get(db0 = vh_service("solo"), "pid")),
	    solo_pid, "solo does not depend on db");
	json_decref(db0);
	/* never did web run while db was down: it stopped first, started after */
	cr_expect_lt(vh_log_line_of("web: running -> stopping (requires db, which is restarting"),
	    vh_log_line_of("db: running -> stopping"), "%s", vh_log_tail());
	cr_expect_gt(vh_log_line_of("web: stopped -> starting"),
	    vh_log_line_of("db: starting -> running"), "%s", vh_log_tail());
}

/*
 * The same with readiness: db is ready only 300 ms after it starts, and a
 * restart of db must start web again only then, never in between; nor
 * may `restart web` alone start its dependent worker before web is ready.
 */
Test(depends, restart_starts_dependents_only_once_what_they_require_is_ready)
{
	struct vh_result r;

	vh_setup("[service:db]\ncommand = %s sleep:300 notify:READY=1\nready = notify\n"
	    "start_secs = 100ms\n\n"
	    "[service:web]\ncommand = %s sleep:300 notify:READY=1\nready = notify\n"
	    "requires = db\nstart_secs = 100ms\n\n"
	    "[service:worker]\ncommand = %s\nrequires = web\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_testsvc(), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("worker", "running", 20000), "%s", vh_log_tail());
	cr_assert_eq(vh_ctl(&r, "restart", "db", NULL), 0, "restart: %s %s", r.out, r.err);
	cr_assert(vh_wait_state("worker", "running", 20000), "%s", vh_log_tail());
	cr_assert(vh_wait_log_count("worker: stopped -> starting", 2, 20000), "%s", vh_log_tail());
	/* the second time each was ready: its second "ready:" line */
	cr_assert_geq(vh_log_line_of_nth("db: ", "(ready: READY=1", 2), 0, "%s", vh_log_tail());
	cr_expect_gt(vh_log_line_of_nth("web: ", "stopped -> starting", 2),
	    vh_log_line_of_nth("db: ", "(ready: READY=1", 2),
	    "web started again before db was ready:\n%s", vh_log_tail());
	cr_expect_gt(vh_log_line_of_nth("worker: ", "stopped -> starting", 2),
	    vh_log_line_of_nth("web: ", "(ready: READY=1", 2),
	    "worker started again before web was ready:\n%s", vh_log_tail());
	/* restart of web alone: worker goes and comes back after web is ready */
	cr_assert_eq(vh_ctl(&r, "restart", "web", NULL), 0, "restart: %s %s", r.out, r.err);
	cr_assert(vh_wait_log_count("worker: stopped -> starting", 3, 20000), "%s", vh_log_tail());
	cr_expect_lt(vh_log_line_of_nth("worker: ", "-> stopping", 2),
	    vh_log_line_of_nth("web: ", "-> stopping", 2),
	    "web stopped before worker:\n%s", vh_log_tail());
	cr_expect_gt(vh_log_line_of_nth("worker: ", "stopped -> starting", 3),
	    vh_log_line_of_nth("web: ", "(ready: READY=1", 3),
	    "worker started again before web was ready:\n%s", vh_log_tail());
}

Test(depends, backoff_does_not_restart_without_what_it_requires)
{
	char buf[512];

	vh_setup("[service:db]\ncommand = %s await:%s exit:1\nrestart = never\n"
	    "start_secs = 100ms\n\n"
	    "[service:web]\ncommand = %s stamp:%s await:%s exit:1\nrequires = db\n"
	    "start_secs = 100ms\nrestart_delay = 50ms\n",
	    vh_testsvc(), vh_path("db.die"), vh_testsvc(), vh_path("web.stamp"),
	    vh_path("web.die"));
	cr_assert(vh_start());
	cr_assert(vh_wait_state("web", "running", 20000), "%s", vh_log_tail());
	fclose(fopen(vh_path("db.die"), "w"));
	cr_assert(vh_wait_state("db", "exited", 10000), "%s", vh_log_tail());
	fclose(fopen(vh_path("web.die"), "w"));
	cr_assert(vh_wait_reason("web", "not restarted: requires db, which is exited", 10000),
	    "web: %s\n%s", vh_reason("web", buf, sizeof(buf)), vh_log_tail());
	cr_expect_str_eq(vh_state("web", buf, sizeof(buf)), "stopped");
	cr_expect(!vh_log_contains("web: backoff -> starting"), "web was restarted without db:\n%s",
	    vh_log_tail());
}

Test(depends, shutdown_stops_in_reverse_dependency_order)
{
	long long db, cache, web;

	vh_setup("[service:db]\ncommand = %s onterm:%s\nstart_secs = 100ms\n\n"
	    "[service:cache]\ncommand = %s onterm:%s\nstart_secs = 100ms\n\n"
	    "[service:web]\ncommand = %s onterm:%s\nrequires = db\nafter = cache\n"
	    "start_secs = 100ms\n",
	    vh_testsvc(), vh_path("db.term"), vh_testsvc(), vh_path("cache.term"),
	    vh_testsvc(), vh_path("web.term"));
	cr_assert(vh_start());
	cr_assert(vh_wait_state("web", "running", 20000), "log: %s", vh.log);
	cr_assert(vh_signal_and_wait(SIGTERM, 20000), "vigild did not exit; log: %s", vh.log);
	db = stamp_ns("db.term");
	cache = stamp_ns("cache.term");
	web = stamp_ns("web.term");
	cr_assert(db > 0 && cache > 0 && web > 0, "db %lld cache %lld web %lld",
	    db, cache, web);
	cr_expect_leq(web, db, "web (requires db) must end before db");
	cr_expect_leq(web, cache, "web (after cache) must end before cache");
}
