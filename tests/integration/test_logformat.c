/*
 * test_logformat.c: how `vigilctl log` shows lines. -o short (the default)
 * puts each line's own time first, then the service's name unless exactly
 * one service was named (--service-prefix and --no-service-prefix decide
 * otherwise); -o raw prints the text alone, byte for byte; -o json one
 * LINE object per line. The same with --follow, -n and --since.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

TestSuite(logformat, .fini = vh_teardown, .timeout = 120);

#define UP_MS	20000

static double
realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fclose(f);
}

/*
 * web writes "first" on stdout, "second" on stderr, then worker "job",
 * each once vigild has the one before (stdout and stderr are two pipes:
 * only so is the order fixed); web's "later" waits for the file "later".
 * Returns when vigild has read them all.
 */
static void
start_two_services(void)
{
	vh_setup("%s", "");
	vh_add_services("[service:web]\ncommand = %s echo:first await:%s err:second await:%s "
	    "echo:later\n[service:worker]\ncommand = %s await:%s echo:job\n", vh_testsvc(),
	    vh_path("go-web"), vh_path("later"), vh_testsvc(), vh_path("go-worker"));
	vh_start_ok();
	cr_assert(vh_wait_file_contains(vh_path("logs/web.log"), "first", UP_MS), "log:\n%s",
	    vh_log_tail());
	touch(vh_path("go-web"));
	cr_assert(vh_wait_file_contains(vh_path("logs/web.log"), "second", UP_MS), "log:\n%s",
	    vh_log_tail());
	touch(vh_path("go-worker"));
	cr_assert(vh_wait_file_contains(vh_path("logs/worker.log"), "job", UP_MS), "log:\n%s",
	    vh_log_tail());
}

Test(logformat, short_shows_each_lines_own_time)
{
	struct vh_result *r = malloc(sizeof(*r)), *j = malloc(sizeof(*j));
	double before = realtime(), after, shown, own;
	char *line, *jline, *save1, *save2;
	size_t n = 0;

	cr_assert(r != NULL && j != NULL);
	start_two_services();
	after = realtime();
	cr_assert_eq(vh_ctl(r, "log", "web", "worker", NULL), 0, "%s", r->err);
	cr_assert_eq(vh_ctl(j, "log", "-o", "json", "web", "worker", NULL), 0, "%s", j->err);
	/* line by line: the time shown is the LINE's, to the millisecond, and between our bounds */
	for (line = strtok_r(r->out, "\n", &save1), jline = strtok_r(j->out, "\n", &save2);
	    line != NULL && jline != NULL;
	    line = strtok_r(NULL, "\n", &save1), jline = strtok_r(NULL, "\n", &save2), n++) {
		json_t *obj = json_loads(jline, 0, NULL);

		cr_assert_not_null(obj, "-o json: %s", jline);
		own = json_number_value(json_object_get(obj, "time"));
		json_decref(obj);
		shown = vh_log_time(line);
		cr_assert_geq(shown, 0, "no time at the start of: %s", line);
		cr_expect(fabs(shown - floor(own * 1000) / 1000) < 0.0005,
		    "line %zu shows %.3f, its time is %.6f: %s", n, shown, own, line);
		cr_expect(shown >= floor(before * 1000) / 1000 && shown <= after,
		    "line %zu shows %.3f, outside [%.3f, %.3f]: %s", n, shown, before, after, line);
	}
	cr_expect_eq(n, 3, "%zu lines", n);
	cr_expect(line == NULL && jline == NULL, "short and json differ in lines");
	free(r);
	free(j);
}

Test(logformat, the_name_is_shown_unless_exactly_one_service_is_named)
{
	struct vh_result r;

	start_two_services();
	/* two services, or none (all): names, padded, and '!' for stderr */
	cr_assert_eq(vh_ctl(&r, "log", "web", "worker", NULL), 0, "%s", r.err);
	cr_expect_str_eq(vh_untimed(r.out), "web    | first\nweb    ! second\nworker | job\n");
	cr_assert_eq(vh_ctl(&r, "log", NULL), 0, "%s", r.err);
	cr_expect_str_eq(vh_untimed(r.out), "web    | first\nweb    ! second\nworker | job\n");
	/* one: every line is its own */
	cr_assert_eq(vh_ctl(&r, "log", "web", NULL), 0, "%s", r.err);
	cr_expect_str_eq(vh_untimed(r.out), "| first\n! second\n");
	cr_assert_eq(vh_ctl(&r, "log", "web", "web", NULL), 0, "%s", r.err);
	cr_expect_str_eq(vh_untimed(r.out), "| first\n! second\n", "one name twice is one");
	/* said aloud: the options win either way */
	cr_assert_eq(vh_ctl(&r, "log", "--service-prefix", "web", NULL), 0, "%s", r.err);
	cr_expect_str_eq(vh_untimed(r.out), "web | first\nweb ! second\n");
	cr_assert_eq(vh_ctl(&r, "log", "--no-service-prefix", "web", "worker", NULL), 0, "%s",
	    r.err);
	cr_expect_str_eq(vh_untimed(r.out), "| first\n! second\n| job\n");
	cr_assert_eq(vh_ctl(&r, "log", "-o", "short", "--no-service-prefix", NULL), 0, "%s",
	    r.err);
	cr_expect_str_eq(vh_untimed(r.out), "| first\n! second\n| job\n");
}

Test(logformat, short_iso_has_the_date_and_the_offset)
{
	struct vh_result r;
	char date[16];
	time_t now;
	struct tm tm;

	start_two_services();
	cr_assert_eq(vh_ctl(&r, "log", "-o", "short-iso", "worker", NULL), 0, "%s", r.err);
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT", &tm);
	/* "2026-12-06T03:19:35.123+00:00 | job": today unless midnight just passed */
	cr_expect_eq(strlen(r.out), 29 + 7, "out: %s", r.out);
	cr_expect(strncmp(r.out, date, 11) == 0 || tm.tm_hour == 0, "out: %s", r.out);
	cr_expect(r.out[19] == '.' && (r.out[23] == '+' || r.out[23] == '-') && r.out[26] == ':',
	    "out: %s", r.out);
	cr_expect_str_eq(r.out + 29, " | job\n");
}

Test(logformat, raw_is_the_text_alone)
{
	struct vh_result r;

	start_two_services();
	cr_assert_eq(vh_ctl(&r, "log", "-o", "raw", "web", "worker", NULL), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "first\nsecond\njob\n");
	cr_assert_eq(vh_ctl(&r, "log", "--output=raw", NULL), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "first\nsecond\njob\n");
	/* with -n and --since */
	cr_assert_eq(vh_ctl(&r, "log", "-o", "raw", "-n", "1", "web", NULL), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "second\n");
	cr_assert_eq(vh_ctl(&r, "log", "-o", "raw", "--since", "1h", "web", NULL), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "first\nsecond\n");
	cr_expect_str_eq(r.err, "");
}

Test(logformat, raw_passes_bytes_through_to_a_pipe)
{
	struct vh_result r;

	/* ESC [ 1 m x TAB y: a script gets what the service wrote */
	vh_setup("[service:ansi]\ncommand = %s bytes:1b5b316d7809790a\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_file_contains(vh_path("logs/ansi.log"), "x\ty", UP_MS), "log:\n%s",
	    vh_log_tail());
	cr_assert_eq(vh_ctl(&r, "log", "-o", "raw", "ansi", NULL), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "\033[1mx\ty\n");
	/* the short format is for people: no escape sequence gets through */
	cr_assert_eq(vh_ctl(&r, "log", "ansi", NULL), 0, "%s", r.err);
	cr_expect_str_eq(vh_untimed(r.out), "| ?[1mx\ty\n");
}

Test(logformat, json_is_one_line_object_per_line)
{
	struct vh_result r;
	const char *want[] = { "first", "second", "job" };
	const char *svc[] = { "web", "web", "worker" };
	char *line, *save;
	size_t n = 0;

	start_two_services();
	cr_assert_eq(vh_ctl(&r, "log", "-o", "json", NULL), 0, "%s", r.err);
	for (line = strtok_r(r.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		json_t *obj = json_loads(line, 0, &e);

		cr_assert_not_null(obj, "not JSON (%s): %s", e.text, line);
		cr_assert_lt(n, 3, "more lines than written: %s", line);
		cr_expect_str_eq(json_string_value(json_object_get(obj, "service")), svc[n]);
		cr_expect_str_eq(json_string_value(json_object_get(obj, "text")), want[n]);
		cr_expect_str_eq(json_string_value(json_object_get(obj, "stream")),
		    n == 1 ? "err" : "out");
		cr_expect(json_is_integer(json_object_get(obj, "seq")), "no seq: %s", line);
		cr_expect(json_is_number(json_object_get(obj, "time")), "no time: %s", line);
		cr_expect_null(json_object_get(obj, "ok"), "a reply, not a LINE: %s", line);
		json_decref(obj);
		n++;
	}
	cr_expect_eq(n, 3);
	/* the same as --json */
	{
		struct vh_result j;
		cr_assert_eq(vh_ctl(&r, "log", "-o", "json", "web", NULL), 0, "%s", r.err);
		cr_assert_eq(vh_ctl(&j, "--json", "log", "web", NULL), 0, "%s", j.err);
		cr_expect_str_eq(r.out, j.out);
		cr_assert_eq(vh_ctl(&j, "--json", "log", "-o", "json", "web", NULL), 0, "%s", j.err);
		cr_expect_str_eq(r.out, j.out);
	}
}

/* The next line of b, failing the test if none comes. */
static char *
next_line(struct vh_bg *b)
{
	char *line = vh_bg_line(b, UP_MS);

	cr_assert_not_null(line, "the follower printed no more; log:\n%s", vh_log_tail());
	return line;
}

Test(logformat, follow_keeps_the_format)
{
	struct vh_bg raw, json, shrt;
	double before, after;
	char *line;
	json_t *obj;

	start_two_services();
	vh_bg_start(&raw, "log", "-f", "-o", "raw", "web", NULL);
	vh_bg_start(&json, "log", "-f", "-n", "1", "-o", "json", "web", NULL);
	vh_bg_start(&shrt, "log", "-f", "-n", "1", "web", NULL);
	line = next_line(&raw);
	cr_expect_str_eq(line, "first");
	free(line);
	line = next_line(&raw);
	cr_expect_str_eq(line, "second");
	free(line);
	line = next_line(&json);
	obj = json_loads(line, 0, NULL);
	cr_expect_str_eq(json_string_value(json_object_get(obj, "text")), "second", "%s", line);
	json_decref(obj);
	free(line);
	line = next_line(&shrt);
	cr_expect_str_eq(vh_untimed(line), "! second");
	free(line);

	/* a new line, as it comes */
	before = realtime();
	touch(vh_path("later"));
	line = next_line(&raw);
	cr_expect_str_eq(line, "later");
	free(line);
	line = next_line(&json);
	obj = json_loads(line, 0, NULL);
	cr_expect_str_eq(json_string_value(json_object_get(obj, "text")), "later", "%s", line);
	cr_expect(json_is_integer(json_object_get(obj, "seq")), "%s", line);
	json_decref(obj);
	free(line);
	line = next_line(&shrt);
	after = realtime();
	cr_expect_str_eq(vh_untimed(line), "| later");
	cr_expect(vh_log_time(line) >= floor(before * 1000) / 1000 && vh_log_time(line) <= after,
	    "%.3f outside [%.3f, %.3f]: %s", vh_log_time(line), before, after, line);
	free(line);
	vh_bg_end(&raw);
	vh_bg_end(&json);
	vh_bg_end(&shrt);
}

Test(logformat, contradictions_are_usage_errors)
{
	struct vh_result r;

	vh_setup("[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	cr_expect_eq(vh_ctl(&r, "log", "-o", "cat", "web", NULL), 2, "%s", r.err);
	cr_expect(strstr(r.err, "-o: expected short, short-iso, raw or json, found 'cat'") != NULL,
	    "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "log", "-o", "raw", "--service-prefix", "web", NULL), 2, "%s",
	    r.err);
	cr_expect(strstr(r.err, "--service-prefix") != NULL, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "--json", "log", "-o", "raw", "web", NULL), 2, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "status", "-o", "raw", NULL), 2, "%s", r.err);
	cr_expect(strstr(r.err, "belong to log") != NULL, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "status", "--no-service-prefix", NULL), 2, "%s", r.err);
	cr_expect_eq(vh_ctl(&r, "log", "-o", "raw", "web", NULL), 0, "%s", r.err);
}
