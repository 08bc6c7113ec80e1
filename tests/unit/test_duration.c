/* test_duration.c: durations as written in config files and on the command line. */
#include <criterion/criterion.h>

#include "duration.h"

Test(duration, accepted_forms)
{
	const struct { const char *in; int64_t ms; } ok[] = {
		{ "250ms", 250 }, { "10s", 10000 }, { "5m", 300000 }, { "1h", 3600000 },
		{ "0", 0 }, { "3", 3000 }, { "1.5s", 1500 }, { "0.25", 250 },
		{ "0ms", 0 }, { ".5s", 500 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ms = -1;
		cr_expect_eq(duration_parse(ok[i].in, &ms), 0, "<%s> refused", ok[i].in);
		cr_expect_eq(ms, ok[i].ms, "<%s> gave %lld ms, want %lld", ok[i].in,
		    (long long)ms, (long long)ok[i].ms);
	}
}

Test(duration, refused_forms)
{
	const char *bad[] = { "", "s", "-1s", "+1s", " 1s", "1s ", "10 s", "10sec",
	    "1d", "abc", "0x10", "inf", "nan", "1e30h", "10S", "5mm" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 42;
		cr_expect_eq(duration_parse(bad[i], &ms), -1, "<%s> accepted", bad[i]);
		cr_expect_eq(ms, 42, "<%s> changed the output on failure", bad[i]);
	}
}

Test(duration, short_format_for_tables)
{
	const struct { int64_t ms; const char *out; } cases[] = {
		{ 0, "0ms" }, { 850, "850ms" }, { 42000, "42s" }, { 192000, "3m12s" },
		{ 5 * 3600000 + 2 * 60000, "5h02m" }, { 3 * 86400000LL + 4 * 3600000, "3d04h" },
		{ -5, "-" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		duration_format(cases[i].ms, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].out, "%lld ms", (long long)cases[i].ms);
	}
}
