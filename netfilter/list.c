// SPDX-License-Identifier: Apache-2.0
/*
 * list: reading a set's elements back (a GETSETELEM dump), with each
 * element's timeout and the time it has left.
 */
#include "nft_int.h"

#include <errno.h>
#include <string.h>

int nft_elem_decode(const struct nlattr *nest, struct nft_elem_info *info)
{
	const struct nlattr *tb[NFTA_SET_ELEM_MAX + 1];
	const void *key;
	size_t klen;
	uint32_t flags = 0;

	memset(info, 0, sizeof(*info));
	if (nla_parse_nested(tb, NFTA_SET_ELEM_MAX, nest) < 0 ||
	    nla_get_data_value(tb[NFTA_SET_ELEM_KEY], &key, &klen) < 0 || klen == 0 ||
	    klen > sizeof(info->key))
		return -EBADMSG;
	memcpy(info->key, key, klen);
	info->key_len = (uint8_t)klen;
	if ((tb[NFTA_SET_ELEM_FLAGS] && nla_get_be32(tb[NFTA_SET_ELEM_FLAGS], &flags) < 0) ||
	    (tb[NFTA_SET_ELEM_TIMEOUT] &&
	     nla_get_be64(tb[NFTA_SET_ELEM_TIMEOUT], &info->timeout_ms) < 0) ||
	    (tb[NFTA_SET_ELEM_EXPIRATION] &&
	     nla_get_be64(tb[NFTA_SET_ELEM_EXPIRATION], &info->expires_ms) < 0))
		return -EBADMSG;
	info->interval_end = flags & NFT_SET_ELEM_INTERVAL_END;
	return 0;
}

int nft_elem_msg_parse(const struct nlmsghdr *h, nft_elem_cb *cb, void *arg)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1], *a;
	struct nft_elem_info info;
	struct nla_iter it;
	const void *attrs;
	size_t len;
	int r;

	if (h->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM) ||
	    nl_msg_attrs(h, NULL, &attrs, &len) < 0 ||
	    nla_parse(tb, NFTA_SET_ELEM_LIST_MAX, attrs, len) < 0)
		return -EBADMSG;
	if (!tb[NFTA_SET_ELEM_LIST_ELEMENTS])
		return 0;
	nla_iter_init(&it, nla_data(tb[NFTA_SET_ELEM_LIST_ELEMENTS]),
		      nla_len(tb[NFTA_SET_ELEM_LIST_ELEMENTS]));
	while ((r = nla_next(&it, &a)) > 0) {
		if (nft_elem_decode(a, &info) < 0)
			return -EBADMSG;
		if ((r = cb(&info, arg)) != 0)
			return r;
	}
	return r;
}

struct list_ctx {
	nft_elem_cb *cb;
	void *arg;
};

static int list_msg(const struct nlmsghdr *h, void *arg)
{
	struct list_ctx *c = arg;

	return nft_elem_msg_parse(h, c->cb, c->arg);
}

int nft_elem_list(struct nft_sock *s, int family, const char *table, const char *set,
		  nft_elem_cb *cb, void *arg, struct err *e)
{
	uint32_t space[(2 * NFT_NAME_MAX + 64) / 4];
	struct nl_buf nb = {(unsigned char *)space, 0, sizeof(space)};
	struct list_ctx c = {cb, arg};
	long off;
	int r;

	if ((r = nft_check_family(family, e)) < 0 || (r = nft_check_name(table, "table", e)) < 0 ||
	    (r = nft_check_name(set, "set", e)) < 0)
		return NFT_WRAP(r, e, "list set");
	off = nl_msg_start(&nb, NFT_MSG_GETSETELEM, NLM_F_DUMP, (uint8_t)family);
	if (off < 0 || nla_put_str(&nb, NFTA_SET_ELEM_LIST_TABLE, table) < 0 ||
	    nla_put_str(&nb, NFTA_SET_ELEM_LIST_SET, set) < 0)
		return err_set(e, ENOSPC, "list set: request too long");
	nl_msg_end(&nb, off);
	r = nl_request(s, &nb, list_msg, &c);
	if (r < 0)
		return err_set(e, -r, "list set %s %s %s", nft_family_name(family), table, set);
	return r;
}
