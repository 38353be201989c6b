/* SPDX-License-Identifier: Apache-2.0 */
/*
 * range: the query and header parsing of GET /files/download (reference
 * 7.5). Pure functions over (ptr, len) values; no allocation.
 *
 * Byte mode, range_parse(): the Range header value against the file size.
 * Only "bytes=" (exact, lower case, as Go compares it), then a comma list
 * whose elements are "a-b", "a-" or "-n", with spaces and tabs allowed around
 * elements and numbers; empty elements are skipped. Numbers are Go ParseInt
 * syntax: an optional '+' and decimal digits, at most 2^63-1.
 *   - any element that is garbage, or b < a  → -EINVAL: the execd 416 whose
 *     body is {"code":"UNKNOWN"} (every element is checked, even ones that
 *     would be dropped)
 *   - ranges starting at or past EOF are dropped (so is "-0", and every
 *     suffix range of an empty file); ends past EOF are clamped
 *   - the first surviving range is the answer (206, Content-Range)
 *   - none survive → -ERANGE: the http.ServeContent 416 "invalid range:
 *     failed to overlap", with the unsatisfied Content-Range form (the one
 *     range_content_range() writes for r == NULL)
 *   - no element at all ("bytes=", "bytes= ,") → 1: ServeContent ignores
 *     such a header and serves the whole file (200)
 *
 * Line mode, range_line_params(): the offset and limit query values, each
 * absent (NULL) or an integer ≥ 1 in the syntax above. Defaults: offset 1,
 * limit 0 (unlimited). An empty value counts as absent, as Gin's c.Query()
 * cannot tell them apart.
 */
#ifndef EXECD_RANGE_H
#define EXECD_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct range {
	uint64_t start; /* first byte */
	uint64_t len;	/* ≥ 1 */
};

/* Returns 0 with *r set, 1 (serve the whole file), -EINVAL or -ERANGE (see above). */
int range_parse(const char *value, size_t len, uint64_t size, struct range *r);

/*
 * Writes the Content-Range value "bytes a-b/size" for r, or for r == NULL the
 * unsatisfied form ("bytes", a space, a star, a slash and the size), NUL-terminated.
 * Returns its length.
 */
#define RANGE_CONTENT_RANGE_MAX 72
int range_content_range(char out[RANGE_CONTENT_RANGE_MAX], const struct range *r, uint64_t size);

struct range_lines {
	uint64_t offset; /* first line, 1-based */
	uint64_t limit;	 /* number of lines, 0 = no limit */
};

/* True if offset or limit (each NULL or a value of length n) asks for line mode. */
bool range_line_mode(const char *offset, size_t offset_len, const char *limit, size_t limit_len);

/*
 * Parses offset and limit (NULL or empty = absent). Returns 0, or -EINVAL
 * with *bad_name set to "offset" or "limit": the handler answers 400
 * "invalid query parameter '<name>': <value>".
 */
int range_line_params(const char *offset, size_t offset_len, const char *limit, size_t limit_len,
		      struct range_lines *out, const char **bad_name);

#endif
