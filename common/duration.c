/*
 * duration.c: parse and print durations. Parsing is strict: anything but
 * a non-negative number with an optional unit is refused, so a typo in a
 * config file is an error and not a surprise.
 */
#include "config.h"
#include "duration.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *unit;
	double	    ms;
} units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "", 1000 }, { "m", 60000 },
	{ "h", 3600000 },
};

int
duration_parse(const char *s, int64_t *ms)
{
	size_t digits = 0, dots = 0, i;
	const char *unit;
	double v;

	/* strictly [0-9]*.?[0-9]* then a unit: no sign, blank, hex, exponent or "inf" */
	for (i = 0; s != NULL && (isdigit((unsigned char)s[i]) || s[i] == '.'); i++) {
		if (s[i] == '.')
			dots++;
		else
			digits++;
	}
	if (digits == 0 || dots > 1)
		return -1;
	unit = s + i;
	v = strtod(s, NULL);
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strcmp(unit, units[u].unit) == 0) {
			double r = v * units[u].ms;
			if (!isfinite(r) || r > 9.0e15)	/* about 285 000 years: surely a typo */
				return -1;
			*ms = (int64_t)(r + 0.5);	/* r >= 0: rounds to nearest */
			return 0;
		}
	}
	return -1;
}

void
duration_format(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
}
