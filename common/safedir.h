/*
 * safedir.h: the folders and files vigild trusts. A folder it keeps its
 * sockets or logs in is a real folder (no symbolic link), its own user's,
 * and writable by no one else; a log file is a regular file of its user.
 * Errors come back as one sentence for people: path, what is wrong, a fix.
 */
#ifndef VIGIL_SAFEDIR_H
#define VIGIL_SAFEDIR_H

#include <stddef.h>
#include <sys/types.h>

#define SAFEDIR_PARENTS	0x1	/* make missing parents (0755), like mkdir -p */
#define SAFEDIR_PRIVATE	0x2	/* the folder must also be closed to group and others (0700) */
#define SAFEDIR_CHECK_ONLY 0x4	/* make nothing: what exists is checked, what is missing must be makeable */

/*
 * Make the folder path (mode, set with fchmod only when we made it) or take
 * the one there, then check it and the parents on the way: 0, or -1 with
 * err saying why. what names the folder ("socket folder"), fix is the way
 * out offered besides removing it ("set [vigil] socket = ...").
 */
int	safedir_make(const char *path, mode_t mode, int flags, const char *what,
	    const char *fix, char *err, size_t errlen);
/* An open log file: a regular file owned by our euid? 0, or -1 with err. */
int	safefile_check_fd(int fd, const char *path, char *err, size_t errlen);
/* The same by path, without following a link; a path that does not exist passes. */
int	safefile_check_path(const char *path, char *err, size_t errlen);

#endif
