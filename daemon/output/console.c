/*
 * console.c: the copy of captured lines on vigild's stdout and stderr.
 * vigild never waits for the reader (a container runtime's log pipe can
 * stall): each stream is reopened through /proc/self/fd, so O_NONBLOCK is
 * set on a file description of its own and not on the one services with
 * stdout = inherit write to (a socket cannot be reopened so: it is written
 * with MSG_DONTWAIT instead); lines go into a bounded buffer, written once
 * per read of a service's pipe and then as the fd takes them; what does
 * not fit is dropped, and the next line that fits is preceded by one that
 * says how much was lost.
 */
#include "config.h"
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define CONSOLE_BUFFER	(1024 * 1024)	/* per stream: about a second of a busy service */

struct console_stream {
	int		 fd;		/* our own description of 1 or 2; -1: closed */
	bool		 socket;	/* a dup of a socket: written with MSG_DONTWAIT */
	char		*buf;
	size_t		 len;
	unsigned long long dropped;	/* bytes lost since the last note of it */
	ev_io		 w;		/* writable: while buf holds something */
};

static struct console_stream streams[2];	/* [0] stdout, [1] stderr */
static struct ev_loop *loop;
static bool	 enabled;
static int	 name_width;
static unsigned long long dropped_total;

static void
flush(struct console_stream *c)
{
	while (c->len > 0) {
		ssize_t n = c->socket ? send(c->fd, c->buf, c->len, MSG_DONTWAIT | MSG_NOSIGNAL) :
		    write(c->fd, c->buf, c->len);

		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno != EAGAIN) {
				/* the reader is gone for good: stop trying */
				dropped_total += c->len;
				c->len = 0;
			}
			break;
		}
		memmove(c->buf, c->buf + n, c->len - (size_t)n);
		c->len -= (size_t)n;
	}
	if (c->len > 0 && !ev_is_active(&c->w))
		ev_io_start(loop, &c->w);
	else if (c->len == 0 && ev_is_active(&c->w))
		ev_io_stop(loop, &c->w);
}

static void
writable_cb(struct ev_loop *l, ev_io *w, int revents)
{
	(void)l, (void)revents;
	flush(w->data);
}

static int
stream_open(struct console_stream *c, int which)
{
	const char *what = which == 1 ? "stdout" : "stderr";
	int fd, fl = fcntl(which, F_GETFL);
	struct stat st;
	char path[32];

	if (fl == -1 || fstat(which, &st) == -1) {
		log_warn("log_console: vigild's %s", what);
		return -1;
	}
	c->socket = S_ISSOCK(st.st_mode);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", which);
	/* a new description of the same file (a file keeps appending) */
	if (c->socket)
		fd = fcntl(which, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (fl & O_APPEND));
	if (fd == -1) {
		log_warn("log_console: opening vigild's %s", what);
		return -1;
	}
	if ((c->buf = malloc(CONSOLE_BUFFER)) == NULL) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->len = 0;
	ev_io_init(&c->w, writable_cb, fd, EV_WRITE);
	c->w.data = c;
	return 0;
}

static void
stream_close(struct console_stream *c)
{
	if (c->buf == NULL)
		return;
	if (c->len > 0)
		flush(c);
	if (ev_is_active(&c->w))
		ev_io_stop(loop, &c->w);
	close(c->fd);
	free(c->buf);
	c->buf = NULL;
	c->fd = -1;
}

void
console_configure(struct ev_loop *l, const struct config *conf)
{
	int width = 0;

	for (size_t i = 0; i < conf->nservices; i++) {
		int n = (int)strlen(conf->services[i]->name);
		width = n > width ? n : width;
	}
	/* as docker compose: on by default when vigild is a container's init */
	console_set(l, conf->log_console == 1 || (conf->log_console == -1 && getpid() == 1),
	    width < 24 ? width : 24);
}

void
console_set(struct ev_loop *l, bool on, int width)
{
	loop = l;
	name_width = width;
	if (on == enabled)
		return;
	enabled = on;
	for (int i = 0; i < 2; i++) {
		if (on && stream_open(&streams[i], i + 1) == -1)
			enabled = false;
		else if (!on)
			stream_close(&streams[i]);
	}
	if (on && !enabled)
		for (int i = 0; i < 2; i++)
			stream_close(&streams[i]);
}

bool
console_on(void)
{
	return enabled;
}

/* Append n bytes; the caller made room. */
static void
put(struct console_stream *c, const char *p, size_t n)
{
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

void
console_line(const char *name, const struct log_line *line)
{
	struct console_stream *c = &streams[line->stream == OUTPUT_STDERR];
	char head[128], note[160];
	int hn, nn = 0;
	size_t need;

	if (!enabled || c->buf == NULL)
		return;
	hn = snprintf(head, sizeof(head), "%-*s | ", name_width, name);
	if (hn < 0 || (size_t)hn >= sizeof(head))
		hn = (int)sizeof(head) - 1;
	if (c->dropped > 0)
		nn = snprintf(note, sizeof(note), "%-*s | [vigild: %llu bytes of output dropped: "
		    "the reader of vigild's %s is too slow]\n", name_width, "vigild", c->dropped,
		    line->stream == OUTPUT_STDERR ? "stderr" : "stdout");
	need = (size_t)nn + (size_t)hn + line->len + 1;
	if (CONSOLE_BUFFER - c->len < need) {
		c->dropped += (size_t)hn + line->len + 1;
		dropped_total += (size_t)hn + line->len + 1;
		return;
	}
	if (nn > 0) {
		put(c, note, (size_t)nn);
		c->dropped = 0;
	}
	put(c, head, (size_t)hn);
	put(c, line->text, line->len);
	put(c, "\n", 1);
}

void
console_flush(void)
{
	for (int i = 0; enabled && i < 2; i++)
		if (streams[i].len > 0 && !ev_is_active(&streams[i].w))
			flush(&streams[i]);
}

unsigned long long
console_dropped(void)
{
	return dropped_total;
}

void
console_free(void)
{
	for (int i = 0; i < 2; i++)
		stream_close(&streams[i]);
	enabled = false;
}
