// SPDX-License-Identifier: Apache-2.0
/*
 * match: the expression sequences nft generates for common matches, so a
 * rule built here lists back (`nft list ruleset`) as the statement named in
 * nft.h. All use register 1, as nft does.
 */
#include "nft_int.h"

#include <errno.h>
#include <string.h>

#define IFNAME_SIZE 16 /* IFNAMSIZ */

static int meta_eq(struct nft_batch *b, enum nft_meta_key key, const void *v, size_t len)
{
	int r = nft_expr_meta(b, key, NFT_R1);

	return r < 0 ? r : nft_expr_cmp(b, NFT_OP_EQ, NFT_R1, v, len);
}

int nft_match_mark(struct nft_batch *b, uint32_t mark)
{
	/* The mark is a host-order u32, as the kernel keeps skb->mark. */
	return meta_eq(b, NFT_M_MARK, &mark, sizeof(mark));
}

static int ifname_eq(struct nft_batch *b, enum nft_meta_key key, const char *ifname)
{
	char name[IFNAME_SIZE] = {0};
	size_t n = ifname ? strlen(ifname) : 0;

	if (n == 0 || n >= IFNAME_SIZE) {
		if (b->rule_off && !b->rule_err)
			b->rule_err = -EINVAL;
		return -EINVAL;
	}
	memcpy(name, ifname, n);
	return meta_eq(b, key, name, sizeof(name));
}

int nft_match_oifname(struct nft_batch *b, const char *ifname)
{
	return ifname_eq(b, NFT_M_OIFNAME, ifname);
}

int nft_match_iifname(struct nft_batch *b, const char *ifname)
{
	return ifname_eq(b, NFT_M_IIFNAME, ifname);
}

int nft_match_saddr_not_local(struct nft_batch *b)
{
	uint32_t local = NFT_RTN_LOCAL;
	int r = nft_expr_fib_saddr_type(b, NFT_R1);

	return r < 0 ? r : nft_expr_cmp(b, NFT_OP_NEQ, NFT_R1, &local, sizeof(local));
}

int nft_match_l4proto(struct nft_batch *b, uint8_t proto)
{
	return meta_eq(b, NFT_M_L4PROTO, &proto, 1);
}

int nft_match_nfproto(struct nft_batch *b, enum nft_family family)
{
	uint8_t v = (uint8_t)family;

	return meta_eq(b, NFT_M_NFPROTO, &v, 1);
}

/* ct KEY & bits OP 0 */
static int ct_bits(struct nft_batch *b, enum nft_ct_key key, uint32_t bits, enum nft_cmp_op op)
{
	static const uint32_t zero;
	int r = nft_expr_ct(b, key, NFT_R1);

	if (r == 0)
		r = nft_expr_bitwise(b, NFT_R1, NFT_R1, &bits, &zero, sizeof(bits));
	return r < 0 ? r : nft_expr_cmp(b, op, NFT_R1, &zero, sizeof(zero));
}

int nft_match_ct_state(struct nft_batch *b, uint32_t states)
{
	return ct_bits(b, NFT_CTK_STATE, states, NFT_OP_NEQ);
}

int nft_match_ct_status_clear(struct nft_batch *b, uint32_t bits)
{
	return ct_bits(b, NFT_CTK_STATUS, bits, NFT_OP_EQ);
}

int nft_match_dport(struct nft_batch *b, uint8_t proto, uint16_t port)
{
	unsigned char be[2] = {(unsigned char)(port >> 8), (unsigned char)port};
	int r = nft_match_l4proto(b, proto);

	if (r == 0)
		r = nft_expr_payload(b, NFT_PB_TRANSPORT, 2, 2, NFT_R1);
	return r < 0 ? r : nft_expr_cmp(b, NFT_OP_EQ, NFT_R1, be, sizeof(be));
}

/* The family guard an address match needs in this rule's table, or -EINVAL
 * when the table's family cannot carry that address family. */
static int family_guard(struct nft_batch *b, enum nft_key_type key)
{
	int want = key == NFT_KEY_IPV6 ? NFT_IP6 : NFT_IP;

	if (!b->rule_off)
		return -EINVAL;
	if (b->family == NFT_INET)
		return nft_match_nfproto(b, (enum nft_family)want);
	if (b->family != want) {
		if (!b->rule_err)
			b->rule_err = -EINVAL;
		return -EINVAL;
	}
	return 0;
}

static uint32_t daddr_offset(enum nft_key_type key)
{
	return key == NFT_KEY_IPV6 ? 24 : 16; /* ip6 daddr : ip daddr */
}

int nft_match_daddr(struct nft_batch *b, enum nft_key_type key, const struct nft_elem *prefix)
{
	unsigned bits = key == NFT_KEY_IPV6 ? 128 : 32, plen = prefix->prefix;
	unsigned char addr[16], mask[16] = {0}, zero[16] = {0};
	uint32_t len;
	int r;

	if (plen == 0 || plen > bits) {
		if (b->rule_off && !b->rule_err)
			b->rule_err = -EINVAL;
		return -EINVAL;
	}
	/* Like nft: a whole-byte prefix loads only its bytes; any other loads the
	 * whole address and masks it. */
	len = plen % 8 ? bits / 8 : plen / 8;
	memcpy(addr, prefix->addr, len);
	for (uint32_t i = 0; i < len; i++) {
		int keep = (int)plen - 8 * (int)i;
		mask[i] = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
		addr[i] &= mask[i];
	}
	if ((r = family_guard(b, key)) < 0 ||
	    (r = nft_expr_payload(b, NFT_PB_NETWORK, daddr_offset(key), len, NFT_R1)) < 0)
		return r;
	if (plen % 8 && (r = nft_expr_bitwise(b, NFT_R1, NFT_R1, mask, zero, len)) < 0)
		return r;
	return nft_expr_cmp(b, NFT_OP_EQ, NFT_R1, addr, len);
}

int nft_match_daddr_set(struct nft_batch *b, enum nft_key_type key, const char *set, bool invert)
{
	int r = family_guard(b, key);

	if (r == 0)
		r = nft_expr_payload(b, NFT_PB_NETWORK, daddr_offset(key),
				     key == NFT_KEY_IPV6 ? 16 : 4, NFT_R1);
	return r < 0 ? r : nft_expr_lookup(b, set, NFT_R1, invert);
}
