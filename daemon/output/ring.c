/*
 * ring.c: records of [header | text | padding] laid end to end in one
 * buffer. A record never straddles the end: when it does not fit there the
 * ring wraps, remembering where the data stopped (wrap).
 */
#include "config.h"
#include "ring.h"

#include <stdlib.h>
#include <string.h>

struct ring_hdr {
	int64_t	 usec;
	uint64_t seq;
	uint32_t len;
	uint8_t	 stream;
	uint8_t	 flags;
	uint16_t pad;
};

#define RING_ALIGN(n)	(((n) + 7) & ~(size_t)7)
#define REC_SIZE(len)	(sizeof(struct ring_hdr) + RING_ALIGN(len))

static void	reset(struct ring *r);

static size_t
usable_cap(size_t cap)
{
	cap = RING_ALIGN(cap);
	return cap < 2 * sizeof(struct ring_hdr) ? 2 * sizeof(struct ring_hdr) : cap;
}

int
ring_init(struct ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	cap = usable_cap(cap);
	/* the buffer comes with the first line: a quiet service costs no page */
	r->cap = cap;
	reset(r);
	return 0;
}

void
ring_free(struct ring *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static void
reset(struct ring *r)
{
	r->head = r->tail = r->count = 0;
	r->wrap = r->cap;
	r->wrapped = false;
}

static void
evict_oldest(struct ring *r)
{
	const struct ring_hdr *h = (const struct ring_hdr *)(r->buf + r->head);

	r->head += REC_SIZE(h->len);
	if (--r->count == 0) {
		reset(r);
		return;
	}
	if (r->wrapped && r->head >= r->wrap) {	/* the oldest now start at 0 */
		r->head = 0;
		r->wrap = r->cap;
		r->wrapped = false;
	}
}

/* Make sz contiguous bytes free at tail, evicting and wrapping as needed. */
static void
make_room(struct ring *r, size_t sz)
{
	for (;;) {
		if (r->count == 0) {
			reset(r);
			return;
		}
		if (!r->wrapped) {	/* data [head, tail): free [tail, cap) */
			if (r->cap - r->tail >= sz)
				return;
			r->wrap = r->tail;
			r->tail = 0;
			r->wrapped = true;
			continue;
		}
		if (r->head - r->tail >= sz)	/* free [tail, head) */
			return;
		evict_oldest(r);
	}
}

void
ring_push(struct ring *r, int64_t usec, uint64_t seq, uint8_t stream, uint8_t flags,
    const char *text, size_t len)
{
	struct ring_hdr h;

	if (r->cap == 0)
		return;	/* freed, or never set up */
	if (r->buf == NULL && (r->buf = malloc(r->cap)) == NULL)
		return;
	if (REC_SIZE(len) > r->cap)
		len = r->cap - sizeof(struct ring_hdr);
	make_room(r, REC_SIZE(len));
	h.usec = usec;
	h.seq = seq;
	h.len = (uint32_t)len;
	h.stream = stream;
	h.flags = flags;
	h.pad = 0;
	memcpy(r->buf + r->tail, &h, sizeof(h));
	memcpy(r->buf + r->tail + sizeof(h), text, len);
	r->tail += REC_SIZE(len);
	r->count++;
}

static bool
copy_cb(const struct ring_record *rec, void *arg)
{
	ring_push(arg, rec->usec, rec->seq, rec->stream, rec->flags, rec->text, rec->len);
	return true;
}

/* The newest records that fit move to a buffer of the new size. */
int
ring_resize(struct ring *r, size_t cap)
{
	struct ring n;

	if (usable_cap(cap) == r->cap)
		return 0;
	ring_init(&n, cap);
	if (r->buf != NULL) {
		if ((n.buf = malloc(n.cap)) == NULL)
			return -1;
		ring_foreach(r, copy_cb, &n);
	}
	ring_free(r);
	*r = n;
	return 0;
}

void
ring_foreach(const struct ring *r, bool (*fn)(const struct ring_record *, void *), void *arg)
{
	size_t p = r->head;

	for (size_t i = 0; i < r->count; i++) {
		struct ring_hdr h;
		struct ring_record rec;

		if (r->wrapped && p >= r->wrap)
			p = 0;
		memcpy(&h, r->buf + p, sizeof(h));
		rec.usec = h.usec;
		rec.seq = h.seq;
		rec.len = h.len;
		rec.stream = h.stream;
		rec.flags = h.flags;
		rec.text = r->buf + p + sizeof(h);
		if (!fn(&rec, arg))
			return;
		p += REC_SIZE(h.len);
	}
}
