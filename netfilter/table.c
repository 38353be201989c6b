// SPDX-License-Identifier: Apache-2.0
/*
 * table: table and chain messages.
 */
#include "nft_int.h"

#include <errno.h>

static const char *const chain_types[] = {
	[NFT_TYPE_FILTER] = "filter",
	[NFT_TYPE_NAT] = "nat",
	[NFT_TYPE_ROUTE] = "route",
};

static int table_msg(struct nft_batch *b, uint16_t type, uint16_t flags, int family,
		     const char *table, const char *op, struct err *e)
{
	struct nl_buf nb = batch_window(b);
	long off;
	int r;

	if ((r = nft_check_family(family, e)) < 0 || (r = nft_check_name(table, "table", e)) < 0)
		return NFT_WRAP(r, e, "%s table", op);
	off = nft_batch_msg_start(b, &nb, type, flags, family, op, e);
	if (off < 0)
		return (int)off;
	if (nla_put_str(&nb, NFTA_TABLE_NAME, table) < 0) {
		nl_buf_truncate(&nb, (size_t)off);
		return err_set(e, ENOSPC, "%s table %s %s: batch full", op, nft_family_name(family),
			       table);
	}
	nft_batch_msg_end(b, &nb, off);
	return 0;
}

int nft_table_add(struct nft_batch *b, int family, const char *table, struct err *e)
{
	return table_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, family, table, "add", e);
}

int nft_table_del(struct nft_batch *b, int family, const char *table, struct err *e)
{
	return table_msg(b, NFT_MSG_DELTABLE, 0, family, table, "delete", e);
}

int nft_table_recreate(struct nft_batch *b, int family, const char *table, struct err *e)
{
	size_t len = b->len;
	uint32_t nmsg = b->nmsg;
	int r;

	if ((r = nft_table_add(b, family, table, e)) < 0 ||
	    (r = nft_table_del(b, family, table, e)) < 0 ||
	    (r = nft_table_add(b, family, table, e)) < 0) {
		if (!b->rule_off) {
			b->len = len;
			b->nmsg = nmsg;
		}
		return r;
	}
	return 0;
}

static int put_hook(struct nl_buf *nb, const struct nft_chain_hook *hook)
{
	long nest;

	if ((unsigned)hook->type >= sizeof(chain_types) / sizeof(chain_types[0]) ||
	    (unsigned)hook->hook > NFT_HOOK_POSTROUTING ||
	    (hook->policy != NFT_V_ACCEPT && hook->policy != NFT_V_DROP))
		return -EINVAL;
	nest = nla_nest_start(nb, NFTA_CHAIN_HOOK);
	if (nest < 0 || nla_put_be32(nb, NFTA_HOOK_HOOKNUM, (uint32_t)hook->hook) < 0 ||
	    nla_put_be32(nb, NFTA_HOOK_PRIORITY, (uint32_t)hook->priority) < 0 ||
	    nla_nest_end(nb, nest) < 0 ||
	    nla_put_be32(nb, NFTA_CHAIN_POLICY, (uint32_t)hook->policy) < 0 ||
	    nla_put_str(nb, NFTA_CHAIN_TYPE, chain_types[hook->type]) < 0)
		return -ENOSPC;
	return 0;
}

static int chain_msg(struct nft_batch *b, uint16_t type, uint16_t flags, int family,
		     const char *table, const char *chain, const struct nft_chain_hook *hook,
		     const char *op, struct err *e)
{
	struct nl_buf nb = batch_window(b);
	long off;
	int r;

	if ((r = nft_check_family(family, e)) < 0 || (r = nft_check_name(table, "table", e)) < 0 ||
	    (r = nft_check_name(chain, "chain", e)) < 0)
		return NFT_WRAP(r, e, "%s", op);
	off = nft_batch_msg_start(b, &nb, type, flags, family, op, e);
	if (off < 0)
		return (int)off;
	r = nla_put_str(&nb, type == NFT_MSG_DELRULE ? NFTA_RULE_TABLE : NFTA_CHAIN_TABLE, table);
	if (r == 0)
		r = nla_put_str(&nb, type == NFT_MSG_DELRULE ? NFTA_RULE_CHAIN : NFTA_CHAIN_NAME,
				chain);
	if (r == 0 && hook)
		r = put_hook(&nb, hook);
	if (r < 0) {
		nl_buf_truncate(&nb, (size_t)off);
		if (r == -EINVAL)
			return err_set(e, EINVAL, "%s %s %s %s: bad type, hook or policy", op,
				       nft_family_name(family), table, chain);
		return err_set(e, ENOSPC, "%s %s %s %s: batch full", op, nft_family_name(family),
			       table, chain);
	}
	nft_batch_msg_end(b, &nb, off);
	return 0;
}

int nft_chain_add(struct nft_batch *b, int family, const char *table, const char *chain,
		  const struct nft_chain_hook *hook, struct err *e)
{
	return chain_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, family, table, chain, hook, "add chain",
			 e);
}

int nft_chain_del(struct nft_batch *b, int family, const char *table, const char *chain,
		  struct err *e)
{
	return chain_msg(b, NFT_MSG_DELCHAIN, 0, family, table, chain, NULL, "delete chain", e);
}

int nft_chain_flush(struct nft_batch *b, int family, const char *table, const char *chain,
		    struct err *e)
{
	return chain_msg(b, NFT_MSG_DELRULE, 0, family, table, chain, NULL, "flush chain", e);
}
