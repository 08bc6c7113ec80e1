/*
 * http.h: GET /metrics over HTTP on [vigil] metrics_listen (http.c), in
 * vigild's own loop. main.c opens it after the control socket.
 */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include <stddef.h>

#define HTTP_MAX_CLIENTS	16		/* at once; see http.c for the one past it */
#define HTTP_MAX_REQUEST	(8 * 1024)	/* request line and headers */

/* Listen on addr (as metrics_listen takes it); 0, or -1 logged with the address and why. */
int		 http_open(const char *addr);
void		 http_close(void);	/* every client, then the socket */
size_t		 http_nclients(void);

#endif
