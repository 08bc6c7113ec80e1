/*
 * test_deps.c: dependency scheduling (daemon/core/deps.c) with the real
 * state machine under fake processes, signals, timers and clock. Every
 * spawn and signal is written to a trace; a test makes processes die and
 * become ready by hand, lets deps.c weigh the jobs again as the loop
 * would, and reads the order of what happened from the trace.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vigild.h"
#include "core/deps.h"

#define NSVC	4

static struct service_conf confs[NSVC];
static struct service_conf *conf_ptrs[NSVC];
static struct config config;
static struct service *svcs[NSVC];
static size_t nsvc;
static size_t requires[NSVC][NSVC], after[NSVC][NSVC];

static char trace[4096];	/* "spawn db; TERM web; ..." */
static int64_t fake_now;
static int next_pid;
static bool dirty;		/* a change: the loop would run deps_evaluate */
static bool spawn_fails;

static void
note(const char *fmt, const char *name)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, fmt, name);
}

static struct service *
by_pid(pid_t pid)
{
	for (size_t i = 0; i < nsvc; i++)
		if (svcs[i]->pid == pid || svcs[i]->pgid == pid)
			return svcs[i];
	return NULL;
}

static int
fake_spawn(struct service *s, char *err, size_t len)
{
	if (spawn_fails) {
		snprintf(err, len, "exec failed: /nope: No such file or directory");
		return -1;
	}
	s->pid = next_pid++;
	note("spawn %s; ", s->conf->name);
	return 0;
}

static int
fake_kill(pid_t pid, int sig)
{
	struct service *s = by_pid(pid < 0 ? -pid : pid);

	if (s != NULL && sig != 0)
		note(sig == SIGKILL ? "KILL %s; " : "TERM %s; ", s->conf->name);
	return 0;
}

static void fake_arm(struct service *s, int64_t ms) { (void)s; (void)ms; }
static void fake_disarm(struct service *s) { (void)s; }
static int64_t fake_clock(void) { return fake_now; }
static void fake_changed(struct service *s, enum service_state from) { (void)s; (void)from; dirty = true; }

static const struct service_ops fake_ops = {
	.spawn = fake_spawn, .kill = fake_kill, .timer_arm = fake_arm,
	.timer_disarm = fake_disarm, .now_ms = fake_clock, .changed = fake_changed,
};

/* What the loop does after changes: deps.c looks again until nothing moves. */
static void
settle(void)
{
	for (int i = 0; i < 100 && dirty; i++) {
		dirty = false;
		deps_evaluate();
	}
}

/* A service: name, ready = notify or not, autostart. */
static struct service *
add(const char *name, bool notify, bool autostart)
{
	static char names[NSVC][16];
	struct service_conf *c = &confs[nsvc];

	memset(c, 0, sizeof(*c));
	snprintf(names[nsvc], sizeof(names[nsvc]), "%s", name);
	c->name = names[nsvc];
	c->autostart = autostart;
	c->restart = RESTART_ALWAYS;
	c->restart_delay_ms = 100;
	c->restart_delay_max_ms = 1000;
	c->start_secs_ms = 100;
	c->stop_signal = SIGTERM;
	c->stop_timeout_ms = 1000;
	c->ready = notify ? READY_NOTIFY : READY_NONE;
	c->requires = requires[nsvc];
	c->after = after[nsvc];
	conf_ptrs[nsvc] = c;
	svcs[nsvc] = service_new(c, &fake_ops);
	svcs[nsvc]->index = nsvc;
	return svcs[nsvc++];
}

static void
needs(struct service *s, struct service *r)
{
	struct service_conf *c = &confs[s->index];

	requires[s->index][c->nrequires++] = r->index;
}

static void
comes_after(struct service *s, struct service *r)
{
	struct service_conf *c = &confs[s->index];

	after[s->index][c->nafter++] = r->index;
}

/* The set is complete: the table of dependents, as supervisor.c installs it. */
static void
install(void)
{
	config.services = conf_ptrs;
	config.nservices = nsvc;
	vigild.services = svcs;
	vigild.nservices = nsvc;
	cr_assert_null(deps_install(deps_table_new(&config)));
}

/* start_secs passed: running, and ready if it has no readiness protocol. */
static void
up(struct service *s)
{
	fake_now += s->conf->start_secs_ms;
	service_timer_fired(s);
	settle();
}

static void
ready(struct service *s)
{
	service_ready(s, "READY=1");
	settle();
}

/* Its main process (and all of it) ended, killed by TERM. */
static void
dies(struct service *s)
{
	fake_now += 5;
	service_process_ended(s, SIGTERM, NULL);
	settle();
}

/* Where in the trace what happened first; a failed expectation if it did not. */
static long
at(const char *what)
{
	const char *p = strstr(trace, what);

	cr_assert_not_null(p, "never happened: \"%s\"; trace: %s", what, trace);
	return p - trace;
}

static void
setup(void)
{
	nsvc = 0;
	trace[0] = '\0';
	fake_now = 1000000;
	next_pid = 100;
	dirty = false;
	spawn_fails = false;
	memset(requires, 0, sizeof(requires));
	memset(after, 0, sizeof(after));
	log_init("test", LOG_LEVEL_ERROR);
	deps_init(NULL);
}

static void
teardown(void)
{
	deps_table_free(deps_install(NULL), nsvc);
	for (size_t i = 0; i < nsvc; i++)
		service_free(svcs[i]);
	vigild.services = NULL;
	vigild.nservices = 0;
}

TestSuite(deps, .init = setup, .fini = teardown);

Test(deps, a_dependent_starts_once_what_it_requires_is_ready_others_at_once)
{
	struct service *db = add("db", true, true), *web = add("web", false, true);
	struct service *solo = add("solo", false, true);

	needs(web, db);
	install();
	deps_start_all();
	settle();
	cr_expect_str_eq(trace, "spawn db; spawn solo; ");
	cr_expect_eq(web->job, JOB_START);
	cr_expect(strstr(web->reason, "waiting for db") != NULL, "reason: %s", web->reason);
	up(db);		/* running, not ready: READY=1 has not come */
	cr_expect(strstr(trace, "spawn web") == NULL, "web before db was ready: %s", trace);
	ready(db);
	cr_expect_str_eq(trace, "spawn db; spawn solo; spawn web; ");
	cr_expect_eq(web->job, JOB_NONE);
	cr_expect_eq(solo->state, SERVICE_STARTING);
}

Test(deps, restart_stops_dependents_first_and_starts_them_once_it_is_ready)
{
	struct service *db = add("db", true, true), *web = add("web", true, true);
	struct service *worker = add("worker", false, true);

	needs(web, db);
	needs(worker, web);
	install();
	deps_start_all();
	settle();
	up(db), ready(db), up(web), ready(web), up(worker);
	cr_assert(service_is_ready(worker), "trace: %s", trace);
	trace[0] = '\0';

	deps_restart(db);
	cr_expect_str_eq(trace, "TERM worker; ", "only the last dependent goes first");
	dies(worker);
	cr_expect_str_eq(trace, "TERM worker; TERM web; ");
	dies(web);
	cr_expect_str_eq(trace, "TERM worker; TERM web; TERM db; ");
	dies(db);
	cr_expect_str_eq(trace, "TERM worker; TERM web; TERM db; spawn db; ");
	up(db);
	cr_expect(strstr(trace, "spawn web") == NULL, "web before db was ready: %s", trace);
	ready(db);
	cr_expect_str_eq(trace, "TERM worker; TERM web; TERM db; spawn db; spawn web; ");
	up(web);
	cr_expect(strstr(trace, "spawn worker") == NULL, "worker before web was ready: %s", trace);
	ready(web);
	cr_expect(at("spawn worker") > at("spawn web"));
	cr_expect_eq(db->job, JOB_NONE);
	cr_expect_eq(web->job, JOB_NONE);
	cr_expect_eq(worker->job, JOB_NONE);
}

Test(deps, restart_of_the_middle_takes_what_requires_it_and_leaves_what_it_requires)
{
	struct service *db = add("db", false, true), *web = add("web", false, true);
	struct service *worker = add("worker", false, true);

	needs(web, db);
	needs(worker, web);
	install();
	deps_start_all();
	settle();
	up(db), up(web), up(worker);
	trace[0] = '\0';
	deps_restart(web);
	dies(worker);
	dies(web);
	up(web);
	cr_expect_str_eq(trace, "TERM worker; TERM web; spawn web; spawn worker; ");
	cr_expect(strstr(trace, "db") == NULL, "db was touched: %s", trace);
}

Test(deps, stop_stops_dependents_first_and_says_why)
{
	struct service *db = add("db", false, true), *web = add("web", false, true);

	needs(web, db);
	install();
	deps_start_all();
	settle();
	up(db), up(web);
	trace[0] = '\0';
	deps_stop(db);
	cr_expect_str_eq(trace, "TERM web; ");
	cr_expect_eq(db->job, JOB_STOP, "db waits for web to be gone");
	dies(web);
	cr_expect_str_eq(trace, "TERM web; TERM db; ");
	dies(db);
	cr_expect_eq(db->state, SERVICE_STOPPED);
	cr_expect_eq(web->state, SERVICE_STOPPED);
	/* nothing comes back by itself */
	cr_expect_str_eq(trace, "TERM web; TERM db; ");
}

Test(deps, a_requirement_that_will_not_come_leaves_the_dependent_stopped)
{
	struct service *db = add("db", false, true), *web = add("web", false, true);

	needs(web, db);
	confs[db->index].restart = RESTART_NEVER;
	install();
	spawn_fails = true;	/* db's program is missing: exited at once */
	deps_start_all();
	settle();
	cr_expect_eq(db->state, SERVICE_EXITED);
	cr_expect_eq(web->state, SERVICE_STOPPED);
	cr_expect_eq(web->job, JOB_NONE, "it gave up waiting");
	cr_expect(strstr(web->reason, "not started: requires db, which is exited") != NULL,
	    "reason: %s", web->reason);
}

Test(deps, after_only_orders_and_does_not_wait_for_what_will_not_start)
{
	struct service *db = add("db", false, false), *web = add("web", false, true);
	struct service *cache = add("cache", true, true), *api = add("api", false, true);

	comes_after(web, db);	/* db has autostart off: web does not wait */
	comes_after(api, cache);	/* cache starts: api waits until it is ready */
	install();
	deps_start_all();
	settle();
	cr_expect_str_eq(trace, "spawn web; spawn cache; ");
	up(cache);
	ready(cache);
	cr_expect_str_eq(trace, "spawn web; spawn cache; spawn api; ");
	/* after is order only: stopping cache stops nothing that comes after it */
	up(api);
	trace[0] = '\0';
	deps_stop(cache);
	cr_expect_str_eq(trace, "TERM cache; ");
	dies(cache);
	cr_expect_eq(api->state, SERVICE_RUNNING);
	/* but at shutdown what comes after goes first */
	trace[0] = '\0';
	deps_start(cache);
	up(cache), ready(cache);
	trace[0] = '\0';
	deps_stop_all();
	cr_expect(strstr(trace, "TERM api; ") != NULL && strstr(trace, "TERM cache") == NULL,
	    "trace: %s", trace);
	dies(api);
	cr_expect(at("TERM cache") > at("TERM api"));
}

/* Its main process exited with code on its own. */
static void
crashes(struct service *s, int code)
{
	fake_now += 5;
	service_process_ended(s, code << 8, NULL);
	settle();
}

Test(deps, a_backoff_restart_waits_for_what_it_requires)
{
	struct service *db = add("db", true, true), *web = add("web", false, true);

	needs(web, db);
	install();
	deps_start_all();
	settle();
	up(db), ready(db), up(web);
	crashes(web, 1);
	crashes(db, 1);
	cr_assert_eq(web->state, SERVICE_BACKOFF);
	cr_assert_eq(db->state, SERVICE_BACKOFF);
	trace[0] = '\0';
	/* web's back-off timer comes due first: world.c asks deps.c before the state machine */
	cr_expect(deps_hold_backoff(web), "web restarted while db is down");
	cr_expect_eq(web->job, JOB_START);
	cr_expect(strstr(web->reason, "restart waits for db") != NULL, "reason: %s", web->reason);
	service_timer_fired(db);	/* db's back-off is over */
	settle();
	up(db);
	cr_expect_str_eq(trace, "spawn db; ", "web before db was ready");
	ready(db);
	cr_expect_str_eq(trace, "spawn db; spawn web; ");
}

Test(deps, a_backoff_restart_gives_up_on_a_requirement_that_will_not_come)
{
	struct service *db = add("db", false, true), *web = add("web", false, true);

	needs(web, db);
	confs[db->index].restart = RESTART_NEVER;
	install();
	deps_start_all();
	settle();
	up(db), up(web);
	crashes(web, 1);
	crashes(db, 1);
	cr_assert_eq(db->state, SERVICE_EXITED);
	cr_expect(deps_hold_backoff(web));
	cr_expect_eq(web->state, SERVICE_STOPPED);
	cr_expect(strstr(web->reason, "not restarted: requires db, which is exited") != NULL,
	    "reason: %s", web->reason);
}

Test(deps, shutdown_stops_dependents_before_what_they_require)
{
	struct service *db = add("db", false, true), *web = add("web", false, true);
	struct service *api = add("api", false, true);

	needs(web, db);
	needs(api, web);
	install();
	deps_start_all();
	settle();
	up(db), up(web), up(api);
	trace[0] = '\0';
	deps_stop_all();
	cr_expect_str_eq(trace, "TERM api; ");
	dies(api);
	dies(web);
	dies(db);
	cr_expect_str_eq(trace, "TERM api; TERM web; TERM db; ");
	for (size_t i = 0; i < nsvc; i++)
		cr_expect(service_is_settled(svcs[i]), "%s: %s", svcs[i]->conf->name,
		    service_state_name(svcs[i]->state));
}
