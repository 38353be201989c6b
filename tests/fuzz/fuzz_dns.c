// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_dns: egressd's DNS codec on arbitrary messages. dns_parse must never
 * read past the input (an exact-size copy, so ASan sees it), must return the
 * whole length or less, and everything built from a parsed message (the
 * address walk, the NXDOMAIN/TC/FORMERR replies) must parse back with the
 * same id and question.
 */
#include "dns.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = (uint8_t *)dup_exact((const char *)data, size);
	uint8_t out[700];
	struct dns_msg m, r;
	struct dns_addr addrs[16];

	int n = dns_parse(p, size, &m);
	ENSURE(n == -1 || n == -2 || (n >= DNS_HDR_LEN && (size_t)n <= size));
	if (n > 0) {
		ENSURE(strlen(m.qname) < DNS_NAME_TEXT_MAX);
		int na = dns_answer_addrs(p, size, &m, addrs, 16);
		ENSURE(na >= 0 && na <= 16);
		for (int i = 0; i < na; i++)
			ENSURE(addrs[i].family == 4 || addrs[i].family == 6);
		for (int rc = DNS_FORMERR; rc <= DNS_NXDOMAIN; rc++) {
			int k = dns_reply_rcode(p, size, &m, rc, rc == DNS_SERVFAIL, out,
						sizeof(out));
			if (k < 0)
				continue;
			ENSURE(dns_parse(out, (size_t)k, &r) == k);
			ENSURE(r.id == m.id && DNS_RCODE(r.flags) == rc && (r.flags & DNS_F_QR));
			if (m.qdcount == 1) {
				ENSURE(r.qdcount == 1 && !strcmp(r.qname, m.qname));
				ENSURE(r.qtype == m.qtype && r.qclass == m.qclass);
			}
			ENSURE(r.has_opt == m.has_opt);
		}
	}
	int k = dns_reply_formerr_raw(p, size, out, sizeof(out));
	ENSURE(k == DNS_HDR_LEN && dns_parse(out, (size_t)k, &r) == k);
	/* names at every offset: bounded, no loops */
	for (size_t off = 0; off < size && off < 64; off++) {
		char name[DNS_NAME_TEXT_MAX];
		size_t o = off;
		int l = dns_name_read(p, size, &o, name, sizeof(name));
		ENSURE(l < DNS_NAME_TEXT_MAX);
		if (l >= 0)
			ENSURE(o > off && o <= size && strlen(name) == (size_t)l);
	}
	free(p);
	return 0;
}
