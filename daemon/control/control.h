/*
 * control.h: the control layer, the top one below main.c: the socket
 * server (control.c) and the verbs (commands.c and one file for each
 * larger verb). main.c opens and closes it; the verbs use the rest:
 * queueing a reply line, and parking a client on a wait until services
 * reach a state, or turning it into a follower of services' output or of
 * their state changes.
 */
#ifndef VIGIL_CONTROL_H
#define VIGIL_CONTROL_H

#include <jansson.h>
#include <stdbool.h>

#include "core/core.h"

struct control_client;
struct service;
struct wait;

/* control.c */
int		 control_open(const char *path);
/* Serve fd (a connected, non-blocking, close-on-exec stream socket) as a client; -1 refused. */
int		 control_adopt(int fd);
void		 control_close(void);	/* every client, then the socket */


/* reload.c: the reload request and SIGHUP */
/* Re-read vigild.conf->file and apply it (or only plan it); the reply, logged too. */
json_t		*reload_run(bool dry_run);

/* status.c: the fields of a status object, in the order they are sent */
enum status_field {
	STATUS_NAME, STATUS_STATE, STATUS_REASON, STATUS_SINCE, STATUS_RESTARTS,
	STATUS_FAILURES, STATUS_LAST_EXIT, STATUS_AUTOSTART, STATUS_RESTART,
	STATUS_PID, STATUS_UPTIME, STATUS_NEXT_START_IN, STATUS_LOG_FILE,
	STATUS_LOG_DROPPED_BYTES, STATUS_READY, STATUS_READY_KIND, STATUS_STATUS_TEXT,
	STATUS_ERRNO, STATUS_NFIELDS
};
#define STATUS_BIT(f)	(1u << (f))
#define STATUS_ALL	((1u << STATUS_NFIELDS) - 1)
json_t		*status_service_json(const struct service *s, int64_t now_ms, unsigned fields);
/* NULL when any object could not be built */
json_t		*status_services_json(struct service **svcs, size_t n);
/* "name,state,pid" -> mask; -1 with *bad, *badlen the unknown name in list (empty: none) */
int		 status_fields_parse(const char *list, unsigned *mask, const char **bad,
		    size_t *badlen);


/* commands.c */
/* The reply, or NULL with *deferred set when the handler wrote it or parked c on a wait */
json_t		*commands_dispatch(struct control_client *c, char **argv, size_t argc, bool *deferred);
/*
 * Names to services, all or nothing: 0 and *out (malloc'd), or -1 and a
 * no-such-service reply in *err (NULL if it could not be built).
 */
int		 commands_resolve_names(char **names, size_t n, struct service ***out,
		    json_t **err);
/* Drop repeats in place, keeping the first of each; the new count. */
size_t		 commands_dedupe(struct service **svcs, size_t n);

/* logcmd.c, logread.c: the log and log-reopen requests; see logcmd.h, logread.h */
/* events.c: the events request and its lines; see events.h */


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
