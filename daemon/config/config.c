/*
 * config.c: reads the main file and the files it includes into a struct
 * config: lines, sections, keys and where each was written, and the order
 * of the error messages. What each key accepts is config_values.c's job.
 */
#include "config.h"
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_values.h"

#define SERVICE_PREFIX	"service:"

struct raw_key {
	char	*name;
	char	*value;		/* continuation lines joined with one blank */
	int	 line;
	bool	 comment_cut;	/* a " ;" comment was cut off one of its lines */
	bool	 too_long;	/* a line of it was too long: reported, not checked */
};

enum section_kind {
	SECTION_VIGIL,		/* [vigil] in the main file */
	SECTION_SERVICE,	/* [service:NAME] */
	SECTION_IGNORED		/* already reported as wrong: its keys are not checked */
};

struct raw_section {
	char	*name;		/* as written between the brackets */
	size_t	 file;		/* index into load.files */
	int	 line;
	enum section_kind kind;
	struct raw_key *keys;
	size_t	 nkeys;
};

struct load_error {
	size_t	 file;		/* index into load.files */
	int	 line;		/* 0: about the file as a whole */
	char	*msg;
};

/* One config_load: all that was read so far, and the file being read. */
struct load {
	struct config	*conf;
	char		**files;	/* the main file, then includes in glob order */
	size_t		  nfiles;
	struct raw_section **secs;	/* in the order read, across files */
	size_t		  nsecs;
	struct load_error *errs;	/* kept in file, then line order */
	size_t		  nerrs;
	bool		  oom;		/* something was lost for want of memory */
	int		  include_line;

	size_t		  file;		/* the file being read, */
	bool		  in_main;	/* ... whether it is the main one, */
	FILE		 *fp;
	char		 *buf;		/* ... its current line, */
	size_t		  bufsz;
	int		  lineno;	/* ... and that line's number */
	bool		  inih_prev;	/* inih has a key an indented line would continue */
	bool		  cont;		/* the line handed to inih is a continuation */
	bool		  comment_cut;	/* ... or a key line, and a comment was on it */
	bool		  dropping;	/* after a rejected line: drop its indented ones */
	struct raw_section *sec;	/* NULL before the first section */
	struct raw_key	 *last;		/* what a continuation appends to, or NULL */
};

enum line_kind {
	LINE_EMPTY,		/* blank or comment */
	LINE_CONTINUATION,	/* indented, after a key */
	LINE_SECTION,		/* [name] */
	LINE_KEY,		/* key = value, key: value */
	LINE_BAD		/* anything else */
};

static void load_error(struct load *, size_t, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Messages are "FILE:LINE: ...", or "FILE: ..." for a whole file. They are
 * found out of order (lines as read, values once all is read), so each is
 * put in its place: file order, then line, then the order found.
 */
static void
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

static void
key_error(struct load *ld, const struct raw_section *sec,
    const struct raw_key *k, const char *msg)
{
	load_error(ld, sec->file, k->line, "[%s] %s: %s", sec->name, k->name, msg);
}

/* Keeps going on a failed allocation: the load fails, but never crashes. */
static char *
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
	if ((secs = reallocarray(ld->secs, ld->nsecs + 1, sizeof(*secs))) == NULL ||
	    (sec = calloc(1, sizeof(*sec))) == NULL) {
		ld->oom = true;
		return;
	}
	ld->secs = secs;
	if ((sec->name = load_strndup(ld, name, len)) == NULL)
		broken = true;
	sec->file = ld->file;
	sec->line = ld->lineno;
	sec->kind = broken ? SECTION_IGNORED : section_kind(ld, sec->name);
	secs[ld->nsecs++] = sec;
	ld->sec = sec;
	/* [vigil] in several parts is one section: a key in two is given twice */
	for (size_t i = 0; sec->kind == SECTION_VIGIL && i < ld->nsecs; i++) {
		if (secs[i]->kind == SECTION_VIGIL) {
			ld->sec = secs[i];
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

static struct raw_key *
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

/* Read one file into raw sections; -1 if it could not even be opened. */
static int
parse_file(struct load *ld, const char *path, bool main)
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

/* Check one key's value into obj; -1 when it was reported. */
static int
parse_key(struct load *ld, const struct raw_section *sec,
    const struct raw_key *k, enum value_section section, void *obj)
{
	struct value_error e = { "", false, false };
	size_t len = 0;

	if (k->too_long)
		return -1;
	if (values_parse(section, obj, k->name, k->value, &e) == 0)
		return 0;
	/* a quote left open is most often a comment cut inside quotes */
	if (e.quoting && k->comment_cut && (len = strlen(e.msg)) < sizeof(e.msg))
		snprintf(e.msg + len, sizeof(e.msg) - len, " (a ';' after a blank "
		    "starts a comment, even inside quotes)");
	if (e.unknown)
		load_error(ld, sec->file, k->line, "[%s] %s", sec->name, e.msg);
	else
		key_error(ld, sec, k, e.msg);
	return -1;
}

static void
build_vigil(struct load *ld, const struct raw_section *sec)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		if (parse_key(ld, sec, &sec->keys[i], VALUE_SECTION_VIGIL, ld->conf) == 0 &&
		    strcmp(sec->keys[i].name, "include") == 0)
			ld->include_line = sec->keys[i].line;
	}
}

/*
 * Relative patterns are relative to the main file, not to wherever vigild
 * was started; matches come sorted, so load order is predictable.
 */
static void
load_includes(struct load *ld)
{
	struct config *conf = ld->conf;
	const char *slash = strrchr(conf->file, '/');
	char *pattern;
	glob_t g;
	int rc;

	if (conf->include[0] != '/' && slash != NULL) {
		if (asprintf(&pattern, "%.*s/%s", (int)(slash - conf->file),
		    conf->file, conf->include) == -1) {
			ld->oom = true;
			return;
		}
		free(conf->include);
		conf->include = pattern;
	}
	rc = glob(conf->include, 0, NULL, &g);
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
		parse_file(ld, g.gl_pathv[i], false);
	if (rc != 0 && rc != GLOB_NOMATCH)
		load_error(ld, 0, ld->include_line, "[vigil] include: cannot "
		    "expand '%s': %s", conf->include,
		    rc == GLOB_NOSPACE ? "out of memory" : "read error");
	globfree(&g);
}

/* A valid name, used once across all files. */
static void
service_name_check(struct load *ld, const struct raw_section *sec)
{
	struct value_error e = { "", false, false };

	if (values_service_name(sec->name + strlen(SERVICE_PREFIX), &e) == -1) {
		load_error(ld, sec->file, sec->line, "[%s] %s", sec->name, e.msg);
		return;
	}
	for (size_t i = 0; i < ld->nsecs && ld->secs[i] != sec; i++) {
		const struct raw_section *first = ld->secs[i];

		if (first->kind == SECTION_SERVICE && strcmp(first->name, sec->name) == 0) {
			load_error(ld, sec->file, sec->line, "[%s] duplicate service "
			    "name, first defined at %s:%d", sec->name,
			    ld->files[first->file], first->line);
			return;
		}
	}
}

/* Keys that need others: the back-off range, and what config_values derives. */
static void
service_check_all(struct load *ld, const struct raw_section *sec,
    struct service_conf *sc, bool delays_ok)
{
	struct value_error e = { "", false, false };
	const struct raw_key *k;

	if (section_find_key(sec, "command") == NULL)
		load_error(ld, sec->file, sec->line, "[%s] command: required key "
		    "is missing", sec->name);
	if ((k = section_find_key(sec, "restart_delay_max")) == NULL)
		k = section_find_key(sec, "restart_delay");
	if (delays_ok && k != NULL &&
	    values_check_delays(sc, k->name, k->value, &e) == -1)
		key_error(ld, sec, k, e.msg);
	if (values_service_finish(sc, &e) == -1)
		ld->oom = true;
}

/* Every key of a service is checked even when its name is wrong: one run shows all. */
static void
build_service(struct load *ld, const struct raw_section *sec)
{
	struct service_conf *sc, **services;
	const struct raw_key *k;
	bool delays_ok = true;

	service_name_check(ld, sec);
	sc = values_service_new(sec->name + strlen(SERVICE_PREFIX),
	    ld->files[sec->file], sec->line);
	if (sc == NULL) {
		ld->oom = true;
		return;
	}
	values_service_inherit(sc, ld->conf);
	for (size_t i = 0; i < sec->nkeys; i++) {
		k = &sec->keys[i];
		if (parse_key(ld, sec, k, VALUE_SECTION_SERVICE, sc) == -1 &&
		    strncmp(k->name, "restart_delay", 13) == 0)
			delays_ok = false;
	}
	service_check_all(ld, sec, sc, delays_ok);
	if ((k = section_find_key(sec, "requires")) != NULL)
		sc->requires_line = k->line;
	if ((k = section_find_key(sec, "after")) != NULL)
		sc->after_line = k->line;
	services = reallocarray(ld->conf->services, ld->conf->nservices + 1,
	    sizeof(*services));
	if (services != NULL)
		ld->conf->services = services;
	if (ld->oom || services == NULL) {
		ld->oom = true;
		values_service_free(sc);
		return;
	}
	/*
	 * Kept even when it has errors (the load fails anyway): its name is
	 * still one that requires and after may use, and its own requires are
	 * still worth checking, so one run reports every mistake.
	 */
	services[ld->conf->nservices++] = sc;
}

static void
deps_error_cb_load(void *ctx, const struct service_conf *sc, int line, const char *msg)
{
	struct load *ld = ctx;
	size_t file = 0;

	if (strcmp(msg, "out of memory") == 0) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i < ld->nfiles; i++)
		if (strcmp(ld->files[i], sc->file) == 0)
			file = i;
	load_error(ld, file, line, "[service:%s] %s", sc->name, msg);
}

/* Hand the messages over, and one more if any was lost; keep none. */
static void
errors_move(struct load *ld, struct config_errors *errs)
{
	size_t n = ld->nerrs + 1;
	char **msgs = NULL;

	if (errs != NULL && (ld->nerrs > 0 || ld->oom))
		msgs = reallocarray(errs->msgs, errs->n + n, sizeof(*msgs));
	if (msgs != NULL)
		errs->msgs = msgs;
	for (size_t i = 0; i < ld->nerrs; i++) {
		if (msgs != NULL)
			msgs[errs->n++] = ld->errs[i].msg;
		else
			free(ld->errs[i].msg);
	}
	if (msgs != NULL && ld->oom && (msgs[errs->n] = strdup("out of memory")) != NULL)
		errs->n++;
	free(ld->errs);
}

static void
load_free(struct load *ld)
{
	for (size_t i = 0; i < ld->nsecs; i++) {
		struct raw_section *sec = ld->secs[i];

		for (size_t j = 0; j < sec->nkeys; j++) {
			free(sec->keys[j].name);
			free(sec->keys[j].value);
		}
		free(sec->keys);
		free(sec->name);
		free(sec);
	}
	free(ld->secs);
	for (size_t i = 0; i < ld->nfiles; i++)
		free(ld->files[i]);
	free(ld->files);
	free(ld->buf);
}

/*
 * Read everything first and check it after, so one run reports every
 * mistake in every file; a config with any mistake is not returned at all.
 */
struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct load ld = { .conf = calloc(1, sizeof(struct config)) };
	struct config *conf = ld.conf;

	if (conf == NULL || (conf->file = strdup(path)) == NULL)
		ld.oom = true;
	else if (parse_file(&ld, path, true) == 0) {
		conf->log_level = LOG_LEVEL_INFO;
		conf->log_max_size = VALUES_LOG_MAX_SIZE;
		conf->log_keep = VALUES_LOG_KEEP;
		conf->log_timestamps = true;
		conf->log_buffer = VALUES_LOG_BUFFER;
		conf->client_timeout_ms = CONFIG_CLIENT_TIMEOUT_MS;
		for (size_t i = 0; i < ld.nsecs; i++)
			if (ld.secs[i]->kind == SECTION_VIGIL)
				build_vigil(&ld, ld.secs[i]);
		if (conf->include != NULL)
			load_includes(&ld);
		for (size_t i = 0; i < ld.nsecs; i++)
			if (ld.secs[i]->kind == SECTION_SERVICE)
				build_service(&ld, ld.secs[i]);
		/* names only resolve against the complete set of services */
		if (!ld.oom)
			config_deps_resolve(conf, deps_error_cb_load, &ld);
		if (conf->socket_path == NULL &&
		    (conf->socket_path = strdup(config_default_socket())) == NULL)
			ld.oom = true;
		if (conf->log_dir == NULL &&
		    (conf->log_dir = strdup(config_default_log_dir())) == NULL)
			ld.oom = true;
	}
	if (ld.nerrs > 0 || ld.oom) {
		config_free(conf);
		conf = NULL;
	}
	errors_move(&ld, errs);
	load_free(&ld);
	return conf;
}

void
config_free(struct config *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->nservices; i++)
		values_service_free(conf->services[i]);
	free(conf->services);
	free(conf->file);
	free(conf->socket_path);
	free(conf->log_dir);
	free(conf->include);
	free(conf);
}

void
config_errors_free(struct config_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* XDG base directories: only an absolute value counts, as the spec says. */
static const char *
xdg_dir(const char *var)
{
	const char *dir = getenv(var);

	return dir != NULL && dir[0] == '/' ? dir : NULL;
}

const char *
config_default_path(void)
{
	static char path[PATH_MAX];
	const char *dir, *home = getenv("HOME");
	struct passwd *pw;

	if (geteuid() == 0)
		return "/etc/vigil/vigil.conf";
	if ((dir = xdg_dir("XDG_CONFIG_HOME")) != NULL) {
		snprintf(path, sizeof(path), "%s/vigil/vigil.conf", dir);
		return path;
	}
	if ((home == NULL || *home == '\0') && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;	/* as a login shell would set it */
	snprintf(path, sizeof(path), "%s/.config/vigil/vigil.conf",
	    home != NULL ? home : "");
	return path;
}

const char *
config_default_socket(void)
{
	static char path[PATH_MAX];
	const char *dir;

	if (geteuid() == 0)
		return "/run/vigil/vigil.sock";
	if ((dir = xdg_dir("XDG_RUNTIME_DIR")) != NULL)
		snprintf(path, sizeof(path), "%s/vigil/vigil.sock", dir);
	else
		snprintf(path, sizeof(path), "/tmp/vigil-%u/vigil.sock",
		    (unsigned)geteuid());
	return path;
}

/* /var/log/vigil as root; else $XDG_STATE_HOME/vigil or ~/.local/state/vigil. */
const char *
config_default_log_dir(void)
{
	static char path[PATH_MAX];
	const char *dir;

	if (geteuid() == 0)
		return "/var/log/vigil";
	if ((dir = xdg_dir("XDG_STATE_HOME")) != NULL)
		snprintf(path, sizeof(path), "%s/vigil", dir);
	else if ((dir = getenv("HOME")) != NULL && dir[0] == '/')
		snprintf(path, sizeof(path), "%s/.local/state/vigil", dir);
	else
		snprintf(path, sizeof(path), "/tmp/vigil-%u/log", (unsigned)geteuid());
	return path;
}
