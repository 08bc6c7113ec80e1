/*
 * show.h: the show verb (show.c): the running definition of services,
 * key by key, with where each value came from.
 */
#ifndef VIGIL_SHOW_H
#define VIGIL_SHOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"

/*
 * The reply to show for svcs: {"ok":true,"services":[{"name","keys"}]};
 * environment values only when secrets. NULL: out of memory.
 */
json_t	*show_reply(struct service **svcs, size_t n, bool secrets);

#endif
