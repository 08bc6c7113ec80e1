/*
 * cglimits.c: memory_max, pids_max, cpu_weight and the rest written to a
 * service's own cgroup before each spawn (cgroup.c asks), so its first
 * process is born limited. A controller its cgroup cannot have (not
 * delegated to vigild's folder: on a host whose controllers are on cgroup
 * v1, none are) is said once per service and controller, and the service
 * starts without that limit: a warning, not a refusal, since the same
 * config must also run where a limit cannot be had.
 */
#include "config.h"
#include "cgroup.h"
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Whether the word ctl is in the blank-separated list of dir/file. */
static bool
listed(const char *dir, const char *file, const char *ctl)
{
	char path[PATH_MAX + 32], buf[512], *w, *save;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (w = strtok_r(buf, " \n", &save); w != NULL; w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, ctl) == 0)
			return true;
	return false;
}

static int
write_text(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX + 32];
	size_t len = strlen(text);
	ssize_t n;
	int fd, saved;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	n = write(fd, text, len);
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * Whether the services' cgroups below base may have controller ctl:
 * enabled in base's cgroup.subtree_control, by us if base is offered it.
 */
static bool
controller_on(const char *base, const char *ctl, char *why, size_t len)
{
	char plus[32];

	if (listed(base, "cgroup.subtree_control", ctl))
		return true;
	if (!listed(base, "cgroup.controllers", ctl)) {
		snprintf(why, len, "%s/cgroup.controllers does not list it: the cgroups "
		    "above do not delegate it", base);
		return false;
	}
	snprintf(plus, sizeof(plus), "+%s", ctl);
	if (write_text(base, "cgroup.subtree_control", plus) == -1) {
		snprintf(why, len, "enabling it in %s/cgroup.subtree_control: %s", base,
		    strerror(errno));
		return false;
	}
	return true;
}

/* Whether a limit's file (memory.max) belongs to controller ctl (memory). */
static bool
of_controller(const char *file, const char *ctl)
{
	size_t len = strlen(ctl);

	return strncmp(file, ctl, len) == 0 && file[len] == '.';
}

/* What each file holds with no limit set: where a key dropped by a reload goes back to. */
static const char *const unset_text[SERVICE_NCGLIMITS] = {
	"max", "max", "max", "100", "max", "100",
};

/* The text key i asks for: its own, the kernel's default if it was written before, else NULL. */
static const char *
wanted(const struct service_conf *c, unsigned written, int i)
{
	if (c->cglimits[i] != NULL)
		return c->cglimits[i];
	return written & (1u << i) ? unset_text[i] : NULL;
}

void
cglimits_write(const struct service *s, const char *base, const char *path,
    unsigned *warned, unsigned *written)
{
	static const char *const ctls[] = { "memory", "pids", "cpu", "io" };
	const struct service_conf *c = s->conf;

	for (size_t k = 0; k < sizeof(ctls) / sizeof(ctls[0]); k++) {
		char keys[256] = "", why[PATH_MAX + 96];
		size_t used = 0;

		for (int i = 0; i < SERVICE_NCGLIMITS; i++)
			if (wanted(c, *written, i) != NULL &&
			    of_controller(config_cglimit_files[i], ctls[k]))
				used += (size_t)snprintf(keys + used, used < sizeof(keys) ?
				    sizeof(keys) - used : 0, "%s%s = %s", used ? ", " : "",
				    config_cglimit_keys[i], wanted(c, *written, i));
		if (used == 0)
			continue;
		if (!controller_on(base, ctls[k], why, sizeof(why))) {
			if (!(*warned & (1u << k)))
				log_warnx("%s: %s not applied: the %s controller is not "
				    "available to its cgroup (%s)", c->name, keys, ctls[k], why);
			*warned |= 1u << k;
			continue;
		}
		for (int i = 0; i < SERVICE_NCGLIMITS; i++) {
			unsigned bit = 1u << (8 + i);

			if (wanted(c, *written, i) == NULL ||
			    !of_controller(config_cglimit_files[i], ctls[k]))
				continue;
			if (write_text(path, config_cglimit_files[i], wanted(c, *written, i)) == 0) {
				if (c->cglimits[i] != NULL)
					*written |= 1u << i;
				else
					*written &= ~(1u << i);
				continue;
			}
			if (!(*warned & bit))
				log_warn("%s: %s = %s not applied: writing %s/%s", c->name,
				    config_cglimit_keys[i], wanted(c, *written, i), path,
				    config_cglimit_files[i]);
			*warned |= bit;
		}
	}
}
