/*
 * logline.c: the LINE object of the protocol, one captured line of a
 * service as JSON: what a `log` reply is made of, and what a follower gets
 * for each new line. Bytes that are not UTF-8 become U+FFFD.
 */
#include "config.h"
#include "logline.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "utf8.h"

size_t
logline_format(const char *service, const struct log_line *l, char *buf, size_t cap,
    char **big)
{
	const char *text = l->text;
	size_t tlen = l->len, n;
	char *clean = NULL, *s;
	json_t *o;

	*big = NULL;
	if (utf8_valid_prefix(text, tlen) < tlen) {
		/* jansson takes only UTF-8: what is not becomes U+FFFD */
		if ((clean = malloc(tlen * 3)) == NULL)
			return 0;
		tlen = utf8_sanitize(text, tlen, clean);
		text = clean;
	}
	o = json_pack("{s:s, s:f, s:s, s:s%, s:b, s:b}", PROTO_K_SERVICE, service,
	    PROTO_K_TIME, (double)l->usec / 1e6, PROTO_K_STREAM, output_stream_name(l->stream),
	    PROTO_K_TEXT, text, tlen, PROTO_K_CONTINUED, (int)l->cont, PROTO_K_PARTIAL, (int)l->partial);
	free(clean);
	if (o == NULL)
		return 0;
	/* a line read from a raw file has no number: the field is left out */
	if (l->seq != 0 && json_object_set_new(o, PROTO_K_SEQ, json_integer((json_int_t)l->seq)) == -1) {
		json_decref(o);
		return 0;
	}
	n = json_dumpb(o, buf, cap > 0 ? cap - 1 : 0, PROTO_LINE_JSON_FLAGS);
	if (n > 0 && n < cap) {
		buf[n++] = '\n';
	} else if ((s = json_dumps(o, PROTO_LINE_JSON_FLAGS)) != NULL) {
		n = strlen(s);
		if ((*big = realloc(s, n + 1)) == NULL) {
			free(s);
			n = 0;
		} else {
			(*big)[n++] = '\n';
		}
	} else {
		n = 0;
	}
	json_decref(o);
	return n;
}
