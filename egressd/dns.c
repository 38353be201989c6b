// SPDX-License-Identifier: Apache-2.0
#include "dns.h"

#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * A pointer may only point before the lowest offset this name has visited,
 * so every jump strictly decreases the position and a loop cannot happen.
 * The text, if wanted, is checked to be writable as a dotted name; out, if
 * not NULL (DNS_NAME_WIRE_MAX bytes), gets the name uncompressed, case kept.
 */
static int name_walk(const uint8_t *p, size_t len, size_t *off, char *text, size_t cap,
		     uint8_t *out, size_t *out_len)
{
	size_t pos = *off, low = *off, end = 0, tlen = 0, wire = 0;
	bool jumped = false;

	for (;;) {
		if (pos >= len)
			return -2;
		uint8_t l = p[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -2;
			size_t target = (size_t)(l & 0x3f) << 8 | p[pos + 1];
			if (target >= low)
				return -1;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			low = target;
			pos = target;
			continue;
		}
		if (l & 0xc0)
			return -1; /* 0x40/0x80: extended label types, obsolete */
		if (wire + 1u + l > DNS_NAME_WIRE_MAX)
			return -1;
		if (l == 0) {
			if (!jumped)
				end = pos + 1;
			if (out)
				out[wire] = 0;
			wire++;
			break;
		}
		if (pos + 1 + l > len)
			return -2;
		if (out)
			memcpy(out + wire, p + pos, 1u + l);
		wire += 1u + l;
		if (text) {
			if (tlen + (tlen ? 1u : 0u) + l + 1 > cap)
				return -1;
			if (tlen)
				text[tlen++] = '.';
			for (size_t i = 0; i < l; i++) {
				uint8_t c = p[pos + 1 + i];
				if (c <= 0x20 || c >= 0x7f || c == '.' || c == '\\')
					return -1;
				text[tlen++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
		}
		pos += 1u + l;
	}
	if (text)
		text[tlen] = '\0';
	if (out_len)
		*out_len = wire;
	*off = end;
	return (int)tlen;
}

int dns_name_read(const uint8_t *p, size_t len, size_t *off, char *text, size_t cap)
{
	return name_walk(p, len, off, text, cap, NULL, NULL);
}

/* One resource record starting at *off; fills type/class/ttl and the RDATA span. */
static int rr_read(const uint8_t *p, size_t len, size_t *off, char *name, uint16_t *type,
		   uint16_t *klass, uint32_t *ttl, size_t *rdoff, uint16_t *rdlen)
{
	int r = dns_name_read(p, len, off, name, name ? DNS_NAME_TEXT_MAX : 0);
	if (r < 0)
		return r;
	if (*off + 10 > len)
		return -2;
	*type = rd16(p + *off);
	*klass = rd16(p + *off + 2);
	*ttl = rd32(p + *off + 4);
	*rdlen = rd16(p + *off + 8);
	*rdoff = *off + 10;
	if (*rdoff + *rdlen > len)
		return -2;
	*off = *rdoff + *rdlen;
	return 0;
}

int dns_parse(const uint8_t *p, size_t len, struct dns_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < DNS_HDR_LEN)
		return -2;
	m->id = rd16(p);
	m->flags = rd16(p + 2);
	m->qdcount = rd16(p + 4);
	m->ancount = rd16(p + 6);
	m->nscount = rd16(p + 8);
	m->arcount = rd16(p + 10);

	size_t off = DNS_HDR_LEN;
	m->question_end = off;
	for (unsigned i = 0; i < m->qdcount; i++) {
		int r = dns_name_read(p, len, &off, i == 0 ? m->qname : NULL, sizeof(m->qname));
		if (r < 0)
			return r;
		if (off + 4 > len)
			return -2;
		if (i == 0) {
			m->qtype = rd16(p + off);
			m->qclass = rd16(p + off + 2);
			m->question_end = off + 4;
		}
		off += 4;
	}
	m->answer_off = off;
	unsigned total = (unsigned)m->ancount + m->nscount + m->arcount;
	for (unsigned i = 0; i < total; i++) {
		char name[DNS_NAME_TEXT_MAX];
		uint16_t type, klass, rdlen;
		uint32_t ttl;
		size_t rdoff, start = off;
		int r = rr_read(p, len, &off, NULL, &type, &klass, &ttl, &rdoff, &rdlen);
		if (r < 0)
			return r;
		if (type != DNS_T_OPT)
			continue;
		size_t noff = start;
		if (i < (unsigned)m->ancount + m->nscount || m->has_opt ||
		    dns_name_read(p, len, &noff, name, sizeof(name)) != 0)
			return -1;
		m->has_opt = true;
		m->opt_udp_size = klass;
		m->opt_ttl = ttl;
	}
	return (int)off;
}

int dns_answer_addrs(const uint8_t *p, size_t len, const struct dns_msg *m, struct dns_addr *out,
		     size_t max)
{
	size_t off = m->answer_off, n = 0;

	for (unsigned i = 0; i < m->ancount; i++) {
		uint16_t type, klass, rdlen;
		uint32_t ttl;
		size_t rdoff;
		if (rr_read(p, len, &off, NULL, &type, &klass, &ttl, &rdoff, &rdlen) < 0)
			return -1;
		if (klass != DNS_CLASS_IN || n >= max)
			continue;
		if (type == DNS_T_A && rdlen == 4) {
			out[n].family = 4;
			memset(out[n].addr, 0, sizeof(out[n].addr));
			memcpy(out[n].addr, p + rdoff, 4);
		} else if (type == DNS_T_AAAA && rdlen == 16) {
			out[n].family = 6;
			memcpy(out[n].addr, p + rdoff, 16);
		} else {
			continue;
		}
		/* RFC 2181 8: a TTL with the top bit set is read as 0. */
		out[n].ttl = ttl & 0x80000000u ? 0 : ttl;
		n++;
	}
	return (int)n;
}

int dns_clamp_ttls(uint8_t *p, size_t len, const struct dns_msg *m, uint32_t max)
{
	size_t off = m->answer_off;
	unsigned total = (unsigned)m->ancount + m->nscount + m->arcount;
	int n = 0;

	for (unsigned i = 0; i < total; i++) {
		uint16_t type, klass, rdlen;
		uint32_t ttl;
		size_t rdoff;
		if (rr_read(p, len, &off, NULL, &type, &klass, &ttl, &rdoff, &rdlen) < 0)
			return -1;
		/* RFC 2181 8: a TTL with the top bit set is read as 0. */
		if (type == DNS_T_OPT || ttl & 0x80000000u || ttl <= max)
			continue;
		uint8_t *t = p + rdoff - 6; /* TTL (4) and RDLENGTH (2) precede the data */
		t[0] = (uint8_t)(max >> 24);
		t[1] = (uint8_t)(max >> 16);
		t[2] = (uint8_t)(max >> 8);
		t[3] = (uint8_t)max;
		n++;
	}
	return n;
}

void dns_w_init(struct dns_writer *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
}

void dns_w_bytes(struct dns_writer *w, const void *b, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (n)
		memcpy(w->p + w->len, b, n);
	w->len += n;
}

void dns_w_u16(struct dns_writer *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	dns_w_bytes(w, b, 2);
}

void dns_w_u32(struct dns_writer *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	dns_w_bytes(w, b, 4);
}

int dns_w_name(struct dns_writer *w, const char *text)
{
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t n = 0, tl = strlen(text);

	if (tl && text[tl - 1] == '.')
		tl--;
	size_t i = 0;
	while (i < tl) {
		size_t j = i;
		while (j < tl && text[j] != '.')
			j++;
		size_t l = j - i;
		if (l == 0 || l > 63 || n + 1 + l + 1 > sizeof(wire))
			return -1;
		wire[n++] = (uint8_t)l;
		memcpy(wire + n, text + i, l);
		n += l;
		i = j + 1;
		if (j < tl && i == tl)
			return -1; /* "a..": an empty last label */
	}
	wire[n++] = 0;
	dns_w_bytes(w, wire, n);
	return 0;
}

void dns_w_header(struct dns_writer *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		  uint16_t ns, uint16_t ar)
{
	dns_w_u16(w, id);
	dns_w_u16(w, flags);
	dns_w_u16(w, qd);
	dns_w_u16(w, an);
	dns_w_u16(w, ns);
	dns_w_u16(w, ar);
}

void dns_w_opt(struct dns_writer *w, uint16_t udp_size, uint32_t ttl)
{
	uint8_t root = 0;
	dns_w_bytes(w, &root, 1);
	dns_w_u16(w, DNS_T_OPT);
	dns_w_u16(w, udp_size);
	dns_w_u32(w, ttl);
	dns_w_u16(w, 0);
}

int dns_w_done(const struct dns_writer *w)
{
	return w->overflow ? -1 : (int)w->len;
}

int dns_reply_rcode(const uint8_t *q, size_t qlen, const struct dns_msg *m, int rcode, bool tc,
		    uint8_t *out, size_t cap)
{
	struct dns_writer w;
	uint8_t name[DNS_NAME_WIRE_MAX];
	size_t name_len = 0, off = DNS_HDR_LEN;
	/* The name is written out whole: a pointer in it would point into our
	 * header, not the query's. */
	bool copy_q = m->qdcount == 1 && m->question_end <= qlen &&
		      name_walk(q, qlen, &off, NULL, 0, name, &name_len) >= 0;
	uint16_t flags = (uint16_t)(DNS_F_QR | (m->flags & (0x7800 | DNS_F_RD | DNS_F_CD)) |
				    (tc ? DNS_F_TC : 0) | (rcode & 0xf));

	dns_w_init(&w, out, cap);
	dns_w_header(&w, m->id, flags, copy_q ? 1 : 0, 0, 0, m->has_opt ? 1 : 0);
	if (copy_q) {
		dns_w_bytes(&w, name, name_len);
		dns_w_u16(&w, m->qtype);
		dns_w_u16(&w, m->qclass);
	}
	if (m->has_opt)
		dns_w_opt(&w, DNS_EDNS_SIZE, m->opt_ttl & 0x8000u);
	return dns_w_done(&w);
}

int dns_reply_formerr_raw(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap)
{
	struct dns_writer w;
	uint16_t id = qlen >= 2 ? rd16(q) : 0;
	uint16_t flags = qlen >= 4 ? rd16(q + 2) : 0;

	dns_w_init(&w, out, cap);
	dns_w_header(&w, id, (uint16_t)(DNS_F_QR | (flags & (0x7800 | DNS_F_RD)) | DNS_FORMERR), 0,
		     0, 0, 0);
	return dns_w_done(&w);
}

int dns_build_query(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t qtype,
		    bool rd)
{
	struct dns_writer w;

	dns_w_init(&w, out, cap);
	dns_w_header(&w, id, rd ? DNS_F_RD : 0, 1, 0, 0, 0);
	if (dns_w_name(&w, name) < 0)
		return -1;
	dns_w_u16(&w, qtype);
	dns_w_u16(&w, DNS_CLASS_IN);
	return dns_w_done(&w);
}

size_t dns_udp_limit(const struct dns_msg *m)
{
	if (!m->has_opt || m->opt_udp_size < DNS_UDP_MIN)
		return DNS_UDP_MIN;
	return m->opt_udp_size;
}
