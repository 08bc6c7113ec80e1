/*
 * supervisord_ini.c: read a supervisord configuration the way Python's
 * configparser does for supervisord (';' and '#' comments, also inline
 * after a blank; key = value or key: value; indented continuation lines;
 * lower-cased keys; a repeated section or key merges, the later wins),
 * and follow its [include] files=.
 *
 * Not inih: inih cuts lines at 200 characters and knows neither
 * configparser's '#' inline comments nor its ':' rule on the first
 * delimiter, and a command line of supervisord is often longer.
 */
#include "config.h"
#include "supervisord_ini.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SV_FILE_MAX	(4 << 20)	/* as vigild's own config files */
#define SV_INCLUDE_DEPTH 8

struct reader {
	struct sv_conf	*c;
	const char	*file;
	const char	*here;
	struct sv_section *sec;		/* the current section, NULL before one */
	struct sv_key	*key;		/* the key continuation lines extend */
	size_t		 indent;	/* of the key's line */
	size_t		 blanks;	/* blank lines inside a value, added if it goes on */
};

static int
fail(struct sv_conf *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int
oom(struct sv_conf *c)
{
	return fail(c, "out of memory");
}

static int
note(struct sv_conf *c, const char *fmt, ...)
{
	char **notes, *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n == -1)
		return oom(c);
	if ((notes = reallocarray(c->notes, c->nnotes + 1, sizeof(*notes))) == NULL) {
		free(s);
		return oom(c);
	}
	c->notes = notes;
	c->notes[c->nnotes++] = s;
	return 0;
}

/* Keep path (and its folder) for as long as c lives. */
static int
add_file(struct sv_conf *c, const char *path, const char **file, const char **here)
{
	char **files, **heres, *dir;

	if ((files = reallocarray(c->files, c->nfiles + 1, sizeof(*files))) == NULL)
		return oom(c);
	c->files = files;
	if ((heres = reallocarray(c->heres, c->nfiles + 1, sizeof(*heres))) == NULL)
		return oom(c);
	c->heres = heres;
	if ((files[c->nfiles] = strdup(path)) == NULL ||
	    (dir = strdup(path)) == NULL) {
		free(files[c->nfiles]);
		return oom(c);
	}
	heres[c->nfiles] = realpath(dirname(dir), NULL);
	if (heres[c->nfiles] == NULL && (heres[c->nfiles] = strdup(dirname(dir))) == NULL) {
		free(dir);
		free(files[c->nfiles]);
		return oom(c);
	}
	free(dir);
	*file = files[c->nfiles];
	*here = heres[c->nfiles];
	c->nfiles++;
	return 0;
}

static struct sv_section *
section_named(struct sv_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nsecs; i++)
		if (strcmp(c->secs[i].name, name) == 0)
			return &c->secs[i];
	return NULL;
}

static int
section_begin(struct reader *r, const char *name, size_t len, int line)
{
	struct sv_conf *c = r->c;
	struct sv_section *secs;
	char *n;

	if ((n = strndup(name, len)) == NULL)
		return oom(c);
	r->key = NULL;
	if ((r->sec = section_named(c, n)) != NULL) {
		free(n);	/* configparser with strict=False merges it */
		return 0;
	}
	if ((secs = reallocarray(c->secs, c->nsecs + 1, sizeof(*secs))) == NULL) {
		free(n);
		return oom(c);
	}
	c->secs = secs;
	r->sec = &secs[c->nsecs++];
	*r->sec = (struct sv_section){ .name = n, .file = r->file, .line = line,
	    .here = r->here };
	return 0;
}

struct sv_key *
sv_key(const struct sv_section *s, const char *name)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].name, name) == 0)
			return &s->keys[i];
	return NULL;
}

const char *
sv_get(const struct sv_section *s, const char *name)
{
	struct sv_key *k = sv_key(s, name);

	if (k == NULL)
		return NULL;
	k->used = true;
	return k->value;
}

static int
key_set(struct reader *r, const char *name, size_t nlen, const char *value,
    int line)
{
	struct sv_section *s = r->sec;
	struct sv_key *k, *keys;
	char *n, *v;

	if ((n = strndup(name, nlen)) == NULL || (v = strdup(value)) == NULL) {
		free(n);
		return oom(r->c);
	}
	for (char *p = n; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if ((k = sv_key(s, n)) != NULL) {	/* the later one wins */
		free(n);
		free(k->value);
		k->value = v;
		k->used = false;
		k->file = r->file;
		k->line = line;
		r->key = k;
		return 0;
	}
	if ((keys = reallocarray(s->keys, s->nkeys + 1, sizeof(*keys))) == NULL) {
		free(n);
		free(v);
		return oom(r->c);
	}
	s->keys = keys;
	k = &keys[s->nkeys++];
	*k = (struct sv_key){ .name = n, .value = v, .file = r->file, .line = line };
	r->key = k;
	return 0;
}

static int
key_continue(struct reader *r, const char *more)
{
	size_t old = strlen(r->key->value), add = strlen(more);
	char *v;

	if ((v = realloc(r->key->value, old + r->blanks + 1 + add + 1)) == NULL)
		return oom(r->c);
	for (size_t i = 0; i <= r->blanks; i++)
		v[old++] = '\n';
	memcpy(v + old, more, add + 1);
	r->key->value = v;
	r->blanks = 0;
	return 0;
}

/* Where a comment starts: a line led by ';' or '#', or either after a blank. */
static size_t
comment_at(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)line[i]))
		i++;
	if (i < len && (line[i] == ';' || line[i] == '#'))
		return i;
	for (; i < len; i++)
		if ((line[i] == ';' || line[i] == '#') && i > 0 &&
		    isspace((unsigned char)line[i - 1]))
			return i;
	return len;
}

static int
read_line(struct reader *r, char *line, int lineno)
{
	size_t len = strlen(line), indent = 0, end;
	char *v, *delim;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	end = comment_at(line, len);
	while (indent < end && isspace((unsigned char)line[indent]))
		indent++;
	while (end > indent && isspace((unsigned char)line[end - 1]))
		end--;
	line[end] = '\0';
	v = line + indent;
	if (*v == '\0') {
		/* a blank line may sit inside a value; a comment line may not add one */
		if (end == len && r->key != NULL)
			r->blanks++;
		return 0;
	}
	if (r->key != NULL && indent > r->indent)
		return key_continue(r, v);
	r->blanks = 0;
	r->indent = indent;
	if (*v == '[' && v[strlen(v) - 1] == ']' && strlen(v) > 2)
		return section_begin(r, v + 1, strlen(v) - 2, lineno);
	if (r->sec == NULL)
		return fail(r->c, "%s:%d: expected a [section] line before '%s'",
		    r->file, lineno, v);
	if ((delim = strpbrk(v, "=:")) == NULL || delim == v)
		return fail(r->c, "%s:%d: expected 'key = value' or a [section] line, "
		    "found '%s'", r->file, lineno, v);
	end = (size_t)(delim - v);
	while (end > 0 && isspace((unsigned char)v[end - 1]))
		end--;
	delim++;
	while (isspace((unsigned char)*delim))
		delim++;
	return key_set(r, v, end, delim, lineno);
}

static int	read_file(struct sv_conf *c, const char *path, int depth);

/* [include] files= of the file just read: globs, relative to its folder. */
static int
follow_includes(struct sv_conf *c, struct sv_section *inc, const char *here,
    int depth)
{
	struct sv_key *k = sv_key(inc, "files");
	char *list, *save = NULL, *pat, path[PATH_MAX];
	const char *file;
	int line, grc, rc = 0;
	glob_t g;

	if (k == NULL || k->used)
		return 0;
	/* an included file's [include] merges into this section: k may move */
	k->used = true;
	file = k->file;
	line = k->line;
	if (depth >= SV_INCLUDE_DEPTH)
		return fail(c, "%s:%d: [include] nested more than %d deep",
		    file, line, SV_INCLUDE_DEPTH);
	if ((list = strdup(k->value)) == NULL)
		return oom(c);
	for (pat = strtok_r(list, " \t\n", &save); pat != NULL && rc == 0;
	    pat = strtok_r(NULL, " \t\n", &save)) {
		/* %(here)s is all supervisord expands in an include's pattern that matters here */
		if (strncmp(pat, "%(here)s", 8) == 0)
			snprintf(path, sizeof(path), "%s%s", here, pat + 8);
		else if (*pat == '/')
			snprintf(path, sizeof(path), "%s", pat);
		else
			snprintf(path, sizeof(path), "%s/%s", here, pat);
		grc = glob(path, 0, NULL, &g);
		if (grc == GLOB_NOMATCH)
			rc = note(c, "%s:%d: [include] files: %s matches no file", file,
			    line, pat);
		else if (grc != 0)
			rc = fail(c, "%s:%d: [include] files: %s: cannot list", file,
			    line, pat);
		for (size_t i = 0; grc == 0 && i < g.gl_pathc && rc == 0; i++)
			rc = read_file(c, g.gl_pathv[i], depth + 1);
		if (grc == 0)
			globfree(&g);
	}
	free(list);
	return rc;
}

static bool
already_read(struct sv_conf *c, const char *path)
{
	char *real = realpath(path, NULL), *other;
	bool seen = false;

	for (size_t i = 0; real != NULL && i < c->nfiles && !seen; i++) {
		other = realpath(c->files[i], NULL);
		seen = other != NULL && strcmp(other, real) == 0;
		free(other);
	}
	free(real);
	return seen;
}

static int
read_file(struct sv_conf *c, const char *path, int depth)
{
	struct reader r = { .c = c };
	struct sv_section *inc;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0;
	FILE *fp;

	if (already_read(c, path))
		return note(c, "%s: read once already; not again", path);
	if ((fp = fopen(path, "re")) == NULL)
		return fail(c, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fileno(fp), &st) == -1)
		rc = fail(c, "%s: cannot read: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = fail(c, "%s: cannot read: not a regular file", path);
	else if (st.st_size > SV_FILE_MAX)
		rc = fail(c, "%s: cannot read: larger than %d MiB", path, SV_FILE_MAX >> 20);
	if (rc == -1) {
		fclose(fp);
		return -1;
	}
	if (add_file(c, path, &r.file, &r.here) == -1) {
		fclose(fp);
		return -1;
	}
	while (rc == 0 && getline(&line, &cap, fp) != -1)
		rc = read_line(&r, line, ++lineno);
	if (rc == 0 && ferror(fp))
		rc = fail(c, "%s: cannot read: %s", path, strerror(errno));
	free(line);
	fclose(fp);
	if (rc == 0 && (inc = section_named(c, "include")) != NULL)
		rc = follow_includes(c, inc, r.here, depth);
	return rc;
}

int
sv_read(struct sv_conf *c, const char *path)
{
	*c = (struct sv_conf){ 0 };
	return read_file(c, path, 0);
}

void
sv_free(struct sv_conf *c)
{
	for (size_t i = 0; i < c->nsecs; i++) {
		for (size_t k = 0; k < c->secs[i].nkeys; k++) {
			free(c->secs[i].keys[k].name);
			free(c->secs[i].keys[k].value);
		}
		free(c->secs[i].keys);
		free(c->secs[i].name);
	}
	free(c->secs);
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i]);
		free(c->heres[i]);
	}
	free(c->files);
	free(c->heres);
	for (size_t i = 0; i < c->nnotes; i++)
		free(c->notes[i]);
	free(c->notes);
	*c = (struct sv_conf){ 0 };
}
