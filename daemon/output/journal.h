/*
 * journal.h: a service's stdout or stderr as a stream into the systemd
 * journal (stdout = journal, stderr = journal).
 */
#ifndef VIGIL_JOURNAL_H
#define VIGIL_JOURNAL_H

#include <stddef.h>

/*
 * A new stream to journald for name, its lines at priority (a syslog
 * level) unless they begin "<N>": the fd (close-on-exec), or -1 with err
 * saying why.
 */
int	 journal_stream_open(const char *name, int priority, char *err, size_t errlen);

#endif
