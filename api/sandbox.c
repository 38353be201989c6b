// SPDX-License-Identifier: Apache-2.0
/*
 * The runtime-independent half of the lifecycle: records, JSON, the checks
 * every runtime shares before create, expiry timers and renew-on-access.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base64.h"
#include "json.h"
#include "log.h"
#include "sandbox_int.h"
#include "snapshot.h"
#include "store.h"

const char *sandbox_state_name(enum sbx_state s)
{
	static const char *const names[] = {"Pending", "Running", "Paused",  "Terminated",
					    "Failed",  "Unknown", "Pausing", "Resuming"};
	return (unsigned)s < SBX_NSTATES ? names[s] : "Unknown";
}

void sandbox_set_state(struct sbx *s, enum sbx_state st, const char *reason, const char *msg)
{
	bool changed = s->state != st || strcmp(s->reason, reason) != 0;
	if (changed) {
		s->transition_us = apival_now_us();
		s->changed_ms = ev_clock_ms();
	}
	s->state = st;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	if (changed || !strstr(s->message, " Last output: "))
		snprintf(s->message, sizeof(s->message), "%s", msg ? msg : "");
	if (changed && st == SBX_FAILED && s->srv->rt->failed)
		s->srv->rt->failed(s);
}

bool sandbox_visible(const struct sbx *s)
{
	return !s->doomed;
}

/* --- JSON -------------------------------------------------------------- */

int sandbox_json(const struct sbx *s, bool create_shape, struct buf *o)
{
	char t[APIVAL_TIME_LEN];
	int r = buf_puts(o, "{\"id\":");
	r = r ? r : json_buf_cstr(o, s->id, 0);
	if (!create_shape && s->snapshot_id[0]) { /* the image is the server's own */
		r = r ? r : buf_puts(o, ",\"snapshotId\":");
		r = r ? r : json_buf_cstr(o, s->snapshot_id, 0);
	} else if (!create_shape && s->image) {
		r = r ? r : buf_puts(o, ",\"image\":{\"uri\":");
		r = r ? r : json_buf_cstr(o, s->image, 0);
		r = r ? r : buf_puts(o, "}");
	}
	if (s->plat_os[0]) {
		r = r ? r : buf_puts(o, ",\"platform\":{\"os\":");
		r = r ? r : json_buf_cstr(o, s->plat_os, 0);
		r = r ? r : buf_puts(o, ",\"arch\":");
		r = r ? r : json_buf_cstr(o, s->plat_arch, 0);
		r = r ? r : buf_puts(o, "}");
	}
	r = r ? r : buf_puts(o, ",");
	r = r ? r
	      : reply_status_json(o, sandbox_state_name(s->state), s->reason, s->message,
				  s->transition_us);
	if (cJSON_GetArraySize(s->metadata) > 0) {
		r = r ? r : buf_puts(o, ",\"metadata\":");
		r = r ? r : json_buf_print(o, s->metadata);
	}
	r = r ? r : buf_puts(o, ",\"entrypoint\":");
	r = r ? r : buf_puts(o, s->entrypoint ? s->entrypoint : "[]");
	if (s->expires_us) {
		apival_time_format(s->expires_us, t);
		r = r ? r : buf_printf(o, ",\"expiresAt\":\"%s\"", t);
	}
	apival_time_format(s->created_us, t);
	r = r ? r : buf_printf(o, ",\"createdAt\":\"%s\"}", t);
	return r;
}

void sandbox_reply(struct reply *r, const struct sbx *s, int status)
{
	struct buf out;
	buf_init(&out, 0);
	if (sandbox_json(s, false, &out) < 0) {
		buf_free(&out);
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		return;
	}
	reply_json(r, status, &out);
}

void sandbox_reply_expires(struct reply *r, int64_t expires_us)
{
	char t[APIVAL_TIME_LEN];
	apival_time_format(expires_us, t);
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "{\"expiresAt\":\"%s\"}", t);
	reply_json(r, 200, &b);
}

void sandbox_metadata_apply(struct sbx *s, const cJSON *patch)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, patch)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(s->metadata, it->string);
		if (cJSON_IsString(it))
			cJSON_AddStringToObject(s->metadata, it->string, it->valuestring);
	}
}

void sandbox_token(char out[48])
{
	unsigned char raw[24];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		uuid_v4(raw), uuid_v4(raw + 8);
	char b64[BASE64_ENCODED_LEN(24) + 1];
	base64_encode(b64, raw, sizeof(raw));
	for (char *p = b64; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	snprintf(out, 48, "%s", b64);
}

/* --- the runtime's calls ------------------------------------------------- */

int sandbox_init(struct apisrv *srv, const char *argv0, struct err *e)
{
	return srv->rt->init(srv, argv0, e);
}

int sandbox_start(struct apisrv *srv, struct err *e)
{
	return srv->rt->start(srv, e);
}

void sandbox_stop(struct apisrv *srv)
{
	if (srv->rt)
		srv->rt->stop(srv);
}

void sandbox_delete(struct apisrv *srv, struct sbx *s, struct reply *r)
{
	ev_timer_stop(srv->loop, &s->expiry);
	srv->rt->remove(srv, s, r);
}

void sandbox_pause(struct apisrv *srv, struct sbx *s, bool resume, struct reply *r)
{
	srv->rt->pause(srv, s, resume, r);
}

void sandbox_renew(struct apisrv *srv, struct sbx *s, int64_t expires_us, struct reply *r)
{
	srv->rt->renew(srv, s, expires_us, r);
}

void sandbox_patch_metadata(struct apisrv *srv, struct sbx *s, const cJSON *patch, struct reply *r)
{
	srv->rt->patch_metadata(srv, s, patch, r);
}

/* --- expiry --------------------------------------------------------------- */

void sandbox_expire(struct apisrv *srv, struct sbx *s)
{
	log_msg(LOG_INFO, NULL, "sandbox expired", "sandbox_id", s->id, NULL);
	ev_timer_stop(srv->loop, &s->expiry);
	srv->rt->remove(srv, s, NULL);
}

static void on_expiry(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)t;
	struct sbx *s = arg;
	if (!s->expires_us)
		return;
	int64_t left = s->expires_us - apival_now_us();
	if (left > 0) { /* renewed, or the clock moved: wait again */
		ev_timer_start(loop, &s->expiry, (uint64_t)(left / 1000) + 1);
		return;
	}
	sandbox_expire(s->srv, s);
}

void sandbox_arm_expiry(struct apisrv *srv, struct sbx *s)
{
	ev_timer_stop(srv->loop, &s->expiry);
	if (!s->expires_us || s->doomed)
		return;
	int64_t left = s->expires_us - apival_now_us();
	s->expiry.cb = on_expiry;
	s->expiry.arg = s;
	/* Timers are a convenience; the periodic sweep enforces expiry too. */
	ev_timer_start(srv->loop, &s->expiry, left > 0 ? (uint64_t)(left / 1000) + 1 : 0);
}

void sandbox_accessed(struct apisrv *srv, struct sbx *s)
{
	if (!s->renew_extend || !s->expires_us || s->state != SBX_RUNNING || s->deleting)
		return;
	uint64_t now_ms = ev_now(srv->loop);
	uint64_t gap =
		(uint64_t)(srv->cfg.renew_min_interval > 0 ? srv->cfg.renew_min_interval : 0) *
		1000;
	if (s->renewed_ms && now_ms - s->renewed_ms < gap)
		return;
	s->renewed_ms = now_ms;
	int64_t want = apival_now_us() + s->renew_extend * 1000000;
	if (want > s->expires_us) {
		sandbox_renew(srv, s, want, NULL);
		char extend[24];
		snprintf(extend, sizeof(extend), "%lld", (long long)s->renew_extend);
		log_msg(LOG_INFO, NULL, "sandbox renewed on access", "sandbox_id", s->id,
			"extend_seconds", extend, NULL);
	}
}

/* --- create --------------------------------------------------------------- */

void sandbox_create(struct apisrv *srv, struct apival_create *rq, struct reply *r)
{
	const struct apicfg *cfg = &srv->cfg;
	bool egress = rq->network_policy != NULL;
	if (egress && !cfg->egress_image[0]) {
		reply_error(
			r, 400, "SANDBOX::INVALID_PARAMETER",
			"networkPolicy needs an egress sidecar image (egress.image) configured");
		goto out;
	}
	if (rq->secure_access && strcmp(cfg->ingress_mode, "gateway") != 0) {
		reply_error(r, 400, "SANDBOX::INVALID_PARAMETER",
			    "secureAccess needs the ingress gateway (--ingress-mode gateway)");
		goto out;
	}
	if (rq->snapshot_id) {
		char image[SNAPSHOT_IMAGE_MAX];
		struct apival_err ae = {0};
		if (snapshot_restore_image(srv, rq->snapshot_id, image, sizeof(image), &ae) < 0) {
			reply_error(r, ae.status, ae.code, "%s", ae.msg);
			goto out;
		}
		if (!(rq->restore_image = strdup(image))) {
			reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
			goto out;
		}
		rq->image = rq->restore_image;
	}
	char id[UUID_STR_LEN];
	uuid_v4_str(id);
	struct sbx *s = store_add(srv->store, id);
	if (!s) {
		reply_error(r, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
		goto out;
	}
	snprintf(r->sandbox, sizeof(r->sandbox), "%s", id);
	s->provisioning = true;
	s->created_us = apival_now_us();
	s->transition_us = s->created_us;
	s->create_started = ev_clock_ms();
	if (rq->timeout)
		s->expires_us = s->created_us + rq->timeout * 1000000;
	snprintf(s->reason, sizeof(s->reason), "CONTAINER_STARTING");
	snprintf(s->message, sizeof(s->message), "Sandbox is being provisioned.");
	s->image = strdup(rq->image);
	if (rq->snapshot_id)
		snprintf(s->snapshot_id, sizeof(s->snapshot_id), "%s", rq->snapshot_id);
	s->entrypoint = cJSON_PrintUnformatted(rq->entrypoint);
	if (rq->metadata) {
		cJSON_Delete(s->metadata);
		s->metadata = cJSON_Duplicate(rq->metadata, 1);
	}
	snprintf(s->plat_os, sizeof(s->plat_os), "%s", rq->plat_os);
	snprintf(s->plat_arch, sizeof(s->plat_arch), "%s", rq->plat_arch);
	s->renew_extend = rq->renew_extend;
	if (egress)
		sandbox_token(s->egress_token);
	sandbox_token(s->execd_token);
	if (rq->secure_access)
		sandbox_token(s->secure_token);
	cJSON *mv = NULL;
	for (size_t i = 0; i < rq->num_volumes; i++) {
		if (rq->volumes[i].kind != APIVAL_VOL_PVC || !rq->volumes[i].delete_on_termination)
			continue;
		if (!mv)
			mv = cJSON_CreateArray();
		cJSON_AddItemToArray(mv, cJSON_CreateString(rq->volumes[i].claim));
	}
	if (mv) {
		s->managed_vols = cJSON_PrintUnformatted(mv);
		cJSON_Delete(mv);
	}
	srv->rt->create(srv, s, rq, r);
	return;
out:
	apival_create_free(rq);
}
