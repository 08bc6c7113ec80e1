/*
 * wait.c: requests that wait on services (a start, stop or restart with
 * --wait, or the wait request itself): the rule for when a wait is over,
 * the reply it then gets, and the waits parked until then. It hears of
 * every change as a listener of the core; the server holds the client and
 * its timer.
 */
#include "config.h"
#include "wait.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "duration.h"
#include "proto.h"
#include "status.h"

struct wait {
	enum wait_target  target;
	struct service	**svcs;
	size_t		  n;
	int64_t		  timeout_ms;
	json_t		 *extra;	/* more fields for the reply, or NULL */
	struct control_client *client;	/* parked on it */
	struct wait	 *prev, *next;	/* the parked ones */
};

static struct wait *parked;

/* A reload's reply, held until the services it removed are stopped. */
struct retired_wait {
	uint64_t	  batch;	/* retire.c's: what the reload removed */
	json_t		 *reply;
	struct control_client *client;
	struct retired_wait *prev, *next;
};

static struct retired_wait *retired_waits;

static const char *const target_names[] = {
	[WAIT_RUNNING] = "running",
	[WAIT_READY] = "ready",
	[WAIT_STOPPED] = "stopped",
	[WAIT_EXITED] = "exited",
};

int
wait_target_parse(const char *name, enum wait_target *target)
{
	for (size_t i = 0; i < sizeof(target_names) / sizeof(target_names[0]); i++) {
		if (strcmp(name, target_names[i]) == 0) {
			*target = (enum wait_target)i;
			return 0;
		}
	}
	return -1;
}

static struct wait *
wait_new(enum wait_target target, struct service **svcs, size_t n, int64_t timeout_ms)
{
	struct wait *w = calloc(1, sizeof(*w));

	if (w == NULL || (w->svcs = calloc(n ? n : 1, sizeof(*svcs))) == NULL) {
		free(w);
		return NULL;
	}
	memcpy(w->svcs, svcs, n * sizeof(*svcs));
	w->n = n;
	w->target = target;
	w->timeout_ms = timeout_ms;
	return w;
}

static void
wait_free(struct wait *w)
{
	if (w == NULL)
		return;
	free(w->svcs);
	json_decref(w->extra);
	free(w);
}

static bool
wait_holds(const struct wait *w, const struct service *s)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->svcs[i] == s)
			return true;
	return false;
}


/*
 * Running or ready: 1 there, -1 never without a new request, 0 not yet.
 * A back-off after a good run restarts by itself; one after a failed start
 * is a start that failed.
 */
static int
up_verdict(bool there, const struct service *s)
{
	if (s->job == JOB_START || s->job == JOB_RESTART)
		return 0;	/* waiting for what it requires, or to be stopped first */
	if (there)
		return 1;
	switch (s->state) {
	case SERVICE_STARTING:
	case SERVICE_RUNNING:	/* running, not ready yet */
	case SERVICE_STOPPING:	/* a restart under way, or soon stopped */
		return 0;
	case SERVICE_BACKOFF:
		return s->failures > 0 ? -1 : 0;
	default:
		/* fatal, exited, stopped */
		return -1;
	}
}

/* 1: reached the target, -1: can no longer reach it, 0: not yet */
static int
service_verdict(enum wait_target target, const struct service *s)
{
	switch (target) {
	case WAIT_RUNNING:
		return up_verdict(s->state == SERVICE_RUNNING, s);
	case WAIT_READY:
		return up_verdict(service_is_ready(s), s);
	case WAIT_STOPPED:
		return service_is_settled(s) && s->job != JOB_STOP && s->job != JOB_RESTART ?
		    1 : 0;
	case WAIT_EXITED:
		if (s->state == SERVICE_EXITED)
			return 1;
		if (s->state == SERVICE_FATAL ||
		    (s->state == SERVICE_STOPPED && s->job != JOB_START && s->job != JOB_RESTART))
			return -1;
		return 0;
	}
	return -1;
}

/* r with the services' status and the extra fields; NULL if any part could not be built. */
static json_t *
finish(struct wait *w, json_t *r)
{
	json_t *arr = status_services_json(w->svcs, w->n);

	if (r == NULL || arr == NULL || json_object_set_new(r, PROTO_K_SERVICES, arr) == -1 ||
	    (w->extra != NULL && json_object_update(r, w->extra) == -1)) {
		if (r == NULL)
			json_decref(arr);
		json_decref(r);
		return NULL;
	}
	return r;
}

/*
 * Whether the wait is over (every service is there, or one can no longer
 * get there), and then its reply in *reply: NULL if that could not be built.
 */
static bool
wait_check(struct wait *w, json_t **reply)
{
	bool all_done = true;

	for (size_t i = 0; i < w->n; i++) {
		const struct service *s = w->svcs[i];
		int v = service_verdict(w->target, s);

		if (v < 0 && vigild.shutting_down) {
			*reply = finish(w, proto_reply_error(PROTO_ERR_SHUTTING_DOWN,
			    "%s: %s: vigild is shutting down", s->conf->name,
			    service_state_name(s->state)));
			return true;
		}
		if (v < 0) {
			*reply = finish(w, proto_reply_error(PROTO_ERR_FAILED,
			    "%s: %s instead of %s (%s)", s->conf->name,
			    service_state_name(s->state), target_names[w->target], s->reason));
			return true;
		}
		if (v == 0)
			all_done = false;
	}
	if (all_done)
		*reply = finish(w, proto_reply_ok());
	return all_done;
}

/* "250ms", "1.5s", "10s", "5m00s": as the client wrote it, give or take */
static void
format_timeout(int64_t ms, char *buf, size_t len)
{
	if (ms > 1000 && ms < 60000 && ms % 1000 != 0)
		snprintf(buf, len, "%.3gs", ms / 1000.0);
	else
		duration_format(ms, buf, len);
}

static json_t *
timeout_reply(void *state)
{
	struct wait *w = state;
	char d[32];

	format_timeout(w->timeout_ms, d, sizeof(d));
	for (size_t i = 0; i < w->n; i++) {
		const struct service *s = w->svcs[i];
		if (service_verdict(w->target, s) == 0)
			return finish(w, proto_reply_error(PROTO_ERR_TIMEOUT,
			    "%s: still %s after %s, waiting to be %s (%s)",
			    s->conf->name, service_state_name(s->state), d,
			    target_names[w->target], s->reason));
	}
	return finish(w, proto_reply_error(PROTO_ERR_TIMEOUT, "timed out"));
}

/* A parked wait is over or its client left: it leaves the list. */
static void
parked_free(void *state)
{
	struct wait *w = state;

	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		parked = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	wait_free(w);
}

static const struct control_park_ops park_ops = { timeout_reply, parked_free };

static void
retired_free(void *state)
{
	struct retired_wait *rw = state;

	if (rw->prev != NULL)
		rw->prev->next = rw->next;
	else
		retired_waits = rw->next;
	if (rw->next != NULL)
		rw->next->prev = rw->prev;
	json_decref(rw->reply);
	free(rw);
}

/* Never called: stopping is bounded (stop_timeout, then KILL and a grace), so no timer. */
static json_t *
retired_timeout(void *state)
{
	(void)state;
	return proto_reply_error(PROTO_ERR_TIMEOUT, "removed services still stopping");
}

static const struct control_park_ops retired_park_ops = { retired_timeout, retired_free };

/* A change may end waits: each one that is over gets its reply. */
static void
changed_cb(void *arg, struct service *s, enum service_state from)
{
	struct wait *w, *next;
	struct retired_wait *rw, *rnext;
	json_t *r;

	(void)arg, (void)s, (void)from;
	for (w = parked; w != NULL; w = next) {
		next = w->next;
		if (wait_check(w, &r))
			control_unpark(w->client, r);	/* frees w */
	}
	for (rw = retired_waits; rw != NULL; rw = rnext) {
		rnext = rw->next;
		if (!retire_settled(rw->batch))
			continue;
		r = rw->reply;
		rw->reply = NULL;
		control_unpark(rw->client, r);	/* frees rw */
	}
}

/* A reload removed s: nobody may keep waiting for it. */
static void
removed_cb(void *arg, struct service *s)
{
	struct wait *w, *next;

	(void)arg;
	for (w = parked; w != NULL; w = next) {
		next = w->next;
		if (wait_holds(w, s))
			control_unpark(w->client, proto_reply_error(PROTO_ERR_REMOVED,
			    "%s: removed from the configuration by a reload", s->conf->name));
	}
}

static struct service_listener listener = { changed_cb, removed_cb, NULL, NULL };

json_t *
wait_retired(struct control_client *c, json_t *reply, uint64_t batch, bool *deferred)
{
	struct retired_wait *rw;

	if (retire_settled(batch))
		return reply;
	if ((rw = calloc(1, sizeof(*rw))) == NULL)
		return reply;	/* out of memory: the reply now rather than none */
	world_listen(&listener);
	rw->reply = reply;
	rw->batch = batch;
	rw->client = c;
	rw->next = retired_waits;
	if (retired_waits != NULL)
		retired_waits->prev = rw;
	retired_waits = rw;
	control_park(c, &retired_park_ops, rw, 0);
	*deferred = true;
	return NULL;
}

json_t *
wait_start(struct control_client *c, enum wait_target target, struct service **svcs,
    size_t n, int64_t timeout_ms, json_t *extra, bool *deferred)
{
	struct wait *w = wait_new(target, svcs, n, timeout_ms);
	json_t *r;

	if (w == NULL) {
		json_decref(extra);
		return proto_reply_error(PROTO_ERR_INTERNAL, "out of memory");
	}
	w->extra = extra;
	if (wait_check(w, &r)) {
		wait_free(w);
		return r;	/* NULL: the reply could not be built, and the client hears so */
	}
	world_listen(&listener);
	w->client = c;
	w->next = parked;
	if (parked != NULL)
		parked->prev = w;
	parked = w;
	control_park(c, &park_ops, w, timeout_ms);
	*deferred = true;
	return NULL;
}
