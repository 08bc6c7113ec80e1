/*
 * test_ring.c: the ring of recent lines, against a model: after every push
 * the ring holds a run of the newest lines, oldest first, byte for byte,
 * always the newest one, and never throws away much more than it must.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/ring.h"

/* What a record costs in the ring: a 24-byte header and the text padded to 8. */
#define HDR	24
#define COST(len)	(HDR + (((len) + 7) & ~(size_t)7))

struct seen {
	size_t	 n;
	int64_t	 usec[4096];
	uint64_t seq[4096];
	size_t	 len[4096];
	uint8_t	 stream[4096], flags[4096];
	char	*text[4096];
	size_t	 stop_after;	/* 0: never stop early */
};

static bool
collect(const struct ring_record *r, void *arg)
{
	struct seen *s = arg;

	cr_assert_lt(s->n, 4096);
	s->usec[s->n] = r->usec;
	s->seq[s->n] = r->seq;
	s->len[s->n] = r->len;
	s->stream[s->n] = r->stream;
	s->flags[s->n] = r->flags;
	s->text[s->n] = malloc(r->len + 1);
	memcpy(s->text[s->n], r->text, r->len);
	s->text[s->n][r->len] = '\0';
	s->n++;
	return s->stop_after == 0 || s->n < s->stop_after;
}

static void
seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->text[i]);
	s->n = 0;
}

static struct seen *
walk(const struct ring *r, size_t stop_after)
{
	struct seen *s = calloc(1, sizeof(*s));

	s->stop_after = stop_after;
	ring_foreach(r, collect, s);
	return s;
}

/* Line number i: its text (unique, any bytes), written into buf. */
static size_t
line_text(unsigned i, size_t len, char *buf)
{
	for (size_t k = 0; k < len; k++)
		buf[k] = (char)((i * 131 + k * 7) & 0xff);	/* NULs and newlines included */
	if (len >= sizeof(i))
		memcpy(buf, &i, sizeof(i));
	return len;
}

Test(ring, empty_ring_walks_nothing)
{
	struct ring r;
	struct seen *s;

	cr_assert_eq(ring_init(&r, 4096), 0);
	s = walk(&r, 0);
	cr_expect_eq(s->n, 0);
	free(s);
	ring_free(&r);
	/* a freed ring is inert */
	ring_push(&r, 1, 0, 1, 0, "x", 1);
	s = walk(&r, 0);
	cr_expect_eq(s->n, 0);
	free(s);
}

Test(ring, one_line_comes_back_with_its_fields)
{
	struct ring r;
	struct seen *s;

	cr_assert_eq(ring_init(&r, 1024), 0);
	ring_push(&r, 1234567, UINT64_MAX, 2, 3, "hello\0world", 11);
	ring_push(&r, 1234568, 7, 1, 0, "", 0);
	s = walk(&r, 0);
	cr_assert_eq(s->n, 2);
	cr_expect_eq(s->usec[0], 1234567);
	cr_expect_eq(s->seq[0], UINT64_MAX);
	cr_expect_eq(s->stream[0], 2);
	cr_expect_eq(s->flags[0], 3);
	cr_expect_eq(s->len[0], 11);
	cr_expect(memcmp(s->text[0], "hello\0world", 11) == 0);
	cr_expect_eq(s->usec[1], 1234568);
	cr_expect_eq(s->seq[1], 7);
	cr_expect_eq(s->len[1], 0);
	seen_free(s);
	free(s);
	ring_free(&r);
}

Test(ring, foreach_stops_when_told)
{
	struct ring r;
	struct seen *s;

	cr_assert_eq(ring_init(&r, 1024), 0);
	for (int i = 0; i < 10; i++)
		ring_push(&r, i, 0, 1, 0, "abc", 3);
	s = walk(&r, 3);
	cr_expect_eq(s->n, 3);
	cr_expect_eq(s->usec[0], 0);
	cr_expect_eq(s->usec[2], 2);
	seen_free(s);
	free(s);
	ring_free(&r);
}

Test(ring, a_line_bigger_than_the_ring_is_cut_and_alone)
{
	struct ring r;
	struct seen *s;
	char big[1000];

	memset(big, 'q', sizeof(big));
	big[0] = 'A';
	cr_assert_eq(ring_init(&r, 256), 0);
	ring_push(&r, 1, 0, 1, 0, "before", 6);
	ring_push(&r, 2, 0, 1, 1, big, sizeof(big));
	s = walk(&r, 0);
	cr_assert_eq(s->n, 1, "%zu records", s->n);
	cr_expect_eq(s->usec[0], 2);
	cr_expect_eq(s->len[0], 256 - HDR, "cut to %zu bytes", s->len[0]);
	cr_expect(memcmp(s->text[0], big, s->len[0]) == 0, "the cut line keeps its start");
	seen_free(s);
	free(s);
	/* and the ring goes on normally after it */
	ring_push(&r, 3, 0, 1, 0, "after", 5);
	s = walk(&r, 0);
	cr_expect_eq(s->n, 1);
	cr_expect_eq(s->usec[s->n - 1], 3);
	cr_expect_str_eq(s->text[s->n - 1], "after");
	seen_free(s);
	free(s);
	ring_free(&r);
}

Test(ring, a_tiny_ring_still_holds_one_line)
{
	struct ring r;
	struct seen *s;

	cr_assert_eq(ring_init(&r, 0), 0);
	for (unsigned i = 0; i < 50; i++) {
		char t[32];
		size_t n = (size_t)snprintf(t, sizeof(t), "line %u", i);
		ring_push(&r, i, 0, 1, 0, t, n);
		s = walk(&r, 0);
		cr_assert_geq(s->n, 1);
		cr_expect_eq(s->usec[s->n - 1], i);
		cr_expect(strncmp(s->text[s->n - 1], t, s->len[s->n - 1]) == 0);
		seen_free(s);
		free(s);
	}
	ring_free(&r);
}

/* Records that fit exactly: the ring wraps at the very end of its buffer. */
Test(ring, exact_fits_wrap_cleanly)
{
	struct ring r;
	struct seen *s;

	cr_assert_eq(ring_init(&r, 4 * COST(8)), 0);
	for (unsigned i = 0; i < 23; i++) {
		char t[8];
		line_text(i, 8, t);
		ring_push(&r, i, 0, 1, 0, t, 8);
		s = walk(&r, 0);
		cr_assert_eq(s->n, i < 4 ? i + 1 : 4, "after %u pushes: %zu records", i + 1, s->n);
		for (size_t k = 0; k < s->n; k++) {
			char want[8];
			unsigned id = i + 1 - (unsigned)s->n + (unsigned)k;
			line_text(id, 8, want);
			cr_expect_eq(s->usec[k], id);
			cr_expect(memcmp(s->text[k], want, 8) == 0);
		}
		seen_free(s);
		free(s);
	}
	ring_free(&r);
}

/*
 * Push many lines of pseudo-random lengths into rings of many sizes; after
 * each push, compare the walk with the model: the newest lines, in order,
 * intact, and (when lines are small next to the ring) most of the ring used.
 */
static void
run_model(size_t cap, size_t maxlen, unsigned npush, unsigned seed)
{
	struct ring r;
	char *buf = malloc(maxlen + 1), *want = malloc(maxlen + 1);
	size_t *lens = malloc(npush * sizeof(*lens));
	unsigned x = seed;

	cr_assert_eq(ring_init(&r, cap), 0);
	for (unsigned i = 0; i < npush; i++) {
		struct seen *s;
		size_t used = 0, len;

		x = x * 1103515245u + 12345u;
		len = (x >> 8) % (maxlen + 1);
		if (i % 17 == 0)
			len = 0;
		lens[i] = len;
		line_text(i, len, buf);
		ring_push(&r, (int64_t)i * 10, (uint64_t)i + 1000, (uint8_t)(1 + i % 2),
		    (uint8_t)(i % 4), buf, len);

		s = walk(&r, 0);
		cr_assert_geq(s->n, 1, "cap %zu push %u: empty after a push", cap, i);
		cr_assert_leq(s->n, i + 1);
		for (size_t k = 0; k < s->n; k++) {
			unsigned id = i + 1 - (unsigned)s->n + (unsigned)k;
			size_t wl = lens[id];

			if (COST(wl) > r.cap)
				wl = r.cap - HDR;	/* a line bigger than the ring is cut */
			cr_assert_eq(s->usec[k], (int64_t)id * 10,
			    "cap %zu push %u: record %zu is line %lld, want %u (order or loss)",
			    cap, i, k, (long long)s->usec[k] / 10, id);
			cr_assert_eq(s->len[k], wl, "cap %zu line %u: length %zu, want %zu", cap, id,
			    s->len[k], wl);
			cr_assert_eq(s->seq[k], (uint64_t)id + 1000);
			cr_assert_eq(s->stream[k], 1 + id % 2);
			cr_assert_eq(s->flags[k], id % 4);
			line_text(id, wl, want);
			cr_assert(memcmp(s->text[k], want, wl) == 0, "cap %zu line %u: text damaged",
			    cap, id);
			used += COST(s->len[k]);
		}
		cr_assert_leq(used, r.cap, "cap %zu: %zu bytes held", cap, used);
		/*
		 * Eviction stops once the new line fits; what is wasted is the gap
		 * left at the end on a wrap and the room for one more line.
		 */
		if (s->n < i + 1 && r.cap > 3 * COST(maxlen))
			cr_assert_gt(used + 2 * COST(maxlen), r.cap - COST(maxlen),
			    "cap %zu push %u: only %zu bytes kept in %zu records", cap, i, used, s->n);
		seen_free(s);
		free(s);
	}
	ring_free(&r);
	free(buf);
	free(want);
	free(lens);
}

Test(ring, model_small_lines_in_many_ring_sizes)
{
	static const size_t caps[] = { 32, 40, 64, 100, 128, 255, 256, 1000, 1024, 4096, 65536 };

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
		run_model(caps[c], 40, 3000, (unsigned)c + 1);
}

Test(ring, model_lines_about_as_big_as_the_ring)
{
	static const size_t caps[] = { 64, 200, 1024, 4096 };

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		run_model(caps[c], caps[c] / 2, 1500, (unsigned)c + 100);
		run_model(caps[c], caps[c] + 50, 1500, (unsigned)c + 200);
	}
}

Test(ring, model_mixed_sizes)
{
	for (unsigned seed = 1; seed <= 20; seed++)
		run_model(512 + seed * 37, 1 + seed * 13, 2000, seed);
}

/* A reload changes log_buffer: the newest lines that fit stay, in order. */
Test(ring, resize_keeps_the_newest_records_that_fit)
{
	struct ring r;
	struct seen *s;
	char text[64];

	cr_assert_eq(ring_init(&r, 4096), 0);
	for (int i = 0; i < 20; i++) {
		snprintf(text, sizeof(text), "line %02d", i);	/* 7 bytes: 32 in the ring */
		ring_push(&r, i, (uint64_t)i + 500, 1, 0, text, strlen(text));
	}
	cr_assert_eq(ring_resize(&r, 5 * COST(7)), 0);
	s = walk(&r, 0);
	cr_assert_eq(s->n, 5, "kept %zu records", s->n);
	for (size_t i = 0; i < s->n; i++) {
		snprintf(text, sizeof(text), "line %02zu", 15 + i);
		cr_expect_str_eq(s->text[i], text);
		cr_expect_eq(s->usec[i], (int64_t)(15 + i));
		cr_expect_eq(s->seq[i], 515 + i, "a resize lost the sequence number");
	}
	seen_free(s);
	free(s);
	/* growing keeps everything, and the ring goes on as usual */
	cr_assert_eq(ring_resize(&r, 8192), 0);
	ring_push(&r, 99, 0, 2, 0, "more", 4);
	s = walk(&r, 0);
	cr_expect_eq(s->n, 6);
	cr_expect_str_eq(s->text[0], "line 15");
	cr_expect_str_eq(s->text[5], "more");
	cr_expect_eq(s->stream[5], 2);
	seen_free(s);
	free(s);
	ring_free(&r);
}

Test(ring, resize_of_an_empty_ring_allocates_nothing)
{
	struct ring r;

	cr_assert_eq(ring_init(&r, 4096), 0);
	cr_assert_eq(ring_resize(&r, 100000), 0);
	cr_expect_null(r.buf);
	cr_expect_geq(r.cap, 100000);
	ring_push(&r, 1, 0, 1, 0, "x", 1);
	cr_expect_not_null(r.buf);
	ring_free(&r);
}
