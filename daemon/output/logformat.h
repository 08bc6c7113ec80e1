/*
 * logformat.h: how one captured line looks in NAME.log, written and read
 * back in one place (logformat.c), so the writer (output.c) and the reader
 * (`log`, through logread.c) can never drift apart.
 *
 * With log_timestamps = yes a line is
 *
 *	2026-11-28T01:30:36.123456Z out #42 TEXT
 *
 * time (UTC, to the microsecond), stream ("out", "err"; "out+"/"err+" for
 * the continuation of a line cut at OUTPUT_LINE_MAX), the line's sequence
 * number in its service's output, and the text. The sequence number is
 * what joins the file with the ring exactly. With log_timestamps = no a
 * line is its text alone ("+ TEXT" for a continuation): nothing to parse.
 */
#ifndef VIGIL_LOGFORMAT_H
#define VIGIL_LOGFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"

#define LOGFORMAT_TIME_LEN	27	/* "2026-11-28T01:30:36.123456Z" */
/* time, " err+", " #" and 20 digits, " ", and a NUL */
#define LOGFORMAT_PREFIX_MAX	(LOGFORMAT_TIME_LEN + 5 + 2 + 20 + 2)

/* The time field, once per read: buf holds LOGFORMAT_TIME_LEN + 1 bytes. */
void	logformat_time(int64_t usec, char *buf);

/*
 * One line's prefix into buf (LOGFORMAT_PREFIX_MAX bytes); time is
 * logformat_time's, or NULL for a raw file. Returns its length.
 */
size_t	logformat_prefix(const char *time, enum output_stream stream, bool cont,
	    uint64_t seq, char *buf);

/* One line of a log file, parsed; text points into the caller's buffer. */
struct logformat_line {
	bool		 timed;		/* it had the time and stream prefix */
	bool		 has_seq;	/* and a sequence number (older files have none) */
	int64_t		 usec;		/* when timed */
	uint64_t	 seq;		/* when has_seq */
	enum output_stream stream;	/* OUTPUT_STDOUT when not timed */
	bool		 cont;		/* "out+": continues the previous piece */
	const char	*text;
	size_t		 len;
};

/*
 * A line as logformat_prefix wrote it, or as earlier versions did (no
 * "#SEQ"), or anything else, which is raw text: the whole line, stream out.
 */
void	logformat_parse(const char *p, size_t len, struct logformat_line *out);

#endif
