// SPDX-License-Identifier: Apache-2.0
/*
 * The netlink building and parsing code on its own (no kernel, no root):
 * checked puts and nests, every truncation point of received datagrams,
 * attributes that overrun their container, ACK/error decoding with extended
 * acks, element encoding (CIDR to start/end), builder argument checks, the
 * all-or-nothing batch on a full buffer, and error descriptions.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "nft_int.h"
#include "unit.h"

static uint32_t space[32768];

/* A kernel-like reply: NEWSETELEM for set "s" with the given elements. */
static size_t make_elem_msg(unsigned char *p, size_t cap, const char *const *addrs, int n,
			    uint64_t timeout)
{
	struct nl_buf nb = {p, 0, cap};
	long off = nl_msg_start(&nb, NFT_MSG_NEWSETELEM, NLM_F_MULTI, NFPROTO_INET), list;

	nla_put_str(&nb, NFTA_SET_ELEM_LIST_TABLE, "t");
	nla_put_str(&nb, NFTA_SET_ELEM_LIST_SET, "s");
	list = nla_nest_start(&nb, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (int i = 0; i < n; i++) {
		struct nft_elem el;
		nft_elem_parse(&el, addrs[i]);
		long e = nla_nest_start(&nb, NFTA_LIST_ELEM), k;
		k = nla_nest_start(&nb, NFTA_SET_ELEM_KEY);
		nla_put(&nb, NFTA_DATA_VALUE, el.addr, 4);
		nla_nest_end(&nb, k);
		if (timeout) {
			nla_put_be64(&nb, NFTA_SET_ELEM_TIMEOUT, timeout);
			nla_put_be64(&nb, NFTA_SET_ELEM_EXPIRATION, timeout - 1);
		}
		nla_nest_end(&nb, e);
	}
	nla_nest_end(&nb, list);
	nl_msg_end(&nb, off);
	return nb.len;
}

TEST(netfilter_nl_build_checked_puts)
{
	unsigned char *p = (unsigned char *)space;
	struct nl_buf nb = {p, 0, 32};
	const struct nlattr *tb[8];
	uint32_t v32;
	uint64_t v64;
	char s[8];

	CHECK_INT(nla_put_be32(&nb, 1, 0x01020304), 0);
	CHECK_INT(nla_put_str(&nb, 2, "abc"), 0);
	CHECK_INT(nla_put_be64(&nb, 3, 0x1122334455667788ULL), 0);
	CHECK_INT(nb.len, 8 + 8 + 12);
	/* No room: nothing is written, the length stays. */
	CHECK_INT(nla_put_be32(&nb, 4, 5), -ENOSPC);
	CHECK_INT(nb.len, 28);
	CHECK_INT(nla_parse(tb, 7, p, nb.len), 0);
	CHECK(nla_get_be32(tb[1], &v32) == 0 && v32 == 0x01020304);
	CHECK(nla_get_be64(tb[3], &v64) == 0 && v64 == 0x1122334455667788ULL);
	CHECK(nla_get_str(tb[2], s, sizeof(s)) == 0 && strcmp(s, "abc") == 0);
	CHECK_INT(nla_get_str(tb[2], s, 3), -ENAMETOOLONG);
	CHECK(nla_str_eq(tb[2], "abc") && !nla_str_eq(tb[2], "ab") && !nla_str_eq(tb[4], "x"));
	CHECK_INT(nla_get_be32(tb[3], &v32), -EBADMSG); /* wrong size */
	CHECK_INT(nla_get_be64(tb[1], &v64), -EBADMSG);
	CHECK_INT(nla_get_u32(NULL, &v32), -EBADMSG);

	/* Nests: closed, cancelled, and refused above 64 KiB. */
	nb = (struct nl_buf){p, 0, sizeof(space)};
	long n = nla_nest_start(&nb, 5);
	CHECK_INT(nla_put_be32(&nb, 1, 7), 0);
	CHECK_INT(nla_nest_end(&nb, n), 0);
	long c = nla_nest_start(&nb, 6);
	CHECK_INT(nla_put_be32(&nb, 1, 7), 0);
	nla_nest_cancel(&nb, c);
	CHECK_INT(nb.len, 12);
	CHECK_INT(nla_parse(tb, 7, p, nb.len), 0);
	CHECK(tb[5] && !tb[6] && (tb[5]->nla_type & NLA_F_NESTED));
	const struct nlattr *in[2];
	CHECK(nla_parse_nested(in, 1, tb[5]) == 0 && nla_get_be32(in[1], &v32) == 0 && v32 == 7);
	static const char big[70000];
	n = nla_nest_start(&nb, 7);
	for (int i = 0; i < 70; i++)
		CHECK_INT(nla_put(&nb, 1, big, 1000), 0);
	CHECK_INT(nla_nest_end(&nb, n), -EMSGSIZE);
	CHECK_INT(nla_put(&nb, 1, big, sizeof(big)), -EMSGSIZE);
}

TEST(netfilter_nl_walk_every_truncation)
{
	unsigned char *p = (unsigned char *)space;
	static const char *const addrs[] = {"192.0.2.1", "192.0.2.2"};
	size_t one = make_elem_msg(p, 2048, addrs, 2, 0);
	size_t two = one + make_elem_msg(p + one, 2048, addrs, 1, 5000);
	const struct nlmsghdr *h;
	struct nl_walk w;
	int r, msgs;

	for (size_t len = 0; len <= two; len++) {
		unsigned char *copy = malloc(len ? len : 1);
		memcpy(copy, p, len);
		nl_walk_init(&w, copy, len);
		msgs = 0;
		while ((r = nl_walk_next(&w, &h)) > 0) {
			CHECK(h->nlmsg_len <= len);
			msgs++;
		}
		if (len == 0 || len == one || len == two)
			CHECK_INT(r, 0);
		else
			CHECK_INT(r, -EBADMSG);
		CHECK_INT(msgs, len >= two ? 2 : len >= one ? 1 : 0);
		free(copy);
	}
}

TEST(netfilter_nla_overrun_rejected)
{
	unsigned char buf[64] __attribute__((aligned(4))) = {0};
	const struct nlattr *tb[4];
	struct nlattr *a = (struct nlattr *)buf;

	a->nla_len = 12; /* claims 12, 8 present */
	a->nla_type = 1;
	CHECK_INT(nla_parse(tb, 3, buf, 8), -EBADMSG);
	a->nla_len = 3; /* shorter than its header */
	CHECK_INT(nla_parse(tb, 3, buf, 8), -EBADMSG);
	a->nla_len = 8;
	CHECK_INT(nla_parse(tb, 3, buf, 8), 0);
	CHECK_INT(nla_parse(tb, 3, buf, 10), -EBADMSG); /* 2 trailing bytes */
	CHECK_INT(nla_parse(tb, 3, buf, 0), 0);
	a->nla_len = 5; /* unaligned last attribute without padding */
	CHECK_INT(nla_parse(tb, 3, buf, 5), 0);
	CHECK(tb[1] && nla_len(tb[1]) == 1);
	a->nla_type = 9; /* above max: ignored */
	CHECK(nla_parse(tb, 3, buf, 8) == 0 && !tb[1]);
	/* A nested element list with a bad inner length is refused as a whole. */
	struct nft_elem_info info;
	a->nla_type = NFTA_LIST_ELEM | NLA_F_NESTED;
	a->nla_len = 16;
	((struct nlattr *)(buf + 4))->nla_len = 40;
	CHECK_INT(nft_elem_decode(a, &info), -EBADMSG);
}

static size_t make_error(unsigned char *p, int error, uint16_t flags, const char *msg, int offs,
			 size_t orig_payload)
{
	struct nlmsghdr *h = (struct nlmsghdr *)p;
	struct nlmsgerr *er = (struct nlmsgerr *)(h + 1);
	struct nl_buf nb = {p, sizeof(*h) + sizeof(*er), 1024};

	memset(p, 0, 1024);
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_flags = flags;
	er->error = error;
	er->msg.nlmsg_seq = 77;
	er->msg.nlmsg_type = 0x0a0c;
	er->msg.nlmsg_len = (uint32_t)(sizeof(*h) + orig_payload);
	nb.len += NLMSG_ALIGN(orig_payload);
	if (msg)
		nla_put_str(&nb, NLMSGERR_ATTR_MSG, msg);
	if (offs >= 0) {
		uint32_t o = (uint32_t)offs;
		nla_put(&nb, NLMSGERR_ATTR_OFFS, &o, 4);
	}
	h->nlmsg_len = (uint32_t)nb.len;
	return nb.len;
}

TEST(netfilter_nl_ack_decoding)
{
	unsigned char *p = (unsigned char *)space;
	const struct nlmsghdr *h = (const struct nlmsghdr *)p;
	struct nl_ack ack;

	make_error(p, 0, NLM_F_CAPPED, NULL, -1, 0);
	CHECK(nl_parse_ack(h, &ack) == 0 && ack.error == 0 && ack.seq == 77);
	make_error(p, -ENOENT, NLM_F_CAPPED | NLM_F_ACK_TLVS, "no such set", 44, 0);
	CHECK_INT(nl_parse_ack(h, &ack), 0);
	CHECK_INT(ack.error, ENOENT);
	CHECK_INT(ack.bad_offset, 44);
	CHECK(ack.msg && ack.msg_len == 11 && memcmp(ack.msg, "no such set", 11) == 0);
	CHECK_INT(ack.type, 0x0a0c);
	/* Not capped: the request's payload sits between the header and the TLVs. */
	make_error(p, -EEXIST, NLM_F_ACK_TLVS, "dup", 20, 30);
	CHECK(nl_parse_ack(h, &ack) == 0 && ack.error == EEXIST && ack.bad_offset == 20);
	/* The claimed request length overruns the message. */
	((struct nlmsgerr *)(p + 16))->msg.nlmsg_len = 4000;
	CHECK_INT(nl_parse_ack(h, &ack), -EBADMSG);
	/* Signs are normalised; non-errno values become EPROTO. */
	make_error(p, EPERM, NLM_F_CAPPED, NULL, -1, 0);
	CHECK(nl_parse_ack(h, &ack) == 0 && ack.error == EPERM);
	make_error(p, INT_MIN, NLM_F_CAPPED, NULL, -1, 0);
	CHECK(nl_parse_ack(h, &ack) == 0 && ack.error == EPROTO);
	make_error(p, 100000, NLM_F_CAPPED, NULL, -1, 0);
	CHECK(nl_parse_ack(h, &ack) == 0 && ack.error == EPROTO);
	/* Too short for an nlmsgerr. */
	size_t full = make_error(p, -1, NLM_F_CAPPED, NULL, -1, 0);
	((struct nlmsghdr *)p)->nlmsg_len = (uint32_t)full - 1;
	CHECK_INT(nl_parse_ack(h, &ack), -EBADMSG);
	/* A TLV that overruns. */
	make_error(p, -1, NLM_F_CAPPED | NLM_F_ACK_TLVS, "x", -1, 0);
	((struct nlattr *)(p + 36))->nla_len = 200;
	CHECK_INT(nl_parse_ack(h, &ack), -EBADMSG);
}

TEST(netfilter_elem_parse_text)
{
	struct nft_elem el;

	CHECK_INT(nft_elem_parse(&el, "192.0.2.77/24"), NFT_KEY_IPV4);
	CHECK(el.prefix == 24 && el.addr[3] == 0 && el.addr[2] == 2);
	CHECK_INT(nft_elem_parse(&el, "10.16.33.1/12"), NFT_KEY_IPV4);
	CHECK(el.addr[0] == 10 && el.addr[1] == 16 && el.addr[2] == 0 && el.prefix == 12);
	CHECK_INT(nft_elem_parse(&el, "2001:db8::1"), NFT_KEY_IPV6);
	CHECK(el.prefix == 128 && el.addr[15] == 1);
	CHECK_INT(nft_elem_parse(&el, "2001:db8:ffff::/33"), NFT_KEY_IPV6);
	CHECK(el.addr[4] == 0x80 && el.addr[5] == 0);
	CHECK_INT(nft_elem_parse(&el, "0.0.0.0/0"), NFT_KEY_IPV4);
	static const char *const bad[] = {
		"",	 "/24",	   "1.2.3.4/33", "1.2.3.4/",	 "1.2.3.4/x",
		"1.2.3", "::/129", "1.2.3.4/-1", "1.2.3.4/0024", "example.com"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (nft_elem_parse(&el, bad[i]) != -EINVAL)
			unit_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
}

struct keys {
	char text[8][48];
	int n;
};

static int collect(const struct nft_elem_info *el, void *arg)
{
	struct keys *k = arg;

	if (k->n < 8) {
		nft_key_str(el->key, el->key_len, k->text[k->n], sizeof(k->text[0]));
		if (el->interval_end)
			strcat(k->text[k->n], "!");
		k->n++;
	}
	return 0;
}

/* The kernel elements nft_elem_add writes for one prefix. */
static void intervals(const char *cidr, enum nft_key_type type, struct keys *k)
{
	const struct nft_set set = {"s", type, NFT_SETF_INTERVAL, 0};
	struct nft_batch b;
	struct nft_elem el;
	struct nl_walk w;
	const struct nlmsghdr *h;

	memset(k, 0, sizeof(*k));
	nft_batch_init(&b, NULL, space, sizeof(space));
	nft_elem_parse(&el, cidr);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &set, &el, 1, NULL), 0);
	nl_walk_init(&w, (unsigned char *)space + NFT_BATCH_HEAD, b.len - NFT_BATCH_HEAD);
	while (nl_walk_next(&w, &h) > 0) {
		((struct nlmsghdr *)h)->nlmsg_type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM;
		CHECK_INT(nft_elem_msg_parse(h, collect, k), 0);
	}
}

TEST(netfilter_elem_cidr_to_interval)
{
	struct keys k;

	intervals("192.0.2.0/24", NFT_KEY_IPV4, &k);
	CHECK(k.n == 2 && !strcmp(k.text[0], "192.0.2.0") && !strcmp(k.text[1], "192.0.3.0!"));
	intervals("192.0.2.7", NFT_KEY_IPV4, &k);
	CHECK(k.n == 2 && !strcmp(k.text[0], "192.0.2.7") && !strcmp(k.text[1], "192.0.2.8!"));
	intervals("10.16.0.0/12", NFT_KEY_IPV4, &k);
	CHECK(k.n == 2 && !strcmp(k.text[1], "10.32.0.0!"));
	intervals("192.0.2.255", NFT_KEY_IPV4, &k);
	CHECK(k.n == 2 && !strcmp(k.text[1], "192.0.3.0!"));
	intervals("255.255.255.0/24", NFT_KEY_IPV4, &k); /* reaches the top: open */
	CHECK(k.n == 1 && !strcmp(k.text[0], "255.255.255.0"));
	intervals("0.0.0.0/0", NFT_KEY_IPV4, &k);
	CHECK(k.n == 1 && !strcmp(k.text[0], "0.0.0.0"));
	intervals("2001:db8::/32", NFT_KEY_IPV6, &k);
	CHECK(k.n == 2 && !strcmp(k.text[1], "2001:db9::!"));
	intervals("2001:db8::ffff:ffff/127", NFT_KEY_IPV6, &k);
	CHECK(k.n == 2 && !strcmp(k.text[0], "2001:db8::ffff:fffe") &&
	      !strcmp(k.text[1], "2001:db8::1:0:0!"));
}

TEST(netfilter_builder_argument_checks)
{
	static unsigned char tiny[256] __attribute__((aligned(8)));
	const struct nft_set plain = {"s", NFT_KEY_IPV4, 0, 0};
	struct nft_batch b;
	struct err e = {0};
	struct nft_elem el;
	char longname[300];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	nft_batch_init(&b, NULL, space, sizeof(space));
	CHECK_INT(nft_table_add(&b, NFT_INET, longname, &e), -ENAMETOOLONG);
	CHECK(strstr(e.msg, "add table: table name longer than 255 bytes") != NULL);
	CHECK_INT(nft_table_add(&b, NFT_INET, "", NULL), -EINVAL);
	CHECK_INT(nft_table_add(&b, 7, "t", &e), -EAFNOSUPPORT);
	CHECK_INT(nft_chain_add(&b, NFT_INET, "t", NULL, NULL, &e), -EINVAL);
	struct nft_chain_hook bad_policy = {NFT_TYPE_FILTER, NFT_HOOK_OUTPUT, 0, NFT_V_RETURN};
	CHECK_INT(nft_chain_add(&b, NFT_INET, "t", "c", &bad_policy, &e), -EINVAL);

	nft_elem_parse(&el, "192.0.2.0/24");
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &plain, &el, 1, &e), -EINVAL);
	CHECK(strstr(e.msg, "a prefix needs an interval set") != NULL);
	nft_elem_parse(&el, "192.0.2.1");
	el.timeout_ms = 5;
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &plain, &el, 1, &e), -EINVAL);
	CHECK(strstr(e.msg, "timeout") != NULL);
	CHECK_INT(b.nmsg, 0);

	/* Expressions outside a rule, bad registers, a rule left open. */
	CHECK_INT(nft_expr_counter(&b), -EINVAL);
	CHECK_INT(nft_rule_end(&b, &e), -EINVAL);
	CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c", &e), 0);
	CHECK_INT(nft_table_add(&b, NFT_INET, "t", &e), -EBUSY);
	CHECK_INT(nft_expr_meta(&b, NFT_M_MARK, (enum nft_reg)9), -EINVAL);
	CHECK_INT(nft_expr_counter(&b), -EINVAL); /* sticky */
	CHECK_INT(nft_rule_end(&b, &e), -EINVAL);
	CHECK(strstr(e.msg, "add rule to chain inet t c: invalid expression") != NULL);
	CHECK_INT(b.nmsg, 0);
	CHECK_INT(b.len, NFT_BATCH_HEAD);
	CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c", &e), 0);
	CHECK_INT(nft_expr_verdict(&b, NFT_V_JUMP, NULL), -EINVAL);
	CHECK_INT(nft_rule_end(&b, &e), -EINVAL);
	CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c", &e), 0);
	CHECK_INT(nft_match_oifname(&b, "a-name-that-is-too-long"), -EINVAL);
	CHECK_INT(nft_rule_end(&b, &e), -EINVAL);
	CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c", &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), -EBUSY); /* also empties the batch */
	CHECK_INT(nft_batch_commit(&b, &e), 0);	     /* empty: nothing to send */

	/* A buffer that fills: each call is all or nothing. */
	nft_batch_init(&b, NULL, tiny, sizeof(tiny));
	CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c", &e), 0);
	int r = 0;
	for (int i = 0; i < 40 && r == 0; i++)
		r = nft_match_dport(&b, 6, 80);
	CHECK_INT(r, -ENOSPC);
	CHECK_INT(nft_rule_end(&b, &e), -ENOSPC);
	CHECK(strstr(e.msg, "batch full") != NULL);
	CHECK_INT(b.len, NFT_BATCH_HEAD);
	CHECK_INT(nft_table_add(&b, NFT_INET, longname + 100, &e), -ENOSPC);
	CHECK_INT(b.len, NFT_BATCH_HEAD);
	nft_batch_init(&b, NULL, tiny, 16); /* smaller than the reserved head */
	CHECK_INT(nft_table_add(&b, NFT_INET, "t", &e), -ENOSPC);

	/* Any alignment: the batch starts on the next 8-byte boundary. */
	nft_batch_init(&b, NULL, (unsigned char *)space + 1, 1024);
	CHECK(((uintptr_t)b.buf & 7) == 0 && b.cap == 1024 - 7);
	CHECK_INT(nft_table_add(&b, NFT_INET, "t", &e), 0);
	nft_batch_init(&b, NULL, (unsigned char *)space + 1, 3);
	CHECK_INT(b.cap, 0);
	CHECK_INT(nft_table_add(&b, NFT_INET, "t", &e), -ENOSPC);
}

TEST(netfilter_describe_messages)
{
	const struct nft_set set = {"allow", NFT_KEY_IPV4, NFT_SETF_INTERVAL, 0};
	struct nft_elem el[2];
	struct nft_batch b;
	const struct nlmsghdr *h;
	struct nl_walk w;
	char out[200], what[8][200];
	int n = 0;

	nft_batch_init(&b, NULL, space, sizeof(space));
	nft_elem_parse(&el[0], "192.0.2.0/24");
	nft_elem_parse(&el[1], "198.51.100.1");
	CHECK_INT(nft_table_add(&b, NFT_IP, "t", NULL), 0);
	CHECK_INT(nft_elem_add(&b, NFT_IP, "t", &set, el, 2, NULL), 0);
	CHECK_INT(nft_set_flush(&b, NFT_IP, "t", "allow", NULL), 0);
	CHECK_INT(nft_rule_del(&b, NFT_IP, "t", "c", 42, NULL), 0);
	CHECK_INT(nft_chain_flush(&b, NFT_IP, "t", "c", NULL), 0);
	CHECK_INT(nft_rule_begin(&b, NFT_IP, "t", "c", NULL), 0);
	CHECK_INT(nft_match_daddr_set(&b, NFT_KEY_IPV4, "allow", false), 0);
	CHECK_INT(nft_rule_end(&b, NULL), 0);
	nl_walk_init(&w, (unsigned char *)space + NFT_BATCH_HEAD, b.len - NFT_BATCH_HEAD);
	while (n < 8 && nl_walk_next(&w, &h) > 0)
		nft_describe_msg(h, 0, what[n++], sizeof(what[0]));
	CHECK_INT(n, 6);
	CHECK_STR(what[0], "add table ip t");
	CHECK_STR(what[1], "add 4 elements to set ip t allow"); /* kernel elements */
	CHECK_STR(what[2], "flush set ip t allow");
	CHECK_STR(what[3], "delete rule handle 42 from chain ip t c");
	CHECK_STR(what[4], "flush chain ip t c");
	CHECK_STR(what[5], "add rule to chain ip t c");

	/* An extack offset inside the second element / the second expression. */
	nl_walk_init(&w, (unsigned char *)space + NFT_BATCH_HEAD, b.len - NFT_BATCH_HEAD);
	nl_walk_next(&w, &h);
	nl_walk_next(&w, &h);
	nft_describe_msg(h, h->nlmsg_len - 8, out, sizeof(out));
	CHECK_STR(out, "add element 198.51.100.2 (interval end) to set ip t allow");
	nft_describe_msg(h, 9999, out, sizeof(out));
	CHECK_STR(out, "add 4 elements to set ip t allow");
	for (int i = 0; i < 4; i++)
		nl_walk_next(&w, &h);
	nft_describe_msg(h, h->nlmsg_len - 8, out, sizeof(out));
	CHECK_STR(out, "add rule to chain ip t c (expression 2: lookup)");
	nft_describe_msg(h, 0, out, 10);
	CHECK_STR(out, "add rule ");
}

TEST(netfilter_dump_render_messages)
{
	unsigned char *p = (unsigned char *)space;
	static const char *const addrs[] = {"192.0.2.1"};
	struct buf out;

	buf_init(&out, 4096);
	make_elem_msg(p, 2048, addrs, 1, 9000);
	CHECK_INT(nft_dump_render((const struct nlmsghdr *)p, &out), 0);
	CHECK_STR(buf_cstr(&out), "    element 192.0.2.1 timeout 9000ms expires 8999ms\n");
	/* Not an nf_tables message: refused. */
	((struct nlmsghdr *)p)->nlmsg_type = NLMSG_DONE;
	CHECK_INT(nft_dump_render((const struct nlmsghdr *)p, &out), -EBADMSG);
	buf_free(&out);
}
