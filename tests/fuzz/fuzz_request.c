/*
 * fuzz_request.c: the libFuzzer target of the control protocol. An input is
 * what one client sends; it goes through control.c as an adopted connection
 * and every reply line must be a JSON object. Processes and timers are faked.
 */
#include "config.h"
#include "vigild.h"

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/commands.h"
#include "core/spawn.h"
#include "core/world.h"
#include "output/output.h"
#include "fuzz_tmpdir.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loop turns after the input is sent: enough for parked waits, fake deaths and timers to play out. */
#define TURNS_MAX	64
#define TURNS_QUIET	4	/* turns in a row with nothing happening: the client is done */
#define FAKE_PID_BASE	0x7fff0000	/* far above any pid_max: never a real process */
#define DEATHS_MAX	64

/*
 * The config: services covering what requests act on. Each command is a
 * path that does not exist, so that even a spawn through the real ops
 * (which no request should reach, see fake_ops) would fail at execve.
 */
static const char conf_fmt[] =
	"[vigil]\n"
	"socket = %s/vigil.sock\n"
	"log_dir = %s/log\n"
	"log_level = error\n"
	"log_max_size = 4K\n"
	"log_keep = 1\n"
	"log_buffer = 8K\n"
	"\n"
	"[service:db]\n"
	"command = /nonexistent/vigil-fuzz/db\n"
	"stderr = stdout\n"
	"\n"
	"[service:web]\n"
	"command = /nonexistent/vigil-fuzz/web --port 8080\n"
	"requires = db\n"
	"stderr = stdout\n"
	"\n"
	"[service:worker@1]\n"
	"command = /nonexistent/vigil-fuzz/worker 1\n"
	"after = db\n"
	"stop_signal = INT\n"
	"stdout = null\n"
	"stderr = null\n"
	"\n"
	"[service:flaky]\n"
	"command = /nonexistent/vigil-fuzz/flaky\n"
	"autostart = no\n"
	"restart = on-failure\n"
	"start_retries = 2\n"
	"stderr = stdout\n"
	"\n"
	"[service:batch]\n"
	"command = /nonexistent/vigil-fuzz/batch\n"
	"autostart = no\n"
	"restart = never\n"
	"stdout = null\n"
	"stderr = inherit\n";

static char	 tmpdir[] = "/tmp/vigil-fuzz.XXXXXX";
static struct service_ops fake_ops;
static void	(*real_changed)(struct service *, enum service_state);

/*
 * Re-creating the services costs pipes, log files and loop turns; most
 * inputs change nothing, so the set is rebuilt only when something moved:
 * a fake was called, a state or reason changed, or a field below differs
 * from what it was after the last rebuild.
 */
struct service_mark {
	const struct service_conf *conf;
	enum service_state state;
	pid_t	 pid;
	unsigned failures, restarts;
	enum service_goal goal;
	enum service_job job;
	bool	 killed, ending, ready;
};
#define MARKS_MAX	8
static struct service_mark marks[MARKS_MAX];
static size_t	 nmarks;
static bool	 dirty = true;
static const struct config *conf_marked;
static bool	 show;		/* VIGIL_FUZZ_SHOW set: every reply line goes to stderr */

/* Processes the fakes ended, handed to the state machine between loop turns as reaps are. */
static struct {
	pid_t	pid;
	int	status;
} deaths[DEATHS_MAX];
static size_t	 ndeaths;

static void
death_queue(pid_t pid, int status)
{
	for (size_t i = 0; i < ndeaths; i++)
		if (deaths[i].pid == pid)
			return;	/* already dying */
	if (ndeaths < DEATHS_MAX) {
		deaths[ndeaths].pid = pid;
		deaths[ndeaths].status = status;
		ndeaths++;
	}
}

/* The queued deaths, each as reap_children hands it on; whether there was any. */
static bool
deaths_deliver(void)
{
	struct rusage ru;
	size_t n = ndeaths;

	memset(&ru, 0, sizeof(ru));
	for (size_t i = 0; i < n; i++)
		reap_dispatch(deaths[i].pid, deaths[i].status, &ru);
	/* deaths queued while delivering (a restart's process dying at once) wait a turn */
	memmove(deaths, deaths + n, (ndeaths - n) * sizeof(deaths[0]));
	ndeaths -= n;
	return n > 0;
}

/*
 * The fake process writes a line to its stdout, as a service would, so the
 * ring, the log file and followers get lines. poll first: the write end is
 * blocking, and a full pipe must not hang the harness.
 */
static void
fake_output(struct service *s)
{
	struct pollfd p = { -1, POLLOUT, 0 };
	char line[128];
	int n, err_fd;

	if (output_spawn_fds(s->output, &p.fd, &err_fd, line, sizeof(line)) == 0 &&
	    p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLOUT)) {
		n = snprintf(line, sizeof(line), "%s: started (\xff\xfe not UTF-8, \t tab)\n",
		    s->conf->name);
		if (write(p.fd, line, (size_t)n) == -1)
			line[0] = '\0';	/* nothing to do: a line less */
	}
	output_spawned();
}

static void
mark_take(struct service_mark *m, const struct service *s)
{
	memset(m, 0, sizeof(*m));	/* padding too: marks are compared with memcmp */
	m->conf = s->conf;
	m->state = s->state;
	m->pid = s->pid;
	m->failures = s->failures;
	m->restarts = s->restarts;
	m->goal = s->goal;
	m->job = s->job;
	m->killed = s->killed;
	m->ending = s->ending;
	m->ready = s->ready;
}

static void
marks_take(void)
{
	nmarks = vigild.nservices < MARKS_MAX ? vigild.nservices : 0;
	for (size_t i = 0; i < nmarks; i++)
		mark_take(&marks[i], vigild.services[i]);
	conf_marked = vigild.conf;
	dirty = false;
}

static bool
marks_moved(void)
{
	struct service_mark m;

	if (dirty || vigild.shutting_down || vigild.conf != conf_marked ||
	    nmarks == 0 || vigild.nservices != nmarks)
		return true;
	for (size_t i = 0; i < nmarks; i++) {
		mark_take(&m, vigild.services[i]);
		if (memcmp(&m, &marks[i], sizeof(m)) != 0)
			return true;
	}
	return false;
}

static void
fake_changed(struct service *s, enum service_state from)
{
	dirty = true;
	real_changed(s, from);
}

/* flaky exits 3 and batch exits 0 at once; the others run until signalled. */
static int
fake_spawn(struct service *s, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	dirty = true;
	s->pid = FAKE_PID_BASE + (pid_t)s->index;
	fake_output(s);
	if (strcmp(s->conf->name, "flaky") == 0)
		death_queue(s->pid, 3 << 8);
	else if (strcmp(s->conf->name, "batch") == 0)
		death_queue(s->pid, 0);
	return 0;
}

/* kill(2) on the fake pids: a signal whose default action ends a process ends it. */
static int
fake_kill(pid_t pid, int sig)
{
	pid_t p = pid < 0 ? -pid : pid;
	struct service *s = supervisor_find_pid(p);

	dirty = true;
	if (s == NULL || s->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	switch (sig) {
	case 0: case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return 0;
	default:
		death_queue(p, sig);	/* killed by sig: WIFSIGNALED */
		return 0;
	}
}

/*
 * Every service timer (start_secs, back-off, stop_timeout) fires on the
 * next loop turn, through the daemon's own timer callback: time jumps, so
 * an input plays out in a few turns and the same way each run.
 */
static void
fake_timer_arm(struct service *s, int64_t ms)
{
	(void)ms;
	dirty = true;
	ev_timer_stop(vigild.loop, &s->timer);
	ev_timer_set(&s->timer, 0., 0.);
	ev_timer_start(vigild.loop, &s->timer);
}

/*
 * Services are made by world_service_new with the real ops; they get
 * the fakes before anything can start them. A reload of the unchanged
 * file adds no service, so every service a request can reach has them; if
 * that ever changed, a real spawn would fail at execve (the commands do not
 * exist), its child be reaped by reap_strays, and the next turn re-point it.
 */
static void
use_fakes(void)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (vigild.services[i]->ops == &world_ops)
			vigild.services[i]->ops = &fake_ops;
}

static void
reap_strays(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* One loop turn and what the fakes owe it; whether anything happened. */
static bool
turn(void)
{
	bool busy;

	ev_run(vigild.loop, EVRUN_NOWAIT);
	busy = deaths_deliver();
	reap_strays();
	use_fakes();
	for (size_t i = 0; i < vigild.nservices && !busy; i++)
		busy = ev_is_active(&vigild.services[i]->timer);
	return busy || ev_pending_count(vigild.loop) > 0;
}

/* A fresh set of services as vigild starts them: what a request changed is gone. */
static void
services_reset(void)
{
	control_close();
	ndeaths = 0;
	if (!marks_moved())
		return;
	supervisor_free();
	vigild.shutting_down = false;
	vigild.exit_code = 0;
	/* a reload replaced vigild.conf by an equal one, read from the same file */
	if (supervisor_init(vigild.conf) == -1)
		abort();
	use_fakes();
	supervisor_start_all();
	for (int i = 0; i < TURNS_MAX && turn(); i++)
		;
	marks_take();
}

static void
cleanup(void)
{
	control_close();
	supervisor_free();
	config_free(vigild.conf);
	vigild.conf = NULL;
	fuzz_rm_tree(tmpdir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	signal(SIGPIPE, SIG_IGN);
	show = getenv("VIGIL_FUZZ_SHOW") != NULL;
	log_init("vigild-fuzz", LOG_LEVEL_ERROR);
	vigild.conf = fuzz_config_in(tmpdir, sizeof(tmpdir), conf_fmt);
	log_set_level(vigild.conf->log_level);
	/* as main.c: a loop of our own, never the default one */
	vigild.loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
	if (vigild.loop == NULL || spawn_init() == -1)
		abort();
	output_init(vigild.loop, vigild.conf->log_dir);
	control_set_handler(commands_dispatch);
	fake_ops = world_ops;
	fake_ops.spawn = fake_spawn;
	fake_ops.kill = fake_kill;
	fake_ops.ready_unwatch = NULL;	/* every service is ready = none */
	fake_ops.timer_arm = fake_timer_arm;
	real_changed = world_ops.changed;
	fake_ops.changed = fake_changed;
	atexit(cleanup);
	return 0;
}

/* The replies read so far: complete lines are checked and dropped as they come. */
static char	*rbuf;
static size_t	 rlen, rcap;

/*
 * Lines already found valid, by a 64-bit hash: the same status and error
 * lines come back input after input, and parsing each again was about a
 * third of the time per input.
 */
#define SEEN_SLOTS	8192
static uint64_t	 seen[SEEN_SLOTS];

static uint64_t
line_hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	while (n-- > 0)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return h;
}

static void
reply_check_lines(void)
{
	size_t start = 0;
	char *nl;
	json_error_t jerr;
	json_t *j;

	while ((nl = memchr(rbuf + start, '\n', rlen - start)) != NULL) {
		size_t len = (size_t)(nl - (rbuf + start));
		uint64_t h = line_hash(rbuf + start, len);

		if (seen[h % SEEN_SLOTS] == h && !show) {
			start += len + 1;
			continue;
		}
		j = json_loadb(rbuf + start, len, 0, &jerr);
		if (j == NULL || !json_is_object(j)) {
			fprintf(stderr, "fuzz_request: reply line is not a JSON object (%s): %.*s\n",
			    j == NULL ? jerr.text : "not an object", (int)(len > 2000 ? 2000 : len),
			    rbuf + start);
			abort();
		}
		json_decref(j);
		seen[h % SEEN_SLOTS] = h;
		if (show)
			fprintf(stderr, "%.*s\n", (int)len, rbuf + start);
		start += len + 1;
	}
	memmove(rbuf, rbuf + start, rlen - start);
	rlen -= start;
}

/* Read what the daemon sent; 1 at its EOF, 0 otherwise; whether bytes came in *got. */
static int
reply_read(int fd, bool *got)
{
	ssize_t n;

	for (;;) {
		if (rcap - rlen < 65536) {
			rcap = rcap ? rcap * 2 : 131072;
			if ((rbuf = realloc(rbuf, rcap)) == NULL)
				abort();
		}
		n = recv(fd, rbuf + rlen, rcap - rlen, MSG_DONTWAIT);
		if (n > 0) {
			rlen += (size_t)n;
			*got = true;
			reply_check_lines();
			continue;
		}
		if (n == 0)
			return 1;
		if (errno == EINTR)
			continue;
		/* EAGAIN: later; ECONNRESET: the daemon dropped the client, as an EOF */
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
	}
}

/* Send the input, giving the loop turns while the socket is full; stops if nobody reads. */
static void
input_send(int fd, const uint8_t *data, size_t size, bool *eof)
{
	size_t off = 0;
	int stuck = 0;
	bool got;

	while (off < size && !*eof && stuck < TURNS_MAX) {
		ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			off += (size_t)n;
			stuck = 0;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			break;	/* the daemon closed it: the rest is never read */
		got = false;
		turn();
		*eof = reply_read(fd, &got) == 1;
		stuck = got ? 0 : stuck + 1;
	}
}

/*
 * Deterministic as far as it matters: states and timers play out the same
 * way each run. Not so: times in replies, the lines of the log files (they
 * grow and rotate across inputs), and a wait or --wait that is parked gets
 * its real timer, so a 1ms one may or may not fire within the turns.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], quiet = 0;
	bool eof = false, got;

	services_reset();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	if (control_adopt(sv[0]) == -1)
		abort();
	rlen = 0;
	input_send(sv[1], data, size, &eof);
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < TURNS_MAX && !eof && quiet < TURNS_QUIET; i++) {
		bool busy = turn();

		got = false;
		eof = reply_read(sv[1], &got) == 1;
		quiet = busy || got ? 0 : quiet + 1;
	}
	if (eof && rlen > 0) {
		fprintf(stderr, "fuzz_request: the last reply line has no newline: %.*s\n",
		    (int)(rlen > 2000 ? 2000 : rlen), rbuf);
		abort();
	}
	if (!eof) {
		/* parked, following, or not done: what is owed is flushed, the rest is cut */
		control_close();
		(void)reply_read(sv[1], &got);
	}
	close(sv[1]);
	return 0;
}
