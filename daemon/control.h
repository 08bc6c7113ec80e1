/*
 * control.h: what commands.c needs from the control socket server:
 * queueing a reply line, and parking a client on a wait until services
 * reach a state, or turning it into a follower of services' output or of
 * their state changes.
 */
#ifndef VIGIL_CONTROL_H
#define VIGIL_CONTROL_H

#include <jansson.h>
#include <stdbool.h>

struct control_client;
struct service;
struct wait;

/* Queue one reply line for c; steals reply. */
void	control_reply(struct control_client *c, json_t *reply);
/* Queue raw reply bytes (a reply built in pieces); -1 if c was dropped. */
int	control_write(struct control_client *c, const char *buf, size_t len);
/*
 * Where c's queue ends now, and taking back what was queued after it: a
 * reply built in pieces that fails half way is replaced, not sent cut.
 * Valid until the handler returns (nothing is sent before).
 */
size_t	control_mark(const struct control_client *c);
void	control_rewind(struct control_client *c, size_t mark);
/* Park c on w (c owns w from now on); its later requests wait their turn. */
void	control_defer(struct control_client *c, struct wait *w);
/*
 * Make c a follower of the n services in svcs (c owns the malloc'd array),
 * or of every service when svcs is NULL: from now on it gets each of their
 * new lines, and its further requests are ignored.
 */
void	control_follow(struct control_client *c, struct service **svcs, size_t n);
/*
 * The same for state changes (`events`): c gets the current state of each
 * service at once, then a line per change. Its reply must be queued first.
 */
void	control_subscribe(struct control_client *c, struct service **svcs, size_t n);

/* wait.c: a client waiting for services to reach a target */
enum wait_target {
	WAIT_RUNNING,		/* state running, ready or not */
	WAIT_READY,		/* start/restart: service_is_ready() */
	WAIT_STOPPED,		/* stop: no process left, nothing pending */
	WAIT_EXITED		/* state exited: a job that ended */
};
/* "running", "ready", "stopped", "exited"; -1 for anything else */
int		 wait_target_parse(const char *name, enum wait_target *target);
struct wait	*wait_new(enum wait_target target, struct service **svcs, size_t n,
		    int64_t timeout_ms);
/*
 * Whether the wait is over (every service is there, or one can no longer
 * get there), and then its reply in *reply: NULL if that could not be built.
 */
bool		 wait_check(struct wait *w, json_t **reply);
/* Fields the final reply gets besides "services" (steals extra). */
void		 wait_set_extra(struct wait *w, json_t *extra);
json_t		*wait_timeout_reply(struct wait *w);
double		 wait_timeout_seconds(const struct wait *w);
bool		 wait_holds(const struct wait *w, const struct service *s);
void		 wait_free(struct wait *w);

#endif
