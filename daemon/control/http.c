/*
 * http.c: the metrics address ([vigil] metrics_listen). A small HTTP/1.x
 * server in vigild's loop, for one thing: GET (or HEAD) /metrics, the text
 * metrics.c builds, then the connection is closed. Bounded like the
 * control socket: HTTP_MAX_CLIENTS at once (at the limit the quietest one
 * that is not being answered makes room), HTTP_MAX_REQUEST bytes of
 * request (431 past it), client_timeout for the whole exchange. What the
 * text says is metrics.c's.
 */
#include "config.h"
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"
#include "metrics.h"

#define HTTP_DRAIN_MAX	(64 * 1024)	/* discarded after the reply, before closing */
#define HTTP_DRAIN_MS	2000		/* and for at most this long */
#define HTTP_BACKLOG	64		/* connections the kernel holds until we accept */

enum http_phase {
	HTTP_READING,	/* the request, up to its blank line */
	HTTP_WRITING,	/* the reply */
	HTTP_DRAINING	/* reply sent, our side shut: read what is left, then close */
};

struct http_client {
	int		 fd;
	enum http_phase	 phase;
	ev_io		 io;
	ev_timer	 timer;
	double		 moved;		/* ev_time() a byte last came in or went out */
	char		 in[HTTP_MAX_REQUEST];
	size_t		 inlen, drained;
	char		*out;
	size_t		 outlen, outoff;
	struct http_client *prev, *next;
};

static struct http_client *clients;
static size_t	 nclients;
static int	 listen_fd = -1;
static ev_io	 listen_io;
static ev_timer	 listen_retry;	/* out of fds: accept again later, do not spin */
static char	*listen_addr;

static void	client_io_cb(struct ev_loop *loop, ev_io *w, int revents);

size_t
http_nclients(void)
{
	return nclients;
}

static void
client_free(struct http_client *c)
{
	ev_io_stop(vigild.loop, &c->io);
	ev_timer_stop(vigild.loop, &c->timer);
	close(c->fd);
	free(c->out);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	nclients--;
	/* a slot is free: accept again if we had paused for want of fds */
	if (listen_fd != -1 && !ev_is_active(&listen_io)) {
		ev_timer_stop(vigild.loop, &listen_retry);
		ev_io_start(vigild.loop, &listen_io);
	}
}

/* Arm c's clock for ms from now (not from the loop turn's start); <= 0: no clock. */
static void
timer_arm(struct http_client *c, int64_t ms)
{
	ev_timer_stop(vigild.loop, &c->timer);
	if (ms <= 0)
		return;
	ev_timer_set(&c->timer, ms / 1000.0 + ev_time() - ev_now(vigild.loop), 0.);
	ev_timer_start(vigild.loop, &c->timer);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_client *c = w->data;

	(void)loop;
	(void)revents;
	if (c->phase != HTTP_DRAINING)
		log_debug("metrics: client fd %d took too long, closing it", c->fd);
	client_free(c);
}

/* The reply is out: shut our side and read what the client still sends, so close sends no RST. */
static void
client_drain(struct http_client *c)
{
	c->phase = HTTP_DRAINING;
	(void)shutdown(c->fd, SHUT_WR);
	ev_io_stop(vigild.loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_READ);
	ev_io_start(vigild.loop, &c->io);
	timer_arm(c, HTTP_DRAIN_MS);
}

/* Send what the socket takes; the rest when it is writable. */
static void
client_write(struct http_client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!(c->io.events & EV_WRITE)) {
				ev_io_stop(vigild.loop, &c->io);
				ev_io_set(&c->io, c->fd, EV_WRITE);
				ev_io_start(vigild.loop, &c->io);
			}
			return;
		}
		if (n == -1) {
			log_debug("metrics: client fd %d: send: %s", c->fd, strerror(errno));
			client_free(c);
			return;
		}
		c->outoff += (size_t)n;
		c->moved = ev_time();
	}
	client_drain(c);
}

/* Queue a whole reply: status line, headers, body (not sent for HEAD); then write it. */
static void
client_reply(struct http_client *c, const char *status, const char *type,
    const char *extra, const char *body, size_t blen, bool head)
{
	char hdr[512];
	int hn;

	hn = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", status, type, blen,
	    extra != NULL ? extra : "");
	if (hn < 0 || (size_t)hn >= sizeof(hdr) ||
	    (c->out = malloc((size_t)hn + (head ? 0 : blen))) == NULL) {
		log_warnx("metrics: client fd %d: out of memory", c->fd);
		client_free(c);
		return;
	}
	memcpy(c->out, hdr, (size_t)hn);
	if (!head)
		memcpy(c->out + hn, body, blen);
	c->outlen = (size_t)hn + (head ? 0 : blen);
	c->outoff = 0;
	c->phase = HTTP_WRITING;
	client_write(c);
}

static void
client_error(struct http_client *c, const char *status, const char *extra)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	log_debug("metrics: client fd %d: %s", c->fd, status);
	client_reply(c, status, "text/plain; charset=utf-8", extra, body, (size_t)n, false);
}

/* A header's value in the lines from p to end, by name (any case); NULL if absent. */
static const char *
header_find(const char *p, const char *end, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);

		if (len > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;

			*vlen = len - nlen - 1;
			return v;
		}
		p += len + 1;
	}
	return NULL;
}

/* Whether the Accept header asks for OpenMetrics: Prometheus's does, first. */
static bool
wants_openmetrics(const char *headers, const char *end)
{
	static const char om[] = "application/openmetrics-text";
	size_t vlen;
	const char *v = header_find(headers, end, "Accept", &vlen);

	if (v == NULL)
		return false;
	for (size_t i = 0; i + sizeof(om) - 1 <= vlen; i++)
		if (strncasecmp(v + i, om, sizeof(om) - 1) == 0)
			return true;
	return false;
}

/* The request is whole (it ends at end, the blank line): answer it. */
static void
client_request(struct http_client *c, const char *end)
{
	char *line = c->in, *eol = memchr(c->in, '\n', (size_t)(end - c->in));
	char *method, *target, *version, *save, *q;
	enum metrics_format f;
	bool head;
	size_t len;
	char *text;

	if (memchr(c->in, '\0', (size_t)(end - c->in)) != NULL || eol == NULL) {
		client_error(c, "400 Bad Request", NULL);
		return;
	}
	*eol = '\0';
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	method = strtok_r(line, " ", &save);
	target = strtok_r(NULL, " ", &save);
	version = strtok_r(NULL, " ", &save);
	if (method == NULL || target == NULL || version == NULL ||
	    strtok_r(NULL, " ", &save) != NULL || strncmp(version, "HTTP/", 5) != 0) {
		client_error(c, "400 Bad Request", NULL);
		return;
	}
	if (strcmp(version, "HTTP/1.0") != 0 && strcmp(version, "HTTP/1.1") != 0) {
		client_error(c, "505 HTTP Version Not Supported", NULL);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		client_error(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n");
		return;
	}
	if ((q = strchr(target, '?')) != NULL)
		*q = '\0';	/* a query (?name[]=...) is not for us: all metrics, always */
	if (strcmp(target, "/metrics") != 0) {
		client_error(c, "404 Not Found", NULL);
		return;
	}
	f = wants_openmetrics(eol + 1, end) ? METRICS_OPENMETRICS : METRICS_PROMETHEUS;
	if ((text = metrics_text(f, &len)) == NULL) {
		log_warnx("metrics: out of memory building the text");
		client_error(c, "500 Internal Server Error", NULL);
		return;
	}
	client_reply(c, "200 OK", metrics_content_type(f), NULL, text, len, head);
	free(text);
}

/* Where the headers end (after the blank line), or NULL: not yet. */
static const char *
request_end(const char *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return p + i + 2;
		if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
			return p + i + 3;
	}
	return NULL;
}

static void
client_read(struct http_client *c)
{
	ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	const char *end;

	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {	/* gone before its request was whole */
		client_free(c);
		return;
	}
	c->moved = ev_time();
	c->inlen += (size_t)n;
	if ((end = request_end(c->in, c->inlen)) != NULL)
		client_request(c, end);
	else if (c->inlen == sizeof(c->in))
		client_error(c, "431 Request Header Fields Too Large", NULL);
}

static void
client_discard(struct http_client *c)
{
	char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0 || (c->drained += (size_t)n) > HTTP_DRAIN_MAX)
		client_free(c);
}

static void
client_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_client *c = w->data;

	(void)loop;
	(void)revents;
	switch (c->phase) {
	case HTTP_READING:
		client_read(c);
		break;
	case HTTP_WRITING:
		client_write(c);
		break;
	case HTTP_DRAINING:
		client_discard(c);
		break;
	}
}

/*
 * At the limit: close the client that has moved no byte for longest, of
 * those not being answered, so idle connections cannot shut out a scrape.
 * false when every client is being answered.
 */
static bool
make_room(void)
{
	struct http_client *old = NULL;

	for (struct http_client *c = clients; c != NULL; c = c->next)
		/* <=: the list is newest first, and of two as quiet the older goes */
		if (c->phase != HTTP_WRITING && (old == NULL || c->moved <= old->moved))
			old = c;
	if (old == NULL)
		return false;
	log_debug("metrics: %zu clients, closing fd %d, the quietest, to admit a new one",
	    nclients, old->fd);
	client_free(old);
	return true;
}

static void
client_adopt(int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct http_client *c;

	if (nclients >= HTTP_MAX_CLIENTS && !make_room()) {
		(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("metrics: out of memory accepting a client");
		close(fd);
		return;
	}
	c->fd = fd;
	c->phase = HTTP_READING;
	c->moved = ev_time();
	ev_io_init(&c->io, client_io_cb, fd, EV_READ);
	c->io.data = c;
	ev_init(&c->timer, timer_cb);
	c->timer.data = c;
	c->next = clients;
	if (clients != NULL)
		clients->prev = c;
	clients = c;
	nclients++;
	ev_io_start(vigild.loop, &c->io);
	timer_arm(c, vigild.conf != NULL ? vigild.conf->client_timeout_ms : 0);
}

static void
listen_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int fd;

	(void)w;
	(void)revents;
	while ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1)
		client_adopt(fd);
	if (errno == EMFILE || errno == ENFILE) {
		/* the pending connection would wake us forever: pause accepting */
		log_warn("metrics: %s: accept, pausing for a second", listen_addr);
		ev_io_stop(loop, &listen_io);
		ev_timer_set(&listen_retry, 1., 0.);
		ev_timer_start(loop, &listen_retry);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED) {
		log_warn("metrics: %s: accept", listen_addr);
	}
}

static void
listen_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_io_start(loop, &listen_io);
}

int
http_open(const char *addr)
{
	struct config_listen l;
	const char *step;
	int fd, one = 1;

	if (config_listen_parse(addr, &l) == -1) {
		log_warnx("metrics_listen %s: not an address (IPV4:PORT or [IPV6]:PORT)", addr);
		return -1;
	}
	step = "socket";
	if ((fd = socket(l.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	/* a restarted vigild binds again while the last one's connections linger */
	step = "setsockopt(SO_REUSEADDR)";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	step = "bind";
	if (bind(fd, &l.sa, l.len) == -1)
		goto fail;
	step = "listen";
	if (listen(fd, HTTP_BACKLOG) == -1)
		goto fail;
	if ((listen_addr = strdup(addr)) == NULL) {
		close(fd);
		log_warnx("metrics_listen %s: out of memory", addr);
		return -1;
	}
	listen_fd = fd;
	ev_io_init(&listen_io, listen_cb, fd, EV_READ);
	ev_io_start(vigild.loop, &listen_io);
	ev_init(&listen_retry, listen_retry_cb);
	log_info("serving metrics on http://%s/metrics", addr);
	return 0;
fail:
	log_warn("metrics_listen %s: cannot listen: %s", addr, step);
	if (fd != -1)
		close(fd);
	return -1;
}

void
http_close(void)
{
	while (clients != NULL)
		client_free(clients);
	if (listen_fd == -1)
		return;
	ev_io_stop(vigild.loop, &listen_io);
	ev_timer_stop(vigild.loop, &listen_retry);
	close(listen_fd);
	listen_fd = -1;
	free(listen_addr);
	listen_addr = NULL;
}
