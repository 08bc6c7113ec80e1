/*
 * config_cglimits.c: the cgroup v2 limits of a service (memory_max,
 * memory_high, pids_max, cpu_weight, cpu_max, io_weight), checked at load
 * and kept as the very text their cgroup file takes, so that writing them
 * at a spawn (core/cglimits.c) is one write each and a reload compares
 * strings.
 */
#include "config.h"
#include "config_values.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

const char *const config_cglimit_keys[SERVICE_NCGLIMITS] = {
	"memory_max", "memory_high", "pids_max", "cpu_weight", "cpu_max", "io_weight",
};
const char *const config_cglimit_files[SERVICE_NCGLIMITS] = {
	"memory.max", "memory.high", "pids.max", "cpu.weight", "cpu.max", "io.weight",
};

#define CPU_PERIOD_USEC	100000	/* the kernel's default period, for cpu_max = N% */

/* A whole number in [lo, hi]; -1 if v is anything else. */
static int
number(const char *v, unsigned long long lo, unsigned long long hi, unsigned long long *n)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	*n = strtoull(v, &end, 10);
	return errno != 0 || *end != '\0' || *n < lo || *n > hi ? -1 : 0;
}

/* cpu_max: N% of one CPU (above 100 for several), QUOTA/PERIOD durations, or infinity. */
static int
cpu_max(const char *v, char *text, size_t tlen)
{
	const char *slash = strchr(v, '/');
	unsigned long long pct;
	int64_t quota, period;
	char q[64];
	size_t len = strlen(v);

	if (len > 1 && v[len - 1] == '%') {
		if (len - 1 >= sizeof(q))
			return -1;
		memcpy(q, v, len - 1);
		q[len - 1] = '\0';
		if (number(q, 1, 100000, &pct) == -1)
			return -1;
		snprintf(text, tlen, "%llu %d", pct * CPU_PERIOD_USEC / 100, CPU_PERIOD_USEC);
		return 0;
	}
	if (slash == NULL || (size_t)(slash - v) >= sizeof(q))
		return -1;
	memcpy(q, v, (size_t)(slash - v));
	q[slash - v] = '\0';
	/* the kernel takes a period of 1ms to 1s, and a quota of 1ms or more */
	if (duration_parse(q, &quota) == -1 || duration_parse(slash + 1, &period) == -1 ||
	    quota < 1 || quota > 1000LL * 1000 * 1000 || period < 1 || period > 1000)
		return -1;
	snprintf(text, tlen, "%lld %lld", (long long)quota * 1000, (long long)period * 1000);
	return 0;
}

int
values_cglimit(struct service_conf *sc, enum service_cglimit which, const char *v,
    char *what, size_t len)
{
	unsigned long long n;
	char text[64];

	if (strcmp(v, "infinity") == 0 && which != CGLIMIT_CPU_WEIGHT &&
	    which != CGLIMIT_IO_WEIGHT)
		snprintf(text, sizeof(text), "max");
	else switch (which) {
	case CGLIMIT_MEMORY_MAX:
	case CGLIMIT_MEMORY_HIGH:
		if (values_size(v, &n) == -1) {
			snprintf(what, len, "a size like 512M or 2G, or infinity");
			return -1;
		}
		snprintf(text, sizeof(text), "%llu", n);
		break;
	case CGLIMIT_PIDS_MAX:
		if (number(v, 1, 4194304, &n) == -1) {
			snprintf(what, len, "a number of processes from 1 to 4194304, or infinity");
			return -1;
		}
		snprintf(text, sizeof(text), "%llu", n);
		break;
	case CGLIMIT_CPU_WEIGHT:
	case CGLIMIT_IO_WEIGHT:
		if (number(v, 1, 10000, &n) == -1) {
			snprintf(what, len, "a weight from 1 to 10000 (100 is the default)");
			return -1;
		}
		snprintf(text, sizeof(text), "%llu", n);
		break;
	case CGLIMIT_CPU_MAX:
		if (cpu_max(v, text, sizeof(text)) == -1) {
			snprintf(what, len, "a share of one CPU like 50%% or 200%%, QUOTA/PERIOD "
			    "durations like 20ms/100ms (period 1ms to 1s), or infinity");
			return -1;
		}
		break;
	default:
		return -1;
	}
	free(sc->cglimits[which]);
	if ((sc->cglimits[which] = strdup(text)) == NULL) {
		snprintf(what, len, "memory to keep it");
		return -1;
	}
	return 0;
}
