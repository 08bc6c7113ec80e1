/* test_utf8.c: making any bytes valid UTF-8 for JSON, one U+FFFD per bad subsequence. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define R UTF8_REPLACEMENT

static void
expect_clean(const char *in, size_t len, const char *want, size_t wlen)
{
	char *out = malloc(3 * len + 1);
	size_t n;
	json_t *j;

	cr_assert_not_null(out);
	n = utf8_sanitize(in, len, out);
	cr_expect_leq(n, 3 * len);
	cr_expect(n == wlen && memcmp(out, want, n) == 0,
	    "input of %zu bytes gave <%.*s>, want <%.*s>", len, (int)n, out, (int)wlen, want);
	cr_expect_eq(utf8_valid_prefix(out, n), n, "the result is not valid UTF-8");
	j = json_stringn(out, n);
	cr_expect_not_null(j, "jansson refuses the result");
	json_decref(j);
	free(out);
}

#define CLEAN(lit, want) expect_clean(lit, sizeof(lit) - 1, want, sizeof(want) - 1)

Test(utf8, valid_text_is_unchanged)
{
	CLEAN("", "");
	CLEAN("plain ascii", "plain ascii");
	CLEAN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CLEAN("\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf", "\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf");
	cr_expect_eq(utf8_valid_prefix("ab\xc3\xa9", 4), 4);
}

Test(utf8, control_characters_and_nul_are_valid)
{
	/* they are valid UTF-8; JSON escapes them, vigilctl shows them as '?' */
	CLEAN("a\0b\x1b[0m", "a\0b\x1b[0m");
	cr_expect_eq(utf8_valid_prefix("a\0b", 3), 3);
}

Test(utf8, stray_and_impossible_bytes)
{
	CLEAN("\x80", R);
	CLEAN("a\xbf" "b", "a" R "b");
	CLEAN("\xff\xfe", R R);
	CLEAN("\xc0\xaf", R R);		/* overlong '/': C0 is never a lead byte */
	CLEAN("\xc1\xbf", R R);
	CLEAN("\xf5\x80\x80\x80", R R R R);	/* above U+10FFFF */
}

Test(utf8, truncated_sequences_are_one_replacement)
{
	CLEAN("\xe2\x82", R);			/* a cut euro sign */
	CLEAN("\xe2\x82" "x", R "x");
	CLEAN("\xf0\x9f\x98", R);
	CLEAN("\xf0\x9f\x98" "\xf0\x9f\x98\x80", R "\xf0\x9f\x98\x80");
	CLEAN("ok\xc3", "ok" R);
	cr_expect_eq(utf8_valid_prefix("ok\xc3", 3), 2);
}

Test(utf8, overlongs_surrogates_and_out_of_range)
{
	CLEAN("\xe0\x80\xaf", R R R);		/* overlong: E0 needs A0..BF next */
	CLEAN("\xed\xa0\x80", R R R);		/* U+D800, a surrogate */
	CLEAN("\xf0\x80\x80\xaf", R R R R);	/* overlong four-byte form */
	CLEAN("\xf4\x90\x80\x80", R R R R);	/* U+110000 */
	CLEAN("\xe0\xa0", R);			/* a valid start, cut */
}

Test(utf8, worst_case_fits_three_times)
{
	char in[256], out[3 * 256];

	for (int i = 0; i < 256; i++)
		in[i] = (char)(0x80 + (i % 64));	/* continuation bytes only */
	cr_expect_eq(utf8_sanitize(in, sizeof(in), out), 3 * sizeof(in));
}

Test(utf8, truncate_never_cuts_a_character)
{
	const char *s = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";	/* a b é € 😀 */

	cr_expect_eq(utf8_truncate(s, 11, 20), 11, "short enough: whole");
	cr_expect_eq(utf8_truncate(s, 11, 4), 4, "after é");
	cr_expect_eq(utf8_truncate(s, 11, 3), 2, "not inside é");
	cr_expect_eq(utf8_truncate(s, 11, 6), 4, "not inside €");
	cr_expect_eq(utf8_truncate(s, 11, 10), 7, "not inside 😀");
	cr_expect_eq(utf8_truncate("\x80\x80\x80\x80\x80\x80", 6, 5), 2,
	    "bytes that are not UTF-8: at most 3 backed over");
}

static const char *
escaped(const char *s, size_t len, size_t outlen)
{
	static char out[256];

	utf8_escape(s, len, out, outlen);
	return out;
}

Test(utf8, escape_turns_controls_into_text)
{
	/* a forged log line: newline, a fake timestamp, an ANSI colour, CR */
	cr_expect_str_eq(escaped("a\nb\rc\td\x1b[31m\x7f", 13, 256),
	    "a\\nb\\rc\\td\\x1b[31m\\x7f");
	cr_expect_str_eq(escaped("nul\0x", 5, 256), "nul\\x00x");
	/* C1 controls (CSI as U+009B) and bytes that are not UTF-8 */
	cr_expect_str_eq(escaped("\xc2\x9b" "2J", 4, 256), "\\xc2\\x9b2J");
	cr_expect_str_eq(escaped("\xff\xe2\x82", 3, 256), "\\xff\\xe2\\x82");
	/* printable UTF-8, U+00A0 included, is kept as it is */
	cr_expect_str_eq(escaped("caf\xc3\xa9 \xc2\xa0\xe2\x82\xac", 11, 256),
	    "caf\xc3\xa9 \xc2\xa0\xe2\x82\xac");
}

Test(utf8, escape_never_cuts_an_escape_or_a_character)
{
	char out[8];

	cr_expect_eq(utf8_escape("ab\ncd", 5, out, 5), 4);
	cr_expect_str_eq(out, "ab\\n", "the room for the NUL is kept");
	cr_expect_eq(utf8_escape("ab\x01", 3, out, 6), 2);
	cr_expect_str_eq(out, "ab", "\\x01 does not fit whole: left out");
	cr_expect_eq(utf8_escape("a\xe2\x82\xac", 4, out, 4), 1);
	cr_expect_str_eq(out, "a", "the euro sign does not fit whole");
	cr_expect_eq(utf8_escape("x", 1, out, 0), 0);
}

Test(utf8, escape_worst_case_fits_the_bound)
{
	char in[64], out[UTF8_ESCAPED_MAX(64)];

	memset(in, 0x01, sizeof(in));
	cr_expect_eq(utf8_escape(in, sizeof(in), out, sizeof(out)), 4 * sizeof(in));
}
