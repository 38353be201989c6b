// SPDX-License-Identifier: Apache-2.0
/*
 * execd: flags and environment, listeners on 0.0.0.0 and [::], the access
 * token filter, /ping, and PID 1 duties (reap every child, forward SIGTERM
 * and SIGINT to the process groups we started, exit 128+signal).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "secret.h"
#include "listener.h"
#include "execd.h"
#include "http_proxy.h"
#include "install.h"
#include "log.h"
#include "proc.h"
#include "respond.h"
#include "sock.h"
#include "version.h"

#define EXECD_DEFAULT_PORT 44772
#define SHUTDOWN_GRACE_MS  3000

static struct execd X;
static int exit_signal;
static struct ev_timer shutdown_timer;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: execd [--port N] [--access-token T] [--log-level L] | --install DIR\n"
		"  --port N           listen port (default 44772)\n"
		"  --access-token T   require header X-EXECD-ACCESS-TOKEN: T (env "
		"EXECD_ACCESS_TOKEN)\n"
		"  --log-level L      debug|info|warn|error or Go-style 0-9 (default info)\n"
		"  --install DIR      copy execd and the bootstrap.sh beside it into DIR and exit\n"
		"                     (Kubernetes init container; --disable-ipv6 also turns IPv6 "
		"off)\n"
		"  --version          print the version, commit and build date\n"
		"environment: EXECD_ENVS (KEY=VALUE file for /command), EXECD_LOG_FILE, TMPDIR\n");
}

static bool auth_filter(struct http_conn *c, struct http_req *req, void *arg)
{
	struct execd *x = arg;
	if (!x->token[0])
		return true;
	const char *got = http_req_header(req, "X-EXECD-ACCESS-TOKEN");
	if (got && secret_equal(got, x->token)) {
		http_conn_trust(c);
		return true;
	}
	static const char body[] =
		"{\"error\":\"Unauthorized: invalid or missing header X-EXECD-ACCESS-TOKEN\"}";
	http_resp_send(c, 401, RESPOND_JSON, body, sizeof(body) - 1);
	return false;
}

static void not_found(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	http_resp_send(c, 404, "text/plain", "404 page not found", 18);
}

static void h_ping(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	respond_ok(c);
}

static void on_shutdown_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	if (proc_count() > 0)
		proc_signal_all(SIGKILL);
	ev_stop(loop);
}

/* SIGTERM/SIGINT: pass it on to every process group we started, give them a
 * moment, then exit like a shell would (128 + signal). */
static void on_term(struct ev_loop *loop, int signo, void *arg)
{
	(void)arg;
	if (exit_signal) {
		ev_stop(loop);
		return;
	}
	exit_signal = signo;
	log_msg(LOG_INFO, NULL, "shutting down", "signal", signo == SIGTERM ? "SIGTERM" : "SIGINT",
		NULL);
	proc_signal_all(signo);
	ev_timer_init(&shutdown_timer, on_shutdown_timer, NULL);
	ev_timer_start(loop, &shutdown_timer, proc_count() ? SHUTDOWN_GRACE_MS : 0);
}

static void on_turn(struct ev_loop *loop, void *arg)
{
	(void)arg;
	if (exit_signal && proc_count() == 0)
		ev_stop(loop);
}

/* Go-style flags: -x or --x, with "=v" or " v". */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i];
	while (*a == '-')
		a++;
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/*
 * The token is the sandbox's only credential: keep a private copy, and take
 * it out of what code in the sandbox can read. The environment is not passed
 * on to commands, the flag's bytes in /proc/<pid>/cmdline are blanked, and the
 * process is made non-dumpable, so without CAP_SYS_PTRACE (dropped in the
 * default container profile) neither /proc/<pid>/environ nor /proc/<pid>/mem
 * of execd can be read.
 */
static int keep_token(const char *token, char *token_arg)
{
	static char copy[513];
	size_t n = token ? strlen(token) : 0;
	if (n >= sizeof(copy))
		return -1;
	memcpy(copy, token ? token : "", n + 1);
	X.token = copy;
	if (token_arg)
		memset(token_arg, 'x', strlen(token_arg));
	/* Blank the bytes too: /proc/<pid>/environ shows the original block. */
	char *env = getenv("EXECD_ACCESS_TOKEN");
	if (env)
		memset(env, 'x', strlen(env));
	unsetenv("EXECD_ACCESS_TOKEN");
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

static int open_log(void)
{
	const char *path = getenv("EXECD_LOG_FILE");
	if (!path || !*path)
		return 1;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	return fd < 0 ? 1 : fd;
}

static int listen_all(struct execd *x, uint16_t port)
{
	struct err e = {0};
	/* "::" with IPv4 mapped in serves both families from one socket; a host
	 * without IPv6 falls back to 0.0.0.0 inside sock_listen_tcp. */
	int fd = sock_listen_tcp(NULL, port, &e);
	if (fd < 0) {
		log_msg(LOG_ERROR, NULL, "cannot listen", "error", e.msg, NULL);
		return -1;
	}
	if (http_server_listen_fd(x->srv, fd, &e) < 0) {
		log_msg(LOG_ERROR, NULL, "cannot listen", "error", e.msg, NULL);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long port = EXECD_DEFAULT_PORT;
	const char *token = getenv("EXECD_ACCESS_TOKEN");
	char *token_arg = NULL;
	int level = LOG_INFO;
	struct err e = {0};
	const char *install_dir = NULL;
	bool disable_ipv6 = false;

	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = flag_value(argc, argv, &i, "port"))) {
			char *end;
			port = strtoul(v, &end, 10);
			if (*end || port == 0 || port > 65535) {
				fprintf(stderr, "execd: invalid port %s\n", v);
				return 2;
			}
		} else if ((v = flag_value(argc, argv, &i, "access-token"))) {
			token = v;
			token_arg = (char *)v;
		} else if ((v = flag_value(argc, argv, &i, "log-level"))) {
			/* Go-style numbers: <=3 error, 4 warn, 5-6 info, >=7 debug. */
			char *end;
			long n = strtol(v, &end, 10);
			if (!*end)
				level = n <= 3	 ? LOG_ERROR
					: n == 4 ? LOG_WARN
					: n <= 6 ? LOG_INFO
						 : LOG_DEBUG;
			else if ((level = log_level_parse(v)) < 0)
				level = LOG_INFO;
		} else if ((v = flag_value(argc, argv, &i, "install"))) {
			install_dir = v;
		} else if (strcmp(argv[i], "--disable-ipv6") == 0) {
			disable_ipv6 = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (version_flag(argv[i])) {
			version_print("execd");
			return 0;
		} else {
			fprintf(stderr, "execd: unknown flag %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (install_dir) {
		if (install_run(install_dir, disable_ipv6, &e) < 0) {
			fprintf(stderr, "execd: install: %s\n", e.msg);
			return 1;
		}
		return 0;
	}
	log_init("execd", (enum log_level)level, open_log());
	/* Every connection is an fd: run out at the hard limit, not at 1024. */
	if (listener_raise_fd_limit() < 0)
		log_msg(LOG_WARN, NULL, "could not raise the open-file limit", NULL);
	signal(SIGPIPE, SIG_IGN);

	if (keep_token(token, token_arg) < 0) {
		log_msg(LOG_ERROR, NULL, "the access token is too long", "max", "512", NULL);
		return 2;
	}
	X.port = (uint16_t)port;
	X.envs_file = getenv("EXECD_ENVS");
	X.tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	X.loop = ev_loop_new(&e);
	if (!X.loop) {
		log_msg(LOG_ERROR, NULL, "cannot start the event loop", "error", e.msg, NULL);
		return 1;
	}
	struct http_server_config cfg = {
		/* Streams and uploads are long; only idle connections are timed out. */
		.idle_timeout_ms = 120000,
		.header_timeout_ms = 30000,
		.max_body = 16 * 1024 * 1024,
		.log_name = "execd",
	};
	X.srv = http_server_new(X.loop, &cfg, &e);
	if (!X.srv) {
		log_msg(LOG_ERROR, NULL, "cannot start the HTTP server", "error", e.msg, NULL);
		return 1;
	}
	if (proc_init(X.loop) < 0) {
		log_msg(LOG_ERROR, NULL, "cannot watch child processes (signalfd)", NULL);
		return 1;
	}
	http_server_set_filter(X.srv, auth_filter, &X);
	http_server_set_fallback(X.srv, not_found, &X);
	/* The proxy first: it is the hot path, and its prefix overlaps nothing else. */
	if (proxy_routes(&X) < 0 ||
	    http_server_route(X.srv, "GET", "/ping", h_ping, &X, NULL) < 0 ||
	    command_routes(&X) < 0 || code_routes(&X) < 0 || session_routes(&X) < 0 ||
	    pty_routes(&X) < 0 || files_routes(&X) < 0 || metrics_routes(&X) < 0) {
		log_msg(LOG_ERROR, NULL, "cannot set up routes", NULL);
		return 1;
	}
	if (listen_all(&X, (uint16_t)port) < 0)
		return 1;
	ev_signal(X.loop, SIGTERM, on_term, NULL);
	ev_signal(X.loop, SIGINT, on_term, NULL);
	ev_on_turn(X.loop, on_turn, NULL);
	char ports[8];
	snprintf(ports, sizeof(ports), "%lu", port);
	log_msg(LOG_INFO, NULL, "listening", "port", ports, "auth", X.token[0] ? "token" : "none",
		NULL);
	ev_run(X.loop);
	http_server_free(X.srv);
	http_proxy_free(X.proxy);
	return exit_signal ? 128 + exit_signal : 0;
}
