/*
 * config_sandbox.c: the keys that give a service a filesystem and network
 * of its own: chroot, private_tmp, private_network, read_only_paths and
 * inaccessible_paths. What they need of vigild's privileges is
 * config_privilege.c's; turning them into mounts is core/spawnreq.c's.
 */
#include "config.h"
#include "config_values.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "words.h"

static int
sandbox_expected(struct value_error *e, const char *v, const char *what, int err)
{
	char shown[VALUE_SHOWN_MAX + 8];
	size_t len;

	values_quote(shown, sizeof(shown), v);
	snprintf(e->msg, sizeof(e->msg), "expected %s, found %s", what, shown);
	if (err != 0) {
		len = strlen(e->msg);
		snprintf(e->msg + len, sizeof(e->msg) - len, " (%s)", strerror(err));
	}
	return -1;
}

const char *
values_sandbox_path(const struct service_conf *sc, const char *p)
{
	static char buf[PATH_MAX];

	if (sc->chroot == NULL)
		return p;
	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", sc->chroot, p) >= sizeof(buf))
		return p;
	return buf;
}

/* chroot = DIR: absolute, an existing folder that is not / itself. */
int
values_chroot(void *obj, size_t off, const char *v, struct value_error *e)
{
	struct service_conf *sc = obj;
	struct stat st;
	size_t len = strlen(v);

	(void)off;
	if (v[0] != '/')
		return sandbox_expected(e, v, "an absolute path", 0);
	if (len >= PATH_MAX / 2)
		return sandbox_expected(e, v, "a shorter path", 0);
	if (stat(v, &st) == -1)
		return sandbox_expected(e, v, "an existing directory", errno);
	if (!S_ISDIR(st.st_mode))
		return sandbox_expected(e, v, "an existing directory", ENOTDIR);
	/* without its trailing slashes, so chroot + "/tmp" is one path */
	while (len > 1 && v[len - 1] == '/')
		len--;
	free(sc->chroot);
	if ((sc->chroot = strndup(v, len)) == NULL) {
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		return -1;
	}
	return 0;
}

/*
 * read_only_paths, inaccessible_paths: absolute paths, quoted as in
 * command; one that does not exist is an error unless it starts with "-".
 * Inside the chroot when there is one (chroot is parsed first).
 */
int
values_paths(void *obj, size_t off, const char *v, struct value_error *e)
{
	const struct service_conf *sc = obj;
	char **w, ***field = (char ***)(void *)((char *)obj + off);
	const char *err = NULL;
	struct stat st;

	if ((w = words_split(v, NULL, &err)) == NULL) {
		if (err != NULL && strcmp(err, "out of memory") == 0) {
			snprintf(e->msg, sizeof(e->msg), "out of memory");
			return -1;
		}
		return sandbox_expected(e, v, "absolute paths, quoted as in command", 0);
	}
	for (size_t i = 0; w[i] != NULL; i++) {
		const char *p = w[i][0] == '-' ? w[i] + 1 : w[i];

		if (p[0] != '/' || strlen(p) >= PATH_MAX / 2) {
			sandbox_expected(e, w[i], "an absolute path, or -PATH when it may be "
			    "missing", 0);
			goto fail;
		}
		if (w[i][0] != '-' && lstat(values_sandbox_path(sc, p), &st) == -1) {
			sandbox_expected(e, w[i], sc->chroot != NULL ? "an existing path in the "
			    "chroot (or -PATH)" : "an existing path (or -PATH)", errno);
			goto fail;
		}
	}
	words_free(*field);
	*field = w;
	return 0;
fail:
	words_free(w);
	return -1;
}

int
values_sandbox_check(const struct service_conf *sc, const char **key, struct value_error *e)
{
	/* the probe connects from vigild's network, which cannot see the service's */
	if (sc->private_network && sc->ready == READY_TCP) {
		*key = "ready";
		snprintf(e->msg, sizeof(e->msg), "tcp: cannot reach a service with "
		    "private_network = yes (vigild is outside its network); use "
		    "exec:, which runs in the service's namespaces, or notify");
		return -1;
	}
	/* NOTIFY_SOCKET is a path in vigild's root, which the chroot hides */
	if (sc->chroot != NULL && (sc->ready == READY_NOTIFY || sc->watchdog_ms > 0)) {
		*key = sc->ready == READY_NOTIFY ? "ready" : "watchdog";
		snprintf(e->msg, sizeof(e->msg), "needs vigild's notify socket, which a "
		    "service with chroot cannot reach; use ready = fd:N or exec:");
		return -1;
	}
	return 0;
}

void
values_sandbox_free(struct service_conf *sc)
{
	free(sc->chroot);
	words_free(sc->read_only_paths);
	words_free(sc->inaccessible_paths);
}
