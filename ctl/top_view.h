/*
 * top_view.h: what `vigilctl top` knows of the services (the model, fed
 * by event lines and status replies) and the frame it draws of it. The
 * terminal, the socket and the keys are top.c's.
 */
#ifndef VIGIL_TOP_VIEW_H
#define VIGIL_TOP_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The sortable columns, in the table's order: `<` and `>` step through them. */
enum top_sort {
	TOP_SORT_NAME,		/* a to z */
	TOP_SORT_STATE,		/* the states that need a look first: fatal, backoff, ... */
	TOP_SORT_PID,		/* low to high, none last */
	TOP_SORT_UPTIME,	/* longest up first */
	TOP_SORT_RESTARTS,	/* most first */
	TOP_SORT_CPU,		/* busiest first */
	TOP_SORT_PROCS,		/* most first */
	TOP_NSORTS
};

struct top_model;

struct top_model *top_model_new(void);
void		 top_model_free(struct top_model *m);
/* hello's version and pid, for the header line */
void		 top_model_set_daemon(struct top_model *m, const char *version, long long pid);
/*
 * One object of the events stream: a state (current or a change), a
 * {"service":...,"removed":true} or a {"skipped":N}. A service it does not
 * know yet is added (a reload added it). -1 when out of memory.
 */
int		 top_model_event(struct top_model *m, const json_t *obj);
/*
 * A status reply's "services": every row is refreshed, services missing
 * from it are dropped and new ones added. now: wall-clock seconds, when
 * it came. sample_cpu: a periodic sample, which CPU% is measured between
 * (a status asked for sooner, after an event, updates the rest only).
 * -1 when out of memory.
 */
int		 top_model_status(struct top_model *m, const json_t *services, double now,
		    bool sample_cpu);
/* Sort by key; the key already in force turns the order round. */
void		 top_model_sort_by(struct top_model *m, enum top_sort key);
/* The next (+1) or previous (-1) column as the sort key. */
void		 top_model_sort_step(struct top_model *m, int dir);
/* Scroll the rows by delta lines (clamped when drawn). */
void		 top_model_scroll(struct top_model *m, long delta);
const char	*top_sort_name(enum top_sort key);
size_t		 top_model_count(const struct top_model *m);

/*
 * The frame for a cols x rows terminal at wall-clock time now: a header,
 * the column titles, as many services as fit, the keys on the last line;
 * each line cut to cols and ending in "\033[K\r\n" (erase to its end).
 * batch: no cut, no footer, plain "\n" line ends, every service, for a
 * pipe. colour: SGR for states and titles. The text is malloc'd, NULL
 * when out of memory.
 */
char		*top_render(struct top_model *m, int cols, int rows, bool colour,
		    bool batch, double now, size_t *len);

#endif
