// SPDX-License-Identifier: Apache-2.0
/* A failed sandbox's status message gets the last lines its container printed,
 * so "exited with code 127" comes with the "not found" that explains it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "runtime_docker.h"
#include "store.h"

#define LOGS_TAIL_LINES 10

struct logs_job {
	struct apisrv *srv;
	char id[UUID_STR_LEN];
	char cid[DOCKER_ID_LEN];
	char reason[40];
	struct buf text;
	int result;
	struct err e;
};

static void logs_work(void *arg)
{
	struct logs_job *j = arg;
	j->result =
		docker_logs(&j->srv->docker, j->cid, LOGS_TAIL_LINES, 0, false, &j->text, &j->e);
}

/* Appends the end of the output that fits, on one line, printable ASCII only
 * (the message is JSON for every client; container output may be any bytes). */
static void append_output(struct sbx *s, const char *text, size_t len)
{
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		len--;
	const char *lead = " Last output: ";
	size_t used = strlen(s->message);
	if (!len || used + strlen(lead) + 4 >= sizeof(s->message))
		return;
	size_t room = sizeof(s->message) - used - strlen(lead) - 1;
	if (len > room)
		text += len - room, len = room;
	char *o = s->message + used;
	o += sprintf(o, "%s", lead);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		*o++ = c == '\n' ? '|' : c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	*o = '\0';
}

static void logs_done(void *arg)
{
	struct logs_job *j = arg;
	struct sbx *s = store_find(j->srv->store, j->id);
	if (j->result < 0)
		log_msg(LOG_DEBUG, NULL, "container logs unavailable", "sandbox_id", j->id, "error",
			j->e.msg, NULL);
	else if (s && s->state == SBX_FAILED && strcmp(s->reason, j->reason) == 0 &&
		 !strstr(s->message, " Last output: "))
		append_output(s, buf_head(&j->text), j->text.len);
	buf_free(&j->text);
	free(j);
}

void runtime_docker_failed_logs(struct sbx *s)
{
	if (!s->cid[0])
		return;
	struct logs_job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->srv = s->srv;
	snprintf(j->id, sizeof(j->id), "%s", s->id);
	snprintf(j->cid, sizeof(j->cid), "%s", s->cid);
	snprintf(j->reason, sizeof(j->reason), "%s", s->reason);
	buf_init(&j->text, 512 * 1024);
	if (jobs_submit(s->srv->jobs, logs_work, logs_done, j) < 0) {
		buf_free(&j->text);
		free(j);
	}
}
