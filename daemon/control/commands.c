/*
 * commands.c: what each protocol request does, one small handler per verb.
 * Replies are built here; how they travel is control.c's business.
 */
#include "config.h"
#include "commands.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "core/deps.h"
#include "duration.h"
#include "events.h"
#include "logcmd.h"
#include "metrics.h"
#include "names.h"
#include "proto.h"
#include "reload.h"
#include "show.h"
#include "signame.h"
#include "status.h"
#include "utf8.h"
#include "wait.h"

#define WAIT_DEFAULT_MS 60000

struct command_args {
	struct control_client *client;
	char	**argv;
	size_t	  argc;
	bool	 *deferred;
};

typedef json_t *(*command_fn)(struct command_args *a);

static enum proto_access command_level(const char *name);

static const struct commands_daemon_ops *daemon_ops;

void
commands_set_daemon_ops(const struct commands_daemon_ops *ops)
{
	daemon_ops = ops;
}

static json_t *
cmd_hello(struct command_args *a)
{
	json_t *r = proto_reply_ok(), *cmds = json_array();

	for (const struct proto_command_info *ci = proto_commands; ci->name; ci++)
		json_array_append_new(cmds, json_string(ci->name));
	json_object_set_new(r, PROTO_K_PROTOCOL, json_integer(PROTO_VERSION));
	json_object_set_new(r, PROTO_K_PROGRAM, json_string("vigild"));
	json_object_set_new(r, PROTO_K_VERSION, json_string(VIGIL_VERSION));
	json_object_set_new(r, PROTO_K_PID, json_integer(getpid()));
	json_object_set_new(r, PROTO_K_COMMANDS, cmds);
	json_object_set_new(r, PROTO_K_ACCESS,
	    json_string(proto_access_name(control_peer(a->client)->level)));
	if (daemon_ops != NULL)
		daemon_ops->hello(r);
	return r;
}

/* daemon-reexec: vigild executes its binary anew, keeping everything (handover.c) */
static json_t *
cmd_daemon_reexec(struct command_args *a)
{
	if (a->argc > 1)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST, "daemon-reexec takes no arguments");
	if (daemon_ops == NULL)
		return proto_reply_error(PROTO_ERR_INTERNAL, "daemon-reexec is not available");
	return daemon_ops->reexec();
}

static json_t *
cmd_help(struct command_args *a)
{
	json_t *r = proto_reply_ok(), *cmds = json_array();

	(void)a;
	for (const struct proto_command_info *ci = proto_commands; ci->name; ci++)
		json_array_append_new(cmds, json_pack("{s:s, s:s, s:s, s:s}", PROTO_K_NAME,
		    ci->name, PROTO_K_USAGE, ci->usage, PROTO_K_SUMMARY, ci->summary,
		    PROTO_K_ACCESS, proto_access_name(command_level(ci->name))));
	json_object_set_new(r, PROTO_K_COMMANDS, cmds);
	return r;
}

/*
 * The status reply is written one service object at a time, so a status
 * of a thousand services never holds a thousand-object tree and its
 * serialisation at once. Each object is still serialised by jansson.
 */
/* One service's object, serialised into buf (or *big when it does not fit); 0: out of memory. */
static size_t
status_object(struct service *s, int64_t now, unsigned fields, char *buf, size_t cap,
    char **big)
{
	json_t *o = status_service_json(s, now, fields);
	size_t len;

	*big = NULL;
	if (o == NULL)
		return 0;
	len = json_dumpb(o, buf, cap, PROTO_JSON_FLAGS);
	if (len == 0 || len > cap) {	/* unusually long reasons: take the slow path */
		*big = json_dumps(o, PROTO_JSON_FLAGS);
		len = *big ? strlen(*big) : 0;
	}
	json_decref(o);
	return len;
}

/*
 * The reply is queued, not yet sent, until the handler returns: a service
 * whose object cannot be built takes back what was queued, and the client
 * gets an `internal` error instead of a reply that leaves a service out.
 */
static void
write_status_reply(struct control_client *c, struct service **svcs, size_t n,
    unsigned fields)
{
	static const char head[] = PROTO_ARRAY_HEAD(PROTO_K_SERVICES), tail[] = PROTO_ARRAY_TAIL;
	int64_t now = status_now_ms();
	size_t mark = control_mark(c);
	char buf[4096], *big;

	if (control_write(c, head, sizeof(head) - 1) == -1)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t len = status_object(svcs[i], now, fields, buf, sizeof(buf), &big);
		int rc = len == 0 ? -2 : 0;

		if (rc == 0 && i > 0)
			rc = control_write(c, ",", 1);
		if (rc == 0)
			rc = control_write(c, big ? big : buf, len);
		free(big);
		if (rc == -1)
			return;		/* dropped for not reading */
		if (rc == -2) {
			control_rewind(c, mark);
			control_reply(c, NULL);
			return;
		}
	}
	control_write(c, tail, sizeof(tail) - 1);
}

/*
 * The options at the front of a's request, as opts names them (values by
 * index, see proto_parse_options); 0 and *first, or -1 and a bad-request
 * reply in *err.
 */
static int
options(struct command_args *a, const struct proto_option *opts, const char **values,
    size_t *first, json_t **err)
{
	char msg[256];

	if (proto_parse_options(a->argv, a->argc, opts, values, first, msg, sizeof(msg)) == 0)
		return 0;
	*err = proto_reply_error(PROTO_ERR_BAD_REQUEST, "%s", msg);
	return -1;
}

static json_t *
cmd_status(struct command_args *a)
{
	static const struct proto_option opts[] = {
		{ PROTO_OPT_FIELDS, PROTO_OPT_EQUALS }, { NULL, 0 },
	};
	struct service **svcs;
	unsigned fields = STATUS_ALL;
	const char *values[1], *bad = "";
	size_t first, badlen = 0, n;
	json_t *r;

	/* a client that shows a table asks only for its columns */
	if (options(a, opts, values, &first, &r) == -1)
		return r;
	if (values[0] != NULL && status_fields_parse(values[0], &fields, &bad, &badlen) == -1)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST, "status: --fields: "
		    "expected field names like name,state,pid, found '%.*s'", (int)badlen, bad);
	if (first == a->argc) {
		write_status_reply(a->client, vigild.services, vigild.nservices, fields);
		*a->deferred = true;	/* the reply is written */
		return NULL;
	}
	if (names_resolve(a->argv + first, a->argc - first, &svcs, &n, &r) == -1)
		return r;
	write_status_reply(a->client, svcs, n, fields);
	*a->deferred = true;
	free(svcs);
	return NULL;
}

/*
 * Parse [--wait[=DURATION]] [--] for start/stop/restart: 0 and the first
 * name's index, or -1 and the error reply in *err.
 */
static int
parse_action_options(struct command_args *a, size_t *first, int64_t *wait_ms, json_t **err)
{
	static const struct proto_option opts[] = {
		{ PROTO_OPT_WAIT, PROTO_OPT_ALONE_OR_EQUALS }, { NULL, 0 },
	};
	const char *values[1];

	*wait_ms = -1;
	if (options(a, opts, values, first, err) == -1)
		return -1;
	if (values[0] != NULL && values[0][0] == '\0')
		*wait_ms = WAIT_DEFAULT_MS;
	else if (values[0] != NULL &&
	    /* every wait ends: a parked client holds a slot until it does */
	    (duration_parse(values[0], wait_ms) == -1 || *wait_ms <= 0)) {
		*err = proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "%s: expected a duration above 0 like 250ms, 10s or 5m, found '%s'",
		    a->argv[0], values[0]);
		return -1;
	}
	if (*first >= a->argc) {
		*err = proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "%s: expected at least one service name", a->argv[0]);
		return -1;
	}
	return 0;
}

/*
 * The dependents a stop (or restart) of svcs stops (or restarts) too, by
 * name, each once, as {key: [names]}; NULL if none.
 */
static json_t *
also_affected(struct service **svcs, size_t n, const char *key)
{
	json_t *names = json_array(), *extra;
	struct service **deps;
	size_t nd;

	for (size_t i = 0; i < n; i++) {
		if ((deps = deps_dependents(svcs[i], &nd)) == NULL)
			continue;
		for (size_t k = 0; k < nd; k++) {
			bool named = false;
			size_t j;
			json_t *v;

			for (size_t m = 0; m < n; m++)
				named |= svcs[m] == deps[k];
			json_array_foreach(names, j, v)
				named |= strcmp(json_string_value(v), deps[k]->conf->name) == 0;
			if (!named)
				json_array_append_new(names, json_string(deps[k]->conf->name));
		}
		free(deps);
	}
	if (json_array_size(names) == 0) {
		json_decref(names);
		return NULL;
	}
	extra = json_object();
	json_object_set_new(extra, key, names);
	return extra;
}

/*
 * r with "services" (every field of each of svcs) and extra's fields;
 * steals r and extra. NULL, and nothing leaked, if any part could not be built.
 */
static json_t *
reply_with_services(json_t *r, struct service **svcs, size_t n, json_t *extra)
{
	json_t *arr = status_services_json(svcs, n);

	if (r == NULL || arr == NULL || json_object_set_new(r, PROTO_K_SERVICES, arr) == -1 ||
	    (extra != NULL && json_object_update(r, extra) == -1)) {
		if (r == NULL)
			json_decref(arr);
		json_decref(r);
		r = NULL;
	}
	json_decref(extra);
	return r;
}

/* Wait until svcs reach target (wait.c). Frees svcs; steals extra. */
static json_t *
wait_for(struct command_args *a, enum wait_target target, struct service **svcs,
    size_t n, int64_t wait_ms, json_t *extra)
{
	json_t *r = wait_start(a->client, target, svcs, n, wait_ms, extra, a->deferred);

	free(svcs);
	return r;
}

static json_t *
run_action(struct command_args *a, void (*action)(struct service *),
    enum wait_target target)
{
	json_t *extra = NULL;
	struct service **svcs;
	size_t first = 0, n;
	int64_t wait_ms;
	json_t *r;

	if (parse_action_options(a, &first, &wait_ms, &r) == -1)
		return r;
	/* start makes an instance of a template on demand; nothing else does */
	if (names_resolve_make(a->argv + first, a->argc - first, action == deps_start, &svcs,
	    &n, &r) == -1)
		return r;
	if (vigild.shutting_down && target == WAIT_READY) {
		free(svcs);
		return proto_reply_error(PROTO_ERR_SHUTTING_DOWN,
		    "vigild is shutting down: not starting anything");
	}
	if (action == deps_stop)
		extra = also_affected(svcs, n, "also_stopped");
	else if (action == deps_restart)
		extra = also_affected(svcs, n, "also_restarted");
	for (size_t i = 0; i < n; i++)
		action(svcs[i]);
	if (wait_ms >= 0)
		return wait_for(a, target, svcs, n, wait_ms, extra);
	r = reply_with_services(proto_reply_ok(), svcs, n, extra);
	free(svcs);
	return r;
}

static json_t *
cmd_start(struct command_args *a)
{
	return run_action(a, deps_start, WAIT_READY);
}

static json_t *
cmd_stop(struct command_args *a)
{
	return run_action(a, deps_stop, WAIT_STOPPED);
}

static json_t *
cmd_restart(struct command_args *a)
{
	return run_action(a, deps_restart, WAIT_READY);
}

/* wait [--for=TARGET] [--timeout=DURATION] [--] NAME...: nothing is done, only waited for */
static json_t *
cmd_wait(struct command_args *a)
{
	static const struct proto_option opts[] = {
		{ PROTO_OPT_FOR, PROTO_OPT_EQUALS }, { PROTO_OPT_TIMEOUT, PROTO_OPT_EQUALS },
		{ NULL, 0 },
	};
	enum wait_target target = WAIT_READY;
	int64_t wait_ms = WAIT_DEFAULT_MS;
	struct service **svcs;
	const char *values[2];
	size_t i, n;
	json_t *r;

	if (options(a, opts, values, &i, &r) == -1)
		return r;
	if (values[0] != NULL && wait_target_parse(values[0], &target) == -1)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST, "wait: --for: "
		    "expected running, ready, stopped or exited, found '%s'", values[0]);
	if (values[1] != NULL && (duration_parse(values[1], &wait_ms) == -1 || wait_ms <= 0))
		return proto_reply_error(PROTO_ERR_BAD_REQUEST, "wait: --timeout: "
		    "expected a duration above 0 like 250ms, 10s or 5m, found '%s'", values[1]);
	if (i >= a->argc)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "wait: expected at least one service name");
	if (names_resolve(a->argv + i, a->argc - i, &svcs, &n, &r) == -1)
		return r;
	return wait_for(a, target, svcs, n, wait_ms, NULL);
}

/* What one service's signal reached, for the reply: {name, signal, process_group, pid, processes}. */
static json_t *
delivered_json(const struct service *s, const char *sname, const struct service_signal_result *res)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", PROTO_K_NAME, s->conf->name,
	    PROTO_K_SIGNAL, sname,
	    PROTO_K_PROCESS_GROUP, res->group > 0 ? json_integer(res->group) : json_null(),
	    PROTO_K_PID, res->pid > 0 ? json_integer(res->pid) : json_null(),
	    PROTO_K_PROCESSES, res->processes >= 0 ? json_integer(res->processes) : json_null());
}

/*
 * signal [--main] SIGNAL NAME...: to every process of each service (its
 * cgroup; without cgroups its process group, and its main process when
 * MAINPID= moved that out of the group), or with --main to the main
 * process only. The reply says what the signal reached; one that reached
 * no process of a service is an error.
 */
static json_t *
cmd_signal(struct command_args *a)
{
	static const struct proto_option opts[] = {
		{ PROTO_OPT_MAIN, PROTO_OPT_ALONE }, { NULL, 0 },
	};
	struct service_signal_result res;
	struct service **svcs;
	json_t *r = NULL, *delivered;
	const char *sname, *values[1];
	char buf[16];
	size_t n, first;
	bool main_only;
	int sig;

	if (options(a, opts, values, &first, &r) == -1)
		return r;
	main_only = values[0] != NULL;
	if (a->argc < first + 2)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "signal: usage: signal [--main] SIGNAL NAME...");
	if ((sig = signame_parse(a->argv[first])) == -1)
		return proto_reply_error(PROTO_ERR_BAD_SIGNAL,
		    "signal: expected a signal name like TERM, HUP or USR1, found '%s'",
		    a->argv[first]);
	sname = signame_name(sig, buf, sizeof(buf));
	if (names_resolve(a->argv + first + 1, a->argc - first - 1, &svcs, &n, &r) == -1)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (svcs[i]->pid <= 0) {
			r = proto_reply_error(PROTO_ERR_NOT_RUNNING, "%s: %s, no process to signal",
			    svcs[i]->conf->name, service_state_name(svcs[i]->state));
			free(svcs);
			return r;
		}
	}
	delivered = json_array();
	for (size_t i = 0; i < n && r == NULL; i++) {
		log_notice("%s: sending %s to %s (requested)", svcs[i]->conf->name, sname,
		    main_only ? "its main process" : "every process of the service");
		if (service_signal(svcs[i], sig, main_only, &res) == 0 && res.reached) {
			json_array_append_new(delivered, delivered_json(svcs[i], sname, &res));
			continue;
		}
		log_warnx("%s: %s reached no process: %s", svcs[i]->conf->name, sname, res.why);
		r = proto_reply_error(res.failed ? PROTO_ERR_FAILED : PROTO_ERR_NOT_RUNNING,
		    "%s: %s reached no process: %s", svcs[i]->conf->name, sname, res.why);
		if (r == NULL)
			break;	/* out of memory: the client gets `internal` */
	}
	if (r == NULL && delivered != NULL && json_array_size(delivered) == n)
		r = proto_reply_ok();
	/* an error still says which services, named before the failing one, got it */
	if (r == NULL)
		json_decref(delivered);
	else if (json_object_set_new(r, PROTO_K_DELIVERED, delivered) == 0)
		r = reply_with_services(r, svcs, n, NULL);
	else {
		json_decref(r);
		r = NULL;
	}
	free(svcs);
	return r;
}

static json_t *
cmd_shutdown(struct command_args *a)
{
	json_t *r = proto_reply_ok();

	(void)a;
	json_object_set_new(r, PROTO_K_MESSAGE, json_string("stopping every service, then exiting"));
	supervisor_shutdown("shutdown requested");
	return r;
}

static json_t *
cmd_log(struct command_args *a)
{
	return logcmd_log(a->client, a->argv, a->argc, a->deferred);
}

static json_t *
cmd_log_reopen(struct command_args *a)
{
	return logcmd_reopen(a->argv, a->argc);
}

static json_t *
cmd_events(struct command_args *a)
{
	return events_request(a->client, a->argv, a->argc, a->deferred);
}

static json_t *
cmd_reload(struct command_args *a)
{
	static const struct proto_option opts[] = {
		{ PROTO_OPT_DRY_RUN, PROTO_OPT_ALONE }, { PROTO_OPT_NO_WAIT, PROTO_OPT_ALONE },
		{ NULL, 0 },
	};
	const char *values[2];
	uint64_t removed;
	size_t first;
	json_t *r;

	if (options(a, opts, values, &first, &r) == -1)
		return r;
	if (first < a->argc)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "reload: unknown argument '%s'", a->argv[first]);
	r = reload_run(values[0] != NULL, &removed);
	/* the reply comes once what this reload removed is stopped, unless --no-wait */
	if (r != NULL && removed != 0 && values[1] == NULL)
		return wait_retired(a->client, r, removed, a->deferred);
	return r;
}

/* metrics [--format=openmetrics|prometheus]: the text GET /metrics serves, in one reply */
static json_t *
cmd_metrics(struct command_args *a)
{
	static const struct proto_option opts[] = {
		{ PROTO_OPT_FORMAT, PROTO_OPT_EQUALS }, { NULL, 0 },
	};
	enum metrics_format f = METRICS_OPENMETRICS;
	const char *values[1];
	size_t first, len;
	char *text;
	json_t *r;

	if (options(a, opts, values, &first, &r) == -1)
		return r;
	if (values[0] != NULL && metrics_format_parse(values[0], &f) == -1)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST, "metrics: --format: "
		    "expected openmetrics or prometheus, found '%s'", values[0]);
	if (first < a->argc)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "metrics: unknown argument '%s'", a->argv[first]);
	if ((text = metrics_text(f, &len)) == NULL)
		return NULL;
	r = proto_reply_ok();
	if (r != NULL && (json_object_set_new(r, PROTO_K_FORMAT,
	    json_string(metrics_format_name(f))) == -1 ||
	    json_object_set_new(r, PROTO_K_TEXT, proto_stringn(text, len)) == -1)) {
		json_decref(r);
		r = NULL;
	}
	free(text);
	return r;
}

/*
 * show NAME...: read access, as status; the values of environment (and of
 * environment files) only for admin clients, the ones who can read and
 * change the config anyway: an environment is where secrets are passed.
 */
static json_t *
cmd_show(struct command_args *a)
{
	static const struct proto_option opts[] = { { NULL, 0 } };
	struct service **svcs;
	const char *values[1];
	size_t first, n;
	json_t *r;

	if (options(a, opts, values, &first, &r) == -1)
		return r;
	if (first == a->argc)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST, "show: expected service names");
	if (names_resolve(a->argv + first, a->argc - first, &svcs, &n, &r) == -1)
		return r;
	n = names_dedupe(svcs, n);
	r = show_reply(svcs, n, control_peer(a->client)->level >= PROTO_ACCESS_ADMIN);
	free(svcs);
	if (r == NULL)
		r = proto_reply_error(PROTO_ERR_INTERNAL, "show: out of memory");
	return r;
}

/*
 * Every verb, and the access level a client needs for it: the one place
 * that decides (doc/protocol.md lists them). read looks, operate acts on
 * services, admin changes vigild itself.
 */
static const struct {
	const char *name;
	command_fn  fn;
	enum proto_access level;
} command_table[] = {
	{ "hello",	cmd_hello,	PROTO_ACCESS_READ },
	{ "help",	cmd_help,	PROTO_ACCESS_READ },
	{ "status",	cmd_status,	PROTO_ACCESS_READ },
	{ "start",	cmd_start,	PROTO_ACCESS_OPERATE },
	{ "stop",	cmd_stop,	PROTO_ACCESS_OPERATE },
	{ "restart",	cmd_restart,	PROTO_ACCESS_OPERATE },
	{ "signal",	cmd_signal,	PROTO_ACCESS_OPERATE },
	{ "shutdown",	cmd_shutdown,	PROTO_ACCESS_ADMIN },
	{ "log",	cmd_log,	PROTO_ACCESS_READ },
	{ "log-reopen",	cmd_log_reopen,	PROTO_ACCESS_ADMIN },
	{ "wait",	cmd_wait,	PROTO_ACCESS_READ },
	{ "events",	cmd_events,	PROTO_ACCESS_READ },
	{ "reload",	cmd_reload,	PROTO_ACCESS_ADMIN },
	{ "daemon-reexec", cmd_daemon_reexec, PROTO_ACCESS_ADMIN },
	{ "show",	cmd_show,	PROTO_ACCESS_READ },
	{ "metrics",	cmd_metrics,	PROTO_ACCESS_READ },
};
#define NCOMMANDS	(sizeof(command_table) / sizeof(command_table[0]))

/* The level name needs; admin for a name not in the table (there is none). */
static enum proto_access
command_level(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, command_table[i].name) == 0)
			return command_table[i].level;
	return PROTO_ACCESS_ADMIN;
}

/*
 * The refusal of a verb above c's level. Logged once per connection: a
 * client that asks again and again in a loop costs one line, not a flood.
 */
static json_t *
refuse(struct control_client *c, const char *verb, enum proto_access needed)
{
	struct access_peer *p = control_peer(c);
	const char *need = proto_access_name(needed), *has = proto_access_name(p->level);
	json_t *r;

	if (!p->refusal_logged) {
		log_warnx("control: uid %u (pid %d) refused %s: needs %s access, granted %s",
		    (unsigned)p->uid, (int)p->pid, verb, need, has);
		p->refusal_logged = true;
	}
	r = proto_reply_error(PROTO_ERR_PERMISSION_DENIED,
	    "%s: permission denied: needs %s access, uid %u is granted %s", verb, need,
	    (unsigned)p->uid, has);
	if (r != NULL && (json_object_set_new(r, PROTO_K_NEEDED, json_string(need)) == -1 ||
	    json_object_set_new(r, PROTO_K_GRANTED, json_string(has)) == -1 ||
	    json_object_set_new(r, PROTO_K_UID, json_integer((json_int_t)p->uid)) == -1)) {
		json_decref(r);
		r = NULL;
	}
	return r;
}

json_t *
commands_dispatch(struct control_client *c, char **argv, size_t argc, bool *deferred)
{
	struct command_args a = { c, argv, argc, deferred };

	*deferred = false;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], command_table[i].name) != 0)
			continue;
		/* checked before a word of the request is looked at */
		if (control_peer(c)->level < command_table[i].level)
			return refuse(c, command_table[i].name, command_table[i].level);
		return command_table[i].fn(&a);
	}
	/* a verb is any bytes: cut it short, between two characters */
	return proto_reply_error(PROTO_ERR_UNKNOWN_COMMAND, "unknown command '%.*s'; try 'help'",
	    (int)utf8_truncate(argv[0], strlen(argv[0]), 64), argv[0]);
}
