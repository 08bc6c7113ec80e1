/*
 * test_paths.c: the folders and files vigild trusts, attacked as another
 * user would: a socket folder that is a link to a root-only folder, or
 * someone else's; a file where the socket goes; a log file that is a link
 * to a file elsewhere; and TMPDIR/vigil-UID made first by another user.
 * vigild refuses, says why and how to fix it, and changes nothing there.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(paths, .fini = vh_teardown, .timeout = 120);

#define NOBODY	65534

static void
need_root(void)
{
	if (geteuid() != 0)
		VH_SKIP("needs root: the attacks chown and run vigild as another user");
}

/* vigild came not up, exited with a failure, and its log says msg. */
static void
expect_refused(const char *msg)
{
	cr_assert(!vh_start(), "vigild started; log:\n%s", vh_log_tail());
	cr_assert(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) != 0,
	    "vigild ended with wait status 0x%x, want a failing exit; log:\n%s",
	    (unsigned)vh.exit_status, vh_log_tail());
	cr_assert(vh_log_contains(msg), "vigild's log lacks \"%s\":\n%s", msg, vh_log_tail());
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	cr_assert_neq(fd, -1, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int
entries_in(const char *dir)
{
	char cmd[600];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/* Poll `vigilctl log NAME` until its output holds text; false after timeout_ms. */
static bool
wait_log_output(const char *name, const char *text, int timeout_ms)
{
	struct vh_result *r = malloc(sizeof(*r));
	long long end = vh_now_ms() + timeout_ms;
	bool found = false;

	cr_assert_not_null(r);
	do {
		found = vh_ctl(r, "log", name, NULL) == 0 && strstr(r->out, text) != NULL;
		if (!found)
			usleep(20000);
	} while (!found && vh_now_ms() < end);
	free(r);
	return found;
}

Test(paths, a_socket_folder_that_links_to_a_root_only_folder_is_refused_and_left_alone)
{
	const char *target = vh_path("root-only"), *link = vh_path("sockdir");
	struct stat st;

	need_root();
	cr_assert_eq(mkdir(target, 0700), 0, "%s", strerror(errno));
	cr_assert_eq(symlink(target, link), 0, "%s", strerror(errno));
	snprintf(vh.sock, sizeof(vh.sock), "%s/vigil.sock", link);
	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	expect_refused("is a symbolic link");
	cr_assert(vh_log_contains("socket folder"), "%s", vh_log_tail());
	cr_assert_eq(stat(target, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700, "the target's mode became %04o",
	    (unsigned)(st.st_mode & 07777));
	cr_assert_eq(entries_in(target), 0, "vigild made something in the link's target");
}

Test(paths, a_socket_folder_of_another_user_is_refused_with_how_to_fix_it)
{
	const char *dir = vh_path("theirs");
	char want[600];

	need_root();
	cr_assert_eq(mkdir(dir, 0755), 0, "%s", strerror(errno));
	cr_assert_eq(chown(dir, NOBODY, NOBODY), 0, "%s", strerror(errno));
	snprintf(vh.sock, sizeof(vh.sock), "%s/vigil.sock", dir);
	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	snprintf(want, sizeof(want), "socket folder %s is owned by uid %d, not 0: another "
	    "user made it; remove it or set [vigil] socket =", dir, NOBODY);
	expect_refused(want);
	cr_assert_eq(entries_in(dir), 0, "vigild made something in the other user's folder");
}

Test(paths, a_group_writable_socket_folder_is_refused_and_not_chmodded)
{
	const char *dir = vh_path("shared");
	struct stat st;

	need_root();
	cr_assert_eq(mkdir(dir, 0775), 0, "%s", strerror(errno));
	cr_assert_eq(chmod(dir, 0775), 0);
	snprintf(vh.sock, sizeof(vh.sock), "%s/vigil.sock", dir);
	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	expect_refused("is writable by its group (mode 0775)");
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0775, "mode became %04o", (unsigned)(st.st_mode & 07777));
}

Test(paths, a_regular_file_at_the_socket_path_is_refused_and_untouched)
{
	need_root();
	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	write_file(vh.sock, "precious\n", 0600);
	expect_refused("is a regular file, not a socket");
	cr_assert_str_eq(vh_slurp(vh.sock), "precious\n", "the file was changed");
}

Test(paths, a_link_at_the_socket_path_is_refused_and_kept)
{
	const char *victim = vh_path("victim");
	char to[512];
	ssize_t n;

	need_root();
	vh_setup("[service:a]\ncommand = %s\n", vh_testsvc());
	write_file(victim, "precious\n", 0600);
	cr_assert_eq(symlink(victim, vh.sock), 0, "%s", strerror(errno));
	expect_refused("is a symbolic link, not a socket");
	n = readlink(vh.sock, to, sizeof(to) - 1);
	cr_assert_gt(n, 0, "the link was removed");
	to[n] = '\0';
	cr_assert_str_eq(to, victim);
	cr_assert_str_eq(vh_slurp(victim), "precious\n");
}

Test(paths, a_log_file_that_links_elsewhere_is_refused_and_the_target_unchanged)
{
	const char *victim = vh_path("victim.txt");
	char logdir[512], link[600];

	need_root();
	write_file(victim, "original\n", 0644);
	snprintf(logdir, sizeof(logdir), "%s", vh_path("logs"));
	cr_assert_eq(mkdir(logdir, 0755), 0, "%s", strerror(errno));
	snprintf(link, sizeof(link), "%s/talker.log", logdir);
	cr_assert_eq(symlink(victim, link), 0, "%s", strerror(errno));
	vh_setup("[service:talker]\ncommand = %s echo:secret-output\n", vh_testsvc());
	vh_start_ok();
	/* the line went through vigild (it is in the ring), so the file was tried */
	cr_assert(wait_log_output("talker", "secret-output", 10000), "no output; log:\n%s",
	    vh_log_tail());
	cr_assert(vh_wait_log("talker: refusing its log file", 10000), "%s", vh_log_tail());
	cr_assert(vh_log_contains("is a symbolic link: vigild does not follow links"),
	    "%s", vh_log_tail());
	cr_assert_str_eq(vh_slurp(victim), "original\n", "the link's target was written to");
}

Test(paths, a_log_file_of_another_user_is_refused)
{
	char logdir[512], file[600];

	need_root();
	snprintf(logdir, sizeof(logdir), "%s", vh_path("logs"));
	cr_assert_eq(mkdir(logdir, 0755), 0, "%s", strerror(errno));
	snprintf(file, sizeof(file), "%s/talker.log", logdir);
	write_file(file, "theirs\n", 0666);
	cr_assert_eq(chown(file, NOBODY, NOBODY), 0);
	vh_setup("[service:talker]\ncommand = %s echo:secret-output\n", vh_testsvc());
	vh_start_ok();
	cr_assert(wait_log_output("talker", "secret-output", 10000), "%s", vh_log_tail());
	cr_assert(vh_wait_log("is owned by uid 65534, not 0: vigild appends only", 10000),
	    "%s", vh_log_tail());
	cr_assert_str_eq(vh_slurp(file), "theirs\n");
}

Test(paths, a_reload_that_adds_a_service_whose_log_file_is_a_link_fails_and_changes_nothing)
{
	const char *victim = vh_path("victim.txt");
	char link[600];
	struct vh_result *r = malloc(sizeof(*r));

	need_root();
	cr_assert_not_null(r);
	write_file(victim, "original\n", 0644);
	vh_setup("[service:first]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	snprintf(link, sizeof(link), "%s/second.log", vh_path("logs"));
	cr_assert_eq(symlink(victim, link), 0, "%s", strerror(errno));
	vh_add_services("[service:second]\ncommand = %s echo:hello\n", vh_testsvc());
	cr_assert_neq(vh_ctl(r, "reload", NULL), 0, "the reload passed: %s", r->out);
	cr_assert(strstr(r->out, "is a symbolic link") != NULL ||
	    strstr(r->err, "is a symbolic link") != NULL, "out: %s\nerr: %s", r->out, r->err);
	cr_assert(strstr(r->out, "second.log") != NULL || strstr(r->err, "second.log") != NULL,
	    "the error does not name the file: %s %s", r->out, r->err);
	/* nothing changed: the service was not added */
	cr_assert_neq(vh_ctl(r, "status", "second", NULL), 0, "second was added: %s", r->out);
	cr_assert_eq(vh_ctl(r, "status", "first", NULL), 0, "%s", r->err);
	cr_assert_str_eq(vh_slurp(victim), "original\n");
	free(r);
}

/* A private TMPDIR, sticky and open to all like /tmp; the config readable by nobody. */
static const char *
nobody_tmpdir(void)
{
	static char tmp[200];

	snprintf(tmp, sizeof(tmp), "%s", vh_path("tmp"));
	cr_assert_eq(mkdir(tmp, 0700), 0, "%s", strerror(errno));
	cr_assert_eq(chmod(tmp, 01777), 0);
	cr_assert_eq(chmod(vh.dir, 0755), 0);
	cr_assert_lt((size_t)snprintf(vh.sock, sizeof(vh.sock), "%s/vigil-%d/vigil.sock", tmp,
	    NOBODY), sizeof(vh.sock));
	/* no socket and no log_dir: the defaults are what is tested */
	write_file(vh.conf, "[vigil]\nlog_level = debug\n", 0644);
	return tmp;
}

Test(paths, an_unprivileged_vigild_makes_its_tmpdir_fallback_private)
{
	const char *tmp;
	char dir[600];
	struct stat st;

	need_root();
	tmp = nobody_tmpdir();
	cr_assert(vh_start_as(NOBODY, NOBODY, tmp), "vigild as uid %d did not start "
	    "(wait status 0x%x); log:\n%s", NOBODY, (unsigned)vh.exit_status, vh_log_tail());
	snprintf(dir, sizeof(dir), "%s/vigil-%d", tmp, NOBODY);
	cr_assert_eq(lstat(dir, &st), 0, "%s: %s", dir, strerror(errno));
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_uid, (uid_t)NOBODY);
	cr_assert_eq(st.st_mode & 07777, 0700, "mode %04o", (unsigned)(st.st_mode & 07777));
}

Test(paths, an_unprivileged_vigild_refuses_a_tmpdir_fallback_another_user_made)
{
	const char *tmp;
	char dir[600], want[800];
	struct stat st;

	need_root();
	tmp = nobody_tmpdir();
	snprintf(dir, sizeof(dir), "%s/vigil-%d", tmp, NOBODY);
	/* made first by another user (root here), open for the victim to use */
	cr_assert_eq(mkdir(dir, 0755), 0, "%s", strerror(errno));
	cr_assert(!vh_start_as(NOBODY, NOBODY, tmp), "vigild started in %s", dir);
	cr_assert(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) != 0,
	    "wait status 0x%x; log:\n%s", (unsigned)vh.exit_status, vh_log_tail());
	snprintf(want, sizeof(want), "socket folder %s is owned by uid 0, not %d: another "
	    "user made it", dir, NOBODY);
	cr_assert(vh_log_contains(want), "log lacks \"%s\":\n%s", want, vh_log_tail());
	cr_assert_eq(entries_in(dir), 0, "vigild made something in %s", dir);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755);
}

/*
 * The victim's vigilctl, as nobody with no XDG_RUNTIME_DIR, finds its
 * default folder TMPDIR/vigil-65534 made first by another user: it sends
 * nothing there and says why. Its exit code, stderr in err.
 */
static int
ctl_as_nobody_with_default_socket(const char *tmp, char *err, size_t len)
{
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		dup2(p[1], 2);
		close(p[0]);
		unsetenv("XDG_RUNTIME_DIR");
		unsetenv("VIGIL_SOCKET");
		setenv("TMPDIR", tmp, 1);
		vh_become(NOBODY, NOBODY, NULL, 0);
		execl(getenv("VIGILCTL") ? getenv("VIGILCTL") : "./vigilctl", "vigilctl",
		    "status", (char *)NULL);
		_exit(97);
	}
	close(p[1]);
	while ((n = read(p[0], err + got, len - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(paths, vigilctl_refuses_a_default_folder_another_user_made)
{
	const char *tmp;
	char dir[600], err[2048];

	need_root();
	tmp = nobody_tmpdir();
	snprintf(dir, sizeof(dir), "%s/vigil-%d", tmp, NOBODY);
	cr_assert_eq(mkdir(dir, 0755), 0, "%s", strerror(errno));
	cr_expect_eq(ctl_as_nobody_with_default_socket(tmp, err, sizeof(err)), 3, "%s", err);
	cr_expect(strstr(err, "refusing the default socket") != NULL &&
	    strstr(err, "belongs to uid 0, not to you (uid 65534)") != NULL, "stderr: %s", err);
	/* its own, private folder is used as before: nothing listens, and it says so */
	cr_assert_eq(chown(dir, NOBODY, NOBODY), 0);
	cr_assert_eq(chmod(dir, 0700), 0);
	cr_expect_eq(ctl_as_nobody_with_default_socket(tmp, err, sizeof(err)), 3, "%s", err);
	cr_expect(strstr(err, "cannot connect to") != NULL, "stderr: %s", err);
}

Test(paths, check_says_when_the_log_folder_cannot_be_made_and_makes_none)
{
	const char *out;
	struct stat st;
	int status;
	char logs[300];

	/* nobody cannot make a folder in /: file:line, the folder, why */
	out = vh_check_as_nobody(&status, "log_dir = /vigil-check-no-such/logs\n\n"
	    "[service:web]\ncommand = /bin/true\n");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status 0x%x: %s",
	    (unsigned)status, out);
	cr_expect(strstr(out, "vigil.conf:4: [vigil] log_dir: cannot create log folder "
	    "/vigil-check-no-such/logs: mkdir /vigil-check-no-such: Permission denied") != NULL,
	    "%s", out);
	cr_expect(strstr(out, ": ok,") == NULL, "%s", out);

	/* a folder it can make passes, and is not made by a check */
	vh_setup("[service:web]\ncommand = /bin/true\n");
	snprintf(logs, sizeof(logs), "%s/logs", vh.dir);
	cr_assert_eq(stat(logs, &st), -1);
	vh_exec((char *[]){ getenv("VIGILD"), "--check", "-c", vh.conf, NULL }, NULL, NULL);
	cr_assert(vh_signal_and_wait(0, 30000), "--check still running");
	cr_expect(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) == 0,
	    "status 0x%x: %s", (unsigned)vh.exit_status, vh_log_tail());
	cr_expect(vh_log_contains(": ok, 1 service"), "%s", vh_log_tail());
	cr_expect_eq(stat(logs, &st), -1, "--check made %s", logs);

	/* a file where the folder should be */
	cr_assert_eq(close(open(logs, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);
	vh_exec((char *[]){ getenv("VIGILD"), "--check", "-c", vh.conf, NULL }, NULL, NULL);
	cr_assert(vh_signal_and_wait(0, 30000), "--check still running");
	cr_expect(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) == 1,
	    "status 0x%x: %s", (unsigned)vh.exit_status, vh_log_tail());
	cr_expect(vh_log_contains("vigil.conf:4: [vigil] log_dir: log folder "), "%s",
	    vh_log_tail());
	cr_expect(vh_log_contains("is not a folder"), "%s", vh_log_tail());
}
