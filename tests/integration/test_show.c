/*
 * test_show.c: `vigilctl show` against the real vigild: each key's value
 * and its file:line (main file, included file, [vigil]), built-in
 * defaults, the definition that runs rather than the file on disk after
 * an edit and a reload, unknown names, --json, the text read back by
 * vigild --check, and environment values hidden from clients below admin.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "proto.h"
#include "rawclient.h"

TestSuite(show, .fini = vh_teardown, .timeout = 120);

#define DEADLINE_MS	20000	/* generous: a busy 2-core machine, maybe under ASan */

/* The number of the first line of path that starts with text; fails the test if none. */
static int
line_of(const char *path, const char *text)
{
	char *s = vh_slurp(path), *p = s;
	int line = 1;

	for (;;) {
		if (strncmp(p, text, strlen(text)) == 0)
			return line;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
		line++;
	}
	cr_assert_fail("no line starting '%s' in %s:\n%s", text, path, s);
	return -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* `vigilctl --json show NAMES...` as JSON, for the first service named; caller decrefs. */
static json_t *
show_json(const char *name)
{
	struct vh_result r;
	json_error_t jerr;
	json_t *j;

	cr_assert_eq(vh_ctl(&r, "--json", "show", name, NULL), 0, "show %s: exit %d: %s",
	    name, r.code, r.err);
	j = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(j, "show --json is no JSON (%s): %s", jerr.text, r.out);
	cr_assert(json_is_true(json_object_get(j, PROTO_K_OK)), "%s", r.out);
	return j;
}

static const json_t *
row_of(const json_t *reply, const char *key)
{
	const json_t *svc = json_array_get(json_object_get(reply, PROTO_K_SERVICES), 0);
	const json_t *row;
	size_t i;

	json_array_foreach(json_object_get(svc, PROTO_K_KEYS), i, row)
		if (strcmp(json_string_value(json_object_get(row, PROTO_K_KEY)), key) == 0)
			return row;
	cr_assert_fail("no row for %s", key);
	return NULL;
}

/* key's row: value, and source kind at file:line (file NULL: built in, no file or line). */
static void
expect_row(const json_t *reply, const char *key, const char *value, const char *kind,
    const char *file, int line)
{
	const json_t *row = row_of(reply, key), *src = json_object_get(row, PROTO_K_SOURCE);
	const char *v = json_string_value(json_object_get(row, PROTO_K_VALUE));

	cr_expect(v != NULL && strcmp(v, value) == 0, "%s: value '%s', expected '%s'", key,
	    v ? v : "(none)", value);
	cr_expect_str_eq(json_string_value(json_object_get(src, PROTO_K_KIND)), kind,
	    "%s: source kind", key);
	if (file == NULL) {
		cr_expect(json_is_null(json_object_get(src, PROTO_K_FILE)) &&
		    json_is_null(json_object_get(src, PROTO_K_LINE)), "%s: a default has a file", key);
		return;
	}
	cr_expect_str_eq(json_string_value(json_object_get(src, PROTO_K_FILE)), file,
	    "%s: file", key);
	cr_expect_eq(json_integer_value(json_object_get(src, PROTO_K_LINE)), line,
	    "%s: line %lld, expected %d", key,
	    (long long)json_integer_value(json_object_get(src, PROTO_K_LINE)), line);
}

/* web in the main file, db in an included one, [vigil] giving log_timestamps; both running */
static void
start_pair(void)
{
	char inc[512];

	vh_setup("[vigil]\ninclude = inc/*.conf\nlog_timestamps = no\n\n"
	    "[service:web]\ncommand = %s\nenvironment = PORT=8080\n  MODE='two words'\n"
	    "stop_timeout = 5000ms\nrestart_delay = 1.5s\n", vh_testsvc());
	snprintf(inc, sizeof(inc), "%s/inc", vh.dir);
	cr_assert_eq(mkdir(inc, 0700), 0, "%s: %s", inc, strerror(errno));
	snprintf(inc, sizeof(inc), "%s/inc/db.conf", vh.dir);
	{
		char text[1024];

		snprintf(text, sizeof(text), "[service:db]\n; the database\ncommand = %s\n"
		    "log_keep = 3\nkill_mode = main\n", vh_testsvc());
		write_file(inc, text);
	}
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", DEADLINE_MS), "web never ran; log:\n%s",
	    vh_log_tail());
	cr_assert(vh_wait_state("db", "running", DEADLINE_MS), "db never ran; log:\n%s",
	    vh_log_tail());
}

Test(show, keys_say_their_file_and_line_vigil_or_default)
{
	char inc[512];
	json_t *web, *db;

	start_pair();
	snprintf(inc, sizeof(inc), "%s/inc/db.conf", vh.dir);
	web = show_json("web");
	expect_row(web, "command", vh_testsvc(), "file", vh.conf, line_of(vh.conf, "command ="));
	/* a continued key: its first line */
	expect_row(web, "environment", "PORT=8080 'MODE=two words'", "file", vh.conf,
	    line_of(vh.conf, "environment ="));
	/* canonical forms: durations in the largest exact unit */
	expect_row(web, "stop_timeout", "5s", "file", vh.conf, line_of(vh.conf, "stop_timeout"));
	expect_row(web, "restart_delay", "1500ms", "file", vh.conf,
	    line_of(vh.conf, "restart_delay"));
	expect_row(web, "log_timestamps", "no", "vigil", vh.conf,
	    line_of(vh.conf, "log_timestamps"));
	expect_row(web, "directory", "", "default", NULL, 0);
	expect_row(web, "kill_mode", "all", "default", NULL, 0);
	expect_row(web, "log_keep", "5", "default", NULL, 0);
	json_decref(web);

	db = show_json("db");
	expect_row(db, "command", vh_testsvc(), "file", inc, 3);
	expect_row(db, "log_keep", "3", "file", inc, 4);
	expect_row(db, "kill_mode", "main", "file", inc, 5);
	expect_row(db, "log_timestamps", "no", "vigil", vh.conf,
	    line_of(vh.conf, "log_timestamps"));
	json_decref(db);
}

Test(show, every_documented_key_is_a_row_and_the_text_is_config)
{
	struct vh_result r;
	char want[1024], man[512], *text;
	const json_t *row;
	json_t *j;
	size_t i;

	start_pair();
	j = show_json("web");
	/* vigil.conf(5) documents each row's key (and show has a row for each: test_show unit) */
	snprintf(man, sizeof(man), "%s/doc/vigil.conf.5", getenv("VIGIL_SRCDIR"));
	cr_assert_not_null(text = strdup(vh_slurp(man)));
	cr_assert_gt(strlen(text), 1000, "%s: too short", man);
	json_array_foreach(json_object_get(json_array_get(json_object_get(j,
	    PROTO_K_SERVICES), 0), PROTO_K_KEYS), i, row) {
		const char *key = json_string_value(json_object_get(row, PROTO_K_KEY)), *p;
		bool found = false;

		/* ".Cm KEY" alone, or one of a list: ".It Cm limit_nofile , limit_nproc , ..." */
		snprintf(want, sizeof(want), "Cm %s", key);
		for (p = text; !found && (p = strstr(p, want)) != NULL; p++)
			found = p[strlen(want)] == ' ' || p[strlen(want)] == '\n';
		snprintf(want, sizeof(want), " , %s ", key);
		found = found || strstr(text, want) != NULL;
		cr_expect(found, "row %s is not a key of vigil.conf(5)", key);
	}
	cr_expect_geq(i, 50, "only %zu rows", i);
	free(text);
	json_decref(j);

	cr_assert_eq(vh_ctl(&r, "show", "web", "db", NULL), 0, "exit %d: %s", r.code, r.err);
	cr_expect(strncmp(r.out, "[service:web]\n", 14) == 0, "no header first: %s", r.out);
	cr_expect(strstr(r.out, "\n[service:db]\n") != NULL, "no db section: %s", r.out);
	snprintf(want, sizeof(want), "; %s:%d\n", vh.conf, line_of(vh.conf, "stop_timeout"));
	cr_expect(strstr(r.out, "stop_timeout = 5s ") != NULL && strstr(r.out, want) != NULL,
	    "no 'stop_timeout = 5s ... %s' in:\n%s", want, r.out);
	snprintf(want, sizeof(want), "; [vigil] %s:%d\n", vh.conf,
	    line_of(vh.conf, "log_timestamps"));
	cr_expect(strstr(r.out, want) != NULL, "no '%s' in:\n%s", want, r.out);
	cr_expect(strstr(r.out, "\n; directory = ") != NULL,
	    "an unset key is not commented out:\n%s", r.out);
	cr_expect(strstr(r.out, "; built-in default\n") != NULL, "no default:\n%s", r.out);
}

/* The text of show, under a [vigil] of its own, is a config vigild --check accepts. */
Test(show, the_text_reads_back_as_a_config)
{
	struct vh_result r;
	char path[512], *text;
	int status;
	pid_t pid;

	start_pair();
	cr_assert_eq(vh_ctl(&r, "show", "web", "db", NULL), 0, "exit %d: %s", r.code, r.err);
	snprintf(path, sizeof(path), "%s/pasted.conf", vh.dir);
	cr_assert_neq(asprintf(&text, "[vigil]\nsocket = %s/other.sock\nlog_dir = %s/logs\n\n%s",
	    vh.dir, vh.dir, r.out), -1);
	write_file(path, text);
	free(text);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int fd = open(vh.log, O_WRONLY | O_APPEND | O_CLOEXEC);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(getenv("VIGILD"), "vigild", "--check", "-c", path, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "vigild --check of show's text: status 0x%x; log:\n%s\ntext:\n%s",
	    (unsigned)status, vh_log_tail(), vh_slurp(path));
}

Test(show, unknown_names_fail_and_show_nothing)
{
	struct vh_result r;

	start_pair();
	cr_expect_eq(vh_ctl(&r, "show", "nope", NULL), 1, "exit %d", r.code);
	cr_expect(strstr(r.err, "no such service: nope") != NULL, "stderr: %s", r.err);
	/* all or nothing: one wrong name fails the request */
	cr_expect_eq(vh_ctl(&r, "show", "web", "nope", NULL), 1, "exit %d", r.code);
	cr_expect_str_empty(r.out, "output for a failed show: %s", r.out);
	cr_expect_eq(vh_ctl(&r, "--json", "show", "nope", NULL), 1, "exit %d", r.code);
	cr_expect(strstr(r.out, PROTO_ERR_NO_SUCH_SERVICE) != NULL, "json: %s", r.out);
	cr_expect_eq(vh_ctl(&r, "show", NULL), 2, "show without a name: exit %d", r.code);

	/* vigild's own answers, on one connection that goes on working */
	{
		struct raw c;
		json_t *j;

		raw_connect(&c);
		expect_error(raw_request(&c, "show"), PROTO_ERR_BAD_REQUEST, "show alone");
		expect_error(raw_request(&c, "show --all web"), PROTO_ERR_BAD_REQUEST,
		    "an unknown option");
		expect_error(raw_request(&c, "show nope other"), PROTO_ERR_NO_SUCH_SERVICE,
		    "two unknown names");
		/* a name given twice is shown once */
		j = raw_request(&c, "show -- web db web");
		cr_expect(reply_ok(j), "%s", show(j));
		cr_expect_eq(json_array_size(json_object_get(j, PROTO_K_SERVICES)), 2, "%s", show(j));
		json_decref(j);
		expect_status_ok(&c, "show's errors");
		raw_close(&c);
	}
	cr_expect_eq(vh_ctl(&r, "show", "web", NULL), 0, "exit %d: %s", r.code, r.err);
}

/* After an edit, show keeps saying what runs; after the reload, what was loaded. */
Test(show, shows_the_running_definition_until_a_reload)
{
	struct vh_result r;
	char text[2048];
	int old_line;
	json_t *j;

	start_pair();
	old_line = line_of(vh.conf, "stop_timeout");
	/* two lines more above it, and a new value */
	snprintf(text, sizeof(text), "[vigil]\ninclude = inc/*.conf\nlog_timestamps = no\n\n"
	    "[service:web]\n; moved\n; down\ncommand = %s\nenvironment = PORT=8080\n"
	    "  MODE='two words'\nstop_timeout = 7s\nrestart_delay = 1.5s\n", vh_testsvc());
	vh_setup("%s", text);
	cr_assert_eq(line_of(vh.conf, "stop_timeout"), old_line + 2);

	j = show_json("web");
	expect_row(j, "stop_timeout", "5s", "file", vh.conf, old_line);
	json_decref(j);

	cr_assert_eq(vh_ctl(&r, "reload", NULL), 0, "reload: exit %d: %s", r.code, r.err);
	j = show_json("web");
	expect_row(j, "stop_timeout", "7s", "file", vh.conf, old_line + 2);
	expect_row(j, "command", vh_testsvc(), "file", vh.conf, line_of(vh.conf, "command ="));
	json_decref(j);
}

/* The accounts the secret test borrows: nobody, whose group nogroup is socket_group. */
static bool
nobody_account(uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam("nobody");
	struct group *gr = getgrnam("nogroup");

	if (geteuid() != 0 || pw == NULL || gr == NULL || pw->pw_gid != gr->gr_gid)
		return false;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

Test(show, environment_values_only_for_admin_clients)
{
	struct vh_result r;
	char env[512];
	uid_t uid;
	gid_t gid;
	json_t *j;

	if (!nobody_account(&uid, &gid))
		VH_SKIP("needs root, and a nobody account whose group is nogroup");
	vh_setup("%s", "");
	snprintf(env, sizeof(env), "%s/web.env", vh.dir);
	write_file(env, "FILE_TOKEN=f1le-s3cret\n");
	vh_add_services("[vigil]\nsocket_group = nogroup\n\n[service:web]\ncommand = %s\n"
	    "environment = TOKEN=s3cret MODE=prod\nenvironment_file = %s\n", vh_testsvc(), env);
	/* mkdtemp's 0700 would keep nobody from the socket whatever its mode */
	cr_assert_eq(chmod(vh.dir, 0711), 0, "chmod %s: %s", vh.dir, strerror(errno));
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", DEADLINE_MS), "web never ran; log:\n%s",
	    vh_log_tail());
	if (vh_ctl_as(uid, gid, &r, "--version", NULL) != 0)
		VH_SKIP("vigilctl does not run as nobody (exit %d)", r.code);

	/* root is admin: everything */
	j = show_json("web");
	expect_row(j, "environment", "TOKEN=s3cret MODE=prod", "file", vh.conf,
	    line_of(vh.conf, "environment ="));
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(
	    row_of(j, "environment_file"), PROTO_K_LOADED), 0)), "FILE_TOKEN=f1le-s3cret");
	json_decref(j);

	/* nobody reads: names, no values, and it is told why */
	cr_assert_eq(vh_ctl_as(uid, gid, &r, "--json", "show", "web", NULL), 0,
	    "show as nobody: exit %d: %s", r.code, r.err);
	cr_expect_null(strstr(r.out, "s3cret"), "a secret reached a read client: %s", r.out);
	j = json_loads(r.out, 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	expect_row(j, "environment", "TOKEN=<hidden> MODE=<hidden>", "file", vh.conf,
	    line_of(vh.conf, "environment ="));
	cr_expect(json_is_true(json_object_get(row_of(j, "environment"), PROTO_K_HIDDEN)));
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(
	    row_of(j, "environment_file"), PROTO_K_LOADED), 0)), "FILE_TOKEN=<hidden>");
	json_decref(j);
	cr_assert_eq(vh_ctl_as(uid, gid, &r, "show", "web", NULL), 0, "exit %d: %s", r.code,
	    r.err);
	cr_expect_null(strstr(r.out, "s3cret"), "a secret reached a read client: %s", r.out);
	cr_expect(strstr(r.out, "values hidden") != NULL, "not said: %s", r.out);
}
