// SPDX-License-Identifier: Apache-2.0
/*
 * Validation of client input. Schema violations (missing field, wrong type,
 * value out of the schema's range) are 422 VALIDATION_ERROR; rule violations
 * the upstream service reports itself keep its status and code (400 ...).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apival.h"
#include "image_ref.h"
#include "http_parse.h"
#include "json.h"

#define VALIDATION    "VALIDATION_ERROR"
#define INVALID_PARAM "SANDBOX::INVALID_PARAMETER"
#define BAD_LABEL     "SANDBOX::INVALID_METADATA_LABEL"

int apival_fail(struct apival_err *ae, int status, const char *code, const char *fmt, ...)
{
	if (ae) {
		va_list ap;
		ae->status = status;
		ae->code = code;
		va_start(ap, fmt);
		vsnprintf(ae->msg, sizeof(ae->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* --- labels ------------------------------------------------------------- */

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? of at most 63 bytes. */
static bool label_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

/* A DNS subdomain: dot-separated lower-case labels [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 253. */
static bool dns_subdomain_ok(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		size_t len = i - start;
		if (len == 0 || len > 63)
			return false;
		for (size_t j = start; j < i; j++) {
			char c = s[j];
			bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				  (c == '-' && j != start && j != i - 1);
			if (!ok)
				return false;
		}
		start = i + 1;
	}
	return true;
}

bool apival_label_key_ok(const char *k)
{
	const char *slash = strchr(k, '/');
	if (!slash)
		return label_name_ok(k, strlen(k));
	return dns_subdomain_ok(k, (size_t)(slash - k)) &&
	       label_name_ok(slash + 1, strlen(slash + 1));
}

bool apival_label_value_ok(const char *v)
{
	size_t n = strlen(v);
	return n == 0 || label_name_ok(v, n);
}

int apival_metadata_check(const cJSON *obj, bool patch, struct apival_err *ae)
{
	if (!cJSON_IsObject(obj))
		return apival_fail(ae, patch ? 400 : 422, patch ? INVALID_PARAM : VALIDATION,
				   "metadata: must be an object");
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		const char *k = it->string;
		if (strncmp(k, "opensandbox.io/", 15) == 0)
			return apival_fail(
				ae, 400, patch ? "INVALID_METADATA_LABEL" : BAD_LABEL,
				"metadata key '%s' uses the reserved prefix opensandbox.io/", k);
		if (patch && cJSON_IsNull(it))
			continue;
		if (!cJSON_IsString(it))
			return apival_fail(ae, patch ? 400 : 422, patch ? BAD_LABEL : VALIDATION,
					   "metadata.%s: must be a string", k);
		if (!apival_label_key_ok(k))
			return apival_fail(ae, 400, BAD_LABEL,
					   "metadata key '%s' is not a valid label key", k);
		if (!apival_label_value_ok(it->valuestring))
			return apival_fail(ae, 400, BAD_LABEL,
					   "metadata value of '%s' is not a valid label value", k);
	}
	return 0;
}

/* --- quantities --------------------------------------------------------- */

int apival_memory_parse(const char *s, int64_t *bytes)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	char unit[4] = "";
	size_t n = 0;
	while (*end && !isspace((unsigned char)*end) && n < 3)
		unit[n++] = (char)tolower((unsigned char)*end++);
	unit[n] = '\0';
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	static const char units[] = "kmgt";
	unsigned long long mul = 1;
	if (n == 0 || strcmp(unit, "b") == 0) {
		mul = 1;
	} else {
		const char *p = strchr(units, unit[0]);
		if (!p || unit[0] == '\0')
			return -EINVAL;
		int pow = (int)(p - units) + 1;
		bool binary = n == 2 && unit[1] == 'i';
		bool decimal = n == 1 || (n == 2 && unit[1] == 'b');
		if (!binary && !decimal)
			return -EINVAL;
		for (int i = 0; i < pow; i++)
			mul *= binary ? 1024ull : 1000ull;
	}
	if (v > (unsigned long long)INT64_MAX / mul)
		return -EINVAL;
	*bytes = (int64_t)(v * mul);
	return 0;
}

int apival_cpu_parse(const char *s, int64_t *nano)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'm' && end[1] == '\0')
		v /= 1000.0;
	else if (*end)
		return -EINVAL;
	if (!(v > 0) || v > 1e6)
		return -EINVAL;
	*nano = (int64_t)(v * 1e9);
	return *nano > 0 ? 0 : -EINVAL;
}

int apival_gpu_parse(const char *s, int64_t *count)
{
	if (strcasecmp(s, "all") == 0) {
		*count = -1;
		return 0;
	}
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 1024)
		return -EINVAL;
	*count = v;
	return 0;
}

/* --- time --------------------------------------------------------------- */

int64_t apival_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void apival_time_format(int64_t us, char out[APIVAL_TIME_LEN])
{
	time_t sec = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	int64_t frac = us - (int64_t)sec * 1000000;
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(out, APIVAL_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac)
		snprintf(out + n, APIVAL_TIME_LEN - n, ".%06lldZ", (long long)frac);
	else
		snprintf(out + n, APIVAL_TIME_LEN - n, "Z");
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int apival_time_parse(const char *s, int64_t *us)
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	const char *p = s;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -EINVAL;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &se))
				return -EINVAL;
		}
	} else if (*p) {
		return -EINVAL;
	}
	int64_t frac = 0;
	if (*p == '.' || *p == ',') {
		p++;
		int n = 0;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			if (n < 6) {
				frac = frac * 10 + (*p - '0');
				n++;
			}
			p++;
		}
		for (; n < 6; n++)
			frac *= 10;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (digits(&p, 2, &oh))
			return -EINVAL;
		if (*p == ':')
			p++;
		if (*p && digits(&p, 2, &om))
			return -EINVAL;
		if (oh > 23 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -EINVAL;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	*us = secs * 1000000 + frac;
	return 0;
}

/* --- create request ----------------------------------------------------- */

static bool blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* A string map: every value a string (or null when nulls_ok). */
static int string_map(const cJSON *obj, const char *field, bool nulls_ok, struct apival_err *ae)
{
	if (!cJSON_IsObject(obj))
		return apival_fail(ae, 422, VALIDATION, "%s: must be an object", field);
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		if (cJSON_IsString(it) || (nulls_ok && cJSON_IsNull(it)))
			continue;
		return apival_fail(ae, 422, VALIDATION, "%s.%s: must be a string", field,
				   it->string);
	}
	return 0;
}

static int parse_image(struct apival_create *c, const cJSON *img, struct apival_err *ae)
{
	struct err e = {0};
	const char *uri;
	const cJSON *auth;
	if (!cJSON_IsObject(img))
		return apival_fail(ae, 422, VALIDATION, "image: must be an object");
	if (json_get_string(img, "uri", JSON_REQUIRED, &uri, &e) < 0)
		return apival_fail(ae, 422, VALIDATION, "image.%s", e.msg);
	while (isspace((unsigned char)*uri))
		uri++;
	/* The string belongs to the tree: trim the end in place. */
	for (char *end = (char *)uri + strlen(uri); end > uri && isspace((unsigned char)end[-1]);)
		*--end = '\0';
	if (blank(uri))
		return apival_fail(ae, 422, VALIDATION, "image.uri: must not be blank");
	if (strlen(uri) > 512 || !image_ref_valid(uri))
		return apival_fail(ae, 400, INVALID_PARAM,
				   "image.uri: '%.64s' is not a valid image reference "
				   "([registry/]name[:tag][@digest])",
				   uri);
	c->image = uri;
	int r = json_get_object(img, "auth", JSON_OPTIONAL, &auth, &e);
	if (r == -EINVAL)
		return apival_fail(ae, 422, VALIDATION, "image.%s", e.msg);
	if (r == 0) {
		if (json_get_string(auth, "username", JSON_REQUIRED, &c->auth_user, &e) < 0 ||
		    json_get_string(auth, "password", JSON_REQUIRED, &c->auth_pass, &e) < 0)
			return apival_fail(ae, 422, VALIDATION, "image.auth.%s", e.msg);
	}
	return 0;
}

static int parse_entrypoint(struct apival_create *c, const cJSON *ep, struct apival_err *ae)
{
	if (!cJSON_IsArray(ep))
		return apival_fail(ae, 422, VALIDATION, "entrypoint: must be an array of strings");
	int n = cJSON_GetArraySize(ep);
	if (n == 0)
		return apival_fail(ae, 422, VALIDATION, "entrypoint: must have at least 1 item");
	if (n > 4096)
		return apival_fail(ae, 422, VALIDATION, "entrypoint: too many items");
	const cJSON *it;
	int i = 0;
	cJSON_ArrayForEach(it, ep)
	{
		if (!cJSON_IsString(it))
			return apival_fail(ae, 422, VALIDATION, "entrypoint[%d]: must be a string",
					   i);
		i++;
	}
	c->entrypoint = ep;
	return 0;
}

static int parse_resources(struct apival_create *c, const cJSON *rl, struct apival_err *ae)
{
	if (string_map(rl, "resourceLimits", false, ae) < 0)
		return -EINVAL;
	const cJSON *it;
	/* Invalid quantities are ignored, as upstream does on Docker. */
	if ((it = cJSON_GetObjectItem(rl, "memory")))
		apival_memory_parse(it->valuestring, &c->memory);
	if ((it = cJSON_GetObjectItem(rl, "cpu")))
		apival_cpu_parse(it->valuestring, &c->nano_cpus);
	if ((it = cJSON_GetObjectItem(rl, "gpu")))
		apival_gpu_parse(it->valuestring, &c->gpus);
	return 0;
}

static int parse_platform(struct apival_create *c, const cJSON *pl, struct apival_err *ae)
{
	struct err e = {0};
	const char *os, *arch;
	if (!cJSON_IsObject(pl))
		return apival_fail(ae, 422, VALIDATION, "platform: must be an object");
	if (json_get_string(pl, "os", JSON_REQUIRED, &os, &e) < 0 ||
	    json_get_string(pl, "arch", JSON_REQUIRED, &arch, &e) < 0)
		return apival_fail(ae, 422, VALIDATION, "platform.%s", e.msg);
	if (strcasecmp(os, "linux") != 0 && strcasecmp(os, "windows") != 0)
		return apival_fail(ae, 400, INVALID_PARAM,
				   "platform.os '%.32s' is not linux or windows", os);
	if (strcasecmp(arch, "amd64") != 0 && strcasecmp(arch, "arm64") != 0)
		return apival_fail(ae, 400, INVALID_PARAM,
				   "platform.arch '%.32s' is not amd64 or arm64", arch);
	if (strcasecmp(os, "windows") == 0)
		return apival_fail(ae, 400, INVALID_PARAM, "platform.os windows is not supported");
	for (size_t i = 0; os[i] && i < sizeof(c->plat_os) - 1; i++)
		c->plat_os[i] = (char)tolower((unsigned char)os[i]);
	for (size_t i = 0; arch[i] && i < sizeof(c->plat_arch) - 1; i++)
		c->plat_arch[i] = (char)tolower((unsigned char)arch[i]);
	return 0;
}

static int parse_policy(struct apival_create *c, const cJSON *np, struct apival_err *ae)
{
	struct err e = {0};
	const char *s;
	const cJSON *eg;
	if (!cJSON_IsObject(np))
		return apival_fail(ae, 422, VALIDATION, "networkPolicy: must be an object");
	int r = json_get_string(np, "defaultAction", JSON_OPTIONAL, &s, &e);
	if (r == -EINVAL || (r == 0 && strcmp(s, "allow") != 0 && strcmp(s, "deny") != 0))
		return apival_fail(ae, 422, VALIDATION,
				   "networkPolicy.defaultAction: must be \"allow\" or \"deny\"");
	r = json_get_array(np, "egress", JSON_OPTIONAL, &eg, &e);
	if (r == -EINVAL)
		return apival_fail(ae, 422, VALIDATION, "networkPolicy.%s", e.msg);
	int i = 0;
	const cJSON *rule;
	if (r == 0) {
		cJSON_ArrayForEach(rule, eg)
		{
			const char *a, *t;
			if (!cJSON_IsObject(rule))
				return apival_fail(ae, 422, VALIDATION,
						   "networkPolicy.egress[%d]: must be an object",
						   i);
			if (json_get_string(rule, "action", JSON_REQUIRED, &a, &e) < 0 ||
			    json_get_string(rule, "target", JSON_REQUIRED, &t, &e) < 0)
				return apival_fail(ae, 422, VALIDATION,
						   "networkPolicy.egress[%d].%s", i, e.msg);
			if (strcmp(a, "allow") != 0 && strcmp(a, "deny") != 0)
				return apival_fail(ae, 422, VALIDATION,
						   "networkPolicy.egress[%d].action: must be "
						   "\"allow\" or \"deny\"",
						   i);
			if (!*t)
				return apival_fail(
					ae, 422, VALIDATION,
					"networkPolicy.egress[%d].target: must not be empty", i);
			i++;
		}
	}
	c->network_policy = np;
	return 0;
}

/* A relative sub path without ".." segments. */
static bool sub_path_ok(const char *s)
{
	if (!*s || s[0] == '/')
		return false;
	const char *p = s;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static int parse_volume(struct apival_volume *v, const cJSON *o, int i, struct apival_err *ae)
{
	struct err e = {0};
	const cJSON *host = NULL, *pvc = NULL, *oss;
	if (!cJSON_IsObject(o))
		return apival_fail(ae, 422, VALIDATION, "volumes[%d]: must be an object", i);
	if (json_get_string(o, "name", JSON_REQUIRED, &v->name, &e) < 0 ||
	    json_get_string(o, "mountPath", JSON_REQUIRED, &v->mount_path, &e) < 0 ||
	    json_get_bool(o, "readOnly", JSON_OPTIONAL, &v->read_only, &e) == -EINVAL ||
	    json_get_string(o, "subPath", JSON_OPTIONAL, &v->sub_path, &e) == -EINVAL ||
	    json_get_object(o, "host", JSON_OPTIONAL, &host, &e) == -EINVAL ||
	    json_get_object(o, "pvc", JSON_OPTIONAL, &pvc, &e) == -EINVAL)
		return apival_fail(ae, 422, VALIDATION, "volumes[%d].%s", i, e.msg);
	if (!dns_subdomain_ok(v->name, strlen(v->name)) || strchr(v->name, '.') ||
	    strlen(v->name) > 63)
		return apival_fail(ae, 400, "VOLUME::INVALID_NAME",
				   "volumes[%d].name '%.64s' is not a DNS label", i, v->name);
	if (v->mount_path[0] != '/' || strchr(v->mount_path, ':'))
		return apival_fail(ae, 400, "VOLUME::INVALID_MOUNT_PATH",
				   "volumes[%d].mountPath must be an absolute path", i);
	if (v->sub_path && !sub_path_ok(v->sub_path))
		return apival_fail(ae, 400, "VOLUME::INVALID_SUB_PATH",
				   "volumes[%d].subPath must be relative without '..'", i);
	oss = cJSON_GetObjectItem(o, "ossfs");
	int backends = (host ? 1 : 0) + (pvc ? 1 : 0) + (oss && !cJSON_IsNull(oss) ? 1 : 0);
	if (backends != 1)
		return apival_fail(ae, 400, "VOLUME::INVALID_BACKEND",
				   "volumes[%d] must have exactly one of host, pvc, ossfs", i);
	if (oss && !cJSON_IsNull(oss))
		return apival_fail(ae, 400, "VOLUME::INVALID_BACKEND",
				   "volumes[%d]: ossfs volumes are not supported by this server",
				   i);
	if (host) {
		v->kind = APIVAL_VOL_HOST;
		if (json_get_string(host, "path", JSON_REQUIRED, &v->host_path, &e) < 0)
			return apival_fail(ae, 422, VALIDATION, "volumes[%d].host.%s", i, e.msg);
		const char *p = v->host_path;
		size_t n = strlen(p);
		if (p[0] != '/' || strstr(p, "//") || (n > 1 && p[n - 1] == '/') ||
		    strchr(p, ':') || strstr(p, "/../") ||
		    (n >= 3 && strcmp(p + n - 3, "/..") == 0))
			return apival_fail(
				ae, 400, "VOLUME::INVALID_HOST_PATH",
				"volumes[%d].host.path '%.128s' is not a normalised absolute path",
				i, p);
		return 0;
	}
	v->kind = APIVAL_VOL_PVC;
	v->create_if_missing = true;
	if (json_get_string(pvc, "claimName", JSON_REQUIRED, &v->claim, &e) < 0 ||
	    json_get_bool(pvc, "createIfNotExists", JSON_OPTIONAL, &v->create_if_missing, &e) ==
		    -EINVAL ||
	    json_get_bool(pvc, "deleteOnSandboxTermination", JSON_OPTIONAL,
			  &v->delete_on_termination, &e) == -EINVAL)
		return apival_fail(ae, 422, VALIDATION, "volumes[%d].pvc.%s", i, e.msg);
	if (!dns_subdomain_ok(v->claim, strlen(v->claim)))
		return apival_fail(ae, 400, "VOLUME::INVALID_PVC_NAME",
				   "volumes[%d].pvc.claimName '%.64s' is not a DNS name", i,
				   v->claim);
	return 0;
}

static int parse_volumes(struct apival_create *c, const cJSON *vols, struct apival_err *ae)
{
	if (!cJSON_IsArray(vols))
		return apival_fail(ae, 422, VALIDATION, "volumes: must be an array");
	const cJSON *it;
	int i = 0;
	cJSON_ArrayForEach(it, vols)
	{
		if (c->num_volumes == APIVAL_MAX_VOLUMES)
			return apival_fail(ae, 400, INVALID_PARAM, "volumes: at most %d",
					   APIVAL_MAX_VOLUMES);
		struct apival_volume *v = &c->volumes[c->num_volumes];
		if (parse_volume(v, it, i, ae) < 0)
			return -EINVAL;
		for (size_t j = 0; j < c->num_volumes; j++)
			if (strcmp(c->volumes[j].name, v->name) == 0)
				return apival_fail(ae, 400, "VOLUME::DUPLICATE_NAME",
						   "volumes[%d].name '%s' is used twice", i,
						   v->name);
		c->num_volumes++;
		i++;
	}
	return 0;
}

static int parse_extensions(struct apival_create *c, const cJSON *ext, struct apival_err *ae)
{
	if (string_map(ext, "extensions", false, ae) < 0)
		return -EINVAL;
	const cJSON *it = cJSON_GetObjectItem(ext, "poolRef");
	if (it && !blank(it->valuestring))
		return apival_fail(
			ae, 400, "SANDBOX::UNSUPPORTED_POOL_REF",
			"extensions.poolRef: pool mode is not implemented by this server");
	it = cJSON_GetObjectItem(ext, "access.renew.extend.seconds");
	if (it) {
		const char *s = it->valuestring;
		char *end;
		long v = strtol(s, &end, 10);
		if (!*s || *end || !isdigit((unsigned char)*s) || v < 300 || v > 86400)
			return apival_fail(
				ae, 400, INVALID_PARAM,
				"extensions.access.renew.extend.seconds must be 300..86400");
		c->renew_extend = v;
	}
	return 0;
}

int apival_create_parse(const char *body, size_t len, int64_t max_timeout, struct apival_create *c,
			struct apival_err *ae)
{
	struct err e = {0};
	const cJSON *it;
	memset(c, 0, sizeof(*c));
	c->root = json_parse(body, len, &e);
	if (!c->root)
		return apival_fail(ae, 400, "INVALID_REQUEST_BODY", "request body: %s", e.msg);
	cJSON *root = c->root;
	if (!cJSON_IsObject(root))
		goto schema_obj;
	const cJSON *img = cJSON_GetObjectItem(root, "image");
	const cJSON *snap = cJSON_GetObjectItem(root, "snapshotId");
	bool has_img = img && !cJSON_IsNull(img);
	bool has_snap = snap && !cJSON_IsNull(snap);
	if (has_img && parse_image(c, img, ae) < 0)
		goto fail;
	if (has_snap && !cJSON_IsString(snap)) {
		apival_fail(ae, 422, VALIDATION, "snapshotId: must be a string");
		goto fail;
	}
	if (has_img == has_snap) {
		apival_fail(ae, 422, VALIDATION, "exactly one of image and snapshotId is required");
		goto fail;
	}
	if (has_snap)
		c->snapshot_id = snap->valuestring; /* resolved by the server (snapshot.h) */
	it = cJSON_GetObjectItem(root, "entrypoint");
	if ((!it || cJSON_IsNull(it)) && has_snap) {
		/* A restore keeps running what the snapshot holds. */
		static const char *const idle[] = {"tail", "-f", "/dev/null"};
		cJSON *dflt = cJSON_CreateStringArray(idle, 3);
		if (!dflt || (it ? !cJSON_ReplaceItemInObject(root, "entrypoint", dflt)
				 : !cJSON_AddItemToObject(root, "entrypoint", dflt))) {
			cJSON_Delete(dflt);
			apival_fail(ae, 500, "GENERAL::UNKNOWN_ERROR", "out of memory");
			goto fail;
		}
		it = dflt;
	}
	if (!it || cJSON_IsNull(it)) {
		apival_fail(ae, 422, VALIDATION, "entrypoint: field required with image");
		goto fail;
	}
	if (parse_entrypoint(c, it, ae) < 0)
		goto fail;
	int64_t t;
	int r = json_get_int(root, "timeout", JSON_OPTIONAL, INT64_MIN, INT64_MAX, &t, &e);
	if (r == -EINVAL) {
		apival_fail(ae, 422, VALIDATION, "timeout: must be an integer (seconds) or null");
		goto fail;
	}
	if (r == 0) {
		if (t < 60) {
			apival_fail(ae, 422, VALIDATION, "timeout: must be >= 60 seconds, got %lld",
				    (long long)t);
			goto fail;
		}
		if ((max_timeout > 0 && t > max_timeout) || t > 100LL * 365 * 86400) {
			apival_fail(
				ae, 400, INVALID_PARAM,
				"timeout: %lld seconds is over the maximum of %lld", (long long)t,
				(long long)(max_timeout > 0 ? max_timeout : 100LL * 365 * 86400));
			goto fail;
		}
		c->timeout = t;
	}
	it = cJSON_GetObjectItem(root, "resourceLimits");
	if (!it || cJSON_IsNull(it)) {
		apival_fail(ae, 422, VALIDATION, "resourceLimits: field required");
		goto fail;
	}
	if (parse_resources(c, it, ae) < 0)
		goto fail;
	if ((it = cJSON_GetObjectItem(root, "env")) && !cJSON_IsNull(it)) {
		if (string_map(it, "env", true, ae) < 0)
			goto fail;
		const cJSON *kv;
		cJSON_ArrayForEach(kv, it)
		{
			if (!kv->string[0] || strchr(kv->string, '=')) {
				apival_fail(ae, 400, INVALID_PARAM,
					    "env: invalid variable name '%.64s'", kv->string);
				goto fail;
			}
		}
		c->env = it;
	}
	if ((it = cJSON_GetObjectItem(root, "metadata")) && !cJSON_IsNull(it)) {
		if (apival_metadata_check(it, false, ae) < 0)
			goto fail;
		c->metadata = it;
	}
	if ((it = cJSON_GetObjectItem(root, "platform")) && !cJSON_IsNull(it) &&
	    parse_platform(c, it, ae) < 0)
		goto fail;
	if ((it = cJSON_GetObjectItem(root, "networkPolicy")) && !cJSON_IsNull(it) &&
	    parse_policy(c, it, ae) < 0)
		goto fail;
	if ((it = cJSON_GetObjectItem(root, "credentialProxy")) && !cJSON_IsNull(it)) {
		bool en = false;
		if (!cJSON_IsObject(it) ||
		    json_get_bool(it, "enabled", JSON_OPTIONAL, &en, &e) == -EINVAL) {
			apival_fail(ae, 422, VALIDATION,
				    "credentialProxy.enabled: must be a boolean");
			goto fail;
		}
		if (en && !c->network_policy) {
			apival_fail(ae, 422, VALIDATION,
				    "credentialProxy: enabled requires networkPolicy");
			goto fail;
		}
		if (en) {
			apival_fail(ae, 400, "SANDBOX::API_NOT_SUPPORTED",
				    "credentialProxy is not supported by this server");
			goto fail;
		}
	}
	if ((it = cJSON_GetObjectItem(root, "secureAccess")) && !cJSON_IsNull(it)) {
		if (!cJSON_IsBool(it)) {
			apival_fail(ae, 422, VALIDATION, "secureAccess: must be a boolean");
			goto fail;
		}
		c->secure_access = cJSON_IsTrue(it); /* needs the gateway: sandbox_create */
	}
	if ((it = cJSON_GetObjectItem(root, "volumes")) && !cJSON_IsNull(it) &&
	    parse_volumes(c, it, ae) < 0)
		goto fail;
	if ((it = cJSON_GetObjectItem(root, "extensions")) && !cJSON_IsNull(it) &&
	    parse_extensions(c, it, ae) < 0)
		goto fail;
	return 0;
schema_obj:
	apival_fail(ae, 422, VALIDATION, "request body: must be a JSON object");
fail:
	apival_create_free(c);
	return -EINVAL;
}

void apival_create_free(struct apival_create *c)
{
	cJSON_Delete(c->root);
	c->root = NULL;
	free(c->restore_image);
	c->restore_image = NULL;
}
