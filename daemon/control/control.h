/*
 * control.h: the control socket server (control.c), the bottom of the
 * control layer. main.c sets the handler of request lines (the verbs'
 * dispatch, commands.c) and opens it. The verbs queue replies, and may
 * park a client on a request that waits, or make it a stream that gets
 * lines until it leaves; what the wait or the stream is about is theirs.
 */
#ifndef VIGIL_CONTROL_H
#define VIGIL_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "core/core.h"

#define CONTROL_MAX_CLIENTS	256

struct control_client;

/*
 * What a request line becomes: the reply, or NULL with *deferred set when
 * the handler wrote it itself, parked c or made it a stream. NULL without
 * *deferred: the reply could not be built, and c is told `internal`.
 */
typedef json_t	*control_handler_fn(struct control_client *c, char **argv, size_t argc,
		    bool *deferred);
void		 control_set_handler(control_handler_fn *fn);
int		 control_open(const char *path);
/* Serve fd (a connected, non-blocking, close-on-exec stream socket) as a client; -1 refused. */
int		 control_adopt(int fd);
void		 control_close(void);	/* every client, then the socket */
/*
 * daemon-reexec. The listening socket (fd, and the path it owns, NULL when
 * the service manager's), kept open across execve so connections made
 * meanwhile wait in its backlog; the new vigild listens on it again.
 */
int		 control_listen_fd(const char **path);
int		 control_open_fd(int fd, const char *path);
/* Tell every client to connect again (error `reconnect`), and close it. */
void		 control_reconnect_all(const char *message);
/* Give the listening socket the group and mode conf asks for (a reload); 0 or -1 logged. */
int		 control_socket_access(const struct config *conf);
/* Clients connected now (metrics). */
size_t		 control_nclients(void);
/* Who c is and what it may do, decided when it connected; the verbs check and mark it. */
struct access_peer *control_peer(struct control_client *c);

/* Queue one reply line for c; steals reply (NULL: an `internal` error). */
void		 control_reply(struct control_client *c, json_t *reply);
/* Queue raw reply bytes (a reply built in pieces); -1 if c was dropped. */
int		 control_write(struct control_client *c, const char *buf, size_t len);
/*
 * Where c's queue ends now, and taking back what was queued after it: a
 * reply built in pieces that fails half way is replaced, not sent cut.
 * Valid until the handler returns (nothing is sent before).
 */
size_t		 control_mark(const struct control_client *c);
void		 control_rewind(struct control_client *c, size_t mark);

/* A request that waits: what the server asks of its verb. */
struct control_park_ops {
	json_t	*(*timeout)(void *state);	/* the reply when the time is up */
	void	 (*free)(void *state);		/* over (unparked, timed out) or c left */
};
/* Park c: its later lines wait their turn; timeout_ms <= 0: no time limit. */
void		 control_park(struct control_client *c, const struct control_park_ops *ops,
		    void *state, int64_t timeout_ms);
/* The wait is over: send reply (steals it; NULL: `internal`), read on. */
void		 control_unpark(struct control_client *c, json_t *reply);

/* A stream (log --follow, events): what the server asks of its verb. */
struct control_stream_ops {
	size_t	  max;		/* unsent bytes beyond which lines are skipped */
	size_t	  resume;	/* and the level it must fall to before resume_cb */
	/* c caught up after skipping lines: tell it (and what it must know again) */
	void	(*resume_cb)(struct control_client *c, void *state, uint64_t skipped);
	void	(*free)(void *state);		/* the stream ended or c left */
};
/* From now on c gets lines, and its further requests are ignored. Queue its reply first. */
void		 control_stream(struct control_client *c, const struct control_stream_ops *ops,
		    void *state);
/* Queue one line of c's stream, or count it skipped when c is too far behind. */
bool		 control_stream_send(struct control_client *c, const char *line, size_t len);
/* Nothing left to stream: once its last lines are out (queue an error first), c is closed. */
void		 control_stream_end(struct control_client *c);

#endif
