/*
 * logcmd.h: the `log` and `log-reopen` requests (logcmd.c), and the LINE
 * object that both a `log` reply and a follower's stream are made of.
 */
#ifndef VIGIL_LOGCMD_H
#define VIGIL_LOGCMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "output/output.h"

struct control_client;
struct service;

/* Room for any line of a ring (OUTPUT_LINE_MAX bytes) as a LINE object */
#define LOG_LINE_JSON_MAX	(OUTPUT_LINE_MAX * 6 + 512)

/* log [-n N] [--since=DURATION] [--follow] [--] [NAME...] */
json_t	*logcmd_log(struct control_client *c, char **argv, size_t argc, bool *deferred);
/* log-reopen */
json_t	*logcmd_reopen(char **argv, size_t argc);
/*
 * One LINE object and its '\n'. Returns its length; the bytes are in buf
 * when they fit in cap, else in *big (malloc'd, the caller frees). 0 when
 * out of memory.
 */
size_t	 logcmd_format_line(const char *service, const struct log_line *l, char *buf,
	    size_t cap, char **big);

#endif
