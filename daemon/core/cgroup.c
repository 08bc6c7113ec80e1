/*
 * cgroup.c: a cgroup v2 per service (see cgroup.h). A process group is
 * not enough to know a service's processes: setsid() leaves it, and a
 * crashed main process leaves its children behind. A cgroup keeps every
 * descendant, and its cgroup.events file says "populated 0" once the last
 * one is gone; one inotify watch per service turns that into an event of
 * the loop. Only the path of each service's folder is kept: no fd per
 * service beyond the watch.
 */
#include "config.h"
#include "cgroup.h"
#include "core.h"
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

/* What vigild keeps of one service's cgroup. */
struct service_cgroup {
	char	*path;		/* BASE/NAME */
	int	 wd;		/* inotify watch of its cgroup.events, -1 if none */
	bool	 killed;	/* cgroup.kill was used: made anew before the next spawn */
	unsigned limits_warned;	/* cglimits.c's: what it already warned of */
	unsigned limits_written;	/* and which limits it wrote into the folder */
};

static char	*base;		/* NULL: cgroups are off */
static char	 mount_point[PATH_MAX];	/* of the cgroup2 hierarchy base is in */
static char	 mount_root[PATH_MAX];	/* what of the hierarchy it shows: "/" but in some containers */
static int	 inotify_fd = -1;
static ev_io	 inotify_watcher;
/* watch descriptor -> service; watches are few and events rare, so a list */
static struct {
	int		 wd;
	struct service	*s;
} *watches;
static size_t	 nwatches, watches_cap;

bool
cgroup_enabled(void)
{
	return base != NULL;
}

/* The first cgroup2 mount: its mount point and the root of the hierarchy it shows. */
static int
find_mount(char *point, size_t plen, char *root, size_t rlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = -1;

	if (f == NULL)
		return -1;
	while (found == -1 && fgets(line, sizeof(line), f) != NULL) {
		char r[PATH_MAX], m[PATH_MAX], *dash = strstr(line, " - ");
		char type[32];

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE ... */
		if (dash == NULL || sscanf(dash, " - %31s", type) != 1 ||
		    strcmp(type, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2)
			continue;
		/* mountinfo escapes blanks as \040; a cgroup mount with one is not worth it */
		if (strchr(m, '\\') != NULL || strchr(r, '\\') != NULL)
			continue;
		snprintf(point, plen, "%s", m);
		snprintf(root, rlen, "%s", r);
		found = 0;
	}
	fclose(f);
	return found;
}

/* vigild's own cgroup v2 as a folder: the "0::" line of /proc/self/cgroup under the mount. */
static int
own_cgroup(char *dir, size_t len, char *why, size_t wlen)
{
	char line[PATH_MAX + 8], *rel = NULL;
	FILE *f;
	size_t rootlen;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL) {
		snprintf(why, wlen, "/proc/self/cgroup: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "0::", 3) == 0) {
			rel = line + 3;
			rel[strcspn(rel, "\n")] = '\0';
			break;
		}
	fclose(f);
	if (rel == NULL) {
		snprintf(why, wlen, "/proc/self/cgroup has no cgroup v2 line");
		return -1;
	}
	/* the mount may show a subtree only (a container): the path is below its root */
	rootlen = strcmp(mount_root, "/") == 0 ? 0 : strlen(mount_root);
	if (rootlen > 0 && (strncmp(rel, mount_root, rootlen) != 0 ||
	    (rel[rootlen] != '/' && rel[rootlen] != '\0'))) {
		snprintf(why, wlen, "vigild's cgroup %.200s is outside the mount at %.200s", rel,
		    mount_point);
		return -1;
	}
	rel += rootlen;
	if (snprintf(dir, len, "%s%s", mount_point, strcmp(rel, "/") == 0 ? "" : rel) >=
	    (int)len) {
		snprintf(why, wlen, "the path of vigild's cgroup is too long");
		return -1;
	}
	return 0;
}

/*
 * The default BASE: below vigild's own cgroup, named after the socket, so
 * that vigilds with their own sockets never share one, and a vigild started
 * again with the same config finds what the previous one left.
 */
static int
default_base(const char *socket_path, char *dir, size_t len, char *why, size_t wlen)
{
	char own[PATH_MAX], name[NAME_MAX + 1];
	size_t n = 0;

	if (own_cgroup(own, sizeof(own), why, wlen) == -1)
		return -1;
	n = (size_t)snprintf(name, sizeof(name), "vigil@");
	for (const char *p = socket_path + (*socket_path == '/'); *p != '\0' && n < NAME_MAX; p++) {
		char c = *p;

		name[n++] = c == '/' ? '-' :
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-' ? c : '_';
	}
	name[n] = '\0';
	if (snprintf(dir, len, "%s/%s", own, name) >= (int)len) {
		snprintf(why, wlen, "the path of the services' cgroup is too long");
		return -1;
	}
	return 0;
}

/* BASE exists (made if not), is cgroup v2, and vigild may move processes into it. */
static int
base_usable(const char *dir, char *why, size_t wlen)
{
	char procs[PATH_MAX + 16];
	struct statfs sf;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		snprintf(why, wlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (statfs(dir, &sf) == -1) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (sf.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(why, wlen, "%s is not in a cgroup v2 hierarchy", dir);
		return -1;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if (access(procs, W_OK) == -1) {
		snprintf(why, wlen, "%s: %s", procs, strerror(errno));
		return -1;
	}
	return 0;
}

static struct service *
watch_find(int wd)
{
	for (size_t i = 0; i < nwatches; i++)
		if (watches[i].wd == wd)
			return watches[i].s;
	return NULL;
}

static void
watch_forget(int wd)
{
	for (size_t i = 0; i < nwatches; i++)
		if (watches[i].wd == wd) {
			watches[i] = watches[--nwatches];
			return;
		}
}

static int
watch_add(int wd, struct service *s)
{
	if (nwatches == watches_cap) {
		size_t cap = watches_cap ? watches_cap * 2 : 16;
		void *p = realloc(watches, cap * sizeof(*watches));

		if (p == NULL)
			return -1;
		watches = p;
		watches_cap = cap;
	}
	watches[nwatches].wd = wd;
	watches[nwatches].s = s;
	nwatches++;
	return 0;
}

/*
 * A small file of the cgroup read whole into buf (NUL-terminated): open
 * and read, no stdio, as status asks this of every service. Its length, -1.
 */
static ssize_t
read_small(const char *dir, const char *name, char *buf, size_t len)
{
	char file[PATH_MAX + 32];
	ssize_t n, total = 0;
	int fd;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)total < len - 1 &&
	    (n = read(fd, buf + total, len - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

/* cgroup.events of path: 1 populated, 0 empty, -1 unreadable. */
static int
populated(const char *path)
{
	char buf[128], *p;

	if (read_small(path, "cgroup.events", buf, sizeof(buf)) <= 0 ||
	    (p = strstr(buf, "populated ")) == NULL)
		return -1;
	return p[10] == '1';
}

static void
inotify_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)loop, (void)revents;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			struct service *s = watch_find(ev->wd);

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_IGNORED)
				watch_forget(ev->wd);	/* the folder went away */
			else if (s != NULL && s->cgroup != NULL && populated(s->cgroup->path) == 0)
				service_procs_gone(s);
		}
	}
}

static void
init_mode(const struct config *conf)
{
	char dir[PATH_MAX], why[PATH_MAX + 128];

	free(base);
	base = NULL;
	if (conf->cgroup != NULL && strcmp(conf->cgroup, "off") == 0) {
		log_notice("cgroups: off ([vigil] cgroup = off); a service's processes are "
		    "tracked by its process group and as orphans re-parented to vigild");
		return;
	}
	if (find_mount(mount_point, sizeof(mount_point), mount_root, sizeof(mount_root)) == -1) {
		log_notice("cgroups: off (no cgroup v2 hierarchy is mounted); a service's "
		    "processes are tracked by its process group and as orphans re-parented "
		    "to vigild");
		return;
	}
	if (conf->cgroup != NULL)
		snprintf(dir, sizeof(dir), "%s", conf->cgroup);
	if (conf->cgroup != NULL && (strncmp(dir, mount_point, strlen(mount_point)) != 0 ||
	    dir[strlen(mount_point)] != '/')) {
		log_notice("cgroups: off ([vigil] cgroup = %s is not below the cgroup v2 mount "
		    "at %s); a service's processes are tracked by its process group and as "
		    "orphans re-parented to vigild", dir, mount_point);
		return;
	}
	if ((conf->cgroup == NULL &&
	    default_base(conf->socket_path, dir, sizeof(dir), why, sizeof(why)) == -1) ||
	    base_usable(dir, why, sizeof(why)) == -1) {
		log_notice("cgroups: off (%s); a service's processes are tracked by its "
		    "process group and as orphans re-parented to vigild", why);
		return;
	}
	if (inotify_fd == -1 &&
	    (inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("cgroups: off (inotify_init1); a service's processes are tracked "
		    "by its process group");
		return;
	}
	if ((base = strdup(dir)) == NULL) {
		log_warnx("cgroups: off (out of memory)");
		return;
	}
	ev_io_init(&inotify_watcher, inotify_cb, inotify_fd, EV_READ);
	ev_io_start(vigild.loop, &inotify_watcher);
	log_notice("cgroups: each service in a cgroup of its own below %s", base);
}

void
cgroup_init(const struct config *conf)
{
	init_mode(conf);
	if (base != NULL)
		return;
	/* said once here: the line above says why there are no cgroups */
	for (size_t i = 0; i < conf->nservices; i++)
		for (int k = 0; k < SERVICE_NCGLIMITS; k++)
			if (conf->services[i]->cglimits[k] != NULL) {
				log_warnx("%s: %s and the other cgroup limits are not applied: "
				    "services run without cgroups", conf->services[i]->name,
				    config_cglimit_keys[k]);
				break;
			}
}

/* Every pid listed in path's cgroup.procs, through cb; how many there were. */
static int
procs_each(const char *path, void (*cb)(pid_t pid, void *arg), void *arg)
{
	char file[PATH_MAX + 16];
	FILE *f;
	long pid;
	int n = 0;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	if ((f = fopen(file, "re")) == NULL)
		return -1;
	while (fscanf(f, "%ld", &pid) == 1) {
		if (pid > 1 && pid != getpid()) {
			if (cb != NULL)
				cb((pid_t)pid, arg);
			n++;
		}
	}
	fclose(f);
	return n;
}

struct signal_pass {
	int	sig;
	int	reached;
};

static void
signal_one(pid_t pid, void *arg)
{
	struct signal_pass *sp = arg;

	if (kill(pid, sp->sig) == 0)
		sp->reached++;
}

/*
 * SIGKILL through cgroup.kill (Linux 5.14): it reaches processes forking
 * at that moment and every cgroup below. Other signals, or an older
 * kernel: each process listed, and the cgroups below, in turn.
 */
static int
signal_tree(const char *path, int sig, bool *used_kill)
{
	struct signal_pass sp = { sig, 0 };
	char file[PATH_MAX + 16];
	struct dirent *de;
	DIR *d;
	int fd, n;

	if (sig == SIGKILL) {
		snprintf(file, sizeof(file), "%s/cgroup.kill", path);
		if ((fd = open(file, O_WRONLY | O_CLOEXEC)) != -1) {
			n = procs_each(path, NULL, NULL);
			if (write(fd, "1", 1) == 1) {
				close(fd);
				if (used_kill != NULL)
					*used_kill = true;
				return n > 0 ? n : 0;
			}
			close(fd);
		}
	}
	if (procs_each(path, signal_one, &sp) == -1)
		return -1;
	if ((d = opendir(path)) == NULL)
		return sp.reached;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		if ((n = signal_tree(file, sig, used_kill)) > 0)
			sp.reached += n;
	}
	closedir(d);
	return sp.reached;
}

/* rmdir path and the cgroups below it, deepest first; -1 if one stays (not empty). */
static int
remove_tree(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			remove_tree(sub);
		}
		closedir(d);
	}
	return rmdir(path) == -1 && errno != ENOENT ? -1 : 0;
}

/* A service's folder, made and watched at its first spawn. */
static struct service_cgroup *
service_cgroup(struct service *s, char *err, size_t errlen)
{
	struct service_cgroup *cg = s->cgroup;
	char file[PATH_MAX + 16];

	if (cg == NULL) {
		if ((cg = calloc(1, sizeof(*cg))) == NULL ||
		    asprintf(&cg->path, "%s/%s", base, s->conf->name) == -1) {
			free(cg);
			snprintf(err, errlen, "spawn failed at cgroup: out of memory");
			return NULL;
		}
		cg->wd = -1;
		s->cgroup = cg;
	}
	/*
	 * Linux 6.x (seen on 6.18) kills every child born into a cgroup by
	 * clone3(CLONE_INTO_CGROUP) once cgroup.kill was written to it: its
	 * kill sequence number stays behind. A cgroup made anew has none.
	 */
	if (cg->killed && rmdir(cg->path) == 0) {
		if (cg->wd != -1)
			watch_forget(cg->wd);	/* the kernel dropped the watch with the folder */
		cg->wd = -1;
		cg->killed = false;
		cg->limits_written = 0;	/* a new folder has the defaults */
	}
	if (mkdir(cg->path, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "spawn failed at cgroup: mkdir %s: %s", cg->path,
		    strerror(errno));
		return NULL;
	}
	if (cg->wd == -1) {
		snprintf(file, sizeof(file), "%s/cgroup.events", cg->path);
		if ((cg->wd = inotify_add_watch(inotify_fd, file, IN_MODIFY)) == -1) {
			snprintf(err, errlen, "spawn failed at cgroup: watching %s: %s", file,
			    strerror(errno));
			return NULL;
		}
		if (watch_add(cg->wd, s) == -1) {
			inotify_rm_watch(inotify_fd, cg->wd);
			cg->wd = -1;
			snprintf(err, errlen, "spawn failed at cgroup: out of memory");
			return NULL;
		}
	}
	return cg;
}

int
cgroup_dir_fd(struct service *s, char *err, size_t errlen)
{
	struct service_cgroup *cg;
	int fd;

	if (base == NULL)
		return -1;
	if ((cg = service_cgroup(s, err, errlen)) == NULL)
		return -1;
	cglimits_write(s, base, cg->path, &cg->limits_warned, &cg->limits_written);
	if ((fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		snprintf(err, errlen, "spawn failed at cgroup: %s: %s", cg->path, strerror(errno));
	return fd;
}

void
cgroup_limits_changed(struct service *s)
{
	struct service_cgroup *cg = s->cgroup;

	/* no cgroup yet: its first spawn writes them */
	if (base == NULL || cg == NULL)
		return;
	cglimits_write(s, base, cg->path, &cg->limits_warned, &cg->limits_written);
}

void
cgroup_service_free(struct service *s)
{
	struct service_cgroup *cg = s->cgroup;

	if (cg == NULL)
		return;
	if (cg->wd != -1) {
		inotify_rm_watch(inotify_fd, cg->wd);
		watch_forget(cg->wd);
	}
	/* not empty: a kill_mode = main service's leftovers; the folder stays with them */
	if (remove_tree(cg->path) == -1)
		log_info("%s: cgroup %s stays: %s", s->conf->name, cg->path, strerror(errno));
	free(cg->path);
	free(cg);
	s->cgroup = NULL;
}

int
cgroup_signal(struct service *s, int sig)
{
	if (base == NULL || s->cgroup == NULL)
		return -1;
	return signal_tree(s->cgroup->path, sig, &s->cgroup->killed);
}

int
cgroup_count(const struct service *s)
{
	char buf[4096];
	ssize_t len;
	int n = 0;

	if (base == NULL || s->cgroup == NULL)
		return -1;
	if ((len = read_small(s->cgroup->path, "cgroup.procs", buf, sizeof(buf))) == -1)
		return 0;	/* its folder is gone: nothing in it */
	if ((size_t)len == sizeof(buf) - 1)
		return procs_each(s->cgroup->path, NULL, NULL);	/* many: count them all */
	for (ssize_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	if (n == 0 && populated(s->cgroup->path) == 1)
		n = 1;	/* only in cgroups below: at least one */
	return n;
}

bool
cgroup_holds(const struct service *s, pid_t pid)
{
	char file[64], line[PATH_MAX + 8], rel[PATH_MAX * 2];
	size_t len;
	FILE *f;
	bool in = false;

	if (base == NULL || s->cgroup == NULL)
		return false;
	/* the service's cgroup as /proc shows it: the hierarchy's path, not the folder's */
	len = (size_t)snprintf(rel, sizeof(rel), "%s%s",
	    strcmp(mount_root, "/") == 0 ? "" : mount_root,
	    s->cgroup->path + strlen(mount_point));
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	if ((f = fopen(file, "re")) == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		in = strncmp(line + 3, rel, len) == 0 &&
		    (line[3 + len] == '\0' || line[3 + len] == '/');
		break;
	}
	fclose(f);
	return in;
}

int64_t
cgroup_cpu_usec(const struct service *s)
{
	char buf[1024], *p;

	if (base == NULL || s->cgroup == NULL)
		return -1;
	/* "usage_usec N" is its first line, present without the cpu controller too */
	if (read_small(s->cgroup->path, "cpu.stat", buf, sizeof(buf)) <= 0 ||
	    (p = strstr(buf, "usage_usec ")) == NULL)
		return -1;
	return strtoll(p + 11, NULL, 10);
}

/* The service of this name in conf, for its stop_signal and stop_timeout; NULL if none. */
static const struct service_conf *
conf_find(const struct config *conf, const char *name)
{
	for (size_t i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i]->name, name) == 0)
			return conf->services[i];
	return NULL;
}

/* Wait until none of the n folders is populated, or deadline; how many still are. */
static size_t
wait_empty(char **paths, size_t n, int64_t deadline)
{
	size_t left;

	for (;;) {
		left = 0;
		for (size_t i = 0; i < n; i++)
			if (paths[i] != NULL && populated(paths[i]) == 1)
				left++;
		if (left == 0 || process_now_ms() >= deadline)
			return left;
		process_sleep_ms(10);
	}
}

void
cgroup_recover(const struct config *conf)
{
	char **paths = NULL, path[PATH_MAX];
	size_t n = 0, cap = 0, left;
	int64_t wait_ms = 0;
	struct dirent *de;
	DIR *d;

	if (base == NULL || (d = opendir(base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const struct service_conf *c;
		int count, sig;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
		if (populated(path) != 1) {
			remove_tree(path);
			continue;
		}
		c = conf_find(conf, de->d_name);
		sig = c != NULL ? c->stop_signal : SIGTERM;
		count = procs_each(path, NULL, NULL);
		log_warnx("%s: ending %d process%s a previous vigild left running (cgroup %s)",
		    de->d_name, count, count == 1 ? "" : "es", path);
		signal_tree(path, sig, NULL);
		signal_tree(path, SIGCONT, NULL);	/* a stopped process must see it */
		if (c != NULL && c->stop_timeout_ms > wait_ms)
			wait_ms = c->stop_timeout_ms;
		else if (c == NULL && wait_ms < 10000)
			wait_ms = 10000;
		if (n == cap) {
			void *p = realloc(paths, (cap = cap ? cap * 2 : 8) * sizeof(*paths));

			if (p == NULL)
				break;
			paths = p;
		}
		if ((paths[n] = strdup(path)) != NULL)
			n++;
	}
	closedir(d);
	if (n == 0) {
		free(paths);
		return;
	}
	if ((left = wait_empty(paths, n, process_now_ms() + wait_ms)) > 0) {
		log_warnx("%zu cgroup%s still had processes after %lldms: sending KILL", left,
		    left == 1 ? "" : "s", (long long)wait_ms);
		for (size_t i = 0; i < n; i++)
			signal_tree(paths[i], SIGKILL, NULL);
		if (wait_empty(paths, n, process_now_ms() + 5000) > 0)
			log_warnx("processes a previous vigild left survived KILL");
	}
	for (size_t i = 0; i < n; i++) {
		remove_tree(paths[i]);
		free(paths[i]);
	}
	free(paths);
}

void
cgroup_cleanup(void)
{
	if (inotify_fd != -1) {
		if (vigild.loop != NULL)
			ev_io_stop(vigild.loop, &inotify_watcher);
		close(inotify_fd);
		inotify_fd = -1;
	}
	free(watches);
	watches = NULL;
	nwatches = watches_cap = 0;
	if (base != NULL && rmdir(base) == -1 && errno != ENOENT && errno != EBUSY)
		log_info("cgroup %s stays: %s", base, strerror(errno));
	free(base);
	base = NULL;
}

bool
cgroup_handover(const struct service *s, bool *killed)
{
	*killed = s->cgroup != NULL && s->cgroup->killed;
	return base != NULL && s->cgroup != NULL;
}

int
cgroup_adopt(struct service *s, bool killed)
{
	char err[1024];

	if (base == NULL)
		return -1;
	/* the folder is there (the service's processes are in it): made and watched again */
	if (service_cgroup(s, err, sizeof(err)) == NULL) {
		log_warnx("%s: %s", s->conf->name, err);
		return -1;
	}
	s->cgroup->killed = killed;
	return 0;
}
