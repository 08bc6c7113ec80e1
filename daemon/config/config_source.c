/*
 * config_source.c: where each key of a service got its value, kept with
 * the service so `show` can say it for the definition that runs (not the
 * file on disk): the key's own line, or the [vigil] key a service takes as
 * its default. How a value is shown is config_show.c's.
 */
#include "config.h"
#include "config_load.h"
#include "config_values.h"

#include <stdlib.h>
#include <string.h>

/* The service keys whose default is [vigil]'s, as values_service_inherit copies them. */
static const char *const inherited[] = {
	"log_max_size", "log_keep", "log_timestamps", "log_buffer", NULL
};

static struct conf_source *
source_slot(struct service_conf *sc, const char *key)
{
	struct conf_source *v;

	for (size_t i = 0; i < sc->nsources; i++)
		if (sc->sources[i].key != NULL && strcmp(sc->sources[i].key, key) == 0) {
			free(sc->sources[i].key);
			free(sc->sources[i].value);
			free(sc->sources[i].file);
			return &sc->sources[i];
		}
	if ((v = reallocarray(sc->sources, sc->nsources + 1, sizeof(*v))) == NULL)
		return NULL;
	sc->sources = v;
	return &v[sc->nsources++];
}

static void
source_add(struct load *ld, struct service_conf *sc, const struct raw_section *sec,
    const struct raw_key *k, enum conf_source_kind kind)
{
	struct conf_source *src;

	if ((src = source_slot(sc, k->name)) == NULL) {
		ld->oom = true;
		return;
	}
	*src = (struct conf_source){ strdup(k->name), strdup(k->value),
	    strdup(ld->files[sec->file]), k->line, kind };
	/* kept with what it holds, so config_source_free frees it; the load fails */
	if (src->key == NULL || src->value == NULL || src->file == NULL)
		ld->oom = true;
}

void
config_source_note(struct load *ld, const struct raw_section *sec,
    const struct raw_key *k, struct service_conf *sc)
{
	source_add(ld, sc, sec, k, CONF_SOURCE_FILE);
}

/* Before the section's own keys: any of them then replaces what [vigil] gave. */
void
config_source_inherit(struct load *ld, struct service_conf *sc)
{
	const struct raw_section *vsec;
	const struct raw_key *k, *last;

	for (size_t i = 0; inherited[i] != NULL; i++) {
		last = NULL;
		vsec = NULL;
		/* [vigil] may come in parts: the last one written counts, as in build_vigil */
		for (size_t s = 0; s < ld->nsecs; s++)
			if (ld->secs[s]->kind == SECTION_VIGIL &&
			    (k = section_find_key(ld->secs[s], inherited[i])) != NULL) {
				last = k;
				vsec = ld->secs[s];
			}
		if (last != NULL)
			source_add(ld, sc, vsec, last, CONF_SOURCE_VIGIL);
	}
}

const struct conf_source *
config_source_find(const struct service_conf *sc, const char *key)
{
	for (size_t i = 0; i < sc->nsources; i++)
		if (sc->sources[i].key != NULL && strcmp(sc->sources[i].key, key) == 0)
			return &sc->sources[i];
	return NULL;
}

void
config_source_free(struct service_conf *sc)
{
	for (size_t i = 0; i < sc->nsources; i++) {
		free(sc->sources[i].key);
		free(sc->sources[i].value);
		free(sc->sources[i].file);
	}
	free(sc->sources);
	sc->sources = NULL;
	sc->nsources = 0;
}
