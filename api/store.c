// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apival.h"
#include "file.h"
#include "http_client.h"
#include "json.h"
#include "log.h"
#include "store.h"

#define PORT_MIN   40000
#define PORT_MAX   60000
#define PORT_TRIES 200

#define STORE_GONE_RING 256

struct store {
	struct apisrv *srv;
	struct sbx **v;
	size_t n, cap;
	unsigned char used[(PORT_MAX - PORT_MIN + 1 + 7) / 8];
	char path[512];
	int lock_fd;   /* flock on <dir>/.lock: one server per state folder */
	cJSON *loaded; /* "sandboxes" object of the file read at start-up */
	bool dirty;
	/* Recently removed ids, so a Docker list taken before a removal does not bring
	 * the sandbox back: a ring, enough for the removals of one sweep period. */
	struct {
		char id[UUID_STR_LEN];
		uint64_t at_ms; /* monotonic */
	} gone[STORE_GONE_RING];
	size_t gone_next;
};

static void on_turn(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct store *st = arg;
	if (!st->dirty)
		return;
	struct err e = {0};
	if (store_save(st, &e) < 0)
		log_msg(LOG_ERROR, NULL, "cannot persist state", "error", e.msg, NULL);
}

static cJSON *read_state(const char *path)
{
	struct buf b;
	buf_init(&b, 64u << 20);
	int r = buf_read_file(&b, path);
	if (r < 0) {
		if (r != -ENOENT) /* missing: a first start */
			log_msg(LOG_WARN, NULL, "state file unreadable, ignored", "path", path,
				"error", strerror(-r), NULL);
		buf_free(&b);
		return NULL;
	}
	struct err e = {0};
	cJSON *root = json_parse(buf_head(&b), b.len, &e);
	buf_free(&b);
	if (!root) {
		log_msg(LOG_WARN, NULL, "state file unreadable, ignored", "path", path, "error",
			e.msg, NULL);
		return NULL;
	}
	cJSON *s = cJSON_DetachItemFromObjectCaseSensitive(root, "sandboxes");
	cJSON_Delete(root);
	if (!cJSON_IsObject(s)) {
		cJSON_Delete(s);
		return NULL;
	}
	return s;
}

struct store *store_new(struct apisrv *srv, const char *dir, struct err *e)
{
	struct store *st = calloc(1, sizeof(*st));
	if (!st) {
		err_set(e, ENOMEM, "store");
		return NULL;
	}
	st->srv = srv;
	/* mkdir -p */
	char p[512];
	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		err_set(e, errno, "state dir %s: %s", dir, strerror(errno));
		free(st);
		return NULL;
	}
	/* A second server on the same folder would run recovery over the first one's
	 * records (and rewrite its files) before failing to bind its port. */
	char lock[560];
	snprintf(lock, sizeof(lock), "%s/.lock", dir);
	st->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		err_set(e, errno, "state dir %s: %s", dir,
			errno == EWOULDBLOCK ? "in use by another sandbox-api" : strerror(errno));
		if (st->lock_fd >= 0)
			close(st->lock_fd);
		free(st);
		return NULL;
	}
	snprintf(st->path, sizeof(st->path), "%s/state.json", dir);
	st->loaded = read_state(st->path);
	ev_on_turn(srv->loop, on_turn, st);
	return st;
}

static void sbx_free(struct store *st, struct sbx *s)
{
	uint16_t ports[3] = {s->port_execd, s->port_http, s->port_egress};
	store_ports_release(st, ports, 3);
	ev_timer_stop(st->srv->loop, &s->expiry);
	ev_timer_stop(st->srv->loop, &s->ready);
	if (s->ping)
		http_client_cancel(s->ping);
	free(s->image);
	free(s->entrypoint);
	free(s->managed_vols);
	cJSON_Delete(s->metadata);
	free(s);
}

void store_free(struct store *st)
{
	if (!st)
		return;
	ev_off_turn(st->srv->loop, on_turn, st);
	if (st->dirty) {
		struct err e = {0};
		store_save(st, &e);
	}
	for (size_t i = 0; i < st->n; i++)
		sbx_free(st, st->v[i]);
	free(st->v);
	cJSON_Delete(st->loaded);
	close(st->lock_fd);
	free(st);
}

struct sbx *store_add(struct store *st, const char *id)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct sbx **v = realloc(st->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		st->v = v;
		st->cap = cap;
	}
	struct sbx *s = calloc(1, sizeof(*s));
	if (!s || !(s->metadata = cJSON_CreateObject())) {
		free(s);
		return NULL;
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->srv = st->srv;
	s->state = SBX_PENDING;
	s->changed_ms = ev_clock_ms();
	ev_timer_init(&s->expiry, NULL, s);
	ev_timer_init(&s->ready, NULL, s);
	st->v[st->n++] = s;
	return s;
}

struct sbx *store_find(struct store *st, const char *id)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->v[i]->id, id) == 0)
			return st->v[i];
	return NULL;
}

void store_remove(struct store *st, struct sbx *s)
{
	for (size_t i = 0; i < st->n; i++) {
		if (st->v[i] != s)
			continue;
		st->v[i] = st->v[--st->n];
		snprintf(st->gone[st->gone_next].id, UUID_STR_LEN, "%s", s->id);
		st->gone[st->gone_next].at_ms = ev_clock_ms();
		st->gone_next = (st->gone_next + 1) % STORE_GONE_RING;
		sbx_free(st, s);
		store_dirty(st);
		return;
	}
}

bool store_removed_since(const struct store *st, const char *id, uint64_t since_ms)
{
	for (size_t i = 0; i < STORE_GONE_RING; i++)
		if (st->gone[i].at_ms >= since_ms && strcmp(st->gone[i].id, id) == 0)
			return true;
	return false;
}

size_t store_count(const struct store *st)
{
	return st->n;
}

struct sbx *store_at(struct store *st, size_t i)
{
	return i < st->n ? st->v[i] : NULL;
}

static bool port_used(struct store *st, unsigned p)
{
	unsigned i = p - PORT_MIN;
	return st->used[i / 8] & (1u << (i % 8));
}

static void port_set(struct store *st, unsigned p, bool on)
{
	if (p < PORT_MIN || p > PORT_MAX)
		return;
	unsigned i = p - PORT_MIN;
	if (on)
		st->used[i / 8] |= (unsigned char)(1u << (i % 8));
	else
		st->used[i / 8] &= (unsigned char)~(1u << (i % 8));
}

/* Free on the host right now: nothing listens on it (docker-proxy included). */
static bool port_free(unsigned p)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
	bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

int store_ports_reserve(struct store *st, uint16_t *out, size_t n)
{
	size_t got = 0;
	for (int tries = 0; got < n && tries < PORT_TRIES; tries++) {
		unsigned r;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (unsigned)rand();
		unsigned p = PORT_MIN + r % (PORT_MAX - PORT_MIN + 1);
		if (port_used(st, p) || !port_free(p))
			continue;
		port_set(st, p, true);
		out[got++] = (uint16_t)p;
	}
	if (got < n) {
		store_ports_release(st, out, got);
		return -EADDRINUSE;
	}
	return 0;
}

void store_ports_release(struct store *st, const uint16_t *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i])
			port_set(st, ports[i], false);
}

void store_ports_mark(struct store *st, const uint16_t *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i])
			port_set(st, ports[i], true);
}

void store_dirty(struct store *st)
{
	st->dirty = true;
}

int store_save(struct store *st, struct err *e)
{
	st->dirty = false;
	cJSON *root = cJSON_CreateObject();
	cJSON *all = cJSON_AddObjectToObject(root, "sandboxes");
	cJSON_AddNumberToObject(root, "version", 1);
	for (size_t i = 0; i < st->n; i++) {
		struct sbx *s = st->v[i];
		if (s->doomed)
			continue;
		cJSON *o = cJSON_AddObjectToObject(all, s->id);
		if (s->expires_us) {
			char t[APIVAL_TIME_LEN];
			apival_time_format(s->expires_us, t);
			cJSON_AddStringToObject(o, "expiresAt", t);
		}
		cJSON_AddItemToObject(o, "metadata", cJSON_Duplicate(s->metadata, 1));
		if (s->failed_at_us)
			cJSON_AddNumberToObject(o, "failedAtUs", (double)s->failed_at_us);
	}
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return err_set(e, ENOMEM, "out of memory");
	int r = file_write_atomic(st->path, text, strlen(text), 0600);
	if (r < 0)
		err_set(e, -r, "%s: %s", st->path, strerror(-r));
	free(text);
	return r;
}

const cJSON *store_persisted(struct store *st, const char *id)
{
	return st->loaded ? cJSON_GetObjectItemCaseSensitive(st->loaded, id) : NULL;
}

void store_forget_persisted(struct store *st)
{
	cJSON_Delete(st->loaded);
	st->loaded = NULL;
}
