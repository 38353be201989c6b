// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_netlink: the input is one received netlink datagram. Every message
 * the walker accepts goes through every receive-side parser of netfilter/:
 * ACK/error decoding, the element decoder, the dump renderer and the error
 * describer (with extended-ack offsets taken from the input), each message
 * also re-typed as every nf_tables object kind so that each attribute
 * schema sees every input. The datagram lives in a buffer of exactly its
 * length, so any read past it is an ASan report; decoded spans must lie
 * inside the message they came from.
 */
#include "fuzz_common.h"
#include "nft_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const uint16_t kinds[] = {NFT_MSG_NEWTABLE,  NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE,
				 NFT_MSG_DELRULE,   NFT_MSG_NEWSET,   NFT_MSG_NEWSETELEM,
				 NFT_MSG_DELSETELEM};

struct tally {
	const unsigned char *lo, *hi;
	unsigned n;
};

static int count_elem(const struct nft_elem_info *el, void *arg)
{
	struct tally *t = arg;

	ENSURE(el->key_len >= 1 && el->key_len <= sizeof(el->key));
	t->n++;
	return t->n > 1000 ? 1 : 0;
}

static void check_ack(const struct nlmsghdr *h)
{
	const unsigned char *lo = (const unsigned char *)h, *hi = lo + h->nlmsg_len;
	struct nl_ack ack;

	if (nl_parse_ack(h, &ack) < 0)
		return;
	ENSURE(ack.error >= 0 && ack.error <= 4095);
	if (ack.msg)
		ENSURE((const unsigned char *)ack.msg >= lo &&
		       (const unsigned char *)ack.msg + ack.msg_len <= hi);
}

static void each_schema(struct nlmsghdr *h, uint32_t offset)
{
	uint16_t type = h->nlmsg_type;
	char text[256];
	struct buf out;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct tally t = {0};
		h->nlmsg_type = (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | kinds[k]);
		(void)nft_elem_msg_parse(h, count_elem, &t);
		buf_init(&out, 1 << 16);
		(void)nft_dump_render(h, &out);
		ENSURE(out.len <= 1 << 16);
		buf_free(&out);
		nft_describe_msg(h, offset, text, sizeof(text));
		ENSURE(strlen(text) < sizeof(text));
		nft_describe_msg(h, 0, text, 1);
		ENSURE(text[0] == '\0');
	}
	h->nlmsg_type = type;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* malloc'd, so aligned like the receive buffer; exactly size bytes. */
	unsigned char *p = malloc(size ? size : 1);
	const struct nlmsghdr *h;
	const struct nlattr *tb[32], *a;
	struct nla_iter it;
	struct nl_walk w;
	uint32_t offset = 0;
	int r, msgs = 0;

	ENSURE(p);
	if (size)
		memcpy(p, data, size);
	if (size >= 4)
		memcpy(&offset, data + size - 4, 4);
	nl_walk_init(&w, p, size);
	while ((r = nl_walk_next(&w, &h)) > 0) {
		ENSURE((const unsigned char *)h >= p && h->nlmsg_len >= sizeof(*h) &&
		       (const unsigned char *)h + h->nlmsg_len <= p + size);
		msgs++;
		check_ack(h);
		each_schema((struct nlmsghdr *)h, offset % (h->nlmsg_len + 8));
	}
	ENSURE(r == 0 || r == -EBADMSG);
	(void)nft_batch_find(p, size, offset);

	/* The input as a bare attribute stream, and each attribute as an element. */
	if (nla_parse(tb, 31, p, size) == 0) {
		nla_iter_init(&it, p, size);
		while (nla_next(&it, &a) > 0) {
			struct nft_elem_info info;
			const void *v;
			size_t vl;
			ENSURE(nla_len(a) <= size);
			if (nft_elem_decode(a, &info) == 0)
				ENSURE(info.key_len >= 1 && info.key_len <= 16);
			if (nla_get_data_value(a, &v, &vl) == 0)
				ENSURE((const unsigned char *)v >= p &&
				       (const unsigned char *)v + vl <= p + size);
		}
	}
	free(p);
	return 0;
}
