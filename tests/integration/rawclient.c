/*
 * rawclient.c: a protocol client that speaks to vigild's socket directly,
 * byte for byte, for tests that need what vigilctl would never send
 * (partial lines, floods, bad bytes) or need to see the wire itself.
 */
#define _GNU_SOURCE
#include "rawclient.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

const char *
reply_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

void
raw_sock_addr(struct sockaddr_un *sun)
{
	size_t len = strlen(vh.sock);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	cr_assert_lt(len, sizeof(sun->sun_path), "socket path too long: %s", vh.sock);
	memcpy(sun->sun_path, vh.sock, len);
}

void
raw_connect(struct raw *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	c->len = 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_neq(c->fd, -1, "socket: %s", strerror(errno));
	raw_sock_addr(&sun);
	cr_assert_eq(connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)), 0,
	    "connect %s: %s", vh.sock, strerror(errno));
	cr_assert_neq(fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK), -1);
}

/* In the child: connect as the user, then hand the fd (or connect's errno) to the parent. */
static void
connect_child(int sp, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	struct sockaddr_un sun;
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { 0 };
	struct iovec iov;
	int fd, err = 0;

	vh_become(uid, gid, groups, ngroups);
	raw_sock_addr(&sun);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err = errno;
	iov.iov_base = &err;
	iov.iov_len = sizeof(err);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (err == 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &fd, sizeof(int));
	}
	_exit(sendmsg(sp, &msg, MSG_NOSIGNAL) == -1 ? 95 : 0);
}

int
raw_connect_as(struct raw *c, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { 0 };
	struct pollfd p;
	struct iovec iov;
	int sp[2], err = -1, status;
	pid_t pid;

	c->len = 0;
	c->fd = -1;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0,
	    "socketpair: %s", strerror(errno));
	cr_assert_neq(pid = fork(), -1, "fork: %s", strerror(errno));
	if (pid == 0)
		connect_child(sp[1], uid, gid, groups, ngroups);
	close(sp[1]);
	p = (struct pollfd){ sp[0], POLLIN, 0 };
	iov = (struct iovec){ &err, sizeof(err) };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cr_assert_eq(poll(&p, 1, IO_DEADLINE_MS), 1, "connecting as uid %u: no word from "
	    "the child in %d ms", (unsigned)uid, IO_DEADLINE_MS);
	cr_assert_eq(recvmsg(sp[0], &msg, MSG_CMSG_CLOEXEC), (ssize_t)sizeof(err),
	    "connecting as uid %u: the child said nothing (could it not switch user?)",
	    (unsigned)uid);
	close(sp[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (err != 0)
		return err;
	cr_assert_not_null(CMSG_FIRSTHDR(&msg), "connecting as uid %u: no fd came", (unsigned)uid);
	memcpy(&c->fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	cr_assert_neq(fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK), -1);
	return 0;
}

void
raw_close(struct raw *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Send all of data before the deadline. */
void
raw_send(struct raw *c, const char *data, size_t len)
{
	long long deadline = vh_now_ms() + IO_DEADLINE_MS;
	size_t off = 0;

	while (off < len) {
		struct pollfd p = { c->fd, POLLOUT, 0 };
		ssize_t n;

		cr_assert_lt(vh_now_ms(), deadline, "sent only %zu of %zu bytes in %d ms",
		    off, len, IO_DEADLINE_MS);
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		cr_assert_gt(n, 0, "send: %s", strerror(errno));
		off += (size_t)n;
	}
}

/* The next reply line (malloc'd, no newline), NULL on EOF or after timeout_ms. */
char *
raw_line(struct raw *c, int timeout_ms)
{
	long long deadline = vh_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { c->fd, POLLIN, 0 };
		char *line;
		ssize_t n;

		if ((line = vh_take_line(c->buf, &c->len)) != NULL)
			return line;
		cr_assert_lt(c->len, sizeof(c->buf), "a reply line longer than %zu bytes",
		    sizeof(c->buf));
		if (vh_now_ms() >= deadline)
			return NULL;
		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n == 0)
			return NULL;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1)
			return NULL;
		c->len += (size_t)n;
	}
}

/* The next reply, parsed; fails the test if none comes or it is not one JSON object. */
json_t *
raw_reply(struct raw *c, const char *what)
{
	char *line = raw_line(c, IO_DEADLINE_MS);
	json_error_t jerr;
	json_t *r;

	cr_assert_not_null(line, "%s: no reply line within %d ms; log:\n%s", what,
	    IO_DEADLINE_MS, vh_log_tail());
	r = json_loads(line, 0, &jerr);
	cr_assert_not_null(r, "%s: reply is not JSON (%s): %s", what, jerr.text, line);
	cr_assert(json_is_object(r), "%s: reply is not an object: %s", what, line);
	free(line);
	return r;
}

json_t *
raw_request(struct raw *c, const char *line)
{
	raw_send(c, line, strlen(line));
	raw_send(c, "\n", 1);
	return raw_reply(c, line);
}

/* A reply as text for failure messages (static buffer). */
const char *
show(const json_t *j)
{
	static char buf[2048];
	size_t n = j ? json_dumpb(j, buf, sizeof(buf) - 1, JSON_COMPACT) : 0;

	buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
	return j ? buf : "(null)";
}

bool
reply_ok(const json_t *r)
{
	return json_is_true(json_object_get(r, "ok"));
}

void
expect_error(json_t *r, const char *code, const char *what)
{
	cr_expect(json_is_false(json_object_get(r, "ok")), "%s: expected ok:false, got %s",
	    what, show(r));
	cr_expect_str_eq(reply_str(r, "error"), code, "%s: expected error %s, got %s", what,
	    code, show(r));
	cr_expect(json_string_length(json_object_get(r, "message")) > 0,
	    "%s: error without a message: %s", what, show(r));
	json_decref(r);
}

/* Send `status` on c and expect a good reply: the connection still works. */
void
expect_status_ok(struct raw *c, const char *after)
{
	json_t *r = raw_request(c, "status");

	cr_expect(reply_ok(r), "status after %s: %s", after, show(r));
	cr_expect(json_is_array(json_object_get(r, "services")), "status after %s: %s",
	    after, show(r));
	json_decref(r);
}

/* `log REQ` until its reply holds at least n lines; the reply (caller decrefs). */
json_t *
raw_log_until(struct raw *c, const char *req, size_t n)
{
	long long deadline = vh_now_ms() + IO_DEADLINE_MS;
	json_t *r;

	for (;;) {
		r = raw_request(c, req);
		cr_assert(reply_ok(r), "%s: %s", req, show(r));
		if (json_array_size(json_object_get(r, "lines")) >= n)
			return r;
		cr_assert_lt(vh_now_ms(), deadline, "%s: fewer than %zu lines: %s", req, n, show(r));
		json_decref(r);
		usleep(20000);
	}
}
