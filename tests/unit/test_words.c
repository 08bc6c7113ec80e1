/* test_words.c: shell-like splitting of `command` and `environment`. */
#include <criterion/criterion.h>
#include <string.h>

#include "words.h"

static void
check_split(const char *in, const char *const *want)
{
	const char *err = NULL;
	size_t n = 0, i;
	char **w = words_split(in, &n, &err);

	cr_assert_not_null(w, "split of <%s> failed: %s", in, err);
	for (i = 0; want[i] != NULL; i++) {
		cr_assert_lt(i, n, "<%s>: got %zu words, want more", in, n);
		cr_expect_str_eq(w[i], want[i], "<%s>: word %zu is <%s>, want <%s>",
		    in, i, w[i], want[i]);
	}
	cr_expect_eq(n, i, "<%s>: got %zu words, want %zu", in, n, i);
	cr_expect_null(w[n], "vector must be NULL-terminated");
	words_free(w);
}

Test(words, plain_words_and_blanks)
{
	check_split("  /bin/echo  a\tb \n c ", (const char *[]){ "/bin/echo", "a", "b", "c", NULL });
}

Test(words, empty_input_gives_empty_vector)
{
	check_split("", (const char *[]){ NULL });
	check_split("   \t ", (const char *[]){ NULL });
}

Test(words, single_quotes_keep_everything)
{
	check_split("nginx -g 'daemon off;' '$HOME \\n'",
	    (const char *[]){ "nginx", "-g", "daemon off;", "$HOME \\n", NULL });
}

Test(words, double_quotes_and_their_escapes)
{
	check_split("echo \"a \\\"b\\\" \\$x \\n\"",
	    (const char *[]){ "echo", "a \"b\" $x \\n", NULL });
}

Test(words, backslash_outside_quotes)
{
	check_split("a\\ b c\\'d", (const char *[]){ "a b", "c'd", NULL });
}

Test(words, adjacent_quoted_parts_join)
{
	check_split("KEY='a b'\"c d\"e", (const char *[]){ "KEY=a bc de", NULL });
	check_split("''", (const char *[]){ "", NULL });
}

Test(words, bad_quoting_is_an_error_with_a_reason)
{
	const struct { const char *in, *err; } cases[] = {
		{ "echo 'abc", "unterminated single quote" },
		{ "echo \"abc", "unterminated double quote" },
		{ "echo abc\\", "backslash at end of line" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *err = NULL;
		char **w = words_split(cases[i].in, NULL, &err);
		cr_expect_null(w, "<%s> should fail", cases[i].in);
		cr_expect_str_eq(err ? err : "(null)", cases[i].err);
	}
}
