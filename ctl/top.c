/*
 * top.c: `vigilctl top`, a live full-screen table of the services. It owns
 * the terminal (raw mode, the alternate screen, putting both back on every
 * way out), the keys, and two connections to vigild: an `events` stream
 * that moves states at once, and one `status` of every service per
 * interval for CPU, restarts and the rest. The table is top_view.c's.
 */
#include "config.h"
#include "vigilctl.h"

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "top_view.h"
#include "utf8.h"

#define TOP_DELAY_DEFAULT_MS	2000
/* after a change, the status that brings its restarts and last exit; at most this often */
#define TOP_AFTER_EVENT_MS	250

struct top {
	const struct ctl_options *o;
	struct top_model *m;
	struct ctl_client ev;	/* the events stream */
	struct ctl_client st;	/* hello, then status requests */
	bool	 st_pending;	/* a status asked for and not answered */
	bool	 st_sample;	/* ... and it is the periodic one, which CPU% is measured by */
	int	 st_closes;	/* closes of the status connection since its last reply */
	int64_t	 due_sample;	/* when the next periodic status is asked for */
	int64_t	 due_extra;	/* an earlier one after an event; INT64_MAX: none */
	int64_t	 delay_ms;
	int	 sigfd;
	int	 cols, rows;
	bool	 keys;		/* stdin is a terminal: read keys from it */
	bool	 quit;
	bool	 dirty;		/* draw before waiting again */
};

/* ---- the terminal ---- */

static struct termios	term_saved;
static bool		term_raw;	/* term_saved holds what to put back */
static bool		term_screen;	/* the alternate screen is on */

static void
term_write(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, s, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* the terminal is gone: nothing to show anything on */
		s += w;
		n -= (size_t)w;
	}
}

/* Put the terminal back as it was; for every way out, atexit(3) included. */
static void
term_leave(void)
{
	static const char restore[] = "\033[0m\033[?25h\033[?1049l";

	if (term_screen)
		term_write(restore, sizeof(restore) - 1);
	term_screen = false;
	if (term_raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &term_saved);
	term_raw = false;
}

/*
 * Every message of top ends it: the terminal is put back first, or the
 * message would go to the alternate screen and vanish with it.
 */
static void __attribute__((format(printf, 2, 3)))
top_warn(bool with_errno, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	term_leave();
	errno = saved;
	va_start(ap, fmt);
	if (with_errno)
		vwarn(fmt, ap);
	else
		vwarnx(fmt, ap);
	va_end(ap);
}

static void __attribute__((noreturn))
top_fatal(const char *what)
{
	top_warn(true, "%s", what);
	exit(CTL_EXIT_FAILED);
}

static void __attribute__((noreturn))
top_out_of_memory(void)
{
	errno = ENOMEM;
	top_fatal("top");
}

/*
 * Keys one at a time without echo; signals stay on, so Ctrl-C and Ctrl-Z
 * come as SIGINT and SIGTSTP, which the loop handles like q and a pause.
 */
static int
term_enter(bool keys)
{
	static const char screen[] = "\033[?1049h\033[?25l\033[H\033[2J";
	struct termios raw;

	if (keys) {
		if (tcgetattr(STDIN_FILENO, &term_saved) == -1)
			return -1;
		raw = term_saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
		raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == -1)
			return -1;
		term_raw = true;
	}
	term_write(screen, sizeof(screen) - 1);
	term_screen = true;
	return 0;
}

static void
term_size(struct top *t)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		t->cols = ws.ws_col;
		t->rows = ws.ws_row;
	} else {
		t->cols = 80;
		t->rows = 24;
	}
}

static double
wall_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static void
top_draw(struct top *t)
{
	size_t len;
	char *frame = top_render(t->m, t->cols, t->rows, t->o->colour, false, wall_now(), &len);

	if (frame == NULL)
		top_out_of_memory();
	term_write(frame, len);
	free(frame);
	t->dirty = false;
}

/* ---- vigild ---- */

/* What vigild sent, for a message on stderr: no escape sequences from it. */
static const char *
safe_text(const char *s)
{
	static char out[UTF8_ESCAPED_MAX(512)];

	utf8_escape(s, strnlen(s, 512), out, sizeof(out));
	return out;
}

static int
top_send(struct ctl_client *c, char *const *words, size_t n, int64_t deadline)
{
	char line[PROTO_MAX_LINE + 2];

	if (client_format_request(words, n, line, sizeof(line)) == -1)
		return -1;
	return client_send(c, line, deadline);
}

/* The next reply line as an object, waiting until deadline; NULL and why on stderr. */
static json_t *
top_read(struct ctl_client *c, int64_t deadline)
{
	char *raw;
	size_t len;
	int rc = client_read_line(c, deadline, &raw, &len);
	json_t *obj;

	if (rc != 1) {
		top_warn(false, "top: %s", rc == 0 ? "vigild closed the connection" :
		    errno == ETIMEDOUT ? "no reply from vigild in time" : strerror(errno));
		return NULL;
	}
	if ((obj = json_loadb(raw, len, JSON_ALLOW_NUL, NULL)) == NULL || !json_is_object(obj)) {
		top_warn(false, "top: unreadable reply from vigild");
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static bool
is_error(const json_t *obj, const char *code)
{
	const char *e = json_string_value(json_object_get(obj, PROTO_K_ERROR));

	return json_is_false(json_object_get(obj, PROTO_K_OK)) &&
	    (code == NULL || (e != NULL && strcmp(e, code) == 0));
}

/* An ok:false reply: vigild's message on stderr. */
static void
top_refused(const json_t *obj)
{
	const char *msg = json_string_value(json_object_get(obj, PROTO_K_MESSAGE));
	const char *code = json_string_value(json_object_get(obj, PROTO_K_ERROR));

	top_warn(false, "top: %s", safe_text(msg != NULL ? msg : code != NULL ? code : "refused"));
}

/*
 * Both connections: hello for the header, then the events stream. 0;
 * -1 with the message printed; 1 when vigild asked to come again (it is
 * executing itself anew).
 */
static int
top_connect_once(struct top *t, int64_t deadline)
{
	char *hello[] = { "hello" }, *events[] = { "events" };
	json_t *r;
	int rc = -1;

	bool stream = !t->o->batch;	/* one frame needs no events */

	if (client_open(&t->st, t->o->socket, deadline) == -1 ||
	    (stream && client_open(&t->ev, t->o->socket, deadline) == -1)) {
		top_warn(false, "top: cannot connect to %s: %s%s", t->o->socket, strerror(errno),
		    errno == ENOENT || errno == ECONNREFUSED ? " (is vigild running?)" : "");
		return -1;
	}
	if (top_send(&t->st, hello, 1, deadline) == -1 ||
	    (stream && top_send(&t->ev, events, 1, deadline) == -1)) {
		top_warn(false, "top: sending to vigild: %s", strerror(errno));
		return -1;
	}
	if ((r = top_read(&t->st, deadline)) == NULL)
		return -1;
	if (is_error(r, PROTO_ERR_RECONNECT)) {
		json_decref(r);
		return 1;
	}
	top_model_set_daemon(t->m, json_string_value(json_object_get(r, PROTO_K_VERSION)),
	    (long long)json_integer_value(json_object_get(r, PROTO_K_PID)));
	json_decref(r);
	if (!stream)
		return 0;
	if ((r = top_read(&t->ev, deadline)) == NULL)
		return -1;
	if (is_error(r, PROTO_ERR_RECONNECT))
		rc = 1;
	else if (is_error(r, NULL))
		top_refused(r);	/* permission-denied, say */
	else
		rc = 0;
	json_decref(r);
	return rc;
}

/* Connect, again and again while vigild executes itself anew, until the deadline. */
static int
top_connect(struct top *t)
{
	int64_t deadline = client_now_ms() + t->o->timeout_ms;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int rc;

	for (;;) {
		client_close(&t->st);
		client_close(&t->ev);
		t->st_pending = false;
		if ((rc = top_connect_once(t, deadline)) != 1)
			return rc;
		if (client_now_ms() >= deadline) {
			top_warn(false, "top: vigild did not come back from daemon-reexec in time");
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

/* status of every service, with only the fields the table shows */
static int
top_ask_status(struct top *t, int64_t now)
{
	char fields[256], *words[] = { "status", fields };
	static const enum proto_status_field want[] = {
		PROTO_F_NAME, PROTO_F_STATE, PROTO_F_READY, PROTO_F_PID, PROTO_F_UPTIME,
		PROTO_F_RESTARTS, PROTO_F_PROCESSES, PROTO_F_CPU, PROTO_F_LAST_EXIT,
	};
	size_t off = (size_t)snprintf(fields, sizeof(fields), "%s=", PROTO_OPT_FIELDS);

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		off += (size_t)snprintf(fields + off, sizeof(fields) - off, "%s%s",
		    i > 0 ? "," : "", proto_status_fields[want[i]]);
	if (top_send(&t->st, words, 2, now + t->o->timeout_ms) == -1)
		return -1;
	t->st_pending = true;
	t->st_sample = now >= t->due_sample;
	if (t->st_sample)
		t->due_sample = now + t->delay_ms;
	t->due_extra = INT64_MAX;
	return 0;
}

/* What a line of either connection means; -1: stop (said why), 1: reconnect. */
static int
top_line(struct top *t, json_t *obj, bool from_events)
{
	if (is_error(obj, PROTO_ERR_RECONNECT))
		return 1;
	if (is_error(obj, NULL)) {
		top_refused(obj);
		return -1;
	}
	if (!from_events) {
		t->st_pending = false;
		t->st_closes = 0;
		if (top_model_status(t->m, json_object_get(obj, PROTO_K_SERVICES), wall_now(),
		    t->st_sample) == -1)
			top_out_of_memory();
	} else {
		if (top_model_event(t->m, obj) == -1)
			top_out_of_memory();
		/* restarts and the last exit changed with it: ask soon, not at once */
		if (t->due_extra == INT64_MAX)
			t->due_extra = client_now_ms() + TOP_AFTER_EVENT_MS;
	}
	t->dirty = true;
	return 0;
}

/* top_drain's: vigild closed the status connection */
#define TOP_STATUS_CLOSED	2
/* closes with a status asked for and none answered, in a row, that mean vigild is going */
#define TOP_STATUS_RETRIES	3

/*
 * Every whole line that came on c, without waiting; as top_line, and -1
 * when vigild left. vigild closes a connection that sent no request for
 * client_timeout (-d may be longer, and a request may cross the close):
 * the status connection's close is TOP_STATUS_CLOSED, to open another;
 * the events stream, which no timeout ends, tells that vigild is gone.
 */
static int
top_drain(struct top *t, struct ctl_client *c, bool from_events)
{
	char *raw;
	size_t len;
	json_t *obj;
	int rc;

	for (;;) {
		rc = client_read_line(c, 0, &raw, &len);
		if (rc == -1 && errno == ETIMEDOUT)
			return 0;	/* nothing more yet */
		if ((rc == 0 || (rc == -1 && errno == ECONNRESET)) && !from_events)
			return TOP_STATUS_CLOSED;
		if (rc == 0 || (rc == -1 && errno == ECONNRESET)) {
			top_warn(false, "top: vigild went away (it closed the connection)");
			return -1;
		}
		if (rc == -1) {
			top_warn(true, "top: reading from vigild");
			return -1;
		}
		if ((obj = json_loadb(raw, len, JSON_ALLOW_NUL, NULL)) == NULL)
			continue;
		rc = top_line(t, obj, from_events);
		json_decref(obj);
		if (rc != 0)
			return rc;
	}
}

/* Another status connection, and the status asked for again if one was lost with the old. */
static int
top_status_reopen(struct top *t)
{
	if (t->st_pending && ++t->st_closes >= TOP_STATUS_RETRIES) {
		top_warn(false, "top: vigild went away (it closed the connection)");
		return -1;
	}
	client_close(&t->st);
	if (client_open(&t->st, t->o->socket, client_now_ms() + t->o->timeout_ms) == -1) {
		top_warn(false, "top: vigild went away (cannot connect to %s: %s)", t->o->socket,
		    strerror(errno));
		return -1;
	}
	if (t->st_pending)
		t->due_extra = client_now_ms();
	t->st_pending = false;
	return 0;
}

/* ---- keys and signals ---- */

/* One key, or an arrow key's escape sequence; p..end holds what was read. */
static const char *
top_key(struct top *t, const char *p, const char *end)
{
	long page = t->rows > 4 ? t->rows - 4 : 1;
	static const char sort_keys[] = "nspurc";	/* enum top_sort's order */
	const char *k;

	if (p[0] == '\033' && end - p >= 3 && p[1] == '[') {
		switch (p[2]) {
		case 'A': top_model_scroll(t->m, -1); return p + 3;
		case 'B': top_model_scroll(t->m, 1); return p + 3;
		case 'H': top_model_scroll(t->m, -(long)top_model_count(t->m)); return p + 3;
		case 'F': top_model_scroll(t->m, (long)top_model_count(t->m)); return p + 3;
		}
		if (end - p >= 4 && p[3] == '~' && (p[2] == '5' || p[2] == '6')) {
			top_model_scroll(t->m, p[2] == '5' ? -page : page);
			return p + 4;
		}
		return p + 3;	/* a key top has no use for */
	}
	if (*p == 'q' || *p == 'Q')
		t->quit = true;
	else if (*p == '<' || *p == ',')
		top_model_sort_step(t->m, -1);
	else if (*p == '>' || *p == '.')
		top_model_sort_step(t->m, 1);
	else if (*p == 'k')
		top_model_scroll(t->m, -1);
	else if (*p == 'j')
		top_model_scroll(t->m, 1);
	else if (*p == '\f')	/* Ctrl-L: draw everything anew */
		term_write("\033[2J", 4);
	else if (*p != '\0' && (k = strchr(sort_keys, *p)) != NULL)
		top_model_sort_by(t->m, (enum top_sort)(k - sort_keys));
	return p + 1;
}

static void
top_keys(struct top *t)
{
	char buf[64];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n == 0) {
		t->keys = false;	/* no more keys: only q's signals end it now */
		return;
	}
	for (const char *p = buf; n > 0 && p < buf + n && !t->quit; )
		p = top_key(t, p, buf + n);
	t->dirty = true;
}

/* The signals top waits for in its loop, not in handlers. */
static int
top_signals(sigset_t *set)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGTSTP };

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, set, NULL) == -1)
		return -1;
	return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Ctrl-Z: the shell gets its terminal back as it was, and top redraws when continued. */
static void
top_suspend(struct top *t)
{
	term_leave();
	kill(getpid(), SIGSTOP);
	if (term_enter(t->keys) == -1)
		top_fatal("top: terminal");
	term_size(t);
}

static void
top_signal(struct top *t)
{
	struct signalfd_siginfo si;

	while (read(t->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGWINCH) {
			term_size(t);
			term_write("\033[2J", 4);
		} else if (si.ssi_signo == SIGTSTP) {
			top_suspend(t);
		} else {
			t->quit = true;	/* INT, TERM, HUP, QUIT: leave as q does */
		}
		t->dirty = true;
	}
}

/* ---- the loop ---- */

/* Wait for the next thing to do: a key, a signal, a line, the next status or second. */
static void
top_wait(struct top *t)
{
	struct pollfd p[4] = {
		{ t->sigfd, POLLIN, 0 },
		{ t->keys ? STDIN_FILENO : -1, POLLIN, 0 },
		{ t->ev.fd, POLLIN, 0 },
		{ t->st.fd, POLLIN, 0 },
	};
	int64_t now = client_now_ms(), due, tick;

	/* uptime ticks each second, on the second of the wall clock */
	tick = 1000 - (int64_t)(wall_now() * 1000) % 1000;
	due = t->st_pending ? INT64_MAX : (t->due_sample < t->due_extra ? t->due_sample :
	    t->due_extra) - now;
	if (due < 0)
		due = 0;
	poll(p, 4, (int)(due < tick ? due : tick));
	if (tick <= due)
		t->dirty = true;
}

static int
top_loop(struct top *t)
{
	int rc;

	for (;;) {
		if (t->dirty)
			top_draw(t);
		top_wait(t);
		top_signal(t);
		if (t->keys && !t->quit) {
			struct pollfd k = { STDIN_FILENO, POLLIN, 0 };
			if (poll(&k, 1, 0) == 1)
				top_keys(t);
		}
		if (t->quit)
			return CTL_EXIT_OK;
		/* the stream first: a change it sent before a status reply is older than it */
		if ((rc = top_drain(t, &t->ev, true)) == 0)
			rc = top_drain(t, &t->st, false);
		if (rc == 1) {
			if (top_connect(t) == -1)
				return CTL_EXIT_UNREACHABLE;
			t->due_sample = client_now_ms();
		} else if (rc == TOP_STATUS_CLOSED && top_status_reopen(t) == -1) {
			return CTL_EXIT_UNREACHABLE;
		} else if (rc == -1) {
			return CTL_EXIT_UNREACHABLE;
		}
		if (!t->st_pending && client_now_ms() >= (t->due_sample < t->due_extra ?
		    t->due_sample : t->due_extra) && top_ask_status(t, client_now_ms()) == -1) {
			top_warn(true, "top: sending to vigild");
			return CTL_EXIT_UNREACHABLE;
		}
	}
}

/* One status, another one delay later for CPU%, one frame on stdout: for pipes and scripts. */
static int
top_batch(struct top *t)
{
	struct timespec pause = { t->delay_ms / 1000, (long)(t->delay_ms % 1000) * 1000000 };
	size_t len;
	char *frame;
	json_t *r;

	for (int i = 0; i < 2; i++) {
		if (i == 1)
			nanosleep(&pause, NULL);
		if (top_ask_status(t, client_now_ms()) == -1) {
			top_warn(true, "top: sending to vigild");
			return CTL_EXIT_UNREACHABLE;
		}
		if ((r = top_read(&t->st, client_now_ms() + t->o->timeout_ms)) == NULL)
			return CTL_EXIT_UNREACHABLE;
		if (is_error(r, NULL)) {
			top_refused(r);
			json_decref(r);
			return CTL_EXIT_FAILED;
		}
		if (top_model_status(t->m, json_object_get(r, PROTO_K_SERVICES), wall_now(),
		    i == 1) == -1)
			top_out_of_memory();
		json_decref(r);
	}
	if ((frame = top_render(t->m, 0, 0, t->o->colour, true, wall_now(), &len)) == NULL)
		top_out_of_memory();
	fwrite(frame, 1, len, stdout);
	free(frame);
	return CTL_EXIT_OK;
}

int
verb_top(const struct ctl_options *o, int argc, char **argv)
{
	struct top t = { .o = o, .ev = { .fd = -1 }, .st = { .fd = -1 }, .sigfd = -1 };
	sigset_t set;
	int rc;

	(void)argc;
	(void)argv;
	if (!o->batch && !isatty(STDOUT_FILENO)) {
		top_warn(false, "top: stdout is not a terminal; -b prints one frame for a pipe "
		    "or a script");
		return CTL_EXIT_USAGE;
	}
	t.delay_ms = o->delay_ms > 0 ? o->delay_ms : TOP_DELAY_DEFAULT_MS;
	t.due_extra = INT64_MAX;
	if ((t.m = top_model_new()) == NULL)
		top_out_of_memory();
	if (!o->batch && (t.sigfd = top_signals(&set)) == -1)
		top_fatal("top: signalfd");
	if (top_connect(&t) == -1) {
		rc = CTL_EXIT_UNREACHABLE;
	} else if (o->batch) {
		rc = top_batch(&t);
	} else {
		t.keys = isatty(STDIN_FILENO);
		atexit(term_leave);	/* any exit(3) puts the terminal back too */
		if (term_enter(t.keys) == -1)
			top_fatal("top: terminal");
		term_size(&t);
		t.dirty = true;
		rc = top_loop(&t);
		term_leave();
	}
	client_close(&t.ev);
	client_close(&t.st);
	if (t.sigfd != -1)
		close(t.sigfd);
	top_model_free(t.m);
	return rc;
}
