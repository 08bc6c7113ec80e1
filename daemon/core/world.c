/*
 * world.c: the real world behind struct service_ops, which the state
 * machine (service.c) runs in: spawning through spawn.c with the notify
 * socket and readiness pipe a service asks for, signals, libev timers and
 * the monotonic clock; and the listeners that hear of every change. The
 * policy of when to start and stop what (dependencies, shutdown) is
 * supervisor.c's, which registers as a listener like anyone else.
 */
#include "config.h"
#include "world.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "groupfile.h"
#include "notify.h"
#include "output/output.h"
#include "process.h"
#include "readiness.h"
#include "spawnreq.h"

static struct service_listener *listeners;
static bool	(*timer_hold)(struct service *s);	/* supervisor.c's back-off rule */


/*
 * What vigild adds to a service's environment: NOTIFY_SOCKET when it may
 * talk sd_notify, WATCHDOG_USEC and WATCHDOG_PID (filled in by the child,
 * see spawn.h) when it has a watchdog. Static: one spawn at a time.
 */
static char *const *
notify_env(struct service *s, char **pid_env, char *err, size_t errlen)
{
	static char sock[128 + sizeof(((struct sockaddr_un *)0)->sun_path)];
	static char usec[48], pid[SPAWN_PID_ENV_SIZE];
	static char *extra[4];
	const struct service_conf *c = s->conf;
	const char *path;
	size_t n = 0;

	*pid_env = NULL;
	extra[0] = NULL;
	if (c->ready != READY_NOTIFY && c->watchdog_ms == 0)
		return extra;
	if ((path = notify_service_socket(s, err, errlen)) == NULL)
		return NULL;
	snprintf(sock, sizeof(sock), "NOTIFY_SOCKET=%s", path);
	extra[n++] = sock;
	if (c->watchdog_ms > 0) {
		snprintf(usec, sizeof(usec), "WATCHDOG_USEC=%lld",
		    (long long)c->watchdog_ms * 1000);
		extra[n++] = usec;
		snprintf(pid, sizeof(pid), "%s", SPAWN_PID_ENV_PREFIX);
		extra[n++] = *pid_env = pid;
	}
	extra[n] = NULL;
	return extra;
}

static int
ops_spawn(struct service *s, char *err, size_t errlen)
{
	const struct service_conf *c = s->conf;
	char *pid_env;
	char *const *extra = notify_env(s, &pid_env, err, errlen);
	struct spawn_request req;
	struct spawn_error e;
	pid_t pid;

	if (extra == NULL)
		return -1;	/* err says why */
	if (spawnreq_read_env(s, err, errlen) == -1)
		return -1;
	spawnreq_build(s, c->argv, c->exec_paths, extra, &req);
	req.extra_fd_as = c->ready_fd;
	req.pid_env = pid_env;
	if (req.envp == NULL) {
		snprintf(err, errlen, "spawn failed at environment: out of memory");
		return -1;
	}
	if (c->ready == READY_FD && (req.extra_fd = readiness_child_fd(s)) == -1) {
		snprintf(err, errlen, "spawn failed at pipe for fd %d: %s", c->ready_fd,
		    strerror(errno));
		return -1;
	}
	if (cgroup_enabled() && (req.cgroup_fd = cgroup_dir_fd(s, err, errlen)) == -1) {
		readiness_spawned(s, false);
		return -1;	/* err says why */
	}
	if (spawnreq_output(s, &req, err, errlen) == -1) {
		spawnreq_output_done();
		if (req.cgroup_fd >= 0)
			close(req.cgroup_fd);
		readiness_spawned(s, false);
		return -1;	/* err says why */
	}
	pid = spawn_process(&req, &e);
	spawnreq_output_done();
	if (req.cgroup_fd >= 0)
		close(req.cgroup_fd);
	if (pid == -1) {
		spawn_error_text(&e, err, errlen);
		readiness_spawned(s, false);
		return -1;
	}
	s->pid = pid;
	readiness_spawned(s, true);
	if (!cgroup_enabled())
		groupfile_spawned(s);
	return 0;
}

static int
ops_procs_signal(struct service *s, int sig)
{
	return cgroup_signal(s, sig);
}

/* From its cgroup; without one, whether its process group (or main process) is alive. */
static int
ops_procs_count(struct service *s)
{
	int n = cgroup_count(s);

	if (n >= 0)
		return n;
	if (s->pgid > 1 && kill(-s->pgid, 0) == 0)
		return 1;
	return s->pid > 1 && kill(s->pid, 0) == 0;
}

/*
 * A main process that is not vigild's child (MAINPID= named a process
 * whose parent is alive and not us): its exit raises no SIGCHLD here,
 * so a pidfd tells. If it became our child meanwhile, wait4 reports it.
 */
#ifndef P_PIDFD
#define P_PIDFD	3
#endif
struct main_watch {
	ev_io	 io;
	pid_t	 pid;
};

static void
main_watch_stop(struct service *s)
{
	struct main_watch *w = s->main_watch;

	if (w == NULL)
		return;
	ev_io_stop(vigild.loop, &w->io);
	close(w->io.fd);
	free(w);
	s->main_watch = NULL;
}

static void
main_watch_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct service *s = io->data;
	siginfo_t si;

	(void)loop, (void)revents;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)io->fd, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
		main_watch_stop(s);	/* our child after all: reap.c reports it */
		return;
	}
	main_watch_stop(s);
	if (s->pid <= 0)
		return;
	log_info("%s: main pid %d is gone (not vigild's child: its exit status is "
	    "unknown)", s->conf->name, (int)s->pid);
	notify_drain(s);
	output_process_ended(s->output);
	service_process_ended(s, EXIT_STATUS_UNKNOWN, NULL);
}

static void
ops_main_changed(struct service *s)
{
	struct main_watch *w = s->main_watch;
	int fd;

	if (w != NULL && w->pid == s->pid)
		return;
	main_watch_stop(s);
	if (s->pid <= 1 || process_parent_of(s->pid) == getpid())
		return;
	if ((fd = (int)syscall(SYS_pidfd_open, s->pid, 0)) == -1 ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		if (fd != -1)
			close(fd);
		log_warn("%s: watching main pid %d (pidfd_open); its exit may go unseen",
		    s->conf->name, (int)s->pid);
		return;
	}
	w->pid = s->pid;
	ev_io_init(&w->io, main_watch_cb, fd, EV_READ);
	w->io.data = s;
	ev_io_start(vigild.loop, &w->io);
	s->main_watch = w;
}

static int
ops_kill(pid_t pid, int sig)
{
	/* never every process we may signal (-1), our own group (0) or init (1, -1) */
	if (pid >= -1 && pid <= 1) {
		errno = ESRCH;
		return -1;
	}
	return kill(pid, sig);
}


/*
 * Restarts of one loop turn stop once they took this long. A crash storm
 * makes hundreds of back-off timers due at once, and each spawn holds the
 * loop until its child has called execve (CLONE_VFORK): 0.3 ms on an idle
 * machine, several on a loaded one. The rest wait a turn (a zero timer),
 * so the control socket and the pipes are served between batches, however
 * slow spawning is just then.
 */
#define RESTART_BUDGET_MS	3

static ev_prepare turn_prepare;	/* a new loop turn: the batch starts again */
static unsigned	  restarts_this_turn;
static int64_t	  turn_restarts_began;	/* when the first restart of this turn began */

static void
turn_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	restarts_this_turn = 0;
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct service *s = w->data;
	int64_t left;

	(void)revents;
	/* never early: a timer armed in a long turn is re-armed for what is left */
	if (s->timer_due_ms > 0 && (left = s->timer_due_ms - process_now_ms()) > 0) {
		ev_now_update(loop);
		ev_timer_set(w, left / 1000.0, 0.);
		ev_timer_start(loop, w);
		return;
	}
	if (s->state == SERVICE_BACKOFF && restarts_this_turn > 0 &&
	    process_now_ms() - turn_restarts_began >= RESTART_BUDGET_MS) {
		ev_timer_set(w, 0., 0.);
		ev_timer_start(loop, w);
		return;
	}
	if (timer_hold != NULL && timer_hold(s)) {
		s->timer_due_ms = 0;
		return;
	}
	if (s->state == SERVICE_BACKOFF && restarts_this_turn++ == 0)
		turn_restarts_began = process_now_ms();
	service_timer_fired(s);
}

/*
 * libev counts from the time the loop turn began (ev_now); a turn that
 * spawned 300 services is long, so the clock is read again first, or
 * start_secs and its kin would end early by the turn's length.
 */
static void
ops_timer_arm(struct service *s, int64_t ms)
{
	ev_timer_stop(vigild.loop, &s->timer);
	ev_now_update(vigild.loop);
	ev_timer_set(&s->timer, ms / 1000.0, 0.);
	ev_timer_start(vigild.loop, &s->timer);
}

static void
ops_timer_disarm(struct service *s)
{
	ev_timer_stop(vigild.loop, &s->timer);
}

void
world_listen(struct service_listener *l)
{
	for (struct service_listener *k = listeners; k != NULL; k = k->next)
		if (k == l)
			return;		/* already there: a second init must not make a loop */
	l->next = listeners;
	listeners = l;
}

void
world_removed(struct service *s)
{
	for (struct service_listener *l = listeners; l != NULL; l = l->next)
		if (l->removed != NULL)
			l->removed(l->arg, s);
}

static void
ops_changed(struct service *s, enum service_state from)
{
	if (s->pid == 0 && !s->ending && !cgroup_enabled())
		groupfile_gone(s);
	for (struct service_listener *l = listeners; l != NULL; l = l->next)
		if (l->changed != NULL)
			l->changed(l->arg, s, from);
}

const struct service_ops world_ops = {
	.spawn = ops_spawn,
	.kill = ops_kill,
	.ready_unwatch = readiness_stop,
	.timer_arm = ops_timer_arm,
	.timer_disarm = ops_timer_disarm,
	.now_ms = process_now_ms,
	.changed = ops_changed,
	.procs_signal = ops_procs_signal,
	.procs_count = ops_procs_count,
	.main_changed = ops_main_changed,
};

void
world_init(bool (*hold)(struct service *s))
{
	timer_hold = hold;
	ev_prepare_init(&turn_prepare, turn_prepare_cb);
	ev_prepare_start(vigild.loop, &turn_prepare);
}

void
world_free(void)
{
	if (vigild.loop != NULL)
		ev_prepare_stop(vigild.loop, &turn_prepare);
	spawnreq_free();
}

struct service *
world_service_new(const struct service_conf *c, size_t index)
{
	struct service *s = service_new(c, &world_ops);

	if (s == NULL)
		return NULL;
	ev_init(&s->timer, timer_cb);
	s->timer.data = s;
	s->index = index;
	return s;
}

void
world_service_free(struct service *s)
{
	ev_timer_stop(vigild.loop, &s->timer);
	main_watch_stop(s);
	cgroup_service_free(s);
	output_free(s->output);
	s->output = NULL;
	readiness_free(s);
	notify_service_free(s);
	service_free(s);
}
