/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apisrv: the state shared by sandbox-api's modules. One struct apisrv per
 * process, touched only on the loop thread (workers get copies).
 *
 * Sandboxes are kept in memory (store.c), rebuilt from Docker container
 * labels at start-up (sandbox_recover) and kept current by the Docker
 * events stream and a periodic reconciliation; expiry and metadata patches
 * are also persisted to a state file. Lists and gets never call Docker.
 */
#ifndef API_APISRV_H
#define API_APISRV_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "apicfg.h"
#include "buf.h"
#include "docker.h"
#include "ev.h"
#include "hostpath.h"
#include "http_server.h"
#include "jobs.h"
#include "uuid.h"

enum sbx_state {
	SBX_PENDING,
	SBX_RUNNING,
	SBX_PAUSED,
	SBX_TERMINATED,
	SBX_FAILED,
	SBX_UNKNOWN,
	SBX_PAUSING, /* Kubernetes: the controller is committing and stopping it */
	SBX_RESUMING,
};
#define SBX_NSTATES 8

/* Container labels (wire contract). */
#define LBL_ID		 "opensandbox.io/id"
#define LBL_EXPIRES	 "opensandbox.io/expires-at"
#define LBL_MANUAL	 "opensandbox.io/manual-cleanup"
#define LBL_OS		 "opensandbox.io/platform-os"
#define LBL_ARCH	 "opensandbox.io/platform-arch"
#define LBL_EXECD_PORT	 "opensandbox.io/embedding-proxy-port"
#define LBL_HTTP_PORT	 "opensandbox.io/http-port"
#define LBL_EGRESS_TOKEN "opensandbox.io/egress-auth-token"
#define LBL_EXECD_TOKEN	 "opensandbox.io/execd-access-token" /* ours */
#define LBL_SECURE_TOKEN "opensandbox.io/secure-access-token"
#define LBL_SIDECAR_FOR	 "opensandbox.io/egress-sidecar-for"
#define LBL_RENEW	 "opensandbox.io/access-renew-extend-seconds"
#define LBL_MANAGED_VOLS "opensandbox.io/volume-managed-by"
/* Ours, so that recovery needs no inspect per container. */
#define LBL_ENTRYPOINT	"opensandbox.io/entrypoint"
#define LBL_IMAGE	"opensandbox.io/image"
#define LBL_EGRESS_PORT "opensandbox.io/egress-port"
#define LBL_INSTANCE	"opensandbox.io/instance"
#define LBL_SNAPSHOT	"opensandbox.io/snapshot-id"

#define EXECD_PORT    44772
#define HTTP_APP_PORT 8080
#define EGRESS_PORT   18080

struct sbx {
	char id[UUID_STR_LEN];
	char cid[DOCKER_ID_LEN];	/* main container ("" until created) */
	char sidecar[DOCKER_ID_LEN];	/* egress sidecar, or "" */
	char *image;			/* for a restore: the snapshot's image */
	char snapshot_id[UUID_STR_LEN]; /* restored from this snapshot, or "" */
	unsigned committing;		/* snapshot commits running (Docker pauses it meanwhile) */
	char *entrypoint;		/* compact JSON array */
	cJSON *metadata;		/* object of strings, never NULL */
	char plat_os[16], plat_arch[16];
	int64_t created_us;
	int64_t expires_us; /* 0: manual cleanup */
	enum sbx_state state;
	char reason[40];
	char message[480];
	int64_t transition_us;
	uint16_t port_execd, port_http, port_egress; /* host ports (bridge modes) */
	char ip[64];				     /* address of the network namespace */
	char egress_token[48];
	char execd_token[48];  /* the sandbox's execd credential; "" for ones made before it */
	char secure_token[48]; /* secureAccess: what the gateway asks for; "" = open */
	uint64_t renewed_ms;   /* monotonic: last renew-on-access */
	char *managed_vols;    /* JSON array text of volumes to delete, or NULL */
	int64_t renew_extend;
	bool host_mode;
	bool provisioning;    /* create is still running on a worker */
	bool deleting;	      /* a delete job is running */
	bool doomed;	      /* deleted while provisioning: clean up when it ends */
	int64_t failed_at_us; /* execd never answered: Failed, removed after failed_ttl */
	uint64_t changed_ms;  /* monotonic: created, state changed, provisioning ended */
	bool died;	      /* the container exited while it was being provisioned */
	int died_code;
	struct ev_timer expiry;
	struct ev_timer ready; /* polling execd /ping */
	struct http_client *ping;
	uint64_t ready_deadline; /* monotonic ms */
	uint64_t create_started; /* monotonic ms, for the latency histogram */
	struct apisrv *srv;
	/* Kubernetes: the workload's phase, its pause/resume retry flags, and the
	 * create request waiting for it to be ready (the ready timer is its deadline). */
	char phase[16];
	bool pause_failed, resume_failed;
	struct reply *create_reply; /* a create, or a resume when resuming */
	bool resuming;
	bool unsure; /* its create failed unanswered: its workload is deleted if it shows */
};

#define APISRV_MAX_HOST_PREFIXES 32

struct http_proxy;
struct gateway;
struct k8s;
struct k8s_watch;

struct runtime;
struct snapshots;

struct apisrv {
	struct apicfg cfg;
	const struct runtime *rt; /* what runs the sandboxes (runtime.h) */
	struct ev_loop *loop;
	struct http_server *http;
	struct http_proxy *proxy; /* the server proxy's engine (ingress.c) */
	struct gateway *gw;	  /* the ingress gateway (gateway.c) */
	struct jobs *jobs;
	struct docker docker;
	struct store *store;
	struct snapshots *snaps; /* snapshot.h; NULL when the runtime has none */
	struct stats *stats;
	char endpoint_host[256]; /* host in returned endpoints */
	char internal_host[64];	 /* how this host reaches mapped ports */
	struct buf inject_tar;	 /* execd + bootstrap.sh, built once */
	bool inject_from_image;	 /* inject_tar holds "opensandbox/..." for path=/opt */
	struct ev_timer sweep;
	unsigned sweeps;
	struct http_client *events; /* Docker events stream */
	struct buf events_buf;
	struct ev_timer events_retry;
	bool docker_ok; /* last call reached the daemon */
	bool stopping;
	struct hostpath_prefix host_prefixes[APISRV_MAX_HOST_PREFIXES]; /* --allowed-host-paths */
	size_t num_host_prefixes;
	char mounts_dir[512];	     /* <state-dir>/mounts: staged host volumes */
	struct k8s *k8s;	     /* Kubernetes runtime: the API client */
	struct k8s_watch *k8s_watch; /* its informer */
	cJSON *k8s_template;	     /* --k8s-template-file, parsed */
};

const char *sandbox_state_name(enum sbx_state s);

#endif
