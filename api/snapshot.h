/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot: server-managed snapshots of sandboxes (the OpenSandbox snapshot API). A record
 * per snapshot, kept in memory and in <state-dir>/snapshots.json (replaced
 * atomically on every change); the artifact is the runtime's (Docker: the
 * image opensandbox-snapshots:<id> made by POST /commit).
 *
 * States: Creating (a commit is running) -> Ready | Failed; Deleting (the
 * artifact is being removed) -> gone, or back where it was when the runtime
 * refuses. Commits and removals run on their own two worker threads, so a
 * long commit never holds up sandbox creates, and never the loop.
 * Start-up recovery: Creating -> Ready if the artifact exists, else Failed;
 * Deleting -> the removal is done again.
 */
#ifndef API_SNAPSHOT_H
#define API_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "apisrv.h"
#include "apival.h"
#include "reply.h"

#define SNAPSHOT_MAX	   4096 /* records kept; more is 409 SNAPSHOT::LIMIT_REACHED */
#define SNAPSHOT_NAME_MAX  256	/* bytes of a name */
#define SNAPSHOT_IMAGE_MAX 192	/* bytes of a restore image reference */

enum snap_state { SNAP_CREATING, SNAP_READY, SNAP_FAILED, SNAP_DELETING };

struct snap {
	char id[UUID_STR_LEN];
	char sandbox_id[UUID_STR_LEN];
	char *name;			/* or NULL */
	char image[SNAPSHOT_IMAGE_MAX]; /* the restore image; "" until Ready */
	enum snap_state state;
	enum snap_state before_delete; /* where a refused delete returns to */
	char reason[48];
	char message[480];
	int64_t created_us, transition_us;
	bool busy; /* a commit or removal job holds it */
};

/* Loads <dir>/snapshots.json. 0, or -errno with e set (an unreadable file stops
 * the server rather than orphan every artifact it names). */
int snapshots_init(struct apisrv *srv, const char *dir, struct err *e);
/* Recovery of Creating and Deleting records (needs the runtime started). */
void snapshots_start(struct apisrv *srv);
/* Waits for running jobs, frees everything. */
void snapshots_fini(struct apisrv *srv);

const char *snapshot_state_name(enum snap_state st);
/* The record id, or NULL. */
struct snap *snapshot_find(struct apisrv *srv, const char *id);
size_t snapshot_count(struct apisrv *srv);
struct snap *snapshot_at(struct apisrv *srv, size_t i);
/* The Snapshot JSON of sn appended to out. 0 or -errno. */
int snapshot_json(const struct snap *sn, struct buf *out);

/* Answers r with the Snapshot JSON of sn (extra_name: one more header, or NULL). */
void snapshot_reply(struct reply *r, const struct snap *sn, int status, const char *extra_name,
		    const char *extra_value);

/* POST /sandboxes/{id}/snapshots for s: 202 with the record (Creating). */
void snapshot_create(struct apisrv *srv, struct sbx *s, const char *name, struct reply *r);
/* DELETE /snapshots/{id}: 204, 404, 409. */
void snapshot_delete(struct apisrv *srv, const char *id, struct reply *r);

/* What a create with snapshotId starts from: the restore image into image.
 * 0, or -1 with ae filled (404 NOT_FOUND, 409 NOT_READY or INVALID_RESTORE_CONFIG,
 * 501 when the runtime has no snapshots). */
int snapshot_restore_image(struct apisrv *srv, const char *id, char *image, size_t cap,
			   struct apival_err *ae);

#endif
