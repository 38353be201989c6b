// SPDX-License-Identifier: Apache-2.0
#include "multipart.h"

#include <errno.h>
#include <string.h>

#include "ascii.h"

enum {
	MP_PREAMBLE,	/* looking for the first delimiter; bytes are discarded */
	MP_BODY,	/* in a part body, looking for CRLF "--boundary" */
	MP_AFTER_DELIM, /* "--boundary" matched: what follows decides */
	MP_AFTER_DASH,	/* ... and one '-' */
	MP_PADDING,	/* a delimiter line: spaces/tabs before its CRLF */
	MP_DELIM_LF,	/* a delimiter line: CR seen, LF expected */
	MP_HEADERS,	/* collecting a part's header block */
	MP_DONE,	/* after the final delimiter: epilogue */
	MP_FAILED,
};

static const struct multipart_callbacks no_callbacks;

/* ---- tokens and parameters (RFC 2045 5.1, as Go's mime package reads them) ---- */

static bool is_tspecial(char c)
{
	return c && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static bool is_token_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && !is_tspecial(c);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool span_ieq(const char *a, size_t n, const char *s)
{
	if (n != strlen(s))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = a[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != s[i])
			return false;
	}
	return true;
}

static void skip_ows(const char **p, const char *e)
{
	while (*p < e && is_ows(**p))
		(*p)++;
}

static size_t token_len(const char *p, const char *e)
{
	size_t n = 0;
	while (p + n < e && is_token_char(p[n]))
		n++;
	return n;
}

/*
 * The value before the first ';': "type" or "type/subtype", trimmed. Returns
 * its span in *t and leaves *p at the ';' (or the end), or false if malformed.
 */
static bool take_type(const char **p, const char *e, bool subtype, const char **t, size_t *tl)
{
	const char *s;
	size_t n;

	skip_ows(p, e);
	s = *p;
	n = token_len(s, e);
	if (!n)
		return false;
	if (subtype) {
		if (s + n >= e || s[n] != '/')
			return false;
		size_t m = token_len(s + n + 1, e);
		if (!m)
			return false;
		n += 1 + m;
	}
	*t = s;
	*tl = n;
	*p = s + n;
	skip_ows(p, e);
	return *p == e || **p == ';';
}

struct param {
	const char *key, *val; /* val is raw: quoted strings still escaped, without quotes */
	size_t key_len, val_len;
	bool quoted;
};

/* The next "; key=value"; returns 1, 0 at the end (a trailing ';' is allowed), or -1. */
static int next_param(const char **pp, const char *e, struct param *pa)
{
	const char *p = *pp;

	skip_ows(&p, e);
	if (p == e)
		return 0;
	if (*p != ';')
		return -1;
	p++;
	skip_ows(&p, e);
	if (p == e)
		return 0;
	pa->key = p;
	pa->key_len = token_len(p, e);
	if (!pa->key_len)
		return -1;
	p += pa->key_len;
	skip_ows(&p, e);
	if (p == e || *p != '=')
		return -1;
	p++;
	skip_ows(&p, e);
	if (p < e && *p == '"') {
		const char *q = ++p;
		for (;; q++) {
			if (q == e || *q == '\r' || *q == '\n')
				return -1;
			if (*q == '"')
				break;
			if (*q == '\\' && q + 1 < e && is_tspecial(q[1]))
				q++;
		}
		pa->val = p;
		pa->val_len = (size_t)(q - p);
		pa->quoted = true;
		p = q + 1;
	} else {
		pa->val = p;
		pa->val_len = token_len(p, e);
		pa->quoted = false;
		if (!pa->val_len)
			return -1;
		p += pa->val_len;
	}
	*pp = p;
	return 1;
}

/*
 * Copies a raw quoted value without its escapes to dst (NULL: only count).
 * A backslash escapes only a MIME special, else it is itself (Go's MSIE rule).
 * dst may be src: the output never overtakes the input. Returns the length.
 */
static size_t unquote(char *dst, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++, o++) {
		if (src[i] == '\\' && i + 1 < n && is_tspecial(src[i + 1]))
			i++;
		if (dst)
			dst[o] = src[i];
	}
	return o;
}

int multipart_boundary(const char *ctype, size_t len, char out[MULTIPART_BOUNDARY_MAX + 1])
{
	const char *p = ctype, *e = ctype + len, *t;
	struct param pa;
	size_t tl, n = 0;
	bool found = false;
	int r;

	if (!take_type(&p, e, true, &t, &tl) || !span_ieq(t, tl, "multipart/form-data"))
		return -EINVAL;
	while ((r = next_param(&p, e, &pa)) > 0) {
		if (!span_ieq(pa.key, pa.key_len, "boundary"))
			continue;
		size_t m = pa.quoted ? unquote(NULL, pa.val, pa.val_len) : pa.val_len;
		if (found || m < 1 || m > MULTIPART_BOUNDARY_MAX)
			return -EINVAL;
		n = pa.quoted ? unquote(out, pa.val, pa.val_len) : m;
		if (!pa.quoted)
			memcpy(out, pa.val, n);
		found = true;
	}
	if (r < 0 || !found)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			return -EINVAL;
	if (out[n - 1] == ' ')
		return -EINVAL;
	out[n] = '\0';
	return (int)n;
}

/* ---- part headers ---- */

static long fail(struct multipart *m, const char *why)
{
	m->state = MP_FAILED;
	m->error = why;
	return -1;
}

/*
 * Decodes an RFC 2231/5987 ext-value "charset'lang'pct-encoded" in place.
 * Returns the decoded length, or -1 if it is not us-ascii/utf-8 or malformed
 * (Go then ignores the parameter).
 */
static long decode_ext_value(char *v, size_t n)
{
	char *q1 = memchr(v, '\'', n);
	if (!q1 ||
	    (!span_ieq(v, (size_t)(q1 - v), "utf-8") && !span_ieq(v, (size_t)(q1 - v), "us-ascii")))
		return -1;
	char *q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v));
	if (!q2)
		return -1;
	const char *s = q2 + 1, *e = v + n;
	size_t o = 0;
	while (s < e) {
		if (*s == '%') {
			int hi, lo;
			if (e - s < 3 || (hi = ascii_hex_value(s[1])) < 0 ||
			    (lo = ascii_hex_value(s[2])) < 0)
				return -1;
			v[o++] = (char)(hi << 4 | lo);
			s += 3;
		} else {
			v[o++] = *s++;
		}
	}
	return (long)o;
}

/* Records a parameter; a second one of the same name must carry the same value (as in Go). */
static bool set_once(const char **dst, size_t *dst_len, const char *v, size_t n)
{
	if (*dst)
		return *dst_len == n && memcmp(*dst, v, n) == 0;
	*dst = v;
	*dst_len = n;
	return true;
}

/* Parses a Content-Disposition value in place (quoted values are unescaped where they are). */
static int parse_disposition(struct multipart_part *part, char *v, size_t n)
{
	const char *p = v, *e = v + n, *t, *ext = NULL, *fname = NULL, *name = NULL;
	size_t tl, ext_len = 0, fname_len = 0, name_len = 0;
	struct param pa;
	int r;

	if (!take_type(&p, e, false, &t, &tl))
		return -1;
	while ((r = next_param(&p, e, &pa)) > 0) {
		char *val = (char *)pa.val; /* inside hdr, which is ours */
		size_t vl = pa.quoted ? unquote(val, pa.val, pa.val_len) : pa.val_len;
		bool ok = true;
		if (span_ieq(pa.key, pa.key_len, "name"))
			ok = set_once(&name, &name_len, val, vl);
		else if (span_ieq(pa.key, pa.key_len, "filename"))
			ok = set_once(&fname, &fname_len, val, vl);
		else if (span_ieq(pa.key, pa.key_len, "filename*"))
			ok = set_once(&ext, &ext_len, val, vl);
		if (!ok)
			return -1;
	}
	if (r < 0)
		return -1;
	if (ext) {
		long d = decode_ext_value((char *)ext, ext_len);
		if (d >= 0) {
			fname = ext;
			fname_len = (size_t)d;
		}
	}
	if (span_ieq(t, tl, "form-data")) {
		part->name = name;
		part->name_len = name_len;
		part->filename = fname;
		part->filename_len = fname_len;
	}
	return 0;
}

/* Parses the collected header block hdr[0, line_start) (CRLF-terminated lines). */
static long parse_headers(struct multipart *m, struct multipart_part *part)
{
	char *p = m->hdr, *end = m->hdr + m->line_start;
	bool have_cd = false;

	memset(part, 0, sizeof(*part));
	part->index = m->parts - 1;
	while (p < end) {
		char *eol = memchr(p, '\r', (size_t)(end - p));
		if (is_ows(*p))
			return fail(m, "folded part header line");
		char *colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p || token_len(p, colon) != (size_t)(colon - p))
			return fail(m, "malformed part header line");
		const char *name = p;
		size_t name_len = (size_t)(colon - p);
		char *v = colon + 1, *ve = eol;
		while (v < ve && is_ows(*v))
			v++;
		while (ve > v && is_ows(ve[-1]))
			ve--;
		for (char *c = v; c < ve; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
				return fail(m, "control character in part header");
		if (span_ieq(name, name_len, "content-disposition")) {
			if (have_cd || parse_disposition(part, v, (size_t)(ve - v)) < 0)
				return fail(m, "invalid Content-Disposition");
			have_cd = true;
		} else if (span_ieq(name, name_len, "content-type")) {
			if (part->content_type)
				return fail(m, "duplicate Content-Type");
			part->content_type = v;
			part->content_type_len = (size_t)(ve - v);
		}
		p = eol + 2;
	}
	return 0;
}

/* ---- the stream ---- */

int multipart_init(struct multipart *m, const char *boundary, size_t boundary_len,
		   const struct multipart_callbacks *cb, void *arg)
{
	if (!boundary_len || boundary_len > MULTIPART_BOUNDARY_MAX ||
	    memchr(boundary, '\r', boundary_len) || memchr(boundary, '\n', boundary_len))
		return -EINVAL;
	/* Only the head needs clearing; hdr is written before it is read. */
	memset(m, 0, offsetof(struct multipart, hdr));
	m->cb = cb ? cb : &no_callbacks;
	m->arg = arg;
	m->max_parts = MULTIPART_PARTS_DEFAULT;
	m->state = MP_PREAMBLE;
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, boundary, boundary_len);
	m->delim_len = 4 + boundary_len;
	/* The body may open with "--boundary": act as if a CRLF came before it. */
	m->match = 2;
	return 0;
}

static long emit(struct multipart *m, const char *p, size_t n)
{
	if (!n || !m->cb->on_data || !m->in_body)
		return 0;
	int r = m->cb->on_data(p, n, m->arg);
	if (r) {
		m->cb_error = r;
		return fail(m, "aborted by a callback");
	}
	return 0;
}

static long end_part(struct multipart *m)
{
	if (!m->in_body || !m->cb->on_part_end)
		return 0;
	int r = m->cb->on_part_end(m->arg);
	if (r) {
		m->cb_error = r;
		return fail(m, "aborted by a callback");
	}
	return 0;
}

/*
 * PREAMBLE or BODY from buf[i]: hands on data up to a possible delimiter.
 * Returns the new position (the state changes when a delimiter is matched),
 * or -1.
 */
static long scan(struct multipart *m, const char *buf, size_t len, size_t i)
{
	const char *d = m->delim;
	size_t dl = m->delim_len;

	/* A prefix held from the last feed: its bytes are d[0, match). */
	while (m->match && i < len) {
		if (buf[i] != d[m->match]) {
			/* Not a delimiter after all: the held bytes were data. Only d[0] is a
			 * CR, so no later start hides in them; buf[i] is looked at again. */
			if (emit(m, d, m->match) < 0)
				return -1;
			m->match = 0;
			break;
		}
		i++;
		if (++m->match == dl) {
			m->match = 0;
			m->state = MP_AFTER_DELIM;
			return (long)i;
		}
	}
	size_t data = i;
	while (i < len) {
		const char *cr = memchr(buf + i, '\r', len - i);
		if (!cr)
			break;
		size_t k = (size_t)(cr - buf), j = k + 1, mt = 1;
		while (j < len && mt < dl && buf[j] == d[mt]) {
			j++;
			mt++;
		}
		if (mt == dl || j == len) {
			if (emit(m, buf + data, k - data) < 0)
				return -1;
			if (mt == dl) {
				m->state = MP_AFTER_DELIM;
				return (long)j;
			}
			m->match = mt; /* hold it: the next feed decides */
			return (long)len;
		}
		i = k + 1;
	}
	if (emit(m, buf + data, len - data) < 0)
		return -1;
	return (long)len;
}

/* A delimiter line has ended: the part before it (if any) is over, a new one starts. */
static long start_part(struct multipart *m)
{
	if (end_part(m) < 0)
		return -1;
	m->in_body = false;
	if (m->parts >= m->max_parts)
		return fail(m, "too many parts");
	m->parts++;
	m->hdr_len = m->line_start = 0;
	m->state = MP_HEADERS;
	return 0;
}

/* Collects header bytes; at the empty line, parses them and reports the part. */
static long headers(struct multipart *m, const char *buf, size_t len, size_t i)
{
	while (i < len) {
		char c = buf[i++];
		bool after_cr = m->hdr_len && m->hdr[m->hdr_len - 1] == '\r';
		if (after_cr != (c == '\n'))
			return fail(m, c == '\n' ? "bare LF in part header"
						 : "bare CR in part header");
		if (m->hdr_len == MULTIPART_HEADER_MAX)
			return fail(m, "part header too large");
		m->hdr[m->hdr_len++] = c;
		if (c != '\n')
			continue;
		if (m->hdr_len - m->line_start > 2) {
			m->line_start = m->hdr_len;
			continue;
		}
		/* The empty line: the block is hdr[0, line_start). */
		struct multipart_part part;
		if (parse_headers(m, &part) < 0)
			return -1;
		if (m->cb->on_part) {
			int r = m->cb->on_part(&part, m->arg);
			if (r) {
				m->cb_error = r;
				return fail(m, "aborted by a callback");
			}
		}
		m->state = MP_BODY;
		m->in_body = true;
		m->match = 0;
		break;
	}
	return (long)i;
}

/* Back to scanning after "--boundary" turned out to be data ("--boundaryX"). */
static long not_a_delimiter(struct multipart *m, bool dash)
{
	if (emit(m, m->delim, m->delim_len) < 0 || (dash && emit(m, "-", 1) < 0))
		return -1;
	m->state = m->in_body ? MP_BODY : MP_PREAMBLE;
	return 0;
}

long multipart_feed(struct multipart *m, const char *buf, size_t len)
{
	size_t i = 0;
	long r;

	if (m->state == MP_FAILED)
		return -1;
	while (i < len) {
		char c = buf[i];
		switch (m->state) {
		case MP_PREAMBLE:
		case MP_BODY:
			r = scan(m, buf, len, i);
			if (r < 0)
				return -1;
			i = (size_t)r;
			break;
		case MP_HEADERS:
			r = headers(m, buf, len, i);
			if (r < 0)
				return -1;
			i = (size_t)r;
			break;
		case MP_AFTER_DELIM:
			if (c == '-') {
				m->state = MP_AFTER_DASH;
			} else if (is_ows(c)) {
				m->state = MP_PADDING;
			} else if (c == '\r') {
				m->state = MP_DELIM_LF;
			} else if (c == '\n') {
				return fail(m, "bare LF after boundary");
			} else {
				if (not_a_delimiter(m, false) < 0)
					return -1;
				continue; /* c is data: scan it */
			}
			i++;
			break;
		case MP_AFTER_DASH:
			if (c != '-') {
				if (not_a_delimiter(m, true) < 0)
					return -1;
				continue;
			}
			i++;
			if (end_part(m) < 0)
				return -1;
			m->state = MP_DONE;
			m->in_body = false;
			break;
		case MP_PADDING:
			if (c == '\r')
				m->state = MP_DELIM_LF;
			else if (!is_ows(c))
				return fail(m, "junk after boundary");
			i++;
			break;
		case MP_DELIM_LF:
			if (c != '\n')
				return fail(m, "boundary line not ended by CRLF");
			i++;
			if (start_part(m) < 0)
				return -1;
			break;
		case MP_DONE:
			return (long)len; /* the epilogue */
		default:
			return -1;
		}
	}
	return (long)len;
}

bool multipart_done(const struct multipart *m)
{
	return m->state == MP_DONE;
}

int multipart_finish(struct multipart *m)
{
	switch (m->state) {
	case MP_DONE:
		return 0;
	case MP_FAILED:
		return -1;
	case MP_PREAMBLE:
		return (int)fail(m, "no boundary found");
	case MP_HEADERS:
		return (int)fail(m, "unexpected end in part headers");
	default:
		return (int)fail(m, "missing final boundary");
	}
}
