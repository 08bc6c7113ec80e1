/*
 * reap.c: collect every dead child on SIGCHLD. Signals coalesce, so one
 * call loops wait4(-1, WNOHANG) until nothing is left. A pid that is no
 * service's main process (an orphan re-parented to us as subreaper or PID 1,
 * or a straggler of a service's group) is reaped and logged, never left.
 */
#include "config.h"
#include "core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "notify.h"
#include "process.h"
#include "output/output.h"
#include "readiness.h"

void
reap_dispatch(pid_t pid, int status, const struct rusage *ru)
{
	struct service *s;
	char how[64];

	if ((s = supervisor_find_pid(pid)) != NULL) {
		/* its last words first, then the transition they explain */
		notify_drain(s);
		if (s->pid != pid) {
			/*
			 * MAINPID= in those last words named another main
			 * process: this one is a former main process that
			 * handed over and left, not the end of the service
			 */
			process_status_text(status, how, sizeof(how));
			log_info("%s: former main pid %d %s; the main pid is %d",
			    s->conf->name, (int)pid, how, (int)s->pid);
			return;
		}
		output_process_ended(s->output);
		service_process_ended(s, status, ru);
		return;
	}
	if (readiness_reaped(pid, status))
		return;
	process_status_text(status, how, sizeof(how));
	/* as a container's init, orphans come by the hundred: not news */
	if (getpid() == 1)
		log_debug("reaped orphan pid %d (%s)", (int)pid, how);
	else
		log_info("reaped orphan pid %d (%s)", (int)pid, how);
	/*
	 * It may have been the last process of a service whose main process
	 * ended before it: without cgroups, this is how that end is seen.
	 */
	for (size_t i = 0; i < vigild.nservices; i++)
		if (vigild.services[i]->ending)
			service_procs_gone(vigild.services[i]);
	retire_each(service_procs_gone);
}

/*
 * At most this many deaths per loop turn: a thousand services killed at
 * once would otherwise hold the loop for all of them while a `status`
 * waits. The rest are reaped next turn (a zero timer: SIGCHLD, coalesced,
 * may not come again).
 */
#define REAPS_PER_TURN	64

static ev_timer	 reap_more;

static void
reap_more_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	reap_children();
}

void
reap_children(void)
{
	struct rusage ru;
	int status;
	pid_t pid;

	for (int n = 0;; n++) {
		if (n == REAPS_PER_TURN && vigild.loop != NULL && !vigild.shutting_down) {
			if (!ev_is_active(&reap_more)) {
				ev_timer_init(&reap_more, reap_more_cb, 0., 0.);
				ev_timer_start(vigild.loop, &reap_more);
			}
			break;
		}
		pid = wait4(-1, &status, WNOHANG, &ru);
		if (pid == 0)
			break;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("wait4");
			break;
		}
		reap_dispatch(pid, status, &ru);
	}
}

/* Signal every process whose parent is us; returns how many there were. */
static int
signal_own_children(int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		pid_t pid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)atol(de->d_name);
		if (process_parent_of(pid) != self)
			continue;
		kill(pid, sig);
		n++;
	}
	closedir(d);
	return n;
}

void
reap_stop(void)
{
	if (vigild.loop != NULL)
		ev_timer_stop(vigild.loop, &reap_more);
}

void
reap_leftovers(void)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	/*
	 * Services are stopped; what is left are descendants that left their
	 * service's process group and were re-parented to us. Ask, wait up to
	 * two seconds, then insist: vigild leaves nothing behind.
	 */
	if (signal_own_children(SIGTERM) == 0)
		return;
	log_notice("ending processes left behind by services");
	for (int i = 0; i < 200; i++) {
		reap_children();
		if (signal_own_children(0) == 0)
			return;
		nanosleep(&tick, NULL);
	}
	signal_own_children(SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}
