/*
 * world.h: the daemon's service_ops (world.c): what a service of the set is
 * made with and freed with, and who hears of its changes.
 */
#ifndef VIGIL_WORLD_H
#define VIGIL_WORLD_H

#include "core.h"

extern const struct service_ops world_ops;

/*
 * Start the per-turn restart budget; hold says whether a due back-off
 * restart must wait (supervisor.c: what it requires is down).
 */
void		 world_init(bool (*hold)(struct service *s));
void		 world_free(void);
/* A service for conf at index, with world_ops and its timer; no output yet. */
struct service	*world_service_new(const struct service_conf *c, size_t index);
/* s and everything the daemon keeps for it: timer, output, probe, notify socket. */
void		 world_service_free(struct service *s);

#endif
