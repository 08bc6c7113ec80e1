/*
 * output.c: how vigilctl shows vigild's replies to people: an aligned
 * table, the short texts in its cells, and colour when asked for. Pure
 * functions of JSON objects and a FILE; whether to colour is main.c's call.
 */
#include "config.h"
#include "vigilctl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "proto.h"

#define SGR_RESET	"\033[0m"

struct table {
	size_t	  ncols, nrows, cap;
	char	**cells;	/* nrows * ncols, row 0 is the header */
	const char **styles;	/* static SGR sequences or NULL, one per cell */
	size_t	 *width;	/* widest cell of each column, in characters */
};

/*
 * Copy s, turning control characters into '?': a reason may quote a path
 * or an error from the service's world, and must not drive the terminal.
 */
static char *
clean_strdup(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {	/* C1 control in UTF-8 */
			d[i] = d[i + 1] = '?';
			i++;
		} else if ((c < 0x20 && c != '\0') || c == 0x7f) {
			d[i] = '?';
		} else {
			d[i] = (char)c;
		}
	}
	return d;
}

/* Characters, not bytes: UTF-8 continuation bytes take no column. */
static size_t
text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

struct table *
table_new(const char *const *headers, size_t ncols)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t == NULL || ncols == 0 ||
	    (t->width = calloc(ncols, sizeof(*t->width))) == NULL) {
		free(t);
		return NULL;
	}
	t->ncols = ncols;
	if (table_add_row(t, headers, NULL) == -1) {
		table_free(t);
		return NULL;
	}
	return t;
}

static int
table_grow(struct table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 16;
	char **cells;
	const char **styles;

	if ((cells = realloc(t->cells, ncap * t->ncols * sizeof(*cells))) == NULL)
		return -1;
	t->cells = cells;
	if ((styles = realloc(t->styles, ncap * t->ncols * sizeof(*styles))) == NULL)
		return -1;
	t->styles = styles;
	t->cap = ncap;
	return 0;
}

int
table_add_row(struct table *t, const char *const *cells, const char *const *styles)
{
	size_t base;

	if (t->nrows == t->cap && table_grow(t) == -1)
		return -1;
	base = t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		char *c = clean_strdup(cells[i] != NULL ? cells[i] : "");
		if (c == NULL) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return -1;
		}
		t->cells[base + i] = c;
		t->styles[base + i] = styles != NULL ? styles[i] : NULL;
		if (text_width(c) > t->width[i])
			t->width[i] = text_width(c);
	}
	t->nrows++;
	return 0;
}

static void
table_print_row(const struct table *t, size_t row, FILE *f, bool colour)
{
	char *const *cells = t->cells + row * t->ncols;
	const char *const *styles = t->styles + row * t->ncols;
	size_t last = t->ncols;

	/* empty trailing cells print nothing, so no line ends in blanks */
	while (last > 1 && cells[last - 1][0] == '\0')
		last--;
	for (size_t i = 0; i < last; i++) {
		if (colour && styles[i] != NULL)
			fprintf(f, "%s%s%s", styles[i], cells[i], SGR_RESET);
		else
			fputs(cells[i], f);
		if (i + 1 < last)
			fprintf(f, "%*s", (int)(t->width[i] - text_width(cells[i]) + 2), "");
	}
	fputc('\n', f);
}

void
table_print(const struct table *t, FILE *f, bool colour)
{
	for (size_t r = 0; r < t->nrows; r++)
		table_print_row(t, r, f, colour);
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->styles);
	free(t->width);
	free(t);
}

bool
output_use_colour(bool is_tty, const char *no_color)
{
	/* no-color.org: an empty NO_COLOR does not count */
	return is_tty && (no_color == NULL || no_color[0] == '\0');
}

const char *
output_state_style(const char *state)
{
	static const struct {
		const char *state;
		const char *sgr;
	} styles[] = {
		{ "running", "\033[32m" },	/* green: all is well */
		{ "starting", "\033[33m" },	/* yellow: on its way somewhere */
		{ "stopping", "\033[33m" },
		{ "backoff", "\033[33m" },
		{ "fatal", "\033[31m" },	/* red: vigild gave up */
		{ "exited", "\033[2m" },	/* dim: nothing to do */
		{ "stopped", "\033[2m" },
	};

	for (size_t i = 0; state != NULL && i < sizeof(styles) / sizeof(styles[0]); i++)
		if (strcmp(state, styles[i].state) == 0)
			return styles[i].sgr;
	return NULL;
}

void
output_last_exit(const json_t *e, char *buf, size_t len)
{
	const char *spawn, *sig;
	const json_t *code;

	if (!json_is_object(e)) {
		snprintf(buf, len, "-");
		return;
	}
	/* a spawn error is about the latest attempt, so it wins over an older exit */
	if ((spawn = json_string_value(json_object_get(e, PROTO_K_SPAWN_ERROR))) != NULL) {
		snprintf(buf, len, "%s", strncmp(spawn, "exec failed", 11) == 0 ?
		    "exec failed" : "spawn failed");
	} else if ((sig = json_string_value(json_object_get(e, PROTO_K_SIGNAL))) != NULL) {
		snprintf(buf, len, "%s%s", sig,
		    json_is_true(json_object_get(e, PROTO_K_CORE_DUMPED)) ? " (core)" : "");
	} else if (json_is_integer(code = json_object_get(e, PROTO_K_CODE))) {
		snprintf(buf, len, "exit %lld", (long long)json_integer_value(code));
	} else {
		snprintf(buf, len, "-");
	}
}

void
output_seconds(double secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;	/* a timer that is due as we speak */
	if (secs < 1)
		snprintf(buf, len, "%dms", (int)(secs * 1000 + 0.5));
	else if (secs < 10)
		snprintf(buf, len, "%.1fs", secs);
	else
		duration_format((int64_t)(secs * 1000), buf, len);
}

/*
 * vigild writes the delay it chose into a back-off reason ("...; failed
 * start 2, retry in 200ms"); that text goes stale at once, and
 * next_start_in is the live value, so the stale tail is dropped.
 */
static void
backoff_info(const char *reason, const json_t *next, char *buf, size_t len)
{
	const char *tail = strstr(reason, ", retry in ");
	char when[32];
	int keep = (int)strlen(reason);

	while (tail != NULL && strstr(tail + 1, ", retry in ") != NULL)
		tail = strstr(tail + 1, ", retry in ");
	if (tail != NULL && strpbrk(tail + 1, ",;") == NULL)
		keep = (int)(tail - reason);
	if (!json_is_number(next)) {
		snprintf(buf, len, "%.*s", keep, reason);
		return;
	}
	output_seconds(json_number_value(next), when, sizeof(when));
	snprintf(buf, len, "%.*s%sretry in %s", keep, reason, keep > 0 ? "; " : "", when);
}

void
output_info(const json_t *svc, char *buf, size_t len)
{
	const char *state = json_string_value(json_object_get(svc, PROTO_K_STATE));
	const char *reason = json_string_value(json_object_get(svc, PROTO_K_REASON));
	const char *status = json_string_value(json_object_get(svc, PROTO_K_STATUS_TEXT));

	if (reason == NULL)
		reason = "";
	buf[0] = '\0';
	if (state == NULL)
		return;
	if (strcmp(state, "backoff") == 0)
		backoff_info(reason, json_object_get(svc, PROTO_K_NEXT_START_IN), buf, len);
	else if (strcmp(state, "fatal") == 0 || strcmp(state, "exited") == 0)
		snprintf(buf, len, "%s", reason);
	else if (status != NULL && status[0] != '\0')
		snprintf(buf, len, "%s", status);	/* its own word first, ready or not */
	else if (strcmp(state, "running") == 0 && json_is_false(json_object_get(svc, PROTO_K_READY)))
		snprintf(buf, len, "%s", reason);	/* "not ready: waiting for READY=1" */
}

/* running but not ready looks like starting: on its way, not there */
static const char *
row_style(const json_t *svc, const char *state)
{
	if (strcmp(state, "running") == 0 && json_is_false(json_object_get(svc, PROTO_K_READY)))
		return output_state_style("starting");
	return output_state_style(state);
}

/* CPU seconds as people read them: "40ms", "1.25s", "3m04s" */
static void
cpu_format(double sec, char *buf, size_t len)
{
	if (sec < 1)
		snprintf(buf, len, "%dms", (int)(sec * 1000));
	else if (sec < 60)
		snprintf(buf, len, "%.2fs", sec);
	else
		duration_format((int64_t)(sec * 1000), buf, len);
}

/* One service as table cells; the text lives in the caller's buffers. */
static void
status_row(const json_t *svc, char cells[][512])
{
	const json_t *pid = json_object_get(svc, PROTO_K_PID);
	const json_t *procs = json_object_get(svc, PROTO_K_PROCESSES);
	const json_t *cpu = json_object_get(svc, PROTO_K_CPU);
	const json_t *up = json_object_get(svc, PROTO_K_UPTIME);
	const json_t *restarts = json_object_get(svc, PROTO_K_RESTARTS);
	const char *s;

	s = json_string_value(json_object_get(svc, PROTO_K_NAME));
	snprintf(cells[0], 512, "%s", s ? s : "?");
	s = json_string_value(json_object_get(svc, PROTO_K_STATE));
	snprintf(cells[1], 512, "%s", s ? s : "?");
	if (json_is_integer(pid))
		snprintf(cells[2], 512, "%lld", (long long)json_integer_value(pid));
	else
		snprintf(cells[2], 512, "-");
	/* from the service's cgroup: "-" where vigild has none */
	if (json_is_integer(procs))
		snprintf(cells[3], 512, "%lld", (long long)json_integer_value(procs));
	else
		snprintf(cells[3], 512, "-");
	if (json_is_number(cpu))
		cpu_format(json_number_value(cpu), cells[4], 512);
	else
		snprintf(cells[4], 512, "-");
	if (json_is_number(up))
		duration_format((int64_t)(json_number_value(up) * 1000), cells[5], 512);
	else
		snprintf(cells[5], 512, "-");
	if (json_is_integer(restarts))
		snprintf(cells[6], 512, "%lld", (long long)json_integer_value(restarts));
	else
		snprintf(cells[6], 512, "-");
	output_last_exit(json_object_get(svc, PROTO_K_LAST_EXIT), cells[7], 512);
	output_info(svc, cells[8], 512);
}

int
output_status_table(const json_t *services, FILE *f, bool colour)
{
	static const char *const headers[] = {
		"NAME", "STATE", "PID", "PROCS", "CPU", "UPTIME", "RESTARTS", "LAST-EXIT",
		"INFO",
	};
	enum { NCOLS = sizeof(headers) / sizeof(headers[0]) };
	char cells[NCOLS][512];
	const char *row[NCOLS], *styles[NCOLS] = { NULL };
	struct table *t;
	const json_t *svc;
	size_t i;

	if ((t = table_new(headers, NCOLS)) == NULL)
		return -1;
	for (i = 0; i < NCOLS; i++)
		row[i] = cells[i];
	json_array_foreach(services, i, svc) {
		if (!json_is_object(svc))
			continue;
		status_row(svc, cells);
		styles[1] = row_style(svc, cells[1]);
		if (table_add_row(t, row, styles) == -1) {
			table_free(t);
			return -1;
		}
	}
	table_print(t, f, colour);
	table_free(t);
	return 0;
}

/* fputs, with control characters shown as '?' like in the table */
static void
put_clean(const char *s, FILE *f)
{
	char *c = clean_strdup(s);

	fputs(c != NULL ? c : s, f);
	free(c);
}

void
output_service_line(const json_t *svc, FILE *f)
{
	const char *name = json_string_value(json_object_get(svc, PROTO_K_NAME));
	const char *state = json_string_value(json_object_get(svc, PROTO_K_STATE));
	const json_t *pid = json_object_get(svc, PROTO_K_PID);
	char info[512];

	put_clean(name ? name : "?", f);
	fputs(": ", f);
	put_clean(state ? state : "?", f);
	output_info(svc, info, sizeof(info));
	if (json_is_integer(pid)) {
		fprintf(f, " (pid %lld)", (long long)json_integer_value(pid));
	} else if (info[0] != '\0') {
		fputs(" (", f);
		put_clean(info, f);
		fputc(')', f);
	}
	fputc('\n', f);
}

const char *
output_service_colour(const char *name)
{
	/* no red: it would read as an error; FNV-1a spreads similar names apart */
	static const char *const palette[] = {
		"\033[36m", "\033[32m", "\033[35m", "\033[34m", "\033[33m",
		"\033[96m", "\033[92m", "\033[95m", "\033[94m", "\033[93m",
	};
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return palette[h % (sizeof(palette) / sizeof(palette[0]))];
}

/* A line's text, with control characters (but tabs) as '?', as in the table */
static void
put_log_text(const char *s, size_t len, FILE *f)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {	/* C1 control in UTF-8 */
			fputc('?', f);
			i++;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fputc('?', f);
		} else {
			fputc(c, f);
		}
	}
}

/* "web  " padded to width, coloured on request; blanks when name is NULL */
static void
put_log_name(const char *name, int width, bool colour, FILE *f)
{
	int w = name != NULL ? (int)text_width(name) : 0;

	if (name != NULL && colour)
		fprintf(f, "%s", output_service_colour(name));
	if (name != NULL)
		put_log_text(name, strlen(name), f);
	if (name != NULL && colour)
		fputs(SGR_RESET, f);
	fprintf(f, "%*s", w < width ? width - w : 0, "");
}

/*
 * The time column of the short formats, in local time; blanks when t is
 * not a time (a marker, or a number no clock reads: up to year 5138).
 */
static void
put_log_time(const json_t *t, enum ctl_log_format format, FILE *f)
{
	bool iso = format == CTL_LOG_SHORT_ISO;
	double secs = json_number_value(t);
	char buf[40], zone[8];
	time_t whole;
	struct tm tm;
	int ms;

	if (!json_is_number(t) || !(secs >= 0 && secs < 1e11)) {
		fprintf(f, "%*s", iso ? CTL_LOG_ISO_TIME_WIDTH : CTL_LOG_SHORT_TIME_WIDTH, "");
		return;
	}
	whole = (time_t)secs;
	ms = (int)((secs - (double)whole) * 1000);
	if (localtime_r(&whole, &tm) == NULL ||
	    strftime(buf, sizeof(buf), iso ? "%Y-%m-%dT%H:%M:%S" : "%b %d %H:%M:%S", &tm) == 0 ||
	    strftime(zone, sizeof(zone), "%z", &tm) != 5) {
		fprintf(f, "%*s", iso ? CTL_LOG_ISO_TIME_WIDTH : CTL_LOG_SHORT_TIME_WIDTH, "");
		return;
	}
	if (iso)	/* RFC 3339 wants the offset as +01:00, strftime gives +0100 */
		fprintf(f, "%s.%03d%.3s:%s", buf, ms, zone, zone + 3);
	else		/* journalctl's short, with milliseconds */
		fprintf(f, "%s.%03d", buf, ms);
}

/* What comes before the separator: the time, then the name unless it is off. */
static void
put_log_head(const json_t *obj, const char *name, const struct line_style *st, FILE *f)
{
	put_log_time(json_object_get(obj, PROTO_K_TIME), st->format, f);
	if (st->prefix) {
		fputc(' ', f);
		put_log_name(name, st->width, st->colour, f);
	}
}

/*
 * -o raw: the text, byte for byte, for a script; on a terminal control
 * characters still show as '?'. Markers go to stderr, so that stdout
 * holds only what the services wrote.
 */
static void
log_line_raw(const json_t *obj, const struct line_style *st, FILE *f)
{
	const char *name = json_string_value(json_object_get(obj, PROTO_K_SERVICE));
	const json_t *text = json_object_get(obj, PROTO_K_TEXT);
	const json_t *skipped = json_object_get(obj, PROTO_K_SKIPPED);

	if (json_is_integer(skipped) || json_is_true(json_object_get(obj, PROTO_K_REMOVED))) {
		fflush(f);
		fprintf(stderr, "vigilctl: ");
		if (name != NULL) {
			put_log_text(name, strlen(name), stderr);
			fputs(": ", stderr);
		}
		if (json_is_integer(skipped))
			fprintf(stderr, "%lld lines skipped\n",
			    (long long)json_integer_value(skipped));
		else
			fprintf(stderr, "removed from the configuration\n");
		return;
	}
	if (!json_is_string(text))
		return;
	if (st->tty)
		put_log_text(json_string_value(text), json_string_length(text), f);
	else
		fwrite(json_string_value(text), 1, json_string_length(text), f);
	fputc('\n', f);
}

void
output_log_line(const json_t *obj, const struct line_style *st, FILE *f)
{
	const char *name = json_string_value(json_object_get(obj, PROTO_K_SERVICE));
	const json_t *text = json_object_get(obj, PROTO_K_TEXT);
	const json_t *skipped = json_object_get(obj, PROTO_K_SKIPPED);
	const char *stream, *dim = st->colour ? "\033[2m" : "", *off = st->colour ? SGR_RESET : "";

	if (st->format == CTL_LOG_RAW) {
		log_line_raw(obj, st, f);
		return;
	}
	if (json_is_integer(skipped)) {
		put_log_head(obj, name, st, f);
		fprintf(f, " | %s[... %lld lines skipped ...]%s\n", dim,
		    (long long)json_integer_value(skipped), off);
		return;
	}
	if (json_is_true(json_object_get(obj, PROTO_K_REMOVED))) {
		put_log_head(obj, name, st, f);
		fprintf(f, " | %s[... removed from the configuration ...]%s\n", dim, off);
		return;
	}
	if (!json_is_string(text))
		return;
	stream = json_string_value(json_object_get(obj, PROTO_K_STREAM));
	put_log_head(obj, name != NULL ? name : "?", st, f);
	fputc(' ', f);
	fputc(stream != NULL && strcmp(stream, "err") == 0 ? '!' : '|', f);
	if (json_is_true(json_object_get(obj, PROTO_K_CONTINUED)))
		fputc('+', f);
	else if (json_string_length(text) > 0)
		fputc(' ', f);	/* an empty line ends at its separator */
	put_log_text(json_string_value(text), json_string_length(text), f);
	fputc('\n', f);
}

/* "12:00:01.123", local time, or blanks when t is not a time */
static void
put_event_time(const json_t *t, FILE *f)
{
	double secs = json_number_value(t);
	time_t whole = (time_t)secs;
	struct tm tm;
	char buf[16];

	if (!json_is_number(t) || localtime_r(&whole, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%H:%M:%S", &tm) == 0) {
		fprintf(f, "%12s", "");
		return;
	}
	fprintf(f, "%s.%03d", buf, (int)((secs - (double)whole) * 1000) % 1000);
}

/* A state, coloured like in the status table */
static void
put_state(const char *state, bool colour, FILE *f)
{
	const char *sgr = colour ? output_state_style(state) : NULL;

	if (sgr != NULL)
		fputs(sgr, f);
	put_clean(state, f);
	if (sgr != NULL)
		fputs(SGR_RESET, f);
}

void
output_event_line(const json_t *obj, int width, bool colour, FILE *f)
{
	const char *name = json_string_value(json_object_get(obj, PROTO_K_SERVICE));
	const char *from = json_string_value(json_object_get(obj, PROTO_K_FROM));
	const char *to = json_string_value(json_object_get(obj, PROTO_K_TO));
	const char *reason = json_string_value(json_object_get(obj, PROTO_K_REASON));
	const json_t *skipped = json_object_get(obj, PROTO_K_SKIPPED);
	const json_t *pid = json_object_get(obj, PROTO_K_PID);

	if (json_is_integer(skipped)) {
		fprintf(f, "%s[... %lld events skipped; the state of each service follows ...]%s\n",
		    colour ? "\033[2m" : "", (long long)json_integer_value(skipped),
		    colour ? SGR_RESET : "");
		return;
	}
	if (name == NULL || to == NULL)
		return;
	put_event_time(json_object_get(obj, PROTO_K_TIME), f);
	fputc(' ', f);
	put_log_name(name, width, colour, f);
	fputs("  ", f);
	if (from != NULL) {
		put_state(from, colour, f);
		fputs(" -> ", f);
	}
	put_state(to, colour, f);
	if (strcmp(to, "running") == 0 && json_is_false(json_object_get(obj, PROTO_K_READY)))
		fputs(" (not ready)", f);
	if (json_is_integer(pid))
		fprintf(f, ", pid %lld", (long long)json_integer_value(pid));
	if (reason != NULL && reason[0] != '\0') {
		fputs(" (", f);
		put_clean(reason, f);
		fputc(')', f);
	}
	fputc('\n', f);
}

/* "web (command, environment changed)", or just "web" */
static void
put_reload_name(const char *name, const json_t *keys, FILE *f)
{
	const json_t *k;
	size_t i;

	fputs(name, f);
	json_array_foreach(keys, i, k)
		fprintf(f, "%s%s", i == 0 ? " (" : ", ",
		    json_is_string(k) ? json_string_value(k) : "?");
	if (json_array_size(keys) > 0)
		fputs(" changed)", f);
}

void
output_reload_plan(const json_t *reply, FILE *f)
{
	static const char *const groups[] = { "added", "removed", "restarted",
	    "updated", "unchanged" };
	const json_t *changes = json_object_get(reply, PROTO_K_CHANGES), *v;
	size_t i;

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		const json_t *names = json_object_get(reply, groups[g]);

		if (json_array_size(names) == 0)
			continue;
		fprintf(f, "%s: ", groups[g]);
		json_array_foreach(names, i, v) {
			const char *name = json_is_string(v) ? json_string_value(v) : "?";

			if (i > 0)
				fputs(", ", f);
			put_reload_name(name, json_object_get(changes, name), f);
		}
		fputc('\n', f);
	}
}
