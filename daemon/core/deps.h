/*
 * deps.h: dependency scheduling (deps.c). It decides when each start and
 * stop may happen given requires and after, and asks the state machine
 * (service.c) through its verbs. supervisor.c owns the set and calls it.
 */
#ifndef VIGIL_DEPS_H
#define VIGIL_DEPS_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

struct dependents;

/* removed_twin: a service of that name a reload removed and that still runs, or NULL. */
void		 deps_init(struct service *(*removed_twin)(const char *name));
/* The table of conf, indexed like conf->services; NULL when out of memory. */
struct dependents *deps_table_new(const struct config *conf);
void		 deps_table_free(struct dependents *d, size_t n);
/* The table for vigild.services from now on; the previous one is returned. */
struct dependents *deps_install(struct dependents *deps);

void		 deps_job_set(struct service *s, enum service_job job);	/* the only writer of s->job */
void		 deps_evaluate(void);		/* issue every job whose turn has come */
void		 deps_start_all(void);		/* every autostart service */
void		 deps_start(struct service *s);	/* what s requires first, then s */
void		 deps_stop(struct service *s);	/* s's dependents first, then s */
/* Stop s's running dependents and s, then start s and them again, each once what it requires is ready. */
void		 deps_restart(struct service *s);
void		 deps_stop_all(void);		/* shutdown: everything, dependents first */
/* A due back-off restart that must wait for what s requires: true, and it waits. */
bool		 deps_hold_backoff(struct service *s);
/* The services deps_stop(s) would stop besides s; malloc'd, *n of them. */
struct service	**deps_dependents(const struct service *s, size_t *n);

#endif
