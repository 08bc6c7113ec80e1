/*
 * test_logread.c: log files read back for `log`: the line prefix that
 * output.c writes, written and parsed back (logformat.c); lines walked
 * newest first from a bounded read of the end of a file, never returning
 * a line the read cut.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/logformat.h"
#include "output/logread.h"

static void
parse(const char *s, struct logformat_line *l)
{
	logformat_parse(s, strlen(s), l);
}

Test(parse, timestamped_lines)
{
	struct logformat_line l;

	parse("2026-11-28T01:30:36.123456Z out hello world", &l);
	cr_assert(l.timed);
	cr_expect_eq(l.usec, 1795829436123456LL);
	cr_expect_eq(l.stream, OUTPUT_STDOUT);
	cr_expect_not(l.cont);
	cr_expect_eq(l.len, 11);
	cr_expect(memcmp(l.text, "hello world", 11) == 0);

	parse("1970-01-01T00:00:00.000001Z err+ rest", &l);
	cr_assert(l.timed);
	cr_expect_eq(l.usec, 1);
	cr_expect_eq(l.stream, OUTPUT_STDERR);
	cr_expect(l.cont);
	cr_expect_eq(l.len, 4);

	parse("2000-02-29T23:59:59.999999Z out ", &l);	/* an empty line */
	cr_assert(l.timed);
	cr_expect_eq(l.usec, 951868799999999LL);
	cr_expect_eq(l.len, 0);
	cr_expect_not(l.has_seq, "a line without a number (an earlier version's) got one");
}

Test(parse, sequence_numbers)
{
	struct logformat_line l;

	parse("2026-11-28T01:30:36.123456Z out #42 hello", &l);
	cr_assert(l.timed && l.has_seq);
	cr_expect_eq(l.seq, 42);
	cr_expect_eq(l.len, 5);
	cr_expect(memcmp(l.text, "hello", 5) == 0);

	parse("2026-11-28T01:30:36.123456Z err+ #18446744073709551615 ", &l);
	cr_assert(l.has_seq);
	cr_expect_eq(l.seq, UINT64_MAX);
	cr_expect(l.cont);
	cr_expect_eq(l.stream, OUTPUT_STDERR);
	cr_expect_eq(l.len, 0);

	/* not a number, or one too big, or no blank after it: it is text */
	const char *text[] = {
		"2026-11-28T01:30:36.123456Z out #x1 rest", "2026-11-28T01:30:36.123456Z out # rest",
		"2026-11-28T01:30:36.123456Z out #18446744073709551616 rest",
		"2026-11-28T01:30:36.123456Z out #12", "2026-11-28T01:30:36.123456Z out 12 rest",
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		parse(text[i], &l);
		cr_expect(l.timed, "<%s>", text[i]);
		cr_expect_not(l.has_seq, "<%s> taken for a numbered line", text[i]);
		cr_expect(l.text == text[i] + 32, "<%s>: the text starts at %td", text[i],
		    l.text - text[i]);
	}
}

/* What logformat_prefix writes, logformat_parse reads back: every field. */
Test(format, prefix_round_trips)
{
	static const int64_t times[] = { 0, 1, 951868799999999LL, 1795829436123456LL,
	    4102444799999999LL };
	static const uint64_t seqs[] = { 1, 9, 10, 12345, UINT64_MAX };
	char tbuf[LOGFORMAT_TIME_LEN + 1], line[LOGFORMAT_PREFIX_MAX + 16];
	struct logformat_line l;

	for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
		logformat_time(times[t], tbuf);
		cr_assert_eq(strlen(tbuf), LOGFORMAT_TIME_LEN);
		for (size_t k = 0; k < sizeof(seqs) / sizeof(seqs[0]); k++) {
			for (int bits = 0; bits < 4; bits++) {
				enum output_stream st = bits & 1 ? OUTPUT_STDERR : OUTPUT_STDOUT;
				bool cont = bits & 2;
				size_t n = logformat_prefix(tbuf, st, cont, seqs[k], line);

				cr_assert_lt(n, LOGFORMAT_PREFIX_MAX);
				memcpy(line + n, "text", 5);
				logformat_parse(line, n + 4, &l);
				cr_assert(l.timed && l.has_seq, "<%s>", line);
				cr_expect_eq(l.usec, times[t], "<%s>", line);
				cr_expect_eq(l.seq, seqs[k], "<%s>", line);
				cr_expect_eq(l.stream, st);
				cr_expect_eq(l.cont, cont);
				cr_expect(l.len == 4 && memcmp(l.text, "text", 4) == 0, "<%s>", line);
			}
		}
	}
	/* a raw file: nothing but the continuation mark */
	cr_expect_eq(logformat_prefix(NULL, OUTPUT_STDERR, false, 7, line), 0);
	cr_expect_eq(logformat_prefix(NULL, OUTPUT_STDOUT, true, 7, line), 2);
	cr_expect(memcmp(line, "+ ", 2) == 0);
}

Test(parse, anything_else_is_raw_text)
{
	const char *raw[] = {
		"", "hello", "+ a continuation without timestamps",
		"2026-11-28T01:30:36.123456Z", "2026-11-28T01:30:36.123456Z out",
		"2026-11-28T01:30:36.123456Z in  text", "2026-11-28T01:30:36.123456Z outtext",
		"2026-11-28 01:30:36.123456Z out text", "2026-13-28T01:30:36.123456Z out text",
		"2026-11-28T01:30:36.12345xZ out text", "2026-11-28T01:30:36.123456Z out+",
	};

	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		struct logformat_line l;
		parse(raw[i], &l);
		cr_expect_not(l.timed, "<%s> taken for a timestamped line", raw[i]);
		cr_expect_eq(l.stream, OUTPUT_STDOUT);
		cr_expect_not(l.cont);
		cr_expect(l.text == raw[i] && l.len == strlen(raw[i]));
	}
}

static char *
write_file(const char *text, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/vigil-test-logread.XXXXXX");
	fd = mkstemp(path);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Every line the tail gives, newest first, joined by '/'. */
static void
walk(const char *text, size_t max, const char *want)
{
	char *path = write_file(text, strlen(text)), got[256] = "";
	struct logread_tail t;
	const char *line;
	size_t len;

	cr_assert_eq(logread_tail_open(&t, path, max), 0);
	cr_expect_gt(t.mtime_usec, 0);
	while (logread_tail_prev(&t, &line, &len)) {
		if (got[0] != '\0')
			strcat(got, "/");
		strncat(got, line, len);
	}
	cr_expect_str_eq(got, want, "<%s> read with at most %zu bytes", text, max);
	cr_expect_not(logread_tail_prev(&t, &line, &len), "the walk starts again");
	logread_tail_free(&t);
	unlink(path);
}

Test(tail, newest_first)
{
	walk("a\nbb\nccc\n", 100, "ccc/bb/a");
	walk("a\nbb\nccc", 100, "ccc/bb/a");	/* no newline at the end */
	walk("a\n\nb\n", 100, "b//a");		/* empty lines are lines */
	walk("", 100, "");
	walk("\n", 100, "");
}

Test(tail, a_bounded_read_never_returns_a_cut_line)
{
	walk("first\nsecond\nthird\n", 8, "third");	/* "d\nthird\n": "d" is cut */
	walk("first\nsecond\nthird\n", 13, "third/second");	/* starts right after a newline */
	walk("first\nsecond\nthird\n", 12, "third");
	walk("one-long-line\n", 5, "");
}

Test(tail, reports_where_it_started)
{
	char *path = write_file("abc\ndef\n", 8);
	struct logread_tail t;

	cr_assert_eq(logread_tail_open(&t, path, 8), 0);
	cr_expect(t.from_start);
	logread_tail_free(&t);
	cr_assert_eq(logread_tail_open(&t, path, 4), 0);
	cr_expect_not(t.from_start);
	cr_expect_eq(t.len, 4);
	logread_tail_free(&t);
	unlink(path);
	cr_expect_eq(logread_tail_open(&t, path, 4), -1, "a missing file is an error");
}
