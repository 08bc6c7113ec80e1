/*
 * fuzz_envfile.c: the libFuzzer target of daemon/config/envfile.c, the
 * parser of environment_file files. Besides the sanitizers it checks that
 * every assignment has a valid key, that a refusal names a line of the
 * input, and that the assignments written back in double quotes parse
 * into the same assignments again.
 */
#include "config.h"
#include "config/envfile.h"
#include "words.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_envfile: %s\n", what);
	abort();
}

static bool
key_ok(const char *w)
{
	size_t len = strcspn(w, "=");

	if (w[len] != '=' || len == 0 || (w[0] >= '0' && w[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') ||
		    (w[i] >= '0' && w[i] <= '9') || w[i] == '_'))
			return false;
	return true;
}

/* KEY="VALUE" lines, with " \ ` $ escaped: the same words must come back. */
static void
round_trip(char **words, size_t n)
{
	struct envfile_error e;
	size_t total = 0, m = 0;
	char **again = NULL, *text, *o;

	for (size_t i = 0; i < n; i++)
		total += strlen(words[i]) * 2 + 4;
	if ((o = text = malloc(total + 1)) == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(words[i], '=');

		memcpy(o, words[i], (size_t)(eq - words[i]) + 1);
		o += eq - words[i] + 1;
		*o++ = '"';
		for (const char *v = eq + 1; *v != '\0'; v++) {
			if (strchr("\"\\`$", *v) != NULL)
				*o++ = '\\';
			*o++ = *v;
		}
		*o++ = '"';
		*o++ = '\n';
	}
	if (envfile_parse(text, (size_t)(o - text), &again, &m, &e) == -1)
		fail("assignments written back in double quotes were refused");
	if (m != n)
		fail("assignments written back came back another count");
	for (size_t i = 0; i < n; i++)
		if (strcmp(again[i], words[i]) != 0)
			fail("an assignment written back came back changed");
	words_free(again);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envfile_error e = { .line = -1 };
	char **words = NULL;
	size_t n = 0, lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (envfile_parse((const char *)data, size, &words, &n, &e) == -1) {
		if (e.line < 1 || (size_t)e.line > lines)
			fail("a refusal names no line of the input");
		if (e.msg[0] == '\0')
			fail("a refusal says nothing");
		words_free(words);
		return 0;
	}
	if (n != words_count(words) || (words != NULL && words[n] != NULL))
		fail("the count is not the vector's length");
	for (size_t i = 0; i < n; i++)
		if (!key_ok(words[i]))
			fail("an assignment with a bad key");
	round_trip(words, n);
	words_free(words);
	return 0;
}
