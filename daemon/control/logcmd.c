/*
 * logcmd.c: the `log` and `log-reopen` requests. Each service's last lines
 * come from its ring, and from the end of its log file for what the ring no
 * longer holds, joined by the lines' sequence numbers (logformat.h); the
 * services are merged by time and sent one LINE object at a time.
 * Following on the socket is control.c's; this file only starts it.
 */
#include "config.h"
#include "logcmd.h"
#include "control.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "duration.h"
#include "follow.h"
#include "logline.h"
#include "names.h"
#include "output/logformat.h"
#include "output/logread.h"
#include "proto.h"
#include "utf8.h"

#define LOG_DEFAULT_LINES	50
#define LOG_FILE_READ_MAX	(1024 * 1024)	/* from the end of one service's files */
#define LOG_FILE_READ_FIRST	(16 * 1024)	/* the first try; grows by 4 up to the above */
/* text of one reply: escaped (6 bytes for 1 at worst) it stays below vigilctl's 64 MiB */
#define LOG_REPLY_TEXT_MAX	(8 * 1024 * 1024)
#define LOG_BACKLOG_TEXT_MAX	(1024 * 1024)	/* a follower's first lines */
#define LOG_ENTRY_OVERHEAD	96		/* a LINE object around its text, roughly */

struct log_entry {
	int64_t		 usec;
	int64_t		 order;		/* usec, made never to go back within a service */
	uint64_t	 seq;		/* the line's number; 0 when its file had none */
	size_t		 svc;		/* index into the query's services */
	size_t		 idx;		/* order within its service */
	enum output_stream stream;
	bool		 cont, partial;
	const char	*text;		/* in a ring, or in one of the query's file buffers */
	size_t		 len;
};

struct log_query {
	struct service	**svcs;		/* borrowed */
	size_t		  nsvcs;
	size_t		  max_lines;
	int64_t		  since_usec;	/* INT64_MIN: no limit */
	bool		  follow;
	struct log_entry *e;
	size_t		  n, cap;
	struct logread_tail *tails;	/* what file lines point into */
	size_t		  ntails, tailcap;
};

/* A ring walked oldest first, keeping its last max_lines since since_usec. */
struct ring_pick {
	const struct log_query *q;
	struct log_entry *win;	/* circular once it holds max_lines */
	size_t		  cap, count, start;
	size_t		  total;	/* lines in the ring */
	int64_t		  oldest;	/* time of the ring's oldest line */
	uint64_t	  first_seq, last_seq;	/* the ring's oldest and newest line */
	bool		  oom;
};

/*
 * What the files must add, and how to tell the lines the ring has already.
 * The file's newest lines are the ring's: a line with a sequence number is
 * the ring's exactly when the number is in the ring's range; a raw line
 * (log_timestamps = no) can only be counted off against the ring's lines.
 * The first line that is not the ring's ends that: all before it are older.
 */
struct file_pick {
	size_t		  need;
	bool		  in_ring;	/* still walking lines the ring holds */
	uint64_t	  first_seq, last_seq;	/* the ring's range; first > last when it is empty */
	size_t		  ring_left;	/* ring lines not yet met in the file */
	int64_t		  floor;	/* no line walked back to may be newer than this */
	struct log_entry *got;		/* newest first */
	size_t		  n, cap;
};

static int64_t
now_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static int
grow(void **p, size_t *cap, size_t size, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *n = realloc(*p, ncap * size);

	if (n == NULL)
		return -1;
	*p = n;
	*cap = ncap;
	return 0;
}

static bool
ring_pick_cb(const struct log_line *l, void *arg)
{
	struct ring_pick *p = arg;
	struct log_entry e = {
		.usec = l->usec, .seq = l->seq, .stream = l->stream, .cont = l->cont,
		.partial = l->partial, .text = l->text, .len = l->len,
	};
	size_t max = p->q->max_lines;

	if (p->total++ == 0) {
		p->oldest = l->usec;
		p->first_seq = l->seq;
	}
	p->last_seq = l->seq;
	if (l->usec < p->q->since_usec || max == 0)
		return true;
	if (p->count == p->cap && p->cap < max) {
		if (grow((void **)&p->win, &p->cap, sizeof(*p->win), 64) == -1) {
			p->oom = true;
			return false;
		}
		if (p->cap > max)
			p->cap = max;
	}
	if (p->count < p->cap) {
		p->win[p->count++] = e;		/* start stays 0 until the window is full */
	} else {
		p->win[p->start] = e;
		p->start = (p->start + 1) % p->cap;
	}
	return true;
}

/* Is this file line one the ring holds too? Walked newest first. */
static bool
file_line_in_ring(struct file_pick *f, const struct logformat_line *l)
{
	if (f->in_ring && f->ring_left > 0 && (l->has_seq ?
	    l->seq >= f->first_seq && l->seq <= f->last_seq : !l->timed)) {
		f->ring_left--;
		return true;
	}
	f->in_ring = false;
	return false;
}

/* One file's lines, newest first: 1 while older ones are wanted, 0 when not, -1 out of memory. */
static int
pick_from_tail(const struct log_query *q, struct logread_tail *t, struct file_pick *f)
{
	struct logformat_line l;
	const char *p;
	size_t len;

	while (f->n < f->need && logread_tail_prev(t, &p, &len)) {
		logformat_parse(p, len, &l);
		if (file_line_in_ring(f, &l))
			continue;
		if (!l.timed)	/* time unknown: the file's, never after the line that follows */
			l.usec = t->mtime_usec < f->floor ? t->mtime_usec : f->floor;
		if (l.usec < q->since_usec)
			return 0;
		if (f->n == f->cap && grow((void **)&f->got, &f->cap, sizeof(*f->got), 64) == -1)
			return -1;
		f->got[f->n++] = (struct log_entry){
			.usec = l.usec, .seq = l.has_seq ? l.seq : 0, .stream = l.stream,
			.cont = l.cont, .text = l.text, .len = l.len,
		};
		if (l.usec < f->floor)
			f->floor = l.usec;
	}
	return f->n < f->need;
}

static struct logread_tail *
query_new_tail(struct log_query *q)
{
	if (q->ntails == q->tailcap &&
	    grow((void **)&q->tails, &q->tailcap, sizeof(*q->tails), 4) == -1)
		return NULL;
	return &q->tails[q->ntails++];
}

/*
 * One file's lines into f, reading back from its end: first
 * LOG_FILE_READ_FIRST bytes, and while that holds too few lines, four
 * times as much, up to max. A `log -n 10` of a huge file reads a few KiB;
 * the lines of a try that fell short are dropped (their text is in its
 * buffer) and walked again. Returns pick_from_tail's answer, the tail in
 * *tp; -2 when the file cannot be read (logged unless it is gone).
 */
static int
pick_from_file(struct log_query *q, const char *name, const char *path, size_t max,
    struct file_pick *f, struct logread_tail **tp)
{
	const struct file_pick before = *f;
	size_t want = LOG_FILE_READ_FIRST < max ? LOG_FILE_READ_FIRST : max;
	struct logread_tail *t;
	int rc;

	for (;;) {
		if ((t = query_new_tail(q)) == NULL)
			return -1;
		if (logread_tail_open(t, path, want) == -1) {
			q->ntails--;
			if (errno == ENOMEM)
				return -1;
			if (errno != ENOENT)
				log_warn("%s: reading %s", name, path);
			return -2;	/* NAME.log may be gone while logrotate works */
		}
		rc = pick_from_tail(q, t, f);
		if (rc != 1 || t->from_start || want >= max)
			break;
		logread_tail_free(t);
		q->ntails--;
		f->n = before.n;
		f->in_ring = before.in_ring;
		f->ring_left = before.ring_left;
		f->floor = before.floor;
		want = want > max / 4 ? max : want * 4;
	}
	*tp = t;
	return rc;
}

/* NAME.log, then NAME.log.1 if NAME.log was read whole: at most LOG_FILE_READ_MAX bytes kept. */
static int
pick_from_files(struct log_query *q, const char *name, const char *path, struct file_pick *f)
{
	size_t budget = LOG_FILE_READ_MAX;
	char rotated[PATH_MAX];
	struct logread_tail *t = NULL;
	int rc;

	snprintf(rotated, sizeof(rotated), "%s.1", path);
	for (int k = 0; k < 2 && budget > 0; k++) {
		rc = pick_from_file(q, name, k == 0 ? path : rotated, budget, f, &t);
		if (rc == -2)
			continue;
		if (rc == -1)
			return -1;
		budget -= t->len;
		if (rc != 1 || !t->from_start)
			return 0;
	}
	return 0;
}

/* The next line of service svc, oldest first. */
static int
query_add(struct log_query *q, struct log_entry e, size_t svc, size_t idx)
{
	if (q->n == q->cap && grow((void **)&q->e, &q->cap, sizeof(*q->e), 256) == -1)
		return -1;
	e.svc = svc;
	e.idx = idx;
	/* a clock set back must not reorder one service's lines in the merge */
	e.order = idx > 0 && q->e[q->n - 1].order > e.usec ? q->e[q->n - 1].order : e.usec;
	q->e[q->n++] = e;
	return 0;
}

/* One service's last lines into the query, oldest first: file lines, then the ring's. */
static int
gather_service(struct log_query *q, size_t idx)
{
	struct service *s = q->svcs[idx];
	struct ring_pick rp = { .q = q };
	struct file_pick fp = { 0 };
	const char *path = output_log_path(s->output);
	size_t n = 0;
	int rc = 0;

	output_ring_foreach(s->output, ring_pick_cb, &rp);
	if (rp.oom)
		rc = -1;
	else if (path != NULL && rp.count < q->max_lines &&
	    (rp.total == 0 || rp.oldest >= q->since_usec)) {
		fp.need = q->max_lines - rp.count;
		fp.in_ring = rp.total > 0;
		fp.first_seq = rp.first_seq;
		fp.last_seq = rp.last_seq;
		fp.ring_left = rp.total;
		fp.floor = rp.total > 0 ? rp.oldest : INT64_MAX;
		rc = pick_from_files(q, s->conf->name, path, &fp);
	}
	for (size_t i = fp.n; rc == 0 && i-- > 0; )
		rc = query_add(q, fp.got[i], idx, n++);
	for (size_t i = 0; rc == 0 && i < rp.count; i++)
		rc = query_add(q, rp.win[(rp.start + i) % rp.cap], idx, n++);
	free(fp.got);
	free(rp.win);
	return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct log_entry *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The first entry to send: the last max_lines, within a budget of text. */
static size_t
first_to_send(const struct log_query *q, size_t budget)
{
	size_t first = q->n > q->max_lines ? q->n - q->max_lines : 0, i = q->n, used = 0;

	while (i > first) {
		used += q->e[i - 1].len + LOG_ENTRY_OVERHEAD;
		if (used > budget && i < q->n)
			break;
		i--;
	}
	return i;
}

/* LINE objects from first on: one per line for a follower, else an array's elements. */
static void
write_entries(struct control_client *c, const struct log_query *q, size_t first, bool follow)
{
	static char buf[LOG_LINE_JSON_MAX];

	for (size_t i = first; i < q->n; i++) {
		const struct log_entry *e = &q->e[i];
		struct log_line l = {
			.usec = e->usec, .seq = e->seq, .stream = e->stream, .cont = e->cont,
			.partial = e->partial, .len = e->len, .text = e->text,
		};
		char *big;
		size_t len = logline_format(q->svcs[e->svc]->conf->name, &l, buf,
		    sizeof(buf), &big);
		int rc = 0;

		if (len == 0)
			continue;	/* out of memory: the line is left out */
		if (!follow && i > first)
			rc = control_write(c, ",", 1);
		/* in the "lines" array, commas stand between objects instead of newlines */
		if (rc == 0)
			rc = control_write(c, big ? big : buf, follow ? len : len - 1);
		free(big);
		if (rc == -1)
			return;
	}
}

static int
parse_count(const char *s, size_t *n)
{
	size_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (size_t)(*s - '0')) > PROTO_LOG_MAX_LINES)
			return -1;
	}
	*n = v;
	return 0;
}

/*
 * [-n N] [--since=DURATION] [--follow] [--]: 0 and the first name's index
 * in *first, or -1 and the error reply in *err.
 */
static int
parse_options(char **argv, size_t argc, struct log_query *q, size_t *first, json_t **err)
{
	static const struct proto_option opts[] = {
		{ PROTO_OPT_LINES, PROTO_OPT_NEXT }, { PROTO_OPT_SINCE, PROTO_OPT_EQUALS },
		{ PROTO_OPT_FOLLOW, PROTO_OPT_ALONE }, { NULL, 0 },
	};
	const char *values[3];
	char msg[256];
	int64_t ms;

	q->max_lines = LOG_DEFAULT_LINES;
	q->since_usec = INT64_MIN;
	if (proto_parse_options(argv, argc, opts, values, first, msg, sizeof(msg)) == -1) {
		*err = proto_reply_error(PROTO_ERR_BAD_REQUEST, "%s", msg);
		return -1;
	}
	if (values[0] != NULL && parse_count(values[0], &q->max_lines) == -1) {
		*err = proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "log: -n: expected a number of lines from 0 to %d, found '%s'",
		    PROTO_LOG_MAX_LINES, values[0]);
		return -1;
	}
	if (values[1] != NULL) {
		if (duration_parse(values[1], &ms) == -1 || ms > INT64_MAX / 1000 / 2) {
			*err = proto_reply_error(PROTO_ERR_BAD_REQUEST,
			    "log: --since: expected a duration like 30s, 5m or 2h, found '%s'",
			    values[1]);
			return -1;
		}
		q->since_usec = now_usec() - ms * 1000;
	}
	q->follow = values[2] != NULL;
	return 0;
}

static void
query_free(struct log_query *q)
{
	for (size_t i = 0; i < q->ntails; i++)
		logread_tail_free(&q->tails[i]);
	free(q->tails);
	free(q->e);
}

/*
 * What of the services asked for no line can show: output that goes to the
 * journal, which journald reads and vigild never sees. NULL when there is
 * nothing to say, or no memory to say it (the notes are left out then).
 */
static json_t *
journal_notes(const struct log_query *q)
{
	json_t *notes = NULL, *note;
	char text[256];

	for (size_t i = 0; i < q->nsvcs; i++) {
		const struct service_conf *sc = q->svcs[i]->conf;
		bool out = sc->stdout_to == OUTPUT_TO_JOURNAL;
		bool err = sc->stderr_to == OUTPUT_TO_JOURNAL ||
		    (out && sc->stderr_to == OUTPUT_TO_STDOUT);

		if (!out && !err)
			continue;
		snprintf(text, sizeof(text), "%s: %s to the journal; see journalctl -t %s",
		    sc->name, out && err ? "stdout and stderr go" : out ? "stdout goes" :
		    "stderr goes", sc->name);
		if (notes == NULL && (notes = json_array()) == NULL)
			return NULL;
		if ((note = json_string(text)) == NULL || json_array_append_new(notes, note) == -1) {
			json_decref(notes);
			return NULL;
		}
	}
	return notes;
}

/* The end of a `log` reply: the array closed, then the notes, if any. */
static void
write_tail(struct control_client *c, json_t *notes)
{
	static const char tail[] = PROTO_ARRAY_TAIL, mid[] = "],\"" PROTO_K_NOTES "\":";
	char *dump = notes != NULL ? json_dumps(notes, PROTO_JSON_FLAGS) : NULL;

	if (dump == NULL) {
		control_write(c, tail, sizeof(tail) - 1);
		return;
	}
	if (control_write(c, mid, sizeof(mid) - 1) == 0 &&
	    control_write(c, dump, strlen(dump)) == 0)
		control_write(c, "}\n", 2);
	free(dump);
}

static void
write_reply(struct control_client *c, struct log_query *q, struct service **named)
{
	static const char head[] = PROTO_ARRAY_HEAD(PROTO_K_LINES);
	json_t *notes = journal_notes(q), *r;

	if (!q->follow) {
		if (control_write(c, head, sizeof(head) - 1) == 0) {
			write_entries(c, q, first_to_send(q, LOG_REPLY_TEXT_MAX), false);
			write_tail(c, notes);
		}
		json_decref(notes);
		return;
	}
	/* from here on, c is a follower: follow.c sends it every new line */
	r = json_pack("{s:b, s:b}", PROTO_K_OK, 1, PROTO_K_FOLLOW, 1);
	if (r != NULL && notes != NULL)
		json_object_set(r, PROTO_K_NOTES, notes);
	json_decref(notes);
	control_reply(c, r);
	if (follow_start(c, named, named != NULL ? q->nsvcs : 0) == 0)
		write_entries(c, q, first_to_send(q, LOG_BACKLOG_TEXT_MAX), true);
}

json_t *
logcmd_log(struct control_client *c, char **argv, size_t argc, bool *deferred)
{
	struct log_query q = { 0 };
	struct service **named = NULL;
	size_t first = 1, nnamed;
	json_t *r = NULL;
	bool oom = false;

	if (parse_options(argv, argc, &q, &first, &r) == -1)
		return r;
	if (first < argc) {
		if (names_resolve(argv + first, argc - first, &named, &nnamed, &r) == -1)
			return r;
		q.svcs = named;
		q.nsvcs = names_dedupe(named, nnamed);
	} else {
		q.svcs = vigild.services;
		q.nsvcs = vigild.nservices;
	}
	for (size_t i = 0; i < q.nsvcs && !oom; i++)
		oom = gather_service(&q, i) == -1;
	if (oom) {
		r = proto_reply_error(PROTO_ERR_INTERNAL, "out of memory");
	} else {
		if (q.n > 1)	/* qsort(NULL, 0, ...) is undefined */
			qsort(q.e, q.n, sizeof(*q.e), entry_cmp);
		write_reply(c, &q, named);
		if (q.follow)
			named = NULL;	/* the follower owns it now, even when it could not start */
		*deferred = true;
	}
	query_free(&q);
	free(named);
	return r;
}

json_t *
logcmd_reopen(char **argv, size_t argc)
{
	if (argc > 1)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST,
		    "log-reopen: takes no arguments, found '%s'", argv[1]);
	output_reopen_all();
	return proto_reply_ok();
}
