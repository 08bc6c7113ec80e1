/*
 * metrics.c: every service and vigild itself as metrics text, OpenMetrics
 * 1.0.0 or Prometheus 0.0.4, built whole at each scrape from what status
 * shows (nothing is sampled in between). The two formats differ in three
 * places, all here: a counter's family is named without _total in
 * OpenMetrics (its sample has it) and with it in 0.0.4; # UNIT lines and
 * the info type exist only in OpenMetrics; OpenMetrics ends with # EOF.
 * How the text travels is the verb's (commands.c) and http.c's business.
 */
#include "config.h"
#include "metrics.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "core/cgroup.h"
#include "http.h"
#include "output/output.h"
#include "status.h"

/* The text as it grows; a failed allocation marks it and later appends do nothing. */
struct mbuf {
	char	*p;
	size_t	 len, cap;
	bool	 failed;
	enum metrics_format f;
};

static void __attribute__((format(printf, 2, 3)))
put(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap != 0 ? b->cap : 4096;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/*
 * A label value, escaped as both formats want: backslash, double quote
 * and newline. Service names cannot hold them today; the text must stay
 * parseable if that changes.
 */
static void
put_label_value(struct mbuf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			put(b, "\\\\");
		else if (*v == '"')
			put(b, "\\\"");
		else if (*v == '\n')
			put(b, "\\n");
		else
			put(b, "%c", *v);
	}
}

enum mtype { M_GAUGE, M_COUNTER, M_INFO };

/*
 * A family's header. name is the family's name in OpenMetrics (a
 * counter's without _total, an info's without _info); unit, when not
 * NULL, is its suffix too. The name samples take is in *sample.
 */
static void
family(struct mbuf *b, const char *name, enum mtype t, const char *unit, const char *help,
    char *sample, size_t len)
{
	static const char *const om_types[] = { "gauge", "counter", "info" };
	const char *suffix = t == M_COUNTER ? "_total" : t == M_INFO ? "_info" : "";

	snprintf(sample, len, "%s%s", name, suffix);
	if (b->f == METRICS_OPENMETRICS) {
		put(b, "# TYPE %s %s\n", name, om_types[t]);
		if (unit != NULL)
			put(b, "# UNIT %s %s\n", name, unit);
		put(b, "# HELP %s %s\n", name, help);
	} else {
		/* 0.0.4 names the family as its samples; it has no info type */
		put(b, "# HELP %s %s\n", sample, help);
		put(b, "# TYPE %s %s\n", sample, t == M_COUNTER ? "counter" : "gauge");
	}
}

/* One sample of a per-service family: NAME{service="S"[,EXTRA]} VALUE */
static void
service_sample(struct mbuf *b, const char *sample, const struct service *s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
service_sample(struct mbuf *b, const char *sample, const struct service *s, const char *fmt, ...)
{
	char value[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	put(b, "%s{service=\"", sample);
	put_label_value(b, s->conf->name);
	put(b, "\"} %s\n", value);
}

/* Seconds as the formats write them: no exponent for what a clock gives */
static void
put_seconds(char *buf, size_t len, double sec)
{
	snprintf(buf, len, "%.6f", sec);
}

static void
services_state(struct mbuf *b)
{
	char sample[96];

	family(b, "vigil_service_state", M_GAUGE, NULL,
	    "Whether the service is in this state (1) or not (0).", sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++) {
		struct service *s = vigild.services[i];

		for (int st = 0; st < SERVICE_NSTATES; st++) {
			put(b, "%s{service=\"", sample);
			put_label_value(b, s->conf->name);
			put(b, "\",state=\"%s\"} %d\n", service_state_name((enum service_state)st),
			    s->state == (enum service_state)st);
		}
	}
}

static void
services_simple(struct mbuf *b, int64_t now)
{
	char sample[96], v[64];

	family(b, "vigil_service_up", M_GAUGE, NULL,
	    "Whether the service is running (1) or not (0).", sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++)
		service_sample(b, sample, vigild.services[i], "%d",
		    vigild.services[i]->state == SERVICE_RUNNING);

	family(b, "vigil_service_ready", M_GAUGE, NULL,
	    "Whether the service is ready (1) or not (0), as dependents wait for it.",
	    sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++)
		service_sample(b, sample, vigild.services[i], "%d",
		    service_is_ready(vigild.services[i]));

	family(b, "vigil_service_restarts", M_COUNTER, NULL,
	    "Automatic restarts of the service since vigild started.", sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++)
		service_sample(b, sample, vigild.services[i], "%llu",
		    (unsigned long long)vigild.services[i]->restarts_total);

	family(b, "vigil_service_last_exit_code", M_GAUGE, NULL,
	    "Exit code of the service's last process; none when it never ended or a signal "
	    "ended it.", sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++) {
		const struct exit_info *e = &vigild.services[i]->last_exit;

		if (e->valid && e->signal == 0)
			service_sample(b, sample, vigild.services[i], "%d", e->code);
	}

	family(b, "vigil_service_last_exit_signal", M_GAUGE, NULL,
	    "Number of the signal that ended the service's last process; none when it exited.",
	    sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++) {
		const struct exit_info *e = &vigild.services[i]->last_exit;

		if (e->valid && e->signal != 0)
			service_sample(b, sample, vigild.services[i], "%d", e->signal);
	}

	family(b, "vigil_service_uptime_seconds", M_GAUGE, "seconds",
	    "Time since the service's main process was started; 0 without one.",
	    sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++) {
		const struct service *s = vigild.services[i];

		put_seconds(v, sizeof(v), s->pid > 0 && now > s->started_ms ?
		    (now - s->started_ms) / 1000.0 : 0.0);
		service_sample(b, sample, s, "%s", v);
	}
}

/* What the service's cgroup tells: only services that have one */
static void
services_cgroup(struct mbuf *b)
{
	char sample[96], v[64];

	family(b, "vigil_service_cpu_seconds", M_COUNTER, "seconds",
	    "CPU time used by the processes of the service's cgroup.", sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++) {
		int64_t usec = cgroup_cpu_usec(vigild.services[i]);

		if (usec < 0)
			continue;
		put_seconds(v, sizeof(v), usec / 1e6);
		service_sample(b, sample, vigild.services[i], "%s", v);
	}

	family(b, "vigil_service_processes", M_GAUGE, NULL,
	    "Processes alive in the service's cgroup.", sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++) {
		int n = cgroup_count(vigild.services[i]);

		if (n >= 0)
			service_sample(b, sample, vigild.services[i], "%d", n);
	}
}

static void
services_output(struct mbuf *b)
{
	char sample[96];

	family(b, "vigil_service_log_bytes", M_COUNTER, "bytes",
	    "Bytes of output vigild read from the service's stdout and stderr pipes.",
	    sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++)
		service_sample(b, sample, vigild.services[i], "%llu",
		    (unsigned long long)output_bytes(vigild.services[i]->output));

	family(b, "vigil_service_log_dropped_bytes", M_COUNTER, "bytes",
	    "Bytes of output not written to the service's log file (full disk, write errors).",
	    sample, sizeof(sample));
	for (size_t i = 0; i < vigild.nservices; i++)
		service_sample(b, sample, vigild.services[i], "%llu",
		    (unsigned long long)output_dropped_bytes(vigild.services[i]->output));
}

/* vigild's resident memory from /proc/self/statm; -1 if it cannot be read */
static long long
self_rss_bytes(void)
{
	long long pages = -1;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%*s %lld", &pages) != 1)
		pages = -1;
	fclose(f);
	return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

/* vigild's open fds, the one counting them excluded; -1 if /proc cannot tell (EMFILE) */
static long
self_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");	/* O_CLOEXEC: glibc's opendir */
	struct dirent *de;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static void
daemon_metrics(struct mbuf *b)
{
	size_t count[SERVICE_NSTATES] = { 0 };
	char sample[96];
	long long rss;
	long fds;

	for (size_t i = 0; i < vigild.nservices; i++)
		count[vigild.services[i]->state]++;
	family(b, "vigil_services", M_GAUGE, NULL, "Services in each state.",
	    sample, sizeof(sample));
	for (int st = 0; st < SERVICE_NSTATES; st++)
		put(b, "%s{state=\"%s\"} %zu\n", sample,
		    service_state_name((enum service_state)st), count[st]);

	if ((rss = self_rss_bytes()) >= 0) {
		family(b, "vigil_daemon_resident_memory_bytes", M_GAUGE, "bytes",
		    "Resident memory of vigild itself.", sample, sizeof(sample));
		put(b, "%s %lld\n", sample, rss);
	}
	if ((fds = self_open_fds()) >= 0) {
		family(b, "vigil_daemon_open_fds", M_GAUGE, NULL,
		    "File descriptors vigild has open.", sample, sizeof(sample));
		put(b, "%s %ld\n", sample, fds);
	}
	family(b, "vigil_control_clients", M_GAUGE, NULL,
	    "Clients connected to the control socket.", sample, sizeof(sample));
	put(b, "%s %zu\n", sample, control_nclients());
	family(b, "vigil_http_clients", M_GAUGE, NULL,
	    "Clients connected to the metrics address, the one being answered included.",
	    sample, sizeof(sample));
	put(b, "%s %zu\n", sample, http_nclients());
	family(b, "vigil_build", M_INFO, NULL, "The version of vigild.", sample, sizeof(sample));
	put(b, "%s{version=\"", sample);
	put_label_value(b, VIGIL_VERSION);
	put(b, "\"} 1\n");
}

char *
metrics_text(enum metrics_format f, size_t *len)
{
	struct mbuf b = { .f = f };

	services_state(&b);
	services_simple(&b, status_now_ms());
	services_cgroup(&b);
	services_output(&b);
	daemon_metrics(&b);
	if (f == METRICS_OPENMETRICS)
		put(&b, "# EOF\n");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

int
metrics_format_parse(const char *name, enum metrics_format *f)
{
	if (strcmp(name, "openmetrics") == 0)
		*f = METRICS_OPENMETRICS;
	else if (strcmp(name, "prometheus") == 0)
		*f = METRICS_PROMETHEUS;
	else
		return -1;
	return 0;
}

const char *
metrics_format_name(enum metrics_format f)
{
	return f == METRICS_OPENMETRICS ? "openmetrics" : "prometheus";
}

const char *
metrics_content_type(enum metrics_format f)
{
	return f == METRICS_OPENMETRICS ?
	    "application/openmetrics-text; version=1.0.0; charset=utf-8" :
	    "text/plain; version=0.0.4; charset=utf-8";
}
