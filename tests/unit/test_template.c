/*
 * test_template.c: config_template.c: %i and %% in a template's values,
 * instances made at load (instances =, requires naming one), instances
 * made on request from a loaded config (config_instance_add), and what
 * goes wrong with each, against tests/conf/good-template.conf.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigild.h"
#include "config/config_values.h"

#ifndef CONF_TEST_DIR
#error "CONF_TEST_DIR must name tests/conf"
#endif

static struct config_errors errs;

static void
go_to_conf_dir(void)
{
	cr_assert(chdir(CONF_TEST_DIR) == 0, "cannot chdir to %s", CONF_TEST_DIR);
}

static void
drop_errors(void)
{
	config_errors_free(&errs);
}

static struct config *
load_good(void)
{
	struct config *conf = config_load("good-template.conf", &errs);

	for (size_t i = 0; i < errs.n; i++)
		cr_log_error("%s", errs.msgs[i]);
	cr_assert(conf != NULL && errs.n == 0, "expected no errors, got %zu (first: %s)",
	    errs.n, errs.n ? errs.msgs[0] : "-");
	return conf;
}

static size_t
index_of(const struct config *conf, const char *name)
{
	for (size_t i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i]->name, name) == 0)
			return i;
	return SIZE_MAX;
}

static struct service_conf *
find(const struct config *conf, const char *name)
{
	size_t i = index_of(conf, name);

	cr_assert(i != SIZE_MAX, "service '%s' not found", name);
	return conf->services[i];
}

/* Whether one of the messages holds text. */
static bool
has_message(const char *text)
{
	for (size_t i = 0; i < errs.n; i++)
		if (strstr(errs.msgs[i], text) != NULL)
			return true;
	return false;
}

static void
expect_expand(const char *v, const char *inst, const char *want)
{
	char *got = values_template_expand(v, inst);

	cr_assert_not_null(got);
	cr_expect_str_eq(got, want, "'%s' with %%i = '%s'", v, inst);
	free(got);
}

Test(template_values, percent_i_and_percent_percent)
{
	expect_expand("/bin/run %i", "web7", "/bin/run web7");
	expect_expand("%i%i", "ab", "abab");
	expect_expand("100%% of %i", "x", "100% of x");
	expect_expand("%%i stays", "x", "%i stays");
	expect_expand("no escapes", "x", "no escapes");
	expect_expand("", "x", "");
}

Test(template_values, other_escapes_are_named)
{
	char bad[3];

	cr_expect_eq(values_template_escapes("a %i b %% c", bad), 0);
	cr_expect_eq(values_template_escapes("%n", bad), -1);
	cr_expect_str_eq(bad, "%n");
	cr_expect_eq(values_template_escapes("50%", bad), -1);
	cr_expect_str_eq(bad, "%");
	cr_expect_eq(values_template_escapes("%%%I", bad), -1);
	cr_expect_str_eq(bad, "%I");
}

Test(template_values, instance_names)
{
	struct value_error e = { "", false, false };
	char longname[80];

	cr_expect_eq(values_instance_name("worker@", "web-7.a_b", &e), 0);
	cr_expect_eq(values_instance_name("worker@", "a/b", &e), -1);
	cr_expect(strstr(e.msg, "found 'a/b'") != NULL, "%s", e.msg);
	cr_expect_eq(values_instance_name("worker@", "a@b", &e), -1);
	cr_expect_eq(values_instance_name("worker@", "", &e), -1);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[SERVICE_NAME_MAX - strlen("worker@")] = '\0';
	cr_expect_eq(values_instance_name("worker@", longname, &e), 0);
	longname[SERVICE_NAME_MAX - strlen("worker@")] = 'x';
	longname[SERVICE_NAME_MAX - strlen("worker@") + 1] = '\0';
	cr_expect_eq(values_instance_name("worker@", longname, &e), -1);
}

TestSuite(template_load, .init = go_to_conf_dir, .fini = drop_errors);

Test(template_load, instances_by_count_are_services_with_percent_i_expanded)
{
	struct config *conf = load_good();
	const struct service_conf *w;
	char name[32], port[8];

	cr_expect_eq(index_of(conf, "worker@"), SIZE_MAX, "a template is no service");
	cr_expect_eq(index_of(conf, "worker@4"), SIZE_MAX);
	for (int i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "worker@%d", i);
		snprintf(port, sizeof(port), "80%d", i);
		w = find(conf, name);
		cr_expect_str_eq(w->template_name, "worker@");
		cr_expect_eq(atoi(w->instance), i);
		cr_expect_not(w->on_demand);
		cr_expect_str_eq(w->argv[1], "worker");
		cr_expect_eq(atoi(w->argv[2]), i);
		cr_expect_str_eq(w->argv[4], "100%");
		cr_expect_str_eq(w->ready_port, port);
		cr_expect_eq(w->nrequires, 1);
		cr_expect_str_eq(conf->services[w->requires[0]]->name, "db");
		/* messages about it point into the template */
		cr_expect_str_eq(w->file, "good-template.conf");
		cr_expect_eq(w->line, 5);
	}
	config_free(conf);
}

Test(template_load, instances_by_name_and_by_requires)
{
	struct config *conf = load_good();
	const struct service_conf *web, *pool;

	cr_expect_str_eq(find(conf, "site@alpha")->argv[1], "alpha");
	cr_expect_str_eq(find(conf, "site@beta")->instance, "beta");
	web = find(conf, "web");
	pool = find(conf, "pool@x");
	cr_expect_str_eq(pool->argv[2], "x");
	cr_expect_not(pool->on_demand);
	cr_assert_eq(web->nrequires, 2);
	cr_expect_str_eq(conf->services[web->requires[0]]->name, "worker@2");
	cr_expect_str_eq(conf->services[web->requires[1]]->name, "pool@x");
	/* templates without instances make none */
	cr_expect_eq(conf->nservices, 8);
	cr_expect_eq(conf->ntemplates, 8);
	config_free(conf);
}

TestSuite(template_add, .init = go_to_conf_dir, .fini = drop_errors);

Test(template_add, an_instance_on_request_with_what_it_requires)
{
	struct config *conf = load_good();
	size_t n = conf->nservices, added;
	const struct service_conf *app, *cfg;

	cr_assert_eq(config_instance_add(conf, "app@web7", true, &errs, &added), 0,
	    "%s", errs.n ? errs.msgs[0] : "");
	cr_expect_eq(added, 2);
	cr_assert_eq(conf->nservices, n + 2);
	app = conf->services[n];
	cfg = conf->services[n + 1];
	cr_expect_str_eq(app->name, "app@web7");
	cr_expect(app->on_demand);
	cr_expect_str_eq(cfg->name, "cfg@web7");
	cr_expect_not(cfg->on_demand, "pulled in by requires, not asked for");
	cr_assert_eq(app->nrequires, 1);
	cr_expect_eq(app->requires[0], n + 1);
	/* asking again for one that exists is the caller's business: it is there */
	cr_expect_eq(config_instance_add(conf, "pool@y", true, &errs, &added), 0);
	cr_expect_eq(added, 1);
	cr_expect_str_eq(conf->services[n + 2]->argv[2], "y");
	config_free(conf);
}

Test(template_add, not_an_instance_of_a_template)
{
	struct config *conf = load_good();
	size_t n = conf->nservices, added;

	cr_expect_eq(config_instance_add(conf, "web", true, &errs, &added), -2);
	cr_expect_eq(config_instance_add(conf, "nosuch@x", true, &errs, &added), -2);
	cr_expect_eq(config_instance_add(conf, "pool@", true, &errs, &added), -2);
	cr_expect_eq(errs.n, 0);
	cr_expect_eq(conf->nservices, n);
	config_free(conf);
}

Test(template_add, a_bad_instance_name_changes_nothing)
{
	struct config *conf = load_good();
	size_t n = conf->nservices, added;

	cr_expect_eq(config_instance_add(conf, "pool@a/b", true, &errs, &added), -1);
	cr_assert_eq(errs.n, 1);
	cr_expect_str_eq(errs.msgs[0], "pool@a/b: expected an instance name of 1 to 59 "
	    "characters from A-Z a-z 0-9 _ . -, found 'a/b'");
	cr_expect_eq(conf->nservices, n);
	config_free(conf);
}

Test(template_add, a_value_bad_for_this_instance_names_the_template_line)
{
	struct config *conf = load_good();
	size_t n = conf->nservices, added;

	cr_expect_eq(config_instance_add(conf, "port@http", true, &errs, &added), -1);
	cr_assert_eq(errs.n, 1, "%zu messages", errs.n);
	cr_expect_str_eq(errs.msgs[0], "good-template.conf:42: [service:port@http] ready: "
	    "expected tcp:PORT or tcp:HOST:PORT with a port from 1 to 65535, found "
	    "'tcp:127.0.0.1:http'");
	cr_expect_eq(conf->nservices, n);
	config_errors_free(&errs);
	cr_expect_eq(config_instance_add(conf, "port@8080", true, &errs, &added), 0);
	cr_expect_str_eq(conf->services[n]->ready_port, "8080");
	config_free(conf);
}

Test(template_add, a_cycle_through_new_instances_is_refused)
{
	struct config *conf = load_good();
	size_t n = conf->nservices, added;

	cr_expect_eq(config_instance_add(conf, "loop@q", true, &errs, &added), -1);
	cr_expect(has_message("dependency cycle loop@q -> loop2@q -> loop@q"),
	    "%s", errs.n ? errs.msgs[0] : "no message");
	cr_expect_eq(conf->nservices, n, "nothing kept");
	config_free(conf);
}

Test(template_add, undo_removes_the_last)
{
	struct config *conf = load_good();
	size_t n = conf->nservices, added;

	cr_assert_eq(config_instance_add(conf, "app@z", true, &errs, &added), 0);
	config_instance_undo(conf, added);
	cr_expect_eq(conf->nservices, n);
	config_free(conf);
}
