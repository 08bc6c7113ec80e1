/*
 * test_ctl_output.c: vigilctl's pure pieces: the status table and its
 * cells, per-service lines, log lines, request quoting, option parsing and
 * the default socket. Nothing here talks to a daemon.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * main.c holds the option parser next to main(); compile it in here under
 * another name so Criterion keeps its own main().
 */
int	vigilctl_main(int argc, char **argv);
#define main vigilctl_main
#include "../../ctl/main.c"
#undef main

/* Render with f, return what it wrote (caller frees). */
#define CAPTURE(buf, f, stmt) do {					\
	size_t capture_len_;						\
	FILE *f = open_memstream(&(buf), &capture_len_);		\
	cr_assert_not_null(f);						\
	stmt;								\
	fclose(f);							\
} while (0)

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &e);

	cr_assert_not_null(j, "bad test JSON: %s: %s", e.text, text);
	return j;
}

static void
expect_last_exit(const char *json, const char *want)
{
	json_t *j = parse(json);
	char buf[64];

	output_last_exit(j, buf, sizeof(buf));
	cr_expect_str_eq(buf, want, "%s gave <%s>", json, buf);
	json_decref(j);
}

Test(last_exit, every_kind)
{
	expect_last_exit("[null]", "-");	/* not an object */
	expect_last_exit("{\"pid\":5,\"code\":3,\"signal\":null,\"core_dumped\":false}",
	    "exit 3");
	expect_last_exit("{\"pid\":5,\"code\":0,\"signal\":null,\"core_dumped\":false}",
	    "exit 0");
	expect_last_exit("{\"pid\":5,\"code\":null,\"signal\":\"KILL\",\"core_dumped\":false}",
	    "KILL");
	expect_last_exit("{\"pid\":5,\"code\":null,\"signal\":\"SEGV\",\"core_dumped\":true}",
	    "SEGV (core)");
	expect_last_exit("{\"spawn_error\":\"exec failed: /x: No such file or directory\"}",
	    "exec failed");
	expect_last_exit("{\"spawn_error\":\"spawn failed at chdir: Permission denied\"}",
	    "spawn failed");
	/* vigild keeps an older exit next to a newer spawn error: the error wins */
	expect_last_exit("{\"pid\":5,\"code\":1,\"signal\":null,\"core_dumped\":false,"
	    "\"spawn_error\":\"exec failed: /x: Permission denied\"}", "exec failed");
	{
		char buf[8];
		output_last_exit(NULL, buf, sizeof(buf));
		cr_expect_str_eq(buf, "-");
	}
}

static void
expect_info(const char *json, const char *want)
{
	json_t *j = parse(json);
	char buf[256];

	output_info(j, buf, sizeof(buf));
	cr_expect_str_eq(buf, want, "%s gave <%s>", json, buf);
	json_decref(j);
}

Test(info, reason_for_fatal_backoff_exited_only)
{
	expect_info("{\"state\":\"running\",\"reason\":\"up for 1000ms\"}", "");
	expect_info("{\"state\":\"stopped\",\"reason\":\"autostart is off\"}", "");
	expect_info("{\"state\":\"fatal\",\"reason\":\"exited 1; gave up after 3 failed starts\"}",
	    "exited 1; gave up after 3 failed starts");
	expect_info("{\"state\":\"exited\",\"reason\":\"exited 4; restart = never\"}",
	    "exited 4; restart = never");
	/* the stale delay in the reason gives way to the live next_start_in */
	expect_info("{\"state\":\"backoff\",\"reason\":\"exited 3; failed start 2, retry in 200ms\","
	    "\"next_start_in\":1.23}", "exited 3; failed start 2; retry in 1.2s");
	expect_info("{\"state\":\"backoff\",\"reason\":\"killed by KILL; restarting\","
	    "\"next_start_in\":0.1}", "killed by KILL; restarting; retry in 100ms");
	expect_info("{\"state\":\"backoff\",\"reason\":\"exited 3; restarting\"}",
	    "exited 3; restarting");
	expect_info("{\"state\":\"backoff\",\"reason\":\"\",\"next_start_in\":42}",
	    "retry in 42s");
	expect_info("{\"reason\":\"no state\"}", "");
}

Test(info, not_ready_reason_then_the_services_own_status)
{
	expect_info("{\"state\":\"running\",\"ready\":false,\"reason\":\"not ready: "
	    "waiting for READY=1\"}", "not ready: waiting for READY=1");
	/* what a service says of itself while it gets ready is the better news */
	expect_info("{\"state\":\"running\",\"ready\":false,\"reason\":\"not ready: "
	    "waiting for READY=1\",\"status_text\":\"loading 3 of 9\"}", "loading 3 of 9");
	expect_info("{\"state\":\"starting\",\"status_text\":\"warming up\"}", "warming up");
	expect_info("{\"state\":\"running\",\"ready\":false,\"reason\":\"not ready: "
	    "waiting for READY=1\",\"status_text\":\"\"}", "not ready: waiting for READY=1");
	expect_info("{\"state\":\"running\",\"ready\":true,\"reason\":\"ready: READY=1\","
	    "\"status_text\":\"Ready to accept connections\"}", "Ready to accept connections");
	expect_info("{\"state\":\"running\",\"ready\":true,\"reason\":\"up for 1000ms\"}", "");
}

Test(info, seconds)
{
	const struct { double s; const char *want; } cases[] = {
		{ -0.2, "0ms" }, { 0.0004, "0ms" }, { 0.25, "250ms" }, { 1.23, "1.2s" },
		{ 9.94, "9.9s" }, { 42.7, "42s" }, { 192, "3m12s" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		output_seconds(cases[i].s, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].want, "%g gave <%s>", cases[i].s, buf);
	}
}

Test(table, aligned_without_trailing_blanks)
{
	const char *h[] = { "A", "LONGER", "C" };
	const char *r1[] = { "wide-cell", "x", "" };
	const char *r2[] = { "y", "", "z" };
	struct table *t = table_new(h, 3);
	char *out = NULL;

	cr_assert_not_null(t);
	cr_assert_eq(table_add_row(t, r1, NULL), 0);
	cr_assert_eq(table_add_row(t, r2, NULL), 0);
	CAPTURE(out, f, table_print(t, f, true));
	cr_expect_str_eq(out,
	    "A          LONGER  C\n"
	    "wide-cell  x\n"
	    "y                  z\n");
	free(out);
	table_free(t);
	table_free(NULL);
}

Test(table, colour_does_not_move_columns)
{
	const char *h[] = { "STATE", "PID" };
	const char *r[] = { "running", "7" };
	const char *st[] = { "\033[32m", NULL };
	struct table *t = table_new(h, 2);
	char *plain = NULL, *coloured = NULL;

	cr_assert_eq(table_add_row(t, r, st), 0);
	CAPTURE(plain, f, table_print(t, f, false));
	CAPTURE(coloured, f, table_print(t, f, true));
	cr_expect_str_eq(plain, "STATE    PID\nrunning  7\n");
	cr_expect_str_eq(coloured, "STATE    PID\n\033[32mrunning\033[0m  7\n");
	free(plain);
	free(coloured);
	table_free(t);
}

Test(table, control_characters_and_utf8)
{
	const char *h[] = { "N", "X" };
	const char *r1[] = { "a\033[2Jb\x7f", "1" };
	const char *r2[] = { "\xc3\xa9t\xc3\xa9", "2" };	/* "été": 3 columns, 5 bytes */
	const char *r3[] = { "c\xc2\x9b" "d", "3" };		/* C1 CSI */
	struct table *t = table_new(h, 2);
	char *out = NULL;

	cr_assert_eq(table_add_row(t, r1, NULL), 0);
	cr_assert_eq(table_add_row(t, r2, NULL), 0);
	cr_assert_eq(table_add_row(t, r3, NULL), 0);
	CAPTURE(out, f, table_print(t, f, false));
	cr_expect_str_eq(out,
	    "N        X\n"
	    "a?[2Jb?  1\n"
	    "\xc3\xa9t\xc3\xa9      2\n"
	    "c??d     3\n");
	free(out);
	table_free(t);
}

static const char status_reply[] =
    "{\"ok\":true,\"services\":["
    "{\"name\":\"web\",\"state\":\"running\",\"reason\":\"up for 1000ms\",\"since\":1.0,"
    "\"restarts\":2,\"failures\":0,\"last_exit\":{\"pid\":9,\"time\":1.0,\"ran_for\":3.0,"
    "\"cpu_user\":0.0,\"cpu_system\":0.0,\"max_rss_kb\":1,\"code\":null,\"signal\":\"KILL\","
    "\"core_dumped\":false},\"autostart\":true,\"restart\":\"always\",\"pid\":1234,\"uptime\":192.5,\"processes\":3,\"cpu\":1.25},"
    "{\"name\":\"worker\",\"state\":\"backoff\",\"reason\":\"exited 3; failed start 1, retry in 100ms\","
    "\"since\":1.0,\"restarts\":0,\"failures\":1,\"last_exit\":{\"pid\":10,\"time\":1.0,"
    "\"ran_for\":0.1,\"cpu_user\":0.0,\"cpu_system\":0.0,\"max_rss_kb\":1,\"code\":3,"
    "\"signal\":null,\"core_dumped\":false},\"autostart\":true,\"restart\":\"always\","
    "\"pid\":null,\"uptime\":null,\"next_start_in\":0.05},"
    "{\"name\":\"db\",\"state\":\"fatal\",\"reason\":\"exec failed: /x: No such file or directory; "
    "gave up after 3 failed starts\",\"since\":1.0,\"restarts\":2,\"failures\":3,"
    "\"last_exit\":{\"spawn_error\":\"exec failed: /x: No such file or directory\"},"
    "\"autostart\":true,\"restart\":\"always\",\"pid\":null,\"uptime\":null},"
    "{\"name\":\"cron\",\"state\":\"stopped\",\"reason\":\"autostart is off\",\"since\":0.0,"
    "\"restarts\":0,\"failures\":0,\"last_exit\":null,\"autostart\":false,"
    "\"restart\":\"never\",\"pid\":null,\"uptime\":null}]}";

Test(status, table_golden)
{
	json_t *r = parse(status_reply);
	char *out = NULL;

	CAPTURE(out, f, cr_assert_eq(output_status_table(json_object_get(r, "services"),
	    f, false), 0));
	cr_expect_str_eq(out,
	    "NAME    STATE    PID   PROCS  CPU    UPTIME  RESTARTS  LAST-EXIT    INFO\n"
	    "web     running  1234  3      1.25s  3m12s   2         KILL\n"
	    "worker  backoff  -     -      -      -       0         exit 3       exited 3; failed start 1; retry in 50ms\n"
	    "db      fatal    -     -      -      -       2         exec failed  exec failed: /x: No such file or directory; gave up after 3 failed starts\n"
	    "cron    stopped  -     -      -      -       0         -\n");
	free(out);
	json_decref(r);
}

Test(status, colours_states_on_request)
{
	json_t *r = parse(status_reply);
	char *out = NULL;

	CAPTURE(out, f, output_status_table(json_object_get(r, "services"), f, true));
	cr_expect_not_null(strstr(out, "\033[32mrunning\033[0m  1234"));
	cr_expect_not_null(strstr(out, "\033[33mbackoff\033[0m"));
	cr_expect_not_null(strstr(out, "\033[31mfatal\033[0m  "));
	cr_expect_not_null(strstr(out, "\033[2mstopped\033[0m"));
	cr_expect_not_null(strstr(out, "NAME    STATE    PID"), "header is never coloured");
	free(out);
	json_decref(r);
}

Test(status, empty_and_odd_replies)
{
	json_t *r = parse("{\"ok\":true,\"services\":[42,{\"state\":\"running\"}]}");
	char *out = NULL;

	CAPTURE(out, f, output_status_table(json_object_get(r, "services"), f, false));
	cr_expect_str_eq(out,
	    "NAME  STATE    PID  PROCS  CPU  UPTIME  RESTARTS  LAST-EXIT  INFO\n"
	    "?     running  -    -      -    -       -         -\n");
	free(out);
	json_decref(r);
	CAPTURE(out, f, output_status_table(NULL, f, false));
	cr_expect_str_eq(out, "NAME  STATE  PID  PROCS  CPU  UPTIME  RESTARTS  LAST-EXIT  INFO\n");
	free(out);
}

Test(status, style_and_colour_choice)
{
	cr_expect_null(output_state_style("weird"));
	cr_expect_null(output_state_style(NULL));
	cr_expect_str_eq(output_state_style("starting"), output_state_style("stopping"));
	cr_expect(output_use_colour(true, NULL));
	cr_expect(output_use_colour(true, ""), "an empty NO_COLOR does not count");
	cr_expect_not(output_use_colour(true, "1"));
	cr_expect_not(output_use_colour(false, NULL));
}

Test(service_line, per_state)
{
	json_t *r = parse(status_reply);
	char *out = NULL;

	CAPTURE(out, f, {
		for (size_t i = 0; i < 4; i++)
			output_service_line(json_array_get(json_object_get(r, "services"), i), f);
	});
	cr_expect_str_eq(out,
	    "web: running (pid 1234)\n"
	    "worker: backoff (exited 3; failed start 1; retry in 50ms)\n"
	    "db: fatal (exec failed: /x: No such file or directory; gave up after 3 failed starts)\n"
	    "cron: stopped\n");
	free(out);
	json_decref(r);
}

/* Render each object of a JSON array with output_log_line. */
static char *
render_style(const char *objects, const struct line_style *st)
{
	json_t *arr = parse(objects);
	char *out = NULL;
	const json_t *o;
	size_t i;

	/* the times of the short formats are local: make that UTC */
	setenv("TZ", "UTC", 1);
	tzset();
	CAPTURE(out, f, json_array_foreach(arr, i, o) output_log_line(o, st, f));
	json_decref(arr);
	return out;
}

/* -o short with the names, as for several services */
static char *
render_log(const char *objects, int width, bool colour)
{
	struct line_style st = { .format = CTL_LOG_SHORT, .prefix = true, .width = width,
	    .colour = colour };

	return render_style(objects, &st);
}

/* The time column of a line with no time: as wide as "Dec 06 03:19:35.123" */
#define NO_TIME	"                   "

static const char five_lines[] = "["
    "{\"service\":\"web\",\"time\":1.5,\"stream\":\"out\",\"text\":\"GET /\","
    "\"continued\":false,\"partial\":false},"
    "{\"service\":\"worker\",\"time\":1.6,\"stream\":\"err\",\"text\":\"oops\","
    "\"continued\":false,\"partial\":false},"
    "{\"service\":\"worker\",\"time\":1.6,\"stream\":\"err\",\"text\":\"rest\","
    "\"continued\":true,\"partial\":false},"
    "{\"service\":\"web\",\"time\":1.7,\"stream\":\"out\",\"text\":\"\","
    "\"continued\":false,\"partial\":false},"
    "{\"service\":\"web\",\"time\":1796527175.123456,\"stream\":\"out\",\"text\":\"half\","
    "\"continued\":false,\"partial\":true}]";

Test(log_line, streams_continuations_and_padding)
{
	char *out = render_log(five_lines, 6, false);

	cr_expect_str_eq(out,
	    "Jan 01 00:00:01.500 web    | GET /\n"
	    "Jan 01 00:00:01.600 worker ! oops\n"
	    "Jan 01 00:00:01.600 worker !+rest\n"
	    "Jan 01 00:00:01.700 web    |\n"	/* an empty line: no trailing blank */
	    "Dec 06 03:19:35.123 web    | half\n");
	free(out);
}

Test(log_line, without_the_name)
{
	struct line_style st = { .format = CTL_LOG_SHORT, .width = 6 };
	char *out = render_style(five_lines, &st);

	cr_expect_str_eq(out,
	    "Jan 01 00:00:01.500 | GET /\n"
	    "Jan 01 00:00:01.600 ! oops\n"
	    "Jan 01 00:00:01.600 !+rest\n"
	    "Jan 01 00:00:01.700 |\n"
	    "Dec 06 03:19:35.123 | half\n");
	free(out);
}

Test(log_line, iso_times_with_the_offset)
{
	struct line_style st = { .format = CTL_LOG_SHORT_ISO, .prefix = true, .width = 3 };
	char *out = render_style("[{\"service\":\"web\",\"time\":1796527175.123456,"
	    "\"stream\":\"out\",\"text\":\"a\"},{\"skipped\":2,\"service\":\"web\"}]", &st);

	cr_expect_str_eq(out,
	    "2026-12-06T03:19:35.123+00:00 web | a\n"
	    "                              web | [... 2 lines skipped ...]\n");
	free(out);
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	out = NULL;
	{
		json_t *l = parse("{\"service\":\"web\",\"time\":1796527175.5,\"text\":\"a\"}");
		CAPTURE(out, f, output_log_line(l, &st, f));
		json_decref(l);
	}
	/* where the zone database is installed; else glibc takes it as UTC */
	if (access("/usr/share/zoneinfo/Asia/Kolkata", R_OK) == 0)
		cr_expect_str_eq(out, "2026-12-06T08:49:35.500+05:30 web | a\n");
	free(out);
}

Test(log_line, raw_is_the_text_alone_and_markers_go_to_stderr, .init = cr_redirect_stderr)
{
	struct line_style st = { .format = CTL_LOG_RAW, .prefix = true, .width = 6 };
	char *out = render_style(five_lines, &st);

	cr_expect_str_eq(out, "GET /\noops\nrest\n\nhalf\n");
	free(out);
	/* not a terminal: the bytes as they are, NUL and ESC included */
	out = render_style("[{\"service\":\"a\",\"text\":\"\\u001b[1mx\\u0000y\"},"
	    "{\"skipped\":3,\"service\":\"a\"},{\"service\":\"a\",\"removed\":true}]", &st);
	cr_expect_eq(memcmp(out, "\033[1mx\0y\n", 8), 0, "%s", out);
	cr_expect_eq(out[8], '\0', "markers are not text: %s", out + 8);
	free(out);
	fflush(stderr);
	cr_expect_stderr_eq_str("vigilctl: a: 3 lines skipped\n"
	    "vigilctl: a: removed from the configuration\n");
}

Test(log_line, raw_on_a_terminal_hides_control_characters)
{
	struct line_style st = { .format = CTL_LOG_RAW, .tty = true };
	char *out = render_style("[{\"service\":\"a\",\"text\":\"\\u001b[1mx\\ty\"}]", &st);

	cr_expect_str_eq(out, "?[1mx\ty\n");
	free(out);
}

Test(log_line, skipped_markers)
{
	char *out = render_log("[{\"skipped\":12,\"service\":\"web\"},{\"skipped\":3}]", 4, false);

	cr_expect_str_eq(out,
	    NO_TIME " web  | [... 12 lines skipped ...]\n"
	    NO_TIME "      | [... 3 lines skipped ...]\n");
	free(out);
}

Test(log_line, control_characters_tabs_and_nul)
{
	/* ESC, BEL, DEL, C1 CSI and NUL show as '?'; a tab and UTF-8 stay */
	char *out = render_log("[{\"service\":\"a\",\"stream\":\"out\","
	    "\"text\":\"\\u001b[2Jx\\u0007\\u007f\\tcaf\\u00e9\\u009b\\u0000end\"}]", 1, false);

	cr_expect_str_eq(out, NO_TIME " a | ?[2Jx??\tcaf\xc3\xa9??end\n");
	free(out);
}

Test(log_line, odd_objects)
{
	/* not a LINE: nothing; no service or stream: still shown */
	char *out = render_log("[42,{\"ok\":true,\"follow\":true},{\"text\":\"t\"}]", 0, false);

	cr_expect_str_eq(out, NO_TIME " ? | t\n");
	free(out);
}

Test(log_line, times_no_clock_reads_are_blanks)
{
	char *out = render_log("[{\"service\":\"a\",\"time\":1e300,\"text\":\"t\"},"
	    "{\"service\":\"a\",\"time\":-5,\"text\":\"u\"},"
	    "{\"service\":\"a\",\"time\":\"noon\",\"text\":\"v\"}]", 1, false);

	cr_expect_str_eq(out, NO_TIME " a | t\n" NO_TIME " a | u\n" NO_TIME " a | v\n");
	free(out);
}

Test(log_line, colour_by_name)
{
	char *out = render_log("[{\"service\":\"web\",\"stream\":\"err\",\"text\":\"x\"},"
	    "{\"skipped\":2,\"service\":\"web\"}]", 5, true);
	const char *c = output_service_colour("web");
	char want[128];

	snprintf(want, sizeof(want), NO_TIME " %sweb\033[0m   ! x\n"
	    NO_TIME " %sweb\033[0m   | \033[2m[... 2 lines skipped ...]\033[0m\n", c, c);
	cr_expect_str_eq(out, want, "colour must not move the separator");
	free(out);
}

Test(log_line, palette)
{
	const char *names[] = { "web", "worker", "db", "cron", "a", "b", "c", "d", "e", "f" };
	size_t distinct = 0;
	const char *seen[10];

	for (size_t i = 0; i < 10; i++) {
		const char *c = output_service_colour(names[i]);
		size_t j;
		cr_expect_str_eq(c, output_service_colour(names[i]), "not stable");
		cr_expect_str_neq(c, "\033[31m", "red is for errors");
		for (j = 0; j < distinct && strcmp(seen[j], c) != 0; j++)
			;
		if (j == distinct)
			seen[distinct++] = c;
	}
	cr_expect_geq(distinct, 4, "ten names share %zu colours", distinct);
}

static void
expect_request(char **words, size_t n, const char *want)
{
	char buf[PROTO_MAX_LINE + 2];

	cr_assert_eq(client_format_request(words, n, buf, sizeof(buf)), 0, "refused %s", want);
	cr_expect_str_eq(buf, want);
}

Test(request, quoting_for_words_split)
{
	char *plain[] = { "start", "--wait=60000ms", "--", "web", "a.b@c-1_2" };
	char *odd[] = { "status", "a b", "it's", "", "$HOME", "x\ty" };
	char *nl[] = { "status", "a\nb" };
	char buf[PROTO_MAX_LINE + 2];

	expect_request(plain, 5, "start --wait=60000ms -- web a.b@c-1_2\n");
	expect_request(odd, 6, "status 'a b' 'it'\\''s' '' '$HOME' 'x\ty'\n");
	cr_expect_eq(client_format_request(nl, 2, buf, sizeof(buf)), -1);
	cr_expect_eq(errno, EINVAL);
}

Test(request, round_trips_through_the_daemon_splitter)
{
	char *odd[] = { "status", "a b", "it's", "", "\"q\"", "back\\slash" };
	char buf[PROTO_MAX_LINE + 2];
	struct proto_request req;
	const char *err;

	cr_assert_eq(client_format_request(odd, 6, buf, sizeof(buf)), 0);
	buf[strlen(buf) - 1] = '\0';
	cr_assert_eq(proto_parse_request(buf, &req, &err), 0);
	cr_assert_eq(req.argc, 6);
	for (size_t i = 0; i < 6; i++)
		cr_expect_str_eq(req.argv[i], odd[i]);
	proto_request_free(&req);
}

Test(request, bounded_by_the_protocol_line)
{
	char name[PROTO_MAX_LINE], buf[PROTO_MAX_LINE + 2];
	char *words[] = { "status", name };

	/* "status " + name is exactly PROTO_MAX_LINE bytes: allowed */
	memset(name, 'a', sizeof(name));
	name[PROTO_MAX_LINE - 7] = '\0';
	cr_expect_eq(client_format_request(words, 2, buf, sizeof(buf)), 0);
	cr_expect_eq(strlen(buf), PROTO_MAX_LINE + 1);
	name[PROTO_MAX_LINE - 7] = 'a';
	name[PROTO_MAX_LINE - 6] = '\0';
	cr_expect_eq(client_format_request(words, 2, buf, sizeof(buf)), -1);
	cr_expect_eq(errno, E2BIG);
	cr_expect_eq(client_format_request(words, 2, buf, 10), -1, "small buffer");
}

/* Parse a NULL-terminated argv; returns ctl_parse_options' result. */
static int
parse_args(struct ctl_options *o, char *err, const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "vigilctl";
	va_start(ap, first);
	for (const char *a = first; a != NULL && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)(uintptr_t)a;
	va_end(ap);
	argv[argc] = NULL;
	return ctl_parse_options(argc, argv, o, err, 256);
}

Test(options, defaults)
{
	struct ctl_options o;
	char err[256];

	cr_assert_eq(parse_args(&o, err, "status", NULL), 0);
	cr_expect_null(o.socket);
	cr_expect_not(o.json);
	cr_expect_not(o.no_wait);
	cr_expect_eq(o.timeout_ms, 60000);
	cr_expect_eq(o.lines, -1);
	cr_expect_not(o.follow);
	cr_expect_eq(o.since_ms, -1);
	cr_expect_eq(o.nargs, 1);
	cr_expect_str_eq(o.args[0], "status");
	free(o.args);
}

Test(options, anywhere_until_double_dash)
{
	struct ctl_options o;
	char err[256];

	cr_assert_eq(parse_args(&o, err, "restart", "web", "--no-wait", "--json",
	    "--timeout", "5s", "-s", "/x.sock", "--", "--json", "-j", NULL), 0, "%s", err);
	cr_expect(o.no_wait);
	cr_expect(o.json);
	cr_expect_eq(o.timeout_ms, 5000);
	cr_expect_str_eq(o.socket, "/x.sock");
	cr_assert_eq(o.nargs, 4);
	cr_expect_str_eq(o.args[0], "restart");
	cr_expect_str_eq(o.args[1], "web");
	cr_expect_str_eq(o.args[2], "--json");
	cr_expect_str_eq(o.args[3], "-j");
	free(o.args);
}

Test(options, attached_values_and_clusters)
{
	struct ctl_options o;
	char err[256];

	cr_assert_eq(parse_args(&o, err, "--socket=/a", "--timeout=250ms", "status", NULL), 0);
	cr_expect_str_eq(o.socket, "/a");
	cr_expect_eq(o.timeout_ms, 250);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "-s/b", "status", NULL), 0);
	cr_expect_str_eq(o.socket, "/b");
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "-js", "/c", "status", "-", NULL), 0);
	cr_expect(o.json);
	cr_expect_str_eq(o.socket, "/c");
	cr_expect_eq(o.nargs, 2, "a lone '-' is an operand");
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "-h", NULL), 0);
	cr_expect(o.help);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "--version", NULL), 0);
	cr_expect(o.version);
	free(o.args);
}

Test(options, log_options)
{
	struct ctl_options o;
	char err[256];

	cr_assert_eq(parse_args(&o, err, "log", "web", "-n", "20", "-f", "--since", "5m",
	    "api", NULL), 0, "%s", err);
	cr_expect_eq(o.lines, 20);
	cr_expect(o.follow);
	cr_expect_eq(o.since_ms, 300000);
	cr_assert_eq(o.nargs, 3);
	cr_expect_str_eq(o.args[2], "api");
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "log", "-n0", "--follow", "--since=1.5s", NULL), 0,
	    "%s", err);
	cr_expect_eq(o.lines, 0);
	cr_expect(o.follow);
	cr_expect_eq(o.since_ms, 1500);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "-jfn", "7", "log", NULL), 0, "%s", err);
	cr_expect(o.json);
	cr_expect(o.follow);
	cr_expect_eq(o.lines, 7);
	cr_expect_eq(o.log_format, CTL_LOG_DEFAULT);
	cr_expect_eq(o.service_prefix, -1);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "log", "-o", "raw", "web", NULL), 0, "%s", err);
	cr_expect_eq(o.log_format, CTL_LOG_RAW);
	cr_expect_eq(o.nargs, 2);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "log", "-fojson", "--output=short-iso", NULL), 0,
	    "%s", err);
	cr_expect(o.follow);
	cr_expect_eq(o.log_format, CTL_LOG_SHORT_ISO, "the last -o wins");
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "log", "--output", "short", "--no-service-prefix",
	    NULL), 0, "%s", err);
	cr_expect_eq(o.log_format, CTL_LOG_SHORT);
	cr_expect_eq(o.service_prefix, 0);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "--no-service-prefix", "log", "--service-prefix",
	    NULL), 0, "%s", err);
	cr_expect_eq(o.service_prefix, 1, "the last one wins");
	free(o.args);
}

Test(options, top_options)
{
	struct ctl_options o;
	char err[256];

	cr_assert_eq(parse_args(&o, err, "top", NULL), 0, "%s", err);
	cr_expect_eq(o.delay_ms, -1);
	cr_expect_not(o.batch);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "top", "-d", "0.5", "-b", NULL), 0, "%s", err);
	cr_expect_eq(o.delay_ms, 500);
	cr_expect(o.batch);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "-bd3", "top", NULL), 0, "%s", err);
	cr_expect_eq(o.delay_ms, 3000);
	cr_expect(o.batch);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "top", "--delay=250ms", "--batch", NULL), 0, "%s", err);
	cr_expect_eq(o.delay_ms, 250);
	cr_expect(o.batch);
	free(o.args);
}

Test(options, refused)
{
	const struct { const char *a, *b; const char *msg; } bad[] = {
		{ "--bogus", NULL, "unknown option '--bogus'" },
		{ "-x", NULL, "unknown option '-x'" },
		{ "--timeout", "soon", "--timeout: expected a duration" },
		{ "--timeout", "0", "--timeout: expected a duration above 0" },
		{ "--timeout=-1s", NULL, "--timeout: expected" },
		{ "--timeout", NULL, "option '--timeout' needs a value" },
		{ "--socket", NULL, "option '--socket' needs a value" },
		{ "--socket=", NULL, "--socket: expected a path" },
		{ "-s", NULL, "option '-s' needs a value" },
		{ "--json=yes", NULL, "option '--json' takes no value" },
		{ "-n", NULL, "option '-n' needs a value" },
		{ "-n", "x", "-n: expected a number of lines from 0 to 1000000, found 'x'" },
		{ "-n", "-1", "-n: expected a number" },
		{ "-n", "1000001", "-n: expected a number" },
		{ "-n", "99999999999999999999999", "-n: expected a number" },
		{ "-n5x", NULL, "-n: expected a number" },
		{ "--since", "yesterday", "--since: expected a duration" },
		{ "--since", NULL, "option '--since' needs a value" },
		{ "--follow=yes", NULL, "option '--follow' takes no value" },
		{ "-d", NULL, "option '-d' needs a value" },
		{ "-d", "0.05", "-d: expected seconds between refreshes, at least 0.1" },
		{ "-d", "often", "-d: expected seconds" },
		{ "--delay", NULL, "option '--delay' needs a value" },
		{ "--batch=1", NULL, "option '--batch' takes no value" },
		{ "-o", "cat", "-o: expected short, short-iso, raw or json, found 'cat'" },
		{ "--output=", NULL, "-o: expected short" },
		{ "-o", NULL, "option '-o' needs a value" },
		{ "--output", NULL, "option '--output' needs a value" },
		{ "--service-prefix=yes", NULL, "option '--service-prefix' takes no value" },
	};
	struct ctl_options o;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(parse_args(&o, err, "status", bad[i].a, bad[i].b, NULL), -1,
		    "accepted %s %s", bad[i].a, bad[i].b ? bad[i].b : "");
		cr_expect(strncmp(err, bad[i].msg, strlen(bad[i].msg)) == 0,
		    "%s: message <%s>", bad[i].a, err);
		free(o.args);
	}
}

Test(options, default_socket_follows_vigild)
{
	char buf[256];

	unsetenv("TMPDIR");
	cr_expect_str_eq(ctl_default_socket(0, "/run/user/0", buf, sizeof(buf)),
	    "/run/vigil/vigil.sock");
	cr_expect_str_eq(ctl_default_socket(1000, "/run/user/1000", buf, sizeof(buf)),
	    "/run/user/1000/vigil/vigil.sock");
	cr_expect_str_eq(ctl_default_socket(1000, NULL, buf, sizeof(buf)),
	    "/tmp/vigil-1000/vigil.sock");
	cr_expect_str_eq(ctl_default_socket(1000, "", buf, sizeof(buf)),
	    "/tmp/vigil-1000/vigil.sock");
	cr_expect_str_eq(ctl_default_socket(1000, "relative", buf, sizeof(buf)),
	    "/tmp/vigil-1000/vigil.sock", "vigild ignores a relative XDG_RUNTIME_DIR");
	/* the fallback's base, as vigild's config_fallback_dir(): an absolute TMPDIR */
	setenv("TMPDIR", "/var/tmp/me", 1);
	cr_expect_str_eq(ctl_default_socket(1000, NULL, buf, sizeof(buf)),
	    "/var/tmp/me/vigil-1000/vigil.sock");
	setenv("TMPDIR", "relative", 1);
	cr_expect_str_eq(ctl_default_socket(1000, NULL, buf, sizeof(buf)),
	    "/tmp/vigil-1000/vigil.sock", "a relative TMPDIR is ignored");
	unsetenv("TMPDIR");
}

Test(options, socket_precedence)
{
	struct ctl_options o = { 0 };
	char buf[256];

	setenv("VIGIL_SOCKET", "/env.sock", 1);
	o.socket = "/opt.sock";
	cr_expect_str_eq(resolve_socket(&o, buf, sizeof(buf)), "/opt.sock");
	o.socket = NULL;
	cr_expect_str_eq(resolve_socket(&o, buf, sizeof(buf)), "/env.sock");
	setenv("VIGIL_SOCKET", "", 1);
	cr_expect_str_neq(resolve_socket(&o, buf, sizeof(buf)), "");
	unsetenv("VIGIL_SOCKET");
}

Test(verbs, table_is_consistent)
{
	static const char *const expected[] = {
		"status", "start", "stop", "restart", "signal", "shutdown", "names",
		"hello", "help", "log", "log-reopen", "check",
	};

	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const struct ctl_verb *v = ctl_verb_find(expected[i]);
		cr_assert_not_null(v, "%s missing", expected[i]);
		cr_expect(strncmp(v->usage, v->name, strlen(v->name)) == 0);
		cr_expect(v->max_args < 0 || v->max_args >= v->min_args);
		cr_expect_not_null(v->run);
	}
	cr_expect_null(ctl_verb_find("frob"));
	cr_expect_eq(ctl_verb_find("signal")->min_args, 2);
	cr_expect_eq(ctl_verb_find("start")->min_args, 1);
	cr_expect_eq(ctl_verb_find("log")->min_args, 0, "no names: every service");
	cr_expect_eq(ctl_verb_find("log-reopen")->max_args, 0);
}

Test(verbs, log_options_belong_to_log, .init = cr_redirect_stderr)
{
	struct ctl_options o;
	char err[256];

	cr_assert_eq(parse_args(&o, err, "status", "-f", NULL), 0);
	cr_expect_eq(ctl_run(&o), CTL_EXIT_USAGE);
	free(o.args);
	cr_assert_eq(parse_args(&o, err, "start", "web", "-n", "3", NULL), 0);
	cr_expect_eq(ctl_run(&o), CTL_EXIT_USAGE);
	free(o.args);
}

Test(verbs, operand_counts, .init = cr_redirect_stderr)
{
	char *none[] = { NULL }, *two[] = { "a", "b" };

	cr_expect_eq(check_operands(ctl_verb_find("status"), 0, none), CTL_EXIT_OK);
	cr_expect_eq(check_operands(ctl_verb_find("signal"), 2, two), CTL_EXIT_OK);
	cr_expect_eq(check_operands(ctl_verb_find("signal"), 1, two), CTL_EXIT_USAGE);
	cr_expect_eq(check_operands(ctl_verb_find("shutdown"), 1, two), CTL_EXIT_USAGE);
	cr_expect_eq(check_operands(ctl_verb_find("start"), 0, none), CTL_EXIT_USAGE);
	fflush(stderr);
	/* warnx prefixes the program name, which is Criterion's worker here */
	cr_expect_stderr_neq_str("");
}

/* show's text: aligned sources, unset keys commented out, long values continued */
Test(show, config_text_with_sources)
{
	char *out = NULL, words[1200] = "", *line, *save, joined[1400] = "";
	json_t *reply;
	size_t n = 0;

	/* 120 words of 9 characters: over a thousand, far past one line */
	for (int i = 0; i < 120; i++)
		n += (size_t)snprintf(words + n, sizeof(words) - n, "%sV%03d=abcd", i ? " " : "", i);
	reply = json_pack("[{s:s, s:[{s:s, s:s, s:{s:s, s:s, s:i}},"
	    "{s:s, s:s, s:{s:s, s:n, s:n}}, {s:s, s:s, s:{s:s, s:s, s:i}},"
	    "{s:s, s:s, s:{s:s, s:s, s:i}, s:b, s:[s]}]}]",
	    "name", "web", "keys",
	    "key", "environment", "value", words,
	    "source", "kind", "file", "file", "/etc/vigil/vigil.conf", "line", 7,
	    "key", "directory", "value", "", "source", "kind", "default", "file", "line",
	    "key", "log_keep", "value", "3", "source", "kind", "vigil", "file", "/v.conf",
	    "line", 4,
	    "key", "environment_file", "value", "/e.env", "source", "kind", "file", "file",
	    "/v.conf", "line", 9, "hidden", 1, "loaded", "TOKEN=<hidden>");
	cr_assert_not_null(reply);
	CAPTURE(out, f, output_show(reply, f));
	json_decref(reply);
	cr_expect(strncmp(out, "[service:web]\n", 14) == 0, "%s", out);
	cr_expect_not_null(strstr(out, "\n; directory = "), "%s", out);
	cr_expect_not_null(strstr(out, " ; built-in default\n"), "%s", out);
	cr_expect_not_null(strstr(out, "log_keep = 3"), "%s", out);
	cr_expect_not_null(strstr(out, " ; [vigil] /v.conf:4\n"), "%s", out);
	cr_expect_not_null(strstr(out, " ; /etc/vigil/vigil.conf:7\n"), "%s", out);
	cr_expect_not_null(strstr(out, "(values hidden: they need admin access)\n;   read from "
	    "environment_file at the last start:\n;     TOKEN=<hidden>\n"), "%s", out);
	/* every line fits inih's 199 characters; the environment reads back whole */
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		cr_expect_leq(strlen(line), 199, "a line of %zu characters", strlen(line));
		if (strncmp(line, "environment = ", 14) == 0)
			strcat(joined, line + 14);
		else if (strncmp(line, "    ", 4) == 0 && joined[0] != '\0' &&
		    strstr(joined, " ; ") == NULL) {
			strcat(joined, " ");
			strcat(joined, line + 4);
		}
	}
	cr_assert_not_null(strstr(joined, " ; "), "no source after the value: %s", joined);
	*strstr(joined, " ; ") = '\0';
	/* the padding before the source is blanks, which inih drops */
	for (n = strlen(joined); n > 0 && joined[n - 1] == ' '; )
		joined[--n] = '\0';
	cr_expect_str_eq(joined, words);
	free(out);
}

Test(pidns, note_only_when_vigild_is_in_another_pid_namespace)
{
	char note[256] = "";

	cr_expect_not(pidns_note(1234, 1234, note, sizeof(note)), "the same pid");
	cr_expect_not(pidns_note(-1, 1234, note, sizeof(note)), "no peer to ask");
	cr_expect_not(pidns_note(1234, 0, note, sizeof(note)), "no pid in hello");
	cr_expect(pidns_note(0, 1, note, sizeof(note)), "vigild has no pid here");
	cr_expect_str_eq(note, "vigild runs in another pid namespace (pid 1 there, not visible "
	    "here): PIDs below are that namespace's");
	/*
	 * A peer in our own namespace that is not vigild (systemd, which made
	 * the socket and handed it over): the numbers differ, and mean nothing.
	 */
	cr_expect_not(pidns_note(getpid(), 1, note, sizeof(note)), "a listener of ours: %s", note);
	/* /proc cannot tell (no such process here): the numbers are all there is */
	cr_expect(pidns_note(2147483600, 1, note, sizeof(note)));
	cr_expect_str_eq(note, "vigild runs in another pid namespace (pid 1 there, 2147483600 "
	    "here): PIDs below are that namespace's");
}

Test(pidns, hello_is_asked_only_when_proc_does_not_settle_it)
{
	cr_expect_not(pidns_may_differ(getpid()), "we are in our namespace");
	cr_expect_not(pidns_may_differ(-1), "nothing to go by");
	cr_expect(pidns_may_differ(0), "no pid here: elsewhere");
	cr_expect(pidns_may_differ(2147483600), "/proc cannot tell");
}
