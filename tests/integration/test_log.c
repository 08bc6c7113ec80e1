/*
 * test_log.c: `log` joins a service's log file and its ring of recent
 * lines by the lines' sequence numbers: every line once, in order, however
 * many lines share one read (and so one timestamp), with a ring far
 * smaller than what is asked for, and across a restart of vigild, whose
 * numbers go on from the file. A raw file (log_timestamps = no) has no
 * numbers, and is joined by counting.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "rawclient.h"

TestSuite(log, .fini = vh_teardown, .timeout = 240);


static const char *
text_of(const json_t *lines, size_t i)
{
	return reply_str(json_array_get(lines, i), "text");
}

/* The line's "seq", or 0 when it has none. */
static json_int_t
seq_of(const json_t *lines, size_t i)
{
	json_t *s = json_object_get(json_array_get(lines, i), "seq");

	return json_is_integer(s) ? json_integer_value(s) : 0;
}

/*
 * count:N's lines "line 000000" ..., each once and in order (runs of
 * period lines when count:period ran more than once), numbered from
 * first_seq (0: not checked).
 */
static void
expect_count_lines(const json_t *lines, size_t n, size_t period, json_int_t first_seq,
    const char *what)
{
	char want[32];

	cr_assert_eq(json_array_size(lines), n, "%s: %zu lines, want %zu", what,
	    json_array_size(lines), n);
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "line %06zu", i % period);
		cr_assert_str_eq(text_of(lines, i), want, "%s: line %zu (a line lost, twice "
		    "or out of order)", what, i);
		if (first_seq > 0)
			cr_assert_eq(seq_of(lines, i), first_seq + (json_int_t)i,
			    "%s: line %zu has seq %lld", what, i, (long long)seq_of(lines, i));
	}
}

Test(log, the_file_and_a_small_ring_join_exactly_by_sequence_number)
{
	json_t *r, *lines;
	struct raw c;
	char want[16];

	/*
	 * The ring holds a few lines of what is asked; burst's lines arrive
	 * 64 KiB at a time, so hundreds of them share one timestamp.
	 */
	vh_setup("[service:counter]\ncommand = %s count:400\nlog_buffer = 1K\n\n"
	    "[service:burster]\ncommand = %s burst:100000\nlog_buffer = 2K\n",
	    vh_testsvc(), vh_testsvc());
	vh_start_ok();
	raw_connect(&c);

	r = raw_log_until(&c, "log -n 1000 counter", 400);
	expect_count_lines(json_object_get(r, "lines"), 400, 400, 1, "counter");
	json_decref(r);

	/* 1000 lines: the reply stays under the raw client's 256 KiB */
	r = raw_log_until(&c, "log -n 5000 burster", 1000);
	lines = json_object_get(r, "lines");
	cr_assert_eq(json_array_size(lines), 1000, "%zu lines", json_array_size(lines));
	for (size_t i = 0; i < 1000; i++) {
		snprintf(want, sizeof(want), "%09zu ", i);
		cr_assert(strncmp(text_of(lines, i), want, 10) == 0, "line %zu is %.20s", i,
		    text_of(lines, i));
		cr_assert_eq(seq_of(lines, i), (json_int_t)i + 1);
	}
	json_decref(r);

	/* a window that starts in the file and ends in the ring */
	r = raw_request(&c, "log -n 7 counter");
	lines = json_object_get(r, "lines");
	cr_assert_eq(json_array_size(lines), 7, "%s", show(r));
	cr_expect_str_eq(text_of(lines, 0), "line 000393");
	cr_expect_eq(seq_of(lines, 6), 400);
	json_decref(r);
	raw_close(&c);
}

Test(log, numbers_go_on_after_vigild_restarts_and_log_shows_both_runs)
{
	json_t *r;
	struct raw c;
	const char *file;

	vh_setup("[service:twice]\ncommand = %s count:5\nlog_buffer = 1K\n", vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	json_decref(raw_log_until(&c, "log twice", 5));
	raw_close(&c);
	cr_assert(vh_signal_and_wait(SIGTERM, 20000), "vigild did not stop");

	/* the same configuration and log folder: the service prints its five lines again */
	vh_start_ok();
	raw_connect(&c);
	r = raw_log_until(&c, "log twice", 10);
	/* five from the file (the new ring never held them), five from the ring */
	expect_count_lines(json_object_get(r, "lines"), 10, 5, 1, "both runs");
	json_decref(r);
	raw_close(&c);
	file = vh_slurp(vh_path("logs/twice.log"));
	cr_assert_not_null(file);
	cr_expect(strstr(file, " out #5 line 000004\n") != NULL, "%s", file);
	cr_expect(strstr(file, " out #6 line 000000\n") != NULL, "the second run starts "
	    "again from 1: %s", file);
	cr_expect(strstr(file, " out #10 line 000004\n") != NULL, "%s", file);
}

Test(log, a_raw_file_joins_the_ring_by_counting)
{
	json_t *r, *lines;
	struct raw c;

	vh_setup("[service:raw]\ncommand = %s count:300\nlog_buffer = 1K\nlog_timestamps = no\n",
	    vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	r = raw_log_until(&c, "log -n 1000 raw", 300);
	lines = json_object_get(r, "lines");
	expect_count_lines(lines, 300, 300, 0, "raw");
	/* only the ring knows numbers: the oldest lines come from the file without one */
	cr_expect_eq(seq_of(lines, 0), 0, "%s", show(json_array_get(lines, 0)));
	cr_expect_eq(seq_of(lines, 299), 300, "%s", show(json_array_get(lines, 299)));
	json_decref(r);
	raw_close(&c);
}

/* What vigild has read so far, all sources together: rchar of /proc/PID/io. */
static long long
vigild_rchar(void)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)vh.pid);
	f = fopen(path, "re");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "rchar: %lld", &v) == 1)
			break;
	fclose(f);
	cr_assert_geq(v, 0, "no rchar in %s", path);
	return v;
}

Test(log, the_last_lines_of_a_big_file_cost_a_few_kib_of_reading)
{
	const size_t nlines = 80000;	/* ~8 MiB of lines of ~100 bytes */
	char logdir[512], file[600];
	long long before, read;
	json_t *r, *lines;
	struct raw c;
	FILE *f;

	snprintf(logdir, sizeof(logdir), "%s", vh_path("logs"));
	cr_assert_eq(mkdir(logdir, 0755), 0, "%s", strerror(errno));
	snprintf(file, sizeof(file), "%s/big.log", logdir);
	f = fopen(file, "we");
	cr_assert_not_null(f);
	for (size_t i = 1; i <= nlines; i++)
		fprintf(f, "2026-01-01T00:00:00.000000Z out #%zu line %07zu %s\n", i, i,
		    "................................................................");
	cr_assert_eq(fclose(f), 0);
	/* it never runs: its ring stays empty, so every line comes from the file */
	vh_setup("[service:big]\ncommand = %s\nautostart = no\n", vh_testsvc());
	vh_start_ok();
	raw_connect(&c);
	before = vigild_rchar();
	r = raw_request(&c, "log -n 10 big");
	read = vigild_rchar() - before;
	lines = json_object_get(r, "lines");
	cr_assert_eq(json_array_size(lines), 10, "%s", show(r));
	for (size_t i = 0; i < 10; i++) {
		char want[32];
		snprintf(want, sizeof(want), "line %07zu", nlines - 9 + i);
		cr_assert(strncmp(text_of(lines, i), want, strlen(want)) == 0,
		    "line %zu is \"%s\", want \"%s...\"", i, text_of(lines, i), want);
		cr_assert_eq(seq_of(lines, i), (json_int_t)(nlines - 9 + i));
	}
	/* the whole file is 8 MiB, and the old bound read 1 MiB of it */
	cr_assert_lt(read, 128 * 1024, "vigild read %lld bytes for 10 lines", read);
	json_decref(r);
	/* more lines than the first read holds: it reads further back, losing none */
	r = raw_request(&c, "log -n 1000 big");
	lines = json_object_get(r, "lines");
	cr_assert_eq(json_array_size(lines), 1000, "%zu lines", json_array_size(lines));
	for (size_t i = 0; i < 1000; i++)
		cr_assert_eq(seq_of(lines, i), (json_int_t)(nlines - 999 + i), "line %zu: %s",
		    i, show(json_array_get(lines, i)));
	json_decref(r);
	raw_close(&c);
}
