/*
 * readiness.c: probing a starting service until it is ready.
 *
 *   fd:N    the service gets the write end of a pipe as fd N; the first
 *           newline it writes there means ready (the s6 protocol).
 *   tcp:    a non-blocking connect to HOST:PORT; accepted means ready.
 *   exec:   a check command, run like the service (user, environment,
 *           folder, output into the service's log); exit 0 means ready.
 *
 * tcp and exec retry on a timer that starts at 10 ms and doubles to 1 s,
 * so a slow service costs a few wake-ups, not a busy loop. ready_timeout
 * is the state machine's: when it passes, the service is stopped and
 * readiness_stop() ends the probe.
 */
#include "config.h"
#include "core.h"
#include "readiness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"
#include "spawnreq.h"

#define POLL_FIRST_MS	10
#define POLL_MAX_MS	1000
#define CONNECT_MAX_MS	1000	/* one attempt that hangs (a dropped SYN) is abandoned after this */

struct readiness {
	struct service	*s;
	bool		 active;	/* probing: the service is starting and not ready */
	int		 pipe_r, pipe_w;	/* fd:N */
	int		 sock;		/* tcp: the connect in flight, or -1 */
	pid_t		 check_pid;	/* exec: the check in flight, or 0 */
	ev_io		 io;		/* pipe_r or sock */
	ev_timer	 poll;		/* tcp, exec: the next attempt, or a connect's limit */
	int64_t		 interval_ms;
	size_t		 next_addr;	/* tcp: which resolved address the next attempt takes */
	char		*last_error;	/* the latest failed attempt, said once per new text */
};

static struct readiness *
get(struct service *s)
{
	struct readiness *r = s->readiness;

	if (r != NULL)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->s = s;
	r->pipe_r = r->pipe_w = r->sock = -1;
	ev_init(&r->io, NULL);
	ev_init(&r->poll, NULL);
	r->io.data = r->poll.data = r;
	s->readiness = r;
	return r;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A failed attempt: tell people when the reason is new, not at every try. */
static void
attempt_failed(struct readiness *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
attempt_failed(struct readiness *r, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	if (r->last_error != NULL && strcmp(r->last_error, msg) == 0) {
		free(msg);
		return;
	}
	log_info("%s: not ready yet: %s", r->s->conf->name, msg);
	free(r->last_error);
	r->last_error = msg;
}

static void
schedule(struct readiness *r)
{
	ev_timer_stop(vigild.loop, &r->poll);
	ev_timer_set(&r->poll, r->interval_ms / 1000.0, 0.);
	ev_timer_start(vigild.loop, &r->poll);
	if (r->interval_ms < POLL_MAX_MS)
		r->interval_ms = r->interval_ms * 2 < POLL_MAX_MS ? r->interval_ms * 2 : POLL_MAX_MS;
}

static void
ready(struct readiness *r, const char *how)
{
	/* service_ready() calls readiness_stop() through ready_unwatch */
	service_ready(r->s, how);
}

/* fd:N */

static void
pipe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct readiness *r = w->data;
	char buf[512], how[64];
	ssize_t n;

	(void)loop, (void)revents;
	n = read(r->pipe_r, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && memchr(buf, '\n', (size_t)n) == NULL)
		return;	/* a line in the making */
	if (n > 0) {
		snprintf(how, sizeof(how), "a line on fd %d", r->s->conf->ready_fd);
		ready(r, how);
		return;
	}
	/* closed without a newline: it will never say it; ready_timeout decides */
	ev_io_stop(vigild.loop, &r->io);
	close_fd(&r->pipe_r);
	service_note(r->s, "not ready: fd %d was closed without a newline",
	    r->s->conf->ready_fd);
}

int
readiness_child_fd(struct service *s)
{
	struct readiness *r = get(s);
	int p[2];

	if (r == NULL)
		return -1;
	close_fd(&r->pipe_r);
	close_fd(&r->pipe_w);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	r->pipe_r = p[0];
	r->pipe_w = p[1];
	/* the service's end blocks, as a plain pipe would */
	(void)fcntl(r->pipe_w, F_SETFL, 0);
	return r->pipe_w;
}

/* tcp: */

static void connect_attempt(struct readiness *r);

static void
connect_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct readiness *r = w->data;
	const struct service_conf *c = r->s->conf;
	socklen_t len = sizeof(int);
	int err = 0;
	char how[128];

	(void)loop, (void)revents;
	ev_io_stop(vigild.loop, &r->io);
	ev_timer_stop(vigild.loop, &r->poll);
	if (getsockopt(r->sock, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	close_fd(&r->sock);
	if (err == 0) {
		snprintf(how, sizeof(how), "%s port %s accepts connections",
		    c->ready_host, c->ready_port);
		ready(r, how);
		return;
	}
	attempt_failed(r, "connect to %s port %s: %s", c->ready_host, c->ready_port,
	    strerror(err));
	schedule(r);
}

/* Connect to the next of the addresses resolved at load: no lookup in the loop. */
static void
connect_attempt(struct readiness *r)
{
	const struct service_conf *c = r->s->conf;
	const struct ready_addr *a;

	if (c->ready_naddrs == 0) {
		attempt_failed(r, "%s: no address", c->ready_host);
		schedule(r);
		return;
	}
	/* in turn: a name may stand for ::1 and 127.0.0.1, and the service listen on one */
	a = &c->ready_addrs[r->next_addr++ % c->ready_naddrs];
	r->sock = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->sock == -1) {
		attempt_failed(r, "socket: %s", strerror(errno));
	} else if (connect(r->sock, (const struct sockaddr *)&a->sa, a->len) == 0 ||
	    errno == EINPROGRESS) {
		ev_io_init(&r->io, connect_cb, r->sock, EV_WRITE);
		r->io.data = r;
		ev_io_start(vigild.loop, &r->io);
		/* the poll timer bounds this attempt */
		ev_timer_stop(vigild.loop, &r->poll);
		ev_timer_set(&r->poll, CONNECT_MAX_MS / 1000.0, 0.);
		ev_timer_start(vigild.loop, &r->poll);
		return;
	} else {
		attempt_failed(r, "connect to %s port %s: %s", c->ready_host, c->ready_port,
		    strerror(errno));
		close_fd(&r->sock);
	}
	schedule(r);
}

/* exec: */

static void
check_attempt(struct readiness *r)
{
	const struct service_conf *c = r->s->conf;
	struct spawn_request req;
	struct spawn_error e;
	char err[256];
	pid_t pid;

	/* run as the service is, in a group of its own that readiness_stop kills */
	spawnreq_build(r->s, c->ready_argv, c->ready_exec_paths, NULL, &req);
	if (req.envp == NULL) {
		attempt_failed(r, "check command: out of memory");
		schedule(r);
		return;
	}
	/* in the service's own mounts and network, not new ones of its own */
	if (spawnreq_join(r->s, &req, err, sizeof(err)) == -1) {
		attempt_failed(r, "check command: %s", err);
		schedule(r);
		return;
	}
	if (spawnreq_output(r->s, &req, err, sizeof(err)) == -1) {
		spawnreq_output_done();
		spawnreq_join_done();
		attempt_failed(r, "check command: %s", err);
		schedule(r);
		return;
	}
	pid = spawn_process(&req, &e);
	spawnreq_output_done();
	spawnreq_join_done();
	if (pid == -1) {
		spawn_error_text(&e, err, sizeof(err));
		attempt_failed(r, "check command: %s", err);
		schedule(r);
		return;
	}
	r->check_pid = pid;
}

bool
readiness_reaped(pid_t pid, int status)
{
	char how[96];

	for (size_t i = 0; i < vigild.nservices; i++) {
		struct readiness *r = vigild.services[i]->readiness;

		if (r == NULL || r->check_pid != pid)
			continue;
		r->check_pid = 0;
		if (!r->active)
			return true;	/* killed by readiness_stop */
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			ready(r, "check command exited 0");
			return true;
		}
		process_status_text(status, how, sizeof(how));
		attempt_failed(r, "check command %s", how);
		schedule(r);
		return true;
	}
	return false;
}

static void
poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct readiness *r = w->data;
	const struct service_conf *c = r->s->conf;

	(void)loop, (void)revents;
	if (!r->active)
		return;
	if (r->sock >= 0) {
		/* the connect took too long: count it as failed */
		ev_io_stop(vigild.loop, &r->io);
		close_fd(&r->sock);
		attempt_failed(r, "connect to %s port %s: no answer within %dms",
		    c->ready_host, c->ready_port, CONNECT_MAX_MS);
		schedule(r);
		return;
	}
	if (c->ready == READY_TCP)
		connect_attempt(r);
	else if (c->ready == READY_EXEC && r->check_pid == 0)
		check_attempt(r);
}

void
readiness_spawned(struct service *s, bool ok)
{
	struct readiness *r;

	if (s->conf->ready != READY_FD && s->conf->ready != READY_TCP &&
	    s->conf->ready != READY_EXEC)
		return;
	if ((r = get(s)) == NULL) {
		log_warn("%s: readiness probe", s->conf->name);
		return;
	}
	close_fd(&r->pipe_w);	/* the child has its copy */
	if (!ok) {
		close_fd(&r->pipe_r);
		return;
	}
	r->active = true;
	r->interval_ms = POLL_FIRST_MS;
	free(r->last_error);
	r->last_error = NULL;
	if (s->conf->ready == READY_FD) {
		ev_io_init(&r->io, pipe_cb, r->pipe_r, EV_READ);
		r->io.data = r;
		ev_io_start(vigild.loop, &r->io);
		return;
	}
	/* the process has barely started: the first try comes after 10 ms */
	ev_timer_init(&r->poll, poll_cb, 0., 0.);
	r->poll.data = r;
	schedule(r);
}

void
readiness_stop(struct service *s)
{
	struct readiness *r = s->readiness;

	if (r == NULL)
		return;
	r->active = false;
	ev_io_stop(vigild.loop, &r->io);
	ev_timer_stop(vigild.loop, &r->poll);
	close_fd(&r->pipe_r);
	close_fd(&r->pipe_w);
	close_fd(&r->sock);
	/* the check leads its own group; the reaper collects it (check_pid stays) */
	if (r->check_pid > 0 && kill(-r->check_pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("%s: killing readiness check %d", s->conf->name, (int)r->check_pid);
}

void
readiness_free(struct service *s)
{
	struct readiness *r = s->readiness;

	if (r == NULL)
		return;
	readiness_stop(s);
	free(r->last_error);
	free(r);
	s->readiness = NULL;
}

bool
readiness_probing(const struct service *s)
{
	return s->readiness != NULL && s->readiness->active;
}
