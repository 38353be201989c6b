// SPDX-License-Identifier: Apache-2.0
/*
 * lib/toml: the server configuration as upstream's examples write it (docker
 * and Kubernetes, gateway, secure access keys, init container resources),
 * each feature, each refusal with its line and key, TOML's rules on
 * redefinition, every truncation point, the caps. Expected trees were checked
 * against Python's tomllib.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "toml.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define S(s) s, sizeof(s) - 1

/* Exactly n bytes, so ASan sees any read past the text. */
static char *dup_exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	if (p && n)
		memcpy(p, s, n);
	return p;
}

static unsigned count_lines(const char *s, size_t n)
{
	unsigned l = 1;
	for (size_t i = 0; i < n; i++)
		l += s[i] == '\n';
	return l;
}

/* Parses text[0, n) from an exact-size copy: the tree, or NULL with e set. */
static cJSON *parse(const char *text, size_t n, struct err *e)
{
	char *copy = dup_exact(text, n);
	cJSON *j = toml_parse(copy, n, e);
	free(copy);
	return j;
}

/* The tree an expectation writes: JSON with ' for " (so an apostrophe is \u0027). */
static cJSON *expected(const char *json, struct err *e)
{
	char *t = strdup(json);
	for (char *c = t; *c; c++)
		if (*c == '\'')
			*c = '"';
	cJSON *j = json_parse(t, strlen(t), e);
	free(t);
	return j;
}

/* Whether text parses to the tree json writes; says why not (what names the case). */
static void expect_tree(const char *what, const char *text, size_t n, const char *json)
{
	struct err e = {0};
	cJSON *want = expected(json, &e);
	cJSON *got = parse(text, n, &e);

	if (!want)
		unit_fail(__FILE__, __LINE__, "%s: bad expectation: %s", what, e.msg);
	else if (!got)
		unit_fail(__FILE__, __LINE__, "%s: %s", what, e.msg);
	else if (!cJSON_Compare(got, want, 1)) {
		char *p = cJSON_PrintUnformatted(got);
		unit_fail(__FILE__, __LINE__, "%s: got %s, expected %s", what, p, json);
		free(p);
	}
	cJSON_Delete(want);
	cJSON_Delete(got);
}

/* text with every LF made CR LF. */
static char *crlf(const char *text, size_t *n)
{
	size_t len = strlen(text), k = 0;
	char *out = malloc(2 * len + 1);
	for (size_t i = 0; out && i < len; i++) {
		if (text[i] == '\n')
			out[k++] = '\r';
		out[k++] = text[i];
	}
	*n = k;
	return out;
}

static const char docker_toml[] =
	"# Example OpenSandbox configuration (docker runtime).\n"
	"# Copy this file to ~/.sandbox.toml or set SANDBOX_CONFIG_PATH to point at it.\n"
	"\n"
	"[server]\n"
	"# Lifecycle API host/port and logging settings\n"
	"# -----------------------------------------------------------------\n"
	"host = \"127.0.0.1\"\n"
	"port = 8080\n"
	"log_level = \"INFO\"\n"
	"# api_key = \"your-secret-api-key\"  # Optional\n"
	"max_sandbox_timeout_seconds = 86400\n"
	"\n"
	"# 🧪 [EXPERIMENTAL] Renew-on-access — off by default.\n"
	"[renew_intent]\n"
	"enabled = false\n"
	"min_interval_seconds = 60\n"
	"redis.enabled = false\n"
	"# redis.dsn = \"redis://127.0.0.1:6379/0\"\n"
	"redis.queue_key = \"opensandbox:renew:intent\"\n"
	"redis.consumer_concurrency = 8\n"
	"\n"
	"[runtime]\n"
	"type = \"docker\"\n"
	"execd_image = \"opensandbox/execd:v1.0.10\"\n"
	"\n"
	"[egress]\n"
	"image = \"opensandbox/egress:v1.0.6\"\n"
	"mode = \"dns\"\n"
	"\n"
	"[storage]\n"
	"allowed_host_paths = [\"/data/opensandbox\", \"/tmp/sandbox\"]\n"
	"\n"
	"[docker]\n"
	"network_mode = \"bridge\"\n"
	"drop_capabilities = [\"AUDIT_WRITE\", \"MKNOD\", \"NET_ADMIN\", \"NET_RAW\", "
	"\"SYS_ADMIN\", \"SYS_MODULE\", \"SYS_PTRACE\", \"SYS_TIME\", \"SYS_TTY_CONFIG\"]\n"
	"no_new_privileges = true\n"
	"apparmor_profile = \"\"\n"
	"pids_limit = 4096\n"
	"seccomp_profile = \"\"\n"
	"\n"
	"[ingress]\n"
	"mode = \"direct\"\n";
static const char docker_json[] =
	"{'server':{'host':'127.0.0.1','port':8080,'log_level':'INFO',"
	"'max_sandbox_timeout_seconds':86400},'renew_intent':{'enabled':false,"
	"'min_interval_seconds':60,'redis':{'enabled':false,"
	"'queue_key':'opensandbox:renew:intent','consumer_concurrency':8}},"
	"'runtime':{'type':'docker','execd_image':'opensandbox/execd:v1.0.10'},"
	"'egress':{'image':'opensandbox/egress:v1.0.6','mode':'dns'},"
	"'storage':{'allowed_host_paths':['/data/opensandbox','/tmp/sandbox']},"
	"'docker':{'network_mode':'bridge','drop_capabilities':['AUDIT_WRITE','MKNOD',"
	"'NET_ADMIN','NET_RAW','SYS_ADMIN','SYS_MODULE','SYS_PTRACE','SYS_TIME',"
	"'SYS_TTY_CONFIG'],'no_new_privileges':true,'apparmor_profile':'','pids_limit':4096,"
	"'seccomp_profile':''},'ingress':{'mode':'direct'}}";

static const char k8s_toml[] = "[server]\n"
			       "host = \"0.0.0.0\"\n"
			       "port = 8080\n"
			       "api_key = 'literal-key\\no-escapes'\n"
			       "eip = \"sandbox.example.com\"\n"
			       "\n"
			       "[runtime]\n"
			       "type = \"kubernetes\"\n"
			       "execd_image = \"opensandbox/execd:v1.0.19\"\n"
			       "\n"
			       "[kubernetes]\n"
			       "kubeconfig_path = \"~/.kube/config\"\n"
			       "namespace = \"opensandbox\"\n"
			       "informer_enabled = true\n"
			       "informer_resync_seconds = 300\n"
			       "sandbox_create_poll_interval_seconds = 1.0\n"
			       "read_qps = 0.5\n"
			       "workload_provider = \"batchsandbox\"\n"
			       "batchsandbox_template_file = \"~/batchsandbox-template.yaml\"\n"
			       "\n"
			       "[kubernetes.execd_init_resources.limits]\n"
			       "cpu = \"500m\"\n"
			       "memory = \"256Mi\"\n"
			       "\n"
			       "[kubernetes.execd_init_resources.requests]\n"
			       "cpu = \"100m\"\n"
			       "memory = \"64Mi\"\n"
			       "\n"
			       "[ingress]\n"
			       "mode = \"gateway\"\n"
			       "\n"
			       "[ingress.gateway]\n"
			       "address = \"*.gw.example.com\"\n"
			       "route.mode = \"wildcard\"\n"
			       "\n"
			       "[ingress.secure_access]\n"
			       "active_key = \"a\"\n"
			       "keys = [\n"
			       "  {key_id = \"a\", key = \"c2VjcmV0LWE=\"},\n"
			       "  {key_id = \"b\", key = \"c2VjcmV0LWI=\"}, # retired soon\n"
			       "]\n"
			       "\n"
			       "[secure_runtime]\n"
			       "type = \"gvisor\"\n"
			       "k8s_runtime_class = \"gvisor\"\n"
			       "\n"
			       "[[agent_sandbox.extra]]\n"
			       "name = \"one\"\n"
			       "[[agent_sandbox.extra]]\n"
			       "name = \"two\"\n";
static const char k8s_json[] =
	"{'server':{'host':'0.0.0.0','port':8080,'api_key':'literal-key\\\\no-escapes',"
	"'eip':'sandbox.example.com'},'runtime':{'type':'kubernetes',"
	"'execd_image':'opensandbox/execd:v1.0.19'},"
	"'kubernetes':{'kubeconfig_path':'~/.kube/config','namespace':'opensandbox',"
	"'informer_enabled':true,'informer_resync_seconds':300,"
	"'sandbox_create_poll_interval_seconds':1,'read_qps':0.5,"
	"'workload_provider':'batchsandbox',"
	"'batchsandbox_template_file':'~/batchsandbox-template.yaml',"
	"'execd_init_resources':{'limits':{'cpu':'500m','memory':'256Mi'},"
	"'requests':{'cpu':'100m','memory':'64Mi'}}},'ingress':{'mode':'gateway',"
	"'gateway':{'address':'*.gw.example.com','route':{'mode':'wildcard'}},"
	"'secure_access':{'active_key':'a','keys':[{'key_id':'a','key':'c2VjcmV0LWE='},"
	"{'key_id':'b','key':'c2VjcmV0LWI='}]}},'secure_runtime':{'type':'gvisor',"
	"'k8s_runtime_class':'gvisor'},'agent_sandbox':{'extra':[{'name':'one'},"
	"{'name':'two'}]}}";

static const struct {
	const char *name, *toml, *json;
	bool whole_lines; /* no value spans lines: a prefix of whole lines is a document */
} docs[] = {
	{"docker", docker_toml, docker_json, true},
	{"k8s", k8s_toml, k8s_json, false},
};

/* Each document as written, with CR LF line ends, and after a UTF-8 BOM. */
TEST(toml_server_configs)
{
	for (size_t i = 0; i < N(docs); i++) {
		char what[64], *bom;
		size_t n, len = strlen(docs[i].toml);
		char *t = crlf(docs[i].toml, &n);

		snprintf(what, sizeof(what), "%s", docs[i].name);
		expect_tree(what, docs[i].toml, len, docs[i].json);
		snprintf(what, sizeof(what), "%s (CR LF)", docs[i].name);
		expect_tree(what, t, n, docs[i].json);
		free(t);
		bom = malloc(len + 3);
		memcpy(bom, "\xef\xbb\xbf", 3);
		memcpy(bom + 3, docs[i].toml, len);
		snprintf(what, sizeof(what), "%s (BOM)", docs[i].name);
		expect_tree(what, bom, len + 3, docs[i].json);
		free(bom);
	}
}

/* Reading the config the way sandbox-api will: through the json getters. */
TEST(toml_config_getters)
{
	struct err e = {0};
	cJSON *j = parse(k8s_toml, strlen(k8s_toml), &e);
	const cJSON *server, *keys, *limits;
	const char *s = NULL;
	int64_t port = 0;

	CHECK(j != NULL);
	CHECK_INT(json_get_object(j, "server", JSON_REQUIRED, &server, &e), 0);
	CHECK_INT(json_get_int(server, "port", JSON_REQUIRED, 1, 65535, &port, &e), 0);
	CHECK_INT(port, 8080);
	CHECK_INT(json_get_string(server, "api_key", JSON_REQUIRED, &s, &e), 0);
	CHECK_STR(s, "literal-key\\no-escapes");
	keys = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ingress"), "secure_access"), "keys");
	CHECK_INT(cJSON_GetArraySize(keys), 2);
	CHECK_INT(json_get_string(cJSON_GetArrayItem(keys, 1), "key", JSON_REQUIRED, &s, &e), 0);
	CHECK_STR(s, "c2VjcmV0LWI=");
	limits = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "kubernetes"), "execd_init_resources"),
		"limits");
	CHECK_INT(json_get_string(limits, "memory", JSON_REQUIRED, &s, &e), 0);
	CHECK_STR(s, "256Mi");
	cJSON_Delete(j);
}

static const struct {
	const char *toml, *json;
} features[] = {
	{"a = 1\nb = -2\nc = 1.5\nd = true\ne = false\nf = \"s\"\ng = 's'\n",
	 "{'a':1,'b':-2,'c':1.5,'d':true,'e':false,'f':'s','g':'s'}"},
	{"dec = 1_000\nhex = 0xDEAD_beef\noct = 0o755\nbin = 0b1101\nplus = +7\nzero = -0\n",
	 "{'dec':1000,'hex':3735928559,'oct':493,'bin':13,'plus':7,'zero':0}"},
	{"f1 = 6.02e23\nf2 = -1E-2\nf3 = 3.141_592\nf4 = 1e06\nf5 = 0.0\nf6 = -0.5\nf7 = 5e+2\n",
	 "{'f1':6.02e+23,'f2':-0.01,'f3':3.141592,'f4':1000000,'f5':0,'f6':-0.5,'f7':500}"},
	{"b = \"tab\\t nl\\n q\\\" bs\\\\ \\b\\f\\r \\u00e9 \\U0001F600\"\n",
	 "{'b':'tab\\t nl\\n q\\' bs\\\\ \\b\\f\\r \\u00e9 \\ud83d\\ude00'}"},
	{"l = 'C:\\Users\\x\\n'\n", "{'l':'C:\\\\Users\\\\x\\\\n'}"},
	{"m = \"\"\"\nfirst\nsecond\"\"\"\n", "{'m':'first\\nsecond'}"},
	{"m = \"\"\"\\\n   joined \\\n   words\"\"\"\n", "{'m':'joined words'}"},
	{"m = \"\"\"a \"\" b\"\"\"\"\"\n", "{'m':'a \\'\\' b\\'\\''}"},
	{"m = '''\nraw \\n ''line''\n'''\n",
	 "{'m':'raw \\\\n \\u0027\\u0027line\\u0027\\u0027\\n'}"},
	{"m = ''''x'''''\n", "{'m':'\\u0027x\\u0027\\u0027'}"},
	{"e1 = \"\"\ne2 = ''\ne3 = \"\"\"\"\"\"\ne4 = ''''''\n",
	 "{'e1':'','e2':'','e3':'','e4':''}"},
	{"\"quoted key\" = 1\n'literal key' = 2\n\"\" = 3\nbare-key_1 = 4\n1234 = 5\n",
	 "{'quoted key':1,'literal key':2,'':3,'bare-key_1':4,'1234':5}"},
	{"a . b . c = 1\na.\"d.e\" = 2\n", "{'a':{'b':{'c':1},'d.e':2}}"},
	{"[server]\nhost = \"0.0.0.0\"\nport = 8080\n",
	 "{'server':{'host':'0.0.0.0','port':8080}}"},
	{"[ a . b ]\nx = 1\n[ a . c ]\ny = 2\n", "{'a':{'b':{'x':1},'c':{'y':2}}}"},
	{"[a.b.c]\nz = 1\n[a]\nx = 2\n", "{'a':{'b':{'c':{'z':1}},'x':2}}"},
	{"[fruit]\napple.color = \"red\"\n[fruit.apple.texture]\nsmooth = true\n",
	 "{'fruit':{'apple':{'color':'red','texture':{'smooth':true}}}}"},
	{"a.b = 1\na.c = 2\n[a.d]\ne = 3\n", "{'a':{'b':1,'c':2,'d':{'e':3}}}"},
	{"[a.b.c]\nz = 1\n[a]\nb.d = 2\n", "{'a':{'b':{'c':{'z':1},'d':2}}}"},
	{"[[servers]]\nname = \"a\"\n[[servers]]\nname = \"b\"\n[servers.tls]\non = true\n",
	 "{'servers':[{'name':'a'},{'name':'b','tls':{'on':true}}]}"},
	{"[[a]]\nb = 1\n[a.c]\nd = 2\n[[a]]\nb = 2\n[a.c]\nd = 3\n",
	 "{'a':[{'b':1,'c':{'d':2}},{'b':2,'c':{'d':3}}]}"},
	{"[[a.b]]\nx = 1\n[[a.b]]\nx = 2\n", "{'a':{'b':[{'x':1},{'x':2}]}}"},
	{"[[ x ]]\n", "{'x':[{}]}"},
	{"arr = [1, \"two\", 3.0, [4], {five = 5}]\n", "{'arr':[1,'two',3,[4],{'five':5}]}"},
	{"arr = [\n  1, # one\n  2,\n\n  # empty line above\n  3,\n]\n", "{'arr':[1,2,3]}"},
	{"arr = []\nnested = [[], [[]]]\n", "{'arr':[],'nested':[[],[[]]]}"},
	{"t = {}\nu = { }\nv = {a = 1, b.c = 2, b.d = \"x\"}\n",
	 "{'t':{},'u':{},'v':{'a':1,'b':{'c':2,'d':'x'}}}"},
	{"keys = [{key_id = \"a\", key = \"c2VjcmV0\"}, {key_id = \"b\", key = 'bGl0'}]\n",
	 "{'keys':[{'key_id':'a','key':'c2VjcmV0'},{'key_id':'b','key':'bGl0'}]}"},
	{"# comment\na = 1 # trailing\n\n\n# end\n", "{'a':1}"},
	{"a = 1\n[b]\n[c]\n", "{'a':1,'b':{},'c':{}}"},
	{"[kubernetes.execd_init_resources.limits]\ncpu = \"500m\"\nmemory = "
	 "\"256Mi\"\n[kubernetes.execd_init_resources.requests]\ncpu = \"100m\"\n",
	 "{'kubernetes':{'execd_init_resources':{'limits':{'cpu':'500m','memory':'256Mi'},'"
	 "requests':{'cpu':'100m'}}}}"},
	{"x = \"é☃ 😀\"\n", "{'x':'\\u00e9\\u2603 \\ud83d\\ude00'}"},
	{"", "{}"},
	{"# only a comment", "{}"},
	{"a = 1", "{'a':1}"},

};

TEST(toml_features)
{
	for (size_t i = 0; i < N(features); i++) {
		char what[96];
		snprintf(what, sizeof(what), "feature %zu (%.60s)", i, features[i].toml);
		expect_tree(what, features[i].toml, strlen(features[i].toml), features[i].json);
	}
}

/* Refusals: redefinitions as TOML 1.0 has them, syntax, ranges, what is not
 * supported (the last ones tomllib takes). */
static const struct {
	const char *toml, *msg;
} errors[] = {
	{"[server]\nport = 8080\nport = 8081\n",
	 "line 3: key 'server.port': duplicate key (first on line 2)"},
	{"a = 1\na = 2\n", "line 2: key 'a': duplicate key (first on line 1)"},
	{"[a]\nx = 1\n[a]\ny = 2\n", "line 3: table 'a': table defined twice (first on line 1)"},
	{"[a]\n[a.b]\n[a.b]\n", "line 3: table 'a.b': table defined twice (first on line 2)"},
	{"[fruit]\napple.color = \"red\"\n[fruit.apple]\n",
	 "line 3: table 'fruit.apple': already defined on line 2 (as a table by dotted keys)"},
	{"[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", "line 4: key 'a.b.c.t': cannot add to 'c' here: it is "
					     "a table defined by a [header] (line 1)"},
	{"a = {b = 1}\n[a.c]\n", "line 2: table 'a.c': cannot add to 'a' here: it is an inline "
				 "table, which is closed (line 1)"},
	{"a = {b = 1}\na.c = 2\n", "line 2: key 'a.c': cannot add to 'a' here: it is an inline "
				   "table, which is closed (line 1)"},
	{"a = 1\na.b = 2\n", "line 2: key 'a.b': cannot add to 'a' here: it is a value (line 1)"},
	{"a.b = 1\na = 2\n", "line 2: key 'a': duplicate key (first on line 1)"},
	{"a.b = 1\n[a]\n",
	 "line 2: table 'a': already defined on line 1 (as a table by dotted keys)"},
	{"a = [1]\n[[a]]\n", "line 2: table 'a': already defined on line 1 (as a value)"},
	{"[[a]]\n[a]\n", "line 2: table 'a': already defined on line 1 (as an array of tables)"},
	{"[a]\n[[a]]\n", "line 2: table 'a': already defined on line 1 (as a table)"},
	{"a = 1\n[a.b]\n", "line 2: table 'a.b': cannot add to 'a' here: it is a value (line 1)"},
	{"[ingress.secure_access]\nkeys = [{key_id = \"a\"}, {key_id = \"b\", key_id = \"c\"}]\n",
	 "line 2: key 'ingress.secure_access.keys[1].key_id': duplicate key (first on line 2)"},
	{"x = {a = 1,}\n", "line 1: key 'x': no trailing comma in an inline table (TOML 1.0)"},
	{"x = {a = 1\n}\n", "line 1: key 'x': an inline table stays on one line (TOML 1.0)"},
	{"x = {a = 1 b = 2}\n", "line 1: key 'x': expected ',' or '}' in an inline table"},
	{"x = [1 2]\n", "line 1: key 'x': expected ',' or ']' in an array"},
	{"x = [1,\n", "line 1: key 'x': array without its closing ']'"},
	{"x = 01\n", "line 1: key 'x': leading zeros are not allowed"},
	{"x = -007\n", "line 1: key 'x': leading zeros are not allowed"},
	{"x = 1__0\n", "line 1: key 'x': invalid value '1__0'"},
	{"x = _1\n", "line 1: key 'x': invalid value '_1'"},
	{"x = 1_\n", "line 1: key 'x': invalid value '1_'"},
	{"x = 0x_1\n", "line 1: key 'x': invalid value '0x_1'"},
	{"x = +0x1\n", "line 1: key 'x': invalid value '+0x1'"},
	{"x = 0b102\n", "line 1: key 'x': invalid value '0b102'"},
	{"x = 0x\n", "line 1: key 'x': invalid value '0x'"},
	{"x = 1.\n", "line 1: key 'x': invalid value '1.'"},
	{"x = .5\n", "line 1: key 'x': invalid value '.5'"},
	{"x = 1e\n", "line 1: key 'x': invalid value '1e'"},
	{"x = 1.e5\n", "line 1: key 'x': invalid value '1.e5'"},
	{"x = tru\n", "line 1: key 'x': invalid value 'tru'"},
	{"$a = 1\n", "line 1: '$' cannot start a bare key"},
	{"x = truex\n", "line 1: key 'x': invalid value 'truex'"},
	{"x = True\n", "line 1: key 'x': invalid value 'True'"},
	{"x = @\n", "line 1: key 'x': invalid value (starting with '@')"},
	{"x = \"\\uD800\"\n", "line 1: key 'x': escape is not a Unicode scalar value"},
	{"x = \"\\U00110000\"\n", "line 1: key 'x': escape is not a Unicode scalar value"},
	{"x = \"a\\qb\"\n", "line 1: key 'x': invalid escape sequence"},
	{"x = \"\\x41\"\n", "line 1: key 'x': invalid escape sequence"},
	{"x = \"\\u12\"\n", "line 1: key 'x': \\u needs 4 hex digits"},
	{"x = \"unterminated\n", "line 1: key 'x': string without its closing quote"},
	{"x = 'also\n", "line 1: key 'x': string without its closing quote"},
	{"x = \"\"\"never closed\n", "line 1: key 'x': string without its closing quote"},
	{"x = \"\"\"a\"\"\"\"\"\"\n", "line 1: key 'x': too many quotes at the end of a string"},
	{"x =\n", "line 1: key 'x': missing value"},
	{"x\n", "line 1: key 'x': expected '=' after the key"},
	{"= 1\n", "line 1: expected a key"},
	{"a b = 1\n", "line 1: key 'a': expected '=' after the key"},
	{"a.=1\n", "line 1: expected a key"},
	{"\"\"\"k\"\"\" = 1\n", "line 1: a key cannot be a multi-line string"},
	{"a = 1 b = 2\n", "line 1: key 'a': unexpected text after the value"},
	{"[a\n", "line 1: table 'a': expected ']' after the table name"},
	{"[[a]\n", "line 1: table 'a': expected ']]' after the table name"},
	{"[a] x = 1\n", "line 1: table 'a': unexpected text after the table header"},
	{"[]\n", "line 1: expected a key"},
	{"[a..b]\n", "line 1: expected a key"},
	{"[server]\nport = 80 # ok\nhost = \"x\" junk\n",
	 "line 3: key 'server.host': unexpected text after the value"},
	/* tomllib takes these */
	{"x = 9007199254740992\n", "line 1: key 'x': integer out of range (beyond +-(2^53-1))"},
	{"x = -9007199254740992\n", "line 1: key 'x': integer out of range (beyond +-(2^53-1))"},
	{"x = 0x20000000000000\n", "line 1: key 'x': integer out of range (beyond +-(2^53-1))"},
	{"x = 1e309\n", "line 1: key 'x': float out of range"},
	{"x = inf\n", "line 1: key 'x': inf and nan are not supported (no JSON form)"},
	{"x = -nan\n", "line 1: key 'x': inf and nan are not supported (no JSON form)"},
	{"x = 1979-05-27\n", "line 1: key 'x': dates and times are not supported"},
	{"x = 07:32:00\n", "line 1: key 'x': dates and times are not supported"},
	{"x = 1979-05-27T07:32:00Z\n", "line 1: key 'x': dates and times are not supported"},
	{"x = \"\\u0000\"\n", "line 1: key 'x': NUL in a string is not supported (cJSON strings "
			      "end at a NUL)"},
};

TEST(toml_errors_name_line_and_key)
{
	for (size_t i = 0; i < N(errors); i++) {
		struct err e = {0};
		cJSON *j = parse(errors[i].toml, strlen(errors[i].toml), &e);
		if (j || e.code != EINVAL || strcmp(e.msg, errors[i].msg) != 0)
			unit_fail(__FILE__, __LINE__,
				  "error %zu (%.40s): got %s \"%s\", expected \"%s\"", i,
				  errors[i].toml, j ? "a tree" : "", e.msg, errors[i].msg);
		cJSON_Delete(j);
	}
}

/*
 * Every prefix of each document: a table, or EINVAL naming a line of the
 * prefix. Where no value spans lines, a prefix that ends a line is a whole
 * document and must parse.
 */
TEST(toml_every_truncation)
{
	size_t trees = 0, refusals = 0;

	for (size_t i = 0; i < N(docs); i++) {
		const char *doc = docs[i].toml;
		size_t len = strlen(doc);
		for (size_t n = 0; n <= len; n++) {
			struct err e = {0};
			cJSON *j = parse(doc, n, &e);
			unsigned line;
			if (j) {
				trees++;
				CHECK(cJSON_IsObject(j));
			} else if (docs[i].whole_lines && (n == 0 || doc[n - 1] == '\n')) {
				unit_fail(__FILE__, __LINE__, "%s cut at %zu (a line end): %s",
					  docs[i].name, n, e.msg);
			} else if (e.code != EINVAL || sscanf(e.msg, "line %u:", &line) != 1 ||
				   line < 1 || line > count_lines(doc, n)) {
				unit_fail(__FILE__, __LINE__, "%s cut at %zu: %s", docs[i].name, n,
					  e.msg);
			} else {
				refusals++;
			}
			cJSON_Delete(j);
		}
	}
	CHECK(trees > 0 && refusals > 0);
}

/* Numbers the table cannot show exactly (cJSON prints 15 digits). */
TEST(toml_numbers_exact)
{
	static const char text[] = "a = 9007199254740991\nb = -9007199254740991\n"
				   "c = 0x1F_FFFF_FFFF_FFFF\nd = -0\ne = -0.0\n"
				   "f = 1.7976931348623157e308\ng = 4.9e-324\nh = 0b1\n";
	struct err e = {0};
	cJSON *j = parse(text, sizeof(text) - 1, &e);

	CHECK(j != NULL);
	CHECK(cJSON_GetObjectItem(j, "a")->valuedouble == 9007199254740991.0);
	CHECK(cJSON_GetObjectItem(j, "b")->valuedouble == -9007199254740991.0);
	CHECK(cJSON_GetObjectItem(j, "c")->valuedouble == 9007199254740991.0);
	CHECK(!signbit(cJSON_GetObjectItem(j, "d")->valuedouble)); /* an integer has no -0 */
	CHECK(signbit(cJSON_GetObjectItem(j, "e")->valuedouble));
	CHECK(cJSON_GetObjectItem(j, "f")->valuedouble == 1.7976931348623157e308);
	CHECK(cJSON_GetObjectItem(j, "g")->valuedouble > 0);
	CHECK(cJSON_GetObjectItem(j, "h")->valuedouble == 1);
	cJSON_Delete(j);
}

/* What the text check refuses, with where; what it lets through. */
TEST(toml_text_check)
{
	static const struct {
		const char *t;
		size_t n;
		const char *msg;
	} bad[] = {
		{S("a = \"b\0c\"\n"), "line 1: NUL byte"},
		{S("a = 1\n# \0\n"), "line 2: NUL byte"},
		{S("a = \"\xc0\xaf\"\n"), "line 1: invalid UTF-8"},
		{S("a = \"\xed\xa0\x80\"\n"), "line 1: invalid UTF-8"},
		{S("# \xf4\x90\x80\x80\n"), "line 1: invalid UTF-8"},
		{S("a = \"\xe2\x82"), "line 1: invalid UTF-8"},
		{S("a = \"\x01\"\n"), "line 1: control character"},
		{S("# \x7f\n"), "line 1: control character"},
		{S("a = 1\rb = 2\n"), "line 1: carriage return not followed by a line feed"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		struct err e = {0};
		cJSON *j = parse(bad[i].t, bad[i].n, &e);
		if (j || strcmp(e.msg, bad[i].msg))
			unit_fail(__FILE__, __LINE__, "bad %zu: \"%s\", expected \"%s\"", i, e.msg,
				  bad[i].msg);
		cJSON_Delete(j);
	}
	expect_tree("emoji", S("k = \"\xf0\x9f\x98\x80\" # \xe2\x80\x94\n"),
		    "{'k':'\\ud83d\\ude00'}");
	expect_tree("CR LF", S("a = 1\r\ns = \"\"\"\r\nx\r\ny\"\"\"\r\n"), "{'a':1,'s':'x\\ny'}");
	/* only len counts: what follows it is never read */
	expect_tree("len", "a = 12345\n", 5, "{'a':1}");
	expect_tree("len", "a = \"x\"\0zz", 7, "{'a':'x'}");
	CHECK(toml_parse("a = [", 5, NULL) == NULL);
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail)
{
	size_t h = strlen(head), u = strlen(unit), t = strlen(tail);
	char *s = malloc(h + u * times + t + 1), *p = s;
	memcpy(p, head, h);
	p += h;
	for (size_t i = 0; i < times; i++, p += u)
		memcpy(p, unit, u);
	memcpy(p, tail, t + 1);
	return s;
}

static bool parses(const char *text)
{
	struct err e = {0};
	cJSON *j = parse(text, strlen(text), &e);
	cJSON_Delete(j);
	return j != NULL;
}

TEST(toml_caps)
{
	struct err e = {0};
	cJSON *j;
	char *s, *t;

	/* input size */
	s = malloc(TOML_MAX_INPUT + 1);
	memset(s, '#', TOML_MAX_INPUT + 1);
	j = toml_parse(s, TOML_MAX_INPUT, &e);
	CHECK(cJSON_IsObject(j) && !j->child);
	cJSON_Delete(j);
	CHECK(toml_parse(s, TOML_MAX_INPUT + 1, &e) == NULL);
	CHECK_INT(e.code, EFBIG);
	free(s);

	/* depth: arrays, inline tables, tables by header and by dotted keys */
	for (int d = TOML_MAX_DEPTH; d <= TOML_MAX_DEPTH + 1; d++) {
		bool ok = d == TOML_MAX_DEPTH;
		s = repeat("a = ", "[", (size_t)d, "");
		t = repeat(s, "]", (size_t)d, "");
		CHECK(parses(t) == ok);
		free(s);
		free(t);
		s = repeat("a = ", "{b = ", (size_t)d, "1");
		t = repeat(s, "}", (size_t)d, "");
		CHECK(parses(t) == ok);
		free(s);
		free(t);
		/* a table 16 deep by its header, 15 more by dotted keys, then arrays */
		s = repeat("[", "a.", TOML_MAX_KEY_PARTS - 1, "a]\n");
		t = repeat(s, "b.", TOML_MAX_KEY_PARTS - 1, ok ? "c = []\n" : "c = [[]]\n");
		CHECK(parses(t) == ok);
		free(s);
		free(t);
		/* an array of tables takes two levels: the array and its table */
		struct buf b;
		buf_init(&b, 0);
		for (int i = 1; i <= TOML_MAX_DEPTH / 2; i++)
			buf_printf(&b, "[[%.*sa]]\n", 2 * (i - 1),
				   "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.");
		buf_puts(&b, ok ? "b = 1\n" : "b = []\n");
		j = parse(buf_head(&b), b.len, &e);
		CHECK((j != NULL) == ok);
		if (!j)
			CHECK_STR(e.msg,
				  "line 17: key 'a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.b': tables and "
				  "arrays nested deeper than 32");
		cJSON_Delete(j);
		buf_free(&b);
	}
	CHECK(parse(S("[a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a]"), &e) == NULL);
	CHECK_STR(e.msg, "line 1: a key has more than 16 parts");

	/* values: the root table, an array and its entries */
	s = repeat("a = [", "0,", TOML_MAX_NODES - 2, "]");
	j = parse(s, strlen(s), &e);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "a")), TOML_MAX_NODES - 2);
	cJSON_Delete(j);
	free(s);
	s = repeat("a = [", "0,", TOML_MAX_NODES - 1, "]");
	CHECK(parse(s, strlen(s), &e) == NULL);
	CHECK(strstr(e.msg, "more than 100000 values") != NULL);
	free(s);
}

/* 40,000 keys in one table and 15,000 [[tables]]: lookups stay linear. */
TEST(toml_many_keys)
{
	struct buf b;
	struct err e = {0};

	buf_init(&b, 0);
	for (int i = 0; i < 40000; i++)
		buf_printf(&b, "key%d = %d\n", i, i);
	for (int i = 0; i < 15000; i++)
		buf_printf(&b, "[[t]]\nn = %d\n", i);
	cJSON *j = parse(buf_head(&b), b.len, &e);
	CHECK_INT(cJSON_GetArraySize(j), 40001);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "t")), 15000);
	cJSON_Delete(j);
	buf_puts(&b, "[key7]\n");
	CHECK(parse(buf_head(&b), b.len, &e) == NULL);
	CHECK_STR(e.msg, "line 70001: table 'key7': already defined on line 8 (as a value)");
	buf_free(&b);
}
