/*
 * test_access.c: access levels on the control socket, tried as an
 * attacker would: the real vigilctl and raw connections run as other
 * users (nobody, daemon, bin), against the real vigild running as root.
 * Who may connect at all, what each level may do, and what a refusal
 * leaves behind: the service untouched, the config unapplied, one log line.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "rawclient.h"
#include "proto.h"

TestSuite(access, .fini = vh_teardown, .timeout = 120);

#define DEADLINE_MS	20000	/* generous: a busy 2-core machine, maybe under ASan */

/* The system accounts the tests borrow; Debian has them all. */
struct account {
	const char *name;
	uid_t	 uid;
	gid_t	 gid;
};
static struct account nobody = { "nobody", 0, 0 };	/* primary group nogroup */
static struct account daemon_user = { "daemon", 0, 0 };	/* in no list, not in nogroup */
static struct account bin = { "bin", 0, 0 };
static gid_t nogroup;

static void
find_account(struct account *a)
{
	struct passwd *pw = getpwnam(a->name);

	if (pw == NULL)
		VH_SKIP("no '%s' account on this machine", a->name);
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
}

/*
 * Root is needed to run vigilctl as other users; the accounts must exist
 * and must not share nogroup as their primary group except nobody.
 */
static void
need_accounts(void)
{
	struct group *gr;

	if (geteuid() != 0)
		VH_SKIP("needs root, to run vigilctl as other users");
	find_account(&nobody);
	find_account(&daemon_user);
	find_account(&bin);
	if ((gr = getgrnam("nogroup")) == NULL)
		VH_SKIP("no 'nogroup' group on this machine");
	nogroup = gr->gr_gid;
	if (nobody.gid != nogroup || daemon_user.gid == nogroup || bin.gid == nogroup)
		VH_SKIP("nobody's group is not nogroup, or daemon's or bin's is");
}

/*
 * vigild as root with web, and [vigil] keys extra (a second [vigil] part
 * adds to the first). The test folder is made 0700 by mkdtemp: the other
 * users could not even reach the socket inside it, whatever its mode, so
 * it is opened for search (0711) and the socket's own mode decides.
 */
static void
start_with(const char *extra)
{
	struct vh_result r;

	vh_setup("[vigil]\n%s\n[service:web]\ncommand = %s\n", extra, vh_testsvc());
	cr_assert_eq(chmod(vh.dir, 0711), 0, "chmod %s: %s", vh.dir, strerror(errno));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", DEADLINE_MS), "web never ran; log:\n%s",
	    vh_log_tail());
	/* a vigilctl that cannot even start as nobody (a build folder under /root) proves nothing */
	if (vh_ctl_as(nobody.uid, nobody.gid, &r, "--version", NULL) != 0)
		VH_SKIP("vigilctl does not run as nobody (exit %d): is the build folder "
		    "readable by others?", r.code);
}

/* Rewrite the config with other [vigil] keys (web stays the same). */
static void
rewrite_with(const char *extra)
{
	vh_setup("[vigil]\n%s\n[service:web]\ncommand = %s\n", extra, vh_testsvc());
}

static void
expect_socket_mode(mode_t mode, gid_t gid, const char *why)
{
	struct stat st;

	cr_assert_eq(lstat(vh.sock, &st), 0, "%s: lstat %s: %s", why, vh.sock, strerror(errno));
	cr_expect(S_ISSOCK(st.st_mode), "%s: not a socket", why);
	cr_expect_eq(st.st_mode & 07777, mode, "%s: socket mode %04o, expected %04o", why,
	    (unsigned)(st.st_mode & 07777), (unsigned)mode);
	cr_expect_eq(st.st_gid, gid, "%s: socket group %u, expected %u", why,
	    (unsigned)st.st_gid, (unsigned)gid);
	cr_expect_eq(st.st_uid, 0, "%s: socket owner %u, expected root", why, (unsigned)st.st_uid);
}

/* Expect r to be permission-denied for verb, naming the level needed and granted. */
static void
expect_denied(json_t *r, const char *verb, const char *needed, const char *granted)
{
	cr_expect_str_eq(reply_str(r, PROTO_K_NEEDED), needed, "%s: %s", verb, show(r));
	cr_expect_str_eq(reply_str(r, PROTO_K_GRANTED), granted, "%s: %s", verb, show(r));
	cr_expect(strstr(reply_str(r, PROTO_K_MESSAGE), verb) != NULL,
	    "%s: the message does not name the verb: %s", verb, show(r));
	cr_expect(strstr(reply_str(r, PROTO_K_MESSAGE), needed) != NULL,
	    "%s: the message does not name the level needed: %s", verb, show(r));
	expect_error(r, PROTO_ERR_PERMISSION_DENIED, verb);
}

/* The lines of vigild's log holding both a and b. */
static int
log_count(const char *a, const char *b)
{
	int n = 0;

	while (vh_log_line_of_nth(a, b, n + 1) != -1)
		n++;
	return n;
}

Test(access, read_user_may_look_but_not_act_and_is_logged_once_per_connection)
{
	char uid[32];
	struct vh_result r;
	struct raw c;
	pid_t pid;
	json_t *j;

	need_accounts();
	start_with("socket_group = nogroup\n");
	expect_socket_mode(0660, nogroup, "with socket_group");
	pid = vh_main_pid("web");
	cr_assert_gt(pid, 0);

	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "status", NULL), 0,
	    "status as nobody: exit %d, %s", r.code, r.err);
	cr_expect(strstr(r.out, "web") != NULL, "status as nobody shows no web: %s", r.out);
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "hello", NULL), 0,
	    "hello as nobody: exit %d, %s", r.code, r.err);
	cr_expect(strstr(r.out, "access: read\n") != NULL, "hello as nobody: %s", r.out);
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "stop", "web", NULL), 1,
	    "stop as nobody: exit %d, %s", r.code, r.err);
	snprintf(uid, sizeof(uid), "uid %u", (unsigned)nobody.uid);
	cr_expect(strstr(r.err, "stop web: permission denied: needs operate access") != NULL &&
	    strstr(r.err, uid) != NULL && strstr(r.err, "granted read") != NULL,
	    "stop as nobody: %s", r.err);
	cr_expect_eq(vh_main_pid("web"), pid, "a refused stop changed web's pid");

	/* one connection, three refusals and a status: one log line, and it still works */
	cr_assert(vh_wait_log_count("refused stop", 1, DEADLINE_MS), "no warning; log:\n%s",
	    vh_log_tail());
	cr_assert_eq(raw_connect_as(&c, nobody.uid, nobody.gid, &nobody.gid, 1), 0);
	j = raw_request(&c, "hello");
	cr_expect_str_eq(reply_str(j, PROTO_K_ACCESS), "read", "hello: %s", show(j));
	json_decref(j);
	for (int i = 0; i < 3; i++)
		expect_denied(raw_request(&c, "stop web"), "stop", "operate", "read");
	expect_denied(raw_request(&c, "signal KILL web"), "signal", "operate", "read");
	expect_status_ok(&c, "three refusals");
	raw_close(&c);
	/* the warning is written before its reply: both connections' lines are there */
	cr_expect_eq(log_count("refused stop", uid), 2,
	    "expected one warning per connection (2), got %d; log:\n%s",
	    log_count("refused stop", uid), vh_log_tail());
	cr_expect_eq(log_count("refused signal", uid), 0,
	    "a second refusal on one connection was logged; log:\n%s", vh_log_tail());
	cr_expect_eq(vh_main_pid("web"), pid, "refused requests changed web's pid");
	cr_expect(vh_pid_alive(pid), "web's process is gone after refused stop and KILL");
}

Test(access, operate_user_may_restart_but_not_reload_or_shut_down)
{
	struct vh_result r;
	pid_t pid, npid;

	need_accounts();
	start_with("socket_group = nogroup\noperate_access = nobody\n");
	pid = vh_main_pid("web");
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "restart", "web", NULL), 0,
	    "restart as an operator: exit %d, %s", r.code, r.err);
	npid = vh_wait_new_pid("web", pid, DEADLINE_MS);
	cr_expect(npid > 0 && npid != pid, "web was not restarted (pid %d, then %d)",
	    (int)pid, (int)npid);

	/* a valid change on disk, which an operator must not be able to apply */
	vh_add_services("[service:extra]\ncommand = %s\n", vh_testsvc());
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "reload", NULL), 1,
	    "reload as an operator: exit %d, %s", r.code, r.err);
	cr_expect(strstr(r.err, "reload: permission denied: needs admin access") != NULL &&
	    strstr(r.err, "granted operate") != NULL, "reload as an operator: %s", r.err);
	cr_expect_eq(vh_ctl(&r, "status", "extra", NULL), 1,
	    "the refused reload applied the config: extra exists (%s)", r.out);
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "shutdown", NULL), 1,
	    "shutdown as an operator: exit %d, %s", r.code, r.err);
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "log-reopen", NULL), 1,
	    "log-reopen as an operator: exit %d, %s", r.code, r.err);
	cr_expect(vh_pid_alive(vh.pid), "vigild is gone after a refused shutdown");
	cr_expect_eq(vh_main_pid("web"), npid, "web changed after refused requests");
	/* the change was good all along: root applies it */
	cr_expect_eq(vh_ctl(&r, "reload", NULL), 0, "reload as root: %s", r.err);
	cr_expect(vh_wait_state("extra", "running", DEADLINE_MS), "extra never ran");
}

Test(access, a_user_outside_socket_group_cannot_connect)
{
	struct vh_result r;
	struct raw c;

	need_accounts();
	start_with("socket_group = nogroup\noperate_access = daemon\n");
	/* listed, but the socket admits only nogroup: the list cannot open the door */
	cr_expect_eq(raw_connect_as(&c, daemon_user.uid, daemon_user.gid, &daemon_user.gid, 1),
	    EACCES, "connect as daemon: expected EACCES");
	cr_expect_eq(vh_ctl_as(daemon_user.uid, daemon_user.gid, &r, "status", NULL), 3,
	    "status as daemon: exit %d, %s", r.code, r.err);
	cr_expect(strstr(r.err, "Permission denied") != NULL && strstr(r.err, "socket_group"),
	    "status as daemon: %s", r.err);
	/* the folder is reachable: the socket's mode is what kept daemon out */
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "status", NULL), 0,
	    "status as nobody: exit %d, %s", r.code, r.err);
}

Test(access, without_socket_group_the_socket_stays_private)
{
	struct vh_result r;
	struct raw c;

	need_accounts();
	start_with("");
	expect_socket_mode(0600, 0, "without socket_group");
	cr_expect_eq(raw_connect_as(&c, nobody.uid, nobody.gid, &nobody.gid, 1), EACCES,
	    "connect as nobody: expected EACCES");
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "status", NULL), 3,
	    "status as nobody: exit %d, %s", r.code, r.err);
}

Test(access, group_entries_grant_by_primary_and_supplementary_group)
{
	gid_t groups[2];
	struct vh_result r;
	struct raw c;
	json_t *j;

	need_accounts();
	start_with("socket_group = nogroup\noperate_access = @nogroup\n");
	/* nobody: nogroup is its primary group */
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "stop", "web", NULL), 0,
	    "stop as nobody in @nogroup: exit %d, %s", r.code, r.err);
	cr_expect(vh_wait_state("web", "stopped", DEADLINE_MS), "web did not stop");
	/* bin: nogroup only as a supplementary group, as the kernel saw at connect */
	groups[0] = bin.gid;
	groups[1] = nogroup;
	cr_assert_eq(raw_connect_as(&c, bin.uid, bin.gid, groups, 2), 0);
	j = raw_request(&c, "start web");
	cr_expect(reply_ok(j), "start as bin with nogroup: %s", show(j));
	json_decref(j);
	raw_close(&c);
	cr_expect(vh_wait_state("web", "running", DEADLINE_MS), "web did not start");
	/* without it, bin cannot even connect */
	cr_expect_eq(raw_connect_as(&c, bin.uid, bin.gid, &bin.gid, 1), EACCES,
	    "connect as bin without nogroup: expected EACCES");
}

Test(access, root_is_admin_whatever_the_lists_say)
{
	struct vh_result r;
	json_t *j;

	need_accounts();
	start_with("socket_group = nogroup\nread_access = bin\noperate_access = nobody @nogroup\n");
	cr_assert_eq(vh_ctl(&r, "--json", "hello", NULL), 0, "hello as root: %s", r.err);
	j = json_loads(r.out, 0, NULL);
	cr_expect_str_eq(reply_str(j, PROTO_K_ACCESS), "admin", "hello: %s", r.out);
	json_decref(j);
	cr_expect_eq(vh_ctl(&r, "log-reopen", NULL), 0, "log-reopen as root: %s", r.err);
	cr_expect_eq(vh_ctl(&r, "reload", NULL), 0, "reload as root: %s", r.err);
	cr_expect_eq(vh_ctl(&r, "stop", "web", NULL), 0, "stop as root: %s", r.err);
}

Test(access, reload_applies_to_new_clients_while_connected_ones_keep_their_level)
{
	struct vh_result r;
	struct raw c;
	json_t *j;

	need_accounts();
	start_with("socket_group = nogroup\n");
	cr_assert_eq(raw_connect_as(&c, nobody.uid, nobody.gid, &nobody.gid, 1), 0);
	j = raw_request(&c, "hello");
	cr_expect_str_eq(reply_str(j, PROTO_K_ACCESS), "read", "hello before: %s", show(j));
	json_decref(j);

	rewrite_with("socket_group = nogroup\noperate_access = nobody\n");
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "reload: %s", r.err);
	/* the connection made before keeps read until it reconnects */
	expect_denied(raw_request(&c, "stop web"), "stop", "operate", "read");
	raw_close(&c);
	cr_expect_eq(vh_ctl_as(nobody.uid, nobody.gid, &r, "stop", "web", NULL), 0,
	    "stop as nobody after the reload: exit %d, %s", r.code, r.err);

	/* socket_group gone: the socket is private again at once */
	rewrite_with("");
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "reload: %s", r.err);
	expect_socket_mode(0600, 0, "after a reload without socket_group");
	cr_expect_eq(raw_connect_as(&c, nobody.uid, nobody.gid, &nobody.gid, 1), EACCES,
	    "connect as nobody after socket_group was removed: expected EACCES");
}

/*
 * A read user holds every slot it can with followers, which are never
 * closed to make room: it gets 240, the 241st is refused, and root's
 * status still answers from the 16 slots kept for admin.
 */
Test(access, the_last_slots_are_kept_for_admin)
{
	struct raw *c = calloc(241, sizeof(*c));
	struct vh_result r;
	json_t *j;
	int held = 0;

	cr_assert_not_null(c);
	need_accounts();
	start_with("socket_group = nogroup\n");
	for (int i = 0; i < 240; i++) {
		cr_assert_eq(raw_connect_as(&c[i], nobody.uid, nobody.gid, &nobody.gid, 1), 0);
		j = raw_request(&c[i], "events");
		held += reply_ok(j);
		json_decref(j);
	}
	cr_expect_eq(held, 240, "nobody's followers: %d of 240 admitted", held);
	cr_assert_eq(raw_connect_as(&c[240], nobody.uid, nobody.gid, &nobody.gid, 1), 0);
	/* refused at accept: the reply waits, and the connection is closed */
	j = raw_reply(&c[240], "the 241st connection");
	cr_expect(strstr(reply_str(j, PROTO_K_MESSAGE), "admin only") != NULL, "%s", show(j));
	expect_error(j, PROTO_ERR_TOO_MANY_CLIENTS, "the 241st follower");
	for (int i = 0; i < 3; i++)
		cr_expect_eq(vh_ctl(&r, "--timeout", "20s", "status", "web", NULL), 0,
		    "root's status with 240 followers of nobody: exit %d; %s", r.code, r.err);
	for (int i = 0; i <= 240; i++)
		raw_close(&c[i]);
	free(c);
}
