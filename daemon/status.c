/*
 * status.c: a service as the protocol shows it, one JSON object. The
 * fields are documented in doc/protocol.md; add fields, never rename them.
 */
#include "config.h"
#include "vigild.h"

#include "signame.h"

static const char *const policy_names[] = {
	[RESTART_ALWAYS] = "always",
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_NEVER] = "never",
};

static json_t *
exit_json(const struct exit_info *e)
{
	char buf[16];
	json_t *o;

	if (!e->valid && e->spawn_error[0] == '\0')
		return json_null();
	if (!e->valid)	/* the last attempt never reached execve */
		return json_pack("{s:s}", "spawn_error", e->spawn_error);
	o = json_pack("{s:I, s:f, s:f, s:f, s:f, s:I}",
	    "pid", (json_int_t)e->pid,
	    "time", e->when,
	    "ran_for", e->ran_ms / 1000.0,
	    "cpu_user", e->cpu_user,
	    "cpu_system", e->cpu_system,
	    "max_rss_kb", (json_int_t)e->max_rss_kb);
	if (o == NULL)
		return NULL;
	if (e->signal != 0) {
		json_object_set_new(o, "code", json_null());
		json_object_set_new(o, "signal",
		    json_string(signame_name(e->signal, buf, sizeof(buf))));
		json_object_set_new(o, "core_dumped", json_boolean(e->core_dumped));
	} else {
		json_object_set_new(o, "code", json_integer(e->code));
		json_object_set_new(o, "signal", json_null());
		json_object_set_new(o, "core_dumped", json_false());
	}
	if (e->spawn_error[0] != '\0')
		json_object_set_new(o, "spawn_error", json_string(e->spawn_error));
	return o;
}

json_t *
status_service_json(const struct service *s, int64_t now_ms)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:f, s:I, s:I, s:o, s:b, s:s}",
	    "name", s->conf->name,
	    "state", service_state_name(s->state),
	    "reason", s->reason,
	    "since", s->state_since_wall,
	    "restarts", (json_int_t)s->restarts,
	    "failures", (json_int_t)s->failures,
	    "last_exit", exit_json(&s->last_exit),
	    "autostart", s->conf->autostart,
	    "restart", policy_names[s->conf->restart]);
	if (o == NULL)
		return NULL;
	if (s->pid > 0) {
		json_object_set_new(o, "pid", json_integer(s->pid));
		json_object_set_new(o, "uptime", json_real((now_ms - s->started_ms) / 1000.0));
	} else {
		json_object_set_new(o, "pid", json_null());
		json_object_set_new(o, "uptime", json_null());
	}
	if (s->timer_due_ms > 0 && s->state == SERVICE_BACKOFF)
		json_object_set_new(o, "next_start_in",
		    json_real((s->timer_due_ms - now_ms) / 1000.0));
	return o;
}
