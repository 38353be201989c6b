// SPDX-License-Identifier: Apache-2.0
/*
 * Every object and expression, programmed through netfilter/ into table
 * "lib" and, with the real nft CLI, the same thing written in nft syntax
 * into table "cli" of the same family; `nft -j list ruleset` must then show
 * both tables identically (handles, table names and expiry countdowns
 * aside). So the library generates exactly what nft itself would, as nft
 * decodes it back from the kernel.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nft.h"
#include "test_netfilter.h"
#include "unit.h"

#define BUFSZ (256 * 1024)

static struct nft_elem E(const char *text, uint64_t timeout_ms) {
	struct nft_elem el;

	if (nft_elem_parse(&el, text) < 0)
		unit_fail(__FILE__, __LINE__, "nft_elem_parse(%s)", text);
	el.timeout_ms = timeout_ms;
	return el;
}

static const struct nft_set allow_v4 = {"allow_v4", NFT_KEY_IPV4, NFT_SETF_INTERVAL, 0};
static const struct nft_set dyn_v4 = {"dyn_allow_v4", NFT_KEY_IPV4, 0, 360000};
static const struct nft_set allow_v6 = {"allow_v6", NFT_KEY_IPV6, NFT_SETF_INTERVAL, 0};
static const struct nft_set dyn_v6 = {"dyn_allow_v6", NFT_KEY_IPV6, NFT_SETF_TIMEOUT, 0};
static const struct nft_set both_v4 = {"both", NFT_KEY_IPV4, NFT_SETF_INTERVAL | NFT_SETF_TIMEOUT,
				       60000};

static const char inet_script[] =
	"add set inet cli allow_v4 { type ipv4_addr; flags interval; }\n"
	"add set inet cli dyn_allow_v4 { type ipv4_addr; timeout 360s; }\n"
	"add set inet cli allow_v6 { type ipv6_addr; flags interval; }\n"
	"add set inet cli dyn_allow_v6 { type ipv6_addr; flags timeout; }\n"
	"add set inet cli both { type ipv4_addr; flags interval,timeout; timeout 60s; }\n"
	"add element inet cli allow_v4 { 192.0.2.0/24, 198.51.100.7, 203.0.113.128/25, "
	"255.255.255.0/24, 10.16.0.0/12 }\n"
	"add element inet cli dyn_allow_v4 { 192.0.2.9 timeout 90s, 192.0.2.10 }\n"
	"add element inet cli allow_v6 { 2001:db8::/48, 2001:db8:1::1 }\n"
	"add element inet cli dyn_allow_v6 { 2001:db8::9 timeout 90s }\n"
	"add element inet cli both { 192.0.2.0/28 timeout 30s, 192.0.2.64/26 }\n"
	"add chain inet cli egress { type filter hook output priority 0; policy drop; }\n"
	"add chain inet cli reg\n"
	"add chain inet cli nat_out { type nat hook output priority -100; policy accept; }\n"
	"add chain inet cli pre { type filter hook prerouting priority -150; policy accept; }\n"
	"add chain inet cli post { type nat hook postrouting priority 100; policy accept; }\n"
	"add rule inet cli egress ct state established,related accept\n"
	"add rule inet cli egress meta mark 0x1 accept\n"
	"add rule inet cli egress oifname \"lo\" accept\n"
	"add rule inet cli egress tcp dport 853 drop\n"
	"add rule inet cli egress udp dport 853 counter drop\n"
	"add rule inet cli egress ip daddr @allow_v4 accept\n"
	"add rule inet cli egress ip6 daddr @allow_v6 jump reg\n"
	"add rule inet cli egress ip daddr 127.0.0.1 return\n"
	"add rule inet cli egress ip daddr 127.0.0.0/8 return\n"
	"add rule inet cli egress ip daddr 10.16.0.0/12 drop\n"
	"add rule inet cli egress ip6 daddr ::1 accept\n"
	"add rule inet cli egress ip6 daddr 2001:db8::/32 accept\n"
	"add rule inet cli egress ip daddr != @allow_v4 drop\n"
	"add rule inet cli egress meta nfproto ipv4 meta l4proto udp reject with icmp "
	"port-unreachable\n"
	"add rule inet cli egress tcp dport 8082 reject with tcp reset\n"
	"add rule inet cli egress reject with icmpx admin-prohibited\n"
	"add rule inet cli egress meta l4proto tcp counter accept\n"
	"add rule inet cli egress ct state new goto reg\n"
	"add rule inet cli egress ip daddr @dyn_allow_v4 accept\n"
	"add rule inet cli egress ip6 daddr @dyn_allow_v6 accept\n"
	"add rule inet cli egress meta nfproto ipv6 continue\n"
	"add rule inet cli reg counter return\n"
	"add rule inet cli nat_out udp dport 53 redirect to :15353\n"
	"add rule inet cli nat_out tcp dport 53 redirect to :15353\n"
	"add rule inet cli pre ct state invalid drop\n"
	"add rule inet cli pre iifname \"lo\" fib saddr type != local ct status & dnat == 0 "
	"counter drop\n"
	"add rule inet cli post meta mark 0x2a accept\n";

static void build_inet(struct nft_batch *b, const char *t)
{
	static const struct nft_chain_hook egress = {NFT_TYPE_FILTER, NFT_HOOK_OUTPUT, 0,
						     NFT_V_DROP},
					   nat_out = {NFT_TYPE_NAT, NFT_HOOK_OUTPUT, -100,
						      NFT_V_ACCEPT},
					   pre = {NFT_TYPE_FILTER, NFT_HOOK_PREROUTING, -150,
						  NFT_V_ACCEPT},
					   post = {NFT_TYPE_NAT, NFT_HOOK_POSTROUTING, 100,
						   NFT_V_ACCEPT};
	const int F = NFT_INET;
	struct nft_elem a4[] = {E("192.0.2.0/24", 0), E("198.51.100.7", 0),
				E("203.0.113.128/25", 0), E("255.255.255.0/24", 0),
				E("10.16.0.0/12", 0)};
	struct nft_elem d4[] = {E("192.0.2.9", 90000), E("192.0.2.10", 0)};
	struct nft_elem a6[] = {E("2001:db8::/48", 0), E("2001:db8:1::1", 0)};
	struct nft_elem d6[] = {E("2001:db8::9", 90000)};
	struct nft_elem bo[] = {E("192.0.2.0/28", 30000), E("192.0.2.64/26", 0)};
	struct nft_elem lo4 = E("127.0.0.1", 0), lo8 = E("127.0.0.0/8", 0),
			p12 = E("10.16.0.0/12", 0), lo6 = E("::1", 0), doc6 = E("2001:db8::/32", 0);
	struct err e = {0};

	CHECK_INT(nft_table_add(b, F, t, &e), 0);
	CHECK_INT(nft_set_add(b, F, t, &allow_v4, &e), 0);
	CHECK_INT(nft_set_add(b, F, t, &dyn_v4, &e), 0);
	CHECK_INT(nft_set_add(b, F, t, &allow_v6, &e), 0);
	CHECK_INT(nft_set_add(b, F, t, &dyn_v6, &e), 0);
	CHECK_INT(nft_set_add(b, F, t, &both_v4, &e), 0);
	CHECK_INT(nft_elem_add(b, F, t, &allow_v4, a4, 5, &e), 0);
	CHECK_INT(nft_elem_add(b, F, t, &dyn_v4, d4, 2, &e), 0);
	CHECK_INT(nft_elem_add(b, F, t, &allow_v6, a6, 2, &e), 0);
	CHECK_INT(nft_elem_add(b, F, t, &dyn_v6, d6, 1, &e), 0);
	CHECK_INT(nft_elem_add(b, F, t, &both_v4, bo, 2, &e), 0);
	CHECK_INT(nft_chain_add(b, F, t, "egress", &egress, &e), 0);
	CHECK_INT(nft_chain_add(b, F, t, "reg", NULL, &e), 0);
	CHECK_INT(nft_chain_add(b, F, t, "nat_out", &nat_out, &e), 0);
	CHECK_INT(nft_chain_add(b, F, t, "pre", &pre, &e), 0);
	CHECK_INT(nft_chain_add(b, F, t, "post", &post, &e), 0);

#define RULE(chain, ...)                                                                           \
	do {                                                                                       \
		CHECK_INT(nft_rule_begin(b, F, t, chain, &e), 0);                                  \
		__VA_ARGS__;                                                                       \
		if (nft_rule_end(b, &e) < 0)                                                       \
			unit_fail(__FILE__, __LINE__, "rule: %s", e.msg);                          \
	} while (0)

	RULE("egress", nft_match_ct_state(b, NFT_CTS_ESTABLISHED | NFT_CTS_RELATED),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("egress", nft_match_mark(b, 1), nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("egress", nft_match_oifname(b, "lo"), nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("egress", nft_match_dport(b, IPPROTO_TCP, 853), nft_expr_verdict(b, NFT_V_DROP, NULL));
	RULE("egress", nft_match_dport(b, IPPROTO_UDP, 853), nft_expr_counter(b),
	     nft_expr_verdict(b, NFT_V_DROP, NULL));
	RULE("egress", nft_match_daddr_set(b, NFT_KEY_IPV4, "allow_v4", false),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("egress", nft_match_daddr_set(b, NFT_KEY_IPV6, "allow_v6", false),
	     nft_expr_verdict(b, NFT_V_JUMP, "reg"));
	RULE("egress", nft_match_daddr(b, NFT_KEY_IPV4, &lo4),
	     nft_expr_verdict(b, NFT_V_RETURN, NULL));
	RULE("egress", nft_match_daddr(b, NFT_KEY_IPV4, &lo8),
	     nft_expr_verdict(b, NFT_V_RETURN, NULL));
	RULE("egress", nft_match_daddr(b, NFT_KEY_IPV4, &p12),
	     nft_expr_verdict(b, NFT_V_DROP, NULL));
	RULE("egress", nft_match_daddr(b, NFT_KEY_IPV6, &lo6),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("egress", nft_match_daddr(b, NFT_KEY_IPV6, &doc6),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("egress", nft_match_daddr_set(b, NFT_KEY_IPV4, "allow_v4", true),
	     nft_expr_verdict(b, NFT_V_DROP, NULL));
	RULE("egress", nft_match_nfproto(b, NFT_IP), nft_match_l4proto(b, IPPROTO_UDP),
	     nft_expr_reject(b, NFT_RJ_ICMP, 3));
	RULE("egress", nft_match_dport(b, IPPROTO_TCP, 8082),
	     nft_expr_reject(b, NFT_RJ_TCP_RST, 0));
	RULE("egress", nft_expr_reject(b, NFT_RJ_ICMPX, NFT_RJ_ADMIN_PROHIBITED));
	RULE("egress", nft_match_l4proto(b, IPPROTO_TCP), nft_expr_counter(b),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("egress", nft_match_ct_state(b, NFT_CTS_NEW), nft_expr_verdict(b, NFT_V_GOTO, "reg"));
	RULE("egress", nft_match_daddr_set(b, NFT_KEY_IPV4, "dyn_allow_v4", false),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("egress", nft_match_daddr_set(b, NFT_KEY_IPV6, "dyn_allow_v6", false),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("egress", nft_match_nfproto(b, NFT_IP6), nft_expr_verdict(b, NFT_V_CONTINUE, NULL));
	RULE("reg", nft_expr_counter(b), nft_expr_verdict(b, NFT_V_RETURN, NULL));
	RULE("nat_out", nft_match_dport(b, IPPROTO_UDP, 53), nft_expr_redir_port(b, 15353));
	RULE("nat_out", nft_match_dport(b, IPPROTO_TCP, 53), nft_expr_redir_port(b, 15353));
	RULE("pre", nft_match_ct_state(b, NFT_CTS_INVALID), nft_expr_verdict(b, NFT_V_DROP, NULL));
	RULE("pre", nft_match_iifname(b, "lo"), nft_match_saddr_not_local(b),
	     nft_match_ct_status_clear(b, NFT_CTSTATUS_DNAT), nft_expr_counter(b),
	     nft_expr_verdict(b, NFT_V_DROP, NULL));
	RULE("post", nft_match_mark(b, 42), nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
}

static const char ip_script[] =
	"add set ip cli s { type ipv4_addr; }\n"
	"add element ip cli s { 192.0.2.1, 192.0.2.2 }\n"
	"add chain ip cli out { type filter hook output priority 10; policy accept; }\n"
	"add chain ip cli nat { type nat hook prerouting priority -100; policy accept; }\n"
	"add rule ip cli out ip daddr @s accept\n"
	"add rule ip cli out ip daddr 192.0.2.0/25 udp dport 53 counter drop\n"
	"add rule ip cli out reject\n"
	"add rule ip cli nat tcp dport 80 redirect to :8080\n";

static void build_ip(struct nft_batch *b, const char *t)
{
	static const struct nft_set s = {"s", NFT_KEY_IPV4, 0, 0};
	static const struct nft_chain_hook out = {NFT_TYPE_FILTER, NFT_HOOK_OUTPUT, 10,
						  NFT_V_ACCEPT},
					   nat = {NFT_TYPE_NAT, NFT_HOOK_PREROUTING, -100,
						  NFT_V_ACCEPT};
	struct nft_elem el[] = {E("192.0.2.1", 0), E("192.0.2.2", 0)}, p = E("192.0.2.0/25", 0);
	const int F = NFT_IP;
	struct err e = {0};

	CHECK_INT(nft_table_add(b, F, t, &e), 0);
	CHECK_INT(nft_set_add(b, F, t, &s, &e), 0);
	CHECK_INT(nft_elem_add(b, F, t, &s, el, 2, &e), 0);
	CHECK_INT(nft_chain_add(b, F, t, "out", &out, &e), 0);
	CHECK_INT(nft_chain_add(b, F, t, "nat", &nat, &e), 0);
	RULE("out", nft_match_daddr_set(b, NFT_KEY_IPV4, "s", false),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("out", nft_match_daddr(b, NFT_KEY_IPV4, &p), nft_match_dport(b, IPPROTO_UDP, 53),
	     nft_expr_counter(b), nft_expr_verdict(b, NFT_V_DROP, NULL));
	RULE("out", nft_expr_reject(b, NFT_RJ_ICMP, 3));
	RULE("nat", nft_match_dport(b, IPPROTO_TCP, 80), nft_expr_redir_port(b, 8080));
	/* An ip6 match cannot go into an ip table: refused, rule dropped. */
	CHECK_INT(nft_rule_begin(b, F, t, "out", &e), 0);
	CHECK_INT(nft_match_daddr_set(b, NFT_KEY_IPV6, "s", false), -EINVAL);
	CHECK_INT(nft_rule_end(b, &e), -EINVAL);
}

static const char ip6_script[] =
	"add set ip6 cli s6 { type ipv6_addr; flags interval; }\n"
	"add element ip6 cli s6 { 2001:db8::/48, fd00::/8 }\n"
	"add chain ip6 cli out { type filter hook output priority 0; policy drop; }\n"
	"add chain ip6 cli post { type nat hook postrouting priority 100; policy accept; }\n"
	"add rule ip6 cli out ip6 daddr @s6 accept\n"
	"add rule ip6 cli out ip6 daddr 2001:db8:8000::/33 reject with icmpv6 admin-prohibited\n"
	"add rule ip6 cli out udp dport 53 accept\n"
	"add rule ip6 cli post oifname \"veth0\" counter accept\n";

static void build_ip6(struct nft_batch *b, const char *t)
{
	static const struct nft_set s6 = {"s6", NFT_KEY_IPV6, NFT_SETF_INTERVAL, 0};
	static const struct nft_chain_hook out = {NFT_TYPE_FILTER, NFT_HOOK_OUTPUT, 0, NFT_V_DROP},
					   post = {NFT_TYPE_NAT, NFT_HOOK_POSTROUTING, 100,
						   NFT_V_ACCEPT};
	struct nft_elem el[] = {E("2001:db8::/48", 0), E("fd00::/8", 0)},
			p = E("2001:db8:8000::/33", 0);
	const int F = NFT_IP6;
	struct err e = {0};

	CHECK_INT(nft_table_add(b, F, t, &e), 0);
	CHECK_INT(nft_set_add(b, F, t, &s6, &e), 0);
	CHECK_INT(nft_elem_add(b, F, t, &s6, el, 2, &e), 0);
	CHECK_INT(nft_chain_add(b, F, t, "out", &out, &e), 0);
	CHECK_INT(nft_chain_add(b, F, t, "post", &post, &e), 0);
	RULE("out", nft_match_daddr_set(b, NFT_KEY_IPV6, "s6", false),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("out", nft_match_daddr(b, NFT_KEY_IPV6, &p), nft_expr_reject(b, NFT_RJ_ICMP, 1));
	RULE("out", nft_match_dport(b, IPPROTO_UDP, 53), nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
	RULE("post", nft_match_oifname(b, "veth0"), nft_expr_counter(b),
	     nft_expr_verdict(b, NFT_V_ACCEPT, NULL));
}

/* Compares every object of `kind` in tables lib and cli of a family. */
static void compare_kind(cJSON *rs, const char *kind, const char *fam, int expect)
{
	int n = 0;

	for (;; n++) {
		cJSON *a = nftest_find(rs, kind, fam, "lib", NULL, n);
		cJSON *b = nftest_find(rs, kind, fam, "cli", NULL, n);
		if (!a || !b) {
			CHECK(!a && !b);
			break;
		}
		a = cJSON_Duplicate(a, true);
		b = cJSON_Duplicate(b, true);
		nftest_strip(a);
		nftest_strip(b);
		if (!cJSON_Compare(a, b, true)) {
			char *sa = cJSON_PrintUnformatted(a), *sb = cJSON_PrintUnformatted(b);
			unit_fail(__FILE__, __LINE__,
				  "%s %s #%d differs:\n      lib %s\n      cli %s", fam, kind, n,
				  sa, sb);
			free(sa);
			free(sb);
		}
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	CHECK_INT(n, expect);
}

struct family_case {
	const char *fam;
	const char *script;
	void (*build)(struct nft_batch *, const char *);
	int sets, chains, rules;
};

static void oracle_body(void *arg)
{
	const struct family_case *fc = arg;
	static unsigned char mem[BUFSZ] __attribute__((aligned(8)));
	struct nft_sock s;
	struct nft_batch b;
	struct err e = {0};
	char path[] = "/tmp/nftest-XXXXXX";
	int fd;
	FILE *f;

	CHECK_INT(nft_open(&s, &e), 0);
	nft_batch_init(&b, &s, mem, sizeof(mem));
	fc->build(&b, "lib");
	if (nft_batch_commit(&b, &e) < 0)
		unit_fail(__FILE__, __LINE__, "commit: %s", e.msg);

	fd = mkstemp(path);
	CHECK(fd >= 0 && (f = fdopen(fd, "w")));
	if (fd < 0 || !f)
		return;
	fprintf(f, "add table %s cli\n%s", fc->fam, fc->script);
	fclose(f);
	CHECK_INT(nftest_sh("nft -f %s", path), 0);
	unlink(path);

	cJSON *rs = nftest_ruleset();
	CHECK(rs != NULL);
	CHECK(nftest_find(rs, "table", fc->fam, "lib", NULL, 0) != NULL);
	compare_kind(rs, "set", fc->fam, fc->sets);
	compare_kind(rs, "chain", fc->fam, fc->chains);
	compare_kind(rs, "rule", fc->fam, fc->rules);
	cJSON_Delete(rs);
	nft_close(&s);
}

TEST(netfilter_oracle_inet)
{
	static const struct family_case fc = {"inet", inet_script, build_inet, 5, 5, 27};

	NFTEST_RUN(oracle_body, (void *)&fc, 20, true);
}

TEST(netfilter_oracle_ip)
{
	static const struct family_case fc = {"ip", ip_script, build_ip, 1, 2, 4};

	NFTEST_RUN(oracle_body, (void *)&fc, 20, true);
}

TEST(netfilter_oracle_ip6)
{
	static const struct family_case fc = {"ip6", ip6_script, build_ip6, 1, 2, 4};

	NFTEST_RUN(oracle_body, (void *)&fc, 20, true);
}
