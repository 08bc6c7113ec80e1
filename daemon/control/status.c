/*
 * status.c: a service as the protocol shows it, one JSON object. The
 * fields are documented in doc/protocol.md; add fields, never rename them.
 */
#include "config.h"
#include "status.h"

#include <stdio.h>
#include <string.h>

#include "core/cgroup.h"
#include "core/world.h"
#include "output/output.h"
#include "proto.h"
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
		return json_pack("{s:o}", PROTO_K_SPAWN_ERROR, proto_string(e->spawn_error));
	o = json_pack("{s:I, s:f, s:f, s:f, s:f, s:I}",
	    PROTO_K_PID, (json_int_t)e->pid,
	    PROTO_K_TIME, e->when,
	    PROTO_K_RAN_FOR, e->ran_ms / 1000.0,
	    PROTO_K_CPU_USER, e->cpu_user,
	    PROTO_K_CPU_SYSTEM, e->cpu_system,
	    PROTO_K_MAX_RSS_KB, (json_int_t)e->max_rss_kb);
	if (o == NULL)
		return NULL;
	if (e->signal != 0) {
		json_object_set_new(o, PROTO_K_CODE, json_null());
		json_object_set_new(o, PROTO_K_SIGNAL,
		    json_string(signame_name(e->signal, buf, sizeof(buf))));
		json_object_set_new(o, PROTO_K_CORE_DUMPED, json_boolean(e->core_dumped));
	} else {
		json_object_set_new(o, PROTO_K_CODE, json_integer(e->code));
		json_object_set_new(o, PROTO_K_SIGNAL, json_null());
		json_object_set_new(o, PROTO_K_CORE_DUMPED, json_false());
	}
	if (e->spawn_error != NULL)
		json_object_set_new(o, PROTO_K_SPAWN_ERROR, proto_string(e->spawn_error));
	return o;
}

static const char *const ready_kind_names[] = {
	[READY_NONE] = "none",
	[READY_NOTIFY] = "notify",
	[READY_FD] = "fd",
	[READY_TCP] = "tcp",
	[READY_EXEC] = "exec",
};

/* {"nice":"7","no_new_privileges":"yes"}: the isolation keys as written; {} for none */
static json_t *
isolation_json(const struct service_conf *c)
{
	json_t *o = json_object();

	for (char **kv = c->isolation; o != NULL && kv != NULL && kv[0] != NULL; kv += 2)
		if (json_object_set_new(o, kv[0], proto_string(kv[1])) == -1) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

/* The field called name[0..len), or -1. */
static int
field_index(const char *name, size_t len)
{
	for (int i = 0; i < PROTO_NFIELDS; i++)
		if (strlen(proto_status_fields[i]) == len &&
		    memcmp(proto_status_fields[i], name, len) == 0)
			return i;
	return -1;
}

/* Read in place, however long the list: a field may be named more than once. */
int
status_fields_parse(const char *list, unsigned *mask, const char **bad, size_t *badlen)
{
	const char *p = list;

	*mask = 0;
	*bad = list;
	*badlen = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		int i;

		if (len > 0) {
			if ((i = field_index(p, len)) == -1) {
				*bad = p;
				*badlen = len;
				return -1;
			}
			*mask |= 1u << i;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return *mask != 0 ? 0 : -1;
}

/* A field asked for and not built (out of memory) makes the whole object fail. */
static void
set_field(json_t *o, unsigned mask, enum proto_status_field f, json_t *v, bool *ok)
{
	if (!(mask & (1u << f)))
		json_decref(v);
	else if (json_object_set_new(o, proto_status_fields[f], v) == -1)
		*ok = false;
}

json_t *
status_service_json(const struct service *s, int64_t now_ms, unsigned mask)
{
	json_t *o = json_object();
	bool has_pid = s->pid > 0, ok = true;

	if (o == NULL)
		return NULL;
	set_field(o, mask, PROTO_F_NAME, json_string(s->conf->name), &ok);
	set_field(o, mask, PROTO_F_STATE, json_string(service_state_name(s->state)), &ok);
	set_field(o, mask, PROTO_F_REASON, proto_string(s->reason), &ok);
	if (mask & STATUS_BIT(PROTO_F_SINCE))
		set_field(o, mask, PROTO_F_SINCE, json_real(s->state_since_wall), &ok);
	set_field(o, mask, PROTO_F_RESTARTS, json_integer(s->restarts), &ok);
	set_field(o, mask, PROTO_F_FAILURES, json_integer(s->failures), &ok);
	if (mask & STATUS_BIT(PROTO_F_LAST_EXIT))
		set_field(o, mask, PROTO_F_LAST_EXIT, exit_json(&s->last_exit), &ok);
	set_field(o, mask, PROTO_F_AUTOSTART, json_boolean(s->conf->autostart), &ok);
	set_field(o, mask, PROTO_F_RESTART, json_string(policy_names[s->conf->restart]), &ok);
	set_field(o, mask, PROTO_F_PID, has_pid ? json_integer(s->pid) : json_null(), &ok);
	if (mask & STATUS_BIT(PROTO_F_UPTIME))
		set_field(o, mask, PROTO_F_UPTIME, has_pid ?
		    json_real((now_ms - s->started_ms) / 1000.0) : json_null(), &ok);
	if (s->timer_due_ms > 0 && s->state == SERVICE_BACKOFF)
		set_field(o, mask, PROTO_F_NEXT_START_IN,
		    json_real((s->timer_due_ms - now_ms) / 1000.0), &ok);
	if (mask & STATUS_BIT(PROTO_F_LOG_FILE)) {
		const char *path = output_log_path(s->output);
		set_field(o, mask, PROTO_F_LOG_FILE, proto_string(path), &ok);
	}
	set_field(o, mask, PROTO_F_LOG_DROPPED_BYTES,
	    json_integer((json_int_t)output_dropped_bytes(s->output)), &ok);
	set_field(o, mask, PROTO_F_READY, json_boolean(service_is_ready(s)), &ok);
	set_field(o, mask, PROTO_F_READY_KIND, json_string(ready_kind_names[s->conf->ready]), &ok);
	/* what the service itself said (STATUS=, ERRNO=): only while it runs */
	if (has_pid && s->status_text != NULL)
		set_field(o, mask, PROTO_F_STATUS_TEXT, proto_string(s->status_text), &ok);
	if (has_pid && s->notify_errno != 0)
		set_field(o, mask, PROTO_F_ERRNO, json_integer(s->notify_errno), &ok);
	/* from its cgroup, read only when asked for: null without cgroups */
	if (mask & STATUS_BIT(PROTO_F_PROCESSES)) {
		int n = cgroup_count(s);
		set_field(o, mask, PROTO_F_PROCESSES, n >= 0 ? json_integer(n) : json_null(), &ok);
	}
	if (mask & STATUS_BIT(PROTO_F_CPU)) {
		int64_t usec = cgroup_cpu_usec(s);
		set_field(o, mask, PROTO_F_CPU, usec >= 0 ? json_real(usec / 1e6) : json_null(), &ok);
	}
	if (mask & STATUS_BIT(PROTO_F_ISOLATION))
		set_field(o, mask, PROTO_F_ISOLATION, isolation_json(s->conf), &ok);
	/* only instances of a template have these */
	if (s->conf->template_name != NULL) {
		set_field(o, mask, PROTO_F_TEMPLATE, json_string(s->conf->template_name), &ok);
		set_field(o, mask, PROTO_F_INSTANCE, json_string(s->conf->instance), &ok);
		set_field(o, mask, PROTO_F_ON_DEMAND, json_boolean(s->conf->on_demand), &ok);
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Every field of each of svcs, as the "services" array of a reply. */
json_t *
status_services_json(struct service **svcs, size_t n)
{
	int64_t now = status_now_ms();
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr, status_service_json(svcs[i], now, STATUS_ALL)) == -1) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

int64_t
status_now_ms(void)
{
	return world_ops.now_ms();
}
