/*
 * test_spawn.c: what a service's process gets (fds, environment, folder,
 * umask, ids, its own session) and how spawn failures are reported.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(spawn, .fini = vh_teardown, .timeout = 120);

static const char *
reason_of(const char *name)
{
	static char buf[512];
	json_t *s = vh_service(name);

	snprintf(buf, sizeof(buf), "%s", s ? json_string_value(json_object_get(s, "reason")) : "?");
	json_decref(s);
	return buf;
}

Test(spawn, exec_failure_is_a_failed_start_with_its_reason_and_no_zombie)
{
	vh_setup("[service:ghost]\ncommand = /nonexistent/vigil-binary --flag\n"
	    "restart_delay = 20ms\nstart_retries = 3\n");
	cr_assert(vh_start());
	cr_assert(vh_wait_state("ghost", "fatal", 10000), "log: %s", vh.log);
	cr_expect(strstr(reason_of("ghost"),
	    "exec failed: /nonexistent/vigil-binary: No such file or directory") != NULL,
	    "reason: %s", reason_of("ghost"));
	cr_expect(vh_log_contains("ghost: starting -> backoff (exec failed: /nonexistent/vigil-binary"
	    ": No such file or directory"), "log: %s", vh.log);
	cr_expect_eq(vh_zombie_children(), 0, "zombies left behind");
}

Test(spawn, a_command_not_found_in_path_is_named_as_written)
{
	vh_setup("[service:ghost]\ncommand = vigil-no-such-command --flag\n"
	    "restart_delay = 20ms\nstart_retries = 1\n");
	cr_assert(vh_start());
	cr_assert(vh_wait_state("ghost", "fatal", 10000), "log: %s", vh_log_tail());
	/* not the last PATH folder tried: the name the config wrote */
	cr_expect(strstr(reason_of("ghost"), "exec failed: vigil-no-such-command: "
	    "No such file or directory (searched PATH)") != NULL, "reason: %s", reason_of("ghost"));
}

/*
 * Over RLIMIT_NPROC, execve fails with EAGAIN after setuid: the limit is
 * to blame, not the first PATH candidate, and the message says so.
 */
Test(spawn, the_users_process_limit_is_named_not_a_path)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to run a service as nobody");
	/* the kernel counts nobody's processes: one is running once hog is up */
	vh_setup("[service:hog]\ncommand = sleep 1000\nuser = nobody\nstart_secs = 100ms\n\n"
	    "[service:crowd]\ncommand = sleep 1000\nuser = nobody\nrequires = hog\n"
	    "limit_nproc = 0\nrestart_delay = 20ms\nstart_retries = 1\n");
	cr_assert(vh_start());
	cr_assert(vh_wait_state("crowd", "fatal", 10000), "log: %s", vh_log_tail());
	cr_expect(strstr(reason_of("crowd"), "exec failed: Resource temporarily unavailable: "
	    "the service's user is at its process limit (RLIMIT_NPROC, limit_nproc)") != NULL,
	    "reason: %s", reason_of("crowd"));
	cr_expect(strstr(reason_of("crowd"), "/sleep") == NULL, "reason: %s", reason_of("crowd"));
}

Test(spawn, permission_denied_is_reported)
{
	FILE *f;

	vh_setup("%s", "");
	/* a script without any execute bit: even root gets EACCES */
	f = fopen(vh_path("script"), "w");
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	chmod(vh_path("script"), 0644);
	vh_add_services("[service:noexec]\ncommand = %s\nrestart_delay = 20ms\nstart_retries = 1\n",
	    vh_path("script"));
	cr_assert(vh_start());
	cr_assert(vh_wait_state("noexec", "fatal", 10000));
	cr_expect(strstr(reason_of("noexec"), "Permission denied") != NULL,
	    "reason: %s", reason_of("noexec"));
	cr_expect_eq(vh_zombie_children(), 0);
}

Test(spawn, child_holds_only_fds_0_1_2)
{
	vh_setup("[service:fds]\ncommand = %s fds:%s\n", vh_testsvc(), vh_path("fds"));
	cr_assert(vh_start());
	cr_assert(vh_wait_file(vh_path("fds"), 10000), "service never wrote its fd list");
	cr_expect_str_eq(vh_slurp(vh_path("fds")), "0\n1\n2\n");
}

Test(spawn, environment_directory_umask_and_own_session)
{
	char *env, *info;
	long pid;

	vh_setup("[service:env]\ncommand = %s pid:%s env:%s info:%s\n"
	    "environment = FOO=bar \"GREETING=hello world\" PATH=/usr/bin:/bin\n"
	    "directory = /tmp\numask = 027\n",
	    vh_testsvc(), vh_path("env.pid"), vh_path("env"), vh_path("info"));
	cr_assert(vh_start());
	cr_assert(vh_wait_file(vh_path("info"), 10000));
	pid = vh_read_long(vh_path("env.pid"));
	env = strdup(vh_slurp(vh_path("env")));
	cr_expect(strstr(env, "\nFOO=bar\n") || strncmp(env, "FOO=bar\n", 8) == 0, "env: %s", env);
	cr_expect(strstr(env, "GREETING=hello world\n") != NULL, "env: %s", env);
	cr_expect(strstr(env, "PATH=/usr/bin:/bin\n") != NULL, "env: %s", env);
	free(env);
	info = vh_slurp(vh_path("info"));
	cr_expect(strstr(info, "cwd=/tmp\n") != NULL, "info: %s", info);
	cr_expect(strstr(info, "umask=027\n") != NULL, "info: %s", info);
	{
		char want[64];
		snprintf(want, sizeof(want), "pgid=%ld\nsid=%ld\n", pid, pid);
		cr_expect(strstr(info, want) != NULL, "service must lead its session: %s", info);
	}
}

Test(spawn, clear_environment_leaves_only_what_is_written)
{
	vh_setup("[service:bare]\ncommand = %s env:%s\nenvironment = ONLY=me\n"
	    "clear_environment = yes\n", vh_testsvc(), vh_path("env"));
	cr_assert(vh_start());
	cr_assert(vh_wait_file(vh_path("env"), 10000));
	cr_expect_str_eq(vh_slurp(vh_path("env")), "ONLY=me\n");
}

/* What systemd (or another supervisor above vigild) hands vigild is not passed on. */
Test(spawn, an_outer_supervisors_notify_watchdog_and_listen_variables_are_not_inherited)
{
	static const char *const outer[] = {
		"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
		"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
	};
	char *plain, *notify, want[64], plain_lines[8192];

	vh_setup("[service:plain]\ncommand = %s env:%s\n"
	    "[service:notifier]\ncommand = %s env:%s notify:READY=1\nready = notify\n",
	    vh_testsvc(), vh_path("plain.env"), vh_testsvc(), vh_path("notify.env"));
	setenv("NOTIFY_SOCKET", "/run/outer-supervisor.notify", 1);
	setenv("WATCHDOG_USEC", "30000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", "control", 1);
	setenv("VIGIL_TEST_KEPT", "yes", 1);
	cr_assert(vh_start());
	for (size_t i = 0; i < sizeof(outer) / sizeof(outer[0]); i++)
		unsetenv(outer[i]);
	cr_assert(vh_wait_file(vh_path("plain.env"), 10000));
	cr_assert(vh_wait_file(vh_path("notify.env"), 10000));
	cr_assert(vh_wait_ready("notifier", 10000), "log: %s", vh.log);
	plain = strdup(vh_slurp(vh_path("plain.env")));
	notify = strdup(vh_slurp(vh_path("notify.env")));
	snprintf(plain_lines, sizeof(plain_lines), "\n%s", plain);
	cr_expect(strstr(plain, "VIGIL_TEST_KEPT=yes\n") != NULL, "env: %s", plain);
	for (size_t i = 0; i < sizeof(outer) / sizeof(outer[0]); i++) {
		/* env: one VAR=value per line; "\nVAR=" after a newline put in front */
		snprintf(want, sizeof(want), "\n%s=", outer[i]);
		cr_expect(strstr(plain_lines, want) == NULL, "%s reached the service: %s",
		    outer[i], plain);
	}
	cr_expect(strstr(notify, "NOTIFY_SOCKET=") != NULL, "env: %s", notify);
	cr_expect(strstr(notify, "outer-supervisor") == NULL,
	    "the outer NOTIFY_SOCKET reached the service: %s", notify);
	cr_expect(strstr(notify, "WATCHDOG_USEC=") == NULL, "env: %s", notify);
	free(plain);
	free(notify);
}

/* A mask line ("SigIgn:", "SigBlk:") of /proc/PID/status; 0 if unreadable. */
static unsigned long long
proc_sigmask(pid_t pid, const char *field)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			mask = strtoull(line + strlen(field), NULL, 16);
	fclose(f);
	return mask;
}

#define SIGBIT(sig)	(1ULL << ((sig) - 1))

/*
 * A service starts with no signal blocked and none ignored, whatever
 * vigild inherited: an ignored SIGPIPE or a blocked SIGALRM survives
 * execve and breaks the service (pipelines that never see EPIPE, timers
 * that never fire). vigild is started here the way `trap '' PIPE HUP` or
 * a careless init script would start it.
 */
Test(spawn, a_child_starts_with_no_signal_blocked_or_ignored)
{
	static const int ignored[] = { SIGPIPE, SIGHUP, SIGQUIT, SIGUSR2 };
	static const int blocked_sigs[] = { SIGUSR2, SIGALRM, SIGWINCH, SIGTTOU };
	sigset_t blocked;
	char *sigs;

	sigemptyset(&blocked);
	for (size_t i = 0; i < sizeof(blocked_sigs) / sizeof(blocked_sigs[0]); i++)
		sigaddset(&blocked, blocked_sigs[i]);
	vh_setup("[service:sig]\ncommand = %s sigs:%s\n", vh_testsvc(), vh_path("sigs"));
	cr_assert(vh_start_with_signals(&blocked, ignored, sizeof(ignored) / sizeof(ignored[0])),
	    "vigild did not start; log:\n%s", vh_log_tail());
	/* the premise: vigild itself runs with what it inherited */
	cr_assert(proc_sigmask(vh.pid, "SigIgn:") & SIGBIT(SIGPIPE),
	    "vigild does not ignore SIGPIPE (SigIgn %llx): the test would prove nothing",
	    proc_sigmask(vh.pid, "SigIgn:"));
	cr_assert(vh_wait_file(vh_path("sigs"), 20000), "the service never wrote; log:\n%s",
	    vh_log_tail());
	sigs = vh_slurp(vh_path("sigs"));
	cr_expect(strstr(sigs, "blocked=\n") != NULL, "signals blocked in the service:\n%s", sigs);
	cr_expect(strstr(sigs, "ignored=\n") != NULL, "signals ignored in the service:\n%s", sigs);
	cr_expect(strstr(sigs, "SigBlk:\t0000000000000000\n") != NULL, "%s", sigs);
	/*
	 * The kernel's view, less the signals the C library keeps for itself
	 * (32 up to SIGRTMIN): no program sees or sets those through sigaction,
	 * and GNU make hands them down ignored, so under make check vigild
	 * inherits them so.
	 */
	{
		const char *line = strstr(sigs, "SigIgn:\t");
		unsigned long long ign, libc = 0;

		cr_assert_not_null(line, "%s", sigs);
		ign = strtoull(line + 8, NULL, 16);
		for (int sig = 32; sig < SIGRTMIN; sig++)
			libc |= SIGBIT(sig);
		cr_expect_eq(ign & ~libc, 0, "SigIgn %016llx in the service:\n%s", ign, sigs);
	}
}

/*
 * user = nobody: real and effective uid and gid are nobody's, and the
 * supplementary groups are nobody's own, none of root's left over.
 */
Test(spawn, runs_as_the_configured_user)
{
	struct passwd *pw;
	char path[64], want[128], *ids;

	if (geteuid() != 0)
		VH_SKIP("runs_as_the_configured_user: changing user needs root and this suite "
		    "runs as euid %d; run make check as root to test it", (int)geteuid());
	pw = getpwnam("nobody");
	cr_assert_not_null(pw, "no user nobody on this machine");
	/* nobody cannot write into our 0700 temp folder: use a world-writable one */
	snprintf(path, sizeof(path), "/tmp/vigil-nobody-%d", (int)getpid());
	unlink(path);
	vh_setup("[service:nobody]\ncommand = %s ids:%s\nuser = nobody\ndirectory = /\n",
	    vh_testsvc(), path);
	cr_assert(vh_start());
	cr_assert(vh_wait_file(path, 20000), "log:\n%s", vh_log_tail());
	ids = strdup(vh_slurp(path));
	unlink(path);
	snprintf(want, sizeof(want), "uid=%d\neuid=%d\ngid=%d\negid=%d\n", (int)pw->pw_uid,
	    (int)pw->pw_uid, (int)pw->pw_gid, (int)pw->pw_gid);
	cr_expect(strncmp(ids, want, strlen(want)) == 0, "want:\n%sgot:\n%s", want, ids);
	snprintf(want, sizeof(want), "groups=%d\n", (int)pw->pw_gid);
	cr_expect(strstr(ids, want) != NULL, "supplementary groups other than nobody's own:\n%s",
	    ids);
	free(ids);
}

Test(spawn, two_hundred_services_all_reach_running)
{
	char *text = malloc(200 * 256), *p = text;
	struct vh_result *r = malloc(sizeof(*r));
	json_t *reply, *svcs;
	long long deadline;
	size_t running = 0;

	for (int i = 0; i < 200; i++)
		p += sprintf(p, "[service:s%03d]\ncommand = %s\nstart_secs = 200ms\n", i, vh_testsvc());
	vh_setup("%s", text);
	free(text);
	cr_assert(vh_start());
	deadline = vh_now_ms() + 60000;
	do {
		running = 0;
		cr_assert_eq(vh_ctl(r, "--json", "status", NULL), 0, "%s", r->err);
		reply = json_loads(r->out, 0, NULL);
		cr_assert_not_null(reply, "bad JSON: %.200s", r->out);
		svcs = json_object_get(reply, "services");
		cr_assert_eq(json_array_size(svcs), 200);
		for (size_t i = 0; i < json_array_size(svcs); i++)
			running += strcmp(json_string_value(json_object_get(json_array_get(svcs, i),
			    "state")), "running") == 0;
		json_decref(reply);
	} while (running < 200 && vh_now_ms() < deadline);
	cr_expect_eq(running, 200, "only %zu of 200 running", running);
	free(r);
}

Test(spawn, signal_storm_while_spawning_changes_nothing)
{
	char *text = malloc(50 * 256), *p = text;
	struct vh_result *r = malloc(sizeof(*r));
	const int sigs[] = { SIGHUP, SIGCHLD, SIGPIPE };
	json_t *reply, *svcs;

	for (int i = 0; i < 50; i++)
		p += sprintf(p, "[service:s%02d]\ncommand = %s\nstart_secs = 300ms\n", i, vh_testsvc());
	vh_setup("%s", text);
	free(text);
	cr_assert(vh_start());
	/* the storm starts while the 50 spawns are under way */
	for (int i = 0; i < 3000; i++)
		cr_assert_eq(kill(vh.pid, sigs[i % 3]), 0, "vigild died during the storm");
	for (int i = 0; i < 50; i++) {
		char name[8];
		snprintf(name, sizeof(name), "s%02d", i);
		cr_assert(vh_wait_state(name, "running", 30000), "%s not running", name);
	}
	cr_assert_eq(vh_ctl(r, "--json", "status", NULL), 0);
	reply = json_loads(r->out, 0, NULL);
	svcs = json_object_get(reply, "services");
	for (size_t i = 0; i < json_array_size(svcs); i++) {
		json_t *s = json_array_get(svcs, i);
		cr_expect_eq(json_integer_value(json_object_get(s, "restarts")), 0,
		    "%s restarted", json_string_value(json_object_get(s, "name")));
	}
	json_decref(reply);
	cr_expect_eq(vh_zombie_children(), 0);
	free(r);
}

/* The value of the line of /proc/self/limits that starts with what: soft and hard as text. */
static void
limit_line(const char *limits, const char *what, char *soft, char *hard)
{
	const char *l = strstr(limits, what);

	cr_assert_not_null(l, "no '%s' in:\n%s", what, limits);
	cr_assert_eq(sscanf(l + strlen(what), "%31s %31s", soft, hard), 2, "%s", l);
}

/* The nice value: field 19 of /proc/self/stat, counted after the command's ')' */
static int
stat_nice(const char *stat)
{
	const char *p = strrchr(stat, ')');
	int field = 2;

	cr_assert_not_null(p);
	while (field < 19 && (p = strchr(p + 1, ' ')) != NULL)
		field++;
	cr_assert_not_null(p);
	return atoi(p + 1);
}

/*
 * limit_*, nice, oom_score_adj and no_new_privileges, seen from inside
 * the service; a service without them keeps vigild's.
 */
Test(spawn, limits_nice_oom_score_and_no_new_privileges_reach_the_service)
{
	char soft[32], hard[32], *limits, *status, *stat, *oom;

	vh_setup("[service:web]\ncommand = %s proc:limits:%s proc:status:%s proc:stat:%s "
	    "proc:oom_score_adj:%s\nlimit_nofile = 512:1024\nlimit_core = 0\n"
	    "limit_fsize = 64M:infinity\nlimit_cpu = 1h\nnice = 7\noom_score_adj = 300\n"
	    "no_new_privileges = yes\n\n[service:plain]\ncommand = %s proc:status:%s\n",
	    vh_testsvc(), vh_path("limits"), vh_path("status"), vh_path("stat"),
	    vh_path("oom"), vh_testsvc(), vh_path("plain-status"));
	vh_start_ok();
	cr_assert(vh_wait_file(vh_path("oom"), 20000), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_file(vh_path("plain-status"), 20000), "log:\n%s", vh_log_tail());
	limits = strdup(vh_slurp(vh_path("limits")));
	limit_line(limits, "Max open files", soft, hard);
	cr_expect(strcmp(soft, "512") == 0 && strcmp(hard, "1024") == 0, "nofile %s:%s", soft, hard);
	limit_line(limits, "Max core file size", soft, hard);
	cr_expect(strcmp(soft, "0") == 0 && strcmp(hard, "0") == 0, "core %s:%s", soft, hard);
	limit_line(limits, "Max file size", soft, hard);
	cr_expect(strcmp(soft, "67108864") == 0 && strcmp(hard, "unlimited") == 0,
	    "fsize %s:%s", soft, hard);
	limit_line(limits, "Max cpu time", soft, hard);
	cr_expect(strcmp(soft, "3600") == 0 && strcmp(hard, "3600") == 0, "cpu %s:%s", soft, hard);
	free(limits);
	stat = strdup(vh_slurp(vh_path("stat")));
	cr_expect_eq(stat_nice(stat), 7, "stat: %s", stat);
	free(stat);
	oom = strdup(vh_slurp(vh_path("oom")));
	cr_expect_eq(atoi(oom), 300, "oom_score_adj: %s", oom);
	free(oom);
	status = strdup(vh_slurp(vh_path("status")));
	cr_expect(strstr(status, "NoNewPrivs:\t1") != NULL, "%s", status);
	free(status);
	status = strdup(vh_slurp(vh_path("plain-status")));
	cr_expect(strstr(status, "NoNewPrivs:\t0") != NULL, "without the key: %s", status);
	free(status);
	vh_expect_isolation("web", "{\"limit_nofile\": \"512:1024\", \"limit_core\": \"0\", "
	    "\"limit_fsize\": \"64M:infinity\", \"limit_cpu\": \"1h\", \"nice\": \"7\", "
	    "\"oom_score_adj\": \"300\", \"no_new_privileges\": \"yes\"}");
	vh_expect_isolation("plain", "{}");
}

/* Whether this process's effective set holds cap (vigild, started by it, has the same). */
static bool
test_has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	cr_assert_eq(syscall(SYS_capget, &h, d), 0, "capget: %s", strerror(errno));
	return (d[cap / 32].effective & (1u << (cap % 32))) != 0;
}

/*
 * A hard limit over fs.nr_open: with CAP_SYS_RESOURCE the kernel refuses it
 * at spawn, a failed start that names the key; without (a container's
 * root, as on some CI machines), the load refuses it, naming the key and
 * the capability, and vigild does not start.
 */
Test(spawn, a_limit_the_kernel_refuses_is_a_failed_start_naming_it)
{
	vh_setup("[service:web]\ncommand = %s\nlimit_nofile = 1024G\nrestart = never\n",
	    vh_testsvc());
	if (!test_has_cap(CAP_SYS_RESOURCE)) {
		cr_expect(!vh_start(), "vigild started with a limit it cannot give");
		cr_expect(vh_wait_log("[service:web] limit_nofile: a hard limit above vigild's own (",
		    20000), "log:\n%s", vh_log_tail());
		cr_expect(vh_log_contains("needs CAP_SYS_RESOURCE, which vigild (uid 0) does not have"),
		    "log:\n%s", vh_log_tail());
		return;
	}
	vh_start_ok();
	cr_expect(vh_wait_reason("web", "spawn failed at setrlimit limit_nofile: ", 20000),
	    "log:\n%s", vh_log_tail());
}

/*
 * vigild --check run by an unprivileged user: every key that needs a
 * privilege it lacks is an error naming file, line, key and capability,
 * and what works without one (a lower limit, a higher niceness,
 * no_new_privileges) passes.
 */
Test(spawn, keys_that_need_privileges_vigild_lacks_are_load_errors)
{
	const char *out;
	int status;

	out = vh_check_as_nobody(&status, "[service:ok]\ncommand = /bin/true\n"
	    "limit_core = 0\nnice = 5\nno_new_privileges = yes\n\n[service:bad]\n"
	    "command = /bin/true\nuser = root\nnice = -5\noom_score_adj = -500\n"
	    "limit_nofile = 64:infinity\n");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) < 98,
	    "status 0x%x, output:\n%s", status, out);
	cr_expect(strstr(out, "vigil.conf:12: [service:bad] user: running a service as a user or "
	    "group needs CAP_SETGID, which vigild (uid 65534) does not have") != NULL, "%s", out);
	cr_expect(strstr(out, "vigil.conf:13: [service:bad] nice: a niceness below vigild's own "
	    "needs CAP_SYS_NICE") != NULL, "%s", out);
	cr_expect(strstr(out, "vigil.conf:14: [service:bad] oom_score_adj: an oom_score_adj below "
	    "vigild's own needs CAP_SYS_RESOURCE") != NULL, "%s", out);
	cr_expect(strstr(out, "vigil.conf:15: [service:bad] limit_nofile: a hard limit above "
	    "vigild's own (") != NULL, "%s", out);
	cr_expect(strstr(out, "[service:ok]") == NULL, "ok needs nothing: %s", out);
}

/*
 * The folder is entered after the ids change: user = nobody cannot start in
 * root's 0700 folder, which root itself could have entered. The reason
 * names the step, and the failed child is reaped.
 */
Test(spawn, the_directory_is_entered_as_the_services_user)
{
	char dir[] = "/tmp/vigil-private-XXXXXX";

	if (geteuid() != 0)
		VH_SKIP("the_directory_is_entered_as_the_services_user: changing user needs "
		    "root and this suite runs as euid %d", (int)geteuid());
	if (getpwnam("nobody") == NULL)
		VH_SKIP("no user nobody on this machine");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0700), 0);
	vh_setup("[service:web]\ncommand = %s\nuser = nobody\ndirectory = %s\nrestart = never\n",
	    vh_testsvc(), dir);
	vh_start_ok();
	cr_expect(vh_wait_reason("web", "spawn failed at chdir: Permission denied", 20000),
	    "reason: %s, log:\n%s", reason_of("web"), vh_log_tail());
	cr_expect_eq(vh_zombie_children(), 0, "zombies left behind");
	rmdir(dir);
}
