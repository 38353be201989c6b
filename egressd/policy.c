// SPDX-License-Identifier: Apache-2.0
#include "policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "policy_int.h"

static const char *trim(const char *s, size_t *len)
{
	while (*len && isspace((unsigned char)*s)) {
		s++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)s[*len - 1]))
		(*len)--;
	return s;
}

struct policy *policy_new(void)
{
	struct policy *p = calloc(1, sizeof(*p));
	if (p)
		p->default_action = POLICY_DENY;
	return p;
}

void policy_rule_clear(struct policy_rule *r)
{
	free(r->target); /* the key lives in the same allocation */
	memset(r, 0, sizeof(*r));
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		policy_rule_clear(&p->rules[i]);
	free(p->rules);
	free(p);
}

static int rule_copy(struct policy_rule *d, const struct policy_rule *s)
{
	size_t tn = strlen(s->target) + 1, kn = s->key ? strlen(s->key) + 1 : 0;
	char *blk = malloc(tn + kn);

	if (!blk)
		return -ENOMEM;
	*d = *s;
	d->target = memcpy(blk, s->target, tn);
	d->key = s->key ? memcpy(blk + tn, s->key, kn) : NULL;
	return 0;
}

/* A policy with room for n rules and the same default as like. */
static struct policy *policy_sized(const struct policy *like, size_t n)
{
	struct policy *p = policy_new();
	if (!p)
		return NULL;
	p->default_action = like ? like->default_action : POLICY_DENY;
	p->egress_present = like ? like->egress_present : false;
	if (n && !(p->rules = calloc(n, sizeof(*p->rules)))) {
		free(p);
		return NULL;
	}
	return p;
}

struct policy *policy_clone(const struct policy *s)
{
	struct policy *p = policy_sized(s, s->n);
	if (!p)
		return NULL;
	for (size_t i = 0; i < s->n; i++, p->n++)
		if (rule_copy(&p->rules[i], &s->rules[i]) < 0) {
			policy_free(p);
			return NULL;
		}
	return p;
}

bool policy_domain_valid(const char *key, size_t len)
{
	if (len >= 2 && key[0] == '*' && key[1] == '.') {
		key += 2;
		len -= 2;
	}
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

int policy_prefix_parse(const char *text, struct policy_prefix *out)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	long plen = -1;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = 4;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = 6;
	else
		return -EINVAL;
	int max = out->family == 4 ? 32 : 128;
	if (slash) {
		const char *d = slash + 1;
		if (!*d || strlen(d) > 3)
			return -EINVAL;
		char *end;
		for (const char *q = d; *q; q++)
			if (!isdigit((unsigned char)*q))
				return -EINVAL;
		plen = strtol(d, &end, 10);
		if (plen > max)
			return -EINVAL;
	}
	out->len = (uint8_t)(plen < 0 ? max : plen);
	for (int bit = out->len; bit < max; bit++)
		out->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

void policy_prefix_str(const struct policy_prefix *pf, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(pf->family == 4 ? AF_INET : AF_INET6, pf->addr, a, sizeof(a));
	if (pf->len == (pf->family == 4 ? 32 : 128))
		snprintf(out, cap, "%s", a);
	else
		snprintf(out, cap, "%s/%u", a, pf->len);
}

int policy_rule_init(struct policy_rule *r, const char *action, const char *target,
		     const char *field, struct err *e)
{
	size_t alen = strlen(action), tlen = strlen(target);
	const char *a = trim(action, &alen), *t = trim(target, &tlen);

	memset(r, 0, sizeof(*r));
	if (alen == 0 || (alen == 4 && strncasecmp(a, "deny", 4) == 0))
		r->action = POLICY_DENY;
	else if (alen == 5 && strncasecmp(a, "allow", 5) == 0)
		r->action = POLICY_ALLOW;
	else
		return err_set(e, EINVAL, "%s.action: unsupported action \"%.*s\"", field,
			       (int)(alen > 64 ? 64 : alen), a);
	if (tlen == 0)
		return err_set(e, EINVAL, "%s.target: egress target cannot be empty", field);
	/* One allocation per rule, the key after the target: updates of 20k
	 * rules spend most of their time in the allocator. */
	if (!(r->target = malloc(2 * (tlen + 1))))
		return -ENOMEM;
	memcpy(r->target, t, tlen);
	r->target[tlen] = '\0';
	if (policy_prefix_parse(r->target, &r->net) == 0) {
		r->kind = strchr(r->target, '/') ? POLICY_CIDR : POLICY_IP;
		return 0;
	}
	/* A domain: lowercase, one trailing dot dropped (upstream quirk Q2). */
	size_t klen = tlen;
	if (klen > 1 && t[klen - 1] == '.')
		klen--;
	if (!policy_domain_valid(r->target, klen) ||
	    (strchr(r->target, '/') || strchr(r->target, ':'))) {
		policy_rule_clear(r);
		return err_set(e, EINVAL, "%s.target: invalid domain name, IP or CIDR \"%.*s\"",
			       field, (int)(tlen > 80 ? 80 : tlen), t);
	}
	bool wild = klen >= 2 && t[0] == '*' && t[1] == '.';
	r->kind = wild ? POLICY_WILDCARD : POLICY_DOMAIN;
	const char *k = wild ? t + 2 : t;
	klen -= wild ? 2 : 0;
	r->key = r->target + tlen + 1;
	for (size_t i = 0; i < klen; i++)
		r->key[i] = (char)tolower((unsigned char)k[i]);
	r->key[klen] = '\0';
	return 0;
}

static int rules_from_array(const cJSON *arr, struct policy *p, const char *prefix, size_t max,
			    struct err *e)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	const cJSON *it;

	/* Before any rule is read: an over-cap body costs no more than its parse. */
	if (max && n > max)
		return err_set(e, E2BIG, "egress rule total count %zu exceeds limit %zu", n, max);
	if (n && !(p->rules = calloc(n, sizeof(*p->rules))))
		return -ENOMEM;
	cJSON_ArrayForEach(it, arr)
	{
		char field[48];
		const char *action = "", *target = "";
		snprintf(field, sizeof(field), "%s[%zu]", prefix, i);
		if (!cJSON_IsObject(it))
			return err_set(e, EINVAL, "%s: must be an object", field);
		int r = json_get_string(it, "action", JSON_OPTIONAL, &action, e);
		if (r == -ENOENT)
			r = 0;
		if (r == 0 &&
		    (r = json_get_string(it, "target", JSON_OPTIONAL, &target, e)) == -ENOENT)
			r = 0;
		if (r < 0)
			return err_wrap(e, "%s", field);
		if ((r = policy_rule_init(&p->rules[i], action, target, field, e)) < 0)
			return r;
		p->n = ++i;
	}
	return 0;
}

static bool empty_policy_text(const char *t, size_t n)
{
	return n == 0 || (n == 4 && memcmp(t, "null", 4) == 0);
}

int policy_parse(const char *text, size_t len, size_t max, struct policy **out, struct err *e)
{
	const char *t = trim(text, &len);
	struct policy *p = policy_new();
	cJSON *j = NULL;
	int r = -ENOMEM;

	if (!p)
		goto fail;
	if (empty_policy_text(t, len)) {
		*out = p;
		return 0;
	}
	if (!(j = json_parse(t, len, e))) {
		r = -EINVAL;
		goto fail;
	}
	if (cJSON_IsNull(j)) {
		cJSON_Delete(j);
		*out = p;
		return 0;
	}
	if (!cJSON_IsObject(j)) {
		r = err_set(e, EINVAL, "policy must be a JSON object");
		goto fail;
	}
	const char *def = "";
	r = json_get_string(j, "defaultAction", JSON_OPTIONAL, &def, e);
	if (r < 0 && r != -ENOENT)
		goto fail;
	size_t dlen = strlen(def);
	const char *d = trim(def, &dlen);
	if (dlen == 0 || (dlen == 4 && strncasecmp(d, "deny", 4) == 0)) {
		p->default_action = POLICY_DENY;
	} else if (dlen == 5 && strncasecmp(d, "allow", 5) == 0) {
		p->default_action = POLICY_ALLOW;
	} else {
		r = err_set(e, EINVAL, "defaultAction: must be \"allow\" or \"deny\", got \"%.*s\"",
			    (int)(dlen > 64 ? 64 : dlen), d);
		goto fail;
	}
	const cJSON *eg = cJSON_GetObjectItem(j, "egress");
	if (eg && !cJSON_IsNull(eg)) {
		if (!cJSON_IsArray(eg)) {
			r = err_set(e, EINVAL, "egress: must be an array");
			goto fail;
		}
		p->egress_present = true;
		if ((r = rules_from_array(eg, p, "egress", max, e)) < 0)
			goto fail;
	}
	cJSON_Delete(j);
	*out = p;
	return 0;
fail:
	if (r == -ENOMEM)
		err_set(e, ENOMEM, "out of memory");
	cJSON_Delete(j);
	policy_free(p);
	return r;
}

int policy_parse_rules(const char *text, size_t len, size_t max, struct policy **out, struct err *e)
{
	const char *t = trim(text, &len);
	struct policy *p = policy_new();
	cJSON *j = NULL;
	int r = -ENOMEM;

	/* Counted from the bytes before the parse: an over-cap body costs a scan,
	 * not a tree of every rule. */
	long count = json_array_len(t, len);
	if (max && count > 0 && (size_t)count > max) {
		r = err_set(e, E2BIG, "egress rule total count %ld exceeds limit %zu", count, max);
		goto fail;
	}
	if (!p)
		goto fail;
	if (!(j = json_parse(t, len, e))) {
		r = -EINVAL;
		goto fail;
	}
	if (!cJSON_IsArray(j)) {
		r = err_set(e, EINVAL, "must be a JSON array of rules");
		goto fail;
	}
	if (cJSON_GetArraySize(j) == 0) {
		r = err_set(e, EINVAL, "empty array");
		goto fail;
	}
	p->egress_present = true;
	if ((r = rules_from_array(j, p, "rules", max, e)) < 0)
		goto fail;
	cJSON_Delete(j);
	*out = p;
	return 0;
fail:
	cJSON_Delete(j);
	policy_free(p);
	return r;
}

int policy_parse_targets(const char *text, size_t len, char ***targets, size_t *n, struct err *e)
{
	const char *t = trim(text, &len);
	cJSON *j = json_parse(t, len, e), *it;
	size_t count = 0, bytes = 0;

	if (!j)
		return -EINVAL;
	if (!cJSON_IsArray(j)) {
		cJSON_Delete(j);
		return err_set(e, EINVAL, "must be a JSON array of strings");
	}
	cJSON_ArrayForEach(it, j)
	{
		if (!cJSON_IsString(it)) {
			cJSON_Delete(j);
			return err_set(e, EINVAL, "targets[%zu]: must be a string", count);
		}
		bytes += strlen(it->valuestring) + 1;
		count++;
	}
	if (count == 0) {
		cJSON_Delete(j);
		return err_set(e, EINVAL, "empty array");
	}
	char **v = malloc(count * sizeof(char *) + bytes);
	if (!v) {
		cJSON_Delete(j);
		return err_set(e, ENOMEM, "out of memory");
	}
	char *s = (char *)(v + count);
	size_t i = 0;
	cJSON_ArrayForEach(it, j)
	{
		size_t l = strlen(it->valuestring);
		const char *tt = trim(it->valuestring, &l);
		memcpy(s, tt, l);
		s[l] = '\0';
		v[i++] = s;
		s += l + 1;
	}
	cJSON_Delete(j);
	*targets = v;
	*n = count;
	return 0;
}

struct policy *policy_merge(const struct policy *base, struct policy *patch)
{
	struct policy *p = policy_sized(base, base->n + patch->n);
	struct policy_set seen = {0};

	if (!p || policy_set_init(&seen, base->n + patch->n) < 0)
		goto fail;
	p->egress_present = true;
	/* The patch's rules are moved, not copied: it is consumed anyway. */
	for (size_t i = 0; i < patch->n; i++) {
		if (policy_set_add(&seen, patch->rules[i].target) != 1)
			continue;
		p->rules[p->n++] = patch->rules[i];
		memset(&patch->rules[i], 0, sizeof(patch->rules[i]));
	}
	for (size_t i = 0; i < base->n; i++) {
		if (policy_set_add(&seen, base->rules[i].target) != 1)
			continue;
		if (rule_copy(&p->rules[p->n], &base->rules[i]) < 0)
			goto fail;
		p->n++;
	}
	policy_set_free(&seen);
	policy_free(patch);
	return p;
fail:
	policy_set_free(&seen);
	policy_free(p);
	policy_free(patch);
	return NULL;
}

struct policy *policy_remove(const struct policy *base, char *const *targets, size_t n,
			     size_t *removed)
{
	struct policy *p = policy_sized(base, base->n);
	struct policy_set gone;

	if (!p)
		return NULL;
	if (policy_set_init(&gone, n) < 0) {
		policy_free(p);
		return NULL;
	}
	for (size_t k = 0; k < n; k++)
		policy_set_add(&gone, targets[k]);
	*removed = 0;
	for (size_t i = 0; i < base->n; i++) {
		if (policy_set_has(&gone, base->rules[i].target)) {
			(*removed)++;
			continue;
		}
		if (rule_copy(&p->rules[p->n], &base->rules[i]) < 0) {
			policy_free(p);
			p = NULL;
			break;
		}
		p->n++;
	}
	policy_set_free(&gone);
	return p;
}

const char *policy_action_name(int action)
{
	return action == POLICY_ALLOW ? "allow" : "deny";
}

const char *policy_mode(const struct policy *p)
{
	if (!p || (p->n == 0 && p->default_action == POLICY_DENY))
		return "deny_all";
	if (p->n == 0)
		return "allow_all";
	return "enforcing";
}

int policy_to_json(const struct policy *p, struct buf *b, bool indent)
{
	const char *nl = indent ? "\n" : "", *i1 = indent ? "  " : "", *i2 = indent ? "    " : "",
		   *i3 = indent ? "      " : "", *sp = indent ? " " : "";
	int r = buf_printf(b, "{%s%s\"egress\":%s", nl, i1, sp);

	if (!r && (!p->egress_present && p->n == 0))
		r = buf_puts(b, "null");
	else if (!r && p->n == 0)
		r = buf_puts(b, "[]");
	else if (!r)
		r = buf_puts(b, "[");
	/* The text around each target is formatted once: a printf per rule was
	 * most of the time an update of 20k rules spent writing the file. */
	char head[2][80], tail[8];
	for (int a = 0; a < 2; a++)
		snprintf(head[a], sizeof(head[a]),
			 ",%s%s{%s%s\"action\":%s\"%s\",%s%s\"target\":%s", nl, i2, nl, i3, sp,
			 policy_action_name(a), nl, i3, sp);
	size_t hlen[2] = {strlen(head[0]), strlen(head[1])};
	size_t tlen = (size_t)snprintf(tail, sizeof(tail), "%s%s}", nl, i2);
	for (size_t i = 0; !r && i < p->n; i++) {
		int a = p->rules[i].action == POLICY_ALLOW;
		r = buf_append(b, head[a] + (i ? 0 : 1), hlen[a] - (i ? 0 : 1));
		r = r ? r : json_buf_cstr(b, p->rules[i].target, JSON_ESC_HTML);
		r = r ? r : buf_append(b, tail, tlen);
	}
	if (!r && p->n)
		r = buf_printf(b, "%s%s]", nl, i1);
	if (!r)
		r = buf_printf(b, ",%s%s\"defaultAction\":%s\"%s\"%s}", nl, i1, sp,
			       policy_action_name(p->default_action), nl);
	return r;
}
