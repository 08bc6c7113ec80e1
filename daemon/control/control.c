/*
 * control.c: the control socket server. Non-blocking accept, read and
 * write; per-client line assembly and reply buffers with bounds, so a slow,
 * silent or hostile client costs only its own buffers. Followers of
 * services' output (`log --follow`) get every new line, and subscribers
 * (`events`) every state change, bounded too: a slow one skips lines and is
 * told how many (a subscriber then gets the current state again). What a
 * request means belongs to commands.c.
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

#include "duration.h"
#include "events.h"
#include "logcmd.h"
#include "output/output.h"
#include "proto.h"

#define CONTROL_MAX_CLIENTS	256
#define CONTROL_OUT_PAUSE	(256 * 1024)	/* stop reading requests above this */
#define CONTROL_OUT_MAX		(64 * 1024 * 1024)	/* drop a client that never reads */
#define CONTROL_OUT_KEEP	(64 * 1024)	/* reply buffer kept between requests */
#define CONTROL_FOLLOW_MAX	(1024 * 1024)	/* a follower's unsent lines: skip beyond this */
#define CONTROL_FOLLOW_RESUME	(256 * 1024)	/* and resume once it is down to this */
/* a subscriber this far behind is better served by a fresh snapshot than by history */
#define CONTROL_EVENTS_MAX	(256 * 1024)
#define CONTROL_EVENTS_RESUME	(64 * 1024)

struct control_client {
	int		 fd;
	ev_io		 rio, wio;
	char		 in[PROTO_MAX_LINE + 2];
	size_t		 inlen;
	bool		 discarding;	/* skipping the rest of an over-long line */
	bool		 eof;		/* peer closed its side: answer, then close */
	bool		 dropped;	/* it never read its replies: nothing more is queued */
	char		*out;
	size_t		 outlen, outoff, outcap;
	struct wait	*wait;		/* a parked wait, or start/stop/restart --wait */
	ev_timer	 wait_timer;
	bool		 following;	/* log --follow or events: gets lines, reads no more requests */
	bool		 events;	/* following state changes (events), not output */
	bool		 follow_all;	/* of every service, else of follow[] */
	struct service	**follow;
	size_t		 nfollow;
	bool		 half_closed;	/* a follower that shut down its sending side */
	bool		 hup_watched;	/* in hup_fd: we learn when it closes for good */
	ev_timer	 idle_timer;	/* closes a client that neither sends a request nor reads */
	bool		 progressed;	/* bytes came in or went out since the clock was armed */
	uint64_t	 skipped;	/* lines or events not queued since the follower fell behind */
	struct service	*skipped_from;	/* their service, NULL once there are several */
	struct control_client *prev, *next;
};

static int	 listen_fd = -1;
static char	*listen_path;
static ev_io	 listen_io;
static ev_timer	 listen_retry;	/* out of fds: accept again later, do not spin */
static struct control_client *clients;
static size_t	 nclients;
static size_t	 nfollowers;	/* of output: so that a line nobody follows costs nothing */
/*
 * Half-closed followers: their fd reads EOF forever, so libev cannot watch
 * it for reading. An epoll set that asks for no event still reports
 * EPOLLHUP, which a Unix socket raises once the peer has closed both ways.
 */
static int	 hup_fd = -1;
static ev_io	 hup_io;
static void	 follower_line_cb(void *arg, void *owner, const struct log_line *line);
static struct output_listener line_listener = { follower_line_cb, NULL, NULL };
static void	 service_changed_cb(void *arg, struct service *s, enum service_state from);
static void	 service_removed_cb(void *arg, struct service *s);
static struct service_listener service_listener = {
	service_changed_cb, service_removed_cb, NULL, NULL,
};

static void	client_process(struct control_client *c);
static void	client_free(struct control_client *c);

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
	if (c->hup_watched && epoll_ctl(hup_fd, EPOLL_CTL_DEL, c->fd, NULL) == -1)
		log_warn("control: client fd %d: epoll_ctl", c->fd);
	wait_free(c->wait);
	if (c->following && !c->events)
		nfollowers--;
	free(c->follow);
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
	if (listen_fd != -1 && !ev_is_active(&listen_io)) {
		ev_timer_stop(vigild.loop, &listen_retry);
		ev_io_start(vigild.loop, &listen_io);
	}
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
	bool read_on = c->following ? !c->half_closed :
	    c->wait == NULL && !c->eof && c->outlen - c->outoff < CONTROL_OUT_PAUSE;

	if (read_on)
		ev_io_start(vigild.loop, &c->rio);
	else
		ev_io_stop(vigild.loop, &c->rio);
	/*
	 * The idle clock runs while we wait for a request, or for the client
	 * to read its reply, from the last byte that moved; never while it
	 * waits for us (a parked wait), never for a follower.
	 */
	if (!c->following && c->wait == NULL && (read_on || c->outlen > c->outoff))
		idle_arm(c, c->progressed);
	else
		ev_timer_stop(vigild.loop, &c->idle_timer);
	c->progressed = false;
	if (c->following && c->half_closed && !c->hup_watched)
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
	return 0;
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
	control_reply(c, wait_timeout_reply(c->wait));
	wait_free(c->wait);
	c->wait = NULL;
	client_process(c);
}

void
control_defer(struct control_client *c, struct wait *w)
{
	c->wait = w;
	if (wait_timeout_seconds(w) > 0) {
		ev_timer_set(&c->wait_timer, wait_timeout_seconds(w), 0.);
		ev_timer_start(vigild.loop, &c->wait_timer);
	}
}

/* What log --follow and events share: c reads no more requests, and watches svcs. */
static void
follow_setup(struct control_client *c, struct service **svcs, size_t n, bool events)
{
	c->following = true;
	c->events = events;
	c->follow_all = svcs == NULL;
	c->follow = svcs;
	c->nfollow = n;
	if (c->eof) {	/* it shut down its sending side after asking: keep sending */
		c->eof = false;
		c->half_closed = true;
	}
	log_debug("control: client fd %d follows the %s of %s%s", c->fd,
	    events ? "state" : "output", svcs == NULL ? "every service" : svcs[0]->conf->name,
	    n > 1 ? " and more" : "");
}

void
control_follow(struct control_client *c, struct service **svcs, size_t n)
{
	follow_setup(c, svcs, n, false);
	nfollowers++;
}

/* One line per watched service, telling its current state ("from": null). */
static void
events_snapshot(struct control_client *c)
{
	size_t n = c->follow_all ? vigild.nservices : c->nfollow;
	char *line;
	size_t len;

	for (size_t i = 0; i < n; i++) {
		struct service *s = c->follow_all ? vigild.services[i] : c->follow[i];
		if ((line = events_line(s, EVENT_NO_FROM, &len)) == NULL)
			continue;	/* out of memory: the next change tells */
		control_write(c, line, len);
		free(line);
	}
}

void
control_subscribe(struct control_client *c, struct service **svcs, size_t n)
{
	follow_setup(c, svcs, n, true);
	events_snapshot(c);
}

/* Whether c, a follower of either kind, watches s. */
static bool
client_watches(const struct control_client *c, const struct service *s)
{
	if (c->follow_all)
		return true;
	for (size_t i = 0; i < c->nfollow; i++)
		if (c->follow[i] == s)
			return true;
	return false;
}

/*
 * Queue the line for every follower of s, serialised once. Nothing is sent
 * here: the write watchers send in the next loop turn, many lines at once.
 * output.c calls this as a listener; the owner of an output is its service.
 */
static void
follower_line_cb(void *arg, void *owner, const struct log_line *line)
{
	static char buf[LOG_LINE_JSON_MAX];
	struct service *s = owner;
	struct control_client *c;
	char *big = NULL;
	size_t len = 0;

	(void)arg;
	if (nfollowers == 0)
		return;
	for (c = clients; c != NULL; c = c->next) {
		if (!c->following || c->events || !client_watches(c, s))
			continue;
		if (len == 0 &&
		    (len = logcmd_format_line(s->conf->name, line, buf, sizeof(buf), &big)) == 0)
			return;	/* out of memory: this line is lost to followers */
		if (c->skipped > 0 || c->outlen - c->outoff + len > CONTROL_FOLLOW_MAX) {
			if (c->skipped++ == 0)
				c->skipped_from = s;
			else if (c->skipped_from != s)
				c->skipped_from = NULL;
			continue;
		}
		if (control_write(c, big != NULL ? big : buf, len) == 0)
			ev_io_start(vigild.loop, &c->wio);
	}
	free(big);
}

/*
 * Queue the change for every subscriber that watches s, in the order the
 * changes happen. A subscriber too far behind gets nothing but a count,
 * then a fresh snapshot once it has caught up (follower_resume).
 */
static void
events_publish(struct service *s, enum service_state from)
{
	struct control_client *c;
	char *line = NULL;
	size_t len = 0;

	for (c = clients; c != NULL; c = c->next) {
		if (!c->events || !client_watches(c, s))
			continue;
		if (line == NULL && (line = events_line(s, from, &len)) == NULL)
			return;	/* out of memory: this change is lost to subscribers */
		if (c->skipped > 0 || c->outlen - c->outoff + len > CONTROL_EVENTS_MAX) {
			c->skipped++;
			continue;
		}
		if (control_write(c, line, len) == 0)
			ev_io_start(vigild.loop, &c->wio);
	}
	free(line);
}

static void
service_changed_cb(void *arg, struct service *s, enum service_state from)
{
	struct control_client *c, *next;
	json_t *r;

	(void)arg;
	events_publish(s, from);
	for (c = clients; c != NULL; c = next) {
		next = c->next;
		if (c->wait == NULL || !wait_check(c->wait, &r))
			continue;
		ev_timer_stop(vigild.loop, &c->wait_timer);
		wait_free(c->wait);
		c->wait = NULL;
		control_reply(c, r);
		/* more parked lines may follow; run them from the loop, not inside a transition */
		ev_feed_event(vigild.loop, &c->rio, EV_CUSTOM);
	}
}

/* A follower of s among others: drop s, and say so in the stream. */
static void
follower_drop(struct control_client *c, struct service *s)
{
	size_t k = 0;
	json_t *r;

	for (size_t i = 0; i < c->nfollow; i++)
		if (c->follow[i] != s)
			c->follow[k++] = c->follow[i];
	c->nfollow = k;
	if (c->skipped_from == s)
		c->skipped_from = NULL;
	if (k > 0) {
		r = json_pack("{s:s, s:b}", "service", s->conf->name, "removed", 1);
		control_reply(c, r);
		ev_io_start(vigild.loop, &c->wio);
		return;
	}
	/* nothing left to follow: the stream ends like a request that failed */
	control_reply(c, proto_reply_error(PROTO_ERR_REMOVED,
	    "%s: removed from the configuration by a reload", s->conf->name));
	c->following = false;
	if (!c->events)
		nfollowers--;
	c->eof = true;
	ev_feed_event(vigild.loop, &c->rio, EV_CUSTOM);
}

/*
 * A reload removed s; it is freed once its process is gone. Nobody may keep
 * waiting for it or following it by name: such waits end with a `removed`
 * error, and followers drop it. Followers of every service still get its
 * last lines.
 */
static void
service_removed_cb(void *arg, struct service *s)
{
	struct control_client *c, *next;

	(void)arg;
	for (c = clients; c != NULL; c = next) {
		next = c->next;
		if (c->skipped_from == s)
			c->skipped_from = NULL;
		if (c->following && !c->follow_all && client_watches(c, s))
			follower_drop(c, s);
		else if (c->following && c->events && c->follow_all) {
			/* a subscriber to all: the service is gone from the set it watches */
			control_reply(c, json_pack("{s:s, s:b}", "service", s->conf->name,
			    "removed", 1));
			ev_io_start(vigild.loop, &c->wio);
		}
		if (c->wait == NULL || !wait_holds(c->wait, s))
			continue;
		ev_timer_stop(vigild.loop, &c->wait_timer);
		wait_free(c->wait);
		c->wait = NULL;
		control_reply(c, proto_reply_error(PROTO_ERR_REMOVED,
		    "%s: removed from the configuration by a reload", s->conf->name));
		ev_feed_event(vigild.loop, &c->rio, EV_CUSTOM);
	}
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
	reply = commands_dispatch(c, req.argv, req.argc, &deferred);
	proto_request_free(&req);
	if (!deferred)
		control_reply(c, reply);
}

/* Run every complete line in the input buffer, stopping at a parked wait. */
static void
client_run_lines(struct control_client *c)
{
	char *nl;

	while (c->wait == NULL && !c->following &&
	    (nl = memchr(c->in, '\n', c->inlen)) != NULL) {
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
	if (c->following) {
		c->inlen = 0;	/* a follower's further requests are ignored */
		return;
	}
	/* full and no newline: the line is too long whatever follows */
	if (c->wait == NULL && c->inlen >= sizeof(c->in)) {
		if (!c->discarding)
			control_reply(c, proto_reply_error(PROTO_ERR_LINE_TOO_LONG,
			    "request longer than %d bytes", PROTO_MAX_LINE));
		c->discarding = true;
		c->inlen = 0;
	}
}

/*
 * A follower that fell behind has caught up enough: say what it missed, go
 * on. A subscriber cannot rebuild the state from the changes it missed, so
 * it is told the current state of each service again.
 */
static void
follower_resume(struct control_client *c)
{
	size_t resume = c->events ? CONTROL_EVENTS_RESUME : CONTROL_FOLLOW_RESUME;
	json_t *r;

	if (c->skipped == 0 || c->outlen - c->outoff >= resume)
		return;
	r = json_pack("{s:I}", "skipped", (json_int_t)c->skipped);
	if (r != NULL && c->skipped_from != NULL && !c->events)
		json_object_set_new(r, "service", json_string(c->skipped_from->conf->name));
	control_reply(c, r);
	if (c->events)
		events_snapshot(c);
	c->skipped = 0;
	c->skipped_from = NULL;
}

/* Flush, decide whether to read on, and close when the client is done. */
static void
client_process(struct control_client *c)
{
	client_run_lines(c);
	/* a follower that caught up hears what it missed, in this same flush */
	if (c->following && client_flush(c) == 0)
		follower_resume(c);
	if (client_flush(c) == -1 ||
	    (c->eof && c->wait == NULL && c->outlen == c->outoff)) {
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

/* A follower sends nothing we act on; reading it only tells when it leaves. */
static void
follower_read(struct control_client *c)
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
	if (c->following) {
		if (revents & EV_READ)
			follower_read(c);
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
refuse_client(int fd)
{
	char *line = proto_dump_line(proto_reply_error(PROTO_ERR_TOO_MANY_CLIENTS,
	    "vigild serves at most %d clients at once", CONTROL_MAX_CLIENTS), NULL);

	if (line != NULL && send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_debug("control: refusing a client: %s", strerror(errno));
	free(line);
	close(fd);
}

int
control_adopt(int fd)
{
	struct control_client *c;

	if (nclients >= CONTROL_MAX_CLIENTS || (c = calloc(1, sizeof(*c))) == NULL) {
		refuse_client(fd);
		return -1;
	}
	c->fd = fd;
	ev_io_init(&c->rio, client_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, client_write_cb, fd, EV_WRITE);
	ev_init(&c->wait_timer, wait_timer_cb);
	ev_init(&c->idle_timer, idle_timer_cb);
	c->rio.data = c->wio.data = c->wait_timer.data = c->idle_timer.data = c;
	c->next = clients;
	if (clients != NULL)
		clients->prev = c;
	clients = c;
	nclients++;
	client_update_reading(c);
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

/* Create the socket's folder, one level at a time, like mkdir -p. */
static int
make_parent_dirs(const char *path)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		/* searchable: services of other users reach their notify sockets in here */
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
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
		log_warnx("control: %s exists and is not a socket; not removing it", path);
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

int
control_open(const char *path)
{
	struct sockaddr_un sun;
	mode_t old_umask;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control: socket path %s is too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (make_parent_dirs(path) == -1) {
		log_warn("control: creating the folder of %s", path);
		return -1;
	}
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
	listen_fd = fd;
	listen_path = strdup(path);
	output_listen(&line_listener);
	world_listen(&service_listener);
	ev_io_init(&listen_io, listen_cb, fd, EV_READ);
	ev_init(&listen_retry, listen_retry_cb);
	ev_io_start(vigild.loop, &listen_io);
	log_info("control: listening on %s", path);
	return 0;
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
