/*
 * logfile.h: one service's NAME.log: appends of whole lines, rotation by
 * size (NAME.log -> NAME.log.1 ... NAME.log.N), reopening for logrotate,
 * and a failing disk reported once, counted, and retried by itself.
 */
#ifndef VIGIL_LOGFILE_H
#define VIGIL_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct logfile {
	const char *who;	/* service name, for messages */
	char	*path;
	int	 fd;		/* -1 while it cannot be opened */
	int64_t	 size;
	int64_t	 max_size;	/* 0: never rotate */
	unsigned keep;
	bool	 failing;	/* an error was reported and not yet cleared */
	int64_t	 retry_after_us;	/* do not retry opening before this */
	uint64_t dropped;	/* bytes that never reached the file */
	int64_t	 last_report_us;	/* monotonic time of the last failure report */
};

int	logfile_open(struct logfile *lf, const char *who, const char *path,
	    int64_t max_size, unsigned keep);
void	logfile_set_limits(struct logfile *lf, const char *who, int64_t max_size,
	    unsigned keep);
void	logfile_close(struct logfile *lf);
/*
 * Append len bytes of whole lines; rotates first when they would pass
 * max_size. Never blocks the caller on a broken file: bytes that cannot be
 * written are counted in dropped.
 */
void	logfile_write(struct logfile *lf, const char *buf, size_t len, int64_t now_us);
void	logfile_reopen(struct logfile *lf);

#endif
