/*
 * test_config.c: config.c and config_values.c against the files in
 * tests/conf: good-*.conf field by field, bad-*.conf against the exact
 * messages in bad-*.out, and the shipped conf/vigil.conf.
 */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigild.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)	/* clang's way to say it */
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() __lsan_do_recoverable_leak_check()
#else
#define LEAK_CHECK() 0
#endif

#ifndef CONF_TEST_DIR
#error "CONF_TEST_DIR must name tests/conf"
#endif
#ifndef SHIPPED_CONF
#error "SHIPPED_CONF must name conf/vigil.conf"
#endif

extern char **environ;

/* The environment the service would be spawned with (composed as vigild does). */
static char **
envp_of(const struct service_conf *sc)
{
	static char **scratch;
	static size_t cap;

	return config_service_envp(sc, NULL, &scratch, &cap);
}

static struct config_errors errs;

static void
go_to_conf_dir(void)
{
	cr_assert(chdir(CONF_TEST_DIR) == 0, "cannot chdir to %s", CONF_TEST_DIR);
}

static void
drop_errors(void)
{
	config_errors_free(&errs);
}

/*
 * Every test ends here. Under ASan, LeakSanitizer would only report at exit,
 * after Criterion has counted the test as passed (and an assert in .fini
 * does not count): check now, so a leak fails the test.
 */
static void
done(struct config *conf)
{
	config_free(conf);
	config_errors_free(&errs);
	cr_assert(LEAK_CHECK() == 0, "memory leaked: see LeakSanitizer's report above");
}

/* Load a file that must be good; any message fails the test and is shown. */
static struct config *
load_good(const char *path)
{
	struct config *conf = config_load(path, &errs);

	for (size_t i = 0; i < errs.n; i++)
		cr_log_error("%s", errs.msgs[i]);
	cr_assert(conf != NULL && errs.n == 0, "%s: expected no errors, got %zu "
	    "(first: %s)", path, errs.n, errs.n ? errs.msgs[0] : "-");
	return conf;
}

static struct service_conf *
find_service(const struct config *conf, const char *name)
{
	for (size_t i = 0; i < conf->nservices; i++)
		if (strcmp(conf->services[i]->name, name) == 0)
			return conf->services[i];
	cr_assert_fail("service '%s' not found in %s", name, conf->file);
	return NULL;
}

/* Compare a NULL-terminated vector with the expected words, naming both. */
static void
assert_words(const char *what, char *const *got, const char *const *want)
{
	size_t i;

	cr_assert(got != NULL, "%s: expected a vector, got NULL", what);
	for (i = 0; want[i] != NULL; i++) {
		cr_assert(got[i] != NULL, "%s: expected %s[%zu] = '%s', got the "
		    "end of the vector", what, what, i, want[i]);
		cr_assert(strcmp(got[i], want[i]) == 0, "%s[%zu]: expected '%s', "
		    "got '%s'", what, i, want[i], got[i]);
	}
	cr_assert(got[i] == NULL, "%s: expected %zu words, got more: '%s'",
	    what, i, got[i]);
}

static size_t
count_prefix(char *const *v, const char *prefix)
{
	size_t n = 0;

	for (; *v != NULL; v++)
		n += strncmp(*v, prefix, strlen(prefix)) == 0;
	return n;
}

static bool
has_word(char *const *v, const char *w)
{
	for (; *v != NULL; v++)
		if (strcmp(*v, w) == 0)
			return true;
	return false;
}

TestSuite(config_good, .init = go_to_conf_dir, .fini = drop_errors);

Test(config_good, minimal_gets_every_default)
{
	struct config *conf = load_good("good-minimal.conf");
	struct service_conf *sc = conf->services[0];

	cr_expect_str_eq(conf->file, "good-minimal.conf");
	cr_expect_str_eq(conf->socket_path, config_default_socket(),
	    "socket: expected the default '%s', got '%s'",
	    config_default_socket(), conf->socket_path);
	cr_expect_null(conf->include, "include: expected NULL, got '%s'", conf->include);
	cr_expect_eq(conf->log_level, LOG_LEVEL_INFO, "log_level: expected info, got %d",
	    (int)conf->log_level);
	cr_expect_eq(conf->client_timeout_ms, 30000, "client_timeout: expected 30s, got %lldms",
	    (long long)conf->client_timeout_ms);
	cr_expect_null(conf->cgroup, "cgroup: expected NULL (auto), got '%s'", conf->cgroup);
	cr_assert_eq(conf->nservices, 1, "expected 1 service, got %zu", conf->nservices);
	cr_expect_str_eq(sc->name, "web");
	cr_expect_str_eq(sc->file, "good-minimal.conf");
	cr_expect_eq(sc->line, 2, "line: expected 2 (the header), got %d", sc->line);
	cr_expect_str_eq(sc->command, "/usr/sbin/nginx -g 'daemon off;'");
	assert_words("argv", sc->argv,
	    (const char *[]){ "/usr/sbin/nginx", "-g", "daemon off;", NULL });
	assert_words("exec_paths", sc->exec_paths,
	    (const char *[]){ "/usr/sbin/nginx", NULL });
	assert_words("environment", sc->environment, (const char *[]){ NULL });
	assert_words("envp", envp_of(sc), (const char *const *)environ);
	cr_expect_not(sc->clear_environment, "clear_environment: expected no");
	cr_expect_null(sc->directory, "directory: expected NULL, got '%s'", sc->directory);
	cr_expect_null(sc->user, "user: expected NULL, got '%s'", sc->user);
	cr_expect_null(sc->group, "group: expected NULL, got '%s'", sc->group);
	cr_expect_not(sc->set_ids, "set_ids: expected false without user or group");
	cr_expect_eq(sc->umask, -1, "umask: expected -1, got %#o", sc->umask);
	cr_expect(sc->autostart, "autostart: expected yes");
	cr_expect_eq(sc->restart, RESTART_ALWAYS, "restart: expected always, got %d",
	    (int)sc->restart);
	cr_expect_eq(sc->restart_delay_ms, 100, "restart_delay: expected 100ms, got %lld",
	    (long long)sc->restart_delay_ms);
	cr_expect_eq(sc->restart_delay_max_ms, 30000, "restart_delay_max: expected "
	    "30s, got %lldms", (long long)sc->restart_delay_max_ms);
	cr_expect_eq(sc->start_secs_ms, 1000, "start_secs: expected 1s, got %lldms",
	    (long long)sc->start_secs_ms);
	cr_expect_eq(sc->start_retries, 0, "start_retries: expected 0, got %u",
	    sc->start_retries);
	cr_expect_eq(sc->stop_signal, SIGTERM, "stop_signal: expected TERM, got %d",
	    sc->stop_signal);
	cr_expect_eq(sc->stop_timeout_ms, 10000, "stop_timeout: expected 10s, got "
	    "%lldms", (long long)sc->stop_timeout_ms);
	cr_expect_eq(sc->kill_mode, KILL_MODE_ALL, "kill_mode: expected all, got %d",
	    (int)sc->kill_mode);
	done(conf);
}

Test(config_good, full_sets_every_key)
{
	struct config *conf = load_good("good-full.conf");
	struct service_conf *sc = find_service(conf, "web-1.example@x_y");

	cr_expect_str_eq(conf->socket_path, "/tmp/vigil-test/vigil.sock",
	    "socket: an inline comment must be cut, got '%s'", conf->socket_path);
	cr_expect_eq(conf->log_level, LOG_LEVEL_DEBUG, "log_level: expected debug "
	    "(written 'log_level: debug'), got %d", (int)conf->log_level);
	cr_expect_eq(conf->client_timeout_ms, 90000, "client_timeout: expected 1.5m, got %lldms",
	    (long long)conf->client_timeout_ms);
	cr_expect_str_eq(conf->cgroup, "/sys/fs/cgroup/unified/vigil");
	cr_expect_eq(sc->kill_mode, KILL_MODE_MAIN, "kill_mode: expected main, got %d",
	    (int)sc->kill_mode);
	cr_assert_eq(conf->nservices, 5, "expected 5 services, got %zu", conf->nservices);
	cr_expect_eq(sc->line, 6, "line: expected 6, got %d", sc->line);
	cr_expect_str_eq(sc->command, "/bin/sh -c \"echo \\\"a b\\\" 'c d'; exit 0\" "
	    "--extra 'two words' back\\ slash",
	    "command: continuation lines must be joined with one blank, the "
	    "comment cut; got '%s'", sc->command);
	assert_words("argv", sc->argv, (const char *[]){ "/bin/sh", "-c",
	    "echo \"a b\" 'c d'; exit 0", "--extra", "two words", "back slash", NULL });
	assert_words("exec_paths", sc->exec_paths, (const char *[]){ "/bin/sh", NULL });
	assert_words("environment", sc->environment,
	    (const char *[]){ "A=1", "B=two words", "C=x y", "EMPTY=", NULL });
	cr_expect(sc->clear_environment, "clear_environment: expected yes");
	assert_words("envp (cleared)", envp_of(sc),
	    (const char *[]){ "A=1", "B=two words", "C=x y", "EMPTY=", NULL });
	cr_expect_str_eq(sc->directory, "/tmp");
	cr_expect_str_eq(sc->user, "root");
	cr_expect_str_eq(sc->group, "0");
	cr_expect(sc->set_ids, "set_ids: expected true with user set");
	cr_expect_eq(sc->uid, 0, "uid: expected 0, got %u", (unsigned)sc->uid);
	cr_expect_eq(sc->gid, 0, "gid: expected 0, got %u", (unsigned)sc->gid);
	cr_expect_geq(sc->ngroups, 1, "ngroups: expected root's groups, got none");
	cr_expect_eq(sc->umask, 027, "umask: expected 027, got %#o", sc->umask);
	cr_expect_not(sc->autostart, "autostart: 'off' must be false");
	cr_expect_eq(sc->restart, RESTART_ON_FAILURE, "restart: expected on-failure");
	cr_expect_eq(sc->restart_delay_ms, 250, "restart_delay: expected 250ms, got "
	    "%lld", (long long)sc->restart_delay_ms);
	cr_expect_eq(sc->restart_delay_max_ms, 90000, "restart_delay_max: expected "
	    "1.5m = 90000ms, got %lld", (long long)sc->restart_delay_max_ms);
	cr_expect_eq(sc->start_secs_ms, 0, "start_secs: expected 0, got %lld",
	    (long long)sc->start_secs_ms);
	cr_expect_eq(sc->start_retries, 1000000, "start_retries: got %u", sc->start_retries);
	cr_expect_eq(sc->stop_signal, SIGINT, "stop_signal: SIGINT is %d, got %d",
	    SIGINT, sc->stop_signal);
	cr_expect_eq(sc->stop_timeout_ms, 7200000, "stop_timeout: expected 2h, got "
	    "%lldms", (long long)sc->stop_timeout_ms);
	done(conf);
}

Test(config_good, ready_kinds_and_their_parts)
{
	struct config *conf = load_good("good-ready.conf");
	struct service_conf *sc;

	sc = find_service(conf, "n");
	cr_expect_eq(sc->ready, READY_NOTIFY, "n: expected notify, got %d", (int)sc->ready);
	cr_expect_eq(sc->ready_timeout_ms, 5000, "n: ready_timeout: got %lld",
	    (long long)sc->ready_timeout_ms);
	cr_expect_eq(sc->watchdog_ms, 2000, "n: watchdog: got %lld", (long long)sc->watchdog_ms);
	sc = find_service(conf, "f");
	cr_expect_eq(sc->ready, READY_FD, "f: expected fd");
	cr_expect_eq(sc->ready_fd, 3, "f: expected fd 3, got %d", sc->ready_fd);
	cr_expect_eq(sc->ready_timeout_ms, 60000, "f: default ready_timeout is 60s, got %lld",
	    (long long)sc->ready_timeout_ms);
	cr_expect_eq(sc->watchdog_ms, 0, "f: watchdog is off by default");
	sc = find_service(conf, "p");
	cr_expect_eq(sc->ready, READY_TCP, "p: expected tcp");
	cr_expect_str_eq(sc->ready_host, "127.0.0.1", "p: a bare port means localhost");
	cr_expect_str_eq(sc->ready_port, "6379");
	/* resolved at load: the probe in the loop looks nothing up */
	cr_assert_eq(sc->ready_naddrs, 1, "p: %zu addresses", sc->ready_naddrs);
	cr_expect_eq(sc->ready_addrs[0].sa.ss_family, AF_INET);
	cr_expect_eq(ntohs(((struct sockaddr_in *)&sc->ready_addrs[0].sa)->sin_port), 6379);
	cr_expect_eq(ntohl(((struct sockaddr_in *)&sc->ready_addrs[0].sa)->sin_addr.s_addr),
	    INADDR_LOOPBACK);
	sc = find_service(conf, "h");
	cr_expect_str_eq(sc->ready_host, "::1", "h: brackets must go, got '%s'", sc->ready_host);
	cr_expect_str_eq(sc->ready_port, "8080");
	cr_assert_eq(sc->ready_naddrs, 1, "h: %zu addresses", sc->ready_naddrs);
	cr_expect_eq(sc->ready_addrs[0].sa.ss_family, AF_INET6);
	cr_expect_eq(ntohs(((struct sockaddr_in6 *)&sc->ready_addrs[0].sa)->sin6_port), 8080);
	sc = find_service(conf, "x");
	cr_expect_eq(sc->ready, READY_EXEC, "x: expected exec");
	cr_expect_str_eq(sc->ready_spec, "exec:check-it --quiet 'a b'");
	assert_words("ready_argv", sc->ready_argv,
	    (const char *[]){ "check-it", "--quiet", "a b", NULL });
	assert_words("ready_exec_paths", sc->ready_exec_paths,
	    (const char *[]){ "/opt/x/check-it", "/usr/bin/check-it", NULL });
	done(conf);
}

/* Names with or without CAP_, any case, space or comma apart; none; unset. */
Test(config_good, capabilities_into_masks)
{
	struct config *conf;

	if (geteuid() != 0)
		cr_skip_test("capabilities needs CAP_SETPCAP at load; run as root to test it");
	conf = load_good("good-caps.conf");
	cr_expect_eq(find_service(conf, "mixed")->capabilities,
	    (1ULL << 10) | (1ULL << 13) | (1ULL << 0) | (1ULL << 5), "mixed: %llx",
	    (unsigned long long)find_service(conf, "mixed")->capabilities);
	cr_expect_eq(find_service(conf, "none")->capabilities, 0);
	cr_expect_eq(find_service(conf, "unset")->capabilities, SERVICE_CAPS_UNSET);
	done(conf);
}

/* vigild's < environment_file (in order) < environment < what vigild sets itself */
Test(config_good, environment_files_sit_between_vigild_and_environment)
{
	static char **scratch;
	static size_t cap;
	char *files[] = { "X=file", "Z=first", "Z=second", "VIGIL_TEST_FILE=file", NULL };
	char *extra[] = { "Y=vigild", NULL };
	struct config *conf;
	char **envp;

	cr_assert(setenv("VIGIL_TEST_FILE", "inherited", 1) == 0);
	conf = load_good("good-full.conf");
	envp = config_service_envp_files(find_service(conf, "env-twice"), files, extra,
	    &scratch, &cap);
	cr_expect(has_word(envp, "X=3") && count_prefix(envp, "X=") == 1,
	    "envp: environment must win over a file");
	cr_expect(has_word(envp, "Z=second") && count_prefix(envp, "Z=") == 1,
	    "envp: the last of a file's lines must win");
	cr_expect(has_word(envp, "VIGIL_TEST_FILE=file") &&
	    count_prefix(envp, "VIGIL_TEST_FILE=") == 1, "envp: a file must win over vigild's");
	cr_expect(has_word(envp, "Y=vigild") && count_prefix(envp, "Y=") == 1,
	    "envp: what vigild sets must win over all");
	free(scratch);
	scratch = NULL;
	cap = 0;
	unsetenv("VIGIL_TEST_FILE");
	done(conf);
}

/* Each limit is kept as the text its cgroup file takes. */
Test(config_good, cgroup_limits_as_their_files_take_them)
{
	struct config *conf = load_good("good-cglimits.conf");
	struct service_conf *sc = find_service(conf, "limited");

	cr_expect_str_eq(sc->cglimits[CGLIMIT_MEMORY_MAX], "1073741824");
	cr_expect_str_eq(sc->cglimits[CGLIMIT_MEMORY_HIGH], "max");
	cr_expect_str_eq(sc->cglimits[CGLIMIT_PIDS_MAX], "64");
	cr_expect_str_eq(sc->cglimits[CGLIMIT_CPU_WEIGHT], "10000");
	cr_expect_str_eq(sc->cglimits[CGLIMIT_CPU_MAX], "250000 100000");
	cr_expect_str_eq(sc->cglimits[CGLIMIT_IO_WEIGHT], "1");
	assert_words("environment_file", sc->environment_files,
	    (const char *[]){ "/etc/a.env", "-/etc/b.env", NULL });
	sc = find_service(conf, "quota");
	cr_expect_str_eq(sc->cglimits[CGLIMIT_CPU_MAX], "20000 50000");
	cr_expect_str_eq(sc->cglimits[CGLIMIT_PIDS_MAX], "max");
	cr_expect_str_eq(sc->cglimits[CGLIMIT_MEMORY_MAX], "0");
	cr_expect_null(sc->cglimits[CGLIMIT_IO_WEIGHT]);
	cr_expect_null(sc->environment_files);
	done(conf);
}

Test(config_good, environment_overrides_and_path_lookup)
{
	struct config *conf;
	struct service_conf *sc;

	cr_assert(setenv("VIGIL_TEST_INHERITED", "yes", 1) == 0);
	cr_assert(setenv("HOME", "/root-of-vigild", 1) == 0);
	conf = load_good("good-full.conf");
	sc = find_service(conf, "path-lookup");
	cr_expect(has_word(envp_of(sc), "VIGIL_TEST_INHERITED=yes"),
	    "envp: vigild's own variables must be inherited");
	cr_expect(has_word(envp_of(sc), "HOME=/home/x") && count_prefix(envp_of(sc), "HOME=") == 1,
	    "envp: environment must replace vigild's HOME, not add a second one");
	cr_expect(has_word(envp_of(sc), "PATH=/opt/bin::/usr/bin:") &&
	    count_prefix(envp_of(sc), "PATH=") == 1, "envp: expected exactly the user's PATH");
	assert_words("environment", sc->environment,
	    (const char *[]){ "PATH=/opt/bin::/usr/bin:", "HOME=/home/x", NULL });
	assert_words("exec_paths (from the service's PATH, empty entries = .)",
	    sc->exec_paths, (const char *[]){ "/opt/bin/myprog", "./myprog",
	    "/usr/bin/myprog", "./myprog", NULL });
	cr_expect_eq(sc->restart, RESTART_NEVER, "restart: expected never");
	cr_expect_eq(sc->stop_signal, SIGHUP, "stop_signal: '1' must be SIGHUP, got %d",
	    sc->stop_signal);

	sc = find_service(conf, "default-path");
	assert_words("envp (cleared, nothing set)", envp_of(sc), (const char *[]){ NULL });
	assert_words("exec_paths (default PATH)", sc->exec_paths, (const char *[]){
	    "/usr/local/sbin/prog", "/usr/local/bin/prog", "/usr/sbin/prog",
	    "/usr/bin/prog", "/sbin/prog", "/bin/prog", NULL });
	cr_expect(sc->autostart, "autostart: '1' must be true");

	sc = find_service(conf, "env-twice");
	assert_words("environment (as written)", sc->environment,
	    (const char *[]){ "X=1", "Y=2", "X=3", NULL });
	cr_expect(has_word(envp_of(sc), "X=3") && count_prefix(envp_of(sc), "X=") == 1,
	    "envp: of X=1 and X=3 only the last may reach the service");
	done(conf);
}

Test(config_good, group_without_user)
{
	struct config *conf = load_good("good-full.conf");
	struct service_conf *sc = find_service(conf, "group-only");

	cr_expect_null(sc->user, "user: expected NULL, got '%s'", sc->user);
	cr_expect(sc->set_ids, "set_ids: expected true with group set");
	cr_expect_eq(sc->uid, geteuid(), "uid: expected vigild's %u, got %u",
	    (unsigned)geteuid(), (unsigned)sc->uid);
	cr_expect_eq(sc->gid, 0, "gid: expected root's 0, got %u", (unsigned)sc->gid);
	cr_assert_eq(sc->ngroups, 1, "ngroups: expected just the group, got %zu",
	    sc->ngroups);
	cr_expect_eq(sc->groups[0], 0, "groups[0]: expected 0, got %u",
	    (unsigned)sc->groups[0]);
	cr_expect_eq(sc->umask, 0, "umask: expected 0, got %#o", sc->umask);
	done(conf);
}

/*
 * A filter is compiled at load into whole BPF instructions: one comparison
 * at least per call a deny-list names, more for @basic's allow-list; no
 * filter, no program.
 */
Test(config_good, syscall_filters_compiled_at_load)
{
	struct config *conf = load_good("good-seccomp.conf");
	struct service_conf *deny = find_service(conf, "deny");
	struct service_conf *allow = find_service(conf, "allow");
	struct service_conf *none = find_service(conf, "none");

	cr_expect_str_eq(deny->syscall_filter, "~@mount @reboot @module @raw-io @swap @debug");
	cr_expect_eq(deny->syscall_filter_action, SYSCALL_ACTION_EPERM);
	cr_assert_not_null(deny->syscall_bpf);
	cr_expect_geq(deny->syscall_bpf_len, 20, "%u instructions", deny->syscall_bpf_len);
	cr_expect_eq(allow->syscall_filter_action, SYSCALL_ACTION_KILL);
	cr_assert_not_null(allow->syscall_bpf);
	cr_expect_gt(allow->syscall_bpf_len, deny->syscall_bpf_len, "%u instructions",
	    allow->syscall_bpf_len);
	cr_expect_null(none->syscall_filter);
	cr_expect_null(none->syscall_bpf);
	cr_expect_eq(none->syscall_bpf_len, 0);
	done(conf);
}

Test(config_good, include_in_sorted_order)
{
	struct config *conf = load_good("good-include.conf");
	const char *names[] = { "main-first", "from-a-1", "from-a-2", "from-b" };
	const char *files[] = { "good-include.conf", "good-include.d/a.conf",
	    "good-include.d/a.conf", "good-include.d/b.conf" };

	cr_expect_str_eq(conf->include, "good-include.d/*.conf");
	cr_assert_eq(conf->nservices, 4, "expected 4 services (not-matched.txt "
	    "must not load), got %zu", conf->nservices);
	for (size_t i = 0; i < 4; i++) {
		cr_expect_str_eq(conf->services[i]->name, names[i], "services[%zu]: "
		    "expected '%s', got '%s'", i, names[i], conf->services[i]->name);
		cr_expect_str_eq(conf->services[i]->file, files[i], "services[%zu]: "
		    "file expected '%s', got '%s'", i, files[i], conf->services[i]->file);
	}
	done(conf);
}

Test(config_good, include_is_relative_to_the_main_file)
{
	struct config *conf;

	cr_assert(chdir("/") == 0);
	conf = load_good(CONF_TEST_DIR "/good-include.conf");
	cr_expect_str_eq(conf->include, CONF_TEST_DIR "/good-include.d/*.conf");
	cr_expect_eq(conf->nservices, 4, "expected 4 services, got %zu", conf->nservices);
	done(conf);
}

Test(config_good, include_matching_nothing)
{
	struct config *conf = load_good("good-include-none.conf");

	cr_expect_eq(conf->nservices, 1, "expected 1 service, got %zu", conf->nservices);
	done(conf);
}

Test(config_good, bom_crlf_tabs_and_colons)
{
	struct config *conf = load_good("good-crlf.conf");
	struct service_conf *sc = find_service(conf, "dos");

	cr_expect_str_eq(sc->command, "/bin/echo  hello");
	assert_words("argv", sc->argv, (const char *[]){ "/bin/echo", "hello", NULL });
	cr_expect_eq(sc->restart, RESTART_NEVER, "restart: an indented key right "
	    "after the header is a key, not a continuation");
	cr_expect_eq(sc->restart_delay_ms, 2000, "restart_delay: expected 2s");
	done(conf);
}

Test(config_good, shipped_example_loads)
{
	struct config *conf = load_good(SHIPPED_CONF);
	const char *names[] = { "sleeper", "flaky", "on-demand", "ticker", "worker@1",
	    "worker@2" };

	/* a template's instances come after every other service */
	cr_assert_eq(conf->nservices, 6, "expected 6 services, got %zu", conf->nservices);
	cr_expect_eq(conf->ntemplates, 1);
	for (size_t i = 0; i < 6; i++)
		cr_expect_str_eq(conf->services[i]->name, names[i], "services[%zu]: "
		    "expected '%s', got '%s'", i, names[i], conf->services[i]->name);
	cr_expect_not(find_service(conf, "on-demand")->autostart,
	    "on-demand must not start with vigild");
	done(conf);
}

Test(config_good, access_names_resolved_at_load)
{
	struct config *conf = load_good("good-access.conf");

	cr_expect_str_eq(conf->socket_group, "root");
	cr_expect_eq(conf->socket_gid, 0);
	/* an indented line continues the list */
	cr_expect_str_eq(conf->read_access.text, "root @root");
	cr_assert_eq(conf->read_access.nuids, 1, "read_access: %zu users", conf->read_access.nuids);
	cr_expect_eq(conf->read_access.uids[0], 0);
	cr_assert_eq(conf->read_access.ngids, 1, "read_access: %zu groups", conf->read_access.ngids);
	cr_expect_eq(conf->read_access.gids[0], 0);
	/* numbers are ids, as for user and group */
	cr_assert_eq(conf->operate_access.nuids, 1);
	cr_assert_eq(conf->operate_access.ngids, 1);
	done(conf);
}

Test(config_good, no_access_keys_leave_the_socket_private)
{
	struct config *conf = load_good("good-minimal.conf");

	cr_expect_null(conf->socket_group);
	cr_expect_null(conf->read_access.text);
	cr_expect_eq(conf->read_access.nuids + conf->read_access.ngids +
	    conf->operate_access.nuids + conf->operate_access.ngids, 0);
	done(conf);
}

Test(config_good, depends_resolved_into_indices)
{
	struct config *conf = load_good("good-depends.conf");
	const struct service_conf *db, *cache, *web;

	cr_assert_eq(conf->nservices, 3);
	db = conf->services[0];
	cache = conf->services[1];
	web = conf->services[2];
	cr_expect_eq(db->nrequires + db->nafter, 0);
	cr_expect_eq(cache->nrequires, 0);
	cr_assert_eq(cache->nafter, 1);
	cr_expect_eq(cache->after[0], 0);
	cr_assert_eq(web->nrequires, 2, "db named twice must count once, got %zu",
	    web->nrequires);
	cr_expect_eq(web->requires[0], 0);
	cr_expect_eq(web->requires[1], 1);
	cr_assert_eq(web->nafter, 1);
	cr_expect_eq(web->after[0], 1);
	cr_expect_eq(web->requires_line, 11);
	cr_expect_eq(web->after_line, 13);
	done(conf);
}

TestSuite(config_api, .init = go_to_conf_dir, .fini = drop_errors);

Test(config_api, missing_file)
{
	struct config *conf = config_load("no-such-file.conf", &errs);

	cr_expect_null(conf, "a missing file must not load");
	cr_assert_eq(errs.n, 1, "expected 1 message, got %zu", errs.n);
	cr_expect_str_eq(errs.msgs[0], "no-such-file.conf: cannot open: No such file "
	    "or directory", "got '%s'", errs.msgs[0]);
	done(conf);
}

Test(config_api, free_null_and_no_errors)
{
	struct config_errors none = { NULL, 0 };

	config_free(NULL);
	config_errors_free(NULL);
	config_errors_free(&none);
	config_free(load_good("good-minimal.conf"));
	cr_expect_null(errs.msgs, "a good load must leave no message array behind");
	done(NULL);
}

Test(config_api, errors_may_be_null)
{
	cr_expect_null(config_load("bad-restart.conf", NULL));
	config_free(config_load("good-minimal.conf", NULL));
	done(NULL);
}

Test(config_api, default_paths)
{
	if (geteuid() == 0) {
		cr_expect_str_eq(config_default_path(), "/etc/vigil/vigil.conf");
		cr_expect_str_eq(config_default_socket(), "/run/vigil/vigil.sock");
		done(NULL);
		return;
	}
	setenv("XDG_CONFIG_HOME", "/xdg/config", 1);
	setenv("XDG_RUNTIME_DIR", "/xdg/run", 1);
	cr_expect_str_eq(config_default_path(), "/xdg/config/vigil/vigil.conf");
	cr_expect_str_eq(config_default_socket(), "/xdg/run/vigil/vigil.sock");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_RUNTIME_DIR");
	setenv("HOME", "/home/someone", 1);
	cr_expect_str_eq(config_default_path(), "/home/someone/.config/vigil/vigil.conf");
	unsetenv("TMPDIR");
	cr_expect(strncmp(config_default_socket(), "/tmp/vigil-", 11) == 0,
	    "socket without XDG_RUNTIME_DIR: got '%s'", config_default_socket());
	setenv("TMPDIR", "/var/tmp/me", 1);
	cr_expect(strncmp(config_default_socket(), "/var/tmp/me/vigil-", 18) == 0,
	    "the fallback's base is TMPDIR: got '%s'", config_default_socket());
	unsetenv("TMPDIR");
	done(NULL);
}

/* The whole of a small file, or NULL. */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;

	if (fp == NULL)
		return NULL;
	n = getdelim(&buf, &len, '\0', fp);
	fclose(fp);
	if (n == -1) {
		free(buf);
		return strdup("");
	}
	return buf;
}

/* Line i (0-based) of text, in a static buffer; "" past the end. */
static const char *
line_of(const char *text, size_t i)
{
	static char buf[1024];
	const char *end;

	while (i-- > 0 && text != NULL && (text = strchr(text, '\n')) != NULL)
		text++;
	if (text == NULL || *text == '\0')
		return "(nothing)";
	end = strchrnul(text, '\n');
	snprintf(buf, sizeof(buf), "%.*s", (int)(end - text), text);
	return buf;
}

/*
 * Load bad-NAME.conf and compare every message with bad-NAME.out, one per
 * line; on a difference, say which message and show both.
 */
static void
check_bad(const char *name)
{
	char conf_path[256], out_path[256], *want, *got = NULL;
	size_t got_len = 0;
	FILE *mem;
	struct config *conf;

	snprintf(conf_path, sizeof(conf_path), "bad-%s.conf", name);
	snprintf(out_path, sizeof(out_path), "bad-%s.out", name);
	cr_assert((want = slurp(out_path)) != NULL, "cannot read %s", out_path);
	conf = config_load(conf_path, &errs);
	cr_expect_null(conf, "%s: expected the load to fail", conf_path);
	config_free(conf);
	cr_assert((mem = open_memstream(&got, &got_len)) != NULL);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(mem, "%s\n", errs.msgs[i]);
	fclose(mem);
	for (size_t i = 0; strcmp(got, want) != 0; i++) {
		char w[1024], g[1024], *all;

		snprintf(w, sizeof(w), "%s", line_of(want, i));
		snprintf(g, sizeof(g), "%s", line_of(got, i));
		if (strcmp(w, g) == 0 && i <= errs.n)
			continue;
		all = strdupa(got);
		free(want);
		free(got);
		cr_assert_fail("%s: message %zu differs from %s\n"
		    "  expected: %s\n  got:      %s\nall messages:\n%s",
		    conf_path, i + 1, out_path, w, g, all);
	}
	free(want);
	free(got);
	done(NULL);
}

TestSuite(config_bad, .init = go_to_conf_dir, .fini = drop_errors);

/* Not a golden file: the resolver's own words differ between machines. */
Test(config_bad, ready_host_that_does_not_resolve)
{
	const char *want = "bad-ready-name.conf:3: [service:a] ready: expected "
	    "tcp:HOST:PORT with a HOST that resolves (nosuch.invalid: ";
	struct config *conf = config_load("bad-ready-name.conf", &errs);

	cr_expect_null(conf);
	config_free(conf);
	cr_assert_eq(errs.n, 1, "%zu errors", errs.n);
	cr_expect(strncmp(errs.msgs[0], want, strlen(want)) == 0, "got: %s", errs.msgs[0]);
	cr_expect(strstr(errs.msgs[0], "found 'tcp:nosuch.invalid:80'") != NULL, "got: %s",
	    errs.msgs[0]);
}

#define BAD(test, name)	Test(config_bad, test) { check_bad(name); }

BAD(missing_command, "missing-command")
BAD(unknown_key_with_suggestion, "unknown-key")
BAD(unknown_key_without_suggestion, "unknown-key-nohint")
BAD(bad_duration, "duration")
BAD(negative_duration, "negative-duration")
BAD(bad_bool, "bool")
BAD(bad_restart, "restart")
BAD(bad_umask, "umask")
BAD(limits_nice_oom_and_no_new_privileges, "limits")
BAD(capabilities, "caps")
BAD(syscall_filter_names_groups_and_action, "seccomp")
BAD(cgroup_limits, "cglimits")
BAD(environment_file_not_absolute, "environment-file")
BAD(sandbox_keys, "sandbox")
BAD(bad_signal, "signal")
BAD(bad_start_retries, "start-retries")
BAD(unknown_user, "unknown-user")
BAD(unknown_group, "unknown-group")
BAD(duplicate_service, "dup-service")
BAD(duplicate_service_across_include, "dup-include")
BAD(bad_service_name, "service-name")
BAD(service_name_too_long, "name-too-long")
BAD(unknown_section, "unknown-section")
BAD(vigil_in_included_file, "vigil-in-include")
BAD(line_too_long, "long-line")
BAD(key_given_twice, "key-twice")
BAD(syntax_error, "syntax")
BAD(key_outside_section, "key-outside-section")
BAD(bad_quoting, "quoting")
BAD(empty_command, "empty-command")
BAD(bad_environment, "environment")
BAD(bad_directory, "directory")
BAD(restart_delay_max_below_restart_delay, "restart-delay")
BAD(socket_too_long, "socket")
BAD(socket_relative_and_bad_vigil_values, "socket-relative")
BAD(several_errors_all_reported, "several")
BAD(unknown_require_with_suggestion, "unknown-require")
BAD(dependency_cycle_named_in_order, "cycle")
BAD(service_requiring_itself, "self-require")
BAD(ready_specs, "ready")
BAD(dependency_errors_beside_others, "deps-and-more")
BAD(bad_cgroup_and_kill_mode, "cgroup-kill-mode")
BAD(unknown_user_and_group_in_access_lists, "access-names")
BAD(access_lists_without_socket_group, "access-without-group")
BAD(unknown_socket_group, "socket-group")
BAD(templates_and_their_instances, "template")
BAD(metrics_listen_not_an_address, "metrics-listen")

/* Whether one of the messages holds text. */
static bool
has_message(const char *text)
{
	for (size_t i = 0; i < errs.n; i++)
		if (strstr(errs.msgs[i], text) != NULL)
			return true;
	return false;
}

/* A folder (or a FIFO, a device) is no config: it could feed the parser forever. */
Test(config_api, a_folder_is_not_a_config)
{
	struct config *conf = config_load(".", &errs);

	cr_expect_null(conf);
	cr_expect(has_message(".: cannot read: not a regular file"), "got '%s'",
	    errs.n ? errs.msgs[0] : "-");
	done(conf);
}

/* A file over 4 MiB is refused before a byte of it is parsed (a sparse one here). */
Test(config_api, a_file_over_the_size_bound_is_refused)
{
	char path[] = "/tmp/vigil-huge-XXXXXX";
	int fd = mkstemp(path);
	struct config *conf;

	cr_assert(fd >= 0 && ftruncate(fd, CONFIG_FILE_MAX + 1) == 0);
	close(fd);
	conf = config_load(path, &errs);
	unlink(path);
	cr_expect_null(conf);
	cr_expect(has_message("4194305 bytes: expected at most 4 MiB in one file"), "got '%s'",
	    errs.n ? errs.msgs[0] : "-");
	done(conf);
}

/* One section more than CONFIG_SECTIONS_MAX: one message, naming where. */
Test(config_api, more_sections_than_the_bound_are_refused)
{
	char path[] = "/tmp/vigil-many-XXXXXX", want[128];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct config *conf;
	size_t seen = 0;

	cr_assert_not_null(f);
	for (int i = 0; i <= CONFIG_SECTIONS_MAX; i++)
		fprintf(f, "[service:s%d]\ncommand=x\n", i);
	fclose(f);
	conf = config_load(path, &errs);
	unlink(path);
	cr_expect_null(conf);
	snprintf(want, sizeof(want), ":%d: [service:s%d] one section more than the %d vigild "
	    "loads", 2 * CONFIG_SECTIONS_MAX + 1, CONFIG_SECTIONS_MAX, CONFIG_SECTIONS_MAX);
	for (size_t i = 0; i < errs.n; i++)
		seen += strstr(errs.msgs[i], "one section more than") != NULL;
	cr_expect(has_message(want), "no '%s' among %zu messages (first: %s)", want, errs.n,
	    errs.n ? errs.msgs[0] : "-");
	cr_expect_eq(seen, 1, "said %zu times", seen);
	done(conf);
}

/* journal needs libsystemd: each use loads, or is an error that says why. */
Test(config_api, journal_targets_only_with_libsystemd)
{
	struct config *conf = config_load("journal.conf", &errs);
#ifdef HAVE_LIBSYSTEMD
	const struct service_conf *web, *api;

	cr_assert_not_null(conf, "first: %s", errs.n ? errs.msgs[0] : "-");
	cr_expect_eq(conf->log_target, LOG_TARGET_JOURNAL);
	web = find_service(conf, "web");
	api = find_service(conf, "api");
	cr_expect_eq(web->stdout_to, OUTPUT_TO_JOURNAL);
	cr_expect_eq(web->stderr_to, OUTPUT_TO_JOURNAL);
	cr_expect_eq(api->stdout_to, OUTPUT_TO_JOURNAL);
	cr_expect_eq(api->stderr_to, OUTPUT_TO_STDOUT);
#else
	const char *want[] = {
		"journal.conf:4: [vigil] log_target: expected stderr or syslog, found 'journal': "
		    "this vigild was built without journal support (libsystemd)",
		"journal.conf:8: [service:web] stdout: expected log, null, inherit or "
		    "file:/absolute/path, found 'journal': this vigild was built without "
		    "journal support (libsystemd)",
		"journal.conf:9: [service:web] stderr: expected log, null, inherit, stdout or "
		    "file:/absolute/path, found 'journal': this vigild was built without "
		    "journal support (libsystemd)",
		"journal.conf:13: [service:api] stdout: expected log, null, inherit or "
		    "file:/absolute/path, found 'journal': this vigild was built without "
		    "journal support (libsystemd)",
	};

	cr_expect_null(conf);
	cr_assert_eq(errs.n, 4, "%zu errors, first: %s", errs.n, errs.n ? errs.msgs[0] : "-");
	for (size_t i = 0; i < 4; i++)
		cr_expect_str_eq(errs.msgs[i], want[i]);
#endif
	done(conf);
}

/* metrics_listen: numeric addresses with a port, nothing else (config_listen.c) */
Test(config_listen, addresses_and_what_is_refused)
{
	static const char *const bad[] = {
		"localhost:9753", ":9753", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:99999999", "127.0.0.1:80a", "127.0.0.1: 80",
		"[::1]9753", "[::1]", "::1:9753", "[]:80", "[127.0.0.1]:80", "[fe80::1%lo]:80",
		"1.2.3:80", "",
	};
	struct config_listen l;

	cr_assert_eq(config_listen_parse("127.0.0.1:9753", &l), 0);
	cr_expect_eq(l.sa.sa_family, AF_INET);
	cr_expect_eq(ntohs(l.in4.sin_port), 9753);
	cr_expect_eq(ntohl(l.in4.sin_addr.s_addr), INADDR_LOOPBACK);
	cr_expect_eq(l.len, sizeof(struct sockaddr_in));
	cr_assert_eq(config_listen_parse("0.0.0.0:65535", &l), 0);
	cr_expect_eq(ntohs(l.in4.sin_port), 65535);
	cr_assert_eq(config_listen_parse("[::1]:1", &l), 0);
	cr_expect_eq(l.sa.sa_family, AF_INET6);
	cr_expect_eq(ntohs(l.in6.sin6_port), 1);
	cr_expect(IN6_IS_ADDR_LOOPBACK(&l.in6.sin6_addr));
	cr_expect_eq(l.len, sizeof(struct sockaddr_in6));
	cr_assert_eq(config_listen_parse("[::]:9753", &l), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(config_listen_parse(bad[i], &l), -1, "'%s' was taken", bad[i]);
}
