/*
 * commands.c: the verb table of vigilctl and one small handler per verb.
 * A handler builds the request, lets request() carry it to vigild, and
 * turns the reply into output and an exit status. Rendering is output.c's.
 */
#include "config.h"
#include "vigilctl.h"

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "proto.h"
#include "signame.h"
#include "utf8.h"

static int	verb_status(const struct ctl_options *, int, char **);
static int	verb_names(const struct ctl_options *, int, char **);
static int	verb_check(const struct ctl_options *, int, char **);
static int	verb_action(const struct ctl_options *, int, char **);
static int	verb_signal(const struct ctl_options *, int, char **);
static int	verb_shutdown(const struct ctl_options *, int, char **);
static int	verb_hello(const struct ctl_options *, int, char **);
static int	verb_help(const struct ctl_options *, int, char **);
static int	verb_log(const struct ctl_options *, int, char **);
static int	verb_log_reopen(const struct ctl_options *, int, char **);
static int	verb_wait(const struct ctl_options *, int, char **);
static int	verb_events(const struct ctl_options *, int, char **);
static int	verb_reload(const struct ctl_options *, int, char **);
static int	verb_daemon_reexec(const struct ctl_options *, int, char **);
static int	verb_show(const struct ctl_options *, int, char **);
static int	verb_metrics(const struct ctl_options *, int, char **);

const struct ctl_verb ctl_verbs[] = {
	{ "status", "status [NAME...]", "state of all or the named services",
	    0, -1, verb_status },
	{ "start", "start NAME...", "start services and wait until they are ready",
	    1, -1, verb_action },
	{ "stop", "stop NAME...", "stop services and wait until they are gone",
	    1, -1, verb_action },
	{ "restart", "restart NAME...", "stop, then start services, and wait until they are ready",
	    1, -1, verb_action },
	{ "wait", "wait NAME...", "wait until services are ready (--for: running, stopped, exited)",
	    1, -1, verb_wait },
	{ "events", "events [NAME...]", "the state of services, then each change, until interrupted",
	    0, -1, verb_events },
	{ "top", "top", "a live table of the services, their CPU and restarts (-d S, -b)",
	    0, 0, verb_top },
	{ "signal", "signal SIGNAL NAME...", "send a signal to every process of each service",
	    2, -1, verb_signal },
	{ "shutdown", "shutdown", "stop every service and wait for vigild to exit",
	    0, 0, verb_shutdown },
	{ "log", "log [NAME...]", "the last lines of output (-n, --since); -f: then follow",
	    0, -1, verb_log },
	{ "log-reopen", "log-reopen", "make vigild reopen the log files (after logrotate)",
	    0, 0, verb_log_reopen },
	{ "reload", "reload", "re-read the configuration and apply it (--dry-run: only show how)",
	    0, 0, verb_reload },
	{ "daemon-reexec", "daemon-reexec",
	    "vigild executes its binary anew (live upgrade), services and output kept",
	    0, 0, verb_daemon_reexec },
	{ "show", "show NAME...",
	    "the running definition of services: every key, its value and where it came from",
	    1, -1, verb_show },
	{ "metrics", "metrics", "the services and vigild as OpenMetrics text (--format prometheus: "
	    "Prometheus 0.0.4)", 0, 0, verb_metrics },
	{ "names", "names", "the configured service names, one per line",
	    0, 0, verb_names },
	{ "check", "check [NAME...]", "exit 0 if every autostart (or named) service is up and ready",
	    0, -1, verb_check },
	{ "import-supervisord", "import-supervisord FILE",
	    "a supervisord config as a vigil config, on stdout", 1, 1,
	    verb_import_supervisord },
	{ "hello", "hello", "vigild's version and protocol", 0, 0, verb_hello },
	{ "help", "help", "this help, and the commands vigild knows", 0, 0, verb_help },
	{ NULL, NULL, NULL, 0, 0, NULL },
};

const struct ctl_verb *
ctl_verb_find(const char *name)
{
	for (const struct ctl_verb *v = ctl_verbs; v->name != NULL; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* A string field of a reply, or dflt when it is missing or not a string. */
static const char *
str_of(const json_t *obj, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : dflt;
}

static int
connect_daemon(const struct ctl_options *o, struct ctl_client *c, int64_t deadline)
{
	if (client_open(c, o->socket, deadline) == 0)
		return CTL_EXIT_OK;
	warnx("cannot connect to %s: %s%s", o->socket, strerror(errno),
	    errno == ENOENT || errno == ECONNREFUSED ? " (is vigild running?)" :
	    errno == EACCES ? " (vigild admits its own user, root and its socket_group)" : "");
	return CTL_EXIT_UNREACHABLE;
}

/*
 * What the server sent, as text for a terminal: whoever answers on the
 * socket (a fake vigild too) must not drive it with escape sequences.
 * The one buffer is reused by the next call.
 */
static const char *
safe_text(const char *s)
{
	static char out[UTF8_ESCAPED_MAX(1024)];
	size_t n = strlen(s);

	utf8_escape(s, n < 1024 ? n : 1024, out, sizeof(out));
	return out;
}

/* Why no reply came, as an exit status, with the message printed. */
static int
read_failure(int rc, int64_t timeout_ms)
{
	char d[32];

	if (rc == 0) {
		warnx("vigild closed the connection without replying");
		return CTL_EXIT_UNREACHABLE;
	}
	if (errno == ETIMEDOUT) {
		duration_format(timeout_ms, d, sizeof(d));
		warnx("no reply from vigild within %s", d);
		return CTL_EXIT_FAILED;
	}
	if (errno == EMSGSIZE) {
		warnx("reply from vigild longer than %d MiB", CTL_REPLY_MAX >> 20);
		return CTL_EXIT_FAILED;
	}
	warn("reading from vigild");
	return CTL_EXIT_UNREACHABLE;
}

/* Parse a reply line; NULL (and a message) unless it is an object with "ok". */
static json_t *
parse_reply(const char *line, size_t len)
{
	json_error_t jerr;
	/* a service may print NUL bytes: vigild sends them as \u0000 */
	json_t *r = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);

	if (r == NULL) {
		warnx("unreadable reply from vigild: %s", safe_text(jerr.text));
		return NULL;
	}
	if (!json_is_object(r) || !json_is_boolean(json_object_get(r, PROTO_K_OK))) {
		warnx("unexpected reply from vigild: no \"ok\" field");
		json_decref(r);
		return NULL;
	}
	return r;
}

/* The last line a client gets before vigild executes itself anew (daemon-reexec). */
static bool
is_reconnect(const json_t *reply)
{
	const char *code = json_string_value(json_object_get(reply, PROTO_K_ERROR));

	return json_is_false(json_object_get(reply, PROTO_K_OK)) && code != NULL &&
	    strcmp(code, PROTO_ERR_RECONNECT) == 0;
}

/* The listening socket stays open through the exec: connecting again is at once, but never a spin. */
static void
reconnect_pause(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * One request and its reply over c (connected here unless it already is).
 * With --json the reply line is printed as it came. Returns an exit status;
 * on CTL_EXIT_OK *reply is the parsed object, ok:true or not.
 */
static int
request(const struct ctl_options *o, struct ctl_client *c, char *const *words,
    size_t n, int64_t deadline, json_t **reply)
{
	char line[PROTO_MAX_LINE + 2], *raw;
	int64_t start = client_now_ms();
	size_t rawlen;
	int rc;

	*reply = NULL;
	if (client_format_request(words, n, line, sizeof(line)) == -1) {
		warnx("%s: %s", words[0], errno == EINVAL ? "an argument holds a newline" :
		    "request longer than the protocol's 4096 bytes");
		return CTL_EXIT_USAGE;
	}
	for (;;) {
		if (c->fd == -1 && (rc = connect_daemon(o, c, deadline)) != CTL_EXIT_OK)
			return rc;
		/* a refused client (too-many-clients) finds its reply waiting: read on */
		if (client_send(c, line, deadline) == -1 && errno != EPIPE && errno != ECONNRESET)
			return read_failure(-1, deadline - start);
		if ((rc = client_read_line(c, deadline, &raw, &rawlen)) != 1)
			return read_failure(rc, deadline - start);
		if ((*reply = parse_reply(raw, rawlen)) == NULL)
			return CTL_EXIT_FAILED;
		/* vigild is executing itself anew: the request was not run; again */
		if (!is_reconnect(*reply) || client_now_ms() >= deadline)
			break;
		json_decref(*reply);
		*reply = NULL;
		client_close(c);
		reconnect_pause();
	}
	if (o->json) {
		fwrite(raw, 1, rawlen, stdout);
		fputc('\n', stdout);
	}
	return CTL_EXIT_OK;
}

/*
 * "stop web: permission denied: needs operate access (you are uid 65534,
 * granted read)": what the user typed, and the level to ask an admin for.
 */
static void
permission_denied(const struct ctl_options *o, const json_t *reply)
{
	const json_t *uid = json_object_get(reply, PROTO_K_UID);
	const char *needed = str_of(reply, PROTO_K_NEEDED, "more");
	const char *granted = str_of(reply, PROTO_K_GRANTED, "less");
	char n[UTF8_ESCAPED_MAX(32)], g[UTF8_ESCAPED_MAX(32)];

	/* the server's words, escaped: a fake one must not drive the terminal */
	utf8_escape(needed, strnlen(needed, 32), n, sizeof(n));
	utf8_escape(granted, strnlen(granted, 32), g, sizeof(g));
	for (int i = 0; i < o->nargs; i++)
		fprintf(stderr, "%s%s", i == 0 ? "vigilctl: " : " ", o->args[i]);
	fprintf(stderr, "%spermission denied: needs %s access (you are uid %lld, granted %s)\n",
	    o->nargs > 0 ? ": " : "vigilctl: ", n,
	    json_is_integer(uid) ? (long long)json_integer_value(uid) : -1LL, g);
}

/* CTL_EXIT_OK for ok:true; else vigild's message on stderr and CTL_EXIT_FAILED. */
static int
reply_status(const struct ctl_options *o, const json_t *reply)
{
	const char *msg, *code;

	if (json_is_true(json_object_get(reply, PROTO_K_OK)))
		return CTL_EXIT_OK;
	msg = json_string_value(json_object_get(reply, PROTO_K_MESSAGE));
	code = json_string_value(json_object_get(reply, PROTO_K_ERROR));
	if (code != NULL && strcmp(code, PROTO_ERR_PERMISSION_DENIED) == 0)
		permission_denied(o, reply);
	else
		warnx("%s", safe_text(msg != NULL ? msg : code != NULL ? code :
		    "request refused"));
	return CTL_EXIT_FAILED;
}

/* One request on a fresh connection, closed afterwards; ok:false is an error. */
static int
call(const struct ctl_options *o, char *const *words, size_t n, int64_t timeout_ms,
    json_t **reply)
{
	struct ctl_client c = { .fd = -1 };
	int rc;

	rc = request(o, &c, words, n, client_now_ms() + timeout_ms, reply);
	client_close(&c);
	if (rc == CTL_EXIT_OK && (rc = reply_status(o, *reply)) != CTL_EXIT_OK) {
		json_decref(*reply);
		*reply = NULL;
	}
	return rc;
}

/* The table's columns: asking only for them halves what both sides parse. */
static const enum proto_status_field table_fields[] = {
	PROTO_F_NAME, PROTO_F_STATE, PROTO_F_PID, PROTO_F_PROCESSES, PROTO_F_CPU,
	PROTO_F_UPTIME, PROTO_F_RESTARTS, PROTO_F_LAST_EXIT, PROTO_F_REASON,
	PROTO_F_NEXT_START_IN, PROTO_F_READY, PROTO_F_STATUS_TEXT,
};

/* "--fields=name,state,..." for the table's columns (static storage) */
static char *
table_fields_option(void)
{
	static char opt[256];
	size_t n = (size_t)snprintf(opt, sizeof(opt), "%s=", PROTO_OPT_FIELDS);

	for (size_t i = 0; i < sizeof(table_fields) / sizeof(table_fields[0]); i++)
		n += (size_t)snprintf(opt + n, sizeof(opt) - n, "%s%s", i > 0 ? "," : "",
		    proto_status_fields[table_fields[i]]);
	return opt;
}

/*
 * The pid the kernel gives for the socket's peer against vigild's pid as
 * it sees it (hello, asked only when /proc does not already show the peer
 * in our namespace): when they say vigild is in another pid namespace (a
 * container, seen from the host), a note on stderr, before the table whose
 * pids are that namespace's. Connects c.
 */
static int
note_other_pid_namespace(const struct ctl_options *o, struct ctl_client *c,
    int64_t deadline)
{
	struct ctl_options quiet = *o;
	char *hello[] = { "hello" }, note[256];
	const json_t *pid;
	json_t *reply;
	int rc;

	if ((rc = connect_daemon(o, c, deadline)) != CTL_EXIT_OK)
		return rc;
	if (!pidns_may_differ(client_peer_pid(c)))
		return CTL_EXIT_OK;
	quiet.json = false;	/* stdout has the status reply alone, --json or not */
	if ((rc = request(&quiet, c, hello, 1, deadline, &reply)) != CTL_EXIT_OK)
		return rc;
	pid = json_object_get(reply, PROTO_K_PID);
	if (json_is_true(json_object_get(reply, PROTO_K_OK)) && json_is_integer(pid) &&
	    pidns_note(client_peer_pid(c), json_integer_value(pid), note, sizeof(note)))
		warnx("note: %s", note);
	json_decref(reply);
	return CTL_EXIT_OK;
}

static int
verb_status(const struct ctl_options *o, int argc, char **argv)
{
	static char end_of_options[] = PROTO_OPT_END;
	char **words = calloc((size_t)argc + 3, sizeof(*words));
	struct ctl_client c = { .fd = -1 };
	int64_t deadline = client_now_ms() + o->timeout_ms;
	size_t n = 0;
	json_t *reply;
	int rc;

	if (words == NULL) {
		warnx("out of memory");
		return CTL_EXIT_FAILED;
	}
	words[n++] = argv[0];
	if (!o->json) {
		words[n++] = table_fields_option();
		words[n++] = end_of_options;
	}
	for (int i = 1; i < argc; i++)
		words[n++] = argv[i];
	/* the same connection for both: the same vigild answers */
	if ((rc = note_other_pid_namespace(o, &c, deadline)) == CTL_EXIT_OK)
		rc = request(o, &c, words, n, deadline, &reply);
	client_close(&c);
	free(words);
	if (rc == CTL_EXIT_OK && (rc = reply_status(o, reply)) != CTL_EXIT_OK)
		json_decref(reply);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (!o->json && output_status_table(json_object_get(reply, PROTO_K_SERVICES),
	    stdout, o->colour) == -1) {
		warnx("out of memory");
		rc = CTL_EXIT_FAILED;
	}
	json_decref(reply);
	return rc;
}

/* show NAME...: the running definition, as config text or (--json) as vigild sent it */
static int
verb_show(const struct ctl_options *o, int argc, char **argv)
{
	static char end_of_options[] = PROTO_OPT_END;
	char **words = calloc((size_t)argc + 2, sizeof(*words));
	size_t n = 0;
	json_t *reply;
	int rc;

	if (words == NULL) {
		warnx("out of memory");
		return CTL_EXIT_FAILED;
	}
	words[n++] = argv[0];
	words[n++] = end_of_options;
	for (int i = 1; i < argc; i++)
		words[n++] = argv[i];
	rc = call(o, words, n, o->timeout_ms, &reply);
	free(words);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (!o->json)
		output_show(json_object_get(reply, PROTO_K_SERVICES), stdout);
	json_decref(reply);
	return rc;
}

/* For scripts and shell completion: no jq needed to list the services. */
static int
verb_names(const struct ctl_options *o, int argc, char **argv)
{
	struct ctl_options quiet = *o;
	char *words[] = { "status" };
	const json_t *svc;
	json_t *reply;
	size_t i;
	int rc;

	(void)argc, (void)argv;
	quiet.json = false;
	if ((rc = call(&quiet, words, 1, o->timeout_ms, &reply)) != CTL_EXIT_OK)
		return rc;
	json_array_foreach(json_object_get(reply, PROTO_K_SERVICES), i, svc)
		if (json_is_string(json_object_get(svc, PROTO_K_NAME)))
			printf("%s\n", str_of(svc, PROTO_K_NAME, ""));
	json_decref(reply);
	return CTL_EXIT_OK;
}

/*
 * Healthy: running and ready, or (a job) exited 0 with restart = never,
 * which is a one-shot that did what it was for.
 */
static bool
service_healthy(const json_t *svc)
{
	const char *state = str_of(svc, PROTO_K_STATE, "");
	const json_t *last = json_object_get(svc, PROTO_K_LAST_EXIT);

	if (strcmp(state, "running") == 0)
		return json_is_true(json_object_get(svc, PROTO_K_READY));
	return strcmp(state, "exited") == 0 &&
	    strcmp(str_of(svc, PROTO_K_RESTART, ""), "never") == 0 &&
	    json_integer_value(json_object_get(last, PROTO_K_CODE)) == 0 &&
	    json_is_integer(json_object_get(last, PROTO_K_CODE));
}

/*
 * A health check for a container (HEALTHCHECK CMD vigilctl check) or a
 * monitoring script: the named services, or every autostart one, must be
 * up and ready. Each that is not is named with its state and reason.
 */
static int
verb_check(const struct ctl_options *o, int argc, char **argv)
{
	static char status[] = "status";
	struct ctl_options quiet = *o;
	const json_t *svc;
	json_t *reply;
	size_t i, checked = 0, bad = 0;
	int rc;

	/* a status of the same names: vigild refuses unknown ones, as for status */
	quiet.json = false;
	argv[0] = status;
	if ((rc = call(&quiet, argv, (size_t)argc, o->timeout_ms, &reply)) != CTL_EXIT_OK)
		return rc;
	json_array_foreach(json_object_get(reply, PROTO_K_SERVICES), i, svc) {
		if (argc == 1 && !json_is_true(json_object_get(svc, PROTO_K_AUTOSTART)))
			continue;
		checked++;
		if (service_healthy(svc))
			continue;
		bad++;
		printf("%s: %s%s (%s)\n", str_of(svc, PROTO_K_NAME, "?"),
		    str_of(svc, PROTO_K_STATE, "?"),
		    strcmp(str_of(svc, PROTO_K_STATE, ""), "running") == 0 ? ", not ready" : "",
		    str_of(svc, PROTO_K_REASON, ""));
	}
	json_decref(reply);
	if (bad > 0)
		return CTL_EXIT_FAILED;
	printf("ok: %zu service%s up and ready\n", checked, checked == 1 ? "" : "s");
	return CTL_EXIT_OK;
}

/* "PREFIX a, b, c\n" for a non-empty array of names */
static void
print_names(const json_t *names, const char *prefix)
{
	const json_t *v;
	size_t i;

	json_array_foreach(names, i, v)
		printf("%s%s", i == 0 ? prefix : ", ", json_is_string(v) ? json_string_value(v) : "?");
	if (json_array_size(names) > 0)
		printf("\n");
}

/* A line per service of the reply, and the services a stop or restart took along. */
static void
print_services(const struct ctl_options *o, const json_t *reply)
{
	const json_t *svc;
	size_t i;

	if (o->json)
		return;
	json_array_foreach(json_object_get(reply, PROTO_K_SERVICES), i, svc)
		output_service_line(svc, stdout);
	print_names(json_object_get(reply, PROTO_K_ALSO_STOPPED), "also stopping: ");
	print_names(json_object_get(reply, PROTO_K_ALSO_RESTARTED), "also restarting: ");
}

/* start/stop/restart [--wait=MS] -- NAME...: vigild answers when it is over. */
static int
verb_action(const struct ctl_options *o, int argc, char **argv)
{
	char wait_opt[48], **words;
	int64_t timeout = o->timeout_ms;
	json_t *reply;
	size_t n = 0;
	int rc;

	if ((words = calloc((size_t)argc + 3, sizeof(*words))) == NULL)
		err(CTL_EXIT_FAILED, NULL);
	words[n++] = argv[0];
	if (!o->no_wait) {
		snprintf(wait_opt, sizeof(wait_opt), "%s=%lldms", PROTO_OPT_WAIT,
		    (long long)o->timeout_ms);
		words[n++] = wait_opt;
		timeout += CTL_WAIT_SLACK_MS;
	}
	words[n++] = PROTO_OPT_END;	/* a name is never taken for an option */
	for (int k = 1; k < argc; k++)
		words[n++] = argv[k];
	rc = call(o, words, n, timeout, &reply);
	free(words);
	if (rc != CTL_EXIT_OK)
		return rc;
	print_services(o, reply);
	json_decref(reply);
	return CTL_EXIT_OK;
}

/* wait [--for=TARGET] --timeout=MS -- NAME...: vigild answers when it is over. */
static int
verb_wait(const struct ctl_options *o, int argc, char **argv)
{
	char for_opt[32], timeout_opt[48], **words;
	json_t *reply;
	size_t n = 0;
	int rc;

	if ((words = calloc((size_t)argc + 4, sizeof(*words))) == NULL)
		err(CTL_EXIT_FAILED, NULL);
	words[n++] = argv[0];
	if (o->wait_for != NULL) {
		snprintf(for_opt, sizeof(for_opt), "%s=%s", PROTO_OPT_FOR, o->wait_for);
		words[n++] = for_opt;
	}
	snprintf(timeout_opt, sizeof(timeout_opt), "%s=%lldms", PROTO_OPT_TIMEOUT,
	    (long long)o->timeout_ms);
	words[n++] = timeout_opt;
	words[n++] = PROTO_OPT_END;
	for (int k = 1; k < argc; k++)
		words[n++] = argv[k];
	rc = call(o, words, n, o->timeout_ms + CTL_WAIT_SLACK_MS, &reply);
	free(words);
	if (rc != CTL_EXIT_OK)
		return rc;
	print_services(o, reply);
	json_decref(reply);
	return CTL_EXIT_OK;
}

static int
verb_signal(const struct ctl_options *o, int argc, char **argv)
{
	const json_t *d, *group, *pid, *procs;
	json_t *reply;
	char **words;
	size_t i, n = 0;
	int rc;

	/* vigild takes no "--" here: [--main] SIGNAL, then names */
	if ((words = calloc((size_t)argc + 1, sizeof(*words))) == NULL)
		err(CTL_EXIT_FAILED, "out of memory");
	words[n++] = argv[0];
	if (o->main_only)
		words[n++] = PROTO_OPT_MAIN;
	for (int k = 1; k < argc; k++)
		words[n++] = argv[k];
	rc = call(o, words, n, o->timeout_ms, &reply);
	free(words);
	if (rc != CTL_EXIT_OK)
		return rc;
	/* say what vigild says the signal reached, not what was asked */
	json_array_foreach(o->json ? NULL : json_object_get(reply, PROTO_K_DELIVERED), i, d) {
		group = json_object_get(d, PROTO_K_PROCESS_GROUP);
		pid = json_object_get(d, PROTO_K_PID);
		procs = json_object_get(d, PROTO_K_PROCESSES);
		printf("%s: sent %s to", str_of(d, PROTO_K_NAME, "?"), str_of(d, PROTO_K_SIGNAL, "?"));
		if (json_is_integer(procs) && !json_is_integer(pid)) {
			printf(" %lld process%s\n", (long long)json_integer_value(procs),
			    json_integer_value(procs) == 1 ? "" : "es");
			continue;
		}
		if (json_is_integer(group))
			printf(" process group %lld", (long long)json_integer_value(group));
		if (json_is_integer(group) && json_is_integer(pid))
			printf(" and");
		if (json_is_integer(pid))
			printf(" main process %lld", (long long)json_integer_value(pid));
		putchar('\n');
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}

/* vigild closes every connection as it exits: that is the sign it is done. */
static int
verb_shutdown(const struct ctl_options *o, int argc, char **argv)
{
	struct ctl_client c = { .fd = -1 };
	int64_t deadline = client_now_ms() + o->timeout_ms;
	const char *msg;
	json_t *reply;
	char d[32];
	int rc;

	(void)argc;
	rc = request(o, &c, argv, 1, deadline, &reply);
	if (rc == CTL_EXIT_OK && (rc = reply_status(o, reply)) == CTL_EXIT_OK) {
		msg = json_string_value(json_object_get(reply, PROTO_K_MESSAGE));
		if (!o->json && msg != NULL)
			printf("vigild: %s\n", msg);
		fflush(stdout);
		if (client_wait_close(&c, deadline) == -1) {
			duration_format(o->timeout_ms, d, sizeof(d));
			if (errno == ETIMEDOUT)
				warnx("vigild did not exit within %s", d);
			else
				warn("waiting for vigild to exit");
			rc = CTL_EXIT_FAILED;
		}
	}
	json_decref(reply);
	client_close(&c);
	return rc;
}

static int
verb_hello(const struct ctl_options *o, int argc, char **argv)
{
	const json_t *cmd;
	json_t *reply;
	size_t i;
	int rc;

	(void)argc;
	if ((rc = call(o, argv, 1, o->timeout_ms, &reply)) != CTL_EXIT_OK)
		return rc;
	if (!o->json) {
		printf("%s %s, protocol %lld, pid %lld\ncommands:",
		    str_of(reply, PROTO_K_PROGRAM, "vigild"), str_of(reply, PROTO_K_VERSION, "?"),
		    (long long)json_integer_value(json_object_get(reply, PROTO_K_PROTOCOL)),
		    (long long)json_integer_value(json_object_get(reply, PROTO_K_PID)));
		json_array_foreach(json_object_get(reply, PROTO_K_COMMANDS), i, cmd)
			printf(" %s", json_is_string(cmd) ? json_string_value(cmd) : "?");
		putchar('\n');
		/* what this user may do here (protocol 6) */
		if (json_is_string(json_object_get(reply, PROTO_K_ACCESS)))
			printf("access: %s\n", str_of(reply, PROTO_K_ACCESS, "?"));
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}

/* Each request's usage, then what it does below it: an 80-column terminal. */
static void
print_daemon_commands(const struct ctl_options *o, const json_t *cmds)
{
	const json_t *cmd;
	size_t i;

	printf("\nrequests vigild understands (at %s):\n", o->socket);
	json_array_foreach(cmds, i, cmd) {
		ctl_wrap(stdout, printf("  "), 6, str_of(cmd, PROTO_K_USAGE, "?"));
		ctl_wrap(stdout, printf("      "), 6, str_of(cmd, PROTO_K_SUMMARY, ""));
	}
}

/* Local usage always; the daemon's own list only when it answers. */
static int
verb_help(const struct ctl_options *o, int argc, char **argv)
{
	struct ctl_client c = { .fd = -1 };
	json_t *reply;
	int rc;

	(void)argc;
	if (o->json) {
		rc = call(o, argv, 1, o->timeout_ms, &reply);
		json_decref(reply);
		return rc;
	}
	ctl_usage(stdout, true, ctl_verbs);
	fflush(stdout);
	if (client_open(&c, o->socket, client_now_ms() + o->timeout_ms) == -1) {
		printf("\nvigild is not reachable at %s: %s\n", o->socket, strerror(errno));
		return CTL_EXIT_OK;
	}
	rc = request(o, &c, argv, 1, client_now_ms() + o->timeout_ms, &reply);
	client_close(&c);
	if (rc == CTL_EXIT_OK && json_is_true(json_object_get(reply, PROTO_K_OK)))
		print_daemon_commands(o, json_object_get(reply, PROTO_K_COMMANDS));
	json_decref(reply);
	return CTL_EXIT_OK;
}

/* log [-n N] [--since=MSms] [--follow] -- NAME...; the buffers hold the option words. */
static char **
log_words(const struct ctl_options *o, int argc, char **argv, char *nbuf, char *sbuf,
    size_t buflen, size_t *n)
{
	char **words = calloc((size_t)argc + 6, sizeof(*words));

	if (words == NULL)
		err(CTL_EXIT_FAILED, NULL);
	*n = 0;
	words[(*n)++] = argv[0];
	if (o->lines >= 0) {
		snprintf(nbuf, buflen, "%ld", o->lines);
		words[(*n)++] = PROTO_OPT_LINES;
		words[(*n)++] = nbuf;
	}
	if (o->since_ms >= 0) {
		snprintf(sbuf, buflen, "%s=%lldms", PROTO_OPT_SINCE, (long long)o->since_ms);
		words[(*n)++] = sbuf;
	}
	if (o->follow)
		words[(*n)++] = PROTO_OPT_FOLLOW;
	words[(*n)++] = PROTO_OPT_END;	/* a name is never taken for an option */
	for (int k = 1; k < argc; k++)
		words[(*n)++] = argv[k];
	return words;
}

/*
 * What vigild says no line of the stream will show (log: output that goes
 * to the journal), on stderr: stdout keeps only the stream, --json or not.
 */
static void
print_notes(const json_t *reply)
{
	const json_t *note;
	size_t i;

	json_array_foreach(json_object_get(reply, PROTO_K_NOTES), i, note)
		if (json_is_string(note))
			warnx("%s", json_string_value(note));
}

/*
 * The request that starts a stream (log, events): its ok:true reply is not
 * printed, even with --json, as the objects that follow are; an ok:false
 * one is, as for other verbs.
 */
static int
stream_request(const struct ctl_options *o, struct ctl_client *c, char **words, size_t n,
    int64_t deadline, json_t **reply)
{
	struct ctl_options quiet = *o;
	char *dump;
	int rc;

	quiet.json = false;	/* log prints LINE objects, not the reply that carries them */
	if ((rc = request(&quiet, c, words, n, deadline, reply)) != CTL_EXIT_OK)
		return rc;
	if (json_is_true(json_object_get(*reply, PROTO_K_OK))) {
		print_notes(*reply);
		return CTL_EXIT_OK;
	}
	if (o->json && (dump = json_dumps(*reply, PROTO_JSON_FLAGS)) != NULL) {
		puts(dump);
		free(dump);
	}
	rc = reply_status(o, *reply);
	json_decref(*reply);
	*reply = NULL;
	return rc;
}

static int
longest_name(char *const *names, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) > w)
			w = strlen(names[i]);
	return (int)w;
}

/* Without names, a follower pads to the longest configured name: ask vigild first. */
static int
all_names_width(const struct ctl_options *o, struct ctl_client *c, int64_t deadline,
    int *width)
{
	char fields[32], *words[] = { "status", fields };
	const json_t *svc;
	json_t *reply;
	size_t i;
	int rc;

	snprintf(fields, sizeof(fields), "%s=%s", PROTO_OPT_FIELDS, proto_status_fields[PROTO_F_NAME]);
	if ((rc = stream_request(o, c, words, 2, deadline, &reply)) != CTL_EXIT_OK)
		return rc;
	json_array_foreach(json_object_get(reply, PROTO_K_SERVICES), i, svc) {
		const char *name = str_of(svc, PROTO_K_NAME, "");
		if ((int)strlen(name) > *width)
			*width = (int)strlen(name);
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}

static void
stop_cb(int sig)
{
	(void)sig;
	client_stop = 1;
}

/* SIGINT and SIGTERM end a follow with status 0: they interrupt the wait, nothing more. */
static void
catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_cb;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: poll(2) must return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	client_catch_in_poll_only(SIGINT, SIGTERM);
}

typedef void (*render_fn)(const json_t *obj, const struct line_style *st, FILE *f);

static void
render_event(const json_t *obj, const struct line_style *st, FILE *f)
{
	output_event_line(obj, st->width, st->colour, f);
}

/*
 * The name before each line, unless exactly one service is named (twice
 * counts once): then every line is its own, and the name would only
 * repeat what the command line says. --service-prefix and
 * --no-service-prefix decide otherwise.
 */
static bool
log_wants_prefix(const struct ctl_options *o, int argc, char **argv)
{
	if (o->service_prefix != -1)
		return o->service_prefix == 1;
	if (argc < 2)
		return true;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], argv[1]) != 0)
			return true;
	return false;
}

/* follow_stream's: vigild said reconnect (daemon-reexec); ask for the stream again */
#define CTL_FOLLOW_AGAIN	(-2)

/*
 * The last line number printed of each service a `log --follow` showed:
 * after a daemon-reexec the stream is asked for again with the lines
 * before it, and what was already printed is skipped by number, so the
 * follower sees every line once.
 */
struct seen {
	char	**name;
	uint64_t *seq;
	size_t	  n;
};

/* Whether obj (a LINE object) was printed already; records it if not. */
static bool
seen_before(struct seen *sn, const json_t *obj)
{
	const char *name = json_string_value(json_object_get(obj, PROTO_K_SERVICE));
	const json_t *sj = json_object_get(obj, PROTO_K_SEQ);
	uint64_t seq;
	size_t i;
	void *p;

	if (sn == NULL || name == NULL || !json_is_integer(sj))
		return false;
	seq = (uint64_t)json_integer_value(sj);
	for (i = 0; i < sn->n; i++)
		if (strcmp(sn->name[i], name) == 0)
			break;
	if (i < sn->n) {
		if (seq <= sn->seq[i])
			return true;
		sn->seq[i] = seq;
		return false;
	}
	if ((p = realloc(sn->name, (sn->n + 1) * sizeof(*sn->name))) == NULL)
		return false;
	sn->name = p;
	if ((p = realloc(sn->seq, (sn->n + 1) * sizeof(*sn->seq))) == NULL)
		return false;
	sn->seq = p;
	if ((sn->name[sn->n] = strdup(name)) == NULL)
		return false;
	sn->seq[sn->n++] = seq;
	return false;
}

static void
seen_free(struct seen *sn)
{
	for (size_t i = 0; i < sn->n; i++)
		free(sn->name[i]);
	free(sn->name);
	free(sn->seq);
}

/* Print what vigild streams until it closes, or a signal says stop. */
static int
follow_stream(const struct ctl_options *o, struct ctl_client *c, render_fn render,
    const struct line_style *st, struct seen *sn)
{
	json_t *obj;
	char *raw;
	size_t len;
	int rc;

	for (;;) {
		/* flush only before waiting: a burst of lines is one write */
		if (!client_has_line(c) && fflush(stdout) == EOF)
			return CTL_EXIT_FAILED;
		rc = client_read_line(c, INT64_MAX, &raw, &len);
		if (rc == 0 || (rc == -1 && (client_stop || errno == ECONNRESET)))
			return CTL_EXIT_OK;	/* vigild exited, or we were told to stop */
		if (rc == -1) {
			warn("reading from vigild");
			return CTL_EXIT_UNREACHABLE;
		}
		if ((obj = json_loadb(raw, len, JSON_ALLOW_NUL, NULL)) == NULL)
			continue;
		if (seen_before(sn, obj)) {
			json_decref(obj);
			continue;
		}
		if (o->json && !is_reconnect(obj)) {
			fwrite(raw, 1, len, stdout);
			putchar('\n');
		}
		if (is_reconnect(obj)) {
			json_decref(obj);
			return CTL_FOLLOW_AGAIN;
		}
		/* the stream ends in an error: every service followed was removed */
		if (json_is_false(json_object_get(obj, PROTO_K_OK))) {
			rc = reply_status(o, obj);
			json_decref(obj);
			return rc;
		}
		if (!o->json)
			render(obj, st, stdout);
		json_decref(obj);
	}
}

/* After a daemon-reexec: the log stream again, from far enough back to join it (see struct seen). */
#define CTL_REJOIN_LINES	"10000"

static int
stream_follow(const struct ctl_options *o, char **words, size_t n, int argc, char **argv,
    render_fn render)
{
	struct ctl_client c = { .fd = -1 };
	int64_t deadline = client_now_ms() + o->timeout_ms;
	bool is_log = strcmp(words[0], "log") == 0;
	struct line_style st = {
		.format = o->log_format, .width = longest_name(argv + 1, (size_t)argc - 1),
		.colour = o->colour, .tty = o->tty,
		.prefix = !is_log || log_wants_prefix(o, argc, argv),
	};
	struct seen sn = { NULL, 0, 0 };
	char **again = NULL;
	size_t nagain = 0;
	json_t *reply = NULL;
	int rc;

	/* names are padded only where they are shown */
	if (argc == 1 && !o->json && st.prefix && st.format != CTL_LOG_RAW)
		rc = all_names_width(o, &c, deadline, &st.width);
	else
		rc = CTL_EXIT_OK;
	if (rc == CTL_EXIT_OK)
		rc = stream_request(o, &c, words, n, deadline, &reply);
	json_decref(reply);	/* {"ok":true,"follow":true} or "events": the lines follow */
	if (rc == CTL_EXIT_OK && is_log) {
		/* log -n 10000 --follow -- NAME...: the request that joins the stream again */
		if ((again = calloc((size_t)argc + 5, sizeof(*again))) == NULL)
			err(CTL_EXIT_FAILED, NULL);
		again[nagain++] = words[0];
		again[nagain++] = PROTO_OPT_LINES;
		again[nagain++] = CTL_REJOIN_LINES;
		again[nagain++] = PROTO_OPT_FOLLOW;
		again[nagain++] = PROTO_OPT_END;
		for (int k = 1; k < argc; k++)
			again[nagain++] = argv[k];
	}
	if (rc == CTL_EXIT_OK) {
		catch_stop_signals();
		/* through any number of re-executions, each its own deadline to come back */
		while ((rc = follow_stream(o, &c, render, &st, is_log ? &sn : NULL)) ==
		    CTL_FOLLOW_AGAIN) {
			client_close(&c);
			reconnect_pause();
			rc = stream_request(o, &c, is_log ? again : words, is_log ? nagain : n,
			    client_now_ms() + o->timeout_ms, &reply);
			json_decref(reply);
			if (rc != CTL_EXIT_OK)
				break;
		}
	}
	free(again);
	seen_free(&sn);
	client_close(&c);
	return rc;
}

static void
log_print(const struct ctl_options *o, const json_t *lines, int argc, char **argv)
{
	struct line_style st = {
		.format = o->log_format, .prefix = log_wants_prefix(o, argc, argv),
		.colour = o->colour, .tty = o->tty,
	};
	const json_t *line;
	size_t i;

	json_array_foreach(lines, i, line) {
		const char *name = str_of(line, PROTO_K_SERVICE, "");
		if ((int)strlen(name) > st.width)
			st.width = (int)strlen(name);
	}
	json_array_foreach(lines, i, line) {
		char *dump;
		if (!o->json) {
			output_log_line(line, &st, stdout);
		} else if ((dump = json_dumps(line, PROTO_LINE_JSON_FLAGS)) != NULL) {
			puts(dump);	/* as vigild wrote it: same flags, same order */
			free(dump);
		}
	}
}

static int
verb_log(const struct ctl_options *o, int argc, char **argv)
{
	struct ctl_client c = { .fd = -1 };
	char nbuf[48], sbuf[48], **words;
	json_t *reply;
	size_t n;
	int rc;

	words = log_words(o, argc, argv, nbuf, sbuf, sizeof(sbuf), &n);
	if (o->follow) {
		rc = stream_follow(o, words, n, argc, argv, output_log_line);
	} else {
		rc = stream_request(o, &c, words, n, client_now_ms() + o->timeout_ms, &reply);
		client_close(&c);
		if (rc == CTL_EXIT_OK)
			log_print(o, json_object_get(reply, PROTO_K_LINES), argc, argv);
		json_decref(reply);
	}
	free(words);
	return rc;
}

static int
verb_log_reopen(const struct ctl_options *o, int argc, char **argv)
{
	json_t *reply;
	int rc;

	(void)argc;
	if ((rc = call(o, argv, 1, o->timeout_ms, &reply)) == CTL_EXIT_OK && !o->json)
		printf("vigild: reopened the log files\n");
	json_decref(reply);
	return rc;
}

/* metrics: the text, as GET /metrics on metrics_listen would give it */
static int
verb_metrics(const struct ctl_options *o, int argc, char **argv)
{
	char opt[64], *words[2] = { argv[0], opt };
	const char *text;
	json_t *reply;
	int rc;

	(void)argc;
	snprintf(opt, sizeof(opt), "%s=%s", PROTO_OPT_FORMAT,
	    o->format != NULL ? o->format : "openmetrics");
	if ((rc = call(o, words, 2, o->timeout_ms, &reply)) != CTL_EXIT_OK)
		return rc;
	if (!o->json) {
		/* printed as it came: text for a scraper's parser, not a terminal */
		if ((text = json_string_value(json_object_get(reply, PROTO_K_TEXT))) == NULL) {
			warnx("unexpected reply from vigild: no \"%s\" field", PROTO_K_TEXT);
			rc = CTL_EXIT_FAILED;
		} else {
			fputs(text, stdout);
		}
	}
	json_decref(reply);
	return rc;
}

/* events [NAME...]: the current state, then every change, until vigild or a signal ends it */
static int
verb_events(const struct ctl_options *o, int argc, char **argv)
{
	char **words;
	size_t n = 0;
	int rc;

	if ((words = calloc((size_t)argc + 2, sizeof(*words))) == NULL)
		err(CTL_EXIT_FAILED, NULL);
	words[n++] = argv[0];
	words[n++] = PROTO_OPT_END;	/* a name is never taken for an option */
	for (int k = 1; k < argc; k++)
		words[n++] = argv[k];
	rc = stream_follow(o, words, n, argc, argv, render_event);
	free(words);
	return rc;
}

/* Every error of an invalid config, one per line as vigild found them, then the summary. */
static int
reload_refused(const struct ctl_options *o, const json_t *reply)
{
	const json_t *e;
	size_t i;

	fflush(stdout);
	json_array_foreach(json_object_get(reply, PROTO_K_ERRORS), i, e)
		if (json_is_string(e))
			fprintf(stderr, "%s\n", safe_text(json_string_value(e)));
	return reply_status(o, reply);
}

static int
verb_reload(const struct ctl_options *o, int argc, char **argv)
{
	struct ctl_client c = { .fd = -1 };
	char *words[3] = { argv[0] };
	const json_t *w;
	json_t *reply;
	size_t i, n = 1;
	int rc;

	(void)argc;
	if (o->dry_run)
		words[n++] = PROTO_OPT_DRY_RUN;
	if (o->no_wait)
		words[n++] = PROTO_OPT_NO_WAIT;
	rc = request(o, &c, words, n, client_now_ms() + o->timeout_ms, &reply);
	client_close(&c);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (!json_is_true(json_object_get(reply, PROTO_K_OK))) {
		rc = reload_refused(o, reply);
		json_decref(reply);
		return rc;
	}
	if (!o->json) {
		output_reload_plan(reply, stdout);
		if (json_is_true(json_object_get(reply, PROTO_K_DRY_RUN)))
			printf("dry run: nothing was changed\n");
	}
	fflush(stdout);
	json_array_foreach(json_object_get(reply, PROTO_K_WARNINGS), i, w)
		if (json_is_string(w))
			warnx("warning: %s", safe_text(json_string_value(w)));
	json_decref(reply);
	return CTL_EXIT_OK;
}

/*
 * daemon-reexec: vigild says yes (or why not), sends its clients away and
 * executes itself; done once a vigild answers hello with a newer
 * generation, failed if the old one answers with the reason its exec failed.
 */
static int
verb_daemon_reexec(const struct ctl_options *o, int argc, char **argv)
{
	struct ctl_options quiet = *o;
	struct ctl_client c = { .fd = -1 };
	int64_t deadline = client_now_ms() + o->timeout_ms;
	char *hello[] = { "hello" }, *raw;
	json_int_t gen;
	json_t *reply;
	size_t len;
	int rc;

	(void)argc;
	quiet.json = false;
	rc = request(&quiet, &c, argv, 1, deadline, &reply);
	if (rc == CTL_EXIT_OK && (rc = reply_status(o, reply)) == CTL_EXIT_OK) {
		gen = json_integer_value(json_object_get(reply, PROTO_K_GENERATION));
		/* its last line: reconnect, or the close */
		while (client_read_line(&c, deadline, &raw, &len) == 1)
			;
	}
	json_decref(reply);
	client_close(&c);
	if (rc != CTL_EXIT_OK)
		return rc;
	while (client_now_ms() < deadline) {
		const json_t *err;

		if ((rc = request(&quiet, &c, hello, 1, deadline, &reply)) != CTL_EXIT_OK)
			return rc;
		client_close(&c);
		err = json_object_get(reply, PROTO_K_REEXEC_ERROR);
		if (json_integer_value(json_object_get(reply, PROTO_K_GENERATION)) > gen) {
			if (o->json) {
				char *d = json_dumps(reply, PROTO_JSON_FLAGS);
				if (d != NULL)
					puts(d);
				free(d);
			} else {
				printf("vigild re-executed: pid %lld, generation %lld, version %s\n",
				    (long long)json_integer_value(json_object_get(reply, PROTO_K_PID)),
				    (long long)json_integer_value(json_object_get(reply, PROTO_K_GENERATION)),
				    safe_text(str_of(reply, PROTO_K_VERSION, "?")));
			}
			json_decref(reply);
			return CTL_EXIT_OK;
		}
		if (json_is_string(err)) {
			warnx("daemon-reexec: %s", safe_text(json_string_value(err)));
			json_decref(reply);
			return CTL_EXIT_FAILED;
		}
		json_decref(reply);
		reconnect_pause();
	}
	warnx("daemon-reexec: no new vigild answered in time");
	return CTL_EXIT_FAILED;
}
