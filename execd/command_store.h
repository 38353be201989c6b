/* SPDX-License-Identifier: Apache-2.0 */
/*
 * command_store: the records of commands (running and finished), their
 * status and log endpoints, interrupts, and garbage collection of finished
 * records (COMMAND_RETENTION_MS, COMMAND_MAX_FINISHED) with their log files.
 * The store owns every record; command.c drives a record's process.
 */
#ifndef EXECD_COMMAND_STORE_H
#define EXECD_COMMAND_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "command.h"
#include "lines.h"
#include "stream.h"
#include "uuid.h"

struct command;

struct command_line_sink {
	struct command *cmd;
	const char *type; /* "stdout" or "stderr" */
};

struct command {
	struct command *next, *prev;
	struct command_store *store;
	struct execd *x;
	char id[UUID_HEX_LEN];
	char *content;
	bool background;
	pid_t pid;     /* also the process group id */
	bool exited;   /* the leader has been reaped */
	bool finished; /* terminal state recorded */
	int status;    /* wait status */
	int exit_code;
	char *error; /* "exit status 3", spawn error...; NULL on success */
	struct timespec started_at, finished_at;
	uint64_t mono_start;
	int fd_out, fd_err; /* pipe read ends, -1 when closed */
	bool paused;	    /* output held back for a slow client */
	struct lines out_lines, err_lines;
	struct command_line_sink out_sink, err_sink;
	int log_fd;
	char log_path[512];
	uint64_t log_len, log_dropped;
	struct stream stream;
	struct ev_timer timeout;
	struct command_interrupt *interrupts;
};

struct command_store *command_store_create(struct execd *x);
/* A new running record with a fresh id; NULL on ENOMEM. */
struct command *command_store_new(struct command_store *s, const char *content, bool background);
struct command *command_store_find(struct command_store *s, const char *id);
/* Records the end (error NULL on success). */
void command_store_mark_finished(struct command *cmd, int exit_code, const char *error);
/* Drops the oldest finished records over COMMAND_MAX_FINISHED (call when no
 * record is in use on the stack). */
void command_store_trim(struct command_store *s);
/* Drops a record at once (and its log file). */
void command_store_remove(struct command *cmd);
/* Status and logs routes. */
int command_store_routes(struct execd *x);

#endif
