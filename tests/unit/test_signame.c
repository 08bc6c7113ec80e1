/* test_signame.c: signal names in config files and `vigilctl signal`. */
#include <criterion/criterion.h>
#include <signal.h>

#include "signame.h"

Test(signame, names_numbers_and_prefixes)
{
	cr_expect_eq(signame_parse("TERM"), SIGTERM);
	cr_expect_eq(signame_parse("SIGTERM"), SIGTERM);
	cr_expect_eq(signame_parse("term"), SIGTERM);
	cr_expect_eq(signame_parse("15"), 15);
	cr_expect_eq(signame_parse("KILL"), SIGKILL);
	cr_expect_eq(signame_parse("USR1"), SIGUSR1);
	cr_expect_eq(signame_parse("RTMIN+2"), SIGRTMIN + 2);
	cr_expect_eq(signame_parse("RTMAX-1"), SIGRTMAX - 1);
}

Test(signame, unknown_is_refused)
{
	const char *bad[] = { "", "TERMINATE", "SIG", "0", "65", "999999", "-9", "RTMIN+99", "9x" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(signame_parse(bad[i]), -1, "<%s> accepted", bad[i]);
}

Test(signame, printing)
{
	char buf[16];

	cr_expect_str_eq(signame_name(SIGKILL, buf, sizeof(buf)), "KILL");
	cr_expect_str_eq(signame_name(SIGSEGV, buf, sizeof(buf)), "SEGV");
	cr_expect_str_eq(signame_name(SIGRTMIN + 3, buf, sizeof(buf)), "RTMIN+3");
}
