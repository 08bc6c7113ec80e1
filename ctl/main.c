/*
 * main.c: vigilctl's command line. Options may stand anywhere until "--";
 * the first operand names a verb in commands.c's table, which does the
 * rest. Also the socket's default, which must match vigild's.
 */
#include "config.h"
#include "vigilctl.h"

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "proto.h"

static int
set_timeout(struct ctl_options *o, const char *value, char *err, size_t errlen)
{
	if (duration_parse(value, &o->timeout_ms) == -1 || o->timeout_ms <= 0) {
		snprintf(err, errlen, "--timeout: expected a duration above 0 like "
		    "500ms, 10s or 5m, found '%s'", value);
		return -1;
	}
	return 0;
}

static int
set_socket(struct ctl_options *o, const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0') {
		snprintf(err, errlen, "--socket: expected a path, found ''");
		return -1;
	}
	o->socket = value;
	return 0;
}

static int
set_lines(struct ctl_options *o, const char *value, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	o->lines = strtol(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 ||
	    o->lines > PROTO_LOG_MAX_LINES) {
		snprintf(err, errlen, "-n: expected a number of lines from 0 to %d, found '%s'",
		    PROTO_LOG_MAX_LINES, value);
		return -1;
	}
	return 0;
}

static int
set_since(struct ctl_options *o, const char *value, char *err, size_t errlen)
{
	if (duration_parse(value, &o->since_ms) == -1) {
		snprintf(err, errlen, "--since: expected a duration like 30s, 5m or 2h, "
		    "found '%s'", value);
		return -1;
	}
	return 0;
}

static int
set_delay(struct ctl_options *o, const char *value, char *err, size_t errlen)
{
	if (duration_parse(value, &o->delay_ms) == -1 || o->delay_ms < CTL_TOP_DELAY_MIN_MS) {
		snprintf(err, errlen, "-d: expected seconds between refreshes, at least 0.1, "
		    "like 2, 0.5 or 500ms, found '%s'", value);
		return -1;
	}
	return 0;
}

static int
set_wait_for(struct ctl_options *o, const char *value, char *err, size_t errlen)
{
	static const char *const targets[] = { "running", "ready", "stopped", "exited" };

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		if (strcmp(value, targets[i]) == 0) {
			o->wait_for = targets[i];
			return 0;
		}
	}
	snprintf(err, errlen, "--for: expected running, ready, stopped or exited, "
	    "found '%s'", value);
	return -1;
}

static int
set_format(struct ctl_options *o, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "openmetrics") != 0 && strcmp(value, "prometheus") != 0) {
		snprintf(err, errlen, "--format: expected openmetrics or prometheus, "
		    "found '%s'", value);
		return -1;
	}
	o->format = value;
	return 0;
}

static int
set_log_format(struct ctl_options *o, const char *value, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum ctl_log_format format;
	} formats[] = {
		{ "short", CTL_LOG_SHORT },
		{ "short-iso", CTL_LOG_SHORT_ISO },
		{ "raw", CTL_LOG_RAW },
		{ "json", CTL_LOG_JSON },
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (strcmp(value, formats[i].name) == 0) {
			o->log_format = formats[i].format;
			return 0;
		}
	}
	snprintf(err, errlen, "-o: expected short, short-iso, raw or json, found '%s'", value);
	return -1;
}

static bool
name_is(const char *arg, size_t nlen, const char *name)
{
	return strlen(name) == nlen && strncmp(arg, name, nlen) == 0;
}

/* --name or --name=value; *i moves past a value taken from the next word. */
static int
long_option(char **argv, int *i, struct ctl_options *o, char *err, size_t errlen)
{
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
	size_t nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	const char *value = eq != NULL ? eq + 1 : NULL;
	bool *flag;

	if (name_is(arg, nlen, "socket") || name_is(arg, nlen, "timeout") ||
	    name_is(arg, nlen, "since") || name_is(arg, nlen, "for") ||
	    name_is(arg, nlen, "format") || name_is(arg, nlen, "delay") ||
	    name_is(arg, nlen, "output")) {
		if (value == NULL && (value = argv[++*i]) == NULL) {
			snprintf(err, errlen, "option '--%.*s' needs a value",
			    (int)nlen, arg);
			return -1;
		}
		if (name_is(arg, nlen, "since"))
			return set_since(o, value, err, errlen);
		if (name_is(arg, nlen, "for"))
			return set_wait_for(o, value, err, errlen);
		if (name_is(arg, nlen, "format"))
			return set_format(o, value, err, errlen);
		if (name_is(arg, nlen, "delay"))
			return set_delay(o, value, err, errlen);
		if (name_is(arg, nlen, "output"))
			return set_log_format(o, value, err, errlen);
		return arg[0] == 's' ? set_socket(o, value, err, errlen) :
		    set_timeout(o, value, err, errlen);
	}
	if (name_is(arg, nlen, "service-prefix") || name_is(arg, nlen, "no-service-prefix")) {
		if (value != NULL) {
			snprintf(err, errlen, "option '--%.*s' takes no value", (int)nlen, arg);
			return -1;
		}
		o->service_prefix = arg[0] != 'n';	/* the last one said wins */
		return 0;
	}
	if (name_is(arg, nlen, "json"))
		flag = &o->json;
	else if (name_is(arg, nlen, "no-wait"))
		flag = &o->no_wait;
	else if (name_is(arg, nlen, "wait"))
		flag = &o->wait;
	else if (name_is(arg, nlen, "help"))
		flag = &o->help;
	else if (name_is(arg, nlen, "version"))
		flag = &o->version;
	else if (name_is(arg, nlen, "follow"))
		flag = &o->follow;
	else if (name_is(arg, nlen, "dry-run"))
		flag = &o->dry_run;
	else if (name_is(arg, nlen, "main"))
		flag = &o->main_only;
	else if (name_is(arg, nlen, "batch"))
		flag = &o->batch;
	else
		flag = NULL;
	if (flag == NULL) {
		snprintf(err, errlen, "unknown option '--%.*s'", (int)nlen, arg);
		return -1;
	}
	if (value != NULL) {
		snprintf(err, errlen, "option '--%.*s' takes no value", (int)nlen, arg);
		return -1;
	}
	*flag = true;
	return 0;
}

/* -j, -h, -f, -b, -s PATH, -sPATH, -n N, -nN, -d S, -o FORMAT, and clusters like -js PATH. */
static int
short_options(char **argv, int *i, struct ctl_options *o, char *err, size_t errlen)
{
	const char *value;

	for (const char *p = argv[*i] + 1; *p != '\0'; p++) {
		switch (*p) {
		case 'j':
			o->json = true;
			break;
		case 'h':
			o->help = true;
			break;
		case 'f':
			o->follow = true;
			break;
		case 'b':
			o->batch = true;
			break;
		case 's':
		case 'n':
		case 'd':
		case 'o':
			if (p[1] == '\0' && argv[*i + 1] == NULL) {
				snprintf(err, errlen, "option '-%c' needs a value", *p);
				return -1;
			}
			value = p[1] != '\0' ? p + 1 : argv[++*i];
			if (*p == 'o')
				return set_log_format(o, value, err, errlen);
			return *p == 's' ? set_socket(o, value, err, errlen) :
			    *p == 'd' ? set_delay(o, value, err, errlen) :
			    set_lines(o, value, err, errlen);
		default:
			snprintf(err, errlen, "unknown option '-%c'", *p);
			return -1;
		}
	}
	return 0;
}

int
ctl_parse_options(int argc, char **argv, struct ctl_options *o, char *err,
    size_t errlen)
{
	bool operands_only = false;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = CTL_TIMEOUT_DEFAULT_MS;
	o->lines = -1;
	o->since_ms = -1;
	o->delay_ms = -1;
	o->service_prefix = -1;
	if ((o->args = calloc((size_t)argc + 1, sizeof(*o->args))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (operands_only || a[0] != '-' || a[1] == '\0') {
			o->args[o->nargs++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			operands_only = true;
			continue;
		}
		if ((a[1] == '-' ? long_option(argv, &i, o, err, errlen) :
		    short_options(argv, &i, o, err, errlen)) == -1) {
			free(o->args);
			o->args = NULL;
			return -1;
		}
	}
	return 0;
}

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	ctl_usage(stderr, false, ctl_verbs);
	return CTL_EXIT_USAGE;
}

/* The verb's operands are its usage minus its name: "NAME...", "SIGNAL NAME...". */
static int
check_operands(const struct ctl_verb *v, int nops, char **ops)
{
	const char *want = v->usage + strlen(v->name);

	while (*want == ' ')
		want++;
	if (nops < v->min_args) {
		warnx("%s: expected %s", v->name, want);
		fprintf(stderr, "usage: vigilctl [OPTION...] %s\n", v->usage);
		return CTL_EXIT_USAGE;
	}
	if (v->max_args >= 0 && nops > v->max_args) {
		if (v->max_args == 0)
			warnx("%s: takes no arguments, found '%s'", v->name, ops[0]);
		else
			warnx("%s: too many arguments, from '%s' on", v->name,
			    ops[v->max_args]);
		fprintf(stderr, "usage: vigilctl [OPTION...] %s\n", v->usage);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/*
 * log's -o and --json are one choice: --json alone means -o json, and a
 * name prefix is a thing of the short formats only.
 */
static int
settle_log_format(struct ctl_options *o)
{
	if (o->json && o->log_format != CTL_LOG_DEFAULT && o->log_format != CTL_LOG_JSON)
		return usage_error("log: --json is -o json, which contradicts the -o given");
	if (o->json || o->log_format == CTL_LOG_JSON) {
		o->json = true;		/* LINE objects as they came: the --json code path */
		o->log_format = CTL_LOG_JSON;
	} else if (o->log_format == CTL_LOG_DEFAULT) {
		o->log_format = CTL_LOG_SHORT;
	}
	if (o->service_prefix != -1 && o->log_format != CTL_LOG_SHORT &&
	    o->log_format != CTL_LOG_SHORT_ISO)
		return usage_error("log: --service-prefix and --no-service-prefix belong to "
		    "-o short and short-iso");
	return CTL_EXIT_OK;
}

/* --socket, else VIGIL_SOCKET, else the default for who we are. */
static const char *
resolve_socket(const struct ctl_options *o, char *buf, size_t len)
{
	const char *env = getenv("VIGIL_SOCKET"), *xdg;
	char why[PATH_MAX + 128];

	if (o->socket != NULL)
		return o->socket;
	if (env != NULL && env[0] != '\0')
		return env;
	xdg = getenv("XDG_RUNTIME_DIR");
	ctl_default_socket(geteuid(), xdg, buf, len);
	if (geteuid() != 0 && (xdg == NULL || xdg[0] != '/') &&
	    ctl_fallback_dir_check(buf, geteuid(), why, sizeof(why)) == -1) {
		warnx("refusing the default socket %s: %s; remove the folder, or name a "
		    "socket with --socket", buf, why);
		return NULL;
	}
	return buf;
}

/* Everything after option parsing; the caller owns o->args. */
static int
ctl_run(struct ctl_options *o)
{
	const struct ctl_verb *v;
	char sock[PATH_MAX];
	int rc;

	if (o->help) {
		ctl_usage(stdout, true, ctl_verbs);
		return CTL_EXIT_OK;
	}
	if (o->version) {
		printf("vigilctl %s (protocol %d)\n", VIGIL_VERSION, PROTO_VERSION);
		return CTL_EXIT_OK;
	}
	if (o->nargs == 0)
		return usage_error("expected a command");
	if ((v = ctl_verb_find(o->args[0])) == NULL)
		return usage_error("unknown command '%s'", o->args[0]);
	if ((rc = check_operands(v, o->nargs - 1, o->args + 1)) != CTL_EXIT_OK)
		return rc;
	if ((o->follow || o->lines >= 0 || o->since_ms >= 0 || o->log_format != CTL_LOG_DEFAULT ||
	    o->service_prefix != -1) && strcmp(v->name, "log") != 0)
		return usage_error("%s: -n, -f, --since, -o and --service-prefix belong to log",
		    v->name);
	if ((rc = settle_log_format(o)) != CTL_EXIT_OK)
		return rc;
	if (o->wait_for != NULL && strcmp(v->name, "wait") != 0)
		return usage_error("%s: --for belongs to wait", v->name);
	if (o->wait && o->no_wait)
		return usage_error("%s: --wait and --no-wait contradict each other", v->name);
	if (o->dry_run && strcmp(v->name, "reload") != 0)
		return usage_error("%s: --dry-run belongs to reload", v->name);
	if (o->main_only && strcmp(v->name, "signal") != 0)
		return usage_error("%s: --main belongs to signal", v->name);
	if (o->format != NULL && strcmp(v->name, "metrics") != 0)
		return usage_error("%s: --format belongs to metrics", v->name);
	if ((o->batch || o->delay_ms >= 0) && strcmp(v->name, "top") != 0)
		return usage_error("%s: -b and -d belong to top", v->name);
	if (o->json && strcmp(v->name, "top") == 0)
		return usage_error("top: draws a table; --json has no place in it (status --json "
		    "and events --json do)");
	if ((o->socket = resolve_socket(o, sock, sizeof(sock))) == NULL)
		return CTL_EXIT_UNREACHABLE;
	o->tty = isatty(STDOUT_FILENO);
	o->colour = output_use_colour(o->tty, getenv("NO_COLOR"));
	return v->run(o, o->nargs, o->args);
}

/*
 * A one-shot request parses one reply and exits: jansson's many small
 * allocations then come from an arena freed at exit, instead of malloc
 * and free for each of the ~15 000 values of a thousand-service status.
 * Not for log --follow, events or top, which parse lines for as long as they run.
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t		 used, cap;
	max_align_t	 data[];
};

static struct arena_chunk *arena;

static void *
arena_alloc(size_t n)
{
	size_t need = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct arena_chunk *c = arena;

	if (c == NULL || c->cap - c->used < need) {
		size_t cap = need > (1u << 20) ? need : (1u << 20);
		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->next = arena;
		c->used = 0;
		c->cap = cap;
		arena = c;
	}
	c->used += need;
	return (char *)c->data + c->used - need;
}

static void
arena_free(void *p)
{
	(void)p;	/* everything goes at exit */
}

static void
arena_release(void)
{
	while (arena != NULL) {
		struct arena_chunk *next = arena->next;
		free(arena);
		arena = next;
	}
}

static bool
is_one_shot(const struct ctl_options *o)
{
	if (o->nargs == 0 || strcmp(o->args[0], "log") == 0 ||
	    strcmp(o->args[0], "events") == 0 || strcmp(o->args[0], "top") == 0)
		return false;
	return true;
}

int
main(int argc, char **argv)
{
	struct ctl_options o;
	char errbuf[512];
	int rc;

	if (ctl_parse_options(argc, argv, &o, errbuf, sizeof(errbuf)) == -1)
		return usage_error("%s", errbuf);
	if (is_one_shot(&o))
		json_set_alloc_funcs(arena_alloc, arena_free);
	rc = ctl_run(&o);
	free(o.args);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_FAILED;
	}
	arena_release();
	return rc;
}
