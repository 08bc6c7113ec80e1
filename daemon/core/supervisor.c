/*
 * supervisor.c: the set of services, and the order that requires and after
 * impose on their starts and stops; the shutdown that SIGTERM or
 * `shutdown` asks for: stop in reverse dependency order, leave the loop
 * when all are settled. A reload swaps the whole set at once through
 * supervisor_install. It hears of changes as a listener of world.c.
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

#include "output/output.h"
#include "world.h"

/* Services whose requires or after name one service, by its index. */
struct dependents {
	size_t	 *requiring;	/* requires it: stopped when it is */
	size_t	  nrequiring;
	size_t	 *all;		/* requires it or is after it: stop before it does */
	size_t	  nall;
};

static struct dependents *dependents;
static ev_idle	  deps_idle;	/* re-weighs waiting starts and stops from the loop */

static struct service *start_blocker(const struct service *s, bool *blocked);

/*
 * A restart after back-off is a start like any other: not while what the
 * service requires is down. It waits for it, or, if that will not come
 * back, stops where it is and says why.
 */
static bool
backoff_held(struct service *s)
{
	struct service *r;
	bool blocked;

	if (s->state != SERVICE_BACKOFF || (r = start_blocker(s, &blocked)) == NULL)
		return false;
	if (blocked) {
		service_stop(s);
		service_note(s, "not restarted: requires %s, which is %s", r->conf->name,
		    service_state_name(r->state));
	} else {
		s->start_pending = true;
		service_note(s, "restart waits for %s", r->conf->name);
	}
	return true;
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
	(void)arg, (void)s, (void)from;
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

static int
dependents_add(size_t **v, size_t *n, size_t idx)
{
	size_t *nv = reallocarray(*v, *n + 1, sizeof(**v));

	if (nv == NULL)
		return -1;
	nv[(*n)++] = idx;
	*v = nv;
	return 0;
}

void
supervisor_deps_free(struct dependents *d, size_t n)
{
	for (size_t i = 0; d != NULL && i < n; i++) {
		free(d[i].requiring);
		free(d[i].all);
	}
	free(d);
}

/* The table of conf, indexed like conf->services; NULL when out of memory. */
struct dependents *
supervisor_deps_new(const struct config *conf)
{
	struct dependents *deps = calloc(conf->nservices + 1, sizeof(*deps));

	for (size_t i = 0; deps != NULL && i < conf->nservices; i++) {
		const struct service_conf *c = conf->services[i];
		struct dependents *d;

		for (size_t k = 0; k < c->nrequires; k++) {
			d = &deps[c->requires[k]];
			if (dependents_add(&d->requiring, &d->nrequiring, i) == -1 ||
			    dependents_add(&d->all, &d->nall, i) == -1)
				goto fail;
		}
		for (size_t k = 0; k < c->nafter; k++) {
			d = &deps[c->after[k]];
			if (dependents_add(&d->all, &d->nall, i) == -1)
				goto fail;
		}
	}
	return deps;
fail:
	supervisor_deps_free(deps, conf->nservices);
	return NULL;
}

/*
 * Ready and staying so: not about to be stopped or restarted. A dependent
 * of a service being restarted waits for the new process to be ready, not
 * for the old one that is about to go.
 */
static bool
ready_to_stay(const struct service *r)
{
	return service_is_ready(r) && !r->stop_pending && !r->restart_pending;
}

/*
 * The service s waits for before it may start, or NULL. *blocked: that one
 * will not come (a requirement that is fatal, exited or stopped for good).
 * An `after` service that is not going to start does not hold s back.
 */
static struct service *
start_blocker(const struct service *s, bool *blocked)
{
	const struct service_conf *c = s->conf;
	struct service *r;

	*blocked = false;
	for (size_t k = 0; k < c->nrequires; k++) {
		r = vigild.services[c->requires[k]];
		if (ready_to_stay(r))
			continue;
		*blocked = !r->start_pending && (r->state == SERVICE_STOPPED ||
		    r->state == SERVICE_EXITED || r->state == SERVICE_FATAL);
		return r;
	}
	for (size_t k = 0; k < c->nafter; k++) {
		r = vigild.services[c->after[k]];
		if (ready_to_stay(r) || (!r->start_pending && service_is_settled(r)))
			continue;
		return r;
	}
	/* a reload removed and added it again: one of the two at a time */
	return retire_find_name(c->name);
}

/* Whether s, to be stopped, still has a dependent to see stopped first. */
static bool
stop_blocked(const struct service *s)
{
	const struct dependents *d = &dependents[s->index];

	for (size_t k = 0; k < d->nall; k++) {
		const struct service *o = vigild.services[d->all[k]];
		if (o->stop_pending || o->state == SERVICE_STOPPING)
			return true;
	}
	return false;
}

static void mark_start(struct service *s);

static void
deps_evaluate(void)
{
	struct service *s, *r;
	bool blocked;

	for (size_t i = 0; i < vigild.nservices; i++) {
		s = vigild.services[i];
		if (s->stop_pending && !stop_blocked(s)) {
			s->stop_pending = false;
			service_stop(s);
			if (s->restart_pending) {
				s->restart_pending = false;
				mark_start(s);	/* once stopped, and once what it requires is ready */
			}
		}
	}
	for (size_t i = 0; i < vigild.nservices; i++) {
		s = vigild.services[i];
		if (!s->start_pending)
			continue;
		if ((r = start_blocker(s, &blocked)) == NULL) {
			s->start_pending = false;
			service_start(s);
		} else if (blocked) {
			s->start_pending = false;
			service_note(s, "not started: requires %s, which is %s",
			    r->conf->name, service_state_name(r->state));
		} else if (strcmp(r->conf->name, s->conf->name) != 0) {
			service_note(s, "waiting for %s", r->conf->name);
		} else {
			service_note(s, "waiting for the removed %s to stop", r->conf->name);
		}
	}
}

static void
deps_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(loop, w);
	deps_evaluate();
}

int
supervisor_init(struct config *conf)
{
	raise_nofile();
	vigild.conf = conf;
	ev_idle_init(&deps_idle, deps_idle_cb);
	world_init(backoff_held);
	world_listen(&supervisor_listener);
	if ((dependents = supervisor_deps_new(conf)) == NULL)
		return -1;
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
	supervisor_deps_free(dependents, vigild.nservices);
	free(vigild.services);
	dependents = deps;
	vigild.services = svcs;
	vigild.nservices = conf->nservices;
	vigild.conf = conf;
}

/* Weigh waiting starts and stops now (after a reload changed the set). */
void
supervisor_evaluate(void)
{
	deps_evaluate();
}

/* Every autostart service at once, except those waiting for others. */
void
supervisor_start_all(void)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (vigild.services[i]->conf->autostart)
			vigild.services[i]->start_pending = true;
	deps_evaluate();
}

static void
mark_start(struct service *s)
{
	const struct service_conf *c = s->conf;

	if (s->start_pending || s->state == SERVICE_STARTING || service_is_ready(s))
		return;
	s->start_pending = true;
	s->stop_pending = false;
	for (size_t k = 0; k < c->nrequires; k++)
		mark_start(vigild.services[c->requires[k]]);
}

void
supervisor_start(struct service *s)
{
	mark_start(s);
	deps_evaluate();
}

static void
mark_stop(struct service *s, const char *why)
{
	const struct dependents *d = &dependents[s->index];

	if (s->start_pending) {
		s->start_pending = false;
		service_note(s, "not started: %s", why);
	}
	if (s->stop_pending || service_is_settled(s))
		return;
	s->stop_pending = true;
	for (size_t k = 0; k < d->nrequiring; k++)
		mark_stop(vigild.services[d->requiring[k]], why);
}

/*
 * Like systemd's Requires=: what requires s is restarted with it. Each is
 * stopped before what it requires (as a stop would), and started again
 * after it (as a start would), so none runs while s is down.
 */
void
supervisor_restart(struct service *s)
{
	char why[SERVICE_NAME_MAX + 32];
	struct service **deps;
	bool *waiting;
	size_t n = 0;

	if (service_is_settled(s) && !s->stop_pending) {
		supervisor_start(s);
		return;
	}
	if ((deps = supervisor_dependents(s, &n)) == NULL ||
	    (waiting = calloc(n + 1, sizeof(*waiting))) == NULL) {
		free(deps);
		log_warnx("%s: restart: out of memory", s->conf->name);
		return;
	}
	/* those only waiting to start keep waiting, for the restarted s */
	for (size_t k = 0; k < n; k++)
		waiting[k] = service_is_settled(deps[k]) && deps[k]->start_pending;
	snprintf(why, sizeof(why), "requires %s, which is restarting", s->conf->name);
	for (size_t k = 0; k < dependents[s->index].nrequiring; k++)
		mark_stop(vigild.services[dependents[s->index].requiring[k]], why);
	mark_stop(s, "restart requested");
	for (size_t k = 0; k < n; k++) {
		if (waiting[k])
			deps[k]->start_pending = true;
		else if (deps[k]->stop_pending)
			deps[k]->restart_pending = true;
	}
	free(waiting);
	free(deps);
	s->restart_pending = true;
	s->start_after_stop = false;
	deps_evaluate();
}

void
supervisor_stop(struct service *s)
{
	char why[SERVICE_NAME_MAX + 32];

	snprintf(why, sizeof(why), "requires %s, which was stopped", s->conf->name);
	for (size_t k = 0; k < dependents[s->index].nrequiring; k++)
		mark_stop(vigild.services[dependents[s->index].requiring[k]], why);
	mark_stop(s, "stop requested");
	/* a stopping service with a pending restart: the stop wins */
	s->start_after_stop = false;
	s->restart_pending = false;
	deps_evaluate();
}

static void
collect_dependents(const struct service *s, bool *seen, struct service **out, size_t *n)
{
	const struct dependents *d = &dependents[s->index];

	for (size_t k = 0; k < d->nrequiring; k++) {
		struct service *o = vigild.services[d->requiring[k]];
		if (seen[o->index])
			continue;
		seen[o->index] = true;
		if (!service_is_settled(o) || o->start_pending)
			out[(*n)++] = o;
		collect_dependents(o, seen, out, n);
	}
}

struct service **
supervisor_dependents(const struct service *s, size_t *n)
{
	bool *seen = calloc(vigild.nservices + 1, sizeof(*seen));
	struct service **out = calloc(vigild.nservices + 1, sizeof(*out));

	*n = 0;
	if (seen == NULL || out == NULL) {
		free(seen);
		free(out);
		return NULL;
	}
	seen[s->index] = true;
	collect_dependents(s, seen, out, n);
	free(seen);
	return out;
}

void
supervisor_shutdown(const char *why)
{
	if (!vigild.shutting_down)
		log_notice("shutting down (%s): stopping %zu services", why,
		    vigild.nservices);
	vigild.shutting_down = true;
	for (size_t i = 0; i < vigild.nservices; i++) {
		struct service *s = vigild.services[i];

		s->start_pending = false;
		if (!service_is_settled(s))
			s->stop_pending = true;
	}
	deps_evaluate();
	if (all_settled())
		ev_break(vigild.loop, EVBREAK_ALL);
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
	supervisor_deps_free(dependents, vigild.nservices);
	dependents = NULL;
	if (vigild.loop != NULL)
		ev_idle_stop(vigild.loop, &deps_idle);
	world_free();
	free(vigild.services);
	vigild.services = NULL;
	vigild.nservices = 0;
}
