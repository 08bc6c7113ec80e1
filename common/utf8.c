/*
 * utf8.c: UTF-8 validation and repair (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). Pure functions; callers pick the
 * buffers.
 */
#include "config.h"
#include "utf8.h"

#include <string.h>

/*
 * Length of the well-formed sequence at s, or 0 when it is ill-formed;
 * *bad then holds how many bytes form the maximal ill-formed subpart
 * (at least 1), all of which one U+FFFD replaces.
 */
static size_t
sequence(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else {
		*bad = 1;	/* a stray continuation byte, 0xc0, 0xc1 or 0xf5.. */
		return 0;
	}
	/* the second byte's range is what rules out overlongs, surrogates and > U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (i = 1; i < need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

size_t
utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, bad;

	while (i < len) {
		if (p[i] < 0x80) {	/* ASCII runs are the common case */
			i++;
			continue;
		}
		if ((n = sequence(p + i, len - i, &bad)) == 0)
			break;
		i += n;
	}
	return i;
}

size_t
utf8_sanitize(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, n, bad;

	while (i < len) {
		n = utf8_valid_prefix(s + i, len - i);
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
		if (i == len)
			break;
		(void)sequence(p + i, len - i, &bad);
		memcpy(out + o, UTF8_REPLACEMENT, 3);
		o += 3;
		i += bad;
	}
	return o;
}

size_t
utf8_truncate(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	/*
	 * s[max] is the first byte left out: back up while it continues a
	 * character, at most the 3 bytes a character can continue for, so
	 * that bytes which are not UTF-8 at all are cut anywhere
	 */
	for (int i = 0; i < 3 && max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80; i++)
		max--;
	return max;
}

/* One escape for byte c into out (room for 4), its length. */
static size_t
escape_byte(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	switch (c) {
	case '\n':
		out[1] = 'n';
		return 2;
	case '\r':
		out[1] = 'r';
		return 2;
	case '\t':
		out[1] = 't';
		return 2;
	default:
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 0xf];
		return 4;
	}
}

size_t
utf8_escape(const char *s, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, n, bad, k;
	char esc[4 * 4];

	if (outlen == 0)
		return 0;
	while (i < len) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			n = 1;
			memcpy(esc, s + i, 1);
			k = 1;
		} else if (p[i] < 0x80) {
			n = 1;
			k = escape_byte(p[i], esc);
		} else if ((n = sequence(p + i, len - i, &bad)) == 0) {
			n = 1;	/* each byte of what is not UTF-8 shows as itself */
			k = escape_byte(p[i], esc);
		} else if (n == 2 && p[i] == 0xc2 && p[i + 1] <= 0x9f) {
			k = escape_byte(p[i], esc);	/* a C1 control */
			k += escape_byte(p[i + 1], esc + k);
		} else {
			memcpy(esc, s + i, n);
			k = n;
		}
		if (o + k >= outlen)
			break;
		memcpy(out + o, esc, k);
		o += k;
		i += n;
	}
	out[o] = '\0';
	return o;
}
