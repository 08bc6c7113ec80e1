/*
 * test_safedir.c: safedir.c on real folders in a private temp folder:
 * what it makes and with which mode, what it refuses and that it leaves a
 * refused folder as it found it, and the log file checks.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safedir.h"

static char top[64];
static char err[1024];

static void
make_top(void)
{
	snprintf(top, sizeof(top), "/tmp/vigil-safedir-XXXXXX");
	cr_assert_not_null(mkdtemp(top), "mkdtemp: %s", strerror(errno));
}

static void
remove_top(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
}

TestSuite(safedir, .init = make_top, .fini = remove_top);

static const char *
at(const char *name)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", top, name);
	return b;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

static int
make(const char *path, mode_t mode, int flags)
{
	err[0] = '\0';
	return safedir_make(path, mode, flags, "test folder", "do something else", err,
	    sizeof(err));
}

Test(safedir, makes_the_folder_and_its_parents_with_the_modes_asked)
{
	cr_assert_eq(make(at("a/b/c"), 0750, SAFEDIR_PARENTS), 0, "%s", err);
	cr_expect_eq(mode_of(at("a/b/c")), 0750);
	/* parents get 0755 less the umask; at least never more */
	cr_expect_eq(mode_of(at("a")) & ~0755, 0);
	cr_assert_eq(make(at("a/b/c"), 0700, SAFEDIR_PARENTS), 0, "an existing one: %s", err);
	cr_expect_eq(mode_of(at("a/b/c")), 0750, "an existing folder was chmodded");
}

Test(safedir, without_parents_a_missing_parent_is_an_error)
{
	cr_assert_eq(make(at("no/such"), 0755, 0), -1);
	cr_expect(strstr(err, "open ") != NULL && strstr(err, "/no: No such file or "
	    "directory") != NULL, "%s", err);
	cr_expect(strstr(err, "do something else") != NULL, "the fix is not offered: %s", err);
	cr_expect_eq(access(at("no"), F_OK), -1, "a parent was made");
}

Test(safedir, a_link_is_refused_and_its_target_untouched)
{
	cr_assert_eq(mkdir(at("real"), 0700), 0);
	cr_assert_eq(symlink(at("real"), at("link")), 0);
	cr_assert_eq(make(at("link"), 0755, SAFEDIR_PARENTS), -1);
	cr_expect(strstr(err, "is a symbolic link (to ") != NULL, "%s", err);
	cr_expect(strstr(err, "do something else") != NULL, "the fix is not offered: %s", err);
	cr_expect_eq(mode_of(at("real")), 0700);
}

Test(safedir, a_file_is_not_a_folder)
{
	int fd = open(at("file"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	cr_assert_neq(fd, -1);
	close(fd);
	cr_assert_eq(make(at("file"), 0755, 0), -1);
	cr_expect(strstr(err, "is not a folder") != NULL, "%s", err);
}

Test(safedir, a_folder_others_may_write_is_refused_and_left_as_it_was)
{
	cr_assert_eq(mkdir(at("open"), 0700), 0);
	cr_assert_eq(chmod(at("open"), 0777), 0);
	cr_assert_eq(make(at("open"), 0755, 0), -1);
	cr_expect(strstr(err, "is writable by everyone (mode 0777)") != NULL, "%s", err);
	cr_expect_eq(mode_of(at("open")), 0777);
	/* sticky or not: the folder itself must be ours alone */
	cr_assert_eq(chmod(at("open"), 01777), 0);
	cr_assert_eq(make(at("open"), 0755, 0), -1);
}

Test(safedir, a_parent_anyone_may_write_is_fine_only_when_sticky)
{
	cr_assert_eq(mkdir(at("shared"), 0700), 0);
	cr_assert_eq(chmod(at("shared"), 0777), 0);
	cr_assert_eq(make(at("shared/mine"), 0755, 0), -1);
	cr_expect(strstr(err, "is writable by everyone and not sticky") != NULL, "%s", err);
	cr_assert_eq(chmod(at("shared"), 01777), 0);
	cr_assert_eq(make(at("shared/mine"), 0755, 0), 0, "%s", err);
}

Test(safedir, private_wants_0700)
{
	cr_assert_eq(mkdir(at("p"), 0755), 0);
	cr_assert_eq(chmod(at("p"), 0755), 0);
	cr_assert_eq(make(at("p"), 0700, SAFEDIR_PRIVATE), -1);
	cr_expect(strstr(err, "has mode 0755, not 0700") != NULL, "%s", err);
	cr_assert_eq(make(at("q"), 0700, SAFEDIR_PRIVATE), 0, "%s", err);
	cr_expect_eq(mode_of(at("q")), 0700);
}

Test(safedir, another_users_folder_or_parent_is_refused)
{
	char want[128];

	if (geteuid() != 0)
		cr_skip_test("needs root to chown");
	cr_assert_eq(mkdir(at("theirs"), 0755), 0);
	cr_assert_eq(chown(at("theirs"), 65534, 65534), 0);
	cr_assert_eq(make(at("theirs"), 0755, 0), -1);
	snprintf(want, sizeof(want), "is owned by uid 65534, not 0: another user made it");
	cr_expect(strstr(err, want) != NULL, "%s", err);
	cr_assert_eq(make(at("theirs/sub"), 0755, 0), -1);
	cr_expect(strstr(err, "its parent") != NULL && strstr(err, "owned by uid 65534") != NULL,
	    "%s", err);
}

Test(safedir, log_files)
{
	int fd;

	cr_expect_eq(safefile_check_path(at("none.log"), err, sizeof(err)), 0, "absent: %s", err);
	fd = open(at("ok.log"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_neq(fd, -1);
	cr_expect_eq(safefile_check_fd(fd, at("ok.log"), err, sizeof(err)), 0, "%s", err);
	close(fd);
	cr_expect_eq(safefile_check_path(at("ok.log"), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(symlink(at("ok.log"), at("link.log")), 0);
	cr_expect_eq(safefile_check_path(at("link.log"), err, sizeof(err)), -1);
	cr_expect(strstr(err, "is a symbolic link") != NULL, "%s", err);
	/* a FIFO is looked at, never opened: no reader, and still no hang */
	cr_assert_eq(mkfifo(at("fifo.log"), 0600), 0);
	cr_expect_eq(safefile_check_path(at("fifo.log"), err, sizeof(err)), -1);
	cr_expect(strstr(err, "is not a regular file") != NULL, "%s", err);
	if (geteuid() == 0) {
		cr_assert_eq(chown(at("ok.log"), 65534, 65534), 0);
		cr_expect_eq(safefile_check_path(at("ok.log"), err, sizeof(err)), -1);
		cr_expect(strstr(err, "is owned by uid 65534, not 0") != NULL, "%s", err);
	}
}
