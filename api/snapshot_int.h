/* SPDX-License-Identifier: Apache-2.0 */
/* snapshot: what snapshot.c and snapshot_file.c share. */
#ifndef API_SNAPSHOT_INT_H
#define API_SNAPSHOT_INT_H

#include "ev.h"
#include "jobs.h"
#include "snapshot.h"

struct snapshots {
	struct snap **v; /* newest last */
	size_t n, cap;
	char path[512]; /* <state-dir>/snapshots.json */
	struct jobs *jobs;
	struct ev_timer retry; /* recovery, while the runtime has not answered */
};

/* A new zeroed record, owned by ss. NULL on ENOMEM. */
struct snap *snapshot_add(struct snapshots *ss);
void snapshot_free(struct snap *sn);
/* Frees every record. */
void snapshots_clear(struct snapshots *ss);
/* Reads ss->path (a missing file is no snapshots). 0 or -errno with e set. */
int snapshots_load(struct snapshots *ss, struct err *e);
/* Replaces ss->path with every record. 0 or -errno with e set. */
int snapshots_save(const struct snapshots *ss, struct err *e);

#endif
