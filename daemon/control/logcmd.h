/*
 * logcmd.h: the `log` and `log-reopen` requests (logcmd.c).
 */
#ifndef VIGIL_LOGCMD_H
#define VIGIL_LOGCMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct control_client;
struct service;

/* log [-n N] [--since=DURATION] [--follow] [--] [NAME...] */
json_t	*logcmd_log(struct control_client *c, char **argv, size_t argc, bool *deferred);
/* log-reopen */
json_t	*logcmd_reopen(char **argv, size_t argc);

#endif
