/*
 * notify.c: the sd_notify protocol, served by vigild without libsystemd.
 *
 * Each service that may speak it gets its own datagram socket, so a
 * message belongs to the service whose socket it came in on. One shared
 * socket with senders matched by pid cannot work for the commonest
 * client: systemd-notify, run as root, puts its parent's pid in its
 * credentials (a privileged process may claim any pid), and run as a
 * service's main process that parent is vigild.
 *
 * Who is heard, in three gates (vigil.conf(5), "ready = notify"):
 * - the socket file belongs to the service's user with mode 0600, so no
 *   other user can even send to it;
 * - every datagram's credentials (SCM_CREDENTIALS, filled in by the
 *   kernel) must name root or the service's user: a socket connected
 *   before a process changed its uid does not carry the old rights;
 * - a sender that is not root (whose pid the kernel vouches for) must be
 *   the service's own, checked while it still exists: in its cgroup, or
 *   without cgroups in its process group, session or descendants. One
 *   that has already been reaped cannot be checked and is not heard.
 *   (systemd-notify waits until its message is read, unless --no-block.)
 *   A root sender's pid proves nothing; it is refused only when it names
 *   a live process that is provably not the service's.
 * Refusals are logged, at most NOTIFY_WARN_BURST per service and window.
 * Truncated messages and messages holding a NUL are dropped whole;
 * passed fds are closed at once.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NOTIFY_FDS_MAX	16	/* fds passed along (FDSTORE=1, BARRIER=1) are closed */
/* refusals logged per service and window; the rest are counted, then summed up */
#define NOTIFY_WARN_BURST	5
#define NOTIFY_WARN_WINDOW_MS	10000

struct notify_sock {
	struct service	*s;
	int		 fd;
	ev_io		 io;
	uid_t		 uid;		/* the socket file's owner: the service's user */
	gid_t		 gid;
	struct log_limit refusals;	/* what a sender in a loop may put in the log */
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

/*
 * A refused message, logged unless this service has used up its window:
 * a sender in a loop must not fill vigild's log (log.c escapes the text).
 */
static void __attribute__((format(printf, 2, 3)))
refuse(struct notify_sock *ns, const char *fmt, ...)
{
	unsigned left_out;
	char msg[512];
	va_list ap;
	bool now = log_limit(&ns->refusals, NOTIFY_WARN_BURST, NOTIFY_WARN_WINDOW_MS, &left_out);

	if (left_out > 0)
		log_warnx("%s: notify: %u more messages were refused and not logged",
		    ns->s->conf->name, left_out);
	if (!now)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s: notify: %s%s", ns->s->conf->name, msg,
	    ns->refusals.logged == NOTIFY_WARN_BURST ?
	    " (more refusals in the next 10s go unlogged)" : "");
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

/* A microsecond count within NOTIFY_USEC_MAX, as milliseconds rounded up; -1 if not. */
static int64_t
usec_to_ms(const char *v)
{
	unsigned long long n;

	if (!parse_u64(v, &n) || n > NOTIFY_USEC_MAX)
		return -1;
	return (int64_t)((n + 999) / 1000);
}

static void
handle_line(struct notify_sock *ns, const char *line, pid_t sender)
{
	struct service *s = ns->s;
	const char *name = s->conf->name, *v;
	unsigned long long n;
	int64_t ms;

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
			refuse(ns, "MAINPID=%.64s from pid %d ignored: not a process of "
			    "this service", v, (int)sender);
		else
			service_set_main_pid(s, (pid_t)n);
	} else if (strncmp(line, "WATCHDOG_USEC=", 14) == 0) {
		if ((ms = usec_to_ms(line + 14)) == -1)
			refuse(ns, "%.64s from pid %d ignored: expected a number of "
			    "microseconds up to a year", line, (int)sender);
		else
			service_watchdog_set(s, ms);
	} else if (strncmp(line, "EXTEND_TIMEOUT_USEC=", 20) == 0) {
		if ((ms = usec_to_ms(line + 20)) == -1)
			refuse(ns, "%.64s from pid %d ignored: expected a number of "
			    "microseconds up to a year", line, (int)sender);
		else
			service_extend_timeout(s, ms);
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

/* The kernel's record of who sent msg; false if there is none. */
static bool
sender_cred(struct msghdr *msg, struct ucred *cred)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			memcpy(cred, CMSG_DATA(c), sizeof(*cred));
			return true;
		}
	return false;
}

/* Whether the sender may speak for ns's service (the gates at the top); why not. */
static const char *
sender_refused(const struct notify_sock *ns, const struct ucred *cred)
{
	const struct service *s = ns->s;
	pid_t pid = cred->pid;

	if (cred->uid != 0 && cred->uid != ns->uid)
		return "only root and the service's user may send";
	if (pid <= 0 || pid == s->pid || pid == getpid())
		return NULL;
	if (kill(pid, 0) == -1 && errno == ESRCH)
		/* a root sender may name any pid: its pid says nothing either way */
		return cred->uid == 0 ? NULL : "it exited before vigild could check that it "
		    "is a process of this service (a sender must live until its message "
		    "is read; systemd-notify waits unless given --no-block)";
	return belongs_to(s, pid) ? NULL : "it is not a process of this service";
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
	struct ucred cred = { .pid = 0 };
	const char *why;
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
	if (!sender_cred(&msg, &cred)) {
		refuse(ns, "dropped a message without the sender's credentials");
		return 1;
	}
	if ((why = sender_refused(ns, &cred)) != NULL) {
		refuse(ns, "dropped a message from pid %d (uid %u): %s", (int)cred.pid,
		    (unsigned)cred.uid, why);
		return 1;
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		refuse(ns, "dropped a message from pid %d: longer than %d bytes",
		    (int)cred.pid, NOTIFY_MSG_MAX);
		return 1;
	}
	if (memchr(buf, '\0', (size_t)n) != NULL) {
		refuse(ns, "dropped a message from pid %d: it holds a NUL byte", (int)cred.pid);
		return 1;
	}
	buf[n] = '\0';
	log_debug("%s: notify from pid %d: %s", s->conf->name, (int)cred.pid, buf);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		handle_line(ns, line, cred.pid);
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

/* The user and group a service runs as: vigild's own unless it sets them. */
static void
service_ids(const struct service *s, uid_t *uid, gid_t *gid)
{
	*uid = s->conf->set_ids ? s->conf->uid : geteuid();
	*gid = s->conf->set_ids ? s->conf->gid : getegid();
}

/*
 * Give the socket file to the service's user, mode 0600: only it (and
 * root) may send. By path, in vigild's own notify folder, which no one
 * else may write; lchown never follows a link.
 */
static int
notify_own(struct notify_sock *ns, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;

	service_ids(ns->s, &uid, &gid);
	if (lchown(ns->path, uid, gid) == -1) {
		snprintf(err, errlen, "notify socket %s: chown to %u:%u: %s", ns->path,
		    (unsigned)uid, (unsigned)gid, strerror(errno));
		return -1;
	}
	ns->uid = uid;
	ns->gid = gid;
	return 0;
}

static int
notify_bind(struct notify_sock *ns, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int one = 1, rc;
	mode_t old;

	memcpy(sa.sun_path, ns->path, strlen(ns->path) + 1);
	ns->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ns->fd == -1 ||
	    setsockopt(ns->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
		snprintf(err, errlen, "notify socket: %s", strerror(errno));
		return -1;
	}
	/* a leftover of an earlier vigild: the control socket next to it is ours now */
	(void)unlink(ns->path);
	/* born 0600: there is no moment in which another user may connect */
	old = umask(0177);
	rc = bind(ns->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc == -1) {
		snprintf(err, errlen, "notify socket %s: bind: %s", ns->path, strerror(errno));
		return -1;
	}
	return notify_own(ns, err, errlen);
}

const char *
notify_service_socket(struct service *s, char *err, size_t errlen)
{
	struct notify_sock *ns = s->notify;
	uid_t uid;
	gid_t gid;

	if (ns != NULL) {
		/* a reload may have given the service another user */
		service_ids(s, &uid, &gid);
		if ((uid != ns->uid || gid != ns->gid) && notify_own(ns, err, errlen) == -1)
			return NULL;
		return ns->path;
	}
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

int
notify_handover_fd(const struct service *s)
{
	return s->notify != NULL ? s->notify->fd : -1;
}

/*
 * The socket the old vigild bound for s, still at its path (the services
 * know it by NOTIFY_SOCKET): watched again, what it queued meanwhile kept.
 */
int
notify_adopt(struct service *s, int fd)
{
	struct notify_sock *ns;

	if (notify_dir == NULL || s->notify != NULL || (ns = calloc(1, sizeof(*ns))) == NULL)
		return -1;
	ns->s = s;
	ns->fd = fd;
	service_ids(s, &ns->uid, &ns->gid);
	snprintf(ns->path, sizeof(ns->path), "%s/%s", notify_dir, s->conf->name);
	ev_io_init(&ns->io, notify_cb, ns->fd, EV_READ);
	ns->io.data = ns;
	ev_io_start(vigild.loop, &ns->io);
	s->notify = ns;
	return 0;
}
