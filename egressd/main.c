// SPDX-License-Identifier: Apache-2.0
/*
 * egressd: configuration from the environment, the fail-closed start-up order
 * (policy -> DNS sockets bound -> the whole ruleset in one nft transaction ->
 * API -> ready), the always-file reload timer, and shutdown (the filter is
 * left deny-by-default and DNS stays redirected unless --cleanup-on-exit).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listener.h"
#include "egressd.h"
#include "log.h"
#include "sock.h"
#include "version.h"

static struct egressd X;
static struct ev_timer reload_timer;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: egressd [--cleanup-on-exit] [--init] [--log-level L]\n"
		"  --cleanup-on-exit  remove the nft tables on SIGTERM (default: leave the filter\n"
		"                     deny-by-default and DNS redirected, i.e. fail closed)\n"
		"  --init             install the ruleset for the initial policy and exit (an "
		"init\n"
		"                     container that closes the start-up gap)\n"
		"  --version          print the version, commit and build date\n"
		"environment: OPENSANDBOX_EGRESS_* (see docs/egressd.md)\n");
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static bool truthy(const char *v)
{
	char t[16];
	size_t n = 0;
	if (!v)
		return false;
	while (isspace((unsigned char)*v))
		v++;
	while (*v && n < sizeof(t) - 1)
		t[n++] = (char)tolower((unsigned char)*v++);
	while (n && isspace((unsigned char)t[n - 1]))
		n--;
	t[n] = '\0';
	return !strcmp(t, "1") || !strcmp(t, "true") || !strcmp(t, "yes") || !strcmp(t, "y") ||
	       !strcmp(t, "on");
}

static long env_long(const char *name, long def, long min, long max)
{
	const char *v = env(name);
	char *end;
	if (!v)
		return def;
	long n = strtol(v, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (*end || n < min || n > max) {
		log_msg(LOG_WARN, NULL, "invalid value, using the default", "variable", name,
			"value", v, NULL);
		return def;
	}
	return n;
}

/* "dns" or "dns+nft" in any order and case; -1 if invalid. */
static int parse_mode(const char *v)
{
	bool dns = false, nft = false;
	char buf[64];
	if (!v)
		return 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *t = strtok_r(buf, "+", &save); t; t = strtok_r(NULL, "+", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		size_t n = strlen(t);
		while (n && isspace((unsigned char)t[n - 1]))
			t[--n] = '\0';
		if (!strcasecmp(t, "dns"))
			dns = true;
		else if (!strcasecmp(t, "nft"))
			nft = true;
		else
			return -1;
	}
	return dns ? nft : -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *b = NULL;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0) {
		long n = ftell(f);
		if (n >= 0 && n < (16 << 20) && fseek(f, 0, SEEK_SET) == 0 &&
		    (b = malloc((size_t)n + 1))) {
			*len = fread(b, 1, (size_t)n, f);
			b[*len] = '\0';
		}
	}
	fclose(f);
	return b;
}

/* §2.3: a valid non-empty policy file wins, then the env JSON (invalid: fatal). */
static int initial_policy(struct egressd *x)
{
	struct err e = {0};
	if (x->policy_file) {
		size_t len = 0;
		char *text = slurp(x->policy_file, &len);
		struct policy *p = NULL;
		if (text && len && policy_parse(text, len, 0, &p, &e) == 0) {
			free(text);
			x->user = p;
			log_msg(LOG_INFO, NULL, "policy loaded from file", "path", x->policy_file,
				NULL);
			return 0;
		}
		if (text)
			log_msg(LOG_WARN, NULL,
				"policy file empty or invalid; using the environment", "path",
				x->policy_file, "error", e.msg, NULL);
		free(text);
	}
	const char *rules = getenv("OPENSANDBOX_EGRESS_RULES");
	err_clear(&e);
	if (policy_parse(rules ? rules : "", rules ? strlen(rules) : 0, 0, &x->user, &e) < 0) {
		log_msg(LOG_ERROR, NULL, "invalid OPENSANDBOX_EGRESS_RULES", "error", e.msg, NULL);
		return -1;
	}
	return 0;
}

static int load_log_skip(struct egressd *x)
{
	char path[512];
	size_t len = 0;
	if (snprintf(path, sizeof(path), "%s/log_skip.always", x->rules_dir) >= (int)sizeof(path))
		return -1;
	char *text = slurp(path, &len);
	if (!text)
		return 0;
	x->log_skip = always_parse(text, len, POLICY_ALLOW, path);
	free(text);
	if (!x->log_skip)
		return -1;
	for (size_t i = 0; i < x->log_skip->n; i++) {
		int k = x->log_skip->rules[i].kind;
		if (k == POLICY_IP || k == POLICY_CIDR) {
			log_msg(LOG_ERROR, NULL, "log_skip.always holds domain patterns only",
				"target", x->log_skip->rules[i].target, NULL);
			return -1;
		}
	}
	const struct policy *l[1] = {x->log_skip};
	x->skip_index = policy_index_build(l, 1, POLICY_DENY);
	return x->skip_index ? 0 : -1;
}

/* Comma list of IPs (exempt) or IP/CIDRs (DoH blocklist); junk is skipped. */
static size_t parse_prefixes(const char *list, struct policy_prefix *out, size_t max, bool cidr,
			     const char *what)
{
	char buf[4096];
	size_t n = 0;
	if (!list)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < max;
	     t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		size_t l = strlen(t);
		while (l && isspace((unsigned char)t[l - 1]))
			t[--l] = '\0';
		if (!l)
			continue;
		if ((!cidr && strchr(t, '/')) || policy_prefix_parse(t, &out[n]) < 0) {
			log_msg(LOG_WARN, NULL, "entry ignored", "variable", what, "value", t,
				NULL);
			continue;
		}
		n++;
	}
	return n;
}

static int setup_upstreams(struct egressd *x)
{
	struct err e = {0};
	struct upstream_list *l = &x->ups;
	const char *list = env("OPENSANDBOX_EGRESS_DNS_UPSTREAM");

	l->mark = x->mark;
	l->timeout_ms =
		(uint32_t)env_long("OPENSANDBOX_EGRESS_DNS_UPSTREAM_TIMEOUT", 5, 1, 120) * 1000;
	l->probe_interval_ms =
		(uint32_t)env_long("OPENSANDBOX_EGRESS_DNS_UPSTREAM_PROBE_INTERVAL_SEC", 30, 1,
				   3600) *
		1000;
	const char *probe = env("OPENSANDBOX_EGRESS_DNS_UPSTREAM_PROBE");
	snprintf(l->probe_name, sizeof(l->probe_name), "%s",
		 probe && strcmp(probe, ".") ? probe : "");
	if (list) {
		if (upstream_parse_list(l, list, &e) < 0) {
			log_msg(LOG_ERROR, NULL, "invalid OPENSANDBOX_EGRESS_DNS_UPSTREAM", "error",
				e.msg, NULL);
			return -1;
		}
	} else if (upstream_from_resolv(l, "/etc/resolv.conf") == 0) {
		upstream_parse_list(l, UPSTREAM_FALLBACK, NULL);
	}
	if (l->n == 0) {
		log_msg(LOG_ERROR, NULL, "no DNS upstream", NULL);
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct sockaddr_storage *ss = &l->u[i].addr;
		struct sets_upstream *u = &x->nft_upstreams[i];
		memset(u, 0, sizeof(*u));
		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)ss;
			u->ip.family = 4;
			u->ip.len = 32;
			memcpy(u->ip.addr, &in->sin_addr, 4);
			u->port = ntohs(in->sin_port);
		} else {
			const struct sockaddr_in6 *in6 = (const void *)ss;
			u->ip.family = 6;
			u->ip.len = 128;
			memcpy(u->ip.addr, &in6->sin6_addr, 16);
			u->port = ntohs(in6->sin6_port);
		}
		log_msg(LOG_INFO, NULL, "dns upstream", "upstream", l->u[i].name, NULL);
	}
	x->nexempt = parse_prefixes(env("OPENSANDBOX_EGRESS_NAMESERVER_EXEMPT"), x->exempt,
				    UPSTREAM_MAX, false, "OPENSANDBOX_EGRESS_NAMESERVER_EXEMPT");
	return 0;
}

static int listen_api(struct egressd *x)
{
	const char *addr = env("OPENSANDBOX_EGRESS_HTTP_ADDR");
	char host[128] = "";
	unsigned long port = 18080;
	struct err e = {0};

	if (addr) {
		const char *colon = strrchr(addr, ':');
		if (!colon) {
			log_msg(LOG_ERROR, NULL, "invalid OPENSANDBOX_EGRESS_HTTP_ADDR", "value",
				addr, NULL);
			return -1;
		}
		size_t hl = (size_t)(colon - addr);
		if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
			addr++;
			hl -= 2;
		}
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, addr, hl);
		host[hl] = '\0';
		char *end;
		port = strtoul(colon + 1, &end, 10);
		if (*end || port > 65535) {
			log_msg(LOG_ERROR, NULL, "invalid OPENSANDBOX_EGRESS_HTTP_ADDR port", NULL);
			return -1;
		}
	}
	int fd = sock_listen_tcp(host, (uint16_t)port, &e);
	if (fd < 0 || http_server_listen_fd(x->srv, fd, &e) < 0) {
		log_msg(LOG_ERROR, NULL, "cannot listen", "error", e.msg, NULL);
		return -1;
	}
	return 0;
}

static void on_reload(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct egressd *x = arg;
	struct policy *fresh[2];
	struct err e = {0};
	int r = always_reload(x, fresh, &e);

	if (r < 0) {
		log_msg(LOG_WARN, NULL, "always rules unreadable; keeping the current ones",
			"error", e.msg, NULL);
	} else if (r > 0) {
		if (egressd_apply(x, NULL, fresh[0], fresh[1], &e) < 0) {
			log_msg(LOG_ERROR, NULL, "always rules not applied", "error", e.msg, NULL);
			policy_free(fresh[0]);
			policy_free(fresh[1]);
			x->always[0].loaded = x->always[1].loaded = false; /* retry next time */
		} else {
			char nd[24], na[24];
			snprintf(nd, sizeof(nd), "%zu", x->always_deny->n);
			snprintf(na, sizeof(na), "%zu", x->always_allow->n);
			x->m.reloads++;
			log_msg(LOG_INFO, NULL, "always rules reloaded", "deny", nd, "allow", na,
				NULL);
		}
	}
	ev_timer_start(loop, t, x->reload_ms);
}

static bool cleanup_flag;
static int term_signal;

static void on_term(struct ev_loop *loop, int signo, void *arg)
{
	(void)arg;
	term_signal = signo;
	ev_stop(loop);
}

int main(int argc, char **argv)
{
	struct egressd *x = &X;
	struct err e = {0};
	bool init_only = false;
	int level = log_level_parse(
		env("OPENSANDBOX_EGRESS_LOG_LEVEL") ? env("OPENSANDBOX_EGRESS_LOG_LEVEL") : "info");

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		while (*a == '-')
			a++;
		if (!strcmp(a, "cleanup-on-exit")) {
			cleanup_flag = true;
		} else if (!strcmp(a, "init")) {
			init_only = true;
		} else if (!strcmp(a, "log-level") && i + 1 < argc) {
			level = log_level_parse(argv[++i]);
		} else if (!strcmp(a, "h") || !strcmp(a, "help")) {
			usage(stdout);
			return 0;
		} else if (version_flag(argv[i])) {
			version_print("egressd");
			return 0;
		} else {
			fprintf(stderr, "egressd: unknown flag %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	log_init("egressd", level < 0 ? LOG_INFO : (enum log_level)level, 1);
	/* Every connection is an fd: run out at the hard limit, not at 1024. */
	if (listener_raise_fd_limit() < 0)
		log_msg(LOG_WARN, NULL, "could not raise the open-file limit", NULL);
	signal(SIGPIPE, SIG_IGN);

	int mode = parse_mode(env("OPENSANDBOX_EGRESS_MODE"));
	if (mode < 0) {
		log_msg(LOG_WARN, NULL, "invalid OPENSANDBOX_EGRESS_MODE, using dns", "value",
			env("OPENSANDBOX_EGRESS_MODE"), NULL);
		mode = 0;
	}
	x->nft_mode = mode == 1;
	x->cleanup_on_exit = cleanup_flag;
	x->mark =
		(uint32_t)env_long("OPENSANDBOX_EGRESS_MARK", EGRESSD_DEFAULT_MARK, 1, 0xffffffffL);
	x->token = env("OPENSANDBOX_EGRESS_TOKEN");
	long mr = env_long("OPENSANDBOX_EGRESS_MAX_RULES", EGRESSD_DEFAULT_MAX_RULES, 0, 1L << 30);
	x->max_rules = (size_t)mr;
	x->policy_file = env("OPENSANDBOX_EGRESS_POLICY_FILE");
	x->sandbox_id = env("OPENSANDBOX_EGRESS_SANDBOX_ID");
	snprintf(x->rules_dir, sizeof(x->rules_dir), "%s",
		 env("OPENSANDBOX_EGRESS_RULES_DIR") ? env("OPENSANDBOX_EGRESS_RULES_DIR")
						     : EGRESSD_RULES_DIR);
	x->reload_ms =
		(uint32_t)env_long("OPENSANDBOX_EGRESS_ALWAYS_RELOAD_SEC", 60, 1, 3600) * 1000;
	for (int i = 0; i < 2; i++) {
		x->always[i].action = i ? POLICY_ALLOW : POLICY_DENY;
		if (snprintf(x->always[i].path, sizeof(x->always[i].path), "%s/%s", x->rules_dir,
			     i ? "allow.always" : "deny.always") >= (int)sizeof(x->always[i].path))
			return 2;
	}

	/* 1-3: policy, always rules, log-skip, upstreams. */
	struct policy *fresh[2];
	if (initial_policy(x) < 0)
		return 1;
	if (always_reload(x, fresh, &e) < 0) {
		log_msg(LOG_ERROR, NULL, "cannot read always rules", "error", e.msg, NULL);
		return 1;
	}
	x->always_deny = fresh[0] ? fresh[0] : policy_new();
	x->always_allow = fresh[1] ? fresh[1] : policy_new();
	if (load_log_skip(x) < 0 || setup_upstreams(x) < 0)
		return 1;
	struct policy_prefix doh[64];
	bool block_doh = truthy(getenv("OPENSANDBOX_EGRESS_BLOCK_DOH_443"));
	x->ndoh = parse_prefixes(env("OPENSANDBOX_EGRESS_DOH_BLOCKLIST"), doh, 64, true,
				 "OPENSANDBOX_EGRESS_DOH_BLOCKLIST");
	x->doh = doh;

	const struct policy *layers[3] = {x->always_deny, x->always_allow, x->user};
	x->index = policy_index_build(layers, 3, x->user->default_action);
	x->loop = ev_loop_new(&e);
	if (!x->index || !x->loop) {
		log_msg(LOG_ERROR, NULL, "cannot start", "error", x->loop ? "out of memory" : e.msg,
			NULL);
		return 1;
	}

	struct sets_config sc = {
		.nft = x->nft_mode,
		.mark = x->mark,
		.dns_port = EGRESSD_DNS_PORT,
		.upstreams = x->nft_upstreams,
		.nupstreams = x->ups.n,
		.exempt = x->exempt,
		.nexempt = x->nexempt,
		.block_doh = block_doh,
		.doh = x->doh,
		.ndoh = x->ndoh,
	};
	if (sets_open(&x->sets, &sc, &e) < 0) {
		log_msg(LOG_ERROR, NULL, "nf_tables unavailable", "error", e.msg, NULL);
		return 1;
	}
	/* 4: the DNS sockets are bound before the redirect points at them. */
	if (!init_only && !(x->relay = relay_new(x, &e))) {
		log_msg(LOG_ERROR, NULL, "DNS proxy failed", "error", e.msg, NULL);
		return 1;
	}
	/* 5: redirect + filter in one transaction, adopting what a previous run learned. */
	if (sets_install(&x->sets, layers, 3, x->user->default_action, &e) < 0) {
		log_msg(LOG_ERROR, NULL, "nft ruleset not installed", "error", e.msg, NULL);
		return 1;
	}
	log_msg(LOG_INFO, NULL, "ruleset installed", "mode", x->nft_mode ? "dns+nft" : "dns", NULL);
	if (init_only) {
		sets_close(&x->sets);
		return 0;
	}
	ev_on_turn(x->loop, relay_turn, x->relay);

	/* 6: the API; /healthz answers 200 only from here on. */
	struct http_server_config hc = {.max_body = 1 << 20, .log_name = NULL};
	x->srv = http_server_new(x->loop, &hc, &e);
	if (!x->srv)
		log_msg(LOG_ERROR, NULL, "cannot start the policy API", "error", e.msg, NULL);
	if (!x->srv || egress_api_routes(x) < 0 || listen_api(x) < 0)
		return 1;
	ev_timer_init(&reload_timer, on_reload, x);
	ev_timer_start(x->loop, &reload_timer, x->reload_ms);
	ev_signal(x->loop, SIGTERM, on_term, x);
	ev_signal(x->loop, SIGINT, on_term, x);
	x->ready = true;
	struct buf b;
	buf_init(&b, 3000);
	char nrules[24];
	snprintf(nrules, sizeof(nrules), "%zu", x->user->n);
	bool dumped = policy_to_json(x->user, &b, false) == 0;
	log_msg(LOG_INFO, NULL, "egressd ready", "opensandbox.event", "egress.loaded",
		"enforcementMode", x->nft_mode ? "dns+nft" : "dns", "egress.default",
		policy_action_name(x->user->default_action), "rules_count", nrules, "rules",
		dumped && buf_cstr(&b) ? buf_cstr(&b) : "(too long to log)", "dns",
		"127.0.0.1:15353,[::1]:15353", NULL);
	buf_free(&b);

	ev_run(x->loop);

	log_msg(LOG_INFO, NULL, "shutting down", "signal",
		term_signal == SIGINT ? "SIGINT" : "SIGTERM", "cleanup",
		x->cleanup_on_exit ? "true" : "false", NULL);
	ev_off_turn(x->loop, relay_turn, x->relay);
	http_server_free(x->srv);
	relay_free(x->relay);
	x->relay = NULL;
	upstream_list_close(&x->ups);
	if (sets_shutdown(&x->sets, x->cleanup_on_exit, &e) < 0)
		log_msg(LOG_ERROR, NULL, "nft shutdown state not applied", "error", e.msg, NULL);
	sets_close(&x->sets);
	policy_index_free(x->index);
	policy_index_free(x->skip_index);
	policy_free(x->user);
	policy_free(x->always_deny);
	policy_free(x->always_allow);
	policy_free(x->log_skip);
	ev_loop_free(x->loop);
	return 0;
}
