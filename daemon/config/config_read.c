/*
 * config_read.c: the line reader of config_load(). inih parses; this file
 * feeds it one physical line at a time so every key knows its line
 * number, classifies each line exactly as inih will, reports what inih
 * would silently drop (over-long lines, text after "]", bad lines), and
 * collects raw sections and keys. What the keys mean is config.c's.
 */
#include "config.h"
#include "config_load.h"
#include "config_values.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum line_kind {
	LINE_EMPTY,		/* blank or comment */
	LINE_CONTINUATION,	/* indented, after a key */
	LINE_SECTION,		/* [name] */
	LINE_KEY,		/* key = value, key: value */
	LINE_BAD		/* anything else */
};

/*
 * Messages are "FILE:LINE: ...", or "FILE: ..." for a whole file. They are
 * found out of order (lines as read, values once all is read), so each is
 * put in its place: file order, then line, then the order found.
 */
void
load_error(struct load *ld, size_t file, int line, const char *fmt, ...)
{
	struct load_error *e;
	char *text, *msg = NULL;
	size_t at;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		text = NULL;
	va_end(ap);
	if (text != NULL && (line > 0 ?
	    asprintf(&msg, "%s:%d: %s", ld->files[file], line, text) :
	    asprintf(&msg, "%s: %s", ld->files[file], text)) == -1)
		msg = NULL;
	free(text);
	if (msg == NULL ||
	    (e = reallocarray(ld->errs, ld->nerrs + 1, sizeof(*e))) == NULL) {
		free(msg);
		ld->oom = true;
		return;
	}
	ld->errs = e;
	for (at = ld->nerrs; at > 0 && (e[at - 1].file > file ||
	    (e[at - 1].file == file && e[at - 1].line > line)); at--)
		;
	memmove(&e[at + 1], &e[at], (ld->nerrs - at) * sizeof(*e));
	e[at] = (struct load_error){ file, line, msg };
	ld->nerrs++;
}

/* Keeps going on a failed allocation: the load fails, but never crashes. */
char *
load_strndup(struct load *ld, const char *s, size_t len)
{
	char *copy;

	if ((copy = strndup(s, len)) == NULL)
		ld->oom = true;
	return copy;
}

/* inih's own rule: a comment prefix only starts a comment after a blank. */
static const char *
find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	    !(ini_allow_inline_comments && was_space &&
	    strchr(ini_inline_comment_prefixes, *s) != NULL)) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* After "]" only blanks and a comment may follow; inih would ignore the rest. */
static bool
section_tail_ok(const char *s)
{
	const char *t = s;

	while (isspace((unsigned char)*t))
		t++;
	return *t == '\0' || (t > s && ini_allow_inline_comments &&
	    strchr(ini_inline_comment_prefixes, *t) != NULL);
}

/* Classify a line exactly as inih will, so the two never disagree. */
static enum line_kind
line_classify(const struct load *ld, const char *line)
{
	const char *start = line, *end;

	while (isspace((unsigned char)*start))
		start++;
	if (*start == '\0' || strchr(ini_start_comment_prefixes, *start) != NULL)
		return LINE_EMPTY;
	if (ini_allow_multiline && ld->inih_prev && start > line)
		return LINE_CONTINUATION;
	if (*start == '[') {
		end = find_chars_or_comment(start + 1, "]");
		return *end == ']' && section_tail_ok(end + 1) ? LINE_SECTION : LINE_BAD;
	}
	end = find_chars_or_comment(start, "=:");
	return (*end == '=' || *end == ':') && end > start ? LINE_KEY : LINE_BAD;
}

static bool
line_has_comment(const char *line, enum line_kind kind)
{
	const char *value = line;

	while (isspace((unsigned char)*value))
		value++;
	if (kind == LINE_KEY)
		value = find_chars_or_comment(value, "=:") + 1;
	return *find_chars_or_comment(value, NULL) != '\0';
}

/* What a section is, reporting the ones that are wrong where they are. */
static enum section_kind
section_kind(struct load *ld, const char *name)
{
	if (strcmp(name, "vigil") == 0) {
		if (ld->in_main)
			return SECTION_VIGIL;
		load_error(ld, ld->file, ld->lineno, "[vigil] only allowed in the "
		    "main file: expected only [service:NAME] sections in an "
		    "included file");
	} else if (strncmp(name, SERVICE_PREFIX, strlen(SERVICE_PREFIX)) == 0)
		return SECTION_SERVICE;
	else
		load_error(ld, ld->file, ld->lineno, "[%s] unknown section: "
		    "expected [vigil] or [service:NAME]", name);
	return SECTION_IGNORED;
}

/*
 * Called for every header, even of a section with no keys (which inih never
 * reports), so "missing command" can point at the header line. A broken
 * header still starts a section, so its keys are not blamed on the one before.
 */
static void
section_begin(struct load *ld, const char *name, size_t len, bool broken)
{
	struct raw_section *sec, **secs;

	ld->sec = NULL;
	ld->last = NULL;
	if (ld->nsecs >= CONFIG_SECTIONS_MAX) {
		/* its keys are dropped with it: the load fails on this one error */
		if (!ld->too_many)
			load_error(ld, ld->file, ld->lineno, "[%.*s] one section more than the "
			    "%d vigild loads from all its files", (int)(len < 80 ? len : 80),
			    name, CONFIG_SECTIONS_MAX);
		ld->too_many = true;
		ld->dropping = true;
		return;
	}
	if (LOAD_GROWS_AT(ld->nsecs)) {
		if ((secs = reallocarray(ld->secs, load_capacity(ld->nsecs),
		    sizeof(*secs))) == NULL) {
			ld->oom = true;
			return;
		}
		ld->secs = secs;
	}
	if ((sec = calloc(1, sizeof(*sec))) == NULL) {
		ld->oom = true;
		return;
	}
	if ((sec->name = load_strndup(ld, name, len)) == NULL)
		broken = true;
	sec->file = ld->file;
	sec->line = ld->lineno;
	sec->kind = broken ? SECTION_IGNORED : section_kind(ld, sec->name);
	ld->secs[ld->nsecs++] = sec;
	ld->sec = sec;
	/* [vigil] in several parts is one section: a key in two is given twice */
	for (size_t i = 0; sec->kind == SECTION_VIGIL && i < ld->nsecs; i++) {
		if (ld->secs[i]->kind == SECTION_VIGIL) {
			ld->sec = ld->secs[i];
			break;
		}
	}
}

static void
line_reject(struct load *ld, const char *line)
{
	char shown[VALUE_SHOWN_MAX + 8], *trimmed;
	size_t len;

	while (isspace((unsigned char)*line))
		line++;
	for (len = strlen(line); len > 0 && isspace((unsigned char)line[len - 1]); )
		len--;
	if ((trimmed = load_strndup(ld, line, len)) == NULL)
		return;
	values_quote(shown, sizeof(shown), trimmed);
	free(trimmed);
	load_error(ld, ld->file, ld->lineno, "expected 'key = value', a "
	    "[section] or a comment, found %s", shown);
	if (*line == '[')
		section_begin(ld, "", 0, true);
}

static int handler_cb(void *, const char *, const char *, const char *);

/*
 * A line too long for inih is reported once: its section or key still
 * counts as given, so it is not also "missing" or checked on half a value.
 */
static void
line_too_long(struct load *ld, const char *line, size_t len, int num,
    enum line_kind kind)
{
	const char *start = line;
	char *name;

	load_error(ld, ld->file, ld->lineno, "line is %zu characters long, "
	    "longer than the parser's limit of %d: continue long values on "
	    "indented lines", len, num - 2);
	while (isspace((unsigned char)*start))
		start++;
	if (kind == LINE_SECTION)
		section_begin(ld, "", 0, true);
	else if (kind == LINE_CONTINUATION && ld->last != NULL)
		ld->last->too_long = true;
	else if (kind == LINE_KEY) {
		len = (size_t)(find_chars_or_comment(start, "=:") - start);
		while (len > 0 && isspace((unsigned char)start[len - 1]))
			len--;
		if ((name = load_strndup(ld, start, len)) == NULL)
			return;
		handler_cb(ld, NULL, name, "");
		if (ld->last != NULL)
			ld->last->too_long = true;
		free(name);
	}
}

/*
 * Whether inih may see this line; if not it gets an empty one. Lines inih
 * would misread (too long, or not INI at all) are reported here, so inih
 * never fails, and so are dropped the indented lines that continue them.
 */
static bool
line_accept(struct load *ld, const char *line, int num)
{
	enum line_kind kind = line_classify(ld, line);

	if (kind == LINE_EMPTY)
		return false;	/* a comment too long for inih is still a comment */
	if (ld->dropping && isspace((unsigned char)line[0]))
		return false;
	ld->dropping = false;
	/* the line, '\n' and '\0' must fit in inih's buffer of num bytes */
	if (strlen(line) + 2 > (size_t)num) {
		line_too_long(ld, line, strlen(line), num, kind);
		kind = LINE_BAD;
	} else if (kind == LINE_BAD)
		line_reject(ld, line);
	ld->cont = kind == LINE_CONTINUATION;
	ld->comment_cut = (kind == LINE_KEY || ld->cont) &&
	    line_has_comment(line, kind);
	if (kind == LINE_SECTION) {
		const char *name = strchr(line, '[') + 1;

		section_begin(ld, name,
		    (size_t)(find_chars_or_comment(name, "]") - name), false);
		ld->inih_prev = false;
	} else if (kind == LINE_KEY)
		ld->inih_prev = true;
	else if (kind == LINE_BAD) {
		ld->last = NULL;
		ld->dropping = true;
	}
	return kind != LINE_BAD;
}

/* inih's fgets-style reader: one physical line per call, so we count them. */
static char *
reader_cb(char *str, int num, void *stream)
{
	struct load *ld = stream;
	char *line;
	size_t len;

	if (getline(&ld->buf, &ld->bufsz, ld->fp) == -1)
		return NULL;
	ld->lineno++;
	line = ld->buf;
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (ld->lineno == 1 && ini_allow_bom && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3;
	ld->cont = ld->comment_cut = false;
	snprintf(str, (size_t)num, "%s\n", line_accept(ld, line, num) ? line : "");
	return str;
}

/*
 * inih hands continuation lines over with any " ;" comment still on them;
 * cut it here so a comment means the same on every line of a value.
 */
static void
key_continue(struct load *ld, const char *value)
{
	struct raw_key *k = ld->last;
	size_t len = (size_t)(find_chars_or_comment(value, NULL) - value);
	char *joined;

	while (len > 0 && isspace((unsigned char)value[len - 1]))
		len--;
	if (k == NULL || len == 0)
		return;
	if (asprintf(&joined, "%s%s%.*s", k->value, *k->value ? " " : "",
	    (int)len, value) == -1) {
		ld->oom = true;
		return;
	}
	free(k->value);
	k->value = joined;
	k->comment_cut |= ld->comment_cut;
}

struct raw_key *
section_find_key(const struct raw_section *sec, const char *name)
{
	for (size_t i = 0; i < sec->nkeys; i++)
		if (strcmp(sec->keys[i].name, name) == 0)
			return &sec->keys[i];
	return NULL;
}

static struct raw_key *
section_add_key(struct load *ld, const char *name, const char *value)
{
	struct raw_section *sec = ld->sec;
	struct raw_key *keys;

	if ((keys = reallocarray(sec->keys, sec->nkeys + 1, sizeof(*keys))) == NULL) {
		ld->oom = true;
		return NULL;
	}
	sec->keys = keys;
	keys[sec->nkeys] = (struct raw_key){ load_strndup(ld, name, strlen(name)),
	    load_strndup(ld, value, strlen(value)), ld->lineno, ld->comment_cut,
	    false };
	if (keys[sec->nkeys].name == NULL || keys[sec->nkeys].value == NULL) {
		free(keys[sec->nkeys].name);
		free(keys[sec->nkeys].value);
		return NULL;
	}
	return &keys[sec->nkeys++];
}

/* inih's handler: collects raw values; they are checked once all is read. */
static int
handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct load *ld = user;
	struct raw_key *first;

	(void)section;	/* inih cuts it to 49 bytes: section_begin kept all of it */
	if (ld->cont) {
		key_continue(ld, value);
		return 1;
	}
	ld->last = NULL;
	if (ld->sec == NULL)
		load_error(ld, ld->file, ld->lineno, "%s: key outside any section: "
		    "expected a [vigil] or [service:NAME] line above it", name);
	else if (ld->sec->kind == SECTION_IGNORED)
		return 1;
	else if ((first = section_find_key(ld->sec, name)) != NULL)
		load_error(ld, ld->file, ld->lineno, "[%s] %s: key given twice, "
		    "first at line %d", ld->sec->name, name, first->line);
	else
		ld->last = section_add_key(ld, name, value);
	return 1;
}

/*
 * A regular file within CONFIG_FILE_MAX, or an error: a FIFO or a device
 * could feed the parser forever, and a huge file eat vigild's memory.
 */
static bool
readable_size(struct load *ld)
{
	struct stat st;

	if (fstat(fileno(ld->fp), &st) == -1)
		load_error(ld, ld->file, 0, "cannot read: %s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		load_error(ld, ld->file, 0, "cannot read: not a regular file");
	else if (st.st_size > CONFIG_FILE_MAX)
		load_error(ld, ld->file, 0, "%lld bytes: expected at most %d MiB in one file",
		    (long long)st.st_size, CONFIG_FILE_MAX >> 20);
	else
		return true;
	return false;
}

int
read_file(struct load *ld, const char *path, bool main)
{
	char **files;
	int rc;

	if ((files = reallocarray(ld->files, ld->nfiles + 1, sizeof(*files))) == NULL ||
	    (files[ld->nfiles] = strdup(path)) == NULL) {
		ld->files = files != NULL ? files : ld->files;
		ld->oom = true;
		return -1;
	}
	ld->files = files;
	ld->file = ld->nfiles++;
	if ((ld->fp = fopen(path, "re")) == NULL) {
		load_error(ld, ld->file, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (!readable_size(ld)) {
		fclose(ld->fp);
		return -1;
	}
	ld->in_main = main;
	ld->lineno = 0;
	ld->inih_prev = false;
	ld->sec = NULL;
	ld->last = NULL;
	ld->dropping = false;
	rc = ini_parse_stream(reader_cb, ld, handler_cb, ld);
	if (ferror(ld->fp))
		load_error(ld, ld->file, 0, "cannot read: %s", strerror(errno));
	else if (rc != 0)	/* the reader should have caught it: never silent */
		load_error(ld, ld->file, rc, "the INI parser refused this line");
	fclose(ld->fp);
	return 0;
}
