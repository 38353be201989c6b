// SPDX-License-Identifier: Apache-2.0
/*
 * The informer against a server that misbehaves: watches that end at once,
 * 410 for every version, a watch cut inside an event line, a watch failing
 * while a resync's list runs. The server is a forked child on its own loop;
 * late answers come from its timers, never from a blocking handler.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_server.h"
#include "jobs.h"
#include "k8s.h"
#include "k8s_watch.h"
#include "sock.h"
#include "testpki.h"
#include "tls.h"
#include "unit.h"

/* --- the server (child process) ---------------------------------------------- */

enum { C_EMPTY, C_GONE, C_PARTIAL, C_OVERLAP, C_ORPHAN, C_NCASES };
static const char *const case_names[C_NCASES] = {"empty", "gone", "partial", "overlap", "orphan"};

static struct ev_loop *srv_loop;
static int lists[C_NCASES], watches[C_NCASES];
static char watch_host[128]; /* Host of the last watch */

/* An answer given later: a delayed list, or a watch's next step. */
struct later {
	struct http_conn *c;
	struct ev_timer t;
	int kase;
	bool list;
};

static const char list_body[] = "{\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"5\"},"
				"\"items\":[]}";
static const char event_line[] = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
				 "\"resourceVersion\":\"6\"}}}\n";
static const char gone_line[] =
	"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}\n";

static void later_gone(struct http_conn *c, void *arg)
{
	(void)c;
	struct later *l = arg;
	l->c = NULL;
}

static void later_fire(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	struct later *l = arg;
	if (l->c) {
		http_conn_on_close(l->c, NULL, NULL);
		if (l->list) {
			http_resp_send(l->c, 200, "application/json", list_body,
				       sizeof(list_body) - 1);
		} else if (l->kase == C_OVERLAP) {
			http_resp_write(l->c, gone_line, sizeof(gone_line) - 1);
			http_resp_end(l->c);
		} else {
			http_resp_abort(l->c); /* C_ORPHAN: cut */
		}
	}
	free(l);
}

static void answer_later(struct http_conn *c, int kase, bool list, uint64_t ms)
{
	struct later *l = calloc(1, sizeof(*l));
	l->c = c;
	l->kase = kase;
	l->list = list;
	http_conn_on_close(c, later_gone, l);
	ev_timer_init(&l->t, later_fire, l);
	ev_timer_start(srv_loop, &l->t, ms);
}

static void h_coll(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	const char *ns = http_req_param(req, "ns");
	int k = 0;
	while (k < C_NCASES && strcmp(ns, case_names[k]) != 0)
		k++;
	if (k == C_NCASES) {
		http_resp_send(c, 404, "application/json", "{}", 2);
		return;
	}
	if (!strstr(req->query, "watch=true")) {
		int n = ++lists[k];
		if (n >= 2 && (k == C_OVERLAP || k == C_ORPHAN))
			answer_later(c, k, true, k == C_OVERLAP ? 800 : 1000);
		else
			http_resp_send(c, 200, "application/json", list_body,
				       sizeof(list_body) - 1);
		return;
	}
	int n = ++watches[k];
	const char *h = http_req_header(req, "Host");
	snprintf(watch_host, sizeof(watch_host), "%s", h ? h : "");
	switch (k) {
	case C_EMPTY:
		http_resp_send(c, 200, "application/json", "", 0);
		return;
	case C_GONE: {
		static const char st[] =
			"{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}";
		http_resp_send(c, 410, "application/json", st, sizeof(st) - 1);
		return;
	}
	default:
		break;
	}
	http_resp_begin_stream(c, 200, "application/json");
	if (k == C_PARTIAL) {
		const char *text = n == 1 ? "{\"type\":\"ADDED\",\"obj" : event_line;
		http_resp_write(c, text, strlen(text));
	} else if (n == 1)
		answer_later(c, k, false, k == C_OVERLAP ? 1300 : 1750);
}

static void h_count(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	(void)req;
	char out[400];
	int n = snprintf(
		out, sizeof(out),
		"{\"lists\":[%d,%d,%d,%d,%d],\"watches\":[%d,%d,%d,%d,%d],\"host\":\"%s\"}",
		lists[0], lists[1], lists[2], lists[3], lists[4], watches[0], watches[1],
		watches[2], watches[3], watches[4], watch_host);
	http_resp_send(c, 200, "application/json", out, (size_t)n);
}

static pid_t serve(int *port)
{
	struct err e = {0};
	int lfd = sock_listen_tcp("127.0.0.1", 0, &e);
	*port = sock_local_port(lfd);
	pid_t pid = fork();
	if (pid == 0) {
		struct tls_config *scfg = tls_config_server(testpki_path("srv.pem"),
							    testpki_path("srv.key"), NULL, &e);
		srv_loop = ev_loop_new(NULL);
		struct http_server_config cfg = {.tls = scfg};
		struct http_server *s = http_server_new(srv_loop, &cfg, NULL);
		http_server_route(s, "GET", "/api/v1/namespaces/:ns/pods", h_coll, NULL, NULL);
		http_server_route(s, "GET", "/count", h_count, NULL, NULL);
		http_server_listen_fd(s, lfd, NULL);
		uint64_t end = ev_clock_ms() + 20000;
		while (ev_clock_ms() < end)
			ev_run_once(srv_loop, 50);
		_exit(0);
	}
	close(lfd);
	return pid;
}

/* --- the informer (this process) --------------------------------------------- */

struct seen {
	int lists, events;
};

static void on_list(void *arg, const cJSON *items)
{
	(void)items;
	((struct seen *)arg)->lists++;
}

static void on_event(void *arg, const char *type, const cJSON *obj)
{
	(void)obj;
	if (!strcmp(type, "ADDED"))
		((struct seen *)arg)->events++;
}

static void run_for(struct ev_loop *loop, int ms)
{
	uint64_t end = ev_clock_ms() + (uint64_t)ms;
	while (ev_clock_ms() < end)
		ev_run_once(loop, 20);
}

/* What the server counted for case k: lists (or watches). */
static int server_count(struct k8s *k, int kase, bool list)
{
	cJSON *out = NULL;
	struct err e = {0};
	int n = -1;
	if (k8s_call(k, "GET", "/count", NULL, NULL, &out, &e) == 200) {
		const cJSON *a = cJSON_GetObjectItem(out, list ? "lists" : "watches");
		const cJSON *v = cJSON_GetArrayItem(a, kase);
		if (cJSON_IsNumber(v))
			n = v->valueint;
	}
	cJSON_Delete(out);
	return n;
}

/* The Host header of the server's last watch. */
static void server_host(const char *kubeconfig, char *out, size_t cap)
{
	struct k8s k;
	struct err e = {0};
	cJSON *o = NULL;
	out[0] = '\0';
	if (k8s_init_kubeconfig(&k, kubeconfig, NULL, &e) < 0)
		return;
	if (k8s_call(&k, "GET", "/count", NULL, NULL, &o, &e) == 200) {
		const cJSON *h = cJSON_GetObjectItem(o, "host");
		if (cJSON_IsString(h))
			snprintf(out, cap, "%s", h->valuestring);
	}
	cJSON_Delete(o);
	k8s_free(&k);
}

/* Runs one informer on case kase for ms, then stops it and its jobs. */
static struct k8s_watch_stats run_case(const char *kubeconfig, int kase, uint32_t resync_s, int ms,
				       struct seen *seen, int *server_lists, int *server_watches)
{
	struct err e = {0};
	struct ev_loop *loop = ev_loop_new(NULL);
	struct jobs *jobs = jobs_new(loop, 2, &e);
	struct k8s k;
	struct k8s_watch_stats st = {0};
	CHECK_INT(k8s_init_kubeconfig(&k, kubeconfig, NULL, &e), 0);
	char path[100];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", case_names[kase]);
	struct k8s_watch_config wc = {.path = path, .watch_timeout_s = 30, .resync_s = resync_s};
	struct k8s_watch_cbs cbs = {.on_list = on_list, .on_event = on_event};
	struct k8s_watch *w = k8s_watch_start(loop, jobs, &k, &wc, &cbs, seen, &e);
	CHECK(w != NULL);
	run_for(loop, ms);
	k8s_watch_get_stats(w, &st);
	k8s_watch_stop(w);
	jobs_free(jobs); /* a list still running ends here: it must not find w freed */
	*server_lists = server_count(&k, kase, true);
	*server_watches = server_count(&k, kase, false);
	k8s_free(&k);
	ev_loop_free(loop);
	return st;
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

TEST(k8s_watch_hostile_server)
{
	if (!testpki_ready())
		return;
	int port;
	pid_t pid = serve(&port);
	char dir[] = "/tmp/k8swatch.XXXXXX", path[128], text[1024];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/config", dir);
	snprintf(text, sizeof(text),
		 "clusters:\n- name: c\n  cluster:\n    server: https://localhost:%d\n"
		 "    certificate-authority: %s\n"
		 "users:\n- name: u\n  user: {token: t}\n"
		 "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		 "current-context: x\n",
		 port, testpki_path("ca.pem"));
	write_file(path, text);
	struct seen seen;
	struct k8s_watch_stats st;
	int sl, sw;

	/* 200 with an empty body for every watch: retried with a backoff, not spun. */
	seen = (struct seen){0};
	st = run_case(path, C_EMPTY, 0, 2000, &seen, &sl, &sw);
	CHECK_INT(seen.lists, 1);
	CHECK(sw >= 1 && sw <= 4);
	CHECK(st.errors >= 1);

	/* 410 for every watch: the relists back off too. */
	seen = (struct seen){0};
	st = run_case(path, C_GONE, 0, 2000, &seen, &sl, &sw);
	CHECK(sl >= 1 && sl <= 4);
	CHECK(st.gone >= 1);

	/* A resync restarts a watch that stopped inside a line: the next watch's
	 * first event is whole, not glued to the cut one. */
	seen = (struct seen){0};
	run_case(path, C_PARTIAL, 1, 1600, &seen, &sl, &sw);
	CHECK_INT(sw, 2);
	CHECK_INT(seen.events, 1);
	/* The watch connects to the address its LIST resolved (on a worker, not
	 * on the loop), under the server's own name. */
	char host[128], want[64];
	server_host(path, host, sizeof(host));
	snprintf(want, sizeof(want), "localhost:%d", port);
	CHECK_STR(host, want);

	/* 410 while a resync's list runs: one list at a time (the second is
	 * not started; stopping while a list runs frees once). */
	seen = (struct seen){0};
	run_case(path, C_OVERLAP, 1, 2500, &seen, &sl, &sw);
	CHECK_INT(sl, 2);

	/* A watch fails while a resync's list runs; the list ends before the
	 * retry timer: one watch follows, not two. */
	seen = (struct seen){0};
	run_case(path, C_ORPHAN, 1, 2800, &seen, &sl, &sw);
	CHECK_INT(sw, 2);

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(text, sizeof(text), "rm -rf %s", dir);
	CHECK_INT(system(text), 0);
}
