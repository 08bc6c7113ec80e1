/*
 * reload.h: what a configuration reload does to each service
 * (reload_plan.c: the comparison, pure) and the request and SIGHUP that
 * carry it out (reload.c).
 */
#ifndef VIGIL_RELOAD_H
#define VIGIL_RELOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigild.h"

/* What a changed field asks of a service that has a process. */
enum reload_class {
	RELOAD_RESTARTS,	/* shapes the process: only a new one can take it */
	RELOAD_IN_PLACE		/* steers supervision: the process is kept */
};

/* What a reload does to one service, by name. */
enum reload_action {
	RELOAD_ADDED,		/* a new name: created, started if autostart */
	RELOAD_REMOVED,		/* no longer configured: stopped, then forgotten */
	RELOAD_RESTARTED,	/* a process-shaping field changed */
	RELOAD_UPDATED,		/* only supervision fields changed: applied in place */
	RELOAD_UNCHANGED,	/* the same definition */
	RELOAD_NACTIONS
};

struct reload_item {
	enum reload_action action;
	const char	*name;		/* borrowed from the old or the new definition */
	size_t		 old_index;	/* in the running set; SIZE_MAX when added */
	size_t		 new_index;	/* in the new config; SIZE_MAX when removed */
	uint64_t	 changed;	/* bit i: reload_field_key(i) differs */
};

struct reload_plan {
	struct reload_item *items;	/* the new config's order, then the removed */
	size_t		 n;
	size_t		 count[RELOAD_NACTIONS];
};

/* reload_plan.c */
/* Compare the running definitions (old[i] is service i's) with conf; 0 or -1 (out of memory). */
int		 reload_plan_build(const struct service_conf *const *old, size_t nold,
		    const struct config *conf, struct reload_plan *plan);
void		 reload_plan_free(struct reload_plan *plan);
const char	*reload_action_name(enum reload_action action);	/* "added", ... */
/* The config key of field i, NULL past the last; *class what it asks for. */
const char	*reload_field_key(size_t i, enum reload_class *class);
/* {"added":[...],...,"unchanged":[...],"changes":{"web":["command"]}} */
json_t		*reload_plan_json(const struct reload_plan *plan);
/* "added cache; restarted web (command); 3 unchanged", for the log */
char		*reload_plan_text(const struct reload_plan *plan);

/* reload.c */
/* Re-read vigild.conf->file and apply it (or only plan it); the reply, logged too. */
json_t		*reload_run(bool dry_run);

#endif
