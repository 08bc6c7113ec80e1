/*
 * config_template.c: [service:NAME@] templates and their instances. A
 * template keeps its keys as written; an instance NAME@INST is an ordinary
 * raw section made from them with %i replaced by INST, built by config.c
 * like any other, so every key is checked on the value the instance gets.
 * Which instances run, and when, is the core's and the control layer's.
 */
#include "config.h"
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "config_values.h"
#include "words.h"

#define INSTANCES_KEY		"instances"
#define INSTANCES_MAX		1000	/* instances = N at most */
#define SAMPLE_INSTANCE		"%i"	/* what an instance-independent check names */

static bool
instance_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

/*
 * An instance's name: the characters of service names but '@' (the first
 * '@' of a name is where the instance begins), and the whole name within
 * SERVICE_NAME_MAX. 0, or -1 with what was expected in e.
 */
int
values_instance_name(const char *tmpl, const char *inst, struct value_error *e)
{
	size_t n = strlen(inst);

	for (size_t i = 0; i < n; i++)
		if (!instance_char(inst[i]))
			n = 0;
	if (n >= 1 && strlen(tmpl) + n <= SERVICE_NAME_MAX)
		return 0;
	snprintf(e->msg, sizeof(e->msg), "expected an instance name of 1 to %zu characters "
	    "from A-Z a-z 0-9 _ . -, found '%.*s'",
	    strlen(tmpl) < SERVICE_NAME_MAX ? SERVICE_NAME_MAX - strlen(tmpl) : 0,
	    VALUE_SHOWN_MAX, inst);
	return -1;
}

/*
 * The escapes of a template's value: %i (the instance) and %% (a '%').
 * 0, or -1 and the first other one in bad ("%x", or "%" at the end).
 */
int
values_template_escapes(const char *v, char bad[3])
{
	for (const char *p = v; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] == 'i' || p[1] == '%') {
			p++;
			continue;
		}
		bad[0] = '%';
		bad[1] = p[1];
		bad[2] = '\0';
		return -1;
	}
	return 0;
}

/* v with %i replaced by inst and %% by %; its escapes are checked. NULL: out of memory. */
char *
values_template_expand(const char *v, const char *inst)
{
	size_t n = 0, ni = strlen(inst);
	char *out, *o;

	for (const char *p = v; *p != '\0'; p++, n++)
		if (p[0] == '%' && p[1] == 'i') {
			n += ni - 1;
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			p++;
		}
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (o = out; *v != '\0'; v++) {
		if (v[0] == '%' && v[1] == 'i') {
			memcpy(o, inst, ni);
			o += ni;
			v++;
		} else {
			*o++ = *v;
			v += v[0] == '%' && v[1] == '%';
		}
	}
	*o = '\0';
	return out;
}

const struct service_template *
config_template_of(const struct config *conf, const char *name, const char **instance)
{
	const char *at = strchr(name, '@');
	size_t n;

	if (at == NULL)
		return NULL;
	n = (size_t)(at - name) + 1;
	for (size_t i = 0; i < conf->ntemplates; i++)
		if (strncmp(conf->templates[i]->name, name, n) == 0 &&
		    conf->templates[i]->name[n] == '\0') {
			if (instance != NULL)
				*instance = at + 1;
			return conf->templates[i];
		}
	return NULL;
}

static void
template_free(struct service_template *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nkeys; i++) {
		free(t->keys[i].name);
		free(t->keys[i].value);
	}
	free(t->keys);
	free(t->name);
	free(t->file);
	words_free(t->instances);
	free(t);
}

void
config_templates_free(struct config *conf)
{
	for (size_t i = 0; i < conf->ntemplates; i++)
		template_free(conf->templates[i]);
	free(conf->templates);
	conf->templates = NULL;
	conf->ntemplates = 0;
}

static void
raw_free(struct raw_section *sec)
{
	if (sec == NULL)
		return;
	for (size_t i = 0; i < sec->nkeys; i++) {
		free(sec->keys[i].name);
		free(sec->keys[i].value);
	}
	free(sec->keys);
	free(sec->name);
	free(sec);
}

/*
 * The raw section of instance inst of t ("[service:worker@web7]"), at
 * the template's place in file. sample: only the keys that do not use %i.
 * NULL when out of memory.
 */
static struct raw_section *
instance_section(const struct service_template *t, size_t file, const char *inst,
    bool sample)
{
	struct raw_section *sec = calloc(1, sizeof(*sec));

	if (sec == NULL || asprintf(&sec->name, "%s%s%s", SERVICE_PREFIX, t->name,
	    sample ? "" : inst) == -1) {
		free(sec);
		return NULL;
	}
	sec->file = file;
	sec->line = t->line;
	sec->kind = SECTION_SERVICE;
	if ((sec->keys = calloc(t->nkeys ? t->nkeys : 1, sizeof(*sec->keys))) == NULL)
		goto fail;
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct template_key *tk = &t->keys[i];
		struct raw_key *k = &sec->keys[sec->nkeys];

		if (sample && strstr(tk->value, "%i") != NULL)
			continue;
		k->line = tk->line;
		k->comment_cut = tk->comment_cut;
		k->name = strdup(tk->name);
		k->value = values_template_expand(tk->value, inst);
		sec->nkeys++;
		if (k->name == NULL || k->value == NULL)
			goto fail;
	}
	return sec;
fail:
	raw_free(sec);
	return NULL;
}

static bool
service_exists(const struct config *conf, const char *name)
{
	for (size_t i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i]->name, name) == 0)
			return true;
	return false;
}

/*
 * Build instance inst of t into ld's config; line: where it was asked for
 * (instances =, requires), for its name's message. false if it was not added.
 */
static bool
instance_build(struct load *ld, const struct service_template *t, const char *inst,
    size_t ask_file, int ask_line, const char *asked_by, bool on_demand)
{
	struct value_error e = { "", false, false };
	size_t file = load_file_index(ld, t->file);
	struct raw_section *sec;
	struct service_conf *sc;

	if (file == SIZE_MAX)
		return false;
	if (values_instance_name(t->name, inst, &e) == -1) {
		load_error(ld, ask_file, ask_line, "%s: %s", asked_by, e.msg);
		return false;
	}
	if ((sec = instance_section(t, file, inst, false)) == NULL) {
		ld->oom = true;
		return false;
	}
	if (service_exists(ld->conf, sec->name + strlen(SERVICE_PREFIX))) {
		load_error(ld, ask_file, ask_line, "%s: instance %s%s is also defined as "
		    "[%s]: expected one or the other", asked_by, t->name, inst, sec->name);
		raw_free(sec);
		return false;
	}
	sc = load_build_service(ld, sec);
	raw_free(sec);
	if (sc == NULL)
		return false;
	sc->on_demand = on_demand;
	if ((sc->template_name = strdup(t->name)) == NULL ||
	    (sc->instance = strdup(inst)) == NULL) {
		ld->oom = true;
		values_service_free(sc);
		return false;
	}
	return load_add_service(ld, sc);
}

/* instances = N (1 to N) or NAME...: the names, or NULL with the message said. */
static char **
instances_parse(struct load *ld, const struct raw_section *sec, const struct raw_key *k)
{
	struct value_error e = { "", false, false };
	char **w = NULL, *end;
	const char *err;
	long n;

	errno = 0;
	n = strtol(k->value, &end, 10);
	if (k->value[0] >= '0' && k->value[0] <= '9' && *end == '\0') {
		if (errno != 0 || n < 0 || n > INSTANCES_MAX) {
			load_error(ld, sec->file, k->line, "[%s] %s: expected a count from 0 "
			    "to %d, or instance names, found '%.*s'", sec->name, k->name,
			    INSTANCES_MAX, VALUE_SHOWN_MAX, k->value);
			return NULL;
		}
		if ((w = calloc((size_t)n + 1, sizeof(*w))) == NULL) {
			ld->oom = true;
			return NULL;
		}
		for (long i = 0; i < n; i++)
			if (asprintf(&w[i], "%ld", i + 1) == -1) {
				words_free(w);
				ld->oom = true;
				return NULL;
			}
		return w;
	}
	if ((w = words_split(k->value, NULL, &err)) == NULL) {
		if (strcmp(err, "out of memory") == 0)
			ld->oom = true;
		else
			load_error(ld, sec->file, k->line, "[%s] %s: %s", sec->name, k->name, err);
		return NULL;
	}
	for (size_t i = 0; w[i] != NULL; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcmp(w[i], w[j]) == 0) {
				load_error(ld, sec->file, k->line, "[%s] %s: expected each "
				    "instance once, found '%s' twice", sec->name, k->name, w[i]);
				words_free(w);
				return NULL;
			}
		if (values_instance_name(sec->name + strlen(SERVICE_PREFIX), w[i], &e) == -1) {
			load_error(ld, sec->file, k->line, "[%s] %s: %s", sec->name, k->name,
			    e.msg);
			words_free(w);
			return NULL;
		}
	}
	return w;
}

/* The template's own checks: its name, its escapes, what instances it names. */
static struct service_template *
template_new(struct load *ld, const struct raw_section *sec, const struct raw_key **inst_key)
{
	const char *name = sec->name + strlen(SERVICE_PREFIX);
	struct service_template *t = calloc(1, sizeof(*t));
	char bad[3];

	*inst_key = NULL;
	if (t == NULL || (t->name = strdup(name)) == NULL ||
	    (t->file = strdup(ld->files[sec->file])) == NULL ||
	    (t->keys = calloc(sec->nkeys ? sec->nkeys : 1, sizeof(*t->keys))) == NULL) {
		template_free(t);
		ld->oom = true;
		return NULL;
	}
	t->line = sec->line;
	if (strchr(name, '@') != name + strlen(name) - 1) {
		load_error(ld, sec->file, sec->line, "[%s] expected a template name with "
		    "one '@', at its end, like worker@", sec->name);
		t->bad = true;
	}
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct raw_key *k = &sec->keys[i];
		struct template_key *tk = &t->keys[t->nkeys];

		if (k->too_long) {
			t->bad = true;	/* said already */
			continue;
		}
		if (values_template_escapes(k->value, bad) == -1) {
			load_error(ld, sec->file, k->line, "[%s] %s: expected %%i (the "
			    "instance name) or %%%% (a '%%') after '%%', found %s%s%s",
			    sec->name, k->name, bad[1] ? "'" : "a '%' at the end",
			    bad[1] ? bad : "", bad[1] ? "'" : "");
			t->bad = true;
			continue;
		}
		if (strcmp(k->name, INSTANCES_KEY) == 0) {
			*inst_key = k;
			continue;
		}
		tk->line = k->line;
		tk->comment_cut = k->comment_cut;
		if ((tk->name = strdup(k->name)) == NULL ||
		    (tk->value = strdup(k->value)) == NULL) {
			free(tk->name);
			ld->oom = true;
			continue;
		}
		t->nkeys++;
	}
	return t;
}

/*
 * The keys that do not use %i are checked once, as the template's ("[service:
 * worker@] restart: ..."), whether it has instances or not; the others with
 * each instance, on the value it gets. A template with errors of the first
 * kind makes no instance: one mistake, one message.
 */
static void
template_check(struct load *ld, struct service_template *t, const struct raw_section *sec)
{
	size_t before = ld->nerrs;
	struct raw_section *sample;
	struct service_conf *sc;
	bool command = false;

	/* the raw keys: a command with a bad escape is said already */
	for (size_t i = 0; i < sec->nkeys; i++)
		command |= strcmp(sec->keys[i].name, "command") == 0;
	if (!command) {
		load_error(ld, sec->file, sec->line, "[%s] command: required key is missing",
		    sec->name);
		t->bad = true;
	}
	if ((sample = instance_section(t, sec->file, SAMPLE_INSTANCE, true)) == NULL) {
		ld->oom = true;
		return;
	}
	sample->first = sec->first;	/* a duplicate template name is said here */
	ld->sample = true;
	sc = load_build_service(ld, sample);
	ld->sample = false;
	values_service_free(sc);
	raw_free(sample);
	if (ld->nerrs > before)
		t->bad = true;
}

void
load_template(struct load *ld, const struct raw_section *sec)
{
	struct service_template *t, **v;
	const struct raw_key *ik;
	struct config *conf = ld->conf;
	char by[SERVICE_NAME_MAX + 32];

	if ((t = template_new(ld, sec, &ik)) == NULL)
		return;
	template_check(ld, t, sec);
	if (ik != NULL && (t->instances = instances_parse(ld, sec, ik)) == NULL)
		t->bad = true;
	if ((v = reallocarray(conf->templates, conf->ntemplates + 1, sizeof(*v))) == NULL) {
		template_free(t);
		ld->oom = true;
		return;
	}
	conf->templates = v;
	/* a duplicate is not kept: the first one's instances are made */
	if (sec->first != NULL) {
		template_free(t);
		return;
	}
	conf->templates[conf->ntemplates++] = t;
	snprintf(by, sizeof(by), "[%s] %s", sec->name, INSTANCES_KEY);
	for (size_t i = 0; !t->bad && t->instances != NULL && t->instances[i] != NULL; i++)
		instance_build(ld, t, t->instances[i], sec->file, ik->line, by, false);
}

/* A name in requires or after that is an instance the config lacks: made, if its template is good. */
static void
pull_names(struct load *ld, const struct service_conf *sc, char *const *names, int line,
    const char *key)
{
	const struct service_template *t;
	const char *inst;
	char by[SERVICE_NAME_MAX + 32];
	size_t file;

	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		if ((t = config_template_of(ld->conf, names[i], &inst)) == NULL ||
		    *inst == '\0' || t->bad || service_exists(ld->conf, names[i]))
			continue;
		if ((file = load_file_index(ld, sc->file)) == SIZE_MAX)
			return;
		snprintf(by, sizeof(by), "[service:%s] %s", sc->name, key);
		instance_build(ld, t, inst, file, line, by, false);
	}
}

void
load_template_pull(struct load *ld, size_t first)
{
	/* the instances made here are looked at in turn: they may name more */
	for (size_t i = first; !ld->oom && i < ld->conf->nservices; i++) {
		const struct service_conf *sc = ld->conf->services[i];

		pull_names(ld, sc, sc->requires_names, sc->requires_line, "requires");
		pull_names(ld, sc, sc->after_names, sc->after_line, "after");
	}
}

void
config_instance_undo(struct config *conf, size_t n)
{
	while (n-- > 0 && conf->nservices > 0)
		values_service_free(conf->services[--conf->nservices]);
}

int
config_instance_add(struct config *conf, const char *name, bool on_demand,
    struct config_errors *errs, size_t *added)
{
	struct value_error e = { "", false, false };
	struct load ld = { .conf = conf };
	size_t first = conf->nservices;
	const struct service_template *t;
	const char *inst;
	char **msgs;

	*added = 0;
	/* a bad template fails the load: never one of a running config */
	if ((t = config_template_of(conf, name, &inst)) == NULL || *inst == '\0' || t->bad)
		return -2;
	if (values_instance_name(t->name, inst, &e) == -1) {
		if ((msgs = reallocarray(errs->msgs, errs->n + 1, sizeof(*msgs))) != NULL) {
			errs->msgs = msgs;
			if (asprintf(&msgs[errs->n], "%s: %s", name, e.msg) != -1)
				errs->n++;
		}
		return -1;
	}
	if (instance_build(&ld, t, inst, load_file_index(&ld, t->file), t->line,
	    "instance", on_demand))
		load_template_pull(&ld, first);
	if (!ld.oom && ld.nerrs == 0)
		config_deps_resolve_from(conf, first, load_deps_error, &ld);
	if (ld.oom || ld.nerrs > 0) {
		config_instance_undo(conf, conf->nservices - first);
		load_release(&ld, errs);
		return -1;
	}
	load_release(&ld, errs);
	*added = conf->nservices - first;
	return 0;
}
