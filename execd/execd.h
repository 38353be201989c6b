/* SPDX-License-Identifier: Apache-2.0 */
/*
 * execd: the in-sandbox agent. This header holds the process-wide context
 * that every HTTP surface (command, session, pty, files, metrics, proxy)
 * receives, and the registration function of each surface.
 */
#ifndef EXECD_EXECD_H
#define EXECD_EXECD_H

#include <stdbool.h>
#include <stdint.h>

#include "ev.h"
#include "http_server.h"

struct execd {
	struct ev_loop *loop;
	struct http_server *srv;
	const char *token;     /* "" = no auth */
	uint16_t port;	       /* the port execd listens on */
	const char *envs_file; /* EXECD_ENVS (may be NULL) */
	const char *tmpdir;    /* TMPDIR or /tmp */
	struct command_store *commands;
	struct session_store *sessions;
	struct pty_store *ptys;
	struct http_proxy *proxy;
};

/* DELETE /command?id= on a bash session id closes the session; true if one was found. */
bool session_close_by_id(struct execd *x, const char *id);

/* Each surface adds its routes; 0 or -errno. */
int command_routes(struct execd *x);
int code_routes(struct execd *x);
int session_routes(struct execd *x);
int pty_routes(struct execd *x);
int files_routes(struct execd *x);
int metrics_routes(struct execd *x);
int proxy_routes(struct execd *x);

#endif
