/*
 * follow.c: followers of services' output. Each new line reaches every
 * follower that watches its service, serialised once; it hears of lines
 * as a listener of output/ and of removed services as one of the core. The
 * server bounds a slow follower: lines beyond the bound are counted, and
 * once it has caught up it is told how many (and from which service).
 */
#include "config.h"
#include "follow.h"

#include <stdlib.h>

#include "control.h"
#include "logline.h"
#include "proto.h"

#define FOLLOW_MAX	(1024 * 1024)	/* a follower's unsent lines: skip beyond this */
#define FOLLOW_RESUME	(256 * 1024)	/* and resume once it is down to this */

struct follower {
	struct control_client *client;
	struct service	**svcs;		/* watched; NULL: every service */
	size_t		  n;
	struct service	 *skipped_from;	/* the service of the lines it skipped, NULL: several */
	bool		  skipping;
	struct follower	 *prev, *next;
};

static struct follower *followers;	/* so that a line nobody follows costs nothing */

static bool
watches(const struct follower *f, const struct service *s)
{
	if (f->svcs == NULL)
		return true;
	for (size_t i = 0; i < f->n; i++)
		if (f->svcs[i] == s)
			return true;
	return false;
}

/*
 * Queue the line for every follower of its service. Nothing is sent here:
 * the write watchers send in the next loop turn, many lines at once. The
 * owner of an output is its service.
 */
static void
line_cb(void *arg, void *owner, const struct log_line *line)
{
	static char buf[LOG_LINE_JSON_MAX];
	struct service *s = owner;
	char *big = NULL;
	size_t len = 0;

	(void)arg;
	for (struct follower *f = followers; f != NULL; f = f->next) {
		if (!watches(f, s))
			continue;
		if (len == 0 && (len = logline_format(s->conf->name, line, buf, sizeof(buf),
		    &big)) == 0)
			return;	/* out of memory: this line is lost to followers */
		if (control_stream_send(f->client, big != NULL ? big : buf, len))
			continue;
		if (!f->skipping) {
			f->skipping = true;
			f->skipped_from = s;
		} else if (f->skipped_from != s) {
			f->skipped_from = NULL;
		}
	}
	free(big);
}

/*
 * A reload removed s: a follower of named services drops it, says so in
 * the stream, and ends like a request that failed when nothing is left.
 * Followers of every service still get its last lines.
 */
static void
removed_cb(void *arg, struct service *s)
{
	struct follower *f, *next;
	size_t k;

	(void)arg;
	for (f = followers; f != NULL; f = next) {
		next = f->next;
		if (f->skipped_from == s)
			f->skipped_from = NULL;
		if (f->svcs == NULL || !watches(f, s))
			continue;
		k = 0;
		for (size_t i = 0; i < f->n; i++)
			if (f->svcs[i] != s)
				f->svcs[k++] = f->svcs[i];
		f->n = k;
		if (k > 0) {
			control_reply(f->client, json_pack("{s:s, s:b}", PROTO_K_SERVICE, s->conf->name,
			    PROTO_K_REMOVED, 1));
			continue;
		}
		control_reply(f->client, proto_reply_error(PROTO_ERR_REMOVED,
		    "%s: removed from the configuration by a reload", s->conf->name));
		control_stream_end(f->client);	/* frees f */
	}
}

static struct output_listener line_listener = { line_cb, NULL, NULL };
static struct service_listener service_listener = { NULL, removed_cb, NULL, NULL };

static void
resume_cb(struct control_client *c, void *state, uint64_t skipped)
{
	struct follower *f = state;
	json_t *r = json_pack("{s:I}", PROTO_K_SKIPPED, (json_int_t)skipped);

	if (r != NULL && f->skipped_from != NULL)
		json_object_set_new(r, PROTO_K_SERVICE, json_string(f->skipped_from->conf->name));
	control_reply(c, r);
	f->skipping = false;
	f->skipped_from = NULL;
}

static void
follower_free(void *state)
{
	struct follower *f = state;

	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		followers = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	free(f->svcs);
	free(f);
}

static const struct control_stream_ops stream_ops = {
	FOLLOW_MAX, FOLLOW_RESUME, resume_cb, follower_free,
};

int
follow_start(struct control_client *c, struct service **svcs, size_t n)
{
	struct follower *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		free(svcs);
		return -1;
	}
	output_listen(&line_listener);
	world_listen(&service_listener);
	f->client = c;
	f->svcs = svcs;
	f->n = n;
	f->next = followers;
	if (followers != NULL)
		followers->prev = f;
	followers = f;
	control_stream(c, &stream_ops, f);
	log_debug("control: a client follows the output of %s%s",
	    svcs == NULL ? "every service" : svcs[0]->conf->name, n > 1 ? " and more" : "");
	return 0;
}
