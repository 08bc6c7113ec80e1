/*
 * ring.h: a fixed-size byte ring of recent lines, oldest evicted first.
 * One allocation per service, no allocation per line.
 */
#ifndef VIGIL_RING_H
#define VIGIL_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring {
	char	*buf;
	size_t	 cap;
	size_t	 head;		/* offset of the oldest record */
	size_t	 tail;		/* where the next record goes */
	size_t	 wrap;		/* records end here before continuing at 0; cap when not wrapped */
	size_t	 count;		/* records held */
	bool	 wrapped;	/* data runs [head, wrap) then [0, tail) */
};

struct ring_record {
	int64_t	 usec;
	uint64_t seq;
	uint32_t len;
	uint8_t	 stream;
	uint8_t	 flags;
	const char *text;
};

/* Nothing is allocated until the first line. */
int	ring_init(struct ring *r, size_t cap);
void	ring_free(struct ring *r);
/* Give r a buffer of cap bytes, keeping the newest records that fit; -1: r unchanged. */
int	ring_resize(struct ring *r, size_t cap);
/* Add a line, evicting the oldest as needed; a line longer than the ring is cut. */
void	ring_push(struct ring *r, int64_t usec, uint64_t seq, uint8_t stream,
	    uint8_t flags, const char *text, size_t len);
/* Oldest to newest; stop early by returning false. */
void	ring_foreach(const struct ring *r, bool (*fn)(const struct ring_record *, void *),
	    void *arg);

#endif
