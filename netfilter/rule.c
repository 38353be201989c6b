// SPDX-License-Identifier: Apache-2.0
/*
 * rule: a rule message held open in the batch while expressions are
 * appended to its expression list; one builder per expression. The first
 * failure is remembered (b->rule_err) so that nft_rule_end() reports it and
 * drops the whole rule: a half-built rule never reaches the kernel.
 */
#include "nft_int.h"

#include <errno.h>
#include <string.h>

#define REG_DATA_MAX 16

int nft_rule_begin(struct nft_batch *b, int family, const char *table, const char *chain,
		   struct err *e)
{
	struct nl_buf nb = batch_window(b);
	long off, exprs;
	int r;

	if ((r = nft_check_family(family, e)) < 0 || (r = nft_check_name(table, "table", e)) < 0 ||
	    (r = nft_check_name(chain, "chain", e)) < 0)
		return NFT_WRAP(r, e, "add rule");
	off = nft_batch_msg_start(b, &nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, family,
				  "add rule", e);
	if (off < 0)
		return (int)off;
	if (nla_put_str(&nb, NFTA_RULE_TABLE, table) < 0 ||
	    nla_put_str(&nb, NFTA_RULE_CHAIN, chain) < 0 ||
	    (exprs = nla_nest_start(&nb, NFTA_RULE_EXPRESSIONS)) < 0) {
		nl_buf_truncate(&nb, (size_t)off);
		return err_set(e, ENOSPC, "add rule to chain %s %s %s: batch full",
			       nft_family_name(family), table, chain);
	}
	b->len = nb.len;
	b->rule_off = (size_t)off;
	b->exprs_off = (size_t)exprs;
	b->family = family;
	b->rule_err = 0;
	return 0;
}

int nft_rule_end(struct nft_batch *b, struct err *e)
{
	struct nl_buf nb = batch_window(b);
	long off = (long)b->rule_off;
	char what[160];
	int r;

	if (!off)
		return err_set(e, EINVAL, "end rule: no rule is open");
	r = b->rule_err;
	if (r == 0 && nla_nest_end(&nb, (long)b->exprs_off) < 0)
		r = -EMSGSIZE;
	nl_msg_end(&nb, off);
	b->rule_off = 0;
	b->rule_err = 0;
	if (r < 0) {
		nft_describe_msg((const struct nlmsghdr *)(b->buf + off), 0, what, sizeof(what));
		b->len = (size_t)off;
		return err_set(e, -r, "%s: %s", what,
			       r == -ENOSPC   ? "batch full"
			       : r == -EINVAL ? "invalid expression"
					      : strerror(-r));
	}
	b->len = nb.len;
	b->nmsg++;
	return 0;
}

int nft_rule_del(struct nft_batch *b, int family, const char *table, const char *chain,
		 uint64_t handle, struct err *e)
{
	struct nl_buf nb = batch_window(b);
	long off;
	int r;

	if ((r = nft_check_family(family, e)) < 0 || (r = nft_check_name(table, "table", e)) < 0 ||
	    (r = nft_check_name(chain, "chain", e)) < 0)
		return NFT_WRAP(r, e, "delete rule");
	off = nft_batch_msg_start(b, &nb, NFT_MSG_DELRULE, 0, family, "delete rule", e);
	if (off < 0)
		return (int)off;
	if (nla_put_str(&nb, NFTA_RULE_TABLE, table) < 0 ||
	    nla_put_str(&nb, NFTA_RULE_CHAIN, chain) < 0 ||
	    nla_put_be64(&nb, NFTA_RULE_HANDLE, handle) < 0) {
		nl_buf_truncate(&nb, (size_t)off);
		return err_set(e, ENOSPC, "delete rule %llu: batch full",
			       (unsigned long long)handle);
	}
	nft_batch_msg_end(b, &nb, off);
	return 0;
}

/* ---- expression framing ---------------------------------------------- */

/* An expression being written: puts after the first failed one do nothing,
 * and expr_end() reports that failure, so builders need no checks of their own. */
struct expr {
	struct nl_buf nb;
	long elem, data;
	int err;
};

static int expr_begin(struct nft_batch *b, struct expr *x, const char *name)
{
	if (!b->rule_off)
		return -EINVAL;
	if (b->rule_err)
		return b->rule_err;
	x->nb = batch_window(b);
	x->err = 0;
	x->elem = nla_nest_start(&x->nb, NFTA_LIST_ELEM);
	if (x->elem < 0 || nla_put_str(&x->nb, NFTA_EXPR_NAME, name) < 0 ||
	    (x->data = nla_nest_start(&x->nb, NFTA_EXPR_DATA)) < 0)
		return b->rule_err = -ENOSPC;
	return 0;
}

static void put_u32(struct expr *x, uint16_t type, uint32_t v)
{
	if (!x->err && nla_put_be32(&x->nb, type, v) < 0)
		x->err = -ENOSPC;
}

static void put_str(struct expr *x, uint16_t type, const char *v)
{
	if (!x->err && nla_put_str(&x->nb, type, v) < 0)
		x->err = -ENOSPC;
}

static long nest_start(struct expr *x, uint16_t type)
{
	long off = x->err ? -1 : nla_nest_start(&x->nb, type);

	if (off < 0)
		x->err = -ENOSPC;
	return off;
}

static void nest_end(struct expr *x, long off)
{
	if (!x->err && nla_nest_end(&x->nb, off) < 0)
		x->err = -ENOSPC;
}

/* A data value (NFTA_DATA_VALUE inside attribute `type`). */
static void put_value(struct expr *x, uint16_t type, const void *data, size_t len)
{
	long nest = nest_start(x, type);

	if (!x->err && nla_put(&x->nb, NFTA_DATA_VALUE, data, len) < 0)
		x->err = -ENOSPC;
	nest_end(x, nest);
}

/* Closes the expression, or after a failed put removes it and fails the rule. */
static int expr_end(struct nft_batch *b, struct expr *x)
{
	nest_end(x, x->data);
	nest_end(x, x->elem);
	if (x->err) {
		b->rule_err = x->err;
		return x->err;
	}
	b->len = x->nb.len;
	return 0;
}

static int bad(struct nft_batch *b)
{
	if (b->rule_off && !b->rule_err)
		b->rule_err = -EINVAL;
	return -EINVAL;
}

static bool reg_ok(enum nft_reg r)
{
	return r >= NFT_R1 && r <= NFT_R4;
}

/* Two be32 attributes of one expression (most loads). */
static int expr_2u32(struct nft_batch *b, const char *name, uint16_t t1, uint32_t v1, uint16_t t2,
		     uint32_t v2)
{
	struct expr x;
	int r = expr_begin(b, &x, name);

	if (r < 0)
		return r;
	put_u32(&x, t1, v1);
	put_u32(&x, t2, v2);
	return expr_end(b, &x);
}

/* ---- expressions ----------------------------------------------------- */

int nft_expr_meta(struct nft_batch *b, enum nft_meta_key key, enum nft_reg dreg)
{
	if (!reg_ok(dreg))
		return bad(b);
	return expr_2u32(b, "meta", NFTA_META_DREG, dreg, NFTA_META_KEY, (uint32_t)key);
}

int nft_expr_fib_saddr_type(struct nft_batch *b, enum nft_reg dreg)
{
	struct expr x;
	int r;

	if (!reg_ok(dreg))
		return bad(b);
	if ((r = expr_begin(b, &x, "fib")) < 0)
		return r;
	put_u32(&x, NFTA_FIB_DREG, dreg);
	put_u32(&x, NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	put_u32(&x, NFTA_FIB_FLAGS, NFTA_FIB_F_SADDR);
	return expr_end(b, &x);
}

int nft_expr_ct(struct nft_batch *b, enum nft_ct_key key, enum nft_reg dreg)
{
	if (!reg_ok(dreg))
		return bad(b);
	return expr_2u32(b, "ct", NFTA_CT_DREG, dreg, NFTA_CT_KEY, (uint32_t)key);
}

int nft_expr_payload(struct nft_batch *b, enum nft_payload_base base, uint32_t offset, uint32_t len,
		     enum nft_reg dreg)
{
	struct expr x;
	int r;

	if (!reg_ok(dreg) || (unsigned)base > NFT_PB_TRANSPORT || len == 0 || len > REG_DATA_MAX)
		return bad(b);
	if ((r = expr_begin(b, &x, "payload")) < 0)
		return r;
	put_u32(&x, NFTA_PAYLOAD_DREG, dreg);
	put_u32(&x, NFTA_PAYLOAD_BASE, (uint32_t)base);
	put_u32(&x, NFTA_PAYLOAD_OFFSET, offset);
	put_u32(&x, NFTA_PAYLOAD_LEN, len);
	return expr_end(b, &x);
}

int nft_expr_cmp(struct nft_batch *b, enum nft_cmp_op op, enum nft_reg sreg, const void *data,
		 size_t len)
{
	struct expr x;
	int r;

	if (!reg_ok(sreg) || (unsigned)op > NFT_OP_GTE || len == 0 || len > REG_DATA_MAX)
		return bad(b);
	if ((r = expr_begin(b, &x, "cmp")) < 0)
		return r;
	put_u32(&x, NFTA_CMP_SREG, sreg);
	put_u32(&x, NFTA_CMP_OP, (uint32_t)op);
	put_value(&x, NFTA_CMP_DATA, data, len);
	return expr_end(b, &x);
}

int nft_expr_bitwise(struct nft_batch *b, enum nft_reg sreg, enum nft_reg dreg, const void *mask,
		     const void *flip, size_t len)
{
	struct expr x;
	int r;

	if (!reg_ok(sreg) || !reg_ok(dreg) || len == 0 || len > REG_DATA_MAX)
		return bad(b);
	if ((r = expr_begin(b, &x, "bitwise")) < 0)
		return r;
	put_u32(&x, NFTA_BITWISE_SREG, sreg);
	put_u32(&x, NFTA_BITWISE_DREG, dreg);
	put_u32(&x, NFTA_BITWISE_LEN, (uint32_t)len);
	put_value(&x, NFTA_BITWISE_MASK, mask, len);
	put_value(&x, NFTA_BITWISE_XOR, flip, len);
	return expr_end(b, &x);
}

int nft_expr_lookup(struct nft_batch *b, const char *set, enum nft_reg sreg, bool invert)
{
	struct expr x;
	int r;

	if (!reg_ok(sreg) || nft_check_name(set, "set", NULL) < 0)
		return bad(b);
	if ((r = expr_begin(b, &x, "lookup")) < 0)
		return r;
	put_str(&x, NFTA_LOOKUP_SET, set);
	put_u32(&x, NFTA_LOOKUP_SREG, sreg);
	if (invert)
		put_u32(&x, NFTA_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	return expr_end(b, &x);
}

int nft_expr_immediate(struct nft_batch *b, enum nft_reg dreg, const void *data, size_t len)
{
	struct expr x;
	int r;

	if (!reg_ok(dreg) || len == 0 || len > REG_DATA_MAX)
		return bad(b);
	if ((r = expr_begin(b, &x, "immediate")) < 0)
		return r;
	put_u32(&x, NFTA_IMMEDIATE_DREG, dreg);
	put_value(&x, NFTA_IMMEDIATE_DATA, data, len);
	return expr_end(b, &x);
}

int nft_expr_verdict(struct nft_batch *b, enum nft_verdict v, const char *chain)
{
	bool jumps = v == NFT_V_JUMP || v == NFT_V_GOTO;
	long data, verdict;
	struct expr x;
	int r;

	if (v != NFT_V_ACCEPT && v != NFT_V_DROP && v != NFT_V_RETURN && v != NFT_V_CONTINUE &&
	    !jumps)
		return bad(b);
	if (jumps != (chain != NULL) || (jumps && nft_check_name(chain, "chain", NULL) < 0))
		return bad(b);
	if ((r = expr_begin(b, &x, "immediate")) < 0)
		return r;
	put_u32(&x, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	data = nest_start(&x, NFTA_IMMEDIATE_DATA);
	verdict = nest_start(&x, NFTA_DATA_VERDICT);
	put_u32(&x, NFTA_VERDICT_CODE, (uint32_t)v);
	if (jumps)
		put_str(&x, NFTA_VERDICT_CHAIN, chain);
	nest_end(&x, verdict);
	nest_end(&x, data);
	return expr_end(b, &x);
}

int nft_expr_counter(struct nft_batch *b)
{
	struct expr x;
	int r = expr_begin(b, &x, "counter");

	return r < 0 ? r : expr_end(b, &x);
}

int nft_expr_redir_port(struct nft_batch *b, uint16_t port)
{
	unsigned char be[2] = {(unsigned char)(port >> 8), (unsigned char)port};
	int r = nft_expr_immediate(b, NFT_R1, be, sizeof(be));

	if (r < 0)
		return r;
	return expr_2u32(b, "redir", NFTA_REDIR_REG_PROTO_MIN, NFT_R1, NFTA_REDIR_FLAGS,
			 NF_NAT_RANGE_PROTO_SPECIFIED);
}

int nft_expr_reject(struct nft_batch *b, enum nft_reject_type type, uint8_t code)
{
	struct expr x;
	int r;

	if ((unsigned)type > NFT_RJ_ICMPX ||
	    (type == NFT_RJ_ICMPX && code > NFT_RJ_ADMIN_PROHIBITED))
		return bad(b);
	if ((r = expr_begin(b, &x, "reject")) < 0)
		return r;
	put_u32(&x, NFTA_REJECT_TYPE, (uint32_t)type);
	if (!x.err && nla_put(&x.nb, NFTA_REJECT_ICMP_CODE, &code, 1) < 0)
		x.err = -ENOSPC;
	return expr_end(b, &x);
}
