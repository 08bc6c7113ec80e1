/*
 * test_reload.c: reload_plan.c without a daemon. Two configs are loaded
 * for real and compared: which services are added, removed, restarted,
 * updated in place or unchanged, which keys are named as changed, and
 * that every key of a [service:NAME] section has a rule.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_values.h"
#include "vigild.h"

static char dir[64];
static struct config *before, *after;
static struct reload_plan plan;

static void
cleanup(void)
{
	char cmd[128];

	reload_plan_free(&plan);
	config_free(before);
	config_free(after);
	before = after = NULL;
	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	dir[0] = '\0';
}

TestSuite(reload_plan, .fini = cleanup);

static struct config *
load(const char *name, const char *fmt, ...)
{
	struct config_errors errs = { NULL, 0 };
	char path[128];
	struct config *conf;
	va_list ap;
	FILE *f;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/vigil-reload-XXXXXX");
		cr_assert_not_null(mkdtemp(dir));
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	conf = config_load(path, &errs);
	cr_assert_not_null(conf, "%s: %s", name, errs.n > 0 ? errs.msgs[0] : "?");
	config_errors_free(&errs);
	return conf;
}

/* Compare before with after, as vigild would with before running. */
static void
make_plan(void)
{
	cr_assert_eq(reload_plan_build((const struct service_conf *const *)before->services,
	    before->nservices, after, &plan), 0);
}

static const struct reload_item *
item(const char *name)
{
	for (size_t i = 0; i < plan.n; i++)
		if (strcmp(plan.items[i].name, name) == 0)
			return &plan.items[i];
	cr_assert_fail("%s is not in the plan", name);
	return NULL;
}

/* The changed keys of name, comma-separated in table order. */
static const char *
changed(const char *name)
{
	static char buf[512];
	const struct reload_item *it = item(name);
	const char *key;

	buf[0] = '\0';
	for (size_t i = 0; (key = reload_field_key(i, NULL)) != NULL; i++) {
		if (!(it->changed & (UINT64_C(1) << i)))
			continue;
		if (buf[0] != '\0')
			strcat(buf, ",");
		strcat(buf, key);
	}
	return buf;
}

#define SVC(name, extra)	CMD(name, "/bin/sleep 100", extra)
#define CMD(name, cmd, extra)	"[service:" name "]\ncommand = " cmd "\n" extra "\n"

Test(reload_plan, each_service_lands_in_its_group)
{
	before = load("a.conf", SVC("keep", "") SVC("cmd", "") SVC("delay", "")
	    SVC("gone", "") SVC("env", ""));
	after = load("b.conf", SVC("keep", "") CMD("cmd", "/bin/sleep 200", "")
	    SVC("delay", "restart_delay = 2s\nstop_timeout = 1s\n") SVC("new", "")
	    SVC("env", "environment = A=1\n"));
	make_plan();
	cr_expect_eq(plan.n, 6);
	cr_expect_eq(item("keep")->action, RELOAD_UNCHANGED);
	cr_expect_eq(item("cmd")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("cmd"), "command");
	cr_expect_eq(item("delay")->action, RELOAD_UPDATED);
	cr_expect_str_eq(changed("delay"), "restart_delay,stop_timeout");
	cr_expect_eq(item("env")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("env"), "environment");
	cr_expect_eq(item("new")->action, RELOAD_ADDED);
	cr_expect_eq(item("new")->old_index, SIZE_MAX);
	cr_expect_eq(item("new")->new_index, 3);
	cr_expect_eq(item("gone")->action, RELOAD_REMOVED);
	cr_expect_eq(item("gone")->old_index, 3);
	cr_expect_eq(item("gone")->new_index, SIZE_MAX);
	cr_expect_eq(item("env")->old_index, 4);
	cr_expect_eq(item("env")->new_index, 4);
	for (size_t a = 0; a < RELOAD_NACTIONS; a++)
		cr_expect_eq(plan.count[a], a == RELOAD_RESTARTED ? 2u : 1u,
		    "%s: %zu", reload_action_name((enum reload_action)a), plan.count[a]);
}

Test(reload_plan, a_restart_names_every_changed_key_in_place_ones_too)
{
	before = load("a.conf", SVC("web", ""));
	after = load("b.conf", CMD("web", "/bin/sleep 1", "restart = never\nlog_timestamps = no\n"));
	make_plan();
	cr_expect_eq(item("web")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("web"), "command,restart,log_timestamps");
}

Test(reload_plan, moving_sections_or_rewriting_a_command_is_no_change)
{
	before = load("a.conf", SVC("a", "") SVC("b", "requires = a\n"));
	after = load("b.conf", "; moved, and the same words written differently\n"
	    "[service:b]\ncommand = /bin/sleep   '100'\nrequires = a\n\n" SVC("a", ""));
	make_plan();
	cr_expect_eq(item("a")->action, RELOAD_UNCHANGED);
	cr_expect_eq(item("b")->action, RELOAD_UNCHANGED);
	cr_expect_eq(item("a")->old_index, 0);
	cr_expect_eq(item("a")->new_index, 1);
}

Test(reload_plan, requirements_and_order_apply_in_place)
{
	before = load("a.conf", SVC("db", "") SVC("web", "") SVC("cache", ""));
	after = load("b.conf", SVC("db", "") SVC("web", "requires = db\nafter = cache\n")
	    SVC("cache", ""));
	make_plan();
	cr_expect_eq(item("web")->action, RELOAD_UPDATED);
	cr_expect_str_eq(changed("web"), "requires,after");
}

/* [vigil] defaults reach services through their own definitions. */
Test(reload_plan, a_vigil_default_changes_the_services_that_inherit_it)
{
	before = load("a.conf", SVC("web", "") SVC("own", "log_keep = 2\n"));
	after = load("b.conf", "[vigil]\nlog_keep = 9\n\n" SVC("web", "")
	    SVC("own", "log_keep = 2\n"));
	make_plan();
	cr_expect_eq(item("web")->action, RELOAD_UPDATED);
	cr_expect_str_eq(changed("web"), "log_keep");
	cr_expect_eq(item("own")->action, RELOAD_UNCHANGED);
}

/* What the child is made with restarts it: one limit changed is named alone. */
Test(reload_plan, resource_limits_and_privileges_restart_the_service)
{
	before = load("a.conf", SVC("a", "limit_nofile = 1024\n") SVC("b", "") SVC("c", ""));
	after = load("b.conf", SVC("a", "limit_nofile = 1024:4096\n")
	    SVC("b", "nice = 5\noom_score_adj = 100\n") SVC("c", "no_new_privileges = yes\n"));
	make_plan();
	cr_expect_eq(item("a")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("a"), "limit_nofile");
	cr_expect_eq(item("b")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("b"), "nice,oom_score_adj");
	cr_expect_eq(item("c")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("c"), "no_new_privileges");
}

/* The capabilities kept restart the service; the same set written otherwise does not. */
Test(reload_plan, capabilities_restart_the_service)
{
	before = load("a.conf", SVC("a", "capabilities = CAP_NET_BIND_SERVICE\n")
	    SVC("b", "") SVC("c", "capabilities = net_raw cap_chown\n"));
	after = load("b.conf", SVC("a", "capabilities = none\n")
	    SVC("b", "capabilities = CAP_KILL\n") SVC("c", "capabilities = CAP_CHOWN CAP_NET_RAW\n"));
	make_plan();
	cr_expect_eq(item("a")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("a"), "capabilities");
	cr_expect_eq(item("b")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("b"), "capabilities");
	cr_expect_eq(item("c")->action, RELOAD_UNCHANGED);
}

/* The filter and its action are in the child: either changed restarts it. */
Test(reload_plan, a_syscall_filter_or_its_action_restarts_the_service)
{
	before = load("a.conf", SVC("a", "syscall_filter = ~@mount\n")
	    SVC("b", "syscall_filter = ~@mount\n") SVC("c", "") SVC("d", "syscall_filter = @basic\n"));
	after = load("b.conf", SVC("a", "syscall_filter = ~@mount @reboot\n")
	    SVC("b", "syscall_filter = ~@mount\nsyscall_filter_action = kill\n")
	    SVC("c", "syscall_filter = ~@swap\n") SVC("d", "syscall_filter = @basic\n"));
	make_plan();
	cr_expect_eq(item("a")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("a"), "syscall_filter");
	cr_expect_eq(item("b")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("b"), "syscall_filter_action");
	cr_expect_eq(item("c")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("c"), "syscall_filter");
	cr_expect_eq(item("d")->action, RELOAD_UNCHANGED);
}

/* Environment files are taken by a new process; cgroup limits by the running cgroup. */
Test(reload_plan, environment_files_restart_cgroup_limits_apply_in_place)
{
	before = load("a.conf", SVC("a", "environment_file = /etc/a.env\n")
	    SVC("b", "memory_max = 1G\ncpu_max = 50%\n") SVC("c", "pids_max = 10\n")
	    SVC("d", "io_weight = 10\n"));
	after = load("b.conf", SVC("a", "environment_file = /etc/a.env -/etc/b.env\n")
	    SVC("b", "memory_max = 1024M\ncpu_max = 60%\n") SVC("c", "pids_max = 10\n")
	    SVC("d", ""));
	make_plan();
	cr_expect_eq(item("a")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("a"), "environment_file");
	/* 1G and 1024M are one limit: only cpu_max changed */
	cr_expect_eq(item("b")->action, RELOAD_UPDATED);
	cr_expect_str_eq(changed("b"), "cpu_max");
	cr_expect_eq(item("c")->action, RELOAD_UNCHANGED);
	cr_expect_eq(item("d")->action, RELOAD_UPDATED);
	cr_expect_str_eq(changed("d"), "io_weight");
}

/* A filesystem or network of its own is made with the process: a change restarts it. */
Test(reload_plan, sandbox_keys_restart_the_service)
{
	before = load("a.conf", SVC("a", "private_tmp = yes\n") SVC("b", "")
	    SVC("c", "read_only_paths = /etc\n"));
	after = load("b.conf", SVC("a", "private_tmp = yes\nprivate_network = yes\n")
	    SVC("b", "chroot = /\ninaccessible_paths = -/nonexistent\n")
	    SVC("c", "read_only_paths = /etc -/nonexistent\n"));
	make_plan();
	cr_expect_eq(item("a")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("a"), "private_network");
	cr_expect_eq(item("b")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("b"), "chroot,inaccessible_paths");
	cr_expect_eq(item("c")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("c"), "read_only_paths");
}

Test(reload_plan, output_targets_restart_limits_do_not)
{
	before = load("a.conf", SVC("a", "") SVC("b", "") SVC("c", "stdout = file:/tmp/x\n"));
	after = load("b.conf", SVC("a", "stderr = stdout\n") SVC("b", "log_buffer = 1K\n"
	    "log_max_size = 1M\n") SVC("c", "stdout = file:/tmp/y\n"));
	make_plan();
	cr_expect_eq(item("a")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("a"), "stderr");
	cr_expect_eq(item("b")->action, RELOAD_UPDATED);
	cr_expect_str_eq(changed("b"), "log_max_size,log_buffer");
	cr_expect_eq(item("c")->action, RELOAD_RESTARTED);
	cr_expect_str_eq(changed("c"), "stdout");
}

/* Adding a key to config_values.c without saying what a reload does with it fails here. */
Test(reload_plan, every_service_key_has_a_rule)
{
	const char *key, *rule;
	size_t n = 0;

	for (size_t i = 0; (key = values_key_name(VALUE_SECTION_SERVICE, i)) != NULL; i++) {
		bool found = false;

		for (size_t k = 0; (rule = reload_field_key(k, NULL)) != NULL; k++)
			found |= strcmp(rule, key) == 0;
		cr_expect(found, "key '%s' has no row in reload_plan.c's table", key);
		n++;
	}
	cr_expect_gt(n, 20);
}

Test(reload_plan, the_rule_of_each_key)
{
	static const char *const restarts[] = { "command", "environment",
	    "clear_environment", "directory", "user", "group", "umask", "limit_nofile",
	    "limit_nproc", "limit_core", "limit_as", "limit_fsize", "limit_memlock",
	    "limit_stack", "limit_cpu", "nice", "oom_score_adj", "no_new_privileges",
	    "capabilities", "syscall_filter", "syscall_filter_action",
	    "environment_file",
	    "chroot", "private_tmp", "private_network", "read_only_paths",
	    "inaccessible_paths",
	    "stdout", "stderr", "ready", "watchdog" };
	enum reload_class class;
	const char *key;

	for (size_t i = 0; (key = reload_field_key(i, &class)) != NULL; i++) {
		bool want = false;

		for (size_t k = 0; k < sizeof(restarts) / sizeof(restarts[0]); k++)
			want |= strcmp(restarts[k], key) == 0;
		cr_expect_eq(class == RELOAD_RESTARTS, want, "%s", key);
	}
}

/*
 * The man pages name exactly the keys that restart a service, in the list
 * after vigilctl(1)'s ".Em restarted" and vigil.conf(5)'s ".It restart".
 */
static void
expect_doc_lists_restarts(const char *page, const char *from, const char *to)
{
	char path[512], *text = NULL, *start, *end, want[64];
	enum reload_class class;
	const char *key;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", DOC_DIR, page);
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	cr_assert_gt(getdelim(&text, &cap, '\0', f), 0);
	fclose(f);
	cr_assert_not_null(start = strstr(text, from), "%s: no '%s'", page, from);
	cr_assert_not_null(end = strstr(start, to), "%s: no '%s'", page, to);
	*end = '\0';
	for (size_t i = 0; (key = reload_field_key(i, &class)) != NULL; i++) {
		bool limit = strncmp(key, "limit_", 6) == 0;

		snprintf(want, sizeof(want), ".Cm %s%s", limit ? "limit_*" : key,
		    limit ? " ," : "");
		/* "\n" after the key, or " ," / " :" / " )": a whole word */
		bool listed = false;
		for (const char *p = start; (p = strstr(p, want)) != NULL; p++) {
			char c = p[strlen(want)];
			listed |= limit || c == '\n' || c == ' ';
		}
		cr_expect_eq(listed, class == RELOAD_RESTARTS, "%s: %s is %slisted as restarting",
		    page, key, listed ? "" : "not ");
	}
	free(text);
}

Test(reload_plan, the_man_pages_name_the_keys_that_restart)
{
	expect_doc_lists_restarts("vigilctl.1", ".Em restarted", ".Pc\n");
	expect_doc_lists_restarts("vigil.conf.5", ".It restart\n", "they shape the process");
}

Test(reload_plan, json_and_text_say_the_same)
{
	json_t *j;
	char *text, *dump;

	before = load("a.conf", SVC("keep", "") SVC("cmd", "") SVC("gone", "") SVC("k2", ""));
	after = load("b.conf", SVC("keep", "") CMD("cmd", "/bin/true", "")
	    SVC("new", "") SVC("k2", ""));
	make_plan();
	cr_assert_not_null(j = reload_plan_json(&plan));
	dump = json_dumps(j, JSON_COMPACT);
	cr_expect_str_eq(dump, "{\"added\":[\"new\"],\"removed\":[\"gone\"],"
	    "\"restarted\":[\"cmd\"],\"updated\":[],\"unchanged\":[\"keep\",\"k2\"],"
	    "\"changes\":{\"cmd\":[\"command\"]}}");
	free(dump);
	json_decref(j);
	cr_assert_not_null(text = reload_plan_text(&plan));
	cr_expect_str_eq(text, "added new; removed gone; restarted cmd (command); 2 unchanged");
	free(text);
}
