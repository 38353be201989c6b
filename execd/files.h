/* SPDX-License-Identifier: Apache-2.0 */
/*
 * files: the /files and /directories surfaces. This header is shared by
 * files.c (info, delete, permissions, mv, replace, search), files_dir.c
 * (list, mkdir, rm -rf), files_download.c and files_upload.c.
 */
#ifndef EXECD_FILES_H
#define EXECD_FILES_H

#include <stdbool.h>
#include <sys/stat.h>

#include "buf.h"
#include "execd.h"

/* Limits: results of one search or listing, and the size of a file /files/replace reads. */
#define FILES_RESULTS_MAX 100000
#define FILES_REPLACE_MAX (64 * 1024 * 1024)

/* Appends the FileInfo JSON object of path (lstat result st). */
void files_info_json(struct buf *b, const char *path, const struct stat *st);

/* Applies mode (octal digits written as a decimal int, 0 = leave), owner and group names.
 * Returns 0 or -errno with msg set. */
int files_apply_perms(const char *path, long mode_digits, const char *owner, const char *group,
		      char *msg, size_t msg_len);

/*
 * Parses a JSON body that must be an object (or, with want_array, an array).
 * On failure answers 400 INVALID_REQUEST_BODY and returns NULL.
 */
struct cJSON;
struct cJSON *files_parse_body(struct http_conn *c, const struct http_req *req, bool want_array);

/* owner, group and mode of one permissions/mkdir entry; false (400 answered) if malformed. */
bool files_perm_fields(struct http_conn *c, const struct cJSON *entry, const char **owner,
		       const char **group, long *mode);

/* The names in dir, sorted, "." and ".." left out; -errno. The caller frees with files_names_free.
 */
int files_read_names(const char *dir, char ***names, size_t *n);
void files_names_free(char **names, size_t n);

/* The error answer for a failed file operation: 404 FILE_NOT_FOUND for ENOENT, else 500. */
void files_error(struct http_conn *c, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int files_dir_routes(struct execd *x);

/* GET /files/download (files_download.c) and POST /files/upload (files_upload.c). */
void files_download(struct http_conn *c, struct http_req *req, void *arg);
void files_upload(struct http_conn *c, struct http_req *req, void *arg);

#endif
