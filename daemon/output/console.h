/*
 * console.h: [vigil] log_console: every captured line also on vigild's own
 * stdout (stderr lines on its stderr) as "NAME | line", the way docker
 * compose shows its services, so `docker logs` sees them all.
 */
#ifndef VIGIL_CONSOLE_H
#define VIGIL_CONSOLE_H

#include <ev.h>
#include <stdbool.h>

#include "config/conf.h"
#include "output.h"

/* On, off or (unset) on when vigild is PID 1, names padded as conf's longest; start and reload */
void	 console_configure(struct ev_loop *loop, const struct config *conf);
/* Turn the copy on or off; width pads the names. */
void	 console_set(struct ev_loop *loop, bool on, int width);
bool	 console_on(void);
/* One captured line of name's, as output.c emits it; buffered until console_flush(). */
void	 console_line(const char *name, const struct log_line *line);
void	 console_flush(void);	/* after each read: write what the fds take now */
/* Bytes dropped because the reader was too slow, since start. */
unsigned long long console_dropped(void);
void	 console_free(void);	/* at exit: what is buffered is written if it can be */

#endif
