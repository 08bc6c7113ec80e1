/*
 * test_import.c: vigilctl import-supervisord on supervisord configurations
 * as people write them (a web shop with a worker pool, a Django/Celery
 * stack with includes and %(...)s expansions, a container's config), each
 * checked key by key, by vigild --check, and one run for real by vigild.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(import, .fini = vh_teardown, .timeout = 180);

#define UP_MS	20000

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* vigilctl import-supervisord path into r; its exit code. */
static int
import(struct vh_result *r, const char *path)
{
	return vh_ctl(r, "import-supervisord", path, NULL);
}

/* Every line within vigil's 198 characters. */
static void
expect_short_lines(const char *text)
{
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		cr_expect_leq(len, 198, "a line of %zu characters: %.60s...", len, p);
		p += len + (nl != NULL);
	}
}

/* vigild --check -c path: its exit code; its output into out. */
static int
vigild_check(const char *path, char *out, size_t outlen)
{
	int pfd[2], status;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execl(getenv("VIGILD"), "vigild", "--check", "-c", path, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (len + 1 < outlen && (n = read(pfd[0], out + len, outlen - len - 1)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(pfd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Import, save the result as vh_path(name), and have vigild --check it. */
static void
import_and_check(struct vh_result *r, const char *conf, const char *name)
{
	char out[8192];

	cr_assert_eq(import(r, conf), 0, "import failed: %s", r->err);
	cr_expect_str_empty(r->err, "warnings on stderr: %s", r->err);
	expect_short_lines(r->out);
	write_file(vh_path(name), r->out);
	cr_expect_eq(vigild_check(vh_path(name), out, sizeof(out)), 0,
	    "vigild --check refused the import:\n%s\n--- the import:\n%s", out, r->out);
}

/* The text of [service:name] in an import, up to the next section. */
static char *
section_of(const char *text, const char *name)
{
	static char buf[16384];
	char head[128];
	const char *s, *e;

	snprintf(head, sizeof(head), "\n[service:%s]\n", name);
	if ((s = strstr(text, head)) == NULL)
		return NULL;
	s += strlen(head);
	e = strstr(s, "\n[");
	snprintf(buf, sizeof(buf), "%.*s", e != NULL ? (int)(e - s) : (int)strlen(s), s);
	return buf;
}

static void
expect_line(const char *sec, const char *line)
{
	char want[512];

	cr_assert_not_null(sec, "no such service section");
	snprintf(want, sizeof(want), "\n%s\n", line);
	cr_expect(strstr(sec, want) != NULL || strncmp(sec, want + 1, strlen(want) - 1) == 0,
	    "no line '%s' in:\n%s", line, sec);
}

static const char webshop[] =
	"; a web shop: one web server, a pool of workers\n"
	"[unix_http_server]\n"
	"file=/var/run/supervisor.sock   ; (the path to the socket file)\n"
	"\n"
	"[supervisord]\n"
	"logfile=/var/log/supervisor/supervisord.log ; main log file\n"
	"pidfile=/var/run/supervisord.pid\n"
	"loglevel=warn\n"
	"environment=APP_ENV=\"production\",TZ=UTC\n"
	"\n"
	"[rpcinterface:supervisor]\n"
	"supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
	"\n"
	"[program:web]\n"
	"command=/bin/sh -c \"echo 'serving on :8080'; exec sleep 1000\"\n"
	"directory=/tmp\n"
	"autostart=true\n"
	"autorestart=true\n"
	"startsecs=2\n"
	"startretries=5\n"
	"stopsignal=QUIT\n"
	"stopwaitsecs=20\n"
	"stopasgroup=true\n"
	"killasgroup=true\n"
	"redirect_stderr=true\n"
	"stdout_logfile_maxbytes=50MB\n"
	"stdout_logfile_backups=10\n"
	"environment=PORT=\"8080\",GREETING='hello world'\n"
	"priority=100\n"
	"\n"
	"[program:worker]\n"
	"command=/bin/sleep 1000\n"
	"process_name=%(program_name)s_%(process_num)02d\n"
	"numprocs=3\n"
	"priority=200\n"
	"autorestart=unexpected\n"
	"exitcodes=0,2\n"
	"stderr_logfile=NONE\n"
	"stdout_capture_maxbytes=1MB\n"
	"stopasgroup=false\n"
	"\n"
	"[group:shop]\n"
	"programs=web,worker\n";

Test(import, a_web_shop_maps_key_by_key_and_passes_check)
{
	struct vh_result r;
	const char *web, *w;

	vh_setup("%s", "");
	write_file(vh_path("supervisord.conf"), webshop);
	import_and_check(&r, vh_path("supervisord.conf"), "vigil-import.conf");

	cr_expect(strstr(r.out, "\n[vigil]\nlog_level = warn\n") != NULL, "%s", r.out);
	web = section_of(r.out, "web");
	expect_line(web, "command = /bin/sh -c 'echo '\\''serving on :8080'\\''; exec sleep 1000'");
	expect_line(web, "directory = /tmp");
	expect_line(web, "environment = APP_ENV=production TZ=UTC PORT=8080 'GREETING=hello world'");
	expect_line(web, "restart = always");
	expect_line(web, "start_secs = 2s");
	expect_line(web, "start_retries = 6");	/* 5 retries after the first try */
	expect_line(web, "stop_signal = QUIT");
	expect_line(web, "stop_timeout = 20s");
	expect_line(web, "kill_mode = all");
	expect_line(web, "stderr = stdout");
	expect_line(web, "log_max_size = 50M");
	expect_line(web, "log_keep = 10");
	cr_expect(strstr(web, "\nafter") == NULL, "the lowest priority waits for none:\n%s", web);

	for (int i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "worker_%02d", i);
		w = section_of(r.out, name);
		cr_assert_not_null(w, "no [service:%s] in:\n%s", name, r.out);
		expect_line(w, "command = /bin/sleep 1000");
		expect_line(w, "restart = on-failure");
		expect_line(w, "start_retries = 4");	/* supervisord's default 3 */
		expect_line(w, "after = web");
		expect_line(w, "stderr = null");
		/* what vigil cannot do is said, with where it was written */
		cr_expect(strstr(w, "supervisord.conf:37 [program:worker] exitcodes = 0,2\n"
		    "#   not mapped: vigil takes only exit code 0") != NULL, "%s", w);
		cr_expect(strstr(w, ":39 [program:worker] stdout_capture_maxbytes = 1MB\n"
		    "#   not mapped:") != NULL, "%s", w);
		cr_expect(strstr(w, ":40 [program:worker] stopasgroup = false\n"
		    "#   not mapped: vigil ends every process") != NULL, "%s", w);
	}
	cr_expect_null(section_of(r.out, "worker_03"), "numprocs = 3 made a fourth");
	cr_expect(strstr(r.out, ":3 [unix_http_server] file = /var/run/supervisor.sock\n"
	    "#   not mapped:") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, ":6 [supervisord] logfile = /var/log/supervisor/supervisord.log\n"
	    "#   not mapped:") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, ":43 [group:shop] programs = web,worker\n#   not mapped:") != NULL,
	    "%s", r.out);
	cr_expect(strstr(r.out, "[rpcinterface:supervisor] supervisor.rpcinterface_factory") != NULL,
	    "%s", r.out);
}

Test(import, includes_expansions_and_continuation_lines_of_a_django_stack)
{
	struct vh_result r;
	char *here, host[256], want[512];
	const char *celery, *beat, *app;

	vh_setup("%s", "");
	here = realpath(vh.dir, NULL);
	cr_assert_not_null(here);
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	cr_assert_eq(mkdir(vh_path("conf.d"), 0755), 0);
	cr_assert_eq(setenv("VIGIL_IMPORT_QUEUE", "emails", 1), 0);
	write_file(vh_path("supervisord.conf"),
	    "[supervisord]\n"
	    "nodaemon=true\n"
	    "childlogdir=%(here)s/logs\n"
	    "\n"
	    "[include]\n"
	    "files = conf.d/*.conf\n");
	write_file(vh_path("conf.d/app.conf"),
	    "[program:app]\n"
	    "# gunicorn serves the site\n"
	    "command = /bin/sleep 1000 --name %(program_name)s\n"
	    "    --host %(host_node_name)s   ; a comment after the value\n"
	    "    --rate 100%%\n"
	    "directory = %(here)s\n"
	    "user = nobody\n"
	    "umask = 027\n"
	    "stdout_logfile = %(here)s/app.log\n"
	    "stderr_logfile = /dev/stderr\n");
	write_file(vh_path("conf.d/celery.conf"),
	    "[program:celery]\n"
	    "command=/bin/sleep 1000 -Q %(ENV_VIGIL_IMPORT_QUEUE)s\n"
	    "process_name=celery-%(process_num)d\n"
	    "numprocs=2\n"
	    "numprocs_start=1\n"
	    "priority=998\n"
	    "autostart=false\n"
	    "\n"
	    "[program:beat]\n"
	    "command=/bin/sleep 1000\n"
	    "autorestart=false\n"
	    "stopsignal=INT\n");
	import_and_check(&r, vh_path("supervisord.conf"), "vigil-import.conf");

	snprintf(want, sizeof(want), "\nlog_dir = %s/logs\n", here);
	cr_expect(strstr(r.out, want) != NULL, "no '%s' in:\n%s", want + 1, r.out);
	cr_expect(strstr(r.out, "[supervisord] nodaemon = true\n#   not mapped:") != NULL,
	    "%s", r.out);
	snprintf(want, sizeof(want), "# and %s/conf.d/app.conf", here);
	cr_expect(strstr(r.out, want) != NULL, "no '%s' in:\n%s", want, r.out);

	app = section_of(r.out, "app");
	cr_assert_not_null(app, "%s", r.out);
	snprintf(want, sizeof(want), "command = /bin/sleep 1000 --name app --host %s --rate 100%%",
	    host);
	/* a host name of plain characters stays unquoted */
	if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
	    strlen(host))
		expect_line(app, want);
	snprintf(want, sizeof(want), "directory = %s/conf.d", here);
	expect_line(app, want);
	expect_line(app, "user = nobody");
	expect_line(app, "umask = 027");
	snprintf(want, sizeof(want), "stdout = file:%s/conf.d/app.log", here);
	expect_line(app, want);
	expect_line(app, "stderr = inherit");
	expect_line(app, "restart = on-failure");	/* supervisord's default: unexpected */
	expect_line(app, "after = celery-1 celery-2");

	cr_expect_null(section_of(r.out, "celery-0"), "numprocs_start = 1 starts at 1");
	for (int i = 1; i <= 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "celery-%d", i);
		celery = section_of(r.out, name);
		cr_assert_not_null(celery, "no %s in:\n%s", name, r.out);
		expect_line(celery, "command = /bin/sleep 1000 -Q emails");
		expect_line(celery, "autostart = no");
		/* 998 is the lowest priority here: started first, after none */
		cr_expect(strstr(celery, "\nafter") == NULL, "%s", celery);
	}
	beat = section_of(r.out, "beat");
	expect_line(beat, "restart = never");
	expect_line(beat, "stop_signal = INT");
	expect_line(beat, "after = celery-1 celery-2");
	free(here);
}

Test(import, a_long_command_goes_on_continuation_lines_that_vigild_joins)
{
	struct vh_result r;
	char conf[4096], word[64], path[64], cmdline[4096], *p;
	size_t n;
	ssize_t len;
	pid_t pid;
	int fd;

	vh_setup("%s", "");
	n = (size_t)snprintf(conf, sizeof(conf), "[program:long]\ncommand=%s", vh_testsvc());
	for (int i = 0; i < 40; i++) {
		snprintf(word, sizeof(word), " 'echo:word %02d'", i);
		n += (size_t)snprintf(conf + n, sizeof(conf) - n, "%s", word);
	}
	snprintf(conf + n, sizeof(conf) - n, " sleep:1000\n");
	write_file(vh_path("supervisord.conf"), conf);
	cr_assert_eq(import(&r, vh_path("supervisord.conf")), 0, "%s", r.err);
	expect_short_lines(r.out);
	cr_expect(strstr(r.out, "\n\t'echo:word") != NULL, "no continuation line:\n%s", r.out);
	/* run it: every word arrives whole, in order */
	vh_add_services("%s", strstr(r.out, "\n[service:long]"));
	vh_start_ok();
	cr_assert(vh_wait_state("long", "running", UP_MS), "log:\n%s", vh_log_tail());
	pid = vh_main_pid("long");
	cr_assert_gt(pid, 0);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	len = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	cr_assert_gt(len, 0);
	p = cmdline + strlen(cmdline) + 1;	/* past argv[0] */
	for (int i = 0; i < 40; i++) {
		snprintf(word, sizeof(word), "echo:word %02d", i);
		cr_assert(p < cmdline + len, "argv ends before word %d", i);
		cr_expect_str_eq(p, word);
		p += strlen(p) + 1;
	}
	cr_expect_str_eq(p, "sleep:1000");
}

Test(import, a_converted_config_runs_under_vigild)
{
	struct vh_result r;
	char conf[2048], path[64];
	static char env[1 << 20];	/* a test's environment (make check's) can be large */
	const char *text;
	pid_t web;
	int fd;
	ssize_t n = 0, got;

	vh_setup("%s", "");
	snprintf(conf, sizeof(conf),
	    "[supervisord]\n"
	    "environment=APP_ENV=\"production\"\n"
	    "[program:web]\n"
	    "command=%s sleep:1000\n"
	    "environment=GREETING='hello world',PORT=8080\n"
	    "priority=1\n"
	    "[program:worker]\n"
	    "command=%s sleep:1000\n"
	    "process_name=worker_%%(process_num)d\n"
	    "numprocs=2\n"
	    "[program:cron]\n"
	    "command=%s sleep:1000\n"
	    "autostart=false\n", vh_testsvc(), vh_testsvc(), vh_testsvc());
	write_file(vh_path("supervisord.conf"), conf);
	cr_assert_eq(import(&r, vh_path("supervisord.conf")), 0, "%s", r.err);
	/* the harness's own [vigil] section (socket, log_dir) comes first */
	text = strstr(r.out, "\n[service:");
	cr_assert_not_null(text, "%s", r.out);
	vh_add_services("%s", text);
	vh_start_ok();
	cr_assert(vh_wait_state("web", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_state("worker_0", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_assert(vh_wait_state("worker_1", "running", UP_MS), "log:\n%s", vh_log_tail());
	cr_expect(vh_wait_state("cron", "stopped", UP_MS), "autostart = false");

	web = vh_main_pid("web");
	cr_assert_gt(web, 0);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)web);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	while ((got = read(fd, env + n, sizeof(env) - 1 - (size_t)n)) > 0)
		n += got;
	close(fd);
	cr_assert_gt(n, 0);
	env[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (env[i] == '\0')
			env[i] = '\n';
	cr_expect(strstr(env, "\nGREETING=hello world\n") != NULL ||
	    strncmp(env, "GREETING=hello world\n", 21) == 0, "no GREETING in environ");
	cr_expect(strstr(env, "\nAPP_ENV=production\n") != NULL ||
	    strncmp(env, "APP_ENV=production\n", 19) == 0, "no APP_ENV in environ");
	cr_expect(strstr(env, "\nPORT=8080\n") != NULL || strncmp(env, "PORT=8080\n", 10) == 0,
	    "no PORT in environ");
}

Test(import, what_supervisord_refuses_is_refused_with_where_and_nothing_on_stdout)
{
	static const struct {
		const char *conf, *msg;
	} bad[] = {
		{ "[program:w]\ncommand=/bin/sleep 1\nnumprocs=2\n",
		    "numprocs = 2 needs a process_name with %(process_num)s" },
		{ "[program:w]\ndirectory=/tmp\n", "supervisord.conf:1: [program:w] has no command" },
		{ "[program:w]\ncommand=/bin/sleep \"1\n", "supervisord.conf:2: [program:w] command: "
		    "no closing quotation" },
		{ "[program:w]\ncommand=/bin/sleep %(ENV_VIGIL_TEST_UNSET_X)s\n",
		    "supervisord.conf:2: [program:w] command: %(ENV_VIGIL_TEST_UNSET_X)s: "
		    "VIGIL_TEST_UNSET_X is not set" },
		{ "command=/bin/sleep 1\n", "supervisord.conf:1: expected a [section] line" },
		{ "[program:w]\nthis line has no delimiter\n", "supervisord.conf:2: expected "
		    "'key = value'" },
		{ "[program:w]\ncommand=/bin/sleep 1\nnumprocs=zero\n", "numprocs: expected 1 to" },
	};
	struct vh_result r;

	vh_setup("%s", "");
	unsetenv("VIGIL_TEST_UNSET_X");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(vh_path("supervisord.conf"), bad[i].conf);
		cr_expect_eq(import(&r, vh_path("supervisord.conf")), 1, "case %zu: %s", i, r.err);
		cr_expect_str_empty(r.out, "case %zu printed:\n%s", i, r.out);
		cr_expect(strstr(r.err, bad[i].msg) != NULL, "case %zu: no '%s' in: %s", i,
		    bad[i].msg, r.err);
	}
	cr_expect_eq(import(&r, vh_path("no-such.conf")), 1);
	cr_expect(strstr(r.err, "no-such.conf: cannot open: No such file or directory") != NULL,
	    "%s", r.err);
}
