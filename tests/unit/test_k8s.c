// SPDX-License-Identifier: Apache-2.0
/* The Kubernetes client: kubeconfig, one kept TLS connection, Status errors, token refresh. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_server.h"
#include "k8s.h"
#include "sock.h"
#include "testpki.h"
#include "tls.h"
#include "unit.h"

static void status(struct http_conn *c, int code, const char *reason, const char *msg)
{
	char body[300];
	int n = snprintf(body, sizeof(body),
			 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
			 "\"Failure\",\"message\":\"%s\",\"reason\":\"%s\",\"code\":%d}",
			 msg, reason, code);
	http_resp_send(c, code, "application/json", body, (size_t)n);
}

static bool authorized(struct http_req *req)
{
	const char *a = http_req_header(req, "Authorization");
	return a && (!strcmp(a, "Bearer tok1") || !strcmp(a, "Bearer tok2"));
}

static void h_pod(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	if (!authorized(req)) {
		status(c, 401, "Unauthorized", "Unauthorized");
		return;
	}
	const char *name = http_req_param(req, "name");
	if (!strcmp(name, "missing")) {
		status(c, 404, "NotFound", "pods \\\"missing\\\" not found");
		return;
	}
	if (!strcmp(name, "nul")) { /* an annotation with a NUL, as the API server escapes it */
		static const char nul[] = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"nul\","
					  "\"annotations\":{\"a\":\"x\\u0000y\"}}}";
		http_resp_send(c, 200, "application/json", nul, sizeof(nul) - 1);
		return;
	}
	if (!strcmp(name, "gone")) {
		status(c, 410, "Expired", "too old resource version");
		return;
	}
	if (!strcmp(req->method, "PATCH")) {
		const char *ct = http_req_header(req, "Content-Type");
		if (ct && !strcmp(ct, "application/merge-patch+json"))
			status(c, 409, "Conflict", "the object has been modified");
		else
			status(c, 415, "UnsupportedMediaType", "wrong patch type");
		return;
	}
	char body[200];
	int n = snprintf(body, sizeof(body), "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"}}",
			 name);
	http_resp_send(c, 200, "application/json", body, (size_t)n);
}

static void h_create(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	(void)req;
	status(c, 409, "AlreadyExists", "pods \\\"a\\\" already exists");
}

static void h_whoami(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	const char *a = http_req_header(req, "Authorization");
	http_resp_send(c, 200, "text/plain", a ? a : "", a ? strlen(a) : 0);
}

/* GET /slow answers after 1.5 s (a timer: the server's loop goes on). */
static struct ev_loop *slow_loop;
struct slow {
	struct http_conn *c;
	struct ev_timer t;
};

static void slow_gone(struct http_conn *c, void *arg)
{
	(void)c;
	((struct slow *)arg)->c = NULL;
}

static void slow_fire(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	struct slow *sl = arg;
	if (sl->c) {
		http_conn_on_close(sl->c, NULL, NULL);
		http_resp_send(sl->c, 200, "application/json", "{}", 2);
	}
	free(sl);
}

static void h_slow(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	struct slow *sl = calloc(1, sizeof(*sl));
	sl->c = c;
	http_conn_on_close(c, slow_gone, sl);
	ev_timer_init(&sl->t, slow_fire, sl);
	ev_timer_start(slow_loop, &sl->t, 1500);
}

static pid_t serve_tls(int *port)
{
	struct err e = {0};
	int lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	*port = sock_local_port(lfd);
	pid_t pid = fork();
	if (pid == 0) {
		struct tls_config *scfg = tls_config_server(testpki_path("srv.pem"),
							    testpki_path("srv.key"), NULL, &e);
		struct ev_loop *loop = ev_loop_new(NULL);
		slow_loop = loop;
		struct http_server_config cfg = {.tls = scfg};
		struct http_server *s = http_server_new(loop, &cfg, NULL);
		http_server_route(s, "GET", "/api/v1/namespaces/ns/pods/:name", h_pod, NULL, NULL);
		http_server_route(s, "PATCH", "/api/v1/namespaces/ns/pods/:name", h_pod, NULL,
				  NULL);
		http_server_route(s, "POST", "/api/v1/namespaces/ns/pods", h_create, NULL, NULL);
		http_server_route(s, "GET", "/whoami", h_whoami, NULL, NULL);
		http_server_route(s, "GET", "/pre/fix/whoami", h_whoami, NULL, NULL);
		http_server_route(s, "GET", "/slow", h_slow, NULL, NULL);
		http_server_listen_fd(s, lfd, NULL);
		uint64_t end = ev_clock_ms() + 8000;
		while (ev_clock_ms() < end)
			ev_run_once(loop, 50);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void copy_file(const char *from, const char *to)
{
	struct buf b;
	buf_init(&b, 1u << 20);
	CHECK_INT(buf_read_file(&b, from), 0);
	write_file(to, buf_cstr(&b));
	buf_free(&b);
}

static const char kubeconfig_fmt[] = "apiVersion: v1\n"
				     "kind: Config\n"
				     "current-context: emu\n"
				     "clusters:\n"
				     "- name: emu\n"
				     "  cluster:\n"
				     "    server: %s\n"
				     "    certificate-authority: ca.pem\n"
				     "contexts:\n"
				     "- name: emu\n"
				     "  context: {cluster: emu, user: %s, namespace: sandboxes}\n"
				     "users:\n"
				     "- name: file\n"
				     "  user:\n"
				     "    tokenFile: token\n"
				     "- name: plugin\n"
				     "  user:\n"
				     "    exec:\n"
				     "      command: aws\n";

static void *slow_call(void *arg)
{
	struct err e = {0};
	CHECK_INT(k8s_call(arg, "GET", "/slow", NULL, NULL, NULL, &e), 200);
	return NULL;
}

TEST(k8s_kubeconfig_calls_and_errors)
{
	if (!testpki_ready())
		return;
	int port;
	pid_t pid = serve_tls(&port);
	char dir[] = "/tmp/k8stest.XXXXXX", path[128], tok[128], ca[128], text[2048], url[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/config", dir);
	snprintf(tok, sizeof(tok), "%s/token", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(url, sizeof(url), "https://localhost:%d", port);
	copy_file(testpki_path("ca.pem"), ca);
	write_file(tok, "tok1\n");
	snprintf(text, sizeof(text), kubeconfig_fmt, url, "file");
	write_file(path, text);

	struct k8s k;
	struct err e = {0};
	CHECK_INT(k8s_init_kubeconfig(&k, path, NULL, &e), 0);
	CHECK_STR(k.namespace, "sandboxes");
	cJSON *out = NULL;
	for (int i = 0; i < 5; i++) {
		CHECK_INT(k8s_call(&k, "GET", "/api/v1/namespaces/ns/pods/a", NULL, NULL, &out, &e),
			  200);
		const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(out, "metadata"), "name");
		CHECK(cJSON_IsString(n) && !strcmp(n->valuestring, "a"));
		cJSON_Delete(out);
	}
	CHECK_INT(k8s_connections(&k), 1); /* one kept connection for every call */
	CHECK_INT(k8s_call(&k, "GET", "/api/v1/namespaces/ns/pods/missing", NULL, NULL, &out, &e),
		  -ENOENT);
	CHECK(strstr(e.msg, "404 NotFound") && strstr(e.msg, "not found"));
	CHECK(out == NULL);
	cJSON *body = cJSON_Parse("{\"metadata\":{\"name\":\"a\"}}");
	CHECK_INT(k8s_call(&k, "POST", "/api/v1/namespaces/ns/pods", body, NULL, NULL, &e),
		  -EEXIST);
	CHECK_INT(k8s_call(&k, "PATCH", "/api/v1/namespaces/ns/pods/a", body,
			   "application/merge-patch+json", NULL, &e),
		  -EBUSY);
	cJSON_Delete(body);
	CHECK_INT(k8s_call(&k, "GET", "/api/v1/namespaces/ns/pods/gone", NULL, NULL, NULL, &e),
		  -ESTALE);
	/* A \u0000 in one string does not make the whole answer unreadable. */
	CHECK_INT(k8s_call(&k, "GET", "/api/v1/namespaces/ns/pods/nul", NULL, NULL, &out, &e), 200);
	CHECK(out != NULL);
	cJSON_Delete(out);
	CHECK_INT(k8s_connections(&k), 1); /* error answers keep the connection too */

	/* A rotated token file is read again (checked at most once a second). */
	struct buf who;
	buf_init(&who, 4096);
	CHECK_INT(k8s_call_text(&k, "/whoami", 4096, &who, &e), 200);
	CHECK_STR(buf_cstr(&who), "Bearer tok1");
	usleep(1100 * 1000);
	write_file(tok, "tok2\n");
	struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	utimensat(AT_FDCWD, tok, ts, 0);
	buf_reset(&who);
	CHECK_INT(k8s_call_text(&k, "/whoami", 4096, &who, &e), 200);
	CHECK_STR(buf_cstr(&who), "Bearer tok2");
	char hdr[64];
	k8s_auth_header(&k, hdr, sizeof(hdr));
	CHECK_STR(hdr, "Authorization: Bearer tok2");
	buf_free(&who);

	/* A call in flight holds the call lock for its whole length; what the loop
	 * asks meanwhile (a watch's credentials, the metrics) must not wait for it. */
	pthread_t th;
	CHECK_INT(pthread_create(&th, NULL, slow_call, &k), 0);
	usleep(300 * 1000);
	uint64_t t0 = ev_clock_ms();
	k8s_auth_header(&k, hdr, sizeof(hdr));
	CHECK_INT(k8s_connections(&k), 1);
	CHECK(ev_clock_ms() - t0 < 300);
	CHECK_STR(hdr, "Authorization: Bearer tok2");
	pthread_join(th, NULL);
	k8s_free(&k);

	/* A path in the server URL (Rancher's /k8s/clusters/<id>) goes before every path. */
	snprintf(url, sizeof(url), "https://localhost:%d/pre/fix/", port);
	snprintf(text, sizeof(text), kubeconfig_fmt, url, "file");
	write_file(path, text);
	CHECK_INT(k8s_init_kubeconfig(&k, path, NULL, &e), 0);
	CHECK_STR(k.prefix, "/pre/fix");
	buf_init(&who, 4096);
	CHECK_INT(k8s_call_text(&k, "/whoami", 4096, &who, &e), 200);
	CHECK_STR(buf_cstr(&who), "Bearer tok2");
	buf_free(&who);
	k8s_free(&k);
	snprintf(url, sizeof(url), "https://localhost:%d", port);

	/* Refused set-ups, each with a reason. */
	snprintf(text, sizeof(text), kubeconfig_fmt, url, "plugin");
	write_file(path, text);
	CHECK(k8s_init_kubeconfig(&k, path, NULL, &e) == -EINVAL && strstr(e.msg, "exec"));
	CHECK(k8s_init_kubeconfig(&k, path, "nope", &e) < 0 && strstr(e.msg, "context nope"));
	snprintf(text, sizeof(text), kubeconfig_fmt, "http://localhost:1", "file");
	write_file(path, text);
	CHECK(k8s_init_kubeconfig(&k, path, NULL, &e) < 0 && strstr(e.msg, "https"));
	static const struct {
		const char *cluster, *user, *why;
	} bad[] = {
		{"certificate-authority: ca.pem", "token: 12345", "token must be a string"},
		{"certificate-authority: ca.pem", "token: [a]", "token must be a string"},
		{"certificate-authority: ca.pem", "tokenFile: absent", "tokenFile"},
		{"certificate-authority: ca.pem", "tokenFile: /dev/zero", "not a regular file"},
		{"certificate-authority: /dev/zero", "token: t", "over 4 MiB"},
		{"certificate-authority: 5", "token: t", "certificate-authority must be a string"},
		{"tls-server-name: LONG", "token: t", "tls-server-name too long"},
		{"certificate-authority: ca.pem", "[token]", "not a mapping"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char cl[400];
		if (strstr(bad[i].cluster, "LONG"))
			snprintf(cl, sizeof(cl), "tls-server-name: x%0300d", 0);
		else
			snprintf(cl, sizeof(cl), "%s", bad[i].cluster);
		snprintf(text, sizeof(text),
			 "clusters:\n- name: c\n  cluster:\n    server: %s\n    %s\n"
			 "users:\n- name: u\n  user: %s%s%s\n"
			 "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
			 "current-context: x\n",
			 url, cl, bad[i].user[0] == '[' ? "" : "{", bad[i].user,
			 bad[i].user[0] == '[' ? "" : "}");
		write_file(path, text);
		e = (struct err){0};
		CHECK(k8s_init_kubeconfig(&k, path, NULL, &e) < 0);
		if (!strstr(e.msg, bad[i].why))
			unit_fail(__FILE__, __LINE__, "case %zu: %s", i, e.msg);
	}
	/* A context that names a user the file does not have. */
	snprintf(text, sizeof(text), kubeconfig_fmt, url, "nobody");
	write_file(path, text);
	CHECK(k8s_init_kubeconfig(&k, path, NULL, &e) < 0 &&
	      strstr(e.msg, "user nobody not found"));
	snprintf(path, sizeof(path), "%s/absent", dir);
	CHECK_INT(k8s_init_kubeconfig(&k, path, NULL, &e), -ENOENT);

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(text, sizeof(text), "rm -rf %s", dir);
	CHECK_INT(system(text), 0);
}

/* The token buckets really hold calls back, at whole and fractional rates. */
TEST(k8s_rate_limits)
{
	if (!testpki_ready())
		return;
	int port;
	pid_t pid = serve_tls(&port);
	char dir[] = "/tmp/k8stest.XXXXXX", path[128], tok[128], ca[128], text[2048], url[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/config", dir);
	snprintf(tok, sizeof(tok), "%s/token", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(url, sizeof(url), "https://localhost:%d", port);
	copy_file(testpki_path("ca.pem"), ca);
	write_file(tok, "tok1\n");
	snprintf(text, sizeof(text), kubeconfig_fmt, url, "file");
	write_file(path, text);
	struct k8s k;
	struct err e = {0};
	CHECK_INT(k8s_init_kubeconfig(&k, path, NULL, &e), 0);
	/* Only lower bounds: a loaded machine may be slower, never faster. */
	k8s_set_limits(&k, 2, 1, 0.8, 1);
	uint64_t t0 = ev_clock_ms();
	for (int i = 0; i < 3; i++)
		CHECK_INT(k8s_call(&k, "GET", "/api/v1/namespaces/ns/pods/a", NULL, NULL, NULL, &e),
			  200);
	uint64_t reads_ms = ev_clock_ms() - t0;
	CHECK(reads_ms >= 950); /* burst 1, then one every 500 ms */
	/* Below one per second (read_qps = 0.5 once meant unlimited): 1.25 s apart. */
	cJSON *body = cJSON_Parse("{\"metadata\":{\"name\":\"a\"}}");
	t0 = ev_clock_ms();
	for (int i = 0; i < 2; i++)
		CHECK_INT(k8s_call(&k, "POST", "/api/v1/namespaces/ns/pods", body, NULL, NULL, &e),
			  -EEXIST);
	uint64_t writes_ms = ev_clock_ms() - t0;
	CHECK(writes_ms >= 1200);
	cJSON_Delete(body);
	k8s_free(&k);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(text, sizeof(text), "rm -rf %s", dir);
	CHECK_INT(system(text), 0);
}

TEST(k8s_status_errno_and_escape)
{
	struct err e = {0};
	static const char conflict[] = "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"code\":409}";
	static const char exists[] = "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\"}";
	CHECK_INT(k8s_status_errno(409, conflict, sizeof(conflict) - 1, &e), -EBUSY);
	CHECK_INT(k8s_status_errno(409, exists, sizeof(exists) - 1, &e), -EEXIST);
	CHECK_INT(k8s_status_errno(422, "{", 1, &e), -EINVAL);
	CHECK(strstr(e.msg, "(no message)") != NULL);
	CHECK_INT(k8s_status_errno(403, NULL, 0, &e), -EACCES);
	CHECK_INT(k8s_status_errno(500, NULL, 0, &e), -EREMOTEIO);
	CHECK_INT(k8s_status_errno(503, NULL, 0, &e), -EREMOTEIO);
	CHECK_INT(k8s_status_errno(302, NULL, 0, &e), -EREMOTEIO);
	CHECK_INT(k8s_status_errno(429, NULL, 0, &e), -EAGAIN);
	char q[64];
	http_query_escape("opensandbox.io/id,!x=y z", q, sizeof(q));
	CHECK_STR(q, "opensandbox.io%2Fid%2C%21x%3Dy%20z");
	http_query_escape("abcdef", q, 4); /* truncated, still terminated */
	CHECK(strlen(q) < 4);
}
