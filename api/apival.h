/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apival: validation of what clients send to sandbox-api, as pure functions:
 * the CreateSandboxRequest, metadata labels and merge patches, the list
 * query (state, double-encoded metadata, pagination), resource quantities,
 * and RFC 3339 times. Every failure fills a struct apival_err with the HTTP
 * status, the error code of the wire contract and a message naming the field.
 *
 * Ownership: struct apival_create owns its cJSON tree (root); every string and
 * item pointer in it points into that tree. apival_create_free releases it.
 */
#ifndef API_APIVAL_H
#define API_APIVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "buf.h"
#include "err.h"
#include "uuid.h"

struct apival_err {
	int status;	  /* 400, 404, 409, 422, 501 ... */
	const char *code; /* static string, e.g. "SANDBOX::INVALID_PARAMETER" */
	char msg[ERR_MSG_MAX];
};

/* Fills ae; returns -EINVAL. */
int apival_fail(struct apival_err *ae, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define APIVAL_MAX_VOLUMES	   16
#define APIVAL_MAX_TIMEOUT_DEFAULT 0 /* no cap */

enum apival_vol_kind { APIVAL_VOL_HOST, APIVAL_VOL_PVC };

struct apival_volume {
	const char *name, *mount_path, *sub_path; /* sub_path may be NULL */
	bool read_only;
	enum apival_vol_kind kind;
	const char *host_path; /* host */
	const char *claim;     /* pvc: Docker named volume */
	bool create_if_missing, delete_on_termination;
};

struct apival_create {
	cJSON *root;
	const char *image;		   /* trimmed uri; for a restore, restore_image */
	const char *snapshot_id;	   /* restore from this snapshot, or NULL */
	char *restore_image;		   /* owned: the snapshot's image, set by the server */
	const char *auth_user, *auth_pass; /* both or neither */
	const cJSON *entrypoint;	   /* non-empty array of strings */
	int64_t timeout;		   /* seconds; 0 = manual cleanup */
	int64_t memory;			   /* bytes; 0 = unset */
	int64_t nano_cpus;		   /* 0 = unset */
	int64_t gpus;			   /* 0 = none, -1 = all */
	const cJSON *env;		   /* object of string|null, or NULL */
	const cJSON *metadata;		   /* object of strings, or NULL */
	char plat_os[16], plat_arch[16];   /* "" when not given; lower-case */
	const cJSON *network_policy;	   /* object, or NULL */
	int64_t renew_extend;		   /* access.renew.extend.seconds, 0 = off */
	bool secure_access;		   /* secureAccess: a gateway access token */
	struct apival_volume volumes[APIVAL_MAX_VOLUMES];
	size_t num_volumes;
};

/*
 * Parses and validates a create body. max_timeout caps timeout (0 = no cap).
 * 0 with out filled (free with apival_create_free), or -EINVAL with ae set.
 */
int apival_create_parse(const char *body, size_t len, int64_t max_timeout,
			struct apival_create *out, struct apival_err *ae);
void apival_create_free(struct apival_create *c);

/* A Kubernetes-style label key / value check. */
bool apival_label_key_ok(const char *k);
bool apival_label_value_ok(const char *v);
/* Every key/value of a metadata object (values strings; in a patch also null). 0 or -EINVAL. */
int apival_metadata_check(const cJSON *obj, bool patch, struct apival_err *ae);

/* List query. */
#define APIVAL_MAX_STATES    8
#define APIVAL_MAX_PAGE_SIZE 200
#define APIVAL_MAX_NAME	     256
struct apival_list {
	char states[APIVAL_MAX_STATES][16];
	size_t num_states;
	char sandbox_id[UUID_STR_LEN];	/* snapshots: sandboxId, or "" */
	char name[APIVAL_MAX_NAME + 1]; /* snapshots: exact name, or "" */
	cJSON *metadata;		/* owned object of string filters, or NULL */
	int64_t page, page_size;
};
/* Parses the raw query string. 0, or -EINVAL with ae set (400/422). */
int apival_list_parse(const char *query, struct apival_list *out, struct apival_err *ae);
void apival_list_free(struct apival_list *l);
/* The order of every list: newest first (created_us), then by id, descending. */
int apival_list_order(int64_t a_us, const char *a_id, int64_t b_us, const char *b_id);
/* The answer of every list: sorts the m matches in v with cmp (apival_list_order), then
 * writes {"items":[...],"pagination":{...}} with the page l asks for, each item by
 * item_json. 0 or -errno. */
int apival_list_page(const struct apival_list *l, void **v, size_t m,
		     int (*cmp)(const void *, const void *),
		     int (*item_json)(const void *, struct buf *), struct buf *out);
/* Parses "k=v&k2=v2" form data (the decoded metadata parameter) into an object. */
int apival_metadata_filter_parse(const char *s, cJSON **out, struct apival_err *ae);

/* Quantities: memory ("512Mi", "1G", "1024"), cpu ("500m", "2"), gpu ("1", "all").
 * Return 0 with *out set, or -EINVAL (the caller ignores invalid values). */
int apival_memory_parse(const char *s, int64_t *bytes);
int apival_cpu_parse(const char *s, int64_t *nano_cpus);
int apival_gpu_parse(const char *s, int64_t *count);

/* Times as Unix microseconds. Format: "2026-06-15T10:00:00Z" or with ".123456". */
#define APIVAL_TIME_LEN 40
void apival_time_format(int64_t us, char out[APIVAL_TIME_LEN]);
/* ISO 8601 / RFC 3339: date, 'T' or ' ', time, optional fraction, optional Z or +hh:mm
 * (naive = UTC). 0 or -EINVAL. */
int apival_time_parse(const char *s, int64_t *us);
/* Wall clock now in microseconds. */
int64_t apival_now_us(void);

#endif
