/*
 * envfile.c: the parser of environment files, systemd's EnvironmentFile
 * syntax, and the reading of a service's files at each of its starts
 * (spawnreq.c asks). Composing them with the rest of the environment is
 * config_env.c's.
 *
 * The syntax, as systemd's parse_env_file reads it: KEY=VALUE lines;
 * blank lines, and lines whose first non-blank is '#' or ';', are skipped;
 * blanks around KEY and before VALUE are dropped, and so are trailing ones
 * of an unquoted value; in an unquoted value a backslash keeps the next
 * character as it is, and a backslash at the end of a line joins the next;
 * 'single quotes' keep everything, "double quotes" take \" \\ \` \$ and a
 * backslash-newline, other backslashes stay; quoted and unquoted parts
 * join into one value ("a"'b'c is abc). Where systemd skips a line it
 * cannot use, vigild refuses the file, naming the line: a typo in a
 * service's environment is better a failed start than a missing variable.
 * An `export ` before KEY is allowed, so one file can be sourced by a shell.
 */
#include "config.h"
#include "envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define ENVFILE_MAX	(1024 * 1024)	/* bigger is not an environment */

struct buf {
	char	*s;
	size_t	 len, cap;
};

static bool
buf_add(struct buf *b, char c)
{
	char *s;

	if (b->len + 2 > b->cap) {
		if ((s = realloc(b->s, b->cap ? b->cap * 2 : 64)) == NULL)
			return false;
		b->s = s;
		b->cap = b->cap ? b->cap * 2 : 64;
	}
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
	return true;
}

static int
fail(struct envfile_error *e, int line, const char *fmt, ...)
{
	va_list ap;

	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static bool
is_newline(char c)
{
	return c == '\n' || c == '\r';
}

/* A key as a shell takes it: letters, digits and _, not starting with a digit. */
static bool
key_ok(const char *k)
{
	if (*k == '\0' || (*k >= '0' && *k <= '9'))
		return false;
	for (; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		    (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* Append KEY=VALUE to words; the key as written (blanks trimmed, export dropped). */
static int
push(struct buf *key, size_t key_end, struct buf *val, size_t val_end,
    char ***words, size_t *nwords, int line, struct envfile_error *e)
{
	char empty[1] = "", *k = key->s != NULL ? key->s : empty, *w, **v;

	if (key->s != NULL)
		k[key_end] = '\0';
	if (strncmp(k, "export", 6) == 0 && is_blank(k[6])) {
		for (k += 6; is_blank(*k); k++)
			;
	}
	if (!key_ok(k))
		return fail(e, line, "expected a KEY of A-Z a-z 0-9 _, not starting with "
		    "a digit, found '%.40s'", k);
	if (val->s != NULL)
		val->s[val_end] = '\0';
	if (asprintf(&w, "%s=%s", k, val->s != NULL ? val->s : "") == -1)
		return fail(e, line, "out of memory");
	if ((v = reallocarray(*words, *nwords + 2, sizeof(*v))) == NULL) {
		free(w);
		return fail(e, line, "out of memory");
	}
	*words = v;
	v[(*nwords)++] = w;
	v[*nwords] = NULL;
	key->len = val->len = 0;
	if (val->s != NULL)
		val->s[0] = '\0';
	return 0;
}

int
envfile_parse(const char *buf, size_t len, char ***words, size_t *nwords,
    struct envfile_error *e)
{
	enum { PRE_KEY, KEY, PRE_VALUE, VALUE, VALUE_ESCAPE, SQUOTE, DQUOTE,
	    DQUOTE_ESCAPE, COMMENT } state = PRE_KEY;
	struct buf key = { 0 }, val = { 0 };
	size_t key_end = 0, val_end = 0;	/* lengths without trailing blanks */
	int line = 1, start = 1, quote_line = 1, rc = -1;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		bool nl = is_newline(c);

		if (c == '\0') {
			fail(e, line, "a NUL byte");
			goto out;
		}
		switch (state) {
		case PRE_KEY:
			if (c == '#' || c == ';')
				state = COMMENT;
			else if (c == '=') {
				state = PRE_VALUE;	/* push refuses the empty key */
				start = line;
				key_end = 0;
			}
			else if (!nl && !is_blank(c)) {
				state = KEY;
				start = line;
				if (!buf_add(&key, c))
					goto oom;
				key_end = key.len;
			}
			break;
		case KEY:
			if (nl) {
				fail(e, start, "expected KEY=VALUE, found '%.40s'", key.s);
				goto out;
			} else if (c == '=') {
				state = PRE_VALUE;
				val_end = 0;
			} else {
				if (!buf_add(&key, c))
					goto oom;
				if (!is_blank(c))
					key_end = key.len;
			}
			break;
		case PRE_VALUE:
			if (nl) {
				if (push(&key, key_end, &val, val_end, words, nwords, start, e) == -1)
					goto out;
				state = PRE_KEY;
			} else if (c == '\'') {
				state = SQUOTE;
				quote_line = line;
			} else if (c == '"') {
				state = DQUOTE;
				quote_line = line;
			} else if (c == '\\')
				state = VALUE_ESCAPE;
			else if (!is_blank(c)) {
				state = VALUE;
				if (!buf_add(&val, c))
					goto oom;
				val_end = val.len;
			}
			break;
		case VALUE:
			if (nl) {
				if (push(&key, key_end, &val, val_end, words, nwords, start, e) == -1)
					goto out;
				state = PRE_KEY;
			} else if (c == '\\')
				state = VALUE_ESCAPE;
			else {
				if (!buf_add(&val, c))
					goto oom;
				if (!is_blank(c))
					val_end = val.len;
			}
			break;
		case VALUE_ESCAPE:
			state = VALUE;
			if (!nl) {
				if (!buf_add(&val, c))
					goto oom;
				val_end = val.len;
			}
			break;
		case SQUOTE:
			if (c == '\'')
				state = PRE_VALUE;
			else if (!buf_add(&val, c))
				goto oom;
			val_end = val.len;
			break;
		case DQUOTE:
			if (c == '"')
				state = PRE_VALUE;
			else if (c == '\\')
				state = DQUOTE_ESCAPE;
			else if (!buf_add(&val, c))
				goto oom;
			val_end = val.len;
			break;
		case DQUOTE_ESCAPE:
			state = DQUOTE;
			if (strchr("\"\\`$", c) != NULL) {
				if (!buf_add(&val, c))
					goto oom;
			} else if (c != '\n') {
				if (!buf_add(&val, '\\') || !buf_add(&val, c))
					goto oom;
			}
			val_end = val.len;
			break;
		case COMMENT:
			if (nl)
				state = PRE_KEY;
			break;
		}
		if (c == '\n')
			line++;
	}
	switch (state) {
	case KEY:
		fail(e, start, "expected KEY=VALUE, found '%.40s'", key.s);
		goto out;
	case SQUOTE:
	case DQUOTE:
	case DQUOTE_ESCAPE:
		fail(e, quote_line, "a quote that is never closed");
		goto out;
	case PRE_VALUE:
	case VALUE:
	case VALUE_ESCAPE:
		if (push(&key, key_end, &val, val_end, words, nwords, start, e) == -1)
			goto out;
		break;
	default:
		break;
	}
	rc = 0;
	goto out;
oom:
	fail(e, line, "out of memory");
out:
	free(key.s);
	free(val.s);
	return rc;
}

/* The whole of path into a malloc'd buffer; -1 and errno. */
static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t have = 0;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if (st.st_size > ENVFILE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	/* a file that grows meanwhile is read up to the size it had */
	while (have < (size_t)st.st_size &&
	    (n = read(fd, buf + have, (size_t)st.st_size - have)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		have += (size_t)n;
	}
	close(fd);
	*len = have;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

int
envfile_load(char *const *paths, char ***words, char *err, size_t errlen)
{
	struct envfile_error e;
	size_t nwords = 0;

	while (*words != NULL && (*words)[nwords] != NULL)
		nwords++;
	for (; paths != NULL && *paths != NULL; paths++) {
		bool optional = **paths == '-';
		const char *path = *paths + optional;
		size_t len;
		char *buf;
		int rc;

		if ((buf = slurp(path, &len)) == NULL) {
			if (optional && errno == ENOENT)
				continue;
			snprintf(err, errlen, "environment_file %s: %s", path, strerror(errno));
			return -1;
		}
		rc = envfile_parse(buf, len, words, &nwords, &e);
		free(buf);
		if (rc == -1) {
			snprintf(err, errlen, "environment_file %s:%d: %s", path, e.line, e.msg);
			return -1;
		}
	}
	return 0;
}
