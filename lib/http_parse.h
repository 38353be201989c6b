/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_parse: an incremental, allocation-free HTTP/1.1 message parser.
 *
 * All functions are pure over (buf, len): they never read past len, never
 * allocate, and keep pointers into the caller's buffer (which must stay
 * unchanged while the results are used). Head parsers return the number of
 * bytes of the head (request/status line + headers + the empty line), -1 if
 * the message is malformed or over a limit (the reason is in ->error and the
 * HTTP status to answer with in ->error_status), or -2 if more bytes are needed.
 *
 * Strict where it matters for security (request smuggling): bare LF as a line
 * end, obs-fold, whitespace before ':', invalid token characters, duplicate
 * Content-Length, Content-Length together with Transfer-Encoding, and any
 * Transfer-Encoding other than a final "chunked" are all rejected.
 */
#ifndef LIB_HTTP_PARSE_H
#define LIB_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_limits {
	size_t max_head;    /* request/status line + headers; over it: 431 */
	size_t max_target;  /* request-target length; over it: 414 */
	size_t max_headers; /* header count; over it: 431 (also bounded by the array) */
};

#define HTTP_DEFAULT_MAX_HEAD	 (64 * 1024)
#define HTTP_DEFAULT_MAX_TARGET	 (8 * 1024)
#define HTTP_DEFAULT_MAX_HEADERS 100

/* The defaults above, for callers that pass NULL limits. */
extern const struct http_limits http_default_limits;

struct http_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing SP/HTAB removed */
	size_t value_len;
};

enum http_body_kind {
	HTTP_BODY_NONE,	       /* no body */
	HTTP_BODY_LENGTH,      /* Content-Length bytes */
	HTTP_BODY_CHUNKED,     /* Transfer-Encoding: chunked */
	HTTP_BODY_UNTIL_CLOSE, /* responses only: body ends at EOF */
};

struct http_request_head {
	const char *method;
	size_t method_len;
	const char *target; /* raw request-target, not decoded */
	size_t target_len;
	int minor_version;	     /* HTTP/1.<minor>: 0 or 1 */
	struct http_header *headers; /* in: caller's array */
	size_t num_headers;	     /* in: capacity of headers; out: count */
	/* Derived from the headers: */
	enum http_body_kind body_kind; /* NONE, LENGTH or CHUNKED */
	uint64_t content_length;       /* for HTTP_BODY_LENGTH */
	bool keep_alive;	       /* 1.1 without "close", or 1.0 with "keep-alive" */
	bool expect_continue;	       /* Expect: 100-continue */
	bool upgrade;		       /* Connection has "upgrade" and an Upgrade header exists */
	/* On -1: */
	int error_status;  /* 400, 414, 431, 501 (unknown transfer coding) or 505 */
	const char *error; /* static text naming the reason */
};

struct http_response_head {
	int minor_version;
	int status; /* 100..999 */
	const char *reason;
	size_t reason_len;
	struct http_header *headers; /* in: caller's array */
	size_t num_headers;	     /* in: capacity; out: count */
	enum http_body_kind body_kind;
	uint64_t content_length;
	bool keep_alive;
	const char *error; /* on -1 */
};

/*
 * Parses a request head. Empty lines (CRLF) before the request line are
 * skipped, as RFC 9112 2.2 allows. Returns head length, -1 or -2.
 * lim may be NULL (defaults).
 */
int http_parse_request(const char *buf, size_t len, struct http_request_head *req,
		       const struct http_limits *lim);

/*
 * Parses a response head. request_was_head: the request was HEAD, so no body
 * follows whatever the headers say. 1xx, 204 and 304 have no body either.
 * Returns head length, -1 or -2. lim may be NULL.
 */
int http_parse_response(const char *buf, size_t len, struct http_response_head *res,
			bool request_was_head, const struct http_limits *lim);

/* First header named `name` (ASCII case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_header *h, size_t n, const char *name);

/* True if the span p[0, n) equals the C string s, ignoring ASCII case. */
bool http_span_ieq(const char *p, size_t n, const char *s);

/* True if the comma-separated list value contains token (case-insensitive). */
bool http_list_has_token(const char *value, size_t len, const char *token);

/*
 * Body decoding. The decoder is caller-owned state; http_body_decode() is fed
 * the bytes that follow the head, as they arrive, and hands back body data as
 * spans of the input (no copy). Chunk-size lines, chunk extensions and the
 * trailer section are bounded (HTTP_CHUNK_LINE_MAX each line, HTTP_TRAILER_MAX in
 * all) and need CRLF line ends; a chunk size over 2^60 is malformed.
 */
#define HTTP_CHUNK_LINE_MAX 4096
#define HTTP_TRAILER_MAX    (16 * 1024)

struct http_body {
	enum http_body_kind kind;
	uint64_t remaining; /* bytes left in the body (LENGTH) or the chunk */
	uint64_t total;	    /* body bytes produced so far */
	int state;	    /* private */
	size_t line_len;    /* private: bytes of the current size/trailer line */
	size_t trailer_len; /* private: bytes of trailer seen */
	bool done;
};

void http_body_init(struct http_body *b, enum http_body_kind kind, uint64_t content_length);

/*
 * Consumes bytes from in[0, len). On return *data / *data_len name the body
 * bytes found (a span of `in`, possibly empty). Returns the number of input
 * bytes consumed (>= 0; a consumed count smaller than len with b->done set
 * means the rest belongs to the next message), or -1 if malformed.
 * Call repeatedly until it consumes everything or sets b->done.
 */
long http_body_decode(struct http_body *b, const char *in, size_t len, const char **data,
		      size_t *data_len);

/* At EOF: 0 if the body is complete (or ends at close), -1 if it was cut short. */
int http_body_eof(const struct http_body *b);

/* Writes the chunk header for a chunk of n bytes ("1a2b\r\n") into out; returns its length. */
size_t http_chunk_header(char out[20], size_t n);
#define HTTP_CHUNK_END "0\r\n\r\n"

/*
 * Splits a request-target into path and query (without the '?'). Origin-form
 * ("/a?b"), absolute-form ("http://host/a?b": the path part is returned) and
 * asterisk-form ("*") are accepted. Returns 0, or -1 if the target is none of these.
 */
int http_split_target(const char *target, size_t len, const char **path, size_t *path_len,
		      const char **query, size_t *query_len);

#define HTTP_DECODE_PLUS_SPACE 1 /* '+' means ' ' (query strings) */

/*
 * Percent-decodes src into dst (NUL-terminated). Returns the decoded length,
 * or -1 on a malformed escape, a decoded NUL byte, or if dst (dst_cap bytes,
 * including the terminator) is too small.
 */
long http_percent_decode(char *dst, size_t dst_cap, const char *src, size_t len, int flags);

/* Iterates over "k=v&k2=v2" (raw, not decoded). Empty pairs are skipped. */
struct http_query_iter {
	const char *p, *end;
};
void http_query_iter_init(struct http_query_iter *it, const char *query, size_t len);
/* Next pair; a key without '=' has an empty value. Returns false at the end. */
bool http_query_next(struct http_query_iter *it, const char **key, size_t *key_len,
		     const char **val, size_t *val_len);

/*
 * Decoded value of the first parameter whose decoded name is `name`.
 * Returns the value length, -ENOENT if absent, -EINVAL if malformed or too long for out.
 */
long http_query_get(const char *query, size_t len, const char *name, char *out, size_t out_cap);

/* Whether s is a plain Host value: a DNS name or IPv4 address (letters, digits,
 * '-', '.'), or an IPv6 literal in brackets, then an optional ":port" (1..65535);
 * at most 255 bytes. Anything else (userinfo, paths, spaces, controls) is not. */
bool http_host_valid(const char *s);
/* Percent-encodes s for a query value (all but unreserved characters) into out,
 * NUL-terminated, cut short rather than overflow cap. */
void http_query_escape(const char *s, char *out, size_t cap);

#endif
