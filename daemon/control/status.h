/*
 * status.h: a service as the protocol shows it, one JSON object
 * (status.c), and the field lists of `status --fields=`.
 */
#ifndef VIGIL_STATUS_H
#define VIGIL_STATUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* The fields of a status object, in the order they are sent */
enum status_field {
	STATUS_NAME, STATUS_STATE, STATUS_REASON, STATUS_SINCE, STATUS_RESTARTS,
	STATUS_FAILURES, STATUS_LAST_EXIT, STATUS_AUTOSTART, STATUS_RESTART,
	STATUS_PID, STATUS_UPTIME, STATUS_NEXT_START_IN, STATUS_LOG_FILE,
	STATUS_LOG_DROPPED_BYTES, STATUS_READY, STATUS_READY_KIND, STATUS_STATUS_TEXT,
	STATUS_ERRNO, STATUS_NFIELDS
};
#define STATUS_BIT(f)	(1u << (f))
#define STATUS_ALL	((1u << STATUS_NFIELDS) - 1)
json_t		*status_service_json(const struct service *s, int64_t now_ms, unsigned fields);
/* NULL when any object could not be built */
json_t		*status_services_json(struct service **svcs, size_t n);
/* "name,state,pid" -> mask; -1 with *bad, *badlen the unknown name in list (empty: none) */
int		 status_fields_parse(const char *list, unsigned *mask, const char **bad,
		    size_t *badlen);


/* The time status objects are measured against (monotonic ms) */
int64_t		 status_now_ms(void);

#endif
