/*
 * journal.c: streams into the systemd journal, opened by vigild for one
 * spawn and handed to the child as its fd 1 or 2; journald reads the lines
 * itself, so vigild captures none of them. The identifier is the service's
 * name, so `journalctl -t NAME` finds them.
 */
#include "config.h"
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-journal.h>
#endif

int
journal_stream_open(const char *name, int priority, char *err, size_t errlen)
{
#ifdef HAVE_LIBSYSTEMD
	/* level_prefix 1: a line that begins "<3>" is logged at that level */
	int fd = sd_journal_stream_fd(name, priority, 1);

	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(-fd));
		return -1;
	}
	/* libsystemd makes it close-on-exec; every fd vigild holds must be */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
#else
	(void)name, (void)priority;
	/* the config refuses journal in such a build: this is never reached */
	snprintf(err, errlen, "this vigild was built without journal support (libsystemd)");
	return -1;
#endif
}
