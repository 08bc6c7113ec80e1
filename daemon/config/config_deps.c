/*
 * config_deps.c: the requires and after keys once every service is read:
 * names into indices of config.services, and the cycles that would leave a
 * service waiting for itself. What runs in which order is supervisor.c's.
 */
#include "config.h"
#include "config_values.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

enum color {
	WHITE,		/* not visited */
	GRAY,		/* on the current path */
	BLACK		/* done: no cycle found through it any more */
};

struct deps {
	struct config	*conf;
	deps_error_cb	*error;
	void		*ctx;
	enum color	*color;
	size_t		*path;	/* the services on the current path, in order */
	size_t		 npath;
	int		 rc;
};

static size_t
service_index(const struct config *conf, const char *name)
{
	for (size_t i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i]->name, name) == 0)
			return i;
	return SIZE_MAX;
}

/* The closest configured name within two edits, or NULL. */
static const char *
name_suggest(const struct config *conf, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3, d;

	for (size_t i = 0; i < conf->nservices; i++) {
		if ((d = values_edit_distance(name, conf->services[i]->name)) < best_d) {
			best = conf->services[i]->name;
			best_d = d;
		}
	}
	return best;
}

static void
deps_error(struct deps *d, const struct service_conf *sc, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
deps_error(struct deps *d, const struct service_conf *sc, int line,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->error(d->ctx, sc, line, msg);
	d->rc = -1;
}

/* One key's names into indices, each once; errors at the key's line. */
static void
resolve_key(struct deps *d, struct service_conf *sc, const char *key,
    char **names, int line, size_t **out, size_t *nout)
{
	const struct service_template *tmpl;
	size_t n = 0, idx;
	const char *hint;

	if (names == NULL)
		return;
	if ((*out = calloc(words_count(names) + 1, sizeof(**out))) == NULL) {
		d->error(d->ctx, sc, line, "out of memory");
		d->rc = -1;
		return;
	}
	for (size_t i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], sc->name) == 0) {
			deps_error(d, sc, line, "%s: expected the name of another "
			    "service, found '%s' (a service cannot wait for itself)",
			    key, names[i]);
			continue;
		}
		idx = service_index(d->conf, names[i]);
		tmpl = idx == SIZE_MAX ? config_template_of(d->conf, names[i], NULL) : NULL;
		if (tmpl != NULL && tmpl->bad) {
			d->rc = -1;	/* the template's own messages say why */
			continue;
		}
		if (tmpl != NULL && names[i][strlen(names[i]) - 1] == '@') {
			deps_error(d, sc, line, "%s: expected the name of a service or of "
			    "an instance like %s1, found the template '%s' (a template "
			    "is not a service; name each instance)", key, names[i], names[i]);
			continue;
		}
		if (idx == SIZE_MAX) {
			hint = name_suggest(d->conf, names[i]);
			deps_error(d, sc, line, "%s: expected the name of a configured "
			    "service, found '%s'%s%s%s", key, names[i],
			    hint ? " (did you mean '" : "", hint ? hint : "",
			    hint ? "'?)" : "");
			continue;
		}
		bool seen = false;
		for (size_t j = 0; j < n; j++)
			seen |= (*out)[j] == idx;
		if (!seen)
			(*out)[n++] = idx;
	}
	*nout = n;
}

static bool
has_edge(const size_t *v, size_t n, size_t to)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == to)
			return true;
	return false;
}

/* path[from..npath) and back to path[from]: said from its first service in file order. */
static void
report_cycle(struct deps *d, size_t from)
{
	size_t len = d->npath - from, first = 0, at, next;
	const struct service_conf *sc;
	char text[900] = "";

	for (size_t k = 1; k < len; k++)
		if (d->path[from + k] < d->path[from + first])
			first = k;
	for (size_t k = 0; k <= len; k++) {
		at = d->path[from + (first + k) % len];
		if (k > 0)
			strncat(text, " -> ", sizeof(text) - strlen(text) - 1);
		strncat(text, d->conf->services[at]->name, sizeof(text) - strlen(text) - 1);
	}
	sc = d->conf->services[d->path[from + first]];
	next = d->path[from + (first + 1) % len];
	if (has_edge(sc->requires, sc->nrequires, next))
		deps_error(d, sc, sc->requires_line, "requires: dependency cycle %s", text);
	else
		deps_error(d, sc, sc->after_line, "after: dependency cycle %s", text);
}

static void visit(struct deps *d, size_t i);

static void
visit_edge(struct deps *d, size_t to)
{
	size_t from;

	if (d->color[to] == WHITE) {
		visit(d, to);
		return;
	}
	if (d->color[to] != GRAY)
		return;
	for (from = d->npath; from > 0 && d->path[from - 1] != to; from--)
		;
	report_cycle(d, from - 1);
}

/* Depth first over requires and after: each edge back onto the path is one cycle. */
static void
visit(struct deps *d, size_t i)
{
	const struct service_conf *sc = d->conf->services[i];

	d->color[i] = GRAY;
	d->path[d->npath++] = i;
	for (size_t k = 0; k < sc->nrequires; k++)
		visit_edge(d, sc->requires[k]);
	for (size_t k = 0; k < sc->nafter; k++)
		if (!has_edge(sc->requires, sc->nrequires, sc->after[k]))
			visit_edge(d, sc->after[k]);
	d->npath--;
	d->color[i] = BLACK;
}

int
config_deps_resolve(struct config *conf, deps_error_cb *error, void *ctx)
{
	return config_deps_resolve_from(conf, 0, error, ctx);
}

/*
 * Services before first are resolved already (a running config that
 * gains instances); the cycle search still walks them all, as a new
 * instance may close a cycle through them.
 */
int
config_deps_resolve_from(struct config *conf, size_t first, deps_error_cb *error, void *ctx)
{
	struct deps d = { conf, error, ctx, NULL, NULL, 0, 0 };

	for (size_t i = first; i < conf->nservices; i++) {
		struct service_conf *sc = conf->services[i];

		resolve_key(&d, sc, "requires", sc->requires_names, sc->requires_line,
		    &sc->requires, &sc->nrequires);
		resolve_key(&d, sc, "after", sc->after_names, sc->after_line,
		    &sc->after, &sc->nafter);
	}
	if (d.rc == -1 || conf->nservices == 0)
		return d.rc;
	d.color = calloc(conf->nservices, sizeof(*d.color));
	d.path = calloc(conf->nservices, sizeof(*d.path));
	if (d.color == NULL || d.path == NULL) {
		free(d.color);
		free(d.path);
		error(ctx, conf->services[0], 0, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < conf->nservices; i++)
		if (d.color[i] == WHITE)
			visit(&d, i);
	free(d.color);
	free(d.path);
	return d.rc;
}
