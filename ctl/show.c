/*
 * show.c: a `show` reply as text that is itself a config: a
 * [service:NAME] header, then `key = value ; where it came from` for every
 * key, aligned. inih takes " ;" as the start of a comment, so the whole
 * text can be pasted back; keys without a value are commented out (an
 * empty value is not what they accept), and a value too long for inih's
 * lines is continued on indented lines, broken where one blank was.
 */
#include "config.h"
#include "vigilctl.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "utf8.h"

#define SHOW_ALIGN_MAX	56	/* "key = value" wider than this is not padded */
#define SHOW_LINE_MAX	150	/* below inih's 199 with room for the comment */

static const char *
str_of(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "";
}

/* "FILE:LINE", "[vigil] FILE:LINE" or "built-in default", escaped for a terminal */
static void
source_text(const json_t *src, char *buf, size_t len)
{
	const char *kind = str_of(src, PROTO_K_KIND), *file = str_of(src, PROTO_K_FILE);
	char esc[UTF8_ESCAPED_MAX(512)];
	json_int_t line = json_integer_value(json_object_get(src, PROTO_K_LINE));

	if (strcmp(kind, PROTO_SOURCE_DEFAULT) == 0) {
		snprintf(buf, len, "built-in default");
		return;
	}
	utf8_escape(file, strnlen(file, 512), esc, sizeof(esc));
	snprintf(buf, len, "%s%s:%lld", strcmp(kind, PROTO_SOURCE_VIGIL) == 0 ?
	    "[vigil] " : "", esc, (long long)line);
}

/*
 * The value from where it starts, broken before a word at a single blank
 * once a line would pass SHOW_LINE_MAX: inih joins the continued lines
 * with one blank, so the value reads back the same.
 */
static size_t
print_value(FILE *f, const char *v, size_t col)
{
	size_t start = 0, len = strlen(v), last = 0;

	for (size_t i = 0; i < len; i++) {
		bool single = v[i] == ' ' && i > 0 && v[i - 1] != ' ' && i + 1 < len &&
		    v[i + 1] != ' ' && v[i + 1] != ';' && v[i + 1] != '#';

		if (single)
			last = i;
		if (col + (i - start) >= SHOW_LINE_MAX && last > start) {
			fprintf(f, "%.*s\n    ", (int)(last - start), v + start);
			start = last + 1;
			col = 4;
			last = start;
		}
	}
	fputs(v + start, f);
	return col + (len - start);	/* the column where the last line ends */
}

static void
print_row(FILE *f, const json_t *row, int width)
{
	const char *key = str_of(row, PROTO_K_KEY), *value = str_of(row, PROTO_K_VALUE);
	char src[UTF8_ESCAPED_MAX(512) + 32], *esc;
	size_t n = strlen(value);
	int col;

	source_text(json_object_get(row, PROTO_K_SOURCE), src, sizeof(src));
	if ((esc = malloc(UTF8_ESCAPED_MAX(n))) == NULL) {
		fprintf(f, "; %s: out of memory\n", key);
		return;
	}
	utf8_escape(value, n, esc, UTF8_ESCAPED_MAX(n));
	/* empty: unset, and not a value the key accepts, so not one to paste back */
	col = fprintf(f, "%s%s = ", *esc == '\0' ? "; " : "", key);
	col = (int)print_value(f, esc, (size_t)col);
	fprintf(f, "%*s ; %s%s\n", col < width ? width - col : 0, "", src,
	    json_is_true(json_object_get(row, PROTO_K_HIDDEN)) ?
	    " (values hidden: they need admin access)" : "");
	free(esc);
}

/* environment_file's variables as read at the service's last start, as comments */
static void
print_loaded(FILE *f, const json_t *row)
{
	const json_t *loaded = json_object_get(row, PROTO_K_LOADED), *v;
	char esc[UTF8_ESCAPED_MAX(256)];
	size_t i;

	if (!json_is_array(loaded))
		return;
	fprintf(f, ";   read from environment_file at the last start:%s\n",
	    json_array_size(loaded) == 0 ? " nothing" : "");
	json_array_foreach(loaded, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL)
			continue;
		utf8_escape(s, strnlen(s, 256), esc, sizeof(esc));
		fprintf(f, ";     %s%s\n", esc, strlen(s) > 256 ? "..." : "");
	}
}

static int
row_width(const json_t *rows)
{
	const json_t *row;
	int width = 0, w;
	size_t i;

	json_array_foreach(rows, i, row) {
		w = (int)(strlen(str_of(row, PROTO_K_KEY)) + 3 + strlen(str_of(row, PROTO_K_VALUE)));
		if (*str_of(row, PROTO_K_VALUE) == '\0')
			w += 2;
		if (w <= SHOW_ALIGN_MAX && w > width)
			width = w;
	}
	return width;
}

void
output_show(const json_t *services, FILE *f)
{
	const json_t *svc, *rows, *row;
	char name[UTF8_ESCAPED_MAX(64)];
	size_t i, j;
	int width;

	json_array_foreach(services, i, svc) {
		const char *s = str_of(svc, PROTO_K_NAME);

		utf8_escape(s, strnlen(s, 64), name, sizeof(name));
		fprintf(f, "%s[service:%s]\n", i > 0 ? "\n" : "", name);
		rows = json_object_get(svc, PROTO_K_KEYS);
		width = row_width(rows);
		json_array_foreach(rows, j, row) {
			print_row(f, row, width);
			print_loaded(f, row);
		}
	}
}
