/*
 * test_notify_trust.c: the notify sockets against an attacker (issue 13).
 * Another user cannot reach a service's socket, a socket connected before
 * its process dropped to another uid is not heard, a sender that exited
 * before vigild could check it (or a live process of the same user that
 * is not the service's) does not make the service ready, and what a
 * sender writes cannot forge a line of vigild's log or flood it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(notify_trust, .fini = vh_teardown, .timeout = 120);

static struct passwd nobody;

/* Root is needed to be two users; the suite's folder is opened to nobody. */
static void
need_root(void)
{
	struct passwd *pw;

	if (geteuid() != 0)
		VH_SKIP("acting as another user needs root; this suite runs as euid %d",
		    (int)geteuid());
	if ((pw = getpwnam("nobody")) == NULL)
		VH_SKIP("no user nobody on this machine");
	nobody = *pw;
	/*
	 * mkdtemp made it 0700: nobody must reach the notify folder, and
	 * write web's files in a folder of its own
	 */
	cr_assert_eq(chmod(vh.dir, 0755), 0, "chmod %s: %s", vh.dir, strerror(errno));
	cr_assert(mkdir(vh_path("u"), 0755) == 0 || errno == EEXIST);
	cr_assert_eq(chown(vh_path("u"), nobody.pw_uid, nobody.pw_gid), 0);
}

static const char *
socket_of(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/vigil.notify/%s", vh.dir, name);
	return path;
}

enum send_as { AS_NOBODY, CONNECT_AS_ROOT_THEN_NOBODY };

/*
 * A child sends text to path as nobody (or connects as root and drops to
 * nobody before it sends), reports the send's errno through its exit code,
 * and exits at once unless hold: then it lives until it reads a byte from
 * the pipe *release (a live sender).
 */
static pid_t
send_from_child(const char *path, const char *text, enum send_as how, int *release)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int p[2] = { -1, -1 };
	pid_t pid;

	cr_assert_lt(strlen(path), sizeof(sa.sun_path), "%s: too long for a socket", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (release != NULL)
		cr_assert_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		char c;

		if (fd == -1)
			_exit(100);
		if (how == CONNECT_AS_ROOT_THEN_NOBODY &&
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
			_exit(101);
		if (setgroups(0, NULL) == -1 || setgid(nobody.pw_gid) == -1 ||
		    setuid(nobody.pw_uid) == -1)
			_exit(102);
		if ((how == CONNECT_AS_ROOT_THEN_NOBODY ?
		    send(fd, text, strlen(text), 0) :
		    sendto(fd, text, strlen(text), 0, (struct sockaddr *)&sa, sizeof(sa))) == -1)
			_exit(errno == EACCES ? 13 : 103);
		if (p[0] != -1) {
			close(p[1]);
			(void)read(p[0], &c, 1);
		}
		_exit(0);
	}
	cr_assert_gt(pid, 0);
	if (release != NULL) {
		close(p[0]);
		*release = p[1];
	}
	return pid;
}

static int
reap(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "the sender died: status %d", st);
	return WEXITSTATUS(st);
}

/* web waits for the file "go" before it says READY=1: until then only a spoof makes it ready. */
static void
setup_web(const char *user_line)
{
	vh_setup("[service:web]\ncommand = %s pid:%s await:%s notify:READY=1\n%s"
	    "ready = notify\nready_timeout = 1h\n", vh_testsvc(), vh_path("u/web.pid"),
	    vh_path("u/go"), user_line);
	need_root();
	vh_start_ok();
	cr_assert(vh_wait_file(vh_path("u/web.pid"), 20000), "log:\n%s", vh_log_tail());
}

/* Still not ready; then the service's own READY=1 is heard (the socket works). */
static void
expect_only_the_service_makes_it_ready(void)
{
	json_t *s = vh_service("web");
	FILE *f;

	cr_expect(json_is_false(json_object_get(s, "ready")), "a spoofed message made web "
	    "ready; log:\n%s", vh_log_tail());
	json_decref(s);
	cr_assert_not_null(f = fopen(vh_path("u/go"), "w"));
	fclose(f);
	cr_expect(vh_wait_ready("web", 20000), "web's own READY=1 was not heard; log:\n%s",
	    vh_log_tail());
}

Test(notify_trust, the_socket_belongs_to_the_services_user_alone)
{
	struct stat st;

	setup_web("user = nobody\n");
	cr_assert_eq(lstat(socket_of("web"), &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	cr_expect_eq(st.st_uid, nobody.pw_uid, "owner %d", (int)st.st_uid);
	expect_only_the_service_makes_it_ready();
}

/* web runs as root: nobody cannot even send to its socket. */
Test(notify_trust, another_user_cannot_send_to_a_root_services_socket)
{
	setup_web("");
	cr_expect_eq(reap(send_from_child(socket_of("web"), "READY=1", AS_NOBODY, NULL)), 13,
	    "sendto as nobody must fail with EACCES");
	expect_only_the_service_makes_it_ready();
}

/* A socket connected while root, then used as nobody: the credentials tell. */
Test(notify_trust, a_socket_connected_before_dropping_to_another_uid_is_not_heard)
{
	setup_web("");
	cr_assert_eq(reap(send_from_child(socket_of("web"), "READY=1",
	    CONNECT_AS_ROOT_THEN_NOBODY, NULL)), 0);
	cr_assert(vh_wait_log("only root and the service's user may send", 20000),
	    "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("(uid 65534)") || nobody.pw_uid != 65534, "log:\n%s",
	    vh_log_tail());
	expect_only_the_service_makes_it_ready();
}

/*
 * nobody, who runs web, sends READY=1 and MAINPID=<victim> from a process
 * that is no part of web and is gone before vigild reads: vigild is
 * paused across the send and the reap, so it cannot check the sender.
 */
Test(notify_trust, an_exited_sender_of_the_same_user_is_not_heard)
{
	char text[64];
	pid_t victim = getpid();

	setup_web("user = nobody\n");
	snprintf(text, sizeof(text), "READY=1\nMAINPID=%d", (int)victim);
	cr_assert_eq(kill(vh.pid, SIGSTOP), 0);
	cr_assert(vh_wait_pid_state(vh.pid, 'T', 20000));
	cr_expect_eq(reap(send_from_child(socket_of("web"), text, AS_NOBODY, NULL)), 0);
	cr_assert_eq(kill(vh.pid, SIGCONT), 0);
	cr_assert(vh_wait_log("exited before vigild could check", 20000), "log:\n%s",
	    vh_log_tail());
	cr_expect_neq(vh_main_pid("web"), victim);
	expect_only_the_service_makes_it_ready();
}

/* A live process of web's user that is not one of web's processes is not heard either. */
Test(notify_trust, a_live_process_of_the_same_user_outside_the_service_is_not_heard)
{
	int release;
	pid_t sender;

	setup_web("user = nobody\n");
	sender = send_from_child(socket_of("web"), "READY=1", AS_NOBODY, &release);
	cr_assert(vh_wait_log("is not a process of this service", 20000), "log:\n%s",
	    vh_log_tail());
	close(release);
	cr_expect_eq(reap(sender), 0);
	expect_only_the_service_makes_it_ready();
}

/* The ordinary case stays: a shell running as the user says READY=1 with systemd-notify. */
Test(notify_trust, systemd_notify_from_a_services_shell_is_heard)
{
	if (access("/bin/systemd-notify", X_OK) != 0 && access("/usr/bin/systemd-notify", X_OK) != 0)
		VH_SKIP("systemd-notify is not installed");
	vh_setup("[service:web]\ncommand = /bin/sh -c 'systemd-notify --ready; exec sleep 3600'\n"
	    "user = nobody\nready = notify\nready_timeout = 1h\n");
	need_root();
	vh_start_ok();
	cr_expect(vh_wait_ready("web", 20000), "log:\n%s", vh_log_tail());
}

/* No byte of what a service sends reaches vigild's log raw: no forged line, no escape. */
Test(notify_trust, notify_text_cannot_forge_a_log_line_or_drive_a_terminal)
{
	char *log;

	vh_setup("[service:web]\ncommand = %s "
	    "'notify:STATUS=x\\n2026-01-01T00:00:00.000Z vigild[1]: notice: forged' "
	    "notify-hex:4d41494e5049443d310d1b5b324a65766971 notify:READY=1\n"
	    "ready = notify\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_ready("web", 20000), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_log("MAINPID=1\\r\\x1b[2Jeviq from pid", 20000), "log:\n%s",
	    vh_log_tail());
	cr_assert(vh_wait_log("STATUS=x\\n2026-01-01T00:00:00.000Z", 20000), "log:\n%s",
	    vh_log_tail());
	log = vh_slurp(vh.log);
	cr_expect_null(strstr(log, "\n2026-01-01T00:00:00.000Z"), "a forged line:\n%s", log);
	cr_expect_null(strchr(log, '\033'), "an escape byte in vigild's log");
	cr_expect_null(strchr(log, '\r'), "a carriage return in vigild's log");
}

/*
 * A service refused 200 times in a row: five lines, then a count. Its
 * STATUS= after them says when vigild has read them all.
 */
Test(notify_trust, refusals_in_a_loop_do_not_flood_the_log)
{
	vh_setup("[service:flood]\ncommand = %s notify-times:200:MAINPID=1 "
	    "notify:STATUS=done\nready = notify\nready_timeout = 1h\n", vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_status_text("flood", "done", 20000), "STATUS=done never read; "
	    "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("more refusals in the next 10s go unlogged"), "log:\n%s",
	    vh_log_tail());
	cr_expect_eq(vh_log_count("flood: notify: MAINPID=1 from pid"), 5, "log:\n%s",
	    vh_log_tail());
}
