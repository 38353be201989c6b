/* SPDX-License-Identifier: Apache-2.0 */
/*
 * command: shell commands run for /command (and /code without a Jupyter
 * language), foreground with streamed output or in the background with a
 * bounded log file.
 *
 * Output is read from pipes through the event loop as it arrives; the stream
 * ends as soon as the terminal event is written. Records of finished commands
 * are kept COMMAND_RETENTION_MS or until COMMAND_MAX_FINISHED newer ones
 * exist, then removed with their log file.
 */
#ifndef EXECD_COMMAND_H
#define EXECD_COMMAND_H

#include <stdbool.h>
#include <stdint.h>

#include "execd.h"

#define COMMAND_MAX_FINISHED	   1024
#define COMMAND_RETENTION_MS	   (60 * 60 * 1000)
#define COMMAND_LOG_MAX		   (64 * 1024 * 1024) /* background log file cap; later output is dropped */
#define COMMAND_LOGS_CHUNK	   (8 * 1024 * 1024) /* most bytes one /logs response returns */
#define COMMAND_INTERRUPT_GRACE_MS 3000

struct command_run {
	const char *command;
	const char *cwd; /* expanded and checked already, or NULL */
	bool background;
	int64_t timeout_ms; /* 0 = none */
	bool set_ids;
	uint32_t uid, gid;
	char **envp; /* taken over */
};

/* Starts a command for the request on c and streams its events (the /command
 * and /code entry point after validation). */
void command_start(struct execd *x, struct http_conn *c, struct command_run *run);

/* Handles DELETE /command?id= and /code?id=. */
void command_interrupt(struct http_conn *c, struct http_req *req, void *arg);

/* Parses and validates a /command style body into run (cwd checked, env built).
 * On failure answers the request (400/500) and returns false. */
bool command_parse_request(struct execd *x, struct http_conn *c, const char *body, size_t len,
			   struct command_run *run, char *cwd_buf);

#endif
