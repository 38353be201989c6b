// SPDX-License-Identifier: Apache-2.0
/*
 * nl_build: checked construction of netlink messages and attributes in a
 * caller-owned buffer. A put that does not fit writes nothing, so a caller
 * can always roll back to an offset it saved.
 */
#include "nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* Room for n bytes (plus alignment padding), zero-filled; NULL if it does not fit. */
static void *reserve(struct nl_buf *nb, size_t n)
{
	size_t aligned = NLA_ALIGN(n);
	void *p;

	if (aligned < n || nb->len > nb->cap || nb->cap - nb->len < aligned)
		return NULL;
	p = nb->p + nb->len;
	memset(p, 0, aligned);
	nb->len += aligned;
	return p;
}

long nl_msg_start_raw(struct nl_buf *nb, uint16_t type, uint16_t flags, uint8_t family,
		      uint16_t res_id)
{
	size_t off = nb->len;
	struct nlmsghdr *h = reserve(nb, sizeof(*h) + sizeof(struct nfgenmsg));
	struct nfgenmsg *g;

	if (!h)
		return -ENOSPC;
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_len = sizeof(*h) + sizeof(*g);
	g = (struct nfgenmsg *)(h + 1);
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return (long)off;
}

long nl_msg_start(struct nl_buf *nb, uint16_t type, uint16_t flags, uint8_t family)
{
	return nl_msg_start_raw(nb, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | type), flags, family, 0);
}

void nl_msg_end(struct nl_buf *nb, long off)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(nb->p + off);

	h->nlmsg_len = (uint32_t)(nb->len - (size_t)off);
}

void nl_buf_truncate(struct nl_buf *nb, size_t off)
{
	if (off < nb->len)
		nb->len = off;
}

int nla_put(struct nl_buf *nb, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a;

	if (len > 0xffff - NLA_HDRLEN)
		return -EMSGSIZE;
	a = reserve(nb, NLA_HDRLEN + len);
	if (!a)
		return -ENOSPC;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((unsigned char *)a + NLA_HDRLEN, data, len);
	return 0;
}

int nla_put_str(struct nl_buf *nb, uint16_t type, const char *s)
{
	return nla_put(nb, type, s, strlen(s) + 1);
}

int nla_put_be32(struct nl_buf *nb, uint16_t type, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};

	return nla_put(nb, type, b, sizeof(b));
}

int nla_put_be64(struct nl_buf *nb, uint16_t type, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	return nla_put(nb, type, b, sizeof(b));
}

long nla_nest_start(struct nl_buf *nb, uint16_t type)
{
	size_t off = nb->len;
	struct nlattr *a = reserve(nb, NLA_HDRLEN);

	if (!a)
		return -ENOSPC;
	a->nla_type = type | NLA_F_NESTED;
	a->nla_len = NLA_HDRLEN;
	return (long)off;
}

int nla_nest_end(struct nl_buf *nb, long off)
{
	struct nlattr *a = (struct nlattr *)(nb->p + off);
	size_t n = nb->len - (size_t)off;

	if (n > 0xffff)
		return -EMSGSIZE;
	a->nla_len = (uint16_t)n;
	return 0;
}

void nla_nest_cancel(struct nl_buf *nb, long off)
{
	nl_buf_truncate(nb, (size_t)off);
}
