// SPDX-License-Identifier: Apache-2.0
/*
 * set: set and set element messages. Element lists are packed into as few
 * messages as fit (an element list is one nest, and a nest length is a u16),
 * all in the same transaction; a prefix in an interval set becomes a start
 * element and an interval-end element, kept in the same message.
 */
#include "nft_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of one element message, so that its element list fits a u16 nest. */
#define ELEM_MSG_MAX 65000

static size_t key_len(enum nft_key_type key)
{
	return key == NFT_KEY_IPV6 ? 16 : 4;
}

static int put_set_userdata(struct nl_buf *nb)
{
	/* nft's own note that the key is big-endian (what `nft add set` sends). */
	unsigned char ud[8] = {NFTNL_UDATA_SET_KEYBYTEORDER, 4};
	uint32_t order = NFT_BYTEORDER_BIG_ENDIAN;

	memcpy(ud + 2, &order, sizeof(order));
	return nla_put(nb, NFTA_SET_USERDATA, ud, 6);
}

int nft_set_add(struct nft_batch *b, int family, const char *table, const struct nft_set *set,
		struct err *e)
{
	struct nl_buf nb = batch_window(b);
	uint32_t flags;
	long off;
	int r;

	if ((r = nft_check_family(family, e)) < 0 || (r = nft_check_name(table, "table", e)) < 0 ||
	    (r = nft_check_name(set->name, "set", e)) < 0)
		return NFT_WRAP(r, e, "add set");
	if (set->key != NFT_KEY_IPV4 && set->key != NFT_KEY_IPV6)
		return err_set(e, EINVAL, "add set %s: unknown key type %d", set->name, set->key);
	flags = set->flags & (NFT_SETF_INTERVAL | NFT_SETF_TIMEOUT);
	if (set->timeout_ms)
		flags |= NFT_SETF_TIMEOUT;
	off = nft_batch_msg_start(b, &nb, NFT_MSG_NEWSET, NLM_F_CREATE, family, "add set", e);
	if (off < 0)
		return (int)off;
	if (nla_put_str(&nb, NFTA_SET_TABLE, table) < 0 ||
	    nla_put_str(&nb, NFTA_SET_NAME, set->name) < 0 ||
	    nla_put_be32(&nb, NFTA_SET_FLAGS, flags) < 0 ||
	    nla_put_be32(&nb, NFTA_SET_KEY_TYPE,
			 set->key == NFT_KEY_IPV6 ? NFT_DATATYPE_IP6ADDR : NFT_DATATYPE_IPADDR) <
		    0 ||
	    nla_put_be32(&nb, NFTA_SET_KEY_LEN, (uint32_t)key_len(set->key)) < 0 ||
	    nla_put_be32(&nb, NFTA_SET_ID, ++b->set_id) < 0 ||
	    (set->timeout_ms && nla_put_be64(&nb, NFTA_SET_TIMEOUT, set->timeout_ms) < 0) ||
	    put_set_userdata(&nb) < 0) {
		nl_buf_truncate(&nb, (size_t)off);
		return err_set(e, ENOSPC, "add set %s %s %s: batch full", nft_family_name(family),
			       table, set->name);
	}
	nft_batch_msg_end(b, &nb, off);
	return 0;
}

static int set_msg(struct nft_batch *b, uint16_t type, int family, const char *table,
		   const char *set, const char *op, struct err *e)
{
	struct nl_buf nb = batch_window(b);
	long off;
	int r;

	if ((r = nft_check_family(family, e)) < 0 || (r = nft_check_name(table, "table", e)) < 0 ||
	    (r = nft_check_name(set, "set", e)) < 0)
		return NFT_WRAP(r, e, "%s", op);
	off = nft_batch_msg_start(b, &nb, type, 0, family, op, e);
	if (off < 0)
		return (int)off;
	/* NFTA_SET_TABLE/NAME and NFTA_SET_ELEM_LIST_TABLE/SET are both 1 and 2. */
	if (nla_put_str(&nb, NFTA_SET_TABLE, table) < 0 ||
	    nla_put_str(&nb, NFTA_SET_NAME, set) < 0) {
		nl_buf_truncate(&nb, (size_t)off);
		return err_set(e, ENOSPC, "%s %s %s %s: batch full", op, nft_family_name(family),
			       table, set);
	}
	nft_batch_msg_end(b, &nb, off);
	return 0;
}

int nft_set_del(struct nft_batch *b, int family, const char *table, const char *set, struct err *e)
{
	return set_msg(b, NFT_MSG_DELSET, family, table, set, "delete set", e);
}

int nft_set_flush(struct nft_batch *b, int family, const char *table, const char *set,
		  struct err *e)
{
	return set_msg(b, NFT_MSG_DELSETELEM, family, table, set, "flush set", e);
}

/* out = in with every bit after the first plen cleared (in == out allowed). */
static void mask_prefix(const unsigned char *in, unsigned plen, size_t klen, unsigned char *out)
{
	for (size_t i = 0; i < klen; i++) {
		int keep = (int)plen - (int)(8 * i);
		if (keep >= 8)
			out[i] = in[i];
		else if (keep <= 0)
			out[i] = 0;
		else
			out[i] = (unsigned char)(in[i] & (0xff << (8 - keep)));
	}
}

int nft_elem_parse(struct nft_elem *el, const char *text)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	int af, bits;
	long plen;

	memset(el, 0, sizeof(*el));
	if (n == 0 || n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, n);
	addr[n] = '\0';
	af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bits = af == AF_INET6 ? 128 : 32;
	if (inet_pton(af, addr, el->addr) != 1)
		return -EINVAL;
	plen = bits;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		plen = strtol(slash + 1, &end, 10);
		if (*end || plen > bits || end - slash > 4)
			return -EINVAL;
	}
	el->prefix = (uint8_t)plen;
	mask_prefix(el->addr, (unsigned)plen, (size_t)bits / 8, el->addr);
	return af == AF_INET6 ? NFT_KEY_IPV6 : NFT_KEY_IPV4;
}

/* start = addr masked to prefix; end = start + 2^(bits - prefix). Returns
 * false when end wraps past the top of the address space (no end element). */
static bool interval_of(const struct nft_elem *el, size_t klen, unsigned char *start,
			unsigned char *end)
{
	unsigned host = (unsigned)(klen * 8) - el->prefix;
	int carry;

	mask_prefix(el->addr, el->prefix, klen, start);
	if (host >= klen * 8)
		return false;
	memcpy(end, start, klen);
	carry = 1 << (host % 8);
	for (size_t i = klen - host / 8; i-- > 0 && carry;) {
		int v = end[i] + carry;
		end[i] = (unsigned char)v;
		carry = v >> 8;
	}
	return carry == 0;
}

static int put_elem(struct nl_buf *nb, const unsigned char *key, size_t klen, uint32_t flags,
		    uint64_t timeout_ms, bool open_interval)
{
	long nest = nla_nest_start(nb, NFTA_LIST_ELEM), knest;

	if (nest < 0 || (timeout_ms && nla_put_be64(nb, NFTA_SET_ELEM_TIMEOUT, timeout_ms) < 0) ||
	    (flags && nla_put_be32(nb, NFTA_SET_ELEM_FLAGS, flags) < 0))
		return -ENOSPC;
	knest = nla_nest_start(nb, NFTA_SET_ELEM_KEY);
	if (knest < 0 || nla_put(nb, NFTA_DATA_VALUE, key, klen) < 0 || nla_nest_end(nb, knest) < 0)
		return -ENOSPC;
	if (open_interval) {
		/* nft's note that the range runs to the end of the address space. */
		unsigned char ud[8] = {NFTNL_UDATA_SET_ELEM_FLAGS, 4};
		uint32_t f = NFTNL_SET_ELEM_F_INTERVAL_OPEN;
		memcpy(ud + 2, &f, sizeof(f));
		if (nla_put(nb, NFTA_SET_ELEM_USERDATA, ud, 6) < 0)
			return -ENOSPC;
	}
	return nla_nest_end(nb, nest) < 0 ? -ENOSPC : 0;
}

/* One element (one or two kernel elements for an interval). */
static int put_one(struct nl_buf *nb, const struct nft_set *set, const struct nft_elem *el,
		   bool add)
{
	size_t klen = key_len(set->key);
	uint64_t timeout = add ? el->timeout_ms : 0;
	unsigned char start[16], end[16];
	int r;

	if (!(set->flags & NFT_SETF_INTERVAL))
		return put_elem(nb, el->addr, klen, 0, timeout, false);
	if (!interval_of(el, klen, start, end))
		return put_elem(nb, start, klen, 0, timeout, add);
	r = put_elem(nb, start, klen, 0, timeout, false);
	return r < 0 ? r : put_elem(nb, end, klen, NFT_SET_ELEM_INTERVAL_END, 0, false);
}

static int check_elems(const char *op, const char *table, const struct nft_set *set,
		       const struct nft_elem *el, size_t n, struct err *e)
{
	unsigned bits = (unsigned)key_len(set->key) * 8;
	char key[INET6_ADDRSTRLEN + 8];

	if (set->key != NFT_KEY_IPV4 && set->key != NFT_KEY_IPV6)
		return err_set(e, EINVAL, "%s elements: set %s has unknown key type", op,
			       set->name);
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;
		if (el[i].prefix > bits)
			why = "prefix longer than the address";
		else if (el[i].prefix != bits && !(set->flags & NFT_SETF_INTERVAL))
			why = "a prefix needs an interval set";
		else if (el[i].timeout_ms && !(set->flags & NFT_SETF_TIMEOUT) && !set->timeout_ms)
			why = "a timeout needs a set with timeouts";
		if (why) {
			nft_key_str(el[i].addr, bits / 8, key, sizeof(key));
			return err_set(e, EINVAL, "%s element %s/%u %s set %s %s: %s", op, key,
				       el[i].prefix, *op == 'd' ? "from" : "to", table, set->name,
				       why);
		}
	}
	return 0;
}

/* Appends messages carrying elements [0, n); 0 or -ENOSPC (caller rolls back). */
static int elem_msgs(struct nft_batch *b, uint16_t type, int family, const char *table,
		     const struct nft_set *set, const struct nft_elem *el, size_t n, bool add,
		     struct err *e)
{
	const char *op = add ? "add elements to" : "delete elements from";
	size_t i = 0;

	while (i < n) {
		struct nl_buf nb = batch_window(b);
		size_t count = 0;
		long off, list;

		off = nft_batch_msg_start(b, &nb, type, add ? NLM_F_CREATE : 0, family, op, e);
		if (off < 0)
			return (int)off;
		if ((size_t)off + ELEM_MSG_MAX < nb.cap)
			nb.cap = (size_t)off + ELEM_MSG_MAX;
		if (nla_put_str(&nb, NFTA_SET_ELEM_LIST_TABLE, table) < 0 ||
		    nla_put_str(&nb, NFTA_SET_ELEM_LIST_SET, set->name) < 0 ||
		    (list = nla_nest_start(&nb, NFTA_SET_ELEM_LIST_ELEMENTS)) < 0)
			goto full;
		for (; i < n; i++, count++) {
			size_t mark = nb.len;
			if (put_one(&nb, set, &el[i], add) < 0) {
				nl_buf_truncate(&nb, mark);
				break;
			}
		}
		if (count == 0 || nla_nest_end(&nb, list) < 0)
			goto full;
		nft_batch_msg_end(b, &nb, off);
		continue;
	full:
		return err_set(e, ENOSPC, "%s set %s %s %s: batch full (%zu bytes)", op,
			       nft_family_name(family), table, set->name, b->cap);
	}
	return 0;
}

static int elems(struct nft_batch *b, int family, const char *table, const struct nft_set *set,
		 const struct nft_elem *el, size_t n, const char *op, struct err *e)
{
	size_t len = b->len;
	uint32_t nmsg = b->nmsg;
	bool refresh = op[0] == 'r';
	int r;

	if ((r = nft_check_family(family, e)) < 0 || (r = nft_check_name(table, "table", e)) < 0 ||
	    (r = nft_check_name(set->name, "set", e)) < 0)
		return NFT_WRAP(r, e, "%s elements", op);
	if ((r = check_elems(op, table, set, el, n, e)) < 0)
		return r;
	if (b->rule_off)
		return err_set(e, EBUSY, "%s elements: a rule is open (call nft_rule_end)", op);
	if (n == 0)
		return 0;
	if (op[0] == 'd')
		r = elem_msgs(b, NFT_MSG_DELSETELEM, family, table, set, el, n, false, e);
	else
		r = elem_msgs(b, NFT_MSG_NEWSETELEM, family, table, set, el, n, true, e);
	if (r == 0 && refresh) {
		r = elem_msgs(b, NFT_MSG_DELSETELEM, family, table, set, el, n, false, e);
		if (r == 0)
			r = elem_msgs(b, NFT_MSG_NEWSETELEM, family, table, set, el, n, true, e);
	}
	if (r < 0) {
		b->len = len;
		b->nmsg = nmsg;
	}
	return r;
}

int nft_elem_add(struct nft_batch *b, int family, const char *table, const struct nft_set *set,
		 const struct nft_elem *el, size_t n, struct err *e)
{
	return elems(b, family, table, set, el, n, "add", e);
}

int nft_elem_del(struct nft_batch *b, int family, const char *table, const struct nft_set *set,
		 const struct nft_elem *el, size_t n, struct err *e)
{
	return elems(b, family, table, set, el, n, "delete", e);
}

int nft_elem_refresh(struct nft_batch *b, int family, const char *table, const struct nft_set *set,
		     const struct nft_elem *el, size_t n, struct err *e)
{
	return elems(b, family, table, set, el, n, "refresh", e);
}
