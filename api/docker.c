// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "json.h"

#define DOCKER_MAX_BODY (64u * 1024 * 1024)

int docker_init(struct docker *d, const char *host, uint32_t timeout_ms, struct err *e)
{
	memset(d, 0, sizeof(*d));
	if (!host || !*host)
		host = getenv("DOCKER_HOST");
	if (!host || !*host)
		host = "unix:///var/run/docker.sock";
	snprintf(d->url, sizeof(d->url), "%s", host);
	d->timeout_ms = timeout_ms ? timeout_ms : 180000;
	int r = http_endpoint_parse(&d->ep, host, NULL, 0, e);
	if (r < 0)
		return err_wrap(e, "DOCKER_HOST %s", host);
	return 0;
}

int docker_call(struct docker *d, const char *method, const char *target, const char *body,
		size_t len, const char *ctype, const char *const *headers, size_t max_body,
		struct http_response *resp, struct err *e)
{
	const char *hdrs[8];
	size_t n = 0;
	char ct[128];
	if (ctype) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		hdrs[n++] = ct;
	}
	for (; headers && *headers && n < 7; headers++)
		hdrs[n++] = *headers;
	hdrs[n] = NULL;
	struct http_client_request rq = {
		.method = method,
		.target = target,
		.headers = hdrs,
		.body = body,
		.body_len = len,
		.has_body =
			body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0,
		.timeout_ms = d->timeout_ms,
	};
	struct err ce = {0};
	int r = http_request_sync(&d->ep, &rq, max_body ? max_body : DOCKER_MAX_BODY, resp, &ce);
	if (r < 0) {
		__atomic_add_fetch(&d->errors, 1, __ATOMIC_RELAXED);
		http_response_free(resp);
		if (r == -EFBIG)
			return err_set(e, EFBIG, "%s %s: %s", method, target, ce.msg);
		if (r == -ETIMEDOUT) /* reached, but no progress within the timeout */
			return err_set(e, ETIMEDOUT, "%s %s: Docker did not answer within %u s",
				       method, target, d->timeout_ms / 1000);
		return err_set(e, EHOSTUNREACH, "Docker daemon at %s is unreachable (%s)", d->url,
			       ce.msg);
	}
	if (resp->status >= 500)
		__atomic_add_fetch(&d->errors, 1, __ATOMIC_RELAXED);
	return resp->status;
}

/* The Engine's {"message": "..."} for an error response, into e. */
static int engine_error(struct http_response *resp, int status, const char *what, struct err *e)
{
	const char *msg = buf_cstr(&resp->body);
	cJSON *j = msg ? cJSON_Parse(msg) : NULL;
	const cJSON *m = j ? cJSON_GetObjectItem(j, "message") : NULL;
	int code = status == 404 ? ENOENT : status == 409 ? EBUSY : status == 400 ? EINVAL : EIO;
	err_set(e, code, "%s: %s (HTTP %d)", what,
		cJSON_IsString(m) ? m->valuestring : (msg && *msg ? msg : "no message"), status);
	cJSON_Delete(j);
	return -code;
}

int docker_json(struct docker *d, const char *method, const char *target, const cJSON *body,
		cJSON **out, struct err *e)
{
	struct http_response resp;
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	if (body && !text)
		return err_set(e, ENOMEM, "out of memory");
	char what[300];
	snprintf(what, sizeof(what), "%s %.200s", method, target);
	int st = docker_call(d, method, target, text, text ? strlen(text) : 0,
			     text ? "application/json" : NULL, NULL, 0, &resp, e);
	free(text);
	if (st < 0)
		return st;
	int r = st;
	if (st >= 300 && st != 304) {
		r = engine_error(&resp, st, what, e);
	} else if (out) {
		const char *s = buf_cstr(&resp.body);
		*out = s && *s ? cJSON_Parse(s) : NULL;
		if (!*out && s && *s)
			r = err_set(e, EPROTO, "%s: invalid JSON from the Engine", what);
	}
	http_response_free(&resp);
	return r;
}

int docker_image_inspect(struct docker *d, const char *ref, cJSON **out, struct err *e)
{
	char esc[1024], target[1100];
	http_query_escape(ref, esc, sizeof(esc));
	/* '/' and ':' are path characters of the reference here. */
	snprintf(target, sizeof(target), "/images/%s/json", ref);
	if (strpbrk(ref, "?#% "))
		snprintf(target, sizeof(target), "/images/%s/json", esc);
	cJSON *j = NULL;
	int r = docker_json(d, "GET", target, NULL, out ? &j : NULL, e);
	if (r < 0)
		return r;
	if (out)
		*out = j;
	return 0;
}

int docker_image_pull(struct docker *d, const char *ref, const char *auth_b64, const char *platform,
		      struct err *e)
{
	char repo[600], tag[200] = "latest", er[1024], et[400], target[2048];
	snprintf(repo, sizeof(repo), "%s", ref);
	/* The tag is after the last ':' that follows the last '/' (a registry may have a port). */
	char *at = strchr(repo, '@');
	char *slash = strrchr(repo, '/');
	char *colon = strrchr(repo, ':');
	if (at) {
		snprintf(tag, sizeof(tag), "%s", at + 1);
		*at = '\0';
	} else if (colon && (!slash || colon > slash)) {
		snprintf(tag, sizeof(tag), "%s", colon + 1);
		*colon = '\0';
	}
	http_query_escape(repo, er, sizeof(er));
	http_query_escape(tag, et, sizeof(et));
	int n = snprintf(target, sizeof(target), "/images/create?fromImage=%s&tag=%s", er, et);
	if (platform && *platform) {
		char ep[64];
		http_query_escape(platform, ep, sizeof(ep));
		snprintf(target + n, sizeof(target) - (size_t)n, "&platform=%s", ep);
	}
	char auth[2048];
	const char *hdrs[2] = {NULL, NULL};
	if (auth_b64) {
		snprintf(auth, sizeof(auth), "X-Registry-Auth: %s", auth_b64);
		hdrs[0] = auth;
	}
	struct http_response resp;
	int st = docker_call(d, "POST", target, "", 0, NULL, hdrs, 0, &resp, e);
	if (st < 0)
		return st;
	int r = 0;
	char what[700];
	snprintf(what, sizeof(what), "pull %s", ref);
	if (st >= 300) {
		r = engine_error(&resp, st, what, e);
	} else {
		/* The progress stream reports a failure as {"error": ...} with status 200. */
		const char *s = buf_cstr(&resp.body);
		const char *errp = s ? strstr(s, "\"error\"") : NULL;
		if (errp) {
			const char *nl = strchr(errp, '\n');
			r = err_set(e, EIO, "%s: %.*s", what, (int)(nl ? nl - errp : 200), errp);
		}
	}
	http_response_free(&resp);
	return r;
}

int docker_create(struct docker *d, const char *name, const cJSON *body, char id[DOCKER_ID_LEN],
		  struct err *e)
{
	char target[300];
	snprintf(target, sizeof(target), "/containers/create?name=%s", name);
	cJSON *out = NULL;
	int r = docker_json(d, "POST", target, body, &out, e);
	if (r < 0)
		return r;
	const cJSON *i = cJSON_GetObjectItem(out, "Id");
	if (!cJSON_IsString(i) || strlen(i->valuestring) >= DOCKER_ID_LEN) {
		cJSON_Delete(out);
		return err_set(e, EPROTO, "create %s: no Id in the answer", name);
	}
	strcpy(id, i->valuestring);
	cJSON_Delete(out);
	return 0;
}

int docker_put_archive(struct docker *d, const char *cid, const char *path, const void *tar,
		       size_t len, struct err *e)
{
	char target[512], esc[300];
	http_query_escape(path, esc, sizeof(esc));
	snprintf(target, sizeof(target), "/containers/%s/archive?path=%s", cid, esc);
	struct http_response resp;
	int st = docker_call(d, "PUT", target, tar, len, "application/x-tar", NULL, 0, &resp, e);
	if (st < 0)
		return st;
	int r = st >= 300 ? engine_error(&resp, st, "put archive", e) : 0;
	http_response_free(&resp);
	return r;
}

/* A non-TTY log stream is framed: {stream 0|1|2, 0, 0, 0, size (4 bytes, big-endian)}
 * then size bytes. Anything else is a TTY's raw stream, kept as it is. */
static int demux_logs(const unsigned char *p, size_t len, struct buf *out)
{
	size_t off = 0;
	while (off + 8 <= len) {
		if (p[off] > 2 || p[off + 1] || p[off + 2] || p[off + 3])
			break;
		size_t n = (size_t)p[off + 4] << 24 | (size_t)p[off + 5] << 16 |
			   (size_t)p[off + 6] << 8 | p[off + 7];
		if (n > len - off - 8)
			n = len - off - 8;
		int r = buf_append(out, p + off + 8, n);
		if (r < 0)
			return r;
		off += 8 + n;
	}
	return off == 0 && len ? buf_append(out, p, len) : 0;
}

/* Ten lines, but a line may be a long progress bar redrawn with '\r'. */
#define LOGS_MAX_BODY (8u << 20)

int docker_logs(struct docker *d, const char *cid, unsigned tail, long since, bool timestamps,
		struct buf *out, struct err *e)
{
	char target[320];
	int n = snprintf(target, sizeof(target), "/containers/%s/logs?stdout=1&stderr=1&tail=%u%s",
			 cid, tail, timestamps ? "&timestamps=1" : "");
	if (since > 0)
		snprintf(target + n, sizeof(target) - (size_t)n, "&since=%ld", since);
	struct http_response resp;
	int st = docker_call(d, "GET", target, NULL, 0, NULL, NULL, LOGS_MAX_BODY, &resp, e);
	if (st < 0)
		return st;
	int r = st >= 300 ? engine_error(&resp, st, "logs", e)
			  : demux_logs((const unsigned char *)buf_head(&resp.body), resp.body.len,
				       out);
	http_response_free(&resp);
	return r;
}

int docker_get_archive(struct docker *d, const char *cid, const char *path, struct buf *out,
		       struct err *e)
{
	char target[512], esc[300];
	http_query_escape(path, esc, sizeof(esc));
	snprintf(target, sizeof(target), "/containers/%s/archive?path=%s", cid, esc);
	struct http_response resp;
	int st = docker_call(d, "GET", target, NULL, 0, NULL, NULL, 0, &resp, e);
	if (st < 0)
		return st;
	int r = 0;
	if (st >= 300)
		r = engine_error(&resp, st, "get archive", e);
	else
		r = buf_append(out, buf_head(&resp.body), resp.body.len);
	http_response_free(&resp);
	return r;
}

int docker_action(struct docker *d, const char *cid, const char *action, struct err *e)
{
	char target[300];
	snprintf(target, sizeof(target), "/containers/%s/%s", cid, action);
	int r = docker_json(d, "POST", target, NULL, NULL, e);
	if (r == -EBUSY && strcmp(action, "kill") == 0)
		return 0; /* "is not running" */
	return r < 0 ? r : 0;
}

int docker_remove(struct docker *d, const char *cid, struct err *e)
{
	char target[300];
	snprintf(target, sizeof(target), "/containers/%s?force=1&v=1", cid);
	int r = docker_json(d, "DELETE", target, NULL, NULL, e);
	return r < 0 ? r : 0;
}

int docker_inspect(struct docker *d, const char *cid, cJSON **out, struct err *e)
{
	char target[300];
	snprintf(target, sizeof(target), "/containers/%s/json", cid);
	int r = docker_json(d, "GET", target, NULL, out, e);
	return r < 0 ? r : 0;
}

int docker_list(struct docker *d, const char *filters, cJSON **out, struct err *e)
{
	char target[1400], esc[1200];
	if (filters) {
		http_query_escape(filters, esc, sizeof(esc));
		snprintf(target, sizeof(target), "/containers/json?all=1&filters=%s", esc);
	} else {
		snprintf(target, sizeof(target), "/containers/json?all=1");
	}
	*out = NULL;
	int r = docker_json(d, "GET", target, NULL, out, e);
	if (r >= 0 && !cJSON_IsArray(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return err_set(e, EPROTO, "container list: not an array");
	}
	return r < 0 ? r : 0;
}

int docker_remove_by_label(struct docker *d, const char *label, struct err *e)
{
	cJSON *f = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(f, "label");
	cJSON_AddItemToArray(arr, cJSON_CreateString(label));
	char *text = cJSON_PrintUnformatted(f);
	cJSON_Delete(f);
	cJSON *list = NULL;
	int r = text ? docker_list(d, text, &list, e) : -ENOMEM;
	free(text);
	if (r < 0)
		return r;
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		const cJSON *id = cJSON_GetObjectItem(it, "Id");
		if (cJSON_IsString(id) && docker_remove(d, id->valuestring, e) == 0)
			n++;
	}
	cJSON_Delete(list);
	return n;
}

int docker_api_minor(struct docker *d, struct err *e)
{
	int have = __atomic_load_n(&d->api_minor, __ATOMIC_RELAXED);
	if (have)
		return have;
	cJSON *v = NULL;
	int r = docker_json(d, "GET", "/version", NULL, &v, e);
	const cJSON *av = cJSON_GetObjectItemCaseSensitive(v, "ApiVersion");
	int minor = 0;
	if (r >= 0 && cJSON_IsString(av) && sscanf(av->valuestring, "1.%d", &minor) == 1 &&
	    minor > 0)
		__atomic_store_n(&d->api_minor, minor, __ATOMIC_RELAXED);
	else if (r >= 0)
		r = err_set(e, EPROTO, "GET /version: no ApiVersion");
	cJSON_Delete(v);
	return r < 0 ? r : minor;
}
