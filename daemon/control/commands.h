/*
 * commands.h: the verbs' table (commands.c), the top of the control layer:
 * main.c hands commands_dispatch to the server as its handler.
 */
#ifndef VIGIL_COMMANDS_H
#define VIGIL_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct control_client;

/* The reply, or NULL with *deferred set when the handler wrote it or parked c */
json_t		*commands_dispatch(struct control_client *c, char **argv, size_t argc,
		    bool *deferred);

/*
 * What only main.c's side can do, for the verbs: daemon-reexec (the reply:
 * ok with the exec to follow from the loop, or an error and nothing done)
 * and hello's fields about it.
 */
struct commands_daemon_ops {
	json_t	*(*reexec)(void);
	void	 (*hello)(json_t *reply);
};
void		 commands_set_daemon_ops(const struct commands_daemon_ops *ops);

#endif
