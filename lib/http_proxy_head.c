// SPDX-License-Identifier: Apache-2.0
/* The header rules of the proxy engine (see http_proxy.h): pure, over buffers. */
#include "http_proxy_int.h"

#include <string.h>

static bool named(const char *name, size_t n, const char *want, size_t wn)
{
	return n == wn && http_span_ieq(name, n, want);
}

/* Whether a Connection value names headers beyond the usual options (which
 * are hop-by-hop anyway): only then must every header be checked against it. */
static bool names_extra_headers(const char *v, size_t n)
{
	if (!v || !n)
		return false;
	static const char *const usual[] = {"keep-alive", "close", "upgrade"};
	for (size_t i = 0, start = 0; i <= n; i++) {
		if (i < n && v[i] != ',')
			continue;
		size_t a = start, b = i;
		while (a < b && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		bool known = a == b;
		for (size_t k = 0; !known && k < sizeof(usual) / sizeof(usual[0]); k++)
			known = http_span_ieq(v + a, b - a, usual[k]);
		if (!known)
			return true;
		start = i + 1;
	}
	return false;
}

/* The fixed hop-by-hop names (RFC 9110 7.6.1), told apart by length first. */
static bool fixed_hop_by_hop(const char *name, size_t n)
{
	switch (n) {
	case 2:
		return http_span_ieq(name, n, "TE");
	case 7:
		return http_span_ieq(name, n, "Upgrade") || http_span_ieq(name, n, "Trailer");
	case 10:
		return http_span_ieq(name, n, "Connection") || http_span_ieq(name, n, "Keep-Alive");
	case 16:
		return http_span_ieq(name, n, "Proxy-Connection");
	case 17:
		return http_span_ieq(name, n, "Transfer-Encoding");
	case 18:
		return http_span_ieq(name, n, "Proxy-Authenticate");
	case 19:
		return http_span_ieq(name, n, "Proxy-Authorization");
	default:
		return false;
	}
}

/* The Connection value worth checking each header against: NULL unless it
 * names headers beyond the usual options (decided once per message). */
static const char *connection_names(const char *v, size_t n)
{
	return names_extra_headers(v, n) ? v : NULL;
}

/* hop-by-hop, with the Connection value already through connection_names(). */
static bool hop_by_hop(const char *name, size_t n, const char *names, size_t nlen)
{
	if (fixed_hop_by_hop(name, n))
		return true;
	if (!names)
		return false;
	char tok[64];
	if (n >= sizeof(tok))
		return false;
	memcpy(tok, name, n);
	tok[n] = '\0';
	return http_list_has_token(names, nlen, tok);
}

bool http_proxy_hop_by_hop(const char *name, size_t n, const char *connection, size_t clen)
{
	return hop_by_hop(name, n, connection_names(connection, clen), clen);
}

/* Named in a NULL-terminated list of name/value pairs. */
static bool replaced(const char *name, size_t n, const char *const *set)
{
	for (; set && set[0] && set[1]; set += 2)
		if (named(name, n, set[0], strlen(set[0])))
			return true;
	return false;
}

static bool dropped(const char *name, size_t n, const char *const *drop)
{
	for (; drop && *drop; drop++)
		if (named(name, n, *drop, strlen(*drop)))
			return true;
	return false;
}

/* The client's address without the port ("1.2.3.4", "::1", "unix"). */
static void peer_addr(const char *peer, const char **p, size_t *n)
{
	size_t len = strlen(peer);
	const char *colon = strrchr(peer, ':');
	if (colon && strcmp(peer, "unix") != 0)
		len = (size_t)(colon - peer);
	if (len >= 2 && peer[0] == '[') {
		peer++;
		len -= 2;
	}
	*p = peer;
	*n = len;
}

int http_proxy_request_head(struct buf *b, const struct http_req *req,
			    const struct http_proxy_target *t, bool upgrade)
{
	const char *connection = http_req_header(req, "Connection");
	size_t clen = connection ? strlen(connection) : 0;
	const char *names = connection_names(connection, clen);
	const struct http_header *host = NULL;
	bool has_xfp = false, has_xfh = false;
	size_t nxff = 0;

	int r = buf_puts(b, req->method);
	r = r ? r : buf_append(b, " ", 1);
	r = r ? r : buf_puts(b, t->path);
	if (!r && t->query && t->query[0]) {
		r = buf_append(b, "?", 1);
		r = r ? r : buf_puts(b, t->query);
	}
	r = r ? r : buf_append(b, " HTTP/1.1\r\n", 11);
	for (size_t i = 0; !r && i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (hop_by_hop(h->name, h->name_len, names, clen) ||
		    named(h->name, h->name_len, "Content-Length", 14) ||
		    named(h->name, h->name_len, "Expect", 6) ||
		    dropped(h->name, h->name_len, t->drop) ||
		    replaced(h->name, h->name_len, t->set))
			continue;
		if (named(h->name, h->name_len, "Host", 4)) {
			host = host ? host : h;
			if (t->host)
				continue;
		} else if (named(h->name, h->name_len, "X-Forwarded-For", 15)) {
			nxff++; /* joined below, with the client appended */
			continue;
		}
		has_xfp |= named(h->name, h->name_len, "X-Forwarded-Proto", 17);
		has_xfh |= named(h->name, h->name_len, "X-Forwarded-Host", 16);
		r = buf_append_header(b, h->name, h->name_len, h->value, h->value_len);
	}
	if (!r && t->host)
		r = buf_append_header(b, "Host", 4, t->host, strlen(t->host));
	for (const char *const *s = t->set; !r && s && s[0] && s[1]; s += 2)
		r = buf_append_header(b, s[0], strlen(s[0]), s[1], strlen(s[1]));
	r = r ? r : buf_append(b, "X-Forwarded-For: ", 17);
	for (size_t i = 0; !r && nxff && i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (!named(h->name, h->name_len, "X-Forwarded-For", 15) ||
		    dropped(h->name, h->name_len, t->drop))
			continue;
		r = buf_append(b, h->value, h->value_len);
		r = r ? r : buf_append(b, ", ", 2);
	}
	const char *peer;
	size_t plen;
	peer_addr(req->peer, &peer, &plen);
	r = r ? r : buf_append(b, peer, plen);
	r = r ? r : buf_append(b, "\r\n", 2);
	if (!r && !has_xfp)
		r = buf_puts(b, "X-Forwarded-Proto: http\r\n");
	if (!r && !has_xfh && host)
		r = buf_append_header(b, "X-Forwarded-Host", 16, host->value, host->value_len);
	if (!r && upgrade) {
		const char *up = http_req_header(req, "Upgrade");
		r = buf_puts(b, "Connection: Upgrade\r\n");
		r = r ? r : buf_append_header(b, "Upgrade", 7, up, strlen(up));
	}
	if (!r && req->body_kind == HTTP_BODY_LENGTH) {
		r = buf_append(b, "Content-Length: ", 16);
		r = r ? r : buf_append_u64(b, req->content_length);
		r = r ? r : buf_append(b, "\r\n", 2);
	} else if (!r && req->body_kind == HTTP_BODY_CHUNKED) {
		r = buf_puts(b, "Transfer-Encoding: chunked\r\n");
	}
	return r ? r : buf_append(b, "\r\n", 2);
}

int http_proxy_response_headers(struct http_conn *c, const struct http_response_head *h,
				bool drop_request_id, char *ctype, size_t ctype_cap)
{
	const struct http_header *ch = http_header_find(h->headers, h->num_headers, "Connection");
	size_t clen = ch ? ch->value_len : 0;
	const char *names = ch ? connection_names(ch->value, clen) : NULL;
	ctype[0] = '\0';
	for (size_t i = 0; i < h->num_headers; i++) {
		const struct http_header *x = &h->headers[i];
		if (hop_by_hop(x->name, x->name_len, names, clen) ||
		    named(x->name, x->name_len, "Content-Length", 14) ||
		    (drop_request_id && named(x->name, x->name_len, "X-Request-ID", 12)))
			continue;
		if (named(x->name, x->name_len, "Content-Type", 12)) {
			size_t n = x->value_len < ctype_cap - 1 ? x->value_len : ctype_cap - 1;
			memcpy(ctype, x->value, n);
			ctype[n] = '\0';
			continue;
		}
		int r = http_resp_header_n(c, x->name, x->name_len, x->value, x->value_len);
		if (r < 0)
			return r;
	}
	return 0;
}
