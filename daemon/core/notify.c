/*
 * notify.c: the sd_notify protocol, served by vigild without libsystemd.
 *
 * Each service that may speak it gets its own datagram socket, so a
 * message belongs to the service whose socket it came in on. The issue
 * that asked for this wanted one shared socket with senders matched by
 * pid; that cannot work for the commonest client. systemd-notify, run as
 * root, puts its parent's pid in its credentials (a privileged process
 * may claim any pid, and SO_PASSPIDFD then hands back the claimed one):
 * run as a service's main process, it claims to be vigild. One socket per
 * service also keeps a message whose sender has already exited (a helper
 * that said READY=1 and quit) attributable, which pid matching cannot.
 *
 * The pid is still checked: a sender that is alive and provably no
 * process of the service (not its main pid, process group or session,
 * nor a child of its main process) is ignored, so a neighbour cannot make
 * another service ready. vigild's own pid passes: only a privileged child
 * claiming its parent's pid sends it. Truncated messages and messages
 * holding a NUL are dropped whole; passed fds are closed at once.
 */
#include "config.h"
#include "core.h"
#include "cgroup.h"
#include "notify.h"
#include "process.h"
#include "safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NOTIFY_FDS_MAX	16	/* fds passed along (FDSTORE=1, BARRIER=1) are closed */

struct notify_sock {
	struct service	*s;
	int		 fd;
	ev_io		 io;
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static char	*notify_dir;

static bool
parse_u64(const char *v, unsigned long long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno == 0 && *end == '\0';
}

/* Whether pid descends from ancestor, by the parents /proc shows (a bounded walk). */
static bool
descends_from(pid_t pid, pid_t ancestor)
{
	for (int depth = 0; depth < 64 && pid > 1; depth++) {
		if ((pid = process_parent_of(pid)) == ancestor)
			return true;
	}
	return false;
}

/*
 * A new main pid must be the service's. With cgroups: in its cgroup,
 * which no other service's process can be. Without: in its process group
 * or session, or a descendant of its main process (a daemon that forked
 * and called setsid), or an orphan handed to us as subreaper that no
 * other service claims (its parent, the old main process, exited first).
 */
static bool
belongs_to(const struct service *s, pid_t pid)
{
	pid_t pgid;

	if (pid <= 1 || pid == getpid())
		return false;
	if (cgroup_enabled() && s->cgroup != NULL)
		return cgroup_holds(s, pid);
	if ((pgid = getpgid(pid)) == -1)
		return false;
	if (pgid == s->pgid || getsid(pid) == s->pgid)
		return true;
	if (s->pid > 1 && descends_from(pid, s->pid))
		return true;
	return process_parent_of(pid) == getpid() && supervisor_find_pid(pid) == NULL &&
	    supervisor_find_pgid(pgid) == NULL;
}

static void
handle_line(struct service *s, const char *line, pid_t sender)
{
	const char *name = s->conf->name, *v;
	unsigned long long n;

	if (strcmp(line, "READY=1") == 0) {
		service_ready(s, "READY=1");
	} else if (strcmp(line, "RELOADING=1") == 0) {
		service_reloading(s);
	} else if (strcmp(line, "STOPPING=1") == 0) {
		if (s->state == SERVICE_RUNNING || s->state == SERVICE_STARTING)
			service_note(s, "stopping on its own (STOPPING=1)");
	} else if (strcmp(line, "WATCHDOG=1") == 0) {
		service_watchdog_ping(s);
	} else if (strncmp(line, "STATUS=", 7) == 0) {
		service_set_status_text(s, line + 7);
	} else if (strncmp(line, "MAINPID=", 8) == 0) {
		v = line + 8;
		if (!parse_u64(v, &n) || n > INT32_MAX || !belongs_to(s, (pid_t)n))
			log_warnx("%s: MAINPID=%s from pid %d ignored: not a process of "
			    "this service", name, v, (int)sender);
		else
			service_set_main_pid(s, (pid_t)n);
	} else if (strncmp(line, "WATCHDOG_USEC=", 14) == 0) {
		if (parse_u64(line + 14, &n))
			service_watchdog_set(s, (int64_t)((n + 999) / 1000));
	} else if (strncmp(line, "EXTEND_TIMEOUT_USEC=", 20) == 0) {
		if (parse_u64(line + 20, &n))
			service_extend_timeout(s, (int64_t)((n + 999) / 1000));
	} else if (strncmp(line, "ERRNO=", 6) == 0) {
		if (parse_u64(line + 6, &n) && n < 4096) {
			s->notify_errno = (int)n;
			log_warnx("%s: reports ERRNO=%d (%s)", name, (int)n, strerror((int)n));
		}
	}
	/* anything else (FDSTORE=1, BARRIER=1, unknown keys) is ignored */
}

static void
close_passed_fds(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[NOTIFY_FDS_MAX];

		if (n > NOTIFY_FDS_MAX)
			n = NOTIFY_FDS_MAX;
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
	}
}

static pid_t
sender_pid(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred cred;
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			return cred.pid;
		}
	return 0;
}

/* Alive and provably not the service's: the one sender that is refused. */
static bool
foreign(const struct service *s, pid_t pid)
{
	if (pid <= 0 || pid == s->pid || pid == getpid())
		return false;
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return false;	/* gone already: it had the socket, it was ours */
	return !belongs_to(s, pid);
}

/* One datagram: 1 handled or dropped, 0 nothing queued. */
static int
read_one(struct notify_sock *ns)
{
	char buf[NOTIFY_MSG_MAX + 1], *line, *save = NULL;
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(NOTIFY_FDS_MAX * sizeof(int))];
	} ctl;
	struct iovec iov = { buf, NOTIFY_MSG_MAX };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = &ctl, .msg_controllen = sizeof(ctl),
	};
	struct service *s = ns->s;
	pid_t sender;
	ssize_t n;

	n = recvmsg(ns->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1) {
		if (errno == EINTR)
			return 1;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("%s: reading notify socket %s", s->conf->name, ns->path);
		return 0;
	}
	close_passed_fds(&msg);
	sender = sender_pid(&msg);
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		log_warnx("%s: notify: dropped a message from pid %d: longer than %d bytes",
		    s->conf->name, (int)sender, NOTIFY_MSG_MAX);
		return 1;
	}
	if (memchr(buf, '\0', (size_t)n) != NULL) {
		log_warnx("%s: notify: dropped a message from pid %d: it holds a NUL byte",
		    s->conf->name, (int)sender);
		return 1;
	}
	if (foreign(s, sender)) {
		log_warnx("%s: notify: ignored a message from pid %d, which is not a "
		    "process of this service", s->conf->name, (int)sender);
		return 1;
	}
	buf[n] = '\0';
	log_debug("%s: notify from pid %d: %s", s->conf->name, (int)sender, buf);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		handle_line(s, line, sender);
	return 1;
}

void
notify_drain(struct service *s)
{
	struct notify_sock *ns = s->notify;

	while (ns != NULL && read_one(ns) == 1)
		;
}

static void
notify_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop, (void)revents;
	/* a bounded batch: a flood from one service must not starve the loop */
	for (int i = 0; i < 64 && read_one(w->data) == 1; i++)
		;
}

/* /run/vigil/vigil.sock -> /run/vigil/vigil.notify/; other names get ".notify" added. */
int
notify_init(const char *control_path)
{
	char err[1024];

	if ((notify_dir = config_socket_sibling(control_path, ".notify")) == NULL)
		return -1;
	/* searchable by all: services that run as other users must reach their socket */
	if (safedir_make(notify_dir, 0755, 0, "notify folder",
	    "stop whatever made it and start vigild again", err, sizeof(err)) == -1) {
		log_warnx("notify: %s", err);
		free(notify_dir);	/* no socket is ever made in a folder that failed */
		notify_dir = NULL;
		return -1;
	}
	return 0;
}

void
notify_cleanup(void)
{
	if (notify_dir != NULL && rmdir(notify_dir) == -1 && errno != ENOENT)
		log_warn("removing %s", notify_dir);
	free(notify_dir);
	notify_dir = NULL;
}

static int
notify_bind(struct notify_sock *ns, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int one = 1;

	memcpy(sa.sun_path, ns->path, strlen(ns->path) + 1);
	ns->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ns->fd == -1 ||
	    setsockopt(ns->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
		snprintf(err, errlen, "notify socket: %s", strerror(errno));
		return -1;
	}
	/* a leftover of an earlier vigild: the control socket next to it is ours now */
	(void)unlink(ns->path);
	if (bind(ns->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		snprintf(err, errlen, "notify socket %s: bind: %s", ns->path, strerror(errno));
		return -1;
	}
	/*
	 * Anyone may send (a service that drops privileges must still reach
	 * it); foreign() tells who may be heard.
	 */
	if (chmod(ns->path, 0666) == -1) {
		snprintf(err, errlen, "notify socket %s: chmod: %s", ns->path, strerror(errno));
		return -1;
	}
	return 0;
}

const char *
notify_service_socket(struct service *s, char *err, size_t errlen)
{
	struct notify_sock *ns = s->notify;

	if (ns != NULL)
		return ns->path;
	if (notify_dir == NULL) {
		snprintf(err, errlen, "no notify socket folder (see vigild's log at start)");
		return NULL;
	}
	if ((ns = calloc(1, sizeof(*ns))) == NULL) {
		snprintf(err, errlen, "notify socket: out of memory");
		return NULL;
	}
	ns->s = s;
	ns->fd = -1;
	if ((size_t)snprintf(ns->path, sizeof(ns->path), "%s/%s", notify_dir,
	    s->conf->name) >= sizeof(ns->path)) {
		snprintf(err, errlen, "notify socket %s/%s: path longer than %zu bytes "
		    "(choose a shorter control socket path)", notify_dir, s->conf->name,
		    sizeof(ns->path) - 1);
		free(ns);
		return NULL;
	}
	if (notify_bind(ns, err, errlen) == -1) {
		if (ns->fd >= 0)
			close(ns->fd);
		free(ns);
		return NULL;
	}
	ev_io_init(&ns->io, notify_cb, ns->fd, EV_READ);
	ns->io.data = ns;
	ev_io_start(vigild.loop, &ns->io);
	s->notify = ns;
	return ns->path;
}

void
notify_service_free(struct service *s)
{
	struct notify_sock *ns = s->notify;

	if (ns == NULL)
		return;
	ev_io_stop(vigild.loop, &ns->io);
	close(ns->fd);
	if (unlink(ns->path) == -1 && errno != ENOENT)
		log_warn("%s: removing %s", s->conf->name, ns->path);
	free(ns);
	s->notify = NULL;
}
