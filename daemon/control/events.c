/*
 * events.c: the `events` request and the event line it streams: which
 * service moved from which state to which, why, its pid and when. Fanning
 * the lines out to subscribers, and bounding what a slow one costs, is
 * control.c's.
 */
#include "config.h"
#include "events.h"
#include "control.h"

#include <string.h>
#include <sys/time.h>

#include "proto.h"

static double
wall_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

char *
events_line(const struct service *s, enum service_state from, size_t *len)
{
	bool change = from != EVENT_NO_FROM;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "service", json_string(s->conf->name));
	json_object_set_new(o, "from", change ? json_string(service_state_name(from)) :
	    json_null());
	json_object_set_new(o, "to", json_string(service_state_name(s->state)));
	json_object_set_new(o, "ready", json_boolean(service_is_ready(s)));
	json_object_set_new(o, "reason", proto_string(s->reason));
	json_object_set_new(o, "pid", s->pid > 0 ? json_integer(s->pid) : json_null());
	/* a change happens now; the current state is as old as its status's "since" */
	json_object_set_new(o, "time", json_real(change ? wall_now() : s->state_since_wall));
	if (json_object_size(o) != 7) {	/* a field could not be built: out of memory */
		json_decref(o);
		return NULL;
	}
	return proto_dump_line(o, len);
}

json_t *
events_request(struct control_client *c, char **argv, size_t argc, bool *deferred)
{
	struct service **svcs = NULL;
	size_t first = 1, n = 0;
	json_t *r;

	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	else if (first < argc && strncmp(argv[first], "--", 2) == 0)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "events: unknown option '%s'", argv[first]);
	if (first < argc) {
		if (commands_resolve_names(argv + first, argc - first, &svcs, &r) == -1)
			return r;
		n = commands_dedupe(svcs, argc - first);
	}
	control_reply(c, json_pack("{s:b, s:b}", "ok", 1, "events", 1));
	control_subscribe(c, svcs, n);	/* c owns svcs now */
	*deferred = true;
	return NULL;
}
