/*
 * usage.c: vigilctl's usage and help text, from the table of verbs it is
 * given (commands.c's), so that help and the table never disagree.
 */
#include "config.h"
#include "vigilctl.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

/* full: every option and verb (--help); else the synopsis a usage error needs */
void
ctl_usage(FILE *f, bool full, const struct ctl_verb *verbs)
{
	char sock[PATH_MAX];

	fprintf(f, "usage: vigilctl [--socket PATH] [--json] [--no-wait] "
	    "[--timeout DURATION]\n                COMMAND [ARG...]\n"
	    "       vigilctl log [-f] [-n N] [--since DURATION] [NAME...]\n"
	    "       vigilctl wait [--for running|ready|stopped|exited] "
	    "[--timeout DURATION] NAME...\n"
	    "       vigilctl signal [--main] SIGNAL NAME...\n"
	    "       vigilctl reload [--dry-run] [--no-wait]\n"
	    "       vigilctl daemon-reexec\n");
	if (!full) {
		fprintf(f, "commands:");
		for (const struct ctl_verb *v = verbs; v->name != NULL; v++)
			fprintf(f, " %s", v->name);
		fprintf(f, "\n'vigilctl --help' explains each\n");
		return;
	}
	fprintf(f,
	    "  -s, --socket PATH      vigild's socket (default: $VIGIL_SOCKET, else %s)\n"
	    "  -j, --json             print vigild's replies as JSON, as they come\n"
	    "      --no-wait          start, stop, restart, reload: return once vigild accepted\n"
	    "      --wait             start, stop, restart: wait until done (the default)\n"
	    "      --timeout DURATION give up after this long (default 60s)\n"
	    "      --for STATE        wait: running, ready (default), stopped or exited\n"
	    "  -n N                   log: the last N lines (default 50)\n"
	    "  -f, --follow           log: then print new lines until interrupted\n"
	    "      --since DURATION   log: only lines from the last DURATION\n"
	    "      --dry-run          reload: say what would change, change nothing\n"
	    "      --main             signal: only the main process, not the whole service\n"
	    "  -h, --help             this help\n"
	    "      --version          print the version\n"
	    "commands:\n",
	    ctl_default_socket(geteuid(), getenv("XDG_RUNTIME_DIR"), sock, sizeof(sock)));
	for (const struct ctl_verb *v = verbs; v->name != NULL; v++)
		fprintf(f, "  %-22s %s\n", v->usage, v->summary);
	fprintf(f, "exit status: 0 done, 1 refused or failed, 2 usage error,"
	    " 3 vigild not reachable\n");
}
