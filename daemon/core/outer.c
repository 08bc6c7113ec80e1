/*
 * outer.c: vigild under a supervisor of its own, systemd's Type=notify
 * (the sd_notify protocol, sent by libsystemd):
 *
 *   READY=1     once the control socket is up and every autostart service
 *               has been started and is ready, or was given up on (a failed
 *               start in back-off, fatal, exited, or blocked by what it
 *               requires): ready_timeout bounds the wait;
 *   STATUS=     "3 running, 1 backoff", sent again whenever it changes;
 *   RELOADING=1 and READY=1 around a reload; STOPPING=1 at shutdown;
 *   WATCHDOG=1  every WATCHDOG_USEC/2 when the unit has WatchdogSec=.
 *
 * libsystemd's sd_notify reads NOTIFY_SOCKET from the environment, which
 * services must not inherit (a service under vigil would report to systemd
 * as if it were vigild). So the value is kept here, and put in the
 * environment only for the length of one sd_notify(1, ...) call, which
 * takes it out again; vigild is one thread and spawns nothing meanwhile.
 */
#include "config.h"
#include "outer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "core.h"

static char	*notify_socket;		/* NULL: nobody to tell */
static uint64_t	 watchdog_usec;		/* 0: no watchdog asked for */
static int	 listen_fd = -1;
static struct ev_loop *loop;
static ev_timer	 watchdog_timer;
static bool	 started, ready_sent;
static char	 status_sent[256];

static const char *const outer_vars[] = {
	"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
	"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
};

/* WATCHDOG_USEC, when WATCHDOG_PID (if set) is us */
static uint64_t
watchdog_of_env(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;
	unsigned long long v;

	if (usec == NULL || (pid != NULL && strtol(pid, NULL, 10) != (long)getpid()))
		return 0;
	errno = 0;
	v = strtoull(usec, &end, 10);
	return errno != 0 || *end != '\0' ? 0 : (uint64_t)v;
}

void
outer_init(void)
{
	const char *ns = getenv("NOTIFY_SOCKET");

#ifdef HAVE_LIBSYSTEMD
	if (ns != NULL && ns[0] != '\0')
		notify_socket = strdup(ns);	/* lost to a failed strdup: nothing is told */
	watchdog_usec = watchdog_of_env();
	/* checks LISTEN_PID is us; more than one socket: only the first is ours */
	if (sd_listen_fds(0) >= 1)
		listen_fd = SD_LISTEN_FDS_START;
#else
	(void)ns;
	(void)watchdog_of_env;
#endif
	for (size_t i = 0; i < sizeof(outer_vars) / sizeof(outer_vars[0]); i++)
		unsetenv(outer_vars[i]);
}

int
outer_listen_fd(void)
{
	return listen_fd;
}

bool
outer_notifying(void)
{
	return notify_socket != NULL;
}

static void
tell(const char *text)
{
#ifdef HAVE_LIBSYSTEMD
	int r;

	if (notify_socket == NULL)
		return;
	if (setenv("NOTIFY_SOCKET", notify_socket, 1) == -1) {
		log_warn("notifying the service manager");
		return;
	}
	/* 1: sd_notify unsets NOTIFY_SOCKET again before it returns */
	if ((r = sd_notify(1, text)) < 0)
		log_warnx("notifying the service manager (%.*s): %s",
		    (int)strcspn(text, "\n"), text, strerror(-r));
	unsetenv("NOTIFY_SOCKET");	/* in case it failed before its own unset */
#else
	(void)text;
#endif
}

static void
watchdog_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l, (void)w, (void)revents;
	tell("WATCHDOG=1");
}

void
outer_start(struct ev_loop *l)
{
	loop = l;
	if (notify_socket == NULL || watchdog_usec == 0)
		return;
	/* half the period, as sd_watchdog_enabled(3) advises */
	ev_timer_init(&watchdog_timer, watchdog_cb, 0., watchdog_usec / 2e6);
	ev_timer_again(loop, &watchdog_timer);
	tell("WATCHDOG=1");
}

/* Still on its way up: started and not yet ready, or waiting to be started. */
static bool
coming_up(const struct service *s)
{
	if (s->job == JOB_START || s->job == JOB_RESTART)
		return true;
	return s->state == SERVICE_STARTING || (s->state == SERVICE_RUNNING && !s->ready);
}

/* "3 running, 1 backoff": every state that has services, in the states' order */
static void
summary(char *buf, size_t len)
{
	size_t count[SERVICE_NSTATES] = { 0 }, n = 0;

	for (size_t i = 0; i < vigild.nservices; i++)
		count[vigild.services[i]->state]++;
	buf[0] = '\0';
	for (int st = 0; st < SERVICE_NSTATES && n < len; st++) {
		if (count[st] == 0)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%zu %s", n > 0 ? ", " : "",
		    count[st], service_state_name((enum service_state)st));
	}
	if (vigild.nservices == 0)
		snprintf(buf, len, "no services");
}

void
outer_services_changed(void)
{
	char text[sizeof(status_sent) + 16], now[sizeof(status_sent)];

	if (notify_socket == NULL)
		return;
	summary(now, sizeof(now));
	if (strcmp(now, status_sent) != 0) {
		snprintf(status_sent, sizeof(status_sent), "%s", now);
		snprintf(text, sizeof(text), "STATUS=%s", now);
		tell(text);
	}
	if (!started || ready_sent || vigild.shutting_down)
		return;
	for (size_t i = 0; i < vigild.nservices; i++)
		if (vigild.services[i]->conf->autostart && coming_up(vigild.services[i]))
			return;
	ready_sent = true;
	tell("READY=1");
}

void
outer_services_started(void)
{
	started = true;
	outer_services_changed();
}

void
outer_reloading(void)
{
	struct timespec ts;
	char text[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* MONOTONIC_USEC: what Type=notify-reload needs to match the reload up */
	snprintf(text, sizeof(text), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	tell(text);
}

void
outer_reloaded(void)
{
	tell("READY=1");
}

void
outer_stopping(void)
{
	tell("STOPPING=1");
}

void
outer_free(void)
{
	if (loop != NULL)
		ev_timer_stop(loop, &watchdog_timer);
	free(notify_socket);
	notify_socket = NULL;
}

/*
 * daemon-reexec: the same process goes on under the service manager, so
 * what it was told at start goes back into the environment for execve
 * (WATCHDOG_PID is still us); outer_env_clear takes it out again if the
 * exec failed. Never LISTEN_*: the socket is handed over by number.
 */
void
outer_env_restore(void)
{
	char v[32];

	if (notify_socket != NULL)
		(void)setenv("NOTIFY_SOCKET", notify_socket, 1);
	if (watchdog_usec > 0) {
		snprintf(v, sizeof(v), "%" PRIu64, watchdog_usec);
		(void)setenv("WATCHDOG_USEC", v, 1);
		snprintf(v, sizeof(v), "%d", (int)getpid());
		(void)setenv("WATCHDOG_PID", v, 1);
	}
}

void
outer_env_clear(void)
{
	for (size_t i = 0; i < sizeof(outer_vars) / sizeof(outer_vars[0]); i++)
		unsetenv(outer_vars[i]);
}
