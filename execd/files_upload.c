// SPDX-License-Identifier: Apache-2.0
/*
 * POST /files/upload: multipart/form-data with "metadata" parts (JSON: path,
 * owner, group, mode) and "file" parts, the i-th metadata going with the
 * i-th file. The body is parsed as it arrives and file data goes straight to
 * disk, into a temporary file next to the target that is fsynced and renamed
 * over it only when the part is complete (a failed upload leaves no partial
 * file). A file part that comes before its metadata waits in $TMPDIR.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "json.h"
#include "multipart.h"
#include "paths.h"
#include "respond.h"

#define UPLOAD_METADATA_MAX (64 * 1024)
#define UPLOAD_PARTS_MAX    256

struct meta {
	char *path; /* expanded target */
	char *owner, *group;
	long mode;
};

struct pending_file {
	char tmp[PATHS_MAX]; /* the data, complete */
};

struct upload {
	struct execd *x;
	struct http_conn *c;
	struct multipart mp;
	enum { PART_OTHER, PART_META, PART_FILE } kind;
	struct buf meta_json;
	struct meta metas[UPLOAD_PARTS_MAX];
	struct pending_file files[UPLOAD_PARTS_MAX];
	unsigned nmeta, nfile, nfinal;
	int fd; /* the file part being written */
	char tmp[PATHS_MAX];
	bool failed;
};

static void upload_free(struct upload *u)
{
	if (u->fd >= 0) {
		close(u->fd);
		unlink(u->tmp);
	}
	for (unsigned i = 0; i < u->nmeta; i++) {
		free(u->metas[i].path);
		free(u->metas[i].owner);
		free(u->metas[i].group);
	}
	for (unsigned i = u->nfinal; i < u->nfile; i++)
		if (u->files[i].tmp[0])
			unlink(u->files[i].tmp);
	buf_free(&u->meta_json);
	free(u);
}

/* Answers with an error once; the rest of the body is not read (the connection closes). */
static int fail(struct upload *u, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct upload *u, int status, const char *code, const char *fmt, ...)
{
	char msg[PATHS_MAX + 128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!u->failed && u->c) {
		u->failed = true;
		respond_error(u->c, status, code, msg);
	}
	return -1;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATHS_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	int fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* A temporary file in the target's directory (or TMPDIR when the target is not known yet). */
static int open_temp(struct upload *u, const char *target)
{
	if (target) {
		char dir[PATHS_MAX];
		snprintf(dir, sizeof(dir), "%s", target);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		if (*dir && paths_mkdir_all(dir, 0777) < 0)
			return fail(u, 500, "RUNTIME_ERROR", "error accessing file: mkdir %s: %s",
				    dir, strerror(errno));
		if (snprintf(u->tmp, sizeof(u->tmp), "%s/.execd-upload-XXXXXX", *dir ? dir : "") >=
		    (int)sizeof(u->tmp))
			return fail(u, 500, "RUNTIME_ERROR", "error accessing file: path too long");
	} else {
		snprintf(u->tmp, sizeof(u->tmp), "%s/.execd-upload-XXXXXX", u->x->tmpdir);
	}
	u->fd = mkostemp(u->tmp, O_CLOEXEC);
	if (u->fd < 0)
		return fail(u, 500, "RUNTIME_ERROR", "error accessing file: create %s: %s", u->tmp,
			    strerror(errno));
	return 0;
}

/* Moves a complete file (tmp) into place for metadata m. */
static int finalize(struct upload *u, const char *tmp, const struct meta *m)
{
	struct stat st;
	char msg[PATHS_MAX + 64];
	bool exists = stat(m->path, &st) == 0;
	/* New files get 0666 & ~umask (as open(2) would); an existing file keeps its mode. */
	mode_t um = umask(0);
	umask(um);
	chmod(tmp, exists ? (st.st_mode & 07777) : (0666 & ~um));
	if (exists && getuid() == 0)
		lchown(tmp, st.st_uid, st.st_gid);
	if (rename(tmp, m->path) < 0) {
		if (errno != EXDEV)
			return fail(u, 500, "RUNTIME_ERROR",
				    "error accessing file: rename to %s: %s", m->path,
				    strerror(errno));
		/* The early file sat on another file system: copy it over. */
		int in = open(tmp, O_RDONLY | O_CLOEXEC);
		int out = open(m->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		char buf[64 * 1024];
		ssize_t n = 0;
		while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n) {
				n = -1;
				break;
			}
		bool ok = in >= 0 && out >= 0 && n == 0 && fsync(out) == 0;
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		unlink(tmp);
		if (!ok)
			return fail(u, 500, "RUNTIME_ERROR",
				    "error accessing file: copy to %s failed", m->path);
	}
	fsync_dir_of(m->path);
	if (files_apply_perms(m->path, m->mode, m->owner, m->group, msg, sizeof(msg)) < 0) {
		usleep(20000); /* once more: the reference retries after 20 ms */
		if (files_apply_perms(m->path, m->mode, m->owner, m->group, msg, sizeof(msg)) < 0)
			return fail(u, 500, "RUNTIME_ERROR", "error accessing file: %s", msg);
	}
	return 0;
}

/* Finalises every file whose metadata is known, in order. */
static int settle(struct upload *u)
{
	while (u->nfinal < u->nfile && u->nfinal < u->nmeta && u->files[u->nfinal].tmp[0]) {
		int r = finalize(u, u->files[u->nfinal].tmp, &u->metas[u->nfinal]);
		u->files[u->nfinal].tmp[0] = '\0';
		u->nfinal++;
		if (r < 0)
			return r;
	}
	return 0;
}

static int on_part(const struct multipart_part *p, void *arg)
{
	struct upload *u = arg;
	u->kind = PART_OTHER;
	/* Parts without a filename are form values, as in Go: not metadata or files. */
	if (!p->name || !p->filename || p->filename_len == 0)
		return 0;
	if (p->name_len == 8 && memcmp(p->name, "metadata", 8) == 0) {
		if (u->nmeta == UPLOAD_PARTS_MAX)
			return fail(u, 400, "INVALID_FILE", "too many metadata parts");
		u->kind = PART_META;
		buf_reset(&u->meta_json);
	} else if (p->name_len == 4 && memcmp(p->name, "file", 4) == 0) {
		if (u->nfile == UPLOAD_PARTS_MAX)
			return fail(u, 400, "INVALID_FILE", "too many file parts");
		u->kind = PART_FILE;
		const char *target = u->nfile < u->nmeta ? u->metas[u->nfile].path : NULL;
		return open_temp(u, target);
	}
	return 0;
}

static int on_data(const char *data, size_t len, void *arg)
{
	struct upload *u = arg;
	if (u->kind == PART_META) {
		if (buf_append(&u->meta_json, data, len) < 0)
			return fail(u, 400, "INVALID_FILE_METADATA",
				    "invalid metadata format. too large");
	} else if (u->kind == PART_FILE) {
		while (len) {
			ssize_t w = write(u->fd, data, len);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return fail(u, 500, "RUNTIME_ERROR",
					    "error accessing file: write: %s", strerror(errno));
			data += w;
			len -= (size_t)w;
		}
	}
	return 0;
}

static int parse_meta(struct upload *u)
{
	struct err e = {0};
	cJSON *j =
		json_parse(u->meta_json.len ? buf_head(&u->meta_json) : "", u->meta_json.len, &e);
	const char *path = NULL, *owner = NULL, *group = NULL;
	int64_t mode = 0;
	if (!j || !cJSON_IsObject(j) ||
	    (json_get_string(j, "path", JSON_OPTIONAL, &path, &e) < 0 && e.code) ||
	    (json_get_string(j, "owner", JSON_OPTIONAL, &owner, &e) < 0 && e.code) ||
	    (json_get_string(j, "group", JSON_OPTIONAL, &group, &e) < 0 && e.code) ||
	    (json_get_int(j, "mode", JSON_OPTIONAL, 0, 7777, &mode, &e) < 0 && e.code)) {
		cJSON_Delete(j);
		return fail(u, 400, "INVALID_FILE_METADATA", "invalid metadata format. %s",
			    e.msg[0] ? e.msg : "not an object");
	}
	char expanded[PATHS_MAX];
	if (!path || !*path) {
		cJSON_Delete(j);
		return fail(u, 400, "INVALID_FILE_METADATA", "metadata path is empty");
	}
	if (paths_expand(path, expanded, &e) < 0) {
		cJSON_Delete(j);
		return fail(u, 500, "RUNTIME_ERROR", "error accessing file: %s", e.msg);
	}
	struct meta *m = &u->metas[u->nmeta++];
	m->path = strdup(expanded);
	m->owner = owner ? strdup(owner) : NULL;
	m->group = group ? strdup(group) : NULL;
	m->mode = (long)mode;
	cJSON_Delete(j);
	return m->path ? 0 : fail(u, 500, "RUNTIME_ERROR", "out of memory");
}

static int on_part_end(void *arg)
{
	struct upload *u = arg;
	if (u->kind == PART_META)
		return parse_meta(u) < 0 ? -1 : settle(u);
	if (u->kind == PART_FILE) {
		if (fsync(u->fd) < 0)
			return fail(u, 500, "RUNTIME_ERROR", "error accessing file: fsync: %s",
				    strerror(errno));
		close(u->fd);
		u->fd = -1;
		memcpy(u->files[u->nfile].tmp, u->tmp, sizeof(u->tmp));
		u->tmp[0] = '\0';
		u->nfile++;
		return settle(u);
	}
	return 0;
}

static const struct multipart_callbacks callbacks = {
	.on_part = on_part,
	.on_data = on_data,
	.on_part_end = on_part_end,
};

static void on_body(struct http_conn *c, const char *data, size_t len, bool done, void *arg)
{
	struct upload *u = arg;
	if (u->failed)
		return;
	if (len && multipart_feed(&u->mp, data, len) < 0) {
		if (!u->failed)
			fail(u, 400, "INVALID_FILE", "invalid multipart body: %s", u->mp.error);
	}
	if (u->failed) {
		/* Answered: the rest of the body is not read and the connection closes. */
		http_conn_on_close(c, NULL, NULL);
		u->c = NULL;
		upload_free(u);
		return;
	}
	if (!done)
		return;
	http_conn_on_close(c, NULL, NULL);
	if (multipart_finish(&u->mp) < 0 && u->nmeta == 0 && u->nfile == 0)
		fail(u, 400, "INVALID_FILE", "multipart form is empty");
	else if (u->nmeta == 0)
		fail(u, 400, "INVALID_FILE_METADATA", "metadata file is missing");
	else if (u->nfile == 0)
		fail(u, 400, "INVALID_FILE_CONTENT", "file is missing");
	else if (u->nmeta != u->nfile)
		fail(u, 400, "INVALID_FILE", "metadata and file count mismatch: %u vs %u", u->nmeta,
		     u->nfile);
	else if (!u->failed)
		respond_ok(c);
	u->c = NULL;
	upload_free(u);
}

static void on_gone(struct http_conn *c, void *arg)
{
	struct upload *u = arg;
	(void)c;
	u->c = NULL;
	upload_free(u);
}

void files_upload(struct http_conn *c, struct http_req *req, void *arg)
{
	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	const char *ct = http_req_header(req, "Content-Type");
	if (!ct || multipart_boundary(ct, strlen(ct), boundary) < 0) {
		respond_error(c, 400, "INVALID_FILE", "multipart form is empty");
		return;
	}
	struct upload *u = calloc(1, sizeof(*u));
	if (!u) {
		respond_error(c, 500, "RUNTIME_ERROR", "out of memory");
		return;
	}
	u->x = arg;
	u->c = c;
	u->fd = -1;
	buf_init(&u->meta_json, UPLOAD_METADATA_MAX);
	multipart_init(&u->mp, boundary, strlen(boundary), &callbacks, u);
	http_conn_on_close(c, on_gone, u);
	http_conn_read_body(c, on_body, u);
}
