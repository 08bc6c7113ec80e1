/*
 * logread.h: reading a service's log file back, newest line first, for
 * `log` requests: a bounded read from the end of NAME.log (and of
 * NAME.log.1), walked line by line. What a line says is logformat.h's.
 */
#ifndef VIGIL_LOGREAD_H
#define VIGIL_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
