/*
 * import_supervisord.c: `vigilctl import-supervisord FILE`, a supervisord
 * configuration turned into a vigil one on stdout. Every [program:x]
 * becomes one service (numprocs of them with their process_name); every
 * key vigil has no equivalent for becomes a comment that says why. Reading
 * the file is supervisord_ini.c's; this file owns the mapping.
 */
#include "config.h"
#include "vigilctl.h"

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisord_ini.h"

#define LINE_MAX_VIGIL	198	/* vigil.conf(5): a longer line is an error */
#define NAME_MAX_VIGIL	64	/* SERVICE_NAME_MAX */
#define SV_PRIORITY_DEFAULT 999
#define SV_NUMPROCS_MAX	1000

/* One service to be: a program's instance. */
struct instance {
	struct sv_section *sec;
	char		*name;		/* the service's */
	const char	*program;	/* after "program:" */
	long		 process_num;
	long		 numprocs;
	long		 priority;
};

struct import {
	struct sv_conf	 sv;
	FILE		*out;		/* open_memstream: printed only once all went well */
	char		*text;
	size_t		 textlen;
	struct instance	*inst;
	size_t		 ninst;
	const char	*env_global;	/* [supervisord] environment, given to every program */
	char		 host[256];
	char		 why[512];	/* why the last expansion failed */
};

/* ---- writing the vigil file ------------------------------------------ */

/* One comment line, cut to vigil's line length. */
static void
comment(struct import *im, const char *fmt, ...)
{
	char line[LINE_MAX_VIGIL + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line)) {
		size_t cut = sizeof(line) - 4;

		while (cut > 0 && ((unsigned char)line[cut] & 0xC0) == 0x80)
			cut--;	/* not inside a UTF-8 character */
		memcpy(line + cut, "...", 4);
	}
	for (char *p = line; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(im->out, "%s\n", line);
}

/* A key the importer could not map: where it was, and why. */
static void
not_mapped(struct import *im, const struct sv_section *sec, struct sv_key *k,
    const char *why)
{
	k->used = true;
	comment(im, "# %s:%d [%s] %s = %s", k->file, k->line, sec->name, k->name,
	    k->value);
	comment(im, "#   not mapped: %s", why);
}

/*
 * key = value, on continuation lines where it would be too long: split at
 * blanks outside quotes (vigil joins continuation lines with one blank).
 */
static void
emit(struct import *im, const char *key, const char *value)
{
	size_t col = (size_t)fprintf(im->out, "%s =", key);
	const char *p = value;

	while (*p != '\0') {
		const char *w = p;
		char q = 0;

		while (*p != '\0' && (q != 0 || *p != ' ')) {
			if (q == 0 && (*p == '\'' || *p == '"'))
				q = *p;
			else if (q != 0 && *p == q)
				q = 0;
			else if (q != '\'' && *p == '\\' && p[1] != '\0')
				p++;
			p++;
		}
		if (col + 1 + (size_t)(p - w) > LINE_MAX_VIGIL && col > 1) {
			fputs("\n\t", im->out);
			col = 8;
		} else {
			fputc(' ', im->out);
			col++;
		}
		fwrite(w, 1, (size_t)(p - w), im->out);
		col += (size_t)(p - w);
		while (*p == ' ')
			p++;
	}
	fputc('\n', im->out);
}

/* Append word to buf as one word of vigil's command syntax. */
static int
quote_word(FILE *f, const char *word)
{
	bool plain = *word != '\0';

	for (const char *p = word; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("_@%+=:,./-", *p) == NULL)
			plain = false;
	if (plain)
		return fputs(word, f);
	fputc('\'', f);
	for (const char *p = word; *p != '\0'; p++)
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	return fputc('\'', f);
}

/* ---- supervisord's value syntaxes ------------------------------------ */

static bool
sv_bool(const char *v, bool *b)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *b = true;
		if (strcasecmp(v, no[i]) == 0) {
			*b = false;
			return true;
		}
	}
	return false;
}

static bool
sv_long(const char *v, long lo, long hi, long *n)
{
	char *end;

	errno = 0;
	*n = strtol(v, &end, 10);
	return *v != '\0' && *end == '\0' && errno == 0 && *n >= lo && *n <= hi;
}

/* supervisord's byte_size (1024, 50MB, 1KB, 1GB) as vigil's size (50M). */
static bool
sv_size(const char *v, char *out, size_t outlen)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (end == v || errno != 0)
		return false;
	if (*end == '\0')
		snprintf(out, outlen, "%llu", n);
	else if (strcasecmp(end, "KB") == 0 || strcasecmp(end, "MB") == 0 ||
	    strcasecmp(end, "GB") == 0)
		snprintf(out, outlen, "%llu%c", n, toupper((unsigned char)*end));
	else
		return false;
	return true;
}

/*
 * Python's %-formatting with names, as supervisord expands values:
 * %(name)s, %(name)d with flags and width (%(process_num)02d), and %%.
 */
static char *
expand(struct import *im, const struct instance *in, const char *here, const char *v)
{
	char *buf = NULL, *end;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		err(CTL_EXIT_FAILED, NULL);
	im->why[0] = '\0';
	for (const char *p = v; *p != '\0' && im->why[0] == '\0'; p++) {
		char name[128], flags[8] = "", val[4096];
		const char *close, *s = NULL;
		long width = 0, num = 0;
		bool is_num = false;
		size_t nf = 0;

		if (*p != '%') {
			fputc(*p, f);
			continue;
		}
		if (p[1] == '%') {
			fputc('%', f);
			p++;
			continue;
		}
		if (p[1] != '(' || (close = strchr(p + 2, ')')) == NULL ||
		    (size_t)(close - p - 2) >= sizeof(name)) {
			snprintf(im->why, sizeof(im->why), "a '%%' that starts no "
			    "%%(name)s expansion (write %%%% for one)");
			break;
		}
		memcpy(name, p + 2, (size_t)(close - p - 2));
		name[close - p - 2] = '\0';
		p = close + 1;
		while ((*p == '0' || *p == '-') && nf < sizeof(flags) - 1)
			flags[nf++] = *p++;
		width = strtol(p, &end, 10);
		p = end;
		if (*p != 's' && *p != 'd' && *p != 'i') {
			snprintf(im->why, sizeof(im->why), "%%(%s) has a conversion "
			    "other than s or d", name);
			break;
		}
		if (strcmp(name, "program_name") == 0 && in != NULL)
			s = in->program;
		else if (strcmp(name, "group_name") == 0 && in != NULL)
			s = in->program;	/* its own group, unless [group:x] says else */
		else if (strcmp(name, "process_num") == 0 && in != NULL)
			is_num = true, num = in->process_num;
		else if (strcmp(name, "numprocs") == 0 && in != NULL)
			is_num = true, num = in->numprocs;
		else if (strcmp(name, "host_node_name") == 0)
			s = im->host;
		else if (strcmp(name, "here") == 0)
			s = here;
		else if (strncmp(name, "ENV_", 4) == 0 && (s = getenv(name + 4)) == NULL) {
			snprintf(im->why, sizeof(im->why), "%%(%s)s: %s is not set in "
			    "this environment", name, name + 4);
			break;
		} else if (s == NULL) {
			snprintf(im->why, sizeof(im->why), "%%(%s)s: no such expansion "
			    "here", name);
			break;
		}
		if (is_num)
			snprintf(val, sizeof(val), "%ld", num);
		else
			snprintf(val, sizeof(val), "%s", s);
		if (*p != 's' && !is_num) {
			snprintf(im->why, sizeof(im->why), "%%(%s)d: not a number", name);
			break;
		}
		if (strchr(flags, '-') != NULL)
			fprintf(f, "%-*s", (int)width, val);
		else if (strchr(flags, '0') != NULL && is_num)
			fprintf(f, "%0*ld", (int)width, num);
		else
			fprintf(f, "%*s", (int)width, val);
	}
	fclose(f);
	if (im->why[0] != '\0') {
		free(buf);
		return NULL;
	}
	for (char *q = buf; *q != '\0'; q++)
		if (*q == '\n')	/* continuation lines: supervisord takes them as blanks */
			*q = ' ';
	return buf;
}

/* A key's expanded value, or NULL: a comment said why (missing or bad). */
static char *
get_expanded(struct import *im, const struct instance *in, const char *name)
{
	struct sv_key *k = sv_key(in->sec, name);
	char *v;

	if (k == NULL)
		return NULL;
	if ((v = expand(im, in, in->sec->here, k->value)) == NULL)
		not_mapped(im, in->sec, k, im->why);
	k->used = true;
	return v;
}

/*
 * supervisord's command: shlex.split in POSIX mode (quotes, backslashes,
 * no expansion), written again in vigil's quoting.
 */
static char *
command_words(const char *v, char *why, size_t whylen)
{
	char *buf = NULL, *word = NULL;
	size_t len = 0, wlen = 0;
	FILE *f = open_memstream(&buf, &len), *w = NULL;
	bool first = true;
	char q = 0;

	if (f == NULL)
		err(CTL_EXIT_FAILED, NULL);
	for (const char *p = v;; p++) {
		if (*p == '\0' || (q == 0 && isspace((unsigned char)*p))) {
			if (w != NULL) {
				fclose(w);
				if (!first)
					fputc(' ', f);
				quote_word(f, word);
				free(word);
				w = NULL;
				first = false;
			}
			if (*p == '\0')
				break;
			continue;
		}
		if (w == NULL && (w = open_memstream(&word, &wlen)) == NULL)
			err(CTL_EXIT_FAILED, NULL);
		if (q == 0 && (*p == '\'' || *p == '"'))
			q = *p;
		else if (q != 0 && *p == q)
			q = 0;
		else if (*p == '\\' && q != '\'' && p[1] != '\0' &&
		    (q == 0 || p[1] == '"' || p[1] == '\\'))
			fputc(*++p, w);
		else
			fputc(*p, w);
	}
	fclose(f);
	if (q != 0) {
		snprintf(why, whylen, "no closing quotation (%c)", q);
		free(buf);
		return NULL;
	}
	if (*buf == '\0') {
		snprintf(why, whylen, "empty command");
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * supervisord's environment: KEY="value",KEY2=value2 (shlex tokens; a
 * quoted value keeps everything up to its closing quote). Appended to f
 * as vigil words KEY=value; false with why on a syntax error.
 */
static bool
environment_words(FILE *f, const char *v, bool *first, char *why, size_t whylen)
{
	const char *p = v;

	while (*p != '\0') {
		char *pair = NULL;
		size_t plen = 0;
		FILE *w;
		const char *k;

		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (k = p; *p != '\0' && *p != '=' && !isspace((unsigned char)*p); p++)
			;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=' || p == k) {
			snprintf(why, whylen, "expected KEY=value pairs separated by ','");
			return false;
		}
		if ((w = open_memstream(&pair, &plen)) == NULL)
			err(CTL_EXIT_FAILED, NULL);
		for (const char *c = k; c < p && !isspace((unsigned char)*c); c++)
			fputc(*c, w);
		fputc('=', w);
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '"' || *p == '\'') {
			const char *end = strchr(p + 1, *p);

			if (end == NULL) {
				fclose(w);
				free(pair);
				snprintf(why, whylen, "no closing quotation (%c)", *p);
				return false;
			}
			fwrite(p + 1, 1, (size_t)(end - p - 1), w);
			p = end + 1;
		} else
			for (; *p != '\0' && *p != ',' && !isspace((unsigned char)*p); p++)
				fputc(*p, w);
		fclose(w);
		if (!*first)
			fputc(' ', f);
		quote_word(f, pair);
		free(pair);
		*first = false;
	}
	return true;
}

/* ---- one program ----------------------------------------------------- */

static void
map_output(struct import *im, const struct instance *in, const char *stream)
{
	char key[64], *v, size[32];
	struct sv_key *k;
	bool to_log = true;

	snprintf(key, sizeof(key), "%s_logfile", stream);
	if ((v = get_expanded(im, in, key)) != NULL) {
		if (strcasecmp(v, "AUTO") == 0)
			;	/* captured, as vigil does by default */
		else if (strcasecmp(v, "NONE") == 0 || strcmp(v, "/dev/null") == 0)
			emit(im, stream, "null"), to_log = false;
		else if (strcmp(v, "/dev/stdout") == 0 || strcmp(v, "/dev/fd/1") == 0 ||
		    strcmp(v, "/dev/stderr") == 0 || strcmp(v, "/dev/fd/2") == 0) {
			comment(im, "# %s = %s: vigild's own %s, as in a container", key, v,
			    v[strlen(v) - 1] == '1' || strstr(v, "out") != NULL ?
			    "stdout" : "stderr");
			emit(im, stream, "inherit"), to_log = false;
		} else {
			char *target;

			if (asprintf(&target, "file:%s%s%s", *v == '/' ? "" : in->sec->here,
			    *v == '/' ? "" : "/", v) == -1)
				err(CTL_EXIT_FAILED, NULL);
			if (*v != '/')
				comment(im, "# %s = %s: made absolute against the "
				    "config's folder", key, v);
			emit(im, stream, target), to_log = false;
			free(target);
		}
		free(v);
	}
	snprintf(key, sizeof(key), "%s_logfile_maxbytes", stream);
	if ((k = sv_key(in->sec, key)) != NULL) {
		if (!to_log)
			not_mapped(im, in->sec, k, "vigil rotates only its own log "
			    "(stdout = log), not a file: target");
		else if (strcmp(stream, "stderr") == 0 && sv_key(in->sec,
		    "stdout_logfile_maxbytes") != NULL)
			not_mapped(im, in->sec, k, "vigil keeps one log per service; "
			    "stdout_logfile_maxbytes sets its size");
		else if (!sv_size(k->value, size, sizeof(size)))
			not_mapped(im, in->sec, k, "expected bytes, or a number "
			    "with KB, MB or GB");
		else
			emit(im, "log_max_size", size), k->used = true;
	}
	snprintf(key, sizeof(key), "%s_logfile_backups", stream);
	if ((k = sv_key(in->sec, key)) != NULL) {
		long n;

		if (!to_log)
			not_mapped(im, in->sec, k, "vigil rotates only its own log "
			    "(stdout = log), not a file: target");
		else if (strcmp(stream, "stderr") == 0 && sv_key(in->sec,
		    "stdout_logfile_backups") != NULL)
			not_mapped(im, in->sec, k, "vigil keeps one log per service; "
			    "stdout_logfile_backups sets how many are kept");
		else if (!sv_long(k->value, 0, 1000000, &n))
			not_mapped(im, in->sec, k, "expected a number");
		else {
			emit(im, "log_keep", k->value);
			k->used = true;
		}
	}
}

static void
map_stop(struct import *im, const struct instance *in)
{
	struct sv_key *k;
	bool group = false, b;
	long n;
	char d[32];

	if ((k = sv_key(in->sec, "stopsignal")) != NULL) {
		emit(im, "stop_signal", k->value);
		k->used = true;
	}
	if ((k = sv_key(in->sec, "stopwaitsecs")) != NULL) {
		if (!sv_long(k->value, 0, 86400 * 365, &n))
			not_mapped(im, in->sec, k, "expected whole seconds");
		else {
			snprintf(d, sizeof(d), "%lds", n);
			emit(im, "stop_timeout", d);
			k->used = true;
		}
	}
	for (int i = 0; i < 2; i++) {
		const char *name = i == 0 ? "stopasgroup" : "killasgroup";

		if ((k = sv_key(in->sec, name)) == NULL)
			continue;
		if (!sv_bool(k->value, &b))
			not_mapped(im, in->sec, k, "expected true or false");
		else if (!b)
			not_mapped(im, in->sec, k, "vigil ends every process of a "
			    "service (kill_mode = all); kill_mode = main signals only "
			    "the main process, as this did");
		else
			group = k->used = true;
	}
	if (group)
		emit(im, "kill_mode", "all");
}

static void
map_restart(struct import *im, const struct instance *in)
{
	struct sv_key *k;
	const char *policy = "on-failure";
	long n = 3;
	char num[32];
	bool b;

	if ((k = sv_key(in->sec, "autorestart")) != NULL) {
		k->used = true;
		if (strcasecmp(k->value, "unexpected") == 0)
			policy = "on-failure";
		else if (sv_bool(k->value, &b))
			policy = b ? "always" : "never";
		else
			not_mapped(im, in->sec, k, "expected true, false or unexpected");
	} else
		comment(im, "# autorestart: supervisord's default, unexpected");
	emit(im, "restart", policy);
	if ((k = sv_key(in->sec, "exitcodes")) != NULL) {
		char *v = k->value;

		while (*v == ' ')
			v++;
		if (strcmp(v, "0") == 0)
			k->used = true;
		else
			not_mapped(im, in->sec, k, "vigil takes only exit code 0 as "
			    "an expected end (restart = on-failure)");
	}
	if ((k = sv_key(in->sec, "startsecs")) != NULL) {
		if (!sv_long(k->value, 0, 86400 * 365, &n))
			not_mapped(im, in->sec, k, "expected whole seconds");
		else {
			snprintf(num, sizeof(num), "%lds", n);
			emit(im, "start_secs", num);
			k->used = true;
		}
	}
	n = 3;		/* supervisord's default */
	if ((k = sv_key(in->sec, "startretries")) != NULL) {
		if (sv_long(k->value, 0, 999999, &n))
			k->used = true;
		else {
			not_mapped(im, in->sec, k, "expected a number");
			n = 3;
		}
	}
	/* supervisord's N retries follow a first try: N + 1 failed starts in a row */
	comment(im, "# startretries = %ld%s: gives up after %ld failed starts", n,
	    k == NULL ? " (supervisord's default)" : "", n + 1);
	snprintf(num, sizeof(num), "%ld", n + 1);
	emit(im, "start_retries", num);
}

static void
map_environment(struct import *im, const struct instance *in)
{
	struct sv_key *k = sv_key(in->sec, "environment");
	char *buf = NULL, *v, why[128];
	size_t len = 0;
	bool first = true;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		err(CTL_EXIT_FAILED, NULL);
	/* [supervisord] environment first: a program's own pairs come later and win */
	if (im->env_global != NULL && !environment_words(f, im->env_global, &first,
	    why, sizeof(why)))
		comment(im, "# [supervisord] environment not given to %s: %s",
		    in->name, why);
	if (k != NULL && (v = get_expanded(im, in, "environment")) != NULL) {
		if (!environment_words(f, v, &first, why, sizeof(why)))
			not_mapped(im, in->sec, k, why);
		free(v);
	}
	fclose(f);
	if (*buf != '\0')
		emit(im, "environment", buf);
	free(buf);
}

/* Keys of [program:x] with no vigil equivalent, and why. */
static const struct {
	const char *key;
	const char *why;
} program_unmapped[] = {
	{ "stdout_capture_maxbytes", "vigil has no capture mode: "
	    "`vigilctl log` shows the last lines" },
	{ "stderr_capture_maxbytes", "vigil has no capture mode: "
	    "`vigilctl log` shows the last lines" },
	{ "stdout_events_enabled", "vigil has no event listeners: "
	    "`vigilctl events` streams state changes" },
	{ "stderr_events_enabled", "vigil has no event listeners: "
	    "`vigilctl events` streams state changes" },
	{ "stdout_syslog", "vigil writes output to its log files, not to syslog" },
	{ "stderr_syslog", "vigil writes output to its log files, not to syslog" },
	{ "serverurl", "services reach vigild with vigilctl and its socket" },
};

static int
map_instance(struct import *im, const struct instance *in, const char *after)
{
	static const char *const stderr_keys[] = { "stderr_logfile",
	    "stderr_logfile_maxbytes", "stderr_logfile_backups" };
	struct sv_section *sec = in->sec;
	struct sv_key *k;
	char *v, *cmd, why[128];
	bool b, redirect = false;

	fprintf(im->out, "\n[service:%s]\n", in->name);
	comment(im, "# from %s:%d [%s]%s", sec->file, sec->line, sec->name,
	    in->numprocs > 1 ? ", one of its numprocs" : "");
	/* without a command there is no service: supervisord refuses it too */
	k = sv_key(sec, "command");
	if ((v = expand(im, in, sec->here, k->value)) == NULL) {
		warnx("%s:%d: [%s] command: %s", k->file, k->line, sec->name, im->why);
		return -1;
	}
	if ((cmd = command_words(v, why, sizeof(why))) == NULL) {
		warnx("%s:%d: [%s] command: %s", k->file, k->line, sec->name, why);
		free(v);
		return -1;
	}
	emit(im, "command", cmd);
	k->used = true;
	free(cmd);
	free(v);
	if ((v = get_expanded(im, in, "directory")) != NULL)
		emit(im, "directory", v), free(v);
	if ((v = get_expanded(im, in, "user")) != NULL)
		emit(im, "user", v), free(v);
	if ((k = sv_key(sec, "umask")) != NULL)
		emit(im, "umask", k->value), k->used = true;
	map_environment(im, in);
	if ((k = sv_key(sec, "autostart")) != NULL) {
		if (sv_bool(k->value, &b))
			emit(im, "autostart", b ? "yes" : "no"), k->used = true;
		else
			not_mapped(im, sec, k, "expected true or false");
	}
	map_restart(im, in);
	map_stop(im, in);
	if (after != NULL) {
		comment(im, "# priority %ld: started after (and stopped before) "
		    "the next lower priority", in->priority);
		emit(im, "after", after);
	}
	if ((k = sv_key(sec, "redirect_stderr")) != NULL) {
		if (!sv_bool(k->value, &redirect))
			not_mapped(im, sec, k, "expected true or false");
		else {
			k->used = true;
			if (redirect)
				emit(im, "stderr", "stdout");
		}
	}
	map_output(im, in, "stdout");
	if (!redirect)
		map_output(im, in, "stderr");
	else
		for (size_t i = 0; i < 3; i++)
			if ((k = sv_key(sec, stderr_keys[i])) != NULL)
				not_mapped(im, sec, k, "redirect_stderr = true: standard "
				    "error goes with standard output");
	for (size_t i = 0; i < sizeof(program_unmapped) / sizeof(program_unmapped[0]); i++)
		if ((k = sv_key(sec, program_unmapped[i].key)) != NULL)
			not_mapped(im, sec, k, program_unmapped[i].why);
	for (size_t i = 0; i < sec->nkeys; i++)
		if (!sec->keys[i].used)
			not_mapped(im, sec, &sec->keys[i], "not a key of "
			    "supervisord's [program:x] that vigil knows");
	return 0;
}

/* ---- the whole file -------------------------------------------------- */

/* A service name from a process name: characters vigil refuses become '-'. */
static char *
service_name(struct import *im, const char *pname, const struct sv_section *sec)
{
	char *n = strndup(pname, NAME_MAX_VIGIL);
	bool changed = strlen(pname) > NAME_MAX_VIGIL;

	if (n == NULL)
		err(CTL_EXIT_FAILED, NULL);
	for (char *p = n; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("_.-", *p) == NULL) {
			*p = '-';
			changed = true;
		}
	if (*n == '\0') {
		free(n);
		n = strdup("program");
	}
	if (changed)
		comment(im, "# [%s]: process name '%s' becomes service '%s'",
		    sec->name, pname, n);
	return n;
}

static int
collect_program(struct import *im, struct sv_section *sec)
{
	struct instance base = { .sec = sec, .program = sec->name + 8,
	    .numprocs = 1, .priority = SV_PRIORITY_DEFAULT };
	struct sv_key *k;
	long start = 0;

	if ((k = sv_key(sec, "numprocs")) != NULL &&
	    !sv_long(k->value, 1, SV_NUMPROCS_MAX, &base.numprocs)) {
		warnx("%s:%d: [%s] numprocs: expected 1 to %d, found '%s'", k->file,
		    k->line, sec->name, SV_NUMPROCS_MAX, k->value);
		return -1;
	}
	if ((k = sv_key(sec, "numprocs_start")) != NULL &&
	    !sv_long(k->value, 0, 1000000, &start)) {
		warnx("%s:%d: [%s] numprocs_start: expected a number, found '%s'",
		    k->file, k->line, sec->name, k->value);
		return -1;
	}
	if ((k = sv_key(sec, "priority")) != NULL &&
	    !sv_long(k->value, -1000000, 1000000, &base.priority)) {
		warnx("%s:%d: [%s] priority: expected a number, found '%s'", k->file,
		    k->line, sec->name, k->value);
		return -1;
	}
	for (size_t i = 0; i < 3; i++)	/* read here, for every instance */
		if ((k = sv_key(sec, (const char *[]){ "numprocs", "numprocs_start",
		    "priority" }[i])) != NULL)
			k->used = true;
	k = sv_key(sec, "process_name");
	if (k != NULL)
		k->used = true;
	if (base.numprocs > 1 && (k == NULL || strstr(k->value, "process_num") == NULL)) {
		/* supervisord refuses it too: the instances would share a name */
		warnx("%s:%d: [%s] numprocs = %ld needs a process_name with "
		    "%%(process_num)s in it", sec->file, sec->line, sec->name,
		    base.numprocs);
		return -1;
	}
	for (long i = 0; i < base.numprocs; i++) {
		struct instance in = base, *all;
		char *pname;

		in.process_num = start + i;
		if ((pname = expand(im, &in, sec->here,
		    k != NULL ? k->value : "%(program_name)s")) == NULL) {
			warnx("%s:%d: [%s] process_name: %s", k->file, k->line,
			    sec->name, im->why);
			return -1;
		}
		in.name = service_name(im, pname, sec);
		free(pname);
		for (size_t j = 0; j < im->ninst; j++)
			if (strcmp(im->inst[j].name, in.name) == 0) {
				warnx("[%s]: service name '%s' also comes from [%s]",
				    sec->name, in.name, im->inst[j].sec->name);
				free(in.name);
				return -1;
			}
		if ((all = reallocarray(im->inst, im->ninst + 1, sizeof(*all))) == NULL)
			err(CTL_EXIT_FAILED, NULL);
		im->inst = all;
		im->inst[im->ninst++] = in;
	}
	return 0;
}

/* Every instance of the next lower priority than in's, as words. */
static char *
after_of(const struct import *im, const struct instance *in)
{
	long lower = 0;
	bool found = false;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	for (size_t i = 0; i < im->ninst; i++)
		if (im->inst[i].priority < in->priority &&
		    (!found || im->inst[i].priority > lower)) {
			lower = im->inst[i].priority;
			found = true;
		}
	if (!found)
		return NULL;
	if ((f = open_memstream(&buf, &len)) == NULL)
		err(CTL_EXIT_FAILED, NULL);
	for (size_t i = 0, n = 0; i < im->ninst; i++)
		if (im->inst[i].priority == lower)
			fprintf(f, "%s%s", n++ > 0 ? " " : "", im->inst[i].name);
	fclose(f);
	return buf;
}

static void
map_supervisord(struct import *im, struct sv_section *sec)
{
	static const struct {
		const char *from, *to;
	} levels[] = {
		{ "critical", "error" }, { "error", "error" }, { "warn", "warn" },
		{ "info", "info" }, { "debug", "debug" }, { "trace", "debug" },
		{ "blather", "debug" },
	};
	struct sv_key *k;

	if ((k = sv_key(sec, "loglevel")) != NULL) {
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
			if (strcasecmp(k->value, levels[i].from) == 0) {
				emit(im, "log_level", levels[i].to);
				k->used = true;
			}
		if (!k->used)
			not_mapped(im, sec, k, "expected critical, error, warn, "
			    "info, debug, trace or blather");
	}
	if ((k = sv_key(sec, "childlogdir")) != NULL) {
		char *v = expand(im, NULL, sec->here, k->value);

		if (v == NULL)
			not_mapped(im, sec, k, im->why);
		else {
			emit(im, "log_dir", v);
			k->used = true;
		}
		free(v);
	}
	if ((k = sv_key(sec, "environment")) != NULL) {
		im->env_global = k->value;
		k->used = true;
		comment(im, "# [supervisord] environment: given to every service");
	}
}

/* Why a section or key of supervisord's own has no place in vigil. */
static const char *
section_why(const char *name, const char *key)
{
	static const struct {
		const char *sec, *key, *why;
	} whys[] = {
		{ "supervisord", "logfile", "vigild logs to stderr or syslog "
		    "(log_target)" },
		{ "supervisord", "logfile_maxbytes", "vigild logs to stderr or syslog" },
		{ "supervisord", "logfile_backups", "vigild logs to stderr or syslog" },
		{ "supervisord", "pidfile", "vigild writes no pid file: "
		    "`vigilctl hello` answers while it runs" },
		{ "supervisord", "nodaemon", "vigild stays in the foreground "
		    "unless started with -d" },
		{ "supervisord", "minfds", "vigild raises its open-files limit "
		    "itself; a service's is limit_nofile" },
		{ "supervisord", "minprocs", "a service's is limit_nproc" },
		{ "supervisord", "user", "start vigild as that user instead" },
		{ "supervisord", NULL, "vigild has no such setting" },
		{ "unix_http_server", NULL, "vigilctl speaks vigil's own protocol "
		    "on [vigil] socket; socket_group admits a group" },
		{ "inet_http_server", NULL, "vigild listens on a Unix socket only" },
		{ "supervisorctl", NULL, "vigilctl takes --socket or VIGIL_SOCKET" },
		{ "rpcinterface:", NULL, "vigil has no XML-RPC interface" },
		{ "ctlplugin:", NULL, "vigilctl has no plugins" },
		{ "group:", NULL, "vigil has no groups: name the services, as in "
		    "`vigilctl restart a b`" },
		{ "eventlistener:", NULL, "vigil has no event listeners: "
		    "`vigilctl events` streams state changes" },
		{ "fcgi-program:", NULL, "vigil does not hand sockets to services" },
		{ "include", NULL, NULL },
		{ "", NULL, "not a section of supervisord that vigil knows" },
	};

	for (size_t i = 0; i < sizeof(whys) / sizeof(whys[0]); i++) {
		size_t n = strlen(whys[i].sec);
		bool match;

		if (n == 0)		/* the last: any other section */
			match = true;
		else if (whys[i].sec[n - 1] == ':')	/* a kind: "group:" */
			match = strncmp(name, whys[i].sec, n) == 0;
		else
			match = strcmp(name, whys[i].sec) == 0;
		if (match && (whys[i].key == NULL || strcmp(whys[i].key, key) == 0))
			return whys[i].why;
	}
	return "not mapped";
}

static void
explain_rest(struct import *im)
{
	bool heading = false;

	for (size_t i = 0; i < im->sv.nsecs; i++) {
		struct sv_section *sec = &im->sv.secs[i];

		if (strncmp(sec->name, "program:", 8) == 0)
			continue;
		for (size_t j = 0; j < sec->nkeys; j++) {
			const char *why;

			if (sec->keys[j].used ||
			    (why = section_why(sec->name, sec->keys[j].name)) == NULL)
				continue;
			if (!heading)
				fputs("\n# From the other sections:\n", im->out);
			heading = true;
			not_mapped(im, sec, &sec->keys[j], why);
		}
	}
}

static int
import(struct import *im, const char *path)
{
	char *after;
	int rc;

	if (sv_read(&im->sv, path) == -1) {
		warnx("%s", im->sv.err);
		return -1;
	}
	if (gethostname(im->host, sizeof(im->host)) == -1)
		snprintf(im->host, sizeof(im->host), "localhost");
	if ((im->out = open_memstream(&im->text, &im->textlen)) == NULL)
		err(CTL_EXIT_FAILED, NULL);
	fprintf(im->out, "# vigil configuration made by `vigilctl import-supervisord`\n");
	for (size_t i = 0; i < im->sv.nfiles; i++)
		comment(im, "# %s %s", i == 0 ? "from" : "and", im->sv.files[i]);
	fputs("# A key vigil has no equivalent for is a comment saying why.\n"
	    "# Check it with: vigild --check -c FILE\n", im->out);
	for (size_t i = 0; i < im->sv.nnotes; i++)
		comment(im, "# %s", im->sv.notes[i]);
	fputs("\n[vigil]\n", im->out);
	for (size_t i = 0; i < im->sv.nsecs; i++)
		if (strcmp(im->sv.secs[i].name, "supervisord") == 0)
			map_supervisord(im, &im->sv.secs[i]);
	for (size_t i = 0; i < im->sv.nsecs; i++)
		if (strncmp(im->sv.secs[i].name, "program:", 8) == 0 &&
		    collect_program(im, &im->sv.secs[i]) == -1)
			return -1;
	if (im->ninst == 0)
		comment(im, "# no [program:x] section: no service");
	for (size_t i = 0; i < im->ninst; i++) {
		struct sv_key *k = sv_key(im->inst[i].sec, "command");

		if (k == NULL) {
			warnx("%s:%d: [%s] has no command", im->inst[i].sec->file,
			    im->inst[i].sec->line, im->inst[i].sec->name);
			return -1;
		}
		after = after_of(im, &im->inst[i]);
		rc = map_instance(im, &im->inst[i], after);
		free(after);
		if (rc == -1)
			return -1;
	}
	explain_rest(im);
	if (fclose(im->out) == EOF)
		err(CTL_EXIT_FAILED, "writing the configuration");
	im->out = NULL;
	return 0;
}

int
verb_import_supervisord(const struct ctl_options *o, int argc, char **argv)
{
	struct import im = { 0 };
	int rc = CTL_EXIT_OK;

	(void)o;
	(void)argc;
	if (import(&im, argv[1]) == -1)
		rc = CTL_EXIT_FAILED;
	else if (fwrite(im.text, 1, im.textlen, stdout) != im.textlen ||
	    fflush(stdout) == EOF) {
		warn("writing to stdout");
		rc = CTL_EXIT_FAILED;
	}
	if (im.out != NULL)
		fclose(im.out);
	free(im.text);
	for (size_t i = 0; i < im.ninst; i++)
		free(im.inst[i].name);
	free(im.inst);
	sv_free(&im.sv);
	return rc;
}
