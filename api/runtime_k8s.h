/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime_k8s: the Kubernetes runtime's files share these (runtime_k8s*.c).
 *
 * Providers (--k8s-provider):
 *   batchsandbox  one BatchSandbox (sandbox.opensandbox.io/v1alpha1) per
 *                 sandbox; the OpenSandbox controller makes its pod, expires
 *                 it (spec.expireTime) and pauses it (spec.pause).
 *   pod           one plain core/v1 Pod per sandbox, for clusters without the
 *                 controller; this server expires it (annotation
 *                 opensandbox.io/expires-at, timers and the resync sweep);
 *                 no pause.
 * Both are named by the sandbox id and labelled opensandbox.io/id. The
 * store follows them through one informer (k8s_watch.h).
 */
#ifndef API_RUNTIME_K8S_H
#define API_RUNTIME_K8S_H

#include "diag.h"
#include "k8s.h"
#include "sandbox_int.h"

#define K8S_BSBX_GROUP	       "sandbox.opensandbox.io"
#define K8S_BSBX_VERSION       "v1alpha1"
#define K8S_BIN_VOLUME	       "opensandbox-bin"
#define K8S_BIN_DIR	       "/opt/opensandbox"
#define K8S_INSTALL_DIR	       "/opt/opensandbox-install" /* the init container's view */
#define K8S_PULL_SECRET_PREFIX "opensandbox-image-auth-"
#define K8S_ENDPOINTS_ANN      "sandbox.opensandbox.io/endpoints"
/* How long a create that failed with no answer watches for its workload: past
 * the API server's own request timeout (60 s) and our call deadline. */
#define K8S_UNSURE_MS  (5u * 60 * 1000)
#define K8S_UNSURE_MAX 256 /* such records at once (a storm of failing creates) */

/* Whether the provider is plain pods. */
static inline bool runtime_k8s_pods(const struct apisrv *srv)
{
	return srv->cfg.k8s_provider[0] == 'p';
}

/* runtime_k8s_spec.c: the objects of a sandbox (NULL with ae filled). */
cJSON *runtime_k8s_labels(const struct apisrv *srv, const struct sbx *s);
cJSON *runtime_k8s_annotations(const struct apisrv *srv, const struct sbx *s);
cJSON *runtime_k8s_pod_spec(const struct apisrv *srv, const struct sbx *s,
			    const struct apival_create *rq, struct apival_err *ae);
/* The BatchSandbox or the Pod, merged onto srv->k8s_template. */
cJSON *runtime_k8s_workload(const struct apisrv *srv, const struct sbx *s,
			    const struct apival_create *rq, struct apival_err *ae);
cJSON *runtime_k8s_pull_secret(const struct apisrv *srv, const struct sbx *s,
			       const struct apival_create *rq, const char *owner_uid);
cJSON *runtime_k8s_pvc(const struct apisrv *srv, const char *claim);

/* runtime_k8s_sync.c: the informer feeding the store. */
int runtime_k8s_watch_start(struct apisrv *srv, struct err *e);
/* Applies a workload object (the watch's, or one a call returned) to the store. */
struct sbx *runtime_k8s_apply(struct apisrv *srv, const cJSON *obj);
/* The collection path of the workloads, and of one (name NULL: the collection). */
void runtime_k8s_path(const struct apisrv *srv, const char *name, char *out, size_t cap);

/* runtime_k8s_diag.c: logs and events of the sandbox's pod (runtime.h). */
void runtime_k8s_diagnostics(struct apisrv *srv, struct sbx *s, const struct diag_query *q,
			     struct reply *r);

/* runtime_k8s.c */
/* Deletes the workload of s (a job; s->deleting meanwhile), answering no one. */
void runtime_k8s_delete(struct apisrv *srv, struct sbx *s);
/* The create waiting on s has its answer: Running (202), or failed. */
void runtime_k8s_create_settled(struct apisrv *srv, struct sbx *s);
/* Upstream's status for a failed call. */
int runtime_k8s_status(int r, int fallback);

#endif
