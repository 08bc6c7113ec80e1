/*
 * supervisord_ini.h: a supervisord configuration as supervisord reads it
 * (Python's configparser), with every key's file and line kept so the
 * importer can point at what it could not map.
 */
#ifndef VIGIL_SUPERVISORD_INI_H
#define VIGIL_SUPERVISORD_INI_H

#include <stdbool.h>
#include <stddef.h>

struct sv_key {
	char		*name;		/* lower-cased, as configparser does */
	char		*value;		/* continuation lines joined with '\n' */
	const char	*file;		/* one of sv_conf.files */
	int		 line;
	bool		 used;		/* the importer mapped (or explained) it */
};

struct sv_section {
	char		*name;		/* "program:web", "supervisord", ... */
	const char	*file;
	int		 line;
	const char	*here;		/* folder of its file: %(here)s */
	struct sv_key	*keys;
	size_t		 nkeys;
};

struct sv_conf {
	struct sv_section *secs;	/* in the order supervisord reads them */
	size_t		 nsecs;
	char		**files;	/* every file read, main one first */
	char		**heres;	/* and its folder */
	size_t		 nfiles;
	char		**notes;	/* "file:line: what was skipped", for the output */
	size_t		 nnotes;
	char		 err[1024];	/* why sv_read failed */
};

/*
 * Read path and, through [include] files=, the files it names (globs
 * relative to the including file's folder, as supervisord does). A later
 * key of the same name in the same section wins, as with strict=False.
 * 0, or -1 with c->err set; either way sv_free(c) after.
 */
int		 sv_read(struct sv_conf *c, const char *path);
struct sv_key	*sv_key(const struct sv_section *s, const char *name);
/* name's value in s, or NULL; marks the key used */
const char	*sv_get(const struct sv_section *s, const char *name);
void		 sv_free(struct sv_conf *c);

#endif
