/*
 * reload_plan.c: what a reload would do to each service, found by comparing
 * the running definitions with a freshly loaded config, name by name. It
 * touches no service, so `reload --dry-run` and the unit tests use it as it
 * is; carrying the plan out belongs to reload.c.
 */
#include "config.h"
#include "conf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reload_field {
	const char	*key;
	enum reload_class class;
	bool		(*same)(const struct service_conf *a, const struct service_conf *b,
			    const struct reload_field *f);
	size_t		 off, size;	/* the field, for the generic comparisons */
};

/* Where f's field is in c, for the generic comparisons. */
static const void *
at(const struct service_conf *c, const struct reload_field *f)
{
	return (const char *)c + f->off;
}

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Booleans, numbers and enums: the same bytes. */
static bool
same_scalar(const struct service_conf *a, const struct service_conf *b,
    const struct reload_field *f)
{
	return memcmp(at(a, f), at(b, f), f->size) == 0;
}

static bool
same_string(const struct service_conf *a, const struct service_conf *b,
    const struct reload_field *f)
{
	return same_str(*(char *const *)at(a, f), *(char *const *)at(b, f));
}

/* NULL-terminated word vectors; NULL is the same as empty. */
static bool
same_words(const struct service_conf *a, const struct service_conf *b,
    const struct reload_field *f)
{
	char *const *x = *(char **const *)at(a, f), *const *y = *(char **const *)at(b, f);
	size_t i = 0;

	for (; x != NULL && y != NULL && x[i] != NULL && y[i] != NULL; i++)
		if (strcmp(x[i], y[i]) != 0)
			return false;
	return (x == NULL || x[i] == NULL) && (y == NULL || y[i] == NULL);
}

/* The name as written and what it resolved to: the passwd entry may have changed. */
static bool
same_user(const struct service_conf *a, const struct service_conf *b,
    const struct reload_field *f)
{
	(void)f;
	return same_str(a->user, b->user) && a->set_ids == b->set_ids &&
	    a->uid == b->uid && a->ngroups == b->ngroups &&
	    (a->ngroups == 0 || memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t)) == 0);
}

static bool
same_group(const struct service_conf *a, const struct service_conf *b,
    const struct reload_field *f)
{
	(void)f;
	return same_str(a->group, b->group) && a->gid == b->gid;
}

static bool
same_stdout(const struct service_conf *a, const struct service_conf *b,
    const struct reload_field *f)
{
	(void)f;
	return a->stdout_to == b->stdout_to && same_str(a->stdout_path, b->stdout_path);
}

static bool
same_stderr(const struct service_conf *a, const struct service_conf *b,
    const struct reload_field *f)
{
	(void)f;
	return a->stderr_to == b->stderr_to && same_str(a->stderr_path, b->stderr_path);
}

/* "ready = none" written or left out is the same thing */
static bool
same_ready(const struct service_conf *a, const struct service_conf *b,
    const struct reload_field *f)
{
	(void)f;
	return a->ready == b->ready &&
	    same_str(a->ready == READY_NONE ? NULL : a->ready_spec,
	    b->ready == READY_NONE ? NULL : b->ready_spec);
}

#define SCALAR(f)	same_scalar, offsetof(struct service_conf, f), \
			    sizeof(((struct service_conf *)0)->f)
#define STRING(f)	same_string, offsetof(struct service_conf, f), 0
#define WORDS(f)	same_words, offsetof(struct service_conf, f), 0
#define WHOLE(fn)	fn, 0, 0

/*
 * The rule: what the child is built from (argv, environment, ids,
 * directory, umask, the fds it gets) restarts a service that has a
 * process, because only a new process can take it; what only steers
 * vigild around the process (when to restart it, how to stop it, how much
 * of its output to keep, what it waits for) applies in place and the
 * process is kept. A key of [service:NAME] is one row here: the unit test
 * fails for a key without one. requires and after only order starts and
 * stops, so a change to them restarts nothing.
 */
static const struct reload_field fields[] = {
	{ "command",		RELOAD_RESTARTS, WORDS(argv) },
	{ "environment",	RELOAD_RESTARTS, WORDS(environment) },
	{ "clear_environment",	RELOAD_RESTARTS, SCALAR(clear_environment) },
	{ "directory",		RELOAD_RESTARTS, STRING(directory) },
	{ "user",		RELOAD_RESTARTS, WHOLE(same_user) },
	{ "group",		RELOAD_RESTARTS, WHOLE(same_group) },
	{ "umask",		RELOAD_RESTARTS, SCALAR(umask) },
	{ "limit_nofile",	RELOAD_RESTARTS, SCALAR(limits[LIMIT_NOFILE]) },
	{ "limit_nproc",	RELOAD_RESTARTS, SCALAR(limits[LIMIT_NPROC]) },
	{ "limit_core",		RELOAD_RESTARTS, SCALAR(limits[LIMIT_CORE]) },
	{ "limit_as",		RELOAD_RESTARTS, SCALAR(limits[LIMIT_AS]) },
	{ "limit_fsize",	RELOAD_RESTARTS, SCALAR(limits[LIMIT_FSIZE]) },
	{ "limit_memlock",	RELOAD_RESTARTS, SCALAR(limits[LIMIT_MEMLOCK]) },
	{ "limit_stack",	RELOAD_RESTARTS, SCALAR(limits[LIMIT_STACK]) },
	{ "limit_cpu",		RELOAD_RESTARTS, SCALAR(limits[LIMIT_CPU]) },
	{ "nice",		RELOAD_RESTARTS, SCALAR(nice) },
	{ "oom_score_adj",	RELOAD_RESTARTS, SCALAR(oom_score_adj) },
	{ "no_new_privileges",	RELOAD_RESTARTS, SCALAR(no_new_privileges) },
	{ "capabilities",	RELOAD_RESTARTS, SCALAR(capabilities) },
	{ "syscall_filter",	RELOAD_RESTARTS, STRING(syscall_filter) },
	{ "syscall_filter_action", RELOAD_RESTARTS, SCALAR(syscall_filter_action) },
	/* the paths; what the files hold is read at each start, as a restart does */
	{ "environment_file",	RELOAD_RESTARTS, WORDS(environment_files) },
	/* files of the service's cgroup: rewritten there, the process kept (reload.c) */
	{ "memory_max",		RELOAD_IN_PLACE, STRING(cglimits[CGLIMIT_MEMORY_MAX]) },
	{ "memory_high",	RELOAD_IN_PLACE, STRING(cglimits[CGLIMIT_MEMORY_HIGH]) },
	{ "pids_max",		RELOAD_IN_PLACE, STRING(cglimits[CGLIMIT_PIDS_MAX]) },
	{ "cpu_weight",		RELOAD_IN_PLACE, STRING(cglimits[CGLIMIT_CPU_WEIGHT]) },
	{ "cpu_max",		RELOAD_IN_PLACE, STRING(cglimits[CGLIMIT_CPU_MAX]) },
	{ "io_weight",		RELOAD_IN_PLACE, STRING(cglimits[CGLIMIT_IO_WEIGHT]) },
	{ "chroot",		RELOAD_RESTARTS, STRING(chroot) },
	{ "private_tmp",	RELOAD_RESTARTS, SCALAR(private_tmp) },
	{ "private_network",	RELOAD_RESTARTS, SCALAR(private_network) },
	{ "read_only_paths",	RELOAD_RESTARTS, WORDS(read_only_paths) },
	{ "inaccessible_paths",	RELOAD_RESTARTS, WORDS(inaccessible_paths) },
	{ "stdout",		RELOAD_RESTARTS, WHOLE(same_stdout) },
	{ "stderr",		RELOAD_RESTARTS, WHOLE(same_stderr) },
	{ "autostart",		RELOAD_IN_PLACE, SCALAR(autostart) },
	{ "essential",		RELOAD_IN_PLACE, SCALAR(essential) },
	{ "restart",		RELOAD_IN_PLACE, SCALAR(restart) },
	{ "restart_delay",	RELOAD_IN_PLACE, SCALAR(restart_delay_ms) },
	{ "restart_delay_max",	RELOAD_IN_PLACE, SCALAR(restart_delay_max_ms) },
	{ "start_secs",		RELOAD_IN_PLACE, SCALAR(start_secs_ms) },
	{ "start_retries",	RELOAD_IN_PLACE, SCALAR(start_retries) },
	/* the fd it writes to, NOTIFY_SOCKET and WATCHDOG_USEC are the child's */
	{ "ready",		RELOAD_RESTARTS, WHOLE(same_ready) },
	{ "watchdog",		RELOAD_RESTARTS, SCALAR(watchdog_ms) },
	{ "ready_timeout",	RELOAD_IN_PLACE, SCALAR(ready_timeout_ms) },
	{ "requires",		RELOAD_IN_PLACE, WORDS(requires_names) },
	{ "after",		RELOAD_IN_PLACE, WORDS(after_names) },
	{ "stop_signal",	RELOAD_IN_PLACE, SCALAR(stop_signal) },
	{ "stop_timeout",	RELOAD_IN_PLACE, SCALAR(stop_timeout_ms) },
	{ "kill_mode",		RELOAD_IN_PLACE, SCALAR(kill_mode) },
	{ "log_max_size",	RELOAD_IN_PLACE, SCALAR(log_max_size) },
	{ "log_keep",		RELOAD_IN_PLACE, SCALAR(log_keep) },
	/* only vigild's prefix on each line, not the pipe: the process is kept */
	{ "log_timestamps",	RELOAD_IN_PLACE, SCALAR(log_timestamps) },
	{ "log_buffer",		RELOAD_IN_PLACE, SCALAR(log_buffer) },
};
#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))
_Static_assert(NFIELDS <= 64, "reload_item.changed has a bit per field");

static const char *const action_names[RELOAD_NACTIONS] = {
	[RELOAD_ADDED] = "added",
	[RELOAD_REMOVED] = "removed",
	[RELOAD_RESTARTED] = "restarted",
	[RELOAD_UPDATED] = "updated",
	[RELOAD_UNCHANGED] = "unchanged",
};

const char *
reload_action_name(enum reload_action action)
{
	return action < RELOAD_NACTIONS ? action_names[action] : "?";
}

const char *
reload_field_key(size_t i, enum reload_class *class)
{
	if (i >= NFIELDS)
		return NULL;
	if (class != NULL)
		*class = fields[i].class;
	return fields[i].key;
}

/* The action for a service defined in both, and which fields differ. */
static enum reload_action
compare(const struct service_conf *a, const struct service_conf *b, uint64_t *changed)
{
	bool restart = false;

	*changed = 0;
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].same(a, b, &fields[i]))
			continue;
		*changed |= UINT64_C(1) << i;
		restart |= fields[i].class == RELOAD_RESTARTS;
	}
	if (restart)
		return RELOAD_RESTARTED;
	return *changed != 0 ? RELOAD_UPDATED : RELOAD_UNCHANGED;
}

/* Index of name among old, SIZE_MAX if none; services rarely move, so look at hint first. */
static size_t
find_old(const struct service_conf *const *old, size_t nold, const char *name, size_t hint)
{
	if (hint < nold && strcmp(old[hint]->name, name) == 0)
		return hint;
	for (size_t i = 0; i < nold; i++)
		if (strcmp(old[i]->name, name) == 0)
			return i;
	return SIZE_MAX;
}

static void
add_item(struct reload_plan *plan, struct reload_item it)
{
	plan->items[plan->n++] = it;
	plan->count[it.action]++;
}

int
reload_plan_build(const struct service_conf *const *old, size_t nold,
    const struct config *conf, struct reload_plan *plan)
{
	bool *kept = calloc(nold + 1, sizeof(*kept));
	struct reload_item it;

	memset(plan, 0, sizeof(*plan));
	plan->items = calloc(conf->nservices + nold + 1, sizeof(*plan->items));
	if (kept == NULL || plan->items == NULL) {
		free(kept);
		reload_plan_free(plan);
		return -1;
	}
	for (size_t i = 0; i < conf->nservices; i++) {
		const struct service_conf *c = conf->services[i];

		it = (struct reload_item){ RELOAD_ADDED, c->name, SIZE_MAX, i, 0 };
		if ((it.old_index = find_old(old, nold, c->name, i)) != SIZE_MAX) {
			kept[it.old_index] = true;
			it.action = compare(old[it.old_index], c, &it.changed);
		}
		add_item(plan, it);
	}
	for (size_t i = 0; i < nold; i++)
		if (!kept[i])
			add_item(plan, (struct reload_item){ RELOAD_REMOVED, old[i]->name,
			    i, SIZE_MAX, 0 });
	free(kept);
	return 0;
}

void
reload_plan_free(struct reload_plan *plan)
{
	free(plan->items);
	memset(plan, 0, sizeof(*plan));
}

static json_t *
changed_keys(uint64_t changed)
{
	json_t *keys = json_array();

	for (size_t i = 0; keys != NULL && i < NFIELDS; i++)
		if (changed & (UINT64_C(1) << i))
			json_array_append_new(keys, json_string(fields[i].key));
	return keys;
}

json_t *
reload_plan_json(const struct reload_plan *plan)
{
	json_t *r = json_object(), *changes = json_object();

	if (r == NULL || changes == NULL) {
		json_decref(r);
		json_decref(changes);
		return NULL;
	}
	for (size_t a = 0; a < RELOAD_NACTIONS; a++)
		json_object_set_new(r, action_names[a], json_array());
	for (size_t i = 0; i < plan->n; i++) {
		const struct reload_item *it = &plan->items[i];

		json_array_append_new(json_object_get(r, action_names[it->action]),
		    json_string(it->name));
		if (it->changed != 0)
			json_object_set_new(changes, it->name, changed_keys(it->changed));
	}
	json_object_set_new(r, "changes", changes);
	return r;
}

/* Append to a growing string; on failure the text is dropped, once. */
static void
cat(char **s, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
cat(char **s, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *more, *n;
	int k;

	if (*s == NULL)
		return;
	va_start(ap, fmt);
	k = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (k < 0 || (n = realloc(*s, *len + (size_t)k + 1)) == NULL) {
		if (k >= 0)
			free(more);
		free(*s);
		*s = NULL;
		return;
	}
	memcpy(n + *len, more, (size_t)k + 1);
	*len += (size_t)k;
	*s = n;
	free(more);
}

/* Every name but the unchanged, which may be hundreds: those are counted. */
char *
reload_plan_text(const struct reload_plan *plan)
{
	char *s = strdup("");
	size_t len = 0;

	for (size_t a = 0; a < RELOAD_UNCHANGED; a++) {
		const char *sep = plan->count[a] > 0 && len > 0 ? "; " : "";

		if (plan->count[a] > 0)
			cat(&s, &len, "%s%s", sep, action_names[a]);
		for (size_t i = 0, k = 0; i < plan->n; i++) {
			const struct reload_item *it = &plan->items[i];

			if (it->action != a)
				continue;
			cat(&s, &len, "%s %s", k++ > 0 ? "," : "", it->name);
			for (size_t f = 0, m = 0; f < NFIELDS; f++)
				if (it->changed & (UINT64_C(1) << f))
					cat(&s, &len, "%s%s", m++ > 0 ? ", " : " (", fields[f].key);
			if (it->changed != 0)
				cat(&s, &len, ")");
		}
	}
	cat(&s, &len, "%s%zu unchanged", len > 0 ? "; " : "", plan->count[RELOAD_UNCHANGED]);
	return s;
}
