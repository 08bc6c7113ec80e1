/*
 * signame.h: signal names as people write them ("TERM", "SIGTERM", "15")
 * and as vigil prints them ("TERM").
 */
#ifndef VIGIL_SIGNAME_H
#define VIGIL_SIGNAME_H

/* Returns the signal number, or -1 if name is not a signal vigil knows. */
int	 signame_parse(const char *name);
/* "TERM" for SIGTERM; "RTMIN+3" for real-time ones; "SIG99" if unknown. */
const char *signame_name(int sig, char *buf, unsigned long len);

#endif
