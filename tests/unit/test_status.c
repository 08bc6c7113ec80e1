/* test_status.c: status field lists, as `status --fields=` takes them. */
#include <criterion/criterion.h>
#include <string.h>

#include "vigild.h"

Test(status, fields_are_parsed_in_place_whatever_the_length)
{
	char list[2048] = "";
	const char *bad;
	size_t badlen;
	unsigned mask;

	for (int i = 0; i < 200; i++)	/* 1400 bytes */
		strcat(list, "state,");
	strcat(list, "pid");
	cr_assert_eq(status_fields_parse(list, &mask, &bad, &badlen), 0);
	cr_expect_eq(mask, STATUS_BIT(PROTO_F_STATE) | STATUS_BIT(PROTO_F_PID));
	strcat(list, ",nope,name");
	cr_expect_eq(status_fields_parse(list, &mask, &bad, &badlen), -1);
	cr_expect_eq(badlen, 4);
	cr_expect_eq(strncmp(bad, "nope", 4), 0, "points at %.10s", bad);
}

Test(status, empty_lists_and_empty_names)
{
	const char *bad;
	size_t badlen;
	unsigned mask;

	cr_expect_eq(status_fields_parse("", &mask, &bad, &badlen), -1, "no field at all");
	cr_expect_eq(badlen, 0);
	cr_expect_eq(status_fields_parse(",,", &mask, &bad, &badlen), -1);
	cr_expect_eq(status_fields_parse("name,,ready,", &mask, &bad, &badlen), 0);
	cr_expect_eq(mask, STATUS_BIT(PROTO_F_NAME) | STATUS_BIT(PROTO_F_READY));
	cr_expect_eq(status_fields_parse("na\xffme", &mask, &bad, &badlen), -1);
	cr_expect_eq(badlen, 5);
}
