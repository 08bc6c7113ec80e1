/*
 * output.h: capture of services' stdout and stderr. Each service owns its
 * pipes for its whole life (not one run's), so output of a dying process or
 * of an orphaned grandchild is still captured, and the next run writes into
 * the same pipe. Lines go to the service's ring buffer (always), its log
 * file (stdout/stderr = log) and to whoever follows it (control.c).
 */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct service;

#define OUTPUT_LINE_MAX	(16 * 1024)	/* longer lines are split into pieces */

enum output_stream {
	OUTPUT_STDOUT = 1,	/* "out" */
	OUTPUT_STDERR = 2	/* "err" */
};

/* One captured line (or piece of an over-long one). */
struct log_line {
	int64_t		 usec;		/* wall clock when read, microseconds since the epoch */
	enum output_stream stream;
	bool		 cont;		/* continues the previous piece: the line was over OUTPUT_LINE_MAX */
	bool		 partial;	/* written without its newline (the process ended mid-line) */
	size_t		 len;
	const char	*text;		/* len bytes, no newline, not NUL-terminated, any bytes */
};

/* Set up s's pipes and log file; 0 or -1 (logged). */
int	 output_service_init(struct service *s);
void	 output_service_free(struct service *s);
/* s->conf was replaced by a reload: follow it (see output.c for when). */
void	 output_service_apply(struct service *s);
/* The fds the child gets as 1 and 2: -1 means vigild's own. */
int	 output_child_fd(const struct service *s, enum output_stream stream);
/* s's main process was reaped: read what is left, write out partial lines. */
void	 output_process_ended(struct service *s);
/* Oldest to newest over s's ring; stop early by returning false. */
void	 output_ring_foreach(const struct service *s,
	    bool (*fn)(const struct log_line *line, void *arg), void *arg);
/* The file s logs to, or NULL when it does not log to a file. */
const char *output_log_path(const struct service *s);
uint64_t output_dropped_bytes(const struct service *s);
/* SIGUSR1 and `log-reopen`: reopen every log file (after logrotate moved them). */
void	 output_reopen_all(void);
/* "out" / "err" */
const char *output_stream_name(enum output_stream stream);

/* control.c: a new line of s, for the clients that follow it */
void	 control_log_line(struct service *s, const struct log_line *line);

#endif
