/*
 * duration.h: durations as people write them ("250ms", "10s", "5m", "1h",
 * "1.5s"; a bare number means seconds) and as vigil prints them.
 */
#ifndef VIGIL_DURATION_H
#define VIGIL_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parse s into milliseconds. Returns 0, or -1 when s is not a duration. */
int	duration_parse(const char *s, int64_t *ms);
/* Short form for tables: "850ms", "42s", "3m12s", "5h02m", "3d04h". */
void	duration_format(int64_t ms, char *buf, size_t len);

#endif
