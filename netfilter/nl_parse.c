// SPDX-License-Identifier: Apache-2.0
/*
 * nl_parse: bounds-checked reading of received netlink data. Every function
 * takes the range it may read and refuses, with -EBADMSG, any length field
 * that points outside it; multi-byte values are copied out with memcpy so
 * hostile alignment cannot matter either.
 */
#include "nl.h"

#include <errno.h>
#include <string.h>

#define ERRNO_MAX 4095

int nl_walk_next(struct nl_walk *w, const struct nlmsghdr **h)
{
	const struct nlmsghdr *m;
	size_t left, adv;

	if (w->off >= w->len)
		return 0;
	left = w->len - w->off;
	/* NLMSG_OK: the header must fit before any field of it is read. */
	if (left < sizeof(*m))
		return -EBADMSG;
	m = (const struct nlmsghdr *)(w->p + w->off);
	if (m->nlmsg_len < sizeof(*m) || m->nlmsg_len > left)
		return -EBADMSG;
	adv = NLMSG_ALIGN((size_t)m->nlmsg_len);
	w->off += adv < left ? adv : left;
	*h = m;
	return 1;
}

int nl_msg_attrs(const struct nlmsghdr *h, const struct nfgenmsg **nfg, const void **attrs,
		 size_t *len)
{
	size_t hl = NLMSG_ALIGN(sizeof(*h) + sizeof(struct nfgenmsg));

	if (h->nlmsg_len < hl)
		return -EBADMSG;
	if (nfg)
		*nfg = (const struct nfgenmsg *)(h + 1);
	*attrs = (const unsigned char *)h + hl;
	*len = h->nlmsg_len - hl;
	return 0;
}

int nla_next(struct nla_iter *it, const struct nlattr **a)
{
	const struct nlattr *x;
	size_t left, adv;

	if (it->off >= it->len)
		return 0;
	left = it->len - it->off;
	if (left < (size_t)NLA_HDRLEN)
		return -EBADMSG;
	x = (const struct nlattr *)(it->p + it->off);
	if (x->nla_len < NLA_HDRLEN || x->nla_len > left)
		return -EBADMSG;
	adv = NLA_ALIGN((size_t)x->nla_len);
	it->off += adv < left ? adv : left;
	*a = x;
	return 1;
}

int nla_parse(const struct nlattr **tb, unsigned max, const void *p, size_t len)
{
	struct nla_iter it;
	const struct nlattr *a;
	int r;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	nla_iter_init(&it, p, len);
	while ((r = nla_next(&it, &a)) > 0) {
		if (nla_type(a) <= max)
			tb[nla_type(a)] = a;
	}
	return r;
}

int nla_parse_nested(const struct nlattr **tb, unsigned max, const struct nlattr *nest)
{
	if (!nest) {
		memset(tb, 0, (max + 1) * sizeof(*tb));
		return -EBADMSG;
	}
	return nla_parse(tb, max, nla_data(nest), nla_len(nest));
}

int nla_get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || nla_len(a) != sizeof(*v))
		return -EBADMSG;
	memcpy(v, nla_data(a), sizeof(*v));
	return 0;
}

int nla_get_be32(const struct nlattr *a, uint32_t *v)
{
	const unsigned char *b;

	if (!a || nla_len(a) != 4)
		return -EBADMSG;
	b = nla_data(a);
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return 0;
}

int nla_get_be64(const struct nlattr *a, uint64_t *v)
{
	const unsigned char *b;

	if (!a || nla_len(a) != 8)
		return -EBADMSG;
	b = nla_data(a);
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v = *v << 8 | b[i];
	return 0;
}

int nla_get_str(const struct nlattr *a, char *out, size_t size)
{
	const char *s;
	size_t n;

	if (!a)
		return -EBADMSG;
	s = nla_data(a);
	n = strnlen(s, nla_len(a));
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

bool nla_str_eq(const struct nlattr *a, const char *s)
{
	size_t n;

	if (!a)
		return false;
	n = strnlen(nla_data(a), nla_len(a));
	return n == strlen(s) && memcmp(nla_data(a), s, n) == 0;
}

int nla_get_data_value(const struct nlattr *nest, const void **data, size_t *len)
{
	const struct nlattr *tb[NFTA_DATA_MAX + 1];

	if (nla_parse_nested(tb, NFTA_DATA_MAX, nest) < 0 || !tb[NFTA_DATA_VALUE])
		return -EBADMSG;
	*data = nla_data(tb[NFTA_DATA_VALUE]);
	*len = nla_len(tb[NFTA_DATA_VALUE]);
	return 0;
}

static int errno_of(int kernel_error)
{
	/* Kernel errors are negative; accept a positive one, reject non-errnos. */
	if (kernel_error < -ERRNO_MAX || kernel_error > ERRNO_MAX)
		return EPROTO;
	return kernel_error < 0 ? -kernel_error : kernel_error;
}

int nl_parse_ack(const struct nlmsghdr *h, struct nl_ack *ack)
{
	const size_t hl = sizeof(*h), el = sizeof(struct nlmsgerr);
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	const unsigned char *base = (const unsigned char *)h;
	struct nlmsgerr er;
	size_t off, len = h->nlmsg_len;

	memset(ack, 0, sizeof(*ack));
	if (h->nlmsg_type != NLMSG_ERROR || len < hl + el)
		return -EBADMSG;
	memcpy(&er, base + hl, el);
	ack->error = errno_of(er.error);
	ack->seq = er.msg.nlmsg_seq;
	ack->type = er.msg.nlmsg_type;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	off = NLMSG_ALIGN(hl + el);
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		/* The whole request follows; its header is er.msg. */
		size_t orig = er.msg.nlmsg_len;
		if (orig < hl || orig - hl > len - off)
			return -EBADMSG;
		off += NLMSG_ALIGN(orig - hl);
		if (off > len)
			return -EBADMSG;
	}
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, base + off, len - off) < 0)
		return -EBADMSG;
	if (tb[NLMSGERR_ATTR_MSG]) {
		ack->msg = nla_data(tb[NLMSGERR_ATTR_MSG]);
		ack->msg_len = strnlen(ack->msg, nla_len(tb[NLMSGERR_ATTR_MSG]));
	}
	if (tb[NLMSGERR_ATTR_OFFS] && nla_get_u32(tb[NLMSGERR_ATTR_OFFS], &ack->bad_offset) < 0)
		return -EBADMSG;
	return 0;
}
