/*
 * fuzz_config.c: the libFuzzer target of the config loader. An input is a
 * whole vigil.conf (and, after a line "#@include", the one file its
 * include = may read), loaded by config_load() as vigild loads it, in a
 * private temp folder; a loaded config then goes through the reload planner.
 */
#include "config.h"
#include "vigild.h"

#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_values.h"
#include "fuzz_tmpdir.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	__wrap_glob(const char *pattern, int flags,
	    int (*errfunc)(const char *, int), glob_t *g);
int	__real_glob(const char *pattern, int flags,
	    int (*errfunc)(const char *, int), glob_t *g);

#define INCLUDE_MARK	"\n#@include\n"	/* a comment to the loader: seeds load as they are */

/* The running config a reload would replace: every kind of key, a dependency. */
static const char old_conf[] =
	"[vigil]\n"
	"socket = /nonexistent/vigil-fuzz/vigil.sock\n"
	"log_dir = /nonexistent/vigil-fuzz/log\n"
	"\n"
	"[service:db]\n"
	"command = /nonexistent/db --port 5432\n"
	"environment = MODE=prod 'GREETING=hello world'\n"
	"ready = tcp:127.0.0.1:5432\n"
	"stop_signal = INT\n"
	"\n"
	"[service:web]\n"
	"command = web -g 'daemon off;'\n"
	"requires = db\n"
	"ready = notify\n"
	"watchdog = 10s\n"
	"restart = on-failure\n"
	"restart_delay = 250ms\n"
	"stdout = null\n"
	"stderr = stdout\n"
	"\n"
	"[service:worker@1]\n"
	"command = /nonexistent/worker 1\n"
	"after = db web\n"
	"autostart = no\n"
	"log_buffer = 8K\n";

static char	 tmpdir[] = "/tmp/vigil-fuzz-config.XXXXXX";
static char	 main_path[sizeof(tmpdir) + 32], inc_path[sizeof(tmpdir) + 32];
static struct config *old;

static void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/*
 * include = is a glob; it must never read the machine's files. This target
 * links with --wrap=glob, so config.c's glob() comes here: a pattern
 * outside the private folder, or with a ".." in it, matches nothing (as a
 * pattern that matches nothing does); what matches is checked to be inside.
 */
int
__wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
	size_t n = strlen(tmpdir);
	int rc;

	if (strncmp(pattern, tmpdir, n) != 0 || pattern[n] != '/' ||
	    strstr(pattern, "/..") != NULL) {
		memset(g, 0, sizeof(*g));	/* config.c calls globfree() whatever glob returned */
		return GLOB_NOMATCH;
	}
	rc = __real_glob(pattern, flags, errfunc, g);
	for (size_t i = 0; rc == 0 && i < g->gl_pathc; i++)
		if (strncmp(g->gl_pathv[i], tmpdir, n) != 0 || g->gl_pathv[i][n] != '/')
			fail("a glob matched outside the private folder", g->gl_pathv[i]);
	return rc;
}

static void
write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "we");

	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		fail("cannot write", path);
}

static void
cleanup(void)
{
	config_free(old);
	fuzz_rm_tree(tmpdir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config_errors errs = { NULL, 0 };
	char dir[sizeof(tmpdir) + 32];

	(void)argc, (void)argv;
	log_init("vigild-fuzz", LOG_LEVEL_ERROR);
	if (mkdtemp(tmpdir) == NULL)
		fail("cannot make the private folder", tmpdir);
	snprintf(main_path, sizeof(main_path), "%s/vigil.conf", tmpdir);
	snprintf(dir, sizeof(dir), "%s/services.d", tmpdir);
	snprintf(inc_path, sizeof(inc_path), "%s/services.d/fuzz.conf", tmpdir);
	if (mkdir(dir, 0700) == -1)
		fail("cannot make", dir);
	write_file(main_path, (const uint8_t *)old_conf, sizeof(old_conf) - 1);
	if ((old = config_load(main_path, &errs)) == NULL)
		fail("the old config does not load", errs.n > 0 ? errs.msgs[0] : NULL);
	config_errors_free(&errs);
	atexit(cleanup);
	return 0;
}

static bool
name_in(const struct service_conf *const *svcs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(svcs[i]->name, name) == 0)
			return true;
	return false;
}

/* The plan from old to new: each name once, counts that add up, JSON and text. */
static void
plan_check(const struct service_conf *const *from, size_t nfrom, const struct config *to)
{
	struct reload_plan plan;
	size_t sum = 0, removed = 0;
	json_t *j;
	char *text;

	if (reload_plan_build(from, nfrom, to, &plan) == -1)
		fail("reload_plan_build: out of memory", NULL);
	for (size_t a = 0; a < RELOAD_NACTIONS; a++)
		sum += plan.count[a];
	for (size_t i = 0; i < nfrom; i++)
		removed += !name_in((const struct service_conf *const *)to->services,
		    to->nservices, from[i]->name);
	if (sum != plan.n || plan.n != to->nservices + removed ||
	    plan.count[RELOAD_REMOVED] != removed)
		fail("the plan's counts do not add up", NULL);
	for (size_t i = 0; i < plan.n; i++) {
		const struct reload_item *it = &plan.items[i];
		bool was = name_in(from, nfrom, it->name);

		bool differs = it->action == RELOAD_RESTARTED || it->action == RELOAD_UPDATED;

		/* added: a new name; removed: no longer in the new one; changed bits iff it differs */
		if ((it->action == RELOAD_ADDED) == was ||
		    (it->action == RELOAD_REMOVED) != (it->new_index == SIZE_MAX) ||
		    differs != (it->changed != 0))
			fail("a plan item contradicts the two configs", it->name);
	}
	if ((j = reload_plan_json(&plan)) == NULL || !json_is_object(j))
		fail("reload_plan_json gave no object", NULL);
	json_decref(j);
	if ((text = reload_plan_text(&plan)) == NULL || strstr(text, "unchanged") == NULL)
		fail("reload_plan_text gave nothing", NULL);
	free(text);
	reload_plan_free(&plan);
}

/* What config_load promises of a config it returns. */
static void
loaded_check(struct config *conf)
{
	struct reload_plan plan;
	char **scratch = NULL;
	size_t cap = 0;

	if (conf->socket_path == NULL || conf->log_dir == NULL)
		fail("a loaded config without a socket or log folder", NULL);
	for (size_t i = 0; i < conf->nservices; i++) {
		const struct service_conf *sc = conf->services[i];
		struct value_error e;

		if (values_service_name(sc->name, &e) == -1 ||
		    name_in((const struct service_conf *const *)conf->services, i, sc->name))
			fail("a bad or duplicate service name was loaded", sc->name);
		if (sc->argv == NULL || sc->argv[0] == NULL || sc->argv[0][0] == '\0' ||
		    sc->exec_paths == NULL || sc->exec_paths[0] == NULL || sc->environment == NULL)
			fail("a loaded service without a command, exec paths or environment", sc->name);
		for (size_t k = 0; k < sc->nrequires; k++)
			if (sc->requires[k] >= conf->nservices || sc->requires[k] == i)
				fail("requires resolved to a bad index", sc->name);
		for (size_t k = 0; k < sc->nafter; k++)
			if (sc->after[k] >= conf->nservices || sc->after[k] == i)
				fail("after resolved to a bad index", sc->name);
		if (sc->restart_delay_max_ms < sc->restart_delay_ms)
			fail("restart_delay_max below restart_delay was loaded", sc->name);
		if (config_service_envp(sc, NULL, &scratch, &cap) == NULL)
			fail("config_service_envp failed", sc->name);
	}
	free(scratch);
	/* a config against itself: nothing changes */
	if (reload_plan_build((const struct service_conf *const *)conf->services,
	    conf->nservices, conf, &plan) == -1)
		fail("reload_plan_build: out of memory", NULL);
	if (plan.n != conf->nservices || plan.count[RELOAD_UNCHANGED] != plan.n)
		fail("a config compared with itself is not unchanged", NULL);
	reload_plan_free(&plan);
	plan_check((const struct service_conf *const *)old->services, old->nservices, conf);
	plan_check((const struct service_conf *const *)conf->services, conf->nservices, old);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { NULL, 0 };
	const uint8_t *mark = memmem(data, size, INCLUDE_MARK, strlen(INCLUDE_MARK));
	size_t main_len = mark ? (size_t)(mark - data) + 1 : size;
	struct config *conf;

	write_file(main_path, data, main_len);
	if (mark != NULL)
		write_file(inc_path, mark + strlen(INCLUDE_MARK),
		    size - main_len - strlen(INCLUDE_MARK) + 1);
	else
		unlink(inc_path);
	conf = config_load(main_path, &errs);
	if (conf == NULL && errs.n == 0)
		fail("a config that failed to load without a message", NULL);
	if (conf != NULL && errs.n != 0)
		fail("a config that loaded with messages", errs.msgs[0]);
	/* every message names the file (and line) it is about */
	for (size_t i = 0; i < errs.n; i++)
		if ((strncmp(errs.msgs[i], tmpdir, strlen(tmpdir)) != 0 ||
		    errs.msgs[i][strlen(tmpdir)] != '/' || strstr(errs.msgs[i], ": ") == NULL) &&
		    strcmp(errs.msgs[i], "out of memory") != 0)
			fail("a message that names no file", errs.msgs[i]);
	if (conf != NULL)
		loaded_check(conf);
	config_errors_free(&errs);
	config_free(conf);
	return 0;
}
