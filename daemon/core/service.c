/*
 * service.c: the life cycle of one service, as one state machine.
 * service_set_state() is the only writer of s->state and checks every move
 * against the transition table. Spawning, signals, timers and the clock come
 * through struct service_ops, so tests drive this file with fakes.
 */
#include "config.h"
#include "core.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"
#include "signame.h"
#include "duration.h"

static const char *const state_names[SERVICE_NSTATES] = {
	[SERVICE_STOPPED] = "stopped",
	[SERVICE_STARTING] = "starting",
	[SERVICE_RUNNING] = "running",
	[SERVICE_STOPPING] = "stopping",
	[SERVICE_BACKOFF] = "backoff",
	[SERVICE_EXITED] = "exited",
	[SERVICE_FATAL] = "fatal",
};

#define S(x) (1u << SERVICE_##x)
/* allowed[from] is the set of states a service may move to from `from` */
static const unsigned allowed[SERVICE_NSTATES] = {
	[SERVICE_STOPPED] = S(STARTING),
	[SERVICE_STARTING] = S(RUNNING) | S(STOPPING) | S(BACKOFF) | S(EXITED) | S(FATAL),
	/* running but not ready yet: a death is a failed start, so fatal too */
	[SERVICE_RUNNING] = S(STOPPING) | S(BACKOFF) | S(EXITED) | S(FATAL),
	/* a stop vigild sent itself (not ready in time, watchdog) ends as a failure */
	[SERVICE_STOPPING] = S(STOPPED) | S(STARTING) | S(BACKOFF) | S(EXITED) | S(FATAL),
	[SERVICE_BACKOFF] = S(STARTING) | S(STOPPED),
	[SERVICE_EXITED] = S(STARTING) | S(STOPPED),
	[SERVICE_FATAL] = S(STARTING) | S(STOPPED),
};
#undef S

/* Seconds since the epoch, for people (state changes, exits); timing uses ops->now_ms. */
static double
wall_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

const char *
service_state_name(enum service_state state)
{
	return state < SERVICE_NSTATES ? state_names[state] : "?";
}

struct service *
service_new(const struct service_conf *conf, const struct service_ops *ops)
{
	struct service *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->conf = conf;
	s->ops = ops;
	s->state = SERVICE_STOPPED;
	s->state_since_ms = ops->now_ms();
	s->state_since_wall = wall_now();
	if ((s->reason = strdup(conf->autostart ? "not started yet" : "autostart is off")) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
service_free(struct service *s)
{
	if (s == NULL)
		return;
	free(s->reason);
	free(s->status_text);
	free(s->last_exit.spawn_error);
	for (size_t i = 0; s->file_env != NULL && s->file_env[i] != NULL; i++)
		free(s->file_env[i]);
	free(s->file_env);
	free(s);
}

/*
 * daemon-reexec: take back what the vigild before the exec had of s. Its
 * process runs on (same pid, still our child) and its deadlines are on
 * the monotonic clock, which goes on across execve: the timer is armed
 * for what is left of it. Strings are copied; saved keeps its own.
 */
int
service_restore(struct service *s, const struct service *saved)
{
	char *reason = saved->reason != NULL ? strdup(saved->reason) : NULL;
	char *text = saved->status_text != NULL ? strdup(saved->status_text) : NULL;
	char *serr = saved->last_exit.spawn_error != NULL ?
	    strdup(saved->last_exit.spawn_error) : NULL;

	if ((saved->reason != NULL && reason == NULL) ||
	    (saved->status_text != NULL && text == NULL) ||
	    (saved->last_exit.spawn_error != NULL && serr == NULL)) {
		free(reason);
		free(text);
		free(serr);
		return -1;
	}
	free(s->reason);
	free(s->status_text);
	free(s->last_exit.spawn_error);
	s->state = saved->state;
	s->goal = saved->goal;
	s->pid = saved->pid;
	s->pgid = saved->pgid;
	s->state_since_ms = saved->state_since_ms;
	s->state_since_wall = saved->state_since_wall;
	s->started_ms = saved->started_ms;
	s->timer_due_ms = saved->timer_due_ms;
	s->failures = saved->failures;
	s->restarts = saved->restarts;
	s->restarts_total = saved->restarts_total;
	s->killed = saved->killed;
	s->forced = saved->forced;
	s->ending = saved->ending;
	s->end_early = saved->end_early;
	s->end_status = saved->end_status;
	s->ready = saved->ready;
	s->reloading = saved->reloading;
	s->stop_cause = saved->stop_cause;
	s->ready_due_ms = saved->ready_due_ms;
	s->watchdog_ms = saved->watchdog_ms;
	s->notify_errno = saved->notify_errno;
	s->last_exit = saved->last_exit;
	s->last_exit.spawn_error = serr;
	s->reason = reason;
	s->status_text = text;
	if (s->timer_due_ms > 0) {
		int64_t left = s->timer_due_ms - s->ops->now_ms();

		s->ops->timer_arm(s, left > 0 ? left : 0);
	}
	if (s->ops->main_changed != NULL)
		s->ops->main_changed(s);
	return 0;
}

/*
 * Reasons are allocated to fit: a thousand services cost a thousand short
 * strings, not a thousand 256-byte buffers. Out of memory keeps the old one.
 */
static void
set_reason(struct service *s, const char *fmt, va_list ap)
{
	char *r;

	if (vasprintf(&r, fmt, ap) == -1)
		return;
	free(s->reason);
	s->reason = r;
}

static void
set_reasonf(struct service *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_reasonf(struct service *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_reason(s, fmt, ap);
	va_end(ap);
}

static void
clear_exit(struct exit_info *e)
{
	free(e->spawn_error);
	memset(e, 0, sizeof(*e));
}

static void
service_set_state(struct service *s, enum service_state next, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
service_set_state(struct service *s, enum service_state next, const char *fmt, ...)
{
	enum service_state from = s->state;
	va_list ap;

	if (from != next && !(allowed[from] & (1u << next)))
		fatalx("%s: broken invariant: transition %s -> %s", s->conf->name,
		    state_names[from], state_names[next]);
	va_start(ap, fmt);
	set_reason(s, fmt, ap);
	va_end(ap);
	s->state = next;
	s->state_since_ms = s->ops->now_ms();
	s->state_since_wall = wall_now();
	if (next == SERVICE_FATAL || (next == SERVICE_BACKOFF && s->failures > 0))
		log_warnx("%s: %s -> %s (%s)", s->conf->name, state_names[from],
		    state_names[next], s->reason);
	else
		log_notice("%s: %s -> %s (%s)", s->conf->name, state_names[from],
		    state_names[next], s->reason);
	if (s->ops->changed != NULL)
		s->ops->changed(s, from);
}

/* "READY=1", "a line on fd 3", ...: what a service of c waits for to be ready */
static void service_ready_what(const struct service_conf *c, char *buf, size_t len);

static void
arm(struct service *s, int64_t ms)
{
	s->timer_due_ms = s->ops->now_ms() + ms;
	s->ops->timer_arm(s, ms);
}

static void
disarm(struct service *s)
{
	s->timer_due_ms = 0;
	s->ops->timer_disarm(s);
}

int64_t
service_backoff_ms(const struct service_conf *c, unsigned failures)
{
	int64_t d = c->restart_delay_ms;

	/* restart_delay after a good run; doubled per failed start in a row */
	for (unsigned i = 1; i < failures && d < c->restart_delay_max_ms; i++)
		d *= 2;
	return d < c->restart_delay_max_ms ? d : c->restart_delay_max_ms;
}

/* A start attempt failed (spawn error, or died before start_secs). */
static void
service_failed_start(struct service *s, const char *what)
{
	const struct service_conf *c = s->conf;
	char delay[32];
	int64_t ms;

	s->failures++;
	if (c->start_retries > 0 && s->failures >= c->start_retries) {
		service_set_state(s, SERVICE_FATAL, "%s; gave up after %u failed starts",
		    what, s->failures);
		return;
	}
	ms = service_backoff_ms(c, s->failures);
	duration_format(ms, delay, sizeof(delay));
	arm(s, ms);
	service_set_state(s, SERVICE_BACKOFF, "%s; failed start %u, retry in %s",
	    what, s->failures, delay);
}

/* Starting ends at start_secs, or earlier when the ready deadline comes first. */
static void
arm_starting(struct service *s)
{
	int64_t ms = s->conf->start_secs_ms, left;

	if (s->ready_due_ms > 0) {
		left = s->ready_due_ms - s->ops->now_ms();
		if (left < ms)
			ms = left > 0 ? left : 0;
	}
	arm(s, ms);
}

static void
unwatch(struct service *s)
{
	if (s->ops->ready_unwatch != NULL)
		s->ops->ready_unwatch(s);
}

/* Whether the main process has left the process group (MAINPID= named one outside it). */
static bool
main_outside_group(const struct service *s)
{
	pid_t g;

	if (s->pid <= 0 || s->pid == s->pgid)
		return false;
	g = getpgid(s->pid);
	return g != -1 && g != s->pgid;
}

int
service_signal(struct service *s, int sig, bool main_only, struct service_signal_result *res)
{
	int group_errno = 0, n;

	memset(res, 0, sizeof(*res));
	res->processes = -1;
	if (main_only) {
		if (s->pid > 1 && s->ops->kill(s->pid, sig) == 0) {
			res->pid = s->pid;
			res->processes = 1;
			res->reached = true;
			return 0;
		}
		res->failed = s->pid > 1 && errno != ESRCH;
		snprintf(res->why, sizeof(res->why), "main process %d: %s", (int)s->pid,
		    s->pid > 1 ? strerror(errno) : "none");
		return res->failed ? -1 : 0;
	}
	/* its cgroup holds every process, the main one and any that left the group */
	if (s->ops->procs_signal != NULL && (n = s->ops->procs_signal(s, sig)) >= 0) {
		res->processes = n;
		res->reached = n > 0;
		if (!res->reached)
			snprintf(res->why, sizeof(res->why), "no process left in its cgroup");
		return 0;
	}
	if (s->pgid > 1 && s->ops->kill(-s->pgid, sig) == 0)
		res->group = s->pgid;
	else
		group_errno = s->pgid > 1 ? errno : ESRCH;
	if (main_outside_group(s) || (res->group == 0 && s->pid > 1 && s->pid != s->pgid)) {
		if (s->ops->kill(s->pid, sig) == 0)
			res->pid = s->pid;
		else if (errno != ESRCH)
			res->failed = true;
	}
	res->reached = res->group > 0 || res->pid > 0;
	if (group_errno != 0 && group_errno != ESRCH)
		res->failed = true;
	if (!res->reached)
		snprintf(res->why, sizeof(res->why), "process group %d: %s", (int)s->pgid,
		    strerror(group_errno));
	return res->failed && !res->reached ? -1 : 0;
}

/* What vigild's own signals reach: every process, or the main one (kill_mode = main). */
static int
service_kill(struct service *s, int sig)
{
	struct service_signal_result res;

	return service_signal(s, sig, s->conf->kill_mode == KILL_MODE_MAIN, &res);
}

int
service_process_count(struct service *s)
{
	return s->ops->procs_count != NULL ? s->ops->procs_count(s) : (s->pid > 0);
}

/* Whether something of s outlives its main process and must be ended too. */
static int
rest_alive(struct service *s)
{
	if (s->conf->kill_mode == KILL_MODE_MAIN || s->ops->procs_count == NULL)
		return 0;
	return s->ops->procs_count(s);
}

static void
main_changed(struct service *s)
{
	if (s->ops->main_changed != NULL)
		s->ops->main_changed(s);
}

/* The goal's one writer: where the state machine heads once the current process is gone. */
static void
set_goal(struct service *s, enum service_goal goal)
{
	s->goal = goal;
}

static void
service_spawn(struct service *s, const char *why)
{
	char err[256];

	service_set_state(s, SERVICE_STARTING, "%s", why);
	if (s->ops->spawn(s, err, sizeof(err)) == -1) {
		s->pid = 0;
		/* this attempt has no process: do not mix in the previous one's exit */
		clear_exit(&s->last_exit);
		s->last_exit.spawn_error = strdup(err);
		if (s->conf->restart == RESTART_NEVER)
			service_set_state(s, SERVICE_EXITED, "%s", err);
		else
			service_failed_start(s, err);
		return;
	}
	s->pgid = s->pid;
	s->started_ms = s->ops->now_ms();
	s->killed = false;
	s->forced = false;
	s->ending = false;
	s->end_early = false;
	s->ready = false;
	s->reloading = false;
	s->stop_cause = STOP_ASKED;
	s->watchdog_ms = s->conf->watchdog_ms;
	s->notify_errno = 0;
	free(s->status_text);
	s->status_text = NULL;
	s->ready_due_ms = 0;
	if (s->conf->ready != READY_NONE && s->conf->ready_timeout_ms > 0)
		s->ready_due_ms = s->started_ms + s->conf->ready_timeout_ms;
	arm_starting(s);
	log_info("%s: spawned pid %d", s->conf->name, (int)s->pid);
}

void
service_start(struct service *s)
{
	switch (s->state) {
	case SERVICE_STOPPED:
	case SERVICE_EXITED:
	case SERVICE_FATAL:
	case SERVICE_BACKOFF:
		disarm(s);
		s->failures = 0;
		s->restarts = 0;
		set_goal(s, GOAL_UP);
		service_spawn(s, "start requested");
		break;
	case SERVICE_STOPPING:
		set_goal(s, GOAL_RESTART);	/* start once the old process is gone */
		s->failures = 0;
		s->restarts = 0;
		break;
	case SERVICE_STARTING:
	case SERVICE_RUNNING:
	case SERVICE_NSTATES:
		break;
	}
}

static void
service_send_stop(struct service *s, int sig, enum stop_cause cause, const char *why)
{
	char buf[16];

	s->killed = false;
	s->forced = false;
	s->stop_cause = cause;
	unwatch(s);
	if (service_kill(s, sig) == -1)
		log_warn("%s: sending %s to process group %d", s->conf->name,
		    signame_name(sig, buf, sizeof(buf)), (int)s->pgid);
	arm(s, s->conf->stop_timeout_ms);
	service_set_state(s, SERVICE_STOPPING, "%s; sent %s", why,
	    signame_name(sig, buf, sizeof(buf)));
}

void
service_stop(struct service *s)
{
	set_goal(s, GOAL_DOWN);
	switch (s->state) {
	case SERVICE_STARTING:
	case SERVICE_RUNNING:
		disarm(s);
		service_send_stop(s, s->conf->stop_signal, STOP_ASKED, "stop requested");
		break;
	case SERVICE_STOPPING:
		s->stop_cause = STOP_ASKED;	/* what ends now is what was asked for */
		break;
	case SERVICE_BACKOFF:
	case SERVICE_EXITED:
	case SERVICE_FATAL:
		disarm(s);
		service_set_state(s, SERVICE_STOPPED, "stop requested");
		break;
	case SERVICE_STOPPED:
	case SERVICE_NSTATES:
		break;
	}
}

void
service_restart(struct service *s)
{
	switch (s->state) {
	case SERVICE_STARTING:
	case SERVICE_RUNNING:
		disarm(s);
		service_send_stop(s, s->conf->stop_signal, STOP_ASKED, "restart requested");
		set_goal(s, GOAL_RESTART);
		s->failures = 0;
		s->restarts = 0;
		break;
	case SERVICE_STOPPING:
		set_goal(s, GOAL_RESTART);
		s->stop_cause = STOP_ASKED;
		s->failures = 0;
		s->restarts = 0;
		break;
	default:
		service_start(s);
		break;
	}
}

static void
record_exit(struct service *s, int status, const struct rusage *ru, int64_t now)
{
	struct exit_info *e = &s->last_exit;

	clear_exit(e);
	e->valid = true;
	e->pid = s->pid;
	if (status == EXIT_STATUS_UNKNOWN) {
		e->code = -1;	/* not our child: its parent took the status */
	} else {
		e->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		e->code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
		e->core_dumped = WIFSIGNALED(status) && WCOREDUMP(status);
	}
	e->when = wall_now();
	e->ran_ms = now - s->started_ms;
	e->cpu_user = ru ? ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 : 0;
	e->cpu_system = ru ? ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6 : 0;
	e->max_rss_kb = ru ? ru->ru_maxrss : 0;
}

static bool
policy_restarts(const struct service_conf *c, int status)
{
	switch (c->restart) {
	case RESTART_ALWAYS:
		return true;
	case RESTART_ON_FAILURE:
		/* an unknown status is no proof of success */
		return status == EXIT_STATUS_UNKNOWN ||
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	case RESTART_NEVER:
		break;
	}
	return false;
}

/* The end of a process vigild stopped because it failed: not ready, or watchdog. */
static void
service_stopped_itself(struct service *s, int status, const char *how)
{
	char limit[32], what[160], why[256];

	if (s->stop_cause == STOP_NOT_READY) {
		duration_format(s->conf->ready_timeout_ms, limit, sizeof(limit));
		service_ready_what(s->conf, what, sizeof(what));
		snprintf(why, sizeof(why), "not ready within %s (no %s)", limit, what);
		if (s->conf->restart == RESTART_NEVER)
			service_set_state(s, SERVICE_EXITED, "%s; restart = never", why);
		else
			service_failed_start(s, why);
		return;
	}
	duration_format(s->watchdog_ms, limit, sizeof(limit));
	if (!policy_restarts(s->conf, status)) {
		service_set_state(s, SERVICE_EXITED, "watchdog: no WATCHDOG=1 for %s, %s; "
		    "restart = never", limit, how);
		return;
	}
	s->failures = 0;
	arm(s, service_backoff_ms(s->conf, 0));
	service_set_state(s, SERVICE_BACKOFF, "watchdog: no WATCHDOG=1 for %s, %s; "
	    "restarting", limit, how);
}

/* The main process died on its own, in starting or running; early: before it was ready. */
static void
service_died(struct service *s, int status, const char *how, bool early)
{
	if (!policy_restarts(s->conf, status)) {
		service_set_state(s, SERVICE_EXITED, "%s; restart = %s", how,
		    s->conf->restart == RESTART_NEVER ? "never" : "on-failure");
		return;
	}
	if (early) {
		service_failed_start(s, how);
		return;
	}
	s->failures = 0;
	arm(s, service_backoff_ms(s->conf, 0));
	service_set_state(s, SERVICE_BACKOFF, "%s; restarting", how);
}

/* After KILL, this long for the processes to go before vigild gives up on them. */
#define KILL_GRACE_MS	5000

/* The main process and every other process of s are gone: what that means. */
static void
service_finish(struct service *s)
{
	char how[96];

	process_status_text(s->end_status, how, sizeof(how));
	disarm(s);
	s->ending = false;
	if (s->goal == GOAL_RESTART) {
		set_goal(s, GOAL_UP);
		service_spawn(s, "starting again after stop");
	} else if (s->stop_cause == STOP_MAIN_ENDED) {
		service_died(s, s->end_status, how, s->end_early);
	} else if (s->stop_cause != STOP_ASKED) {
		service_stopped_itself(s, s->end_status, how);
	} else {
		service_set_state(s, SERVICE_STOPPED, "stopped; %s", how);
	}
}

/* The end of the main process; the rest of the service (kill_mode = all) goes before anything else. */
void
service_process_ended(struct service *s, int status, const struct rusage *ru)
{
	int64_t now = s->ops->now_ms();
	char how[96];
	int left;

	record_exit(s, status, ru, now);
	process_status_text(status, how, sizeof(how));
	log_info("%s: pid %d %s after %lldms", s->conf->name, (int)s->pid, how,
	    (long long)s->last_exit.ran_ms);
	unwatch(s);
	s->pid = 0;
	s->end_status = status;
	main_changed(s);
	if (s->state == SERVICE_STOPPING) {
		if ((left = rest_alive(s)) <= 0) {
			service_finish(s);
			return;
		}
		/* nothing of the service may outlive the stop */
		s->ending = true;
		if (!s->killed) {
			s->killed = true;
			service_kill(s, SIGKILL);
			arm(s, KILL_GRACE_MS);
		}
		service_note(s, "main process %s; sent KILL to the %d process%s left", how,
		    left, left == 1 ? "" : "es");
		return;
	}
	if (s->state != SERVICE_STARTING && s->state != SERVICE_RUNNING)
		return;
	disarm(s);
	s->end_early = s->state == SERVICE_STARTING || !s->ready;	/* never ready: a failed start */
	if ((left = rest_alive(s)) > 0) {
		char sig[16];

		/* what the main process left behind goes before any restart */
		s->ending = true;
		s->killed = false;
		s->forced = false;
		s->stop_cause = STOP_MAIN_ENDED;
		service_kill(s, s->conf->stop_signal);
		arm(s, s->conf->stop_timeout_ms);
		service_set_state(s, SERVICE_STOPPING, "main process %s; sent %s to the %d "
		    "process%s left", how, signame_name(s->conf->stop_signal, sig, sizeof(sig)),
		    left, left == 1 ? "" : "es");
		return;
	}
	service_died(s, status, how, s->end_early);
}

void
service_procs_gone(struct service *s)
{
	if (s->ending && s->pid == 0 && s->state == SERVICE_STOPPING && rest_alive(s) <= 0)
		service_finish(s);
}

void
service_hurry(struct service *s, const char *why)
{
	switch (s->state) {
	case SERVICE_STARTING:
	case SERVICE_RUNNING:
		disarm(s);
		set_goal(s, GOAL_DOWN);
		service_send_stop(s, SIGKILL, STOP_ASKED, why);
		s->killed = true;
		s->forced = true;
		arm(s, KILL_GRACE_MS);
		break;
	case SERVICE_STOPPING:
		set_goal(s, GOAL_DOWN);
		s->stop_cause = STOP_ASKED;
		s->forced = true;
		if (s->killed)
			break;
		s->killed = true;
		log_warnx("%s: %s, sending KILL", s->conf->name, why);
		service_kill(s, SIGKILL);
		arm(s, KILL_GRACE_MS);
		set_reasonf(s, "%s; sent KILL", why);
		break;
	default:
		break;
	}
}

/* KILL did not end them in KILL_GRACE_MS (a process stuck in the kernel): count s stopped. */
static void
service_give_up(struct service *s)
{
	int left = service_process_count(s);

	log_warnx("%s: %d process%s still alive %dms after KILL; counting the service "
	    "stopped", s->conf->name, left, left == 1 ? "" : "es", KILL_GRACE_MS);
	if (s->pid != 0) {
		/* its death, should it come, is an orphan's */
		s->end_status = SIGKILL;	/* a wait status: killed by KILL */
		s->pid = 0;
		main_changed(s);
	}
	service_finish(s);
}

/* The start phase is over: up start_secs, and for ready = none that is ready. */
static void
service_up(struct service *s)
{
	char what[160];
	int64_t now = s->ops->now_ms();

	if (s->conf->ready == READY_NONE) {
		s->failures = 0;
		s->ready = true;
		if (s->watchdog_ms > 0)
			arm(s, s->watchdog_ms);
		service_set_state(s, SERVICE_RUNNING, "up for %lldms",
		    (long long)s->conf->start_secs_ms);
		return;
	}
	if (s->ready_due_ms > 0)
		arm(s, s->ready_due_ms > now ? s->ready_due_ms - now : 0);
	service_ready_what(s->conf, what, sizeof(what));
	/* no duration here: a reason stays as written while the uptime grows */
	service_set_state(s, SERVICE_RUNNING, "not ready: waiting for %s", what);
}

static void
service_not_ready(struct service *s)
{
	char limit[32], what[160];

	duration_format(s->conf->ready_timeout_ms, limit, sizeof(limit));
	service_ready_what(s->conf, what, sizeof(what));
	log_warnx("%s: not ready within %s (no %s), stopping it", s->conf->name, limit, what);
	service_send_stop(s, s->conf->stop_signal, STOP_NOT_READY, "not ready in time");
}

/* ABRT, as systemd does: a hung process dumps core where it hangs. */
static void
service_watchdog_missed(struct service *s)
{
	char limit[32];

	duration_format(s->watchdog_ms, limit, sizeof(limit));
	log_warnx("%s: watchdog: no WATCHDOG=1 for %s, killing pid %d", s->conf->name,
	    limit, (int)s->pid);
	service_send_stop(s, SIGABRT, STOP_WATCHDOG, "watchdog missed");
}

static bool
ready_deadline_passed(const struct service *s)
{
	return s->ready_due_ms > 0 && s->ops->now_ms() >= s->ready_due_ms;
}

void
service_timer_fired(struct service *s)
{
	char buf[16];
	int sig = s->stop_cause == STOP_WATCHDOG ? SIGABRT : s->conf->stop_signal;

	s->timer_due_ms = 0;
	switch (s->state) {
	case SERVICE_STARTING:
		if (ready_deadline_passed(s))
			service_not_ready(s);
		else
			service_up(s);
		break;
	case SERVICE_RUNNING:
		if (!s->ready && ready_deadline_passed(s))
			service_not_ready(s);
		else if (!s->ready && s->ready_due_ms > 0)
			arm(s, s->ready_due_ms - s->ops->now_ms());	/* it was extended */
		else if (s->ready && s->watchdog_ms > 0)
			service_watchdog_missed(s);
		break;
	case SERVICE_BACKOFF:
		s->restarts++;
		s->restarts_total++;
		service_spawn(s, "restart after back-off");
		break;
	case SERVICE_STOPPING:
		if (s->killed) {
			service_give_up(s);
			break;
		}
		s->killed = true;
		s->forced = true;
		log_warnx("%s: still alive %lldms after %s, sending KILL to %s", s->conf->name,
		    (long long)s->conf->stop_timeout_ms, signame_name(sig, buf, sizeof(buf)),
		    s->conf->kill_mode == KILL_MODE_MAIN ? "the main process" :
		    "every process of the service");
		service_kill(s, SIGKILL);
		arm(s, KILL_GRACE_MS);
		set_reasonf(s, "stop_timeout passed; sent KILL");
		break;
	default:
		break;
	}
}

static void
service_ready_what(const struct service_conf *c, char *buf, size_t len)
{
	switch (c->ready) {
	case READY_NOTIFY:
		snprintf(buf, len, "READY=1");
		break;
	case READY_FD:
		snprintf(buf, len, "a line on fd %d", c->ready_fd);
		break;
	case READY_TCP:
		snprintf(buf, len, "connection to %s port %s", c->ready_host, c->ready_port);
		break;
	case READY_EXEC:
		snprintf(buf, len, "success of %s", c->ready_spec + 5);
		break;
	case READY_NONE:
		snprintf(buf, len, "%lldms up", (long long)c->start_secs_ms);
		break;
	}
}

static bool
service_is_up(const struct service *s)
{
	return s->state == SERVICE_STARTING || s->state == SERVICE_RUNNING;
}

/* The service said it is ready (READY=1, a line on its fd, a probe that passed). */
void
service_ready(struct service *s, const char *how)
{
	if (!service_is_up(s))
		return;
	if (s->ready) {
		if (s->reloading) {
			s->reloading = false;
			service_note(s, "ready again after reloading: %s", how);
		}
		return;
	}
	s->ready = true;
	s->failures = 0;
	unwatch(s);
	disarm(s);
	if (s->watchdog_ms > 0)
		arm(s, s->watchdog_ms);
	service_set_state(s, SERVICE_RUNNING, "ready: %s after %lldms", how,
	    (long long)(s->ops->now_ms() - s->started_ms));
}

void
service_reloading(struct service *s)
{
	if (!service_is_up(s) || !s->ready || s->reloading)
		return;
	s->reloading = true;
	service_note(s, "reloading (RELOADING=1)");
}

void
service_watchdog_ping(struct service *s)
{
	/* before ready the timer guards ready_timeout; the watchdog starts at ready */
	if (s->state == SERVICE_RUNNING && s->ready && s->watchdog_ms > 0)
		arm(s, s->watchdog_ms);
}

void
service_watchdog_set(struct service *s, int64_t ms)
{
	if (!service_is_up(s))
		return;
	s->watchdog_ms = ms;
	if (s->state == SERVICE_RUNNING && s->ready) {
		if (ms > 0)
			arm(s, ms);
		else
			disarm(s);
	}
}

/* EXTEND_TIMEOUT_USEC=: the deadline at hand moves to now + ms, never earlier. */
void
service_extend_timeout(struct service *s, int64_t ms)
{
	int64_t due = s->ops->now_ms() + ms;

	if (service_is_up(s) && !s->ready && s->ready_due_ms > 0) {
		if (due > s->ready_due_ms)
			s->ready_due_ms = due;
		if (s->state == SERVICE_STARTING)
			arm_starting(s);
		else
			arm(s, s->ready_due_ms - s->ops->now_ms());
	} else if (s->state == SERVICE_STOPPING && !s->killed && due > s->timer_due_ms) {
		arm(s, ms);
	}
}

void
service_set_main_pid(struct service *s, pid_t pid)
{
	if (!service_is_up(s) && s->state != SERVICE_STOPPING)
		return;
	if (pid == s->pid)
		return;
	log_info("%s: main pid is now %d (MAINPID=), was %d", s->conf->name, (int)pid,
	    (int)s->pid);
	s->pid = pid;
	main_changed(s);
}

void
service_set_status_text(struct service *s, const char *text)
{
	char *t = strdup(text);

	if (t == NULL)
		return;
	free(s->status_text);
	s->status_text = t;
}

bool
service_is_settled(const struct service *s)
{
	return s->pid == 0 && (s->state == SERVICE_STOPPED ||
	    s->state == SERVICE_EXITED || s->state == SERVICE_FATAL);
}

/* What dependents, `start --wait` and `wait --for ready` wait for. */
bool
service_is_ready(const struct service *s)
{
	return s->state == SERVICE_RUNNING && s->ready;
}

/* Why a service stays where it is (waiting, not started): a reason, no transition. */
void
service_note(struct service *s, const char *fmt, ...)
{
	va_list ap;
	char *r;

	va_start(ap, fmt);
	if (vasprintf(&r, fmt, ap) == -1)
		r = NULL;
	va_end(ap);
	if (r == NULL || (s->reason != NULL && strcmp(r, s->reason) == 0)) {
		free(r);
		return;
	}
	free(s->reason);
	s->reason = r;
	log_info("%s: %s (%s)", s->conf->name, state_names[s->state], s->reason);
	if (s->ops->changed != NULL)
		s->ops->changed(s, s->state);
}
