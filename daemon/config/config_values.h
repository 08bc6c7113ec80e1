/*
 * config_values.h: what each configuration key accepts. config.c reads
 * files and sections and hands every raw value here to be checked and
 * turned into fields of struct config or struct service_conf.
 */
#ifndef VIGIL_CONFIG_VALUES_H
#define VIGIL_CONFIG_VALUES_H

#include <stdbool.h>

#include "conf.h"

#define VALUE_SHOWN_MAX	60	/* longer values are cut and end in "..." */

/* Output defaults, for [vigil] and so for every service */
#define VALUES_LOG_MAX_SIZE	(10 * 1024 * 1024)
#define VALUES_LOG_KEEP		5
#define VALUES_LOG_BUFFER	(64 * 1024)

enum value_section {
	VALUE_SECTION_VIGIL,	/* [vigil]: keys fill a struct config */
	VALUE_SECTION_SERVICE	/* [service:NAME]: keys fill a struct service_conf */
};

/* What went wrong with one value, for config.c to put file and line on. */
struct value_error {
	char	msg[512];	/* "expected X, found 'V'", said after "KEY: " */
	bool	unknown;	/* no such key: msg is "unknown key 'K' ..." instead */
	bool	quoting;	/* a quote was left open: a cut comment may be why */
};

/* Check value and store it in obj (a struct config or service_conf); 0 or -1. */
int	 values_parse(enum value_section section, void *obj, const char *key,
	    const char *value, struct value_error *e);
void	 values_quote(char *buf, size_t len, const char *value);
/* The i-th key of section, NULL past the last (tests check each is handled). */
const char *values_key_name(enum value_section section, size_t i);

void	 values_access_free(struct access_list *l);

int	 values_service_name(const char *name, struct value_error *e);
struct service_conf *values_service_new(const char *name, const char *file, int line);
/* Take [vigil]'s log_* values as this service's defaults. */
void	 values_service_inherit(struct service_conf *sc, const struct config *conf);
void	 values_service_free(struct service_conf *sc);
/* config_source.c: what config_source_note kept in sc */
void	 config_source_free(struct service_conf *sc);
int	 values_check_delays(const struct service_conf *sc, const char *key,
	    const char *value, struct value_error *e);
int	 values_service_finish(struct service_conf *sc, struct value_error *e);
/* Levenshtein distance, SIZE_MAX when b is too long to bother */
size_t	 values_edit_distance(const char *a, const char *b);

/*
 * config_privilege.c: -1 with e set when key, already parsed into sc, asks
 * for a privilege vigild does not have (running as another user, a lower
 * niceness, a higher hard limit...); 0 for every other key.
 */
int	 values_privilege_check(const struct service_conf *sc, const char *key,
	    struct value_error *e);

/* A size as size keys take it (64K, 10M, 1G); -1 if v is none. */
int	 values_size(const char *v, unsigned long long *out);
/* config_cglimits.c: memory_max and the like; -1 with what was expected in what */
int	 values_cglimit(struct service_conf *sc, enum service_cglimit which,
	    const char *v, char *what, size_t len);

/* config_env.c: execve candidates for argv0 (NULL: out of memory) */
char	**values_exec_paths(const struct service_conf *sc, const char *argv0);

/*
 * config_caps.c: `capabilities =` into a mask of capability numbers (none:
 * 0). -1: bad holds the name no capability has; -2: empty, or none with
 * names.
 */
int	 values_capabilities(uint64_t *mask, const char *v, char *bad, size_t badlen);
/*
 * config_sandbox.c: chroot, private_tmp, private_network, read_only_paths,
 * inaccessible_paths (the booleans are value_bool's). values_sandbox_check
 * is the cross-key check once the section is read: -1 with *key the key to
 * blame.
 */
int	 values_chroot(void *obj, size_t off, const char *v, struct value_error *e);
int	 values_paths(void *obj, size_t off, const char *v, struct value_error *e);
int	 values_sandbox_check(const struct service_conf *sc, const char **key,
	    struct value_error *e);
/* The path p as the service sees it, with the chroot in front: static storage */
const char *values_sandbox_path(const struct service_conf *sc, const char *p);
void	 values_sandbox_free(struct service_conf *sc);

/* config_ready.c: `ready =`; -1 with what was expected in what */
int	 values_ready(struct service_conf *sc, const char *v, char *what, size_t len);
void	 values_ready_free(struct service_conf *sc);

/* config_seccomp.c: syscall_filter and its action; compiled in values_service_finish */
int	 values_syscall_filter(void *obj, size_t off, const char *v, struct value_error *e);
int	 values_syscall_filter_action(void *obj, size_t off, const char *v,
	    struct value_error *e);
/* -1 when it could not be compiled (out of memory, in practice) */
int	 values_seccomp_build(struct service_conf *sc);

/* config_template.c: an instance's name (tmpl: "worker@"); a template value's escapes and expansion */
int	 values_instance_name(const char *tmpl, const char *inst, struct value_error *e);
int	 values_template_escapes(const char *v, char bad[3]);
char	*values_template_expand(const char *v, const char *inst);

/* config_deps.c: requires and after, once every service is read */
typedef void	 deps_error_cb(void *ctx, const struct service_conf *sc, int line,
		    const char *msg);
/* Resolve names into indices and look for cycles; -1 when one was reported or memory ran out. */
int	 config_deps_resolve(struct config *conf, deps_error_cb *error, void *ctx);
/* The same for services[first...] only, the cycles for all. */
int	 config_deps_resolve_from(struct config *conf, size_t first, deps_error_cb *error,
	    void *ctx);

#endif
