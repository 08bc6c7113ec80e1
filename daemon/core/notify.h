/*
 * notify.h: the sd_notify protocol. Each service that may speak it
 * (ready = notify, or a watchdog) gets its own datagram socket, named in
 * its NOTIFY_SOCKET, and sends KEY=VALUE lines there.
 */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#define NOTIFY_MSG_MAX	4096	/* a longer datagram is dropped, not cut */
/* WATCHDOG_USEC= and EXTEND_TIMEOUT_USEC= above a year are refused, not wrapped */
#define NOTIFY_USEC_MAX	(365ULL * 24 * 3600 * 1000 * 1000)

struct service;

/* The folder the sockets go in, next to the control socket; -1 (logged) on failure. */
int		 notify_init(const char *control_path);
/* Remove the folder; the services' sockets are gone by then. */
void		 notify_cleanup(void);
/*
 * s's socket, bound on first use and kept for the service's life (like
 * its output pipes, so a message sent just before a restart still lands).
 * Its path, or NULL with the reason in err.
 */
const char	*notify_service_socket(struct service *s, char *err, size_t errlen);
void		 notify_service_free(struct service *s);
/*
 * Handle every message s has queued. The reaper calls this before s's
 * death, so a READY=1 or STATUS= sent just before it is not lost.
 */
void		 notify_drain(struct service *s);
/* daemon-reexec: the fd of s's socket, -1 if it has none; and take it back after the exec. */
int		 notify_handover_fd(const struct service *s);
int		 notify_adopt(struct service *s, int fd);

#endif
