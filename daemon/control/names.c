/*
 * names.c: the service names a request gives, turned into services. All
 * or nothing, so a request with one wrong name changes nothing; the error
 * names every unknown one.
 */
#include "config.h"
#include "names.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* A name given twice is followed, watched and shown once. */
size_t
names_dedupe(struct service **svcs, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < out && svcs[j] != svcs[i]; j++)
			;
		if (j == out)
			svcs[out++] = svcs[i];
	}
	return out;
}

/*
 * Resolve names into services. All or nothing: one unknown name fails the
 * whole request before anything is done. 0 and *out (malloc'd), or -1 and
 * the error reply in *err (NULL when even that could not be built).
 */
int
names_resolve(char **names, size_t n, struct service ***out, json_t **err)
{
	struct service **svcs = calloc(n ? n : 1, sizeof(*svcs));
	char unknown[PROTO_MESSAGE_MAX + 1] = "";
	size_t nunknown = 0;

	*out = NULL;
	if (svcs == NULL) {
		*err = proto_reply_error(PROTO_ERR_INTERNAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((svcs[i] = supervisor_find(names[i])) != NULL)
			continue;
		/* a name is any bytes: proto_reply_error makes the list safe and cuts it */
		if (nunknown++ > 0)
			strncat(unknown, ", ", sizeof(unknown) - strlen(unknown) - 1);
		strncat(unknown, names[i], sizeof(unknown) - strlen(unknown) - 1);
	}
	if (nunknown > 0) {
		free(svcs);
		*err = proto_reply_error(PROTO_ERR_NO_SUCH_SERVICE, "no such service: %s",
		    unknown);
		return -1;
	}
	*out = svcs;
	return 0;
}
