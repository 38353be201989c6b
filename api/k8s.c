// SPDX-License-Identifier: Apache-2.0
/* Calls to the API server: one kept connection, token refresh, rate limits. */
#include "k8s.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "tls.h"

#define TOKEN_RECHECK_MS 1000

void k8s_set_limits(struct k8s *k, double read_qps, int read_burst, double write_qps,
		    int write_burst)
{
	k->reads = (struct k8s_bucket){.rate = read_qps, .burst = read_burst > 0 ? read_burst : 1};
	k->writes =
		(struct k8s_bucket){.rate = write_qps, .burst = write_burst > 0 ? write_burst : 1};
	k->reads.tokens = k->reads.burst;
	k->writes.tokens = k->writes.burst;
}

void k8s_free(struct k8s *k)
{
	http_keepalive_close(&k->keep);
	tls_config_free(k->tls);
	k->tls = NULL;
	pthread_mutex_destroy(&k->lock);
	pthread_mutex_destroy(&k->token_lock);
	memset(k->token, 0, sizeof(k->token));
}

/* Waits (sleeping, on a worker) for a token of b. Called with k->lock held, so
 * the wait also holds back the other calls: the limit is the server's, not ours. */
static void bucket_take(struct k8s_bucket *b)
{
	if (b->rate <= 0)
		return;
	for (;;) {
		uint64_t now = ev_clock_ms();
		if (b->last_ms) {
			b->tokens += (double)(now - b->last_ms) * b->rate / 1000.0;
			if (b->tokens > b->burst)
				b->tokens = b->burst;
		}
		b->last_ms = now;
		if (b->tokens >= 1.0) {
			b->tokens -= 1.0;
			return;
		}
		/* At fractional rates the wait is seconds long: usleep takes less than
		 * one second (POSIX), so nanosleep, resumed after a signal. */
		double wait_ns = (1.0 - b->tokens) * 1e9 / b->rate + 1e6;
		if (!(wait_ns <= 100e9)) /* apicfg keeps rates >= K8S_QPS_MIN; never an overflow */
			wait_ns = 100e9;
		long long ns = (long long)wait_ns;
		struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000),
				      .tv_nsec = ns % 1000000000};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

/* Reads the token file (its mtime: mt), keeping the last token on failure. token_lock held. */
static int token_read(struct k8s *k, int64_t mt, struct err *e)
{
	struct buf b;
	buf_init(&b, K8S_TOKEN_MAX - 1);
	int r = buf_read_file(&b, k->token_file);
	if (r < 0) {
		err_set(e, -r, "tokenFile %s: %s", k->token_file,
			r == -EFBIG ? "over 8 KiB" : strerror(-r));
		buf_free(&b);
		return r;
	}
	size_t n = b.len;
	const char *p = buf_head(&b);
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n && !memchr(p, '\n', n) && !memchr(p, '\r', n) && !memchr(p, '\0', n)) {
		memcpy(k->token, p, n);
		k->token[n] = '\0';
		k->token_mtime_ns = mt;
	} else {
		r = err_set(e, EINVAL, "tokenFile %s: %s", k->token_file,
			    n ? "not one line of text" : "empty");
	}
	buf_free(&b);
	return r;
}

int k8s_token_load(struct k8s *k, struct err *e)
{
	struct stat st;
	if (stat(k->token_file, &st) < 0)
		return err_set(e, errno, "tokenFile %s: %s", k->token_file, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, EINVAL, "tokenFile %s: not a regular file", k->token_file);
	pthread_mutex_lock(&k->token_lock);
	int r = token_read(k, (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec, e);
	pthread_mutex_unlock(&k->token_lock);
	return r;
}

/* Re-reads a token file that changed (kubelet rotates projected tokens). token_lock held. */
static void token_refresh(struct k8s *k)
{
	if (!k->token_file[0])
		return;
	uint64_t now = ev_clock_ms();
	if (k->token_checked_ms && now - k->token_checked_ms < TOKEN_RECHECK_MS)
		return;
	k->token_checked_ms = now;
	struct stat st;
	if (stat(k->token_file, &st) < 0 || !S_ISREG(st.st_mode))
		return; /* keep the last one: the next check may find it back */
	int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (mt == k->token_mtime_ns && k->token[0])
		return;
	struct err e = {0};
	token_read(k, mt, &e);
}

void k8s_auth_header(struct k8s *k, char *out, size_t cap)
{
	pthread_mutex_lock(&k->token_lock);
	token_refresh(k);
	if (k->token[0])
		snprintf(out, cap, "Authorization: Bearer %s", k->token);
	else if (cap)
		out[0] = '\0';
	pthread_mutex_unlock(&k->token_lock);
}

unsigned long k8s_connections(struct k8s *k)
{
	return __atomic_load_n(&k->opened, __ATOMIC_RELAXED);
}

int k8s_status_errno(int status, const char *body, size_t len, struct err *e)
{
	char msg[200] = "";
	char reason[48] = "";
	cJSON *st = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "message");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(st, "reason");
	if (cJSON_IsString(m))
		snprintf(msg, sizeof(msg), "%s", m->valuestring);
	if (cJSON_IsString(r))
		snprintf(reason, sizeof(reason), "%s", r->valuestring);
	cJSON_Delete(st);
	int errnum = status == 404					 ? ENOENT
		     : status == 409 && !strcmp(reason, "AlreadyExists") ? EEXIST
		     : status == 409					 ? EBUSY
		     : status == 400 || status == 422			 ? EINVAL
		     : status == 401 || status == 403			 ? EACCES
		     : status == 410					 ? ESTALE
		     : status == 429					 ? EAGAIN
									 : EREMOTEIO;
	return err_set(e, errnum, "Kubernetes API %d%s%s: %s", status, reason[0] ? " " : "", reason,
		       msg[0] ? msg : "(no message)");
}

static bool is_write(const char *method)
{
	return strcmp(method, "GET") != 0;
}

/* One exchange under the lock: the kept connection, the token, the bucket. */
static int exchange(struct k8s *k, const char *method, const char *path, const char *body,
		    size_t body_len, const char *ctype, size_t max, struct http_response *resp,
		    struct err *e)
{
	char auth[K8S_TOKEN_MAX + 32], ct[96], target[2048];
	const char *hdrs[5];
	size_t n = 0;
	if ((size_t)snprintf(target, sizeof(target), "%s%s", k->prefix, path) >= sizeof(target))
		return err_set(e, ENAMETOOLONG, "Kubernetes API path too long: %.80s...", path);
	pthread_mutex_lock(&k->lock);
	bucket_take(is_write(method) ? &k->writes : &k->reads);
	k8s_auth_header(k, auth, sizeof(auth));
	if (auth[0])
		hdrs[n++] = auth;
	hdrs[n++] = "Accept: application/json";
	if (body) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "application/json");
		hdrs[n++] = ct;
	}
	hdrs[n++] = "User-Agent: opensandbox-c-sandbox-api";
	hdrs[n] = NULL;
	struct http_client_request rq = {
		.method = method,
		.target = target,
		.headers = hdrs,
		.body = body,
		.body_len = body_len,
		.has_body = body != NULL,
		.timeout_ms = K8S_CALL_TIMEOUT,
		.deadline_ms = K8S_CALL_DEADLINE,
		.keep = &k->keep,
	};
	if (k->ep.server_name[0] == '\0')
		snprintf(k->ep.server_name, sizeof(k->ep.server_name), "%s", k->ep.host);
	k->requests++;
	int r = http_request_sync(&k->ep, &rq, max, resp, e);
	if (r < 0)
		k->failures++;
	__atomic_store_n(&k->opened, k->keep.opened, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&k->lock);
	memset(auth, 0, sizeof(auth));
	if (r < 0) {
		http_response_free(resp);
		err_wrap(e, "Kubernetes API %s %s", method, k->server);
		return r == -EFBIG ? r : -EHOSTUNREACH;
	}
	return 0;
}

/*
 * The API server's JSON as it is. Unlike json_parse, a \u0000 is let through
 * (cJSON ends that string there): annotations and status messages may hold
 * one (a container's termination message is the sandbox's to write), and
 * refusing it would fail every LIST of the collection, not just one object.
 */
static cJSON *parse_answer(const char *text, size_t len, struct err *e)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) /* the server's fault, not the request's: EPROTO, not EINVAL (400) */
		err_set(e, EPROTO, "invalid JSON near byte %zu",
			end && end >= text ? (size_t)(end - text) : 0);
	return root;
}

int k8s_call(struct k8s *k, const char *method, const char *path, const cJSON *body,
	     const char *ctype, cJSON **out, struct err *e)
{
	if (out)
		*out = NULL;
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	if (body && !text)
		return err_set(e, ENOMEM, "out of memory");
	struct http_response resp;
	int r = exchange(k, method, path, text, text ? strlen(text) : 0, ctype, K8S_BODY_MAX, &resp,
			 e);
	free(text);
	if (r < 0)
		return r;
	int status = resp.status;
	if (status < 200 || status >= 300) {
		r = k8s_status_errno(status, buf_head(&resp.body), resp.body.len, e);
		http_response_free(&resp);
		return r;
	}
	if (out && resp.body.len) {
		*out = parse_answer(buf_head(&resp.body), resp.body.len, e);
		if (!*out) {
			http_response_free(&resp);
			return err_wrap(e, "Kubernetes API answer to %s %s", method, path);
		}
	}
	http_response_free(&resp);
	return status;
}

int k8s_call_text(struct k8s *k, const char *path, size_t max, struct buf *out, struct err *e)
{
	struct http_response resp;
	int r = exchange(k, "GET", path, NULL, 0, NULL, max, &resp, e);
	if (r < 0)
		return r;
	int status = resp.status;
	if (status < 200 || status >= 300)
		r = k8s_status_errno(status, buf_head(&resp.body), resp.body.len, e);
	else if (buf_append(out, buf_head(&resp.body), resp.body.len) < 0)
		r = err_set(e, ENOMEM, "out of memory");
	http_response_free(&resp);
	return r < 0 ? r : status;
}
