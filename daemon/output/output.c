/*
 * output.c: the pipes between services and vigild. Each service gets its
 * pipes once, for life; vigild keeps the write ends open too, so the pipes
 * outlive every run and a grandchild's late output is still read. Reading
 * is fair: one bounded read per pipe per loop turn, so a flooding service
 * is slowed by its full pipe and never starves the loop. Lines go to the
 * ring (always), the log file (when logging) and the listeners registered
 * with output_listen() (the control server's followers). It knows services
 * only by their definition and an owner pointer it hands back.
 *
 * Every line (or piece of an over-long one) gets the next sequence number
 * of its service: the same number goes to the ring, to the listeners and
 * into the log file's prefix, which is how `log` joins file and ring
 * exactly. Numbers go on across vigild's restarts: the first line after a
 * start continues from the last number in NAME.log (or NAME.log.1). A raw
 * file (log_timestamps = no) holds no numbers, and then they start at 1.
 */
#include "config.h"
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "journal.h"
#include "logfile.h"
#include "logformat.h"
#include "logread.h"
#include "ring.h"
#include "safedir.h"

#define READ_CHUNK	(64 * 1024)	/* one read per pipe per loop turn */
/* enough of NAME.log's end to hold its last line, a whole piece and its prefix */
#define LAST_LINE_READ	(OUTPUT_LINE_MAX + LOGFORMAT_PREFIX_MAX + 1)

struct output_pipe {
	struct service_output *owner;
	enum output_stream stream;
	int		 rfd, wfd;	/* -1 when this stream is not captured */
	ev_io		 io;
	char		*partial;	/* the line read so far, OUTPUT_LINE_MAX bytes; NULL until needed */
	size_t		 plen;
	bool		 cont;		/* the next piece continues a split line */
};

struct service_output {
	void		*owner;		/* handed to listeners */
	const struct service_conf *conf;	/* what the pipes and files follow */
	struct output_pipe out, err;
	int		 file_fd[3];	/* file:PATH targets, by stream; -1 if none */
	struct ring	 ring;
	struct logfile	 log;
	bool		 logging;	/* a log file is configured */
	uint64_t	 next_seq;	/* of the next line; 0 until the first line */
	uint64_t	 bytes;		/* read from its pipes, ever: a counter for metrics */
	/* what the pipes and files are set up for: a reload changes conf first */
	enum output_target to[3];	/* by stream */
	char		*path[3];	/* of file:PATH targets, by stream */
	struct service_output *next;	/* every service's, for reopen */
};

static void	targets_sync(struct service_output *o);
static int	make_log_dir(char *err, size_t errlen);

static struct service_output *all_outputs;
static struct ev_loop *out_loop;
static const char *log_dir;	/* borrowed from the config vigild started with */
static struct output_listener *listeners;
static int	devnull = -1;
static int	spawn_streams[3] = { -1, -1, -1 };	/* journal streams of the spawn under way */
static char	scratch[READ_CHUNK];		/* one read at a time */
static char	*batch;				/* formatted lines for one file write */
static size_t	 batch_len, batch_cap;

const char *
output_stream_name(enum output_stream stream)
{
	return stream == OUTPUT_STDERR ? "err" : "out";
}

static int64_t
now_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void
batch_add(const char *p, size_t n)
{
	if (n == 0)
		return;		/* a raw file's empty prefix: batch may still be NULL */
	if (batch_len + n > batch_cap) {
		size_t ncap = batch_cap ? batch_cap : 2 * READ_CHUNK;
		char *nb;
		while (ncap < batch_len + n)
			ncap *= 2;
		if ((nb = realloc(batch, ncap)) == NULL)
			return;	/* the ring still has the line */
		batch = nb;
		batch_cap = ncap;
	}
	memcpy(batch + batch_len, p, n);
	batch_len += n;
}

/* The last sequence number in a log file, or 0 when it has none. */
static uint64_t
last_seq_in(const char *path)
{
	struct logread_tail t;
	struct logformat_line l;
	const char *p;
	size_t len;
	uint64_t seq = 0;

	if (logread_tail_open(&t, path, LAST_LINE_READ) == -1)
		return 0;
	/* the last line that has one: a raw line may stand at the end */
	while (seq == 0 && logread_tail_prev(&t, &p, &len)) {
		logformat_parse(p, len, &l);
		if (l.has_seq)
			seq = l.seq;
	}
	logread_tail_free(&t);
	return seq;
}

/* At the first line: go on from where the log files stop. */
static void
seq_start(struct service_output *o)
{
	char rotated[PATH_MAX];
	uint64_t last = 0;

	if (o->logging) {
		last = last_seq_in(o->log.path);
		snprintf(rotated, sizeof(rotated), "%s.1", o->log.path);
		if (last == 0)	/* NAME.log just rotated, or raw at its end */
			last = last_seq_in(rotated);
	}
	o->next_seq = last + 1;
}

/* One line or piece: ring, file batch, followers. time is the file's time field, or NULL. */
static void
emit(struct output_pipe *p, const char *text, size_t len, bool partial, int64_t usec,
    const char *time)
{
	struct service_output *o = p->owner;
	struct log_line line = {
		.usec = usec, .stream = p->stream, .cont = p->cont, .partial = partial,
		.len = len, .text = text,
	};
	char prefix[LOGFORMAT_PREFIX_MAX];

	if (o->next_seq == 0)
		seq_start(o);
	line.seq = o->next_seq++;
	ring_push(&o->ring, usec, line.seq, (uint8_t)p->stream,
	    (uint8_t)(p->cont | partial << 1), text, len);
	if (o->logging) {
		batch_add(prefix, logformat_prefix(time, p->stream, p->cont, line.seq, prefix));
		batch_add(text, len);
		batch_add("\n", 1);
	}
	if (console_on())
		console_line(o->conf->name, &line);
	for (struct output_listener *l = listeners; l != NULL; l = l->next)
		l->line(l->arg, o->owner, &line);
}

/* The time field of every line of one read, or NULL when the file has none. */
static const char *
file_time(const struct output_pipe *p, int64_t usec, char *buf)
{
	if (!p->owner->logging || !p->owner->conf->log_timestamps)
		return NULL;
	logformat_time(usec, buf);
	return buf;
}

/* Split data into lines, carrying an unfinished one over in p->partial. */
static void
take_bytes(struct output_pipe *p, const char *data, size_t len, int64_t usec)
{
	char tbuf[LOGFORMAT_TIME_LEN + 1];
	const char *time = file_time(p, usec, tbuf);

	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - data) : len;

		if (p->plen == 0 && nl != NULL && n <= OUTPUT_LINE_MAX) {
			emit(p, data, n, false, usec, time);	/* the common case: no copy */
			p->cont = false;
		} else {
			size_t room = OUTPUT_LINE_MAX - p->plen, take = n < room ? n : room;
			/* allocated when first needed: most services never leave half a line */
			if (p->partial == NULL && (p->partial = malloc(OUTPUT_LINE_MAX)) == NULL) {
				log_warn("%s: keeping a partial line", p->owner->conf->name);
				return;
			}
			memcpy(p->partial + p->plen, data, take);
			p->plen += take;
			/*
			 * Full, and more of this line is in hand: emit a piece. A
			 * line of exactly OUTPUT_LINE_MAX whose newline has not
			 * arrived yet waits for it instead of leaving an empty piece.
			 */
			if (p->plen == OUTPUT_LINE_MAX && take < n) {
				emit(p, p->partial, p->plen, false, usec, time);
				p->plen = 0;
				p->cont = true;	/* what follows is the same line */
				data += take;
				len -= take;
				continue;
			}
			if (nl == NULL)
				break;
			emit(p, p->partial, p->plen, false, usec, time);
			p->plen = 0;
			p->cont = false;
		}
		data += n + 1;
		len -= n + 1;
	}
}

static void
flush_batch(struct service_output *o, int64_t usec)
{
	if (o->logging && batch_len > 0)
		logfile_write(&o->log, batch, batch_len, usec);
	batch_len = 0;
}

/* One read: the fairness bound. Returns bytes read, 0 when nothing was there. */
static ssize_t
read_once(struct output_pipe *p)
{
	ssize_t n = read(p->rfd, scratch, sizeof(scratch));
	int64_t usec;

	if (n <= 0) {
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			log_warn("%s: reading its %s", p->owner->conf->name,
			    output_stream_name(p->stream));
		return 0;
	}
	usec = now_usec();
	p->owner->bytes += (uint64_t)n;
	take_bytes(p, scratch, (size_t)n, usec);
	flush_batch(p->owner, usec);
	console_flush();
	return n;
}

static void
pipe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	read_once(w->data);
}

/* The partial line of a process that ended mid-line is still a line. */
static void
flush_partial(struct output_pipe *p)
{
	int64_t usec = now_usec();
	char tbuf[LOGFORMAT_TIME_LEN + 1];

	if (p->rfd == -1 || p->plen == 0)
		return;
	emit(p, p->partial, p->plen, true, usec, file_time(p, usec, tbuf));
	p->plen = 0;
	p->cont = false;
	flush_batch(p->owner, usec);
	console_flush();
}

int
output_init(struct ev_loop *l, const char *dir)
{
	char err[1024];

	out_loop = l;
	log_dir = dir;
	if (make_log_dir(err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

void
output_listen(struct output_listener *l)
{
	for (struct output_listener *k = listeners; k != NULL; k = k->next)
		if (k == l)
			return;		/* already there: a second init must not make a loop */
	l->next = listeners;
	listeners = l;
}

void
output_process_ended(struct service_output *o)
{
	if (o == NULL)
		return;
	/* what the dead process wrote is all in the pipe now: take it (bounded) */
	for (int i = 0; i < 64 && o->out.rfd != -1 && read_once(&o->out) > 0; i++)
		;
	for (int i = 0; i < 64 && o->err.rfd != -1 && read_once(&o->err) > 0; i++)
		;
	flush_partial(&o->out);
	flush_partial(&o->err);
	/* a reload changed where the next process writes: it finds that ready */
	targets_sync(o);
}

static int
pipe_open(struct output_pipe *p, struct service_output *o, enum output_stream stream)
{
	int fds[2];

	p->owner = o;
	p->stream = stream;
	p->rfd = p->wfd = -1;
	/* both ends close-on-exec: the child gets its end through dup2 only */
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	p->rfd = fds[0];
	p->wfd = fds[1];
	ev_io_init(&p->io, pipe_cb, p->rfd, EV_READ);
	p->io.data = p;
	ev_io_start(out_loop, &p->io);
	return 0;
}

static void
pipe_close(struct output_pipe *p)
{
	if (p->rfd != -1) {
		ev_io_stop(out_loop, &p->io);
		close(p->rfd);
		close(p->wfd);
	}
	p->rfd = p->wfd = -1;
	free(p->partial);
	p->partial = NULL;
}

static int
open_target_file(struct service_output *o, enum output_stream stream, const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd == -1) {
		log_warn("%s: opening %s for its %s; it goes to /dev/null", o->conf->name,
		    path, output_stream_name(stream));
		return -1;
	}
	o->file_fd[stream] = fd;
	return 0;
}

/* The log folder, made like mkdir -p (or only checked) as safedir.c says; -1 with err. */
static int
log_dir_make(const char *dir, int flags, char *err, size_t errlen)
{
	return safedir_make(dir, 0755, SAFEDIR_PARENTS | flags, "log folder",
	    "set [vigil] log_dir = to a folder of your own", err, errlen);
}

static int
make_log_dir(char *err, size_t errlen)
{
	return log_dir_make(log_dir, 0, err, errlen);
}

int
output_check_log_dir(const char *dir, char *err, size_t errlen)
{
	return log_dir_make(dir, SAFEDIR_CHECK_ONLY, err, errlen);
}

static void
start_logfile(struct service_output *o)
{
	const struct service_conf *c = o->conf;
	char path[PATH_MAX], err[1024];

	/* checked again: it may have been removed and made again since vigild started */
	if (make_log_dir(err, sizeof(err)) == -1) {
		log_warnx("%s: not writing a log file: %s", c->name, err);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s.log", log_dir, c->name);
	if (logfile_open(&o->log, c->name, path, c->log_max_size, c->log_keep) == 0)
		o->logging = true;
}

/* Set up what stream's target needs (a pipe, a file), dropping what the last one held. */
static void
stream_sync(struct service_output *o, enum output_stream stream)
{
	const struct service_conf *c = o->conf;
	bool is_out = stream == OUTPUT_STDOUT;
	enum output_target to = is_out ? c->stdout_to : c->stderr_to;
	const char *path = is_out ? c->stdout_path : c->stderr_path;
	struct output_pipe *p = is_out ? &o->out : &o->err;

	if (to == o->to[stream] && (to != OUTPUT_TO_FILE ||
	    (o->path[stream] != NULL && strcmp(o->path[stream], path) == 0)))
		return;
	pipe_close(p);
	if (o->file_fd[stream] != -1)
		close(o->file_fd[stream]);
	o->file_fd[stream] = -1;
	free(o->path[stream]);
	o->path[stream] = NULL;
	o->to[stream] = to;
	if (to == OUTPUT_TO_LOG && pipe_open(p, o, stream) == -1)
		log_warn("%s: creating its %s pipe; it goes to vigild's", c->name,
		    is_out ? "stdout" : "stderr");
	if (to == OUTPUT_TO_FILE) {
		o->path[stream] = strdup(path);
		open_target_file(o, stream, path);
	}
}

/* Pipes, files and the log file as s->conf says; what no longer fits is closed. */
static void
targets_sync(struct service_output *o)
{
	bool capturing;

	stream_sync(o, OUTPUT_STDOUT);
	stream_sync(o, OUTPUT_STDERR);
	capturing = o->out.rfd != -1 || o->err.rfd != -1;
	if (capturing && !o->logging) {
		start_logfile(o);
	} else if (!capturing && o->logging) {
		logfile_close(&o->log);
		o->logging = false;
	}
}

struct service_output *
output_new(const struct service_conf *c, void *owner)
{
	struct service_output *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	if (devnull == -1 && (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		log_warn("opening /dev/null");
	o->owner = owner;
	o->conf = c;
	o->out.rfd = o->out.wfd = o->err.rfd = o->err.wfd = -1;
	o->file_fd[0] = o->file_fd[1] = o->file_fd[2] = -1;
	o->log.fd = -1;
	/* nothing is set up yet, and /dev/null needs nothing */
	o->to[OUTPUT_STDOUT] = o->to[OUTPUT_STDERR] = OUTPUT_TO_NULL;
	o->next = all_outputs;
	all_outputs = o;
	if (ring_init(&o->ring, (size_t)c->log_buffer) == -1) {
		output_free(o);
		return NULL;
	}
	targets_sync(o);
	return o;
}

/*
 * The definition changed (a reload). Its name and limits follow at once;
 * pipes and files only when no process runs, as a running one keeps
 * writing where it started: else when it ends (output_process_ended).
 */
void
output_apply(struct service_output *o, const struct service_conf *c, bool running)
{
	if (o == NULL)
		return;
	o->conf = c;
	logfile_set_limits(&o->log, c->name, c->log_max_size, c->log_keep);
	if (ring_resize(&o->ring, (size_t)c->log_buffer) == -1)
		log_warn("%s: resizing its log buffer; it keeps the old size", c->name);
	if (!running)
		targets_sync(o);
}

void
output_free(struct service_output *o)
{
	struct service_output **pp;

	if (o == NULL)
		return;
	for (pp = &all_outputs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	pipe_close(&o->out);
	pipe_close(&o->err);
	for (int i = 0; i < 3; i++) {
		if (o->file_fd[i] != -1)
			close(o->file_fd[i]);
		free(o->path[i]);
	}
	ring_free(&o->ring);
	if (o->logging)
		logfile_close(&o->log);
	free(o);
	if (all_outputs == NULL) {
		free(batch);
		batch = NULL;
		batch_cap = 0;
	}
}

static int
target_fd(const struct service_output *o, enum output_target to, enum output_stream stream)
{
	switch (to) {
	case OUTPUT_TO_LOG:
		return stream == OUTPUT_STDOUT ? o->out.wfd : o->err.wfd;
	case OUTPUT_TO_NULL:
		return devnull;
	case OUTPUT_TO_FILE:
		return o->file_fd[stream] != -1 ? o->file_fd[stream] : devnull;
	case OUTPUT_TO_INHERIT:
		/* vigild's own fd of that number (for a merged stderr: its stdout) */
		return stream == OUTPUT_STDOUT ? 1 : 2;
	case OUTPUT_TO_STDOUT:
	case OUTPUT_TO_JOURNAL:	/* a stream of each spawn's own: child_fd() */
		break;
	}
	return -1;
}

/* The fd for a target; a journal's is a new stream, which output_spawned() closes. */
static int
child_fd(const struct service_output *o, enum output_target to, enum output_stream stream,
    int *fd, char *err, size_t errlen)
{
	bool is_out = stream == OUTPUT_STDOUT;
	char why[256];

	if (to != OUTPUT_TO_JOURNAL) {
		*fd = target_fd(o, to, stream);
		return 0;
	}
	*fd = journal_stream_open(o->conf->name, is_out ? LOG_INFO : LOG_WARNING, why,
	    sizeof(why));
	if (*fd == -1) {
		snprintf(err, errlen, "spawn failed at journal stream for %s: %s",
		    is_out ? "stdout" : "stderr", why);
		return -1;
	}
	spawn_streams[stream] = *fd;
	return 0;
}

int
output_spawn_fds(const struct service_output *o, int *out_fd, int *err_fd, char *err,
    size_t errlen)
{
	const struct service_conf *c;

	*out_fd = *err_fd = -1;
	if (o == NULL)
		return 0;
	c = o->conf;
	if (child_fd(o, c->stdout_to, OUTPUT_STDOUT, out_fd, err, errlen) == -1)
		return -1;
	if (c->stderr_to == OUTPUT_TO_STDOUT) {
		*err_fd = *out_fd;	/* one pipe (or stream): order kept */
		return 0;
	}
	return child_fd(o, c->stderr_to, OUTPUT_STDERR, err_fd, err, errlen);
}

void
output_spawned(void)
{
	/* the child has its copies as 1 and 2 now, or there is no child */
	for (int i = 0; i < 3; i++) {
		if (spawn_streams[i] != -1)
			close(spawn_streams[i]);
		spawn_streams[i] = -1;
	}
}

struct foreach_arg {
	bool	(*fn)(const struct log_line *, void *);
	void	 *arg;
};

static bool
ring_cb(const struct ring_record *r, void *arg)
{
	struct foreach_arg *fa = arg;
	struct log_line line = {
		.usec = r->usec, .seq = r->seq, .stream = (enum output_stream)r->stream,
		.cont = (r->flags & 1) != 0, .partial = (r->flags & 2) != 0,
		.len = r->len, .text = r->text,
	};

	return fa->fn(&line, fa->arg);
}

void
output_ring_foreach(const struct service_output *o,
    bool (*fn)(const struct log_line *, void *), void *arg)
{
	struct foreach_arg fa = { fn, arg };

	if (o != NULL)
		ring_foreach(&o->ring, ring_cb, &fa);
}

const char *
output_log_path(const struct service_output *o)
{
	return o != NULL && o->logging ? o->log.path : NULL;
}

uint64_t
output_bytes(const struct service_output *o)
{
	return o != NULL ? o->bytes : 0;
}

uint64_t
output_dropped_bytes(const struct service_output *o)
{
	return o != NULL ? o->log.dropped : 0;
}

void
output_reopen_all(void)
{
	for (struct service_output *o = all_outputs; o != NULL; o = o->next)
		if (o->logging)
			logfile_reopen(&o->log);
	log_notice("reopened the services' log files");
}

void
output_pipe_get(const struct service_output *o, enum output_stream stream,
    struct output_pipe_state *st)
{
	const struct output_pipe *p = stream == OUTPUT_STDOUT ? &o->out : &o->err;

	st->rfd = p->rfd;
	st->wfd = p->wfd;
	st->partial = p->partial;
	st->plen = p->partial != NULL ? p->plen : 0;
	st->cont = p->cont;
}

uint64_t
output_next_seq(const struct service_output *o)
{
	return o != NULL ? o->next_seq : 0;
}

int
output_pipe_adopt(struct service_output *o, enum output_stream stream,
    const struct output_pipe_state *st)
{
	struct output_pipe *p = stream == OUTPUT_STDOUT ? &o->out : &o->err;

	if (st->rfd < 0 || st->wfd < 0 || st->plen > OUTPUT_LINE_MAX)
		return -1;
	/* output_new made a pipe of its own for a captured stream: the old one wins */
	if (p->rfd != -1) {
		ev_io_stop(out_loop, &p->io);
		close(p->rfd);
		close(p->wfd);
	}
	p->owner = o;
	p->stream = stream;
	p->rfd = st->rfd;
	p->wfd = st->wfd;
	p->cont = st->cont;
	p->plen = 0;
	if (st->plen > 0) {
		if (p->partial == NULL && (p->partial = malloc(OUTPUT_LINE_MAX)) == NULL) {
			log_warn("%s: keeping a partial line", o->conf->name);
			return -1;
		}
		memcpy(p->partial, st->partial, st->plen);
		p->plen = st->plen;
	}
	ev_io_init(&p->io, pipe_cb, p->rfd, EV_READ);
	p->io.data = p;
	ev_io_start(out_loop, &p->io);
	return 0;
}

void
output_seq_adopt(struct service_output *o, uint64_t next_seq)
{
	if (o != NULL && next_seq > 0)
		o->next_seq = next_seq;
}

void
output_ring_adopt(struct service_output *o, const struct log_line *l)
{
	if (o != NULL)
		ring_push(&o->ring, l->usec, l->seq, (uint8_t)l->stream,
		    (uint8_t)(l->cont | l->partial << 1), l->text, l->len);
}
