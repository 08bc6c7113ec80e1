/*
 * reload.h: the reload request and SIGHUP (reload.c): re-read the
 * configuration and apply it, or with dry_run only say what would change.
 */
#ifndef VIGIL_RELOAD_H
#define VIGIL_RELOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Re-read vigild.conf->file and apply it (or only plan it); the reply,
 * logged too. *removed: retire.c's batch of the services it removed, 0 if none.
 */
json_t		*reload_run(bool dry_run, uint64_t *removed);

#endif
