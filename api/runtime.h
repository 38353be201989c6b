/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime: what sandbox-api asks of the platform that runs its sandboxes.
 * One implementation per platform, chosen by --runtime and reached through
 * srv->rt: runtime_docker (Docker Engine API) and runtime_k8s (Kubernetes).
 *
 * get and list: answered from the store (store.h), never by asking the
 * platform. start() fills the store (recovery) and the runtime keeps it
 * current (Docker: events stream and sweep; Kubernetes: LIST+WATCH).
 * Every call runs on the loop thread and answers through its struct reply,
 * which is NULL where the server acts on its own (expiry, renew-on-access);
 * blocking platform calls run as jobs on the worker threads.
 */
#ifndef API_RUNTIME_H
#define API_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "apival.h"
#include "err.h"

struct apisrv;
struct sbx;
struct reply;
struct diag_query;

/* Snapshot artifacts (snapshot.h). commit, remove and exists run on a worker
 * thread and may block: they use only srv's read-only configuration and
 * platform client. */
struct runtime_snapshots {
	/* The artifact of snapshot sid (Docker: an image reference), into out. */
	void (*artifact)(struct apisrv *srv, const char *sid, char *out, size_t cap);
	/* Captures the sandbox container cid as artifact. 0 or -errno (-ETIMEDOUT). */
	int (*commit)(struct apisrv *srv, const char *cid, const char *artifact, struct err *e);
	/* Removes artifact: 0 (also when it is not there), -EBUSY while in use, -errno. */
	int (*remove)(struct apisrv *srv, const char *artifact, struct err *e);
	/* Whether artifact exists: 1, 0 or -errno. */
	int (*exists)(struct apisrv *srv, const char *artifact, struct err *e);
};

struct runtime {
	const char *name;	       /* as --runtime takes it */
	const char *code_not_found;    /* error code of a sandbox that does not exist */
	const char *code_invalid_port; /* error code of an endpoint port out of range */

	/* Set-up that may refuse to start the server (bad configuration). argv0
	 * locates files shipped beside the binary. 0 or -errno with e set. */
	int (*init)(struct apisrv *srv, const char *argv0, struct err *e);
	/* Recovery, then following the platform. Trouble is not fatal (retried). */
	int (*start)(struct apisrv *srv, struct err *e);
	void (*stop)(struct apisrv *srv);
	/* Frees what init made, once the workers have ended. May be NULL. */
	void (*fini)(struct apisrv *srv);

	/* s is the new record (Pending, provisioning, tokens made); the call owns
	 * rq from here on. Answers 202 with the sandbox, or the error. */
	void (*create)(struct apisrv *srv, struct sbx *s, struct apival_create *rq,
		       struct reply *r);
	/* Deletes s (expiry or the API); 204. */
	void (*remove)(struct apisrv *srv, struct sbx *s, struct reply *r);
	/* 202 when paused (resumed); 409 in the wrong state. */
	void (*pause)(struct apisrv *srv, struct sbx *s, bool resume, struct reply *r);
	/* Sets a new expiry; 200 {"expiresAt"}. */
	void (*renew)(struct apisrv *srv, struct sbx *s, int64_t expires_us, struct reply *r);
	/* Applies a validated flat merge patch (string values set, null deletes) to
	 * the user metadata; 200 with the sandbox. */
	void (*patch_metadata)(struct apisrv *srv, struct sbx *s, const cJSON *patch,
			       struct reply *r);
	/* The direct endpoint of port (neither the gateway's nor the server proxy's
	 * form) into ep; via_execd tells whether execd answers it (it then wants the
	 * sandbox's token). 0, or -1 with ae filled. */
	int (*endpoint)(struct apisrv *srv, const struct sbx *s, unsigned port, char *ep,
			size_t cap, bool *via_execd, struct apival_err *ae);
	/* Diagnostics (diag.h): logs, events, inspect, summary; answers 501 for a
	 * kind it lacks. NULL: none at all (501). */
	void (*diagnostics)(struct apisrv *srv, struct sbx *s, const struct diag_query *q,
			    struct reply *r);
	/* NULL: snapshots answer 501 SNAPSHOT::NOT_IMPLEMENTED. */
	const struct runtime_snapshots *snapshots;
	/* s has just turned Failed: the runtime may add what it knows (its last
	 * output) to the message. May be NULL. */
	void (*failed)(struct sbx *s);
	/* Whether the store has been read from the platform since start-up. Until then a
	 * list or a sandbox not found answers 503 code_not_synced: an empty answer would
	 * say that sandboxes are gone. NULL: always (the store is persisted). */
	bool (*synced)(const struct apisrv *srv);
	const char *code_not_synced;
};

extern const struct runtime runtime_docker;
extern const struct runtime runtime_k8s;

/* The runtime named name, or NULL. */
const struct runtime *runtime_find(const char *name);

#endif
