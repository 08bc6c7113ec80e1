/*
 * status.c: a service as the protocol shows it, one JSON object. The
 * fields are documented in doc/protocol.md; add fields, never rename them.
 */
#include "config.h"
#include "vigild.h"

#include <stdio.h>
#include <string.h>

#include "output.h"
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

	if (!e->valid && e->spawn_error == NULL)
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
	if (e->spawn_error != NULL)
		json_object_set_new(o, "spawn_error", json_string(e->spawn_error));
	return o;
}

static const char *const field_names[] = {
	"name", "state", "reason", "since", "restarts", "failures", "last_exit",
	"autostart", "restart", "pid", "uptime", "next_start_in", "log_file",
	"log_dropped_bytes", "ready", "ready_kind", "status_text", "errno", NULL,
};

static const char *const ready_kind_names[] = {
	[READY_NONE] = "none",
	[READY_NOTIFY] = "notify",
	[READY_FD] = "fd",
	[READY_TCP] = "tcp",
	[READY_EXEC] = "exec",
};

int
status_fields_parse(const char *list, unsigned *mask, const char **bad)
{
	char buf[512], *save = NULL, *f;

	snprintf(buf, sizeof(buf), "%s", list);
	*mask = 0;
	for (f = strtok_r(buf, ",", &save); f != NULL; f = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; field_names[i] != NULL && strcmp(field_names[i], f) != 0; i++)
			;
		if (field_names[i] == NULL) {
			static char unknown[64];
			snprintf(unknown, sizeof(unknown), "%s", f);
			*bad = unknown;
			return -1;
		}
		*mask |= 1u << i;
	}
	return *mask != 0 ? 0 : -1;
}

static void
set_field(json_t *o, unsigned mask, enum status_field f, json_t *v)
{
	if (mask & (1u << f))
		json_object_set_new(o, field_names[f], v);
	else
		json_decref(v);
}

json_t *
status_service_json(const struct service *s, int64_t now_ms, unsigned mask)
{
	json_t *o = json_object();
	bool has_pid = s->pid > 0;

	if (o == NULL)
		return NULL;
	set_field(o, mask, STATUS_NAME, json_string(s->conf->name));
	set_field(o, mask, STATUS_STATE, json_string(service_state_name(s->state)));
	set_field(o, mask, STATUS_REASON, json_string(s->reason));
	if (mask & STATUS_BIT(STATUS_SINCE))
		set_field(o, mask, STATUS_SINCE, json_real(s->state_since_wall));
	set_field(o, mask, STATUS_RESTARTS, json_integer(s->restarts));
	set_field(o, mask, STATUS_FAILURES, json_integer(s->failures));
	if (mask & STATUS_BIT(STATUS_LAST_EXIT))
		set_field(o, mask, STATUS_LAST_EXIT, exit_json(&s->last_exit));
	set_field(o, mask, STATUS_AUTOSTART, json_boolean(s->conf->autostart));
	set_field(o, mask, STATUS_RESTART, json_string(policy_names[s->conf->restart]));
	set_field(o, mask, STATUS_PID, has_pid ? json_integer(s->pid) : json_null());
	if (mask & STATUS_BIT(STATUS_UPTIME))
		set_field(o, mask, STATUS_UPTIME, has_pid ?
		    json_real((now_ms - s->started_ms) / 1000.0) : json_null());
	if (s->timer_due_ms > 0 && s->state == SERVICE_BACKOFF)
		set_field(o, mask, STATUS_NEXT_START_IN,
		    json_real((s->timer_due_ms - now_ms) / 1000.0));
	if (mask & STATUS_BIT(STATUS_LOG_FILE)) {
		const char *path = output_log_path(s);
		set_field(o, mask, STATUS_LOG_FILE, path ? json_string(path) : json_null());
	}
	set_field(o, mask, STATUS_LOG_DROPPED_BYTES,
	    json_integer((json_int_t)output_dropped_bytes(s)));
	set_field(o, mask, STATUS_READY, json_boolean(service_is_ready(s)));
	set_field(o, mask, STATUS_READY_KIND, json_string(ready_kind_names[s->conf->ready]));
	/* what the service itself said (STATUS=, ERRNO=): only while it runs */
	if (has_pid && s->status_text != NULL)
		set_field(o, mask, STATUS_STATUS_TEXT, json_string(s->status_text));
	if (has_pid && s->notify_errno != 0)
		set_field(o, mask, STATUS_ERRNO, json_integer(s->notify_errno));
	return o;
}

/* Every field of each of svcs, as the "services" array of a reply. */
json_t *
status_services_json(struct service **svcs, size_t n)
{
	int64_t now = supervisor_ops.now_ms();
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, status_service_json(svcs[i], now, STATUS_ALL));
	return arr;
}
