/*
 * logline.h: one captured line as the protocol's LINE object (logline.c).
 */
#ifndef VIGIL_LOGLINE_H
#define VIGIL_LOGLINE_H

#include <stddef.h>

#include "output/output.h"

/* Room for any line of a ring (OUTPUT_LINE_MAX bytes) as a LINE object */
#define LOG_LINE_JSON_MAX	(OUTPUT_LINE_MAX * 6 + 512)

/*
 * One LINE object and its '\n'. Returns its length; the bytes are in buf
 * when they fit in cap, else in *big (malloc'd, the caller frees). 0 when
 * out of memory.
 */
size_t	 logline_format(const char *service, const struct log_line *l, char *buf,
	    size_t cap, char **big);

#endif
