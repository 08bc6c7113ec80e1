/* test_proto.c: request lines and reply objects of the control protocol. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

Test(proto, request_is_split_into_words)
{
	struct proto_request req;
	const char *err = NULL;

	cr_assert_eq(proto_parse_request("start --wait=5s -- web 'db x'", &req, &err), 0);
	cr_assert_eq(req.argc, 5);
	cr_expect_str_eq(req.argv[0], "start");
	cr_expect_str_eq(req.argv[1], "--wait=5s");
	cr_expect_str_eq(req.argv[4], "db x");
	proto_request_free(&req);
}

Test(proto, empty_and_badly_quoted_requests_are_refused)
{
	struct proto_request req;
	const char *err = NULL;

	cr_expect_eq(proto_parse_request("   ", &req, &err), -1);
	cr_expect_str_eq(err, "empty request");
	cr_expect_eq(proto_parse_request("status 'web", &req, &err), -1);
	cr_expect_str_eq(err, "unterminated single quote");
}

Test(proto, error_reply_is_one_line_of_json)
{
	size_t len = 0;
	char *line = proto_dump_line(proto_reply_error(PROTO_ERR_NO_SUCH_SERVICE,
	    "no such service: %s", "we\"b\n"), &len);
	json_t *back;

	cr_assert_not_null(line);
	cr_expect_eq(len, strlen(line));
	cr_expect_eq(line[len - 1], '\n');
	cr_expect_null(memchr(line, '\n', len - 1), "newline inside the reply: %s", line);
	back = json_loads(line, 0, NULL);
	cr_assert_not_null(back, "not JSON: %s", line);
	cr_expect(json_is_false(json_object_get(back, "ok")));
	cr_expect_str_eq(json_string_value(json_object_get(back, "error")), "no-such-service");
	cr_expect_str_eq(json_string_value(json_object_get(back, "message")),
	    "no such service: we\"b\n");
	json_decref(back);
	free(line);
}

Test(proto, command_table_names_every_v1_command)
{
	const char *want[] = { "hello", "help", "status", "start", "stop", "restart",
	    "signal", "shutdown" };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;
		for (const struct proto_command_info *c = proto_commands; c->name; c++)
			found |= strcmp(c->name, want[i]) == 0;
		cr_expect(found, "%s missing from proto_commands", want[i]);
	}
}

Test(proto, version_2_adds_log)
{
	const char *want[] = { "log", "log-reopen" };

	cr_expect_geq(PROTO_VERSION, 2);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;
		for (const struct proto_command_info *c = proto_commands; c->name; c++)
			found |= strcmp(c->name, want[i]) == 0;
		cr_expect(found, "%s missing from proto_commands", want[i]);
	}
}

Test(proto, version_3_adds_reload)
{
	bool found = false;

	cr_expect_geq(PROTO_VERSION, 3);
	for (const struct proto_command_info *c = proto_commands; c->name; c++)
		found |= strcmp(c->name, "reload") == 0;
	cr_expect(found, "reload missing from proto_commands");
	cr_expect_str_eq(PROTO_ERR_INVALID_CONFIG, "invalid-config");
	cr_expect_str_eq(PROTO_ERR_REMOVED, "removed");
}

/* The message of r, as it comes back from its serialised line. */
static char *
message_of(json_t *r)
{
	char *line = proto_dump_line(r, NULL), *msg;
	json_t *back;

	cr_assert_not_null(line, "the reply could not be built or serialised");
	back = json_loads(line, 0, NULL);
	cr_assert_not_null(back, "not JSON: %s", line);
	msg = strdup(json_string_value(json_object_get(back, "message")));
	json_decref(back);
	free(line);
	return msg;
}

Test(proto, error_messages_take_any_bytes)
{
	char *msg = message_of(proto_reply_error(PROTO_ERR_NO_SUCH_SERVICE,
	    "no such service: %s", "a\xff\xc3z"));

	cr_expect_str_eq(msg, "no such service: a\xef\xbf\xbd\xef\xbf\xbdz");
	free(msg);
}

Test(proto, long_messages_are_cut_between_characters_and_say_so)
{
	char name[1 + 2 * 600 + 1], *msg;
	size_t len;

	name[0] = 'x';
	for (int i = 0; i < 600; i++)
		memcpy(name + 1 + 2 * i, "\xc3\xa9", 2);
	name[sizeof(name) - 1] = '\0';
	for (int shift = 0; shift < 2; shift++) {	/* the cut falls on either byte of é */
		msg = message_of(proto_reply_error(PROTO_ERR_NO_SUCH_SERVICE, "%s%s",
		    shift ? "!" : "", name));
		len = strlen(msg);
		cr_expect_leq(len, PROTO_MESSAGE_MAX);
		cr_expect_geq(len, PROTO_MESSAGE_MAX - 4);
		cr_expect_str_eq(msg + len - 5, "\xc3\xa9...", "ends %s", msg + len - 8);
		free(msg);
	}
}

Test(proto, strings_from_any_bytes)
{
	json_t *j = proto_stringn("ok\x00\xfe", 4);

	cr_assert_not_null(j);
	cr_expect_eq(json_string_length(j), 6, "NUL kept, 0xfe replaced");
	json_decref(j);
	j = proto_string(NULL);
	cr_expect(json_is_null(j));
	json_decref(j);
}

Test(proto, options_are_parsed_by_their_kind)
{
	static const struct proto_option opts[] = {
		{ PROTO_OPT_WAIT, PROTO_OPT_ALONE_OR_EQUALS }, { PROTO_OPT_LINES, PROTO_OPT_NEXT },
		{ PROTO_OPT_FOLLOW, PROTO_OPT_ALONE }, { PROTO_OPT_SINCE, PROTO_OPT_EQUALS },
		{ NULL, 0 },
	};
	char *ok[] = { "log", "--wait", "-n", "5", "--since=1m", "--", "--follow" };
	char *names[] = { "log", "--follow", "-web" };
	char *bad[][3] = {
		{ "log", "--follow=yes", "follow takes no value" },
		{ "log", "--since", "needs a value" },
		{ "log", "-n", "needs a value" },
		{ "log", "--frob", "unknown option '--frob'" },
	};
	const char *v[4];
	char err[128];
	size_t first;

	cr_assert_eq(proto_parse_options(ok, 7, opts, v, &first, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(v[0], "", "--wait alone");
	cr_expect_str_eq(v[1], "5");
	cr_expect_null(v[2], "--follow comes after --: a name");
	cr_expect_str_eq(v[3], "1m");
	cr_expect_eq(first, 6);
	cr_assert_eq(proto_parse_options(names, 3, opts, v, &first, err, sizeof(err)), 0);
	cr_expect_eq(first, 2, "a name may begin with one '-'");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(proto_parse_options(bad[i], 2, opts, v, &first, err, sizeof(err)), -1,
		    "%s %s", bad[i][0], bad[i][1]);
		cr_expect(strstr(err, bad[i][2]) != NULL, "%s: %s", bad[i][1], err);
	}
}

Test(proto, status_fields_are_named_once)
{
	for (int i = 0; i < PROTO_NFIELDS; i++)
		cr_expect(proto_status_fields[i] != NULL && proto_status_fields[i][0] != '\0',
		    "field %d has no name", i);
	cr_expect_str_eq(proto_status_fields[PROTO_F_NAME], PROTO_K_NAME);
	cr_expect_str_eq(proto_status_fields[PROTO_F_ERRNO], "errno");
}

/*
 * doc/protocol.md is the protocol's reference for other clients: it must
 * describe the version hello returns, have that version's row, and give
 * every command a section. Clients read it, not proto.h.
 */
static char *read_protocol_doc(void)
{
	const char *top = getenv("VIGIL_SRCDIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/doc/protocol.md", top ? top : ".");
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s", path);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A "### " heading that names NAME in backquotes, alone or with its options. */
static bool has_section(const char *doc, const char *name)
{
	size_t len = strlen(name);

	for (const char *h = strstr(doc, "\n### "); h; h = strstr(h + 1, "\n### ")) {
		const char *end = strchr(h + 1, '\n');
		for (const char *q = strchr(h + 1, '`'); q && (!end || q < end); q = strchr(q + 1, '`'))
			if (strncmp(q + 1, name, len) == 0 && (q[len + 1] == '`' || q[len + 1] == ' '))
				return true;
	}
	return false;
}

Test(proto, protocol_document_matches_the_code)
{
	const char *doc = read_protocol_doc();
	char want[128];

	snprintf(want, sizeof(want), "describes protocol version **%d**", PROTO_VERSION);
	cr_expect_not_null(strstr(doc, want), "doc/protocol.md lacks \"%s\"", want);
	snprintf(want, sizeof(want), "\"protocol\":%d,", PROTO_VERSION);
	cr_expect_not_null(strstr(doc, want), "doc/protocol.md's hello example lacks %s", want);
	snprintf(want, sizeof(want), "\n| %d | ", PROTO_VERSION);
	cr_expect_not_null(strstr(doc, want), "doc/protocol.md's version table has no row %d", PROTO_VERSION);
	for (const struct proto_command_info *c = proto_commands; c->name; c++)
		cr_expect(has_section(doc, c->name), "doc/protocol.md has no section for %s", c->name);
}
