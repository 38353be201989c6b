// SPDX-License-Identifier: Apache-2.0
/* GET /directories/list, POST /directories (mkdir -p), DELETE /directories (rm -rf). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "json.h"
#include "paths.h"
#include "respond.h"

struct listing {
	struct buf *out;
	size_t count;
	int err;
	char where[PATHS_MAX];
};

/* Pre-order, entries sorted by name per directory; symlinks listed, never followed. */
static void list_dir(struct listing *l, char *path, size_t len, long depth)
{
	char **names;
	size_t n;
	int r = files_read_names(path, &names, &n);
	if (r < 0) {
		l->err = -r;
		snprintf(l->where, sizeof(l->where), "%s", path);
		return;
	}
	for (size_t i = 0; i < n && !l->err && l->count < FILES_RESULTS_MAX; i++) {
		size_t nl = strlen(names[i]);
		size_t at = len == 1 && path[0] == '/' ? 1 : len + 1;
		if (at + nl + 1 > PATHS_MAX)
			continue;
		path[at - 1] = '/';
		memcpy(path + at, names[i], nl + 1);
		struct stat st;
		if (lstat(path, &st) < 0) {
			l->err = errno;
			snprintf(l->where, sizeof(l->where), "%s", path);
		} else {
			if (l->count++)
				buf_puts(l->out, ",");
			files_info_json(l->out, path, &st);
			if (S_ISDIR(st.st_mode) && depth > 1)
				list_dir(l, path, at + nl, depth - 1);
		}
		path[len] = '\0';
		if (len == 1 && path[0] == '/')
			path[1] = '\0';
	}
	files_names_free(names, n);
}

static void h_list(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	char path[PATHS_MAX], abs[PATHS_MAX], v[32];
	struct err e = {0};
	if (http_query_get(req->query, strlen(req->query), "path", path, sizeof(path)) <= 0) {
		respond_error(c, 400, "MISSING_QUERY", "missing query parameter 'path'");
		return;
	}
	long depth = 1;
	if (http_query_get(req->query, strlen(req->query), "depth", v, sizeof(v)) >= 0) {
		char *end;
		depth = strtol(v, &end, 10);
		if (!*v || *end || depth < 0) {
			respond_errorf(c, 400, "INVALID_REQUEST_BODY",
				       "invalid query parameter 'depth': %s", v);
			return;
		}
	}
	if (paths_abs(path, abs, &e) < 0) {
		files_error(c, e.code, "%s", e.msg);
		return;
	}
	struct stat st;
	if (lstat(abs, &st) < 0) {
		files_error(c, errno, "lstat %s: %s", abs, strerror(errno));
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY",
			       "path is a symbolic link, refusing to traverse: %s", abs);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY", "path is not a directory: %s", abs);
		return;
	}
	struct buf out;
	buf_init(&out, 0);
	buf_puts(&out, "[");
	struct listing l = {.out = &out};
	if (depth > 0)
		list_dir(&l, abs, strlen(abs), depth);
	buf_puts(&out, "]");
	if (l.err)
		respond_errorf(c, 500, "RUNTIME_ERROR", "error listing directory %s. %s: %s", path,
			       l.where, strerror(l.err));
	else
		respond_json_buf(c, 200, &out);
	buf_free(&out);
}

static void h_mkdir(struct http_conn *c, struct http_req *req, void *arg)
{
	struct err e = {0};
	(void)arg;
	cJSON *j = files_parse_body(c, req, false);
	if (!j)
		return;
	const cJSON *it;
	cJSON_ArrayForEach(it, j)
	{
		char abs[PATHS_MAX], msg[PATHS_MAX + 64];
		const char *owner, *group;
		long mode;
		if (!files_perm_fields(c, it, &owner, &group, &mode))
			goto out;
		if (paths_abs(it->string, abs, &e) < 0) {
			files_error(c, e.code, "%s", e.msg);
			goto out;
		}
		struct stat st;
		bool existed = stat(abs, &st) == 0;
		if (paths_mkdir_all(abs, 0777) < 0) {
			files_error(c, errno, "mkdir %s: %s", abs, strerror(errno));
			goto out;
		}
		/* Only a directory made now gets the mode and owner; an existing one is left alone.
		 */
		if (!existed && files_apply_perms(abs, mode, owner, group, msg, sizeof(msg)) < 0) {
			respond_errorf(c, 500, "RUNTIME_ERROR", "error accessing file: %s", msg);
			goto out;
		}
	}
	respond_ok(c);
out:
	cJSON_Delete(j);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int r = flag == FTW_DP ? rmdir(path) : unlink(path);
	return r < 0 && errno != ENOENT ? -1 : 0;
}

static void h_rmdir(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	struct http_query_iter it;
	const char *k, *v;
	size_t kl, vl;
	http_query_iter_init(&it, req->query, strlen(req->query));
	while (http_query_next(&it, &k, &kl, &v, &vl)) {
		char key[16], path[PATHS_MAX], abs[PATHS_MAX];
		struct err e = {0};
		if (http_percent_decode(key, sizeof(key), k, kl, HTTP_DECODE_PLUS_SPACE) < 0 ||
		    strcmp(key, "path") != 0)
			continue;
		if (http_percent_decode(path, sizeof(path), v, vl, HTTP_DECODE_PLUS_SPACE) < 0 ||
		    paths_expand(path, abs, &e) < 0) {
			respond_errorf(c, 500, "RUNTIME_ERROR", "error removing directory %.*s. %s",
				       (int)vl, v, e.msg[0] ? e.msg : "bad path");
			return;
		}
		if (strcmp(abs, "/") == 0) {
			respond_error(c, 500, "RUNTIME_ERROR",
				      "error removing directory /. refusing to remove /");
			return;
		}
		struct stat st;
		if (lstat(abs, &st) < 0)
			continue; /* missing: nothing to do */
		int r = S_ISDIR(st.st_mode) ? nftw(abs, rm_entry, 32, FTW_DEPTH | FTW_PHYS)
					    : unlink(abs);
		if (r < 0) {
			respond_errorf(c, 500, "RUNTIME_ERROR", "error removing directory %s. %s",
				       path, strerror(errno));
			return;
		}
	}
	respond_ok(c);
}

int files_dir_routes(struct execd *x)
{
	int r = http_server_route(x->srv, "GET", "/directories/list", h_list, x, NULL);
	r = r ? r : http_server_route(x->srv, "POST", "/directories", h_mkdir, x, NULL);
	r = r ? r : http_server_route(x->srv, "DELETE", "/directories", h_rmdir, x, NULL);
	return r;
}
