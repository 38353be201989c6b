/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store: the sandboxes known to this server (owned here), host port
 * reservations, and the persisted state file (<state-dir>/state.json:
 * expiry and metadata per sandbox), rewritten atomically (write to a
 * temporary file, fsync, rename) at most once per loop turn.
 */
#ifndef API_STORE_H
#define API_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apisrv.h"

struct store;

/* A store persisting into dir (created if missing). NULL with e set. */
struct store *store_new(struct apisrv *srv, const char *dir, struct err *e);
/* Frees every record (timers stopped, probes cancelled). */
void store_free(struct store *st);

/* A new record (zeroed, id set, state Pending), owned by the store. NULL on ENOMEM. */
struct sbx *store_add(struct store *st, const char *id);
struct sbx *store_find(struct store *st, const char *id);
/* Removes and frees a record: releases its ports, stops its timers. */
void store_remove(struct store *st, struct sbx *s);
/* Whether id was removed at or after since_ms (ev_clock_ms; among the last 256 removals). */
bool store_removed_since(const struct store *st, const char *id, uint64_t since_ms);
size_t store_count(const struct store *st);
/* The i-th record (0 <= i < count); order changes on removal. */
struct sbx *store_at(struct store *st, size_t i);

/* Reserves n distinct free host ports (bind-probed, 40000-60000). 0 or -EADDRINUSE. */
int store_ports_reserve(struct store *st, uint16_t *out, size_t n);
void store_ports_release(struct store *st, const uint16_t *ports, size_t n);
/* Marks ports of a recovered sandbox as used. */
void store_ports_mark(struct store *st, const uint16_t *ports, size_t n);

/* Schedules a rewrite of the state file at the end of this turn. */
void store_dirty(struct store *st);
/* Writes the state file now. 0 or -errno. */
int store_save(struct store *st, struct err *e);
/* The persisted entry of id ({"expiresAt": us, "metadata": {...}}), or NULL. Valid until the
 * next store_forget_persisted. */
const cJSON *store_persisted(struct store *st, const char *id);
/* Drops what was loaded from the file (after recovery has used it). */
void store_forget_persisted(struct store *st);

#endif
