/*
 * control.c: the control socket's clients. Non-blocking read and write;
 * per-client line assembly and reply buffers with bounds, so a slow,
 * silent or hostile client costs only its own buffers. Two modes a verb
 * may put a client in: parked (its request waits; later lines wait their
 * turn) and streaming (it gets lines until it leaves, bounded: a slow one
 * skips lines, and the verb is told when it has caught up). What a request
 * means, and what a stream carries, belongs to the verbs. Accepting is
 * here too, with the bounds on clients: at the limit the client that has
 * moved no byte for longest (and only holds a slot) makes room, the last
 * CONTROL_ADMIN_RESERVE slots are for admin, and one connection runs at
 * most CONTROL_REQUESTS_PER_SEC requests a second.
 */
#include "config.h"
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "access.h"
#include "core/outer.h"
#include "duration.h"
#include "proto.h"
#include "safedir.h"

#define CONTROL_OUT_PAUSE	(256 * 1024)	/* stop reading requests above this */
#define CONTROL_OUT_MAX		(64 * 1024 * 1024)	/* drop a client that never reads */
#define CONTROL_OUT_KEEP	(64 * 1024)	/* reply buffer kept between requests */
#define CONTROL_ADMIN_RESERVE	16	/* of CONTROL_MAX_CLIENTS, kept for admin clients */
#define CONTROL_REQUESTS_PER_SEC 1000	/* per connection; more wait for the next second */

struct control_client {
	int		 fd;
	struct access_peer peer;	/* who it is and what it may do, from accept */
	ev_io		 rio, wio;
	char		 in[PROTO_MAX_LINE + 2];
	size_t		 inlen;
	bool		 discarding;	/* skipping the rest of an over-long line */
	bool		 eof;		/* peer closed its side: answer, then close */
	bool		 dropped;	/* it never read its replies: nothing more is queued */
	char		*out;
	size_t		 outlen, outoff, outcap;
	const struct control_park_ops *park;	/* parked: its request waits; NULL if not */
	void		*park_state;
	ev_timer	 wait_timer;
	const struct control_stream_ops *stream;	/* streaming: gets lines, reads no more requests */
	void		*stream_state;
	bool		 half_closed;	/* a streaming client that shut down its sending side */
	bool		 hup_watched;	/* in hup_fd: we learn when it closes for good */
	ev_timer	 idle_timer;	/* closes a client that neither sends a request nor reads */
	bool		 progressed;	/* bytes came in or went out since the clock was armed */
	double		 moved;		/* ev_time() a byte last came in or went out */
	double		 rate_since;	/* ev_time() the current second of requests began */
	unsigned	 rate_count;	/* requests run in it */
	bool		 rate_paused;	/* over CONTROL_REQUESTS_PER_SEC: waits for rate_timer */
	bool		 rate_logged;	/* said once per connection */
	ev_timer	 rate_timer;
	uint64_t	 skipped;	/* stream lines not queued since it fell behind */
	struct control_client *prev, *next;
};

static struct control_client *clients;
static size_t	 nclients;
static struct log_limit evictions;	/* what an attacker's connections may log */
static control_handler_fn *handler;	/* commands.c's dispatch, set by main.c */
/*
 * Half-closed followers: their fd reads EOF forever, so libev cannot watch
 * it for reading. An epoll set that asks for no event still reports
 * EPOLLHUP, which a Unix socket raises once the peer has closed both ways.
 */
static int	 hup_fd = -1;
static ev_io	 hup_io;
static int	 listen_fd = -1;
static char	*listen_path;
static ev_io	 listen_io;
static ev_timer	 listen_retry;	/* out of fds: accept again later, do not spin */

static void	client_process(struct control_client *c);
static void	client_free(struct control_client *c);

/* A client left: if accepting was paused for want of fds, resume now. */
static void
listen_resume(void)
{
	if (listen_fd != -1 && !ev_is_active(&listen_io)) {
		ev_timer_stop(vigild.loop, &listen_retry);
		ev_io_start(vigild.loop, &listen_io);
	}
}

void
control_set_handler(control_handler_fn *fn)
{
	handler = fn;
}

/* How long a client may keep us waiting for (the rest of) a request; 0: for ever */
static int64_t
idle_timeout_ms(void)
{
	return vigild.conf != NULL ? vigild.conf->client_timeout_ms : CONFIG_CLIENT_TIMEOUT_MS;
}

/*
 * Start c's idle clock, or with restart, start it again (bytes came in).
 * Armed against the time now, not the loop turn's start, so that a long
 * turn never shortens it.
 */
static void
idle_arm(struct control_client *c, bool restart)
{
	int64_t ms = idle_timeout_ms();

	if (ms <= 0 || (ev_is_active(&c->idle_timer) && !restart))
		return;
	ev_timer_stop(vigild.loop, &c->idle_timer);
	ev_timer_set(&c->idle_timer, ms / 1000.0 + ev_time() - ev_now(vigild.loop), 0.);
	ev_timer_start(vigild.loop, &c->idle_timer);
}

static void
idle_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control_client *c = w->data;
	char d[32];

	(void)loop;
	(void)revents;
	duration_format(idle_timeout_ms(), d, sizeof(d));
	if (c->outlen > c->outoff)
		log_notice("control: client fd %d read none of its reply for %s, closing it",
		    c->fd, d);
	else
		log_notice("control: client fd %d sent %s for %s, closing it", c->fd,
		    c->inlen > 0 || c->discarding ? "only part of a request" : "no request", d);
	client_free(c);
}

static void
hup_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct epoll_event ev[16];
	int n;

	(void)loop;
	(void)w;
	(void)revents;
	if ((n = epoll_wait(hup_fd, ev, 16, 0)) == -1 && errno != EINTR)
		log_warn("control: epoll_wait");
	for (int i = 0; i < n; i++) {
		struct control_client *c = ev[i].data.ptr;
		log_debug("control: follower fd %d closed its connection", c->fd);
		client_free(c);
	}
}

/* Learn when a half-closed follower goes: without it, a quiet one would hold its slot for ever. */
static void
hup_watch(struct control_client *c)
{
	struct epoll_event ev = { .events = 0, .data.ptr = c };

	if (hup_fd == -1) {
		if ((hup_fd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
			log_warn("control: epoll_create1");
			return;	/* it is freed when a write to it fails */
		}
		ev_io_init(&hup_io, hup_cb, hup_fd, EV_READ);
		ev_io_start(vigild.loop, &hup_io);
	}
	if (epoll_ctl(hup_fd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		log_warn("control: client fd %d: epoll_ctl", c->fd);
		return;
	}
	c->hup_watched = true;
}

static void
client_free(struct control_client *c)
{
	ev_io_stop(vigild.loop, &c->rio);
	ev_io_stop(vigild.loop, &c->wio);
	ev_timer_stop(vigild.loop, &c->wait_timer);
	ev_timer_stop(vigild.loop, &c->idle_timer);
	ev_timer_stop(vigild.loop, &c->rate_timer);
	if (c->hup_watched && epoll_ctl(hup_fd, EPOLL_CTL_DEL, c->fd, NULL) == -1)
		log_warn("control: client fd %d: epoll_ctl", c->fd);
	/* the verb lets go of it first: its lists must not keep a freed client */
	if (c->park != NULL)
		c->park->free(c->park_state);
	if (c->stream != NULL)
		c->stream->free(c->stream_state);
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	nclients--;
	free(c->out);
	free(c);
	listen_resume();	/* a slot is free: accept again if we had paused */
}

/* Write what we can without blocking; -1 if the client is gone. */
static int
client_flush(struct control_client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		c->outoff += (size_t)n;
		c->progressed = true;
		c->moved = ev_time();
	}
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		if (c->outcap > CONTROL_OUT_KEEP) {
			/* a big status went out: give the memory back */
			free(c->out);
			c->out = NULL;
			c->outcap = 0;
		}
		ev_io_stop(vigild.loop, &c->wio);
	} else {
		ev_io_start(vigild.loop, &c->wio);
	}
	return 0;
}

/*
 * Read requests only while we are not waiting and the client keeps up. A
 * follower is always read, however far behind it is: that is how we learn
 * at once that it left.
 */
static void
client_update_reading(struct control_client *c)
{
	bool streaming = c->stream != NULL;
	bool read_on = streaming ? !c->half_closed :
	    c->park == NULL && !c->rate_paused && !c->eof &&
	    c->outlen - c->outoff < CONTROL_OUT_PAUSE;

	if (read_on)
		ev_io_start(vigild.loop, &c->rio);
	else
		ev_io_stop(vigild.loop, &c->rio);
	/*
	 * The idle clock runs while we wait for a request, or for the client
	 * to read its reply, from the last byte that moved; never while it
	 * waits for us (a parked wait), never for a follower.
	 */
	if (!streaming && c->park == NULL && !c->rate_paused &&
	    (read_on || c->outlen > c->outoff))
		idle_arm(c, c->progressed);
	else
		ev_timer_stop(vigild.loop, &c->idle_timer);
	c->progressed = false;
	if (streaming && c->half_closed && !c->hup_watched)
		hup_watch(c);
}

int
control_write(struct control_client *c, const char *buf, size_t len)
{
	if (c->dropped)
		return -1;
	if (c->outoff > 0 && c->outlen + len > c->outcap) {
		/* a follower may never drain all: reuse what it has read */
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outlen + len > c->outcap) {
		size_t ncap = c->outcap ? c->outcap : 4096;
		char *n;
		while (ncap < c->outlen + len)
			ncap *= 2;
		if (ncap > CONTROL_OUT_MAX || (n = realloc(c->out, ncap)) == NULL) {
			log_warnx("control: client fd %d is not reading its replies, dropping it", c->fd);
			c->eof = true;
			c->dropped = true;
			c->outlen = c->outoff = 0;
			return -1;
		}
		c->out = n;
		c->outcap = ncap;
	}
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	/* queued outside a request too (a stream, a wait's end): the watcher sends it */
	ev_io_start(vigild.loop, &c->wio);
	return 0;
}

size_t
control_nclients(void)
{
	return nclients;
}

struct access_peer *
control_peer(struct control_client *c)
{
	return &c->peer;
}

size_t
control_mark(const struct control_client *c)
{
	return c->outlen - c->outoff;
}

void
control_rewind(struct control_client *c, size_t mark)
{
	/* a write may have moved the queue to the buffer's start: count from where it starts */
	if (!c->dropped && c->outlen - c->outoff > mark)
		c->outlen = c->outoff + mark;
}

void
control_reply(struct control_client *c, json_t *reply)
{
	size_t len;
	char *line;

	/* a reply that could not be built still gets an answer: one that needs no memory */
	if ((line = proto_dump_line(reply, &len)) == NULL) {
		log_warnx("control: client fd %d: out of memory building a reply", c->fd);
		control_write(c, PROTO_REPLY_INTERNAL_LINE, sizeof(PROTO_REPLY_INTERNAL_LINE) - 1);
		return;
	}
	control_write(c, line, len);
	free(line);
}

static void
wait_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control_client *c = w->data;

	(void)loop;
	(void)revents;
	control_unpark(c, c->park->timeout(c->park_state));
}

void
control_park(struct control_client *c, const struct control_park_ops *ops, void *state,
    int64_t timeout_ms)
{
	c->park = ops;
	c->park_state = state;
	if (timeout_ms > 0) {
		/* against the time now: a long loop turn must not shorten the user's wait */
		ev_timer_set(&c->wait_timer,
		    timeout_ms / 1000.0 + ev_time() - ev_now(vigild.loop), 0.);
		ev_timer_start(vigild.loop, &c->wait_timer);
	}
}

void
control_unpark(struct control_client *c, json_t *reply)
{
	ev_timer_stop(vigild.loop, &c->wait_timer);
	c->park->free(c->park_state);
	c->park = NULL;
	c->park_state = NULL;
	control_reply(c, reply);
	/* more parked lines may follow; run them from the loop, not inside a transition */
	ev_feed_event(vigild.loop, &c->rio, EV_CUSTOM);
}

void
control_stream(struct control_client *c, const struct control_stream_ops *ops, void *state)
{
	c->stream = ops;
	c->stream_state = state;
	if (c->eof) {	/* it shut down its sending side after asking: keep sending */
		c->eof = false;
		c->half_closed = true;
	}
}

bool
control_stream_send(struct control_client *c, const char *line, size_t len)
{
	if (c->skipped > 0 || c->outlen - c->outoff + len > c->stream->max) {
		c->skipped++;
		return false;
	}
	return control_write(c, line, len) == 0;
}

void
control_stream_end(struct control_client *c)
{
	c->stream->free(c->stream_state);
	c->stream = NULL;
	c->stream_state = NULL;
	c->eof = true;
	ev_feed_event(vigild.loop, &c->rio, EV_CUSTOM);
}

static void
client_handle_line(struct control_client *c, const char *line)
{
	struct proto_request req;
	const char *err;
	bool deferred = false;
	json_t *reply;

	if (proto_parse_request(line, &req, &err) == -1) {
		control_reply(c, proto_reply_error(PROTO_ERR_BAD_REQUEST, "%s", err));
		return;
	}
	reply = handler(c, req.argv, req.argc, &deferred);
	proto_request_free(&req);
	if (!deferred)
		control_reply(c, reply);
}

static void
rate_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control_client *c = w->data;

	(void)loop;
	(void)revents;
	c->rate_paused = false;
	client_process(c);
}

/*
 * Whether c may run one more request this second. If not, it waits for
 * the next one (not an error: the requests are all carried out, later).
 */
static bool
rate_take(struct control_client *c)
{
	double now = ev_time();

	if (now - c->rate_since >= 1.) {
		c->rate_since = now;
		c->rate_count = 0;
	}
	if (c->rate_count < CONTROL_REQUESTS_PER_SEC) {
		c->rate_count++;
		return true;
	}
	if (!c->rate_logged) {
		log_notice("control: client fd %d (uid %d, pid %d) sent more than %d requests "
		    "in a second; the rest wait their turn", c->fd, (int)c->peer.uid,
		    (int)c->peer.pid, CONTROL_REQUESTS_PER_SEC);
		c->rate_logged = true;
	}
	c->rate_paused = true;
	ev_timer_set(&c->rate_timer, c->rate_since + 1. - ev_now(vigild.loop), 0.);
	ev_timer_start(vigild.loop, &c->rate_timer);
	return false;
}

/* Run every complete line in the input buffer, stopping at a parked wait. */
static void
client_run_lines(struct control_client *c)
{
	char *nl;

	while (c->park == NULL && c->stream == NULL && !c->rate_paused &&
	    (nl = memchr(c->in, '\n', c->inlen)) != NULL && rate_take(c)) {
		size_t used = (size_t)(nl - c->in) + 1;
		*nl = '\0';
		if (nl > c->in && nl[-1] == '\r')
			*--nl = '\0';
		if (c->discarding)
			c->discarding = false;	/* the tail of an over-long line */
		else if ((size_t)(nl - c->in) > PROTO_MAX_LINE)
			control_reply(c, proto_reply_error(PROTO_ERR_LINE_TOO_LONG,
			    "request longer than %d bytes", PROTO_MAX_LINE));
		else if (memchr(c->in, '\0', (size_t)(nl - c->in)) != NULL)
			/* never act on the part before it: the client meant something else */
			control_reply(c, proto_reply_error(PROTO_ERR_BAD_REQUEST,
			    "request contains a NUL byte"));
		else
			client_handle_line(c, c->in);
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
	}
	if (c->stream != NULL) {
		c->inlen = 0;	/* a streaming client's further requests are ignored */
		return;
	}
	/* full and no newline: the line is too long whatever follows */
	if (c->park == NULL && !c->rate_paused && c->inlen >= sizeof(c->in)) {
		if (!c->discarding)
			control_reply(c, proto_reply_error(PROTO_ERR_LINE_TOO_LONG,
			    "request longer than %d bytes", PROTO_MAX_LINE));
		c->discarding = true;
		c->inlen = 0;
	}
}

/* A stream that fell behind has caught up enough: the verb says what it missed. */
static void
stream_resume(struct control_client *c)
{
	uint64_t skipped = c->skipped;

	if (skipped == 0 || c->outlen - c->outoff >= c->stream->resume)
		return;
	c->skipped = 0;
	c->stream->resume_cb(c, c->stream_state, skipped);
}

/* Flush, decide whether to read on, and close when the client is done. */
static void
client_process(struct control_client *c)
{
	client_run_lines(c);
	/* a stream that caught up hears what it missed, in this same flush */
	if (c->stream != NULL && client_flush(c) == 0)
		stream_resume(c);
	if (client_flush(c) == -1 ||
	    (c->eof && c->park == NULL && !c->rate_paused && c->outlen == c->outoff)) {
		client_free(c);
		return;
	}
	client_update_reading(c);
}

/* Whether the peer closed both directions (not just its sending side). */
static bool
peer_gone(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

/* A streaming client sends nothing we act on; reading it only tells when it leaves. */
static void
stream_read(struct control_client *c)
{
	ssize_t n = recv(c->fd, c->in, sizeof(c->in), MSG_DONTWAIT);

	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return;
	if (n == 0 && !peer_gone(c->fd)) {
		/* like socat at the end of its input: it may still read; a hang-up tells */
		c->half_closed = true;
		client_update_reading(c);
		return;
	}
	client_free(c);
}

static void
client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_client *c = w->data;
	ssize_t n;

	(void)loop;
	if (c->stream != NULL) {
		if (revents & EV_READ)
			stream_read(c);
		return;
	}
	if (revents & EV_READ) {
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
		if (n == 0) {
			c->eof = true;
			/* a last request without its newline is still a request */
			if (c->inlen > 0 && c->inlen < sizeof(c->in) && !c->discarding)
				c->in[c->inlen++] = '\n';
		}
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			c->eof = true;
		else if (n > 0) {
			c->inlen += (size_t)n;
			c->progressed = true;
			c->moved = ev_time();
		}
	}
	client_process(c);
}

static void
client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	client_process(w->data);
}

static void
refuse_client(int fd, bool admin)
{
	char *line = proto_dump_line(proto_reply_error(PROTO_ERR_TOO_MANY_CLIENTS,
	    admin ? "vigild serves at most %d clients at once" :
	    "vigild serves at most %d clients at once, the last %d of them admin only",
	    CONTROL_MAX_CLIENTS, CONTROL_ADMIN_RESERVE), NULL);

	if (line != NULL && send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_debug("control: refusing a client: %s", strerror(errno));
	free(line);
	close(fd);
}

/*
 * Followers that hung up and whose hang-up the loop has not seen yet: a
 * client that follows, leaves and comes back faster than a loop turn must
 * not find its own old slots taken. Only streams: a request sent before
 * its client left is still carried out.
 */
static void
reclaim_gone_followers(void)
{
	struct control_client *c, *next;

	for (c = clients; c != NULL; c = next) {
		next = c->next;
		if (c->stream != NULL && peer_gone(c->fd))
			client_free(c);
	}
}

static bool
is_admin(const struct control_client *c)
{
	return c->peer.level == PROTO_ACCESS_ADMIN;
}

/*
 * At the limit, for a newcomer (admin or not): close the client that has
 * moved no byte for longest among those that only hold a slot (waiting
 * to send a request, or not reading its reply; never a follower or a
 * parked wait), a non-admin one first; an admin one only for an admin.
 * A slow-loris or a client that never reads loses its slot, not the
 * next vigilctl. Whether one was closed.
 */
static bool
make_room(bool for_admin)
{
	struct control_client *c, *old = NULL;
	unsigned left_out;
	char d[32];

	for (c = clients; c != NULL; c = c->next) {
		if (c->stream != NULL || c->park != NULL || (is_admin(c) && !for_admin))
			continue;
		if (old == NULL || (is_admin(old) && !is_admin(c)) ||
		    (is_admin(old) == is_admin(c) && c->moved < old->moved))
			old = c;
	}
	if (old == NULL)
		return false;
	if (log_limit(&evictions, 5, 10000, &left_out)) {
		duration_format((int64_t)((ev_time() - old->moved) * 1000), d, sizeof(d));
		log_notice("control: %zu clients, the most vigild serves: closed client fd %d "
		    "(uid %d, pid %d), quiet for %s, to admit a new one", nclients, old->fd,
		    (int)old->peer.uid, (int)old->peer.pid, d);
	}
	if (left_out > 0)
		log_notice("control: and closed %u more such clients without a word", left_out);
	client_free(old);
	return true;
}

int
control_adopt(int fd)
{
	struct control_client *c;
	struct access_peer peer;
	size_t limit;
	bool admin;

	/* decided now, under the config in force: a reload later leaves it as is */
	access_peer_of(fd, vigild.conf, &peer);
	admin = peer.level == PROTO_ACCESS_ADMIN;
	limit = admin ? CONTROL_MAX_CLIENTS : CONTROL_MAX_CLIENTS - CONTROL_ADMIN_RESERVE;
	if (nclients >= limit)
		reclaim_gone_followers();
	if (nclients >= limit)
		(void)make_room(admin);
	if (nclients >= limit || (c = calloc(1, sizeof(*c))) == NULL) {
		refuse_client(fd, admin);
		return -1;
	}
	c->fd = fd;
	c->peer = peer;
	c->moved = c->rate_since = ev_time();
	ev_io_init(&c->rio, client_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, client_write_cb, fd, EV_WRITE);
	ev_init(&c->wait_timer, wait_timer_cb);
	ev_init(&c->idle_timer, idle_timer_cb);
	ev_init(&c->rate_timer, rate_timer_cb);
	c->rio.data = c->wio.data = c->wait_timer.data = c->idle_timer.data = c;
	c->rate_timer.data = c;
	c->next = clients;
	if (clients != NULL)
		clients->prev = c;
	clients = c;
	nclients++;
	client_update_reading(c);
	/* a client's request is often there by the time we accept it: a loop turn saved */
	client_read_cb(vigild.loop, &c->rio, EV_READ);
	return 0;
}

static void
listen_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int fd;

	(void)w;
	(void)revents;
	while ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1)
		(void)control_adopt(fd);
	if (errno == EMFILE || errno == ENFILE) {
		/* the pending connection would wake us forever: pause accepting */
		log_warn("control: accept, pausing for a second");
		ev_io_stop(loop, &listen_io);
		ev_timer_set(&listen_retry, 1., 0.);
		ev_timer_start(loop, &listen_retry);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		log_warn("control: accept");
	}
}

static void
listen_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_io_start(loop, &listen_io);
}

/*
 * The socket's folder, made like mkdir -p and checked (safedir.c): a
 * folder someone else can write to would let them swap the socket.
 */
static int
make_socket_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], err[1024];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	/* searchable: services of other users reach their notify sockets in here */
	if (safedir_make(dir, 0755, SAFEDIR_PARENTS, "socket folder",
	    "set [vigil] socket = to a path in a folder of your own", err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

/* 0 if nothing (or only a dead socket) is at path, -1 with a message otherwise. */
static int
clear_stale_socket(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : (log_warn("control: %s", path), -1);
	if (!S_ISSOCK(st.st_mode)) {
		/* never unlink a file or a link: it may be someone's, put there to be removed */
		log_warnx("control: socket path %s exists and is %s, not a socket: vigild "
		    "removes only a stale socket there; move it away or set [vigil] socket = "
		    "another path", path, S_ISLNK(st.st_mode) ? "a symbolic link" :
		    S_ISDIR(st.st_mode) ? "a folder" : S_ISREG(st.st_mode) ? "a regular file" :
		    "a special file");
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0) {
		close(fd);
		log_warnx("control: another vigild is already listening on %s", path);
		return -1;
	}
	close(fd);
	if (errno != ECONNREFUSED) {
		log_warn("control: probing %s", path);
		return -1;
	}
	log_info("control: removing stale socket %s", path);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("control: removing stale socket %s", path);
		return -1;
	}
	return 0;
}

/*
 * Socket activation: the service manager made and bound the socket (and
 * owns its file and mode); it must be the configured one, or vigilctl
 * would look in vain. Never unlinked by us.
 */
static int
listen_adopt(int fd, const char *path)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	int type = 0, listening = 0;
	socklen_t olen = sizeof(int);

	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) == -1) {
		log_warn("control: the socket passed by the service manager (fd %d)", fd);
		return -1;
	}
	if (sun.sun_family != AF_UNIX || type != SOCK_STREAM || !listening ||
	    strncmp(sun.sun_path, path, sizeof(sun.sun_path)) != 0) {
		log_warnx("control: the socket passed by the service manager (fd %d) is not a "
		    "listening stream socket on %s (found %.*s): make ListenStream= and "
		    "socket = agree", fd, path, (int)sizeof(sun.sun_path),
		    sun.sun_family == AF_UNIX ? sun.sun_path : "another family");
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("control: the socket passed by the service manager (fd %d)", fd);
		return -1;
	}
	listen_fd = fd;
	listen_path = NULL;	/* the service manager's file: not ours to remove */
	ev_io_init(&listen_io, listen_cb, fd, EV_READ);
	ev_init(&listen_retry, listen_retry_cb);
	ev_io_start(vigild.loop, &listen_io);
	log_info("control: listening on %s (socket from the service manager)", path);
	return 0;
}

int
control_open(const char *path)
{
	struct sockaddr_un sun;
	mode_t old_umask;
	int fd, rc;

	if (outer_listen_fd() >= 0)
		return listen_adopt(outer_listen_fd(), path);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control: socket path %s is too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (make_socket_dir(path) == -1)
		return -1;
	if (clear_stale_socket(path, &sun) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("control: socket");
		return -1;
	}
	old_umask = umask(0177);	/* born 0600: no window where others may connect */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (rc == -1 || listen(fd, 128) == -1) {
		log_warn("control: listening on %s", path);
		close(fd);
		return -1;
	}
	/* born 0600 with our group; a socket_group it cannot get is fatal, not half open */
	if (vigild.conf != NULL && vigild.conf->socket_group != NULL &&
	    access_socket_apply(path, vigild.conf) == -1) {
		close(fd);
		unlink(path);
		return -1;
	}
	listen_fd = fd;
	listen_path = strdup(path);
	ev_io_init(&listen_io, listen_cb, fd, EV_READ);
	ev_init(&listen_retry, listen_retry_cb);
	ev_io_start(vigild.loop, &listen_io);
	log_info("control: listening on %s", path);
	return 0;
}

int
control_socket_access(const struct config *conf)
{
	return listen_path != NULL ? access_socket_apply(listen_path, conf) : 0;
}

void
control_close(void)
{
	/* give every client what it was owed, without waiting for slow ones */
	while (clients != NULL) {
		client_flush(clients);
		client_free(clients);
	}
	if (hup_fd != -1) {
		ev_io_stop(vigild.loop, &hup_io);
		close(hup_fd);
		hup_fd = -1;
	}
	if (listen_fd != -1) {
		ev_io_stop(vigild.loop, &listen_io);
		ev_timer_stop(vigild.loop, &listen_retry);
		close(listen_fd);
		listen_fd = -1;
	}
	if (listen_path != NULL) {
		unlink(listen_path);
		free(listen_path);
		listen_path = NULL;
	}
}

int
control_listen_fd(const char **path)
{
	*path = listen_path;
	return listen_fd;
}

int
control_open_fd(int fd, const char *path)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("control: the listening socket handed over (fd %d)", fd);
		return -1;
	}
	listen_fd = fd;
	listen_path = path != NULL ? strdup(path) : NULL;
	ev_io_init(&listen_io, listen_cb, fd, EV_READ);
	ev_init(&listen_retry, listen_retry_cb);
	ev_io_start(vigild.loop, &listen_io);
	return 0;
}

/*
 * Before execve, what a client is still owed (a follower's backlog, then
 * the reconnect line) waits for its socket to take it, for
 * CONTROL_REEXEC_DRAIN_MS at most over all clients: a follower a moment
 * behind, as under load, would otherwise see the connection end without
 * the line that says connect again, and take it for vigild's exit. One that
 * does not read in that time loses the rest.
 */
#define CONTROL_REEXEC_DRAIN_MS	2000

static void
reconnect_drain(void)
{
	int64_t deadline = (int64_t)(ev_time() * 1000) + CONTROL_REEXEC_DRAIN_MS;

	for (;;) {
		struct pollfd pfd[64];
		struct control_client *owed[64];
		nfds_t n = 0;
		int64_t left = deadline - (int64_t)(ev_time() * 1000);

		for (struct control_client *c = clients; c != NULL && n < 64; c = c->next)
			if (!c->dropped && c->outoff < c->outlen) {
				pfd[n] = (struct pollfd){ c->fd, POLLOUT, 0 };
				owed[n++] = c;
			}
		if (n == 0 || left <= 0)
			return;
		if (poll(pfd, n, (int)left) == -1 && errno != EINTR)
			return;
		for (nfds_t i = 0; i < n; i++)
			if (pfd[i].revents != 0 && client_flush(owed[i]) == -1)
				owed[i]->dropped = true;
	}
}

/*
 * Before execve: what each client was owed, then one last line that says
 * connect again, goes out (reconnect_drain), and every client is closed.
 * A stream's or a parked request's state goes with the client.
 */
void
control_reconnect_all(const char *message)
{
	json_t *r = proto_reply_error(PROTO_ERR_RECONNECT, "%s", message);
	char *line = r != NULL ? json_dumps(r, PROTO_JSON_FLAGS) : NULL;

	json_decref(r);
	for (struct control_client *c = clients; c != NULL; c = c->next) {
		if (line != NULL && !c->dropped) {
			(void)control_write(c, line, strlen(line));
			(void)control_write(c, "\n", 1);
		}
		if (client_flush(c) == -1)
			c->dropped = true;
	}
	free(line);
	reconnect_drain();
	while (clients != NULL)
		client_free(clients);
}
