/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json: helpers over cJSON. Typed getters that say which field is wrong, and
 * a string escaper for writing JSON by hand into a struct buf (event streams,
 * log lines, error bodies) without building a cJSON tree.
 *
 * Getters look keys up case-insensitively (as cJSON_GetObjectItem does, and as
 * the OpenSandbox wire contract expects). They return 0 when found, -ENOENT
 * when absent (e is set only if the field is required), -EINVAL on a type or
 * range mismatch (e names the field). Returned strings point into the tree.
 */
#ifndef LIB_JSON_H
#define LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "buf.h"
#include "err.h"

#define JSON_REQUIRED true
#define JSON_OPTIONAL false

/* Parses text (need not be NUL-terminated); NULL with e set ("invalid JSON near byte N").
 * Text with a NUL in a string (raw, \u0000, or a bad \u escape) is refused:
 * cJSON's strings have no length, so every string of a tree is whole. So is
 * an object with the same key twice (exact match): parsers differ on which
 * value wins. Every request body goes through here. */
cJSON *json_parse(const char *text, size_t len, struct err *e);

/* The element count of the JSON array that text starts with (after blanks),
 * from a byte scan without parsing or allocating: a limit can be checked
 * before a parse. Exact for valid JSON; -1 if text does not start with an
 * array or ends inside it. */
long json_array_len(const char *text, size_t len);

int json_get_string(const cJSON *obj, const char *key, bool required, const char **out,
		    struct err *e);
int json_get_bool(const cJSON *obj, const char *key, bool required, bool *out, struct err *e);
/* An integral number within [min, max]. */
int json_get_int(const cJSON *obj, const char *key, bool required, int64_t min, int64_t max,
		 int64_t *out, struct err *e);
int json_get_object(const cJSON *obj, const char *key, bool required, const cJSON **out,
		    struct err *e);
int json_get_array(const cJSON *obj, const char *key, bool required, const cJSON **out,
		   struct err *e);

#define JSON_ESC_HTML 1 /* also escape < > & (as Go's encoding/json does) */

/* Appends s[0, len) as a quoted JSON string; invalid UTF-8 becomes U+FFFD. 0 or -errno. */
int json_buf_string(struct buf *b, const char *s, size_t len, int flags);
/* Same for a NUL-terminated string (NULL is written as null). */
int json_buf_cstr(struct buf *b, const char *s, int flags);

/* The one error body shape of every server: {"code":..,"message":..} (message
 * left out when NULL), HTML-safe escaping. 0 or -errno. */
int json_error_body(struct buf *b, const char *code, const char *message);

/* Prints a cJSON tree compactly into b. 0 or -errno. */
int json_buf_print(struct buf *b, const cJSON *item);

#endif
