/*
 * output.h: capture of services' stdout and stderr. Each service owns its
 * pipes for its whole life (not one run's), so output of a dying process or
 * of an orphaned grandchild is still captured, and the next run writes into
 * the same pipe. Lines go to the service's ring buffer (always), its log
 * file (stdout/stderr = log) and to the listeners (the control server).
 */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"

struct service_output;

#define OUTPUT_LINE_MAX	(16 * 1024)	/* longer lines are split into pieces */

enum output_stream {
	OUTPUT_STDOUT = 1,	/* "out" */
	OUTPUT_STDERR = 2	/* "err" */
};

/* One captured line (or piece of an over-long one). */
struct log_line {
	int64_t		 usec;		/* wall clock when read, microseconds since the epoch */
	uint64_t	 seq;		/* its number in the service's output: see output.c */
	enum output_stream stream;
	bool		 cont;		/* continues the previous piece: the line was over OUTPUT_LINE_MAX */
	bool		 partial;	/* written without its newline (the process ended mid-line) */
	size_t		 len;
	const char	*text;		/* len bytes, no newline, not NUL-terminated, any bytes */
};

/*
 * Where the loop and the log folder come from; before any output_new().
 * Makes the log folder and checks it (safedir.h): -1 (logged) if it is unsafe.
 */
int	 output_init(struct ev_loop *loop, const char *log_dir);
/* vigild --check: could output_init make or take dir? It makes nothing; -1 with err. */
int	 output_check_log_dir(const char *dir, char *err, size_t errlen);

/*
 * Who hears of each new line (dinit's service_listener is the model): the
 * control server registers one for its followers. owner is what the
 * service's output_new() was given.
 */
struct output_listener {
	void	(*line)(void *arg, void *owner, const struct log_line *line);
	void	 *arg;
	struct output_listener *next;	/* output.c's */
};
void	 output_listen(struct output_listener *l);

/* Set up the pipes and log file of the service conf defines; NULL (logged) on failure. */
struct service_output *output_new(const struct service_conf *conf, void *owner);
void	 output_free(struct service_output *o);	/* NULL: nothing */
/* The definition was replaced by a reload: follow it (see output.c for when). */
void	 output_apply(struct service_output *o, const struct service_conf *conf, bool running);
/*
 * The fds a process of the service gets as 1 and 2 (-1: vigild's own), for
 * one spawn: a journal target's stream is opened now. 0, or -1 with err
 * ("spawn failed at journal stream ..."); either way output_spawned()
 * once the spawn is over closes what was opened for it.
 */
int	 output_spawn_fds(const struct service_output *o, int *out_fd, int *err_fd,
	    char *err, size_t errlen);
void	 output_spawned(void);
/* The main process was reaped: read what is left, write out partial lines. */
void	 output_process_ended(struct service_output *o);
/* Oldest to newest over the ring; stop early by returning false. */
void	 output_ring_foreach(const struct service_output *o,
	    bool (*fn)(const struct log_line *line, void *arg), void *arg);
/* The file it logs to, or NULL when it does not log to a file. */
const char *output_log_path(const struct service_output *o);
uint64_t output_dropped_bytes(const struct service_output *o);
/* Bytes read from its stdout and stderr pipes since vigild started (a counter). */
uint64_t output_bytes(const struct service_output *o);
/* SIGUSR1 and `log-reopen`: reopen every log file (after logrotate moved them). */
void	 output_reopen_all(void);
/*
 * daemon-reexec. What a stream's pipe holds for the vigild after the exec:
 * both ends (kept open across execve) and the line read so far.
 */
struct output_pipe_state {
	int		 rfd, wfd;	/* -1: the stream is not captured */
	const char	*partial;	/* plen bytes, any bytes; borrowed */
	size_t		 plen;
	bool		 cont;		/* the next piece continues a split line */
};
void	 output_pipe_get(const struct service_output *o, enum output_stream stream,
	    struct output_pipe_state *st);
uint64_t output_next_seq(const struct service_output *o);	/* 0: no line yet */
/*
 * In the new vigild, after output_new: take over the pipe the old one had
 * (its own fresh pipe is closed), the line it was reading, its numbering.
 * -1 (logged) when the pipe cannot be watched.
 */
int	 output_pipe_adopt(struct service_output *o, enum output_stream stream,
	    const struct output_pipe_state *st);
void	 output_seq_adopt(struct service_output *o, uint64_t next_seq);
/* Put a line back into the ring, oldest first, as the old vigild held it. */
void	 output_ring_adopt(struct service_output *o, const struct log_line *line);
/* "out" / "err" */
const char *output_stream_name(enum output_stream stream);

#endif
