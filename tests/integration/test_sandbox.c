/*
 * test_sandbox.c: chroot, private_tmp, private_network, read_only_paths
 * and inaccessible_paths, each checked from inside the service (testsvc
 * reads and writes and says what it saw), and an exec readiness check
 * that must run in the service's own namespaces. Each test skips where
 * the kernel will not make namespaces for us (an unprivileged container).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char outdir[1024];	/* results the service writes, outside /tmp */
static char chroot_proc[PATH_MAX];	/* a /proc bound into the chroot, to undo */

static void
sandbox_fini(void)
{
	char cmd[PATH_MAX + 32];

	/* before the test's folder is removed, or rm would walk into /proc */
	if (chroot_proc[0] != '\0')
		umount2(chroot_proc, MNT_DETACH);
	vh_teardown();
	if (outdir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", outdir);
		if (system(cmd) != 0)
			cr_log_warn("could not remove %s", outdir);
	}
}

TestSuite(sandbox, .fini = sandbox_fini, .timeout = 120);

/* Whether this kernel lets us make the namespaces of flags, and mount in one. */
static bool
kernel_allows(int flags)
{
	pid_t pid = fork();
	int status;

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (unshare(flags) == -1)
			_exit(1);
		if ((flags & CLONE_NEWNS) &&
		    (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1 ||
		    mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777") == -1))
			_exit(1);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
need(int flags)
{
	if (geteuid() != 0)
		VH_SKIP("needs root: namespaces and mounts need CAP_SYS_ADMIN");
	if (!kernel_allows(flags))
		VH_SKIP("the kernel refuses unshare or mount here (a container?)");
}

/* A folder for results under the current one: /tmp is the very thing hidden. */
static void
make_outdir(void)
{
	char cwd[900];

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	snprintf(outdir, sizeof(outdir), "%s/sandbox-out-XXXXXX", cwd);
	cr_assert_not_null(mkdtemp(outdir), "mkdtemp: %s", strerror(errno));
}

static const char *
out(const char *name)
{
	static char paths[8][PATH_MAX];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, PATH_MAX, "%s/%s", outdir, name);
	return p;
}

/* What the service wrote to FILE, waited for; one line, without its newline. */
static char *
result(const char *file)
{
	char *text;

	cr_assert(vh_wait_file(file, 20000), "no %s; log:\n%s", file, vh_log_tail());
	text = strdup(vh_slurp(file));
	cr_assert_not_null(text);
	text[strcspn(text, "\n")] = '\0';
	return text;
}

static void
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_neq(fd, -1, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * private_tmp: what the service writes to /tmp and /var/tmp stays in its
 * own, and what the host has in /tmp is not there; status shows the key.
 */
Test(sandbox, private_tmp_gives_the_service_its_own_tmp)
{
	char marker[64], mine[64], vmine[64], want[80], *r;
	json_t *svc;

	need(CLONE_NEWNS);
	make_outdir();
	snprintf(marker, sizeof(marker), "/tmp/vigil-sandbox-host-%d", (int)getpid());
	snprintf(mine, sizeof(mine), "/tmp/vigil-sandbox-svc-%d", (int)getpid());
	snprintf(vmine, sizeof(vmine), "/var/tmp/vigil-sandbox-svc-%d", (int)getpid());
	write_file(marker, "host\n");
	/* on indented lines: a build's long paths would pass the parser's line limit */
	vh_setup("[service:web]\ncommand = %s\n read:%s:%s\n touch:%s:%s\n touch:%s:%s\n read:/tmp:%s\n"
	    "private_tmp = yes\n", vh_testsvc(), marker, out("marker"), mine, out("touch"),
	    vmine, out("vtouch"), out("ls"));
	vh_start_ok();
	/* the service's /tmp holds only what it wrote there */
	r = result(out("ls"));
	snprintf(want, sizeof(want), "ok:%s ", mine + strlen("/tmp/"));
	cr_expect_str_eq(r, want);
	free(r);
	r = result(out("marker"));
	cr_expect_str_eq(r, strerror(ENOENT), "the host's /tmp file, seen inside: %s", r);
	free(r);
	r = result(out("touch"));
	cr_expect_str_eq(r, "ok");
	free(r);
	r = result(out("vtouch"));
	cr_expect_str_eq(r, "ok");
	free(r);
	cr_expect_neq(access(mine, F_OK), 0, "%s is in the host's /tmp", mine);
	cr_expect_neq(access(vmine, F_OK), 0, "%s is in the host's /var/tmp", vmine);
	svc = vh_service("web");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(svc, "isolation"),
	    "private_tmp")), "yes", "status: %s", json_dumps(svc, 0));
	json_decref(svc);
	unlink(marker);
	unlink(mine);
	unlink(vmine);
}

/* private_network: only lo, and it is up; the host's interfaces are not there. */
Test(sandbox, private_network_has_only_a_loopback_that_is_up)
{
	char *dev, *line, *save, *r;
	int nif = 0;

	need(CLONE_NEWNET);
	vh_setup("[service:web]\ncommand = %s proc:net/dev:%s ifflags:lo:%s\n"
	    "private_network = yes\n", vh_testsvc(), vh_path("netdev"), vh_path("lo"));
	vh_start_ok();
	r = result(vh_path("lo"));
	cr_expect_str_eq(r, "up");
	free(r);
	cr_assert(vh_wait_file(vh_path("netdev"), 20000));
	dev = strdup(vh_slurp(vh_path("netdev")));
	/* two header lines, then "  NAME: counters" per interface */
	for (line = strtok_r(dev, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strchr(line, ':') == NULL)
			continue;
		nif++;
		cr_expect(strncmp(line + strspn(line, " "), "lo:", 3) == 0,
		    "an interface besides lo: %s", line);
	}
	cr_expect_eq(nif, 1, "interfaces seen: %d", nif);
	free(dev);
}

/*
 * read_only_paths: a write there fails with EROFS inside, a write beside
 * it works, and the host's view is untouched; a missing -PATH is no error.
 */
Test(sandbox, read_only_paths_refuse_writes_inside_only)
{
	char *r, ro[PATH_MAX];

	need(CLONE_NEWNS);
	vh_setup("[service:web]\ncommand = /bin/true\n");
	snprintf(ro, sizeof(ro), "%s", vh_path("ro"));
	cr_assert_eq(mkdir(ro, 0755), 0);
	cr_assert_eq(mkdir(vh_path("rw"), 0755), 0);
	vh_setup("[service:web]\ncommand = %s\n touch:%s/x:%s\n touch:%s/y:%s\n"
	    "read_only_paths = %s -/nonexistent/vigil-sandbox\n", vh_testsvc(), ro,
	    vh_path("ro-result"), vh_path("rw"), vh_path("rw-result"), ro);
	vh_start_ok();
	r = result(vh_path("ro-result"));
	cr_expect_str_eq(r, strerror(EROFS));
	free(r);
	r = result(vh_path("rw-result"));
	cr_expect_str_eq(r, "ok");
	free(r);
	snprintf(ro + strlen(ro), sizeof(ro) - strlen(ro), "/host");
	write_file(ro, "the host may still write\n");
}

/*
 * inaccessible_paths: a folder is empty inside, a file cannot be opened
 * (root included); the host still reads both.
 */
Test(sandbox, inaccessible_paths_hide_folders_and_files)
{
	char dir[PATH_MAX], file[PATH_MAX], *r;

	need(CLONE_NEWNS);
	vh_setup("[service:web]\ncommand = /bin/true\n");
	snprintf(dir, sizeof(dir), "%s", vh_path("secrets"));
	snprintf(file, sizeof(file), "%s", vh_path("key"));
	cr_assert_eq(mkdir(dir, 0755), 0);
	write_file(vh_path("secrets/one"), "one\n");
	write_file(file, "key\n");
	vh_setup("[service:web]\ncommand = %s\n read:%s/one:%s\n read:%s:%s\n read:%s:%s\n"
	    "inaccessible_paths = %s %s -/nonexistent/vigil-sandbox\n", vh_testsvc(), dir,
	    vh_path("one-result"), dir, vh_path("dir-result"), file, vh_path("key-result"),
	    dir, file);
	vh_start_ok();
	r = result(vh_path("one-result"));
	cr_expect_str_eq(r, strerror(ENOENT));
	free(r);
	r = result(vh_path("dir-result"));
	cr_expect_str_eq(r, "ok:", "the folder inside: %s", r);
	free(r);
	r = result(vh_path("key-result"));
	cr_expect_str_eq(r, strerror(EACCES));
	free(r);
	cr_expect_str_eq(vh_slurp(vh_path("secrets/one")), "one\n");
	cr_expect_str_eq(vh_slurp(file), "key\n");
}

/* Copy src to dst, making dst's folders; mode kept. */
static void
copy_into(const char *root, const char *src)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "mkdir -p \"%s$(dirname '%s')\" && cp -L '%s' '%s%s'",
	    root, src, src, root, src);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/*
 * A root with testsvc and the libraries ldd names, and /proc bound in
 * (the sanitizers read /proc/self/maps).
 */
static void
make_chroot(const char *root)
{
	char cmd[PATH_MAX + 1100], line[PATH_MAX], *p, *end;
	FILE *f;

	cr_assert_eq(mkdir(root, 0755), 0);
	copy_into(root, vh_testsvc());
	snprintf(cmd, sizeof(cmd), "ldd '%s'", vh_testsvc());
	cr_assert_not_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "\t/lib64/ld-..." */
		if ((p = strchr(line, '/')) == NULL)
			continue;
		if ((end = strchr(p, ' ')) != NULL)
			*end = '\0';
		p[strcspn(p, "\n")] = '\0';
		copy_into(root, p);
	}
	pclose(f);
	snprintf(chroot_proc, sizeof(chroot_proc), "%.1000s/proc", root);
	snprintf(cmd, sizeof(cmd), "%s/srv", root);
	cr_assert_eq(mkdir(cmd, 0755), 0);
	cr_assert_eq(mkdir(chroot_proc, 0555), 0);
	if (mount("/proc", chroot_proc, NULL, MS_BIND | MS_REC, NULL) == -1) {
		chroot_proc[0] = '\0';
		VH_SKIP("cannot bind /proc into the chroot: %s", strerror(errno));
	}
}

/* chroot: the service's root is the folder, directory is inside it. */
Test(sandbox, chroot_puts_the_service_in_its_folder)
{
	char root[1024], link[64], seen[PATH_MAX], *info;
	pid_t pid;
	ssize_t n;

	if (geteuid() != 0)
		VH_SKIP("needs root: chroot needs CAP_SYS_CHROOT");
	vh_setup("[service:web]\ncommand = /bin/true\n");
	snprintf(root, sizeof(root), "%s", vh_path("root"));
	make_chroot(root);
	vh_setup("[service:web]\ncommand = %s pid:/srv/pid info:/srv/info\nchroot = %s\n"
	    "directory = /srv\n", vh_testsvc(), root);
	vh_start_ok();
	snprintf(seen, sizeof(seen), "%s/srv/pid", root);
	cr_assert(vh_wait_file(seen, 20000), "log:\n%s", vh_log_tail());
	pid = (pid_t)vh_read_long(seen);
	snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
	cr_assert_gt(n = readlink(link, seen, sizeof(seen) - 1), 0);
	seen[n] = '\0';
	cr_expect_str_eq(seen, root);
	snprintf(seen, sizeof(seen), "%s/srv/info", root);
	cr_assert(vh_wait_file(seen, 20000));
	info = strdup(vh_slurp(seen));
	cr_expect(strstr(info, "cwd=/srv\n") != NULL, "%s", info);
	free(info);
}

/*
 * ready = exec: the check runs in the service's mounts, so it sees the
 * file the service wrote to its private /tmp; in new ones of its own it
 * never would, and the service would never be ready.
 */
Test(sandbox, an_exec_check_runs_in_the_services_namespaces)
{
	char mine[64];

	need(CLONE_NEWNS | CLONE_NEWNET);
	snprintf(mine, sizeof(mine), "/tmp/vigil-sandbox-ready-%d", (int)getpid());
	vh_setup("[service:web]\ncommand = %s sleep:200 touch:%s:/tmp/touched\n"
	    "private_tmp = yes\nprivate_network = yes\nready = exec:%s await:%s exit:0\n"
	    "ready_timeout = 20s\n", vh_testsvc(), mine, vh_testsvc(), mine);
	vh_start_ok();
	cr_expect(vh_wait_ready("web", 20000), "log:\n%s", vh_log_tail());
	cr_expect_neq(access(mine, F_OK), 0, "%s is in the host's /tmp", mine);
}

/*
 * vigild --check as an unprivileged user: each key is a load error naming
 * CAP_SYS_ADMIN (CAP_SYS_CHROOT for chroot); "no" needs nothing.
 */
Test(sandbox, the_keys_are_load_errors_for_a_vigild_without_the_capability)
{
	const char *out;
	int status;

	if (geteuid() != 0)
		VH_SKIP("needs root, to run vigild as nobody");
	out = vh_check_as_nobody(&status, "[service:ok]\ncommand = /bin/true\n"
	    "private_tmp = no\nprivate_network = no\n\n[service:bad]\ncommand = /bin/true\n"
	    "private_tmp = yes\nprivate_network = yes\nread_only_paths = /etc\n"
	    "inaccessible_paths = -/root\nchroot = /\n");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) < 98,
	    "status 0x%x, output:\n%s", status, out);
	for (int line = 11; line <= 14; line++) {
		static const char *const keys[] = { "private_tmp", "private_network",
		    "read_only_paths", "inaccessible_paths" };
		char want[200];

		snprintf(want, sizeof(want), "vigil.conf:%d: [service:bad] %s: %s needs "
		    "CAP_SYS_ADMIN, which vigild (uid 65534) does not have", line,
		    keys[line - 11], line == 12 ? "a network namespace of its own" :
		    "mounts in a namespace of its own");
		cr_expect(strstr(out, want) != NULL, "no '%s' in:\n%s", want, out);
	}
	cr_expect(strstr(out, "vigil.conf:15: [service:bad] chroot: a root folder of its own "
	    "needs CAP_SYS_CHROOT") != NULL, "%s", out);
	cr_expect(strstr(out, "[service:ok]") == NULL, "ok needs nothing: %s", out);
}

/* A read-only path gone between load and spawn: a failed start naming the step. */
Test(sandbox, a_mount_that_fails_is_a_failed_start_naming_it)
{
	struct vh_result *r = malloc(sizeof(*r));
	char ro[PATH_MAX];

	cr_assert_not_null(r);
	need(CLONE_NEWNS);
	vh_setup("[service:web]\ncommand = /bin/true\n");
	snprintf(ro, sizeof(ro), "%s", vh_path("gone"));
	cr_assert_eq(mkdir(ro, 0755), 0);
	vh_setup("[service:web]\ncommand = %s\nread_only_paths = %s\nrestart = never\n"
	    "autostart = no\n", vh_testsvc(), ro);
	vh_start_ok();
	cr_assert_eq(rmdir(ro), 0);
	vh_ctl(r, "start", "web", NULL);
	free(r);
	cr_expect(vh_wait_reason("web", "spawn failed at read_only_paths bind ", 20000),
	    "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains(": No such file or directory"), "log:\n%s", vh_log_tail());
}
