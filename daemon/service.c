/*
 * service.c: the life cycle of one service, as one state machine.
 * service_set_state() is the only writer of s->state and checks every move
 * against the transition table. Spawning, signals, timers and the clock come
 * through struct service_ops, so tests drive this file with fakes.
 */
#include "config.h"
#include "vigild.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>

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
	[SERVICE_RUNNING] = S(STOPPING) | S(BACKOFF) | S(EXITED),
	[SERVICE_STOPPING] = S(STOPPED) | S(STARTING),
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
	free(s->last_exit.spawn_error);
	free(s);
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
	s->started_ms = s->ops->now_ms();
	s->killed = false;
	arm(s, s->conf->start_secs_ms);
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
		service_spawn(s, "start requested");
		break;
	case SERVICE_STOPPING:
		s->start_after_stop = true;	/* start once the old process is gone */
		break;
	case SERVICE_STARTING:
	case SERVICE_RUNNING:
	case SERVICE_NSTATES:
		break;
	}
}

static void
service_send_stop(struct service *s, const char *why)
{
	char buf[16];

	s->killed = false;
	if (s->ops->kill(s->pid, s->conf->stop_signal) == -1)
		log_warn("%s: sending %s to process group %d", s->conf->name,
		    signame_name(s->conf->stop_signal, buf, sizeof(buf)), (int)s->pid);
	arm(s, s->conf->stop_timeout_ms);
	service_set_state(s, SERVICE_STOPPING, "%s; sent %s", why,
	    signame_name(s->conf->stop_signal, buf, sizeof(buf)));
}

void
service_stop(struct service *s)
{
	s->start_after_stop = false;
	switch (s->state) {
	case SERVICE_STARTING:
	case SERVICE_RUNNING:
		disarm(s);
		service_send_stop(s, "stop requested");
		break;
	case SERVICE_BACKOFF:
	case SERVICE_EXITED:
	case SERVICE_FATAL:
		disarm(s);
		service_set_state(s, SERVICE_STOPPED, "stop requested");
		break;
	case SERVICE_STOPPED:
	case SERVICE_STOPPING:
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
		service_send_stop(s, "restart requested");
		s->start_after_stop = true;
		s->failures = 0;
		s->restarts = 0;
		break;
	case SERVICE_STOPPING:
		s->start_after_stop = true;
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
	e->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	e->code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	e->core_dumped = WIFSIGNALED(status) && WCOREDUMP(status);
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
		return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	case RESTART_NEVER:
		break;
	}
	return false;
}

/* The main process died on its own, in starting or running. */
static void
service_died(struct service *s, int status, const char *how)
{
	bool early = s->state == SERVICE_STARTING;

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

void
service_process_ended(struct service *s, int status, const struct rusage *ru)
{
	int64_t now = s->ops->now_ms();
	char how[96];

	record_exit(s, status, ru, now);
	reap_status_text(status, how, sizeof(how));
	log_info("%s: pid %d %s after %lldms", s->conf->name, (int)s->pid, how,
	    (long long)s->last_exit.ran_ms);
	disarm(s);
	if (s->state == SERVICE_STOPPING) {
		/* the main process is gone: nothing of its group may outlive the stop */
		s->ops->kill(s->pid, SIGKILL);
		s->pid = 0;
		if (s->start_after_stop) {
			s->start_after_stop = false;
			service_spawn(s, "starting again after stop");
		} else {
			service_set_state(s, SERVICE_STOPPED, "stopped; %s", how);
		}
		return;
	}
	s->pid = 0;
	if (s->state == SERVICE_STARTING || s->state == SERVICE_RUNNING)
		service_died(s, status, how);
}

void
service_timer_fired(struct service *s)
{
	char buf[16];

	s->timer_due_ms = 0;
	switch (s->state) {
	case SERVICE_STARTING:
		s->failures = 0;
		service_set_state(s, SERVICE_RUNNING, "up for %lldms",
		    (long long)s->conf->start_secs_ms);
		break;
	case SERVICE_BACKOFF:
		s->restarts++;
		service_spawn(s, "restart after back-off");
		break;
	case SERVICE_STOPPING:
		if (s->killed)
			break;
		s->killed = true;
		log_warnx("%s: still alive %lldms after %s, sending KILL to process group %d",
		    s->conf->name, (long long)s->conf->stop_timeout_ms,
		    signame_name(s->conf->stop_signal, buf, sizeof(buf)), (int)s->pid);
		s->ops->kill(s->pid, SIGKILL);
		set_reasonf(s, "stop_timeout passed; sent KILL");
		break;
	default:
		break;
	}
}

bool
service_is_settled(const struct service *s)
{
	return s->pid == 0 && (s->state == SERVICE_STOPPED ||
	    s->state == SERVICE_EXITED || s->state == SERVICE_FATAL);
}

/* Dependents wait for this; readiness protocols will change only this test. */
bool
service_is_ready(const struct service *s)
{
	return s->state == SERVICE_RUNNING;
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
