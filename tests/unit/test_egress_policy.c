// SPDX-License-Identifier: Apache-2.0
/* egressd's policy model and matcher, set normalisation, timeouts, upstream parsing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egressd.h"
#include "policy.h"
#include "policy_int.h"
#include "sets.h"
#include "unit.h"
#include "upstream.h"

static struct policy *parse(const char *s)
{
	struct policy *p = NULL;
	struct err e = {0};
	if (policy_parse(s, strlen(s), 0, &p, &e) < 0)
		unit_fail(__FILE__, __LINE__, "parse %s: %s", s, e.msg);
	return p;
}

static char *json(const struct policy *p)
{
	static char out[4096];
	struct buf b;
	buf_init(&b, 0);
	policy_to_json(p, &b, false);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b) ? buf_cstr(&b) : "");
	buf_free(&b);
	return out;
}

static int verdict(const struct policy *p, const char *name)
{
	const struct policy *l[1] = {p};
	struct policy_index *ix = policy_index_build(l, 1, p->default_action);
	int v = policy_match(ix, name, NULL);
	policy_index_free(ix);
	return v;
}

TEST(egress_policy_empty_forms)
{
	const char *forms[] = {"", "  \n", "null", "{}", " { } "};
	for (size_t i = 0; i < 5; i++) {
		struct policy *p = parse(forms[i]);
		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_INT(p->default_action, POLICY_DENY);
		CHECK_INT(p->n, 0);
		CHECK_STR(json(p), "{\"egress\":null,\"defaultAction\":\"deny\"}");
		CHECK_STR(policy_mode(p), "deny_all");
		CHECK_INT(verdict(p, "any.test"), POLICY_DENY);
		policy_free(p);
	}
	struct policy *p = parse("{\"defaultAction\":\" ALLOW \",\"egress\":[],\"x\":1}");
	CHECK_STR(json(p), "{\"egress\":[],\"defaultAction\":\"allow\"}");
	CHECK_STR(policy_mode(p), "allow_all");
	policy_free(p);
}

TEST(egress_policy_rejects_with_field_names)
{
	struct {
		const char *in, *want;
	} bad[] = {
		{"{\"defaultAction\":\"block\"}", "defaultAction"},
		{"{\"defaultAction\":3}", "defaultAction"},
		{"{\"egress\":{}}", "egress"},
		{"{\"egress\":[{\"action\":\"allow\",\"target\":\"a b\"}]}", "egress[0].target"},
		{"{\"egress\":[{\"target\":\"ok.test\"},{\"action\":\"allow\",\"target\":\"http://"
		 "x\"}]}",
		 "egress[1].target"},
		{"{\"egress\":[{\"action\":\"allow\",\"target\":\"*\"}]}", "egress[0].target"},
		{"{\"egress\":[{\"action\":\"allow\",\"target\":\"10.0.0.0/33\"}]}",
		 "egress[0].target"},
		{"{\"egress\":[{\"action\":\"allow\",\"target\":\"2001:db8::/129\"}]}",
		 "egress[0].target"},
		{"{\"egress\":[{\"action\":\"allow\",\"target\":\"a..test\"}]}",
		 "egress[0].target"},
		{"{\"egress\":[{\"action\":\"maybe\",\"target\":\"a.test\"}]}", "egress[0].action"},
		{"{\"egress\":[{\"action\":\"allow\",\"target\":\"  \"}]}", "cannot be empty"},
		{"{\"egress\":[{\"action\":\"allow\",\"target\":5}]}", "egress[0]"},
		{"{\"egress\":[1]}", "egress[0]"},
		{"[1,2]", "object"},
		{"{", "invalid JSON"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy *p = NULL;
		struct err e = {0};
		int r = policy_parse(bad[i].in, strlen(bad[i].in), 0, &p, &e);
		if (r >= 0 || !strstr(e.msg, bad[i].want))
			unit_fail(__FILE__, __LINE__, "%s: r=%d msg=\"%s\", want \"%s\"", bad[i].in,
				  r, e.msg, bad[i].want);
		policy_free(p);
	}
}

TEST(egress_policy_targets)
{
	struct policy *p = parse("{\"egress\":[{\"action\":\"\",\"target\":\" Example.TEST. \"},"
				 "{\"action\":\"ALLOW\",\"target\":\"*.Wild.test\"},"
				 "{\"action\":\"allow\",\"target\":\"10.0.0.1/8\"},"
				 "{\"action\":\"deny\",\"target\":\"2001:db8::1\"},"
				 "{\"action\":\"allow\",\"target\":\"_srv.x-y.test\"}]}");
	CHECK_INT(p->n, 5);
	CHECK_INT(p->rules[0].action, POLICY_DENY);
	CHECK_INT(p->rules[0].kind, POLICY_DOMAIN);
	CHECK_STR(p->rules[0].key, "example.test");
	CHECK_STR(p->rules[0].target, "Example.TEST.");
	CHECK_INT(p->rules[1].kind, POLICY_WILDCARD);
	CHECK_STR(p->rules[1].key, "wild.test");
	CHECK_INT(p->rules[2].kind, POLICY_CIDR);
	char s[64];
	policy_prefix_str(&p->rules[2].net, s, sizeof(s));
	CHECK_STR(s, "10.0.0.0/8");
	CHECK_INT(p->rules[3].kind, POLICY_IP);
	policy_prefix_str(&p->rules[3].net, s, sizeof(s));
	CHECK_STR(s, "2001:db8::1");
	CHECK_STR(policy_mode(p), "enforcing");
	/* Q2: a trailing dot in the rule still matches */
	CHECK_INT(verdict(p, "example.test"), POLICY_DENY);
	CHECK_INT(verdict(p, "a.wild.TEST."), POLICY_ALLOW);
	policy_free(p);
}

TEST(egress_policy_first_match)
{
	struct policy *p = parse("{\"defaultAction\":\"deny\",\"egress\":["
				 "{\"action\":\"allow\",\"target\":\"*.example.test\"},"
				 "{\"action\":\"deny\",\"target\":\"api.example.test\"},"
				 "{\"action\":\"deny\",\"target\":\"*.b.other.test\"},"
				 "{\"action\":\"allow\",\"target\":\"*.other.test\"},"
				 "{\"action\":\"allow\",\"target\":\"*.test\"}]}");
	CHECK_INT(verdict(p, "api.example.test"), POLICY_ALLOW); /* first match wins */
	CHECK_INT(verdict(p, "a.b.example.test"), POLICY_ALLOW);
	CHECK_INT(verdict(p, "example.test"), POLICY_ALLOW); /* via *.test */
	CHECK_INT(verdict(p, "x.b.other.test"), POLICY_DENY);
	CHECK_INT(verdict(p, "b.other.test"), POLICY_ALLOW); /* apex of *.b.other.test */
	CHECK_INT(verdict(p, "test"), POLICY_DENY);	     /* apex of *.test */
	CHECK_INT(verdict(p, "other.example"), POLICY_DENY);
	CHECK_INT(verdict(p, ""), POLICY_DENY);
	CHECK_INT(verdict(p, "."), POLICY_DENY);
	policy_free(p);
}

/* The compiled index agrees with a linear first-match scan. */
static int linear(const struct policy *p, const char *name)
{
	char n[256];
	size_t len = strlen(name);
	snprintf(n, sizeof(n), "%s", name);
	if (len && n[len - 1] == '.')
		n[--len] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		const struct policy_rule *r = &p->rules[i];
		if (r->kind == POLICY_DOMAIN && !strcasecmp(r->key, n))
			return r->action;
		if (r->kind == POLICY_WILDCARD) {
			size_t kl = strlen(r->key);
			if (len > kl + 1 && n[len - kl - 1] == '.' &&
			    !strcasecmp(n + len - kl, r->key))
				return r->action;
		}
	}
	return p->default_action;
}

TEST(egress_policy_index_equals_linear)
{
	const char *labels[] = {"a", "b", "c", "api", "www", "test", "x"};
	char text[65536];
	size_t off = 0;
	unsigned seed = 12345;
	off += (size_t)snprintf(text, sizeof(text), "{\"defaultAction\":\"allow\",\"egress\":[");
	for (int i = 0; i < 200; i++) {
		char name[64] = "";
		int depth = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 3;
		for (int d = 0; d < depth; d++) {
			seed = seed * 1103515245 + 12345;
			strcat(name, labels[(seed >> 16) % 7]);
			strcat(name, d + 1 < depth ? "." : "");
		}
		seed = seed * 1103515245 + 12345;
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"%s{\"action\":\"%s\",\"target\":\"%s%s\"}", i ? "," : "",
					(seed >> 16) & 1 ? "allow" : "deny",
					(seed >> 17) & 1 ? "*." : "", name);
	}
	snprintf(text + off, sizeof(text) - off, "]}");
	struct policy *p = parse(text);
	const struct policy *l[1] = {p};
	struct policy_index *ix = policy_index_build(l, 1, p->default_action);
	int mismatches = 0;
	for (int i = 0; i < 5000; i++) {
		char name[64] = "";
		int depth = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 4;
		for (int d = 0; d < depth; d++) {
			seed = seed * 1103515245 + 12345;
			strcat(name, labels[(seed >> 16) % 7]);
			strcat(name, d + 1 < depth ? "." : "");
		}
		if (policy_match(ix, name, NULL) != linear(p, name))
			mismatches++;
	}
	CHECK_INT(mismatches, 0);
	policy_index_free(ix);
	policy_free(p);
}

TEST(egress_policy_always_overlay)
{
	struct policy *user = parse("{\"egress\":[{\"action\":\"allow\",\"target\":\"a.test\"},"
				    "{\"action\":\"deny\",\"target\":\"b.test\"}]}");
	const char dtext[] = "# comment\n\n a.test \nc.test\n10.0.0.0/8\n*.w.test\nbad name\n";
	const char atext[] = "b.test\nc.test\n";
	struct policy *dn = always_parse(dtext, strlen(dtext), POLICY_DENY, "deny.always");
	struct policy *al = always_parse(atext, strlen(atext), POLICY_ALLOW, "allow.always");
	CHECK_INT(dn->n, 4);
	CHECK_INT(al->n, 2);
	const struct policy *l[3] = {dn, al, user};
	struct policy_index *ix = policy_index_build(l, 3, POLICY_DENY);
	CHECK_INT(policy_match(ix, "a.test", NULL), POLICY_DENY); /* deny.always beats user allow */
	CHECK_INT(policy_match(ix, "b.test", NULL),
		  POLICY_ALLOW); /* allow.always beats user deny */
	CHECK_INT(policy_match(ix, "c.test", NULL),
		  POLICY_DENY); /* deny.always beats allow.always */
	CHECK_INT(policy_match(ix, "x.w.test", NULL), POLICY_DENY);
	policy_index_free(ix);
	policy_free(dn);
	policy_free(al);
	policy_free(user);
}

TEST(egress_policy_patch_delete)
{
	struct policy *base = parse("{\"defaultAction\":\"deny\",\"egress\":["
				    "{\"action\":\"allow\",\"target\":\"example.com\"},"
				    "{\"action\":\"deny\",\"target\":\"*.example.com\"}]}");
	struct policy *patch = NULL;
	struct err e = {0};
	const char *pt = "[{\"action\":\"deny\",\"target\":\"blocked.com\"},"
			 "{\"action\":\"allow\",\"target\":\"EXAMPLE.com\"},"
			 "{\"action\":\"deny\",\"target\":\"blocked.com\"}]";
	CHECK_INT(policy_parse_rules(pt, strlen(pt), 0, &patch, &e), 0);
	struct policy *m = policy_merge(base, patch); /* consumes patch */
	patch = NULL;
	CHECK_STR(
		json(m),
		"{\"egress\":[{\"action\":\"deny\",\"target\":\"blocked.com\"},"
		"{\"action\":\"allow\",\"target\":\"EXAMPLE.com\"},"
		"{\"action\":\"deny\",\"target\":\"*.example.com\"}],\"defaultAction\":\"deny\"}");
	CHECK_INT(policy_parse_rules("[]", 2, 0, &patch, &e), -22);
	CHECK(strstr(e.msg, "empty array") != NULL);

	char **t;
	size_t n, removed;
	const char *dt = "[\" Blocked.COM \",\"nothing.test\"]";
	CHECK_INT(policy_parse_targets(dt, strlen(dt), &t, &n, &e), 0);
	CHECK_INT(n, 2);
	struct policy *d = policy_remove(m, t, n, &removed);
	CHECK_INT(removed, 1);
	CHECK_INT(d->n, 2);
	CHECK_INT(d->default_action, POLICY_DENY);
	free(t);
	CHECK_INT(policy_parse_targets("[1]", 3, &t, &n, &e), -22);
	CHECK_INT(policy_parse_targets("[]", 2, &t, &n, &e), -22);
	policy_free(d);
	policy_free(m);
	policy_free(patch);
	policy_free(base);
}

TEST(egress_policy_persisted_form)
{
	struct policy *p = parse("{\"egress\":[{\"action\":\"allow\",\"target\":\"a.test\"}]}");
	struct buf b;
	buf_init(&b, 0);
	policy_to_json(p, &b, true);
	CHECK_STR(buf_cstr(&b),
		  "{\n  \"egress\": [\n    {\n      \"action\": \"allow\",\n"
		  "      \"target\": \"a.test\"\n    }\n  ],\n  \"defaultAction\": \"deny\"\n}");
	struct policy *back = NULL;
	struct err e = {0};
	CHECK_INT(policy_parse(buf_head(&b), b.len, 0, &back, &e), 0);
	CHECK_INT(back->n, 1);
	buf_free(&b);
	policy_free(back);
	policy_free(p);
}

TEST(egress_sets_normalize_and_timeouts)
{
	struct policy_prefix v[6];
	policy_prefix_parse("100.100.2.136", &v[0]);
	policy_prefix_parse("100.64.0.0/10", &v[1]);
	policy_prefix_parse("10.1.0.0/16", &v[2]);
	policy_prefix_parse("10.1.2.3/16", &v[3]);
	policy_prefix_parse("2001:db8::/32", &v[4]);
	policy_prefix_parse("2001:db8:1::1", &v[5]);
	CHECK_INT(sets_normalize(v, 6), 3);
	char s[64];
	policy_prefix_str(&v[0], s, sizeof(s));
	CHECK_STR(s, "10.1.0.0/16");
	policy_prefix_str(&v[1], s, sizeof(s));
	CHECK_STR(s, "100.64.0.0/10");
	policy_prefix_str(&v[2], s, sizeof(s));
	CHECK_STR(s, "2001:db8::/32");
	CHECK_INT(sets_timeout_s(120), 180);
	CHECK_INT(sets_timeout_s(10), 70);
	CHECK_INT(sets_timeout_s(0), 60);
	CHECK_INT(sets_timeout_s(9999), 360);
	CHECK_INT(sets_timeout_s(0xffffffffu), 360);
}

TEST(egress_upstream_parse)
{
	struct upstream_list l;
	struct err e = {0};
	memset(&l, 0, sizeof(l));
	CHECK_INT(upstream_parse_list(
			  &l,
			  " 192.0.2.1, 192.0.2.1:53,[2001:db8::1], [2001:db8::2]:5353,2001:db8::3",
			  &e),
		  0);
	CHECK_INT(l.n, 4);
	CHECK_STR(l.u[0].name, "192.0.2.1:53");
	CHECK_STR(l.u[1].name, "[2001:db8::1]:53");
	CHECK_STR(l.u[2].name, "[2001:db8::2]:5353");
	CHECK_STR(l.u[3].name, "[2001:db8::3]:53");
	CHECK(upstream_parse_list(&l, "dns.test", &e) < 0);
	CHECK(strstr(e.msg, "not an IP literal") != NULL);
	CHECK(upstream_parse_list(&l, "192.0.2.1:0", &e) < 0);
	size_t order[UPSTREAM_MAX];
	l.u[0].healthy = false;
	l.u[1].healthy = true;
	l.u[2].healthy = false;
	l.u[3].healthy = true;
	CHECK_INT(upstream_active(&l, order), 2);
	CHECK_INT(order[0], 1);
	for (size_t i = 0; i < l.n; i++)
		l.u[i].healthy = false;
	CHECK_INT(upstream_active(&l, order), 4);
}

TEST(egress_expiry_never_shortens)
{
	struct expiry x = {0};
	uint8_t a[16] = {203, 0, 113, 18}, b[16] = {203, 0, 113, 19};
	/* A long promise, then a short answer for the same address: the long one stays. */
	CHECK_INT(expiry_extend(&x, a, 1000, 360000), 360000);
	CHECK_INT(expiry_extend(&x, a, 11000, 61000), 350000);
	/* A later, longer promise wins. */
	CHECK_INT(expiry_extend(&x, a, 300000, 360000), 360000);
	/* Other addresses are independent. */
	CHECK_INT(expiry_extend(&x, b, 300000, 61000), 61000);
	/* Once past, a new short answer is taken as it is. */
	CHECK_INT(expiry_extend(&x, a, 700000, 61000), 61000);
	/* Fill the table past its size: every call still answers, none shortens its own. */
	for (uint32_t i = 0; i < EXPIRY_SLOTS + 100; i++) {
		uint8_t c[16] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		CHECK_INT(expiry_extend(&x, c, 800000, 100000), 100000);
	}
	/* Tracked ones still keep their promise; expired slots get reused. */
	uint8_t d[16] = {10, 0, 0, 5};
	CHECK_INT(expiry_extend(&x, d, 800500, 1000), 99500);
	uint8_t e[16] = {192, 0, 2, 1};
	CHECK_INT(expiry_extend(&x, e, 2000000, 5000), 5000);
	CHECK_INT(expiry_extend(&x, e, 2000100, 1000), 4900);
	expiry_free(&x);
}

/* cJSON strings end at a NUL: "deny\u0000allow" must not load as deny. */
TEST(egress_policy_refuses_nul_in_strings)
{
	static const char *bad[] = {
		"{\"defaultAction\":\"deny\\u0000allow\"}",
		"{\"defaultAction\":\"allow\\u0000\"}",
		"{\"egress\":[{\"action\":\"allow\",\"target\":\"a.test\\u0000.evil\"}]}",
		"{\"egress\":[{\"action\":\"allow\\u0000deny\",\"target\":\"a.test\"}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy *p = NULL;
		struct err e = {0};
		int r = policy_parse(bad[i], strlen(bad[i]), 0, &p, &e);
		if (r != -EINVAL || p)
			unit_fail(__FILE__, __LINE__, "%s: r=%d msg=\"%s\"", bad[i], r, e.msg);
		policy_free(p);
	}
	struct policy *patch = NULL;
	struct err e = {0};
	const char *pt = "[{\"action\":\"allow\",\"target\":\"a.test\\u0000x\"}]";
	CHECK_INT(policy_parse_rules(pt, strlen(pt), 0, &patch, &e), -EINVAL);
	char **t = NULL;
	size_t n;
	const char *dt = "[\"a.test\\u0000\"]";
	CHECK_INT(policy_parse_targets(dt, strlen(dt), &t, &n, &e), -EINVAL);
}

/* The cap is checked on the array's size before any rule is read: an
 * over-cap body with a bad first rule is 413 material, not a 400. */
TEST(egress_policy_cap_before_rules)
{
	const char *rules = "[{\"target\":\"a b\"},{\"target\":\"b.test\"},{\"target\":\"c.test\"},"
			    "{\"target\":\"d.test\"},{\"target\":\"e.test\"}]";
	struct policy *p = NULL;
	struct err e = {0};
	CHECK_INT(policy_parse_rules(rules, strlen(rules), 4, &p, &e), -E2BIG);
	CHECK_STR(e.msg, "egress rule total count 5 exceeds limit 4");
	CHECK(p == NULL);
	/* A PATCH body is counted before it is parsed: a whole array over the cap
	 * is a 413 whatever follows it; one that never ends is left to the parser. */
	const char *broken = "[1,2,3,4,5,{\"target\":";
	CHECK_INT(policy_parse_rules(broken, strlen(broken), 4, &p, &e), -EINVAL);
	const char *tail = "[1,2,3,4,5] {";
	CHECK_INT(policy_parse_rules(tail, strlen(tail), 4, &p, &e), -E2BIG);
	err_clear(&e);
	CHECK_INT(policy_parse_rules(rules, strlen(rules), 5, &p, &e), -EINVAL);
	CHECK(strstr(e.msg, "rules[0].target") != NULL);
	CHECK_INT(policy_parse_rules(rules + 18, strlen(rules) - 18, 4, &p, &e), -EINVAL);
	const char *four = "[{\"target\":\"b.test\"},{\"target\":\"c.test\"},"
			   "{\"target\":\"d.test\"},{\"target\":\"e.test\"}]";
	CHECK_INT(policy_parse_rules(four, strlen(four), 4, &p, &e), 0);
	CHECK_INT(p ? p->n : 0, 4);
	policy_free(p);
	p = NULL;
	CHECK_INT(policy_parse_rules(rules, strlen(rules), 0, &p, &e), -EINVAL); /* no limit */

	char body[512];
	snprintf(body, sizeof(body), "{\"egress\":%s}", rules);
	CHECK_INT(policy_parse(body, strlen(body), 4, &p, &e), -E2BIG);
	CHECK(strstr(e.msg, "exceeds limit 4") != NULL);
	CHECK_INT(policy_parse(body, strlen(body), 5, &p, &e), -EINVAL);
}

static char *stranger(char *buf, size_t cap, size_t i)
{
	snprintf(buf, cap, "host%zu.test", i);
	return buf;
}

/* The dedupe set looks at O(1) slots per operation: 60k operations over 20k
 * targets. The former pairwise scan compared about 2 * 10^8 pairs here. */
TEST(egress_policy_set_probes_linear)
{
	enum { N = 20000 };
	char(*lower)[32] = malloc(N * sizeof(*lower));
	char(*upper)[32] = malloc(N * sizeof(*upper));
	char other[32];
	struct policy_set s;

	CHECK_INT(policy_set_init(&s, N), 0);
	for (size_t i = 0; i < N; i++) {
		snprintf(lower[i], sizeof(lower[i]), "host%zu.example.test", i);
		snprintf(upper[i], sizeof(upper[i]), "HOST%zu.Example.TEST", i);
	}
	size_t added = 0, again = 0, strangers = 0;
	for (size_t i = 0; i < N; i++)
		added += policy_set_add(&s, lower[i]) == 1;
	for (size_t i = 0; i < N; i++)
		again += policy_set_add(&s, upper[i]) == 0;
	for (size_t i = 0; i < N; i++)
		strangers += policy_set_has(&s, stranger(other, sizeof(other), i));
	CHECK_INT(added, N);
	CHECK_INT(again, N);
	CHECK_INT(strangers, 0);
	CHECK_INT(s.n, N);
	CHECK(policy_set_has(&s, "HOST7.EXAMPLE.TEST"));
	CHECK(s.probes <= 4 * 3 * (size_t)N);
	printf("    set: %zu probes for %d operations\n", s.probes, 3 * N);
	policy_set_free(&s);
	/* sized for 3: those fit, and it refuses before it could fill up */
	CHECK_INT(policy_set_init(&s, 3), 0);
	int r = 0;
	size_t fit = 0;
	while (fit < 16 && (r = policy_set_add(&s, stranger(other, sizeof(other), fit))) == 1)
		fit++;
	CHECK(fit >= 3 && fit <= s.mask);
	CHECK_INT(r, -ENOSPC);
	policy_set_free(&s);
	free(lower);
	free(upper);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A PATCH body of n rules: i < overlap re-targets base rule i (other case,
 * deny), the last dups repeat the first ones, the rest are new. */
static void patch_body(struct buf *b, size_t n, size_t overlap, size_t dups)
{
	buf_puts(b, "[");
	for (size_t i = 0; i < n; i++) {
		size_t k = i >= n - dups ? i - (n - dups) : i;
		if (k < overlap)
			buf_printf(b, "%s{\"action\":\"deny\",\"target\":\"R%zu.BASE.test\"}",
				   i ? "," : "", k);
		else
			buf_printf(b, "%s{\"action\":\"allow\",\"target\":\"p%zu.patch.test\"}",
				   i ? "," : "", k);
	}
	buf_puts(b, "]");
}

/* The update pipeline the API runs for PATCH (parse with the cap, merge,
 * compile, persist) over 20k rules: correct, and its time printed. */
TEST(egress_policy_patch_20k_rules)
{
	enum { NBASE = 4000, NPATCH = 20000, OVERLAP = 2000, DUPS = 10 };
	struct policy *base = policy_new(), *patch = NULL;
	struct err e = {0};
	struct buf b;

	base->egress_present = true;
	base->rules = calloc(NBASE, sizeof(*base->rules));
	for (size_t i = 0; i < NBASE; i++) {
		char t[32];
		snprintf(t, sizeof(t), "r%zu.base.test", i);
		CHECK_INT(policy_rule_init(&base->rules[i], "allow", t, "base", &e), 0);
		base->n++;
	}
	buf_init(&b, 0);
	patch_body(&b, NPATCH, OVERLAP, DUPS);

	/* over the cap: refused from the array's size alone */
	double t0 = now_ms();
	CHECK_INT(policy_parse_rules(buf_head(&b), b.len, 4096, &patch, &e), -E2BIG);
	double over_ms = now_ms() - t0;
	CHECK(strstr(e.msg, "count 20000 exceeds limit 4096") != NULL);

	t0 = now_ms();
	CHECK_INT(policy_parse_rules(buf_head(&b), b.len, 0, &patch, &e), 0);
	double t1 = now_ms();
	struct policy *m = patch ? policy_merge(base, patch) : NULL; /* consumes patch */
	patch = NULL;
	double t2 = now_ms();
	CHECK(m != NULL);
	if (!m)
		goto out;
	const struct policy *layers[1] = {m};
	struct policy_index *ix = policy_index_build(layers, 1, m->default_action);
	double t3 = now_ms();
	char path[] = "/tmp/egress-policy-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	struct egressd x = {.policy_file = path};
	CHECK_INT(egressd_persist(&x, m, &e), 0);
	double t4 = now_ms();
	unlink(path);
	printf("    20k-rule PATCH (%zu bytes): over cap %.1f ms; parse %.1f ms, merge %.1f ms,"
	       " index %.1f ms, persist %.1f ms\n",
	       b.len, over_ms, t1 - t0, t2 - t1, t3 - t2, t4 - t3);

	/* patch rules first (its own repeats dropped), then the base rules it
	 * did not re-target */
	CHECK_INT(m->n, (NPATCH - DUPS) + (NBASE - OVERLAP));
	CHECK_STR(m->rules[0].target, "R0.BASE.test");
	CHECK_INT(m->rules[0].action, POLICY_DENY);
	CHECK_STR(m->rules[NPATCH - DUPS - 1].target, "p19989.patch.test");
	CHECK_STR(m->rules[NPATCH - DUPS].target, "r2000.base.test");
	CHECK_STR(m->rules[m->n - 1].target, "r3999.base.test");
	CHECK_INT(policy_match(ix, "r5.base.test", NULL), POLICY_DENY);
	CHECK_INT(policy_match(ix, "r2001.base.test", NULL), POLICY_ALLOW);
	CHECK_INT(policy_match(ix, "p19000.patch.test", NULL), POLICY_ALLOW);

	/* DELETE of 20k targets: hashed too */
	char **t = calloc(NPATCH, sizeof(char *));
	for (size_t i = 0; i < NPATCH; i++)
		t[i] = m->rules[i].target;
	size_t removed;
	t0 = now_ms();
	struct policy *d = policy_remove(m, t, NPATCH - DUPS, &removed);
	printf("    20k-target DELETE: %.1f ms\n", now_ms() - t0);
	CHECK_INT(removed, NPATCH - DUPS);
	CHECK_INT(d ? d->n : 0, NBASE - OVERLAP);
	free(t);
	policy_free(d);
	policy_index_free(ix);
	policy_free(m);
out:
	policy_free(patch);
	policy_free(base);
	buf_free(&b);
}
