/*
 * config_show.c: a service's definition as `show` gives it: every service
 * key of vigil.conf(5), in its order, with the value the service runs
 * with, written so it could be pasted back into a config, and where it
 * came from (config_source.c). What is parsed into a number, a flag or a
 * signal is printed from the field in one canonical form (5s, 64K, yes,
 * TERM); the rest is the text as written.
 */
#include "config.h"
#include "conf.h"
#include "config_values.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "signame.h"

enum show_kind {
	SHOW_TEXT,	/* as written; dflt when not */
	SHOW_BOOL,	/* bool field: yes or no */
	SHOW_DURATION,	/* int64_t ms: the largest exact unit */
	SHOW_SIZE,	/* int64_t bytes: the largest exact K, M, G */
	SHOW_UNSIGNED,	/* unsigned field */
	SHOW_SIGNAL,	/* int: its name without SIG */
	SHOW_ENUM,	/* int-sized enum: names[] by value */
	SHOW_OUTPUT,	/* stdout, stderr: enum output_target and a path */
	SHOW_READY,	/* ready_spec, "none" when unset */
	SHOW_ENV	/* environment: quoted NAME=VALUE words, values maybe hidden */
};

static const char *const restart_names[] = { "always", "on-failure", "never", NULL };
static const char *const kill_mode_names[] = { "all", "main", NULL };
static const char *const action_names[] = { "eperm", "kill", NULL };

#define S(f)	offsetof(struct service_conf, f)

/* Every service key, in vigil.conf(5)'s order; tests/unit/test_show.c checks the list. */
static const struct show_key {
	const char	*name;
	enum show_kind	 kind;
	size_t		 off;
	const char *const *names;	/* SHOW_ENUM */
	const char	*dflt;		/* SHOW_TEXT: the default's text */
} show_keys[] = {
	{ "command",		SHOW_TEXT,	0, NULL, "" },
	{ "environment",	SHOW_ENV,	0, NULL, NULL },
	{ "clear_environment",	SHOW_BOOL,	S(clear_environment), NULL, NULL },
	{ "directory",		SHOW_TEXT,	0, NULL, "" },
	{ "user",		SHOW_TEXT,	0, NULL, "" },
	{ "group",		SHOW_TEXT,	0, NULL, "" },
	{ "umask",		SHOW_TEXT,	0, NULL, "" },
	{ "limit_nofile",	SHOW_TEXT,	0, NULL, "" },
	{ "limit_nproc",	SHOW_TEXT,	0, NULL, "" },
	{ "limit_core",		SHOW_TEXT,	0, NULL, "" },
	{ "limit_as",		SHOW_TEXT,	0, NULL, "" },
	{ "limit_fsize",	SHOW_TEXT,	0, NULL, "" },
	{ "limit_memlock",	SHOW_TEXT,	0, NULL, "" },
	{ "limit_stack",	SHOW_TEXT,	0, NULL, "" },
	{ "limit_cpu",		SHOW_TEXT,	0, NULL, "" },
	{ "nice",		SHOW_TEXT,	0, NULL, "" },
	{ "oom_score_adj",	SHOW_TEXT,	0, NULL, "" },
	{ "no_new_privileges",	SHOW_BOOL,	S(no_new_privileges), NULL, NULL },
	{ "capabilities",	SHOW_TEXT,	0, NULL, "" },
	{ "syscall_filter",	SHOW_TEXT,	0, NULL, "" },
	{ "syscall_filter_action", SHOW_ENUM,	S(syscall_filter_action), action_names, NULL },
	{ "environment_file",	SHOW_TEXT,	0, NULL, "" },
	{ "memory_max",		SHOW_TEXT,	0, NULL, "" },
	{ "memory_high",	SHOW_TEXT,	0, NULL, "" },
	{ "pids_max",		SHOW_TEXT,	0, NULL, "" },
	{ "cpu_weight",		SHOW_TEXT,	0, NULL, "" },
	{ "cpu_max",		SHOW_TEXT,	0, NULL, "" },
	{ "io_weight",		SHOW_TEXT,	0, NULL, "" },
	{ "chroot",		SHOW_TEXT,	0, NULL, "" },
	{ "private_tmp",	SHOW_BOOL,	S(private_tmp), NULL, NULL },
	{ "private_network",	SHOW_BOOL,	S(private_network), NULL, NULL },
	{ "read_only_paths",	SHOW_TEXT,	0, NULL, "" },
	{ "inaccessible_paths",	SHOW_TEXT,	0, NULL, "" },
	{ "autostart",		SHOW_BOOL,	S(autostart), NULL, NULL },
	{ "essential",		SHOW_BOOL,	S(essential), NULL, NULL },
	{ "restart",		SHOW_ENUM,	S(restart), restart_names, NULL },
	{ "restart_delay",	SHOW_DURATION,	S(restart_delay_ms), NULL, NULL },
	{ "restart_delay_max",	SHOW_DURATION,	S(restart_delay_max_ms), NULL, NULL },
	{ "start_secs",		SHOW_DURATION,	S(start_secs_ms), NULL, NULL },
	{ "start_retries",	SHOW_UNSIGNED,	S(start_retries), NULL, NULL },
	{ "ready",		SHOW_READY,	0, NULL, NULL },
	{ "ready_timeout",	SHOW_DURATION,	S(ready_timeout_ms), NULL, NULL },
	{ "watchdog",		SHOW_DURATION,	S(watchdog_ms), NULL, NULL },
	{ "requires",		SHOW_TEXT,	0, NULL, "" },
	{ "after",		SHOW_TEXT,	0, NULL, "" },
	{ "stop_signal",	SHOW_SIGNAL,	S(stop_signal), NULL, NULL },
	{ "stop_timeout",	SHOW_DURATION,	S(stop_timeout_ms), NULL, NULL },
	{ "kill_mode",		SHOW_ENUM,	S(kill_mode), kill_mode_names, NULL },
	{ "stdout",		SHOW_OUTPUT,	0, NULL, NULL },
	{ "stderr",		SHOW_OUTPUT,	1, NULL, NULL },
	{ "log_max_size",	SHOW_SIZE,	S(log_max_size), NULL, NULL },
	{ "log_keep",		SHOW_UNSIGNED,	S(log_keep), NULL, NULL },
	{ "log_timestamps",	SHOW_BOOL,	S(log_timestamps), NULL, NULL },
	{ "log_buffer",		SHOW_SIZE,	S(log_buffer), NULL, NULL },
};
#define NSHOW	(sizeof(show_keys) / sizeof(show_keys[0]))

#define FIELD(sc, off, type)	((const type *)(const void *)((const char *)(sc) + (off)))

/* A duration in the largest unit that holds it exactly: 90000 is 90s, 120000 is 2m. */
static void
show_duration(int64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else if (ms != 0 && ms % 60000 == 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}

static void
show_size(int64_t n, char *buf, size_t len)
{
	static const char units[] = "GMK";

	for (int i = 0; i < 3; i++) {
		int64_t unit = (int64_t)1 << (10 * (3 - i));

		if (n != 0 && n % unit == 0) {
			snprintf(buf, len, "%lld%c", (long long)(n / unit), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%lld", (long long)n);
}

/* Bytes a word may hold bare: what words_split and inih leave alone. */
static bool
word_is_plain(const char *w)
{
	if (*w == '\0')
		return false;
	for (const char *p = w; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("_=./:,@%+-", *p) != NULL))
			return false;
	return true;
}

char *
config_show_quote(const char *word)
{
	size_t n = 2;
	char *out, *o;

	if (word_is_plain(word))
		return strdup(word);
	for (const char *p = word; *p != '\0'; p++)
		n += *p == '\'' ? 4 : 1;	/* ' becomes '\'' */
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	o = out;
	*o++ = '\'';
	for (const char *p = word; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* Append s and a blank before it unless *buf is empty; false when out of memory. */
static bool
append_word(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s), sep = *len > 0;
	char *b;

	if ((b = realloc(*buf, *len + sep + n + 1)) == NULL)
		return false;
	if (sep)
		b[(*len)++] = ' ';
	memcpy(b + *len, s, n + 1);
	*len += n;
	*buf = b;
	return true;
}

/* NAME=VALUE words as `environment =` reads them; with secrets false, NAME=<hidden>. */
static char *
show_env(char *const *words, bool secrets)
{
	char *out = strdup(""), *q;
	size_t len = 0;
	bool ok = out != NULL;

	for (size_t i = 0; ok && words != NULL && words[i] != NULL; i++) {
		if (secrets)
			q = config_show_quote(words[i]);
		else if (asprintf(&q, "%.*s=" PROTO_HIDDEN_VALUE,
		    (int)strcspn(words[i], "="), words[i]) == -1)
			q = NULL;
		ok = q != NULL && append_word(&out, &len, q);
		free(q);
	}
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}

static char *
show_output(const struct service_conf *sc, bool is_stderr)
{
	static const char *const names[] = {
		[OUTPUT_TO_LOG] = "log", [OUTPUT_TO_NULL] = "null",
		[OUTPUT_TO_INHERIT] = "inherit", [OUTPUT_TO_FILE] = "file:",
		[OUTPUT_TO_STDOUT] = "stdout", [OUTPUT_TO_JOURNAL] = "journal",
	};
	enum output_target to = is_stderr ? sc->stderr_to : sc->stdout_to;
	const char *path = is_stderr ? sc->stderr_path : sc->stdout_path;
	char *s;

	if (to != OUTPUT_TO_FILE)
		return strdup(names[to]);
	return asprintf(&s, "file:%s", path) == -1 ? NULL : s;
}

/* The value of k in sc, malloc'd (NULL: out of memory). */
static char *
show_value(const struct service_conf *sc, const struct show_key *k,
    const struct conf_source *src, bool secrets)
{
	char buf[64];

	switch (k->kind) {
	case SHOW_TEXT:
		return strdup(src != NULL ? src->value : k->dflt);
	case SHOW_BOOL:
		return strdup(*FIELD(sc, k->off, bool) ? "yes" : "no");
	case SHOW_DURATION:
		show_duration(*FIELD(sc, k->off, int64_t), buf, sizeof(buf));
		return strdup(buf);
	case SHOW_SIZE:
		show_size(*FIELD(sc, k->off, int64_t), buf, sizeof(buf));
		return strdup(buf);
	case SHOW_UNSIGNED:
		snprintf(buf, sizeof(buf), "%u", *FIELD(sc, k->off, unsigned));
		return strdup(buf);
	case SHOW_SIGNAL:
		return strdup(signame_name(*FIELD(sc, k->off, int), buf, sizeof(buf)));
	case SHOW_ENUM:
		return strdup(k->names[*FIELD(sc, k->off, int)]);
	case SHOW_OUTPUT:
		return show_output(sc, k->off == 1);
	case SHOW_READY:
		return strdup(sc->ready_spec != NULL ? sc->ready_spec : "none");
	case SHOW_ENV:
		return show_env(sc->environment, secrets);
	}
	return NULL;
}

static json_t *
source_json(const struct conf_source *src)
{
	if (src == NULL)
		return json_pack("{s:s, s:n, s:n}", PROTO_K_KIND, PROTO_SOURCE_DEFAULT,
		    PROTO_K_FILE, PROTO_K_LINE);
	return json_pack("{s:s, s:o, s:i}", PROTO_K_KIND, src->kind == CONF_SOURCE_VIGIL ?
	    PROTO_SOURCE_VIGIL : PROTO_SOURCE_FILE, PROTO_K_FILE, proto_string(src->file),
	    PROTO_K_LINE, src->line);
}

static json_t *
row_json(const struct service_conf *sc, const struct show_key *k, bool secrets)
{
	const struct conf_source *src = config_source_find(sc, k->name);
	char *value = show_value(sc, k, src, secrets);
	json_t *row;

	if (value == NULL)
		return NULL;
	row = json_pack("{s:s, s:o, s:o}", PROTO_K_KEY, k->name, PROTO_K_VALUE,
	    proto_string(value), PROTO_K_SOURCE, source_json(src));
	free(value);
	if (row != NULL && k->kind == SHOW_ENV && !secrets && sc->environment != NULL &&
	    sc->environment[0] != NULL &&
	    json_object_set_new(row, PROTO_K_HIDDEN, json_true()) == -1) {
		json_decref(row);
		row = NULL;
	}
	return row;
}

json_t *
config_show_json(const struct service_conf *sc, bool secrets)
{
	json_t *rows = json_array();

	for (size_t i = 0; rows != NULL && i < NSHOW; i++)
		if (json_array_append_new(rows, row_json(sc, &show_keys[i], secrets)) == -1) {
			json_decref(rows);
			rows = NULL;
		}
	return rows;
}
