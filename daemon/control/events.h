/*
 * events.h: the `events` request (events.c), and the event line that both
 * the first lines of its stream and each later change are made of.
 */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "control.h"

struct control_client;

/* The "from" of a line that tells the current state, not a change */
#define EVENT_NO_FROM	SERVICE_NSTATES

/* events [--] [NAME...] */
json_t	*events_request(struct control_client *c, char **argv, size_t argc,
	    bool *deferred);
/*
 * One event line of s, as it is now, and its '\n' (malloc'd, *len set);
 * from is the state it left, or EVENT_NO_FROM. NULL when out of memory.
 */
char	*events_line(const struct service *s, enum service_state from, size_t *len);

#endif
