// SPDX-License-Identifier: Apache-2.0
#include "gateway_route.h"

#include <bearssl_hash.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_base36(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z');
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* A port of 1..65535 from s[0..n), or 0. */
static unsigned port_of(const char *s, size_t n)
{
	if (n == 0 || n > 5)
		return 0;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= 65535 ? v : 0;
}

/* A sandbox id: letters, digits, '-', '_', '.'-free (a DNS label's characters). */
static bool id_ok(const char *s, size_t n)
{
	if (n == 0 || n >= GW_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
		      c == '_'))
			return false;
	}
	return true;
}

static bool exp_ok(const char *s, size_t n, uint64_t *v)
{
	if (n == 0 || n > 13 || s[0] == '0') /* 2^64-1 is 13 base36 digits */
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_base36(s[i]))
			return false;
		uint64_t d = (uint64_t)(is_digit(s[i]) ? s[i] - '0' : s[i] - 'a' + 10);
		if (x > (UINT64_MAX - d) / 36)
			return false;
		x = x * 36 + d;
	}
	*v = x;
	return true;
}

static bool sig_ok(const char *s, size_t n)
{
	if (n != GW_SIG_LEN)
		return false;
	for (size_t i = 0; i < 8; i++)
		if (!is_hex(s[i]))
			return false;
	return is_base36(s[8]);
}

static void fill(struct gw_route *r, const char *id, size_t idn, unsigned port)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->id, id, idn);
	r->id[idn] = '\0';
	r->port = (uint16_t)port;
	r->rest = "";
}

static bool fill_signed(struct gw_route *r, const char *id, size_t idn, unsigned port,
			const char *exp, size_t en, const char *sig, size_t sn)
{
	uint64_t v = 0;
	if (!id_ok(id, idn) || !port || !exp_ok(exp, en, &v) || !sig_ok(sig, sn))
		return false;
	fill(r, id, idn, port);
	r->is_signed = true;
	r->expires = v;
	memcpy(r->exp36, exp, en);
	r->exp36[en] = '\0';
	memcpy(r->sig, sig, sn);
	r->sig[sn] = '\0';
	return true;
}

/* The last '-' in s[0..n) before end, or NULL. */
static const char *last_dash(const char *s, const char *end)
{
	for (const char *p = end; p > s; p--)
		if (p[-1] == '-')
			return p - 1;
	return NULL;
}

int gw_route_label(const char *value, struct gw_route *plain, struct gw_route *sig)
{
	const char *v = value;
	if (!strncmp(v, "http://", 7))
		v += 7;
	else if (!strncmp(v, "https://", 8))
		v += 8;
	size_t n = strcspn(v, ".:/");
	const char *end = v + n;
	const char *d1 = last_dash(v, end);
	if (!d1)
		return 0;
	int found = 0;
	unsigned port = port_of(d1 + 1, (size_t)(end - d1 - 1));
	if (port && id_ok(v, (size_t)(d1 - v))) {
		fill(plain, v, (size_t)(d1 - v), port);
		found = GW_PLAIN;
	}
	/* <id>-<port>-<exp36>-<sig>: sig after the last dash, exp before it, then the port. */
	const char *d2 = last_dash(v, d1);
	const char *d3 = d2 ? last_dash(v, d2) : NULL;
	if (d3 && fill_signed(sig, v, (size_t)(d3 - v), port_of(d3 + 1, (size_t)(d2 - d3 - 1)),
			      d2 + 1, (size_t)(d1 - d2 - 1), d1 + 1, (size_t)(end - d1 - 1)))
		found |= GW_SIGNED;
	return found;
}

/* The next path segment at *p (after its '/'): start and length; false at the end. */
static bool segment(const char **p, const char **s, size_t *n)
{
	if (**p != '/')
		return false;
	*s = *p + 1;
	*n = strcspn(*s, "/");
	*p = *s + *n;
	return *n > 0;
}

int gw_route_path(const char *raw_path, struct gw_route *plain, struct gw_route *sig)
{
	const char *p = raw_path, *id, *ps;
	size_t idn, pn;
	if (!segment(&p, &id, &idn) || !segment(&p, &ps, &pn))
		return 0;
	unsigned port = port_of(ps, pn);
	if (!port || !id_ok(id, idn))
		return 0;
	fill(plain, id, idn, port);
	plain->rest = p;
	const char *q = p, *es, *ss;
	size_t en, sn;
	if (segment(&q, &es, &en) && segment(&q, &ss, &sn) &&
	    fill_signed(sig, id, idn, port, es, en, ss, sn)) {
		sig->rest = q;
		return GW_PLAIN | GW_SIGNED;
	}
	return GW_PLAIN;
}

int gw_route_sandboxes_path(const char *raw_path, struct gw_route *r)
{
	const char *p = raw_path, *a, *id, *b, *ps;
	size_t an, idn, bn, pn;
	if (!segment(&p, &a, &an) || an != 9 || memcmp(a, "sandboxes", 9) ||
	    !segment(&p, &id, &idn) || !segment(&p, &b, &bn) || bn != 4 || memcmp(b, "port", 4) ||
	    !segment(&p, &ps, &pn))
		return 0;
	unsigned port = port_of(ps, pn);
	if (!port || !id_ok(id, idn))
		return 0;
	fill(r, id, idn, port);
	r->rest = p;
	return GW_PLAIN;
}

void gw_base36(uint64_t v, char out[16])
{
	char tmp[16];
	size_t n = 0;
	do {
		unsigned d = (unsigned)(v % 36);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= 36;
	} while (v && n < sizeof(tmp));
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

static void be32(br_sha256_context *h, size_t n)
{
	unsigned char b[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
			      (unsigned char)(n >> 8), (unsigned char)n};
	br_sha256_update(h, b, 4);
}

void gw_sign(const void *secret, size_t secret_len, char key_id, const char *id, unsigned port,
	     const char *exp36, char out[GW_SIG_LEN + 1])
{
	char canon[GW_ID_MAX + 64];
	int cn = snprintf(canon, sizeof(canon), "v1\nshort\n%s\n%u\n%s\n", id, port, exp36);
	br_sha256_context h;
	unsigned char sum[32];
	br_sha256_init(&h);
	be32(&h, secret_len);
	br_sha256_update(&h, secret, secret_len);
	be32(&h, (size_t)cn);
	br_sha256_update(&h, canon, (size_t)cn);
	br_sha256_out(&h, sum);
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 4; i++) {
		out[2 * i] = hex[sum[i] >> 4];
		out[2 * i + 1] = hex[sum[i] & 15];
	}
	out[8] = key_id;
	out[9] = '\0';
}
