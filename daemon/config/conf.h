/*
 * conf.h: the config layer, the lowest of the daemon's: what a
 * configuration is (every [vigil] setting and [service:NAME] definition,
 * resolved and checked), loading it, and comparing two for a reload. It
 * calls nothing of the daemon; every layer above reads its structures.
 */
#ifndef VIGIL_CONF_H
#define VIGIL_CONF_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "log.h"

#define CONFIG_CLIENT_TIMEOUT_MS 30000	/* [vigil] client_timeout's default */
#define CONFIG_SHUTDOWN_TIMEOUT_MS 9000	/* [vigil] shutdown_timeout's: under Docker's 10 s */

#define SERVICE_NAME_MAX 64
/* Bounds on what a config may ask of vigild's memory (vigil.conf(5), its syntax) */
#define CONFIG_FILE_MAX		(4 * 1024 * 1024)	/* bytes in one file */
#define CONFIG_SECTIONS_MAX	100000	/* sections across every file */

enum restart_policy {
	RESTART_ALWAYS,		/* restart whatever the exit */
	RESTART_ON_FAILURE,	/* restart unless it exited 0 */
	RESTART_NEVER		/* a death is final: state exited */
};

/* Where a service's stdout or stderr goes. */
enum output_target {
	OUTPUT_TO_LOG,		/* captured: ring buffer, LOG_DIR/NAME.log, followers */
	OUTPUT_TO_NULL,		/* /dev/null */
	OUTPUT_TO_INHERIT,	/* vigild's own stdout/stderr */
	OUTPUT_TO_FILE,		/* appended to a file of the user's, uncaptured */
	OUTPUT_TO_STDOUT,	/* stderr only: merged into stdout's pipe, in order */
	OUTPUT_TO_JOURNAL	/* a journald stream of its own per spawn, uncaptured */
};

/* How a service says it is ready; see core/readiness.c and core/notify.c. */
enum ready_kind {
	READY_NONE,		/* ready once up start_secs */
	READY_NOTIFY,		/* READY=1 on the sd_notify socket */
	READY_FD,		/* a newline on the pipe it gets as fd N (s6) */
	READY_TCP,		/* a connect to HOST:PORT succeeds */
	READY_EXEC		/* a check command exits 0 */
};

/* What ends with a service's main process; see core/service.c. */
enum kill_mode {
	KILL_MODE_ALL,		/* every process of the service: stop and the main's death end them all */
	KILL_MODE_MAIN		/* only the main process; the rest is left running */
};

enum log_target {
	LOG_TARGET_STDERR,	/* vigild's own log: stderr, timestamped */
	LOG_TARGET_SYSLOG,	/* vigild's own log: syslog, daemon facility */
	LOG_TARGET_JOURNAL	/* vigild's own log: the systemd journal, with fields */
};

/* The resource limits a service may set, in the order of their keys. */
enum service_limit {
	LIMIT_NOFILE, LIMIT_NPROC, LIMIT_CORE, LIMIT_AS, LIMIT_FSIZE, LIMIT_MEMLOCK,
	LIMIT_STACK, LIMIT_CPU, SERVICE_NLIMITS
};
/* limit_KEY: its resource (RLIMIT_*), and the values, if it was given. */
struct service_rlimit {
	struct rlimit	 rl;
	int		 resource;
	int		 set;	/* 0: the service keeps vigild's */
};
#define SERVICE_NICE_UNSET	100
#define SERVICE_OOM_UNSET	10000
#define SERVICE_CAPS_UNSET	UINT64_MAX	/* no capability is number 63 */

/* syscall_filter_action: what a call the filter forbids gets */
enum syscall_action {
	SYSCALL_ACTION_EPERM,	/* fails with EPERM */
	SYSCALL_ACTION_KILL	/* the whole process dies of SIGSYS */
};
struct sock_filter;

/* cgroup v2 limits of a service's own cgroup, in the order of their keys (config_cglimits.c). */
enum service_cglimit {
	CGLIMIT_MEMORY_MAX, CGLIMIT_MEMORY_HIGH, CGLIMIT_PIDS_MAX, CGLIMIT_CPU_WEIGHT,
	CGLIMIT_CPU_MAX, CGLIMIT_IO_WEIGHT, SERVICE_NCGLIMITS
};

/* Where a service's key got its value (config_source.c); `vigilctl show` says it. */
enum conf_source_kind {
	CONF_SOURCE_DEFAULT,	/* nobody wrote it: the built-in default */
	CONF_SOURCE_FILE,	/* written in the service's section */
	CONF_SOURCE_VIGIL	/* not in the section: [vigil]'s key of that name */
};
struct conf_source {
	char	 *key;
	char	 *value;	/* as written, continuation lines joined with one blank */
	char	 *file;
	int	  line;		/* the key's first line */
	enum conf_source_kind kind;	/* FILE or VIGIL: DEFAULT is never stored */
};

/* One [service:NAME] section, resolved and ready to spawn. Owned by its config. */
struct service_conf {
	char	 *name;
	char	 *file;		/* where the section starts, for messages */
	int	  line;
	/* an instance of a [service:NAME@] template: "worker@" and "web7"; NULL, NULL otherwise */
	char	 *template_name;
	char	 *instance;
	bool	  on_demand;	/* made by a start request, not by the file: a reload keeps it while wanted */

	char	 *command;	/* as written */
	char	**argv;		/* split command */
	char	**exec_paths;	/* execve candidates: argv[0] itself if it has a '/', else PATH entries joined with it */
	char	**environment;	/* just the KEY=VALUE words the user wrote */
	bool	  clear_environment;
	char	 *directory;	/* NULL: vigild's own */

	char	 *user;		/* NULL: run as vigild's user */
	char	 *group;	/* NULL: the user's primary group */
	bool	  set_ids;	/* true when user or group is set: the child changes ids */
	uid_t	  uid;
	gid_t	  gid;
	gid_t	 *groups;	/* supplementary groups of user */
	size_t	  ngroups;
	int	  umask;	/* -1: inherit vigild's */
	struct service_rlimit limits[SERVICE_NLIMITS];	/* limit_nofile ... limit_cpu */
	int	  nice;		/* SERVICE_NICE_UNSET: vigild's */
	int	  oom_score_adj;	/* SERVICE_OOM_UNSET: vigild's */
	bool	  no_new_privileges;
	uint64_t  capabilities;	/* mask kept (0: none), or SERVICE_CAPS_UNSET */
	char	 *syscall_filter;	/* as written; NULL: no filter */
	enum syscall_action syscall_filter_action;
	struct sock_filter *syscall_bpf;	/* compiled once per load; NULL: none */
	unsigned short syscall_bpf_len;	/* instructions */
	char	**environment_files;	/* read at each start; "-PATH": may be missing */
	/* each as written to its cgroup file ("max", "52428800", "50000 100000"), NULL: unset */
	char	 *cglimits[SERVICE_NCGLIMITS];
	char	 *chroot;	/* NULL: none; absolute, a folder at load */
	bool	  private_tmp;	/* a fresh /tmp and /var/tmp of its own */
	bool	  private_network;	/* its own network namespace: lo only */
	char	**read_only_paths;	/* as written, "-" prefix kept; NULL: none */
	char	**inaccessible_paths;	/* likewise */
	/*
	 * The isolation keys this service sets, as written: key, value, key,
	 * value, ..., NULL; NULL when it sets none. Status shows them (the
	 * parsed fields above are what the child gets).
	 */
	char	**isolation;

	bool	  autostart;
	bool	  essential;	/* its end for good ends vigild, with its exit code */
	enum restart_policy restart;
	int64_t	  restart_delay_ms;
	int64_t	  restart_delay_max_ms;
	int64_t	  start_secs_ms;
	unsigned  start_retries;	/* 0: never give up */
	int	  stop_signal;
	int64_t	  stop_timeout_ms;
	enum kill_mode kill_mode;

	enum output_target stdout_to, stderr_to;
	char	 *stdout_path;	/* for file:PATH */
	char	 *stderr_path;
	int64_t	  log_max_size;	/* bytes of NAME.log before it rotates; 0: never */
	unsigned  log_keep;	/* rotated files kept */
	bool	  log_timestamps;	/* prefix lines with time and stream */
	int64_t	  log_buffer;	/* bytes of the in-memory ring of recent lines */

	enum ready_kind ready;
	char	 *ready_spec;	/* as written: "notify", "fd:3", "tcp:HOST:PORT", "exec:CMD" */
	int	  ready_fd;	/* fd:N */
	char	 *ready_host;	/* tcp: "127.0.0.1" when only a port was given */
	char	 *ready_port;	/* tcp: digits */
	struct ready_addr {
		socklen_t len;
		struct sockaddr_storage sa;
	}	 *ready_addrs;	/* tcp: host:port resolved at load; probes take them in turn */
	size_t	  ready_naddrs;
	char	**ready_argv;	/* exec: the check command, split */
	char	**ready_exec_paths;	/* exec: execve candidates, as exec_paths */
	int64_t	  ready_timeout_ms;	/* not ready this long after spawn: a failed start */
	int64_t	  watchdog_ms;	/* WATCHDOG=1 at least this often once ready; 0: off */

	char	**requires_names;	/* as written; resolved into requires */
	char	**after_names;	/* as written; resolved into after */
	int	  requires_line, after_line;	/* where the keys are, for messages */
	size_t	 *requires;	/* indices into config.services: start after these are ready */
	size_t	  nrequires;
	size_t	 *after;	/* indices into config.services: order only */
	size_t	  nafter;

	struct conf_source *sources;	/* where each key written (or inherited) came from */
	size_t	  nsources;
};

/* A key of a template, as written: %i is expanded for each instance. */
struct template_key {
	char	 *name;
	char	 *value;
	int	  line;
	bool	  comment_cut;	/* as struct raw_key's */
};

/*
 * A [service:NAME@] section (config_template.c): never a service itself;
 * each instance, NAME@INSTANCE, is a service made from its keys with %i
 * replaced, when the file lists it (instances =, or a requires naming it)
 * or when a start request names it.
 */
struct service_template {
	char	 *name;		/* "worker@" */
	char	 *file;		/* where the section starts */
	int	  line;
	struct template_key *keys;	/* every key but instances, in file order */
	size_t	  nkeys;
	char	**instances;	/* what instances = made of it; NULL: none */
	bool	  bad;		/* its instance-independent keys have errors: no instance is made */
};

/*
 * read_access or operate_access: users and @groups, resolved to ids at load
 * (never per connection). control/access.c matches a client against it.
 */
struct access_list {
	char	 *text;		/* as written, so a reload can tell it changed; NULL: not given */
	uid_t	 *uids;		/* the users named */
	size_t	  nuids;
	gid_t	 *gids;		/* the @groups named */
	size_t	  ngids;
};

struct config {
	char	 *file;		/* the main file */
	bool	  from_command;	/* vigild -- COMMAND: no file to reload */
	char	 *socket_path;
	char	 *socket_group;	/* as written; NULL: the socket stays 0600 */
	gid_t	  socket_gid;	/* its gid, resolved at load */
	struct access_list read_access;
	struct access_list operate_access;
	char	 *include;	/* glob, resolved against the main file's folder */
	enum log_level log_level;
	enum log_target log_target;
	char	 *log_dir;	/* where NAME.log files go */
	int	  log_dir_line;	/* in the main file, 0: the default */
	int64_t	  log_max_size;	/* defaults for the services */
	unsigned  log_keep;
	bool	  log_timestamps;
	int64_t	  log_buffer;
	int64_t	  client_timeout_ms;	/* close a client silent this long mid-request; 0: never */
	int64_t	  shutdown_timeout_ms;	/* the bound on a whole shutdown, then KILL; 0: none */
	int	  log_console;	/* 1 yes, 0 no, -1 not given: yes when vigild is PID 1 */
	char	 *cgroup;	/* NULL: found from /proc/self/cgroup; "off"; or the parent's path */
	char	 *metrics_listen;	/* as written, ADDRESS:PORT; NULL: off (control/http.c) */
	struct service_conf **services;	/* in file order, includes after the main file */
	size_t	  nservices;
	struct service_template **templates;	/* [service:NAME@] sections, in file order */
	size_t	  ntemplates;
};

/* Every message of a failed load, each "file:line: [section] key: ...". */
struct config_errors {
	char	**msgs;
	size_t	  n;
};


/* config.c */
struct config	*config_load(const char *path, struct config_errors *errs);
/*
 * config_command.c: vigild -- COMMAND: one essential service, no file;
 * restart NULL: never; socket NULL: the default one.
 */
struct config	*config_from_command(char *const *argv, const char *restart,
		    const char *socket, struct config_errors *errs);
void		 config_free(struct config *conf);
/* Service i's definition, taken out of conf: the caller owns it, config_free leaves it. */
struct service_conf *config_take_service(struct config *conf, size_t i);
void		 config_errors_free(struct config_errors *errs);
const char	*config_default_path(void);	/* static storage */
const char	*config_default_socket(void);	/* static storage */
const char	*config_default_log_dir(void);	/* static storage */
/* $TMPDIR/vigil-UID (/tmp without TMPDIR): the default folder without XDG dirs; static */
const char	*config_fallback_dir(void);
/* If conf uses that folder: make it, or check that it is ours and 0700. -1 with err. */
int		 config_fallback_check(const struct config *conf, char *err, size_t errlen);
/* Whether key is one of the isolation keys (status's "isolation" field). */
bool		 config_key_isolates(const char *key);
/* "DIR/vigil.sock" -> "DIR/vigil" + suffix (".notify", ".groups"): malloc'd, NULL if out of memory */
char		*config_socket_sibling(const char *socket_path, const char *suffix);
/*
 * The environment a service starts with, extra (NULL or NULL-terminated)
 * last: environ itself, or composed in *scratch.
 */
char		**config_service_envp(const struct service_conf *sc, char *const *extra,
		    char ***scratch, size_t *cap);
/* The same, with the variables of its environment files (read at this start) below its own. */
char		**config_service_envp_files(const struct service_conf *sc,
		    char *const *files, char *const *extra, char ***scratch, size_t *cap);
/*
 * config_template.c: instances of templates. NAME ("worker@web7") split
 * at its first '@': the template (with the '@') and the instance; NULL
 * when NAME has no '@' or the template is not one of conf's.
 */
const struct service_template *config_template_of(const struct config *conf,
		    const char *name, const char **instance);
/*
 * Make the instance NAME of one of conf's templates (see
 * config_template_of) and add it to conf->services, with any instance its
 * requires and after name that conf lacks; *added of them, the last ones
 * of conf->services, their names resolved. 0; -1 with the messages in errs
 * (conf as it was); -2 when NAME is no instance of a template of conf.
 */
int		 config_instance_add(struct config *conf, const char *name, bool on_demand,
		    struct config_errors *errs, size_t *added);
/*
 * Remove the last n services of conf (what config_instance_add added,
 * when the caller cannot take them after all).
 */
void		 config_instance_undo(struct config *conf, size_t n);
/* config_source.c: where key got its value; NULL: the built-in default */
const struct conf_source *config_source_find(const struct service_conf *sc, const char *key);
/*
 * config_show.c: every service key with its value as it could be written
 * back and where it came from: [{"key","value","source":{"kind","file",
 * "line"}},...]; environment values are "<hidden>" unless secrets. NULL:
 * out of memory.
 */
json_t		*config_show_json(const struct service_conf *sc, bool secrets);
/* A word as `environment =` and `command =` read it back: quoted when it must be; malloc'd */
char		*config_show_quote(const char *word);

/* config_listen.c: metrics_listen, "IPV4:PORT" or "[IPV6]:PORT", as a socket address; 0 or -1 */
struct config_listen {
	union {
		struct sockaddr		sa;
		struct sockaddr_in	in4;
		struct sockaddr_in6	in6;
	};
	socklen_t	 len;
};
int		 config_listen_parse(const char *v, struct config_listen *out);
/* config_cglimits.c: the cgroup file of each limit, and its key */
extern const char *const config_cglimit_files[SERVICE_NCGLIMITS];
extern const char *const config_cglimit_keys[SERVICE_NCGLIMITS];


/* What a changed field asks of a service that has a process. */
enum reload_class {
	RELOAD_RESTARTS,	/* shapes the process: only a new one can take it */
	RELOAD_IN_PLACE		/* steers supervision: the process is kept */
};

/* What a reload does to one service, by name. */
enum reload_action {
	RELOAD_ADDED,		/* a new name: created, started if autostart */
	RELOAD_REMOVED,		/* no longer configured: stopped, then forgotten */
	RELOAD_RESTARTED,	/* a process-shaping field changed */
	RELOAD_UPDATED,		/* only supervision fields changed: applied in place */
	RELOAD_UNCHANGED,	/* the same definition */
	RELOAD_NACTIONS
};

struct reload_item {
	enum reload_action action;
	const char	*name;		/* borrowed from the old or the new definition */
	size_t		 old_index;	/* in the running set; SIZE_MAX when added */
	size_t		 new_index;	/* in the new config; SIZE_MAX when removed */
	uint64_t	 changed;	/* bit i: reload_field_key(i) differs */
};

struct reload_plan {
	struct reload_item *items;	/* the new config's order, then the removed */
	size_t		 n;
	size_t		 count[RELOAD_NACTIONS];
};

/* reload_plan.c: what a reload would change, compared field by field (pure) */
/* Compare the running definitions (old[i] is service i's) with conf; 0 or -1 (out of memory). */
int		 reload_plan_build(const struct service_conf *const *old, size_t nold,
		    const struct config *conf, struct reload_plan *plan);
void		 reload_plan_free(struct reload_plan *plan);
const char	*reload_action_name(enum reload_action action);	/* "added", ... */
/* The config key of field i, NULL past the last; *class what it asks for. */
const char	*reload_field_key(size_t i, enum reload_class *class);
/* {"added":[...],...,"unchanged":[...],"changes":{"web":["command"]}} */
json_t		*reload_plan_json(const struct reload_plan *plan);
/* "added cache; restarted web (command); 3 unchanged", for the log */
char		*reload_plan_text(const struct reload_plan *plan);

#endif
