/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker: blocking calls to the Docker Engine REST API over a unix socket
 * (DOCKER_HOST=unix://...) or TCP (tcp://host:port). Meant for the worker
 * threads of jobs.h: every call opens its own connection and runs on a
 * private loop, so calls from several threads do not share anything but
 * the read-only struct docker and its atomic error counter.
 *
 * Return conventions: >= 0 (HTTP status or 0) on success, -ENOENT when the
 * object does not exist (404), -EHOSTUNREACH when the daemon cannot be
 * reached (the caller answers 503), other -errno with e naming the call
 * and the Engine's message.
 */
#ifndef API_DOCKER_H
#define API_DOCKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "buf.h"
#include "err.h"
#include "http_client.h"

struct docker {
	struct http_endpoint ep;
	char url[256]; /* as configured, for messages */
	uint32_t timeout_ms;
	unsigned long errors; /* failed calls (atomic) */
	int api_minor;	      /* 0 until known (atomic) */
};

#define DOCKER_ID_LEN 65

/* Parses the daemon address (NULL: $DOCKER_HOST, else unix:///var/run/docker.sock). */
int docker_init(struct docker *d, const char *host, uint32_t timeout_ms, struct err *e);

/*
 * One request. body may be NULL. resp must be freed with http_response_free.
 * Returns the HTTP status or -EHOSTUNREACH / -errno.
 */
int docker_call(struct docker *d, const char *method, const char *target, const char *body,
		size_t len, const char *ctype, const char *const *headers, size_t max_body,
		struct http_response *resp, struct err *e);

/* A JSON request with the Engine's error message mapped into e for statuses >= 300.
 * out (may be NULL) gets the parsed response body. Returns the status or -errno. */
int docker_json(struct docker *d, const char *method, const char *target, const cJSON *body,
		cJSON **out, struct err *e);

/* 0 (out: the inspect object, may be NULL), -ENOENT, or -errno. */
int docker_image_inspect(struct docker *d, const char *ref, cJSON **out, struct err *e);
/* Pulls ref (auth_b64: X-Registry-Auth value or NULL; platform "os/arch" or NULL). */
int docker_image_pull(struct docker *d, const char *ref, const char *auth_b64, const char *platform,
		      struct err *e);
int docker_create(struct docker *d, const char *name, const cJSON *body, char id[DOCKER_ID_LEN],
		  struct err *e);
int docker_put_archive(struct docker *d, const char *cid, const char *path, const void *tar,
		       size_t len, struct err *e);
int docker_get_archive(struct docker *d, const char *cid, const char *path, struct buf *out,
		       struct err *e);
/* action: "start", "pause", "unpause", "kill". 0 (also for "already" states), -ENOENT, -errno. */
int docker_action(struct docker *d, const char *cid, const char *action, struct err *e);
/* Force-removes a container (and its anonymous volumes). 0 or -ENOENT or -errno. */
int docker_remove(struct docker *d, const char *cid, struct err *e);
int docker_inspect(struct docker *d, const char *cid, cJSON **out, struct err *e);
/* GET /containers/json?all=1 with filters (a JSON object text, or NULL). */
int docker_list(struct docker *d, const char *filters, cJSON **out, struct err *e);
/* The last `tail` lines of a container's stdout and stderr (the non-TTY stream
 * demultiplexed; since: Unix seconds, 0 for all; timestamps: each line prefixed
 * with its RFC 3339 time) appended to out as text (at most 8 MiB read).
 * 0, -ENOENT or -errno. */
int docker_logs(struct docker *d, const char *cid, unsigned tail, long since, bool timestamps,
		struct buf *out, struct err *e);
/* Removes every container carrying label "key=value" (or "key"). Returns how many. */
int docker_remove_by_label(struct docker *d, const char *label, struct err *e);

/* The minor number of the Engine API version the daemon speaks (41 for 1.41),
 * asked once (GET /version) and remembered. -errno if it cannot be asked. */
int docker_api_minor(struct docker *d, struct err *e);

#endif
