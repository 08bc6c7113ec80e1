/*
 * supervisor.c: the set of services, and the shutdown that SIGTERM or
 * `shutdown` asks for: stop in reverse dependency order, leave the loop
 * when all are settled. A reload swaps the whole set at once through
 * supervisor_install. The order of starts and stops is deps.c's; this file
 * hears of changes as a listener of world.c and has deps.c look again from
 * the loop.
 */
#include "config.h"
#include "core.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/un.h>

#include "deps.h"
#include "duration.h"
#include "outer.h"
#include "output/output.h"
#include "world.h"

static ev_idle	  deps_idle;	/* re-weighs waiting starts and stops from the loop */
static char	  essential_why[SERVICE_NAME_MAX + 64];	/* set: shut down from the loop */

/*
 * An essential service ended for good (exited, or fatal: never a stop
 * someone asked for): vigild's exit code becomes its own, 128 + N for
 * signal N, 127 when its last attempt never reached execve, as a shell
 * would say; the shutdown itself starts from the loop, not mid-transition.
 */
static void
essential_ended(const struct service *s)
{
	const struct exit_info *e = &s->last_exit;
	int code = 127;

	if (e->valid)
		code = e->signal != 0 ? 128 + e->signal : e->code >= 0 ? e->code : 1;
	vigild.exit_code = code;
	vigild.exit_code_set = true;
	/* a warning unless it succeeded: vigild -- COMMAND logs only warnings */
	if (code == 0)
		log_notice("%s: essential and %s (%s): stopping every service, vigild will "
		    "exit 0", s->conf->name, service_state_name(s->state), s->reason ? s->reason : "");
	else
		log_warnx("%s: essential and %s (%s): stopping every service, vigild will "
		    "exit %d", s->conf->name, service_state_name(s->state),
		    s->reason ? s->reason : "", code);
	snprintf(essential_why, sizeof(essential_why), "essential service %s ended",
	    s->conf->name);
}

static bool
all_settled(void)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (!service_is_settled(vigild.services[i]))
			return false;
	return retire_all_settled();
}

/* A change anywhere may let a waiting start or stop go, or end a shutdown. */
static void
supervisor_changed_cb(void *arg, struct service *s, enum service_state from)
{
	(void)arg;
	/* KILL to what a stopped main left behind is a clean stop; a timed-out one is not */
	if (vigild.shutting_down && from == SERVICE_STOPPING && s->forced)
		vigild.killed_at_shutdown = true;
	if (!vigild.shutting_down && s->conf->essential && essential_why[0] == '\0' &&
	    (s->state == SERVICE_EXITED || s->state == SERVICE_FATAL))
		essential_ended(s);
	outer_services_changed();
	/* not from inside a transition: the service that changed is mid-way */
	if (!ev_is_active(&deps_idle))
		ev_idle_start(vigild.loop, &deps_idle);
	if (vigild.shutting_down && all_settled()) {
		log_notice("every service is stopped, exiting");
		ev_break(vigild.loop, EVBREAK_ALL);
	}
}

static struct service_listener supervisor_listener = { supervisor_changed_cb, NULL, NULL, NULL };

/*
 * Five descriptors per service (two pipes, a log file) pass the usual soft
 * limit of 1024 at about two hundred services: take what the hard limit
 * allows, and give services the limit vigild was started with.
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &vigild.nofile_orig) == -1 ||
	    vigild.nofile_orig.rlim_cur >= vigild.nofile_orig.rlim_max)
		return;
	rl = vigild.nofile_orig;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("raising the open files limit to %llu", (unsigned long long)rl.rlim_max);
		return;
	}
	vigild.nofile_raised = true;
}

static void
deps_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(loop, w);
	if (essential_why[0] != '\0' && !vigild.shutting_down) {
		supervisor_shutdown(essential_why);
		return;
	}
	deps_evaluate();
}

int
supervisor_init(struct config *conf)
{
	struct dependents *deps;

	raise_nofile();
	vigild.conf = conf;
	ev_idle_init(&deps_idle, deps_idle_cb);
	deps_init(retire_find_name);
	world_init(deps_hold_backoff);
	world_listen(&supervisor_listener);
	if ((deps = deps_table_new(conf)) == NULL)
		return -1;
	deps_install(deps);
	vigild.services = calloc(conf->nservices ? conf->nservices : 1,
	    sizeof(*vigild.services));
	if (vigild.services == NULL)
		return -1;
	for (size_t i = 0; i < conf->nservices; i++) {
		struct service *s = world_service_new(conf->services[i], i);
		if (s == NULL)
			return -1;
		vigild.services[vigild.nservices++] = s;
		if ((s->output = output_new(s->conf, s)) == NULL)
			log_warn("%s: setting up output capture", s->conf->name);
	}
	return 0;
}

/*
 * A reload's new set: conf, svcs (svcs[i] runs conf->services[i] and has
 * index i) and deps built from conf. The old array and table are freed;
 * the old config and the services are the caller's business.
 */
void
supervisor_install(struct config *conf, struct service **svcs, struct dependents *deps)
{
	deps_table_free(deps_install(deps), vigild.nservices);
	free(vigild.services);
	vigild.services = svcs;
	vigild.nservices = conf->nservices;
	vigild.conf = conf;
}

/* Every autostart service at once, except those waiting for others. */
void
supervisor_start_all(void)
{
	deps_start_all();
}

static ev_timer	  shutdown_timer;	/* [vigil] shutdown_timeout */
static char	  hurry_why[64];

static void
hurry(struct service *s)
{
	service_hurry(s, hurry_why);
}

/* KILL to everything that still runs, services and those a reload removed. */
static void
hurry_all(void)
{
	log_warnx("%s: sending KILL to what is still running", hurry_why);
	vigild.killed_at_shutdown = true;
	for (size_t i = 0; i < vigild.nservices; i++)
		hurry(vigild.services[i]);
	retire_each(hurry);
}

/* The whole shutdown took shutdown_timeout. */
static void
shutdown_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	char limit[32];

	(void)loop, (void)w, (void)revents;
	duration_format(vigild.conf->shutdown_timeout_ms, limit, sizeof(limit));
	snprintf(hurry_why, sizeof(hurry_why), "shutdown_timeout (%s) passed", limit);
	hurry_all();
}

void
supervisor_shutdown_now(const char *why)
{
	supervisor_shutdown(why);
	snprintf(hurry_why, sizeof(hurry_why), "%s: a fast shutdown", why);
	hurry_all();
	if (all_settled())
		ev_break(vigild.loop, EVBREAK_ALL);
}

void
supervisor_shutdown(const char *why)
{
	if (!vigild.shutting_down) {
		log_notice("shutting down (%s): stopping %zu services", why,
		    vigild.nservices);
		outer_stopping();
		if (vigild.conf->shutdown_timeout_ms > 0) {
			/* counted from now, not from when this loop turn began */
			ev_now_update(vigild.loop);
			ev_timer_init(&shutdown_timer, shutdown_timeout_cb,
			    vigild.conf->shutdown_timeout_ms / 1000.0, 0);
			ev_timer_start(vigild.loop, &shutdown_timer);
		}
	}
	vigild.shutting_down = true;
	deps_stop_all();
	if (all_settled())
		ev_break(vigild.loop, EVBREAK_ALL);
}

/*
 * The services config_instance_add just put at the end of the config
 * (from index first) join the set; the table of dependents is built anew,
 * as theirs may name services already there.
 */
static int
join_set(size_t first)
{
	struct config *conf = vigild.conf;
	size_t n = conf->nservices;
	struct service **svcs;
	struct dependents *deps;

	if ((svcs = reallocarray(vigild.services, n, sizeof(*svcs))) == NULL)
		return -1;
	vigild.services = svcs;
	for (size_t i = first; i < n; i++)
		if ((svcs[i] = world_service_new(conf->services[i], i)) == NULL) {
			while (i-- > first)
				world_service_free(svcs[i]);
			return -1;
		}
	if ((deps = deps_table_new(conf)) == NULL) {
		for (size_t i = first; i < n; i++)
			world_service_free(svcs[i]);
		return -1;
	}
	deps_table_free(deps_install(deps), first);
	vigild.nservices = n;
	for (size_t i = first; i < n; i++) {
		struct service *s = svcs[i];

		log_notice("%s: made from template %s%s", s->conf->name,
		    s->conf->template_name, s->conf->on_demand ? " on request" : "");
		if ((s->output = output_new(s->conf, s)) == NULL)
			log_warn("%s: setting up output capture", s->conf->name);
	}
	return 0;
}

int
supervisor_instantiate(const char *name, bool on_demand, struct config_errors *errs,
    struct service **out)
{
	size_t first = vigild.conf->nservices, added;
	int rc;

	*out = NULL;
	if ((rc = config_instance_add(vigild.conf, name, on_demand, errs, &added)) != 0)
		return rc;
	if (join_set(first) == -1) {
		config_instance_undo(vigild.conf, added);
		return -3;
	}
	*out = vigild.services[first];
	return 0;
}

static bool
conf_has(const struct config *conf, const char *name)
{
	for (size_t i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i]->name, name) == 0)
			return true;
	return false;
}

/*
 * Instances made on request are in no file: a config read anew lacks them.
 * Each that is still wanted (its goal is up: started and not stopped since,
 * even if it ended on its own) is made in conf from conf's template, so a
 * reload plans it like any service (unchanged, or restarted when its
 * template changed); a stopped one, or one whose template is gone, is not,
 * and the reload removes it. all: every one, wanted or not (daemon-reexec,
 * which must keep the set as it is).
 */
void
supervisor_carry_instances(struct config *conf, bool all, struct config_errors *errs)
{
	for (size_t i = 0; i < vigild.nservices; i++) {
		const struct service *s = vigild.services[i];
		size_t added;
		int rc;

		if (!s->conf->on_demand || (!all && s->goal == GOAL_DOWN) ||
		    conf_has(conf, s->conf->name))
			continue;
		rc = config_instance_add(conf, s->conf->name, true, errs, &added);
		if (rc == -2)
			log_notice("%s: its template %s is no longer configured",
			    s->conf->name, s->conf->template_name);
	}
}

struct service *
supervisor_find(const char *name)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (strcmp(vigild.services[i]->conf->name, name) == 0)
			return vigild.services[i];
	return NULL;
}

/* The service whose process group this is, while it has a process. */
struct service *
supervisor_find_pgid(pid_t pgid)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (vigild.services[i]->pgid == pgid && vigild.services[i]->pid > 0)
			return vigild.services[i];
	return NULL;
}

struct service *
supervisor_find_pid(pid_t pid)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (vigild.services[i]->pid == pid)
			return vigild.services[i];
	return retire_find_pid(pid);	/* removed by a reload, still stopping */
}

void
supervisor_free(void)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		world_service_free(vigild.services[i]);
	retire_free_all();
	deps_table_free(deps_install(NULL), vigild.nservices);
	if (vigild.loop != NULL) {
		ev_idle_stop(vigild.loop, &deps_idle);
		/* a later shutdown inits it again: never while libev holds it */
		ev_timer_stop(vigild.loop, &shutdown_timer);
	}
	essential_why[0] = '\0';	/* a set made anew has had no essential end */
	world_free();
	free(vigild.services);
	vigild.services = NULL;
	vigild.nservices = 0;
}
