// SPDX-License-Identifier: Apache-2.0
#include "sets.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "log.h"

static const struct nft_set SET_ALLOW4 = {"allow_v4", NFT_KEY_IPV4, NFT_SETF_INTERVAL, 0};
static const struct nft_set SET_DENY4 = {"deny_v4", NFT_KEY_IPV4, NFT_SETF_INTERVAL, 0};
static const struct nft_set SET_ALLOW6 = {"allow_v6", NFT_KEY_IPV6, NFT_SETF_INTERVAL, 0};
static const struct nft_set SET_DENY6 = {"deny_v6", NFT_KEY_IPV6, NFT_SETF_INTERVAL, 0};
static const struct nft_set SET_DYN4 = {"dyn_allow_v4", NFT_KEY_IPV4, NFT_SETF_TIMEOUT,
					SETS_DYN_TIMEOUT_S * 1000ull};
static const struct nft_set SET_DYN6 = {"dyn_allow_v6", NFT_KEY_IPV6, NFT_SETF_TIMEOUT,
					SETS_DYN_TIMEOUT_S * 1000ull};
static const struct nft_set SET_DOH4 = {"doh_block_v4", NFT_KEY_IPV4, NFT_SETF_INTERVAL, 0};
static const struct nft_set SET_DOH6 = {"doh_block_v6", NFT_KEY_IPV6, NFT_SETF_INTERVAL, 0};

static const struct nft_set *const STATIC_SETS[4] = {&SET_ALLOW4, &SET_DENY4, &SET_ALLOW6,
						     &SET_DENY6};

uint32_t sets_timeout_s(uint32_t ttl)
{
	uint64_t t = (uint64_t)ttl + 60;
	return t < 60 ? 60 : t > SETS_DYN_TIMEOUT_S ? SETS_DYN_TIMEOUT_S : (uint32_t)t;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct policy_prefix *x = a, *y = b;
	if (x->family != y->family)
		return x->family - y->family;
	int c = memcmp(x->addr, y->addr, 16);
	return c ? c : x->len - y->len;
}

static bool contains(const struct policy_prefix *outer, const struct policy_prefix *in)
{
	if (outer->family != in->family || outer->len > in->len)
		return false;
	unsigned full = outer->len / 8, rest = outer->len % 8;
	if (memcmp(outer->addr, in->addr, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (outer->addr[full] & m) == (in->addr[full] & m);
}

/* Prefixes either nest or are disjoint; sorted by address then length, every
 * prefix contained in a kept one follows it directly. */
size_t sets_normalize(struct policy_prefix *v, size_t n)
{
	size_t k = 0;
	if (n > 1)
		qsort(v, n, sizeof(*v), prefix_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && contains(&v[k - 1], &v[i]))
			continue;
		v[k++] = v[i];
	}
	return k;
}

static void to_elem(struct nft_elem *el, const struct policy_prefix *p)
{
	memset(el, 0, sizeof(*el));
	memcpy(el->addr, p->addr, 16);
	el->prefix = p->len;
}

int sets_open(struct sets *s, const struct sets_config *cfg, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->sock.fd = -1;
	s->cfg = *cfg;
	s->ipv6_nat = true;
	s->policy = -1;
	int r = nft_open(&s->sock, e);
	if (r < 0)
		return r;
	s->open = true;
	for (int f = 0; f < 2; f++) {
		s->pend[f] = malloc(SETS_PENDING_MAX * sizeof(struct nft_elem));
		if (!s->pend[f]) {
			sets_close(s);
			return err_set(e, ENOMEM, "out of memory");
		}
	}
	return 0;
}

void sets_close(struct sets *s)
{
	if (s->open)
		nft_close(&s->sock);
	s->open = false;
	free(s->pend[0]);
	free(s->pend[1]);
	s->pend[0] = s->pend[1] = NULL;
	expiry_free(&s->expiry);
}

/* The static elements of the effective policy, bucketed and normalised. */
struct buckets {
	struct nft_elem *el[4];
	size_t n[4];
};

static void buckets_free(struct buckets *bk)
{
	for (int i = 0; i < 4; i++)
		free(bk->el[i]);
}

static int buckets_fill(struct buckets *bk, const struct policy *const *layers, size_t n)
{
	size_t total = 0;
	memset(bk, 0, sizeof(*bk));
	for (size_t l = 0; l < n; l++)
		total += layers[l] ? layers[l]->n : 0;
	struct policy_prefix *tmp = malloc((total + 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (int b = 0; b < 4; b++) {
		int fam = b < 2 ? 4 : 6, act = b % 2 == 0 ? POLICY_ALLOW : POLICY_DENY;
		size_t k = 0;
		for (size_t l = 0; l < n; l++)
			for (size_t i = 0; layers[l] && i < layers[l]->n; i++) {
				const struct policy_rule *r = &layers[l]->rules[i];
				if ((r->kind == POLICY_IP || r->kind == POLICY_CIDR) &&
				    r->net.family == fam && r->action == act)
					tmp[k++] = r->net;
			}
		k = sets_normalize(tmp, k);
		bk->el[b] = malloc((k + 1) * sizeof(struct nft_elem));
		if (!bk->el[b]) {
			free(tmp);
			buckets_free(bk);
			return -ENOMEM;
		}
		for (size_t i = 0; i < k; i++)
			to_elem(&bk->el[b][i], &tmp[i]);
		bk->n[b] = k;
	}
	free(tmp);
	return 0;
}

static int add_static_elems(struct sets *s, struct nft_batch *b, const struct buckets *bk,
			    struct err *e)
{
	for (int i = 0; i < 4; i++) {
		s->static_count[i] = bk->n[i];
		if (bk->n[i]) {
			int r = nft_elem_add(b, NFT_INET, SETS_TABLE, STATIC_SETS[i], bk->el[i],
					     bk->n[i], e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static size_t batch_size(const struct buckets *bk, size_t ndyn)
{
	size_t n = 64 * 1024 + ndyn * 64;
	for (int i = 0; bk && i < 4; i++)
		n += bk->n[i] * 128;
	return n;
}

static int rule_end(struct nft_batch *b, enum nft_verdict v, struct err *e)
{
	nft_expr_verdict(b, v, NULL);
	return nft_rule_end(b, e);
}

static int redirect_table(struct sets *s, struct nft_batch *b, int fam, struct err *e)
{
	static const uint8_t protos[2] = {IPPROTO_UDP, IPPROTO_TCP};
	struct nft_chain_hook hook = {NFT_TYPE_NAT, NFT_HOOK_OUTPUT, -100, NFT_V_ACCEPT};
	enum nft_key_type key = fam == NFT_IP ? NFT_KEY_IPV4 : NFT_KEY_IPV6;
	int r;

	if ((r = nft_table_recreate(b, fam, SETS_REDIRECT_TABLE, e)) < 0 ||
	    (r = nft_chain_add(b, fam, SETS_REDIRECT_TABLE, "output", &hook, e)) < 0)
		return r;
	for (size_t i = 0; i < s->cfg.nexempt; i++) {
		const struct policy_prefix *x = &s->cfg.exempt[i];
		if ((x->family == 4) != (fam == NFT_IP))
			continue;
		struct nft_elem el;
		to_elem(&el, x);
		for (int p = 0; p < 2; p++) {
			nft_rule_begin(b, fam, SETS_REDIRECT_TABLE, "output", e);
			nft_match_daddr(b, key, &el);
			nft_match_dport(b, protos[p], 53);
			if ((r = rule_end(b, NFT_V_RETURN, e)) < 0)
				return r;
		}
	}
	for (int p = 0; p < 2; p++) {
		nft_rule_begin(b, fam, SETS_REDIRECT_TABLE, "output", e);
		nft_match_mark(b, s->cfg.mark);
		nft_match_dport(b, protos[p], 53);
		if ((r = rule_end(b, NFT_V_RETURN, e)) < 0)
			return r;
	}
	for (int p = 0; p < 2; p++) {
		nft_rule_begin(b, fam, SETS_REDIRECT_TABLE, "output", e);
		nft_match_dport(b, protos[p], 53);
		nft_expr_redir_port(b, s->cfg.dns_port);
		if ((r = nft_rule_end(b, e)) < 0)
			return r;
	}
	return 0;
}

/* The egress chain's rules (see sets.h); minimal = only what an exited egressd
 * leaves in a table it had to create. */
static int filter_rules(struct sets *s, struct nft_batch *b, bool minimal, struct err *e)
{
	static const uint8_t protos[2] = {IPPROTO_UDP, IPPROTO_TCP};
	static const uint8_t nd_types[3] = {133, 135, 136}; /* router solicit, NS, NA */
	const char *T = SETS_TABLE, *C = SETS_CHAIN;
	int r;

#define RULE_BEGIN() nft_rule_begin(b, NFT_INET, T, C, e)
	RULE_BEGIN();
	nft_match_ct_state(b, NFT_CTS_ESTABLISHED | NFT_CTS_RELATED);
	if ((r = rule_end(b, NFT_V_ACCEPT, e)) < 0)
		return r;
	RULE_BEGIN();
	nft_match_oifname(b, "lo");
	if ((r = rule_end(b, NFT_V_ACCEPT, e)) < 0)
		return r;
	for (int i = 0; i < 3; i++) {
		RULE_BEGIN();
		nft_match_l4proto(b, IPPROTO_ICMPV6);
		nft_expr_payload(b, NFT_PB_TRANSPORT, 0, 1, NFT_R1);
		nft_expr_cmp(b, NFT_OP_EQ, NFT_R1, &nd_types[i], 1);
		if ((r = rule_end(b, NFT_V_ACCEPT, e)) < 0)
			return r;
	}
	if (minimal)
		return 0;
	/* The redirected DNS, whatever interface the route named (#1380). */
	struct nft_elem lo4 = {.addr = {127, 0, 0, 1}, .prefix = 32};
	struct nft_elem lo6 = {.addr = {[15] = 1}, .prefix = 128};
	for (int p = 0; p < 4; p++) {
		RULE_BEGIN();
		nft_match_daddr(b, p < 2 ? NFT_KEY_IPV4 : NFT_KEY_IPV6, p < 2 ? &lo4 : &lo6);
		nft_match_dport(b, protos[p % 2], s->cfg.dns_port);
		if ((r = rule_end(b, NFT_V_ACCEPT, e)) < 0)
			return r;
	}
	/* Our upstream sockets: marked, and only to the configured ip:port (B10). */
	for (size_t i = 0; i < s->cfg.nupstreams; i++) {
		const struct sets_upstream *u = &s->cfg.upstreams[i];
		struct nft_elem el;
		to_elem(&el, &u->ip);
		for (int p = 0; p < 2; p++) {
			RULE_BEGIN();
			nft_match_mark(b, s->cfg.mark);
			nft_match_daddr(b, u->ip.family == 4 ? NFT_KEY_IPV4 : NFT_KEY_IPV6, &el);
			nft_match_dport(b, protos[p], u->port);
			if ((r = rule_end(b, NFT_V_ACCEPT, e)) < 0)
				return r;
		}
	}
	/* Exempt nameservers: DNS only, not every port (B10). */
	for (size_t i = 0; i < s->cfg.nexempt; i++) {
		struct nft_elem el;
		to_elem(&el, &s->cfg.exempt[i]);
		for (int p = 0; p < 2; p++) {
			RULE_BEGIN();
			nft_match_daddr(
				b, s->cfg.exempt[i].family == 4 ? NFT_KEY_IPV4 : NFT_KEY_IPV6, &el);
			nft_match_dport(b, protos[p], 53);
			if ((r = rule_end(b, NFT_V_ACCEPT, e)) < 0)
				return r;
		}
	}
	for (int p = 0; p < 2; p++) {
		RULE_BEGIN();
		nft_match_dport(b, protos[p], 853); /* DoT */
		if ((r = rule_end(b, NFT_V_DROP, e)) < 0)
			return r;
	}
	if (s->cfg.block_doh && s->cfg.ndoh == 0) {
		RULE_BEGIN();
		nft_match_dport(b, IPPROTO_TCP, 443);
		if ((r = rule_end(b, NFT_V_DROP, e)) < 0)
			return r;
	} else if (s->cfg.block_doh) {
		for (int f = 0; f < 2; f++) {
			RULE_BEGIN();
			nft_match_daddr_set(b, f ? NFT_KEY_IPV6 : NFT_KEY_IPV4,
					    f ? SET_DOH6.name : SET_DOH4.name, false);
			nft_match_dport(b, IPPROTO_TCP, 443);
			if ((r = rule_end(b, NFT_V_DROP, e)) < 0)
				return r;
		}
	}
	const struct {
		const struct nft_set *set;
		enum nft_verdict v;
	} order[] = {{&SET_DENY4, NFT_V_DROP},	  {&SET_DENY6, NFT_V_DROP},
		     {&SET_DYN4, NFT_V_ACCEPT},	  {&SET_DYN6, NFT_V_ACCEPT},
		     {&SET_ALLOW4, NFT_V_ACCEPT}, {&SET_ALLOW6, NFT_V_ACCEPT}};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		RULE_BEGIN();
		nft_match_daddr_set(b, order[i].set->key, order[i].set->name, false);
		if ((r = rule_end(b, order[i].v, e)) < 0)
			return r;
	}
#undef RULE_BEGIN
	return 0;
}

/*
 * Replies forged inside the namespace ("from" a remote upstream, by an app with a
 * raw or IP_TRANSPARENT socket, to the port it reads in /proc/net/udp) loop back
 * on lo; real loopback traffic has a local source, or is the answer of our own
 * DNS redirect (its source translated back: ct status dnat). Drop the rest
 * before our upstream sockets see it: learned answers must come from the upstream.
 */
static int input_chain(struct nft_batch *b, struct err *e)
{
	struct nft_chain_hook hook = {NFT_TYPE_FILTER, NFT_HOOK_INPUT, 0, NFT_V_ACCEPT};
	int r = nft_chain_add(b, NFT_INET, SETS_TABLE, SETS_INPUT_CHAIN, &hook, e);
	if (r < 0)
		return r;
	nft_rule_begin(b, NFT_INET, SETS_TABLE, SETS_INPUT_CHAIN, e);
	nft_match_iifname(b, "lo");
	nft_match_saddr_not_local(b);
	nft_match_ct_status_clear(b, NFT_CTSTATUS_DNAT);
	nft_expr_counter(b);
	return rule_end(b, NFT_V_DROP, e);
}

static int filter_chain(struct nft_batch *b, int policy, struct err *e)
{
	struct nft_chain_hook hook = {NFT_TYPE_FILTER, NFT_HOOK_OUTPUT, 0,
				      policy == POLICY_ALLOW ? NFT_V_ACCEPT : NFT_V_DROP};
	return nft_chain_add(b, NFT_INET, SETS_TABLE, SETS_CHAIN, &hook, e);
}

struct dyn_list {
	struct nft_elem *el;
	size_t n, cap;
	enum nft_key_type key;
};

static int collect_dyn(const struct nft_elem_info *in, void *arg)
{
	struct dyn_list *d = arg;
	if (in->interval_end)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct nft_elem *n = realloc(d->el, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		d->el = n;
		d->cap = cap;
	}
	struct nft_elem *el = &d->el[d->n++];
	memset(el, 0, sizeof(*el));
	memcpy(el->addr, in->key, in->key_len > 16 ? 16 : in->key_len);
	el->prefix = d->key == NFT_KEY_IPV4 ? 32 : 128;
	el->timeout_ms = in->expires_ms > 1000 ? in->expires_ms : 1000;
	return 0;
}

int sets_install(struct sets *s, const struct policy *const *layers, size_t n, int default_action,
		 struct err *e)
{
	struct dyn_list dyn[2] = {{.key = NFT_KEY_IPV4}, {.key = NFT_KEY_IPV6}};
	struct buckets bk;
	struct nft_batch b;
	unsigned char *buf = NULL;
	int r;

	memset(&bk, 0, sizeof(bk));
	if (s->cfg.nft) {
		/* Adopt what a previous run learned (a missing table is fine). */
		nft_elem_list(&s->sock, NFT_INET, SETS_TABLE, SET_DYN4.name, collect_dyn, &dyn[0],
			      NULL);
		nft_elem_list(&s->sock, NFT_INET, SETS_TABLE, SET_DYN6.name, collect_dyn, &dyn[1],
			      NULL);
		if ((r = buckets_fill(&bk, layers, n)) < 0) {
			err_set(e, -r, "out of memory");
			goto out;
		}
	}
	size_t size = batch_size(&bk, dyn[0].n + dyn[1].n);
	if (!(buf = malloc(size))) {
		r = err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		nft_batch_init(&b, &s->sock, buf, size);
		if ((r = redirect_table(s, &b, NFT_IP, e)) < 0 ||
		    (s->ipv6_nat && (r = redirect_table(s, &b, NFT_IP6, e)) < 0))
			goto out;
		if (!s->cfg.nft) {
			/* dns mode: no filter; drop one left by an earlier run. */
			if ((r = nft_table_add(&b, NFT_INET, SETS_TABLE, e)) < 0 ||
			    (r = nft_table_del(&b, NFT_INET, SETS_TABLE, e)) < 0)
				goto out;
		} else {
			const struct nft_set *all[] = {&SET_ALLOW4, &SET_DENY4, &SET_ALLOW6,
						       &SET_DENY6,  &SET_DYN4,	&SET_DYN6};
			if ((r = nft_table_recreate(&b, NFT_INET, SETS_TABLE, e)) < 0)
				goto out;
			for (size_t i = 0; i < 6; i++)
				if ((r = nft_set_add(&b, NFT_INET, SETS_TABLE, all[i], e)) < 0)
					goto out;
			if (s->cfg.block_doh && s->cfg.ndoh) {
				if ((r = nft_set_add(&b, NFT_INET, SETS_TABLE, &SET_DOH4, e)) < 0 ||
				    (r = nft_set_add(&b, NFT_INET, SETS_TABLE, &SET_DOH6, e)) < 0)
					goto out;
				for (size_t i = 0; i < s->cfg.ndoh; i++) {
					struct nft_elem el;
					to_elem(&el, &s->cfg.doh[i]);
					r = nft_elem_add(&b, NFT_INET, SETS_TABLE,
							 s->cfg.doh[i].family == 4 ? &SET_DOH4
										   : &SET_DOH6,
							 &el, 1, e);
					if (r < 0)
						goto out;
				}
			}
			if ((r = add_static_elems(s, &b, &bk, e)) < 0)
				goto out;
			for (int f = 0; f < 2; f++)
				if (dyn[f].n && (r = nft_elem_add(&b, NFT_INET, SETS_TABLE,
								  f ? &SET_DYN6 : &SET_DYN4,
								  dyn[f].el, dyn[f].n, e)) < 0)
					goto out;
			if ((r = filter_chain(&b, default_action, e)) < 0 ||
			    (r = filter_rules(s, &b, false, e)) < 0 || (r = input_chain(&b, e)) < 0)
				goto out;
		}
		r = nft_batch_commit(&b, e);
		if (r == -EAFNOSUPPORT && s->ipv6_nat && attempt == 0) {
			log_msg(LOG_WARN, NULL,
				"no IPv6 nat in this kernel; IPv6 DNS is not redirected", "error",
				e ? e->msg : "", NULL);
			s->ipv6_nat = false;
			continue;
		}
		break;
	}
	if (r == 0) {
		s->policy = default_action;
		s->updates++;
		if (dyn[0].n + dyn[1].n) {
			char cnt[24];
			snprintf(cnt, sizeof(cnt), "%zu", dyn[0].n + dyn[1].n);
			log_msg(LOG_INFO, NULL, "adopted learned addresses", "count", cnt, NULL);
		}
	}
out:
	if (r < 0)
		s->errors++;
	free(buf);
	free(dyn[0].el);
	free(dyn[1].el);
	buckets_free(&bk);
	return r;
}

int sets_update(struct sets *s, const struct policy *const *layers, size_t n, int default_action,
		struct err *e)
{
	struct buckets bk;
	struct nft_batch b;
	int r;

	if (!s->cfg.nft)
		return 0;
	if ((r = buckets_fill(&bk, layers, n)) < 0)
		return err_set(e, -r, "out of memory");
	size_t size = batch_size(&bk, 0);
	unsigned char *buf = malloc(size);
	if (!buf) {
		buckets_free(&bk);
		return err_set(e, ENOMEM, "out of memory");
	}
	nft_batch_init(&b, &s->sock, buf, size);
	for (int i = 0; i < 4; i++)
		if ((r = nft_set_flush(&b, NFT_INET, SETS_TABLE, STATIC_SETS[i]->name, e)) < 0)
			goto out;
	size_t saved[4];
	memcpy(saved, s->static_count, sizeof(saved));
	if ((r = add_static_elems(s, &b, &bk, e)) < 0 ||
	    (r = filter_chain(&b, default_action, e)) < 0 || (r = nft_batch_commit(&b, e)) < 0) {
		memcpy(s->static_count, saved, sizeof(saved));
		goto out;
	}
	s->policy = default_action;
	s->updates++;
out:
	if (r < 0)
		s->errors++;
	free(buf);
	buckets_free(&bk);
	return r;
}

void sets_learn(struct sets *s, const struct dns_addr *a, size_t n)
{
	if (!s->cfg.nft)
		return;
	for (size_t i = 0; i < n; i++) {
		int f = a[i].family == 6;
		if (s->npend[f] == SETS_PENDING_MAX) {
			struct err e = {0};
			if (sets_flush(s, &e) < 0)
				log_msg(LOG_WARN, NULL, "nft insert failed", "error", e.msg, NULL);
		}
		struct nft_elem *el = &s->pend[f][s->npend[f]++];
		memset(el, 0, sizeof(*el));
		memcpy(el->addr, a[i].addr, f ? 16 : 4);
		el->prefix = f ? 128 : 32;
		el->timeout_ms = sets_timeout_s(a[i].ttl) * 1000ull;
	}
}

size_t sets_pending(const struct sets *s)
{
	return s->npend[0] + s->npend[1];
}

static int elem_cmp(const void *a, const void *b)
{
	const struct nft_elem *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	/* The longest timeout first, so the unique pass keeps it. */
	return x->timeout_ms < y->timeout_ms ? 1 : x->timeout_ms > y->timeout_ms ? -1 : 0;
}

int sets_flush(struct sets *s, struct err *e)
{
	/* 3 messages' worth per element (add, delete, add) of ~40 bytes, plus room. */
	size_t n = sets_pending(s);
	if (!n)
		return 0;
	size_t size = 4096 + n * 3 * 64;
	unsigned char *buf = malloc(size);
	struct nft_batch b;
	int r = 0;

	if (!buf) {
		s->npend[0] = s->npend[1] = 0;
		s->errors++;
		return err_set(e, ENOMEM, "out of memory");
	}
	nft_batch_init(&b, &s->sock, buf, size);
	for (int f = 0; f < 2 && r == 0; f++) {
		size_t k = 0, m = s->npend[f];
		if (!m)
			continue;
		qsort(s->pend[f], m, sizeof(struct nft_elem), elem_cmp);
		for (size_t i = 0; i < m; i++)
			if (!k || memcmp(s->pend[f][k - 1].addr, s->pend[f][i].addr, 16) != 0)
				s->pend[f][k++] = s->pend[f][i];
		/* Across turns too: a refresh never shortens what an earlier answer promised. */
		uint64_t now = ev_clock_ms();
		for (size_t i = 0; i < k; i++)
			s->pend[f][i].timeout_ms = expiry_extend(&s->expiry, s->pend[f][i].addr,
								 now, s->pend[f][i].timeout_ms);
		s->learned += k;
		r = nft_elem_refresh(&b, NFT_INET, SETS_TABLE, f ? &SET_DYN6 : &SET_DYN4,
				     s->pend[f], k, e);
	}
	if (r == 0)
		r = nft_batch_commit(&b, e);
	if (r < 0)
		s->errors++;
	else
		s->updates++;
	s->npend[0] = s->npend[1] = 0;
	free(buf);
	return r;
}

int sets_shutdown(struct sets *s, bool cleanup, struct err *e)
{
	unsigned char buf[16384];
	struct nft_batch b;
	int r = 0;

	nft_batch_init(&b, &s->sock, buf, sizeof(buf));
	if (cleanup) {
		const int fams[3] = {NFT_IP, NFT_IP6, NFT_INET};
		for (int i = 0; i < 3 && r == 0; i++) {
			const char *t = fams[i] == NFT_INET ? SETS_TABLE : SETS_REDIRECT_TABLE;
			if (fams[i] == NFT_IP6 && !s->ipv6_nat)
				continue;
			r = nft_table_add(&b, fams[i], t, e);
			r = r ? r : nft_table_del(&b, fams[i], t, e);
		}
	} else if (s->cfg.nft) {
		r = filter_chain(&b, POLICY_DENY, e);
	} else {
		/* dns mode had no filter: leave a deny-by-default one behind. */
		r = nft_table_recreate(&b, NFT_INET, SETS_TABLE, e);
		r = r ? r : filter_chain(&b, POLICY_DENY, e);
		r = r ? r : filter_rules(s, &b, true, e);
	}
	return r ? r : nft_batch_commit(&b, e);
}

static int count_elem(const struct nft_elem_info *in, void *arg)
{
	(void)in;
	(*(int *)arg)++;
	return 0;
}

int sets_dyn_count(struct sets *s, int v6)
{
	int n = 0;
	if (!s->cfg.nft)
		return 0;
	int r = nft_elem_list(&s->sock, NFT_INET, SETS_TABLE, v6 ? SET_DYN6.name : SET_DYN4.name,
			      count_elem, &n, NULL);
	return r < 0 ? r : n;
}
