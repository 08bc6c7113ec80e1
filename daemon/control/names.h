/*
 * names.h: service names in requests (names.c), resolved all or nothing.
 */
#ifndef VIGIL_NAMES_H
#define VIGIL_NAMES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"

/*
 * Names to services, all or nothing: 0 and *out (malloc'd, *nout of them:
 * a template's name, "worker@", stands for each of its instances), or -1
 * and a no-such-service reply in *err (NULL if it could not be built).
 */
int		 names_resolve(char **names, size_t n, struct service ***out, size_t *nout,
		    json_t **err);
/* The same; make: an instance of a template not made yet is made (start). */
int		 names_resolve_make(char **names, size_t n, bool make, struct service ***out,
		    size_t *nout, json_t **err);
/* Drop repeats in place, keeping the first of each; the new count. */
size_t		 names_dedupe(struct service **svcs, size_t n);

#endif
