// SPDX-License-Identifier: Apache-2.0
/* egressd's DNS codec: parse, every truncation point, pointer loops, bad lengths, builders. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "unit.h"

/* A response: allowed.test CNAME www.allowed.test (compressed), A, AAAA, OPT. */
static size_t build_response(uint8_t *out, size_t cap)
{
	struct dns_writer w;
	static const uint8_t a[4] = {203, 0, 113, 10};
	static const uint8_t aaaa[16] = {0xfd, 0, 0, 0x80, [15] = 0x10};
	dns_w_init(&w, out, cap);
	dns_w_header(&w, 0x1234, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 3, 0, 1);
	dns_w_name(&w, "WWW.Allowed.test");
	dns_w_u16(&w, DNS_T_A);
	dns_w_u16(&w, DNS_CLASS_IN);
	/* answer 1: pointer to the question name, CNAME -> "allowed" + pointer to "test" */
	static const uint8_t ptr_q[2] = {0xc0, 12};
	dns_w_bytes(&w, ptr_q, 2);
	dns_w_u16(&w, DNS_T_CNAME);
	dns_w_u16(&w, DNS_CLASS_IN);
	dns_w_u32(&w, 30);
	static const uint8_t target[] = {7, 'a', 'l', 'l', 'o', 'w', 'e', 'd', 0xc0, 12 + 4 + 8};
	dns_w_u16(&w, sizeof(target));
	size_t target_off = w.len;
	dns_w_bytes(&w, target, sizeof(target));
	/* answers 2, 3: owned by the CNAME target (pointer to it) */
	uint8_t ptr_t[2] = {0xc0, (uint8_t)target_off};
	dns_w_bytes(&w, ptr_t, 2);
	dns_w_u16(&w, DNS_T_A);
	dns_w_u16(&w, DNS_CLASS_IN);
	dns_w_u32(&w, 120);
	dns_w_u16(&w, 4);
	dns_w_bytes(&w, a, 4);
	dns_w_bytes(&w, ptr_t, 2);
	dns_w_u16(&w, DNS_T_AAAA);
	dns_w_u16(&w, DNS_CLASS_IN);
	dns_w_u32(&w, 0x80000001u); /* top bit set: read as 0 */
	dns_w_u16(&w, 16);
	dns_w_bytes(&w, aaaa, 16);
	dns_w_opt(&w, 4096, 0x8000);
	return (size_t)dns_w_done(&w);
}

TEST(egress_dns_parse_query)
{
	uint8_t q[512];
	struct dns_msg m;
	int n = dns_build_query(q, sizeof(q), 0xbeef, "Allowed.TEST.", DNS_T_AAAA, true);
	CHECK(n > 0);
	CHECK_INT(dns_parse(q, (size_t)n, &m), n);
	CHECK_INT(m.id, 0xbeef);
	CHECK_INT(m.qdcount, 1);
	CHECK_STR(m.qname, "allowed.test");
	CHECK_INT(m.qtype, DNS_T_AAAA);
	CHECK_INT(m.qclass, DNS_CLASS_IN);
	CHECK(m.flags & DNS_F_RD);
	CHECK(!m.has_opt);
	CHECK_INT(dns_udp_limit(&m), 512);

	n = dns_build_query(q, sizeof(q), 1, ".", DNS_T_NS, true);
	CHECK_INT(dns_parse(q, (size_t)n, &m), n);
	CHECK_STR(m.qname, "");
	CHECK_INT(dns_build_query(q, sizeof(q), 1, "a..b", DNS_T_A, true), -1);
	CHECK_INT(dns_build_query(q, 20, 1, "a-long-name.example.test", DNS_T_A, true), -1);
}

TEST(egress_dns_response_and_addrs)
{
	uint8_t r[512];
	struct dns_msg m;
	struct dns_addr a[4];
	size_t len = build_response(r, sizeof(r));
	CHECK_INT(dns_parse(r, len, &m), (int)len);
	CHECK_STR(m.qname, "www.allowed.test");
	CHECK_INT(m.ancount, 3);
	CHECK(m.has_opt);
	CHECK_INT(m.opt_udp_size, 4096);
	CHECK_INT(dns_udp_limit(&m), 4096);
	CHECK_INT(dns_answer_addrs(r, len, &m, a, 4), 2);
	CHECK_INT(a[0].family, 4);
	CHECK_INT(a[0].addr[0], 203);
	CHECK_INT(a[0].addr[3], 10);
	CHECK_INT(a[0].ttl, 120);
	CHECK_INT(a[1].family, 6);
	CHECK_INT(a[1].addr[0], 0xfd);
	CHECK_INT(a[1].ttl, 0);
	CHECK_INT(dns_answer_addrs(r, len, &m, a, 1), 1);

	char name[DNS_NAME_TEXT_MAX];
	size_t off = 12 + 18 + 4 + 12; /* the CNAME's RDATA */
	CHECK_INT(dns_name_read(r, len, &off, name, sizeof(name)), 12);
	CHECK_STR(name, "allowed.test");
}

TEST(egress_dns_every_truncation_point)
{
	uint8_t r[512], q[512];
	struct dns_msg m;
	size_t len = build_response(r, sizeof(r));
	for (size_t i = 0; i < len; i++)
		if (dns_parse(r, i, &m) != -2)
			unit_fail(__FILE__, __LINE__, "response prefix %zu: %d, expected -2", i,
				  dns_parse(r, i, &m));
	int qn = dns_build_query(q, sizeof(q), 7, "a.b.test", DNS_T_A, false);
	for (int i = 0; i < qn; i++)
		if (dns_parse(q, (size_t)i, &m) != -2)
			unit_fail(__FILE__, __LINE__, "query prefix %d not -2", i);
}

TEST(egress_dns_pointer_loops)
{
	struct dns_msg m;
	/* question name is a pointer to itself */
	uint8_t self[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
	CHECK_INT(dns_parse(self, sizeof(self), &m), -1);
	/* forward pointer */
	uint8_t fwd[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 1, 'a', 0, 0, 1, 0, 1};
	CHECK_INT(dns_parse(fwd, sizeof(fwd), &m), -1);
	/* two names pointing at each other: answer owner -> 18 -> answer owner */
	uint8_t pair[] = {0, 1, 0x80, 0,    0,	1, 0, 1, 0, 0, 0, 0, 1, 'a', 0, 0,
			  1, 0, 1,    0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 1, 0,   0};
	CHECK_INT(dns_parse(pair, sizeof(pair), &m), -1);
	/* a pointer into a label that leads back (1 -> label -> pointer to 12) */
	uint8_t back[] = {0, 1, 0x80, 0, 0,    1,  0, 1, 0, 0, 0, 0, 1, 'a', 0xc0, 12,
			  0, 1, 0,    1, 0xc0, 14, 0, 1, 0, 1, 0, 0, 0, 1,   0,	   0};
	CHECK_INT(dns_parse(back, sizeof(back), &m), -1);
	/* a long chain of valid backward pointers is fine */
	uint8_t ok[] = {0, 1, 0x80, 0,	  0,  1, 0, 1, 0, 0, 0, 0, 1, 'a', 0, 0,
			1, 0, 1,    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0,   0};
	CHECK_INT(dns_parse(ok, sizeof(ok), &m), (int)sizeof(ok));
}

TEST(egress_dns_malformed_lengths)
{
	struct dns_msg m;
	uint8_t buf[600];
	/* label type 0x40 / 0x80 */
	uint8_t ext[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1};
	CHECK_INT(dns_parse(ext, sizeof(ext), &m), -1);
	ext[12] = 0x81;
	CHECK_INT(dns_parse(ext, sizeof(ext), &m), -1);
	/* a name over 255 octets: 5 labels of 63 */
	size_t n = 0;
	memcpy(buf, (uint8_t[]){0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 12);
	n = 12;
	for (int l = 0; l < 5; l++) {
		buf[n++] = 63;
		memset(buf + n, 'x', 63);
		n += 63;
	}
	buf[n++] = 0;
	memcpy(buf + n, (uint8_t[]){0, 1, 0, 1}, 4);
	n += 4;
	CHECK_INT(dns_parse(buf, n, &m), -1);
	/* RDATA length past the end */
	uint8_t rd[] = {0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
			0, 1, 0,    1, 0, 0, 0, 1, 0, 9, 1, 2};
	CHECK_INT(dns_parse(rd, sizeof(rd), &m), -2);
	/* counts promise more records than there are */
	uint8_t cnt[] = {0, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
	CHECK_INT(dns_parse(cnt, sizeof(cnt), &m), -2);
	/* a dot or a space inside a question label */
	uint8_t dot[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', '.', 'b', 0, 0, 1, 0, 1};
	CHECK_INT(dns_parse(dot, sizeof(dot), &m), -1);
	dot[14] = ' ';
	CHECK_INT(dns_parse(dot, sizeof(dot), &m), -1);
	/* OPT in the answer section, and two OPTs */
	uint8_t opt_an[] = {0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0};
	CHECK_INT(dns_parse(opt_an, sizeof(opt_an), &m), -1);
	uint8_t opt2[] = {0, 1, 0, 0, 0, 0, 0, 0, 0,  0,  0, 2, 0, 0, 41, 16, 0,
			  0, 0, 0, 0, 0, 0, 0, 0, 41, 16, 0, 0, 0, 0, 0,  0,  0};
	CHECK_INT(dns_parse(opt2, sizeof(opt2), &m), -1);
	opt2[11] = 1;
	CHECK_INT(dns_parse(opt2, 23, &m), 23);
	CHECK(m.has_opt);
	/* OPT not owned by the root */
	uint8_t optn[] = {0,   1, 0, 0,	 0,  0, 0, 0, 0, 0, 0, 1, 1,
			  'a', 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0};
	CHECK_INT(dns_parse(optn, sizeof(optn), &m), -1);
}

TEST(egress_dns_replies)
{
	uint8_t q[512], out[512];
	struct dns_msg m, r;
	struct dns_writer w;
	dns_w_init(&w, q, sizeof(q));
	dns_w_header(&w, 0x4242, DNS_F_RD | DNS_F_CD, 1, 0, 0, 1);
	dns_w_name(&w, "denied.test");
	dns_w_u16(&w, DNS_T_A);
	dns_w_u16(&w, DNS_CLASS_IN);
	dns_w_opt(&w, 1400, 0x8000);
	int qn = dns_w_done(&w);
	CHECK_INT(dns_parse(q, (size_t)qn, &m), qn);
	int n = dns_reply_rcode(q, (size_t)qn, &m, DNS_NXDOMAIN, false, out, sizeof(out));
	CHECK(n > 0);
	CHECK_INT(dns_parse(out, (size_t)n, &r), n);
	CHECK_INT(r.id, 0x4242);
	CHECK_INT(DNS_RCODE(r.flags), DNS_NXDOMAIN);
	CHECK(r.flags & DNS_F_QR);
	CHECK(r.flags & DNS_F_RD);
	CHECK(r.flags & DNS_F_CD);
	CHECK(!(r.flags & (DNS_F_AA | DNS_F_RA | DNS_F_TC)));
	CHECK_INT(r.qdcount, 1);
	CHECK_STR(r.qname, "denied.test");
	CHECK_INT(r.ancount + r.nscount, 0);
	CHECK(r.has_opt);
	CHECK_INT(r.opt_udp_size, DNS_EDNS_SIZE);
	CHECK_INT(r.opt_ttl, 0x8000);
	n = dns_reply_rcode(q, (size_t)qn, &m, DNS_NOERROR, true, out, sizeof(out));
	CHECK_INT(dns_parse(out, (size_t)n, &r), n);
	CHECK(r.flags & DNS_F_TC);
	CHECK_INT(dns_reply_rcode(q, (size_t)qn, &m, DNS_NXDOMAIN, false, out, 20), -1);
	/* FORMERR for garbage keeps the id */
	n = dns_reply_formerr_raw((const uint8_t *)"\x99\x01\x01", 3, out, sizeof(out));
	CHECK_INT(n, 12);
	CHECK_INT(dns_parse(out, 12, &r), 12);
	CHECK_INT(r.id, 0x9901);
	CHECK_INT(DNS_RCODE(r.flags), DNS_FORMERR);
	/* two questions: FORMERR without a question */
	uint8_t two[64];
	dns_w_init(&w, two, sizeof(two));
	dns_w_header(&w, 5, 0, 2, 0, 0, 0);
	dns_w_name(&w, "a.test");
	dns_w_u16(&w, 1);
	dns_w_u16(&w, 1);
	dns_w_name(&w, "b.test");
	dns_w_u16(&w, 1);
	dns_w_u16(&w, 1);
	qn = dns_w_done(&w);
	CHECK_INT(dns_parse(two, (size_t)qn, &m), qn);
	CHECK_STR(m.qname, "a.test");
	n = dns_reply_rcode(two, (size_t)qn, &m, DNS_FORMERR, false, out, sizeof(out));
	CHECK_INT(n, 12);
}

TEST(egress_dns_clamp_ttls)
{
	uint8_t r[512];
	struct dns_msg m;
	struct dns_addr a[4];
	size_t n = build_response(r, sizeof(r));
	CHECK_INT(dns_parse(r, n, &m), (int)n);
	uint32_t opt_ttl = m.opt_ttl;
	/* CNAME 30 stays, A 120 -> 60, the top-bit TTL (read as 0) and the OPT flags stay. */
	CHECK_INT(dns_clamp_ttls(r, n, &m, 60), 1);
	CHECK_INT(dns_parse(r, n, &m), (int)n);
	CHECK_INT(m.opt_ttl, opt_ttl);
	CHECK_INT(dns_answer_addrs(r, n, &m, a, 4), 2);
	CHECK_INT(a[0].ttl, 60);
	CHECK_INT(a[1].ttl, 0);
	CHECK_INT(dns_clamp_ttls(r, n, &m, 60), 0);
	/* Cut anywhere inside the records: refused, nothing written past the end. */
	for (size_t cut = m.answer_off; cut < n; cut++) {
		uint8_t *c = malloc(cut);
		memcpy(c, r, cut);
		CHECK_INT(dns_clamp_ttls(c, cut, &m, 1), -1);
		free(c);
	}
}

TEST(egress_dns_reply_expands_compressed_question)
{
	uint8_t out[512];
	struct dns_msg m, r;
	/* The question name is a pointer to offset 2 of the query (a 0 byte: the
	 * root). Copied raw, the reply's pointer would land on its own flags. */
	static const uint8_t q[] = {0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 2, 0, 1, 0, 1};
	CHECK_INT(dns_parse(q, sizeof(q), &m), (int)sizeof(q));
	CHECK_STR(m.qname, "");
	for (int rc = DNS_FORMERR; rc <= DNS_NXDOMAIN; rc++) {
		int n = dns_reply_rcode(q, sizeof(q), &m, rc, false, out, sizeof(out));
		CHECK_INT(n, 12 + 1 + 4);
		CHECK_INT(dns_parse(out, (size_t)n, &r), n);
		CHECK_INT(r.qdcount, 1);
		CHECK_STR(r.qname, "");
		CHECK_INT(r.qtype, 1);
		CHECK_INT(r.qclass, 1);
		CHECK_INT(out[12], 0);
	}
	/* A name read through a pointer comes out whole with its case kept
	 * (resolvers using 0x20 randomisation compare it): the id 0x0141 and the
	 * first flags byte spell the label "A". */
	static const uint8_t q2[] = {1, 'A', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 28, 0, 1};
	CHECK_INT(dns_parse(q2, sizeof(q2), &m), (int)sizeof(q2));
	CHECK_STR(m.qname, "a");
	int n = dns_reply_rcode(q2, sizeof(q2), &m, DNS_NXDOMAIN, false, out, sizeof(out));
	CHECK_INT(n, 12 + 3 + 4);
	CHECK(memcmp(out + 12,
		     "\x01"
		     "A\x00\x00\x1c\x00\x01",
		     7) == 0);
	CHECK_INT(dns_parse(out, (size_t)n, &r), n);
	CHECK_STR(r.qname, "a");
	CHECK_INT(r.id, 0x0141);
}
