/*
 * test_systemd.c: vigild under a service manager, with the test in
 * systemd's place: a datagram socket as NOTIFY_SOCKET receives what a
 * Type=notify unit would send (READY=1 only once the autostart services
 * are up and ready, STATUS=, RELOADING=1, STOPPING=1, WATCHDOG=1), and a
 * listening socket handed over as fd 3 with LISTEN_FDS is the control
 * socket (socket activation). Needs vigild built with libsystemd.
 */
#define _GNU_SOURCE
#include "config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(systemd, .fini = vh_teardown, .timeout = 180);

#define UP_MS	20000

static int
unix_socket_at(const char *path, int type)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	cr_assert_neq(fd, -1);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "bind %s", path);
	if (type == SOCK_STREAM)
		cr_assert_eq(listen(fd, 16), 0);
	return fd;
}

/* Every datagram received so far, each followed by a '|'. */
static char	 heard[65536];

/* Read datagrams until one equal to want arrives (true) or the deadline. */
static bool
hear(int fd, const char *want, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;
	char msg[4096];
	ssize_t n;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - vh_now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return false;
		if ((n = recv(fd, msg, sizeof(msg) - 1, 0)) <= 0)
			return false;
		msg[n] = '\0';
		if (strlen(heard) + (size_t)n + 2 < sizeof(heard)) {
			strcat(heard, msg);
			strcat(heard, "|");
		}
		if (strcmp(msg, want) == 0 || (want[0] != '\0' && strncmp(msg, want, strlen(want)) == 0 &&
		    want[strlen(want) - 1] == '='))
			return true;
	}
}

Test(systemd, ready_status_reload_watchdog_and_stopping_are_told_to_the_manager)
{
	struct vh_result r;
	int fd;

#ifndef HAVE_LIBSYSTEMD
	cr_skip_test("vigild was built without libsystemd");
#endif
	vh_setup("%s", "");
	vh_add_services("[service:web]\ncommand = %s await:%s notify:READY=1\nready = notify\n"
	    "[service:plain]\ncommand = %s\nstart_secs = 100ms\n",
	    vh_testsvc(), vh_path("go"), vh_testsvc());
	fd = unix_socket_at(vh_path("manager.notify"), SOCK_DGRAM);
	setenv("NOTIFY_SOCKET", vh_path("manager.notify"), 1);
	setenv("WATCHDOG_USEC", "400000", 1);	/* a ping every 200 ms */
	vh_start_ok();
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");

	cr_expect(hear(fd, "WATCHDOG=1", UP_MS), "heard: %s", heard);
	/* plain is up, web runs and is not ready: a status, and no READY=1 yet */
	cr_assert(vh_wait_state("plain", "running", UP_MS), "log: %s", vh_log_tail());
	cr_assert(vh_wait_state("web", "running", UP_MS), "log: %s", vh_log_tail());
	cr_expect(hear(fd, "STATUS=2 running", UP_MS), "heard: %s", heard);
	/* READY=1 would follow STATUS= at once: give it a moment to show up */
	cr_expect(!hear(fd, "READY=1", 500) && strstr(heard, "READY=1") == NULL,
	    "READY before web was ready: %s", heard);

	fclose(fopen(vh_path("go"), "w"));
	cr_expect(hear(fd, "READY=1", UP_MS), "heard: %s", heard);

	heard[0] = '\0';
	cr_expect_eq(vh_ctl(&r, "reload", NULL), 0, "out: %s err: %s", r.out, r.err);
	cr_expect(hear(fd, "READY=1", UP_MS), "heard: %s", heard);
	cr_expect(strncmp(heard, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0 ||
	    strstr(heard, "|RELOADING=1\nMONOTONIC_USEC=") != NULL, "heard: %s", heard);

	kill(vh.pid, SIGTERM);
	cr_expect(hear(fd, "STOPPING=1", UP_MS), "heard: %s", heard);
	close(fd);
}

/* Without a manager: nothing is sent, and the log does not claim otherwise. */
Test(systemd, without_notify_socket_nothing_is_told)
{
	vh_setup("[service:plain]\ncommand = %s\n", vh_testsvc());
	unsetenv("NOTIFY_SOCKET");
	vh_start_ok();
	cr_assert(vh_wait_state("plain", "running", UP_MS), "log: %s", vh_log_tail());
	cr_expect(!vh_log_contains("telling the service manager"), "log: %s", vh_log_tail());
}

/* In vigild's child: fd 3 is systemd's ListenStream= socket, LISTEN_PID its own pid. */
static void
pass_socket(void *arg)
{
	char pid[16];

	dup2(*(int *)arg, 3);	/* dup2 leaves it open across execve */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", "vigild.socket", 1);
}

static void
start_activated(int listen_fd)
{
	char *argv[] = { getenv("VIGILD"), "-f", "-c", vh.conf, NULL };

	vh_exec(argv, pass_socket, &listen_fd);
}

Test(systemd, the_control_socket_can_come_from_the_manager)
{
	struct vh_result r;
	struct stat st;
	int fd;

#ifndef HAVE_LIBSYSTEMD
	cr_skip_test("vigild was built without libsystemd");
#endif
	vh_setup("[service:plain]\ncommand = %s env:%s\n", vh_testsvc(), vh_path("env"));
	fd = unix_socket_at(vh.sock, SOCK_STREAM);
	start_activated(fd);
	close(fd);
	cr_assert(vh_wait_log("(socket from the service manager)", UP_MS), "log: %s",
	    vh_log_tail());
	cr_expect_eq(vh_ctl(&r, "status", "plain", NULL), 0, "out: %s err: %s", r.out, r.err);
	cr_assert(vh_wait_file(vh_path("env"), UP_MS));
	cr_expect(strstr(vh_slurp(vh_path("env")), "LISTEN_FDS") == NULL, "env: %s",
	    vh_slurp(vh_path("env")));
	cr_assert(vh_signal_and_wait(SIGTERM, UP_MS), "log: %s", vh_log_tail());
	cr_expect(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) == 0,
	    "wait status 0x%x", (unsigned)vh.exit_status);
	/* the manager's file: left for the next activation */
	cr_expect_eq(stat(vh.sock, &st), 0, "vigild removed the manager's socket");
}

Test(systemd, a_passed_socket_on_another_path_is_refused_with_a_reason)
{
	int fd;

#ifndef HAVE_LIBSYSTEMD
	cr_skip_test("vigild was built without libsystemd");
#endif
	vh_setup("[service:plain]\ncommand = %s\n", vh_testsvc());
	fd = unix_socket_at(vh_path("elsewhere.sock"), SOCK_STREAM);
	start_activated(fd);
	close(fd);
	cr_assert(vh_signal_and_wait(0, UP_MS), "log: %s", vh_log_tail());
	cr_expect(WIFEXITED(vh.exit_status) && WEXITSTATUS(vh.exit_status) == 1,
	    "wait status 0x%x", (unsigned)vh.exit_status);
	cr_expect(vh_log_contains("make ListenStream= and socket = agree"), "log: %s",
	    vh_log_tail());
}

/*
 * daemon-reexec under the manager: the main pid stays, RELOADING=1 then
 * READY=1 are told, and the new vigild goes on telling (its watchdog
 * pings) while services still never see NOTIFY_SOCKET.
 */
Test(systemd, daemon_reexec_keeps_the_main_pid_and_tells_the_manager)
{
	struct vh_result r;
	int fd;

#ifndef HAVE_LIBSYSTEMD
	cr_skip_test("vigild was built without libsystemd");
#endif
	vh_setup("[service:plain]\ncommand = %s\n"
	    "[service:late]\ncommand = %s env:%s\nautostart = no\n",
	    vh_testsvc(), vh_testsvc(), vh_path("env"));
	fd = unix_socket_at(vh_path("manager.notify"), SOCK_DGRAM);
	setenv("NOTIFY_SOCKET", vh_path("manager.notify"), 1);
	vh_start_ok();
	unsetenv("NOTIFY_SOCKET");
	cr_assert(hear(fd, "READY=1", UP_MS), "heard: %s", heard);

	heard[0] = '\0';
	cr_assert_eq(vh_ctl(&r, "daemon-reexec", NULL), 0, "out: %s err: %s\n%s", r.out, r.err,
	    vh_log_tail());
	cr_expect(hear(fd, "READY=1", UP_MS), "heard: %s", heard);
	cr_expect(strncmp(heard, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0 ||
	    strstr(heard, "|RELOADING=1\nMONOTONIC_USEC=") != NULL, "heard: %s", heard);
	/* the new vigild knows its manager: it tells it of a change */
	heard[0] = '\0';
	cr_assert_eq(vh_ctl(&r, "start", "late", NULL), 0, "err: %s", r.err);
	cr_expect(hear(fd, "STATUS=2 running", UP_MS), "heard: %s", heard);
	cr_assert(vh_wait_file(vh_path("env"), UP_MS));
	cr_expect(strstr(vh_slurp(vh_path("env")), "NOTIFY_SOCKET") == NULL &&
	    strstr(vh_slurp(vh_path("env")), "WATCHDOG_") == NULL, "env: %s",
	    vh_slurp(vh_path("env")));
	kill(vh.pid, SIGTERM);
	cr_expect(hear(fd, "STOPPING=1", UP_MS), "heard: %s", heard);
	close(fd);
}

/* Socket activation and daemon-reexec: the manager's socket goes on, and is not removed. */
Test(systemd, daemon_reexec_keeps_the_managers_socket)
{
	struct vh_result r;
	struct stat st;
	int fd;

#ifndef HAVE_LIBSYSTEMD
	cr_skip_test("vigild was built without libsystemd");
#endif
	vh_setup("[service:plain]\ncommand = %s\n", vh_testsvc());
	fd = unix_socket_at(vh.sock, SOCK_STREAM);
	start_activated(fd);
	close(fd);
	cr_assert(vh_wait_log("(socket from the service manager)", UP_MS), "log: %s",
	    vh_log_tail());
	cr_assert_eq(vh_ctl(&r, "daemon-reexec", NULL), 0, "out: %s err: %s\n%s", r.out, r.err,
	    vh_log_tail());
	cr_expect_eq(vh_ctl(&r, "status", "plain", NULL), 0, "out: %s err: %s", r.out, r.err);
	cr_assert(vh_signal_and_wait(SIGTERM, UP_MS), "log: %s", vh_log_tail());
	cr_expect_eq(stat(vh.sock, &st), 0, "vigild removed the manager's socket");
}
