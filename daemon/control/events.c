/*
 * events.c: the `events` request and its subscribers. Each gets the state
 * of the services it watches, then a line per change: which service moved
 * from which state to which, why, its pid and when. It hears of changes
 * as a listener of the core; the server bounds what a slow subscriber
 * costs, and one that fell behind gets the current state again.
 */
#include "config.h"
#include "events.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "control.h"
#include "names.h"
#include "proto.h"

/* The "from" of a line that tells the current state, not a change */
#define EVENT_NO_FROM	SERVICE_NSTATES
/* a subscriber this far behind is better served by a fresh snapshot than by history */
#define EVENTS_MAX	(256 * 1024)
#define EVENTS_RESUME	(64 * 1024)

struct subscriber {
	struct control_client *client;
	struct service	**svcs;		/* watched; NULL: every service */
	size_t		  n;
	struct subscriber *prev, *next;
};

static struct subscriber *subscribers;

static double
wall_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* One event line of s, as it is now, and its newline; from: the state it left, or EVENT_NO_FROM. */
static char *
events_line(const struct service *s, enum service_state from, size_t *len)
{
	bool change = from != EVENT_NO_FROM;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, PROTO_K_SERVICE, json_string(s->conf->name));
	json_object_set_new(o, PROTO_K_FROM, change ? json_string(service_state_name(from)) :
	    json_null());
	json_object_set_new(o, PROTO_K_TO, json_string(service_state_name(s->state)));
	json_object_set_new(o, PROTO_K_READY, json_boolean(service_is_ready(s)));
	json_object_set_new(o, PROTO_K_REASON, proto_string(s->reason));
	json_object_set_new(o, PROTO_K_PID, s->pid > 0 ? json_integer(s->pid) : json_null());
	/* a change happens now; the current state is as old as its status's "since" */
	json_object_set_new(o, PROTO_K_TIME, json_real(change ? wall_now() : s->state_since_wall));
	if (json_object_size(o) != 7) {	/* a field could not be built: out of memory */
		json_decref(o);
		return NULL;
	}
	return proto_dump_line(o, len);
}

static bool
watches(const struct subscriber *sub, const struct service *s)
{
	if (sub->svcs == NULL)
		return true;
	for (size_t i = 0; i < sub->n; i++)
		if (sub->svcs[i] == s)
			return true;
	return false;
}

/* One line per watched service, telling its current state ("from": null), queued whole. */
static void
snapshot(struct subscriber *sub)
{
	size_t n = sub->svcs == NULL ? vigild.nservices : sub->n;
	char *line;
	size_t len;

	for (size_t i = 0; i < n; i++) {
		struct service *s = sub->svcs == NULL ? vigild.services[i] : sub->svcs[i];
		if ((line = events_line(s, EVENT_NO_FROM, &len)) == NULL)
			continue;	/* out of memory: the next change tells */
		control_write(sub->client, line, len);
		free(line);
	}
}

/* Every subscriber that watches s gets the change, serialised once, in the order they happen. */
static void
changed_cb(void *arg, struct service *s, enum service_state from)
{
	char *line = NULL;
	size_t len = 0;

	(void)arg;
	for (struct subscriber *sub = subscribers; sub != NULL; sub = sub->next) {
		if (!watches(sub, s))
			continue;
		if (line == NULL && (line = events_line(s, from, &len)) == NULL)
			return;	/* out of memory: this change is lost to subscribers */
		control_stream_send(sub->client, line, len);
	}
	free(line);
}

/*
 * A reload removed s. A subscriber of every service hears that it left the
 * set; one of named services drops it, and when none is left its stream
 * ends like a request that failed.
 */
static void
removed_cb(void *arg, struct service *s)
{
	struct subscriber *sub, *next;
	size_t k;

	(void)arg;
	for (sub = subscribers; sub != NULL; sub = next) {
		next = sub->next;
		if (!watches(sub, s))
			continue;
		if (sub->svcs != NULL) {
			k = 0;
			for (size_t i = 0; i < sub->n; i++)
				if (sub->svcs[i] != s)
					sub->svcs[k++] = sub->svcs[i];
			sub->n = k;
			if (k == 0) {
				control_reply(sub->client, proto_reply_error(PROTO_ERR_REMOVED,
				    "%s: removed from the configuration by a reload", s->conf->name));
				control_stream_end(sub->client);	/* frees sub */
				continue;
			}
		}
		control_reply(sub->client, json_pack("{s:s, s:b}", PROTO_K_SERVICE, s->conf->name,
		    PROTO_K_REMOVED, 1));
	}
}

static struct service_listener listener = { changed_cb, removed_cb, NULL, NULL };

/* It caught up: how much it missed, and the state again, as history cannot be rebuilt. */
static void
resume_cb(struct control_client *c, void *state, uint64_t skipped)
{
	control_reply(c, json_pack("{s:I}", PROTO_K_SKIPPED, (json_int_t)skipped));
	snapshot(state);
}

static void
subscriber_free(void *state)
{
	struct subscriber *sub = state;

	if (sub->prev != NULL)
		sub->prev->next = sub->next;
	else
		subscribers = sub->next;
	if (sub->next != NULL)
		sub->next->prev = sub->prev;
	free(sub->svcs);
	free(sub);
}

static const struct control_stream_ops stream_ops = {
	EVENTS_MAX, EVENTS_RESUME, resume_cb, subscriber_free,
};

json_t *
events_request(struct control_client *c, char **argv, size_t argc, bool *deferred)
{
	static const struct proto_option no_options[] = { { NULL, 0 } };
	struct subscriber *sub;
	struct service **svcs = NULL;
	size_t first, n = 0;
	char msg[256];
	json_t *r;

	if (proto_parse_options(argv, argc, no_options, NULL, &first, msg, sizeof(msg)) == -1)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST, "%s", msg);
	if (first < argc) {
		if (names_resolve(argv + first, argc - first, &svcs, &n, &r) == -1)
			return r;
		n = names_dedupe(svcs, n);
	}
	if ((sub = calloc(1, sizeof(*sub))) == NULL) {
		free(svcs);
		return NULL;
	}
	world_listen(&listener);
	sub->client = c;
	sub->svcs = svcs;
	sub->n = n;
	sub->next = subscribers;
	if (subscribers != NULL)
		subscribers->prev = sub;
	subscribers = sub;
	control_reply(c, json_pack("{s:b, s:b}", PROTO_K_OK, 1, PROTO_K_EVENTS, 1));
	control_stream(c, &stream_ops, sub);
	log_debug("control: a client follows the state of %s%s",
	    svcs == NULL ? "every service" : svcs[0]->conf->name, n > 1 ? " and more" : "");
	snapshot(sub);
	*deferred = true;
	return NULL;
}
