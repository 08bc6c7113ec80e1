/*
 * pidns.c: whether the pids vigild reports are of another pid namespace
 * than vigilctl's (vigild in a container, vigilctl on the host), told
 * from what the kernel says of the socket's peer and the pid vigild gives
 * for itself in hello. No protocol of its own; the note is commands.c's.
 */
#include "config.h"
#include "vigilctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The pid of /proc/PID/status's NSpid line that is innermost (the pid
 * the process sees for itself), and how many namespaces the line lists:
 * 1 when the process is in /proc's own. 0 when it cannot be read.
 */
static int
nspid_innermost(pid_t pid, long long *inner)
{
	char path[64], line[256];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *end;

		if (strncmp(line, "NSpid:", 6) != 0)
			continue;
		for (p = line + 6;; p = end) {
			long long v = strtoll(p, &end, 10);
			if (end == p)
				break;
			*inner = v;
			n++;
		}
		break;
	}
	fclose(f);
	return n;
}

bool
pidns_may_differ(pid_t peer)
{
	long long inner;

	if (peer < 0)
		return false;	/* the kernel would not say: nothing to go by */
	/* one level in NSpid: the peer is of our namespace, and vigild with it */
	return peer == 0 || nspid_innermost(peer, &inner) != 1;
}

bool
pidns_note(pid_t peer, long long own, char *buf, size_t len)
{
	long long inner = 0;
	int levels;

	if (peer < 0 || own <= 0 || peer == own)
		return false;
	if (peer == 0) {
		/* the kernel shows 0 for a pid that has no number in our namespace */
		snprintf(buf, len, "vigild runs in another pid namespace (pid %lld there, not "
		    "visible here): PIDs below are that namespace's", own);
		return true;
	}
	/*
	 * The listening socket may have come from another process (systemd's
	 * socket activation): that peer lives in our namespace, one level in
	 * NSpid, and says nothing of vigild's. Where /proc cannot tell, the
	 * two numbers differing is all there is to go by.
	 */
	levels = nspid_innermost(peer, &inner);
	if (levels == 1 || (levels > 1 && inner != own))
		return false;
	snprintf(buf, len, "vigild runs in another pid namespace (pid %lld there, %d here): "
	    "PIDs below are that namespace's", own, (int)peer);
	return true;
}
