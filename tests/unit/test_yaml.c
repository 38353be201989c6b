// SPDX-License-Identifier: Apache-2.0
/*
 * lib/yaml: kubeconfig files as kubectl, kind, minikube and the EKS, GKE and
 * AKS tools write them and a BatchSandbox template, each feature, each refusal
 * with its line and column, every truncation point, the caps. Expected trees
 * were checked against PyYAML where YAML 1.1 and 1.2 agree.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"
#include "yaml.h"

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
	cJSON *j = yaml_parse(copy, n, e);
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

static const char kind_yaml[] = "apiVersion: v1\n"
				"clusters:\n"
				"- cluster:\n"
				"    certificate-authority-data: LS0tLS1CRUdJTi\n"
				"    server: https://127.0.0.1:6443\n"
				"  name: kind-kind\n"
				"contexts:\n"
				"- context:\n"
				"    cluster: kind-kind\n"
				"    user: kind-kind\n"
				"  name: kind-kind\n"
				"current-context: kind-kind\n"
				"kind: Config\n"
				"preferences: {}\n"
				"users:\n"
				"- name: kind-kind\n"
				"  user:\n"
				"    client-certificate-data: LS0tLS1\n"
				"    client-key-data: LS0tLS1CRUdJTiBSU0E\n";
static const char kind_json[] =
	"{'apiVersion':'v1',"
	"'clusters':[{'cluster':{'certificate-authority-data':'LS0tLS1CRUdJTi',"
	"'server':'https://127.0.0.1:6443'},'name':'kind-kind'}],"
	"'contexts':[{'context':{'cluster':'kind-kind','user':'kind-kind'},"
	"'name':'kind-kind'}],'current-context':'kind-kind','kind':'Config','preferences':{},"
	"'users':[{'name':'kind-kind','user':{'client-certificate-data':'LS0tLS1',"
	"'client-key-data':'LS0tLS1CRUdJTiBSU0E'}}]}";

static const char eks_yaml[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=\n"
	"    server: https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com\n"
	"  name: arn:aws:eks:us-west-2:111122223333:cluster/prod\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: arn:aws:eks:us-west-2:111122223333:cluster/prod\n"
	"    user: arn:aws:eks:us-west-2:111122223333:cluster/prod\n"
	"  name: arn:aws:eks:us-west-2:111122223333:cluster/prod\n"
	"current-context: arn:aws:eks:us-west-2:111122223333:cluster/prod\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: arn:aws:eks:us-west-2:111122223333:cluster/prod\n"
	"  user:\n"
	"    exec:\n"
	"      apiVersion: client.authentication.k8s.io/v1beta1\n"
	"      args:\n"
	"      - --region\n"
	"      - us-west-2\n"
	"      - eks\n"
	"      - get-token\n"
	"      - --cluster-name\n"
	"      - prod\n"
	"      command: aws\n"
	"      env:\n"
	"      - name: AWS_PROFILE\n"
	"        value: prod\n"
	"      interactiveMode: IfAvailable\n"
	"      provideClusterInfo: false\n";
static const char eks_json[] =
	"{'apiVersion':'v1',"
	"'clusters':[{'cluster':{'certificate-authority-data':'"
	"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=',"
	"'server':'https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com'},"
	"'name':'arn:aws:eks:us-west-2:111122223333:cluster/prod'}],"
	"'contexts':[{'context':{'cluster':'arn:aws:eks:us-west-2:111122223333:cluster/prod',"
	"'user':'arn:aws:eks:us-west-2:111122223333:cluster/prod'},"
	"'name':'arn:aws:eks:us-west-2:111122223333:cluster/prod'}],"
	"'current-context':'arn:aws:eks:us-west-2:111122223333:cluster/prod','kind':'Config',"
	"'preferences':{},'users':[{'name':'arn:aws:eks:us-west-2:111122223333:cluster/prod',"
	"'user':{'exec':{'apiVersion':'client.authentication.k8s.io/v1beta1',"
	"'args':['--region','us-west-2','eks','get-token','--cluster-name','prod'],"
	"'command':'aws','env':[{'name':'AWS_PROFILE','value':'prod'}],"
	"'interactiveMode':'IfAvailable','provideClusterInfo':false}}}]}";

static const char gke_yaml[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: LS0tLS1CRUdJTg==\n"
	"    server: https://34.123.45.67\n"
	"  name: gke_my-project_us-central1-c_cluster-1\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: gke_my-project_us-central1-c_cluster-1\n"
	"    user: gke_my-project_us-central1-c_cluster-1\n"
	"  name: gke_my-project_us-central1-c_cluster-1\n"
	"current-context: gke_my-project_us-central1-c_cluster-1\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: gke_my-project_us-central1-c_cluster-1\n"
	"  user:\n"
	"    exec:\n"
	"      apiVersion: client.authentication.k8s.io/v1beta1\n"
	"      command: gke-gcloud-auth-plugin\n"
	"      installHint: Install gke-gcloud-auth-plugin for use with kubectl by following\n"
	"        "
	"https://cloud.google.com/kubernetes-engine/docs/how-to/"
	"cluster-access-for-kubectl#install_plugin\n"
	"      provideClusterInfo: true\n";
static const char gke_json[] =
	"{'apiVersion':'v1',"
	"'clusters':[{'cluster':{'certificate-authority-data':'LS0tLS1CRUdJTg==',"
	"'server':'https://34.123.45.67'},'name':'gke_my-project_us-central1-c_cluster-1'}],"
	"'contexts':[{'context':{'cluster':'gke_my-project_us-central1-c_cluster-1',"
	"'user':'gke_my-project_us-central1-c_cluster-1'},"
	"'name':'gke_my-project_us-central1-c_cluster-1'}],"
	"'current-context':'gke_my-project_us-central1-c_cluster-1','kind':'Config',"
	"'preferences':{},'users':[{'name':'gke_my-project_us-central1-c_cluster-1',"
	"'user':{'exec':{'apiVersion':'client.authentication.k8s.io/v1beta1',"
	"'command':'gke-gcloud-auth-plugin',"
	"'installHint':'Install gke-gcloud-auth-plugin for use with kubectl by following "
	"https://cloud.google.com/kubernetes-engine/docs/how-to/"
	"cluster-access-for-kubectl#install_plugin',"
	"'provideClusterInfo':true}}}]}";

static const char minikube_yaml[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority: /home/user/.minikube/ca.crt\n"
	"    extensions:\n"
	"    - extension:\n"
	"        last-update: Mon, 01 Jan 2024 10:00:00 UTC\n"
	"        provider: minikube.sigs.k8s.io\n"
	"        version: v1.32.0\n"
	"      name: cluster_info\n"
	"    server: https://192.168.49.2:8443\n"
	"  name: minikube\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: minikube\n"
	"    namespace: default\n"
	"    user: minikube\n"
	"  name: minikube\n"
	"current-context: minikube\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: minikube\n"
	"  user:\n"
	"    client-certificate: /home/user/.minikube/profiles/minikube/client.crt\n"
	"    client-key: /home/user/.minikube/profiles/minikube/client.key\n";
static const char minikube_json[] =
	"{'apiVersion':'v1',"
	"'clusters':[{'cluster':{'certificate-authority':'/home/user/.minikube/ca.crt',"
	"'extensions':[{'extension':{'last-update':'Mon, 01 Jan 2024 10:00:00 UTC',"
	"'provider':'minikube.sigs.k8s.io','version':'v1.32.0'},'name':'cluster_info'}],"
	"'server':'https://192.168.49.2:8443'},'name':'minikube'}],"
	"'contexts':[{'context':{'cluster':'minikube','namespace':'default',"
	"'user':'minikube'},'name':'minikube'}],'current-context':'minikube','kind':'Config',"
	"'preferences':{},'users':[{'name':'minikube',"
	"'user':{'client-certificate':'/home/user/.minikube/profiles/minikube/client.crt',"
	"'client-key':'/home/user/.minikube/profiles/minikube/client.key'}}]}";

static const char aks_yaml[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: LS0tLS1CRUdJTg==\n"
	"    server: https://myaks-dns-12345678.hcp.eastus.azmk8s.io:443\n"
	"  name: myAKSCluster\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: myAKSCluster\n"
	"    user: clusterUser_myResourceGroup_myAKSCluster\n"
	"  name: myAKSCluster\n"
	"current-context: myAKSCluster\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: clusterUser_myResourceGroup_myAKSCluster\n"
	"  user:\n"
	"    exec:\n"
	"      apiVersion: client.authentication.k8s.io/v1beta1\n"
	"      args:\n"
	"      - get-token\n"
	"      - --environment\n"
	"      - AzurePublicCloud\n"
	"      - --server-id\n"
	"      - 6dae42f8-4368-4678-94ff-3960e28e3630\n"
	"      command: kubelogin\n"
	"      env: null\n"
	"      installHint: |2\n"
	"\n"
	"        kubelogin is not installed which is required to connect to AAD enabled cluster.\n"
	"\n"
	"        To learn more, please go to https://aka.ms/aks/kubelogin\n"
	"      provideClusterInfo: false\n";
static const char aks_json[] =
	"{'apiVersion':'v1',"
	"'clusters':[{'cluster':{'certificate-authority-data':'LS0tLS1CRUdJTg==',"
	"'server':'https://myaks-dns-12345678.hcp.eastus.azmk8s.io:443'},"
	"'name':'myAKSCluster'}],'contexts':[{'context':{'cluster':'myAKSCluster',"
	"'user':'clusterUser_myResourceGroup_myAKSCluster'},'name':'myAKSCluster'}],"
	"'current-context':'myAKSCluster','kind':'Config','preferences':{},"
	"'users':[{'name':'clusterUser_myResourceGroup_myAKSCluster',"
	"'user':{'exec':{'apiVersion':'client.authentication.k8s.io/v1beta1',"
	"'args':['get-token','--environment','AzurePublicCloud','--server-id',"
	"'6dae42f8-4368-4678-94ff-3960e28e3630'],'command':'kubelogin','env':null,"
	"'installHint':'\\nkubelogin is not installed which is required to connect to AAD enabled "
	"cluster.\\n\\nTo learn more,"
	" please go to https://aka.ms/aks/kubelogin\\n','provideClusterInfo':false}}}]}";

static const char template_yaml[] =
	"# BatchSandbox template (kubernetes.batchsandbox_template_file)\n"
	"apiVersion: sandbox.opensandbox.io/v1alpha1\n"
	"kind: BatchSandbox\n"
	"metadata:\n"
	"  labels:\n"
	"    sandbox.opensandbox.io/resource-speedup: default\n"
	"  annotations: {}\n"
	"spec:\n"
	"  replicas: 1\n"
	"  template:\n"
	"    metadata:\n"
	"      labels:\n"
	"        app: opensandbox\n"
	"    spec:\n"
	"      restartPolicy: Never\n"
	"      tolerations: [{operator: Exists}]\n"
	"      nodeSelector:\n"
	"        kubernetes.io/os: linux\n"
	"      containers:\n"
	"        - name: sandbox\n"
	"          image: \"ubuntu:22.04\"\n"
	"          command: [\"/bin/sh\", \"-c\"]\n"
	"          args:\n"
	"            - |\n"
	"              echo starting\n"
	"              exec sleep infinity\n"
	"          env:\n"
	"            - name: TZ\n"
	"              value: 'UTC'\n"
	"            - {name: DEBUG, value: \"1\"}\n"
	"          resources:\n"
	"            limits: {cpu: \"1\", memory: 2Gi}\n"
	"            requests:\n"
	"              cpu: 500m\n"
	"              memory: 512Mi\n"
	"          securityContext:\n"
	"            privileged: false\n"
	"            runAsUser: 1000\n"
	"      volumes:\n"
	"      - name: opensandbox-bin\n"
	"        emptyDir: {}\n";
static const char template_json[] =
	"{'apiVersion':'sandbox.opensandbox.io/v1alpha1','kind':'BatchSandbox',"
	"'metadata':{'labels':{'sandbox.opensandbox.io/resource-speedup':'default'},"
	"'annotations':{}},'spec':{'replicas':1,"
	"'template':{'metadata':{'labels':{'app':'opensandbox'}},"
	"'spec':{'restartPolicy':'Never','tolerations':[{'operator':'Exists'}],"
	"'nodeSelector':{'kubernetes.io/os':'linux'},'containers':[{'name':'sandbox',"
	"'image':'ubuntu:22.04','command':['/bin/sh','-c'],"
	"'args':['echo starting\\nexec sleep infinity\\n'],'env':[{'name':'TZ',"
	"'value':'UTC'},{'name':'DEBUG','value':'1'}],'resources':{'limits':{'cpu':'1',"
	"'memory':'2Gi'},'requests':{'cpu':'500m','memory':'512Mi'}},"
	"'securityContext':{'privileged':false,'runAsUser':1000}}],"
	"'volumes':[{'name':'opensandbox-bin','emptyDir':{}}]}}}}";

static const struct {
	const char *name, *yaml, *json;
} docs[] = {
	{"kind", kind_yaml, kind_json}, {"eks", eks_yaml, eks_json},
	{"gke", gke_yaml, gke_json},	{"minikube", minikube_yaml, minikube_json},
	{"aks", aks_yaml, aks_json},	{"template", template_yaml, template_json},
};

/* Each document as written, with CR LF line ends, and after a UTF-8 BOM. */
TEST(yaml_kubeconfigs_and_template)
{
	for (size_t i = 0; i < N(docs); i++) {
		char what[64], *bom;
		size_t n, len = strlen(docs[i].yaml);
		char *t = crlf(docs[i].yaml, &n);

		snprintf(what, sizeof(what), "%s", docs[i].name);
		expect_tree(what, docs[i].yaml, len, docs[i].json);
		snprintf(what, sizeof(what), "%s (CR LF)", docs[i].name);
		expect_tree(what, t, n, docs[i].json);
		free(t);
		bom = malloc(len + 3);
		memcpy(bom, "\xef\xbb\xbf", 3);
		memcpy(bom + 3, docs[i].yaml, len);
		snprintf(what, sizeof(what), "%s (BOM)", docs[i].name);
		expect_tree(what, bom, len + 3, docs[i].json);
		free(bom);
	}
}

/* Reading a kubeconfig the way a caller will: through the json getters. */
TEST(yaml_kubeconfig_getters)
{
	struct err e = {0};
	cJSON *j = parse(eks_yaml, strlen(eks_yaml), &e);
	const cJSON *users, *exec, *args;
	const char *cmd = NULL;
	bool b = true;

	CHECK(j != NULL);
	CHECK_INT(json_get_array(j, "users", JSON_REQUIRED, &users, &e), 0);
	exec = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(users, 0), "user"),
				   "exec");
	CHECK_INT(json_get_string(exec, "command", JSON_REQUIRED, &cmd, &e), 0);
	CHECK_STR(cmd, "aws");
	CHECK_INT(json_get_bool(exec, "provideClusterInfo", JSON_REQUIRED, &b, &e), 0);
	CHECK(!b);
	CHECK_INT(json_get_array(exec, "args", JSON_REQUIRED, &args, &e), 0);
	CHECK_INT(cJSON_GetArraySize(args), 6);
	cJSON_Delete(j);
}

static const struct {
	const char *yaml, *json;
} features[] = {
	{"a: 1\nb: -2\nc: 1.5\nd: true\ne: ~\nf:\ng: null\nh: False\ni: TRUE\n",
	 "{'a':1,'b':-2,'c':1.5,'d':true,'e':null,'f':null,'g':null,'h':false,'i':true}"},
	{"hex: 0x1F\noct: 0o17\ndot: .5\nexp: -1.5e3\nzero: -0\nplus: +12\n",
	 "{'hex':31,'oct':15,'dot':0.5,'exp':-1500,'zero':0,'plus':12}"},
	{"s1: yes\ns2: on\ns3: 1_000\ns4: 2024-01-01\ns5: 1.2.3\ns6: 0x\ns7: 10:00\n",
	 "{'s1':'yes','s2':'on','s3':'1_000','s4':'2024-01-01','s5':'1.2.3','s6':'0x','s7':'10:00'"
	 "}"},
	{"q1: \"1\"\nq2: 'true'\nq3: \"null\"\nq4: ''\nq5: \"\"\n",
	 "{'q1':'1','q2':'true','q3':'null','q4':'','q5':''}"},
	{"d: \"tab\\there \\\"q\\\" \\\\ \\/ \\x41\\u00e9\\U0001F600 "
	 "\\N\\_\\L\\P\\e\\a\\b\\v\\f\\r\"\n",
	 "{'d':'tab\\there \\'q\\' \\\\ / A\\u00e9\\ud83d\\ude00 "
	 "\\u0085\\u00a0\\u2028\\u2029\\u001b\\u0007\\b\\u000b\\f\\r'}"},
	{"pair: \"\\ud83d\\ude00\"\n", "{'pair':'\\ud83d\\ude00'}"},
	{"s: 'it''s'\n", "{'s':'it\\u0027s'}"},
	{"a: \"multi\n  line\n\n   quoted\"\nb: 'single\n\n  multi'\n",
	 "{'a':'multi line\\nquoted','b':'single\\nmulti'}"},
	{"a: \"esc \\\n   aped\"\nb: \"keep \\\n\n  break\"\n",
	 "{'a':'esc aped','b':'keep \\nbreak'}"},
	{"a: \"  lead and trail  \"\nb: '  x  '\n", "{'a':'  lead and trail  ','b':'  x  '}"},
	{"url: http://example.com:8080/p?x=1#frag\nwin: C:\\dir\nhash: a#b\ncolon: a:b\n",
	 "{'url':'http://example.com:8080/"
	 "p?x=1#frag','win':'C:\\\\dir','hash':'a#b','colon':'a:b'}"},
	{"d: this is a long\n  description text\n\n  with a paragraph\nnext: 1\n",
	 "{'d':'this is a long description text\\nwith a paragraph','next':1}"},
	{"- a\n  b\n- c\n", "['a b','c']"},
	{"foo\nbar\n", "'foo bar'"},
	{"a: b # comment\nc: \"d\" # comment\n# full line\n", "{'a':'b','c':'d'}"},
	{"users:\n- name: x\n  user:\n    token: abc\n- name: y\n",
	 "{'users':[{'name':'x','user':{'token':'abc'}},{'name':'y'}]}"},
	{"- - a\n  - b\n- - c\n", "[['a','b'],['c']]"},
	{"- a: 1\n  b:\n  - x\n  - y\n  c: 3\n", "[{'a':1,'b':['x','y'],'c':3}]"},
	{"-   a\n-   b:  c\n    d:  e\n", "['a',{'b':'c','d':'e'}]"},
	{"-\n  a: 1\n-\n  - b\n-\n", "[{'a':1},['b'],null]"},
	{"a:\n  - 1\n  - 2\nb:\n    c: 3\n", "{'a':[1,2],'b':{'c':3}}"},
	{"  indented: 1\n  doc: 2\n", "{'indented':1,'doc':2}"},
	{"\"quoted key\": 1\n'single': 2\nplain key: 3\nkey with spaces   : 4\n\"a\\\"b\": "
	 "5\n'c''d': 6\n",
	 "{'quoted key':1,'single':2,'plain key':3,'key with spaces':4,'a\\'b':5,'c\\u0027d':6}"},
	{"1: a\ntrue: b\nnull: c\n", "{'1':'a','true':'b','null':'c'}"},
	{"a:\n# c\n\n  b: 1\n", "{'a':{'b':1}}"},
	{"k: |\n  line1\n  line2\n\nother: >\n  folded\n  text\n\n  para\n    more\n  back\n",
	 "{'k':'line1\\nline2\\n','other':'folded text\\npara\\n  more\\nback\\n'}"},
	{"a: |-\n  strip\nb: |+\n  keep\n\nc: |\n  clip\n\n\nd: >-\n  x\n  y\n",
	 "{'a':'strip','b':'keep\\n\\n','c':'clip\\n','d':'x y'}"},
	{"a: |\n  x\n", "{'a':'x\\n'}"},
	{"a: |+\n  x\n\n\n", "{'a':'x\\n\\n\\n'}"},
	{"a: |\n\n  after blank\n", "{'a':'\\nafter blank\\n'}"},
	{"lit: |2\n   leading space\n  normal\n", "{'lit':' leading space\\nnormal\\n'}"},
	{"lit: |-2\n   x\n", "{'lit':' x'}"},
	{"a: |\n  text\nb: |\n\nc: 1\n", "{'a':'text\\n','b':'','c':1}"},
	{"- >\n a\n b\n- |-\n c\n", "['a b\\n','c']"},
	{"a: >\n  a\n  b\n\n  c\n   d\n  e\n\n\n  f\n", "{'a':'a b\\nc\\n d\\ne\\n\\nf\\n'}"},
	{"a: |\n  # not a comment\n  x\n", "{'a':'# not a comment\\nx\\n'}"},
	{"|\n x\n", "'x\\n'"},
	{"tolerations: [{operator: Exists}]\nargs: [a, \"b c\", 'd', 1, true, null, ~]\n",
	 "{'tolerations':[{'operator':'Exists'}],'args':['a','b c','d',1,true,null,null]}"},
	{"e: []\nm: {}\nn: {a: [1, {b: 2}], c: d}\n",
	 "{'e':[],'m':{},'n':{'a':[1,{'b':2}],'c':'d'}}"},
	{"[a, b, ]\n", "['a','b']"},
	{"{a: 1, b, c: }\n", "{'a':1,'b':null,'c':null}"},
	{"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}\n",
	 "{'a':1,'b':[true,false,null],'c':{'d':'e'}}"},
	{"a: [1,\n  2, 3]\nb: {x: 1,\n  y: 2}\n", "{'a':[1,2,3],'b':{'x':1,'y':2}}"},
	{"cmd: [\n  \"sh\",\n  \"-c\",  # comment\n]\n", "{'cmd':['sh','-c']}"},
	{"- [a, [b, [c]]]\n- {x: {y: {z: 1}}}\n", "[['a',['b',['c']]],{'x':{'y':{'z':1}}}]"},
	{"{a:1}\n", "{'a:1':null}"},
	{"---\na: 1\n...\n", "{'a':1}"},
	{"--- # comment\n- a\n", "['a']"},
	{"# comment only\n", "null"},
	{"", "null"},
	{"---\n", "null"},
	{"\"just a string\"\n", "'just a string'"},
	{"42\n", "42"},

};

TEST(yaml_features)
{
	for (size_t i = 0; i < N(features); i++) {
		char what[96];
		snprintf(what, sizeof(what), "feature %zu (%.60s)", i, features[i].yaml);
		expect_tree(what, features[i].yaml, strlen(features[i].yaml), features[i].json);
	}
}

static const struct {
	const char *yaml, *msg;
} errors[] = {
	{"a: &x 1\n", "line 1, column 4: anchors ('&') are not supported"},
	{"a: *x\n", "line 1, column 4: aliases ('*') are not supported"},
	{"a: !!str 1\n", "line 1, column 4: tags ('!') are not supported"},
	{"- !local x\n", "line 1, column 3: tags ('!') are not supported"},
	{"&a key: v\n", "line 1, column 1: anchors ('&') are not supported"},
	{"key:\n\tsub: 1\n", "line 2, column 1: tab in indentation (YAML indents with spaces)"},
	{"- a\n-\tb: 1\n", "line 2, column 3: tab before a nested collection (indent with spaces)"},
	{"a: 1\na: 2\n", "line 2, column 1: duplicate key 'a' (first on line 1)"},
	{"a: {b: 1, b: 2}\n", "line 1, column 11: duplicate key 'b' (first on line 1)"},
	{"x:\n  y: 1\n  z: 2\n  y: 3\n", "line 4, column 3: duplicate key 'y' (first on line 2)"},
	{"---\na: 1\n---\nb: 2\n", "line 3, column 1: multiple documents are not supported"},
	{"a: 1\n...\nb: 2\n", "line 3, column 1: multiple documents are not supported"},
	{"%YAML 1.2\n---\na: 1\n",
	 "line 1, column 1: directives ('%YAML', '%TAG') are not supported"},
	{"--- x\n", "line 1, column 5: a value on the '---' line is not supported (start it on the "
		    "next line)"},
	{"a:\n  b: 1\n c: 2\n", "line 3, column 2: inconsistent indentation (expected column 1)"},
	{"a:\n    b: 1\n  c: 2\n",
	 "line 3, column 3: inconsistent indentation (expected column 1)"},
	{"a: \"x\"\n  b: 1\n", "line 2, column 3: inconsistent indentation (expected column 1)"},
	{"- x: 1\n   y: 2\n",
	 "line 2, column 5: mapping values are not allowed here (a key indented too far?)"},
	{"? a\n: b\n", "line 1, column 1: complex keys ('? ') are not supported"},
	{"{[a]: b}\n", "line 1, column 2: complex keys are not supported"},
	{"a: [a: 1]\n", "line 1, column 6: single-pair mappings in a flow sequence are not "
			"supported (write {key: value})"},
	{"a: 0644\n", "line 1, column 4: integer '0644' has a leading zero (YAML 1.1 reads it as "
		      "octal, YAML 1.2 as decimal): write 0o644 or 644, or quote it"},
	{"a: -007\n", "line 1, column 4: integer '-007' has a leading zero (YAML 1.1 reads it as "
		      "octal, YAML 1.2 as decimal): write 0o7 or 7, or quote it"},
	{"a: 9007199254740992\n", "line 1, column 4: integer out of range (beyond +-(2^53-1))"},
	{"a: -9007199254740992\n", "line 1, column 4: integer out of range (beyond +-(2^53-1))"},
	{"a: 0x20000000000000\n", "line 1, column 4: integer out of range (beyond +-(2^53-1))"},
	{"a: .inf\n", "line 1, column 4: '.inf' has no JSON form (not supported)"},
	{"a: -.Inf\n", "line 1, column 4: '-.Inf' has no JSON form (not supported)"},
	{"a: .NaN\n", "line 1, column 4: '.NaN' has no JSON form (not supported)"},
	{"a: 1e309\n", "line 1, column 4: float out of range"},
	{"a: \"\\0\"\n",
	 "line 1, column 5: NUL in a string is not supported (cJSON strings end at a NUL)"},
	{"a: \"\\x00\"\n",
	 "line 1, column 5: NUL in a string is not supported (cJSON strings end at a NUL)"},
	{"a: \"\\u0000\"\n",
	 "line 1, column 5: NUL in a string is not supported (cJSON strings end at a NUL)"},
	{"a: \"\\q\"\n", "line 1, column 5: invalid escape sequence"},
	{"a: \"\\ud800\"\n", "line 1, column 5: unpaired UTF-16 surrogate in a \\u escape"},
	{"a: \"\\xZZ\"\n", "line 1, column 5: invalid escape sequence"},
	{"a: \"\\U00110000\"\n", "line 1, column 5: escape past U+10FFFF"},
	{"a: [1, 2\n", "line 1, column 4: '[' without its closing ']'"},
	{"a: {b: 1\n", "line 1, column 4: '{' without its closing '}'"},
	{"a: [\"1\" 2]\n", "line 1, column 9: unexpected '2' (expected ',' or ']')"},
	{"a: [1,,2]\n", "line 1, column 7: empty entry in a flow collection"},
	{"a: 'x\n", "line 1, column 4: quoted scalar without its closing quote"},
	{"a: \"x\n\ny\n", "line 1, column 4: quoted scalar without its closing quote"},
	{"a: b: c\n", "line 1, column 5: mapping values are not allowed here"},
	{"a: b\n  c: d\n",
	 "line 2, column 4: mapping values are not allowed here (a key indented too far?)"},
	{"a: 1\n- b\n",
	 "line 2, column 1: a sequence entry where a key was expected (inconsistent indentation?)"},
	{"- a\nb: 1\n", "line 2, column 1: expected a sequence entry ('- ')"},
	{"a: - b\n", "line 1, column 4: a sequence entry cannot start here"},
	{"a: \"x\"y\n", "line 1, column 7: unexpected 'y' after the value"},
	{"a: \"x\"#c\n", "line 1, column 7: a comment needs a blank before its '#'"},
	{"a: |x\n", "line 1, column 5: invalid block scalar header"},
	{"a: |0\n", "line 1, column 5: invalid block scalar header"},
	{"a: |\n      \n  x\n", "line 2, column 1: a leading empty line is indented more than the "
				"block scalar's first line"},
	{"a: |\n\tx\n", "line 2, column 1: tab in the indentation of a block scalar"},
	{"a: [\n---\n]\n", "line 2, column 1: document marker inside a flow collection"},
	{"a: \"x\n---\ny\"\n", "line 2, column 1: document marker inside a quoted scalar"},
	{"a: ,b\n", "line 1, column 4: unexpected ',' at the start of a value"},
	{"a: @x\n", "line 1, column 4: unexpected '@' at the start of a value"},
	{"a: `x\n", "line 1, column 4: unexpected '`' at the start of a value"},
	{"a: %x\n", "line 1, column 4: unexpected '%' at the start of a value"},
	{"a: ]\n", "line 1, column 4: unexpected ']' at the start of a value"},

};

TEST(yaml_errors_name_line_and_column)
{
	for (size_t i = 0; i < N(errors); i++) {
		struct err e = {0};
		cJSON *j = parse(errors[i].yaml, strlen(errors[i].yaml), &e);
		if (j || e.code != EINVAL || strcmp(e.msg, errors[i].msg) != 0)
			unit_fail(__FILE__, __LINE__,
				  "error %zu (%.40s): got %s \"%s\", expected \"%s\"", i,
				  errors[i].yaml, j ? "a tree" : "", e.msg, errors[i].msg);
		cJSON_Delete(j);
	}
}

/*
 * Every prefix of each document: a tree, or EINVAL naming a line of the
 * prefix. A prefix that ends a line is a whole document (nothing in these is
 * cut by a line end) and must parse.
 */
TEST(yaml_every_truncation)
{
	size_t trees = 0, refusals = 0;

	for (size_t i = 0; i < N(docs); i++) {
		const char *doc = docs[i].yaml;
		size_t len = strlen(doc);
		for (size_t n = 0; n <= len; n++) {
			struct err e = {0};
			cJSON *j = parse(doc, n, &e);
			unsigned line, col;
			if (j) {
				trees++;
			} else if (n == 0 || doc[n - 1] == '\n') {
				unit_fail(__FILE__, __LINE__, "%s cut at %zu (a line end): %s",
					  docs[i].name, n, e.msg);
			} else if (e.code != EINVAL ||
				   sscanf(e.msg, "line %u, column %u:", &line, &col) != 2 ||
				   line > count_lines(doc, n) || col < 1) {
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
TEST(yaml_numbers_exact)
{
	static const char text[] =
		"a: 9007199254740991\nb: -9007199254740991\nc: 0x1FFFFFFFFFFFFF\n"
		"d: -0\ne: -0.0\nf: 1.7976931348623157e308\ng: 4.9e-324\n";
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
	cJSON_Delete(j);
}

/* What the text check refuses, with where; what it lets through. */
TEST(yaml_text_check)
{
	static const struct {
		const char *t;
		size_t n;
		const char *msg;
	} bad[] = {
		{"a: b\0c\n", 7, "line 1, column 5: NUL byte"},
		{"a: b\nc: \0", 9, "line 2, column 4: NUL byte"},
		{"\0", 1, "line 1, column 1: NUL byte"},
		{"a: \xc0\xaf\n", 6, "line 1, column 4: invalid UTF-8"},     /* overlong '/' */
		{"a: \xed\xa0\x80\n", 7, "line 1, column 4: invalid UTF-8"}, /* a surrogate */
		{"a: \xf4\x90\x80\x80\n", 8, "line 1, column 4: invalid UTF-8"},
		{"a: \xe2\x82", 5, "line 1, column 4: invalid UTF-8"}, /* cut short */
		{"a: \x80\n", 5, "line 1, column 4: invalid UTF-8"},
		{"\xc3\xa9: \x01\n", 6, "line 1, column 4: control character"},
		{"a: \x7f\n", 5, "line 1, column 4: control character"},
		{"a: 1\rb: 2\n", 10,
		 "line 1, column 5: carriage return not followed by a line feed"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		struct err e = {0};
		cJSON *j = parse(bad[i].t, bad[i].n, &e);
		if (j || strcmp(e.msg, bad[i].msg))
			unit_fail(__FILE__, __LINE__, "bad %zu: \"%s\", expected \"%s\"", i, e.msg,
				  bad[i].msg);
		cJSON_Delete(j);
	}
	expect_tree("emoji", S("k: \xf0\x9f\x98\x80\n"), "{'k':'\\ud83d\\ude00'}");
	expect_tree("CR LF", S("a: 1\r\nb: |\r\n  x\r\n  y\r\n"), "{'a':1,'b':'x\\ny\\n'}");
	/* only len counts: what follows it is never read */
	expect_tree("len", "a: 12345\n", 4, "{'a':1}");
	expect_tree("len", "a: \"x\"\0zz", 6, "{'a':'x'}");
	/* no err context: the return says it all */
	CHECK(yaml_parse("a: [", 4, NULL) == NULL);
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

TEST(yaml_caps)
{
	struct err e = {0};
	cJSON *j;
	char *s;

	/* input size */
	s = malloc(YAML_MAX_INPUT + 1);
	memset(s, '#', YAML_MAX_INPUT + 1);
	j = yaml_parse(s, YAML_MAX_INPUT, &e);
	CHECK(cJSON_IsNull(j));
	cJSON_Delete(j);
	CHECK(yaml_parse(s, YAML_MAX_INPUT + 1, &e) == NULL);
	CHECK_INT(e.code, EFBIG);
	free(s);

	/* depth: flow, block mappings, compact sequences */
	for (int depth = YAML_MAX_DEPTH; depth <= YAML_MAX_DEPTH + 1; depth++) {
		char *open = repeat("", "[", (size_t)depth, ""),
		     *close = repeat("", "]", (size_t)depth, "");
		s = repeat(open, "", 0, close);
		j = parse(s, strlen(s), &e);
		CHECK((j != NULL) == (depth == YAML_MAX_DEPTH));
		cJSON_Delete(j);
		free(s);
		free(open);
		free(close);
		s = repeat("", "- ", (size_t)depth, "x\n");
		j = parse(s, strlen(s), &e);
		CHECK((j != NULL) == (depth == YAML_MAX_DEPTH));
		cJSON_Delete(j);
		free(s);
		struct buf b;
		buf_init(&b, 0);
		for (int i = 0; i < depth; i++)
			buf_printf(&b, "%*sk:\n", i, "");
		j = parse(buf_head(&b), b.len, &e);
		CHECK((j != NULL) == (depth == YAML_MAX_DEPTH));
		if (!j)
			CHECK_STR(e.msg, "line 65, column 65: collections nested deeper than 64");
		cJSON_Delete(j);
		buf_free(&b);
	}

	/* values: the array and its entries */
	s = repeat("[", "0,", YAML_MAX_NODES - 1, "]");
	j = parse(s, strlen(s), &e);
	CHECK_INT(cJSON_GetArraySize(j), YAML_MAX_NODES - 1);
	cJSON_Delete(j);
	free(s);
	s = repeat("[", "0,", YAML_MAX_NODES, "]");
	CHECK(parse(s, strlen(s), &e) == NULL);
	CHECK(strstr(e.msg, "more than 250000 values") != NULL);
	free(s);
}

/* A mapping of 100,000 keys: duplicate checks stay linear, and the last
 * key, a duplicate, is named with both lines. */
TEST(yaml_many_keys)
{
	struct buf b;
	struct err e = {0};

	buf_init(&b, 0);
	for (int i = 0; i < 100000; i++)
		buf_printf(&b, "key%d: %d\n", i, i);
	cJSON *j = parse(buf_head(&b), b.len, &e);
	CHECK_INT(cJSON_GetArraySize(j), 100000);
	cJSON_Delete(j);
	buf_puts(&b, "key5: again\n");
	CHECK(parse(buf_head(&b), b.len, &e) == NULL);
	CHECK_STR(e.msg, "line 100001, column 1: duplicate key 'key5' (first on line 6)");
	buf_free(&b);
}
