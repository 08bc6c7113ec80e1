/*
 * config_load.h: what one config_load() holds while it reads (the raw
 * sections and keys, where each was written, the messages found so far),
 * shared by the line reader (config_read.c) and the builder (config.c).
 * Internal to the config layer.
 */
#ifndef VIGIL_CONFIG_LOAD_H
#define VIGIL_CONFIG_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

#define SERVICE_PREFIX	"service:"

struct raw_key {
	char	*name;
	char	*value;		/* continuation lines joined with one blank */
	int	 line;
	bool	 comment_cut;	/* a " ;" comment was cut off one of its lines */
	bool	 too_long;	/* a line of it was too long: reported, not checked */
};

enum section_kind {
	SECTION_VIGIL,		/* [vigil] in the main file */
	SECTION_SERVICE,	/* [service:NAME] */
	SECTION_IGNORED		/* already reported as wrong: its keys are not checked */
};

struct raw_section {
	char	*name;		/* as written between the brackets */
	size_t	 file;		/* index into load.files */
	int	 line;
	enum section_kind kind;
	struct raw_key *keys;
	size_t	 nkeys;
	const struct raw_section *first;	/* a service section of this name before it */
};

struct load_error {
	size_t	 file;		/* index into load.files */
	int	 line;		/* 0: about the file as a whole */
	char	*msg;
};

/* One config_load: all that was read so far, and the file being read. */
struct load {
	struct config	*conf;
	char		**files;	/* the main file, then includes in glob order */
	size_t		  nfiles;
	struct raw_section **secs;	/* in the order read, across files */
	size_t		  nsecs;
	struct load_error *errs;	/* kept in file, then line order */
	size_t		  nerrs;
	bool		  oom;		/* something was lost for want of memory */
	int		  include_line;
	bool		  too_many;	/* CONFIG_SECTIONS_MAX was passed, and said */

	size_t		  file;		/* the file being read, */
	bool		  in_main;	/* ... whether it is the main one, */
	FILE		 *fp;
	char		 *buf;		/* ... its current line, */
	size_t		  bufsz;
	int		  lineno;	/* ... and that line's number */
	bool		  inih_prev;	/* inih has a key an indented line would continue */
	bool		  cont;		/* the line handed to inih is a continuation */
	bool		  comment_cut;	/* ... or a key line, and a comment was on it */
	bool		  dropping;	/* after a rejected line: drop its indented ones */
	struct raw_section *sec;	/* NULL before the first section */
	struct raw_key	 *last;		/* what a continuation appends to, or NULL */

	bool		  sample;	/* building a template's instance-independent keys only */
};

/*
 * Arrays that a load appends to one at a time (sections, services) grow by
 * doubling: one realloc per element made a 100,000-section file quadratic.
 * LOAD_GROWS_AT(n): with n elements held, whether the next needs a realloc,
 * to load_capacity(n) elements.
 */
#define LOAD_GROWS_AT(n)	((n) == 0 || ((n) >= 8 && ((n) & ((n) - 1)) == 0))
static inline size_t
load_capacity(size_t n)
{
	return n == 0 ? 8 : 2 * n;
}

/* config.c: check and build what was read; then hand over the config or the messages. */
void	 load_build(struct load *ld);
struct config *load_finish(struct load *ld, struct config_errors *errs);

/* config.c, for config_template.c: one service built from sec (NULL: out of memory, noted) */
struct service_conf *load_build_service(struct load *ld, const struct raw_section *sec);
/* append sc to the config (false, sc freed and oom noted, when out of memory) */
bool	 load_add_service(struct load *ld, struct service_conf *sc);
/* the index of path in ld->files, added if it is not there; SIZE_MAX when out of memory */
size_t	 load_file_index(struct load *ld, const char *path);
/* the messages to errs, and ld's own memory freed; the config is left alone */
void	 load_release(struct load *ld, struct config_errors *errs);
/* config_deps_resolve's error callback for a load (its ctx is the load) */
void	 load_deps_error(void *ctx, const struct service_conf *sc, int line, const char *msg);
/* config_template.c: a [service:NAME@] section kept, and its instances = expanded */
void	 load_template(struct load *ld, const struct raw_section *sec);
/* instances that requires and after of services[first...] name and the file lacks */
void	 load_template_pull(struct load *ld, size_t first);
void	 config_templates_free(struct config *conf);

/*
 * Put a message in its place among the others ("FILE:LINE: ..."; line 0:
 * about the whole file); config_read.c.
 */
void	 load_error(struct load *ld, size_t file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* strndup that notes a failure in ld instead of failing the caller. */
char	*load_strndup(struct load *ld, const char *s, size_t len);
/* The key called name in sec, NULL if it has none. */
struct raw_key *section_find_key(const struct raw_section *sec, const char *name);
/* Read one file into raw sections; -1 if it could not even be opened. */
int	 read_file(struct load *ld, const char *path, bool main);

/*
 * config_source.c: note that k of sec filled sc (a later note of the same
 * key replaces it), and which of [vigil]'s keys sc takes as its defaults.
 */
void	 config_source_note(struct load *ld, const struct raw_section *sec,
	    const struct raw_key *k, struct service_conf *sc);
void	 config_source_inherit(struct load *ld, struct service_conf *sc);

#endif
