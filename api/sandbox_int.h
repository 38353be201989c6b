/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox_int: what the sandbox files and the runtimes share, and nothing
 * else includes.
 */
#ifndef API_SANDBOX_INT_H
#define API_SANDBOX_INT_H

#include "sandbox.h"

/* Changes state and reason (the transition time when either changes). */
void sandbox_set_state(struct sbx *s, enum sbx_state st, const char *reason, const char *msg);
/* Re-arms the expiry timer of s (a no-op for sandboxes without expiry). */
void sandbox_arm_expiry(struct apisrv *srv, struct sbx *s);
/* The expiry timer or the sweep found s overdue: the runtime removes it. */
void sandbox_expire(struct apisrv *srv, struct sbx *s);
/* base64url of 24 random bytes: 32 characters. */
void sandbox_token(char out[48]);
/* Applies a flat merge patch (string values set, null deletes) to s->metadata. */
void sandbox_metadata_apply(struct sbx *s, const cJSON *patch);

#endif
