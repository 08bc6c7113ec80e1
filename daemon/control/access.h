/*
 * access.h: who may do what on the control socket (access.c). A client's
 * level is decided once, when it connects, from the kernel's record of
 * its credentials and the config in force; the socket file's owner, group
 * and mode follow [vigil] socket_group.
 */
#ifndef VIGIL_ACCESS_H
#define VIGIL_ACCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "config/conf.h"
#include "proto.h"

/* A connected client as the kernel saw it at connect(), and what it may do. */
struct access_peer {
	uid_t		 uid;		/* (uid_t)-1: unknown, and level is none */
	gid_t		 gid;
	pid_t		 pid;
	enum proto_access level;
	bool		 refusal_logged;	/* one warning per connection, however many refusals */
};

/* Fill p for the client on fd under conf; never fails (level none if unknown). */
void		 access_peer_of(int fd, const struct config *conf, struct access_peer *p);
/* The level of uid with primary gid and supplementary groups under conf (pure). */
enum proto_access access_level(const struct config *conf, uid_t uid, gid_t gid,
		    const gid_t *groups, size_t ngroups);
/*
 * Give the socket at path the group and mode conf asks for: 0660 and
 * socket_group, or 0600 and vigild's group. 0, or -1 logged.
 */
int		 access_socket_apply(const char *path, const struct config *conf);
/* Whether a reload from old to conf changes who may do what. */
bool		 access_changed(const struct config *old, const struct config *conf);

#endif
