// SPDX-License-Identifier: Apache-2.0
/* sandbox-api's pure parts: request validation, list queries, quantities, times, tar, auth. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apival.h"
#include "gateway_route.h"
#include "image_ref.h"
#include "ingress.h"
#include "routes.h"
#include "tar.h"
#include "unit.h"

static int create_status(const char *body, struct apival_err *ae)
{
	struct apival_create c;
	memset(ae, 0, sizeof(*ae));
	int r = apival_create_parse(body, strlen(body), 86400, &c, ae);
	if (r == 0) {
		apival_create_free(&c);
		return 0;
	}
	return ae->status;
}

#define BASE "\"image\":{\"uri\":\"busybox\"},\"entrypoint\":[\"sh\"],\"resourceLimits\":{}"

TEST(api_create_valid)
{
	const char *body =
		"{\"image\":{\"uri\":\"  img:1 "
		"\",\"auth\":{\"username\":\"u\",\"password\":\"p\"}},"
		"\"entrypoint\":[\"python\",\"-c\",\"1\"],\"timeout\":3600,"
		"\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"512Mi\",\"gpu\":\"all\"},"
		"\"env\":{\"A\":\"1\",\"B\":null,\"C\":\"\"},\"metadata\":{\"team\":\"infra\",\"x."
		"io/k\":\"v\"},"
		"\"platform\":{\"os\":\"Linux\",\"arch\":\"AMD64\"},\"secureAccess\":false,"
		"\"networkPolicy\":{\"egress\":[{\"action\":\"allow\",\"target\":\"*.example.org\"}"
		"]},"
		"\"volumes\":[{\"name\":\"data\",\"mountPath\":\"/"
		"data\",\"pvc\":{\"claimName\":\"vol-1\"}}],"
		"\"extensions\":{\"access.renew.extend.seconds\":\"600\"},\"unknown\":1}";
	struct apival_create c;
	struct apival_err ae = {0};
	CHECK_INT(apival_create_parse(body, strlen(body), 0, &c, &ae), 0);
	CHECK_STR(c.image, "img:1");
	CHECK_STR(c.auth_user, "u");
	CHECK_INT(c.timeout, 3600);
	CHECK_INT(c.nano_cpus, 500000000);
	CHECK_INT(c.memory, 512LL * 1024 * 1024);
	CHECK_INT(c.gpus, -1);
	CHECK_STR(c.plat_os, "linux");
	CHECK_STR(c.plat_arch, "amd64");
	CHECK(c.network_policy != NULL);
	CHECK_INT(c.num_volumes, 1);
	CHECK_STR(c.volumes[0].claim, "vol-1");
	CHECK(c.volumes[0].create_if_missing);
	CHECK_INT(c.renew_extend, 600);
	apival_create_free(&c);
}

TEST(api_create_errors_name_the_field)
{
	struct apival_err ae;
	CHECK_INT(create_status("{bad", &ae), 400);
	CHECK_INT(create_status("[]", &ae), 422);
	CHECK_INT(create_status("{" BASE ",\"timeout\":59}", &ae), 422);
	CHECK(strstr(ae.msg, "timeout") != NULL);
	CHECK_INT(create_status("{" BASE ",\"timeout\":86401}", &ae), 400);
	CHECK_STR(ae.code, "SANDBOX::INVALID_PARAMETER");
	CHECK_INT(create_status("{" BASE ",\"timeout\":\"60\"}", &ae), 422);
	CHECK_INT(create_status("{\"image\":{\"uri\":\"x\"},\"resourceLimits\":{}}", &ae), 422);
	CHECK(strstr(ae.msg, "entrypoint") != NULL);
	CHECK_INT(
		create_status("{\"image\":{\"uri\":\"x\"},\"entrypoint\":[],\"resourceLimits\":{}}",
			      &ae),
		422);
	CHECK_INT(create_status(
			  "{\"image\":{\"uri\":\"x\"},\"entrypoint\":[1],\"resourceLimits\":{}}",
			  &ae),
		  422);
	CHECK(strstr(ae.msg, "entrypoint[0]") != NULL);
	CHECK_INT(create_status("{\"image\":{\"uri\":\"   "
				"\"},\"entrypoint\":[\"a\"],\"resourceLimits\":{}}",
				&ae),
		  422);
	CHECK_INT(create_status("{\"image\":{\"uri\":\"x\"},\"entrypoint\":[\"a\"]}", &ae), 422);
	CHECK(strstr(ae.msg, "resourceLimits") != NULL);
	CHECK_INT(create_status("{\"image\":{\"uri\":\"x\"},\"entrypoint\":[\"a\"],"
				"\"resourceLimits\":{\"cpu\":1}}",
				&ae),
		  422);
	CHECK(strstr(ae.msg, "resourceLimits.cpu") != NULL);
	CHECK_INT(create_status("{" BASE ",\"snapshotId\":\"s\"}", &ae), 422);
	/* A restore needs no entrypoint: it keeps running what the snapshot holds. */
	struct apival_create rs;
	const char *restore = "{\"snapshotId\":\"s\",\"resourceLimits\":{}}";
	CHECK_INT(apival_create_parse(restore, strlen(restore), 0, &rs, &ae), 0);
	CHECK_STR(rs.snapshot_id, "s");
	char *ep = cJSON_PrintUnformatted(rs.entrypoint);
	CHECK_STR(ep, "[\"tail\",\"-f\",\"/dev/null\"]");
	free(ep);
	apival_create_free(&rs);
	CHECK_INT(create_status("{\"snapshotId\":1,\"resourceLimits\":{}}", &ae), 422);
	CHECK_INT(create_status("{" BASE ",\"metadata\":{\"opensandbox.io/id\":\"x\"}}", &ae), 400);
	CHECK_STR(ae.code, "SANDBOX::INVALID_METADATA_LABEL");
	CHECK_INT(create_status("{" BASE ",\"metadata\":{\"k\":\"has space\"}}", &ae), 400);
	CHECK_INT(create_status("{" BASE ",\"platform\":{\"os\":\"linux\"}}", &ae), 422);
	CHECK(strstr(ae.msg, "platform.") != NULL);
	CHECK_INT(
		create_status("{" BASE ",\"platform\":{\"os\":\"plan9\",\"arch\":\"amd64\"}}", &ae),
		400);
	CHECK_INT(create_status("{" BASE ",\"networkPolicy\":{\"defaultAction\":\"x\"}}", &ae),
		  422);
	CHECK_INT(create_status("{" BASE
				",\"networkPolicy\":{\"egress\":[{\"action\":\"allow\"}]}}",
				&ae),
		  422);
	CHECK(strstr(ae.msg, "egress[0]") != NULL);
	CHECK_INT(create_status("{" BASE ",\"networkPolicy\":{\"egress\":[{\"action\":\"maybe\","
				"\"target\":\"a\"}]}}",
				&ae),
		  422);
	CHECK_INT(create_status("{" BASE ",\"credentialProxy\":{\"enabled\":true}}", &ae), 422);
	/* secureAccess parses; whether the gateway is on is sandbox_create's to say. */
	CHECK_INT(create_status("{" BASE ",\"secureAccess\":true}", &ae), 0);
	CHECK_INT(create_status("{" BASE ",\"secureAccess\":\"yes\"}", &ae), 422);
	CHECK_INT(create_status("{" BASE ",\"extensions\":{\"poolRef\":\"p\"}}", &ae), 400);
	CHECK_STR(ae.code, "SANDBOX::UNSUPPORTED_POOL_REF");
	CHECK_INT(create_status("{" BASE
				",\"extensions\":{\"access.renew.extend.seconds\":\"10\"}}",
				&ae),
		  400);
	CHECK_INT(create_status("{" BASE ",\"env\":{\"A=B\":\"x\"}}", &ae), 400);
	CHECK_INT(create_status("{" BASE ",\"volumes\":[{\"name\":\"v\",\"mountPath\":\"/m\"}]}",
				&ae),
		  400);
	CHECK_STR(ae.code, "VOLUME::INVALID_BACKEND");
	CHECK_INT(create_status("{" BASE ",\"volumes\":[{\"name\":\"v\",\"mountPath\":\"/"
				"m\",\"host\":{\"path\":\"/a/../b\"}}]}",
				&ae),
		  400);
	CHECK_STR(ae.code, "VOLUME::INVALID_HOST_PATH");
	CHECK_INT(create_status("{" BASE ",\"volumes\":[{\"name\":\"v\",\"mountPath\":\"/"
				"m\",\"subPath\":\"../x\",\"host\":{\"path\":\"/a\"}}]}",
				&ae),
		  400);
	CHECK_STR(ae.code, "VOLUME::INVALID_SUB_PATH");
	CHECK_INT(
		create_status("{" BASE ",\"volumes\":[{\"name\":\"v\",\"mountPath\":\"/"
			      "m\",\"host\":{\"path\":\"/a\"}},"
			      "{\"name\":\"v\",\"mountPath\":\"/n\",\"host\":{\"path\":\"/b\"}}]}",
			      &ae),
		400);
	CHECK_STR(ae.code, "VOLUME::DUPLICATE_NAME");
}

TEST(api_labels)
{
	CHECK(apival_label_key_ok("team"));
	CHECK(apival_label_key_ok("example.com/team-a_b.c"));
	CHECK(!apival_label_key_ok("-team"));
	CHECK(!apival_label_key_ok("Example.com/team"));
	CHECK(!apival_label_key_ok("a/"));
	CHECK(!apival_label_key_ok(""));
	char long_name[70];
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	CHECK(!apival_label_key_ok(long_name));
	CHECK(apival_label_value_ok(""));
	CHECK(apival_label_value_ok("v1.2_x-y"));
	CHECK(!apival_label_value_ok("a b"));
}

TEST(api_list_query)
{
	struct apival_list q;
	struct apival_err ae;
	CHECK_INT(apival_list_parse("state=Running&state=Paused&metadata=team%3Dinfra%26project%"
				    "3Dalpha&page=2&pageSize=5",
				    &q, &ae),
		  0);
	CHECK_INT(q.num_states, 2);
	CHECK_STR(q.states[1], "Paused");
	CHECK_INT(q.page, 2);
	CHECK_INT(q.page_size, 5);
	CHECK_STR(cJSON_GetObjectItem(q.metadata, "project")->valuestring, "alpha");
	apival_list_free(&q);
	/* Decoded twice: %2520 -> %20 -> space; '+' -> space; a blank value kept. */
	CHECK_INT(apival_list_parse(
			  "metadata=project%3DApollo%26note%3DDemo%2520Test%26e%3D%26p%3Da%2Bb", &q,
			  &ae),
		  0);
	CHECK_STR(cJSON_GetObjectItem(q.metadata, "note")->valuestring, "Demo Test");
	CHECK_STR(cJSON_GetObjectItem(q.metadata, "e")->valuestring, "");
	CHECK_STR(cJSON_GetObjectItem(q.metadata, "p")->valuestring, "a b");
	apival_list_free(&q);
	CHECK_INT(apival_list_parse("metadata=team%3Dinfra%26broken", &q, &ae), -EINVAL);
	CHECK_INT(ae.status, 400);
	CHECK_STR(ae.code, "INVALID_METADATA_FORMAT");
	CHECK(strstr(ae.msg, "bad query field: 'broken'") != NULL);
	CHECK_INT(apival_list_parse("page=0", &q, &ae), -EINVAL);
	CHECK_INT(ae.status, 422);
	CHECK_INT(apival_list_parse("pageSize=201", &q, &ae), -EINVAL);
	CHECK_INT(apival_list_parse("pageSize=x", &q, &ae), -EINVAL);
	CHECK_INT(apival_list_parse("", &q, &ae), 0);
	CHECK_INT(q.page, 1);
	CHECK_INT(q.page_size, 20);
	apival_list_free(&q);
}

TEST(api_quantities)
{
	int64_t v = 0;
	CHECK_INT(apival_memory_parse("512Mi", &v), 0);
	CHECK_INT(v, 512LL << 20);
	CHECK_INT(apival_memory_parse(" 1gb ", &v), 0);
	CHECK_INT(v, 1000000000LL);
	CHECK_INT(apival_memory_parse("2K", &v), 0);
	CHECK_INT(v, 2000);
	CHECK_INT(apival_memory_parse("1024", &v), 0);
	CHECK_INT(v, 1024);
	CHECK_INT(apival_memory_parse("1Ti", &v), 0);
	CHECK_INT(v, 1LL << 40);
	CHECK(apival_memory_parse("1.5Gi", &v) < 0);
	CHECK(apival_memory_parse("Gi", &v) < 0);
	CHECK(apival_memory_parse("1Xi", &v) < 0);
	CHECK(apival_memory_parse("99999999999999999999", &v) < 0);
	CHECK_INT(apival_cpu_parse("500m", &v), 0);
	CHECK_INT(v, 500000000);
	CHECK_INT(apival_cpu_parse("2", &v), 0);
	CHECK_INT(v, 2000000000LL);
	CHECK(apival_cpu_parse("0", &v) < 0);
	CHECK(apival_cpu_parse("-1", &v) < 0);
	CHECK(apival_cpu_parse("x", &v) < 0);
	CHECK_INT(apival_gpu_parse("ALL", &v), 0);
	CHECK_INT(v, -1);
	CHECK_INT(apival_gpu_parse("2", &v), 0);
	CHECK_INT(v, 2);
	CHECK(apival_gpu_parse("0", &v) < 0);
}

TEST(api_times)
{
	char out[APIVAL_TIME_LEN];
	int64_t us;
	apival_time_format(1781517600123456LL, out);
	CHECK_STR(out, "2026-06-15T10:00:00.123456Z");
	apival_time_format(1781517600000000LL, out);
	CHECK_STR(out, "2026-06-15T10:00:00Z");
	CHECK_INT(apival_time_parse("2026-06-15T10:00:00.123456Z", &us), 0);
	CHECK_INT(us, 1781517600123456LL);
	CHECK_INT(apival_time_parse("2026-06-15T11:00:00.123456+01:00", &us), 0);
	CHECK_INT(us, 1781517600123456LL);
	CHECK_INT(apival_time_parse("2026-06-15T10:00:00", &us), 0); /* naive = UTC */
	CHECK_INT(us, 1781517600000000LL);
	CHECK_INT(apival_time_parse("2026-06-15 10:00:00.5Z", &us), 0);
	CHECK_INT(us, 1781517600500000LL);
	CHECK_INT(apival_time_parse("2026-06-15T10:00:00.1234567891Z", &us), 0);
	CHECK_INT(us, 1781517600123456LL);
	CHECK(apival_time_parse("2026-13-01T00:00:00Z", &us) < 0);
	CHECK(apival_time_parse("2026-06-15T10:00:00Zjunk", &us) < 0);
	CHECK(apival_time_parse("yesterday", &us) < 0);
	CHECK(apival_time_parse("", &us) < 0);
}

TEST(api_tar)
{
	struct buf b;
	buf_init(&b, 0);
	CHECK_INT(tar_add_dir(&b, "opt", 0755), 0);
	CHECK_INT(tar_add_file(&b, "opt/x", 0755, "hello", 5), 0);
	CHECK_INT(tar_end(&b), 0);
	CHECK_INT(b.len, 512 * 5);
	const unsigned char *h = (const unsigned char *)buf_head(&b);
	CHECK(memcmp(h, "opt/", 5) == 0);
	CHECK_INT(h[156], '5');
	CHECK(memcmp(h + 257, "ustar", 6) == 0);
	/* The checksum field holds the sum of the header with the field as spaces. */
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	CHECK_INT(strtoul((const char *)h + 148, NULL, 8), sum);
	CHECK(memcmp(h + 512 + 124, "00000000005", 11) == 0);
	CHECK(memcmp(h + 1024, "hello", 5) == 0);
	char name[120];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHECK(tar_add_file(&b, name, 0644, "", 0) < 0);
	buf_free(&b);
}

TEST(api_auth_and_proxy_paths)
{
	CHECK(ingress_path_is_proxy("/sandboxes/id/proxy/8080"));
	CHECK(ingress_path_is_proxy("/sandboxes/id/proxy/8080/"));
	CHECK(ingress_path_is_proxy("/v1/sandboxes/id/proxy/443/path"));
	CHECK(!ingress_path_is_proxy("/proxy/sandboxes/x"));
	CHECK(!ingress_path_is_proxy("/foo/sandboxes/id/proxy/8080"));
	CHECK(!ingress_path_is_proxy("/sandboxes/id/proxy/not-a-port"));
	CHECK(!ingress_path_is_proxy("/sandboxes/id/proxy/8080x"));
	CHECK(!ingress_path_is_proxy("/sandboxes/id/proxy/8080/../../x"));
}

TEST(api_image_references)
{
	static const char *const good[] = {
		"busybox",
		"sandbox/base:latest",
		"library/python:3.12-slim",
		"registry.example.com/team/app:v1.2",
		"localhost:5000/a/b",
		"localhost/x",
		"[::1]:5000/img:tag",
		"a__b",
		"a--b_c.d",
		"ubuntu@sha256:"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"host.io:443/p/q:t@sha256:0123456789abcdef0123456789abcdef",
		"localhost:5000"};
	static const char *const bad[] = {"",
					  "../../_ping",
					  "a/../b",
					  "UPPER/case",
					  "a//b",
					  "/abs",
					  "trailing/",
					  "a:",
					  "a:-tag",
					  "a@sha256:short",
					  "a@:0123456789abcdef0123456789abcdef",
					  "a b",
					  "a\r\nb",
					  "a%2e%2e",
					  "a?x=1",
					  "a#f",
					  "a..b",
					  "a.-b",
					  "-a",
					  "a___b",
					  "host-.io/x",
					  "[zz]/x",
					  "a:tag:more"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!image_ref_valid(good[i]))
			unit_fail(__FILE__, __LINE__, "good reference %s refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (image_ref_valid(bad[i]))
			unit_fail(__FILE__, __LINE__, "bad reference %s accepted", bad[i]);
	/* A name of 256 bytes is too long. */
	char longname[300];
	memset(longname, 'a', 256);
	longname[256] = '\0';
	CHECK(!image_ref_valid(longname));
	longname[255] = '\0';
	CHECK(image_ref_valid(longname));
}

TEST(api_gateway_route_forms)
{
	struct gw_route p, s;
	const char *id = "3f2a1b2c-1111-2222-3333-abcdef123456";
	char v[200];
	snprintf(v, sizeof(v), "%s-8080", id);
	CHECK_INT(gw_route_label(v, &p, &s), GW_PLAIN);
	CHECK_STR(p.id, id);
	CHECK_INT(p.port, 8080);
	/* The Host form: the first DNS label, scheme and port ignored. */
	snprintf(v, sizeof(v), "https://%s-44772.gw.example:8081", id);
	CHECK_INT(gw_route_label(v, &p, &s), GW_PLAIN);
	CHECK_INT(p.port, 44772);
	snprintf(v, sizeof(v), "%s-8080-lx2k3m-1a2b3c4d9", id);
	CHECK_INT(gw_route_label(v, &p, &s), GW_SIGNED);
	CHECK_STR(s.id, id);
	CHECK_INT(s.port, 8080);
	CHECK_STR(s.exp36, "lx2k3m");
	CHECK_STR(s.sig, "1a2b3c4d9");
	CHECK(s.is_signed && s.expires > 0);
	static const char *const bad[] = {"",	     "nodash", "x-0",
					  "x-65536", "x-80a",  "-80",
					  "a b-80",  "x-80-",  "x-80-0abc-1a2b3c4d9"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gw_route_label(bad[i], &p, &s) & GW_SIGNED ||
		    (gw_route_label(bad[i], &p, &s) & GW_PLAIN && i != 8))
			unit_fail(__FILE__, __LINE__, "label %s read as a route", bad[i]);

	snprintf(v, sizeof(v), "/%s/8080/a/b?x", id);
	CHECK_INT(gw_route_path(v, &p, &s), GW_PLAIN);
	CHECK_STR(p.rest, "/a/b?x");
	snprintf(v, sizeof(v), "/%s/8080", id);
	CHECK_INT(gw_route_path(v, &p, &s), GW_PLAIN);
	CHECK_STR(p.rest, "");
	snprintf(v, sizeof(v), "/%s/8080/lx2k3m/1a2b3c4d9/ws", id);
	CHECK_INT(gw_route_path(v, &p, &s), GW_PLAIN | GW_SIGNED);
	CHECK_STR(s.rest, "/ws");
	CHECK_STR(p.rest,
		  "/lx2k3m/1a2b3c4d9/ws"); /* the plain reading, for sandboxes without a token */
	CHECK_INT(gw_route_path("/index.html", &p, &s), 0);
	CHECK_INT(gw_route_path("/a/b/c", &p, &s), 0);
	snprintf(v, sizeof(v), "/sandboxes/%s/port/9000/x", id);
	CHECK_INT(gw_route_sandboxes_path(v, &p), GW_PLAIN);
	CHECK_INT(p.port, 9000);
	CHECK_STR(p.rest, "/x");
	CHECK_INT(gw_route_sandboxes_path("/sandboxes/x/proxy/80", &p), 0);
}

TEST(api_gateway_signature)
{
	char b[16], sig[GW_SIG_LEN + 1];
	gw_base36(0, b);
	CHECK_STR(b, "0");
	gw_base36(35, b);
	CHECK_STR(b, "z");
	gw_base36(1700000000, b);
	CHECK_STR(b, "s44we8");
	/* Reference computed independently with python3:
	 *   inner = pack(">I",6)+b"secret"+pack(">I",len(c))+c, c =
	 * b"v1\nshort\nsbx-001\n8080\ns44we8\n" sha256(inner).hexdigest()[:8] + "a" */
	gw_sign("secret", 6, 'a', "sbx-001", 8080, "s44we8", sig);
	CHECK_STR(sig, "dd6d17d0a");
	char again[GW_SIG_LEN + 1];
	gw_sign("secret", 6, 'a', "sbx-001", 8081, "s44we8", again);
	CHECK(strcmp(sig, again) != 0);
}
