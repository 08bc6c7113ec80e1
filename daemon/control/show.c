/*
 * show.c: the show verb's reply. Each service's rows come from the
 * definition it runs with (config_show.c), so after a reload they are the
 * loaded file's, whatever the file on disk says since; this file adds what
 * only the running service knows: the variables its environment files
 * gave at its last start. Who may see values of the environment is the
 * caller's decision (commands.c).
 */
#include "config.h"
#include "show.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* Its environment files' variables at the last start, as NAME=VALUE (or NAME=<hidden>). */
static json_t *
loaded_json(char *const *words, bool secrets)
{
	json_t *arr = json_array();
	char *hidden;

	for (size_t i = 0; arr != NULL && words[i] != NULL; i++) {
		json_t *v;

		if (secrets)
			v = proto_string(words[i]);
		else if (asprintf(&hidden, "%.*s=" PROTO_HIDDEN_VALUE,
		    (int)strcspn(words[i], "="), words[i]) == -1)
			v = NULL;
		else {
			v = proto_string(hidden);
			free(hidden);
		}
		if (json_array_append_new(arr, v) == -1) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

/* environment_file's row gains "loaded" once the service has started with its files. */
static int
add_loaded(json_t *rows, const struct service *s, bool secrets)
{
	size_t i;
	json_t *row;

	if (s->file_env == NULL)
		return 0;
	json_array_foreach(rows, i, row) {
		const char *key = json_string_value(json_object_get(row, PROTO_K_KEY));

		if (key == NULL || strcmp(key, "environment_file") != 0)
			continue;
		if (json_object_set_new(row, PROTO_K_LOADED, loaded_json(s->file_env, secrets)) == -1)
			return -1;
		if (!secrets && s->file_env[0] != NULL &&
		    json_object_set_new(row, PROTO_K_HIDDEN, json_true()) == -1)
			return -1;
	}
	return 0;
}

static json_t *
service_json(const struct service *s, bool secrets)
{
	json_t *rows = config_show_json(s->conf, secrets);

	if (rows == NULL || add_loaded(rows, s, secrets) == -1) {
		json_decref(rows);
		return NULL;
	}
	return json_pack("{s:o, s:o}", PROTO_K_NAME, proto_string(s->conf->name),
	    PROTO_K_KEYS, rows);
}

json_t *
show_reply(struct service **svcs, size_t n, bool secrets)
{
	json_t *r = proto_reply_ok(), *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, service_json(svcs[i], secrets)) == -1) {
			json_decref(arr);
			arr = NULL;
		}
	if (r == NULL || arr == NULL || json_object_set_new(r, PROTO_K_SERVICES, arr) == -1) {
		json_decref(r);
		return NULL;
	}
	return r;
}
