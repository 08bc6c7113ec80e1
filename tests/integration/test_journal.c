/*
 * test_journal.c: log_target = journal and stdout/stderr = journal, checked
 * in what a real systemd-journald stored, not only in what vigild says.
 *
 * systemd need not be PID 1 for this: each test (Criterion forks one
 * process per test) enters a mount namespace of its own, mounts empty
 * tmpfs over /run and /var/log there, and starts /lib/systemd/systemd-journald
 * in it. journald then makes its sockets in the private /run/systemd/journal
 * (where libsystemd sends) and writes its files in the private /run/log/journal,
 * which `journalctl -o json` run in the same namespace reads back. The host's
 * journal and /run are never touched; the namespace ends with the test.
 * Skipped, saying why, where vigild was built without libsystemd, systemd is
 * not installed, or the test may not make a mount namespace.
 */
#define _GNU_SOURCE
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define JOURNALD	"/lib/systemd/systemd-journald"
#define JOURNALCTL	"/usr/bin/journalctl"
#define UP_MS		20000

static pid_t journald;

static void
journal_fini(void)
{
	vh_teardown();
	if (journald > 0) {
		kill(journald, SIGTERM);
		waitpid(journald, NULL, 0);
		journald = 0;
	}
}

TestSuite(journal, .fini = journal_fini, .timeout = 180);

static bool
is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/*
 * This test's own /run and /var/log: empty, so the journal socket is absent
 * until a journald of the test's makes it. Skips where that is not possible.
 */
static void
private_run(void)
{
#ifndef HAVE_LIBSYSTEMD
	VH_SKIP("vigild was built without libsystemd: it has no journal support to test");
#endif
	if (access(JOURNALD, X_OK) != 0 || access(JOURNALCTL, X_OK) != 0)
		VH_SKIP("no %s or %s (Debian package systemd): no journald to log to",
		    JOURNALD, JOURNALCTL);
	if (unshare(CLONE_NEWNS) == -1)
		VH_SKIP("unshare(CLONE_NEWNS): %s: a private /run/systemd/journal needs a "
		    "mount namespace", strerror(errno));
	/* nothing mounted from here on reaches the host's namespace */
	cr_assert_eq(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s",
	    strerror(errno));
	cr_assert_eq(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), 0, "%s", strerror(errno));
	cr_assert_eq(mount("tmpfs", "/var/log", "tmpfs", 0, "mode=0755"), 0, "%s",
	    strerror(errno));
	cr_assert_eq(mkdir("/run/systemd", 0755), 0);
	cr_assert_eq(mkdir("/run/systemd/journal", 0755), 0);
}

/* A journald of the test's, up once both of its sockets are there. */
static void
start_journald(void)
{
	long long deadline = vh_now_ms() + UP_MS;
	int fd;

	cr_assert_neq(journald = fork(), -1);
	if (journald == 0) {
		/* its own chatter goes to the test folder, not the test's output */
		if ((fd = open(vh_path("journald.out"), O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(JOURNALD, "systemd-journald", (char *)NULL);
		_exit(127);
	}
	while (!is_socket("/run/systemd/journal/socket") ||
	    !is_socket("/run/systemd/journal/stdout")) {
		cr_assert(vh_now_ms() < deadline, "journald made no sockets: %s",
		    vh_slurp(vh_path("journald.out")));
		cr_assert_eq(waitpid(journald, NULL, WNOHANG), 0, "journald ended: %s",
		    vh_slurp(vh_path("journald.out")));
		usleep(10000);
	}
}

/* Every entry journald has stored so far, as JSON objects (caller decrefs). */
static json_t *
journal_entries(void)
{
	json_t *all = json_array();
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f;
	pid_t pid;
	int fds[2];

	cr_assert_not_null(all);
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		dup2(fds[1], 1);
		execl(JOURNALCTL, "journalctl", "-o", "json", "--no-pager", "-q", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	cr_assert_not_null(f = open_memstream(&text, &len));
	for (char buf[8192]; ; ) {
		ssize_t n = read(fds[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, f);
	}
	fclose(f);
	close(fds[0]);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_t *e = json_loads(line, 0, NULL);
		if (e != NULL)
			json_array_append_new(all, e);
	}
	free(text);
	return all;
}

static const char *
field(const json_t *e, const char *key)
{
	const char *v = json_string_value(json_object_get(e, key));

	return v != NULL ? v : "";
}

/*
 * The first entry whose SYSLOG_IDENTIFIER is ident and whose MESSAGE begins
 * with message, polled for until timeout_ms (caller decrefs); NULL if none.
 */
static json_t *
wait_entry(const char *ident, const char *message, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	for (;;) {
		json_t *all = journal_entries(), *e, *found = NULL;
		size_t i;

		json_array_foreach(all, i, e) {
			if (strcmp(field(e, "SYSLOG_IDENTIFIER"), ident) == 0 &&
			    strncmp(field(e, "MESSAGE"), message, strlen(message)) == 0) {
				found = json_incref(e);
				break;
			}
		}
		json_decref(all);
		if (found != NULL || vh_now_ms() >= deadline)
			return found;
		usleep(50000);
	}
}


Test(journal, vigild_lines_carry_the_service_and_its_pid)
{
	char msg[64], pidtext[32];
	json_t *e;
	pid_t pid;

	private_run();
	start_journald();
	vh_setup("log_target = journal\n\n[service:web]\ncommand = %s fds:%s\n"
	    "start_secs = 100ms\n", vh_testsvc(), vh_path("fds"));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", UP_MS));
	cr_assert_gt(pid = vh_main_pid("web"), 0);

	snprintf(msg, sizeof(msg), "web: spawned pid %d", (int)pid);
	cr_assert_not_null(e = wait_entry("vigild", msg, UP_MS), "no '%s' in the journal", msg);
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	cr_expect_str_eq(field(e, "VIGIL_SERVICE"), "web");
	cr_expect_str_eq(field(e, "VIGIL_PID"), pidtext);
	cr_expect_str_eq(field(e, "PRIORITY"), "6");	/* info */
	cr_expect_str_eq(field(e, "_TRANSPORT"), "journal");
	json_decref(e);

	cr_assert_not_null(e = wait_entry("vigild", "web: starting -> running", UP_MS));
	cr_expect_str_eq(field(e, "VIGIL_SERVICE"), "web");
	cr_expect_str_eq(field(e, "PRIORITY"), "5");	/* notice */
	json_decref(e);

	/* a line about no service has no service field */
	cr_assert_not_null(e = wait_entry("vigild", "control: listening on", UP_MS));
	cr_expect_null(json_object_get(e, "VIGIL_SERVICE"));
	json_decref(e);

	/* and stderr got none of it */
	cr_expect(!vh_log_contains("spawned pid"), "log: %s", vh_log_tail());
	/* vigild's socket to journald stays its own */
	cr_assert(vh_wait_file(vh_path("fds"), UP_MS));
	cr_expect_str_eq(vh_slurp(vh_path("fds")), "0\n1\n2\n");
}

Test(journal, service_output_is_a_stream_named_after_the_service)
{
	struct vh_result r;
	struct vh_bg b;
	bool noted;
	char *line;
	json_t *e;
	pid_t pid;
	int before;

	private_run();
	start_journald();
	vh_setup("[service:web]\ncommand = %s echo:out-line err:err-line echo:<3>prefixed-line "
	    "fds:%s\nstdout = journal\nstderr = journal\nstart_secs = 100ms\n"
	    "[service:api]\ncommand = %s echo:api-out err:api-err\nstdout = journal\n",
	    vh_testsvc(), vh_path("fds"), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", UP_MS), "log: %s", vh_log_tail());

	cr_assert_not_null(e = wait_entry("web", "out-line", UP_MS), "log: %s", vh_log_tail());
	cr_expect_str_eq(field(e, "_TRANSPORT"), "stdout");
	cr_expect_str_eq(field(e, "PRIORITY"), "6");	/* stdout: info */
	json_decref(e);
	cr_assert_not_null(e = wait_entry("web", "err-line", UP_MS));
	cr_expect_str_eq(field(e, "PRIORITY"), "4");	/* stderr: warning */
	json_decref(e);
	/* level_prefix: "<3>" is taken off and sets the priority */
	cr_assert_not_null(e = wait_entry("web", "prefixed-line", UP_MS));
	cr_expect_str_eq(field(e, "PRIORITY"), "3");
	json_decref(e);

	/* the child got 0, 1, 2 and nothing of vigild's */
	cr_assert(vh_wait_file(vh_path("fds"), UP_MS));
	cr_expect_str_eq(vh_slurp(vh_path("fds")), "0\n1\n2\n");

	/* vigild keeps no stream: restarts leave its fd count as it was */
	before = vh_count_fds(vh.pid);
	cr_assert_gt(before, 0, "cannot count vigild's fds");
	for (int i = 0; i < 3; i++) {
		pid = vh_main_pid("web");
		cr_assert_eq(vh_ctl(&r, "restart", "web", NULL), 0, "err: %s", r.err);
		cr_assert_gt(vh_wait_new_pid("web", pid, UP_MS), 0);
	}
	cr_assert(vh_wait_state("web", "running", UP_MS));
	cr_expect_eq(vh_count_fds(vh.pid), before);

	/* vigilctl log has no lines of it, and says where they went */
	cr_assert_eq(vh_ctl(&r, "log", "web", NULL), 0, "err: %s", r.err);
	cr_expect_str_eq(r.out, "");
	cr_expect(strstr(r.err, "web: stdout and stderr go to the journal; see journalctl -t web")
	    != NULL, "err: %s", r.err);

	/* a service with only stdout there: its stderr is captured as before */
	cr_assert_not_null(e = wait_entry("api", "api-out", UP_MS));
	json_decref(e);
	cr_assert(vh_wait_state("api", "running", UP_MS));
	cr_assert_eq(vh_ctl(&r, "log", "api", NULL), 0, "err: %s", r.err);
	cr_expect(strstr(r.out, "api-err") != NULL, "out: %s", r.out);
	cr_expect(strstr(r.out, "api-out") == NULL, "out: %s", r.out);
	cr_expect(strstr(r.err, "vigilctl: api: stdout goes to the journal; see journalctl -t api")
	    != NULL, "err: %s", r.err);
	/* with --json too: stdout keeps only LINE objects, the note is on stderr */
	cr_assert_eq(vh_ctl(&r, "--json", "log", "api", NULL), 0, "err: %s", r.err);
	cr_expect(strncmp(r.out, "{\"service\":\"api\",", 17) == 0, "out: %s", r.out);
	cr_expect(strstr(r.out, "journal") == NULL, "out: %s", r.out);
	cr_expect(strstr(r.err, "api: stdout goes to the journal") != NULL, "err: %s", r.err);

	/* and so does a follower, before the lines */
	vh_bg_start(&b, "log", "-f", "api", NULL);
	do {
		cr_assert_not_null(line = vh_bg_line(&b, UP_MS), "log -f said no note");
		noted = strstr(line, "vigilctl: api: stdout goes to the journal") != NULL;
		free(line);
	} while (!noted);
	vh_bg_end(&b);
}

Test(journal, a_stream_journald_refuses_fails_the_start)
{
	struct vh_result r;
	char why[512];

	private_run();
	start_journald();
	vh_setup("[service:web]\ncommand = %s\nstdout = journal\nautostart = no\n", vh_testsvc());
	vh_start_ok();
	/* its socket stays, and nobody listens on it any more */
	kill(journald, SIGKILL);
	cr_assert_eq(waitpid(journald, NULL, 0), journald);
	journald = 0;
	vh_ctl(&r, "start", "web", NULL);
	cr_expect(vh_wait_reason("web", "spawn failed at journal stream for stdout: Connection "
	    "refused", UP_MS), "reason: %s", vh_reason("web", why, sizeof(why)));
	/* a failed start, as any spawn step's: the service's name leads the line */
	cr_expect(vh_wait_log("web: starting -> backoff (spawn failed at journal stream for "
	    "stdout: Connection refused", UP_MS), "log: %s", vh_log_tail());
}

Test(journal, without_a_journal_vigild_says_so_and_logs_to_stderr)
{
	private_run();	/* and no journald */
	vh_setup("log_target = journal\n\n[service:web]\ncommand = %s\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", UP_MS), "log: %s", vh_log_tail());
	cr_expect_eq(vh_log_count("journal: no /run/systemd/journal/socket"), 1, "log: %s",
	    vh_log_tail());
	cr_expect(vh_wait_log("web: spawned pid", UP_MS), "log: %s", vh_log_tail());
}

/* The key is checked at load: vigild --check says at once whether this build can. */
Test(journal, check_accepts_journal_only_with_libsystemd)
{
	const char *out;
	int status;

	out = vh_check_as_nobody(&status, "log_target = journal\n\n[service:web]\n"
	    "command = /bin/true\nstdout = journal\nstderr = journal\n");
#ifdef HAVE_LIBSYSTEMD
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "out: %s", out);
	cr_expect(strstr(out, "ok, 1 service") != NULL, "out: %s", out);
#else
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0, "out: %s", out);
	cr_expect(strstr(out, "vigil.conf:4: [vigil] log_target: expected stderr or syslog, "
	    "found 'journal': this vigild was built without journal support") != NULL,
	    "out: %s", out);
	cr_expect(strstr(out, "vigil.conf:8: [service:web] stdout: expected ") != NULL, "out: %s",
	    out);
	cr_expect(strstr(out, "vigil.conf:9: [service:web] stderr: expected ") != NULL, "out: %s",
	    out);
#endif
}
