// SPDX-License-Identifier: Apache-2.0
/* /files/info, DELETE /files, /files/permissions, /files/mv, /files/replace, /files/search. */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glob.h"
#include "json.h"
#include "paths.h"
#include "respond.h"
#include "users.h"

void files_error(struct http_conn *c, int errnum, const char *fmt, ...)
{
	char msg[PATHS_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errnum == ENOENT)
		respond_errorf(c, 404, "FILE_NOT_FOUND", "file not found. %s", msg);
	else
		respond_errorf(c, 500, "RUNTIME_ERROR", "error accessing file: %s", msg);
}

cJSON *files_parse_body(struct http_conn *c, const struct http_req *req, bool want_array)
{
	struct err e = {0};
	cJSON *j = json_parse(req->body, req->body_len, &e);
	if (j && (want_array ? cJSON_IsArray(j) : cJSON_IsObject(j)))
		return j;
	respond_errorf(c, 400, "INVALID_REQUEST_BODY",
		       "error parsing request, MAYBE invalid body format. %s",
		       j ? (want_array ? "body must be an array" : "body must be an object")
			 : e.msg);
	cJSON_Delete(j);
	return NULL;
}

bool files_perm_fields(struct http_conn *c, const cJSON *entry, const char **owner,
		       const char **group, long *mode)
{
	struct err e = {0};
	int64_t m = 0;
	*owner = *group = NULL;
	*mode = 0;
	if (!cJSON_IsObject(entry)) /* a bare value (or null) means "defaults" */
		return true;
	if ((json_get_string(entry, "owner", JSON_OPTIONAL, owner, &e) < 0 && e.code) ||
	    (json_get_string(entry, "group", JSON_OPTIONAL, group, &e) < 0 && e.code) ||
	    (json_get_int(entry, "mode", JSON_OPTIONAL, 0, 7777, &m, &e) < 0 && e.code)) {
		respond_errorf(c, 400, "INVALID_REQUEST_BODY",
			       "error parsing request, MAYBE invalid body format. %s", e.msg);
		return false;
	}
	*mode = (long)m;
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int files_read_names(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	size_t cap = 0;
	*names = NULL;
	*n = 0;
	if (!d)
		return -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			char **g = realloc(*names, cap * sizeof(char *));
			if (!g)
				break;
			*names = g;
		}
		if (((*names)[*n] = strdup(de->d_name)))
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(char *), cmp_names);
	return 0;
}

void files_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void files_info_json(struct buf *b, const char *path, const struct stat *st)
{
	const char *type = S_ISREG(st->st_mode)	  ? "file"
			   : S_ISDIR(st->st_mode) ? "directory"
			   : S_ISLNK(st->st_mode) ? "symlink"
						  : "other";
	char mtime[40], ctime_s[40], owner[256], group[256];
	respond_time(mtime, (int64_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	respond_time(ctime_s, (int64_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
	users_uid_name(st->st_uid, owner, sizeof(owner));
	users_gid_name(st->st_gid, group, sizeof(group));
	/* mode: the permission bits as octal digits read as decimal (0755 -> 755). */
	unsigned perm = st->st_mode & 0777;
	unsigned digits = (perm >> 6) * 100 + ((perm >> 3) & 7) * 10 + (perm & 7);
	buf_puts(b, "{\"path\":");
	json_buf_cstr(b, path, JSON_ESC_HTML);
	buf_printf(b,
		   ",\"type\":\"%s\",\"size\":%lld,\"modified_at\":\"%s\",\"created_at\":\"%s\","
		   "\"owner\":",
		   type, (long long)st->st_size, mtime, ctime_s);
	json_buf_cstr(b, owner, JSON_ESC_HTML);
	buf_puts(b, ",\"group\":");
	json_buf_cstr(b, group, JSON_ESC_HTML);
	buf_printf(b, ",\"mode\":%u}", digits);
}

/* Every value of a repeated query parameter, decoded, in order. */
static int query_values(const char *query, const char *name, char ***out)
{
	struct http_query_iter it;
	const char *k, *v;
	size_t kl, vl;
	int n = 0;
	*out = NULL;
	http_query_iter_init(&it, query, strlen(query));
	while (http_query_next(&it, &k, &kl, &v, &vl)) {
		char key[64];
		if (http_percent_decode(key, sizeof(key), k, kl, HTTP_DECODE_PLUS_SPACE) < 0 ||
		    strcmp(key, name) != 0)
			continue;
		char *val = malloc(vl + 1);
		char **grown = realloc(*out, (size_t)(n + 1) * sizeof(char *));
		if (!val || !grown ||
		    http_percent_decode(val, vl + 1, v, vl, HTTP_DECODE_PLUS_SPACE) < 0) {
			free(val);
			if (grown)
				*out = grown;
			break;
		}
		*out = grown;
		(*out)[n++] = val;
		if (n >= 10000)
			break;
	}
	return n;
}

static void free_values(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void h_info(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	char **paths;
	int n = query_values(req->query, "path", &paths);
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "{");
	for (int i = 0; i < n; i++) {
		char abs[PATHS_MAX];
		struct err e = {0};
		struct stat st;
		if (paths_abs(paths[i], abs, &e) < 0) {
			files_error(c, e.code, "%s", e.msg);
			goto out;
		}
		if (lstat(abs, &st) < 0) {
			int er = errno;
			if (er == ENOENT)
				respond_errorf(c, 404, "FILE_NOT_FOUND",
					       "file not found. file not found: %s: lstat %s: %s",
					       paths[i], abs, strerror(er));
			else
				files_error(c, er, "lstat %s: %s", abs, strerror(er));
			goto out;
		}
		if (i)
			buf_puts(&b, ",");
		json_buf_cstr(&b, paths[i], JSON_ESC_HTML);
		buf_puts(&b, ":");
		files_info_json(&b, abs, &st);
	}
	buf_puts(&b, "}");
	respond_json_buf(c, 200, &b);
out:
	buf_free(&b);
	free_values(paths, n);
}

static void h_delete(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	char **paths;
	int n = query_values(req->query, "path", &paths);
	for (int i = 0; i < n; i++) {
		char abs[PATHS_MAX];
		struct err e = {0};
		struct stat st;
		if (paths_abs(paths[i], abs, &e) < 0) {
			respond_errorf(c, 500, "RUNTIME_ERROR", "error removing file %s. %s",
				       paths[i], e.msg);
			goto out;
		}
		if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
			respond_errorf(c, 500, "RUNTIME_ERROR",
				       "error removing file %s. path is a directory: %s", paths[i],
				       abs);
			goto out;
		}
		if (unlink(abs) < 0 && errno != ENOENT) {
			respond_errorf(c, 500, "RUNTIME_ERROR", "error removing file %s. %s",
				       paths[i], strerror(errno));
			goto out;
		}
	}
	respond_ok(c);
out:
	free_values(paths, n);
}

int files_apply_perms(const char *path, long mode_digits, const char *owner, const char *group,
		      char *msg, size_t msg_len)
{
	if (mode_digits) {
		unsigned mode = 0;
		for (long d = mode_digits, mul = 1; d > 0; d /= 10, mul *= 8) {
			if (d % 10 > 7) {
				snprintf(msg, msg_len, "invalid mode %ld", mode_digits);
				return -EINVAL;
			}
			mode += (unsigned)(d % 10 * mul);
		}
		if (chmod(path, mode & 0777) < 0) {
			snprintf(msg, msg_len, "chmod %s: %s", path, strerror(errno));
			return -errno;
		}
	}
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	if (owner && *owner && users_find_user(owner, &uid, NULL) < 0) {
		snprintf(msg, msg_len, "failed to lookup user %s", owner);
		return -ENOENT;
	}
	if (group && *group && users_find_group(group, &gid) < 0) {
		snprintf(msg, msg_len, "failed to lookup group %s", group);
		return -ENOENT;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && lchown(path, uid, gid) < 0) {
		snprintf(msg, msg_len, "chown %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static void h_permissions(struct http_conn *c, struct http_req *req, void *arg)
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
			respond_errorf(c, 500, "RUNTIME_ERROR",
				       "error changing permissions for %s. %s", it->string, e.msg);
			goto out;
		}
		if (files_apply_perms(abs, mode, owner, group, msg, sizeof(msg)) < 0) {
			respond_errorf(c, 500, "RUNTIME_ERROR",
				       "error changing permissions for %s. %s", it->string, msg);
			goto out;
		}
	}
	respond_ok(c);
out:
	cJSON_Delete(j);
}

static void h_mv(struct http_conn *c, struct http_req *req, void *arg)
{
	struct err e = {0};
	(void)arg;
	cJSON *j = files_parse_body(c, req, true);
	if (!j)
		return;
	const cJSON *it;
	cJSON_ArrayForEach(it, j)
	{
		const char *src, *dest;
		char s[PATHS_MAX], d[PATHS_MAX];
		struct stat st;
		if (json_get_string(it, "src", JSON_REQUIRED, &src, &e) < 0 ||
		    json_get_string(it, "dest", JSON_REQUIRED, &dest, &e) < 0) {
			respond_errorf(c, 400, "INVALID_REQUEST_BODY",
				       "error parsing request, MAYBE invalid body format. %s",
				       e.msg);
			goto out;
		}
		if (paths_abs(src, s, &e) < 0 || paths_abs(dest, d, &e) < 0) {
			files_error(c, e.code, "%s", e.msg);
			goto out;
		}
		if (lstat(s, &st) < 0) {
			files_error(c, errno, "stat %s: %s", s, strerror(errno));
			goto out;
		}
		char parent[PATHS_MAX];
		memcpy(parent, d, strlen(d) + 1);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			if (paths_mkdir_all(parent, 0755) < 0) {
				files_error(c, errno == ENOENT ? EIO : errno, "mkdir %s: %s",
					    parent, strerror(errno));
				goto out;
			}
		}
		if (lstat(d, &st) == 0) {
			respond_errorf(c, 500, "RUNTIME_ERROR",
				       "error accessing file: destination path already exists: %s",
				       dest);
			goto out;
		}
		if (rename(s, d) < 0) {
			files_error(c, errno == ENOENT ? EIO : errno, "rename %s %s: %s", s, d,
				    strerror(errno));
			goto out;
		}
	}
	respond_ok(c);
out:
	cJSON_Delete(j);
}

/* Replaces every non-overlapping occurrence into out (whose cap bounds the
 * result); returns the count, or -ENOBUFS if the result would be too large. */
static long replace_all(const char *data, size_t len, const char *old, size_t olen, const char *new,
			size_t nlen, struct buf *out)
{
	long count = 0;
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *f = memmem(p, (size_t)(end - p), old, olen);
		if (!f)
			break;
		if (buf_append(out, p, (size_t)(f - p)) < 0 || buf_append(out, new, nlen) < 0)
			return -ENOBUFS;
		p = f + olen;
		count++;
	}
	if (buf_append(out, p, (size_t)(end - p)) < 0)
		return -ENOBUFS;
	return count;
}

static int read_whole(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL; /* a FIFO or device would block or never end */
	}
	fcntl(fd, F_SETFL, 0);
	int r = buf_read_fd(b, fd);
	close(fd);
	return r;
}

static void h_replace(struct http_conn *c, struct http_req *req, void *arg)
{
	struct err e = {0};
	(void)arg;
	char v[16];
	bool verbose =
		http_query_get(req->query, strlen(req->query), "verbose", v, sizeof(v)) > 0 &&
		strcmp(v, "true") == 0;
	cJSON *j = files_parse_body(c, req, false);
	if (!j)
		return;
	struct buf resp;
	buf_init(&resp, 0);
	buf_puts(&resp, "{");
	const cJSON *it;
	int i = 0;
	cJSON_ArrayForEach(it, j)
	{
		const char *old, *new;
		char abs[PATHS_MAX];
		struct stat st;
		if (json_get_string(it, "old", JSON_REQUIRED, &old, &e) < 0 ||
		    json_get_string(it, "new", JSON_REQUIRED, &new, &e) < 0) {
			respond_errorf(c, 400, "INVALID_REQUEST_BODY",
				       "error parsing request, MAYBE invalid body format. %s",
				       e.msg);
			goto out;
		}
		if (paths_abs(it->string, abs, &e) < 0) {
			files_error(c, e.code, "%s", e.msg);
			goto out;
		}
		if (stat(abs, &st) < 0) {
			files_error(c, errno, "stat %s: %s", abs, strerror(errno));
			goto out;
		}
		if (!*old) {
			respond_error(c, 400, "INVALID_REQUEST_BODY",
				      "old content must not be empty");
			goto out;
		}
		struct buf in, outb;
		buf_init(&in, FILES_REPLACE_MAX);
		buf_init(&outb, FILES_REPLACE_MAX);
		int r = read_whole(abs, &in);
		if (r < 0) {
			buf_free(&in);
			files_error(c, -r, "read %s: %s", abs,
				    r == -EFBIG ? "file larger than the replace limit"
						: strerror(-r));
			goto out;
		}
		long n = replace_all(buf_head(&in), in.len, old, strlen(old), new, strlen(new),
				     &outb);
		buf_free(&in);
		if (n < 0) {
			/* Nothing was written: the file is as it was. */
			buf_free(&outb);
			files_error(c, EFBIG, "%s: the result would exceed %d bytes", abs,
				    FILES_REPLACE_MAX);
			goto out;
		}
		/* Rewrite in place: the inode and mode stay. */
		int fd = open(abs, O_WRONLY | O_TRUNC | O_CLOEXEC);
		bool ok = fd >= 0;
		for (size_t off = 0; ok && off < outb.len;) {
			ssize_t w = write(fd, buf_head(&outb) + off, outb.len - off);
			if (w <= 0)
				ok = false;
			else
				off += (size_t)w;
		}
		if (fd >= 0)
			close(fd);
		buf_free(&outb);
		if (!ok) {
			files_error(c, errno ? errno : EIO, "write %s: %s", abs, strerror(errno));
			goto out;
		}
		if (i++)
			buf_puts(&resp, ",");
		json_buf_cstr(&resp, it->string, JSON_ESC_HTML);
		buf_printf(&resp, ":{\"replacedCount\":%ld}", n);
	}
	buf_puts(&resp, "}");
	if (verbose)
		respond_json_buf(c, 200, &resp);
	else
		respond_ok(c);
out:
	buf_free(&resp);
	cJSON_Delete(j);
}

struct search {
	const char *pattern;
	size_t plen;
	struct buf *out;
	size_t count;
	int err; /* first error: -errno, or -EINVAL for a bad pattern */
	char where[PATHS_MAX];
};

/* Walks dir in lexical order, not following symlinks, matching basenames. */
static void walk(struct search *s, char *path, size_t len, int depth)
{
	char **names;
	size_t n;
	int r = files_read_names(path, &names, &n);
	if (r < 0) {
		s->err = r;
		snprintf(s->where, sizeof(s->where), "%s", path);
		return;
	}
	for (size_t i = 0; i < n && !s->err; i++) {
		size_t nl = strlen(names[i]);
		if (len + 1 + nl + 1 > PATHS_MAX)
			continue;
		if (len > 1 || path[0] != '/')
			path[len] = '/';
		size_t at = len > 1 || path[0] != '/' ? len + 1 : len;
		memcpy(path + at, names[i], nl + 1);
		struct stat st;
		if (lstat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				if (depth < 256)
					walk(s, path, at + nl, depth + 1);
			} else {
				int m = glob_match(s->pattern, s->plen, names[i], nl);
				if (m < 0) {
					s->err = m;
				} else if (m == 1 && s->count < FILES_RESULTS_MAX) {
					if (s->count++)
						buf_puts(s->out, ",");
					files_info_json(s->out, path, &st);
				}
			}
		}
		path[len] = '\0';
	}
	files_names_free(names, n);
}

static void h_search(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	char path[PATHS_MAX], pattern[GLOB_PATTERN_MAX + 1], abs[PATHS_MAX];
	struct err e = {0};
	if (http_query_get(req->query, strlen(req->query), "path", path, sizeof(path)) <= 0) {
		respond_error(c, 400, "MISSING_QUERY", "missing query parameter 'path'");
		return;
	}
	long pl =
		http_query_get(req->query, strlen(req->query), "pattern", pattern, sizeof(pattern));
	if (pl <= 0)
		strcpy(pattern, "**");
	const char *reason;
	if (glob_validate(pattern, strlen(pattern), &reason) < 0) {
		respond_errorf(c, 500, "RUNTIME_ERROR",
			       "error searching files. invalid pattern %s: %s", pattern, reason);
		return;
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
	struct buf out;
	buf_init(&out, 0);
	buf_puts(&out, "[");
	struct search s = {.pattern = pattern, .plen = strlen(pattern), .out = &out};
	if (S_ISDIR(st.st_mode)) {
		walk(&s, abs, strlen(abs), 0);
	} else {
		const char *base = strrchr(abs, '/');
		base = base ? base + 1 : abs;
		if (glob_match(pattern, strlen(pattern), base, strlen(base)) == 1)
			files_info_json(&out, abs, &st);
	}
	buf_puts(&out, "]");
	if (s.err)
		respond_errorf(c, 500, "RUNTIME_ERROR", "error searching files. %s: %s", s.where,
			       s.err == -E2BIG ? "pattern too complex" : strerror(-s.err));
	else
		respond_json_buf(c, 200, &out);
	buf_free(&out);
}

int files_routes(struct execd *x)
{
	int r = http_server_route(x->srv, "GET", "/files/info", h_info, x, NULL);
	r = r ? r : http_server_route(x->srv, "DELETE", "/files", h_delete, x, NULL);
	r = r ? r : http_server_route(x->srv, "POST", "/files/permissions", h_permissions, x, NULL);
	r = r ? r : http_server_route(x->srv, "POST", "/files/mv", h_mv, x, NULL);
	r = r ? r : http_server_route(x->srv, "POST", "/files/replace", h_replace, x, NULL);
	r = r ? r : http_server_route(x->srv, "GET", "/files/search", h_search, x, NULL);
	r = r ? r : files_dir_routes(x);
	r = r ? r : http_server_route(x->srv, "GET", "/files/download", files_download, x, NULL);
	struct http_route_opts stream = {.stream_body = true};
	r = r ? r : http_server_route(x->srv, "POST", "/files/upload", files_upload, x, &stream);
	return r;
}
