/*
 * words.c: shell-like word splitting for `command` and `environment`.
 * Quoting follows POSIX sh: inside '...' nothing is special; inside "..."
 * a backslash escapes only $ ` " \ and newline; outside, it escapes anything.
 * No expansion of any kind happens: that is what a shell is for.
 */
#include "config.h"
#include "words.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct word_vec {
	char	**v;
	size_t	  n, cap;
};

static int
vec_push(struct word_vec *vec, char *w)
{
	if (vec->n + 2 > vec->cap) {
		size_t ncap = vec->cap ? vec->cap * 2 : 8;
		char **nv = realloc(vec->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		vec->v = nv;
		vec->cap = ncap;
	}
	vec->v[vec->n++] = w;
	vec->v[vec->n] = NULL;
	return 0;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Read one word starting at *sp into out (big enough); returns -1 on bad quoting. */
static int
read_word(const char **sp, char *out, const char **err)
{
	const char *s = *sp;
	char *o = out;

	while (*s != '\0' && !is_blank(*s)) {
		if (*s == '\'') {
			const char *end = strchr(s + 1, '\'');
			if (end == NULL) {
				*err = "unterminated single quote";
				return -1;
			}
			memcpy(o, s + 1, (size_t)(end - s - 1));
			o += end - s - 1;
			s = end + 1;
		} else if (*s == '"') {
			s++;
			while (*s != '"') {
				if (*s == '\0') {
					*err = "unterminated double quote";
					return -1;
				}
				if (*s == '\\' && s[1] != '\0' && strchr("$`\"\\\n", s[1]))
					s++;
				*o++ = *s++;
			}
			s++;
		} else if (*s == '\\') {
			if (s[1] == '\0') {
				*err = "backslash at end of line";
				return -1;
			}
			*o++ = s[1];
			s += 2;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	*sp = s;
	return 0;
}

char **
words_split(const char *s, size_t *nwords, const char **err)
{
	struct word_vec vec = { NULL, 0, 0 };
	char *buf;
	const char *dummy;

	if (err == NULL)
		err = &dummy;
	*err = "out of memory";
	/* a word is never longer than the input */
	if ((buf = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	if (vec_push(&vec, NULL) == -1)	/* so an empty input yields {NULL} */
		goto fail;
	vec.n = 0;
	for (;;) {
		char *w;

		while (is_blank(*s))
			s++;
		if (*s == '\0')
			break;
		if (read_word(&s, buf, err) == -1)
			goto fail;
		if ((w = strdup(buf)) == NULL || vec_push(&vec, w) == -1) {
			free(w);
			*err = "out of memory";
			goto fail;
		}
	}
	free(buf);
	if (nwords != NULL)
		*nwords = vec.n;
	*err = NULL;
	return vec.v;
fail:
	free(buf);
	words_free(vec.v);
	return NULL;
}

void
words_free(char **words)
{
	if (words == NULL)
		return;
	for (char **w = words; *w != NULL; w++)
		free(*w);
	free(words);
}

size_t
words_count(char *const *words)
{
	size_t n = 0;

	while (words != NULL && words[n] != NULL)
		n++;
	return n;
}
