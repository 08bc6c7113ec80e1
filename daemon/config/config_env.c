/*
 * config_env.c: what a service's process is given to run with, worked out
 * from several keys at once: its environment (composed at each spawn) and
 * the paths execve tries for a command, as execvp would search them.
 */
#include "config.h"
#include "config_values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

#define DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

static bool
env_same_key(const char *a, const char *b)
{
	size_t la = strcspn(a, "="), lb = strcspn(b, "=");

	return la == lb && memcmp(a, b, la) == 0;
}

/* True when a word from words[from] on sets the same variable as entry. */
static bool
env_set_later(char *const *words, size_t from, const char *entry)
{
	for (size_t i = from; words != NULL && words[i] != NULL; i++)
		if (env_same_key(words[i], entry))
			return true;
	return false;
}

/*
 * vigild's environment (unless cleared), then the variables of the
 * service's environment files, then the user's words, then extra (what
 * vigild itself sets: NOTIFY_SOCKET and the like, which win over all); of
 * a variable set twice the last one wins, so envp never holds two values
 * that getenv and a shell would disagree on. Composed at each spawn into
 * the caller's scratch array, with strings borrowed from environ (vigild
 * never changes its own), files, sc->environment and extra: kept per
 * service, a thousand copies of it were most of vigild's memory.
 */
char **
config_service_envp_files(const struct service_conf *sc, char *const *files,
    char *const *extra, char ***scratch, size_t *cap)
{
	char *const *layers[4] = { sc->clear_environment ? NULL : environ, files,
	    sc->environment, extra };
	size_t total = 1, n = 0;
	char **envp;

	if (words_count(files) == 0 && words_count(sc->environment) == 0 &&
	    words_count(extra) == 0 && !sc->clear_environment)
		return environ;
	for (int l = 0; l < 4; l++)
		total += words_count(layers[l]);
	if (total > *cap) {
		if ((envp = reallocarray(*scratch, total, sizeof(char *))) == NULL)
			return NULL;
		*scratch = envp;
		*cap = total;
	}
	envp = *scratch;
	for (int l = 0; l < 4; l++) {
		for (size_t i = 0; layers[l] != NULL && layers[l][i] != NULL; i++) {
			/* environ holds each name once: no need to look further in it */
			bool later = l > 0 && env_set_later(layers[l], i + 1, layers[l][i]);

			for (int m = l + 1; m < 4 && !later; m++)
				later = env_set_later(layers[m], 0, layers[l][i]);
			if (!later)
				envp[n++] = layers[l][i];
		}
	}
	envp[n] = NULL;
	return envp;
}

char **
config_service_envp(const struct service_conf *sc, char *const *extra,
    char ***scratch, size_t *cap)
{
	return config_service_envp_files(sc, NULL, extra, scratch, cap);
}

static const char *
env_get(char *const *envp, const char *key)
{
	size_t len = strlen(key);

	for (size_t i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], key, len) == 0 && envp[i][len] == '=')
			return envp[i] + len + 1;
	return NULL;
}

/*
 * What execvp would try for argv0, worked out now so the child only calls
 * execve: argv0 itself if it has a '/', else each entry of the service's
 * PATH (its own if it sets one, else the one it inherits) joined with it.
 */
char **
values_exec_paths(const struct service_conf *sc, const char *argv0)
{
	const char *path = NULL, *p;
	size_t n = 1, i = 0;
	char **paths;

	if (strchr(argv0, '/') != NULL) {
		if ((paths = calloc(2, sizeof(char *))) == NULL)
			return NULL;
		if ((paths[0] = strdup(argv0)) == NULL) {
			free(paths);
			return NULL;
		}
		return paths;
	}
	for (size_t k = words_count(sc->environment); k-- > 0 && path == NULL; )
		if (strncmp(sc->environment[k], "PATH=", 5) == 0)
			path = sc->environment[k] + 5;
	if (path == NULL && !sc->clear_environment)
		path = env_get(environ, "PATH");
	if (path == NULL)
		path = DEFAULT_PATH;
	for (p = path; *p != '\0'; p++)
		n += *p == ':';
	if ((paths = calloc(n + 1, sizeof(char *))) == NULL)
		return NULL;
	for (p = path; i < n; i++) {
		size_t len = strcspn(p, ":");

		/* an empty entry means the current directory, as for execvp */
		if (asprintf(&paths[i], "%.*s/%s", len ? (int)len : 1,
		    len ? p : ".", argv0) == -1) {
			paths[i] = NULL;
			words_free(paths);
			return NULL;
		}
		p += len + (p[len] == ':');
	}
	return paths;
}
