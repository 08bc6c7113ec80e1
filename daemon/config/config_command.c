/*
 * config_command.c: the config of `vigild -- COMMAND [ARG...]`, read from
 * no file: one service that is the command, essential (its end for good
 * ends vigild with its exit code), its output on vigild's own stdout and
 * stderr. What tini and dumb-init do as a container's PID 1, with vigil's
 * reaping, restarts and bounded shutdown. Made as raw sections and built by
 * the same code as a file's, so it gets every check a file's service does.
 */
#include "config.h"
#include "config_load.h"
#include "config_values.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMAND_ORIGIN	"(command line)"	/* the "file" of its messages */

/* A word of argv in single quotes, which words_split reads back as it was. */
static size_t
quote_word(char *out, const char *w)
{
	size_t n = 0;

	out[n++] = '\'';
	for (; *w != '\0'; w++) {
		if (*w == '\'') {
			memcpy(out + n, "'\\''", 4);	/* close, a quoted ', reopen */
			n += 4;
		} else {
			out[n++] = *w;
		}
	}
	out[n++] = '\'';
	return n;
}

static char *
quote_argv(char *const *argv)
{
	size_t len = 1, n = 0;
	char *s;

	for (char *const *a = argv; *a != NULL; a++)
		len += 4 * strlen(*a) + 3;
	if ((s = malloc(len)) == NULL)
		return NULL;
	for (char *const *a = argv; *a != NULL; a++) {
		if (a != argv)
			s[n++] = ' ';
		n += quote_word(s + n, *a);
	}
	s[n] = '\0';
	return s;
}

/* The command's base name when it is a valid service name ("nginx"), else "main". */
static const char *
service_name_of(const char *argv0, char *buf, size_t len)
{
	struct value_error e = { "", false, false };
	const char *base = strrchr(argv0, '/');

	base = base != NULL ? base + 1 : argv0;
	if (strlen(base) + 1 > len || values_service_name(base, &e) == -1)
		return "main";
	memcpy(buf, base, strlen(base) + 1);
	return buf;
}

static void
key_add(struct load *ld, struct raw_section *sec, const char *name, const char *value)
{
	struct raw_key *k = &sec->keys[sec->nkeys];

	k->name = load_strndup(ld, name, strlen(name));
	k->value = value != NULL ? load_strndup(ld, value, strlen(value)) : NULL;
	if (value == NULL)
		ld->oom = true;
	k->line = (int)sec->nkeys + 1;
	sec->nkeys++;
}

static struct raw_section *
section_add(struct load *ld, const char *name, enum section_kind kind)
{
	struct raw_section *sec = calloc(1, sizeof(*sec));

	if (sec == NULL || (sec->keys = calloc(5, sizeof(*sec->keys))) == NULL) {
		free(sec);
		ld->oom = true;
		return NULL;
	}
	ld->secs[ld->nsecs++] = sec;
	sec->name = load_strndup(ld, name, strlen(name));
	sec->kind = kind;
	return sec;
}

/*
 * The socket is the one given, else the default one; no log file is
 * written (the output is vigild's), so the log folder is the socket's own,
 * which vigild makes anyway: nothing appears elsewhere on the disk.
 */
static void
vigil_section(struct load *ld, const char *socket)
{
	struct raw_section *sec = section_add(ld, "vigil", SECTION_VIGIL);
	char dir[PATH_MAX];
	const char *slash;

	if (socket == NULL)
		socket = config_default_socket();
	if (sec == NULL || (slash = strrchr(socket, '/')) == NULL)
		return;	/* not absolute: the socket key says so */
	snprintf(dir, sizeof(dir), "%.*s", slash == socket ? 1 : (int)(slash - socket), socket);
	key_add(ld, sec, "socket", socket);
	key_add(ld, sec, "log_dir", dir);
	/* the command's output is what its user reads: vigild speaks up only when something is wrong */
	key_add(ld, sec, "log_level", "warn");
}

struct config *
config_from_command(char *const *argv, const char *restart, const char *socket,
    struct config_errors *errs)
{
	struct load ld = { .conf = calloc(1, sizeof(struct config)) };
	struct raw_section *sec;
	char name[64], section[sizeof(SERVICE_PREFIX) + sizeof(name)], *command;

	ld.secs = calloc(2, sizeof(*ld.secs));
	ld.files = calloc(1, sizeof(*ld.files));
	if (ld.conf == NULL || ld.secs == NULL || ld.files == NULL || argv[0] == NULL) {
		free(ld.conf);
		free(ld.secs);
		free(ld.files);
		return NULL;
	}
	ld.files[ld.nfiles++] = load_strndup(&ld, COMMAND_ORIGIN, strlen(COMMAND_ORIGIN));
	ld.conf->file = load_strndup(&ld, COMMAND_ORIGIN, strlen(COMMAND_ORIGIN));
	ld.conf->from_command = true;
	vigil_section(&ld, socket);
	snprintf(section, sizeof(section), SERVICE_PREFIX "%s",
	    service_name_of(argv[0], name, sizeof(name)));
	if ((sec = section_add(&ld, section, SECTION_SERVICE)) != NULL) {
		command = quote_argv(argv);
		key_add(&ld, sec, "command", command);
		free(command);
		key_add(&ld, sec, "essential", "yes");
		key_add(&ld, sec, "restart", restart != NULL ? restart : "never");
		/* the container's stdout and stderr, as under tini: no log file */
		key_add(&ld, sec, "stdout", "inherit");
		key_add(&ld, sec, "stderr", "inherit");
	}
	if (!ld.oom)
		load_build(&ld);
	return load_finish(&ld, errs);
}
