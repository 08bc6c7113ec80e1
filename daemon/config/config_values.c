/*
 * config_values.c: the known keys and what each accepts, the "did you mean"
 * suggestion, and the steps that need several keys at once (ids; the
 * environment and exec paths are config_env.c's). Files, sections and line
 * numbers belong to config.c.
 */
#include "config.h"
#include "config_values.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "duration.h"
#include "signame.h"
#include "words.h"

#define SOCKET_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define RETRIES_MAX	1000000

#define EXPECT_DURATION	"a duration like 250ms, 10s, 5m or 1h"

void
values_quote(char *buf, size_t len, const char *value)
{
	size_t n = strlen(value);

	if (n > VALUE_SHOWN_MAX)
		snprintf(buf, len, "'%.*s...'", VALUE_SHOWN_MAX - 3, value);
	else
		snprintf(buf, len, "'%s'", value);
}

/* Names are ASCII whatever the locale says. */
static bool
ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Fill e with "expected WHAT, found 'VALUE'"; returns -1 for the caller. */
static int
expected(struct value_error *e, const char *value, const char *what)
{
	char shown[VALUE_SHOWN_MAX + 8];

	values_quote(shown, sizeof(shown), value);
	snprintf(e->msg, sizeof(e->msg), "expected %s, found %s", what, shown);
	return -1;
}

static int
out_of_memory(struct value_error *e)
{
	snprintf(e->msg, sizeof(e->msg), "out of memory");
	return -1;
}

/* A words_split failure: say what is wrong with the quoting, then the value. */
static int
words_error(struct value_error *e, const char *value, const char *what,
    const char *err)
{
	char shown[VALUE_SHOWN_MAX + 8];

	if (strcmp(err, "out of memory") == 0)
		return out_of_memory(e);
	values_quote(shown, sizeof(shown), value);
	snprintf(e->msg, sizeof(e->msg), "expected %s, found %s in %s", what,
	    err, shown);
	e->quoting = true;
	return -1;
}

static int
store_string(char **field, const char *value, struct value_error *e)
{
	if ((*field = strdup(value)) == NULL)
		return out_of_memory(e);
	return 0;
}

/* Digits only, so "-1", " 5" and "0x10" are refused rather than wrapped. */
static int
parse_unsigned(const char *s, int base, unsigned long max, unsigned long *out)
{
	const char *digits = base == 8 ? "01234567" : "0123456789";
	unsigned long v;
	char *end;

	if (*s == '\0' || strspn(s, digits) != strlen(s) || strlen(s) > 12)
		return -1;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A key's field in the struct config or struct service_conf being filled. */
#define FIELD(obj, off, type)	((type *)(void *)((char *)(obj) + (off)))

static int
value_bool(void *obj, size_t off, const char *v, struct value_error *e)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*FIELD(obj, off, bool) = strcasecmp(v, yes[i]) == 0;
			return 0;
		}
	}
	return expected(e, v, "yes or no (or true/false, on/off, 1/0)");
}

/* A boolean that may also be left out (-1): log_console's default depends on the pid. */
static int
value_log_console(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct { bool on; } b;

	if (value_bool(&b, 0, v, e) == -1)
		return -1;
	*FIELD(obj, off, int) = b.on;
	return 0;
}

static int
value_duration(void *obj, size_t off, const char *v, struct value_error *e)
{
	if (duration_parse(v, FIELD(obj, off, int64_t)) == -1)
		return expected(e, v, EXPECT_DURATION);
	return 0;
}

static int
value_socket(void *obj, size_t off, const char *v, struct value_error *e)
{
	char what[80];

	snprintf(what, sizeof(what), "an absolute path of at most %zu bytes",
	    SOCKET_PATH_MAX);
	if (v[0] != '/' || strlen(v) > SOCKET_PATH_MAX)
		return expected(e, v, what);
	return store_string(FIELD(obj, off, char *), v, e);
}

/* metrics_listen: off, or where control/http.c serves GET /metrics */
static int
value_metrics_listen(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct config_listen l;
	char **field = FIELD(obj, off, char *);

	if (strcmp(v, "off") == 0) {
		free(*field);
		*field = NULL;
		return 0;
	}
	if (config_listen_parse(v, &l) == -1)
		return expected(e, v, "off, IPV4:PORT like 127.0.0.1:9753 or [IPV6]:PORT "
		    "like [::1]:9753");
	free(*field);
	return store_string(field, v, e);
}

/* Kept as written: config.c resolves it against the main file's folder. */
static int
value_include(void *obj, size_t off, const char *v, struct value_error *e)
{
	if (*v == '\0')
		return expected(e, v, "a file name pattern like services.d/*.conf");
	return store_string(FIELD(obj, off, char *), v, e);
}

/* auto | off | an absolute path: where the services' cgroups go (core/cgroup.c) */
static int
value_cgroup(void *obj, size_t off, const char *v, struct value_error *e)
{
	char **field = FIELD(obj, off, char *);

	if (strcmp(v, "auto") == 0) {
		free(*field);
		*field = NULL;
		return 0;
	}
	if (strcmp(v, "off") != 0 && (v[0] != '/' || strlen(v) >= 4096))
		return expected(e, v, "auto, off or the absolute path of a cgroup v2 folder");
	free(*field);
	return store_string(field, v, e);
}

static int
value_log_level(void *obj, size_t off, const char *v, struct value_error *e)
{
	if (log_level_parse(v, FIELD(obj, off, enum log_level)) == -1)
		return expected(e, v, "error, warn, notice, info or debug");
	return 0;
}

/* Sizes as people write them: 65536, 64K, 10M, 1G (powers of 1024). */
static int
parse_size(const char *v, unsigned long long *out, struct value_error *e)
{
	unsigned long long n;
	char *end;
	int shift = 0;

	if (!isdigit((unsigned char)*v))
		return expected(e, v, "a size like 65536, 64K, 10M or 1G");
	errno = 0;
	n = strtoull(v, &end, 10);
	if (strcmp(end, "K") == 0 || strcmp(end, "k") == 0)
		shift = 10;
	else if (strcmp(end, "M") == 0)
		shift = 20;
	else if (strcmp(end, "G") == 0)
		shift = 30;
	else if (*end != '\0')
		return expected(e, v, "a size like 65536, 64K, 10M or 1G");
	if (errno != 0 || n > (1ULL << 40) >> shift)
		return expected(e, v, "a size of at most 1024G");
	*out = n << shift;
	return 0;
}

int
values_size(const char *v, unsigned long long *out)
{
	struct value_error e;

	return parse_size(v, out, &e);
}

static int
value_size(void *obj, size_t off, const char *v, struct value_error *e)
{
	unsigned long long n;

	if (parse_size(v, &n, e) == -1)
		return -1;
	*FIELD(obj, off, int64_t) = (int64_t)n;
	return 0;
}

/* One side of a limit: infinity, a size (64K) or, for limit_cpu, a duration in seconds. */
static int
parse_limit_part(const char *v, bool cpu, rlim_t *out, struct value_error *e)
{
	unsigned long long n;
	int64_t ms;

	if (strcmp(v, "infinity") == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	if (!cpu) {
		if (parse_size(v, &n, e) == -1)
			return expected(e, v, "N, SOFT:HARD or infinity, N a count or size like "
			    "4096, 64K or 1G");
		*out = (rlim_t)n;
		return 0;
	}
	if (duration_parse(v, &ms) == -1 || ms <= 0)
		return expected(e, v, "seconds of CPU time (30, 10m, 1h), SOFT:HARD or infinity");
	*out = (rlim_t)((ms + 999) / 1000);
	return 0;
}

/* limit_*: N (soft and hard), SOFT:HARD, either side infinity; soft at most hard. */
static int
value_limit(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct service_rlimit *l = FIELD(obj, off, struct service_rlimit);
	bool cpu = l->resource == RLIMIT_CPU;
	const char *colon = strchr(v, ':');
	char soft[64];
	rlim_t lo, hi;

	if (colon == NULL) {
		if (parse_limit_part(v, cpu, &lo, e) == -1)
			return -1;
		hi = lo;
	} else {
		if ((size_t)(colon - v) >= sizeof(soft))
			return expected(e, v, "SOFT:HARD");
		memcpy(soft, v, (size_t)(colon - v));
		soft[colon - v] = '\0';
		if (parse_limit_part(soft, cpu, &lo, e) == -1 ||
		    parse_limit_part(colon + 1, cpu, &hi, e) == -1)
			return -1;
		if (lo > hi)
			return expected(e, v, "a soft limit no higher than the hard one");
	}
	l->rl.rlim_cur = lo;
	l->rl.rlim_max = hi;
	l->set = 1;
	return 0;
}

/* A whole number in [lo, hi], signed. */
static int
value_int_range(const char *v, int lo, int hi, int *out)
{
	char *end;
	long n;

	if (*v == '\0' || (!isdigit((unsigned char)*v) && *v != '-'))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		return -1;
	*out = (int)n;
	return 0;
}

static int
value_nice(void *obj, size_t off, const char *v, struct value_error *e)
{
	if (value_int_range(v, -20, 19, FIELD(obj, off, int)) == -1)
		return expected(e, v, "a niceness from -20 (most favoured) to 19");
	return 0;
}

static int
value_oom_score_adj(void *obj, size_t off, const char *v, struct value_error *e)
{
	if (value_int_range(v, -1000, 1000, FIELD(obj, off, int)) == -1)
		return expected(e, v, "a number from -1000 (never killed for memory) to 1000");
	return 0;
}

static int
value_log_keep(void *obj, size_t off, const char *v, struct value_error *e)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end != '\0' || errno != 0 || n > 1000)
		return expected(e, v, "a number of files from 0 to 1000");
	*FIELD(obj, off, unsigned) = (unsigned)n;
	return 0;
}

/*
 * "journal" needs libsystemd: a vigild built without it refuses the value
 * and says why, with what it does accept (without).
 */
static int
journal_support(struct value_error *e, const char *v, const char *without)
{
#ifdef HAVE_LIBSYSTEMD
	(void)e, (void)v, (void)without;
	return 0;
#else
	char shown[VALUE_SHOWN_MAX + 8];

	values_quote(shown, sizeof(shown), v);
	snprintf(e->msg, sizeof(e->msg), "expected %s, found %s: this vigild was built "
	    "without journal support (libsystemd)", without, shown);
	return -1;
#endif
}

static int
value_log_target(void *obj, size_t off, const char *v, struct value_error *e)
{
	if (strcmp(v, "stderr") == 0)
		*FIELD(obj, off, enum log_target) = LOG_TARGET_STDERR;
	else if (strcmp(v, "syslog") == 0)
		*FIELD(obj, off, enum log_target) = LOG_TARGET_SYSLOG;
	else if (strcmp(v, "journal") == 0) {
		if (journal_support(e, v, "stderr or syslog") == -1)
			return -1;
		*FIELD(obj, off, enum log_target) = LOG_TARGET_JOURNAL;
	} else
		return expected(e, v, "stderr, syslog or journal");
	return 0;
}

static int
value_log_dir(void *obj, size_t off, const char *v, struct value_error *e)
{
	char **field = FIELD(obj, off, char *);

	if (v[0] != '/')
		return expected(e, v, "an absolute path");
	free(*field);
	if ((*field = strdup(v)) == NULL)
		return out_of_memory(e);
	return 0;
}

/* log | null | inherit | journal | file:PATH, and for stderr also "stdout" */
static int
value_output(struct service_conf *sc, bool is_stderr, const char *v, struct value_error *e)
{
	enum output_target *to = is_stderr ? &sc->stderr_to : &sc->stdout_to;
	char **path = is_stderr ? &sc->stderr_path : &sc->stdout_path;

	if (strcmp(v, "log") == 0)
		*to = OUTPUT_TO_LOG;
	else if (strcmp(v, "null") == 0)
		*to = OUTPUT_TO_NULL;
	else if (strcmp(v, "inherit") == 0)
		*to = OUTPUT_TO_INHERIT;
	else if (is_stderr && strcmp(v, "stdout") == 0)
		*to = OUTPUT_TO_STDOUT;
	else if (strcmp(v, "journal") == 0) {
		if (journal_support(e, v, is_stderr ?
		    "log, null, inherit, stdout or file:/absolute/path" :
		    "log, null, inherit or file:/absolute/path") == -1)
			return -1;
		*to = OUTPUT_TO_JOURNAL;
	}
	else if (strncmp(v, "file:", 5) == 0 && v[5] == '/') {
		free(*path);
		if ((*path = strdup(v + 5)) == NULL)
			return out_of_memory(e);
		*to = OUTPUT_TO_FILE;
	} else
		return expected(e, v, is_stderr ?
		    "log, null, inherit, stdout, journal or file:/absolute/path" :
		    "log, null, inherit, journal or file:/absolute/path");
	return 0;
}

static int
value_stdout(void *obj, size_t off, const char *v, struct value_error *e)
{
	(void)off;
	return value_output(obj, false, v, e);
}

static int
value_stderr(void *obj, size_t off, const char *v, struct value_error *e)
{
	(void)off;
	return value_output(obj, true, v, e);
}

static int
value_command(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct service_conf *sc = obj;
	const char *err;
	char **w;
	size_t n;

	(void)off;
	if ((w = words_split(v, &n, &err)) == NULL)
		return words_error(e, v, "a command line", err);
	if (n == 0 || w[0][0] == '\0') {
		words_free(w);
		return expected(e, v, "a command line");
	}
	sc->argv = w;
	return store_string(&sc->command, v, e);
}

static bool
env_word_ok(const char *w)
{
	size_t klen = strcspn(w, "=");

	if (w[klen] != '=' || klen == 0 || (w[0] >= '0' && w[0] <= '9'))
		return false;
	for (size_t i = 0; i < klen; i++)
		if (!ascii_alnum(w[i]) && w[i] != '_')
			return false;
	return true;
}

static int
value_environment(void *obj, size_t off, const char *v, struct value_error *e)
{
	const char *err;
	char **w;

	if ((w = words_split(v, NULL, &err)) == NULL)
		return words_error(e, v, "KEY=VALUE words", err);
	for (size_t i = 0; w[i] != NULL; i++) {
		if (!env_word_ok(w[i])) {
			expected(e, w[i], "KEY=VALUE words (KEY of A-Z a-z 0-9 _, "
			    "not starting with a digit)");
			words_free(w);
			return -1;
		}
	}
	*FIELD(obj, off, char **) = w;
	return 0;
}

/* environment_file: absolute paths, each may start with '-' (a missing file is fine) */
static int
value_environment_file(void *obj, size_t off, const char *v, struct value_error *e)
{
	const char *err;
	char **w;

	if ((w = words_split(v, NULL, &err)) == NULL)
		return words_error(e, v, "absolute paths", err);
	for (size_t i = 0; w[i] != NULL; i++) {
		if (w[i][w[i][0] == '-'] != '/') {
			expected(e, w[i], "an absolute path, or -PATH for a file that may "
			    "be missing");
			words_free(w);
			return -1;
		}
	}
	if (w[0] == NULL) {
		words_free(w);
		return expected(e, v, "absolute paths");
	}
	*FIELD(obj, off, char **) = w;
	return 0;
}

static int
value_directory(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct stat st;
	int err = 0;
	size_t len;

	if (v[0] != '/')
		return expected(e, v, "an absolute path");
	/* with a chroot (parsed first), the folder is inside it */
	if (stat(values_sandbox_path(obj, v), &st) == -1)
		err = errno;
	else if (!S_ISDIR(st.st_mode))
		err = ENOTDIR;
	if (err != 0) {
		/* the OS reason tells a typo from a permission problem */
		expected(e, v, ((struct service_conf *)obj)->chroot != NULL ?
		    "an existing directory in the chroot" : "an existing directory");
		len = strlen(e->msg);
		snprintf(e->msg + len, sizeof(e->msg) - len, " (%s)", strerror(err));
		return -1;
	}
	return store_string(FIELD(obj, off, char *), v, e);
}

/* A numeric id: digits only, and never (uid_t)-1, which means "no change". */
static int
parse_id(const char *v, unsigned long *id)
{
	return parse_unsigned(v, 10, 0xfffffffeUL, id);
}

/* A user or a group by name or numeric id, as every key that names one takes it. */
static struct passwd *
user_named(const char *v)
{
	unsigned long id;

	return parse_id(v, &id) == 0 ? getpwuid((uid_t)id) : *v != '\0' ? getpwnam(v) : NULL;
}

static struct group *
group_named(const char *v)
{
	unsigned long id;

	return parse_id(v, &id) == 0 ? getgrgid((gid_t)id) : *v != '\0' ? getgrnam(v) : NULL;
}

static int
value_user(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct service_conf *sc = obj;
	struct passwd *pw;

	(void)off;
	if ((pw = user_named(v)) == NULL)
		return expected(e, v, "an existing user name or uid");
	sc->uid = pw->pw_uid;
	if (sc->group == NULL)	/* a group given earlier wins over the primary one */
		sc->gid = pw->pw_gid;
	return store_string(&sc->user, v, e);
}

static int
value_group(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct service_conf *sc = obj;
	struct group *gr;

	(void)off;
	if ((gr = group_named(v)) == NULL)
		return expected(e, v, "an existing group name or gid");
	sc->gid = gr->gr_gid;
	return store_string(&sc->group, v, e);
}

/* socket_group: the socket becomes 0660 with this group (control/access.c) */
static int
value_socket_group(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct config *conf = obj;
	struct group *gr;

	(void)off;
	if ((gr = group_named(v)) == NULL)
		return expected(e, v, "an existing group name or gid");
	conf->socket_gid = gr->gr_gid;
	return store_string(&conf->socket_group, v, e);
}

/* One word of an access list into l: a user (name or uid) or an @group (name or gid). */
static int
access_word(struct access_list *l, const char *w, struct value_error *e)
{
	bool is_group = w[0] == '@';
	const char *name = is_group ? w + 1 : w;
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	void *grown;
	size_t len;

	if (is_group)
		gr = group_named(name);
	else
		pw = user_named(name);
	if (pw == NULL && gr == NULL) {
		expected(e, w, "existing user names and @group names");
		len = strlen(e->msg);
		snprintf(e->msg + len, sizeof(e->msg) - len, " (no such %s)",
		    is_group ? "group" : "user");
		return -1;
	}
	if (is_group) {
		if ((grown = reallocarray(l->gids, l->ngids + 1, sizeof(gid_t))) == NULL)
			return out_of_memory(e);
		l->gids = grown;
		l->gids[l->ngids++] = gr->gr_gid;
	} else {
		if ((grown = reallocarray(l->uids, l->nuids + 1, sizeof(uid_t))) == NULL)
			return out_of_memory(e);
		l->uids = grown;
		l->uids[l->nuids++] = pw->pw_uid;
	}
	return 0;
}

/* read_access, operate_access: whitespace-separated users and @groups */
static int
value_access(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct access_list *l = FIELD(obj, off, struct access_list);
	const char *err;
	char **w;
	int rc = 0;

	if ((w = words_split(v, NULL, &err)) == NULL)
		return words_error(e, v, "user names and @group names", err);
	for (size_t i = 0; w[i] != NULL && rc == 0; i++)
		rc = access_word(l, w[i], e);
	words_free(w);
	if (rc == 0)
		rc = store_string(&l->text, v, e);
	return rc;
}

void
values_access_free(struct access_list *l)
{
	free(l->text);
	free(l->uids);
	free(l->gids);
	memset(l, 0, sizeof(*l));
}

static int
value_umask(void *obj, size_t off, const char *v, struct value_error *e)
{
	unsigned long mask;

	if (parse_unsigned(v, 8, 0777, &mask) == -1)
		return expected(e, v, "an octal mode like 022 or 0027");
	*FIELD(obj, off, int) = (int)mask;
	return 0;
}

static int
value_restart(void *obj, size_t off, const char *v, struct value_error *e)
{
	enum restart_policy *policy = FIELD(obj, off, enum restart_policy);

	if (strcmp(v, "always") == 0)
		*policy = RESTART_ALWAYS;
	else if (strcmp(v, "on-failure") == 0)
		*policy = RESTART_ON_FAILURE;
	else if (strcmp(v, "never") == 0)
		*policy = RESTART_NEVER;
	else
		return expected(e, v, "always, on-failure or never");
	return 0;
}

static int
value_kill_mode(void *obj, size_t off, const char *v, struct value_error *e)
{
	enum kill_mode *mode = FIELD(obj, off, enum kill_mode);

	if (strcmp(v, "all") == 0)
		*mode = KILL_MODE_ALL;
	else if (strcmp(v, "main") == 0)
		*mode = KILL_MODE_MAIN;
	else
		return expected(e, v, "all or main");
	return 0;
}

static int
value_start_retries(void *obj, size_t off, const char *v, struct value_error *e)
{
	unsigned long n;

	if (parse_unsigned(v, 10, RETRIES_MAX, &n) == -1)
		return expected(e, v, "a whole number from 0 (retry forever) to 1000000");
	*FIELD(obj, off, unsigned) = (unsigned)n;
	return 0;
}

static int
value_signal(void *obj, size_t off, const char *v, struct value_error *e)
{
	int sig;

	if ((sig = signame_parse(v)) == -1)
		return expected(e, v, "a signal name like TERM, INT or HUP");
	*FIELD(obj, off, int) = sig;
	return 0;
}

/* Names only: whether each names a configured service is known once all are read. */
static int
value_depends(void *obj, size_t off, const char *v, struct value_error *e)
{
	const char *err;
	char **w;

	if ((w = words_split(v, NULL, &err)) == NULL)
		return words_error(e, v, "service names", err);
	for (size_t i = 0; w[i] != NULL; i++) {
		if (values_service_name(w[i], e) == -1) {
			words_free(w);
			return -1;
		}
	}
	*FIELD(obj, off, char **) = w;
	return 0;
}

static int
value_ready(void *obj, size_t off, const char *v, struct value_error *e)
{
	char what[320];

	(void)off;
	if (values_ready(obj, v, what, sizeof(what)) == -1)
		return expected(e, v, what);
	return 0;
}

static int
value_capabilities(void *obj, size_t off, const char *v, struct value_error *e)
{
	char bad[VALUE_SHOWN_MAX + 1];

	switch (values_capabilities(FIELD(obj, off, uint64_t), v, bad, sizeof(bad))) {
	case -1:
		return expected(e, bad, "capability names like CAP_NET_BIND_SERVICE "
		    "(see capabilities(7)), or none");
	case -2:
		return expected(e, v, "capability names, or none alone");
	}
	return 0;
}

static int
value_cglimit(void *obj, size_t off, const char *v, struct value_error *e)
{
	size_t which = (off - offsetof(struct service_conf, cglimits)) / sizeof(char *);
	char what[160];

	if (values_cglimit(obj, (enum service_cglimit)which, v, what, sizeof(what)) == -1)
		return expected(e, v, what);
	return 0;
}

#define VIGIL	VALUE_SECTION_VIGIL
#define SERVICE	VALUE_SECTION_SERVICE
#define V(f)	offsetof(struct config, f)
#define S(f)	offsetof(struct service_conf, f)

/*
 * Every key, in the order the documentation and the shipped example show
 * them. parse gets the struct being filled and where the key's field is.
 */
static const struct value_key {
	const char *name;
	enum value_section section;
	int	(*parse)(void *obj, size_t off, const char *v, struct value_error *e);
	size_t	off;
} keys[] = {
	{ "socket",		VIGIL,	 value_socket,		V(socket_path) },
	{ "include",		VIGIL,	 value_include,		V(include) },
	{ "log_level",		VIGIL,	 value_log_level,	V(log_level) },
	{ "log_target",		VIGIL,	 value_log_target,	V(log_target) },
	{ "log_dir",		VIGIL,	 value_log_dir,		V(log_dir) },
	{ "log_max_size",	VIGIL,	 value_size,		V(log_max_size) },
	{ "log_keep",		VIGIL,	 value_log_keep,	V(log_keep) },
	{ "log_timestamps",	VIGIL,	 value_bool,		V(log_timestamps) },
	{ "log_buffer",		VIGIL,	 value_size,		V(log_buffer) },
	{ "log_console",	VIGIL,	 value_log_console,	V(log_console) },
	{ "socket_group",	VIGIL,	 value_socket_group,	V(socket_group) },
	{ "read_access",	VIGIL,	 value_access,		V(read_access) },
	{ "operate_access",	VIGIL,	 value_access,		V(operate_access) },
	{ "client_timeout",	VIGIL,	 value_duration,	V(client_timeout_ms) },
	{ "shutdown_timeout",	VIGIL,	 value_duration,	V(shutdown_timeout_ms) },
	{ "cgroup",		VIGIL,	 value_cgroup,		V(cgroup) },
	{ "metrics_listen",	VIGIL,	 value_metrics_listen,	V(metrics_listen) },
	{ "command",		SERVICE, value_command,		S(command) },
	{ "environment",	SERVICE, value_environment,	S(environment) },
	{ "clear_environment",	SERVICE, value_bool,		S(clear_environment) },
	{ "directory",		SERVICE, value_directory,	S(directory) },
	{ "user",		SERVICE, value_user,		S(user) },
	{ "group",		SERVICE, value_group,		S(group) },
	{ "umask",		SERVICE, value_umask,		S(umask) },
	{ "limit_nofile",	SERVICE, value_limit,		S(limits[LIMIT_NOFILE]) },
	{ "limit_nproc",	SERVICE, value_limit,		S(limits[LIMIT_NPROC]) },
	{ "limit_core",		SERVICE, value_limit,		S(limits[LIMIT_CORE]) },
	{ "limit_as",		SERVICE, value_limit,		S(limits[LIMIT_AS]) },
	{ "limit_fsize",	SERVICE, value_limit,		S(limits[LIMIT_FSIZE]) },
	{ "limit_memlock",	SERVICE, value_limit,		S(limits[LIMIT_MEMLOCK]) },
	{ "limit_stack",	SERVICE, value_limit,		S(limits[LIMIT_STACK]) },
	{ "limit_cpu",		SERVICE, value_limit,		S(limits[LIMIT_CPU]) },
	{ "nice",		SERVICE, value_nice,		S(nice) },
	{ "oom_score_adj",	SERVICE, value_oom_score_adj,	S(oom_score_adj) },
	{ "no_new_privileges",	SERVICE, value_bool,		S(no_new_privileges) },
	{ "capabilities",	SERVICE, value_capabilities,	S(capabilities) },
	{ "syscall_filter",	SERVICE, values_syscall_filter,	S(syscall_filter) },
	{ "syscall_filter_action", SERVICE, values_syscall_filter_action,
	    S(syscall_filter_action) },
	{ "environment_file",	SERVICE, value_environment_file, S(environment_files) },
	{ "memory_max",		SERVICE, value_cglimit,		S(cglimits[CGLIMIT_MEMORY_MAX]) },
	{ "memory_high",	SERVICE, value_cglimit,		S(cglimits[CGLIMIT_MEMORY_HIGH]) },
	{ "pids_max",		SERVICE, value_cglimit,		S(cglimits[CGLIMIT_PIDS_MAX]) },
	{ "cpu_weight",		SERVICE, value_cglimit,		S(cglimits[CGLIMIT_CPU_WEIGHT]) },
	{ "cpu_max",		SERVICE, value_cglimit,		S(cglimits[CGLIMIT_CPU_MAX]) },
	{ "io_weight",		SERVICE, value_cglimit,		S(cglimits[CGLIMIT_IO_WEIGHT]) },
	{ "chroot",		SERVICE, values_chroot,		S(chroot) },
	{ "private_tmp",	SERVICE, value_bool,		S(private_tmp) },
	{ "private_network",	SERVICE, value_bool,		S(private_network) },
	{ "read_only_paths",	SERVICE, values_paths,		S(read_only_paths) },
	{ "inaccessible_paths",	SERVICE, values_paths,		S(inaccessible_paths) },
	{ "autostart",		SERVICE, value_bool,		S(autostart) },
	{ "essential",		SERVICE, value_bool,		S(essential) },
	{ "restart",		SERVICE, value_restart,		S(restart) },
	{ "restart_delay",	SERVICE, value_duration,	S(restart_delay_ms) },
	{ "restart_delay_max",	SERVICE, value_duration,	S(restart_delay_max_ms) },
	{ "start_secs",		SERVICE, value_duration,	S(start_secs_ms) },
	{ "start_retries",	SERVICE, value_start_retries,	S(start_retries) },
	{ "ready",		SERVICE, value_ready,		S(ready) },
	{ "ready_timeout",	SERVICE, value_duration,	S(ready_timeout_ms) },
	{ "watchdog",		SERVICE, value_duration,	S(watchdog_ms) },
	{ "requires",		SERVICE, value_depends,		S(requires_names) },
	{ "after",		SERVICE, value_depends,		S(after_names) },
	{ "stop_signal",	SERVICE, value_signal,		S(stop_signal) },
	{ "stop_timeout",	SERVICE, value_duration,	S(stop_timeout_ms) },
	{ "kill_mode",		SERVICE, value_kill_mode,	S(kill_mode) },
	{ "stdout",		SERVICE, value_stdout,		S(stdout_to) },
	{ "stderr",		SERVICE, value_stderr,		S(stderr_to) },
	{ "log_max_size",	SERVICE, value_size,		S(log_max_size) },
	{ "log_keep",		SERVICE, value_log_keep,	S(log_keep) },
	{ "log_timestamps",	SERVICE, value_bool,		S(log_timestamps) },
	{ "log_buffer",		SERVICE, value_size,		S(log_buffer) },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

const char *
values_key_name(enum value_section section, size_t i)
{
	for (size_t k = 0; k < NKEYS; k++)
		if (keys[k].section == section && i-- == 0)
			return keys[k].name;
	return NULL;
}

/* Levenshtein distance; key names are short, so one row on the stack. */
size_t
values_edit_distance(const char *a, const char *b)
{
	size_t row[32], la = strlen(a), lb = strlen(b);

	if (lb >= sizeof(row) / sizeof(row[0]))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], d = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < d)
				d = up + 1;
			if (row[j - 1] + 1 < d)
				d = row[j - 1] + 1;
			diag = up;
			row[j] = d;
		}
	}
	return row[lb];
}

static bool
is_prefix(const char *p, const char *s)
{
	return strncmp(p, s, strlen(p)) == 0;
}

/*
 * The known key a typo most likely meant: the closest one within two edits;
 * else the first one the name is the start of ("restart_del"); else the
 * longest one that is the start of the name ("restart_delay_maximum").
 */
static const char *
key_suggest(enum value_section section, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3, best_len = 0, d;

	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].section == section &&
		    (d = values_edit_distance(name, keys[i].name)) < best_d) {
			best = keys[i].name;
			best_d = d;
		}
	}
	for (size_t i = 0; best == NULL && strlen(name) >= 3 && i < NKEYS; i++)
		if (keys[i].section == section && is_prefix(name, keys[i].name))
			best = keys[i].name;
	for (size_t i = 0; best_d == 3 && i < NKEYS; i++) {
		if (keys[i].section == section && is_prefix(keys[i].name, name) &&
		    strlen(keys[i].name) > best_len) {
			best = keys[i].name;
			best_len = strlen(best);
		}
	}
	return best;
}

int
values_parse(enum value_section section, void *obj, const char *key,
    const char *value, struct value_error *e)
{
	const char *hint;

	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].section == section && strcmp(keys[i].name, key) == 0)
			return keys[i].parse(obj, keys[i].off, value, e);
	e->unknown = true;
	if ((hint = key_suggest(section, key)) != NULL)
		snprintf(e->msg, sizeof(e->msg), "unknown key '%s' (did you mean "
		    "'%s'?)", key, hint);
	else
		snprintf(e->msg, sizeof(e->msg), "unknown key '%s'", key);
	return -1;
}

/* A name people can type and vigilctl can print. */
int
values_service_name(const char *name, struct value_error *e)
{
	size_t n = strlen(name);
	char what[96];

	for (size_t i = 0; i < n; i++)
		if (!ascii_alnum(name[i]) && strchr("_.@-", name[i]) == NULL)
			n = 0;
	if (n >= 1 && n <= SERVICE_NAME_MAX)
		return 0;
	snprintf(what, sizeof(what), "a service name of 1 to %d characters from "
	    "A-Z a-z 0-9 _ . @ -", SERVICE_NAME_MAX);
	return expected(e, name, what);
}

/* A service with every default set, to be filled by values_parse. */
struct service_conf *
values_service_new(const char *name, const char *file, int line)
{
	struct service_conf *sc;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	sc->name = strdup(name);
	sc->file = strdup(file);
	sc->line = line;
	sc->umask = -1;
	for (int i = 0; i < SERVICE_NLIMITS; i++)
		sc->limits[i].resource = (int[]){ RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE,
		    RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_MEMLOCK, RLIMIT_STACK, RLIMIT_CPU }[i];
	sc->nice = SERVICE_NICE_UNSET;
	sc->oom_score_adj = SERVICE_OOM_UNSET;
	sc->capabilities = SERVICE_CAPS_UNSET;
	sc->autostart = true;
	sc->restart = RESTART_ALWAYS;
	sc->restart_delay_ms = 100;
	sc->restart_delay_max_ms = 30 * 1000;
	sc->start_secs_ms = 1000;
	sc->start_retries = 0;
	sc->stop_signal = SIGTERM;
	sc->stop_timeout_ms = 10 * 1000;
	sc->ready = READY_NONE;
	sc->ready_timeout_ms = 60 * 1000;
	sc->stdout_to = OUTPUT_TO_LOG;
	sc->stderr_to = OUTPUT_TO_LOG;
	sc->log_max_size = VALUES_LOG_MAX_SIZE;
	sc->log_keep = VALUES_LOG_KEEP;
	sc->log_timestamps = true;
	sc->log_buffer = VALUES_LOG_BUFFER;
	if (sc->name == NULL || sc->file == NULL) {
		values_service_free(sc);
		return NULL;
	}
	return sc;
}

/* config_source.c's inherited[] names these keys: keep the two lists alike */
void
values_service_inherit(struct service_conf *sc, const struct config *conf)
{
	sc->log_max_size = conf->log_max_size;
	sc->log_keep = conf->log_keep;
	sc->log_timestamps = conf->log_timestamps;
	sc->log_buffer = conf->log_buffer;
}

void
values_service_free(struct service_conf *sc)
{
	if (sc == NULL)
		return;
	free(sc->name);
	free(sc->file);
	free(sc->template_name);
	free(sc->instance);
	free(sc->command);
	words_free(sc->argv);
	words_free(sc->exec_paths);
	words_free(sc->environment);
	words_free(sc->environment_files);
	for (int i = 0; i < SERVICE_NCGLIMITS; i++)
		free(sc->cglimits[i]);
	words_free(sc->isolation);
	free(sc->syscall_filter);
	free(sc->syscall_bpf);
	free(sc->directory);
	free(sc->stdout_path);
	free(sc->stderr_path);
	free(sc->user);
	free(sc->group);
	free(sc->groups);
	words_free(sc->requires_names);
	words_free(sc->after_names);
	free(sc->requires);
	free(sc->after);
	values_ready_free(sc);
	values_sandbox_free(sc);
	config_source_free(sc);
	free(sc);
}

/*
 * The back-off doubles from restart_delay up to restart_delay_max, so the
 * cap below the start is a mistake. key is the one the user wrote last of
 * the two, value its text, so the message points at a line they can fix.
 */
int
values_check_delays(const struct service_conf *sc, const char *key,
    const char *value, struct value_error *e)
{
	char what[128], limit[32];

	if (sc->restart_delay_max_ms >= sc->restart_delay_ms)
		return 0;
	if (strcmp(key, "restart_delay_max") == 0) {
		duration_format(sc->restart_delay_ms, limit, sizeof(limit));
		snprintf(what, sizeof(what), "a duration no shorter than "
		    "restart_delay (%s)", limit);
	} else {
		duration_format(sc->restart_delay_max_ms, limit, sizeof(limit));
		snprintf(what, sizeof(what), "a duration no longer than "
		    "restart_delay_max (%s)", limit);
	}
	return expected(e, value, what);
}

/* The user's name for getgrouplist, looked up as value_user did. */
static char *
ids_user_name(const struct service_conf *sc)
{
	struct passwd *pw = user_named(sc->user);

	return pw != NULL ? strdup(pw->pw_name) : NULL;
}

/* Supplementary groups are resolved now: NSS is no place for a vfork child. */
static int
ids_build(struct service_conf *sc)
{
	char *name = NULL;
	int n = 16, want;

	sc->set_ids = sc->user != NULL || sc->group != NULL;
	if (!sc->set_ids)
		return 0;
	if (sc->user == NULL)
		sc->uid = geteuid();
	else
		name = ids_user_name(sc);
	if (name == NULL)
		n = 1;	/* group only (or the user vanished): just the gid */
	for (;;) {
		gid_t *g = reallocarray(sc->groups, (size_t)n, sizeof(gid_t));

		if (g == NULL) {
			free(name);
			return -1;
		}
		sc->groups = g;
		if (name == NULL) {
			sc->groups[0] = sc->gid;	/* drops vigild's own groups */
			break;
		}
		want = n;
		if (getgrouplist(name, sc->gid, sc->groups, &n) != -1)
			break;
		if (n <= want)
			n = want * 2;
	}
	free(name);
	sc->ngroups = (size_t)n;
	return 0;
}

/* The fields that depend on several keys; call once all keys are parsed. */
int
values_service_finish(struct service_conf *sc, struct value_error *e)
{
	/* empty rather than NULL: users of the config need no special case */
	if (sc->environment == NULL &&
	    (sc->environment = calloc(1, sizeof(char *))) == NULL)
		return out_of_memory(e);
	if (ids_build(sc) == -1)
		return out_of_memory(e);
	if (sc->argv != NULL &&
	    (sc->exec_paths = values_exec_paths(sc, sc->argv[0])) == NULL)
		return out_of_memory(e);
	if (sc->ready_argv != NULL &&
	    (sc->ready_exec_paths = values_exec_paths(sc, sc->ready_argv[0])) == NULL)
		return out_of_memory(e);
	if (values_seccomp_build(sc) == -1)
		return out_of_memory(e);
	return 0;
}
