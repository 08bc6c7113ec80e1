/*
 * fuzz_tmpdir.h: the private temp folder of a fuzz target that runs
 * vigild's code on a config: made with the config in it, and removed
 * with all it holds at exit. Include after vigild.h.
 */
#ifndef VIGIL_FUZZ_TMPDIR_H
#define VIGIL_FUZZ_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static int
fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Remove dir and everything below it, links not followed. */
static inline void
fuzz_rm_tree(const char *dir)
{
	nftw(dir, fuzz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/*
 * Make tmpdir (a mkdtemp template), write vigil.conf there from conf_fmt
 * with tmpdir for both of its %s, and load it; abort on any failure, as
 * a target cannot run without it.
 */
static inline struct config *
fuzz_config_in(char *tmpdir, size_t len, const char *conf_fmt)
{
	struct config_errors errs = { NULL, 0 };
	struct config *conf;
	char path[4096];
	FILE *f;

	if (mkdtemp(tmpdir) == NULL || len + 16 > sizeof(path))
		abort();
	snprintf(path, sizeof(path), "%s/vigil.conf", tmpdir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fprintf(f, conf_fmt, tmpdir, tmpdir);
	fclose(f);
	if ((conf = config_load(path, &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		abort();
	}
	config_errors_free(&errs);
	return conf;
}

#endif
