/*
 * main.c: vigild's command line, start-up order and exit. Loads and
 * checks the config, sets up the loop, signals and control socket, then
 * leaves everything else to the loop.
 */
#include "config.h"
#include "vigild.h"
#include "control/commands.h"
#include "control/http.h"
#include "control/reload.h"
#include "handover.h"
#include "core/cgroup.h"
#include "core/groupfile.h"
#include "core/notify.h"
#include "core/outer.h"
#include "core/spawn.h"
#include "output/console.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <paths.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>


static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: vigild [-c FILE] [--check] [-d] [-f] [--version] [-h]\n"
	    "       vigild [--restart WHEN] [--socket PATH] [-d] [-f] [--] COMMAND [ARG...]\n"
	    "  -c, --config FILE  configuration (default: %s)\n"
	    "      --check        validate the configuration, print every error, start nothing\n"
	    "  -d, --daemon       detach from the terminal; log to syslog\n"
	    "  -f, --foreground   stay in the foreground (the default)\n"
	    "      --restart WHEN with a COMMAND: never (the default), on-failure or always\n"
	    "      --socket PATH  with a COMMAND: the control socket (default: %s)\n"
	    "  COMMAND [ARG...]   supervise this one command, no configuration file: vigild\n"
	    "                     exits with its exit code (128+N for signal N), as tini does\n"
	    "      --version      print the version\n"
	    "  -h, --help         this help\n", config_default_path(), config_default_socket());
}

/* A child must find 0, 1 and 2 open; so must our own first open(). */
static void
ensure_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	/*
	 * Whatever our parent leaked to us must not reach the services: mark
	 * every inherited fd above 2 close-on-exec (kept open for our own use).
	 */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
		for (fd = 3; fd < 1024; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
}

/* The file's config, or with command (vigild -- COMMAND) that command's. */
static struct config *
load_config(const char *path, char *const *command, const char *restart,
    const char *socket)
{
	struct config_errors errs = { NULL, 0 };
	struct config *conf = command != NULL ?
	    config_from_command(command, restart, socket, &errs) : config_load(path, &errs);

	if (command != NULL)
		path = "vigild --";

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	if (conf == NULL)
		fprintf(stderr, "vigild: %s: %zu error%s, nothing started\n", path,
		    errs.n, errs.n == 1 ? "" : "s");
	config_errors_free(&errs);
	return conf;
}

/*
 * vigild --check, once the file loaded: would vigild get its log folder?
 * Nothing is made; a folder that is missing must be makeable. 0 or 1.
 */
static int
check_runtime(const struct config *conf, const char *path)
{
	char err[1024];

	if (output_check_log_dir(conf->log_dir, err, sizeof(err)) == -1) {
		if (conf->log_dir_line > 0)
			fprintf(stderr, "%s:%d: [vigil] log_dir: %s\n", conf->file,
			    conf->log_dir_line, err);
		else
			fprintf(stderr, "%s: [vigil] log_dir (not set, the default): %s\n",
			    path, err);
		fprintf(stderr, "vigild: %s: 1 error, nothing started\n", path);
		return 1;
	}
	printf("%s: ok, %zu service%s", path, conf->nservices,
	    conf->nservices == 1 ? "" : "s");
	/* what the templates make on request is checked then: say they were seen */
	if (conf->ntemplates > 0)
		printf(" (instances included), %zu template%s", conf->ntemplates,
		    conf->ntemplates == 1 ? "" : "s");
	printf("\n");
	return 0;
}

/*
 * vigild is about to log to syslog (-d, or log_target = syslog): say now,
 * while stderr is still the terminal's, when no syslog daemon listens.
 */
static void
warn_if_no_syslog(void)
{
	struct stat st;

	if (stat(_PATH_LOG, &st) == -1)
		fprintf(stderr, "vigild: warning: %s: %s: vigild logs to syslog, and no "
		    "syslog daemon listens there, so its own log is lost; set [vigil] "
		    "log_target = journal or stderr, or run it in the foreground\n",
		    _PATH_LOG, strerror(errno));
}

/*
 * -d: fork; the parent exits once the child is listening (0) or has failed
 * (1), so an init script that runs vigilctl next finds the socket.
 */
static int
detach(void)
{
	int pfd[2], fd;
	char c;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(pfd[1]);
		exit(read(pfd[0], &c, 1) == 1 ? 0 : 1);
	}
	close(pfd[0]);
	/* a daemon keeps nothing of the terminal session that started it */
	if (pfd[1] > 3)
		close_range(3, (unsigned)pfd[1] - 1, 0);
	close_range((unsigned)pfd[1] + 1, ~0U, 0);
	if (setsid() == -1)
		fatal("setsid");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	log_to_syslog();
	return pfd[1];
}

/* For the journal's VIGIL_SERVICE= and VIGIL_PID=: whether a line's subject is a service. */
static bool
log_subject_cb(const char *subject, long *pid)
{
	struct service *s = supervisor_find(subject);

	if (s == NULL)
		return false;
	*pid = s->pid > 0 ? (long)s->pid : 0;
	return true;
}

static void
sigchld_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	reap_children();
}

static void
sigterm_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop, (void)revents;
	/* SIGPWR: how LXC and other container managers ask an init to halt */
	supervisor_shutdown(w->signum == SIGINT ? "SIGINT" : w->signum == SIGPWR ? "SIGPWR" :
	    "SIGTERM");
}

static void
sigquit_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	supervisor_shutdown_now("SIGQUIT");
}

static void
sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	uint64_t removed;

	(void)loop, (void)w, (void)revents;
	log_notice("SIGHUP received: reloading the configuration");
	json_decref(reload_run(false, &removed));	/* the plan and any errors are logged */
}

static void
sigusr1_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	output_reopen_all();	/* logrotate moved the files away */
}

static void
sigpipe_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	/* watched only so a closed stderr pipe is an EPIPE, not our death */
	(void)loop, (void)w, (void)revents;
}

static ev_signal sig_watchers[8];	/* at least as many as the table below */

static void
setup_signals(void)
{
	static const struct {
		int sig;
		void (*cb)(struct ev_loop *, ev_signal *, int);
	} table[] = {
		{ SIGCHLD, sigchld_cb }, { SIGTERM, sigterm_cb }, { SIGINT, sigterm_cb },
		{ SIGHUP, sighup_cb }, { SIGPIPE, sigpipe_cb }, { SIGUSR1, sigusr1_cb },
		{ SIGPWR, sigterm_cb }, { SIGQUIT, sigquit_cb },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		ev_signal_init(&sig_watchers[i], table[i].cb, table[i].sig);
		ev_signal_start(vigild.loop, &sig_watchers[i]);
	}
}

static const struct commands_daemon_ops daemon_ops = { handover_request, handover_hello };

static int
run(struct config *conf, int ready_fd, int handover_fd)
{
	char err[1024];

	/* not the default loop: it would reap our children behind wait4's back */
	vigild.loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_SIGNALFD | EVFLAG_NOENV);
	if (vigild.loop == NULL)
		fatalx("cannot create the event loop");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER): orphans will go to init");
	setup_signals();
	if (spawn_init() == -1)
		fatal("spawn setup");
	if (config_fallback_check(conf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	console_configure(vigild.loop, conf);
	if (output_init(vigild.loop, conf->log_dir) == -1)
		return 1;	/* logged: an unsafe log folder */
	cgroup_init(conf);
	if (supervisor_init(conf) == -1)
		fatal("out of memory");
	control_set_handler(commands_dispatch);
	commands_set_daemon_ops(&daemon_ops);
	/*
	 * Before the control socket, so that no client ever finds a vigild
	 * that is about to give up. Bound anew after a daemon-reexec (the old
	 * socket closed at execve); failing then only loses metrics: the
	 * services are ours to keep.
	 */
	if (conf->metrics_listen != NULL && http_open(conf->metrics_listen) == -1 &&
	    handover_fd < 0)
		return 1;	/* logged, with the address and why */
	/* after a daemon-reexec the listening socket is the old vigild's: handover_restore's */
	if (handover_fd < 0 && control_open(conf->socket_path) == -1) {
		http_close();
		return 1;
	}
	/*
	 * Kept without cgroups; read in both modes, as the killed vigild may
	 * have run without. After control_open: made in the socket's folder
	 * only once that folder was checked.
	 */
	(void)groupfile_init(conf->socket_path);	/* logged */
	/*
	 * The socket is ours, so no other vigild runs with this config: what
	 * one killed before us left is ended before anything starts.
	 */
	if (handover_fd < 0) {
		cgroup_recover(conf);
		groupfile_recover(conf);
	}
	(void)notify_init(conf->socket_path);	/* logged; notify services then fail to start */
	if (handover_fd >= 0 && handover_restore(handover_fd) == -1)
		return 1;	/* logged; the services run on, orphaned to init */
	if (ready_fd >= 0) {
		if (write(ready_fd, "", 1) != 1)
			log_warn("telling the parent we are up");
		close(ready_fd);
	}
	log_notice("vigild %s started, pid %d, %zu services", VIGIL_VERSION,
	    (int)getpid(), vigild.nservices);
	if (outer_notifying())
		log_info("telling the service manager how vigild is (sd_notify)");
	outer_start(vigild.loop);
	if (handover_fd < 0) {
		supervisor_start_all();
	} else {
		/* deaths while no one listened: their SIGCHLD is pending, their zombies wait */
		reap_children();
		outer_reloaded();
	}
	outer_services_started();
	ev_run(vigild.loop, 0);
	reap_children();
	reap_leftovers();
	reap_stop();
	http_close();
	control_close();
	console_free();
	outer_free();
	/* an essential service's code wins; else whether the stop was clean */
	if (!vigild.exit_code_set && vigild.killed_at_shutdown)
		vigild.exit_code = VIGILD_EXIT_KILLED;
	log_notice("vigild exiting with status %d", vigild.exit_code);
	return vigild.exit_code;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "restart", required_argument, NULL, 'R' },
		{ "socket", required_argument, NULL, 's' },
		{ "handover", required_argument, NULL, 'H' },
		{ "handover-version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *restart = NULL, *socket = NULL;
	char *const *command = NULL;
	bool check = false, daemonize = false;
	struct config *conf;
	int ch, rc, ready_fd = -1, handover_fd = -1;
	char *end;

	ensure_std_fds();
	handover_init(argv);
	/*
	 * What a supervisor above us gave us (systemd's notify socket,
	 * watchdog and listening sockets) is ours alone: out of the
	 * environment before any service is spawned.
	 */
	outer_init();
	/*
	 * A fixed threshold keeps big, short-lived buffers (a status of a
	 * thousand services) in their own mappings, returned when freed;
	 * glibc's sliding default would move them onto the heap for good.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	log_init("vigild", LOG_LEVEL_INFO);
	/* "+": options end at the command's name, so its own options stay its */
	while ((ch = getopt_long(argc, argv, "+c:dfh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'R': restart = optarg; break;
		case 's': socket = optarg; break;
		case 'C': check = true; break;
		case 'd': daemonize = true; break;
		case 'f': daemonize = false; break;
		case 'V': printf("vigild %s\n", VIGIL_VERSION); return 0;
		/* daemon-reexec's own options (vigild(8)): the old vigild asks, then passes its state */
		case 'v': printf("%d\n", HANDOVER_FORMAT); return 0;
		case 'H':
			handover_fd = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || handover_fd < 3) {
				fprintf(stderr, "vigild: --handover=%s: expected an fd number\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		command = argv + optind;
	if (command != NULL && path != NULL) {
		fprintf(stderr, "vigild: either a configuration file (-c %s) or a command "
		    "('%s'), not both\n", path, command[0]);
		return 2;
	}
	if (command == NULL && (restart != NULL || socket != NULL)) {
		fprintf(stderr, "vigild: --%s is for a command: vigild --%s %s "
		    "-- COMMAND [ARG...]\n", restart ? "restart" : "socket",
		    restart ? "restart" : "socket", restart ? restart : socket);
		return 2;
	}
	if (path == NULL)
		path = config_default_path();
	if ((conf = load_config(path, command, restart, socket)) == NULL)
		return 1;
	if (check) {
		rc = check_runtime(conf, command != NULL ? "vigild --" : path);
		config_free(conf);
		return rc;
	}
	log_set_level(conf->log_level);
	if (handover_fd < 0 && conf->log_target != LOG_TARGET_JOURNAL &&
	    (daemonize || conf->log_target == LOG_TARGET_SYSLOG))
		warn_if_no_syslog();
	if (daemonize && handover_fd >= 0)
		log_to_syslog();	/* detached already, before the exec */
	else if (daemonize)
		ready_fd = detach();	/* and logs to syslog from then on */
	else if (conf->log_target == LOG_TARGET_SYSLOG)
		log_to_syslog();
	/* the journal is no terminal: it wins over --daemon's syslog too */
	if (conf->log_target == LOG_TARGET_JOURNAL && log_to_journal() == 0)
		log_set_subject_lookup(log_subject_cb);
	rc = run(conf, ready_fd, handover_fd);
	/* the services are freed one by one: no line may look them up meanwhile */
	log_set_subject_lookup(NULL);
	supervisor_free();
	cgroup_cleanup();
	groupfile_cleanup();
	notify_cleanup();
	/* a reload replaces the config: free the one in use */
	config_free(vigild.conf != NULL ? vigild.conf : conf);
	ev_loop_destroy(vigild.loop);
	return rc;
}
