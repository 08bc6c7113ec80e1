/*
 * envfile.h: environment_file = PATH, read at each start of a service in
 * systemd's EnvironmentFile syntax (see envfile.c). The parser is pure, so
 * tests and the fuzzer drive it with buffers.
 */
#ifndef VIGIL_ENVFILE_H
#define VIGIL_ENVFILE_H

#include <stddef.h>

/* Where and why a file was refused: line 0 when the file as a whole was. */
struct envfile_error {
	int		 line;
	char		 msg[128];
};

/*
 * Append the KEY=VALUE assignments of buf (len bytes) to *words (a NULL
 * terminated array of malloc'd strings, *words may be NULL): 0, or -1 with
 * e filled in (*words then holds what it held before, or more; the caller
 * frees it either way).
 */
int	 envfile_parse(const char *buf, size_t len, char ***words, size_t *nwords,
	    struct envfile_error *e);
/*
 * Read each of paths ("-PATH": may be missing) in order into *words; 0, or
 * -1 with err "PATH:LINE: what is wrong" (or "PATH: why").
 */
int	 envfile_load(char *const *paths, char ***words, char *err, size_t errlen);

#endif
