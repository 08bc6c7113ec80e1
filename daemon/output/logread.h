/*
 * logread.h: reading a service's log file back, newest line first, for
 * `log` requests: a bounded read from the end of NAME.log (and of
 * NAME.log.1), and the parse of one line as output.c writes it.
 */
#ifndef VIGIL_LOGREAD_H
#define VIGIL_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"

/* One line of a log file, parsed; text points into the caller's buffer. */
struct logread_line {
	bool		 timed;		/* it had a timestamp and stream prefix */
	int64_t		 usec;		/* when timed */
	enum output_stream stream;	/* OUTPUT_STDOUT when not timed */
	bool		 cont;		/* "out+": continues the previous piece */
	const char	*text;
	size_t		 len;
};

/*
 * "2026-11-28T01:30:36.123456Z out text", "...Z err+ text", or anything
 * else, which is raw text (a service with log_timestamps = no).
 */
void	logread_parse(const char *p, size_t len, struct logread_line *out);

/* The last bytes of one file, and a cursor walking its lines backwards. */
struct logread_tail {
	char	*buf;
	size_t	 len;
	size_t	 pos;		/* lines before pos are still to be walked */
	bool	 from_start;	/* buf holds the file from its first byte */
	bool	 first_whole;	/* buf begins at the start of a line */
	int64_t	 mtime_usec;
};

/*
 * Read at most max bytes from the end of path. 0, or -1 with errno
 * (ENOENT for a file not written yet). Free with logread_tail_free.
 */
int	logread_tail_open(struct logread_tail *t, const char *path, size_t max);
/*
 * The line before the cursor, without its newline; false when none is
 * left. A line cut by the start of the read is never returned.
 */
bool	logread_tail_prev(struct logread_tail *t, const char **line, size_t *len);
void	logread_tail_free(struct logread_tail *t);

#endif
