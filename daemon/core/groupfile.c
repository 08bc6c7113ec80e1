/*
 * groupfile.c: where vigild runs without cgroups, what a vigild started
 * after one was killed needs to find the services the killed one left:
 * a file per running service, SOCKET.groups/NAME, holding the process
 * group its processes are in and the start time of the group's leader
 * (/proc/PID/stat, in clock ticks since boot), written at each spawn and
 * removed once the service has no process. A process group id cannot be
 * reused while one member lives, and a leader's pid with another start
 * time is another process: so a group found is the old service's, never
 * a stranger's. With cgroups the cgroup is the record (cgroup.c).
 */
#include "config.h"
#include "groupfile.h"
#include "cgroup.h"
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static char	*dir;		/* NULL: not kept (cgroups on, or it could not be made) */

/* The start time of pid in clock ticks since boot; 0 if it is gone. */
static unsigned long long
start_time(pid_t pid)
{
	unsigned long long t;

	return process_stat(pid, NULL, &t) == 0 ? t : 0;
}

int
groupfile_init(const char *control_path)
{
	if ((dir = config_socket_sibling(control_path, ".groups")) == NULL)
		return -1;
	/* with cgroups only read: what a vigild that ran without them left */
	if (!cgroup_enabled() && mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("creating %s: a vigild killed now would leave its services running",
		    dir);
		free(dir);
		dir = NULL;
		return -1;
	}
	return 0;
}

static int
path_of(const struct service *s, char *buf, size_t len)
{
	return dir != NULL && snprintf(buf, len, "%s/%s", dir, s->conf->name) < (int)len ? 0 : -1;
}

void
groupfile_spawned(const struct service *s)
{
	char path[4096], line[64];
	int fd, n;

	if (path_of(s, path, sizeof(path)) == -1)
		return;
	/* the main process leads the group: it was spawned in a session of its own */
	n = snprintf(line, sizeof(line), "%d %llu\n", (int)s->pid, start_time(s->pid));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, line, (size_t)n) != n)
		log_warn("%s: writing %s", s->conf->name, path);
	if (fd != -1)
		close(fd);
}

void
groupfile_gone(const struct service *s)
{
	char path[4096];

	if (path_of(s, path, sizeof(path)) == 0 && unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: removing %s", s->conf->name, path);
}

/* Whether the group of the record is still the old service's, by the rules above. */
static bool
group_is_ours(pid_t pgid, unsigned long long started)
{
	unsigned long long now;

	if (pgid <= 1 || kill(-pgid, 0) == -1)
		return false;	/* no member left */
	now = start_time(pgid);
	return now == 0 || now == started;	/* the leader is gone, or it is the same one */
}

/* Wait until none of the n groups has a member, or deadline; how many still have. */
static size_t
wait_gone(const pid_t *groups, size_t n, int64_t deadline)
{
	size_t left;

	for (;;) {
		left = 0;
		for (size_t i = 0; i < n; i++)
			if (kill(-groups[i], 0) == 0)
				left++;
		if (left == 0 || process_now_ms() >= deadline)
			return left;
		process_sleep_ms(10);
	}
}

void
groupfile_recover(const struct config *conf)
{
	pid_t *groups = NULL;
	size_t n = 0, cap = 0;
	int64_t wait_ms = 0;
	struct dirent *de;
	DIR *d;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const struct service_conf *c = NULL;
		unsigned long long started;
		char path[4096];
		int pgid;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		if (fscanf(f, "%d %llu", &pgid, &started) != 2)
			pgid = 0;
		fclose(f);
		unlink(path);
		if (!group_is_ours((pid_t)pgid, started))
			continue;
		for (size_t i = 0; i < conf->nservices; i++)
			if (strcmp(conf->services[i]->name, de->d_name) == 0)
				c = conf->services[i];
		log_warnx("%s: ending process group %d a previous vigild left running", de->d_name,
		    pgid);
		kill(-pgid, c != NULL ? c->stop_signal : SIGTERM);
		kill(-pgid, SIGCONT);
		if (c != NULL && c->stop_timeout_ms > wait_ms)
			wait_ms = c->stop_timeout_ms;
		else if (c == NULL && wait_ms < 10000)
			wait_ms = 10000;
		if (n == cap) {
			pid_t *p = reallocarray(groups, cap = cap ? cap * 2 : 8, sizeof(*groups));

			if (p == NULL)
				break;
			groups = p;
		}
		groups[n++] = (pid_t)pgid;
	}
	closedir(d);
	if (n > 0 && wait_gone(groups, n, process_now_ms() + wait_ms) > 0) {
		log_warnx("process groups a previous vigild left were still there after %lldms: "
		    "sending KILL", (long long)wait_ms);
		for (size_t i = 0; i < n; i++)
			kill(-groups[i], SIGKILL);
		if (wait_gone(groups, n, process_now_ms() + 5000) > 0)
			log_warnx("processes a previous vigild left survived KILL");
	}
	free(groups);
}

void
groupfile_cleanup(void)
{
	if (dir != NULL && rmdir(dir) == -1 && errno != ENOENT && errno != ENOTEMPTY)
		log_warn("removing %s", dir);
	free(dir);
	dir = NULL;
}
