/*
 * follow.h: followers of services' output (follow.c), the stream that
 * `log --follow` turns into once its backlog is queued.
 */
#ifndef VIGIL_FOLLOW_H
#define VIGIL_FOLLOW_H

#include <stddef.h>

#include "core/core.h"

struct control_client;

/*
 * c gets every new line of the n services of svcs (which it owns from now
 * on, even on failure), or of every service when svcs is NULL; -1 when out
 * of memory.
 */
int	 follow_start(struct control_client *c, struct service **svcs, size_t n);

#endif
