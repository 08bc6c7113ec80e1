/*
 * rawclient.h: a raw client of vigild's control socket for the
 * integration tests; every wait has a deadline and fails the test.
 */
#ifndef VIGIL_RAWCLIENT_H
#define VIGIL_RAWCLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define IO_DEADLINE_MS	20000	/* generous: a busy 2-core machine, maybe under ASan */

struct raw {
	int	 fd;
	char	 buf[256 * 1024];	/* received, not yet handed out as lines */
	size_t	 len;
};

struct sockaddr_un;
void	 raw_sock_addr(struct sockaddr_un *sun);	/* vigild's socket as an address */
void	 raw_connect(struct raw *c);	/* to vh.sock, non-blocking */
/*
 * Connect as another user (the test runs as root): a child becomes uid
 * with gid and groups, connects, and hands the fd over, so vigild sees
 * that user. 0, or connect's errno (EACCES) with c->fd -1.
 */
int	 raw_connect_as(struct raw *c, uid_t uid, gid_t gid, const gid_t *groups,
	    size_t ngroups);
void	 raw_close(struct raw *c);
/* Send all of data before the deadline. */
void	 raw_send(struct raw *c, const char *data, size_t len);
/* The next reply line (malloc'd, no newline), NULL on EOF or after timeout_ms. */
char	*raw_line(struct raw *c, int timeout_ms);
/* The next reply, parsed; fails the test if none comes or it is not one JSON object. */
json_t	*raw_reply(struct raw *c, const char *what);
/* Send line and its newline, and return the reply. */
json_t	*raw_request(struct raw *c, const char *line);
/* A reply as text for failure messages (static buffer). */
const char *show(const json_t *j);
bool	 reply_ok(const json_t *r);
/* The string at key, "" if there is none. */
const char *reply_str(const json_t *o, const char *key);
/* `log REQ` until its reply holds at least n lines; the reply (caller decrefs). */
json_t	*raw_log_until(struct raw *c, const char *req, size_t n);
/* Expect r to be the error code with a message; frees r. */
void	 expect_error(json_t *r, const char *code, const char *what);
/* Send `status` on c and expect a good reply: the connection still works. */
void	 expect_status_ok(struct raw *c, const char *after);

#endif
