/* SPDX-License-Identifier: Apache-2.0 */
/*
 * multipart: a streaming multipart/form-data parser (RFC 7578, RFC 2046 5.1)
 * for POST /files/upload. Fed the request body in chunks of any size; reports
 * each part's headers, then its body as data spans, then its end, through
 * callbacks. Nothing is allocated and no part is buffered: body bytes are
 * handed on as they arrive, except a possible delimiter prefix at the end of
 * a chunk, which is held back (as a count: its bytes are the delimiter's own,
 * at most 2 + 2 + 70 of them) until the next chunk says whether it was one.
 *
 * Format rules: the body is an optional preamble, then "--boundary" at the
 * start of the body or of a line, optional spaces/tabs and CRLF; each part
 * is header lines (CRLF, no obs-fold, at most MULTIPART_HEADER_MAX bytes in
 * all, including the empty line), then the body up to CRLF "--boundary".
 * "--boundary--" ends the body; whatever follows (the epilogue) is ignored.
 * CRLF is required everywhere (Go also takes bare LF lines; clients send
 * CRLF). "--boundary" followed by anything but "--", space, tab or CR is
 * ordinary data, as in Go. Content-Transfer-Encoding is not decoded.
 *
 * Part headers: Content-Disposition must be "form-data" for name/filename to
 * be reported (Go ignores parts of other types); parameter values may be
 * tokens or quoted strings (a backslash escapes only the MIME specials, as
 * in Go, so "C:\dir\f.txt" survives); filename*=UTF-8''%xx (or us-ascii)
 * replaces filename; a duplicate name/filename/filename* parameter, a second
 * Content-Disposition or Content-Type, or a malformed one is an error. Note
 * that Go treats an empty filename like a missing one.
 *
 * Errors: multipart_feed() returns -1 and sets m->error for malformed input
 * or exceeded limits, and also when a callback returns non-zero (then
 * m->cb_error is that value and m->error says "aborted"). After -1 every
 * later call fails the same way. multipart_finish() at the end of the body
 * is an error unless the final delimiter was seen.
 *
 * Memory: struct multipart is about 8.3 KiB and caller-owned; it needs no
 * cleanup. Spans given to callbacks point into the fed chunk or into the
 * struct; part header spans stay valid until on_part_end returns.
 */
#ifndef EXECD_MULTIPART_H
#define EXECD_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#define MULTIPART_BOUNDARY_MAX	70
#define MULTIPART_HEADER_MAX	(8 * 1024)
#define MULTIPART_PARTS_DEFAULT 1000 /* Go's default multipartmaxparts */

/*
 * Extracts the boundary from a Content-Type value: the media type must be
 * multipart/form-data (any case) with exactly one boundary parameter (token
 * or quoted string) of 1..70 printable ASCII characters, not ending in a
 * space. (RFC 2046 allows fewer characters; Go checks nothing.) Writes it
 * NUL-terminated into out; returns its length or -EINVAL.
 */
int multipart_boundary(const char *ctype, size_t len, char out[MULTIPART_BOUNDARY_MAX + 1]);

struct multipart_part {
	unsigned index;	  /* 0-based, in order of appearance */
	const char *name; /* NULL if absent */
	size_t name_len;
	const char *filename; /* NULL if absent (may be empty) */
	size_t filename_len;
	const char *content_type; /* trimmed value, NULL if absent */
	size_t content_type_len;
};

/* Callbacks return 0 to go on, anything else to stop the parse (see m->cb_error). */
typedef int multipart_part_cb(const struct multipart_part *part, void *arg);
typedef int multipart_data_cb(const char *data, size_t len, void *arg);
typedef int multipart_end_cb(void *arg);

struct multipart_callbacks {
	multipart_part_cb *on_part; /* each may be NULL */
	multipart_data_cb *on_data; /* never called with len 0 */
	multipart_end_cb *on_part_end;
};

struct multipart {
	const struct multipart_callbacks *cb;
	void *arg;
	unsigned max_parts; /* set to MULTIPART_PARTS_DEFAULT by init; may be changed */
	unsigned parts;	    /* parts started so far */
	const char *error;  /* static text, after -1 */
	int cb_error;	    /* a callback's non-zero return, after -1 */
	/* Private: */
	int state;
	bool in_body; /* the delimiter being examined follows a part body */
	char delim[4 + MULTIPART_BOUNDARY_MAX]; /* CRLF "--" boundary */
	size_t delim_len;
	size_t match; /* delim bytes matched (held back) at the end of the last feed */
	size_t hdr_len, line_start;
	char hdr[MULTIPART_HEADER_MAX];
};

/* Starts a parse for boundary (1..70 bytes, no CR or LF). Returns 0 or -EINVAL. */
int multipart_init(struct multipart *m, const char *boundary, size_t boundary_len,
		   const struct multipart_callbacks *cb, void *arg);

/* Consumes all of buf. Returns len, or -1 (m->error). */
long multipart_feed(struct multipart *m, const char *buf, size_t len);

/* True once the final delimiter has been seen (later bytes are epilogue). */
bool multipart_done(const struct multipart *m);

/* At the end of the body: 0 if the final delimiter was seen, else -1 (m->error). */
int multipart_finish(struct multipart *m);

#endif
