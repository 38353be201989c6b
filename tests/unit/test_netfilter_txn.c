// SPDX-License-Identifier: Apache-2.0
/*
 * Transactions against the kernel: atomicity (one bad message changes
 * nothing, and the error names it), the generation-id check, deletes and
 * flushes, table recreation, large element batches split into several
 * messages of one transaction, listing elements, and the table dump.
 * Read back with the real `nft -j list ruleset` where it matters.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft.h"
#include "test_netfilter.h"
#include "unit.h"

static unsigned char mem[512 * 1024] __attribute__((aligned(8)));

static const struct nft_set plain = {"s", NFT_KEY_IPV4, 0, 0};
static const struct nft_set ranges = {"r", NFT_KEY_IPV4, NFT_SETF_INTERVAL, 0};
static const struct nft_set dyn = {"d", NFT_KEY_IPV4, NFT_SETF_TIMEOUT, 60000};

static struct nft_elem E(const char *text) {
	struct nft_elem el;

	if (nft_elem_parse(&el, text) < 0)
		unit_fail(__FILE__, __LINE__, "nft_elem_parse(%s)", text);
	return el;
}

/* The element values of a set in an nft JSON listing, comma-joined. */
static void
elems_of(cJSON *rs, const char *fam, const char *table, const char *set, char *out, size_t size)
{
	cJSON *s = nftest_find(rs, "set", fam, table, set, 0), *el;
	size_t o = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(s, "elem"))
	{
		char *t = cJSON_PrintUnformatted(el);
		o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s%s", o ? "," : "", t);
		free(t);
	}
}

static int count_rules(cJSON *rs, const char *chain)
{
	int n = 0;

	while (nftest_find(rs, "rule", "inet", "t", chain, n))
		n++;
	return n;
}

static void setup_base(struct nft_sock *s, struct nft_batch *b)
{
	struct nft_elem one = E("192.0.2.1");
	struct err e = {0};

	CHECK_INT(nft_open(s, &e), 0);
	nft_batch_init(b, s, mem, sizeof(mem));
	CHECK_INT(nft_table_add(b, NFT_INET, "t", &e), 0);
	CHECK_INT(nft_set_add(b, NFT_INET, "t", &plain, &e), 0);
	CHECK_INT(nft_elem_add(b, NFT_INET, "t", &plain, &one, 1, &e), 0);
	CHECK_INT(nft_chain_add(b, NFT_INET, "t", "c", NULL, &e), 0);
	CHECK_INT(nft_batch_commit(b, &e), 0);
}

static void atomic_body(void *arg)
{
	struct nft_sock s;
	struct nft_batch b;
	struct err e = {0};
	struct nft_elem two = E("192.0.2.2"), three = E("192.0.2.3");
	static const struct nft_set nosuch = {"nosuch", NFT_KEY_IPV4, 0, 0};
	char got[512];
	cJSON *rs;

	(void)arg;
	setup_base(&s, &b);

	/* Four good messages around one that names a missing set. */
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &plain, &two, 1, &e), 0);
	CHECK_INT(nft_set_add(&b, NFT_INET, "t", &ranges, &e), 0);
	CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c", &e), 0);
	CHECK_INT(nft_expr_verdict(&b, NFT_V_ACCEPT, NULL), 0);
	CHECK_INT(nft_rule_end(&b, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &nosuch, &three, 1, &e), 0);
	CHECK_INT(nft_chain_add(&b, NFT_INET, "t", "c2", NULL, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), -ENOENT);
	printf("    error: %s\n", e.msg);
	CHECK(strstr(e.msg, "add element 192.0.2.3 to set inet t nosuch") != NULL);
	CHECK(strstr(e.msg, strerror(ENOENT)) != NULL);

	rs = nftest_ruleset();
	CHECK(rs != NULL);
	elems_of(rs, "inet", "t", "s", got, sizeof(got));
	CHECK_STR(got, "\"192.0.2.1\"");
	CHECK(nftest_find(rs, "set", "inet", "t", "r", 0) == NULL);
	CHECK(nftest_find(rs, "chain", "inet", "t", "c2", 0) == NULL);
	CHECK_INT(count_rules(rs, "c"), 0);
	cJSON_Delete(rs);

	/* A rule whose lookup names a missing set: the expression is named. */
	CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c", &e), 0);
	CHECK_INT(nft_match_daddr_set(&b, NFT_KEY_IPV4, "missing", false), 0);
	CHECK_INT(nft_expr_verdict(&b, NFT_V_ACCEPT, NULL), 0);
	CHECK_INT(nft_rule_end(&b, &e), 0);
	CHECK(nft_batch_commit(&b, &e) < 0);
	printf("    error: %s\n", e.msg);
	CHECK(strstr(e.msg, "add rule to chain inet t c") != NULL);

	/* A jump to a chain that does not exist. */
	CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c", &e), 0);
	CHECK_INT(nft_expr_verdict(&b, NFT_V_JUMP, "nowhere"), 0);
	CHECK_INT(nft_rule_end(&b, &e), 0);
	CHECK(nft_batch_commit(&b, &e) < 0);
	CHECK(strstr(e.msg, "add rule to chain inet t c") != NULL);

	/* Deleting a missing element names the element. */
	CHECK_INT(nft_elem_del(&b, NFT_INET, "t", &plain, &three, 1, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), -ENOENT);
	CHECK(strstr(e.msg, "delete element 192.0.2.3 from set inet t s") != NULL);

	/* After all that, the socket still works and nothing changed. */
	rs = nftest_ruleset();
	CHECK_INT(count_rules(rs, "c"), 0);
	cJSON_Delete(rs);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &plain, &two, 1, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	nft_close(&s);
}

TEST(netfilter_txn_atomic_and_error_names)
{
	NFTEST_RUN(atomic_body, NULL, 15, true);
}

static void genid_body(void *arg)
{
	struct nft_sock s;
	struct nft_batch b;
	struct err e = {0};
	uint32_t g0, g1;
	cJSON *rs;

	(void)arg;
	setup_base(&s, &b);
	CHECK_INT(nft_gen_id(&s, &g0, &e), 0);
	/* Someone else changes the ruleset. */
	CHECK_INT(nftest_sh("nft add table inet other"), 0);
	CHECK_INT(nft_gen_id(&s, &g1, &e), 0);
	CHECK(g1 != g0);

	nft_batch_genid(&b, g0);
	CHECK_INT(nft_chain_add(&b, NFT_INET, "t", "late", NULL, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), -ERESTART);
	CHECK(strstr(e.msg, "generation") != NULL);
	rs = nftest_ruleset();
	CHECK(nftest_find(rs, "chain", "inet", "t", "late", 0) == NULL);
	cJSON_Delete(rs);

	/* With the current generation it applies; the check was one-shot. */
	nft_batch_genid(&b, g1);
	CHECK_INT(nft_chain_add(&b, NFT_INET, "t", "late", NULL, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	rs = nftest_ruleset();
	CHECK(nftest_find(rs, "chain", "inet", "t", "late", 0) != NULL);
	cJSON_Delete(rs);
	nft_close(&s);
}

TEST(netfilter_txn_genid_check)
{
	NFTEST_RUN(genid_body, NULL, 15, true);
}

static void delete_body(void *arg)
{
	struct nft_sock s;
	struct nft_batch b;
	struct err e = {0};
	struct nft_elem r[] = {E("192.0.2.0/24"), E("198.51.100.0/24"), E("203.0.113.7")};
	struct nft_elem d[] = {E("192.0.2.5"), E("192.0.2.6")};
	char got[1024];
	cJSON *rs, *rule;

	(void)arg;
	setup_base(&s, &b);
	CHECK_INT(nft_set_add(&b, NFT_INET, "t", &ranges, &e), 0);
	CHECK_INT(nft_set_add(&b, NFT_INET, "t", &dyn, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &ranges, r, 3, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &dyn, d, 2, &e), 0);
	CHECK_INT(nft_chain_add(&b, NFT_INET, "t", "c2", NULL, &e), 0);
	CHECK_INT(nft_chain_add(&b, NFT_INET, "t", "c3", NULL, &e), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c", &e), 0);
		CHECK_INT(nft_match_mark(&b, (uint32_t)i), 0);
		CHECK_INT(nft_expr_verdict(&b, NFT_V_ACCEPT, NULL), 0);
		CHECK_INT(nft_rule_end(&b, &e), 0);
		CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "c2", &e), 0);
		CHECK_INT(nft_expr_counter(&b), 0);
		CHECK_INT(nft_rule_end(&b, &e), 0);
	}
	CHECK_INT(nft_batch_commit(&b, &e), 0);

	rs = nftest_ruleset();
	rule = nftest_find(rs, "rule", "inet", "t", "c", 1);
	CHECK(rule != NULL);
	uint64_t handle = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(rule, "handle"));
	cJSON_Delete(rs);

	CHECK_INT(nft_elem_del(&b, NFT_INET, "t", &ranges, &r[0], 1, &e), 0);
	CHECK_INT(nft_set_flush(&b, NFT_INET, "t", "d", &e), 0);
	CHECK_INT(nft_rule_del(&b, NFT_INET, "t", "c", handle, &e), 0);
	CHECK_INT(nft_chain_flush(&b, NFT_INET, "t", "c2", &e), 0);
	CHECK_INT(nft_chain_del(&b, NFT_INET, "t", "c3", &e), 0);
	CHECK_INT(nft_set_del(&b, NFT_INET, "t", "s", &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);

	rs = nftest_ruleset();
	elems_of(rs, "inet", "t", "r", got, sizeof(got));
	CHECK_STR(got, "{\"prefix\":{\"addr\":\"198.51.100.0\",\"len\":24}},\"203.0.113.7\"");
	elems_of(rs, "inet", "t", "d", got, sizeof(got));
	CHECK_STR(got, "");
	CHECK_INT(count_rules(rs, "c"), 2);
	CHECK_INT(count_rules(rs, "c2"), 0);
	CHECK(nftest_find(rs, "chain", "inet", "t", "c3", 0) == NULL);
	CHECK(nftest_find(rs, "set", "inet", "t", "s", 0) == NULL);
	/* The remaining rules are marks 0 and 2: rule 1 went by its handle. */
	rule = nftest_find(rs, "rule", "inet", "t", "c", 1);
	char *txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(rule, "expr"));
	CHECK(txt && strstr(txt, "\"right\":2") != NULL);
	free(txt);
	cJSON_Delete(rs);

	/* Recreate: the table is there and empty, whether or not it existed. */
	CHECK_INT(nft_table_recreate(&b, NFT_INET, "t", &e), 0);
	CHECK_INT(nft_table_recreate(&b, NFT_IP, "fresh", &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	rs = nftest_ruleset();
	CHECK(nftest_find(rs, "table", "inet", "t", NULL, 0) != NULL);
	CHECK(nftest_find(rs, "table", "ip", "fresh", NULL, 0) != NULL);
	CHECK(nftest_find(rs, "chain", "inet", "t", "c", 0) == NULL);
	CHECK(nftest_find(rs, "set", "inet", "t", "r", 0) == NULL);
	cJSON_Delete(rs);

	CHECK_INT(nft_table_del(&b, NFT_INET, "t", &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	rs = nftest_ruleset();
	CHECK(nftest_find(rs, "table", "inet", "t", NULL, 0) == NULL);
	cJSON_Delete(rs);
	CHECK_INT(nft_table_del(&b, NFT_INET, "t", &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), -ENOENT);
	CHECK(strstr(e.msg, "delete table inet t") != NULL);
	nft_close(&s);
}

TEST(netfilter_txn_delete_flush_recreate)
{
	NFTEST_RUN(delete_body, NULL, 15, true);
}

struct count {
	int n, ends;
	uint64_t max_timeout;
};

static int count_elem(const struct nft_elem_info *el, void *arg)
{
	struct count *c = arg;

	c->n++;
	c->ends += el->interval_end;
	if (el->timeout_ms > c->max_timeout)
		c->max_timeout = el->timeout_ms;
	return 0;
}

static void big_body(void *arg)
{
	enum { N = 5000 };
	static struct nft_elem many[N];
	static const struct nft_set big = {"big", NFT_KEY_IPV4, NFT_SETF_TIMEOUT, 0};
	static unsigned char small[2048] __attribute__((aligned(8)));
	struct nft_sock s;
	struct nft_batch b, sb;
	struct err e = {0};
	struct count c = {0};
	size_t len;
	uint32_t nmsg;

	(void)arg;
	setup_base(&s, &b);
	for (int i = 0; i < N; i++) {
		/* 198.18.0.0/15, the benchmarking range: data only, never routed here. */
		unsigned char a[4] = {198, (unsigned char)(18 + i / 65536),
				      (unsigned char)(i / 256), (unsigned char)i};
		memset(&many[i], 0, sizeof(many[i]));
		memcpy(many[i].addr, a, 4);
		many[i].prefix = 32;
		many[i].timeout_ms = 600000 + (uint64_t)i;
	}
	CHECK_INT(nft_set_add(&b, NFT_INET, "t", &big, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &big, many, N, &e), 0);
	/* More than one message: a nest cannot exceed 64 KiB. */
	CHECK(b.nmsg > 2);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	CHECK_INT(nft_elem_list(&s, NFT_INET, "t", "big", count_elem, &c, &e), 0);
	CHECK_INT(c.n, N);
	/* The kernel keeps timeouts in jiffies: within a few ms of what was asked. */
	CHECK(c.max_timeout + 10 >= 600000 + N - 1 && c.max_timeout <= 600000 + N + 10);

	/* A full buffer refuses the whole call and leaves the batch as it was. */
	nft_batch_init(&sb, &s, small, sizeof(small));
	CHECK_INT(nft_table_add(&sb, NFT_INET, "t", &e), 0);
	len = sb.len;
	nmsg = sb.nmsg;
	CHECK_INT(nft_elem_add(&sb, NFT_INET, "t", &big, many, 500, &e), -ENOSPC);
	CHECK(strstr(e.msg, "batch full") != NULL);
	CHECK_INT(sb.len, len);
	CHECK_INT(sb.nmsg, nmsg);
	CHECK_INT(nft_batch_commit(&sb, &e), 0);

	/* Interval sets list start and end elements. */
	struct nft_elem r = E("192.0.2.0/24");
	memset(&c, 0, sizeof(c));
	CHECK_INT(nft_set_add(&b, NFT_INET, "t", &ranges, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &ranges, &r, 1, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	CHECK_INT(nft_elem_list(&s, NFT_INET, "t", "r", count_elem, &c, &e), 0);
	CHECK_INT(c.n, 2);
	CHECK_INT(c.ends, 1);

	/* Listing a missing set names it. */
	CHECK_INT(nft_elem_list(&s, NFT_INET, "t", "absent", count_elem, &c, &e), -ENOENT);
	CHECK(strstr(e.msg, "list set inet t absent") != NULL);
	nft_close(&s);
}

TEST(netfilter_txn_large_batch_and_listing)
{
	NFTEST_RUN(big_body, NULL, 20, false);
}

static void dump_body(void *arg)
{
	static const struct nft_chain_hook hook = {NFT_TYPE_FILTER, NFT_HOOK_OUTPUT, 0, NFT_V_DROP};
	struct nft_sock s;
	struct nft_batch b;
	struct err e = {0};
	struct nft_elem r = E("192.0.2.0/24"), d = E("192.0.2.7");
	struct buf out;

	(void)arg;
	setup_base(&s, &b);
	d.timeout_ms = 30000;
	CHECK_INT(nft_set_add(&b, NFT_INET, "t", &ranges, &e), 0);
	CHECK_INT(nft_set_add(&b, NFT_INET, "t", &dyn, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &ranges, &r, 1, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &dyn, &d, 1, &e), 0);
	CHECK_INT(nft_chain_add(&b, NFT_INET, "t", "egress", &hook, &e), 0);
	CHECK_INT(nft_rule_begin(&b, NFT_INET, "t", "egress", &e), 0);
	CHECK_INT(nft_match_daddr_set(&b, NFT_KEY_IPV4, "r", false), 0);
	CHECK_INT(nft_expr_counter(&b), 0);
	CHECK_INT(nft_expr_verdict(&b, NFT_V_ACCEPT, NULL), 0);
	CHECK_INT(nft_rule_end(&b, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);

	buf_init(&out, 1 << 20);
	CHECK_INT(nft_table_dump(&s, NFT_INET, "t", &out, &e), 0);
	const char *text = buf_cstr(&out);
	CHECK(text != NULL);
	if (text) {
		CHECK(strstr(text, "table inet t handle ") != NULL);
		CHECK(strstr(text,
			     "  chain egress { type filter hook output priority 0 policy drop }") !=
		      NULL);
		CHECK(strstr(text, "  chain c handle ") != NULL);
		CHECK(strstr(text, "  set r type ipv4_addr flags interval\n") != NULL);
		CHECK(strstr(text, "  set d type ipv4_addr flags timeout timeout 60000ms\n") !=
		      NULL);
		CHECK(strstr(text, "    element 192.0.2.0\n") != NULL);
		CHECK(strstr(text, "    element 192.0.3.0 (interval end)\n") != NULL);
		CHECK(strstr(text, "    element 192.0.2.7 timeout 30000ms expires ") != NULL);
		CHECK(strstr(text,
			     "meta load nfproto => r1; cmp eq r1 0x02; payload load 4b @ network + "
			     "16 => r1; lookup r1 @r; counter packets 0 bytes 0; accept\n") !=
		      NULL);
	}
	/* A bounded output buffer: -ENOBUFS, and nothing half-written stays. */
	struct buf tiny;
	buf_init(&tiny, 64);
	CHECK_INT(nft_table_dump(&s, NFT_INET, "t", &tiny, &e), -ENOBUFS);
	CHECK_INT(tiny.len, 0);
	CHECK_INT(nft_table_dump(&s, NFT_INET, "absent", &out, &e), -ENOENT);
	buf_free(&tiny);
	buf_free(&out);
	nft_close(&s);
}

TEST(netfilter_txn_table_dump)
{
	NFTEST_RUN(dump_body, NULL, 15, false);
}
