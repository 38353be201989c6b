// SPDX-License-Identifier: Apache-2.0
/* Where the API server is and who we are to it: kubeconfig or service account. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "k8s.h"
#include "tls.h"
#include "yaml.h"

#define KUBECONFIG_MAX (4u << 20)

/* The "name"d entry of a kubeconfig list (clusters, users, contexts), its inner object. */
static const cJSON *named(const cJSON *root, const char *list, const char *inner, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, list))
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
			return cJSON_GetObjectItemCaseSensitive(it, inner);
	}
	return NULL;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* The fields read from a kubeconfig, where they are read: each is a string if
 * present. A number or a list there is refused, not taken for "not set" (a
 * token: 12345 would otherwise mean calls without credentials). */
static const char *const string_fields[] = {"server",
					    "certificate-authority",
					    "certificate-authority-data",
					    "tls-server-name",
					    "token",
					    "tokenFile",
					    "client-certificate",
					    "client-certificate-data",
					    "client-key",
					    "client-key-data",
					    "cluster",
					    "user",
					    "namespace",
					    NULL};

static int check_strings(const cJSON *obj, const char *what, const char *name, struct err *e)
{
	if (obj && !cJSON_IsObject(obj))
		return err_set(e, EINVAL, "%s %s: not a mapping", what, name);
	for (const char *const *f = string_fields; *f; f++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, *f);
		if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
			return err_set(e, EINVAL, "%s %s: %s must be a string", what, name, *f);
	}
	return 0;
}

/* A file named in the kubeconfig, relative to its folder. */
static int resolve(const char *base_dir, const char *name, char *out, size_t cap, struct err *e)
{
	int n = name[0] == '/' ? snprintf(out, cap, "%s", name)
			       : snprintf(out, cap, "%s/%s", base_dir, name);
	if (n < 0 || (size_t)n >= cap)
		return err_set(e, ENAMETOOLONG, "file name too long: %.64s...", name);
	return 0;
}

/* PEM text from "<key>-data" (base64) or the file "<key>"; NULL, empty buf, if neither. */
static int pem_source(const cJSON *obj, const char *key, const char *base_dir, struct buf *out,
		      struct err *e)
{
	char dkey[64], path[PATH_MAX];
	snprintf(dkey, sizeof(dkey), "%s-data", key);
	const char *data = str(obj, dkey), *file = str(obj, key);
	if (data) {
		size_t n = strlen(data);
		if (buf_reserve(out, n / 4 * 3 + 3) < 0)
			return err_set(e, ENOMEM, "out of memory");
		long m = base64_decode(buf_tail(out), n / 4 * 3 + 3, data, n);
		if (m < 0)
			return err_set(e, EINVAL, "%s: not valid base64", dkey);
		buf_commit(out, (size_t)m);
		return 0;
	}
	if (file) {
		if (resolve(base_dir, file, path, sizeof(path), e) < 0)
			return -ENAMETOOLONG;
		int r = buf_read_file(out, path);
		if (r < 0)
			return err_set(e, -r, "%s %s: %s", key, path,
				       r == -EFBIG ? "over 4 MiB" : strerror(-r));
	}
	return 0;
}

static int set_server(struct k8s *k, const char *server, const char *tls_name, struct err *e)
{
	if (strncmp(server, "https://", 8) != 0)
		return err_set(e, EINVAL, "server %s: only https:// is supported", server);
	/* A path (Rancher's /k8s/clusters/<id>, an API proxy's) goes before every request's. */
	if (http_endpoint_parse(&k->ep, server, k->prefix, sizeof(k->prefix), e) < 0)
		return -EINVAL;
	if (strpbrk(server + 8, "?#"))
		return err_set(e, EINVAL, "server %s: a query or fragment is not supported",
			       server);
	snprintf(k->server, sizeof(k->server), "%s", server);
	if (tls_name) {
		if (strlen(tls_name) >= sizeof(k->ep.server_name))
			return err_set(e, EINVAL, "tls-server-name too long");
		snprintf(k->ep.server_name, sizeof(k->ep.server_name), "%s", tls_name);
	}
	return 0;
}

static int build_tls(struct k8s *k, struct buf *ca, struct buf *cert, struct buf *key,
		     struct err *e)
{
	if (!ca->len)
		return err_set(e, EINVAL,
			       "no certificate authority (certificate-authority[-data])");
	if (!cert->len != !key->len)
		return err_set(e, EINVAL, "client certificate and key go together");
	k->tls = tls_config_client_mem(buf_head(ca), ca->len, cert->len ? buf_head(cert) : NULL,
				       cert->len, key->len ? buf_head(key) : NULL, key->len, e);
	if (!k->tls)
		return err_wrap(e, "TLS");
	k->ep.tls = k->tls;
	return 0;
}

static void init_common(struct k8s *k)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	pthread_mutex_init(&k->token_lock, NULL);
}

int k8s_init_kubeconfig(struct k8s *k, const char *path, const char *context, struct err *e)
{
	init_common(k);
	struct buf text, ca, cert, key;
	buf_init(&text, KUBECONFIG_MAX);
	buf_init(&ca, KUBECONFIG_MAX);
	buf_init(&cert, KUBECONFIG_MAX);
	buf_init(&key, KUBECONFIG_MAX);
	cJSON *root = NULL;
	int r = buf_read_file(&text, path);
	if (r < 0) {
		err_set(e, -r, "kubeconfig %s: %s", path, strerror(-r));
		goto out;
	}
	root = yaml_parse(buf_head(&text), text.len, e);
	if (!root) {
		r = err_wrap(e, "kubeconfig %s", path);
		goto out;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	const char *ctx_name = context && *context ? context : str(root, "current-context");
	const cJSON *ctx = ctx_name ? named(root, "contexts", "context", ctx_name) : NULL;
	if (!ctx) {
		r = err_set(e, EINVAL, "kubeconfig %s: context %s not found", path,
			    ctx_name ? ctx_name : "(no current-context)");
		goto out;
	}
	if ((r = check_strings(ctx, "context", ctx_name, e)) < 0) {
		err_wrap(e, "kubeconfig %s", path);
		goto out;
	}
	const char *cname = str(ctx, "cluster"), *uname = str(ctx, "user");
	const cJSON *cluster = cname ? named(root, "clusters", "cluster", cname) : NULL;
	const cJSON *user = uname ? named(root, "users", "user", uname) : NULL;
	if (!cluster || !str(cluster, "server")) {
		r = err_set(e, EINVAL, "kubeconfig %s: cluster %s not found or has no server", path,
			    cname ? cname : "(none)");
		goto out;
	}
	if (uname && !user) {
		r = err_set(e, EINVAL, "kubeconfig %s: user %s not found", path, uname);
		goto out;
	}
	if ((r = check_strings(cluster, "cluster", cname, e)) < 0 ||
	    (r = check_strings(user, "user", uname, e)) < 0) {
		err_wrap(e, "kubeconfig %s", path);
		goto out;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cluster, "insecure-skip-tls-verify"))) {
		r = err_set(e, EINVAL, "kubeconfig %s: insecure-skip-tls-verify is not supported",
			    path);
		goto out;
	}
	if (user && cJSON_GetObjectItemCaseSensitive(user, "exec")) {
		r = err_set(e, EINVAL,
			    "kubeconfig %s: user %s uses an exec credential plugin, which is not "
			    "supported (use a token, a tokenFile or a client certificate)",
			    path, uname);
		goto out;
	}
	if (str(ctx, "namespace"))
		snprintf(k->namespace, sizeof(k->namespace), "%s", str(ctx, "namespace"));
	if ((r = set_server(k, str(cluster, "server"), str(cluster, "tls-server-name"), e)) < 0)
		goto out;
	if ((r = pem_source(cluster, "certificate-authority", dir, &ca, e)) < 0 ||
	    (r = pem_source(user, "client-certificate", dir, &cert, e)) < 0 ||
	    (r = pem_source(user, "client-key", dir, &key, e)) < 0)
		goto out;
	if (str(user, "token")) {
		if (strlen(str(user, "token")) >= sizeof(k->token) ||
		    strpbrk(str(user, "token"), "\r\n")) {
			r = err_set(e, EINVAL, "kubeconfig %s: bad token", path);
			goto out;
		}
		snprintf(k->token, sizeof(k->token), "%s", str(user, "token"));
	} else if (str(user, "tokenFile")) {
		if ((r = resolve(dir, str(user, "tokenFile"), k->token_file, sizeof(k->token_file),
				 e)) < 0 ||
		    (r = k8s_token_load(k, e)) < 0) {
			err_wrap(e, "kubeconfig %s", path);
			goto out;
		}
	}
	r = build_tls(k, &ca, &cert, &key, e);
	if (r < 0)
		err_wrap(e, "kubeconfig %s", path);
out:
	cJSON_Delete(root);
	buf_free(&text);
	buf_free(&ca);
	buf_free(&cert);
	if (key.data)
		memset(key.data, 0, key.cap);
	buf_free(&key);
	if (r < 0)
		k8s_free(k);
	return r < 0 ? r : 0;
}

int k8s_init_incluster(struct k8s *k, struct err *e)
{
	init_common(k);
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host) {
		k8s_free(k);
		return err_set(e, ENOENT,
			       "no kubeconfig given and not in a cluster "
			       "(KUBERNETES_SERVICE_HOST is not set)");
	}
	char server[300];
	snprintf(server, sizeof(server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		 host, port && *port ? port : "443");
	struct buf ca, none;
	buf_init(&ca, 0);
	buf_init(&none, 0);
	int r = set_server(k, server, NULL, e);
	if (r == 0) {
		r = buf_read_file(&ca, K8S_SA_DIR "/ca.crt");
		if (r < 0)
			err_set(e, -r, "%s/ca.crt: %s", K8S_SA_DIR, strerror(-r));
	}
	if (r == 0)
		r = build_tls(k, &ca, &none, &none, e);
	buf_free(&ca);
	if (r < 0) {
		k8s_free(k);
		return r;
	}
	snprintf(k->token_file, sizeof(k->token_file), "%s/token", K8S_SA_DIR);
	r = k8s_token_load(k, e); /* automountServiceAccountToken: false leaves none */
	if (r < 0)
		k8s_free(k);
	return r;
}
