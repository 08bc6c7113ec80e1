/*
 * test_service_env.c: environment_file, seen from inside the service: read
 * at each start (a changed file and a restart give the new value), between
 * vigild's environment and the service's own environment key; a missing or
 * bad file is a failed start whose reason names it, a -PATH may be missing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(service_env, .fini = vh_teardown, .timeout = 120);

static void
put(const char *name, const char *text)
{
	char tmp[400];
	FILE *f;

	/* whole or not at all: vigild may read it at any time */
	snprintf(tmp, sizeof(tmp), "%s.tmp", vh_path(name));
	cr_assert_not_null(f = fopen(tmp, "w"));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(tmp, vh_path(name)), 0);
}

/* Whether the line want is in the env:FILE dump at path. */
static bool
has_line(const char *path, const char *want)
{
	char *text = vh_slurp(path), *p;
	size_t len = strlen(want);

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, want, len) == 0 && (p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

Test(service_env, files_are_read_at_each_start)
{
	static struct vh_result r;
	char envfile[300], missing[300];
	pid_t pid;

	put("app.env", "# settings\nexport MODE=first\nGREETING=\"hello \\\"you\\\"\"\n"
	    "OVERRIDDEN=from-file\nMULTI='a\nb'\n");
	snprintf(envfile, sizeof(envfile), "%s", vh_path("app.env"));
	snprintf(missing, sizeof(missing), "%s", vh_path("nope.env"));
	cr_assert(setenv("OVERRIDDEN", "from-vigild", 1) == 0);
	cr_assert(setenv("INHERITED_TOO", "yes", 1) == 0);
	vh_setup("[service:web]\ncommand = %s env:%s\nenvironment_file = %s -%s\n"
	    "environment = OVERRIDDEN=from-environment\n",
	    vh_testsvc(), vh_path("env"), envfile, missing);
	vh_start_ok();
	cr_assert(vh_wait_file(vh_path("env"), 20000), "log:\n%s", vh_log_tail());
	cr_expect(has_line(vh_path("env"), "MODE=first"), "%s", vh_slurp(vh_path("env")));
	cr_expect(has_line(vh_path("env"), "GREETING=hello \"you\""));
	cr_expect(has_line(vh_path("env"), "OVERRIDDEN=from-environment"));
	cr_expect(has_line(vh_path("env"), "INHERITED_TOO=yes"));
	pid = vh_main_pid("web");

	/* a changed file is what the next start gets */
	put("app.env", "MODE=second\n");
	unlink(vh_path("env"));
	cr_assert_eq(vh_ctl(&r, "restart", "web", NULL), 0, "%s", r.err);
	cr_assert(vh_wait_new_pid("web", pid, 20000) > 0, "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_file(vh_path("env"), 20000), "log:\n%s", vh_log_tail());
	cr_expect(has_line(vh_path("env"), "MODE=second"), "%s", vh_slurp(vh_path("env")));
	cr_expect(strstr(vh_slurp(vh_path("env")), "GREETING=") == NULL,
	    "a variable gone from the file must be gone from the service");
	unsetenv("OVERRIDDEN");
	unsetenv("INHERITED_TOO");
}

Test(service_env, a_missing_or_bad_file_is_a_failed_start_naming_it)
{
	static struct vh_result r;
	char missing[300], bad[300], want[400];

	put("bad.env", "A=1\n\nthis is not an assignment\n");
	snprintf(missing, sizeof(missing), "%s", vh_path("missing.env"));
	snprintf(bad, sizeof(bad), "%s", vh_path("bad.env"));
	vh_setup("[service:gone]\ncommand = %s\nenvironment_file = %s\nrestart = never\n\n"
	    "[service:bad]\ncommand = %s\nenvironment_file = %s\nrestart = never\n",
	    vh_testsvc(), missing, vh_testsvc(), bad);
	vh_start_ok();
	snprintf(want, sizeof(want), "environment_file %s: No such file or directory", missing);
	cr_assert(vh_wait_reason("gone", want, 20000), "log:\n%s", vh_log_tail());
	snprintf(want, sizeof(want), "environment_file %s:3: expected KEY=VALUE, found 'this is not", bad);
	cr_assert(vh_wait_reason("bad", want, 20000), "log:\n%s", vh_log_tail());
	cr_expect(vh_log_contains(want), "the log must say it too:\n%s", vh_log_tail());
	cr_expect_eq(vh_main_pid("gone"), 0);
	cr_expect_eq(vh_zombie_children(), 0);

	/* once the file is right, a start works */
	put("missing.env", "A=1\n");
	cr_assert_eq(vh_ctl(&r, "start", "gone", NULL), 0, "%s", r.err);
	cr_assert(vh_wait_state("gone", "running", 20000), "log:\n%s", vh_log_tail());
}
