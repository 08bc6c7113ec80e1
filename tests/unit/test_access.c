/*
 * test_access.c: control/access.c's rules, on configs built by hand: who
 * gets which level from uid, primary gid and supplementary groups, and
 * which reloads count as a change of access.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <unistd.h>

#include "vigild.h"
#include "control/access.h"

/* ids no test machine gives vigild (the tests run as root or a user below 60000) */
#define U_READ		61001
#define U_OPERATE	61002
#define U_OTHER		61003
#define G_SOCKET	62001
#define G_OPERATE	62002
#define G_OTHER		62003

static uid_t read_uids[] = { U_READ };
static uid_t operate_uids[] = { U_OPERATE };
static gid_t operate_gids[] = { G_OPERATE };

static struct config
shared_config(void)
{
	struct config c = { .socket_group = "sock", .socket_gid = G_SOCKET };

	c.read_access = (struct access_list){ "reader", read_uids, 1, NULL, 0 };
	c.operate_access = (struct access_list){ "operator @ops", operate_uids, 1,
	    operate_gids, 1 };
	return c;
}

static enum proto_access
level(const struct config *c, uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	return access_level(c, uid, gid, groups, n);
}

Test(access, root_and_vigilds_own_user_are_admin_whatever_the_config)
{
	struct config none = { 0 };

	cr_expect_eq(level(&none, 0, G_OTHER, NULL, 0), PROTO_ACCESS_ADMIN);
	cr_expect_eq(level(&none, geteuid(), G_OTHER, NULL, 0), PROTO_ACCESS_ADMIN);
	cr_expect_eq(level(NULL, 0, 0, NULL, 0), PROTO_ACCESS_ADMIN);
}

Test(access, without_socket_group_or_lists_others_get_nothing)
{
	struct config none = { 0 };
	gid_t groups[] = { G_SOCKET, G_OPERATE };

	cr_expect_eq(level(&none, U_OTHER, G_SOCKET, groups, 2), PROTO_ACCESS_NONE);
	cr_expect_eq(level(&none, U_OPERATE, G_OPERATE, NULL, 0), PROTO_ACCESS_NONE);
	cr_expect_eq(level(NULL, U_OTHER, 0, NULL, 0), PROTO_ACCESS_NONE);
}

Test(access, socket_group_grants_read_by_primary_or_supplementary_group)
{
	struct config c = shared_config();
	gid_t groups[] = { G_OTHER, G_SOCKET };

	cr_expect_eq(level(&c, U_OTHER, G_SOCKET, NULL, 0), PROTO_ACCESS_READ);
	cr_expect_eq(level(&c, U_OTHER, G_OTHER, groups, 2), PROTO_ACCESS_READ);
	cr_expect_eq(level(&c, U_OTHER, G_OTHER, groups, 1), PROTO_ACCESS_NONE,
	    "in no list and not in socket_group: nothing");
}

Test(access, lists_grant_by_user_and_by_group)
{
	struct config c = shared_config();
	gid_t groups[] = { G_OTHER, G_OPERATE };

	cr_expect_eq(level(&c, U_READ, G_OTHER, NULL, 0), PROTO_ACCESS_READ);
	cr_expect_eq(level(&c, U_OPERATE, G_OTHER, NULL, 0), PROTO_ACCESS_OPERATE);
	cr_expect_eq(level(&c, U_OTHER, G_OPERATE, NULL, 0), PROTO_ACCESS_OPERATE,
	    "@group by the primary gid");
	cr_expect_eq(level(&c, U_OTHER, G_OTHER, groups, 2), PROTO_ACCESS_OPERATE,
	    "@group by a supplementary group");
	/* in both lists: the higher level, which includes read */
	c.read_access.uids = operate_uids;
	cr_expect_eq(level(&c, U_OPERATE, G_SOCKET, NULL, 0), PROTO_ACCESS_OPERATE);
	/* no list ever grants admin */
	cr_expect_lt(level(&c, U_OPERATE, G_OPERATE, groups, 2), PROTO_ACCESS_ADMIN);
}

Test(access, reload_changes_are_the_group_the_lists_and_their_ids)
{
	struct config a = shared_config(), b = shared_config();
	uid_t other[] = { U_OTHER };

	cr_expect_not(access_changed(&a, &b));
	b.socket_gid = G_OTHER;	/* the same name, renumbered */
	cr_expect(access_changed(&a, &b));
	b = shared_config();
	b.socket_group = NULL;
	cr_expect(access_changed(&a, &b));
	b = shared_config();
	b.read_access.uids = other;
	cr_expect(access_changed(&a, &b), "same text, another uid behind it");
	b = shared_config();
	b.operate_access.text = "operator";
	b.operate_access.ngids = 0;
	cr_expect(access_changed(&a, &b));
}

Test(access, level_names)
{
	cr_expect_str_eq(proto_access_name(PROTO_ACCESS_NONE), "none");
	cr_expect_str_eq(proto_access_name(PROTO_ACCESS_READ), "read");
	cr_expect_str_eq(proto_access_name(PROTO_ACCESS_OPERATE), "operate");
	cr_expect_str_eq(proto_access_name(PROTO_ACCESS_ADMIN), "admin");
}
