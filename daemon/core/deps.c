/*
 * deps.c: the order that requires and after impose on starts and stops.
 * Each service has at most one job here (deps_job_set is its only
 * writer): start once what it requires is ready, stop once what requires
 * it is stopped, or both in turn for a restart. deps_evaluate() issues
 * the jobs whose time has come through the state machine's verbs
 * (service_start, service_stop) and nothing else; it reads the set of
 * services from vigild and the table of dependents installed here.
 * tests/unit/test_deps.c drives it with fake processes and a fake clock.
 */
#include "config.h"
#include "deps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Services whose requires or after name one service, by its index. */
struct dependents {
	size_t	 *requiring;	/* requires it: stopped when it is */
	size_t	  nrequiring;
	size_t	 *all;		/* requires it or is after it: stop before it does */
	size_t	  nall;
};

static struct dependents *table;	/* indexed like vigild.services */
static struct service	*(*twin_of)(const char *name);	/* retire_find_name, or NULL */

static const char *const job_names[] = {
	[JOB_NONE] = "none",
	[JOB_START] = "start",
	[JOB_STOP] = "stop",
	[JOB_RESTART] = "restart",
};

void
deps_init(struct service *(*removed_twin)(const char *name))
{
	twin_of = removed_twin;
}

void
deps_job_set(struct service *s, enum service_job job)
{
	if (s->job == job)
		return;
	log_debug("%s: job %s -> %s", s->conf->name, job_names[s->job], job_names[job]);
	s->job = job;
}

/* The service will stop (a stop or restart job): what requires it must not count on it. */
static bool
leaving(const struct service *s)
{
	return s->job == JOB_STOP || s->job == JOB_RESTART;
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
deps_table_free(struct dependents *d, size_t n)
{
	for (size_t i = 0; d != NULL && i < n; i++) {
		free(d[i].requiring);
		free(d[i].all);
	}
	free(d);
}

struct dependents *
deps_table_new(const struct config *conf)
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
	deps_table_free(deps, conf->nservices);
	return NULL;
}

struct dependents *
deps_install(struct dependents *deps)
{
	struct dependents *old = table;

	table = deps;
	return old;
}

/*
 * Ready and staying so: not about to be stopped or restarted. A dependent
 * of a service being restarted waits for the new process to be ready, not
 * for the old one that is about to go.
 */
static bool
ready_to_stay(const struct service *r)
{
	return service_is_ready(r) && !leaving(r);
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
		*blocked = r->job != JOB_START && r->job != JOB_RESTART &&
		    (r->state == SERVICE_STOPPED || r->state == SERVICE_EXITED ||
		    r->state == SERVICE_FATAL);
		return r;
	}
	for (size_t k = 0; k < c->nafter; k++) {
		r = vigild.services[c->after[k]];
		if (ready_to_stay(r) || (r->job != JOB_START && service_is_settled(r)))
			continue;
		return r;
	}
	/* a reload removed and added it again: one of the two at a time */
	return twin_of != NULL ? twin_of(c->name) : NULL;
}

/* Whether s, to be stopped, still has a dependent to see stopped first. */
static bool
stop_blocked(const struct service *s)
{
	const struct dependents *d = &table[s->index];

	for (size_t k = 0; k < d->nall; k++) {
		const struct service *o = vigild.services[d->all[k]];
		if (leaving(o) || o->state == SERVICE_STOPPING)
			return true;
	}
	return false;
}

static void mark_start(struct service *s);

void
deps_evaluate(void)
{
	struct service *s, *r;
	bool blocked;

	for (size_t i = 0; i < vigild.nservices; i++) {
		s = vigild.services[i];
		if (leaving(s) && !stop_blocked(s)) {
			bool again = s->job == JOB_RESTART;

			deps_job_set(s, JOB_NONE);
			service_stop(s);
			if (again)
				mark_start(s);	/* once stopped, and once what it requires is ready */
		}
	}
	for (size_t i = 0; i < vigild.nservices; i++) {
		s = vigild.services[i];
		if (s->job != JOB_START)
			continue;
		if ((r = start_blocker(s, &blocked)) == NULL) {
			deps_job_set(s, JOB_NONE);
			service_start(s);
		} else if (blocked) {
			deps_job_set(s, JOB_NONE);
			service_note(s, "not started: requires %s, which is %s",
			    r->conf->name, service_state_name(r->state));
		} else if (strcmp(r->conf->name, s->conf->name) != 0) {
			service_note(s, "waiting for %s", r->conf->name);
		} else {
			service_note(s, "waiting for the removed %s to stop", r->conf->name);
		}
	}
}

/*
 * A restart after back-off is a start like any other: not while what the
 * service requires is down. It waits for it, or, if that will not come
 * back, stops where it is and says why.
 */
bool
deps_hold_backoff(struct service *s)
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
		deps_job_set(s, JOB_START);
		service_note(s, "restart waits for %s", r->conf->name);
	}
	return true;
}

void
deps_start_all(void)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (vigild.services[i]->conf->autostart)
			deps_job_set(vigild.services[i], JOB_START);
	deps_evaluate();
}

static void
mark_start(struct service *s)
{
	const struct service_conf *c = s->conf;

	if (s->job == JOB_START || s->state == SERVICE_STARTING || service_is_ready(s))
		return;
	deps_job_set(s, JOB_START);
	for (size_t k = 0; k < c->nrequires; k++)
		mark_start(vigild.services[c->requires[k]]);
}

void
deps_start(struct service *s)
{
	mark_start(s);
	deps_evaluate();
}

static void
mark_stop(struct service *s, const char *why)
{
	const struct dependents *d = &table[s->index];

	if (s->job == JOB_START) {
		deps_job_set(s, JOB_NONE);
		service_note(s, "not started: %s", why);
	}
	if (leaving(s) || service_is_settled(s))
		return;
	deps_job_set(s, JOB_STOP);
	for (size_t k = 0; k < d->nrequiring; k++)
		mark_stop(vigild.services[d->requiring[k]], why);
}

/*
 * Like systemd's Requires=: what requires s is restarted with it. Each is
 * stopped before what it requires (as a stop would), and started again
 * once it is ready (as a start would), so none runs while s is down.
 */
void
deps_restart(struct service *s)
{
	char why[SERVICE_NAME_MAX + 32];
	struct service **deps;
	bool *waiting;
	size_t n = 0;

	if (service_is_settled(s) && !leaving(s)) {
		deps_start(s);
		return;
	}
	if ((deps = deps_dependents(s, &n)) == NULL ||
	    (waiting = calloc(n + 1, sizeof(*waiting))) == NULL) {
		free(deps);
		log_warnx("%s: restart: out of memory", s->conf->name);
		return;
	}
	/* those only waiting to start keep waiting, for the restarted s */
	for (size_t k = 0; k < n; k++)
		waiting[k] = service_is_settled(deps[k]) && deps[k]->job == JOB_START;
	snprintf(why, sizeof(why), "requires %s, which is restarting", s->conf->name);
	for (size_t k = 0; k < table[s->index].nrequiring; k++)
		mark_stop(vigild.services[table[s->index].requiring[k]], why);
	mark_stop(s, "restart requested");
	for (size_t k = 0; k < n; k++) {
		if (waiting[k])
			deps_job_set(deps[k], JOB_START);
		else if (deps[k]->job == JOB_STOP)
			deps_job_set(deps[k], JOB_RESTART);
	}
	free(waiting);
	free(deps);
	deps_job_set(s, JOB_RESTART);
	/* a stop under way (its own restart, say) ends in `stopped`: the job starts it */
	if (s->state == SERVICE_STOPPING)
		service_stop(s);
	deps_evaluate();
}

void
deps_stop(struct service *s)
{
	char why[SERVICE_NAME_MAX + 32];

	snprintf(why, sizeof(why), "requires %s, which was stopped", s->conf->name);
	for (size_t k = 0; k < table[s->index].nrequiring; k++)
		mark_stop(vigild.services[table[s->index].requiring[k]], why);
	mark_stop(s, "stop requested");
	/* a stopping service with a restart of its own or pending: the stop wins */
	if (s->job == JOB_RESTART)
		deps_job_set(s, JOB_STOP);
	if (s->state == SERVICE_STOPPING)
		service_stop(s);
	deps_evaluate();
}

void
deps_stop_all(void)
{
	for (size_t i = 0; i < vigild.nservices; i++) {
		struct service *s = vigild.services[i];

		deps_job_set(s, service_is_settled(s) ? JOB_NONE : JOB_STOP);
	}
	deps_evaluate();
}

static void
collect_dependents(const struct service *s, bool *seen, struct service **out, size_t *n)
{
	const struct dependents *d = &table[s->index];

	for (size_t k = 0; k < d->nrequiring; k++) {
		struct service *o = vigild.services[d->requiring[k]];
		if (seen[o->index])
			continue;
		seen[o->index] = true;
		if (!service_is_settled(o) || o->job == JOB_START)
			out[(*n)++] = o;
		collect_dependents(o, seen, out, n);
	}
}

struct service **
deps_dependents(const struct service *s, size_t *n)
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
