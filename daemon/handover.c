/*
 * handover.c: daemon-reexec. vigild writes its whole state (services,
 * their pids, deadlines and counts, the output pipes, partial lines and
 * rings, notify sockets, the listening socket) as versioned JSON into a
 * memfd, clears close-on-exec on just the fds named in it, and execve()s
 * its own binary: the same pid, so the services stay its children. The
 * new vigild reads it back (handover_restore) instead of starting them.
 *
 * Nothing is touched before the checks pass: a state the new binary
 * cannot read (it answers HANDOVER_VERSION_OPTION with another number), a
 * config on disk that differs from the running one, a reload's services
 * still stopping, a readiness probe in flight all refuse the request and
 * the old vigild goes on. A failed execve puts close-on-exec back and
 * leaves a reason for hello. Bytes (lines, reasons) go as hex, never raw
 * into a JSON string.
 */
#include "config.h"
#include "vigild.h"
#include "handover.h"
#include "core/cgroup.h"
#include "core/deps.h"
#include "core/notify.h"
#include "core/outer.h"
#include "core/process.h"
#include "core/readiness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VERSION_CHECK_MS	5000	/* the new binary's answer to HANDOVER_VERSION_OPTION */

extern char **environ;

static char	 exe[PATH_MAX];		/* our binary, resolved at start */
static char	**args;			/* main's argv */
static unsigned	 generation;		/* execs since the first vigild of this pid */
static double	 started;		/* when that one started (wall) */
static char	*reexec_error;		/* why the last daemon-reexec failed; NULL if it did not */
static ev_timer	 exec_timer;		/* runs the exec from the loop, once the reply is queued */

static double
wall_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

void
handover_init(char **argv)
{
	/* now, while /proc/self/exe still names the file; a replaced one is "(deleted)" */
	if (realpath("/proc/self/exe", exe) == NULL)
		exe[0] = '\0';
	args = argv;
	started = wall_now();
}

static void
set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
set_error(const char *fmt, ...)
{
	va_list ap;
	char *e;

	va_start(ap, fmt);
	if (vasprintf(&e, fmt, ap) == -1)
		e = NULL;
	va_end(ap);
	free(reexec_error);
	reexec_error = e;
}

void
handover_hello(json_t *r)
{
	json_object_set_new(r, PROTO_K_GENERATION, json_integer(generation));
	json_object_set_new(r, PROTO_K_STARTED, json_real(started));
	json_object_set_new(r, PROTO_K_REEXEC_ERROR,
	    reexec_error != NULL ? json_string(reexec_error) : json_null());
}

/* ---- bytes as hex ---- */

static json_t *
hex_of(const char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *h = malloc(2 * n + 1);
	json_t *j;

	if (h == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		h[2 * i] = digits[(unsigned char)p[i] >> 4];
		h[2 * i + 1] = digits[(unsigned char)p[i] & 15];
	}
	h[2 * n] = '\0';
	j = json_stringn(h, 2 * n);
	free(h);
	return j;
}

static int
nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The bytes of a hex string, malloc'd and NUL-terminated; NULL for null or bad hex. */
static char *
bytes_of(const json_t *j, size_t *n)
{
	const char *h = json_string_value(j);
	size_t len = h != NULL ? json_string_length(j) : 0;
	char *b;

	*n = 0;
	if (h == NULL || len % 2 != 0 || (b = malloc(len / 2 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = nibble(h[2 * i]), lo = nibble(h[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return NULL;
		}
		b[i] = (char)(hi << 4 | lo);
	}
	b[len / 2] = '\0';
	*n = len / 2;
	return b;
}

static json_t *
hex_str(const char *s)
{
	return s != NULL ? hex_of(s, strlen(s)) : json_null();
}

/* ---- writing the state ---- */

struct fdlist {
	int	*fd;
	size_t	 n, cap;
};

static int
keep_fd(struct fdlist *l, int fd)
{
	if (fd < 0)
		return 0;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 32;
		int *p = realloc(l->fd, ncap * sizeof(*p));
		if (p == NULL)
			return -1;
		l->fd = p;
		l->cap = ncap;
	}
	l->fd[l->n++] = fd;
	return 0;
}

static bool
ring_line_cb(const struct log_line *l, void *arg)
{
	json_t *a = arg;

	return json_array_append_new(a, json_pack("[I,I,i,b,b,o]", (json_int_t)l->usec,
	    (json_int_t)l->seq, (int)l->stream, l->cont, l->partial,
	    hex_of(l->text, l->len))) == 0;
}

static json_t *
pipe_json(const struct service_output *o, enum output_stream stream, struct fdlist *fds)
{
	struct output_pipe_state st;

	output_pipe_get(o, stream, &st);
	if (st.rfd < 0)
		return json_null();
	if (keep_fd(fds, st.rfd) == -1 || keep_fd(fds, st.wfd) == -1)
		return NULL;
	return json_pack("{s:i, s:i, s:o, s:b}", "rfd", st.rfd, "wfd", st.wfd,
	    "partial", hex_of(st.partial != NULL ? st.partial : "", st.plen), "cont", st.cont);
}

static json_t *
service_json(const struct service *s, struct fdlist *fds)
{
	const struct exit_info *e = &s->last_exit;
	json_t *j, *ring, *out = NULL;
	bool cg_killed, cg = cgroup_handover(s, &cg_killed);
	int nfd = notify_handover_fd(s);

	if (keep_fd(fds, nfd) == -1)
		return NULL;
	if (s->output != NULL) {
		if ((ring = json_array()) == NULL)
			return NULL;
		output_ring_foreach(s->output, ring_line_cb, ring);
		out = json_pack("{s:I, s:o, s:o, s:o}",
		    "next_seq", (json_int_t)output_next_seq(s->output),
		    "out", pipe_json(s->output, OUTPUT_STDOUT, fds),
		    "err", pipe_json(s->output, OUTPUT_STDERR, fds), "ring", ring);
		if (out == NULL)
			return NULL;
	}
	j = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:I, s:f, s:I, s:I, s:i, s:i,"
	    " s:b, s:b, s:b, s:b, s:i, s:b, s:b, s:i, s:I, s:I, s:o, s:i, s:o, s:I}",
	    "name", s->conf->name, "state", (int)s->state, "goal", (int)s->goal,
	    "job", (int)s->job, "pid", (int)s->pid, "pgid", (int)s->pgid,
	    "state_since_ms", (json_int_t)s->state_since_ms,
	    "state_since_wall", s->state_since_wall,
	    "started_ms", (json_int_t)s->started_ms,
	    "timer_due_ms", (json_int_t)s->timer_due_ms,
	    "failures", (int)s->failures, "restarts", (int)s->restarts,
	    "killed", s->killed, "forced", s->forced, "ending", s->ending,
	    "end_early", s->end_early, "end_status", s->end_status,
	    "ready", s->ready, "reloading", s->reloading, "stop_cause", (int)s->stop_cause,
	    "ready_due_ms", (json_int_t)s->ready_due_ms,
	    "watchdog_ms", (json_int_t)s->watchdog_ms,
	    "status_text", hex_str(s->status_text), "notify_errno", s->notify_errno,
	    "reason", hex_str(s->reason),
	    "restarts_total", (json_int_t)s->restarts_total);
	if (j == NULL) {
		json_decref(out);
		return NULL;
	}
	if (json_object_set_new(j, "last_exit", json_pack("{s:b, s:i, s:i, s:i, s:b, s:f, s:I,"
	    " s:f, s:f, s:I, s:o}", "valid", e->valid, "pid", (int)e->pid, "code", e->code,
	    "signal", e->signal, "core_dumped", e->core_dumped, "when", e->when,
	    "ran_ms", (json_int_t)e->ran_ms, "cpu_user", e->cpu_user,
	    "cpu_system", e->cpu_system, "max_rss_kb", (json_int_t)e->max_rss_kb,
	    "spawn_error", hex_str(e->spawn_error))) == -1 ||
	    json_object_set_new(j, "notify_fd", json_integer(nfd)) == -1 ||
	    json_object_set_new(j, "on_demand", json_boolean(s->conf->on_demand)) == -1 ||
	    json_object_set_new(j, "cgroup", json_boolean(cg)) == -1 ||
	    json_object_set_new(j, "cgroup_killed", json_boolean(cg_killed)) == -1 ||
	    json_object_set_new(j, "output", out != NULL ? out : json_null()) == -1) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *
state_json(struct fdlist *fds)
{
	const char *path;
	int lfd = control_listen_fd(&path);
	json_t *svcs = json_array(), *j;

	if (svcs == NULL || keep_fd(fds, lfd) == -1) {
		json_decref(svcs);
		return NULL;
	}
	for (size_t i = 0; i < vigild.nservices; i++) {
		json_t *s = service_json(vigild.services[i], fds);
		if (s == NULL || json_array_append_new(svcs, s) == -1) {
			json_decref(svcs);
			return NULL;
		}
	}
	j = json_pack("{s:i, s:s, s:s, s:i, s:f, s:i, s:o, s:o}", "format", HANDOVER_FORMAT,
	    "program", "vigild", "version", VIGIL_VERSION, "generation", (int)generation,
	    "started", started, "listen_fd", lfd, "listen_path",
	    path != NULL ? json_string(path) : json_null(), "services", svcs);
	return j;
}

/* ---- the checks, before anything is touched ---- */

static size_t	 nretired;

static void
count_retired(struct service *s)
{
	(void)s;
	nretired++;
}

/*
 * Ask the binary on disk which format it reads: a small child, its stdout
 * a pipe, bounded by VERSION_CHECK_MS. -1 with err when it cannot say.
 */
static int
binary_format(int *format, char *err, size_t errlen)
{
	char *argv[] = { exe, HANDOVER_VERSION_OPTION, NULL };
	char buf[64];
	size_t len = 0;
	int pfd[2], status, rc = -1;
	int64_t deadline = process_now_ms() + VERSION_CHECK_MS;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	errno = posix_spawn(&pid, exe, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pfd[1]);
	if (errno != 0) {
		snprintf(err, errlen, "%s: %s", exe, strerror(errno));
		close(pfd[0]);
		return -1;
	}
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int64_t left = deadline - process_now_ms();
		ssize_t n;

		if (left <= 0 || (poll(&p, 1, (int)left) == -1 && errno != EINTR)) {
			snprintf(err, errlen, "%s %s: no answer within %dms", exe,
			    HANDOVER_VERSION_OPTION, VERSION_CHECK_MS);
			kill(pid, SIGKILL);
			break;
		}
		if ((n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) <= 0) {
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			buf[len] = '\0';
			rc = 0;
			break;
		}
		len += (size_t)n;
		if (len == sizeof(buf) - 1) {
			buf[len] = '\0';
			rc = 0;
			kill(pid, SIGKILL);
			break;
		}
	}
	close(pfd[0]);
	/* ours alone: reaped here, before the loop's reaper could see it */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (rc == 0) {
		char *end;
		long v = strtol(buf, &end, 10);

		if (end == buf || (*end != '\n' && *end != '\0') || v < 0 || v > INT_MAX) {
			snprintf(err, errlen, "%s does not know %s (it answered \"%.*s\"): it "
			    "cannot take a running vigild's state", exe, HANDOVER_VERSION_OPTION,
			    (int)strcspn(buf, "\n"), buf);
			return -1;
		}
		*format = (int)v;
	}
	return rc;
}

/* The config file on disk must be the one running: the new vigild reads it. */
static int
config_same(char *err, size_t errlen)
{
	struct config_errors errs = { NULL, 0 };
	const struct service_conf **old;
	struct reload_plan plan;
	struct config *conf;
	int rc = -1;

	if (vigild.conf->from_command)
		return 0;	/* made from our argv, which the new vigild gets again */
	if ((conf = config_load(vigild.conf->file, &errs)) == NULL) {
		snprintf(err, errlen, "%s has %zu error%s now (the new vigild would read it): "
		    "fix it first", vigild.conf->file, errs.n, errs.n == 1 ? "" : "s");
		config_errors_free(&errs);
		return -1;
	}
	/* the new vigild makes the instances made on request again (handover_restore) */
	supervisor_carry_instances(conf, true, &errs);
	if (errs.n > 0) {
		snprintf(err, errlen, "%s: %s", vigild.conf->file, errs.msgs[0]);
		config_errors_free(&errs);
		config_free(conf);
		return -1;
	}
	config_errors_free(&errs);
	if ((old = calloc(vigild.nservices + 1, sizeof(*old))) == NULL) {
		config_free(conf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < vigild.nservices; i++)
		old[i] = vigild.services[i]->conf;
	if (reload_plan_build(old, vigild.nservices, conf, &plan) == 0) {
		size_t changes = plan.count[RELOAD_ADDED] + plan.count[RELOAD_REMOVED] +
		    plan.count[RELOAD_RESTARTED] + plan.count[RELOAD_UPDATED];
		char *text = reload_plan_text(&plan);

		if (changes == 0)
			rc = 0;
		else
			snprintf(err, errlen, "%s changed since it was loaded (%s): the new vigild "
			    "would run other definitions; reload first, or put it back",
			    vigild.conf->file, text != NULL ? text : "changes");
		free(text);
		reload_plan_free(&plan);
	} else {
		snprintf(err, errlen, "out of memory");
	}
	free(old);
	config_free(conf);
	return rc;
}

static int
preflight(char *err, size_t errlen)
{
	int format;

	if (vigild.shutting_down) {
		snprintf(err, errlen, "vigild is shutting down");
		return -1;
	}
	if (exe[0] == '\0') {
		snprintf(err, errlen, "vigild's own binary could not be found at start "
		    "(/proc/self/exe)");
		return -1;
	}
	nretired = 0;
	retire_each(count_retired);
	if (nretired > 0) {
		snprintf(err, errlen, "%zu service%s a reload removed %s still stopping: try "
		    "again once %s gone", nretired, nretired == 1 ? "" : "s",
		    nretired == 1 ? "is" : "are", nretired == 1 ? "it is" : "they are");
		return -1;
	}
	for (size_t i = 0; i < vigild.nservices; i++)
		if (readiness_probing(vigild.services[i])) {
			snprintf(err, errlen, "%s is starting and its readiness is being probed: "
			    "try again once it is ready", vigild.services[i]->conf->name);
			return -1;
		}
	if (config_same(err, errlen) == -1)
		return -1;
	if (binary_format(&format, err, errlen) == -1)
		return -1;
	if (format != HANDOVER_FORMAT) {
		snprintf(err, errlen, "%s speaks handover format %d, this vigild writes %d",
		    exe, format, HANDOVER_FORMAT);
		return -1;
	}
	return 0;
}

/* ---- the exec ---- */

static void
set_cloexec(const struct fdlist *fds, bool on)
{
	for (size_t i = 0; i < fds->n; i++)
		(void)fcntl(fds->fd[i], F_SETFD, on ? FD_CLOEXEC : 0);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
exec_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fdlist fds = { NULL, 0, 0 };
	json_t *state;
	char *text = NULL, opt[64], **argv = NULL;
	size_t nargs = 0;
	int mfd = -1, saved;

	(void)loop, (void)w, (void)revents;
	/* what happened since the request may be the state: read what is in the pipes first */
	if ((state = state_json(&fds)) == NULL ||
	    (text = json_dumps(state, JSON_COMPACT)) == NULL) {
		set_error("writing the state: out of memory");
		goto fail;
	}
	if ((mfd = memfd_create("vigild-handover", MFD_CLOEXEC)) == -1 ||
	    write_all(mfd, text, strlen(text)) == -1 || lseek(mfd, 0, SEEK_SET) == -1 ||
	    keep_fd(&fds, mfd) == -1) {
		set_error("writing the state (memfd): %s", strerror(errno));
		goto fail;
	}
	while (args[nargs] != NULL)
		nargs++;
	if ((argv = calloc(nargs + 2, sizeof(*argv))) == NULL) {
		set_error("out of memory");
		goto fail;
	}
	snprintf(opt, sizeof(opt), "%s=%d", HANDOVER_OPTION, mfd);
	argv[0] = exe;
	argv[1] = opt;
	/* the original options, less the --handover=FD of an earlier exec */
	for (size_t i = 1, k = 2; i < nargs; i++)
		if (strncmp(args[i], HANDOVER_OPTION "=", sizeof(HANDOVER_OPTION)) != 0)
			argv[k++] = args[i];
	log_notice("daemon-reexec: executing %s (generation %u, %zu services, %zu fds kept)",
	    exe, generation + 1, vigild.nservices, fds.n);
	outer_reloading();
	control_reconnect_all("vigild is executing itself anew (daemon-reexec): connect again");
	outer_env_restore();
	set_cloexec(&fds, false);
	execve(exe, argv, environ);
	saved = errno;
	/* still the old vigild: everything it had is as it was */
	set_cloexec(&fds, true);
	outer_env_clear();
	outer_reloaded();
	set_error("execve %s: %s", exe, strerror(saved));
fail:
	log_warnx("daemon-reexec: %s; vigild goes on as it was", reexec_error);
	if (mfd != -1)
		close(mfd);
	free(argv);
	free(text);
	json_decref(state);
	free(fds.fd);
}

json_t *
handover_request(void)
{
	char err[2 * PATH_MAX + 1024];

	if (preflight(err, sizeof(err)) == -1) {
		log_warnx("daemon-reexec refused: %s", err);
		return proto_reply_error(PROTO_ERR_REEXEC, "daemon-reexec: %s", err);
	}
	free(reexec_error);
	reexec_error = NULL;
	/* from the loop: the reply is queued first, and goes out before the exec */
	ev_timer_init(&exec_timer, exec_cb, 0., 0.);
	ev_timer_start(vigild.loop, &exec_timer);
	return json_pack("{s:b, s:i, s:s, s:i}", PROTO_K_OK, 1, PROTO_K_GENERATION,
	    (int)generation, "path", exe, PROTO_K_PID, (int)getpid());
}

/* ---- reading it back ---- */

static int
int_of(const json_t *o, const char *k)
{
	return (int)json_integer_value(json_object_get(o, k));
}

static int64_t
i64_of(const json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

static bool
bool_of(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static char *
text_of(const json_t *o, const char *k)
{
	size_t n;

	return bytes_of(json_object_get(o, k), &n);
}

static void
close_pipe_fds(const json_t *p)
{
	if (json_is_object(p)) {
		close(int_of(p, "rfd"));
		close(int_of(p, "wfd"));
	}
}

static void
restore_pipe(struct service *s, enum output_stream stream, const json_t *p)
{
	struct output_pipe_state st;
	char *partial;
	size_t n;

	if (!json_is_object(p))
		return;
	partial = bytes_of(json_object_get(p, "partial"), &n);
	st.rfd = int_of(p, "rfd");
	st.wfd = int_of(p, "wfd");
	st.partial = partial;
	st.plen = partial != NULL ? n : 0;
	st.cont = bool_of(p, "cont");
	if (output_pipe_adopt(s->output, stream, &st) == -1) {
		log_warnx("%s: taking back its %s pipe failed: its output is lost",
		    s->conf->name, output_stream_name(stream));
		close(st.rfd);
		close(st.wfd);
	}
	free(partial);
}

static void
restore_output(struct service *s, const json_t *o)
{
	const json_t *r;
	size_t i;

	if (!json_is_object(o))
		return;
	if (s->output == NULL) {
		close_pipe_fds(json_object_get(o, "out"));
		close_pipe_fds(json_object_get(o, "err"));
		return;
	}
	json_array_foreach(json_object_get(o, "ring"), i, r) {
		size_t n;
		char *text = bytes_of(json_array_get(r, 5), &n);
		struct log_line l = {
			.usec = json_integer_value(json_array_get(r, 0)),
			.seq = (uint64_t)json_integer_value(json_array_get(r, 1)),
			.stream = (enum output_stream)json_integer_value(json_array_get(r, 2)),
			.cont = json_is_true(json_array_get(r, 3)),
			.partial = json_is_true(json_array_get(r, 4)),
			.len = n, .text = text != NULL ? text : "",
		};
		output_ring_adopt(s->output, &l);
		free(text);
	}
	output_seq_adopt(s->output, (uint64_t)i64_of(o, "next_seq"));
	restore_pipe(s, OUTPUT_STDOUT, json_object_get(o, "out"));
	restore_pipe(s, OUTPUT_STDERR, json_object_get(o, "err"));
}

static void
restore_service(const json_t *j)
{
	const char *name = json_string_value(json_object_get(j, "name"));
	const json_t *e = json_object_get(j, "last_exit");
	struct service *s = name != NULL ? supervisor_find(name) : NULL;
	struct service saved;
	int nfd = int_of(j, "notify_fd");

	if (s == NULL) {
		/* never: the old vigild checked the config is the same */
		log_warnx("daemon-reexec: %s is not in the configuration; its process %d runs "
		    "on unsupervised", name != NULL ? name : "?", int_of(j, "pid"));
		if (nfd >= 0)
			close(nfd);
		const json_t *o = json_object_get(j, "output");
		close_pipe_fds(json_object_get(o, "out"));
		close_pipe_fds(json_object_get(o, "err"));
		return;
	}
	memset(&saved, 0, sizeof(saved));
	saved.state = (enum service_state)int_of(j, "state");
	saved.goal = (enum service_goal)int_of(j, "goal");
	saved.pid = int_of(j, "pid");
	saved.pgid = int_of(j, "pgid");
	saved.state_since_ms = i64_of(j, "state_since_ms");
	saved.state_since_wall = json_number_value(json_object_get(j, "state_since_wall"));
	saved.started_ms = i64_of(j, "started_ms");
	saved.timer_due_ms = i64_of(j, "timer_due_ms");
	saved.failures = (unsigned)int_of(j, "failures");
	saved.restarts = (unsigned)int_of(j, "restarts");
	saved.restarts_total = (uint64_t)i64_of(j, "restarts_total");
	saved.killed = bool_of(j, "killed");
	saved.forced = bool_of(j, "forced");
	saved.ending = bool_of(j, "ending");
	saved.end_early = bool_of(j, "end_early");
	saved.end_status = int_of(j, "end_status");
	saved.ready = bool_of(j, "ready");
	saved.reloading = bool_of(j, "reloading");
	saved.stop_cause = (enum stop_cause)int_of(j, "stop_cause");
	saved.ready_due_ms = i64_of(j, "ready_due_ms");
	saved.watchdog_ms = i64_of(j, "watchdog_ms");
	saved.notify_errno = int_of(j, "notify_errno");
	saved.status_text = text_of(j, "status_text");
	saved.reason = text_of(j, "reason");
	saved.last_exit.valid = bool_of(e, "valid");
	saved.last_exit.pid = int_of(e, "pid");
	saved.last_exit.code = int_of(e, "code");
	saved.last_exit.signal = int_of(e, "signal");
	saved.last_exit.core_dumped = bool_of(e, "core_dumped");
	saved.last_exit.when = json_number_value(json_object_get(e, "when"));
	saved.last_exit.ran_ms = i64_of(e, "ran_ms");
	saved.last_exit.cpu_user = json_number_value(json_object_get(e, "cpu_user"));
	saved.last_exit.cpu_system = json_number_value(json_object_get(e, "cpu_system"));
	saved.last_exit.max_rss_kb = (long)i64_of(e, "max_rss_kb");
	saved.last_exit.spawn_error = text_of(e, "spawn_error");
	/* the cgroup first: main_changed and the state machine may ask it */
	if (bool_of(j, "cgroup"))
		(void)cgroup_adopt(s, bool_of(j, "cgroup_killed"));	/* logged */
	if (service_restore(s, &saved) == -1)
		log_warnx("%s: taking back its state: out of memory", s->conf->name);
	free(saved.status_text);
	free(saved.reason);
	free(saved.last_exit.spawn_error);
	deps_job_set(s, (enum service_job)int_of(j, "job"));
	if (nfd >= 0 && notify_adopt(s, nfd) == -1) {
		log_warnx("%s: taking back its notify socket failed", s->conf->name);
		close(nfd);
	}
	restore_output(s, json_object_get(j, "output"));
}

static void
remake_instance(const json_t *j)
{
	const char *name = json_string_value(json_object_get(j, "name"));
	struct config_errors errs = { NULL, 0 };
	struct service *s;

	if (name == NULL || !bool_of(j, "on_demand") || supervisor_find(name) != NULL)
		return;
	if (supervisor_instantiate(name, true, &errs, &s) != 0)
		log_warnx("daemon-reexec: %s: making the instance again failed%s%s", name,
		    errs.n > 0 ? ": " : "", errs.n > 0 ? errs.msgs[0] : "");
	config_errors_free(&errs);
}

int
handover_restore(int fd)
{
	json_error_t jerr;
	json_t *st, *sv;
	size_t i;
	int lfd;

	st = json_loadfd(fd, 0, &jerr);
	close(fd);
	if (st == NULL) {
		log_warnx("daemon-reexec: the handed-over state is unreadable: %s (line %d)",
		    jerr.text, jerr.line);
		return -1;
	}
	if (int_of(st, "format") != HANDOVER_FORMAT) {
		log_warnx("daemon-reexec: the handed-over state is format %d, this vigild "
		    "reads %d", int_of(st, "format"), HANDOVER_FORMAT);
		json_decref(st);
		return -1;
	}
	generation = (unsigned)int_of(st, "generation") + 1;
	started = json_number_value(json_object_get(st, "started"));
	lfd = int_of(st, "listen_fd");
	if (lfd < 0 || control_open_fd(lfd,
	    json_string_value(json_object_get(st, "listen_path"))) == -1) {
		json_decref(st);
		return -1;
	}
	/* instances made on request are in no file: made again first, as the old vigild had them */
	json_array_foreach(json_object_get(st, "services"), i, sv)
		remake_instance(sv);
	json_array_foreach(json_object_get(st, "services"), i, sv)
		restore_service(sv);
	log_notice("daemon-reexec: took back %zu services from vigild %s (generation %u)",
	    json_array_size(json_object_get(st, "services")),
	    json_string_value(json_object_get(st, "version")) ?: "?", generation);
	json_decref(st);
	return 0;
}
