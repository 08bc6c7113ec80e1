/*
 * supervisor.c: the set of services and the real world behind struct
 * service_ops: spawning through spawn.c, process-group signals, libev timers
 * and the monotonic clock. Also the shutdown that SIGTERM or `shutdown` asks
 * for: stop everything in parallel, leave the loop when all are settled.
 */
#include "config.h"
#include "vigild.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "spawn.h"

struct vigild vigild;
static char	**envp_scratch;	/* one spawn at a time: one array serves them all */
static size_t	  envp_cap;

static int
ops_spawn(struct service *s, char *err, size_t errlen)
{
	const struct service_conf *c = s->conf;
	struct spawn_request req = {
		.argv = c->argv,
		.envp = config_service_envp(c, &envp_scratch, &envp_cap),
		.exec_paths = c->exec_paths,
		.directory = c->directory,
		.umask = c->umask,
		.set_ids = c->set_ids,
		.uid = c->uid,
		.gid = c->gid,
		.groups = c->groups,
		.ngroups = c->ngroups,
		.new_session = true,
		.nofile = vigild.nofile_raised ? &vigild.nofile_orig : NULL,
		.stdin_fd = -1,
		.stdout_fd = output_child_fd(s, OUTPUT_STDOUT),
		.stderr_fd = output_child_fd(s, OUTPUT_STDERR),
	};
	struct spawn_error e;
	pid_t pid;

	if (req.envp == NULL) {
		snprintf(err, errlen, "spawn failed at environment: out of memory");
		return -1;
	}
	if ((pid = spawn_process(&req, &e)) == -1) {
		spawn_error_text(&e, err, errlen);
		return -1;
	}
	s->pid = pid;
	return 0;
}

static int
ops_kill(pid_t pgid, int sig)
{
	/* each service is a session leader, so its pid is its process group */
	if (pgid <= 1)
		return -1;
	if (kill(-pgid, sig) == -1) {
		if (errno == ESRCH)
			return 0;	/* nobody left: that is what we wanted */
		return -1;
	}
	return 0;
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	service_timer_fired(w->data);
}

static void
ops_timer_arm(struct service *s, int64_t ms)
{
	ev_timer_stop(vigild.loop, &s->timer);
	ev_timer_set(&s->timer, ms / 1000.0, 0.);
	ev_timer_start(vigild.loop, &s->timer);
}

static void
ops_timer_disarm(struct service *s)
{
	ev_timer_stop(vigild.loop, &s->timer);
}

static int64_t
ops_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
all_settled(void)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (!service_is_settled(vigild.services[i]))
			return false;
	return true;
}

static void
ops_changed(struct service *s, enum service_state from)
{
	(void)from;
	control_service_changed(s);
	if (vigild.shutting_down && all_settled()) {
		log_notice("every service is stopped, exiting");
		ev_break(vigild.loop, EVBREAK_ALL);
	}
}

const struct service_ops supervisor_ops = {
	.spawn = ops_spawn,
	.kill = ops_kill,
	.timer_arm = ops_timer_arm,
	.timer_disarm = ops_timer_disarm,
	.now_ms = ops_now_ms,
	.changed = ops_changed,
};

/*
 * Five descriptors per service (two pipes, a log file) pass the usual soft
 * limit of 1024 at about two hundred services: take what the hard limit
 * allows, and give services the limit vigild was started with.
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &vigild.nofile_orig) == -1 ||
	    vigild.nofile_orig.rlim_cur >= vigild.nofile_orig.rlim_max)
		return;
	rl = vigild.nofile_orig;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("raising the open files limit to %llu", (unsigned long long)rl.rlim_max);
		return;
	}
	vigild.nofile_raised = true;
}

int
supervisor_init(struct config *conf)
{
	raise_nofile();
	vigild.conf = conf;
	vigild.services = calloc(conf->nservices ? conf->nservices : 1,
	    sizeof(*vigild.services));
	if (vigild.services == NULL)
		return -1;
	for (size_t i = 0; i < conf->nservices; i++) {
		struct service *s = service_new(conf->services[i], &supervisor_ops);
		if (s == NULL)
			return -1;
		ev_init(&s->timer, timer_cb);
		s->timer.data = s;
		vigild.services[vigild.nservices++] = s;
		if (output_service_init(s) == -1)
			log_warn("%s: setting up output capture", s->conf->name);
	}
	return 0;
}

void
supervisor_start_all(void)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (vigild.services[i]->conf->autostart)
			service_start(vigild.services[i]);
}

void
supervisor_shutdown(const char *why)
{
	if (!vigild.shutting_down)
		log_notice("shutting down (%s): stopping %zu services", why,
		    vigild.nservices);
	vigild.shutting_down = true;
	for (size_t i = 0; i < vigild.nservices; i++)
		if (!service_is_settled(vigild.services[i]))
			service_stop(vigild.services[i]);
	if (all_settled())
		ev_break(vigild.loop, EVBREAK_ALL);
}

struct service *
supervisor_find(const char *name)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (strcmp(vigild.services[i]->conf->name, name) == 0)
			return vigild.services[i];
	return NULL;
}

struct service *
supervisor_find_pid(pid_t pid)
{
	for (size_t i = 0; i < vigild.nservices; i++)
		if (vigild.services[i]->pid == pid)
			return vigild.services[i];
	return NULL;
}

void
supervisor_free(void)
{
	for (size_t i = 0; i < vigild.nservices; i++) {
		ev_timer_stop(vigild.loop, &vigild.services[i]->timer);
		output_service_free(vigild.services[i]);
		service_free(vigild.services[i]);
	}
	free(vigild.services);
	vigild.services = NULL;
	free(envp_scratch);
	envp_scratch = NULL;
	envp_cap = 0;
	vigild.nservices = 0;
}
