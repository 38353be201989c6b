// SPDX-License-Identifier: Apache-2.0
#include "tls_san.h"

#include <arpa/inet.h>
#include <string.h>

#define DER_SEQUENCE	 0x30
#define DER_OID		 0x06
#define DER_BOOLEAN	 0x01
#define DER_OCTET_STRING 0x04
#define DER_EXTENSIONS	 0xa3 /* [3] EXPLICIT, constructed */
#define DER_SAN_IP	 0x87 /* GeneralName iPAddress: [7] IMPLICIT OCTET STRING */

/* id-ce-subjectAltName, 2.5.29.17 */
static const unsigned char oid_san[] = {0x55, 0x1d, 0x11};

/* A window into the certificate: the bytes not walked yet. */
struct der {
	const unsigned char *p;
	size_t len;
};

/*
 * Takes the next TLV off d into tag and val. Only what DER allows is
 * accepted: low tag numbers, definite lengths in minimal form, at most four
 * length bytes. 0, or -1 when malformed or running past d.
 */
static int der_take(struct der *d, unsigned *tag, struct der *val)
{
	size_t hdr = 2, n;

	if (d->len < 2)
		return -1;
	*tag = d->p[0];
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	n = d->p[1];
	if (n & 0x80) {
		size_t k = n & 0x7f;

		if (k == 0 || k > 4 || d->len - 2 < k)
			return -1;
		if (d->p[2] == 0)
			return -1;
		n = 0;
		for (size_t i = 0; i < k; i++)
			n = (n << 8) | d->p[2 + i];
		if (n < 0x80)
			return -1;
		hdr += k;
	}
	if (d->len - hdr < n)
		return -1;
	val->p = d->p + hdr;
	val->len = n;
	d->p += hdr + n;
	d->len -= hdr + n;
	return 0;
}

static int der_expect(struct der *d, unsigned want, struct der *val)
{
	unsigned tag;

	if (der_take(d, &tag, val) < 0 || tag != want)
		return -1;
	return 0;
}

/*
 * Finds the subjectAltName extension value (the GeneralNames DER) in a
 * certificate. 1 and *san set, 0 when absent, -1 when malformed.
 */
static int find_san(const unsigned char *cert, size_t len, struct der *san)
{
	struct der all = {cert, len}, crt, tbs, el;
	int found = 0, seen_exts = 0;
	unsigned tag;

	if (der_expect(&all, DER_SEQUENCE, &crt) < 0 || all.len != 0)
		return -1;
	if (der_expect(&crt, DER_SEQUENCE, &tbs) < 0)
		return -1;
	while (tbs.len) {
		struct der exts;

		if (der_take(&tbs, &tag, &el) < 0)
			return -1;
		if (tag != DER_EXTENSIONS)
			continue;
		if (seen_exts++)
			return -1;
		if (der_expect(&el, DER_SEQUENCE, &exts) < 0 || el.len != 0)
			return -1;
		while (exts.len) {
			struct der ext, oid, val;

			if (der_expect(&exts, DER_SEQUENCE, &ext) < 0)
				return -1;
			if (der_expect(&ext, DER_OID, &oid) < 0)
				return -1;
			if (ext.len && ext.p[0] == DER_BOOLEAN && der_take(&ext, &tag, &val) < 0)
				return -1;
			if (der_expect(&ext, DER_OCTET_STRING, &val) < 0 || ext.len != 0)
				return -1;
			if (oid.len != sizeof(oid_san) || memcmp(oid.p, oid_san, sizeof(oid_san)))
				continue;
			/* RFC 5280 forbids repeating an extension; two SANs would be ambiguous. */
			if (found)
				return -1;
			found = 1;
			*san = val;
		}
	}
	return found;
}

int tls_san_match_ip(const unsigned char *cert, size_t len, const unsigned char *ip, size_t ip_len)
{
	struct der san, names, name;
	int r, match = 0;
	unsigned tag;

	r = find_san(cert, len, &san);
	if (r <= 0)
		return r;
	if (der_expect(&san, DER_SEQUENCE, &names) < 0 || san.len != 0)
		return -1;
	/* Walk every name even after a match, so a malformed list is never accepted. */
	while (names.len) {
		if (der_take(&names, &tag, &name) < 0)
			return -1;
		if (tag == DER_SAN_IP && (ip_len == 4 || ip_len == 16) && name.len == ip_len &&
		    memcmp(name.p, ip, ip_len) == 0)
			match = 1;
	}
	return match;
}

int tls_san_parse_ip(const char *name, unsigned char ip[16])
{
	char buf[INET6_ADDRSTRLEN];
	size_t n = strlen(name);

	if (inet_pton(AF_INET, name, ip) == 1)
		return 4;
	if (n >= 2 && name[0] == '[' && name[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return 0;
		memcpy(buf, name + 1, n - 2);
		buf[n - 2] = '\0';
		name = buf;
	}
	if (inet_pton(AF_INET6, name, ip) == 1)
		return 16;
	return 0;
}
