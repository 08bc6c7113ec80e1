/*
 * commands.c: what each protocol request does, one small handler per verb.
 * Replies are built here; how they travel is control.c's business.
 */
#include "config.h"
#include "vigild.h"
#include "control.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "events.h"
#include "logcmd.h"
#include "proto.h"
#include "reload.h"
#include "signame.h"

#define WAIT_DEFAULT_MS 60000

struct command_args {
	struct control_client *client;
	char	**argv;
	size_t	  argc;
	bool	 *deferred;
};

typedef json_t *(*command_fn)(struct command_args *a);

/*
 * Resolve names into services. All or nothing: one unknown name fails the
 * whole request before anything is done. *out is malloc'd.
 */
/* A name given twice is followed, watched and shown once. */
size_t
commands_dedupe(struct service **svcs, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < out && svcs[j] != svcs[i]; j++)
			;
		if (j == out)
			svcs[out++] = svcs[i];
	}
	return out;
}

json_t *
commands_resolve_names(char **names, size_t n, struct service ***out)
{
	struct service **svcs = calloc(n ? n : 1, sizeof(*svcs));
	char unknown[1024] = "";
	size_t nunknown = 0;

	if (svcs == NULL)
		return proto_reply_error(PROTO_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if ((svcs[i] = supervisor_find(names[i])) != NULL)
			continue;
		if (nunknown++ > 0)
			strncat(unknown, ", ", sizeof(unknown) - strlen(unknown) - 1);
		strncat(unknown, names[i], sizeof(unknown) - strlen(unknown) - 1);
	}
	if (nunknown > 0) {
		free(svcs);
		return proto_reply_error(PROTO_ERR_NO_SUCH_SERVICE, "no such service: %s",
		    unknown);
	}
	*out = svcs;
	return NULL;
}

static json_t *
cmd_hello(struct command_args *a)
{
	json_t *r = proto_reply_ok(), *cmds = json_array();

	(void)a;
	for (const struct proto_command_info *ci = proto_commands; ci->name; ci++)
		json_array_append_new(cmds, json_string(ci->name));
	json_object_set_new(r, "protocol", json_integer(PROTO_VERSION));
	json_object_set_new(r, "program", json_string("vigild"));
	json_object_set_new(r, "version", json_string(VIGIL_VERSION));
	json_object_set_new(r, "pid", json_integer(getpid()));
	json_object_set_new(r, "commands", cmds);
	return r;
}

static json_t *
cmd_help(struct command_args *a)
{
	json_t *r = proto_reply_ok(), *cmds = json_array();

	(void)a;
	for (const struct proto_command_info *ci = proto_commands; ci->name; ci++)
		json_array_append_new(cmds, json_pack("{s:s, s:s, s:s}", "name",
		    ci->name, "usage", ci->usage, "summary", ci->summary));
	json_object_set_new(r, "commands", cmds);
	return r;
}

/*
 * The status reply is written one service object at a time, so a status
 * of a thousand services never holds a thousand-object tree and its
 * serialisation at once. Each object is still serialised by jansson.
 */
static void
write_status_reply(struct control_client *c, struct service **svcs, size_t n,
    unsigned fields)
{
	static const char head[] = "{\"ok\":true,\"services\":[", tail[] = "]}\n";
	int64_t now = supervisor_ops.now_ms();
	char buf[4096];

	if (control_write(c, head, sizeof(head) - 1) == -1)
		return;
	for (size_t i = 0; i < n; i++) {
		json_t *o = status_service_json(svcs[i], now, fields);
		size_t len = json_dumpb(o, buf + 1, sizeof(buf) - 1, PROTO_JSON_FLAGS);
		char *big = NULL;

		buf[0] = ',';
		if (len >= sizeof(buf) - 1) {	/* unusually long reasons: take the slow path */
			big = json_dumps(o, PROTO_JSON_FLAGS);
			len = big ? strlen(big) : 0;
		}
		json_decref(o);
		if (i > 0 && control_write(c, buf, 1) == -1)
			break;
		if (control_write(c, big ? big : buf + 1, len) == -1) {
			free(big);
			return;
		}
		free(big);
	}
	control_write(c, tail, sizeof(tail) - 1);
}

static json_t *
cmd_status(struct command_args *a)
{
	struct service **svcs;
	unsigned fields = STATUS_ALL;
	const char *bad = "";
	size_t first = 1;
	json_t *r;

	/* [--fields=LIST] [--]: a client that shows a table asks only for its columns */
	for (; first < a->argc && strncmp(a->argv[first], "--", 2) == 0; first++) {
		if (strcmp(a->argv[first], "--") == 0) {
			first++;
			break;
		}
		if (strncmp(a->argv[first], "--fields=", 9) != 0)
			return proto_reply_error(PROTO_ERR_BAD_REQUEST,
			    "status: unknown option '%s'", a->argv[first]);
		if (status_fields_parse(a->argv[first] + 9, &fields, &bad) == -1)
			return proto_reply_error(PROTO_ERR_BAD_REQUEST,
			    "status: expected field names like name,state,pid, found '%s'", bad);
	}
	if (first == a->argc) {
		write_status_reply(a->client, vigild.services, vigild.nservices, fields);
		*a->deferred = true;	/* the reply is written */
		return NULL;
	}
	if ((r = commands_resolve_names(a->argv + first, a->argc - first, &svcs)) != NULL)
		return r;
	write_status_reply(a->client, svcs, a->argc - first, fields);
	*a->deferred = true;
	free(svcs);
	return NULL;
}

/* Parse [--wait[=DURATION]] [--] for start/stop/restart; returns the first name's index. */
static json_t *
parse_action_options(struct command_args *a, size_t *first, int64_t *wait_ms)
{
	size_t i = 1;

	*wait_ms = -1;
	for (; i < a->argc && strncmp(a->argv[i], "--", 2) == 0; i++) {
		const char *opt = a->argv[i];
		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		} else if (strcmp(opt, "--wait") == 0) {
			*wait_ms = WAIT_DEFAULT_MS;
		} else if (strncmp(opt, "--wait=", 7) == 0) {
			/* every wait ends: a parked client holds a slot until it does */
			if (duration_parse(opt + 7, wait_ms) == -1 || *wait_ms <= 0)
				return proto_reply_error(PROTO_ERR_BAD_REQUEST,
				    "%s: expected a duration above 0 like 250ms, 10s or 5m, found '%s'",
				    a->argv[0], opt + 7);
		} else {
			return proto_reply_error(PROTO_ERR_BAD_REQUEST,
			    "%s: unknown option '%s'", a->argv[0], opt);
		}
	}
	if (i >= a->argc)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "%s: expected at least one service name", a->argv[0]);
	*first = i;
	return NULL;
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
		if ((deps = supervisor_dependents(svcs[i], &nd)) == NULL)
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
 * Wait until svcs reach target: the reply now if they are there (or can no
 * longer get there), else park the client. Frees svcs; steals extra.
 */
static json_t *
wait_for(struct command_args *a, enum wait_target target, struct service **svcs,
    size_t n, int64_t wait_ms, json_t *extra)
{
	struct wait *w = wait_new(target, svcs, n, wait_ms);
	json_t *r;

	free(svcs);
	if (w == NULL) {
		json_decref(extra);
		return proto_reply_error(PROTO_ERR_INTERNAL, "out of memory");
	}
	wait_set_extra(w, extra);
	if ((r = wait_check(w)) != NULL) {
		wait_free(w);
		return r;
	}
	control_defer(a->client, w);
	*a->deferred = true;
	return NULL;
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

	if ((r = parse_action_options(a, &first, &wait_ms)) != NULL)
		return r;
	n = a->argc - first;
	if ((r = commands_resolve_names(a->argv + first, n, &svcs)) != NULL)
		return r;
	if (vigild.shutting_down && target == WAIT_READY) {
		free(svcs);
		return proto_reply_error(PROTO_ERR_SHUTTING_DOWN,
		    "vigild is shutting down: not starting anything");
	}
	if (action == supervisor_stop)
		extra = also_affected(svcs, n, "also_stopped");
	else if (action == supervisor_restart)
		extra = also_affected(svcs, n, "also_restarted");
	for (size_t i = 0; i < n; i++)
		action(svcs[i]);
	if (wait_ms >= 0)
		return wait_for(a, target, svcs, n, wait_ms, extra);
	r = proto_reply_ok();
	json_object_set_new(r, "services", status_services_json(svcs, n));
	if (extra != NULL)
		json_object_update(r, extra);
	json_decref(extra);
	free(svcs);
	return r;
}

static json_t *
cmd_start(struct command_args *a)
{
	return run_action(a, supervisor_start, WAIT_READY);
}

static json_t *
cmd_stop(struct command_args *a)
{
	return run_action(a, supervisor_stop, WAIT_STOPPED);
}

static json_t *
cmd_restart(struct command_args *a)
{
	return run_action(a, supervisor_restart, WAIT_READY);
}

/* wait [--for=TARGET] [--timeout=DURATION] [--] NAME...: nothing is done, only waited for */
static json_t *
cmd_wait(struct command_args *a)
{
	enum wait_target target = WAIT_READY;
	int64_t wait_ms = WAIT_DEFAULT_MS;
	struct service **svcs;
	size_t i = 1;
	json_t *r;

	for (; i < a->argc && strncmp(a->argv[i], "--", 2) == 0; i++) {
		const char *opt = a->argv[i];
		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		} else if (strncmp(opt, "--for=", 6) == 0) {
			if (wait_target_parse(opt + 6, &target) == -1)
				return proto_reply_error(PROTO_ERR_BAD_REQUEST, "wait: --for: "
				    "expected running, ready, stopped or exited, found '%s'", opt + 6);
		} else if (strncmp(opt, "--timeout=", 10) == 0) {
			if (duration_parse(opt + 10, &wait_ms) == -1 || wait_ms <= 0)
				return proto_reply_error(PROTO_ERR_BAD_REQUEST, "wait: --timeout: "
				    "expected a duration above 0 like 250ms, 10s or 5m, found '%s'",
				    opt + 10);
		} else {
			return proto_reply_error(PROTO_ERR_BAD_REQUEST,
			    "wait: unknown option '%s'", opt);
		}
	}
	if (i >= a->argc)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "wait: expected at least one service name");
	if ((r = commands_resolve_names(a->argv + i, a->argc - i, &svcs)) != NULL)
		return r;
	return wait_for(a, target, svcs, a->argc - i, wait_ms, NULL);
}

static json_t *
cmd_signal(struct command_args *a)
{
	struct service **svcs;
	char buf[16];
	json_t *r;
	int sig;

	if (a->argc < 3)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "signal: usage: signal SIGNAL NAME...");
	if ((sig = signame_parse(a->argv[1])) == -1)
		return proto_reply_error(PROTO_ERR_BAD_SIGNAL,
		    "signal: expected a signal name like TERM, HUP or USR1, found '%s'",
		    a->argv[1]);
	if ((r = commands_resolve_names(a->argv + 2, a->argc - 2, &svcs)) != NULL)
		return r;
	for (size_t i = 0; i < a->argc - 2; i++) {
		if (svcs[i]->pid <= 0) {
			r = proto_reply_error(PROTO_ERR_NOT_RUNNING, "%s: %s, no process to signal",
			    svcs[i]->conf->name, service_state_name(svcs[i]->state));
			free(svcs);
			return r;
		}
	}
	for (size_t i = 0; i < a->argc - 2; i++) {
		log_notice("%s: sending %s to process group %d (requested)",
		    svcs[i]->conf->name, signame_name(sig, buf, sizeof(buf)), (int)svcs[i]->pid);
		if (supervisor_ops.kill(svcs[i]->pid, sig) == -1) {
			r = proto_reply_error(PROTO_ERR_FAILED, "%s: kill: %s",
			    svcs[i]->conf->name, strerror(errno));
			free(svcs);
			return r;
		}
	}
	r = proto_reply_ok();
	json_object_set_new(r, "services", status_services_json(svcs, a->argc - 2));
	free(svcs);
	return r;
}

static json_t *
cmd_shutdown(struct command_args *a)
{
	json_t *r = proto_reply_ok();

	(void)a;
	json_object_set_new(r, "message", json_string("stopping every service, then exiting"));
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
	bool dry_run = false;

	for (size_t i = 1; i < a->argc; i++) {
		if (strcmp(a->argv[i], "--dry-run") != 0)
			return proto_reply_error(PROTO_ERR_BAD_REQUEST,
			    "reload: unknown argument '%s'", a->argv[i]);
		dry_run = true;
	}
	return reload_run(dry_run);
}

static const struct {
	const char *name;
	command_fn  fn;
} command_table[] = {
	{ "hello", cmd_hello },
	{ "help", cmd_help },
	{ "status", cmd_status },
	{ "start", cmd_start },
	{ "stop", cmd_stop },
	{ "restart", cmd_restart },
	{ "signal", cmd_signal },
	{ "shutdown", cmd_shutdown },
	{ "log", cmd_log },
	{ "log-reopen", cmd_log_reopen },
	{ "wait", cmd_wait },
	{ "events", cmd_events },
	{ "reload", cmd_reload },
};

json_t *
commands_dispatch(struct control_client *c, char **argv, size_t argc, bool *deferred)
{
	struct command_args a = { c, argv, argc, deferred };

	*deferred = false;
	for (size_t i = 0; i < sizeof(command_table) / sizeof(command_table[0]); i++)
		if (strcmp(argv[0], command_table[i].name) == 0)
			return command_table[i].fn(&a);
	return proto_reply_error(PROTO_ERR_UNKNOWN_COMMAND,
	    "unknown command '%.64s'; try 'help'", argv[0]);
}
