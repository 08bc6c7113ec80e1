/*
 * access.c: access levels on the control socket. The socket file admits
 * vigild's user, root and, with socket_group, that group's members; at
 * accept the kernel says who connected (SO_PEERCRED, SO_PEERGROUPS) and
 * this file turns that into a level. Which verb needs which level is the
 * verb table's (commands.c).
 */
#include "config.h"
#include "access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define PEER_GROUPS_FIRST	64	/* on the stack; more are fetched once, on the heap */

static bool
has_gid(const gid_t *set, size_t n, gid_t gid)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == gid)
			return true;
	return false;
}

/* Whether the peer is in l: by uid, or by its primary or a supplementary group. */
static bool
in_list(const struct access_list *l, uid_t uid, gid_t gid, const gid_t *groups,
    size_t ngroups)
{
	for (size_t i = 0; i < l->nuids; i++)
		if (l->uids[i] == uid)
			return true;
	for (size_t i = 0; i < l->ngids; i++)
		if (l->gids[i] == gid || has_gid(groups, ngroups, l->gids[i]))
			return true;
	return false;
}

enum proto_access
access_level(const struct config *conf, uid_t uid, gid_t gid, const gid_t *groups,
    size_t ngroups)
{
	enum proto_access level = PROTO_ACCESS_NONE;

	if (uid == 0 || uid == geteuid())
		return PROTO_ACCESS_ADMIN;
	if (conf == NULL)
		return PROTO_ACCESS_NONE;
	/* it could connect through the group: that is read, the lists grant more */
	if (conf->socket_group != NULL &&
	    (gid == conf->socket_gid || has_gid(groups, ngroups, conf->socket_gid)))
		level = PROTO_ACCESS_READ;
	if (in_list(&conf->read_access, uid, gid, groups, ngroups))
		level = PROTO_ACCESS_READ;
	if (in_list(&conf->operate_access, uid, gid, groups, ngroups))
		level = PROTO_ACCESS_OPERATE;
	return level;
}

/*
 * The peer's supplementary groups as they were when it connected: the
 * kernel keeps them with the socket, so there is no lookup (NSS could
 * block the loop) and no race with a process that changes its groups or
 * exits. Not /etc/group's member lists (they miss what a process really
 * holds), nor /proc/PID/status (the pid may be another process by then).
 * *heap is set when they did not fit in buf.
 */
static const gid_t *
peer_groups(int fd, gid_t *buf, size_t cap, size_t *n, gid_t **heap)
{
	static bool warned;
	socklen_t len = (socklen_t)(cap * sizeof(gid_t));

	*heap = NULL;
	*n = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) == 0) {
		*n = len / sizeof(gid_t);
		return buf;
	}
	if (errno == ERANGE && (*heap = malloc(len)) != NULL &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, *heap, &len) == 0) {
		*n = len / sizeof(gid_t);
		return *heap;
	}
	/* only the primary group counts then: less access, never more; said once */
	if (!warned) {
		log_warn("control: getsockopt SO_PEERGROUPS, only primary groups count");
		warned = true;
	}
	free(*heap);
	*heap = NULL;
	return buf;
}

void
access_peer_of(int fd, const struct config *conf, struct access_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t buf[PEER_GROUPS_FIRST], *heap;
	const gid_t *groups;
	size_t n;

	memset(p, 0, sizeof(*p));
	p->uid = (uid_t)-1;
	p->gid = (gid_t)-1;
	p->level = PROTO_ACCESS_NONE;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: client fd %d: getsockopt SO_PEERCRED, it may do nothing", fd);
		return;
	}
	p->uid = cred.uid;
	p->gid = cred.gid;
	p->pid = cred.pid;
	/* root and vigild's own user need no groups: spare them the system call */
	if (cred.uid == 0 || cred.uid == geteuid()) {
		p->level = PROTO_ACCESS_ADMIN;
		return;
	}
	groups = peer_groups(fd, buf, PEER_GROUPS_FIRST, &n, &heap);
	p->level = access_level(conf, cred.uid, cred.gid, groups, n);
	free(heap);
	log_debug("control: client fd %d is uid %u pid %d, access %s", fd,
	    (unsigned)p->uid, (int)p->pid, proto_access_name(p->level));
}

/*
 * chmod that never follows a link put in the socket's place. glibc does
 * AT_SYMLINK_NOFOLLOW through /proc; without /proc, lstat says whether it
 * is still a socket, and a plain chmod does the rest.
 */
static int
chmod_socket(const char *path, mode_t mode)
{
	struct stat st;

	if (fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -1;
	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EOPNOTSUPP;	/* a link or a file: not ours to change */
		return -1;
	}
	return chmod(path, mode);
}

int
access_socket_apply(const char *path, const struct config *conf)
{
	bool shared = conf->socket_group != NULL;
	gid_t gid = shared ? conf->socket_gid : getegid();

	/*
	 * Closed first, then the group, then opened to it: no moment where
	 * the members of the old or the new group have more than they should.
	 * lchown and AT_SYMLINK_NOFOLLOW: never through a link put in its place.
	 */
	if (chmod_socket(path, 0600) == -1) {
		log_warn("control: chmod 0600 %s", path);
		return -1;
	}
	if (lchown(path, (uid_t)-1, gid) == -1) {
		log_warn("control: giving %s to group %s (gid %u)", path,
		    shared ? conf->socket_group : "of vigild", (unsigned)gid);
		return -1;
	}
	if (shared && chmod_socket(path, 0660) == -1) {
		log_warn("control: chmod 0660 %s", path);
		return -1;
	}
	if (shared)
		log_info("control: %s is 0660, group %s", path, conf->socket_group);
	return 0;
}

static bool
same_text(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_ids(const void *a, size_t na, const void *b, size_t nb, size_t size)
{
	return na == nb && (na == 0 || memcmp(a, b, na * size) == 0);
}

/* Ids, not only text: a user or group may have been renumbered since. */
static bool
same_list(const struct access_list *a, const struct access_list *b)
{
	return same_text(a->text, b->text) &&
	    same_ids(a->uids, a->nuids, b->uids, b->nuids, sizeof(uid_t)) &&
	    same_ids(a->gids, a->ngids, b->gids, b->ngids, sizeof(gid_t));
}

bool
access_changed(const struct config *old, const struct config *conf)
{
	return !same_text(old->socket_group, conf->socket_group) ||
	    (conf->socket_group != NULL && old->socket_gid != conf->socket_gid) ||
	    !same_list(&old->read_access, &conf->read_access) ||
	    !same_list(&old->operate_access, &conf->operate_access);
}
