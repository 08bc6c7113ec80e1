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
#include "proto.h"

/* The fields of a status object: enum proto_status_field (common/proto.h), as bits */
#define STATUS_BIT(f)	(1u << (f))
#define STATUS_ALL	((1u << PROTO_NFIELDS) - 1)
json_t		*status_service_json(const struct service *s, int64_t now_ms, unsigned fields);
/* NULL when any object could not be built */
json_t		*status_services_json(struct service **svcs, size_t n);
/* "name,state,pid" -> mask; -1 with *bad, *badlen the unknown name in list (empty: none) */
int		 status_fields_parse(const char *list, unsigned *mask, const char **bad,
		    size_t *badlen);


/* The time status objects are measured against (monotonic ms) */
int64_t		 status_now_ms(void);

#endif
