// SPDX-License-Identifier: Apache-2.0
#include "http_parse.h"

#include <limits.h>
#include <string.h>

#include "ascii.h"

const struct http_limits http_default_limits = {
	.max_head = HTTP_DEFAULT_MAX_HEAD,
	.max_target = HTTP_DEFAULT_MAX_TARGET,
	.max_headers = HTTP_DEFAULT_MAX_HEADERS,
};

/* Why a head was refused: the status to answer with and a static reason. */
struct fail {
	int status;
	const char *why;
};

static int fail(struct fail *f, int status, const char *why)
{
	f->status = status;
	f->why = why;
	return -1;
}

/* Visible ASCII: a request-target holds no whitespace, CTL or raw non-ASCII. */
static bool is_target_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ASCII case-insensitive byte equality: equal, or the same letter in the other case. */
static bool ieq(unsigned char a, unsigned char b)
{
	unsigned char x = a ^ b;
	return x == 0 || (x == 0x20 && (unsigned char)((a | 0x20) - 'a') < 26);
}

static bool span_ieq(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!s[i] || !ieq((unsigned char)p[i], (unsigned char)s[i]))
			return false;
	return s[i] == '\0';
}

/*
 * Expects CRLF at buf[*pos]. A lone LF or a CR followed by anything but LF
 * is refused: lenient line ends are how one hop is made to see a different
 * message than the next.
 */
static int expect_crlf(const char *buf, size_t end, size_t *pos, struct fail *f)
{
	size_t i = *pos;

	if (i >= end)
		return -2;
	if (buf[i] == '\n')
		return fail(f, 400, "bare LF line end");
	if (buf[i] != '\r')
		return fail(f, 400, "unexpected character before line end");
	if (i + 1 >= end)
		return -2;
	if (buf[i + 1] != '\n')
		return fail(f, 400, "CR without LF");
	*pos = i + 2;
	return 0;
}

/*
 * "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3). Any 1.x is taken:
 * a minor above 1 is treated as 1.1, the highest we speak (RFC 9110 2.5).
 */
static int parse_version(const char *buf, size_t end, size_t *pos, int *minor, struct fail *f)
{
	static const char pattern[] = "HTTP/d.d";
	size_t i = *pos;
	int major = 0;

	for (size_t k = 0; k < sizeof(pattern) - 1; k++, i++) {
		if (i >= end)
			return -2;
		if (pattern[k] != 'd') {
			if (buf[i] != pattern[k])
				return fail(f, 400, "malformed HTTP version");
			continue;
		}
		if (!is_digit(buf[i]))
			return fail(f, 400, "malformed HTTP version");
		if (k == 5)
			major = buf[i] - '0';
		else
			*minor = buf[i] - '0' > 1 ? 1 : buf[i] - '0';
	}
	if (major != 1)
		return fail(f, 505, "unsupported HTTP version");
	*pos = i;
	return 0;
}

static int parse_request_line(const char *buf, size_t end, size_t *pos,
			      struct http_request_head *req, size_t max_target, struct fail *f)
{
	size_t i = *pos, start = i;

	while (i < end && ascii_is_tchar(buf[i]))
		i++;
	if (i >= end)
		return -2;
	if (buf[i] == '\n')
		return fail(f, 400, "bare LF line end");
	if (buf[i] != ' ' || i == start)
		return fail(f, 400, "invalid method");
	req->method = buf + start;
	req->method_len = i - start;

	start = ++i;
	while (i < end && is_target_char(buf[i])) {
		/* Refuse as soon as the limit is passed, not when the SP finally arrives. */
		if (++i - start > max_target)
			return fail(f, 414, "request-target too long");
	}
	if (i >= end)
		return -2;
	if (buf[i] != ' ' || i == start)
		return fail(f, 400, "invalid request-target");
	req->target = buf + start;
	req->target_len = i - start;

	i++;
	int r = parse_version(buf, end, &i, &req->minor_version, f);
	if (r < 0)
		return r;
	r = expect_crlf(buf, end, &i, f);
	if (r < 0)
		return r;
	*pos = i;
	return 0;
}

/*
 * Header lines up to and including the empty line. At most `max` fields are
 * taken; one more is 431. Results go to h[] only, *count on success.
 */
static int parse_headers(const char *buf, size_t end, size_t *pos, struct http_header *h,
			 size_t max, size_t *count, struct fail *f)
{
	size_t i = *pos, n = 0;

	for (;;) {
		if (i >= end)
			return -2;
		if (buf[i] == '\r' || buf[i] == '\n') {
			int r = expect_crlf(buf, end, &i, f);
			if (r < 0)
				return r;
			break;
		}
		if (is_ows(buf[i]))
			return fail(f, 400, "obs-fold or whitespace before header name");
		if (n == max)
			return fail(f, 431, "too many header fields");

		size_t name = i;
		i = ascii_span(ascii_tchar, buf, i, end);
		if (i >= end)
			return -2;
		if (buf[i] != ':') {
			if (is_ows(buf[i]))
				return fail(f, 400, "whitespace before colon");
			return fail(f, 400, "invalid header name");
		}
		if (i == name)
			return fail(f, 400, "empty header name");
		size_t name_len = i - name;

		i++;
		while (i < end && is_ows(buf[i]))
			i++;
		size_t value = i;
		i = ascii_span(ascii_field_char, buf, i, end);
		if (i >= end)
			return -2;
		size_t value_end = i;
		if (buf[i] != '\r' && buf[i] != '\n')
			return fail(f, 400, "control character in header value");
		int r = expect_crlf(buf, end, &i, f);
		if (r < 0)
			return r;
		while (value_end > value && is_ows(buf[value_end - 1]))
			value_end--;

		h[n].name = buf + name;
		h[n].name_len = name_len;
		h[n].value = buf + value;
		h[n].value_len = value_end - value;
		n++;
	}
	*pos = i;
	*count = n;
	return 0;
}

/*
 * Next element of the comma-separated list v[0, n) from *off, OWS trimmed
 * and possibly empty; false once the list is over.
 */
static bool next_element(const char *v, size_t n, size_t *off, const char **elem, size_t *len)
{
	size_t s = *off, e;

	if (s > n)
		return false;
	e = s;
	while (e < n && v[e] != ',')
		e++;
	*off = e + 1; /* past n once the last element is taken */
	while (s < e && is_ows(v[s]))
		s++;
	while (e > s && is_ows(v[e - 1]))
		e--;
	*elem = v + s;
	*len = e - s;
	return true;
}

const struct http_header *http_header_find(const struct http_header *h, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (h[i].name_len == len && span_ieq(h[i].name, h[i].name_len, name))
			return &h[i];
	return NULL;
}

bool http_span_ieq(const char *p, size_t n, const char *s)
{
	return span_ieq(p, n, s);
}

bool http_list_has_token(const char *value, size_t len, const char *token)
{
	const char *elem;
	size_t off = 0, n;

	if (!value)
		return false;
	while (next_element(value, len, &off, &elem, &n))
		if (n && span_ieq(elem, n, token))
			return true;
	return false;
}

/* What the framing and connection headers say, gathered over every field line. */
struct framing {
	unsigned cl_count, te_count, chunked_count, host_count;
	bool cl_bad, te_bad, te_other;
	uint64_t content_length;
	bool conn_close, conn_keep_alive, conn_upgrade, has_upgrade, expect_continue;
};

/* 1*DIGIT only: no sign, no spaces, no list ("5, 5"), no overflow. */
static bool parse_content_length(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return false;
		unsigned d = (unsigned)(v[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*out = x;
	return true;
}

static void scan_transfer_encoding(struct framing *fr, const char *v, size_t n)
{
	const char *elem;
	size_t off = 0, len;
	bool any = false;

	while (next_element(v, n, &off, &elem, &len)) {
		if (!len)
			continue;
		any = true;
		/* Codings with parameters are refused too: chunked has none. */
		for (size_t i = 0; i < len; i++)
			if (!ascii_is_tchar(elem[i]))
				fr->te_bad = true;
		if (span_ieq(elem, len, "chunked"))
			fr->chunked_count++;
		else
			fr->te_other = true;
	}
	if (!any)
		fr->te_bad = true;
	fr->te_count++;
}

static void scan_headers(struct framing *fr, const struct http_header *h, size_t n)
{
	memset(fr, 0, sizeof(*fr));
	for (size_t i = 0; i < n; i++) {
		const char *name = h[i].name, *v = h[i].value;
		size_t nl = h[i].name_len, vl = h[i].value_len;

		if ((nl == 14 && span_ieq(name, nl, "content-length"))) {
			if (!parse_content_length(v, vl, &fr->content_length))
				fr->cl_bad = true;
			fr->cl_count++;
		} else if ((nl == 17 && span_ieq(name, nl, "transfer-encoding"))) {
			scan_transfer_encoding(fr, v, vl);
		} else if ((nl == 10 && span_ieq(name, nl, "connection"))) {
			/* One pass over the list for the three options. */
			const char *elem;
			size_t off = 0, en;
			while (next_element(v, vl, &off, &elem, &en)) {
				fr->conn_close |= en == 5 && span_ieq(elem, en, "close");
				fr->conn_keep_alive |= en == 10 && span_ieq(elem, en, "keep-alive");
				fr->conn_upgrade |= en == 7 && span_ieq(elem, en, "upgrade");
			}
		} else if ((nl == 7 && span_ieq(name, nl, "upgrade"))) {
			fr->has_upgrade = true;
		} else if ((nl == 6 && span_ieq(name, nl, "expect"))) {
			fr->expect_continue |= http_list_has_token(v, vl, "100-continue");
		} else if ((nl == 4 && span_ieq(name, nl, "host"))) {
			fr->host_count++;
		}
	}
}

/*
 * The checks shared by requests and responses, in a fixed order so that
 * every smuggling shape (400) wins over a merely unsupported coding (501).
 * Even identical duplicate Content-Length values are refused: RFC 9112 6.3
 * allows merging them, but nothing legitimate sends them.
 */
static int check_framing(const struct framing *fr, int minor, struct fail *f)
{
	if (fr->cl_bad)
		return fail(f, 400, "invalid Content-Length");
	if (fr->cl_count > 1)
		return fail(f, 400, "duplicate Content-Length");
	if (!fr->te_count)
		return 0;
	if (fr->te_bad)
		return fail(f, 400, "invalid Transfer-Encoding");
	/* RFC 9112 6.1: a 1.0 peer cannot have meant it; the framing is faulty. */
	if (minor == 0)
		return fail(f, 400, "Transfer-Encoding in HTTP/1.0");
	if (fr->cl_count)
		return fail(f, 400, "Content-Length with Transfer-Encoding");
	if (fr->chunked_count > 1)
		return fail(f, 400, "chunked applied more than once");
	/* We decode chunked and nothing else, so any other coding is unsupported. */
	if (fr->te_other)
		return fail(f, 501, "unsupported transfer coding");
	return 0;
}

static bool keep_alive(const struct framing *fr, int minor)
{
	if (fr->conn_close)
		return false;
	return minor >= 1 || fr->conn_keep_alive;
}

/* Caps the head limit so that a head length always fits the int return. */
static size_t head_window(size_t len, const struct http_limits *lim, size_t *max_head)
{
	*max_head = lim->max_head > INT_MAX ? INT_MAX : lim->max_head;
	return len < *max_head ? len : *max_head;
}

int http_parse_request(const char *buf, size_t len, struct http_request_head *req,
		       const struct http_limits *lim)
{
	struct fail f = {0, NULL};
	struct framing fr;
	size_t max_head, count, i = 0;
	int r;

	if (!lim)
		lim = &http_default_limits;
	/*
	 * Only the first max_head bytes are looked at: a head still incomplete
	 * there can never fit, so 431 is answered without waiting for more.
	 */
	size_t end = head_window(len, lim, &max_head);

	/* RFC 9112 2.2: skip empty lines left over after a previous message. */
	while (i < end && buf[i] == '\r') {
		r = expect_crlf(buf, end, &i, &f);
		if (r < 0)
			goto out;
	}
	r = parse_request_line(buf, end, &i, req, lim->max_target, &f);
	if (r < 0)
		goto out;
	/* num_headers is written on success only, so a retry after -2 keeps its capacity. */
	size_t max = req->num_headers < lim->max_headers ? req->num_headers : lim->max_headers;
	r = parse_headers(buf, end, &i, req->headers, max, &count, &f);
	if (r < 0)
		goto out;

	scan_headers(&fr, req->headers, count);
	r = check_framing(&fr, req->minor_version, &f);
	if (r < 0)
		goto out;
	/* RFC 9112 3.2: an HTTP/1.1 request without Host, or with more than one, is refused. */
	if (fr.host_count > 1) {
		r = fail(&f, 400, "duplicate Host");
		goto out;
	}
	if (fr.host_count == 0 && req->minor_version >= 1) {
		r = fail(&f, 400, "missing Host header");
		goto out;
	}
	req->num_headers = count;
	req->content_length = fr.content_length;
	if (fr.te_count)
		req->body_kind = HTTP_BODY_CHUNKED;
	else if (fr.cl_count)
		req->body_kind = HTTP_BODY_LENGTH;
	else
		req->body_kind = HTTP_BODY_NONE;
	req->keep_alive = keep_alive(&fr, req->minor_version);
	/* RFC 9110 10.1.1: a 1.0 client cannot wait for 100, so its expectation is ignored. */
	req->expect_continue = fr.expect_continue && req->minor_version >= 1;
	/* RFC 9110 7.8: Upgrade in a 1.0 request is ignored too. */
	req->upgrade = fr.conn_upgrade && fr.has_upgrade && req->minor_version >= 1;
	req->error_status = 0;
	req->error = NULL;
	return (int)i;
out:
	if (r == -2 && len >= max_head)
		r = fail(&f, 431, "request head too large");
	if (r == -1) {
		req->error_status = f.status;
		req->error = f.why;
	}
	return r;
}

static int parse_status_line(const char *buf, size_t end, size_t *pos,
			     struct http_response_head *res, struct fail *f)
{
	size_t i = *pos;
	int r = parse_version(buf, end, &i, &res->minor_version, f);

	if (r < 0)
		return r;
	if (i >= end)
		return -2;
	if (buf[i++] != ' ')
		return fail(f, 400, "malformed status line");
	res->status = 0;
	for (int k = 0; k < 3; k++, i++) {
		if (i >= end)
			return -2;
		if (!is_digit(buf[i]) || (k == 0 && buf[i] == '0'))
			return fail(f, 400, "malformed status code");
		res->status = res->status * 10 + (buf[i] - '0');
	}
	if (i >= end)
		return -2;
	/* The SP before an empty reason is often left out; take both forms. */
	if (buf[i] == ' ')
		i++;
	else if (buf[i] != '\r' && buf[i] != '\n')
		return fail(f, 400, "malformed status code");
	size_t start = i;
	i = ascii_span(ascii_field_char, buf, i, end);
	if (i >= end)
		return -2;
	res->reason = buf + start;
	res->reason_len = i - start;
	if (buf[i] != '\r' && buf[i] != '\n')
		return fail(f, 400, "control character in reason phrase");
	r = expect_crlf(buf, end, &i, f);
	if (r < 0)
		return r;
	*pos = i;
	return 0;
}

int http_parse_response(const char *buf, size_t len, struct http_response_head *res,
			bool request_was_head, const struct http_limits *lim)
{
	struct fail f = {0, NULL};
	struct framing fr;
	size_t max_head, count, i = 0;
	int r;

	if (!lim)
		lim = &http_default_limits;
	size_t end = head_window(len, lim, &max_head);

	r = parse_status_line(buf, end, &i, res, &f);
	if (r < 0)
		goto out;
	size_t max = res->num_headers < lim->max_headers ? res->num_headers : lim->max_headers;
	r = parse_headers(buf, end, &i, res->headers, max, &count, &f);
	if (r < 0)
		goto out;

	scan_headers(&fr, res->headers, count);
	/*
	 * Framing headers are checked even where no body follows (HEAD, 1xx,
	 * 204, 304): a server that sends conflicting ones is not to be trusted
	 * with the rest of the connection either.
	 */
	r = check_framing(&fr, res->minor_version, &f);
	if (r < 0)
		goto out;
	res->num_headers = count;
	res->content_length = fr.content_length;
	res->keep_alive = keep_alive(&fr, res->minor_version);
	if (request_was_head || res->status < 200 || res->status == 204 || res->status == 304) {
		res->body_kind = HTTP_BODY_NONE;
	} else if (fr.te_count) {
		res->body_kind = HTTP_BODY_CHUNKED;
	} else if (fr.cl_count) {
		res->body_kind = HTTP_BODY_LENGTH;
	} else {
		res->body_kind = HTTP_BODY_UNTIL_CLOSE;
		res->keep_alive = false;
	}
	res->error = NULL;
	return (int)i;
out:
	if (r == -2 && len >= max_head)
		r = fail(&f, 431, "response head too large");
	if (r == -1)
		res->error = f.why;
	return r;
}
