/*
 * fuzz_notify.c: the libFuzzer target of the sd_notify message parser
 * (core/notify.c). An input's first byte picks a service and the state it
 * is in; the rest is one datagram, sent to that service's real notify
 * socket and read by notify_drain(). Spawn, kill, timers and the clock are fakes.
 */
#include "config.h"
#include "vigild.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/notify.h"
#include "fuzz_tmpdir.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAKE_PID_BASE	0x7fff0000	/* far above any pid_max: never a real process */
#define STEPS_MAX	8	/* timers played out after a message */

/* "n" waits for READY=1 and has a watchdog; "w" is ready when up, with a watchdog too. */
static const char conf_fmt[] =
	"[vigil]\n"
	"socket = %s/vigil.sock\n"
	"log_dir = %s/log\n"
	"\n"
	"[service:n]\n"
	"command = /nonexistent/vigil-fuzz/n\n"
	"ready = notify\n"
	"ready_timeout = 5s\n"
	"watchdog = 2s\n"
	"stop_timeout = 3s\n"
	"\n"
	"[service:w]\n"
	"command = /nonexistent/vigil-fuzz/w\n"
	"watchdog = 1s\n"
	"restart = on-failure\n";

static char	 tmpdir[] = "/tmp/vigil-fuzz-notify.XXXXXX";
static struct config *conf;
static int	 sender = -1;
static int64_t	 now_ms;
static bool	 armed[2];
static int64_t	 due_ms[2];
static bool	 died[2];
static bool	 show;		/* VIGIL_FUZZ_SHOW set: the service after each message, on stderr */
static int	 death_status[2];

static void
fail(const char *what, const uint8_t *data, size_t size)
{
	fprintf(stderr, "fuzz_notify: %s; datagram: '%.*s'\n", what,
	    (int)(size > 2000 ? 2000 : size), (const char *)data);
	abort();
}

/* As the daemon's spawn: the notify socket first, then a (fake) process. */
static int
fake_spawn(struct service *s, char *err, size_t errlen)
{
	if (notify_service_socket(s, err, errlen) == NULL)
		return -1;
	s->pid = FAKE_PID_BASE + (pid_t)s->index;
	return 0;
}

/* A signal whose default action ends a process ends the fake one. */
static int
fake_kill(pid_t pid, int sig)
{
	pid_t p = pid < 0 ? -pid : pid;
	size_t i = (size_t)(p - FAKE_PID_BASE);

	if (p < FAKE_PID_BASE || i >= 2) {
		errno = ESRCH;
		return -1;
	}
	if (sig != 0 && sig != SIGCHLD && sig != SIGCONT && sig != SIGURG && sig != SIGWINCH &&
	    sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) {
		died[i] = true;
		death_status[i] = sig;
	}
	return 0;
}

static void
fake_arm(struct service *s, int64_t ms)
{
	armed[s->index] = true;
	due_ms[s->index] = now_ms + ms;
}

static void
fake_disarm(struct service *s)
{
	armed[s->index] = false;
}

static int64_t
fake_now(void)
{
	return now_ms;
}

static const struct service_ops fake_ops = {
	.spawn = fake_spawn, .kill = fake_kill, .timer_arm = fake_arm,
	.timer_disarm = fake_disarm, .now_ms = fake_now,
};

static void
cleanup(void)
{
	close(sender);
	notify_cleanup();
	config_free(conf);
	fuzz_rm_tree(tmpdir);
}

static void
send_datagram(struct service *s, const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256];
	const char *path = notify_service_socket(s, err, sizeof(err));

	if (path == NULL || strlen(path) >= sizeof(sa.sun_path))
		fail("the service has no notify socket", (const uint8_t *)err, strlen(err));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (sendto(sender, data, size, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) !=
	    (ssize_t)size)
		fail("sendto the notify socket failed", data, size);
}

/* The service fresh, started, and then as the first byte says: starting, ready or stopping. */
static struct service *
service_prepare(size_t index, unsigned state)
{
	struct service *s = service_new(conf->services[index], &fake_ops);

	if (s == NULL)
		abort();
	/* the clock too starts over: huge timers played out would carry it past 2^63 */
	now_ms = 1000000;
	s->index = index;
	armed[index] = died[index] = false;
	service_start(s);
	if (s->state != SERVICE_STARTING)
		fail("the fake spawn did not start the service", NULL, 0);
	if (state >= 1)
		service_ready(s, "the harness");
	if (state == 2)
		service_stop(s);
	return s;
}

static void
service_drop(struct service *s)
{
	notify_service_free(s);
	service_free(s);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char probe[] = "STATUS=probe\nREADY=1\n";
	struct service *s;

	(void)argc, (void)argv;
	show = getenv("VIGIL_FUZZ_SHOW") != NULL;
	log_init("vigild-fuzz", show ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	conf = fuzz_config_in(tmpdir, sizeof(tmpdir), conf_fmt);
	/* notify_service_socket starts an ev_io on it; the loop itself never runs */
	vigild.loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
	if (vigild.loop == NULL || notify_init(conf->socket_path) == -1)
		abort();
	if ((sender = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		abort();
	atexit(cleanup);
	/* the harness's own messages must be heard, or every input would test nothing */
	s = service_prepare(0, 0);
	send_datagram(s, (const uint8_t *)probe, strlen(probe));
	notify_drain(s);
	if (!s->ready || s->state != SERVICE_RUNNING || s->status_text == NULL ||
	    strcmp(s->status_text, "probe") != 0)
		fail("notify.c does not hear the harness (a sender check changed?)",
		    (const uint8_t *)probe, strlen(probe));
	service_drop(s);
	return 0;
}

/* What a message can change, to tell that a dropped one changed nothing. */
struct snapshot {
	enum service_state state;
	bool	 ready, reloading;
	pid_t	 pid;
	int64_t	 watchdog_ms, timer_due_ms, ready_due_ms;
	int	 notify_errno;
	char	*status_text;
};

static void
snapshot_take(struct snapshot *sn, const struct service *s)
{
	sn->state = s->state;
	sn->ready = s->ready;
	sn->reloading = s->reloading;
	sn->pid = s->pid;
	sn->watchdog_ms = s->watchdog_ms;
	sn->timer_due_ms = s->timer_due_ms;
	sn->ready_due_ms = s->ready_due_ms;
	sn->notify_errno = s->notify_errno;
	sn->status_text = s->status_text ? strdup(s->status_text) : NULL;
}

static bool
snapshot_same(const struct snapshot *sn, const struct service *s)
{
	return sn->state == s->state && sn->ready == s->ready && sn->reloading == s->reloading &&
	    sn->pid == s->pid && sn->watchdog_ms == s->watchdog_ms &&
	    sn->timer_due_ms == s->timer_due_ms && sn->ready_due_ms == s->ready_due_ms &&
	    sn->notify_errno == s->notify_errno &&
	    (sn->status_text == NULL ? s->status_text == NULL :
	    s->status_text != NULL && strcmp(sn->status_text, s->status_text) == 0);
}

/* Whether the datagram has a line (as notify.c cuts them, at '\n') equal to, or starting with, what. */
static bool
has_line(const uint8_t *data, size_t size, const char *what, bool prefix)
{
	size_t wlen = strlen(what), start = 0;

	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) : size - start;

		if (prefix ? len >= wlen && memcmp(data + start, what, wlen) == 0 :
		    len == wlen && memcmp(data + start, what, wlen) == 0)
			return true;
		start += len + 1;
	}
	return false;
}

/*
 * The value of the last WATCHDOG_USEC= line that notify.c takes (digits
 * only, within 64 bits, at most NOTIFY_USEC_MAX: a larger one is refused
 * and leaves the watchdog as it was), or -1 if none is taken.
 */
static long long
watchdog_usec_last(const uint8_t *data, size_t size)
{
	static const char key[] = "WATCHDOG_USEC=";
	size_t klen = sizeof(key) - 1, start = 0;
	long long last = -1;

	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) : size - start;
		const uint8_t *v = data + start + klen;
		unsigned long long n = 0;
		bool ok = len > klen && memcmp(data + start, key, klen) == 0;

		for (size_t i = 0; ok && i < len - klen; i++) {
			unsigned d = (unsigned)(v[i] - '0');

			/* as strtoull: a value over 2^64 - 1 is refused */
			ok = v[i] >= '0' && v[i] <= '9' && (n < ~0ULL / 10 ||
			    (n == ~0ULL / 10 && d <= ~0ULL % 10));
			n = n * 10 + d;
		}
		if (ok && n <= NOTIFY_USEC_MAX)
			last = (long long)n;
		start += len + 1;
	}
	return last;
}

/* Let the timers the message armed fire, and the fake processes they ended die. */
static void
play_out(struct service *s)
{
	for (int i = 0; i < STEPS_MAX; i++) {
		if (died[s->index] && s->pid > 0) {
			died[s->index] = false;
			now_ms += 1;
			service_process_ended(s, death_status[s->index], NULL);
		} else if (armed[s->index]) {
			armed[s->index] = false;
			if (due_ms[s->index] > now_ms)
				now_ms = due_ms[s->index];
			service_timer_fired(s);
		} else
			break;
		if (s->state >= SERVICE_NSTATES)
			fail("a service in no state", NULL, 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot before;
	struct service *s;
	bool accepted, was_starting, was_up;
	long long usec;

	if (size == 0)
		return 0;
	s = service_prepare(data[0] & 1, (unsigned)(data[0] >> 1) % 3);
	data++, size--;
	accepted = size <= NOTIFY_MSG_MAX && memchr(data, '\0', size) == NULL;
	was_starting = s->state == SERVICE_STARTING;
	was_up = was_starting || s->state == SERVICE_RUNNING;
	snapshot_take(&before, s);
	send_datagram(s, data, size);
	notify_drain(s);
	if (!accepted && !snapshot_same(&before, s))
		fail("a dropped datagram (too long, or with a NUL) changed the service", data, size);
	if (accepted && was_starting && has_line(data, size, "READY=1", false) &&
	    (!s->ready || s->state != SERVICE_RUNNING))
		fail("READY=1 did not make a starting service ready", data, size);
	if (accepted && !has_line(data, size, "STATUS=", true) &&
	    (before.status_text != NULL || s->status_text != NULL))
		fail("the status text changed without STATUS=", data, size);
	if (accepted && has_line(data, size, "STATUS=", true) && s->status_text == NULL)
		fail("STATUS= set no status text", data, size);
	if (s->status_text != NULL && strchr(s->status_text, '\n') != NULL)
		fail("a status text holds a newline: lines were not cut", data, size);
	if (s->notify_errno < 0 || s->notify_errno >= 4096)
		fail("ERRNO= out of range was kept", data, size);
	if (s->watchdog_ms < 0)
		fail("a negative watchdog", data, size);
	/* microseconds, rounded up to whole ms, while the service is up */
	if (accepted && was_up && (usec = watchdog_usec_last(data, size)) >= 0 &&
	    s->watchdog_ms != (usec + 999) / 1000)
		fail("WATCHDOG_USEC= did not set the watchdog to its ms", data, size);
	free(before.status_text);
	if (show)
		fprintf(stderr, "fuzz_notify: %s: %s%s, watchdog %lldms, timer %s %lldms, "
		    "status '%s', errno %d\n", s->conf->name, service_state_name(s->state),
		    s->ready ? " (ready)" : "", (long long)s->watchdog_ms,
		    armed[s->index] ? "due in" : "off", armed[s->index] ?
		    (long long)(due_ms[s->index] - now_ms) : 0LL,
		    s->status_text ? s->status_text : "", s->notify_errno);
	play_out(s);
	service_drop(s);
	return 0;
}
