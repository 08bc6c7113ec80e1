/*
 * words.h: split a command line into words with shell-like quoting
 * ('single', "double", backslash), without running a shell.
 */
#ifndef VIGIL_WORDS_H
#define VIGIL_WORDS_H

#include <stddef.h>

/*
 * Split s into a NULL-terminated, malloc'd vector of malloc'd words.
 * Returns NULL on a quoting error (and sets *err to a static message for
 * people, e.g. "unterminated single quote") or on allocation failure
 * (*err = "out of memory"). *nwords gets the count when non-NULL.
 */
char	**words_split(const char *s, size_t *nwords, const char **err);
void	  words_free(char **words);
size_t	  words_count(char *const *words);

#endif
