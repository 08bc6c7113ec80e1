/*
 * top_view.c: the rows of `vigilctl top` and the frame drawn of them.
 * Event lines move a row's state and pid at once; a status reply brings
 * what events do not carry (restarts, CPU, processes, the last exit) and
 * which services exist. Reading the socket and the keys is top.c's.
 */
#include "config.h"
#include "top_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "proto.h"
#include "vigilctl.h"

#define SGR_RESET	"\033[0m"
#define SGR_BOLD	"\033[1m"
#define SGR_REVERSE	"\033[7m"
#define TOP_NAME_MAX	64	/* a service name's longest, as vigild allows */

struct top_row {
	char	 name[TOP_NAME_MAX + 1];	/* printable ASCII only */
	char	 state[16];
	bool	 ready;
	long long pid;		/* 0: none */
	double	 spawned;	/* wall-clock start of its process; < 0: unknown */
	double	 starting_at;	/* its latest change to starting: the spawn its next pid had */
	long long restarts;	/* -1: not known yet */
	long long procs;	/* -1: unknown (no cgroups) */
	double	 cpu;		/* CPU seconds at cpu_time; < 0: unknown */
	double	 cpu_time;
	double	 cpu_pct;	/* between the last two samples; < 0: not yet */
	char	 last_exit[40];
	/*
	 * A reload removed it: hidden, and the changes of its stopping that
	 * the stream still sends are not taken for a new service. The next
	 * status drops it, or shows it again if a reload added it back.
	 */
	bool	 gone;
};

struct top_model {
	struct top_row	*rows;
	size_t		 n, cap;
	char		 version[40];
	long long	 pid;
	enum top_sort	 sort;
	bool		 reverse;
	long		 scroll;	/* first row shown */
};

static const char *const sort_names[TOP_NSORTS] = {
	"name", "state", "pid", "uptime", "restarts", "cpu", "procs",
};

/* Most in need of a look first; a state this list lacks goes last. */
static const char *const state_rank[] = {
	"fatal", "backoff", "stopping", "starting", "running", "exited", "stopped",
};
#define NRANKS	(sizeof(state_rank) / sizeof(state_rank[0]))

/* Copy text from the socket as printable ASCII: it must not drive the terminal. */
static void
clean_copy(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < len; i++)
		dst[i] = (src[i] > 0x20 && src[i] < 0x7f) || src[i] == ' ' ? src[i] : '?';
	dst[i] = '\0';
}

struct top_model *
top_model_new(void)
{
	return calloc(1, sizeof(struct top_model));
}

void
top_model_free(struct top_model *m)
{
	if (m == NULL)
		return;
	free(m->rows);
	free(m);
}

void
top_model_set_daemon(struct top_model *m, const char *version, long long pid)
{
	clean_copy(m->version, sizeof(m->version), version != NULL ? version : "?");
	m->pid = pid;
}

const char *
top_sort_name(enum top_sort key)
{
	return key < TOP_NSORTS ? sort_names[key] : "?";
}

size_t
top_model_count(const struct top_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += !m->rows[i].gone;
	return n;
}

static struct top_row *
row_find(struct top_model *m, const char *name)
{
	char clean[TOP_NAME_MAX + 1];

	clean_copy(clean, sizeof(clean), name);
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->rows[i].name, clean) == 0)
			return &m->rows[i];
	return NULL;
}

/* The row of name, added (knowing nothing yet) if there is none; NULL when out of memory. */
static struct top_row *
row_get(struct top_model *m, const char *name)
{
	struct top_row *r = row_find(m, name), *rows;

	if (r != NULL)
		return r;
	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 32;
		if ((rows = realloc(m->rows, ncap * sizeof(*rows))) == NULL)
			return NULL;
		m->rows = rows;
		m->cap = ncap;
	}
	r = &m->rows[m->n++];
	memset(r, 0, sizeof(*r));
	clean_copy(r->name, sizeof(r->name), name);
	snprintf(r->state, sizeof(r->state), "?");
	r->spawned = r->starting_at = -1;
	r->restarts = r->procs = -1;
	r->cpu = r->cpu_pct = -1;
	snprintf(r->last_exit, sizeof(r->last_exit), "-");
	return r;
}

/* A pid from an event or a status: a new process started at spawned. */
static void
row_set_pid(struct top_row *r, const json_t *pid, double spawned)
{
	long long p = json_is_integer(pid) ? (long long)json_integer_value(pid) : 0;

	if (p <= 0) {
		r->pid = 0;
		r->spawned = -1;
	} else if (p != r->pid || r->spawned < 0) {
		r->pid = p;
		r->spawned = spawned;
	}
}

int
top_model_event(struct top_model *m, const json_t *obj)
{
	const char *name = json_string_value(json_object_get(obj, PROTO_K_SERVICE));
	const char *to = json_string_value(json_object_get(obj, PROTO_K_TO));
	double t = json_number_value(json_object_get(obj, PROTO_K_TIME));
	struct top_row *r;

	if (name == NULL)
		return 0;	/* {"skipped":N}: the current states follow */
	if (json_is_true(json_object_get(obj, PROTO_K_REMOVED))) {
		if ((r = row_find(m, name)) != NULL)
			r->gone = true;
		return 0;
	}
	if (to == NULL || ((r = row_find(m, name)) != NULL && r->gone))
		return 0;
	if (r == NULL && (r = row_get(m, name)) == NULL)
		return -1;
	clean_copy(r->state, sizeof(r->state), to);
	r->ready = json_is_true(json_object_get(obj, PROTO_K_READY));
	/* "starting" comes just before the spawn: its time is the next pid's start */
	if (strcmp(to, "starting") == 0 && !json_is_null(json_object_get(obj, PROTO_K_FROM)))
		r->starting_at = t;
	row_set_pid(r, json_object_get(obj, PROTO_K_PID), r->starting_at > 0 ? r->starting_at : t);
	return 0;
}

/* What a status object says that events do not. */
static void
row_status(struct top_row *r, const json_t *svc, double now, bool sample_cpu)
{
	const json_t *up = json_object_get(svc, PROTO_K_UPTIME);
	const json_t *cpu = json_object_get(svc, PROTO_K_CPU);
	const json_t *v;
	char exit[64];

	clean_copy(r->state, sizeof(r->state), json_string_value(json_object_get(svc,
	    PROTO_K_STATE)));
	r->ready = json_is_true(json_object_get(svc, PROTO_K_READY));
	r->pid = 0;	/* status is the authority: its uptime dates the process */
	row_set_pid(r, json_object_get(svc, PROTO_K_PID),
	    json_is_number(up) ? now - json_number_value(up) : now);
	v = json_object_get(svc, PROTO_K_RESTARTS);
	r->restarts = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
	v = json_object_get(svc, PROTO_K_PROCESSES);
	r->procs = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
	output_last_exit(json_object_get(svc, PROTO_K_LAST_EXIT), exit, sizeof(exit));
	clean_copy(r->last_exit, sizeof(r->last_exit), exit);
	if (!json_is_number(cpu)) {
		r->cpu = r->cpu_pct = -1;
	} else if (r->cpu < 0) {
		r->cpu = json_number_value(cpu);
		r->cpu_time = now;
	} else if (sample_cpu && now > r->cpu_time) {
		r->cpu_pct = (json_number_value(cpu) - r->cpu) / (now - r->cpu_time) * 100;
		if (r->cpu_pct < 0)
			r->cpu_pct = 0;	/* the cgroup was made anew */
		r->cpu = json_number_value(cpu);
		r->cpu_time = now;
	}
}

int
top_model_status(struct top_model *m, const json_t *services, double now, bool sample_cpu)
{
	const json_t *svc;
	size_t i, k;
	bool *seen;
	int rc = 0;

	/* rows are added at the end: the flags of new ones are set past the old count */
	if ((seen = calloc(m->n + json_array_size(services) + 1, sizeof(*seen))) == NULL)
		return -1;
	json_array_foreach(services, i, svc) {
		const char *name = json_string_value(json_object_get(svc, PROTO_K_NAME));
		struct top_row *r;

		if (name == NULL)
			continue;
		if ((r = row_get(m, name)) == NULL) {
			rc = -1;
			break;
		}
		seen[r - m->rows] = true;
		r->gone = false;
		row_status(r, svc, now, sample_cpu);
	}
	/* a service status does not list is gone (a reload removed it) */
	for (i = 0, k = 0; rc == 0 && i < m->n; i++)
		if (seen[i])
			m->rows[k++] = m->rows[i];
	if (rc == 0)
		m->n = k;
	free(seen);
	return rc;
}

void
top_model_sort_by(struct top_model *m, enum top_sort key)
{
	if (key >= TOP_NSORTS)
		return;
	m->reverse = key == m->sort ? !m->reverse : false;
	m->sort = key;
}

void
top_model_sort_step(struct top_model *m, int dir)
{
	m->sort = (enum top_sort)(((int)m->sort + dir + TOP_NSORTS) % TOP_NSORTS);
	m->reverse = false;
}

void
top_model_scroll(struct top_model *m, long delta)
{
	m->scroll += delta;
	if (m->scroll < 0)
		m->scroll = 0;
}

static size_t
rank_of(const char *state)
{
	for (size_t i = 0; i < NRANKS; i++)
		if (strcmp(state, state_rank[i]) == 0)
			return i;
	return NRANKS;
}

/* -1, 0, 1 as a before b; "high first" keys compare b to a */
static int
cmp_num(double a, double b)
{
	return a < b ? -1 : a > b;
}

/* The uptime to sort and show: seconds, or -1 without a process. */
static double
row_uptime(const struct top_row *r, double now)
{
	return r->pid > 0 && r->spawned >= 0 ? (now > r->spawned ? now - r->spawned : 0) : -1;
}

static int
row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct top_model *m = arg;
	const struct top_row *a = pa, *b = pb;
	int c = 0;

	if (a->gone != b->gone)
		return a->gone ? 1 : -1;	/* out of sight, after every row shown */
	switch (m->sort) {
	case TOP_SORT_NAME:
		break;
	case TOP_SORT_STATE:
		c = cmp_num((double)rank_of(a->state), (double)rank_of(b->state));
		break;
	case TOP_SORT_PID:	/* none last */
		c = cmp_num(a->pid > 0 ? (double)a->pid : 1e300, b->pid > 0 ? (double)b->pid : 1e300);
		break;
	case TOP_SORT_UPTIME:	/* spawned earliest is up longest; none last */
		c = cmp_num(a->pid > 0 && a->spawned >= 0 ? a->spawned : 1e300,
		    b->pid > 0 && b->spawned >= 0 ? b->spawned : 1e300);
		break;
	case TOP_SORT_RESTARTS:
		c = cmp_num((double)b->restarts, (double)a->restarts);
		break;
	case TOP_SORT_CPU:
		c = cmp_num(b->cpu_pct, a->cpu_pct);
		break;
	case TOP_SORT_PROCS:
		c = cmp_num((double)b->procs, (double)a->procs);
		break;
	case TOP_NSORTS:
		break;
	}
	if (c == 0)
		c = strcmp(a->name, b->name);
	return m->reverse ? -c : c;
}

/* A frame being built: the text, and the visible columns of the current line. */
struct frame {
	char	*buf;
	size_t	 len, cap;
	int	 col;		/* visible characters on this line so far */
	int	 cols;		/* where a line is cut; <= 0: never */
	bool	 batch;
	bool	 failed;	/* out of memory */
};

static void
frame_raw(struct frame *f, const char *s, size_t n)
{
	if (f->failed)
		return;
	if (f->len + n + 1 > f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 8192;
		char *nb;
		while (ncap < f->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(f->buf, ncap)) == NULL) {
			f->failed = true;
			return;
		}
		f->buf = nb;
		f->cap = ncap;
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = '\0';
}

/* Visible text (ASCII: one byte, one column), cut where the line ends. */
static void
frame_text(struct frame *f, const char *s)
{
	size_t n = strlen(s);

	if (f->cols > 0 && f->col + (int)n > f->cols)
		n = f->cols > f->col ? (size_t)(f->cols - f->col) : 0;
	frame_raw(f, s, n);
	f->col += (int)n;
}

/* An SGR sequence: no column, and none at all when colour is off (sgr NULL). */
static void
frame_sgr(struct frame *f, const char *sgr)
{
	if (sgr != NULL)
		frame_raw(f, sgr, strlen(sgr));
}

/* s in a cell of width w, left- or right-aligned, then two blanks unless last. */
static void
frame_cell(struct frame *f, const char *s, int w, bool right, const char *sgr, bool last)
{
	char cell[128];
	int n = (int)strlen(s);

	if (n > w && w > 1)	/* only names are ever cut: the rest fit their columns */
		snprintf(cell, sizeof(cell), "%.*s~", w - 1, s);
	else
		snprintf(cell, sizeof(cell), right ? "%*s" : "%-*s", last ? 0 : w, s);
	frame_sgr(f, sgr);
	frame_text(f, cell);
	frame_sgr(f, sgr != NULL ? SGR_RESET : NULL);
	if (!last)
		frame_text(f, "  ");
}

static void
frame_eol(struct frame *f)
{
	frame_raw(f, f->batch ? "\n" : "\033[K\r\n", f->batch ? 1 : 5);
	f->col = 0;
}

/* Column widths, but NAME's, which depends on the names and the terminal. */
enum { W_STATE = 8, W_PID = 7, W_UPTIME = 6, W_RESTARTS = 8, W_CPU = 6, W_PROCS = 5,
	W_LAST = 11 };
#define W_FIXED	(W_STATE + W_PID + W_UPTIME + W_RESTARTS + W_CPU + W_PROCS + 7 * 2)

static int
name_width(const struct top_model *m, int cols)
{
	int w = 4;	/* "NAME" */

	for (size_t i = 0; i < m->n; i++)
		if (!m->rows[i].gone && (int)strlen(m->rows[i].name) > w)
			w = (int)strlen(m->rows[i].name);
	/* cut names before anything else is cut, but never below 8 */
	if (cols > 0 && w > cols - W_FIXED - W_LAST)
		w = cols - W_FIXED - W_LAST > 8 ? cols - W_FIXED - W_LAST : 8;
	return w;
}

/* "vigild 0.1.0 (pid 42)  5 services: 3 running, 2 stopped  sort: cpu" */
static void
render_header(struct frame *f, const struct top_model *m)
{
	char text[512];
	size_t off, count[NRANKS + 1] = { 0 }, n = top_model_count(m);

	for (size_t i = 0; i < m->n; i++)
		if (!m->rows[i].gone)
			count[rank_of(m->rows[i].state)]++;
	off = (size_t)snprintf(text, sizeof(text), "vigild %s (pid %lld)  %zu service%s",
	    m->version[0] != '\0' ? m->version : "?", m->pid, n, n == 1 ? "" : "s");
	for (size_t k = 0, shown = 0; k <= NRANKS && off < sizeof(text); k++) {
		if (count[k] == 0)
			continue;
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s%zu %s",
		    shown++ == 0 ? ": " : ", ", count[k], k < NRANKS ? state_rank[k] : "other");
	}
	if (off < sizeof(text))
		snprintf(text + off, sizeof(text) - off, "  sort: %s%s", sort_names[m->sort],
		    m->reverse ? ", reversed" : "");
	frame_text(f, text);
	frame_eol(f);
}

static void
render_titles(struct frame *f, const struct top_model *m, int namew, bool colour)
{
	static const struct {
		const char *title;
		int	 sort;		/* its key, or -1 */
		int	 width;		/* 0: NAME's */
		bool	 right;
	} cols[] = {
		{ "NAME", TOP_SORT_NAME, 0, false },
		{ "STATE", TOP_SORT_STATE, W_STATE, false },
		{ "PID", TOP_SORT_PID, W_PID, true },
		{ "UPTIME", TOP_SORT_UPTIME, W_UPTIME, true },
		{ "RESTARTS", TOP_SORT_RESTARTS, W_RESTARTS, true },
		{ "CPU%", TOP_SORT_CPU, W_CPU, true },
		{ "PROCS", TOP_SORT_PROCS, W_PROCS, true },
		{ "LAST-EXIT", -1, W_LAST, false },
	};
	size_t n = sizeof(cols) / sizeof(cols[0]);

	for (size_t i = 0; i < n; i++)
		frame_cell(f, cols[i].title, cols[i].width ? cols[i].width : namew, cols[i].right,
		    !colour ? NULL : cols[i].sort == (int)m->sort ? SGR_REVERSE : SGR_BOLD,
		    i + 1 == n);
	frame_eol(f);
}

/* running but not ready is on its way, as in `vigilctl status` */
static const char *
state_sgr(const struct top_row *r, bool colour)
{
	if (!colour)
		return NULL;
	if (strcmp(r->state, "running") == 0 && !r->ready)
		return output_state_style("starting");
	return output_state_style(r->state);
}

static void
render_row(struct frame *f, const struct top_row *r, int namew, bool colour, double now)
{
	char pid[24] = "-", up[32] = "-", restarts[24] = "-", cpu[24] = "-", procs[24] = "-";
	double u = row_uptime(r, now);

	if (r->pid > 0)
		snprintf(pid, sizeof(pid), "%lld", r->pid);
	if (u >= 1)
		duration_format((int64_t)u * 1000, up, sizeof(up));
	else if (u >= 0)
		snprintf(up, sizeof(up), "0s");	/* it ticks by seconds: no ms flicker */
	if (r->restarts >= 0)
		snprintf(restarts, sizeof(restarts), "%lld", r->restarts);
	if (r->cpu_pct >= 0)
		snprintf(cpu, sizeof(cpu), "%.1f", r->cpu_pct < 99999 ? r->cpu_pct : 99999);
	if (r->procs >= 0)
		snprintf(procs, sizeof(procs), "%lld", r->procs);
	frame_cell(f, r->name, namew, false, NULL, false);
	frame_cell(f, r->state, W_STATE, false, state_sgr(r, colour), false);
	frame_cell(f, pid, W_PID, true, NULL, false);
	frame_cell(f, up, W_UPTIME, true, NULL, false);
	frame_cell(f, restarts, W_RESTARTS, true, NULL, false);
	frame_cell(f, cpu, W_CPU, true, NULL, false);
	frame_cell(f, procs, W_PROCS, true, NULL, false);
	frame_cell(f, r->last_exit, W_LAST, false, NULL, true);
	frame_eol(f);
}

static void
render_footer(struct frame *f, size_t n, size_t first, size_t shown)
{
	char text[256];

	snprintf(text, sizeof(text), "q quit  n s p u r c: sort by name state pid uptime "
	    "restarts cpu (again: reverse)  < >: sort column  arrows: scroll");
	if (shown < n) {
		char more[64];
		snprintf(more, sizeof(more), "[%zu-%zu of %zu] ", first + 1, first + shown, n);
		frame_text(f, more);
	}
	frame_text(f, text);
	frame_raw(f, "\033[K", 3);	/* the last line: no newline, which would scroll */
}

char *
top_render(struct top_model *m, int cols, int rows, bool colour, bool batch, double now,
    size_t *len)
{
	struct frame f = { NULL, 0, 0, 0, batch ? 0 : cols, batch, false };
	int namew = name_width(m, f.cols);
	size_t room, first, n = top_model_count(m);

	/* the rows shown first, then the gone ones */
	if (m->n > 1)
		qsort_r(m->rows, m->n, sizeof(*m->rows), row_cmp, m);
	/* header, titles and footer take three lines */
	room = batch ? n : rows > 3 ? (size_t)rows - 3 : 0;
	if (room >= n)
		m->scroll = 0;
	else if ((size_t)m->scroll > n - room)
		m->scroll = (long)(n - room);
	first = (size_t)m->scroll;
	if (!batch)
		frame_raw(&f, "\033[H", 3);
	render_header(&f, m);
	render_titles(&f, m, namew, colour);
	for (size_t i = first; i < n && i < first + room; i++)
		render_row(&f, &m->rows[i], namew, colour, now);
	if (!batch) {
		frame_raw(&f, "\033[J", 3);	/* nothing left of a longer frame */
		if (rows > 1) {
			char go[32];
			snprintf(go, sizeof(go), "\033[%d;1H", rows);
			frame_raw(&f, go, strlen(go));
			render_footer(&f, n, first, n < room ? n : room);
		}
	}
	if (f.failed) {
		free(f.buf);
		return NULL;
	}
	*len = f.len;
	return f.buf;
}
