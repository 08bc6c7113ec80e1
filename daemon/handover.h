/*
 * handover.h: daemon-reexec, the live upgrade (handover.c). Beside main.c
 * as it reaches every layer: the services of core/, the pipes of output/,
 * the listening socket and clients of control/.
 */
#ifndef VIGIL_HANDOVER_H
#define VIGIL_HANDOVER_H

#include <jansson.h>

/*
 * The format of the state one vigild writes and the next reads. Raise it
 * whenever a field is added, removed or means something else: a vigild
 * refuses to exec a binary that reads another number.
 */
#define HANDOVER_FORMAT	1
#define HANDOVER_OPTION	"--handover"	/* =FD: the state to take back */
#define HANDOVER_VERSION_OPTION	"--handover-version"	/* prints HANDOVER_FORMAT */

/* At start: which binary to exec later (resolved now: it may be replaced) and argv. */
void	 handover_init(char **argv);
/* The daemon-reexec verb: refuse (an error reply, nothing touched) or ok, and exec next turn. */
json_t	*handover_request(void);
/* hello's generation, started and reexec_error. */
void	 handover_hello(json_t *reply);
/*
 * In the new vigild, after supervisor_init and notify_init: take back
 * everything the state at fd holds, listening socket included. -1
 * (logged) if it is unreadable or of another format.
 */
int	 handover_restore(int fd);

#endif
