/*
 * outer.h: vigild's side of a supervisor above it (systemd): what it is
 * told (sd_notify: READY, STATUS, RELOADING, STOPPING, WATCHDOG) and the
 * control socket it may hand over (socket activation). Without libsystemd,
 * or without such a supervisor, every call does nothing.
 */
#ifndef VIGIL_OUTER_H
#define VIGIL_OUTER_H

#include <ev.h>
#include <stdbool.h>

/*
 * First thing in main: take NOTIFY_SOCKET, WATCHDOG_*, LISTEN_* for
 * vigild and out of its environment, so that no service inherits them.
 */
void	 outer_init(void);
/* The listening socket the supervisor passed (LISTEN_FDS=1), or -1. */
int	 outer_listen_fd(void);
/* The loop is there: the watchdog pings start, if one was asked for. */
void	 outer_start(struct ev_loop *loop);
/* The autostart services were started: READY=1 once each is up (or given up on). */
void	 outer_services_started(void);
/* A service changed: STATUS= if the summary changed, READY=1 when due. */
void	 outer_services_changed(void);
void	 outer_reloading(void);
void	 outer_reloaded(void);
void	 outer_stopping(void);
/* Whether vigild was started with a NOTIFY_SOCKET to tell (for the tests' sake: the log says it). */
bool	 outer_notifying(void);
/* daemon-reexec: what the supervisor gave us, back in the environment for execve; and out. */
void	 outer_env_restore(void);
void	 outer_env_clear(void);
void	 outer_free(void);

#endif
