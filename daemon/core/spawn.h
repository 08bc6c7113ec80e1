/*
 * spawn.h: the spawn core. Everything the child needs is prepared by the
 * caller; spawn_process() runs clone(CLONE_VM|CLONE_VFORK) and the child
 * does only async-signal-safe system calls before execve. Standalone so the
 * benchmarks can link it without the rest of the daemon.
 */
#ifndef VIGIL_SPAWN_H
#define VIGIL_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* One resource limit the child sets; step names it in a failure. */
struct spawn_rlimit {
	int		  resource;	/* RLIMIT_* */
	struct rlimit	  rl;
	const char	 *step;		/* "setrlimit limit_nofile" */
};
#define SPAWN_NICE_KEEP	100	/* nice: keep vigild's */
struct sock_fprog;

/*
 * Capabilities, every number worked out by the caller; the child only
 * makes the calls. set false: the change of ids does to them what it
 * always does (a user other than root loses them all).
 */
struct spawn_caps {
	bool		  set;
	const int	 *drop;		/* PR_CAPBSET_DROP each, while still privileged */
	size_t		  ndrop;
	bool		  keep;		/* PR_SET_KEEPCAPS before setresuid: a user keeps them */
	uint32_t	  mask[2];	/* capset: permitted = effective = inheritable */
	const int	 *ambient;	/* PR_CAP_AMBIENT_RAISE each, so they survive execve */
	size_t		  nambient;
};

/* One mount(2) the child makes in its own mount namespace; step names it in a failure. */
struct spawn_mount {
	const char	 *source;
	const char	 *target;
	const char	 *fstype;
	unsigned long	  flags;	/* MS_* */
	const char	 *data;
	const char	 *step;		/* "private_tmp mount /tmp" */
	bool		  may_miss;	/* ENOENT is no failure: a -PATH */
};

/* Namespaces of a running process to enter instead of making new ones (an exec check). */
struct spawn_join {
	int		  mnt_fd;	/* /proc/PID/ns/mnt, or -1 */
	int		  net_fd;	/* /proc/PID/ns/net, or -1 */
};

struct spawn_request {
	char *const	 *argv;
	char *const	 *envp;
	char *const	 *exec_paths;	/* tried in order, like execvp does with PATH */
	const char	 *directory;	/* NULL: stay where vigild is */
	int		  umask;	/* -1: inherit */
	bool		  set_ids;	/* change groups, gid, uid */
	uid_t		  uid;
	gid_t		  gid;
	const gid_t	 *groups;
	size_t		  ngroups;
	bool		  new_session;	/* setsid(): the child leads its own process group */
	const struct rlimit *nofile;	/* RLIMIT_NOFILE to restore, NULL: keep vigild's */
	const struct spawn_rlimit *rlimits;	/* the service's own, set after nofile */
	size_t		  nrlimits;
	int		  nice;		/* -20..19, or SPAWN_NICE_KEEP */
	const char	 *oom_score_adj;	/* digits for /proc/self/oom_score_adj, NULL: keep */
	bool		  no_new_privs;	/* PR_SET_NO_NEW_PRIVS after the ids are changed */
	struct spawn_caps caps;		/* capabilities = */
	const struct sock_fprog *seccomp;	/* loaded last, before execve; NULL: none */
	bool		  new_mount_ns;	/* unshare(CLONE_NEWNS), nothing shared back to the host */
	bool		  new_net_ns;	/* unshare(CLONE_NEWNET), with lo up */
	const struct spawn_mount *mounts;	/* made in the new mount namespace, in order */
	size_t		  nmounts;
	const struct spawn_join *join;	/* NULL, or namespaces to enter (the two above are not made) */
	const char	 *chroot;	/* NULL: none; after the mounts, then chdir("/") */
	int		  stdin_fd;	/* -1: /dev/null */
	int		  stdout_fd;	/* -1: vigild's own */
	int		  stderr_fd;	/* -1: vigild's own */
	int		  extra_fd;	/* -1: none; else given to the child as extra_fd_as */
	int		  extra_fd_as;	/* ready = fd:N: the N the service writes its line to */
	int		  cgroup_fd;	/* -1: none; else the folder of the cgroup the child is born in */
	/*
	 * NULL, or an envp entry "WATCHDOG_PID=" with room for 20 digits: the
	 * child writes its own pid there, the one value the parent cannot know
	 * before clone. The parent gave this buffer to the child, like the
	 * error slot; nothing else of the parent's is written.
	 */
	char		 *pid_env;
};
#define SPAWN_PID_ENV_PREFIX	"WATCHDOG_PID="
#define SPAWN_PID_ENV_SIZE	(sizeof(SPAWN_PID_ENV_PREFIX) + 20)

/* Where the child failed, written through the memory it shares with us. */
struct spawn_error {
	const char	*step;		/* "chdir", "setuid", "execve", ... */
	const char	*path;		/* for "execve": the file to blame, or the command as written */
	bool		 searched;	/* ... which was looked for in PATH */
	int		 err;		/* errno */
};

/* Once, after every signal disposition vigild wants is in place. */
int	spawn_init(void);
/*
 * Start a process. Returns its pid, or -1: then *err says which step failed
 * and why, and the child (if one was created) has already been reaped.
 */
pid_t	spawn_process(const struct spawn_request *req, struct spawn_error *err);
/* "exec failed: /usr/bin/foo: No such file or directory" and the like */
void	spawn_error_text(const struct spawn_error *err, char *buf, size_t len);

#endif
