/*
 * test_caps.c: capabilities =, seen from inside the service: the sets in
 * /proc/self/status, and what they allow (binding a port below 1024), for
 * a service that runs as another user and for one that stays root.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(caps, .fini = vh_teardown, .timeout = 120);

#define BIT_NET_BIND_SERVICE	(1ULL << 10)

static char	 shared[64];	/* a folder nobody can write to, removed by the test */

static void
need_root(void)
{
	if (geteuid() != 0)
		VH_SKIP("capabilities need vigild to run as root; this suite runs as euid %d",
		    (int)geteuid());
}

/* A world-writable folder for a service that runs as nobody (vh_path's is 0700). */
static const char *
nobody_path(const char *name)
{
	static char buf[4][128];
	static int n;

	if (shared[0] == '\0') {
		snprintf(shared, sizeof(shared), "/tmp/vigil-caps-XXXXXX");
		cr_assert_not_null(mkdtemp(shared));
		cr_assert_eq(chmod(shared, 01777), 0);
	}
	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", shared, name);
	return buf[n];
}

static void
nobody_cleanup(const char *const *names)
{
	for (; *names != NULL; names++)
		unlink(nobody_path(*names));
	rmdir(shared);
	shared[0] = '\0';
}

/* The hex mask of the line "Name:\t..." of a /proc status text */
static unsigned long long
status_mask(const char *status, const char *name)
{
	char key[32];
	const char *l;

	snprintf(key, sizeof(key), "\n%s:\t", name);
	l = strstr(status, key);
	cr_assert_not_null(l, "no %s in:\n%s", name, status);
	return strtoull(l + strlen(key), NULL, 16);
}

/*
 * A port below the first one users may bind, free now on 127.0.0.1; 0
 * when every user may bind any port here (then it proves nothing).
 */
static int
privileged_port(void)
{
	struct sockaddr_in sin;
	int start = 1024, fd, port = 0;
	FILE *f;

	if ((f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r")) != NULL) {
		if (fscanf(f, "%d", &start) != 1)
			start = 1024;
		fclose(f);
	}
	for (int p = 80; p < start && port == 0; p = p == 80 ? 1 : p + 1) {
		if (p == 80 && start <= 80)
			continue;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)p);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cr_assert_neq(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			port = p;
		close(fd);
	}
	return port;
}

/* The first line of a file the service wrote */
static char *
first_line(const char *path)
{
	char *s = strdup(vh_slurp(path));

	s[strcspn(s, "\n")] = '\0';
	return s;
}

/*
 * user = nobody with CAP_NET_BIND_SERVICE: that one capability is
 * permitted, effective, inheritable and ambient, the bounding set holds
 * only it, and the service binds a privileged port; the same service
 * without the key has none and is refused.
 */
Test(caps, a_user_keeps_the_listed_capabilities_and_binds_a_low_port)
{
	static const char *const files[] = { "status", "bind", "plain-status", "plain-bind",
	    NULL };
	char *status, *bound;
	int port;

	need_root();
	if (getpwnam("nobody") == NULL)
		VH_SKIP("no user nobody on this machine");
	if ((port = privileged_port()) == 0)
		VH_SKIP("no port below net.ipv4.ip_unprivileged_port_start is free, or any "
		    "user may bind every port");
	vh_setup("[service:web]\ncommand = %s proc:status:%s bind:%d:%s\nuser = nobody\n"
	    "directory = /\ncapabilities = CAP_NET_BIND_SERVICE\n\n",
	    vh_testsvc(), nobody_path("status"), port, nobody_path("bind"));
	vh_add_services("[service:plain]\ncommand = %s proc:status:%s bind:%d:%s\n"
	    "user = nobody\ndirectory = /\n", vh_testsvc(), nobody_path("plain-status"), port,
	    nobody_path("plain-bind"));
	vh_start_ok();
	cr_assert(vh_wait_file(nobody_path("bind"), 20000), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_file(nobody_path("plain-bind"), 20000), "log:\n%s", vh_log_tail());
	status = strdup(vh_slurp(nobody_path("status")));
	cr_expect_eq(status_mask(status, "CapAmb"), BIT_NET_BIND_SERVICE, "%s", status);
	cr_expect_eq(status_mask(status, "CapEff"), BIT_NET_BIND_SERVICE, "%s", status);
	cr_expect_eq(status_mask(status, "CapPrm"), BIT_NET_BIND_SERVICE, "%s", status);
	cr_expect_eq(status_mask(status, "CapInh"), BIT_NET_BIND_SERVICE, "%s", status);
	cr_expect_eq(status_mask(status, "CapBnd"), BIT_NET_BIND_SERVICE, "%s", status);
	free(status);
	bound = first_line(nobody_path("bind"));
	cr_expect_str_eq(bound, "ok", "binding port %d", port);
	free(bound);
	status = strdup(vh_slurp(nobody_path("plain-status")));
	cr_expect_eq(status_mask(status, "CapEff"), 0, "%s", status);
	cr_expect_eq(status_mask(status, "CapAmb"), 0, "%s", status);
	free(status);
	bound = first_line(nobody_path("plain-bind"));
	cr_expect_str_eq(bound, strerror(EACCES), "binding port %d without the key", port);
	free(bound);
	nobody_cleanup(files);
}

/* Root with none has nothing left; root with a list has that list as bounding and effective set. */
Test(caps, root_with_none_has_no_capability_and_a_list_bounds_it)
{
	char *status;

	need_root();
	vh_setup("[service:none]\ncommand = %s proc:status:%s\ncapabilities = none\n\n"
	    "[service:some]\ncommand = %s proc:status:%s\ncapabilities = net_bind_service\n",
	    vh_testsvc(), vh_path("none"), vh_testsvc(), vh_path("some"));
	vh_start_ok();
	cr_assert(vh_wait_file(vh_path("none"), 20000), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_file(vh_path("some"), 20000), "log:\n%s", vh_log_tail());
	status = strdup(vh_slurp(vh_path("none")));
	cr_expect_eq(status_mask(status, "CapEff"), 0, "%s", status);
	cr_expect_eq(status_mask(status, "CapPrm"), 0, "%s", status);
	cr_expect_eq(status_mask(status, "CapBnd"), 0, "%s", status);
	cr_expect_eq(status_mask(status, "CapInh"), 0, "%s", status);
	free(status);
	status = strdup(vh_slurp(vh_path("some")));
	cr_expect_eq(status_mask(status, "CapEff"), BIT_NET_BIND_SERVICE, "%s", status);
	cr_expect_eq(status_mask(status, "CapPrm"), BIT_NET_BIND_SERVICE, "%s", status);
	cr_expect_eq(status_mask(status, "CapBnd"), BIT_NET_BIND_SERVICE, "%s", status);
	free(status);
}

/*
 * A capability vigild itself lacks (here: dropped from this test's
 * bounding set before vigild starts, so vigild never has it) cannot be
 * kept: the config is refused at load, naming it, instead of failing at
 * capset on every start.
 */
Test(caps, a_capability_vigild_lacks_is_a_load_error_naming_it)
{
	need_root();
	if (prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) == -1)
		VH_SKIP("cannot drop CAP_NET_RAW from the bounding set here");
	vh_setup("[service:web]\ncommand = %s\ncapabilities = CAP_CHOWN net_raw\n",
	    vh_testsvc());
	cr_assert_not(vh_start(), "vigild started with a capability it lacks");
	cr_expect(vh_log_contains("[service:web] capabilities: keeping CAP_NET_RAW needs "
	    "CAP_NET_RAW, which vigild (uid 0) does not have"), "log:\n%s", vh_log_tail());
}

/* status shows the key as written, with the other isolation keys */
Test(caps, status_shows_the_key_in_isolation)
{
	need_root();
	vh_setup("[service:web]\ncommand = %s\nnice = 3\ncapabilities = CAP_NET_RAW chown\n",
	    vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000), "log:\n%s", vh_log_tail());
	vh_expect_isolation("web", "{\"nice\": \"3\", \"capabilities\": "
	    "\"CAP_NET_RAW chown\"}");
}

/* vigild without CAP_SETPCAP (here: as nobody) refuses the key at load, naming it. */
Test(caps, the_key_is_a_load_error_for_a_vigild_without_cap_setpcap)
{
	const char *out;
	int status;

	need_root();
	out = vh_check_as_nobody(&status, "[service:web]\ncommand = /bin/true\n"
	    "capabilities = none\n");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) < 98,
	    "status 0x%x, output:\n%s", status, out);
	cr_expect(strstr(out, "vigil.conf:6: [service:web] capabilities: capabilities needs "
	    "CAP_SETPCAP, which vigild (uid 65534) does not have") != NULL, "%s", out);
}
