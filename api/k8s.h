/* SPDX-License-Identifier: Apache-2.0 */
/*
 * k8s: calls to the Kubernetes API server over HTTPS (lib/tls, BearSSL).
 *
 * Blocking calls are for the worker threads of jobs.h; they go one at a time
 * over one kept TLS connection (a mutex serialises them), so the server sees
 * one connection for all requests. Watches are long responses on their own
 * connections, run on the loop by k8s_watch.c.
 *
 * Credentials come from a kubeconfig (current or named context: server, CA
 * data or file, bearer token or tokenFile, client certificate and key) or
 * from the in-cluster service account; a token file is re-read when it
 * changes (projected tokens rotate). Optional token buckets limit reads and
 * writes (0 = unlimited).
 *
 * Return conventions: the HTTP status (2xx) on success; on failure -errno
 * with e holding the API server's Status message: -ENOENT (404), -EEXIST
 * (409 AlreadyExists), -EBUSY (409 Conflict), -EINVAL (400, 422), -EACCES
 * (401, 403), -ESTALE (410 Gone), -EAGAIN (429), -EREMOTEIO (5xx and any
 * other status: the server answered, it failed), -EHOSTUNREACH (no answer: no
 * connection, TLS failure, a cut connection, timeouts), -EPROTO (a 2xx answer
 * that is no JSON).
 */
#ifndef API_K8S_H
#define API_K8S_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "err.h"
#include "http_client.h"

#define K8S_TOKEN_MAX	  8192
#define K8S_BODY_MAX	  (64u << 20) /* a LIST of many objects */
#define K8S_SA_DIR	  "/var/run/secrets/kubernetes.io/serviceaccount"
#define K8S_CALL_TIMEOUT  30000	 /* ms without progress */
#define K8S_CALL_DEADLINE 120000 /* ms for a whole call: a server that drips holds every call */

struct k8s_bucket {
	double rate, burst; /* tokens per second, bucket size; rate 0 = unlimited */
	double tokens;
	uint64_t last_ms;
};

struct k8s {
	struct http_endpoint ep;
	char server[300]; /* as configured, for messages */
	char prefix[256]; /* the server URL's path ("" or "/k8s/clusters/c-x"): before every path */
	struct tls_config *tls;
	char token_file[512]; /* re-read when it changes; "" = static token */
	char namespace[254];  /* from the kubeconfig context, unless configured */
	/* The loop takes this one (watches' credentials), never `lock`, which a
	 * worker holds for a whole call: held only to read or refresh the token. */
	pthread_mutex_t token_lock;
	char token[K8S_TOKEN_MAX];
	int64_t token_mtime_ns;
	uint64_t token_checked_ms;
	unsigned long opened; /* keep.opened, for the loop to read (atomic) */
	pthread_mutex_t lock; /* one request at a time; guards all below too */
	struct http_keepalive keep;
	struct k8s_bucket reads, writes;
	unsigned long requests, failures;
};

/*
 * From a kubeconfig file (context NULL: its current-context). Relative file
 * names in it are taken from the kubeconfig's folder; a path in the server
 * URL prefixes every request. 0 or -errno with e set: exec credential
 * plugins, insecure-skip-tls-verify, fields that are not strings, a user the
 * file lacks, a tokenFile that cannot be read now and files over 4 MiB are
 * refused, each with its reason.
 */
int k8s_init_kubeconfig(struct k8s *k, const char *path, const char *context, struct err *e);
/* From the in-cluster service account ($KUBERNETES_SERVICE_HOST/PORT, K8S_SA_DIR). */
int k8s_init_incluster(struct k8s *k, struct err *e);
/* Token buckets (per second, burst); 0 = unlimited. */
void k8s_set_limits(struct k8s *k, double read_qps, int read_burst, double write_qps,
		    int write_burst);
void k8s_free(struct k8s *k);

/*
 * One request (blocking). body may be NULL; ctype defaults to
 * application/json (merge patches pass "application/merge-patch+json").
 * out (may be NULL) gets the parsed JSON answer of a success.
 */
int k8s_call(struct k8s *k, const char *method, const char *path, const cJSON *body,
	     const char *ctype, cJSON **out, struct err *e);
/* Same, with the answer as raw text (pods/log). */
int k8s_call_text(struct k8s *k, const char *path, size_t max, struct buf *out, struct err *e);

/* Reads k->token_file now (at start: a missing or unusable file is an error). 0 or -errno. */
int k8s_token_load(struct k8s *k, struct err *e);

/* "Authorization: Bearer <token>" for a watch request, or "" (client
 * certificates); the token file is re-read first if it changed. */
void k8s_auth_header(struct k8s *k, char *out, size_t cap);
/* Connections opened for calls (not watches) so far. */
unsigned long k8s_connections(struct k8s *k);

/* -errno of an HTTP status and the Status body it came with (e filled). */
int k8s_status_errno(int status, const char *body, size_t len, struct err *e);

#endif
