/*
 * test_top_view.c: the model and the frame of `vigilctl top`, fed with
 * event and status objects as vigild sends them: rows added and dropped,
 * CPU% between two samples, sort keys, cut names, and nothing from the
 * socket reaching the terminal as an escape sequence.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "../../ctl/top_view.h"

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	cr_assert_not_null(j, "bad test JSON: %s: %s", e.text, text);
	return j;
}

static void
status(struct top_model *m, const char *services, double now, bool sample)
{
	json_t *j = parse(services);

	cr_assert_eq(top_model_status(m, j, now, sample), 0);
	json_decref(j);
}

static void
event(struct top_model *m, const char *obj)
{
	json_t *j = parse(obj);

	cr_assert_eq(top_model_event(m, j), 0);
	json_decref(j);
}

/* The frame (malloc'd): batch, or a cols x rows screen, no colour. */
static char *
frame(struct top_model *m, bool batch, int cols, int rows, double now)
{
	size_t len;
	char *f = top_render(m, cols, rows, false, batch, now, &len);

	cr_assert_not_null(f);
	cr_assert_eq(strlen(f), len);
	return f;
}

/* Where name's row starts in a batch frame, as an index; -1 if absent. */
static long
row_at(const char *f, const char *name)
{
	char pat[80];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s ", name);
	p = strstr(f, pat);
	return p != NULL ? p - f : -1;
}

/* Columns a line takes on a terminal: CSI sequences take none. */
static size_t
visible_len(const char *s)
{
	size_t n = 0;

	while (*s != '\0') {
		if (s[0] == '\033' && s[1] == '[') {
			for (s += 2; *s != '\0' && !(*s >= '@' && *s <= '~'); s++)
				;
			if (*s != '\0')
				s++;
		} else {
			n += *s != '\r';
			s++;
		}
	}
	return n;
}

#define THREE "[{\"name\":\"web\",\"state\":\"running\",\"ready\":true,\"pid\":300," \
	"\"uptime\":10,\"restarts\":2,\"processes\":3,\"cpu\":1.0,\"last_exit\":" \
	"{\"code\":null,\"signal\":\"KILL\",\"core_dumped\":false}}," \
	"{\"name\":\"db\",\"state\":\"running\",\"ready\":true,\"pid\":200,\"uptime\":100," \
	"\"restarts\":0,\"processes\":1,\"cpu\":5.0,\"last_exit\":null}," \
	"{\"name\":\"off\",\"state\":\"stopped\",\"ready\":false,\"pid\":null,\"uptime\":null," \
	"\"restarts\":0,\"processes\":null,\"cpu\":null,\"last_exit\":{\"code\":0," \
	"\"signal\":null,\"core_dumped\":false}}]"

Test(top_view, status_rows_and_cpu_between_samples)
{
	struct top_model *m = top_model_new();
	char *f;

	top_model_set_daemon(m, "0.1.0", 42);
	status(m, THREE, 1000.0, true);
	f = frame(m, true, 0, 0, 1000.0);
	cr_expect(strstr(f, "vigild 0.1.0 (pid 42)  3 services: 2 running, 1 stopped  "
	    "sort: name\n") == f, "%s", f);
	cr_expect(strstr(f, "\nweb   running       300     10s         2       -      3  KILL\n")
	    != NULL, "%s", f);
	cr_expect(strstr(f, "\noff   stopped         -       -         0       -      -  exit 0\n")
	    != NULL, "%s", f);
	free(f);
	/* web used half a CPU second in 2 s; db none; a sooner status measures nothing */
	status(m, THREE, 1000.5, false);
	f = frame(m, true, 0, 0, 1000.5);
	cr_expect(strstr(f, "25.0") == NULL, "%s", f);
	free(f);
	status(m, "[{\"name\":\"web\",\"state\":\"running\",\"pid\":300,\"uptime\":12,"
	    "\"cpu\":1.5},{\"name\":\"db\",\"state\":\"running\",\"pid\":200,\"uptime\":102,"
	    "\"cpu\":5.0},{\"name\":\"off\",\"state\":\"stopped\"}]", 1002.0, true);
	f = frame(m, true, 0, 0, 1002.0);
	cr_expect(strstr(f, "\nweb   running       300     12s         -    25.0") != NULL, "%s", f);
	cr_expect(strstr(f, "\ndb    running       200   1m42s         -     0.0") != NULL, "%s", f);
	free(f);
	top_model_free(m);
}

Test(top_view, events_move_rows_and_a_removed_one_stays_gone)
{
	struct top_model *m = top_model_new();
	char *f;

	status(m, THREE, 1000.0, true);
	event(m, "{\"service\":\"web\",\"from\":\"running\",\"to\":\"stopping\",\"ready\":false,"
	    "\"pid\":300,\"time\":1001.0}");
	event(m, "{\"service\":\"web\",\"from\":\"stopping\",\"to\":\"stopped\",\"ready\":false,"
	    "\"pid\":null,\"time\":1001.5}");
	f = frame(m, true, 0, 0, 1002.0);
	cr_expect(strstr(f, "\nweb   stopped         -       -") != NULL, "%s", f);
	free(f);
	/* a reload added cache: its first line is a change */
	event(m, "{\"service\":\"cache\",\"from\":\"stopped\",\"to\":\"starting\",\"ready\":false,"
	    "\"pid\":null,\"time\":1003.0}");
	event(m, "{\"service\":\"cache\",\"from\":\"starting\",\"to\":\"running\",\"ready\":true,"
	    "\"pid\":400,\"time\":1004.0}");
	/* and removed db, whose stopping the stream still tells */
	event(m, "{\"service\":\"db\",\"removed\":true}");
	event(m, "{\"service\":\"db\",\"from\":\"running\",\"to\":\"stopping\",\"ready\":false,"
	    "\"pid\":200,\"time\":1004.0}");
	event(m, "{\"skipped\":3}");
	f = frame(m, true, 0, 0, 1005.0);
	cr_expect(row_at(f, "db") == -1, "%s", f);
	/* uptime from the starting line, the spawn that the pid of the next one had */
	cr_expect(strstr(f, "\ncache  running       400      2s") != NULL, "%s", f);
	cr_expect(strstr(f, "3 services: 1 running, 2 stopped") != NULL, "%s", f);
	free(f);
	cr_expect_eq(top_model_count(m), 3);
	/* a status without db settles it; one without off drops it */
	status(m, "[{\"name\":\"web\",\"state\":\"stopped\"},{\"name\":\"cache\","
	    "\"state\":\"running\",\"pid\":400,\"uptime\":2}]", 1006.0, true);
	cr_expect_eq(top_model_count(m), 2);
	top_model_free(m);
}

Test(top_view, sort_keys)
{
	struct top_model *m = top_model_new();
	char *f;

	status(m, THREE, 1000.0, true);
	f = frame(m, true, 0, 0, 1000.0);
	cr_expect(row_at(f, "db") < row_at(f, "off") && row_at(f, "off") < row_at(f, "web"));
	free(f);
	top_model_sort_by(m, TOP_SORT_NAME);	/* again: reversed */
	f = frame(m, true, 0, 0, 1000.0);
	cr_expect(row_at(f, "web") < row_at(f, "off") && row_at(f, "off") < row_at(f, "db"));
	cr_expect(strstr(f, "sort: name, reversed\n") != NULL, "%s", f);
	free(f);
	top_model_sort_by(m, TOP_SORT_PID);	/* low first, none last */
	f = frame(m, true, 0, 0, 1000.0);
	cr_expect(row_at(f, "db") < row_at(f, "web") && row_at(f, "web") < row_at(f, "off"));
	free(f);
	top_model_sort_by(m, TOP_SORT_RESTARTS);	/* most first */
	f = frame(m, true, 0, 0, 1000.0);
	cr_expect(row_at(f, "web") < row_at(f, "db"), "%s", f);
	free(f);
	top_model_sort_by(m, TOP_SORT_UPTIME);	/* longest first */
	f = frame(m, true, 0, 0, 1000.0);
	cr_expect(row_at(f, "db") < row_at(f, "web") && row_at(f, "web") < row_at(f, "off"));
	free(f);
	top_model_sort_step(m, -1);
	cr_expect_str_eq(top_sort_name(TOP_SORT_PID), "pid");
	f = frame(m, true, 0, 0, 1000.0);
	cr_expect(strstr(f, "sort: pid\n") != NULL, "%s", f);
	free(f);
	top_model_sort_step(m, 1);
	top_model_sort_step(m, 1);
	top_model_sort_step(m, 1);
	top_model_sort_step(m, 1);
	top_model_sort_step(m, 1);	/* past procs: back to name */
	f = frame(m, true, 0, 0, 1000.0);
	cr_expect(strstr(f, "sort: name\n") != NULL, "%s", f);
	free(f);
	top_model_free(m);
}

Test(top_view, a_screen_cuts_names_and_lines_and_scrolls)
{
	struct top_model *m = top_model_new();
	char *f, *line, *save;
	int n = 0;

	status(m, "[{\"name\":\"a-name-that-is-longer-than-the-room\",\"state\":\"running\","
	    "\"pid\":1},{\"name\":\"b\",\"state\":\"running\",\"pid\":2},{\"name\":\"c\","
	    "\"state\":\"running\",\"pid\":3},{\"name\":\"d\",\"state\":\"running\",\"pid\":4}]",
	    1000.0, true);
	/* 70 columns leave NAME 8; 5 lines leave room for 2 rows */
	f = frame(m, false, 70, 5, 1000.0);
	cr_expect(strncmp(f, "\033[H", 3) == 0);
	cr_expect(strstr(f, "a-name-~  running") != NULL, "%s", f);
	cr_expect(strstr(f, "\nc ") == NULL, "%s", f);
	cr_expect(strstr(f, "[1-2 of 4] q quit") != NULL, "%s", f);
	for (line = strtok_r(f, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		cr_expect_leq(visible_len(line), 70, "<%s>", line);
		n++;
	}
	cr_expect_eq(n, 5, "lines");
	free(f);
	top_model_scroll(m, 10);	/* clamped to the last rows */
	f = frame(m, false, 70, 5, 1000.0);
	cr_expect(strstr(f, "\nc ") != NULL && strstr(f, "\nd ") != NULL, "%s", f);
	cr_expect(strstr(f, "[3-4 of 4]") != NULL, "%s", f);
	free(f);
	top_model_free(m);
}

Test(top_view, text_from_the_socket_is_no_escape_sequence)
{
	struct top_model *m = top_model_new();
	char *f;

	top_model_set_daemon(m, "1.0\033[2J", 1);
	status(m, "[{\"name\":\"x\\u001b[31m\",\"state\":\"run\\u001bning\",\"last_exit\":"
	    "{\"signal\":\"KI\\u001b[0mLL\"}}]", 1000.0, true);
	f = frame(m, true, 0, 0, 1000.0);
	cr_expect(strchr(f, '\033') == NULL, "%s", f);
	cr_expect(strstr(f, "vigild 1.0?[2J") != NULL, "%s", f);
	cr_expect(strstr(f, "\nx?[31m  run?ning") != NULL, "%s", f);
	free(f);
	top_model_free(m);
}
