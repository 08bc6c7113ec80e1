/*
 * retire.c: services a reload removed, from the moment they leave the set
 * until their process is reaped. The services one reload removes are one
 * batch: a service in it is stopped once every removed service that
 * required it or was ordered after it is gone, the order a stop keeps.
 * A batch is freed, definitions included, once all of it is settled; until
 * then reap.c finds their pids here. Clients let go of them at removal.
 */
#include "config.h"
#include "core.h"

#include <stdlib.h>
#include <string.h>

#include "config/config_values.h"
#include "output/output.h"
#include "deps.h"
#include "world.h"

struct retired {
	struct service	**svcs;
	struct service_conf **confs;	/* owned: the old config let go of them */
	bool		 *asked;	/* stop requested */
	size_t		  n, cap;
	uint64_t	  id;		/* in the order reloads made them, from 1 */
	struct retired	 *next;
};

static struct retired *batches;
static uint64_t	 last_id;
static ev_idle	 retire_idle;		/* stops the next ones, frees the finished */
static bool	 idle_set;		/* retire_idle is set up, the listener registered */

static void	retire_idle_cb(struct ev_loop *, ev_idle *, int);

/* A change, maybe of a retired service: look again from the loop, not inside it. */
static void
retired_changed_cb(void *arg, struct service *s, enum service_state from)
{
	(void)arg, (void)s, (void)from;
	if (batches != NULL && !ev_is_active(&retire_idle))
		ev_idle_start(vigild.loop, &retire_idle);
}

static struct service_listener retire_listener = { retired_changed_cb, NULL, NULL, NULL };

struct retired *
retire_new(size_t n)
{
	struct retired *b = calloc(1, sizeof(*b));

	if (!idle_set) {
		ev_idle_init(&retire_idle, retire_idle_cb);
		world_listen(&retire_listener);
		idle_set = true;
	}
	if (b == NULL)
		return NULL;
	b->svcs = calloc(n ? n : 1, sizeof(*b->svcs));
	b->confs = calloc(n ? n : 1, sizeof(*b->confs));
	b->asked = calloc(n ? n : 1, sizeof(*b->asked));
	if (b->svcs == NULL || b->confs == NULL || b->asked == NULL) {
		retire_discard(b);
		return NULL;
	}
	b->cap = n;
	b->id = ++last_id;
	return b;
}

uint64_t
retire_id(const struct retired *b)
{
	return b != NULL ? b->id : 0;
}

bool
retire_settled(uint64_t id)
{
	for (struct retired *b = batches; b != NULL; b = b->next)
		if (b->id == id)
			for (size_t i = 0; i < b->n; i++)
				if (!service_is_settled(b->svcs[i]))
					return false;
	return true;
}

void
retire_discard(struct retired *b)
{
	if (b == NULL)
		return;
	free(b->svcs);
	free(b->confs);
	free(b->asked);
	free(b);
}

/* s keeps its index in the old set: its conf's requires and after still count in it. */
void
retire_add(struct retired *b, struct service *s, struct service_conf *conf)
{
	if (b->n == b->cap)
		fatalx("%s: broken invariant: retiring more services than planned",
		    s->conf->name);
	deps_job_set(s, JOB_NONE);
	b->svcs[b->n] = s;
	b->confs[b->n] = conf;
	b->n++;
}

/* Whether q, removed with s, required s or was ordered after it. */
static bool
depends_on(const struct service *q, const struct service *s)
{
	const struct service_conf *c = q->conf;

	for (size_t k = 0; k < c->nrequires; k++)
		if (c->requires[k] == s->index)
			return true;
	for (size_t k = 0; k < c->nafter; k++)
		if (c->after[k] == s->index)
			return true;
	return false;
}

static bool
dependent_left(const struct retired *b, const struct service *s)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->svcs[i] != s && !service_is_settled(b->svcs[i]) &&
		    depends_on(b->svcs[i], s))
			return true;
	return false;
}

/* Stop what may be stopped now; true once the whole batch is settled. */
static bool
batch_step(struct retired *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->asked[i] || dependent_left(b, b->svcs[i]))
			continue;
		b->asked[i] = true;
		if (!service_is_settled(b->svcs[i]))
			service_stop(b->svcs[i]);
	}
	for (size_t i = 0; i < b->n; i++)
		if (!service_is_settled(b->svcs[i]))
			return false;
	return true;
}

static void
batch_free(struct retired *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct service *s = b->svcs[i];

		log_debug("%s: removed service forgotten", s->conf->name);
		world_service_free(s);
		values_service_free(b->confs[i]);
	}
	retire_discard(b);
}

void
retire_start(struct retired *b)
{
	b->next = batches;
	batches = b;
	if (!ev_is_active(&retire_idle))
		ev_idle_start(vigild.loop, &retire_idle);
	batch_step(b);
}

static void
retire_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct retired **pp = &batches, *b;

	(void)revents;
	ev_idle_stop(loop, w);
	while ((b = *pp) != NULL) {
		if (batch_step(b)) {
			*pp = b->next;
			batch_free(b);
		} else {
			pp = &b->next;
		}
	}
}

struct service *
retire_find_pid(pid_t pid)
{
	for (struct retired *b = batches; b != NULL; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			if (b->svcs[i]->pid == pid)
				return b->svcs[i];
	return NULL;
}

void
retire_each(void (*cb)(struct service *s))
{
	for (struct retired *b = batches; b != NULL; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			cb(b->svcs[i]);
}

struct service *
retire_find_name(const char *name)
{
	for (struct retired *b = batches; b != NULL; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			if (!service_is_settled(b->svcs[i]) &&
			    strcmp(b->svcs[i]->conf->name, name) == 0)
				return b->svcs[i];
	return NULL;
}

bool
retire_all_settled(void)
{
	for (struct retired *b = batches; b != NULL; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			if (!service_is_settled(b->svcs[i]))
				return false;
	return true;
}

void
retire_free_all(void)
{
	struct retired *b;

	while ((b = batches) != NULL) {
		batches = b->next;
		batch_free(b);
	}
	if (idle_set && vigild.loop != NULL)
		ev_idle_stop(vigild.loop, &retire_idle);
}
