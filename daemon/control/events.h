/*
 * events.h: the `events` request (events.c): the state of all or the named
 * services, then each change, as a stream, for as long as the client stays.
 */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct control_client;

/* events [--] [NAME...] */
json_t	*events_request(struct control_client *c, char **argv, size_t argc,
	    bool *deferred);

#endif
