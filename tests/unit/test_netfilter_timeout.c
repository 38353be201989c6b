// SPDX-License-Identifier: Apache-2.0
/*
 * Element timeouts and their refresh (upstream egress bug B3, docs/compatibility.md). Elements
 * added with a 2 s timeout; at 1.5 s one is refreshed with nft_elem_refresh (add + delete + add in
 * one transaction) and must then outlive 3 s, and expire soon after 3.5 s; one is only re-added
 * (nft_elem_add) to show what the kernel does with a plain re-add. The same for a prefix in a set
 * with intervals and timeouts. Checked with nft_elem_list and with `nft -j`.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nft.h"
#include "test_netfilter.h"
#include "unit.h"

static const struct nft_set dyn = {"dyn", NFT_KEY_IPV4, NFT_SETF_TIMEOUT, 0};
static const struct nft_set ranges = {"ranges", NFT_KEY_IPV4, NFT_SETF_INTERVAL | NFT_SETF_TIMEOUT,
				      0};

struct seen {
	const char *want;
	bool found;
	uint64_t expires_ms, timeout_ms;
};

static int find_elem(const struct nft_elem_info *el, void *arg)
{
	struct seen *s = arg;
	struct nft_elem want;

	nft_elem_parse(&want, s->want);
	if (el->key_len == 4 && memcmp(el->key, want.addr, 4) == 0 && !el->interval_end) {
		s->found = true;
		s->expires_ms = el->expires_ms;
		s->timeout_ms = el->timeout_ms;
	}
	return 0;
}

static struct seen look(struct nft_sock *s, const char *set, const char *addr)
{
	struct seen r = {addr, false, 0, 0};
	struct err e = {0};

	if (nft_elem_list(s, NFT_INET, "t", set, find_elem, &r, &e) < 0)
		unit_fail(__FILE__, __LINE__, "list: %s", e.msg);
	return r;
}

static void sleep_until(long long t0, long long at_ms)
{
	long long left = t0 + at_ms - nftest_ms();

	if (left > 0) {
		struct timespec ts = {left / 1000, (left % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
}

static bool in_nft_listing(const char *set, const char *addr)
{
	cJSON *rs = nftest_ruleset();
	char *t = cJSON_PrintUnformatted(nftest_find(rs, "set", "inet", "t", set, 0));
	bool in = t && strstr(t, addr);

	cJSON_free(t);
	cJSON_Delete(rs);
	return in;
}

static void timeout_body(void *arg)
{
	static unsigned char mem[16384] __attribute__((aligned(8)));
	struct nft_sock s;
	struct nft_batch b;
	struct err e = {0};
	struct nft_elem a, plain, c;
	struct seen sa, sp, sc;
	long long t0, t1;

	(void)arg;
	nft_elem_parse(&a, "192.0.2.10");
	nft_elem_parse(&plain, "192.0.2.11");
	nft_elem_parse(&c, "192.0.2.64/26");
	a.timeout_ms = plain.timeout_ms = c.timeout_ms = 2000;

	CHECK_INT(nft_open(&s, &e), 0);
	nft_batch_init(&b, &s, mem, sizeof(mem));
	CHECK_INT(nft_table_add(&b, NFT_INET, "t", &e), 0);
	CHECK_INT(nft_set_add(&b, NFT_INET, "t", &dyn, &e), 0);
	CHECK_INT(nft_set_add(&b, NFT_INET, "t", &ranges, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);

	t0 = nftest_ms();
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &dyn, &a, 1, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &dyn, &plain, 1, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &ranges, &c, 1, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	sa = look(&s, "dyn", "192.0.2.10");
	CHECK(sa.found && sa.timeout_ms >= 1990 && sa.timeout_ms <= 2000);
	CHECK(sa.expires_ms > 1800 && sa.expires_ms <= 2000);

	sleep_until(t0, 1500);
	CHECK_INT(nft_elem_refresh(&b, NFT_INET, "t", &dyn, &a, 1, &e), 0);
	CHECK_INT(nft_elem_add(&b, NFT_INET, "t", &dyn, &plain, 1, &e), 0);
	CHECK_INT(nft_elem_refresh(&b, NFT_INET, "t", &ranges, &c, 1, &e), 0);
	CHECK_INT(nft_batch_commit(&b, &e), 0);
	/* The refreshed elements now run out 2 s after this (t1 ~ 1.5 s). */
	t1 = nftest_ms() - t0;
	sa = look(&s, "dyn", "192.0.2.10");
	sp = look(&s, "dyn", "192.0.2.11");
	sc = look(&s, "ranges", "192.0.2.64");
	CHECK(sa.found && sa.expires_ms > 1800); /* restarted */
	CHECK(sc.found && sc.expires_ms > 1800);
	CHECK(sp.found);
	printf("    note: after %lld ms, refreshed expires in %llu ms; plain re-add in %llu ms "
	       "(%s on this kernel)\n",
	       t1, (unsigned long long)sa.expires_ms, (unsigned long long)sp.expires_ms,
	       sp.expires_ms > 1000 ? "a plain re-add refreshes"
				    : "bug B3: a plain re-add does not refresh");

	/* Past 3 s (and past the first 2 s): still there, with what is left of the new 2 s. */
	sleep_until(t0, t1 + 1700 > 3100 ? t1 + 1700 : 3100);
	sa = look(&s, "dyn", "192.0.2.10");
	sc = look(&s, "ranges", "192.0.2.64");
	CHECK(nftest_ms() - t0 > 3000);
	CHECK(sa.found && sa.expires_ms > 0 && sa.expires_ms < 2000 - 1500);
	CHECK(sc.found);
	CHECK(in_nft_listing("dyn", "192.0.2.10"));
	if (sp.expires_ms < 1000)
		CHECK(!look(&s, "dyn", "192.0.2.11").found); /* expired at 2 s */

	sleep_until(t0, t1 + 2000 + 300);
	CHECK(!look(&s, "dyn", "192.0.2.10").found); /* the refreshed 2 s ran out */
	CHECK(!look(&s, "ranges", "192.0.2.64").found);
	CHECK(!in_nft_listing("dyn", "192.0.2.10"));
	nft_close(&s);
}

TEST(netfilter_timeout_refresh)
{
	NFTEST_RUN(timeout_body, NULL, 15, true);
}
