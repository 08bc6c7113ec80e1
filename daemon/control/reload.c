/*
 * reload.c: `reload [--dry-run]` and SIGHUP. The whole config is read
 * again; with any error in it nothing changes. Else the plan of
 * reload_plan.c is carried out in two steps: first everything that can
 * fail is allocated, then the set is switched in one go. A service that
 * stays keeps its struct service (pid, state, history, output), removed
 * ones go to retire.c. The [vigil] settings that cannot change under a
 * running vigild keep their running value; access applies to new clients.
 */
#include "config.h"
#include "reload.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "control.h"
#include "core/cgroup.h"
#include "core/core.h"
#include "core/deps.h"
#include "core/outer.h"
#include "core/world.h"
#include "output/console.h"
#include "output/output.h"
#include "proto.h"
#include "safedir.h"

/* What a reload holds between allocating and switching. */
struct reload_apply {
	struct config	*conf;		/* the new one */
	const struct reload_plan *plan;
	struct service	**svcs;		/* the new set, in conf's order */
	struct dependents *deps;	/* built from conf */
	struct retired	*retired;	/* room for the removed; NULL if none */
};

static json_t *
invalid_reply(const char *file, const struct config_errors *errs)
{
	json_t *list = json_array(), *r;

	for (size_t i = 0; i < errs->n; i++) {
		log_warnx("reload: %s", errs->msgs[i]);
		json_array_append_new(list, proto_string(errs->msgs[i]));
	}
	log_warnx("reload: %s: %zu error%s, nothing changed", file, errs->n,
	    errs->n == 1 ? "" : "s");
	r = proto_reply_error(PROTO_ERR_INVALID_CONFIG, "%s: %zu error%s, nothing changed",
	    file, errs->n, errs->n == 1 ? "" : "s");
	if (r != NULL)
		json_object_set_new(r, PROTO_K_ERRORS, list);
	else
		json_decref(list);
	return r;
}

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
warn_into(json_t *list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
warn_into(json_t *list, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("reload: %s", msg);
	json_array_append_new(list, proto_string(msg));
}

/*
 * The [vigil] settings a running vigild keeps: clients know the socket
 * (and scrapers the metrics address), log files are open in log_dir, and where vigild's own log goes was
 * chosen at start. log_level applies at once; the defaults of log_* keys
 * reach the services through their own definitions.
 */
static json_t *
vigil_warnings(const struct config *now, const struct config *conf)
{
	json_t *w = json_array();

	if (w == NULL)
		return NULL;
	if (!same_str(now->socket_path, conf->socket_path))
		warn_into(w, "[vigil] socket: changed to %s; takes effect when vigild "
		    "restarts, until then it listens on %s", conf->socket_path,
		    now->socket_path);
	if (!same_str(now->cgroup, conf->cgroup))
		warn_into(w, "[vigil] cgroup: changed to %s; takes effect when vigild "
		    "restarts", conf->cgroup != NULL ? conf->cgroup : "auto");
	if (!same_str(now->log_dir, conf->log_dir))
		warn_into(w, "[vigil] log_dir: changed to %s; takes effect when vigild "
		    "restarts, until then log files stay in %s", conf->log_dir, now->log_dir);
	if (now->log_target != conf->log_target)
		warn_into(w, "[vigil] log_target: changed; takes effect when vigild restarts");
	if (!same_str(now->metrics_listen, conf->metrics_listen))
		warn_into(w, "[vigil] metrics_listen: changed to %s; takes effect when vigild "
		    "restarts, until then %s%s", conf->metrics_listen != NULL ?
		    conf->metrics_listen : "off", now->metrics_listen != NULL ?
		    "metrics are served on " : "metrics are not served over HTTP",
		    now->metrics_listen != NULL ? now->metrics_listen : "");
	return w;
}

/* conf takes the running values of what vigil_warnings named; old frees the new ones. */
static void
keep_running_settings(struct config *old, struct config *conf)
{
	char *t;

	t = conf->socket_path;
	conf->socket_path = old->socket_path;
	old->socket_path = t;
	t = conf->log_dir;
	conf->log_dir = old->log_dir;
	old->log_dir = t;
	t = conf->cgroup;
	conf->cgroup = old->cgroup;
	old->cgroup = t;
	t = conf->metrics_listen;
	conf->metrics_listen = old->metrics_listen;
	old->metrics_listen = t;
	conf->log_target = old->log_target;
	console_configure(vigild.loop, conf);
	if (conf->log_level != old->log_level) {
		log_set_level(conf->log_level);
		log_notice("reload: log_level is now %s", log_level_name(conf->log_level));
	}
}

static bool
logs_to_file(const struct service_conf *c)
{
	return c->stdout_to == OUTPUT_TO_LOG || c->stderr_to == OUTPUT_TO_LOG;
}

/* Whether the running set logs name to its file already: then no new file is opened. */
static bool
already_logging(const char *name)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (strcmp(vigild.services[i]->conf->name, name) == 0)
			return logs_to_file(vigild.services[i]->conf);
	return false;
}

static void
errors_add(struct config_errors *errs, const struct service_conf *c, const char *what,
    const char *err)
{
	char **msgs, *msg;

	if (asprintf(&msg, "%s:%d: [service:%s] %s %s", c->file, c->line, c->name, what,
	    err) == -1)
		return;
	if ((msgs = reallocarray(errs->msgs, errs->n + 1, sizeof(*msgs))) == NULL) {
		free(msg);
		return;
	}
	errs->msgs = msgs;
	errs->msgs[errs->n++] = msg;
}

/*
 * A service that starts to log with this reload gets a log file's checks
 * (safedir.h) now: one that fails them fails the reload, and nothing
 * changes, rather than a service whose output goes nowhere.
 */
static void
check_new_log_files(const struct config *conf, struct config_errors *errs)
{
	char path[PATH_MAX], err[1024];
	bool dir_checked = false;

	for (size_t i = 0; i < conf->nservices; i++) {
		const struct service_conf *c = conf->services[i];

		if (!logs_to_file(c) || already_logging(c->name))
			continue;
		if (!dir_checked && safedir_make(vigild.conf->log_dir, 0755, SAFEDIR_PARENTS,
		    "log folder", "set [vigil] log_dir = to a folder of your own and restart "
		    "vigild", err, sizeof(err)) == -1) {
			errors_add(errs, c, "its", err);
			return;
		}
		dir_checked = true;
		snprintf(path, sizeof(path), "%s/%s.log", vigild.conf->log_dir, c->name);
		if (safefile_check_path(path, err, sizeof(err)) == -1)
			errors_add(errs, c, "its log file", err);
	}
}

static void
apply_undo(struct reload_apply *a)
{
	for (size_t i = 0; a->svcs != NULL && i < a->plan->n; i++)
		if (a->plan->items[i].action == RELOAD_ADDED)
			service_free(a->svcs[a->plan->items[i].new_index]);
	free(a->svcs);
	deps_table_free(a->deps, a->conf->nservices);
	retire_discard(a->retired);
}

/* Everything the switch needs that can fail; -1 leaves the running set as it was. */
static int
apply_prepare(struct reload_apply *a)
{
	const struct reload_plan *plan = a->plan;
	size_t n = a->conf->nservices, nremoved = plan->count[RELOAD_REMOVED];

	a->svcs = calloc(n ? n : 1, sizeof(*a->svcs));
	a->deps = deps_table_new(a->conf);
	if (nremoved > 0)
		a->retired = retire_new(nremoved);
	if (a->svcs == NULL || a->deps == NULL || (nremoved > 0 && a->retired == NULL))
		return -1;
	for (size_t i = 0; i < plan->n; i++) {
		const struct reload_item *it = &plan->items[i];

		if (it->action == RELOAD_ADDED && (a->svcs[it->new_index] =
		    world_service_new(a->conf->services[it->new_index],
		    it->new_index)) == NULL)
			return -1;
	}
	return 0;
}

/* The services that stay, and the removed, leave the old set; nothing here fails. */
static void
switch_services(struct reload_apply *a, struct config *old)
{
	struct service **was = vigild.services;

	for (size_t i = 0; i < a->plan->n; i++) {
		const struct reload_item *it = &a->plan->items[i];
		struct service *s = it->action == RELOAD_ADDED ? NULL : was[it->old_index];

		switch (it->action) {
		case RELOAD_ADDED:
			break;
		case RELOAD_REMOVED:
			world_removed(s);
			retire_add(a->retired, s, config_take_service(old, it->old_index));
			break;
		case RELOAD_RESTARTED:
			/* the old process is stopped as its definition says (stop_signal) */
			if (s->state == SERVICE_STARTING || s->state == SERVICE_RUNNING)
				service_restart(s);
			/* FALLTHROUGH */
		case RELOAD_UPDATED:
		case RELOAD_UNCHANGED:
		case RELOAD_NACTIONS:
			s->conf = a->conf->services[it->new_index];
			/* memory_max and the like apply to the running cgroup */
			if (it->action == RELOAD_UPDATED)
				cgroup_limits_changed(s);
			s->index = it->new_index;
			a->svcs[it->new_index] = s;
			break;
		}
	}
}

static void
apply_commit(struct reload_apply *a)
{
	struct config *old = vigild.conf;

	switch_services(a, old);
	keep_running_settings(old, a->conf);
	/* socket_group and the lists: the socket file now, each client when it connects */
	if (access_changed(old, a->conf)) {
		log_notice("reload: control access changed: new connections get the new "
		    "levels, connected clients keep theirs until they reconnect");
		(void)control_socket_access(a->conf);	/* logged; a failure leaves it 0600 */
	}
	supervisor_install(a->conf, a->svcs, a->deps);
	config_free(old);
	for (size_t i = 0; i < a->plan->n; i++) {
		const struct reload_item *it = &a->plan->items[i];
		struct service *s;

		if (it->action == RELOAD_REMOVED)
			continue;
		s = vigild.services[it->new_index];
		if (it->action == RELOAD_ADDED) {
			if ((s->output = output_new(s->conf, s)) == NULL)
				log_warn("%s: setting up output capture", s->conf->name);
			/* as at vigild's start: what it requires is not pulled in */
			deps_job_set(s, s->conf->autostart ? JOB_START : JOB_NONE);
			continue;
		}
		/* every one: its log file names it by the new definition's string */
		output_apply(s->output, s->conf, s->pid > 0);
		/* a service in back-off was going to run: it runs the new definition now */
		if (it->action == RELOAD_RESTARTED && s->state == SERVICE_BACKOFF)
			service_start(s);
	}
	if (a->retired != NULL)
		retire_start(a->retired);
	deps_evaluate();
}

/* The reply for a plan, built before anything changes (names are borrowed). */
static json_t *
plan_reply(const struct reload_plan *plan, const struct config *conf, bool dry_run)
{
	json_t *r = proto_reply_ok(), *p = reload_plan_json(plan);
	json_t *w = vigil_warnings(vigild.conf, conf);

	if (r == NULL || p == NULL || w == NULL) {
		json_decref(r);
		json_decref(p);
		json_decref(w);
		return NULL;
	}
	json_object_set_new(r, PROTO_K_DRY_RUN, json_boolean(dry_run));
	json_object_update(r, p);
	json_decref(p);
	json_object_set_new(r, PROTO_K_WARNINGS, w);
	return r;
}

/* The plan, and the reply saying it; -1 when out of memory. */
static int
make_plan(struct config *conf, bool dry_run, struct reload_plan *plan, json_t **reply,
    char **text)
{
	const struct service_conf **old = calloc(vigild.nservices + 1, sizeof(*old));
	int rc = -1;

	*reply = NULL;
	*text = NULL;
	for (size_t i = 0; old != NULL && i < vigild.nservices; i++)
		old[i] = vigild.services[i]->conf;
	if (old != NULL && reload_plan_build(old, vigild.nservices, conf, plan) == 0) {
		*reply = plan_reply(plan, conf, dry_run);
		*text = reload_plan_text(plan);
		if (*reply != NULL && *text != NULL)
			rc = 0;
		else
			reload_plan_free(plan);
	}
	free(old);
	if (rc == -1) {
		json_decref(*reply);
		free(*text);
	}
	return rc;
}

static json_t *reload_apply_file(bool dry_run, uint64_t *removed);

/* A real reload is told to the supervisor above us, before and after, whatever its outcome. */
json_t *
reload_run(bool dry_run, uint64_t *removed)
{
	json_t *r;

	if (dry_run || vigild.shutting_down || vigild.conf->from_command)
		return reload_apply_file(dry_run, removed);
	outer_reloading();
	r = reload_apply_file(dry_run, removed);
	outer_reloaded();
	return r;
}

static json_t *
reload_apply_file(bool dry_run, uint64_t *removed)
{
	struct config_errors errs = { NULL, 0 };
	struct reload_apply a = { 0 };
	struct reload_plan p;
	json_t *r;
	char *text;

	*removed = 0;
	if (vigild.shutting_down) {
		log_notice("reload: vigild is shutting down, not reloading");
		return proto_reply_error(PROTO_ERR_SHUTTING_DOWN,
		    "vigild is shutting down: not reloading");
	}
	if (vigild.conf->from_command) {
		log_notice("reload: vigild runs one command (vigild --), not a configuration file");
		return proto_reply_error(PROTO_ERR_FAILED, "vigild runs one command "
		    "(vigild --): there is no configuration file to reload");
	}
	log_notice("reload: reading %s%s", vigild.conf->file, dry_run ? " (dry run)" : "");
	if ((a.conf = config_load(vigild.conf->file, &errs)) == NULL) {
		r = invalid_reply(vigild.conf->file, &errs);
		config_errors_free(&errs);
		return r;
	}
	supervisor_carry_instances(a.conf, false, &errs);
	check_new_log_files(a.conf, &errs);
	if (errs.n > 0) {
		r = invalid_reply(vigild.conf->file, &errs);
		config_errors_free(&errs);
		config_free(a.conf);
		return r;
	}
	if (make_plan(a.conf, dry_run, &p, &r, &text) == -1) {
		config_free(a.conf);
		log_warnx("reload: out of memory, nothing changed");
		return proto_reply_error(PROTO_ERR_INTERNAL, "out of memory, nothing changed");
	}
	a.plan = &p;
	if (dry_run) {
		config_free(a.conf);
	} else if (apply_prepare(&a) == -1) {
		apply_undo(&a);
		config_free(a.conf);
		json_decref(r);
		r = proto_reply_error(PROTO_ERR_INTERNAL, "out of memory, nothing changed");
		log_warnx("reload: out of memory, nothing changed");
	} else {
		*removed = retire_id(a.retired);	/* before the batch can be freed */
		apply_commit(&a);
	}
	if (json_is_true(json_object_get(r, PROTO_K_OK)))
		log_notice("reload%s: %s", dry_run ? " (dry run, nothing changed)" : "", text);
	free(text);
	reload_plan_free(&p);
	return r;
}
