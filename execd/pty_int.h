/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to pty*.c: a PTY session (its shell, output ring and stdin queue)
 * and the one WebSocket client attached to it.
 */
#ifndef EXECD_PTY_INT_H
#define EXECD_PTY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "execd.h"
#include "uuid.h"
#include "ws.h"

#define PTY_RING_SIZE	      (1024 * 1024)
#define PTY_CHUNK	      (32 * 1024)   /* largest live output frame */
#define PTY_CLIENT_OUT_HIGH   (1024 * 1024) /* stop reading the shell above this */
#define PTY_STDIN_MAX	      (1024 * 1024)
#define PTY_PING_MS	      30000
#define PTY_READ_DEADLINE_MS  60000
#define PTY_WRITE_DEADLINE_MS 10000
#define PTY_MSG_MAX	      (1024 * 1024)
#define PTY_SESSIONS_MAX      256

#define PTY_CH_STDIN  0x00
#define PTY_CH_STDOUT 0x01
#define PTY_CH_STDERR 0x02
#define PTY_CH_REPLAY 0x03

struct pty_client;

struct pty_session {
	struct pty_session *next;
	struct execd *x;
	char id[UUID_STR_LEN];
	char *cwd, *command;
	bool running, pipe_mode;
	pid_t pid;
	int out_fd, err_fd; /* PTY mode: out_fd is the master */
	int in_fd;	    /* PTY mode: the master again (dup) */
	char *ring;	    /* last PTY_RING_SIZE bytes of output */
	uint64_t total;	    /* bytes of output ever produced */
	struct buf stdin_q; /* input not yet accepted by the shell */
	bool reading_paused;
	struct pty_client *client;
};

/* pty.c */
/* Starts the shell (pty or pipe mode); 0 or -errno with e set. */
int pty_start(struct pty_session *s, bool pipe_mode, struct err *e);
/* Queues input for the shell. 0 or -ENOBUFS. */
int pty_write_stdin(struct pty_session *s, const char *data, size_t len);
void pty_resize(struct pty_session *s, unsigned cols, unsigned rows);
void pty_signal(struct pty_session *s, int sig);
/* The client's output queue drained: resume reading the shell. */
void pty_resume_output(struct pty_session *s);
/* Copies ring bytes from absolute offset `since` (clamped) into b; returns the start offset. */
uint64_t pty_ring_copy(const struct pty_session *s, uint64_t since, struct buf *b);

/* pty_ws.c */
/* Takes over an upgraded connection as the session's client (replay, connected frame). */
void pty_client_attach(struct pty_session *s, struct http_detached *d, uint64_t since, bool started,
		       const char *start_error);
/* Live output for the attached client. */
void pty_client_output(struct pty_client *cl, int channel, const char *data, size_t len);
/* The shell exited: exit frame, then close 1000. */
void pty_client_exit(struct pty_client *cl, int exit_code);
/* Evicts the client with a close code (4001 TAKEN_OVER, or 1000 when the session is deleted). */
void pty_client_evict(struct pty_client *cl, uint16_t code, const char *reason);
size_t pty_client_pending(const struct pty_client *cl);

#endif
