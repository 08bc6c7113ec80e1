/*
 * commands.h: the verbs' table (commands.c), the top of the control layer:
 * main.c hands commands_dispatch to the server as its handler.
 */
#ifndef VIGIL_COMMANDS_H
#define VIGIL_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct control_client;

/* The reply, or NULL with *deferred set when the handler wrote it or parked c */
json_t		*commands_dispatch(struct control_client *c, char **argv, size_t argc,
		    bool *deferred);

#endif
