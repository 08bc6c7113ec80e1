/*
 * test_show.c: config_source.c and config_show.c: where each key of a
 * loaded service came from (file:line, [vigil], built in), and that every
 * value shown reads back as the same value.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_values.h"
#include "proto.h"
#include "vigild.h"
#include "words.h"

static char dir[] = "/tmp/vigil-show-XXXXXX";
static char main_path[256], inc_path[256];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static void
cleanup(void)
{
	unlink(inc_path);
	snprintf(inc_path, sizeof(inc_path), "%s/inc", dir);
	rmdir(inc_path);
	unlink(main_path);
	rmdir(dir);
}

/* A main file with [vigil] and web, and an include with db: returns the loaded config. */
static struct config *
load_pair(const char *main_text, const char *inc_text)
{
	struct config_errors errs = { NULL, 0 };
	struct config *conf;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(main_path, sizeof(main_path), "%s/vigil.conf", dir);
	snprintf(inc_path, sizeof(inc_path), "%s/inc", dir);
	cr_assert_eq(mkdir(inc_path, 0700), 0);
	snprintf(inc_path, sizeof(inc_path), "%s/inc/db.conf", dir);
	write_file(main_path, main_text);
	write_file(inc_path, inc_text);
	conf = config_load(main_path, &errs);
	cr_assert_not_null(conf, "load failed: %s", errs.n > 0 ? errs.msgs[0] : "?");
	config_errors_free(&errs);
	return conf;
}

static const struct service_conf *
service(const struct config *conf, const char *name)
{
	for (size_t i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i]->name, name) == 0)
			return conf->services[i];
	cr_assert_fail("no service %s", name);
	return NULL;
}

static const json_t *
row(const json_t *rows, const char *key)
{
	size_t i;
	const json_t *r;

	json_array_foreach(rows, i, r)
		if (strcmp(json_string_value(json_object_get(r, PROTO_K_KEY)), key) == 0)
			return r;
	cr_assert_fail("no row %s", key);
	return NULL;
}

/* Expect key's row to hold value, from kind at file:line (file NULL: built in). */
static void
expect_row(const json_t *rows, const char *key, const char *value, const char *kind,
    const char *file, int line)
{
	const json_t *r = row(rows, key), *src = json_object_get(r, PROTO_K_SOURCE);

	cr_expect_str_eq(json_string_value(json_object_get(r, PROTO_K_VALUE)), value,
	    "%s: value", key);
	cr_expect_str_eq(json_string_value(json_object_get(src, PROTO_K_KIND)), kind,
	    "%s: kind", key);
	if (file == NULL) {
		cr_expect(json_is_null(json_object_get(src, PROTO_K_FILE)), "%s: file", key);
		cr_expect(json_is_null(json_object_get(src, PROTO_K_LINE)), "%s: line", key);
	} else {
		cr_expect_str_eq(json_string_value(json_object_get(src, PROTO_K_FILE)), file,
		    "%s: file", key);
		cr_expect_eq(json_integer_value(json_object_get(src, PROTO_K_LINE)), line,
		    "%s: line", key);
	}
}

Test(show, every_service_key_once_in_the_documented_order, .fini = cleanup)
{
	struct config *conf = load_pair("[service:web]\ncommand = /bin/true\n", "");
	json_t *rows = config_show_json(service(conf, "web"), true);
	const char *key;
	size_t i;

	cr_assert_not_null(rows);
	for (i = 0; (key = values_key_name(VALUE_SECTION_SERVICE, i)) != NULL; i++) {
		cr_assert_lt(i, json_array_size(rows), "no row for %s", key);
		cr_expect_str_eq(json_string_value(json_object_get(json_array_get(rows, i),
		    PROTO_K_KEY)), key, "row %zu", i);
	}
	cr_expect_eq(json_array_size(rows), i, "%zu rows for %zu keys", json_array_size(rows), i);
	json_decref(rows);
	config_free(conf);
}

Test(show, file_line_vigil_and_default, .fini = cleanup)
{
	struct config *conf = load_pair(
	    "[vigil]\n"				/* 1 */
	    "log_timestamps = off\n"		/* 2 */
	    "include = inc/*.conf\n"		/* 3 */
	    "log_keep = 9\n"			/* 4 */
	    "\n"				/* 5 */
	    "[service:web]\n"			/* 6 */
	    "command = /bin/sleep\n"		/* 7 */
	    "environment = A=1\n"		/* 8 */
	    "  B='two words'\n"			/* 9: continues 8 */
	    "stop_timeout = 90000ms\n"		/* 10 */
	    "log_keep = 2\n"			/* 11 */
	    "log_buffer = 1048576\n"		/* 12 */
	    "stop_signal = SIGINT\n",		/* 13 */
	    "[service:db]\n"			/* 1 */
	    "; a comment\n"			/* 2 */
	    "command = /bin/true\n"		/* 3 */
	    "restart_delay = 1.5s\n"		/* 4 */
	    "autostart = off\n");		/* 5 */
	json_t *web = config_show_json(service(conf, "web"), true);
	json_t *db = config_show_json(service(conf, "db"), true);

	cr_assert_not_null(web);
	cr_assert_not_null(db);
	expect_row(web, "command", "/bin/sleep", "file", main_path, 7);
	expect_row(web, "environment", "A=1 'B=two words'", "file", main_path, 8);
	expect_row(web, "stop_timeout", "90s", "file", main_path, 10);
	expect_row(web, "stop_signal", "INT", "file", main_path, 13);
	expect_row(web, "log_buffer", "1M", "file", main_path, 12);
	/* the service's own key beats [vigil]'s */
	expect_row(web, "log_keep", "2", "file", main_path, 11);
	expect_row(web, "log_timestamps", "no", "vigil", main_path, 2);
	expect_row(web, "log_max_size", "10M", "default", NULL, 0);
	expect_row(web, "directory", "", "default", NULL, 0);
	expect_row(web, "restart", "always", "default", NULL, 0);
	expect_row(db, "command", "/bin/true", "file", inc_path, 3);
	expect_row(db, "restart_delay", "1500ms", "file", inc_path, 4);
	expect_row(db, "autostart", "no", "file", inc_path, 5);
	expect_row(db, "log_keep", "9", "vigil", main_path, 4);
	expect_row(db, "environment", "", "default", NULL, 0);
	json_decref(web);
	json_decref(db);
	config_free(conf);
}

Test(show, environment_values_hidden_without_secrets, .fini = cleanup)
{
	struct config *conf = load_pair("[service:web]\ncommand = /bin/true\n"
	    "environment = TOKEN=s3cret MODE=prod\n", "");
	json_t *rows = config_show_json(service(conf, "web"), false);
	const json_t *r = row(rows, "environment");
	char *dump = json_dumps(rows, 0);

	cr_expect_str_eq(json_string_value(json_object_get(r, PROTO_K_VALUE)),
	    "TOKEN=" PROTO_HIDDEN_VALUE " MODE=" PROTO_HIDDEN_VALUE);
	cr_expect(json_is_true(json_object_get(r, PROTO_K_HIDDEN)));
	cr_assert_not_null(dump);
	cr_expect_null(strstr(dump, "s3cret"), "a secret is in the rows: %s", dump);
	free(dump);
	json_decref(rows);
	config_free(conf);
}

/* Each word, quoted, splits back into itself. */
Test(show, quoted_words_read_back)
{
	static const char *const words[] = {
		"plain", "A=1", "", "two words", "it's", "'", "a\"b", "back\\slash",
		"$HOME", "tab\there", "x;y", NULL
	};

	for (size_t i = 0; words[i] != NULL; i++) {
		char *q = config_show_quote(words[i]);
		const char *err;
		size_t n;
		char **w;

		cr_assert_not_null(q);
		w = words_split(q, &n, &err);
		cr_assert_not_null(w, "%s: %s", q, err);
		cr_expect_eq(n, 1, "'%s' quoted as %s is %zu words", words[i], q, n);
		if (n == 1)
			cr_expect_str_eq(w[0], words[i], "quoted as %s", q);
		words_free(w);
		free(q);
	}
}
