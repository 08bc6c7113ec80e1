/*
 * safedir.c: making and checking the folders vigild keeps sockets and logs
 * in, one component at a time through directory fds, so what is checked
 * is what is used. It never changes a folder it did not make. Who calls it
 * decides what a failure means (refuse to start, fail a reload, drop a log).
 */
#include "config.h"
#include "safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct walk {
	const char	*path;		/* the folder asked for, for messages */
	const char	*what;
	const char	*fix;
	char		*err;
	size_t		 errlen;
};

static bool
trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* A parent on the way: root's or ours, and nobody else may rename what is in it. */
static int
check_parent(struct walk *w, int dfd, const char *name, const char *sofar, int fd)
{
	struct stat ln, st;

	if (fstatat(dfd, name, &ln, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(ln.st_mode) &&
	    !trusted_owner(ln.st_uid)) {
		snprintf(w->err, w->errlen, "%s %s: its parent %s is a symbolic link owned "
		    "by uid %u, who can point it elsewhere; use a path without it, or %s",
		    w->what, w->path, sofar, (unsigned)ln.st_uid, w->fix);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(w->err, w->errlen, "%s %s: fstat %s: %s", w->what, w->path, sofar,
		    strerror(errno));
		return -1;
	}
	if (!trusted_owner(st.st_uid)) {
		snprintf(w->err, w->errlen, "%s %s: its parent %s is owned by uid %u, who "
		    "could replace what is in it; use a folder of root or uid %u, or %s",
		    w->what, w->path, sofar, (unsigned)st.st_uid, (unsigned)geteuid(), w->fix);
		return -1;
	}
	/* /tmp is fine as a parent: its sticky bit keeps others' hands off our entry */
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		snprintf(w->err, w->errlen, "%s %s: its parent %s is writable by everyone "
		    "and not sticky (mode %04o), so anyone could replace it; run chmod o-w %s, "
		    "or %s", w->what, w->path, sofar, (unsigned)(st.st_mode & 07777), sofar,
		    w->fix);
		return -1;
	}
	return 0;
}

/* The folder itself: ours, and only we may change what is in it. */
static int
check_final(struct walk *w, int fd, int flags)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(w->err, w->errlen, "%s %s: fstat: %s", w->what, w->path,
		    strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(w->err, w->errlen, "%s %s is owned by uid %u, not %u: another user "
		    "made it; remove it or %s", w->what, w->path, (unsigned)st.st_uid,
		    (unsigned)geteuid(), w->fix);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(w->err, w->errlen, "%s %s is writable by %s (mode %04o): others "
		    "could replace what vigild keeps there; run chmod go-w %s, or %s", w->what,
		    w->path, st.st_mode & S_IWOTH ? "everyone" : "its group",
		    (unsigned)(st.st_mode & 07777), w->path, w->fix);
		return -1;
	}
	if ((flags & SAFEDIR_PRIVATE) && (st.st_mode & 077)) {
		snprintf(w->err, w->errlen, "%s %s has mode %04o, not 0700: it must be "
		    "private to uid %u; run chmod 700 %s, or %s", w->what, w->path,
		    (unsigned)(st.st_mode & 07777), (unsigned)geteuid(), w->path, w->fix);
		return -1;
	}
	return 0;
}

/* Why the last component could not be opened as a folder. */
static void
explain_final(struct walk *w, int dfd, const char *name, int open_errno)
{
	struct stat st;
	char to[PATH_MAX];
	ssize_t n;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		if ((n = readlinkat(dfd, name, to, sizeof(to) - 1)) < 0)
			n = 0;
		to[n] = '\0';
		snprintf(w->err, w->errlen, "%s %s is a symbolic link (to %s): vigild does "
		    "not follow links for its folders; remove it, or %s", w->what, w->path,
		    n > 0 ? to : "?", w->fix);
	} else if (open_errno == ENOTDIR) {
		snprintf(w->err, w->errlen, "%s %s is not a folder; remove it or %s",
		    w->what, w->path, w->fix);
	} else {
		snprintf(w->err, w->errlen, "%s %s: open: %s; %s", w->what, w->path,
		    strerror(open_errno), w->fix);
	}
}

#define SAFEDIR_WOULD_MAKE	(-2)

/*
 * Step from dfd into name: made if asked, opened, checked; the new fd, or
 * -1, or with SAFEDIR_CHECK_ONLY SAFEDIR_WOULD_MAKE where it is missing.
 */
static int
step(struct walk *w, int dfd, const char *name, const char *sofar, bool last,
    int flags, bool *made)
{
	int fd, oflags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (last ? O_NOFOLLOW : 0);

	*made = false;
	if ((flags & SAFEDIR_CHECK_ONLY) && (last || (flags & SAFEDIR_PARENTS)) &&
	    faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT) {
		/* it would be made here, and all below it: the walk ends */
		if (faccessat(dfd, ".", W_OK | X_OK, AT_EACCESS) == 0)
			return SAFEDIR_WOULD_MAKE;
		snprintf(w->err, w->errlen, "cannot create %s %s: mkdir %s: %s; make it "
		    "by hand or %s", w->what, w->path, sofar, strerror(errno), w->fix);
		return -1;
	}
	if (!(flags & SAFEDIR_CHECK_ONLY) && (last || (flags & SAFEDIR_PARENTS))) {
		/* born closed: the mode asked for is set on the fd once it is checked */
		if (mkdirat(dfd, name, last ? 0700 : 0755) == 0)
			*made = true;
		else if (errno != EEXIST) {
			snprintf(w->err, w->errlen, "cannot create %s %s: mkdir %s: %s; make it "
			    "by hand or %s", w->what, w->path, sofar, strerror(errno), w->fix);
			return -1;
		}
	}
	if ((fd = openat(dfd, name, oflags)) == -1) {
		if (last)
			explain_final(w, dfd, name, errno);
		else
			snprintf(w->err, w->errlen, "%s %s: open %s: %s; make it by hand or %s",
			    w->what, w->path, sofar, strerror(errno), w->fix);
		return -1;
	}
	if ((last ? check_final(w, fd, flags) : check_parent(w, dfd, name, sofar, fd)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
safedir_make(const char *path, mode_t mode, int flags, const char *what,
    const char *fix, char *err, size_t errlen)
{
	struct walk w = { path, what, fix, err, errlen };
	char buf[PATH_MAX];
	char *p, *next;
	bool made = false, last;
	size_t len;
	int dfd, fd;

	if ((len = strlen(path)) == 0 || len >= sizeof(buf)) {
		snprintf(err, errlen, "%s '%s': %s", what, path,
		    len == 0 ? "empty path" : strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	if ((dfd = open(buf[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s %s: open: %s", what, path, strerror(errno));
		return -1;
	}
	for (p = buf; *p == '/'; p++)
		;
	while (*p != '\0') {
		if ((next = strchr(p, '/')) != NULL)
			*next = '\0';
		last = next == NULL;
		fd = step(&w, dfd, p, buf, last, flags, &made);
		close(dfd);
		if (fd == SAFEDIR_WOULD_MAKE)
			return 0;
		if (fd == -1)
			return -1;
		dfd = fd;
		if (last)
			break;
		*next = '/';
		for (p = next + 1; *p == '/'; p++)
			;
	}
	/* by the fd, never by path: the folder checked is the folder changed */
	if (made && fchmod(dfd, mode) == -1) {
		snprintf(err, errlen, "%s %s: fchmod: %s", what, path, strerror(errno));
		close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

int
safefile_check_fd(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file; vigild writes logs only to "
		    "regular files: remove it", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s is owned by uid %u, not %u: vigild appends only "
		    "to its own log files; remove it or chown it to uid %u", path,
		    (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid());
		return -1;
	}
	return 0;
}

int
safefile_check_path(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	/* O_PATH: no open side effects (a FIFO does not block, a device is not touched) */
	if ((fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s is a symbolic link: vigild does not follow links "
		    "for log files; remove it", path);
		close(fd);
		return -1;
	}
	rc = safefile_check_fd(fd, path, err, errlen);
	close(fd);
	return rc;
}
