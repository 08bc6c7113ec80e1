/*
 * fuzz_words.c: the libFuzzer target of common/words.c, the splitter of
 * `command`, `environment`, `requires` and `ready = exec:`. Besides the
 * sanitizers it checks invariants of the result and that words quoted
 * back (two ways) split into the same words again.
 */
#include "config.h"
#include "words.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const char *input)
{
	fprintf(stderr, "fuzz_words: %s; input: '%s'\n", what, input);
	abort();
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* 'it''s' -> 'it'\''s': single quotes protect everything but a quote itself. */
static size_t
quote_single(char *o, const char *w)
{
	char *start = o;

	*o++ = '\'';
	for (; *w != '\0'; w++) {
		if (*w == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = *w;
	}
	*o++ = '\'';
	return (size_t)(o - start);
}

/* Inside double quotes words.c lets a backslash escape $ ` " and \ only. */
static size_t
quote_double(char *o, const char *w)
{
	char *start = o;

	*o++ = '"';
	for (; *w != '\0'; w++) {
		if (strchr("$`\"\\", *w) != NULL)
			*o++ = '\\';
		*o++ = *w;
	}
	*o++ = '"';
	return (size_t)(o - start);
}

/* Quote every word, join them with blanks, split again: the same words. */
static void
round_trip(char **words, size_t n, size_t total, bool dbl, const char *input)
{
	/* at most 4 bytes per byte, 2 quotes and a blank per word */
	char *line = malloc(total * 4 + n * 3 + 1), *o = line;
	const char *err;
	char **again;
	size_t m;

	if (line == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*o++ = (i & 1) ? ' ' : '\t';
		o += dbl ? quote_double(o, words[i]) : quote_single(o, words[i]);
	}
	*o = '\0';
	if ((again = words_split(line, &m, &err)) == NULL)
		fail(dbl ? "double-quoted words do not split again" :
		    "single-quoted words do not split again", input);
	if (m != n)
		fail("quoted words split into another count", input);
	for (size_t i = 0; i < n; i++)
		if (strcmp(again[i], words[i]) != 0)
			fail("a quoted word came back changed", input);
	words_free(again);
	free(line);
}

/* Without quotes or backslashes, splitting is cutting at blanks. */
static void
plain_check(char **words, size_t n, const char *s, const char *input)
{
	size_t i = 0;

	for (;;) {
		size_t len;

		while (is_blank(*s))
			s++;
		if (*s == '\0')
			break;
		for (len = 0; s[len] != '\0' && !is_blank(s[len]); len++)
			;
		if (i >= n || strlen(words[i]) != len || memcmp(words[i], s, len) != 0)
			fail("an unquoted line was not cut at its blanks", input);
		i++;
		s += len;
	}
	if (i != n)
		fail("an unquoted line gave more words than it has", input);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *err = "unset";
	char **words;
	size_t n = (size_t)-1, len, total = 0;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);	/* the splitter sees a C string: up to the first NUL */
	words = words_split(s, &n, &err);
	if (words == NULL) {
		if (err == NULL || (strcmp(err, "unterminated single quote") != 0 &&
		    strcmp(err, "unterminated double quote") != 0 &&
		    strcmp(err, "backslash at end of line") != 0))
			fail("a failure without one of the known reasons", s);
		if (strpbrk(s, "'\"\\") == NULL)
			fail("a line without quotes or backslashes was refused", s);
		free(s);
		return 0;
	}
	if (err != NULL)
		fail("success with a reason set", s);
	if (n != words_count(words) || words[n] != NULL)
		fail("the count is not the vector's length", s);
	/* a word takes a byte at least, and words are apart by a blank */
	if (n > (len + 1) / 2)
		fail("more words than the bytes can hold", s);
	for (size_t i = 0; i < n; i++)
		total += strlen(words[i]);
	if (total > len)
		fail("the words hold more bytes than the line", s);
	if (strpbrk(s, "'\"\\") == NULL)
		plain_check(words, n, s, s);
	round_trip(words, n, total, false, s);
	round_trip(words, n, total, true, s);
	words_free(words);
	free(s);
	return 0;
}
