/*
 * names.c: the service names a request gives, turned into services. All
 * or nothing, so a request with one wrong name changes nothing; the error
 * names every unknown one. A template's name ("worker@") stands for every
 * instance it has; `start` may name an instance not made yet, and makes it.
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

static bool
is_template(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && name[n - 1] == '@' && config_template_of(vigild.conf, name, NULL) != NULL;
}

/* The instances of template name, appended to svcs[*n...]; how many. */
static size_t
instances_of(const char *name, struct service **svcs, size_t *n)
{
	size_t found = 0;

	for (size_t i = 0; i < vigild.nservices; i++) {
		const struct service_conf *c = vigild.services[i]->conf;

		if (c->template_name != NULL && strcmp(c->template_name, name) == 0) {
			svcs[(*n)++] = vigild.services[i];
			found++;
		}
	}
	return found;
}

/* What can be made: an instance of a template the set lacks (config_template_of). */
static bool
makeable(const char *name)
{
	const char *inst;

	return config_template_of(vigild.conf, name, &inst) != NULL && *inst != '\0';
}

/* The reply for an instance that could not be made. */
static json_t *
make_failed(const char *name, int rc, struct config_errors *errs)
{
	json_t *list, *r;

	if (rc == -3 || (rc == -1 && errs->n == 0))
		return proto_reply_error(PROTO_ERR_INTERNAL, "%s: making the instance: out "
		    "of memory", name);
	if (errs->n == 1 && strncmp(errs->msgs[0], name, strlen(name)) == 0)
		return proto_reply_error(PROTO_ERR_BAD_REQUEST, "%s", errs->msgs[0]);
	for (size_t i = 0; i < errs->n; i++)
		log_warnx("%s: %s", name, errs->msgs[i]);
	r = proto_reply_error(PROTO_ERR_INVALID_CONFIG, "%s: its template gives it %zu "
	    "error%s, not made", name, errs->n, errs->n == 1 ? "" : "s");
	if (r != NULL && (list = json_array()) != NULL) {
		for (size_t i = 0; i < errs->n; i++)
			json_array_append_new(list, proto_string(errs->msgs[i]));
		json_object_set_new(r, PROTO_K_ERRORS, list);
	}
	return r;
}

/*
 * Resolve names into services. All or nothing: one unknown name fails the
 * whole request before anything is done. 0 and *out (malloc'd, *nout of
 * them), or -1 and the error reply in *err (NULL when even that could not
 * be built). make: an instance of a template that is not there yet is
 * made (start); when that fails, those made before it stay, stopped.
 */
int
names_resolve_make(char **names, size_t n, bool make, struct service ***out, size_t *nout,
    json_t **err)
{
	struct service **svcs = calloc(n + vigild.nservices + 1, sizeof(*svcs));
	char unknown[PROTO_MESSAGE_MAX + 1] = "";
	struct config_errors errs = { NULL, 0 };
	size_t nunknown = 0, k = 0;
	int rc;

	*out = NULL;
	*nout = 0;
	if (svcs == NULL) {
		*err = proto_reply_error(PROTO_ERR_INTERNAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (supervisor_find(names[i]) != NULL || (make && makeable(names[i])))
			continue;
		/* a template stands for its instances; with none, for nothing to act on */
		if (is_template(names[i]) && instances_of(names[i], svcs, &k) > 0) {
			k = 0;
			continue;
		}
		/* a name is any bytes: proto_reply_error makes the list safe and cuts it */
		if (nunknown++ > 0)
			strncat(unknown, ", ", sizeof(unknown) - strlen(unknown) - 1);
		strncat(unknown, names[i], sizeof(unknown) - strlen(unknown) - 1);
		if (is_template(names[i]))
			strncat(unknown, " (a template with no instances)",
			    sizeof(unknown) - strlen(unknown) - 1);
	}
	if (nunknown > 0) {
		free(svcs);
		*err = proto_reply_error(PROTO_ERR_NO_SUCH_SERVICE, "no such service: %s",
		    unknown);
		return -1;
	}
	k = 0;
	for (size_t i = 0; i < n; i++) {
		struct service **more, *s = supervisor_find(names[i]);

		if (s == NULL && !is_template(names[i])) {
			if ((rc = supervisor_instantiate(names[i], true, &errs, &s)) != 0) {
				*err = make_failed(names[i], rc, &errs);
				config_errors_free(&errs);
				free(svcs);
				return -1;
			}
			/* the set grew: so may the instances a later template name stands for */
			if ((more = reallocarray(svcs, n + vigild.nservices + 1,
			    sizeof(*svcs))) == NULL) {
				free(svcs);
				*err = proto_reply_error(PROTO_ERR_INTERNAL, "out of memory");
				return -1;
			}
			svcs = more;
		}
		if (s != NULL)
			svcs[k++] = s;
		else
			instances_of(names[i], svcs, &k);
	}
	*out = svcs;
	*nout = k;
	return 0;
}

int
names_resolve(char **names, size_t n, struct service ***out, size_t *nout, json_t **err)
{
	return names_resolve_make(names, n, false, out, nout, err);
}
