// SPDX-License-Identifier: Apache-2.0
/*
 * dump: a text rendering of one table for people debugging a ruleset: the
 * table, its chains, its sets with their elements, and its rules with their
 * handles and expressions in the kernel's own terms. The rendering of each
 * received message is a pure function (nft_dump_render) over bytes that are
 * bounds-checked like any received data.
 */
#include "nft_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DUMP_TRIES    4
#define DUMP_MAX_SETS 4096

static const char *const hook_names[] = {"prerouting", "input", "forward", "output", "postrouting"};
static const char *const cmp_ops[] = {"eq", "neq", "lt", "lte", "gt", "gte"};
static const char *const bases[] = {"link", "network", "transport", "inner"};

static const char *meta_key(uint32_t k)
{
	switch (k) {
	case NFT_M_MARK:
		return "mark";
	case NFT_M_OIFNAME:
		return "oifname";
	case NFT_M_NFPROTO:
		return "nfproto";
	case NFT_M_L4PROTO:
		return "l4proto";
	default:
		return NULL;
	}
}

static const char *verdict_name(int32_t v)
{
	switch (v) {
	case NFT_V_DROP:
		return "drop";
	case NFT_V_ACCEPT:
		return "accept";
	case NFT_V_CONTINUE:
		return "continue";
	case NFT_V_JUMP:
		return "jump";
	case NFT_V_GOTO:
		return "goto";
	case NFT_V_RETURN:
		return "return";
	default:
		return "verdict?";
	}
}

/* Printable copy of a string attribute into out (always filled: "?" when
 * absent or too long); returns out. */
static const char *str_of(const struct nlattr *a, char *out, size_t size)
{
	if (!a || nla_get_str(a, out, size) < 0) {
		snprintf(out, size, "?");
		return out;
	}
	for (char *p = out; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	return out;
}

static uint32_t u32_of(const struct nlattr *a)
{
	uint32_t v = 0;

	(void)nla_get_be32(a, &v);
	return v;
}

static uint64_t u64_of(const struct nlattr *a)
{
	uint64_t v = 0;

	(void)nla_get_be64(a, &v);
	return v;
}

static int put_hex(struct buf *out, const struct nlattr *data_nest)
{
	const unsigned char *d;
	const void *p;
	size_t n;
	int r = 0;

	if (nla_get_data_value(data_nest, &p, &n) < 0)
		return buf_puts(out, "?");
	d = p;
	r = buf_puts(out, "0x");
	for (size_t i = 0; i < n && r == 0; i++)
		r = buf_printf(out, "%02x", d[i]);
	return r;
}

static int render_verdict(struct buf *out, const struct nlattr *data_nest)
{
	const struct nlattr *d[NFTA_DATA_MAX + 1], *v[NFTA_VERDICT_MAX + 1];
	char chain[NFT_NAME_MAX];

	if (nla_parse_nested(d, NFTA_DATA_MAX, data_nest) < 0 ||
	    nla_parse_nested(v, NFTA_VERDICT_MAX, d[NFTA_DATA_VERDICT]) < 0)
		return buf_puts(out, "verdict?");
	if (v[NFTA_VERDICT_CHAIN])
		return buf_printf(out, "%s %s", verdict_name((int32_t)u32_of(v[NFTA_VERDICT_CODE])),
				  str_of(v[NFTA_VERDICT_CHAIN], chain, sizeof(chain)));
	return buf_puts(out, verdict_name((int32_t)u32_of(v[NFTA_VERDICT_CODE])));
}

/* One expression: its name and, for the kinds this library writes, its operands. */
static int render_expr(struct buf *out, const struct nlattr *expr)
{
	const struct nlattr *x[NFTA_EXPR_MAX + 1], *t[16];
	char name[32], set[NFT_NAME_MAX];
	const char *k;
	int r;

	if (nla_parse_nested(x, NFTA_EXPR_MAX, expr) < 0)
		return -EBADMSG;
	str_of(x[NFTA_EXPR_NAME], name, sizeof(name));
	if (x[NFTA_EXPR_DATA] && nla_parse_nested(t, 15, x[NFTA_EXPR_DATA]) < 0)
		return -EBADMSG;
	if (!x[NFTA_EXPR_DATA])
		memset(t, 0, sizeof(t));
	if (!strcmp(name, "meta")) {
		k = meta_key(u32_of(t[NFTA_META_KEY]));
		if (t[NFTA_META_SREG])
			return buf_printf(out, "meta set key %u r%u", u32_of(t[NFTA_META_KEY]),
					  u32_of(t[NFTA_META_SREG]));
		if (k)
			return buf_printf(out, "meta load %s => r%u", k, u32_of(t[NFTA_META_DREG]));
		return buf_printf(out, "meta load key %u => r%u", u32_of(t[NFTA_META_KEY]),
				  u32_of(t[NFTA_META_DREG]));
	}
	if (!strcmp(name, "ct"))
		return buf_printf(out, "ct load %s => r%u",
				  u32_of(t[NFTA_CT_KEY]) == NFT_CTK_STATE ? "state" : "key",
				  u32_of(t[NFTA_CT_DREG]));
	if (!strcmp(name, "payload")) {
		uint32_t base = u32_of(t[NFTA_PAYLOAD_BASE]);
		return buf_printf(out, "payload load %ub @ %s + %u => r%u",
				  u32_of(t[NFTA_PAYLOAD_LEN]), base < 4 ? bases[base] : "base?",
				  u32_of(t[NFTA_PAYLOAD_OFFSET]), u32_of(t[NFTA_PAYLOAD_DREG]));
	}
	if (!strcmp(name, "cmp")) {
		uint32_t op = u32_of(t[NFTA_CMP_OP]);
		r = buf_printf(out, "cmp %s r%u ", op < 6 ? cmp_ops[op] : "op?",
			       u32_of(t[NFTA_CMP_SREG]));
		return r < 0 ? r : put_hex(out, t[NFTA_CMP_DATA]);
	}
	if (!strcmp(name, "bitwise")) {
		r = buf_printf(out, "bitwise r%u = (r%u & ", u32_of(t[NFTA_BITWISE_DREG]),
			       u32_of(t[NFTA_BITWISE_SREG]));
		if (r == 0)
			r = put_hex(out, t[NFTA_BITWISE_MASK]);
		if (r == 0)
			r = buf_puts(out, ") ^ ");
		return r < 0 ? r : put_hex(out, t[NFTA_BITWISE_XOR]);
	}
	if (!strcmp(name, "lookup"))
		return buf_printf(out, "lookup r%u @%s%s", u32_of(t[NFTA_LOOKUP_SREG]),
				  str_of(t[NFTA_LOOKUP_SET], set, sizeof(set)),
				  u32_of(t[NFTA_LOOKUP_FLAGS]) & NFT_LOOKUP_F_INV ? " inverted"
										  : "");
	if (!strcmp(name, "immediate")) {
		if (u32_of(t[NFTA_IMMEDIATE_DREG]) == NFT_REG_VERDICT)
			return render_verdict(out, t[NFTA_IMMEDIATE_DATA]);
		r = buf_printf(out, "immediate r%u = ", u32_of(t[NFTA_IMMEDIATE_DREG]));
		return r < 0 ? r : put_hex(out, t[NFTA_IMMEDIATE_DATA]);
	}
	if (!strcmp(name, "counter"))
		return buf_printf(out, "counter packets %llu bytes %llu",
				  (unsigned long long)u64_of(t[NFTA_COUNTER_PACKETS]),
				  (unsigned long long)u64_of(t[NFTA_COUNTER_BYTES]));
	if (!strcmp(name, "redir"))
		return buf_printf(out, "redir port r%u", u32_of(t[NFTA_REDIR_REG_PROTO_MIN]));
	if (!strcmp(name, "reject")) {
		uint8_t code = 0;
		if (t[NFTA_REJECT_ICMP_CODE] && nla_len(t[NFTA_REJECT_ICMP_CODE]) == 1)
			code = *(const uint8_t *)nla_data(t[NFTA_REJECT_ICMP_CODE]);
		return buf_printf(out, "reject type %u code %u", u32_of(t[NFTA_REJECT_TYPE]), code);
	}
	return buf_puts(out, name);
}

static int render_rule(struct buf *out, const struct nlattr **tb)
{
	const struct nlattr *a;
	struct nla_iter it;
	char chain[NFT_NAME_MAX];
	int r, n = 0;

	r = buf_printf(out,
		       "  rule %s handle %llu:", str_of(tb[NFTA_RULE_CHAIN], chain, sizeof(chain)),
		       (unsigned long long)u64_of(tb[NFTA_RULE_HANDLE]));
	if (r < 0 || !tb[NFTA_RULE_EXPRESSIONS])
		return r < 0 ? r : buf_puts(out, "\n");
	nla_iter_init(&it, nla_data(tb[NFTA_RULE_EXPRESSIONS]), nla_len(tb[NFTA_RULE_EXPRESSIONS]));
	while ((r = nla_next(&it, &a)) > 0) {
		if ((r = buf_puts(out, n++ ? "; " : " ")) < 0 || (r = render_expr(out, a)) < 0)
			return r;
	}
	return r < 0 ? r : buf_puts(out, "\n");
}

static int render_chain(struct buf *out, const struct nlattr **tb)
{
	const struct nlattr *hk[NFTA_HOOK_DEV + 1];
	char name[NFT_NAME_MAX], type[32];
	uint32_t hook;
	int r;

	r = buf_printf(out, "  chain %s", str_of(tb[NFTA_CHAIN_NAME], name, sizeof(name)));
	if (r == 0 && tb[NFTA_CHAIN_HOOK]) {
		if (nla_parse_nested(hk, NFTA_HOOK_DEV, tb[NFTA_CHAIN_HOOK]) < 0)
			return -EBADMSG;
		hook = u32_of(hk[NFTA_HOOK_HOOKNUM]);
		r = buf_printf(out, " { type %s hook %s priority %d policy %s }",
			       str_of(tb[NFTA_CHAIN_TYPE], type, sizeof(type)),
			       hook < 5 ? hook_names[hook] : "?",
			       (int32_t)u32_of(hk[NFTA_HOOK_PRIORITY]),
			       verdict_name((int32_t)u32_of(tb[NFTA_CHAIN_POLICY])));
	}
	return r < 0 ? r
		     : buf_printf(out, " handle %llu\n",
				  (unsigned long long)u64_of(tb[NFTA_CHAIN_HANDLE]));
}

static int render_set(struct buf *out, const struct nlattr **tb)
{
	char name[NFT_NAME_MAX];
	uint32_t type = u32_of(tb[NFTA_SET_KEY_TYPE]), flags = u32_of(tb[NFTA_SET_FLAGS]);
	int r;

	r = buf_printf(out, "  set %s type %s", str_of(tb[NFTA_SET_NAME], name, sizeof(name)),
		       type == NFT_DATATYPE_IPADDR    ? "ipv4_addr"
		       : type == NFT_DATATYPE_IP6ADDR ? "ipv6_addr"
						      : "other");
	if (r == 0 && (flags & (NFT_SET_INTERVAL | NFT_SET_TIMEOUT)))
		r = buf_printf(out, " flags %s%s%s", flags & NFT_SET_INTERVAL ? "interval" : "",
			       (flags & NFT_SET_INTERVAL) && (flags & NFT_SET_TIMEOUT) ? "," : "",
			       flags & NFT_SET_TIMEOUT ? "timeout" : "");
	if (r == 0 && tb[NFTA_SET_TIMEOUT])
		r = buf_printf(out, " timeout %llums",
			       (unsigned long long)u64_of(tb[NFTA_SET_TIMEOUT]));
	return r < 0 ? r : buf_puts(out, "\n");
}

static int render_elem(const struct nft_elem_info *el, void *arg)
{
	struct buf *out = arg;
	char key[64];

	nft_key_str(el->key, el->key_len, key, sizeof(key));
	if (el->timeout_ms)
		return buf_printf(out, "    element %s%s timeout %llums expires %llums\n", key,
				  el->interval_end ? " (interval end)" : "",
				  (unsigned long long)el->timeout_ms,
				  (unsigned long long)el->expires_ms);
	return buf_printf(out, "    element %s%s\n", key,
			  el->interval_end ? " (interval end)" : "");
}

int nft_dump_render(const struct nlmsghdr *h, struct buf *out)
{
	const struct nlattr *tb[NFTA_SET_MAX + 1];
	const struct nfgenmsg *g;
	char name[NFT_NAME_MAX];
	const void *attrs;
	size_t len;

	if ((h->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES || nl_msg_attrs(h, &g, &attrs, &len) < 0)
		return -EBADMSG;
	if ((h->nlmsg_type & 0xff) == NFT_MSG_NEWSETELEM)
		return nft_elem_msg_parse(h, render_elem, out);
	if (nla_parse(tb, NFTA_SET_MAX, attrs, len) < 0)
		return -EBADMSG;
	switch (h->nlmsg_type & 0xff) {
	case NFT_MSG_NEWTABLE:
		return buf_printf(out, "table %s %s handle %llu\n",
				  nft_family_name(g->nfgen_family),
				  str_of(tb[NFTA_TABLE_NAME], name, sizeof(name)),
				  (unsigned long long)u64_of(tb[NFTA_TABLE_HANDLE]));
	case NFT_MSG_NEWCHAIN:
		return render_chain(out, tb);
	case NFT_MSG_NEWSET:
		return render_set(out, tb);
	case NFT_MSG_NEWRULE:
		return render_rule(out, tb);
	default:
		return 0;
	}
}

/* ---- the table dump -------------------------------------------------- */

struct dump_ctx {
	const char *table;
	struct buf *out;
	struct buf *sets; /* NUL-separated names of the table's sets */
};

/* Renders messages of our table only (a dump filter is a hint to the kernel). */
static int dump_msg(const struct nlmsghdr *h, void *arg)
{
	struct dump_ctx *c = arg;
	const void *attrs;
	size_t len;
	const struct nlattr *tb[NFTA_SET_NAME + 1];
	int r;

	if (nl_msg_attrs(h, NULL, &attrs, &len) < 0 || nla_parse(tb, NFTA_SET_NAME, attrs, len) < 0)
		return -EBADMSG;
	/* Table name is attribute 1 in chain, set and rule messages alike. */
	if ((h->nlmsg_type & 0xff) != NFT_MSG_NEWTABLE && !nla_str_eq(tb[1], c->table))
		return 0;
	if ((r = nft_dump_render(h, c->out)) < 0)
		return r;
	if ((h->nlmsg_type & 0xff) == NFT_MSG_NEWSET && tb[NFTA_SET_NAME] && c->sets) {
		char name[NFT_NAME_MAX];
		if (nla_get_str(tb[NFTA_SET_NAME], name, sizeof(name)) < 0)
			return -EBADMSG;
		return buf_append(c->sets, name, strlen(name) + 1);
	}
	return 0;
}

static int dump_one(struct nft_sock *s, int family, uint16_t type, uint16_t flags,
		    const char *table, const char *set, struct dump_ctx *c)
{
	uint32_t space[(2 * NFT_NAME_MAX + 64) / 4];
	struct nl_buf nb = {(unsigned char *)space, 0, sizeof(space)};
	long off = nl_msg_start(&nb, type, flags, (uint8_t)family);

	/* Table is attribute 1 and set/name attribute 2 in all these requests. */
	if (off < 0 || nla_put_str(&nb, 1, table) < 0 || (set && nla_put_str(&nb, 2, set) < 0))
		return -ENOSPC;
	nl_msg_end(&nb, off);
	return nl_request(s, &nb, dump_msg, c);
}

static int dump_table(struct nft_sock *s, int family, const char *table, struct dump_ctx *c,
		      const char **step)
{
	int r;

	*step = "table";
	if ((r = dump_one(s, family, NFT_MSG_GETTABLE, 0, table, NULL, c)) < 0)
		return r;
	*step = "chains";
	if ((r = dump_one(s, family, NFT_MSG_GETCHAIN, NLM_F_DUMP, table, NULL, c)) < 0)
		return r;
	*step = "sets";
	if ((r = dump_one(s, family, NFT_MSG_GETSET, NLM_F_DUMP, table, NULL, c)) < 0)
		return r;
	*step = "elements";
	for (size_t off = 0; off < c->sets->len;) {
		const char *name = buf_head(c->sets) + off;
		struct dump_ctx ec = {table, c->out, NULL};
		if ((r = buf_printf(c->out, "  elements of %s:\n", name)) < 0 ||
		    (r = dump_one(s, family, NFT_MSG_GETSETELEM, NLM_F_DUMP, table, name, &ec)) < 0)
			return r;
		off += strlen(name) + 1;
	}
	*step = "rules";
	return dump_one(s, family, NFT_MSG_GETRULE, NLM_F_DUMP, table, NULL, c);
}

int nft_table_dump(struct nft_sock *s, int family, const char *table, struct buf *out,
		   struct err *e)
{
	struct buf sets;
	size_t mark = out->len;
	const char *step = "table";
	uint32_t g0, g1;
	int r;

	if ((r = nft_check_family(family, e)) < 0 || (r = nft_check_name(table, "table", e)) < 0)
		return NFT_WRAP(r, e, "dump table");
	buf_init(&sets, DUMP_MAX_SETS * NFT_NAME_MAX);
	for (int tries = 0; tries < DUMP_TRIES; tries++) {
		struct dump_ctx c = {table, out, &sets};
		buf_reset(&sets);
		out->len = mark;
		if ((r = nft_gen_id(s, &g0, e)) < 0)
			goto out;
		r = dump_table(s, family, table, &c, &step);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			r = err_set(e, -r, "dump table %s %s: %s", nft_family_name(family), table,
				    step);
			goto out;
		}
		if ((r = nft_gen_id(s, &g1, e)) < 0)
			goto out;
		if (g0 == g1)
			goto out;
	}
	r = err_set(e, EAGAIN, "dump table %s %s: the ruleset kept changing",
		    nft_family_name(family), table);
out:
	if (r < 0)
		out->len = mark;
	buf_free(&sets);
	return r;
}
