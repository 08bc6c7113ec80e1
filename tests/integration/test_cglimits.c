/*
 * test_cglimits.c: memory_max, pids_max, cpu_weight and the rest. Where
 * the service's cgroup may have a controller, its files hold the limits;
 * where not (here: the cgroup v2 hierarchy has no controllers, they are on
 * v1), vigild's log says so once per service and controller, and the
 * service runs anyway; without cgroups at all the log says that.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(cglimits, .fini = vh_teardown, .timeout = 120);

/* Whether BASE's cgroup.controllers offers ctl to the services' cgroups. */
static bool
offered(const char *ctl)
{
	char path[400], *text, *w, *save;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", vh_cgroup_base());
	if (access(path, R_OK) != 0)
		return false;
	text = vh_slurp(path);
	for (w = strtok_r(text, " \n", &save); w != NULL; w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, ctl) == 0)
			return true;
	return false;
}

static void
expect_file(const char *file, const char *want)
{
	char path[400], *got;

	snprintf(path, sizeof(path), "%s/web/%s", vh_cgroup_base(), file);
	got = vh_slurp(path);
	cr_expect(got != NULL && strncmp(got, want, strlen(want)) == 0, "%s: '%s', want '%s'",
	    path, got ? got : "(unreadable)", want);
}

Test(cglimits, written_where_the_controller_is_there_else_said_once)
{
	static struct vh_result r;
	static const struct { const char *ctl, *file, *want; } limits[] = {
		{ "memory", "memory.max", "67108864" },
		{ "memory", "memory.high", "max" },
		{ "pids", "pids.max", "32" },
		{ "cpu", "cpu.weight", "50" },
		{ "cpu", "cpu.max", "50000 100000" },
		{ "io", "io.weight", "default 200" },
	};
	char needle[200];
	pid_t pid;

	vh_setup("[service:web]\ncommand = %s pid:%s\nmemory_max = 64M\n"
	    "memory_high = infinity\npids_max = 32\ncpu_weight = 50\ncpu_max = 50%%\n"
	    "io_weight = 200\n", vh_testsvc(), vh_path("pid"));
	vh_start_ok();
	if (vh_cgroup_base() == NULL)
		VH_SKIP("cgroups are off here: the test without them covers it");
	cr_assert(vh_wait_file(vh_path("pid"), 20000), "log:\n%s", vh_log_tail());
	pid = vh_main_pid("web");
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (offered(limits[i].ctl)) {
			expect_file(limits[i].file, limits[i].want);
			continue;
		}
		snprintf(needle, sizeof(needle), "not applied: the %s controller is not "
		    "available to its cgroup", limits[i].ctl);
		cr_expect(vh_log_count(needle) == 1, "want one '%s' in:\n%s", needle,
		    vh_log_tail());
	}
	if (!offered("memory"))
		cr_expect(vh_log_contains("web: memory_max = 67108864, memory_high = max not "
		    "applied: the memory controller is not available to its cgroup ("),
		    "log:\n%s", vh_log_tail());
	cr_expect_eq(vh_main_pid("web"), pid, "the service runs regardless");
	cr_log_info("log:\n%s", vh_log_tail());

	/* said once per service and controller, not at every start */
	unlink(vh_path("pid"));
	cr_assert_eq(vh_ctl(&r, "restart", "web", NULL), 0, "%s", r.err);
	cr_assert(vh_wait_new_pid("web", pid, 20000) > 0, "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_file(vh_path("pid"), 20000), "log:\n%s", vh_log_tail());
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (offered(limits[i].ctl)) {
			expect_file(limits[i].file, limits[i].want);
			continue;
		}
		snprintf(needle, sizeof(needle), "not applied: the %s controller",
		    limits[i].ctl);
		cr_expect(vh_log_count(needle) == 1, "after a restart, want one '%s' in:\n%s",
		    needle, vh_log_tail());
	}
}

Test(cglimits, without_cgroups_the_log_says_so)
{
	vh_setup("cgroup = off\n\n[service:web]\ncommand = %s pid:%s\npids_max = 8\n"
	    "io_weight = 10\n\n[service:plain]\ncommand = %s\n",
	    vh_testsvc(), vh_path("pid"), vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_file(vh_path("pid"), 20000), "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains("web: pids_max and the other cgroup limits are not "
	    "applied: services run without cgroups"), "log:\n%s", vh_log_tail());
	cr_expect_eq(vh_log_count("not applied"), 1, "log:\n%s", vh_log_tail());
}

/* status's isolation field shows them as written */
Test(cglimits, status_shows_them_in_isolation)
{
	vh_setup("cgroup = off\n\n[service:web]\ncommand = %s\nmemory_max = 64M\ncpu_max = 20ms/100ms\n",
	    vh_testsvc());
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", 20000), "log:\n%s", vh_log_tail());
	vh_expect_isolation("web", "{\"memory_max\": \"64M\", \"cpu_max\": "
	    "\"20ms/100ms\"}");
}

/* A reload that changes them rewrites the running cgroup's files; the process is kept. */
Test(cglimits, a_reload_applies_them_in_place)
{
	static struct vh_result r;
	pid_t pid;

	vh_setup("[service:web]\ncommand = %s pid:%s\n", vh_testsvc(), vh_path("pid"));
	vh_start_ok();
	if (vh_cgroup_base() == NULL)
		VH_SKIP("cgroups are off here");
	cr_assert(vh_wait_file(vh_path("pid"), 20000), "log:\n%s", vh_log_tail());
	pid = vh_main_pid("web");

	vh_setup("[service:web]\ncommand = %s pid:%s\npids_max = 16\n", vh_testsvc(),
	    vh_path("pid"));
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "%s %s", r.out, r.err);
	if (offered("pids"))
		expect_file("pids.max", "16");
	else
		cr_expect(vh_wait_log("web: pids_max = 16 not applied: the pids controller", 20000),
		    "log:\n%s", vh_log_tail());

	/* a limit dropped goes back to the kernel's default */
	vh_setup("[service:web]\ncommand = %s pid:%s\n", vh_testsvc(), vh_path("pid"));
	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "%s %s", r.out, r.err);
	if (offered("pids"))
		expect_file("pids.max", "max");
	cr_expect_eq(vh_main_pid("web"), pid, "the process is kept");
	cr_expect(vh_wait_state("web", "running", 20000));
}
