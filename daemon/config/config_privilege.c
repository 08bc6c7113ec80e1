/*
 * config_privilege.c: what a service's keys ask of vigild's own privileges,
 * checked at load against what vigild has, so that a config which could
 * never start says why at once, by file and line, instead of failing at
 * every start. vigild may run as a user's own supervisor, or as root
 * without some capabilities (a container); both are asked the same way:
 * by its effective capability set, not by its uid.
 */
#include "config.h"
#include "config_values.h"

#include <errno.h>
#include <fcntl.h>
#include <ctype.h>
#include <stdint.h>
#include <sys/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Whether vigild's effective set holds cap; capget(2) as glibc has no wrapper. */
static bool
has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) == -1)
		return geteuid() == 0;
	return (d[cap / 32].effective & (1u << (cap % 32))) != 0;
}

/* vigild's permitted set, as a mask; every capability if it cannot be read */
static uint64_t
permitted_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) == -1)
		return UINT64_MAX;
	return (uint64_t)d[1].permitted << 32 | d[0].permitted;
}

static int
needs(struct value_error *e, const char *what, const char *cap)
{
	snprintf(e->msg, sizeof(e->msg), "%s needs %s, which vigild (uid %u) does not have",
	    what, cap, (unsigned)geteuid());
	return -1;
}

/* vigild's own oom_score_adj; 0 if it cannot be read */
static int
own_oom_score_adj(void)
{
	char buf[16];
	ssize_t n = -1;
	int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);

	if (fd != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return atoi(buf);
}

/* By enum service_limit */
static const char *const limit_keys[SERVICE_NLIMITS] = {
	"limit_nofile", "limit_nproc", "limit_core", "limit_as", "limit_fsize",
	"limit_memlock", "limit_stack", "limit_cpu",
};

static int
check_limit(const struct service_rlimit *l, struct value_error *e)
{
	struct rlimit own;
	char what[160];

	if (getrlimit(l->resource, &own) == -1 || l->rl.rlim_max <= own.rlim_max ||
	    has_cap(CAP_SYS_RESOURCE))
		return 0;
	if (own.rlim_max == RLIM_INFINITY)
		return 0;
	snprintf(what, sizeof(what), "a hard limit above vigild's own (%llu)",
	    (unsigned long long)own.rlim_max);
	return needs(e, what, "CAP_SYS_RESOURCE");
}

/*
 * Dropping from the bounding set needs CAP_SETPCAP; a capability can be
 * kept only if vigild has it (capset would refuse it at every start).
 */
static int
check_caps(uint64_t mask, struct value_error *e)
{
	uint64_t missing;
	char what[96], *name;
	int cap;

	if (!has_cap(CAP_SETPCAP))
		return needs(e, "capabilities", "CAP_SETPCAP");
	if ((missing = mask & ~permitted_caps()) == 0)
		return 0;
	cap = __builtin_ctzll(missing);
	if ((name = cap_to_name(cap)) == NULL)
		return needs(e, "keeping a capability", "it");
	for (char *p = name; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	snprintf(what, sizeof(what), "keeping %s", name);
	needs(e, what, name);
	cap_free(name);
	return -1;
}

int
values_privilege_check(const struct service_conf *sc, const char *key, struct value_error *e)
{
	if (strcmp(key, "user") == 0 || strcmp(key, "group") == 0) {
		/* the child calls setgroups whenever either is set */
		if (!has_cap(CAP_SETGID))
			return needs(e, "running a service as a user or group", "CAP_SETGID");
		if (strcmp(key, "user") == 0 && sc->uid != geteuid() && !has_cap(CAP_SETUID))
			return needs(e, "running a service as another user", "CAP_SETUID");
		return 0;
	}
	if (strcmp(key, "nice") == 0) {
		struct rlimit rl;
		int own;

		errno = 0;
		own = getpriority(PRIO_PROCESS, 0);
		if (errno != 0 || sc->nice >= own || has_cap(CAP_SYS_NICE))
			return 0;
		/* RLIMIT_NICE lets a process go down to 20 - rlim_cur */
		if (getrlimit(RLIMIT_NICE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    20 - (long)rl.rlim_cur <= sc->nice)
			return 0;
		return needs(e, "a niceness below vigild's own", "CAP_SYS_NICE");
	}
	if (strcmp(key, "oom_score_adj") == 0) {
		if (sc->oom_score_adj >= own_oom_score_adj() || has_cap(CAP_SYS_RESOURCE))
			return 0;
		return needs(e, "an oom_score_adj below vigild's own", "CAP_SYS_RESOURCE");
	}
	if (strcmp(key, "capabilities") == 0)
		return check_caps(sc->capabilities, e);
	/* the mounts of a namespace of its own, and the namespace itself */
	if ((strcmp(key, "private_tmp") == 0 && sc->private_tmp) ||
	    (strcmp(key, "private_network") == 0 && sc->private_network) ||
	    (strcmp(key, "read_only_paths") == 0 && sc->read_only_paths != NULL &&
	    sc->read_only_paths[0] != NULL) ||
	    (strcmp(key, "inaccessible_paths") == 0 && sc->inaccessible_paths != NULL &&
	    sc->inaccessible_paths[0] != NULL)) {
		if (!has_cap(CAP_SYS_ADMIN))
			return needs(e, strcmp(key, "private_network") == 0 ? "a network "
			    "namespace of its own" : "mounts in a namespace of its own",
			    "CAP_SYS_ADMIN");
		return 0;
	}
	if (strcmp(key, "chroot") == 0 && !has_cap(CAP_SYS_CHROOT))
		return needs(e, "a root folder of its own", "CAP_SYS_CHROOT");
	for (int i = 0; i < SERVICE_NLIMITS; i++)
		if (strcmp(key, limit_keys[i]) == 0 && sc->limits[i].set)
			return check_limit(&sc->limits[i], e);
	return 0;
}
