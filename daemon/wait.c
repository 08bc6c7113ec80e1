/*
 * wait.c: the rule for when a start, stop or restart that a client waits
 * on is over, and the reply it then gets. The client's bookkeeping (timer,
 * parked requests) belongs to control.c.
 */
#include "config.h"
#include "vigild.h"
#include "control.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"

struct wait {
	enum wait_target  target;
	struct service	**svcs;
	size_t		  n;
	int64_t		  timeout_ms;
	json_t		 *extra;	/* more fields for the reply, or NULL */
};

struct wait *
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

void
wait_free(struct wait *w)
{
	if (w == NULL)
		return;
	free(w->svcs);
	json_decref(w->extra);
	free(w);
}

void
wait_set_extra(struct wait *w, json_t *extra)
{
	json_decref(w->extra);
	w->extra = extra;
}

bool
wait_holds(const struct wait *w, const struct service *s)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->svcs[i] == s)
			return true;
	return false;
}

double
wait_timeout_seconds(const struct wait *w)
{
	return w->timeout_ms / 1000.0;
}

/* 1: reached the target, -1: can no longer reach it, 0: not yet */
static int
service_verdict(enum wait_target target, const struct service *s)
{
	if (target == WAIT_STOPPED)
		return service_is_settled(s) && !s->stop_pending ? 1 : 0;
	if (s->start_pending)
		return 0;	/* waiting for what it requires */
	switch (s->state) {
	case SERVICE_RUNNING:
		return 1;
	case SERVICE_STARTING:
	case SERVICE_STOPPING:
		return 0;
	default:
		/* backoff after a failed start, fatal, exited, stopped */
		return -1;
	}
}

static json_t *
with_extra(struct wait *w, json_t *r)
{
	if (w->extra != NULL)
		json_object_update(r, w->extra);
	return r;
}

json_t *
wait_check(struct wait *w)
{
	bool all_done = true;
	json_t *r;

	for (size_t i = 0; i < w->n; i++) {
		const struct service *s = w->svcs[i];
		int v = service_verdict(w->target, s);

		if (v < 0 && vigild.shutting_down) {
			r = proto_reply_error(PROTO_ERR_SHUTTING_DOWN, "%s: %s: vigild is shutting down",
			    s->conf->name, service_state_name(s->state));
			json_object_set_new(r, "services", status_services_json(w->svcs, w->n));
			return with_extra(w, r);
		}
		if (v < 0) {
			r = proto_reply_error(PROTO_ERR_FAILED, "%s: %s (%s)",
			    s->conf->name, service_state_name(s->state), s->reason);
			json_object_set_new(r, "services", status_services_json(w->svcs, w->n));
			return with_extra(w, r);
		}
		if (v == 0)
			all_done = false;
	}
	if (!all_done)
		return NULL;
	r = proto_reply_ok();
	json_object_set_new(r, "services", status_services_json(w->svcs, w->n));
	return with_extra(w, r);
}

json_t *
wait_timeout_reply(struct wait *w)
{
	const char *target = w->target == WAIT_STOPPED ? "stopped" : "running";
	json_t *r;

	for (size_t i = 0; i < w->n; i++) {
		const struct service *s = w->svcs[i];
		if (service_verdict(w->target, s) == 0) {
			r = proto_reply_error(PROTO_ERR_TIMEOUT,
			    "%s: still %s after %.3fs, waiting to be %s (%s)",
			    s->conf->name, service_state_name(s->state),
			    w->timeout_ms / 1000.0, target, s->reason);
			json_object_set_new(r, "services", status_services_json(w->svcs, w->n));
			return with_extra(w, r);
		}
	}
	r = proto_reply_error(PROTO_ERR_TIMEOUT, "timed out");
	json_object_set_new(r, "services", status_services_json(w->svcs, w->n));
	return with_extra(w, r);
}
