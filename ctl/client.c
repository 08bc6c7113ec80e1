/*
 * client.c: vigilctl's end of the control socket. Connect, send one
 * request line, read reply lines; every wait is a poll(2) against a
 * deadline, and a reply line is bounded. What the lines mean is commands.c's.
 */
#include "config.h"
#include "vigilctl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

#define CLIENT_BUF_FIRST	(64 * 1024)

volatile sig_atomic_t client_stop;

int64_t
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sigset_t	poll_mask;		/* the mask inside a wait, when poll_mask_set */
static bool	poll_mask_set;

void
client_catch_in_poll_only(int sig1, int sig2)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, sig1);
	sigaddset(&block, sig2);
	if (sigprocmask(SIG_BLOCK, &block, &poll_mask) == -1)
		return;
	sigdelset(&poll_mask, sig1);
	sigdelset(&poll_mask, sig2);
	poll_mask_set = true;
}

/* Wait for events on c->fd until deadline; -1 with ETIMEDOUT when it passes. */
static int
client_poll(struct ctl_client *c, short events, int64_t deadline)
{
	struct pollfd p = { c->fd, events, 0 };

	for (;;) {
		int64_t left = deadline - client_now_ms();
		struct timespec ts;
		int n;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (left > INT_MAX)
			left = INT_MAX;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		/* the stop signals are let in here only, atomically with the wait */
		n = ppoll(&p, 1, &ts, poll_mask_set ? &poll_mask : NULL);
		if (n > 0)
			return 0;
		if (n == -1 && (errno != EINTR || client_stop))
			return -1;
	}
}

int
client_open(struct ctl_client *c, const char *path, int64_t deadline)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int64_t left = deadline - client_now_ms();
	int saved;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/*
	 * A Unix connect() blocks only while vigild's backlog is full, and
	 * then honours the send timeout; that bounds it by the deadline.
	 */
	left = left > 0 ? left : 1;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) == -1) {
		saved = errno;
		close(c->fd);
		c->fd = -1;
		errno = saved;
		return -1;
	}
	return 0;
}

/* Words that need no quoting for words_split() on the daemon's side. */
static bool
word_is_plain(const char *w)
{
	if (*w == '\0')
		return false;
	for (; *w != '\0'; w++)
		if (!isalnum((unsigned char)*w) && strchr("_-.,:/@%+=", *w) == NULL)
			return false;
	return true;
}

/* Append s to buf at *off; -1 when it does not fit. */
static int
append(char *buf, size_t len, size_t *off, const char *s, size_t n)
{
	if (*off + n >= len)
		return -1;
	memcpy(buf + *off, s, n);
	*off += n;
	buf[*off] = '\0';
	return 0;
}

/* One word, in single quotes if needed: inside them only ' is special. */
static int
append_word(char *buf, size_t len, size_t *off, const char *w)
{
	if (word_is_plain(w))
		return append(buf, len, off, w, strlen(w));
	if (append(buf, len, off, "'", 1) == -1)
		return -1;
	for (; *w != '\0'; w++) {
		if (*w == '\'' ? append(buf, len, off, "'\\''", 4) == -1 :
		    append(buf, len, off, w, 1) == -1)
			return -1;
	}
	return append(buf, len, off, "'", 1);
}

int
client_format_request(char *const *words, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strchr(words[i], '\n') != NULL) {
			errno = EINVAL;	/* the line would end inside the word */
			return -1;
		}
		if ((i > 0 && append(buf, len, &off, " ", 1) == -1) ||
		    append_word(buf, len, &off, words[i]) == -1) {
			errno = E2BIG;
			return -1;
		}
	}
	if (off > PROTO_MAX_LINE || append(buf, len, &off, "\n", 1) == -1) {
		errno = E2BIG;
		return -1;
	}
	return 0;
}

int
client_send(struct ctl_client *c, const char *line, int64_t deadline)
{
	size_t off = 0, len = strlen(line);

	while (off < len) {
		/* MSG_NOSIGNAL: a vigild that went away is an error, not our death */
		ssize_t n = send(c->fd, line + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			off += (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (client_poll(c, POLLOUT, deadline) == -1)
				return -1;
		} else if (errno != EINTR) {
			return -1;
		}
	}
	return 0;
}

/* Room for at least one more byte, never beyond CTL_REPLY_MAX and the '\n'. */
static int
client_grow(struct ctl_client *c)
{
	size_t ncap = c->cap ? c->cap * 2 : CLIENT_BUF_FIRST;
	char *nb;

	if (c->cap >= CTL_REPLY_MAX + 1) {
		errno = EMSGSIZE;
		return -1;
	}
	if (ncap > CTL_REPLY_MAX + 1)
		ncap = CTL_REPLY_MAX + 1;
	if ((nb = realloc(c->buf, ncap)) == NULL)
		return -1;
	c->buf = nb;
	c->cap = ncap;
	return 0;
}

int
client_read_line(struct ctl_client *c, int64_t deadline, char **line, size_t *len)
{
	size_t scanned = 0;
	char *nl;
	ssize_t n;

	if (c->used > 0) {
		memmove(c->buf, c->buf + c->used, c->len - c->used);
		c->len -= c->used;
		c->used = 0;
	}
	for (;;) {
		if (c->len > scanned &&
		    (nl = memchr(c->buf + scanned, '\n', c->len - scanned)) != NULL) {
			*nl = '\0';
			*line = c->buf;
			*len = (size_t)(nl - c->buf);
			c->used = *len + 1;
			return 1;
		}
		scanned = c->len;
		if (c->len == c->cap && client_grow(c) == -1)
			return -1;
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
		} else if (n == 0) {
			return 0;	/* a partial last line is no reply */
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (client_poll(c, POLLIN, deadline) == -1)
				return -1;
		} else if (errno != EINTR) {
			return -1;
		}
	}
}

bool
client_has_line(const struct ctl_client *c)
{
	return c->len > c->used && memchr(c->buf + c->used, '\n', c->len - c->used) != NULL;
}

int
client_wait_close(struct ctl_client *c, int64_t deadline)
{
	char junk[4096];
	ssize_t n;

	for (;;) {
		n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return 0;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (client_poll(c, POLLIN, deadline) == -1)
				return -1;
		} else if (n == -1 && errno != EINTR) {
			return -1;
		}
	}
}

pid_t
client_peer_pid(const struct ctl_client *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (c->fd == -1 || getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -1;
	return cred.pid;
}

void
client_close(struct ctl_client *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

const char *
ctl_default_socket(uid_t euid, const char *xdg_runtime_dir, char *buf, size_t len)
{
	/* like vigild's config_default_socket(): only an absolute XDG_RUNTIME_DIR counts */
	if (euid == 0)
		snprintf(buf, len, "/run/vigil/vigil.sock");
	else if (xdg_runtime_dir != NULL && xdg_runtime_dir[0] == '/')
		snprintf(buf, len, "%s/vigil/vigil.sock", xdg_runtime_dir);
	else	/* like config_fallback_dir(): an absolute TMPDIR, else /tmp */
		snprintf(buf, len, "%s/vigil-%u/vigil.sock", getenv("TMPDIR") != NULL &&
		    getenv("TMPDIR")[0] == '/' ? getenv("TMPDIR") : "/tmp", (unsigned)euid);
	return buf;
}

int
ctl_fallback_dir_check(const char *sock, uid_t euid, char *why, size_t len)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", sock);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (lstat(dir, &st) == -1)
		return 0;	/* nothing there: connect says so */
	if (!S_ISDIR(st.st_mode))
		snprintf(why, len, "%s is not a folder but a %s", dir,
		    S_ISLNK(st.st_mode) ? "symbolic link" : "file");
	else if (st.st_uid != euid)
		snprintf(why, len, "%s belongs to uid %u, not to you (uid %u): another user "
		    "may have made it to read your requests", dir, (unsigned)st.st_uid,
		    (unsigned)euid);
	else if ((st.st_mode & 077) != 0)
		snprintf(why, len, "%s is open to others (mode %03o); vigild makes it 0700",
		    dir, (unsigned)(st.st_mode & 0777));
	else
		return 0;
	return -1;
}
