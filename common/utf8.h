/*
 * utf8.h: making arbitrary bytes valid UTF-8, for JSON. A service may
 * write anything; jansson accepts only valid UTF-8, so what is not becomes
 * U+FFFD, one per maximal ill-formed subsequence (Unicode's recommended
 * practice, as in WHATWG's decoder).
 */
#ifndef VIGIL_UTF8_H
#define VIGIL_UTF8_H

#include <stddef.h>

#define UTF8_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

/* Bytes of s[0..len) that are valid UTF-8 from the start. */
size_t	utf8_valid_prefix(const char *s, size_t len);
/*
 * Copy s into out with every ill-formed subsequence replaced by U+FFFD;
 * out must hold 3 * len bytes (the worst case). Returns the bytes written.
 */
size_t	utf8_sanitize(const char *s, size_t len, char *out);
/*
 * The length of s[0..len) cut to at most max bytes, never inside a
 * character: for well-formed UTF-8, the longest such prefix.
 */
size_t	utf8_truncate(const char *s, size_t len, size_t max);
/*
 * Copy s[0..len) into out as text that cannot drive a terminal or forge a
 * line of a log: control characters (C0, DEL and the C1 range U+0080 to
 * U+009F) become \n, \r, \t or \xNN, and so does every byte of an
 * ill-formed sequence; the rest is copied. out holds outlen bytes and is
 * always NUL-terminated; an escape is never cut in half. Returns the
 * bytes written, without the NUL. UTF8_ESCAPED_MAX(len) is always enough.
 */
#define UTF8_ESCAPED_MAX(len)	(4 * (len) + 1)
size_t	utf8_escape(const char *s, size_t len, char *out, size_t outlen);

#endif
