/*
 * test_envfile.c: the parser of environment_file files (envfile.c), fed
 * buffers: systemd's syntax, and the line named when a file is refused;
 * and envfile_load on real files, for -PATH and the messages.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/envfile.h"
#include "words.h"

static char **words;
static size_t nwords;
static struct envfile_error err;

static void
reset(void)
{
	words_free(words);
	words = NULL;
	nwords = 0;
	memset(&err, 0, sizeof(err));
}

TestSuite(envfile, .fini = reset);

static int
parse(const char *text)
{
	reset();
	return envfile_parse(text, strlen(text), &words, &nwords, &err);
}

/* words must be exactly want (NULL-terminated) */
static void
expect_words(const char *const *want)
{
	size_t i = 0;

	for (; want[i] != NULL; i++) {
		cr_assert(i < nwords, "missing %s", want[i]);
		cr_expect_str_eq(words[i], want[i]);
	}
	cr_expect_eq(nwords, i, "%zu words, expected %zu", nwords, i);
	cr_expect(words == NULL || words[nwords] == NULL);
}

#define OK(text, ...) do {						\
	cr_assert_eq(parse(text), 0, "refused: line %d: %s", err.line, err.msg); \
	expect_words((const char *const[]){ __VA_ARGS__, NULL });	\
} while (0)

Test(envfile, plain_lines_comments_and_blanks)
{
	OK("A=1\n\n# a comment\n  ; another\nB=two words\n\t\nC=\n", "A=1", "B=two words", "C=");
}

Test(envfile, blanks_around_key_and_value_are_dropped)
{
	OK("  KEY  =   value with inner  blanks  \t\n", "KEY=value with inner  blanks");
}

Test(envfile, no_newline_at_the_end)
{
	OK("A=1\nB=2", "A=1", "B=2");
	OK("A=", "A=");
}

Test(envfile, crlf_lines)
{
	OK("A=1\r\nB=2\r\n", "A=1", "B=2");
}

Test(envfile, single_quotes_keep_everything)
{
	OK("A='  $x \\n \"q\" '\n", "A=  $x \\n \"q\" ");
	OK("A='two\nlines'\nB=3\n", "A=two\nlines", "B=3");
}

Test(envfile, double_quotes_take_systemd_escapes)
{
	OK("A=\"q\\\" b\\\\ t\\` d\\$ other\\n\"\n", "A=q\" b\\ t` d$ other\\n");
	OK("A=\"joined \\\nline\"\n", "A=joined line");
}

Test(envfile, unquoted_backslashes)
{
	OK("A=a\\ b\\#c\n", "A=a b#c");
	OK("A=first \\\nsecond\nB=1\n", "A=first second", "B=1");
	/* a blank kept by a backslash is not trailing */
	OK("A=x\\ \n", "A=x ");
}

Test(envfile, quoted_and_unquoted_parts_join)
{
	OK("A=\"a\"'b'c\n", "A=abc");
	OK("A=\"a b\"  \n", "A=a b");
}

Test(envfile, hash_after_a_value_is_part_of_it)
{
	OK("A=1 # not a comment\n", "A=1 # not a comment");
}

Test(envfile, export_is_allowed)
{
	OK("export A=1\nexport\tB=\"2\"\n", "A=1", "B=2");
}

Test(envfile, a_key_set_twice_is_kept_twice_for_the_composer)
{
	OK("A=1\nA=2\n", "A=1", "A=2");
}

Test(envfile, appends_to_what_words_hold)
{
	reset();
	cr_assert_eq(envfile_parse("A=1\n", 4, &words, &nwords, &err), 0);
	cr_assert_eq(envfile_parse("B=2\n", 4, &words, &nwords, &err), 0);
	expect_words((const char *const[]){ "A=1", "B=2", NULL });
}

#define BAD(text, want_line, want_msg) do {				\
	cr_assert_eq(parse(text), -1, "accepted %s", text);		\
	cr_expect_eq(err.line, want_line, "line %d", err.line);		\
	cr_expect(strstr(err.msg, want_msg) != NULL, "message: %s", err.msg); \
} while (0)

Test(envfile, a_line_without_equals_names_its_line)
{
	BAD("A=1\n\nJUSTAWORD\nB=2\n", 3, "expected KEY=VALUE, found 'JUSTAWORD'");
	BAD("A=1\nlast", 2, "expected KEY=VALUE");
}

Test(envfile, a_bad_key_names_its_line)
{
	BAD("# c\nA B=1\n", 2, "expected a KEY of A-Z a-z 0-9 _");
	BAD("1A=1\n", 1, "found '1A'");
	BAD("=1\n", 1, "expected a KEY");
	BAD("A-B=1\n", 1, "found 'A-B'");
}

Test(envfile, an_open_quote_names_the_line_it_opens_on)
{
	BAD("A=1\nB=\"open\nmore\n", 2, "a quote that is never closed");
	BAD("A='x\n", 1, "never closed");
}

Test(envfile, a_nul_byte_is_refused)
{
	reset();
	cr_assert_eq(envfile_parse("A=1\nB=\0\n", 7, &words, &nwords, &err), -1);
	cr_expect_eq(err.line, 2);
	cr_expect_str_eq(err.msg, "a NUL byte");
}

/* Files: */

static char dir[] = "/tmp/test_envfile.XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
files_init(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
files_fini(void)
{
	char cmd[300];

	reset();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

Test(envfile_load, files_in_order_and_optional_ones, .init = files_init, .fini = files_fini)
{
	char p1[256], p2[256], p3[256], e[256] = "";
	char *paths[] = { p1, p2, p3, NULL };

	write_file("one", "A=1\nB=1\n");
	write_file("two", "B=2\n");
	snprintf(p1, sizeof(p1), "%s/one", dir);
	snprintf(p2, sizeof(p2), "-%s/missing", dir);
	snprintf(p3, sizeof(p3), "%s/two", dir);
	cr_assert_eq(envfile_load(paths, &words, e, sizeof(e)), 0, "%s", e);
	nwords = words_count(words);
	expect_words((const char *const[]){ "A=1", "B=1", "B=2", NULL });
}

Test(envfile_load, a_missing_file_or_bad_line_is_named, .init = files_init, .fini = files_fini)
{
	char p[256], want[400], e[400] = "";
	char *paths[] = { p, NULL };

	snprintf(p, sizeof(p), "%s/missing", dir);
	cr_assert_eq(envfile_load(paths, &words, e, sizeof(e)), -1);
	snprintf(want, sizeof(want), "environment_file %s: No such file or directory", p);
	cr_expect_str_eq(e, want);

	reset();
	write_file("bad", "A=1\n\nnope\n");
	snprintf(p, sizeof(p), "%s/bad", dir);
	cr_assert_eq(envfile_load(paths, &words, e, sizeof(e)), -1);
	snprintf(want, sizeof(want), "environment_file %s:3: expected KEY=VALUE, found 'nope'", p);
	cr_expect_str_eq(e, want);

	reset();
	snprintf(p, sizeof(p), "-%s", dir);	/* a folder, even optional, is an error */
	cr_assert_eq(envfile_load(paths, &words, e, sizeof(e)), -1);
	cr_expect(strstr(e, "Is a directory") != NULL, "%s", e);
}
