/*
 * test_output.c: what becomes of a service's stdout and stderr: NAME.log
 * lines with timestamps and stream tags, rotation, long and partial lines,
 * the other targets (null, file, inherit), reopening, a full disk, a flood
 * next to a control request, and `vigilctl log -f`.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

TestSuite(output, .fini = vh_teardown, .timeout = 120);

/* ---- reading log files ---- */

struct blob {
	char	*data;		/* NUL-terminated for convenience; may hold NULs */
	size_t	 len;
};

static struct blob
slurp(const char *path)
{
	struct blob b = { NULL, 0 };
	FILE *f = fopen(path, "r");
	size_t cap = 0;

	if (f == NULL) {
		b.data = calloc(1, 1);
		return b;
	}
	for (;;) {
		if (b.len + 65536 + 1 > cap) {
			cap = cap ? 2 * cap : 131072;
			cr_assert_not_null(b.data = realloc(b.data, cap));
		}
		size_t n = fread(b.data + b.len, 1, cap - b.len - 1, f);
		if (n == 0)
			break;
		b.len += n;
	}
	fclose(f);
	b.data[b.len] = '\0';
	return b;
}

static bool
file_contains(const char *path, const char *needle)
{
	struct blob b = slurp(path);
	bool found = memmem(b.data, b.len, needle, strlen(needle)) != NULL;

	free(b.data);
	return found;
}

static bool
wait_file_contains(const char *path, const char *needle, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	do {
		if (file_contains(path, needle))
			return true;
		usleep(10000);
	} while (vh_now_ms() < deadline);
	return false;
}

static bool
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fclose(f);
}

static int64_t
wall_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static long long
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One line of NAME.log with timestamps: "2026-11-28T01:30:36.123456Z out #SEQ TEXT". */
struct log_entry {
	int64_t	 usec;
	char	 tag[8];	/* out, err, out+, err+ */
	unsigned long long seq;
	const char *text;
	size_t	 len;
};

static bool
digits(const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* RFC 3339, UTC, exactly six fractional digits, then one space, tag, space, #SEQ, space */
static bool
parse_entry(const char *line, size_t len, struct log_entry *e)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ ";
	struct tm tm = { 0 };
	const char *tag = line + 28, *sp;
	char *end;

	if (len < 28 + 4)
		return false;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !digits(line + i, 1) : line[i] != shape[i])
			return false;
	if ((sp = memchr(tag, ' ', len - 28)) == NULL || sp - tag > 4)
		return false;
	snprintf(e->tag, sizeof(e->tag), "%.*s", (int)(sp - tag), tag);
	if (strcmp(e->tag, "out") != 0 && strcmp(e->tag, "err") != 0 &&
	    strcmp(e->tag, "out+") != 0 && strcmp(e->tag, "err+") != 0)
		return false;
	tm.tm_year = atoi(line) - 1900;
	tm.tm_mon = atoi(line + 5) - 1;
	tm.tm_mday = atoi(line + 8);
	tm.tm_hour = atoi(line + 11);
	tm.tm_min = atoi(line + 14);
	tm.tm_sec = atoi(line + 17);
	e->usec = (int64_t)timegm(&tm) * 1000000 + atoi(line + 20);
	if ((size_t)(sp + 2 - line) >= len || sp[1] != '#' || !digits(sp + 2, 1))
		return false;
	e->seq = strtoull(sp + 2, &end, 10);
	if (end >= line + len || *end != ' ')
		return false;
	e->text = end + 1;
	e->len = len - (size_t)(e->text - line);
	return true;
}

struct lines {
	struct blob b;
	const char **at;
	size_t	*len;
	size_t	 n;
};

/*
 * Split a file into lines. A file nobody writes any more must end with a
 * newline (else a line was split); one still being written may end with
 * part of a write, which is left out.
 */
static struct lines
read_lines_of(const char *path, bool settled)
{
	struct lines l = { slurp(path), NULL, NULL, 0 };
	size_t cap = 0;

	cr_assert(!settled || l.b.len == 0 || l.b.data[l.b.len - 1] == '\n',
	    "%s does not end with a newline: a line was split", path);
	for (const char *p = l.b.data, *end = l.b.data + l.b.len; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			break;
		if (l.n == cap) {
			cap = cap ? 2 * cap : 256;
			l.at = realloc(l.at, cap * sizeof(*l.at));
			l.len = realloc(l.len, cap * sizeof(*l.len));
			cr_assert(l.at && l.len);
		}
		l.at[l.n] = p;
		l.len[l.n++] = (size_t)(nl - p);
		p = nl + 1;
	}
	return l;
}

static struct lines
read_lines(const char *path)
{
	return read_lines_of(path, true);
}

static struct lines
read_live_lines(const char *path)
{
	return read_lines_of(path, false);
}

static void
lines_free(struct lines *l)
{
	free(l->b.data);
	free(l->at);
	free(l->len);
}

static const char *
log_of(const char *name)
{
	static char buf[4][512];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/logs/%s.log", vh.dir, name);
	return b;
}

/* ---- talking to vigild ---- */

static long long
status_int(const char *name, const char *field)
{
	json_t *s = vh_service(name);
	json_t *v = json_object_get(s, field);
	long long n = json_is_integer(v) ? json_integer_value(v) : -1;

	json_decref(s);
	return n;
}

static int
count_log_lines_with(const char *path, const char *needle)
{
	struct lines l = read_live_lines(path);
	int n = 0;

	for (size_t i = 0; i < l.n; i++)
		n += memmem(l.at[i], l.len[i], needle, strlen(needle)) != NULL;
	lines_free(&l);
	return n;
}

/* ---- streams, tags, timestamps ---- */

static char *
pairs_command(int n)
{
	char *cmd = malloc((size_t)n * 64 + 512), *p = cmd;

	/* config lines are short: long values continue on indented lines */
	p += sprintf(p, "%s", vh_testsvc());
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s echo:o-%03d err:e-%03d", i % 8 ? "" : "\n   ", i, i);
	return cmd;
}

Test(output, stdout_and_stderr_land_tagged_and_timestamped_in_order_per_stream)
{
	char *cmd = pairs_command(40);
	int64_t t0 = wall_usec() - 1000000, t1;
	int next_out = 0, next_err = 0;
	struct lines l;

	vh_setup("[service:pairs]\ncommand = %s\n", cmd);
	free(cmd);
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("pairs"), " o-039\n", 10000));
	cr_assert(wait_file_contains(log_of("pairs"), " e-039\n", 10000));
	t1 = wall_usec() + 1000000;
	l = read_lines(log_of("pairs"));
	cr_expect_eq(l.n, 80, "%zu lines, want 80", l.n);
	for (size_t i = 0; i < l.n; i++) {
		struct log_entry e;
		int k;

		cr_assert(parse_entry(l.at[i], l.len[i], &e), "bad line: %.*s", (int)l.len[i], l.at[i]);
		cr_expect(e.usec >= t0 && e.usec <= t1, "timestamp out of the test's time: %.*s",
		    (int)l.len[i], l.at[i]);
		cr_expect_eq(e.seq, i + 1, "sequence numbers go up by one in the file: %.*s",
		    (int)l.len[i], l.at[i]);
		cr_assert_eq(e.len, 5, "text: %.*s", (int)e.len, e.text);
		k = atoi(e.text + 2);
		if (e.text[0] == 'o') {
			cr_expect_str_eq(e.tag, "out", "%.*s", (int)l.len[i], l.at[i]);
			cr_expect_eq(k, next_out++, "stdout out of order: %.*s", (int)l.len[i], l.at[i]);
		} else {
			cr_expect_str_eq(e.tag, "err", "%.*s", (int)l.len[i], l.at[i]);
			cr_expect_eq(k, next_err++, "stderr out of order: %.*s", (int)l.len[i], l.at[i]);
		}
	}
	lines_free(&l);
}

Test(output, stderr_into_stdout_keeps_the_exact_order_all_tagged_out)
{
	char *cmd = pairs_command(40);
	struct lines l;

	vh_setup("[service:merged]\ncommand = %s\nstderr = stdout\n", cmd);
	free(cmd);
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("merged"), " e-039\n", 10000));
	l = read_lines(log_of("merged"));
	cr_assert_eq(l.n, 80, "%zu lines, want 80", l.n);
	for (size_t i = 0; i < l.n; i++) {
		struct log_entry e;
		char want[32];

		cr_assert(parse_entry(l.at[i], l.len[i], &e), "bad line: %.*s", (int)l.len[i], l.at[i]);
		snprintf(want, sizeof(want), "%c-%03zu", i % 2 ? 'e' : 'o', i / 2);
		cr_expect_str_eq(e.tag, "out", "%.*s", (int)l.len[i], l.at[i]);
		cr_expect(e.len == 5 && memcmp(e.text, want, 5) == 0, "line %zu is %.*s, want %s",
		    i, (int)e.len, e.text, want);
	}
	lines_free(&l);
	cr_expect(!exists(vh_path("logs/merged.log.1")));
}

Test(output, log_timestamps_no_writes_raw_lines_and_a_service_may_differ)
{
	struct blob b;
	struct lines l;
	struct log_entry e;

	vh_setup("log_timestamps = no\n\n"
	    "[service:raw]\ncommand = %s echo:hello err:world echo:again\nstderr = stdout\n\n"
	    "[service:stamped]\ncommand = %s echo:hello\nlog_timestamps = yes\n",
	    vh_testsvc(), vh_testsvc());
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("raw"), "again\n", 10000));
	b = slurp(log_of("raw"));
	cr_expect_str_eq(b.data, "hello\nworld\nagain\n");
	free(b.data);
	cr_assert(wait_file_contains(log_of("stamped"), "hello\n", 10000));
	l = read_lines(log_of("stamped"));
	cr_assert_eq(l.n, 1);
	cr_expect(parse_entry(l.at[0], l.len[0], &e) && strcmp(e.tag, "out") == 0 &&
	    e.len == 5 && memcmp(e.text, "hello", 5) == 0, "%.*s", (int)l.len[0], l.at[0]);
	lines_free(&l);
}

/* ---- rotation ---- */

/*
 * NAME.log.KEEP ... NAME.log.1, NAME.log hold whole lines "WORD %06d",
 * numbered consecutively from the oldest file to the newest; nothing else
 * named NAME.log* exists. Returns the first and last numbers.
 */
static void
check_rotated(const char *name, unsigned keep, const char *word, long *first, long *last)
{
	char path[600], prefix[80];
	long prev = -1;
	DIR *d;
	struct dirent *de;
	unsigned seen = 0;

	snprintf(prefix, sizeof(prefix), "%s.log", name);
	cr_assert_not_null(d = opendir(vh_path("logs")));
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long k;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		seen++;
		if (strcmp(de->d_name, prefix) == 0)
			continue;
		cr_expect(de->d_name[strlen(prefix)] == '.', "unexpected file %s", de->d_name);
		k = strtoul(de->d_name + strlen(prefix) + 1, &end, 10);
		cr_expect(*end == '\0' && k >= 1 && k <= keep, "unexpected file %s (log_keep = %u)",
		    de->d_name, keep);
	}
	closedir(d);
	cr_expect_eq(seen, keep + 1, "%u files named %s*, want %u", seen, prefix, keep + 1);

	*first = -1;
	for (unsigned k = keep + 1; k-- > 0; ) {
		struct lines l;

		if (k > 0)
			snprintf(path, sizeof(path), "%s/logs/%s.%u", vh.dir, prefix, k);
		else
			snprintf(path, sizeof(path), "%s/logs/%s", vh.dir, prefix);
		cr_assert(exists(path), "%s is missing", path);
		l = read_lines(path);
		cr_expect_gt(l.n, 0, "%s is empty", path);
		for (size_t i = 0; i < l.n; i++) {
			struct log_entry e;
			char want[64];
			long num;

			cr_assert(parse_entry(l.at[i], l.len[i], &e), "%s: bad line: %.*s", path,
			    (int)l.len[i], l.at[i]);
			cr_assert_str_eq(e.tag, "out");
			num = strtol(e.text + strlen(word) + 1, NULL, 10);
			snprintf(want, sizeof(want), "%s %06ld", word, num);
			cr_assert(e.len == strlen(want) && memcmp(e.text, want, e.len) == 0,
			    "%s: not a whole line: %.*s", path, (int)l.len[i], l.at[i]);
			cr_assert(prev == -1 || num == prev + 1,
			    "%s: line %ld follows %ld (lost, repeated or reordered)", path, num, prev);
			if (*first == -1)
				*first = num;
			prev = num;
		}
		lines_free(&l);
	}
	*last = prev;
}

/* the number on the first line "WORD %06d" of a file, -1 if none */
static long
first_number_in(const char *path, const char *word)
{
	struct lines l = read_live_lines(path);
	struct log_entry e;
	long n = -1;

	if (l.n > 0 && parse_entry(l.at[0], l.len[0], &e) && e.len > strlen(word) + 1)
		n = strtol(e.text + strlen(word) + 1, NULL, 10);
	lines_free(&l);
	return n;
}

Test(output, rotation_of_small_writes_keeps_exactly_log_keep_files_of_whole_lines)
{
	long long deadline;
	long first, last;
	struct vh_result *r = malloc(sizeof(*r));

	vh_setup("[service:rot]\ncommand = %s every:1:n\nlog_max_size = 4K\nlog_keep = 2\n",
	    vh_testsvc());
	cr_assert(vh_start());
	/* at least a few files' worth were dropped from the end of the rotation */
	deadline = vh_now_ms() + 60000;
	while (first_number_in(vh_path("logs/rot.log.2"), "n") < 400 && vh_now_ms() < deadline)
		usleep(20000);
	cr_assert_geq(first_number_in(vh_path("logs/rot.log.2"), "n"), 400,
	    "rotation did not go round within 60 s");
	cr_assert_eq(vh_ctl(r, "stop", "rot", NULL), 0, "%s", r->err);
	free(r);
	check_rotated("rot", 2, "n", &first, &last);
	cr_expect_gt(first, 0, "the oldest lines were never dropped");
}

Test(output, rotation_of_big_batches_never_splits_a_line)
{
	long first, last;

	/* 20000 lines come in reads of up to 64 KiB: each batch is a whole file */
	vh_setup("[service:big]\ncommand = %s count:20000\nlog_max_size = 4K\nlog_keep = 2\n",
	    vh_testsvc());
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("big"), " line 019999\n", 20000));
	check_rotated("big", 2, "line", &first, &last);
	cr_expect_eq(last, 19999);
	cr_expect_gt(first, 0, "the oldest lines were never dropped");
}

/* ---- long and partial lines, bytes ---- */

static char *
pattern(size_t n)
{
	char *s = malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	s[n] = '\0';
	return s;
}

Test(output, a_line_over_16k_is_split_and_later_pieces_are_marked)
{
	const size_t n = 40000;
	char *want = pattern(n), *got = malloc(n + 1);
	size_t got_len = 0;
	struct lines l;

	vh_setup("[service:long]\ncommand = %s line:%zu echo:after\n", vh_testsvc(), n);
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("long"), " after\n", 10000));
	l = read_lines(log_of("long"));
	cr_assert_eq(l.n, 4, "%zu lines: want pieces of 16384, 16384, 7232 and 'after'", l.n);
	for (size_t i = 0; i < 3; i++) {
		struct log_entry e;

		cr_assert(parse_entry(l.at[i], l.len[i], &e));
		cr_expect_str_eq(e.tag, i == 0 ? "out" : "out+", "piece %zu", i);
		cr_expect_leq(e.len, 16384, "piece %zu is %zu bytes", i, e.len);
		memcpy(got + got_len, e.text, e.len);
		got_len += e.len;
	}
	cr_expect_eq(got_len, n);
	cr_expect(memcmp(got, want, n) == 0, "the pieces do not add up to the line");
	{
		struct log_entry e;
		cr_assert(parse_entry(l.at[3], l.len[3], &e));
		cr_expect_str_eq(e.tag, "out", "the line after a split one is not a continuation");
	}
	lines_free(&l);
	free(want);
	free(got);
}

Test(output, a_line_of_exactly_16k_is_not_split_even_if_its_newline_comes_late)
{
	char *want = pattern(16384);
	struct lines l;
	struct log_entry e;

	/* the newline arrives 300 ms after the 16384 bytes: a separate read */
	vh_setup("[service:edge]\ncommand = %s line:16384:300 echo:after\n", vh_testsvc());
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("edge"), " after\n", 10000));
	l = read_lines(log_of("edge"));
	cr_expect_eq(l.n, 2, "%zu lines, want the 16384-byte line and 'after'", l.n);
	cr_assert(parse_entry(l.at[0], l.len[0], &e));
	cr_expect_str_eq(e.tag, "out");
	cr_expect(e.len == 16384 && memcmp(e.text, want, 16384) == 0);
	if (l.n > 1) {
		cr_assert(parse_entry(l.at[1], l.len[1], &e));
		cr_expect(strcmp(e.tag, "out") == 0 && e.len == 5 && memcmp(e.text, "after", 5) == 0,
		    "second line: %.*s", (int)l.len[1], l.at[1]);
	}
	lines_free(&l);
	free(want);
}

Test(output, a_partial_last_line_is_written_when_the_process_exits)
{
	struct lines l;
	struct log_entry e;

	vh_setup("[service:part]\ncommand = %s echo:first partial:no-newline-at-the-end exit:0\n"
	    "restart = never\n", vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_state("part", "exited", 10000));
	cr_assert(wait_file_contains(log_of("part"), " no-newline-at-the-end\n", 10000),
	    "the partial line never reached the file");
	l = read_lines(log_of("part"));
	cr_expect_eq(l.n, 2);
	cr_assert(parse_entry(l.at[l.n - 1], l.len[l.n - 1], &e));
	cr_expect_str_eq(e.tag, "out");
	lines_free(&l);
}

Test(output, non_utf8_bytes_reach_the_file_untouched)
{
	static const char want[] = "\xff\xfe\xc3\x28\x80\x00\x41\n\xe2\x82\n\xf0\x9f\x98\x80\n";
	struct blob b;
	long long deadline;

	vh_setup("[service:bin]\ncommand = %s bytes:fffec3288000410ae2820af09f98800a\n"
	    "log_timestamps = no\n", vh_testsvc());
	cr_assert(vh_start());
	deadline = vh_now_ms() + 10000;
	do {
		b = slurp(log_of("bin"));
		if (b.len >= sizeof(want) - 1)
			break;
		free(b.data);
		b.data = NULL;
		usleep(10000);
	} while (vh_now_ms() < deadline);
	cr_assert_not_null(b.data, "the bytes never reached the file");
	cr_expect_eq(b.len, sizeof(want) - 1);
	cr_expect(memcmp(b.data, want, sizeof(want) - 1) == 0, "bytes changed on the way");
	free(b.data);
}

/* ---- processes ---- */

Test(output, a_grandchilds_output_after_the_main_process_died_is_captured)
{
	/* kill_mode = main: the grandchild outlives the main process (by default it would not) */
	vh_setup("[service:family]\ncommand = %s echo:parent orphan-echo:from-the-grandchild:200 "
	    "exit:0\nrestart = never\nkill_mode = main\n", vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_state("family", "exited", 10000));
	/* the grandchild writes only once the main process is reaped */
	cr_expect(wait_file_contains(log_of("family"), " from-the-grandchild\n", 10000),
	    "the orphan's line was lost");
	cr_expect(file_contains(log_of("family"), " parent\n"));
}

static void
pipe_inode(pid_t pid, int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

Test(output, child_holds_only_0_1_2_and_1_2_are_its_service_pipes_for_life)
{
	char o1[64], e1[64], z[64], o2[64], m1[64], m2[64];
	struct vh_result *r = malloc(sizeof(*r));
	struct blob b;
	long pid, pid2;

	vh_setup("[service:sep]\ncommand = %s pid:%s\n  fds:%s\n\n"
	    "[service:one]\ncommand = %s pid:%s\nstderr = stdout\n",
	    vh_testsvc(), vh_path("sep.pid"), vh_path("fds"), vh_testsvc(), vh_path("one.pid"));
	cr_assert(vh_start());
	cr_assert(vh_wait_file(vh_path("fds"), 10000));
	cr_assert(vh_wait_file(vh_path("one.pid"), 10000));
	b = slurp(vh_path("fds"));
	cr_expect_str_eq(b.data, "0\n1\n2\n");
	free(b.data);
	pid = vh_read_long(vh_path("sep.pid"));
	pipe_inode((pid_t)pid, 0, z, sizeof(z));
	pipe_inode((pid_t)pid, 1, o1, sizeof(o1));
	pipe_inode((pid_t)pid, 2, e1, sizeof(e1));
	cr_expect_str_eq(z, "/dev/null");
	cr_expect(strncmp(o1, "pipe:[", 6) == 0, "fd 1 is %s", o1);
	cr_expect(strncmp(e1, "pipe:[", 6) == 0, "fd 2 is %s", e1);
	cr_expect_str_neq(o1, e1, "stdout and stderr share a pipe");
	pipe_inode((pid_t)vh_read_long(vh_path("one.pid")), 1, m1, sizeof(m1));
	pipe_inode((pid_t)vh_read_long(vh_path("one.pid")), 2, m2, sizeof(m2));
	cr_expect(strncmp(m1, "pipe:[", 6) == 0, "fd 1 is %s", m1);
	cr_expect_str_eq(m1, m2, "stderr = stdout: one pipe");

	/* the next run writes into the same pipe */
	unlink(vh_path("sep.pid"));
	cr_assert_eq(vh_ctl(r, "restart", "sep", NULL), 0, "%s", r->err);
	free(r);
	cr_assert(vh_wait_file(vh_path("sep.pid"), 10000));
	pid2 = vh_read_long(vh_path("sep.pid"));
	cr_assert_neq(pid2, pid);
	pipe_inode((pid_t)pid2, 1, o2, sizeof(o2));
	cr_expect_str_eq(o2, o1, "a new run got a new pipe");
}

/* ---- the other targets ---- */

Test(output, stdout_null_discards_and_stderr_still_logs)
{
	vh_setup("[service:quiet]\ncommand = %s echo:into-the-void err:still-here\nstdout = null\n",
	    vh_testsvc());
	cr_assert(vh_start());
	/* the err line is written after the out one: once it is there, both were */
	cr_assert(wait_file_contains(log_of("quiet"), " still-here\n", 10000));
	cr_expect(file_contains(log_of("quiet"), "Z err #1 still-here\n"));
	cr_expect(!file_contains(log_of("quiet"), "into-the-void"));
	cr_expect(!vh_log_contains("into-the-void"));
}

Test(output, stdout_to_a_file_gets_the_raw_output)
{
	struct blob b;

	vh_setup("[service:tofile]\ncommand = %s echo:first echo:second err:done\n"
	    "stdout = file:%s\n", vh_testsvc(), vh_path("tofile.out"));
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("tofile"), " done\n", 10000));
	cr_expect(file_contains(log_of("tofile"), "Z err #1 done\n"));
	b = slurp(vh_path("tofile.out"));
	cr_expect_str_eq(b.data, "first\nsecond\n");
	free(b.data);
	cr_expect(!file_contains(log_of("tofile"), "first"));
}

Test(output, stdout_and_stderr_inherit_go_to_vigilds_own)
{
	vh_setup("[service:loud]\ncommand = %s echo:inherited-out-line err:inherited-err-line\n"
	    "stdout = inherit\nstderr = inherit\n", vh_testsvc());
	cr_assert(vh_start());
	cr_assert(wait_file_contains(vh.log, "inherited-out-line\n", 10000));
	cr_assert(wait_file_contains(vh.log, "inherited-err-line\n", 10000));
	cr_expect(!exists(log_of("loud")), "nothing is captured, so no log file");
}

/*
 * log_console: captured lines also reach vigild's own stdout and stderr
 * (both the harness's log file here) as "NAME | line", names padded to the
 * longest, while the log file and the ring still get them.
 */
Test(output, log_console_copies_captured_lines_to_vigilds_own_output)
{
	vh_setup("[vigil]\nlog_console = yes\n\n[service:talker]\ncommand = %s "
	    "echo:console-out-line err:console-err-line\n\n[service:a]\ncommand = %s "
	    "echo:short-name-line\n", vh_testsvc(), vh_testsvc());
	cr_assert(vh_start());
	cr_assert(wait_file_contains(vh.log, "talker | console-out-line\n", 10000),
	    "log:\n%s", vh_log_tail());
	cr_assert(wait_file_contains(vh.log, "talker | console-err-line\n", 10000),
	    "log:\n%s", vh_log_tail());
	cr_assert(wait_file_contains(vh.log, "a      | short-name-line\n", 10000),
	    "log:\n%s", vh_log_tail());
	cr_expect(wait_file_contains(log_of("talker"), "console-out-line\n", 10000),
	    "the service's own log still gets it");
}

/* Off unless asked for (vigild is not PID 1 here): the lines stay in the service's log. */
Test(output, log_console_is_off_by_default_outside_pid_1)
{
	vh_setup("[service:talker]\ncommand = %s echo:quiet-line\n", vh_testsvc());
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("talker"), "quiet-line\n", 10000));
	/* the copy would have been written in the same loop turn as the file's */
	cr_expect(!vh_log_contains("| quiet-line"), "log:\n%s", vh_log_tail());
}

/* ---- reopening ---- */

/* numbers of "tick %06d" lines in a file: first and last, and whether consecutive */
static bool
tick_range(const char *path, long *first, long *last)
{
	struct lines l = read_live_lines(path);
	bool ok = true;

	*first = *last = -1;
	for (size_t i = 0; i < l.n; i++) {
		struct log_entry e;
		long num;

		if (!parse_entry(l.at[i], l.len[i], &e) || e.len != 11 ||
		    memcmp(e.text, "tick ", 5) != 0) {
			ok = false;
			break;
		}
		num = strtol(e.text + 5, NULL, 10);
		if (*first == -1)
			*first = num;
		else if (num != *last + 1)
			ok = false;
		*last = num;
	}
	lines_free(&l);
	return ok;
}

Test(output, sigusr1_reopens_the_log_after_it_was_moved)
{
	const char *moved = vh_path("logs/ticker.log.moved");
	long long deadline;
	long of, ol, nf = -1, nl = -1;

	vh_setup("[service:ticker]\ncommand = %s every:10:tick\n", vh_testsvc());
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("ticker"), " tick 000005\n", 10000));
	cr_assert_eq(rename(log_of("ticker"), moved), 0, "%s", strerror(errno));
	cr_assert_eq(kill(vh.pid, SIGUSR1), 0);
	cr_assert(wait_file_contains(vh.log, "reopened the services' log files", 10000));
	deadline = vh_now_ms() + 10000;
	do {
		if (exists(log_of("ticker")) && tick_range(log_of("ticker"), &nf, &nl) &&
		    nl - nf >= 5)
			break;
		usleep(10000);
	} while (vh_now_ms() < deadline);
	cr_assert(nf >= 0 && nl - nf >= 5, "no fresh ticker.log filling after SIGUSR1");
	cr_expect(tick_range(moved, &of, &ol), "the moved file has a broken sequence");
	cr_expect_eq(of, 0);
	cr_expect(tick_range(log_of("ticker"), &nf, &nl), "the fresh file has a broken sequence");
	cr_expect_eq(nf, ol + 1, "the moved file ends at %ld, the fresh one starts at %ld", ol, nf);
}

/* ---- a full disk ---- */

static bool mounted;

/* Read inotify events until n IN_OPEN came; false after timeout_ms. */
static bool
wait_opens(int ino, int n, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int seen = 0;

	while (seen < n) {
		long long left = deadline - vh_now_ms();
		struct pollfd p = { ino, POLLIN, 0 };
		ssize_t len;

		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if ((len = read(ino, buf, sizeof(buf))) <= 0)
			continue;
		for (char *e = buf; e < buf + len;
		    e += sizeof(struct inotify_event) + ((struct inotify_event *)e)->len)
			seen += (((struct inotify_event *)e)->mask & IN_OPEN) != 0;
	}
	return true;
}

/* Write path until its file system has no room left. */
static void
fill_up(const char *path)
{
	static const char block[512];
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	cr_assert_neq(fd, -1, "%s: %s", path, strerror(errno));
	while (write(fd, block, sizeof(block)) > 0)
		;
	while (write(fd, block, 1) > 0)
		;
	cr_assert_eq(errno, ENOSPC, "filling %s: %s", path, strerror(errno));
	close(fd);
}

static void
full_disk_fini(void)
{
	/* vigild holds the file open: stop it before the tmpfs goes */
	if (vh.pid > 0 && !vh_signal_and_wait(SIGTERM, 20000))
		vh_signal_and_wait(SIGKILL, 5000);
	if (mounted && umount2(vh_path("logs"), 0) == -1 &&
	    umount2(vh_path("logs"), MNT_DETACH) == -1)
		fprintf(stderr, "umount %s: %s\n", vh_path("logs"), strerror(errno));
	mounted = false;
	vh_teardown();
}

Test(output, a_full_disk_is_reported_once_counted_and_the_service_keeps_running,
    .fini = full_disk_fini)
{
	const char *dropping = "dropping output until it works again";
	long pid;
	long long dropped;
	int ino;

	if (geteuid() != 0)
		VH_SKIP("a_full_disk: mounting a small tmpfs as the log folder needs root, and "
		    "this suite runs as euid %d", (int)geteuid());
	/*
	 * A mount namespace of our own: the tmpfs is invisible outside and goes
	 * away with the last process in it, even if this test is killed.
	 */
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		VH_SKIP("a_full_disk: no private mount namespace here: %s", strerror(errno));
	vh_setup("[service:full]\ncommand = %s pid:%s burst:1000000 every:20:more\n",
	    vh_testsvc(), vh_path("full.pid"));
	cr_assert_eq(mkdir(vh_path("logs"), 0755), 0);
	/* 0755: a tmpfs root is 1777 by default, and vigild refuses a log folder others may write */
	if (mount("tmpfs", vh_path("logs"), "tmpfs", 0, "size=256k,mode=0755") == -1)
		VH_SKIP("a_full_disk: cannot mount a tmpfs: %s", strerror(errno));
	mounted = true;
	cr_assert(vh_start());
	cr_assert(vh_wait_file(vh_path("full.pid"), 10000));
	pid = vh_read_long(vh_path("full.pid"));
	cr_assert(wait_file_contains(vh.log, dropping, 20000), "the full disk was not reported");
	/*
	 * The torn batch vigild took back left some room, which a short line
	 * may fit: take it all, so that the disk stays full for the retries.
	 */
	fill_up(vh_path("logs/filler"));
	/*
	 * Two retries with the service still writing: no second report. Each
	 * retry opens the file again, and nobody else opens it meanwhile.
	 */
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	cr_assert_neq(ino, -1, "inotify_init1: %s", strerror(errno));
	cr_assert_neq(inotify_add_watch(ino, log_of("full"), IN_OPEN), -1, "inotify_add_watch: %s",
	    strerror(errno));
	cr_assert(wait_opens(ino, 2, 20000), "vigild did not retry the full log file twice");
	close(ino);
	cr_expect_eq(count_log_lines_with(vh.log, dropping), 1, "the failure was reported %d times",
	    count_log_lines_with(vh.log, dropping));
	cr_expect(vh_wait_state("full", "running", 10000));
	cr_expect_eq(status_int("full", "pid"), pid, "the service was restarted");
	cr_expect_eq(status_int("full", "restarts"), 0);
	cr_expect(vh_pid_alive((pid_t)pid));

	{
		struct vh_result *r = malloc(sizeof(*r));

		dropped = status_int("full", "log_dropped_bytes");
		cr_expect_gt(dropped, 0, "log_dropped_bytes is %lld", dropped);
		/* the ring still has the latest lines */
		cr_expect_eq(vh_ctl(r, "log", "-n", "1", "full", NULL), 0, "%s", r->err);
		cr_expect(strstr(r->out, "more ") != NULL, "log -n 1: %s", r->out);
		free(r);
	}

	/* what did reach the file is whole lines: no torn line at the end */
	{
		struct lines l = read_live_lines(log_of("full"));
		bool whole = l.b.len > 0 && l.b.data[l.b.len - 1] == '\n';

		for (size_t i = 0; i < l.n; i++) {
			struct log_entry e;
			whole &= parse_entry(l.at[i], l.len[i], &e) &&
			    (e.len == 99 || (e.len == 11 && memcmp(e.text, "more ", 5) == 0));
		}
		cr_expect(whole, "full.log (%zu bytes) is not all whole lines; it ends ...%.40s", l.b.len,
		    l.b.len > 40 ? l.b.data + l.b.len - 40 : l.b.data);
		lines_free(&l);
	}

	/* space comes back: logging resumes by itself */
	cr_assert_eq(unlink(vh_path("logs/filler")), 0, "%s", strerror(errno));
	cr_assert_eq(truncate(log_of("full"), 0), 0, "%s", strerror(errno));
	cr_expect(wait_file_contains(vh.log, "works again", 10000), "logging did not resume");
	cr_expect(wait_file_contains(log_of("full"), " more ", 10000));
}

/* ---- a flood next to a control request ---- */

Test(output, a_20mb_burst_arrives_whole_and_in_order)
{
	const long lines = 20 * 1024 * 1024 / 100;
	char last[32];
	struct lines l;

	vh_setup("[service:burst]\ncommand = %s burst:%ld\nlog_max_size = 0\n",
	    vh_testsvc(), lines * 100);
	cr_assert(vh_start());
	snprintf(last, sizeof(last), " %09ld ", lines - 1);
	cr_assert(wait_file_contains(log_of("burst"), last, 60000));
	l = read_lines(log_of("burst"));
	cr_assert_eq(l.n, (size_t)lines, "%zu lines, want %ld", l.n, lines);
	for (size_t i = 0; i < l.n; i++) {
		struct log_entry e;

		cr_assert(parse_entry(l.at[i], l.len[i], &e), "bad line %zu", i);
		cr_assert(e.len == 99 && strtol(e.text, NULL, 10) == (long)i && e.text[9] == ' ' &&
		    e.seq == i + 1,
		    "line %zu is %.*s", i, (int)(e.len > 20 ? 20 : e.len), e.text);
	}
	lines_free(&l);
}

static long long
wchar_of(pid_t pid)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "wchar: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * One "status NAME" over a fresh connection, without vigilctl: the loop's
 * own answer. Fails the test if none comes within a generous deadline.
 */
static void
raw_status(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	long long deadline = vh_now_ms() + 20000;
	char req[128], buf[4096];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t got = 0;

	memcpy(sun.sun_path, vh.sock, strlen(vh.sock) + 1);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "%s", strerror(errno));
	snprintf(req, sizeof(req), "status %s\n", name);
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got == 0 || memchr(buf, '\n', got) == NULL) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - vh_now_ms();
		ssize_t n;

		cr_assert_gt(left, 0, "no reply to status during the flood; log:\n%s", vh_log_tail());
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, buf + got, sizeof(buf) - got);
		cr_assert_gt(n, 0, "no reply to status");
		got += (size_t)n;
		if (got == sizeof(buf))
			got = 1;	/* only the end of the line matters */
	}
	cr_expect(memmem(buf, got, "\"ok\":true", 9) != NULL, "status: %.*s", (int)got, buf);
	close(fd);
}

/*
 * How fast status is during a flood is the benchmark's business; what a
 * test can say without a clock is that status is answered while a flood
 * runs, and that the flood runs on while status is answered: the service
 * bursts 20 MB again and again and stops only when the test says so, so
 * every answer came during the flood; the calls go on until 20 MB more
 * went by, so neither starved the other.
 */
Test(output, a_flood_of_20mb_bursts_does_not_stall_status_of_another_service)
{
	enum { N = 21 };
	struct vh_result *r = malloc(sizeof(*r));
	long long w0, deadline;
	int n = 0;
	long pid;

	vh_setup("[service:flood]\ncommand = %s pid:%s\n  await:%s\n  flood:20971520:%s\n"
	    "log_max_size = 20M\nlog_keep = 1\n\n"
	    "[service:calm]\ncommand = %s\n",
	    vh_testsvc(), vh_path("flood.pid"), vh_path("go"), vh_path("stop"), vh_testsvc());
	cr_assert(vh_start());
	cr_assert(vh_wait_state("calm", "running", 10000));
	cr_assert(vh_wait_file(vh_path("flood.pid"), 10000));
	pid = vh_read_long(vh_path("flood.pid"));

	touch(vh_path("go"));
	deadline = vh_now_ms() + 20000;
	while (wchar_of((pid_t)pid) < (1LL << 20) && vh_now_ms() < deadline)
		usleep(1000);
	cr_assert_geq(wchar_of((pid_t)pid), 1LL << 20, "the flood did not start");
	w0 = wchar_of((pid_t)pid);
	/* a hang guard only, inside the suite's timeout: a starved loop or a stalled flood */
	deadline = vh_now_ms() + 60000;
	while (n < N || wchar_of((pid_t)pid) - w0 < (20LL << 20)) {
		cr_assert_lt(vh_now_ms(), deadline, "after %d status calls the flood wrote only "
		    "%lld bytes: it stalled", n, wchar_of((pid_t)pid) - w0);
		raw_status("calm");
		cr_assert_eq(vh_ctl(r, "status", "calm", NULL), 0, "%s", r->err);
		cr_expect(strstr(r->out, "running") != NULL, "%s", r->out);
		n++;
	}
	cr_expect(vh_pid_alive((pid_t)pid), "the flood ended before the test said so");
	cr_log_info("%d status calls answered while the flood wrote %lld bytes", n,
	    wchar_of((pid_t)pid) - w0);
	touch(vh_path("stop"));
	free(r);
}

/* ---- following ---- */

struct follower {
	pid_t	 pid;
	int	 fd;
	char	 buf[65536];
	size_t	 len;
};

static void
follower_start(struct follower *f, const char *name)
{
	const char *ctl = getenv("VIGILCTL") ? getenv("VIGILCTL") : "./vigilctl";
	pid_t parent = getpid();
	int p[2];
	FILE *pf;

	memset(f, 0, sizeof(*f));
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	cr_assert_neq(f->pid = fork(), -1);
	if (f->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(ctl, "vigilctl", "--socket", vh.sock, "log", "-f", name, (char *)NULL);
		_exit(97);
	}
	close(p[1]);
	f->fd = p[0];
	/* teardown kills whatever a *.pid file names */
	if ((pf = fopen(vh_path("follower.pid"), "w")) != NULL) {
		fprintf(pf, "%d\n", (int)f->pid);
		fclose(pf);
	}
}

/* Read until needle shows up; the monotonic ns when it did, -1 on timeout or EOF. */
static long long
follower_wait(struct follower *f, const char *needle, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	struct pollfd pfd = { f->fd, POLLIN, 0 };

	for (;;) {
		long long left = deadline - vh_now_ms();
		ssize_t n;

		if (memmem(f->buf, f->len, needle, strlen(needle)) != NULL)
			return mono_ns();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		if (f->len == sizeof(f->buf))
			f->len = 0;	/* keep reading; the needle is short */
		if ((n = read(f->fd, f->buf + f->len, sizeof(f->buf) - f->len)) <= 0)
			return -1;
		f->len += (size_t)n;
	}
}

static void
follower_stop(struct follower *f)
{
	kill(f->pid, SIGTERM);
	close(f->fd);
	waitpid(f->pid, NULL, 0);
	unlink(vh_path("follower.pid"));
}

/*
 * A line reaches a follower as it is written, pushed by vigild: after it
 * the service writes nothing more, so no later line or batch can carry it.
 * How soon is the benchmark's business.
 */
Test(output, log_f_sees_a_line_once_it_is_written)
{
	struct follower *f = malloc(sizeof(*f));

	vh_setup("[service:talk]\ncommand = %s echo:ready-to-talk\n  await:%s\n"
	    "  echo:hello-follower\n", vh_testsvc(), vh_path("go"));
	cr_assert(vh_start());
	cr_assert(wait_file_contains(log_of("talk"), " ready-to-talk\n", 10000));
	follower_start(f, "talk");
	/* the history shows the first line: from now on the follower is subscribed */
	cr_assert_neq(follower_wait(f, "ready-to-talk", 20000), -1, "follower got: %.*s",
	    (int)f->len, f->buf);
	cr_expect_null(memmem(f->buf, f->len, "hello-follower", 14), "a line before it was written");
	touch(vh_path("go"));
	cr_assert_neq(follower_wait(f, "hello-follower", 20000), -1,
	    "the line never reached the follower: %.*s", (int)f->len, f->buf);
	follower_stop(f);
	free(f);
}

Test(output, status_names_the_log_file)
{
	json_t *s;

	vh_setup("[service:named]\ncommand = %s\n\n[service:silent]\ncommand = %s\n"
	    "stdout = null\nstderr = null\n", vh_testsvc(), vh_testsvc());
	cr_assert(vh_start());
	s = vh_service("named");
	cr_assert_not_null(s);
	cr_expect_str_eq(json_string_value(json_object_get(s, "log_file")), log_of("named"));
	cr_expect_eq(json_integer_value(json_object_get(s, "log_dropped_bytes")), 0);
	json_decref(s);
	s = vh_service("silent");
	cr_expect(json_is_null(json_object_get(s, "log_file")),
	    "a service that logs nothing has no log file");
	json_decref(s);
}
