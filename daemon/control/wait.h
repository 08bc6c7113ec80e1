/*
 * wait.h: requests that wait until services reach a target (wait.c): the
 * wait request itself, and start, stop and restart with --wait.
 */
#ifndef VIGIL_WAIT_H
#define VIGIL_WAIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct control_client;

enum wait_target {
	WAIT_RUNNING,		/* state running, ready or not */
	WAIT_READY,		/* start/restart: service_is_ready() */
	WAIT_STOPPED,		/* stop: no process left, nothing pending */
	WAIT_EXITED		/* state exited: a job that ended */
};

/* "running", "ready", "stopped", "exited"; -1 for anything else */
int		 wait_target_parse(const char *name, enum wait_target *target);
/*
 * Wait until the n services of svcs reach target (svcs is copied): the
 * reply now if they are there or can no longer get there, else NULL with
 * c parked and *deferred set. extra (stolen) holds more reply fields.
 */
json_t		*wait_start(struct control_client *c, enum wait_target target,
		    struct service **svcs, size_t n, int64_t timeout_ms, json_t *extra,
		    bool *deferred);
/*
 * reply (stolen) once every service of retire.c's batch (what a reload
 * removed) is stopped: now if
 * they are, else NULL with c parked and *deferred set.
 */
json_t		*wait_retired(struct control_client *c, json_t *reply, uint64_t batch,
		    bool *deferred);

#endif
