/*
 * usage.c: vigilctl's usage and help text, from the table of verbs it is
 * given (commands.c's), so that help and the table never disagree.
 */
#include "config.h"
#include "vigilctl.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Broken at blanks so that no line passes CTL_HELP_COLUMNS (a word longer
 * than a line stands alone); each later line starts at indent. col is
 * where the cursor is, after what the caller printed on this line.
 */
void
ctl_wrap(FILE *f, int col, int indent, const char *text)
{
	bool first = true;

	text += strspn(text, " ");
	while (*text != '\0') {
		size_t n = strcspn(text, " ");

		if (!first && col + 1 + (int)n > CTL_HELP_COLUMNS)
			col = fprintf(f, "\n%*s", indent, "") - 1;
		else if (!first)
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", (int)n, text);
		first = false;
		text += n;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

/* full: every option and verb (--help); else the synopsis a usage error needs */
void
ctl_usage(FILE *f, bool full, const struct ctl_verb *verbs)
{
	char sock[PATH_MAX];

	fprintf(f, "usage: vigilctl [--socket PATH] [--json] [--no-wait] "
	    "[--timeout DURATION]\n                COMMAND [ARG...]\n"
	    "       vigilctl log [-f] [-n N] [--since DURATION] [-o short|short-iso|raw|json]\n"
	    "                    [--service-prefix|--no-service-prefix] [NAME...]\n"
	    "       vigilctl wait [--for running|ready|stopped|exited]\n"
	    "                     [--timeout DURATION] NAME...\n"
	    "       vigilctl top [-b] [-d SECONDS]\n"
	    "       vigilctl signal [--main] SIGNAL NAME...\n"
	    "       vigilctl reload [--dry-run] [--no-wait]\n"
	    "       vigilctl daemon-reexec\n"
	    "       vigilctl metrics [--format openmetrics|prometheus]\n");
	if (!full) {
		fprintf(f, "commands:");
		for (const struct ctl_verb *v = verbs; v->name != NULL; v++)
			fprintf(f, " %s", v->name);
		fprintf(f, "\n'vigilctl --help' explains each\n");
		return;
	}
	ctl_default_socket(geteuid(), getenv("XDG_RUNTIME_DIR"), sock, sizeof(sock));
	fprintf(f, "  -s, --socket PATH      vigild's socket (default: $VIGIL_SOCKET,\n");
	fprintf(f, "                         else %s)\n", sock);
	fprintf(f,
	    "  -j, --json             print vigild's replies as JSON, as they come\n"
	    "      --no-wait          start, stop, restart, reload: return once vigild\n"
	    "                         accepted\n"
	    "      --wait             start, stop, restart: wait until done (the default)\n"
	    "      --timeout DURATION give up after this long (default 60s)\n"
	    "      --for STATE        wait: running, ready (default), stopped or exited\n"
	    "  -n N                   log: the last N lines (default 50)\n"
	    "  -f, --follow           log: then print new lines until interrupted\n"
	    "      --since DURATION   log: only lines from the last DURATION\n"
	    "  -o, --output FORMAT    log: short (the default: time, name, text), short-iso\n"
	    "                         (the time as RFC 3339), raw (the text alone) or json\n"
	    "      --service-prefix   log: each line's service name, even for one service\n"
	    "      --no-service-prefix\n"
	    "                         log: no name, even for several services\n"
	    "      --dry-run          reload: say what would change, change nothing\n"
	    "      --main             signal: only the main process, not the whole service\n"
	    "      --format FORMAT    metrics: openmetrics (default) or prometheus (0.0.4)\n"
	    "  -d, --delay SECONDS    top: between status refreshes (default 2)\n"
	    "  -b, --batch            top: print one frame for a pipe, then exit\n"
	    "  -h, --help             this help\n"
	    "      --version          print the version\n"
	    "commands:\n");
	for (const struct ctl_verb *v = verbs; v->name != NULL; v++)
		ctl_wrap(f, fprintf(f, "  %-22s ", v->usage), 25, v->summary);
	fprintf(f, "exit status: 0 done, 1 refused or failed, 2 usage error,"
	    " 3 vigild not reachable\n");
}
