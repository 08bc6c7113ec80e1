/*
 * metrics.h: the services and vigild as metrics text (metrics.c), for the
 * `metrics` verb and for GET /metrics (http.c).
 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stddef.h>

enum metrics_format {
	METRICS_OPENMETRICS,	/* OpenMetrics 1.0.0: # UNIT, counters' families without _total, # EOF */
	METRICS_PROMETHEUS	/* Prometheus text format 0.0.4 */
};

/* "openmetrics" / "prometheus" to the format; -1 for anything else. */
int		 metrics_format_parse(const char *name, enum metrics_format *f);
const char	*metrics_format_name(enum metrics_format f);
/* The Content-Type HTTP sends the format with. */
const char	*metrics_content_type(enum metrics_format f);
/* The whole text, NUL-terminated, *len bytes; the caller frees it. NULL: out of memory. */
char		*metrics_text(enum metrics_format f, size_t *len);

#endif
