/*
 * config.c: turns the raw sections that config_read.c read from the main
 * file and the files it includes into a struct config, checking every key
 * and reporting every mistake at once. What each key accepts is
 * config_values.c's job.
 */
#include "config.h"
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_load.h"
#include "config_values.h"
#include "safedir.h"

static void
key_error(struct load *ld, const struct raw_section *sec,
    const struct raw_key *k, const char *msg)
{
	load_error(ld, sec->file, k->line, "[%s] %s: %s", sec->name, k->name, msg);
}

/* Check one key's value into obj; -1 when it was reported. */
static int
parse_key(struct load *ld, const struct raw_section *sec,
    const struct raw_key *k, enum value_section section, void *obj)
{
	struct value_error e = { "", false, false };
	size_t len = 0;

	if (k->too_long)
		return -1;
	if (values_parse(section, obj, k->name, k->value, &e) == 0)
		return 0;
	/* a quote left open is most often a comment cut inside quotes */
	if (e.quoting && k->comment_cut && (len = strlen(e.msg)) < sizeof(e.msg))
		snprintf(e.msg + len, sizeof(e.msg) - len, " (a ';' after a blank "
		    "starts a comment, even inside quotes)");
	if (e.unknown)
		load_error(ld, sec->file, k->line, "[%s] %s", sec->name, e.msg);
	else
		key_error(ld, sec, k, e.msg);
	return -1;
}

/* Only the owner, root and socket_group can reach the socket: a list without the group is moot. */
static void
access_check(struct load *ld, const struct raw_section *sec)
{
	static const char *const lists[] = { "read_access", "operate_access" };
	const struct raw_key *k;

	if (section_find_key(sec, "socket_group") != NULL)
		return;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if ((k = section_find_key(sec, lists[i])) != NULL && !k->too_long &&
		    *k->value != '\0')
			key_error(ld, sec, k, "expected socket_group to be set too: "
			    "without it the socket is 0600 and no one listed could connect");
}

static void
build_vigil(struct load *ld, const struct raw_section *sec)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		if (parse_key(ld, sec, &sec->keys[i], VALUE_SECTION_VIGIL, ld->conf) != 0)
			continue;
		if (strcmp(sec->keys[i].name, "include") == 0)
			ld->include_line = sec->keys[i].line;
		else if (strcmp(sec->keys[i].name, "log_dir") == 0)
			ld->conf->log_dir_line = sec->keys[i].line;
	}
	access_check(ld, sec);
}

/*
 * Relative patterns are relative to the main file, not to wherever vigild
 * was started; matches come sorted, so load order is predictable.
 */
static void
load_includes(struct load *ld)
{
	struct config *conf = ld->conf;
	const char *slash = strrchr(conf->file, '/');
	char *pattern;
	glob_t g;
	int rc;

	if (conf->include[0] != '/' && slash != NULL) {
		if (asprintf(&pattern, "%.*s/%s", (int)(slash - conf->file),
		    conf->file, conf->include) == -1) {
			ld->oom = true;
			return;
		}
		free(conf->include);
		conf->include = pattern;
	}
	rc = glob(conf->include, 0, NULL, &g);
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
		read_file(ld, g.gl_pathv[i], false);
	if (rc != 0 && rc != GLOB_NOMATCH)
		load_error(ld, 0, ld->include_line, "[vigil] include: cannot "
		    "expand '%s': %s", conf->include,
		    rc == GLOB_NOSPACE ? "out of memory" : "read error");
	globfree(&g);
}

struct named {
	const char	*name;
	size_t		 at;	/* in ld->secs: the first written sorts first */
};

static int
named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (x->at > y->at) - (x->at < y->at);
}

/*
 * Point every service section at the first one of its name, by sorting
 * the names once: comparing each with all before it would cost n squared,
 * 37 s for the most sections a config may hold.
 */
static void
find_duplicates(struct load *ld)
{
	struct named *v = calloc(ld->nsecs ? ld->nsecs : 1, sizeof(*v));
	size_t n = 0;

	if (v == NULL) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i < ld->nsecs; i++)
		if (ld->secs[i]->kind == SECTION_SERVICE)
			v[n++] = (struct named){ ld->secs[i]->name, i };
	qsort(v, n, sizeof(*v), named_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i].name, v[i - 1].name) == 0)
			ld->secs[v[i].at]->first = ld->secs[v[i - 1].at]->first != NULL ?
			    ld->secs[v[i - 1].at]->first : ld->secs[v[i - 1].at];
	free(v);
}

/* A valid name, used once across all files (find_duplicates has looked). */
static void
service_name_check(struct load *ld, const struct raw_section *sec)
{
	struct value_error e = { "", false, false };
	const struct raw_section *first = sec->first;

	if (values_service_name(sec->name + strlen(SERVICE_PREFIX), &e) == -1) {
		load_error(ld, sec->file, sec->line, "[%s] %s", sec->name, e.msg);
		return;
	}
	if (first != NULL)
		load_error(ld, sec->file, sec->line, "[%s] duplicate service "
		    "name, first defined at %s:%d", sec->name, ld->files[first->file],
		    first->line);
}

/* Keys that need others: the back-off range, and what config_values derives. */
static void
service_check_all(struct load *ld, const struct raw_section *sec,
    struct service_conf *sc, bool delays_ok)
{
	struct value_error e = { "", false, false };
	const struct raw_key *k;
	const char *key;

	/* a template's command may need %i: then its instances say */
	if (section_find_key(sec, "command") == NULL && !ld->sample)
		load_error(ld, sec->file, sec->line, "[%s] command: required key "
		    "is missing", sec->name);
	if ((k = section_find_key(sec, "restart_delay_max")) == NULL)
		k = section_find_key(sec, "restart_delay");
	if (delays_ok && k != NULL &&
	    values_check_delays(sc, k->name, k->value, &e) == -1)
		key_error(ld, sec, k, e.msg);
	if (values_sandbox_check(sc, &key, &e) == -1 &&
	    (k = section_find_key(sec, key)) != NULL)
		key_error(ld, sec, k, e.msg);
	if (values_service_finish(sc, &e) == -1)
		ld->oom = true;
}

/*
 * The keys that shape what a service may see and do, beyond its ids: what
 * status shows as its "isolation" (doc/protocol.md).
 */
static const char *const isolation_keys[] = {
	"limit_nofile", "limit_nproc", "limit_core", "limit_as", "limit_fsize",
	"limit_memlock", "limit_stack", "limit_cpu", "nice", "oom_score_adj",
	"no_new_privileges", "capabilities", "syscall_filter", "syscall_filter_action",
	"memory_max", "memory_high", "pids_max", "cpu_weight", "cpu_max", "io_weight",
	"chroot", "private_tmp", "private_network", "read_only_paths", "inaccessible_paths",
	NULL
};

bool
config_key_isolates(const char *key)
{
	for (const char *const *k = isolation_keys; *k != NULL; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

/* Keep key = value in sc->isolation; false when out of memory. */
static bool
isolation_add(struct service_conf *sc, const struct raw_key *k)
{
	size_t n = 0;
	char **v;

	while (sc->isolation != NULL && sc->isolation[n] != NULL)
		n++;
	if ((v = reallocarray(sc->isolation, n + 3, sizeof(*v))) == NULL)
		return false;
	sc->isolation = v;
	v[n] = strdup(k->name);
	v[n + 1] = v[n] != NULL ? strdup(k->value) : NULL;
	v[n + 2] = NULL;
	if (v[n + 1] == NULL) {
		free(v[n]);
		v[n] = NULL;
		return false;
	}
	return true;
}

/* Every key of a service is checked even when its name is wrong: one run shows all. */
struct service_conf *
load_build_service(struct load *ld, const struct raw_section *sec)
{
	struct service_conf *sc;
	const struct raw_key *k;
	struct value_error e;
	bool delays_ok = true;

	service_name_check(ld, sec);
	sc = values_service_new(sec->name + strlen(SERVICE_PREFIX),
	    ld->files[sec->file], sec->line);
	if (sc == NULL) {
		ld->oom = true;
		return NULL;
	}
	values_service_inherit(sc, ld->conf);
	config_source_inherit(ld, sc);
	for (size_t i = 0; i <= sec->nkeys; i++) {
		/* chroot first: directory and the sandbox paths are inside it */
		k = i == 0 ? section_find_key(sec, "chroot") : &sec->keys[i - 1];
		if (k == NULL || (i > 0 && strcmp(k->name, "chroot") == 0))
			continue;
		/* config_template.c takes it out of a template's keys: here it is misplaced */
		if (strcmp(k->name, "instances") == 0) {
			key_error(ld, sec, k, "expected only in a template, a section "
			    "whose name ends in '@' like [service:worker@]");
			continue;
		}
		if (parse_key(ld, sec, k, VALUE_SECTION_SERVICE, sc) == -1) {
			if (strncmp(k->name, "restart_delay", 13) == 0)
				delays_ok = false;
			continue;
		}
		config_source_note(ld, sec, k, sc);
		if (values_privilege_check(sc, k->name, &e) == -1)
			key_error(ld, sec, k, e.msg);
		if (config_key_isolates(k->name) && !isolation_add(sc, k))
			ld->oom = true;
	}
	service_check_all(ld, sec, sc, delays_ok);
	if ((k = section_find_key(sec, "requires")) != NULL)
		sc->requires_line = k->line;
	if ((k = section_find_key(sec, "after")) != NULL)
		sc->after_line = k->line;
	return sc;
}

bool
load_add_service(struct load *ld, struct service_conf *sc)
{
	struct service_conf **services = ld->conf->services;

	if (LOAD_GROWS_AT(ld->conf->nservices) && (services = reallocarray(services,
	    load_capacity(ld->conf->nservices), sizeof(*services))) != NULL)
		ld->conf->services = services;
	if (ld->oom || services == NULL) {
		ld->oom = true;
		values_service_free(sc);
		return false;
	}
	/*
	 * Kept even when it has errors (the load fails anyway): its name is
	 * still one that requires and after may use, and its own requires are
	 * still worth checking, so one run reports every mistake.
	 */
	services[ld->conf->nservices++] = sc;
	return true;
}

static void
build_service(struct load *ld, const struct raw_section *sec)
{
	struct service_conf *sc = load_build_service(ld, sec);

	if (sc != NULL)
		load_add_service(ld, sc);
}

size_t
load_file_index(struct load *ld, const char *path)
{
	char **files;

	for (size_t i = 0; i < ld->nfiles; i++)
		if (strcmp(ld->files[i], path) == 0)
			return i;
	if ((files = reallocarray(ld->files, ld->nfiles + 1, sizeof(*files))) == NULL) {
		ld->oom = true;
		return SIZE_MAX;
	}
	ld->files = files;
	if ((files[ld->nfiles] = strdup(path)) == NULL) {
		ld->oom = true;
		return SIZE_MAX;
	}
	return ld->nfiles++;
}

void
load_deps_error(void *ctx, const struct service_conf *sc, int line, const char *msg)
{
	struct load *ld = ctx;
	size_t file;

	if (strcmp(msg, "out of memory") == 0) {
		ld->oom = true;
		return;
	}
	if ((file = load_file_index(ld, sc->file)) == SIZE_MAX)
		return;
	load_error(ld, file, line, "[service:%s] %s", sc->name, msg);
}

/* Hand the messages over, and one more if any was lost; keep none. */
static void
errors_move(struct load *ld, struct config_errors *errs)
{
	size_t n = ld->nerrs + 1;
	char **msgs = NULL;

	if (errs != NULL && (ld->nerrs > 0 || ld->oom))
		msgs = reallocarray(errs->msgs, errs->n + n, sizeof(*msgs));
	if (msgs != NULL)
		errs->msgs = msgs;
	for (size_t i = 0; i < ld->nerrs; i++) {
		if (msgs != NULL)
			msgs[errs->n++] = ld->errs[i].msg;
		else
			free(ld->errs[i].msg);
	}
	if (msgs != NULL && ld->oom && (msgs[errs->n] = strdup("out of memory")) != NULL)
		errs->n++;
	free(ld->errs);
}

static void
load_free(struct load *ld)
{
	for (size_t i = 0; i < ld->nsecs; i++) {
		struct raw_section *sec = ld->secs[i];

		for (size_t j = 0; j < sec->nkeys; j++) {
			free(sec->keys[j].name);
			free(sec->keys[j].value);
		}
		free(sec->keys);
		free(sec->name);
		free(sec);
	}
	free(ld->secs);
	for (size_t i = 0; i < ld->nfiles; i++)
		free(ld->files[i]);
	free(ld->files);
	free(ld->buf);
}

/*
 * Read everything first and check it after, so one run reports every
 * mistake in every file; a config with any mistake is not returned at all.
 */
struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct load ld = { .conf = calloc(1, sizeof(struct config)) };
	struct config *conf = ld.conf;

	if (conf == NULL || (conf->file = strdup(path)) == NULL)
		ld.oom = true;
	else if (read_file(&ld, path, true) == 0)
		load_build(&ld);
	return load_finish(&ld, errs);
}

static bool
is_template(const struct raw_section *sec)
{
	size_t n = strlen(sec->name);

	return n > 0 && sec->name[n - 1] == '@';
}

/* From the raw sections read (or made) to a config: every check of a load. */
void
load_build(struct load *ld)
{
	struct config *conf = ld->conf;

	conf->log_level = LOG_LEVEL_INFO;
	conf->log_max_size = VALUES_LOG_MAX_SIZE;
	conf->log_keep = VALUES_LOG_KEEP;
	conf->log_timestamps = true;
	conf->log_buffer = VALUES_LOG_BUFFER;
	conf->client_timeout_ms = CONFIG_CLIENT_TIMEOUT_MS;
	conf->shutdown_timeout_ms = CONFIG_SHUTDOWN_TIMEOUT_MS;
	conf->log_console = -1;
	for (size_t i = 0; i < ld->nsecs; i++)
		if (ld->secs[i]->kind == SECTION_VIGIL)
			build_vigil(ld, ld->secs[i]);
	if (conf->include != NULL)
		load_includes(ld);
	find_duplicates(ld);
	/* services first: an instance whose name one of them has is a mistake */
	for (size_t i = 0; i < ld->nsecs; i++)
		if (ld->secs[i]->kind == SECTION_SERVICE && !is_template(ld->secs[i]))
			build_service(ld, ld->secs[i]);
	/* [service:NAME@]: a template, and the instances its instances = lists */
	for (size_t i = 0; i < ld->nsecs; i++)
		if (ld->secs[i]->kind == SECTION_SERVICE && is_template(ld->secs[i]))
			load_template(ld, ld->secs[i]);
	load_template_pull(ld, 0);
	/* names only resolve against the complete set of services */
	if (!ld->oom)
		config_deps_resolve(conf, load_deps_error, ld);
	if (conf->socket_path == NULL &&
	    (conf->socket_path = strdup(config_default_socket())) == NULL)
		ld->oom = true;
	if (conf->log_dir == NULL &&
	    (conf->log_dir = strdup(config_default_log_dir())) == NULL)
		ld->oom = true;
}

/* The config, or NULL and every message in errs; ld is freed. */
struct config *
load_finish(struct load *ld, struct config_errors *errs)
{
	struct config *conf = ld->conf;

	if (ld->nerrs > 0 || ld->oom) {
		config_free(conf);
		conf = NULL;
	}
	load_release(ld, errs);
	return conf;
}

void
load_release(struct load *ld, struct config_errors *errs)
{
	errors_move(ld, errs);
	load_free(ld);
}

void
config_free(struct config *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->nservices; i++)
		values_service_free(conf->services[i]);
	free(conf->services);
	config_templates_free(conf);
	free(conf->file);
	free(conf->socket_path);
	free(conf->socket_group);
	values_access_free(&conf->read_access);
	values_access_free(&conf->operate_access);
	free(conf->log_dir);
	free(conf->cgroup);
	free(conf->metrics_listen);
	free(conf->include);
	free(conf);
}

struct service_conf *
config_take_service(struct config *conf, size_t i)
{
	struct service_conf *sc = conf->services[i];

	conf->services[i] = NULL;	/* config_free passes over it */
	return sc;
}

void
config_errors_free(struct config_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* XDG base directories: only an absolute value counts, as the spec says. */
static const char *
xdg_dir(const char *var)
{
	const char *dir = getenv(var);

	return dir != NULL && dir[0] == '/' ? dir : NULL;
}

const char *
config_default_path(void)
{
	static char path[PATH_MAX];
	const char *dir, *home = getenv("HOME");
	struct passwd *pw;

	if (geteuid() == 0)
		return "/etc/vigil/vigil.conf";
	if ((dir = xdg_dir("XDG_CONFIG_HOME")) != NULL) {
		snprintf(path, sizeof(path), "%s/vigil/vigil.conf", dir);
		return path;
	}
	if ((home == NULL || *home == '\0') && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;	/* as a login shell would set it */
	snprintf(path, sizeof(path), "%s/.config/vigil/vigil.conf",
	    home != NULL ? home : "");
	return path;
}

/* BASE/vigil-UID, BASE an absolute TMPDIR or /tmp: where a user without XDG dirs runs. */
const char *
config_fallback_dir(void)
{
	static char path[PATH_MAX - 64];	/* room for what goes in it */
	const char *base = getenv("TMPDIR");

	if (base == NULL || base[0] != '/')
		base = "/tmp";
	snprintf(path, sizeof(path), "%s/vigil-%u", base, (unsigned)geteuid());
	return path;
}

const char *
config_default_socket(void)
{
	static char path[PATH_MAX];
	const char *dir;

	if (geteuid() == 0)
		return "/run/vigil/vigil.sock";
	if ((dir = xdg_dir("XDG_RUNTIME_DIR")) != NULL)
		snprintf(path, sizeof(path), "%s/vigil/vigil.sock", dir);
	else
		snprintf(path, sizeof(path), "%s/vigil.sock", config_fallback_dir());
	return path;
}

static bool
is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return path != NULL && strncmp(path, dir, n) == 0 && path[n] == '/';
}

/*
 * Anyone may make /tmp/vigil-UID before us, and whoever owns it owns our
 * socket: it is used only if it is ours and private, else vigild refuses.
 */
int
config_fallback_check(const struct config *conf, char *err, size_t errlen)
{
	const char *dir = config_fallback_dir();

	if (!is_under(conf->socket_path, dir) && !is_under(conf->log_dir, dir))
		return 0;
	return safedir_make(dir, 0700, SAFEDIR_PRIVATE, "socket folder",
	    "set XDG_RUNTIME_DIR, or [vigil] socket = and log_dir = to a folder of your own",
	    err, errlen);
}

/* /var/log/vigil as root; else $XDG_STATE_HOME/vigil or ~/.local/state/vigil. */
char *
config_socket_sibling(const char *socket_path, const char *suffix)
{
	size_t n = strlen(socket_path);
	char *path;

	if (n > 5 && strcmp(socket_path + n - 5, ".sock") == 0)
		n -= 5;
	if (asprintf(&path, "%.*s%s", (int)n, socket_path, suffix) == -1)
		return NULL;
	return path;
}

const char *
config_default_log_dir(void)
{
	static char path[PATH_MAX];
	const char *dir;

	if (geteuid() == 0)
		return "/var/log/vigil";
	if ((dir = xdg_dir("XDG_STATE_HOME")) != NULL)
		snprintf(path, sizeof(path), "%s/vigil", dir);
	else if ((dir = getenv("HOME")) != NULL && dir[0] == '/')
		snprintf(path, sizeof(path), "%s/.local/state/vigil", dir);
	else
		snprintf(path, sizeof(path), "%s/log", config_fallback_dir());
	return path;
}
