/*
 * logformat.c: the line prefix of NAME.log, both ways. The parser walks
 * the fields one by one and checks each, so a line that is not one of ours
 * (a raw file, a file an earlier version wrote, a line someone appended)
 * is taken as plain text and never misread.
 */
#include "config.h"
#include "logformat.h"

#include <string.h>
#include <time.h>

/* n decimal digits at p, or -1 */
static int
digits(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Two decimal digits at p. */
static void
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void
logformat_time(int64_t usec, char *buf)
{
	time_t secs = (time_t)(usec / 1000000);
	int us = (int)(usec % 1000000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	/* by hand: strftime and snprintf per read showed in the log benchmark */
	put2(buf, (tm.tm_year + 1900) / 100);
	put2(buf + 2, (tm.tm_year + 1900) % 100);
	buf[4] = '-';
	put2(buf + 5, tm.tm_mon + 1);
	buf[7] = '-';
	put2(buf + 8, tm.tm_mday);
	buf[10] = 'T';
	put2(buf + 11, tm.tm_hour);
	buf[13] = ':';
	put2(buf + 14, tm.tm_min);
	buf[16] = ':';
	put2(buf + 17, tm.tm_sec);
	buf[19] = '.';
	for (int i = 25; i >= 20; i--, us /= 10)
		buf[i] = (char)('0' + us % 10);
	buf[26] = 'Z';
	buf[27] = '\0';
}

size_t
logformat_prefix(const char *time, enum output_stream stream, bool cont, uint64_t seq,
    char *buf)
{
	char num[20];
	size_t n = 0, k = 0;

	if (time == NULL) {
		if (cont)
			memcpy(buf, "+ ", 2), n = 2;
		return n;
	}
	memcpy(buf, time, LOGFORMAT_TIME_LEN);
	n = LOGFORMAT_TIME_LEN;
	memcpy(buf + n, stream == OUTPUT_STDERR ? " err" : " out", 4);
	n += 4;
	if (cont)
		buf[n++] = '+';
	buf[n++] = ' ';
	buf[n++] = '#';
	do
		num[k++] = (char)('0' + seq % 10);
	while ((seq /= 10) != 0);
	while (k > 0)
		buf[n++] = num[--k];
	buf[n++] = ' ';
	return n;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The time field, exactly LOGFORMAT_TIME_LEN bytes, into microseconds; -1 if it is not one. */
static int64_t
parse_time(const char *p)
{
	int y = digits(p, 4), mo = digits(p + 5, 2), d = digits(p + 8, 2);
	int h = digits(p + 11, 2), mi = digits(p + 14, 2), s = digits(p + 17, 2);
	int us = digits(p + 20, 6);

	if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
	    p[16] != ':' || p[19] != '.' || p[26] != 'Z')
		return -1;
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 60 || us < 0)
		return -1;
	return ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) *
	    (int64_t)1000000) + us;
}

/* The field that starts at *at and ends at the next blank; false if there is no blank. */
static bool
field(const char *p, size_t len, size_t *at, const char **f, size_t *flen)
{
	const char *blank = memchr(p + *at, ' ', len - *at);

	if (blank == NULL)
		return false;
	*f = p + *at;
	*flen = (size_t)(blank - *f);
	*at += *flen + 1;
	return true;
}

/* "#" and 1 to 20 digits that fit in 64 bits, or false. */
static bool
parse_seq(const char *f, size_t flen, uint64_t *seq)
{
	uint64_t v = 0;

	if (flen < 2 || flen > 21 || f[0] != '#')
		return false;
	for (size_t i = 1; i < flen; i++) {
		if (f[i] < '0' || f[i] > '9' || v > (UINT64_MAX - (uint64_t)(f[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(f[i] - '0');
	}
	*seq = v;
	return true;
}

void
logformat_parse(const char *p, size_t len, struct logformat_line *out)
{
	const char *f;
	size_t flen, at = 0, text_at;
	int64_t usec;
	uint64_t seq;

	memset(out, 0, sizeof(*out));
	out->stream = OUTPUT_STDOUT;
	out->text = p;
	out->len = len;
	if (!field(p, len, &at, &f, &flen) || flen != LOGFORMAT_TIME_LEN ||
	    (usec = parse_time(f)) == -1)
		return;
	if (!field(p, len, &at, &f, &flen) || flen < 3 || flen > 4 ||
	    (flen == 4 && f[3] != '+'))
		return;
	if (memcmp(f, "out", 3) == 0)
		out->stream = OUTPUT_STDOUT;
	else if (memcmp(f, "err", 3) == 0)
		out->stream = OUTPUT_STDERR;
	else
		return;
	out->timed = true;
	out->usec = usec;
	out->cont = flen == 4;
	text_at = at;
	if (field(p, len, &at, &f, &flen) && parse_seq(f, flen, &seq)) {
		out->has_seq = true;
		out->seq = seq;
		text_at = at;
	}
	out->text = p + text_at;
	out->len = len - text_at;
}
