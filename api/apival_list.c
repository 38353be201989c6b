// SPDX-License-Identifier: Apache-2.0
/*
 * Validation of the list query (GET /sandboxes): states, the doubly encoded
 * metadata filter, pagination. Errors as in apival.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apival.h"
#include "http_parse.h"
#include "json.h"

#define VALIDATION "VALIDATION_ERROR"

static int decode(const char *s, size_t n, char *out, size_t cap)
{
	long r = http_percent_decode(out, cap, s, n, HTTP_DECODE_PLUS_SPACE);
	return r < 0 ? -EINVAL : 0;
}

int apival_metadata_filter_parse(const char *s, cJSON **out, struct apival_err *ae)
{
	cJSON *obj = cJSON_CreateObject();
	if (!obj)
		return apival_fail(ae, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
	const char *p = s;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		if (n) {
			const char *eq = memchr(p, '=', n);
			if (!eq) {
				apival_fail(ae, 400, "INVALID_METADATA_FORMAT",
					    "Invalid metadata format: bad query field: '%.*s'",
					    (int)(n > 64 ? 64 : n), p);
				cJSON_Delete(obj);
				return -EINVAL;
			}
			char k[256], v[256];
			if (decode(p, (size_t)(eq - p), k, sizeof(k)) < 0 ||
			    decode(eq + 1, n - (size_t)(eq - p) - 1, v, sizeof(v)) < 0) {
				apival_fail(
					ae, 400, "INVALID_METADATA_FORMAT",
					"Invalid metadata format: bad escape or field too long");
				cJSON_Delete(obj);
				return -EINVAL;
			}
			cJSON_DeleteItemFromObjectCaseSensitive(obj, k); /* last wins */
			cJSON_AddStringToObject(obj, k, v);
		}
		p += n;
		if (*p == '&')
			p++;
	}
	*out = obj;
	return 0;
}

static int parse_int_param(const char *v, const char *name, int64_t min, int64_t max, int64_t *out,
			   struct apival_err *ae)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (!*v || *end || errno)
		return apival_fail(ae, 422, VALIDATION, "query.%s: must be an integer", name);
	if (x < min || x > max)
		return apival_fail(ae, 422, VALIDATION, "query.%s: must be between %lld and %lld",
				   name, (long long)min, (long long)max);
	*out = x;
	return 0;
}

int apival_list_parse(const char *query, struct apival_list *l, struct apival_err *ae)
{
	memset(l, 0, sizeof(*l));
	l->page = 1;
	l->page_size = 20;
	struct http_query_iter it;
	const char *k, *v;
	size_t kl, vl;
	http_query_iter_init(&it, query, strlen(query));
	while (http_query_next(&it, &k, &kl, &v, &vl)) {
		char key[32], val[2048];
		if (decode(k, kl, key, sizeof(key)) < 0)
			continue; /* unknown long keys are ignored */
		if (decode(v, vl, val, sizeof(val)) < 0) {
			apival_fail(ae, 422, VALIDATION, "query.%s: malformed or too long", key);
			goto fail;
		}
		if (strcmp(key, "state") == 0) {
			if (l->num_states == APIVAL_MAX_STATES ||
			    strlen(val) >= sizeof(l->states[0])) {
				apival_fail(ae, 422, VALIDATION,
					    "query.state: too many or too long");
				goto fail;
			}
			strcpy(l->states[l->num_states++], val);
		} else if (strcmp(key, "metadata") == 0) {
			cJSON_Delete(l->metadata);
			l->metadata = NULL;
			if (apival_metadata_filter_parse(val, &l->metadata, ae) < 0)
				goto fail;
		} else if (strcmp(key, "sandboxId") == 0 || strcmp(key, "name") == 0) {
			bool sid = key[0] == 's';
			size_t cap = sid ? sizeof(l->sandbox_id) : sizeof(l->name);
			if (strlen(val) >= cap) {
				apival_fail(ae, 422, VALIDATION, "query.%s: too long", key);
				goto fail;
			}
			strcpy(sid ? l->sandbox_id : l->name, val);
		} else if (strcmp(key, "page") == 0) {
			if (parse_int_param(val, "page", 1, INT32_MAX, &l->page, ae) < 0)
				goto fail;
		} else if (strcmp(key, "pageSize") == 0) {
			if (parse_int_param(val, "pageSize", 1, APIVAL_MAX_PAGE_SIZE, &l->page_size,
					    ae) < 0)
				goto fail;
		}
	}
	return 0;
fail:
	apival_list_free(l);
	return -EINVAL;
}

void apival_list_free(struct apival_list *l)
{
	cJSON_Delete(l->metadata);
	l->metadata = NULL;
}

int apival_list_order(int64_t a_us, const char *a_id, int64_t b_us, const char *b_id)
{
	if (a_us != b_us)
		return a_us < b_us ? 1 : -1;
	return strcmp(b_id, a_id);
}

static size_t list_first(const struct apival_list *l, size_t total)
{
	uint64_t first = (uint64_t)(l->page - 1) * (uint64_t)l->page_size;
	return first < total ? (size_t)first : total;
}

static int list_pagination(const struct apival_list *l, size_t total, struct buf *out)
{
	int64_t pages = (int64_t)((total + (size_t)l->page_size - 1) / (size_t)l->page_size);
	return buf_printf(out,
			  ",\"pagination\":{\"page\":%lld,\"pageSize\":%lld,\"totalItems\":%zu,"
			  "\"totalPages\":%lld,\"hasNextPage\":%s}",
			  (long long)l->page, (long long)l->page_size, total, (long long)pages,
			  l->page < pages ? "true" : "false");
}

int apival_list_page(const struct apival_list *l, void **v, size_t m,
		     int (*cmp)(const void *, const void *),
		     int (*item_json)(const void *, struct buf *), struct buf *out)
{
	qsort(v, m, sizeof(*v), cmp);
	int r = buf_puts(out, "{\"items\":[");
	for (size_t i = list_first(l, m), k = 0; !r && i < m && k < (size_t)l->page_size;
	     i++, k++) {
		r = k ? buf_puts(out, ",") : 0;
		r = r ? r : item_json(v[i], out);
	}
	r = r ? r : buf_puts(out, "]");
	r = r ? r : list_pagination(l, m, out);
	return r ? r : buf_puts(out, "}");
}
