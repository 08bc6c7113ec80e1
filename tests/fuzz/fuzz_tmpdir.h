/*
 * fuzz_tmpdir.h: what every fuzz target that works in a private temp
 * folder needs at exit: the folder and all it holds removed.
 */
#ifndef VIGIL_FUZZ_TMPDIR_H
#define VIGIL_FUZZ_TMPDIR_H

#include <ftw.h>
#include <stdio.h>

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

#endif
