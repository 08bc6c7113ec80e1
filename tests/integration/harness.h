/*
 * harness.h: run the real vigild on a private temp config and socket, and
 * drive it with the real vigilctl. Every wait has a deadline; teardown
 * kills by pid what the test started, even after a failed assertion.
 */
#ifndef VIGIL_HARNESS_H
#define VIGIL_HARNESS_H

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <sys/types.h>

struct vh {
	char	 dir[256];	/* private temp folder, removed at teardown */
	char	 sock[300];
	char	 conf[300];
	char	 log[300];	/* vigild's stderr */
	pid_t	 pid;		/* vigild, 0 when not running */
	int	 exit_status;	/* wait status once it exited */
};

struct vh_result {
	int	 code;		/* vigilctl's exit code, or -1 */
	char	 out[262144];	/* stdout: a full status of 200 services is over 64 KiB */
	char	 err[8192];	/* stderr */
};

extern struct vh vh;		/* one daemon per test: Criterion forks per test */

const char *vh_testsvc(void);	/* path of tests/helpers/vigil-testsvc */
/* Create the temp folder and write the config: [vigil] + services text. */
void	 vh_setup(const char *services_fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Append services to the config vh_setup wrote: vh_path() names a file in
 * the test folder only once it exists, so tests that need such paths call
 * vh_setup("%s", "") first, then this.
 */
void	 vh_add_services(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The end of vigild's log, for failure messages (teardown removes the file). */
const char *vh_log_tail(void);
/* A text file's content, at most 64 KiB (static buffer), "" if unreadable. */
char	*vh_slurp(const char *path);
/* Path of a file inside the temp folder (static buffer rotation of 8). */
const char *vh_path(const char *name);
/* Start vigild and wait (10 s) for its socket; false if it did not come up. */
bool	 vh_start(void);
/* vh_start, and fail the test with vigild's log if it did not come up. */
void	 vh_start_ok(void);
/*
 * The same, with vigild started under a signal mask of blocked and with
 * the n signals of ignored set to SIG_IGN, as an init script or a shell
 * with `trap '' PIPE` might hand them down.
 */
bool	 vh_start_with_signals(const sigset_t *blocked, const int *ignored, size_t n);
/*
 * Start vigild as uid:gid (the test must be root), without HOME and XDG
 * folders and with TMPDIR set to tmpdir (unless NULL), so it falls back to
 * TMPDIR/vigil-UID; vh.sock must name where it will listen. As vh_start.
 */
bool	 vh_start_as(uid_t uid, gid_t gid, const char *tmpdir);
/* Run vigilctl --socket SOCK ARGS...; NULL-terminated. */
int	 vh_ctl(struct vh_result *r, ...) __attribute__((sentinel));
/*
 * The same as another user: uid, gid, and gid as its only group (set in
 * the child before exec; the test must run as root). 96: could not switch.
 */
int	 vh_ctl_as(uid_t uid, gid_t gid, struct vh_result *r, ...) __attribute__((sentinel));
/* In a forked child: become uid with gid and groups, or _exit(96). */
void	 vh_become(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups);
/* status of one service as JSON (caller decrefs), NULL if unavailable */
json_t	*vh_service(const char *name);
/* Expect its "isolation" status field to be want, as JSON text with the keys in order. */
void	 vh_expect_isolation(const char *name, const char *want);
/*
 * Start argv (a program found in PATH, or a path; $VIGILD for vigild
 * itself) as vh.pid, with its stdout and stderr appended to vh.log, for
 * vigild started other than by vh_start: as a command, under unshare,
 * with a socket passed. setup, if not NULL, runs in the child before execve.
 */
void	 vh_exec(char *const argv[], void (*setup)(void *), void *arg);
/*
 * vigild --check on a config of the [vigil] socket line, a log_dir in a
 * folder of nobody's (unless fmt's text sets one), and then fmt's text
 * from line 4, run as nobody (the test must be root): its output; *status
 * its wait status.
 */
const char *vh_check_as_nobody(int *status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
const char *vh_state(const char *name, char *buf, size_t len);
/*
 * Poll until NAME's state is STATE; false after timeout_ms. A poll can miss
 * a state that lasts less than a status round trip: use it for states that
 * stay until the test acts, and vh_events_* where a transition matters.
 */
bool	 vh_wait_state(const char *name, const char *state, int timeout_ms);
/* Poll until the file exists and is non-empty; false after timeout_ms. */
bool	 vh_wait_file(const char *path, int timeout_ms);
/* Until the file at path holds needle (read whole each time), or timeout_ms passes */
bool	 vh_wait_file_contains(const char *path, const char *needle, int timeout_ms);
long	 vh_read_long(const char *path);	/* first number in a file, -1 if none */
/* Send sig to vigild and wait for it to exit; false after timeout_ms. */
bool	 vh_signal_and_wait(int sig, int timeout_ms);
bool	 vh_pid_alive(pid_t pid);	/* exists and is not a zombie */
bool	 vh_pid_exists(pid_t pid);	/* any /proc entry, zombies included */
char	 vh_pid_state(pid_t pid);	/* /proc/PID/stat state letter, 0 if gone */
bool	 vh_wait_gone(pid_t pid, int timeout_ms);
pid_t	 vh_main_pid(const char *name);	/* the service's pid in status, 0 if none */
/* The names status lists (of NAME; NULL: every service), comma-separated, in its order; "?" on failure */
const char *vh_status_names(const char *name);
/* The strings of obj's array KEY, comma-separated (a reload reply's "added", say); rotating buffers */
const char *vh_json_list(json_t *obj, const char *key);
bool	 vh_wait_main_pid(const char *name, pid_t pid, int timeout_ms);
/* Poll until name is running with a main pid other than old: that pid, or 0 after timeout_ms. */
pid_t	 vh_wait_new_pid(const char *name, pid_t old, int timeout_ms);
/* Poll until /proc/PID/stat shows state (a letter such as 'T'); false after timeout_ms. */
bool	 vh_wait_pid_state(pid_t pid, char state, int timeout_ms);
/* Open fds of a process, counted in /proc/PID/fd; -1 if it cannot be read. */
int	 vh_count_fds(pid_t pid);
/* The first child of pid (unshare's: the namespace's init, as we see it); 0 if none. */
pid_t	 vh_first_child(pid_t pid);
/* Count vigild's children that are zombies. */
int	 vh_zombie_children(void);
bool	 vh_log_contains(const char *needle);
/* Poll until vigild's log holds needle; false after timeout_ms. */
bool	 vh_wait_log(const char *needle, int timeout_ms);
/* NAME's reason, "?" if unavailable */
const char *vh_reason(const char *name, char *buf, size_t len);
/* Poll until NAME's reason contains text; false after timeout_ms. */
bool	 vh_wait_reason(const char *name, const char *text, int timeout_ms);
/* Poll until NAME's status says ready; false after timeout_ms. */
bool	 vh_wait_ready(const char *name, int timeout_ms);

/* A vigilctl left running in the background (events, log -f, a parked wait). */
struct vh_bg {
	pid_t	 pid;		/* 0 once reaped */
	int	 fd;		/* read end of its stdout and stderr, in one pipe */
	char	 buf[65536];	/* read and not yet handed out as lines */
	size_t	 len;
	char	 pidfile[300];	/* teardown kills it by this, should the test fail first */
};
/* The first line of buf's len bytes, taken out (malloc'd, no newline); NULL if none is whole. */
char	*vh_take_line(char *buf, size_t *len);
/* Start vigilctl --socket SOCK ARGS... (NULL-terminated) in the background. */
void	 vh_bg_start(struct vh_bg *b, ...) __attribute__((sentinel));
/* Its next output line (malloc'd, no newline); NULL at EOF or after timeout_ms. */
char	*vh_bg_line(struct vh_bg *b, int timeout_ms);
/* Its exit code (128 + N if signal N ended it), or -1 if it runs on after timeout_ms. */
int	 vh_bg_wait(struct vh_bg *b, int timeout_ms);
/* Kill it if it still runs, reap it, close the pipe. */
void	 vh_bg_end(struct vh_bg *b);
/*
 * `vigilctl --json events NAME` in the background: every change of NAME,
 * none missed however short, from the current state on.
 */
void	 vh_events_start(struct vh_bg *b, const char *name);
/*
 * The next event (caller decrefs) that enters state `to` (with ready true
 * too if ready), skipping others; NULL if none within timeout_ms.
 */
json_t	*vh_events_until(struct vh_bg *b, const char *to, bool ready, int timeout_ms);
/* Line number in vigild's log of the first line holding needle, -1 if none. */
int	 vh_log_line_of(const char *needle);
/* The same for the nth line (from 1) that holds both a and b, -1 if none. */
int	 vh_log_line_of_nth(const char *a, const char *b, int nth);
/* Poll until vigild's log has n lines holding needle; false after timeout_ms. */
bool	 vh_wait_log_count(const char *needle, int n, int timeout_ms);
int	 vh_log_count(const char *needle);	/* lines of vigild's log holding needle */
/* Wait until the service's STATUS= text (status_text) is text. */
bool	 vh_wait_status_text(const char *name, const char *text, int timeout_ms);
/* A loopback TCP port nobody listens on now (the kernel's pick, released at once). */
int	 vh_free_port(void);
void	 vh_teardown(void);
/* Where vigild put its services' cgroups (its log says), NULL when cgroups are off. */
const char *vh_cgroup_base(void);
/*
 * Skip the running test with a reason that shows: Criterion prints [SKIP]
 * lines only when verbose, so the reason also goes out as a warning.
 */
#define VH_SKIP(...) do {						\
		cr_log_warn("skipped: " __VA_ARGS__);				\
		cr_skip_test(__VA_ARGS__);					\
	} while (0)
long long vh_now_ms(void);
/*
 * The time at the start of a line of `vigilctl log` (-o short, local time,
 * "Dec 06 03:19:35.123 "), as seconds since the Epoch, of the year that puts
 * it nearest to now; -1 if the line does not start so.
 */
double	 vh_log_time(const char *line);
/*
 * out, a `vigilctl log` output, with each line's time taken off (static
 * buffer); a line without one starts with "NO TIME: ", so a comparison fails.
 */
const char *vh_untimed(const char *out);

#endif
