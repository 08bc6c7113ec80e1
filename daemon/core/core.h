/*
 * core.h: the core layer: services (goal and state, in one state machine),
 * their dependencies, spawning, reaping, readiness probes and the notify
 * sockets. It reports through listeners (world_listen) and knows
 * nothing of sockets, JSON or followers; below it are output/ and config/.
 */
#ifndef VIGIL_CORE_H
#define VIGIL_CORE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "config/conf.h"
#include "log.h"

enum service_state {
	SERVICE_STOPPED,	/* not running, not wanted */
	SERVICE_STARTING,	/* spawned, not yet up start_secs */
	SERVICE_RUNNING,	/* up at least start_secs */
	SERVICE_STOPPING,	/* stop_signal sent, waiting for the main process */
	SERVICE_BACKOFF,	/* died, waiting to be started again */
	SERVICE_EXITED,		/* died and the restart policy says leave it */
	SERVICE_FATAL,		/* too many failed starts in a row */
	SERVICE_NSTATES
};

/* How the last process of a service ended, from wait4. */
struct exit_info {
	bool	  valid;	/* false until a first process ended */
	pid_t	  pid;
	int	  code;		/* exit code, when !signal */
	int	  signal;	/* terminating signal, 0 if it exited */
	bool	  core_dumped;
	double	  when;		/* wall clock, seconds since the epoch */
	int64_t	  ran_ms;	/* how long it ran */
	double	  cpu_user, cpu_system;	/* seconds */
	long	  max_rss_kb;
	char	 *spawn_error;	/* malloc'd, set when the attempt never reached execve */
};

struct service;
struct service_output;
struct readiness;
struct notify_sock;

/* Why vigild sent the stop signal: it decides what the process's end means. */
enum stop_cause {
	STOP_ASKED,		/* stop, restart, shutdown: the end is what was wanted */
	STOP_NOT_READY,		/* ready_timeout passed: a failed start */
	STOP_WATCHDOG,		/* no WATCHDOG=1 in time: a crash */
	STOP_MAIN_ENDED		/* the main process ended on its own: the rest of the service follows */
};

/* Where the state machine heads (service.c is its only writer). */
enum service_goal {
	GOAL_DOWN,		/* stopped, or stopping and to stay so */
	GOAL_UP,		/* running, or to run again as the restart policy says */
	GOAL_RESTART		/* stopping, then to run again at once */
};

/* What the dependency order still has to do for a service (deps.c, its only writer). */
enum service_job {
	JOB_NONE,
	JOB_START,		/* start once what it requires is ready */
	JOB_STOP,		/* stop once what requires it is stopped */
	JOB_RESTART		/* JOB_STOP, then JOB_START */
};

/* The wait status of a main process that was not vigild's child: it cannot be known. */
#define EXIT_STATUS_UNKNOWN	(-1)

/* What the state machine needs from the world; tests pass fakes. */
struct service_ops {
	/* spawn s's process; 0 and s->pid set, or -1 and a reason in err */
	int	(*spawn)(struct service *s, char *err, size_t errlen);
	int	(*kill)(pid_t pid, int sig);		/* kill(2): -pgid is a process group */
	void	(*ready_unwatch)(struct service *s);	/* stop probing readiness; may be NULL */
	void	(*timer_arm)(struct service *s, int64_t ms);	/* one per service */
	void	(*timer_disarm)(struct service *s);
	int64_t	(*now_ms)(void);			/* monotonic clock */
	void	(*changed)(struct service *s, enum service_state from); /* may be NULL */
	/*
	 * Every process of s (its cgroup): how many got sig, or -1 when s
	 * is not tracked that way and signals go to its process group. May be NULL.
	 */
	int	(*procs_signal)(struct service *s, int sig);
	/* Processes of s still alive, the main one included; NULL: none are tracked. */
	int	(*procs_count)(struct service *s);
	/* s->pid changed (MAINPID=) or ended (0): watch a main process that is not our child. */
	void	(*main_changed)(struct service *s);	/* may be NULL */
};

struct service {
	const struct service_conf *conf;
	const struct service_ops *ops;
	size_t	  index;	/* in vigild.services, the same as its conf's in config.services */
	enum service_state state;
	pid_t	  pid;		/* main process, 0 when none; MAINPID= may move it */
	pid_t	  pgid;		/* the first process's group: what stop signals go to */
	int64_t	  state_since_ms;	/* monotonic */
	double	  state_since_wall;
	int64_t	  started_ms;	/* when the current process was spawned */
	int64_t	  timer_due_ms;	/* when the armed timer fires, 0 if none */
	unsigned  failures;	/* consecutive failed starts */
	unsigned  restarts;	/* automatic restarts since the last start request */
	uint64_t  restarts_total;	/* automatic restarts ever: a counter for metrics */
	enum service_goal goal;	/* service.c's */
	enum service_job job;	/* deps.c's */
	bool	  killed;	/* SIGKILL already sent in this stop */
	bool	  forced;	/* ... because the stop timed out or was hurried, not to clear leftovers */
	bool	  ending;	/* the main process ended; the rest of the service is being stopped */
	bool	  end_early;	/* and it ended before it was up: a failed start */
	int	  end_status;	/* and how it ended (EXIT_STATUS_UNKNOWN: not our child) */
	bool	  ready;	/* said it is ready (or is up start_secs, for ready = none) */
	bool	  reloading;	/* sent RELOADING=1, no READY=1 since */
	enum stop_cause stop_cause;
	int64_t	  ready_due_ms;	/* monotonic: not ready by then is a failed start; 0: no limit */
	int64_t	  watchdog_ms;	/* this process's watchdog; WATCHDOG_USEC= changes it */
	char	 *status_text;	/* malloc'd: the service's own STATUS=, or NULL */
	int	  notify_errno;	/* the service's own ERRNO=, 0 if none */
	char	 *reason;	/* malloc'd: why it is in its state, for people */
	struct exit_info last_exit;
	ev_timer  timer;	/* used by the daemon's ops only */
	struct service_output *output;	/* output.c's: pipes, ring, log file */
	struct readiness *readiness;	/* readiness.c's: the probe of a starting process */
	struct notify_sock *notify;	/* notify.c's: its sd_notify socket, once it needs one */
	struct service_cgroup *cgroup;	/* cgroup.c's: its cgroup, once it ran */
	struct main_watch *main_watch;	/* world.c's: a pidfd on a main process not our child */
	char	**file_env;	/* spawnreq.c's: its environment files, as read at this start */
};


/* service.c */
struct service	*service_new(const struct service_conf *conf, const struct service_ops *ops);
void		 service_free(struct service *s);
void		 service_start(struct service *s);	/* a request: resets the failure count */
void		 service_stop(struct service *s);
/* The shutdown's bound passed: KILL now to whatever of s still runs, whatever its turn. */
void		 service_hurry(struct service *s, const char *why);
void		 service_restart(struct service *s);
void		 service_process_ended(struct service *s, int status, const struct rusage *ru);
void		 service_timer_fired(struct service *s);
/* The processes of s may all be gone (its cgroup emptied, an orphan of its group reaped). */
void		 service_procs_gone(struct service *s);
const char	*service_state_name(enum service_state state);
bool		 service_is_settled(const struct service *s);	/* no process, nothing pending */
bool		 service_is_ready(const struct service *s);	/* what dependents wait for */
/* What readiness probes and the notify socket report; see notify.c. */
void		 service_ready(struct service *s, const char *how);
void		 service_reloading(struct service *s);
void		 service_watchdog_ping(struct service *s);
void		 service_watchdog_set(struct service *s, int64_t ms);
void		 service_extend_timeout(struct service *s, int64_t ms);
void		 service_set_main_pid(struct service *s, pid_t pid);
void		 service_set_status_text(struct service *s, const char *text);
/* What a signal to a service reached: its group, and a main process outside it. */
struct service_signal_result {
	pid_t	  group;	/* the process group that got it, 0 if none did */
	pid_t	  pid;		/* the main process, sent apart when outside the group; 0 if not */
	int	  processes;	/* how many processes got it (cgroup, or main_only); -1: a group */
	bool	  reached;	/* at least one process got it */
	bool	  failed;	/* kill(2) failed for a reason other than "no such process" */
	char	  why[96];	/* when it reached nothing: why, for people */
};
/*
 * Send sig to every process of s (its cgroup, or its process group and a
 * main process outside it); only to the main process if main_only.
 * -1 when kill(2) failed.
 */
int		 service_signal(struct service *s, int sig, bool main_only,
		    struct service_signal_result *res);
/* Processes of s alive now, the main one included: from its cgroup, or 1/0 by its group. */
int		 service_process_count(struct service *s);
void		 service_note(struct service *s, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));	/* a new reason, same state */
int64_t		 service_backoff_ms(const struct service_conf *c, unsigned failures);
/* daemon-reexec: s takes the state saved had in the vigild before the exec; -1: no memory. */
int		 service_restore(struct service *s, const struct service *saved);


/* spawn.c: see spawn.h, which the benchmarks link on its own */


/* reap.c */
void		 reap_children(void);
/* What one death means: a service's end, a readiness check's, or an orphan's. */
void		 reap_dispatch(pid_t pid, int status, const struct rusage *ru);
void		 reap_leftovers(void);	/* at exit: end what is left of our descendants */
void		 reap_stop(void);	/* at exit: no more reaping from the loop */


/* vigild's exit status when a service had to be SIGKILLed at shutdown (vigild(8)) */
#define VIGILD_EXIT_KILLED	3

/* the daemon's state: main.c and supervisor.c fill it in */
struct vigild {
	struct ev_loop	*loop;
	struct config	*conf;
	struct service	**services;
	size_t		  nservices;
	bool		  shutting_down;
	int		  exit_code;	/* set by an essential service's end; else see main.c */
	bool		  exit_code_set;	/* ... and then it wins */
	bool		  killed_at_shutdown;	/* a service needed SIGKILL to stop */
	struct rlimit	  nofile_orig;	/* RLIMIT_NOFILE as vigild found it */
	bool		  nofile_raised;	/* and services get it back */
};
extern struct vigild vigild;	/* state.c */

/* supervisor.c: the set of services; the order of starts and stops is deps.c's (deps.h) */
struct dependents;
int		 supervisor_init(struct config *conf);
/* reload: the switch to conf and svcs, with the dependency table of conf (deps_table_new) */
void		 supervisor_install(struct config *conf, struct service **svcs,
		    struct dependents *deps);
void		 supervisor_start_all(void);
void		 supervisor_shutdown(const char *why);
/* SIGQUIT: the same, with KILL at once to every process instead of stop_signal's wait */
void		 supervisor_shutdown_now(const char *why);
struct service	*supervisor_find(const char *name);
/*
 * NAME ("worker@web7"), an instance of one of the config's templates, made
 * and added to the set, stopped, with any instance its requires and after
 * name that the set lacks: 0 and *out; -1 with the messages in errs; -2
 * when NAME is no instance of a template; -3 out of memory.
 */
int		 supervisor_instantiate(const char *name, bool on_demand,
		    struct config_errors *errs, struct service **out);
/*
 * The set's instances made on request, made again in conf (read anew from
 * the file): those still wanted, or all. Their errors go to errs.
 */
void		 supervisor_carry_instances(struct config *conf, bool all,
		    struct config_errors *errs);
struct service	*supervisor_find_pid(pid_t pid);
struct service	*supervisor_find_pgid(pid_t pgid);
void		 supervisor_free(void);	/* every service, at exit */

/*
 * world.c: who hears of every service's changes (dinit's service_listener
 * is the model): supervisor.c for its dependencies and shutdown, the
 * control server for waits and subscribers. Registering twice is harmless.
 */
struct service_listener {
	/* s just moved from `from` (from == its state: only its reason changed) */
	void	(*changed)(void *arg, struct service *s, enum service_state from);
	/* a reload removed s; it is freed once its process is gone */
	void	(*removed)(void *arg, struct service *s);
	void	 *arg;
	struct service_listener *next;	/* world.c's */
};
void		 world_listen(struct service_listener *l);
void		 world_removed(struct service *s);	/* tell the listeners */

/*
 * retire.c: services a reload removed. They leave vigild.services at once;
 * here they are stopped (a removed dependent before what it depended on),
 * reaped, and freed with the definition they own once their process is gone.
 */
struct retired;
/* Room for n services, taken before a reload changes anything; NULL: out of memory. */
struct retired	*retire_new(size_t n);
/* s leaves the set; the batch owns it and conf (s->conf) from now on. */
void		 retire_add(struct retired *b, struct service *s, struct service_conf *conf);
void		 retire_start(struct retired *b);	/* stop them, in order */
void		 retire_discard(struct retired *b);	/* unused: the reload failed */
struct service	*retire_find_pid(pid_t pid);
struct service	*retire_find_name(const char *name);	/* one still stopping */
void		 retire_each(void (*cb)(struct service *s));
bool		 retire_all_settled(void);
uint64_t	 retire_id(const struct retired *b);	/* 0 for NULL */
bool		 retire_settled(uint64_t id);	/* every service of batch id is stopped (or freed) */
void		 retire_free_all(void);	/* at exit */


#endif
