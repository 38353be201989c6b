// SPDX-License-Identifier: Apache-2.0
/*
 * describe: names a batch message for an error string: the operation, the
 * object, and (from the kernel's extended-ack offset) the element or
 * expression inside it that was refused. It reads our own sent bytes, but
 * treats them like received ones, so the fuzz target can feed it anything.
 */
#include "nft_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define NAME_SHOWN 64

void nft_key_str(const void *key, size_t len, char *out, size_t size)
{
	const unsigned char *k = key;
	size_t o = 0;

	if (!size)
		return;
	out[0] = '\0';
	if ((len == 4 && inet_ntop(AF_INET, key, out, (socklen_t)size)) ||
	    (len == 16 && inet_ntop(AF_INET6, key, out, (socklen_t)size)))
		return;
	for (size_t i = 0; i < len && o + 3 <= size; i++)
		o += (size_t)snprintf(out + o, size - o, "%02x", k[i]);
}

/* A name attribute for display into out (always filled: "?" when absent),
 * cut at NAME_SHOWN bytes, unprintable bytes replaced; returns out. */
static const char *name_of(const struct nlattr *a, char *out)
{
	size_t n;

	if (!a) {
		strcpy(out, "?");
		return out;
	}
	n = strnlen(nla_data(a), nla_len(a));
	if (n > NAME_SHOWN)
		n = NAME_SHOWN;
	for (size_t i = 0; i < n; i++) {
		char c = ((const char *)nla_data(a))[i];
		out[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	out[n] = '\0';
	return out;
}

/* The list entry of nest `list` that contains offset `bad` (relative to
 * msg), its index (from 1) in *index; NULL if none. */
static const struct nlattr *entry_at(const struct nlmsghdr *msg, const struct nlattr *list,
				     uint32_t bad, unsigned *index, unsigned *count)
{
	const struct nlattr *a, *hit = NULL;
	struct nla_iter it;
	unsigned i = 0;

	*index = 0;
	nla_iter_init(&it, nla_data(list), nla_len(list));
	while (nla_next(&it, &a) > 0) {
		size_t o = (size_t)((const unsigned char *)a - (const unsigned char *)msg);
		i++;
		if (!hit && bad >= o && bad - o < a->nla_len) {
			hit = a;
			*index = i;
		}
	}
	*count = i;
	return hit;
}

static void describe_elems(const struct nlmsghdr *h, const struct nlattr **tb, bool add,
			   const char *fam, uint32_t bad, char *out, size_t size)
{
	char t[NAME_SHOWN + 1], s[NAME_SHOWN + 1], key[INET6_ADDRSTRLEN + 16];
	const char *op = add ? "add" : "delete", *prep = add ? "to" : "from";
	const struct nlattr *el = NULL;
	struct nft_elem_info info;
	unsigned index = 0, count = 0;

	name_of(tb[NFTA_SET_ELEM_LIST_TABLE], t);
	name_of(tb[NFTA_SET_ELEM_LIST_SET], s);
	if (!tb[NFTA_SET_ELEM_LIST_ELEMENTS]) {
		if (add)
			snprintf(out, size, "add no elements to set %s %s %s", fam, t, s);
		else
			snprintf(out, size, "flush set %s %s %s", fam, t, s);
		return;
	}
	el = entry_at(h, tb[NFTA_SET_ELEM_LIST_ELEMENTS], bad, &index, &count);
	if (!el && count == 1)
		el = entry_at(h, tb[NFTA_SET_ELEM_LIST_ELEMENTS],
			      (uint32_t)((const unsigned char *)tb[NFTA_SET_ELEM_LIST_ELEMENTS] -
					 (const unsigned char *)h + NLA_HDRLEN),
			      &index, &count);
	if (el && nft_elem_decode(el, &info) == 0) {
		nft_key_str(info.key, info.key_len, key, sizeof(key));
		snprintf(out, size, "%s element %s%s %s set %s %s %s", op, key,
			 info.interval_end ? " (interval end)" : "", prep, fam, t, s);
		return;
	}
	snprintf(out, size, "%s %u element%s %s set %s %s %s", op, count, count == 1 ? "" : "s",
		 prep, fam, t, s);
}

static void describe_rule(const struct nlmsghdr *h, const struct nlattr **tb, bool add,
			  const char *fam, uint32_t bad, char *out, size_t size)
{
	char t[NAME_SHOWN + 1], c[NAME_SHOWN + 1], name[NAME_SHOWN + 1];
	const struct nlattr *ex[NFTA_EXPR_MAX + 1], *hit;
	unsigned index, count;
	uint64_t handle;
	int n;

	name_of(tb[NFTA_RULE_TABLE], t);
	name_of(tb[NFTA_RULE_CHAIN], c);
	if (!add) {
		if (nla_get_be64(tb[NFTA_RULE_HANDLE], &handle) == 0)
			snprintf(out, size, "delete rule handle %llu from chain %s %s %s",
				 (unsigned long long)handle, fam, t, c);
		else
			snprintf(out, size, "flush chain %s %s %s", fam, t, c);
		return;
	}
	n = snprintf(out, size, "add rule to chain %s %s %s", fam, t, c);
	if (n < 0 || (size_t)n >= size || !tb[NFTA_RULE_EXPRESSIONS])
		return;
	hit = entry_at(h, tb[NFTA_RULE_EXPRESSIONS], bad, &index, &count);
	if (hit && nla_parse_nested(ex, NFTA_EXPR_MAX, hit) == 0)
		snprintf(out + n, size - (size_t)n, " (expression %u: %s)", index,
			 name_of(ex[NFTA_EXPR_NAME], name));
}

void nft_describe_msg(const struct nlmsghdr *h, uint32_t bad_offset, char *out, size_t size)
{
	const struct nlattr *tb[NFTA_SET_MAX + 1];
	char a[NAME_SHOWN + 1], b2[NAME_SHOWN + 1], c[NAME_SHOWN + 1];
	const struct nfgenmsg *g;
	const char *fam;
	const void *attrs;
	size_t len;
	int type = h->nlmsg_type & 0xff;

	if (!size)
		return;
	if ((h->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES || nl_msg_attrs(h, &g, &attrs, &len) < 0) {
		snprintf(out, size, "message type 0x%x", h->nlmsg_type);
		return;
	}
	/* A malformed list keeps what was found before the fault. */
	(void)nla_parse(tb, NFTA_SET_MAX, attrs, len);
	fam = nft_family_name(g->nfgen_family);
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		snprintf(out, size, "%s table %s %s", type == NFT_MSG_NEWTABLE ? "add" : "delete",
			 fam, name_of(tb[NFTA_TABLE_NAME], a));
		break;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		snprintf(out, size, "%s chain %s %s %s",
			 type == NFT_MSG_NEWCHAIN ? "add" : "delete", fam,
			 name_of(tb[NFTA_CHAIN_TABLE], a), name_of(tb[NFTA_CHAIN_NAME], b2));
		break;
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		snprintf(out, size, "%s set %s %s %s", type == NFT_MSG_NEWSET ? "add" : "delete",
			 fam, name_of(tb[NFTA_SET_TABLE], a), name_of(tb[NFTA_SET_NAME], c));
		break;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		describe_rule(h, tb, type == NFT_MSG_NEWRULE, fam, bad_offset, out, size);
		break;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		describe_elems(h, tb, type == NFT_MSG_NEWSETELEM, fam, bad_offset, out, size);
		break;
	default:
		snprintf(out, size, "nf_tables message %d", type);
	}
}
