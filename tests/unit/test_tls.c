// SPDX-License-Identifier: Apache-2.0
/*
 * TLS transport tests: keys and certificates are made at run time with the
 * openssl CLI; connections run over loopback TCP or AF_UNIX socketpairs with
 * both ends non-blocking, driven by one poll() loop armed with transport_want().
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testpki.h"
#include "tls.h"
#include "tls_san.h"
#include "transport.h"

extern char **environ;

#define fx	testpki_path
#define fixture testpki_ready

static unsigned char *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static struct tls_config *client_cfg(const char *ca, const char *cert, const char *key)
{
	struct err e = {0};
	struct tls_config *c =
		tls_config_client(fx(ca), cert ? fx(cert) : NULL, key ? fx(key) : NULL, &e);
	if (!c)
		printf("    client config: %s\n", e.msg);
	CHECK(c != NULL);
	return c;
}

static struct tls_config *server_cfg(const char *cert, const char *key, const char *client_ca)
{
	struct err e = {0};
	struct tls_config *c =
		tls_config_server(fx(cert), fx(key), client_ca ? fx(client_ca) : NULL, &e);
	if (!c)
		printf("    server config: %s\n", e.msg);
	CHECK(c != NULL);
	return c;
}

/* ---- connections ---- */

static int make_pair(int fds[2], int tcp)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int l;

	if (!tcp)
		return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -1;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) < 0)
		goto fail;
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0)
		goto fail;
	if (connect(fds[0], (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fds[0]);
		goto fail;
	}
	fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (fds[1] < 0) {
		close(fds[0]);
		goto fail;
	}
	close(l);
	return 0;
fail:
	close(l);
	return -1;
}

/* One end of a conversation, as the poll loop drives it. */
struct peer {
	struct transport *t;
	unsigned char *tx; /* to send; grows in echo mode */
	size_t tx_len, tx_off, tx_cap;
	unsigned char *rx; /* received */
	size_t rx_len, rx_cap;
	size_t rx_want; /* satisfied after this many bytes */
	int echo, shut, want_eof;
	int flushed, shut_done, eof;
	int err; /* first failure, -errno */
};

static void grow(unsigned char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 65536;
	*buf = realloc(*buf, *cap);
	if (!*buf)
		abort();
}

static void peer_step(struct peer *p)
{
	unsigned char buf[16384];
	ssize_t n;
	int r;

	if (!p->t || p->err)
		return;
	while (p->tx_off < p->tx_len) {
		n = transport_write(p->t, p->tx + p->tx_off, p->tx_len - p->tx_off);
		if (n > 0) {
			p->tx_off += (size_t)n;
			continue;
		}
		if (n != -EAGAIN) {
			p->err = n ? (int)n : -EIO;
			return;
		}
		break;
	}
	r = transport_flush(p->t);
	if (r < 0 && r != -EAGAIN) {
		p->err = r;
		return;
	}
	p->flushed = r == 0 && p->tx_off == p->tx_len;
	if (p->shut && !p->shut_done && p->flushed) {
		r = transport_shutdown_write(p->t);
		if (r == 0)
			p->shut_done = 1;
		else if (r != -EAGAIN)
			p->err = r;
	}
	while (!p->eof && !p->err) {
		n = transport_read(p->t, buf, sizeof(buf));
		if (n > 0) {
			grow(&p->rx, &p->rx_cap, p->rx_len + (size_t)n);
			memcpy(p->rx + p->rx_len, buf, (size_t)n);
			p->rx_len += (size_t)n;
			if (p->echo) {
				grow(&p->tx, &p->tx_cap, p->tx_len + (size_t)n);
				memcpy(p->tx + p->tx_len, buf, (size_t)n);
				p->tx_len += (size_t)n;
				p->flushed = 0;
			}
			continue;
		}
		if (n == 0)
			p->eof = 1;
		else if (n != -EAGAIN)
			p->err = (int)n;
		break;
	}
}

static int peer_done(const struct peer *p)
{
	return p->err || (p->rx_len >= p->rx_want && p->flushed && (!p->want_eof || p->eof) &&
			  (!p->shut || p->shut_done));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Runs both ends until each is satisfied or failed. An end that fails is shut
 * down like a program would close it, so the other sees EOF. A poll() that
 * times out means transport_want() asked for the wrong events: a failure.
 */
static void run(struct peer *a, struct peer *b)
{
	struct peer *p[2] = {a, b};
	double deadline = now_ms() + 30000;
	int stalls = 0;

	for (;;) {
		struct pollfd pfd[2];
		int n = 0;

		for (int i = 0; i < 2; i++) {
			peer_step(p[i]);
			if (p[i]->err && p[i]->t && p[i]->t->fd >= 0)
				shutdown(p[i]->t->fd, SHUT_RDWR);
		}
		if (peer_done(a) && peer_done(b))
			break;
		if (now_ms() > deadline) {
			CHECK(!"conversation timed out");
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (!p[i]->t || p[i]->err)
				continue;
			pfd[n].fd = p[i]->t->fd;
			pfd[n].events = (short)transport_want(p[i]->t, !p[i]->eof,
							      !p[i]->flushed || p[i]->shut);
			pfd[n].revents = 0;
			n++;
		}
		if (poll(pfd, (nfds_t)n, 2000) == 0)
			stalls++;
	}
	CHECK_INT(stalls, 0);
}

static void peer_free(struct peer *p)
{
	transport_close(p->t);
	free(p->tx);
	free(p->rx);
	memset(p, 0, sizeof(*p));
}

static void fill(unsigned char *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
}

static void set_tx(struct peer *p, size_t len, uint32_t seed)
{
	grow(&p->tx, &p->tx_cap, len);
	fill(p->tx, len, seed);
	p->tx_len = len;
}

/* Opens a client/server pair over a fresh socket pair. */
static int open_pair(struct peer *cl, struct peer *sv, const struct tls_config *ccfg,
		     const char *name, const struct tls_config *scfg, int tcp)
{
	struct err e = {0};
	int fds[2];

	memset(cl, 0, sizeof(*cl));
	memset(sv, 0, sizeof(*sv));
	if (make_pair(fds, tcp) < 0) {
		CHECK(!"socket pair");
		return 0;
	}
	cl->t = tls_client_new(fds[0], ccfg, name, &e);
	if (!cl->t)
		printf("    tls_client_new: %s\n", e.msg);
	sv->t = tls_server_new(fds[1], scfg, &e);
	if (!sv->t)
		printf("    tls_server_new: %s\n", e.msg);
	CHECK(cl->t && sv->t);
	return cl->t && sv->t;
}

/* A short echo: 1 when both ends succeed; else cerr, serr, ce and se tell why. */
static int session(const struct tls_config *ccfg, const char *name, const struct tls_config *scfg,
		   int *cerr, int *serr, struct err *ce, struct err *se)
{
	struct peer cl, sv;
	int ok = 0;

	if (!open_pair(&cl, &sv, ccfg, name, scfg, 0))
		goto out;
	set_tx(&cl, 300, 1);
	cl.rx_want = 300;
	sv.echo = 1;
	sv.rx_want = 300;
	run(&cl, &sv);
	*cerr = cl.err;
	*serr = sv.err;
	tls_last_error(cl.t, ce);
	tls_last_error(sv.t, se);
	ok = !cl.err && !sv.err && cl.rx_len == 300 && memcmp(cl.rx, cl.tx, 300) == 0;
out:
	peer_free(&cl);
	peer_free(&sv);
	return ok;
}

/* ---- SAN walker ---- */

/* A synthetic certificate: just the structure tls_san walks, with the SAN given. */
static size_t make_cert(unsigned char *out, const unsigned char *san, size_t san_len, int with_ext)
{
	unsigned char tbs[512], exts[400];
	size_t t = 0, x = 0, o = 0;
	static const unsigned char head[] = {
		0xa0,	     0x03, 0x02, 0x01, 0x02, /* [0] version v3 */
		0x02,	     0x01, 0x01,	     /* serial */
		0x30,	     0x00, 0x30, 0x00,	     /* signature, issuer */
		0x30,	     0x00,		     /* validity */
		0x30,	     42,   /* subject, padded so the outer length takes 0x81 */
		[58] = 0x30, 0x00, /* spki */
	};
	static const unsigned char bc[] = {0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13,
					   0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00};

	memcpy(tbs, head, sizeof(head));
	t = sizeof(head);
	if (with_ext) {
		memcpy(exts + x, bc, sizeof(bc));
		x += sizeof(bc);
		/* Extension { OID 2.5.29.17, OCTET STRING { san } } */
		exts[x++] = 0x30;
		exts[x++] = (unsigned char)(5 + 2 + san_len);
		memcpy(exts + x, "\x06\x03\x55\x1d\x11", 5);
		x += 5;
		exts[x++] = 0x04;
		exts[x++] = (unsigned char)san_len;
		memcpy(exts + x, san, san_len);
		x += san_len;
		tbs[t++] = 0xa3;
		tbs[t++] = (unsigned char)(x + 2);
		tbs[t++] = 0x30;
		tbs[t++] = (unsigned char)x;
		memcpy(tbs + t, exts, x);
		t += x;
	}
	/* Certificate { tbs, algorithm, signature } */
	out[o++] = 0x30;
	if (2 + t + 5 >= 0x80)
		out[o++] = 0x81;
	out[o++] = (unsigned char)(2 + t + 5);
	out[o++] = 0x30;
	out[o++] = (unsigned char)t;
	memcpy(out + o, tbs, t);
	o += t;
	memcpy(out + o, "\x30\x00\x03\x01\x00", 5);
	return o + 5;
}

static const unsigned char san_ok[] = {
	0x30, 0x23, 0x82, 0x09, 'l', 'o', 'c',	'a',  'l', 'h', 'o', 's', 't',
	0x87, 0x04, 127,  0,	0,   1,	  0x87, 0x10, 0,   0,	0,   0,	  0,
	0,    0,    0,	  0,	0,   0,	  0,	0,    0,   0,	1,
};
static const unsigned char ip4[4] = {127, 0, 0, 1};
static const unsigned char ip6[16] = {[15] = 1};

/* Calls the walker on an exact-size heap copy so ASan sees any read past len. */
static int match_copy(const unsigned char *cert, size_t len, const unsigned char *ip, size_t ip_len)
{
	unsigned char *copy = malloc(len ? len : 1);
	int r;

	memcpy(copy, cert, len);
	r = tls_san_match_ip(copy, len, ip, ip_len);
	free(copy);
	return r;
}

TEST(tls_san_parse_ip)
{
	unsigned char ip[16];

	CHECK_INT(tls_san_parse_ip("127.0.0.1", ip), 4);
	CHECK(memcmp(ip, ip4, 4) == 0);
	CHECK_INT(tls_san_parse_ip("::1", ip), 16);
	CHECK(memcmp(ip, ip6, 16) == 0);
	CHECK_INT(tls_san_parse_ip("[::1]", ip), 16);
	CHECK_INT(tls_san_parse_ip("localhost", ip), 0);
	CHECK_INT(tls_san_parse_ip("1.2.3", ip), 0);
	CHECK_INT(tls_san_parse_ip("[1.2.3.4]", ip), 0);
	CHECK_INT(tls_san_parse_ip("[::1", ip), 0);
	CHECK_INT(tls_san_parse_ip("", ip), 0);
	CHECK_INT(tls_san_parse_ip("10.0.0.1.example.com", ip), 0);
}

TEST(tls_san_valid)
{
	unsigned char cert[600];
	size_t len = make_cert(cert, san_ok, sizeof(san_ok), 1);
	static const unsigned char other4[4] = {10, 0, 0, 1};
	static const unsigned char none[1] = {0x30};

	CHECK_INT(match_copy(cert, len, ip4, 4), 1);
	CHECK_INT(match_copy(cert, len, ip6, 16), 1);
	CHECK_INT(match_copy(cert, len, other4, 4), 0);
	CHECK_INT(match_copy(cert, len, ip4, 3), 0);
	/* An empty GeneralNames list and no extensions at all both just fail to match. */
	len = make_cert(cert, (const unsigned char *)"\x30\x00", 2, 1);
	CHECK_INT(match_copy(cert, len, ip4, 4), 0);
	len = make_cert(cert, NULL, 0, 0);
	CHECK_INT(match_copy(cert, len, ip4, 4), 0);
	CHECK_INT(match_copy(none, 0, ip4, 4), -1);
	CHECK_INT(match_copy(none, 1, ip4, 4), -1);
}

TEST(tls_san_truncated)
{
	unsigned char cert[600];
	size_t len = make_cert(cert, san_ok, sizeof(san_ok), 1);

	for (size_t n = 0; n < len; n++)
		if (match_copy(cert, n, ip4, 4) != -1)
			unit_fail(__FILE__, __LINE__, "truncated at %zu not rejected", n);
	/* Trailing bytes after the certificate are malformed too. */
	cert[len] = 0;
	CHECK_INT(match_copy(cert, len + 1, ip4, 4), -1);
}

TEST(tls_san_malformed)
{
	unsigned char cert[600], bad[600];
	size_t len = make_cert(cert, san_ok, sizeof(san_ok), 1);
	size_t san_at = len - 5 - sizeof(san_ok); /* GeneralNames SEQUENCE tag */
	struct {
		size_t at;
		unsigned char val;
	} cases[] = {
		{1, 0x80},	     /* indefinite outer length */
		{1, 0x85},	     /* five length bytes */
		{1, 0x82},	     /* long form that now overruns */
		{2, 0x7f},	     /* long form for a short length (non-minimal) */
		{4, 0xff},	     /* tbs longer than the certificate */
		{0, 0x1f},	     /* high tag number */
		{san_at + 1, 0x24},  /* GeneralNames longer than its OCTET STRING */
		{san_at + 1, 0x22},  /* ... or shorter */
		{san_at + 3, 0x0a},  /* a name running into the next */
		{san_at + 3, 0x81},  /* a name with a truncated long-form length */
		{san_at + 14, 0x30}, /* iPAddress running past the list */
		{san_at - 1, 0x26},  /* OCTET STRING longer than the extension */
	};

	CHECK_INT(match_copy(cert, len, ip4, 4), 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, cert, len);
		bad[cases[i].at] = cases[i].val;
		if (match_copy(bad, len, ip4, 4) != -1)
			unit_fail(__FILE__, __LINE__, "case %zu (byte %zu = 0x%02x) not rejected",
				  i, cases[i].at, cases[i].val);
	}
	/* Every byte set to every interesting value: any answer, never a bad read. */
	for (size_t at = 0; at < len; at++) {
		static const unsigned char vals[] = {0x00, 0x01, 0x30, 0x7f, 0x80, 0x81,
						     0x82, 0x84, 0x87, 0xa3, 0xff};
		for (size_t v = 0; v < sizeof(vals); v++) {
			int r;

			memcpy(bad, cert, len);
			bad[at] = vals[v];
			r = match_copy(bad, len, ip4, 4);
			CHECK(r >= -1 && r <= 1);
		}
	}
}

TEST(tls_san_duplicate_extension)
{
	unsigned char cert[600];
	size_t len = make_cert(cert, san_ok, sizeof(san_ok), 1);
	/* Turn the basicConstraints OID into a second subjectAltName with an empty list. */
	for (size_t i = 0; i + 5 <= len; i++)
		if (memcmp(cert + i, "\x06\x03\x55\x1d\x13", 5) == 0)
			cert[i + 4] = 0x11;
	CHECK_INT(match_copy(cert, len, ip4, 4), -1);
}

TEST(tls_san_real_certificate)
{
	static const unsigned char other[4] = {127, 0, 0, 2};
	unsigned char *der;
	size_t len = 0;

	if (!fixture())
		return;
	der = load(fx("srv.der"), &len);
	CHECK(der != NULL);
	if (!der)
		return;
	CHECK_INT(match_copy(der, len, ip4, 4), 1);
	CHECK_INT(match_copy(der, len, ip6, 16), 1);
	CHECK_INT(match_copy(der, len, other, 4), 0);
	for (size_t n = 0; n < len; n++)
		if (match_copy(der, n, ip4, 4) != -1)
			unit_fail(__FILE__, __LINE__, "truncated at %zu not rejected", n);
	free(der);
}

/* ---- configuration ---- */

TEST(tls_config_errors)
{
	struct err e = {0};
	char *big;
	size_t len = 0;
	unsigned char *ca;

	if (!fixture())
		return;
	CHECK(!tls_config_client(fx("missing.pem"), NULL, NULL, &e));
	CHECK_INT(e.code, ENOENT);
	CHECK(!tls_config_client(NULL, NULL, NULL, &e));
	CHECK_INT(e.code, EINVAL);
	CHECK(!tls_config_client(fx("ca.pem"), fx("cli.pem"), NULL, &e));
	CHECK_INT(e.code, EINVAL);
	/* a CA bundle with no certificate in it */
	CHECK(!tls_config_client(fx("ca.key"), NULL, NULL, &e));
	CHECK_INT(e.code, EINVAL);
	/* a key that is not the certificate's */
	err_clear(&e);
	CHECK(!tls_config_server(fx("srv.pem"), fx("cli.key"), NULL, &e));
	CHECK(strstr(e.msg, "does not match") != NULL);
	CHECK(!tls_config_server(fx("srv.pem"), fx("srvec.key"), NULL, &e));
	CHECK(!tls_config_server(fx("srv.key"), fx("srv.key"), NULL, &e));
	CHECK(!tls_config_client_mem(
		"-----BEGIN CERTIFICATE-----\nAAA*\n-----END CERTIFICATE-----\n", 58, NULL, 0, NULL,
		0, &e));
	CHECK_INT(e.code, EINVAL);
	CHECK(!tls_config_client_mem("-----BEGIN CERTIFICATE-----\nMIIB\n", 33, NULL, 0, NULL, 0,
				     &e));
	CHECK_INT(e.code, EINVAL);

	/* over 4 MiB: refused before decoding */
	big = calloc(1, (4u << 20) + 2);
	memset(big, '\n', (4u << 20) + 1);
	CHECK(!tls_config_client_mem(big, (4u << 20) + 1, NULL, 0, NULL, 0, &e));
	CHECK_INT(e.code, EFBIG);
	{
		FILE *f = fopen(fx("big.pem"), "w");
		if (f) {
			fwrite(big, 1, (4u << 20) + 1, f);
			fclose(f);
		}
		CHECK(!tls_config_client(fx("big.pem"), NULL, NULL, &e));
		CHECK_INT(e.code, EFBIG);
	}

	/* 1025 certificates: refused; 1024 are fine */
	ca = load(fx("ca.pem"), &len);
	CHECK(ca != NULL);
	if (ca && len * 1025 < (4u << 20)) {
		struct tls_config *cfg;

		for (int i = 0; i < 1025; i++)
			memcpy(big + (size_t)i * len, ca, len);
		CHECK(!tls_config_client_mem(big, len * 1025, NULL, 0, NULL, 0, &e));
		CHECK_INT(e.code, E2BIG);
		cfg = tls_config_client_mem(big, len * 1024, NULL, 0, NULL, 0, &e);
		CHECK(cfg != NULL);
		tls_config_free(cfg);
	}
	free(ca);
	free(big);
}

TEST(tls_config_mem_without_final_newline)
{
	struct err e = {0};
	size_t ca_len = 0, cert_len = 0, key_len = 0;
	unsigned char *ca, *cert, *key;
	struct tls_config *cfg;

	if (!fixture())
		return;
	ca = load(fx("ca.pem"), &ca_len);
	cert = load(fx("cliec.pem"), &cert_len);
	key = load(fx("cliec.key"), &key_len);
	CHECK(ca && cert && key);
	if (ca && cert && key) {
		/* kubeconfig data often loses the last newline */
		while (ca_len && ca[ca_len - 1] == '\n')
			ca_len--;
		cfg = tls_config_client_mem((char *)ca, ca_len, (char *)cert, cert_len, (char *)key,
					    key_len, &e);
		if (!cfg)
			printf("    %s\n", e.msg);
		CHECK(cfg != NULL);
		tls_config_free(cfg);
	}
	free(ca);
	free(cert);
	free(key);
}

/* ---- connections ---- */

TEST(tls_handshake_echo_tcp)
{
	struct tls_config *ccfg, *scfg;
	struct peer cl, sv;

	if (!fixture())
		return;
	ccfg = client_cfg("ca.pem", NULL, NULL);
	scfg = server_cfg("srv.pem", "srv.key", NULL);
	if (ccfg && scfg && open_pair(&cl, &sv, ccfg, "localhost", scfg, 1)) {
		/* Before the server speaks, writing only sends the ClientHello. */
		CHECK(transport_want(cl.t, 0, 1) & EPOLLOUT);
		CHECK_INT(transport_write(cl.t, "x", 1), -EAGAIN);
		CHECK_INT(transport_want(cl.t, 0, 1), EPOLLIN);
		CHECK_INT(transport_pending(cl.t), 0);

		set_tx(&cl, 5000, 7);
		cl.rx_want = 5000;
		sv.echo = 1;
		sv.rx_want = 5000;
		run(&cl, &sv);
		CHECK_INT(cl.err, 0);
		CHECK_INT(sv.err, 0);
		CHECK_INT(cl.rx_len, 5000);
		CHECK(cl.rx_len == 5000 && memcmp(cl.rx, cl.tx, 5000) == 0);
	}
	peer_free(&cl);
	peer_free(&sv);
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

/* 1 MiB each way at once; tiny socket buffers make every send partial or -EAGAIN. */
static void bulk(int tcp, int small_buffers)
{
	const size_t mib = 1u << 20;
	struct tls_config *ccfg, *scfg;
	struct peer cl, sv;
	unsigned char *want = malloc(mib);

	if (!fixture()) {
		free(want);
		return;
	}
	ccfg = client_cfg("ca.pem", NULL, NULL);
	scfg = server_cfg("srv.pem", "srv.key", NULL);
	if (ccfg && scfg && open_pair(&cl, &sv, ccfg, "localhost", scfg, tcp)) {
		if (small_buffers) {
			int sz = 4096;

			setsockopt(cl.t->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
			setsockopt(sv.t->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
			setsockopt(cl.t->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
			setsockopt(sv.t->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		}
		set_tx(&cl, mib, 11);
		set_tx(&sv, mib, 12);
		cl.rx_want = sv.rx_want = mib;
		run(&cl, &sv);
		CHECK_INT(cl.err, 0);
		CHECK_INT(sv.err, 0);
		CHECK_INT(cl.rx_len, mib);
		CHECK_INT(sv.rx_len, mib);
		fill(want, mib, 12);
		CHECK(cl.rx_len == mib && memcmp(cl.rx, want, mib) == 0);
		fill(want, mib, 11);
		CHECK(sv.rx_len == mib && memcmp(sv.rx, want, mib) == 0);
	}
	peer_free(&cl);
	peer_free(&sv);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	free(want);
}

TEST(tls_bulk_both_ways_tcp)
{
	bulk(1, 0);
}

TEST(tls_bulk_both_ways_small_buffers)
{
	bulk(0, 1);
}

TEST(tls_pending)
{
	struct tls_config *ccfg, *scfg;
	struct peer cl, sv;
	unsigned char buf[1000];
	ssize_t n = -EAGAIN;

	if (!fixture())
		return;
	ccfg = client_cfg("ca.pem", NULL, NULL);
	scfg = server_cfg("srv.pem", "srv.key", NULL);
	if (ccfg && scfg && open_pair(&cl, &sv, ccfg, "localhost", scfg, 0)) {
		set_tx(&cl, 10, 1);
		sv.rx_want = 10;
		run(&cl, &sv);
		CHECK(!cl.err && !sv.err);
		/* One 1000-byte record: after a 10-byte read, the rest is held decrypted. */
		fill(buf, sizeof(buf), 5);
		CHECK_INT(transport_write(sv.t, buf, sizeof(buf)), 1000);
		CHECK_INT(transport_flush(sv.t), 0);
		for (int i = 0; i < 100 && n == -EAGAIN; i++) {
			struct pollfd pfd = {.fd = cl.t->fd, .events = POLLIN};

			poll(&pfd, 1, 50);
			n = transport_read(cl.t, buf, 10);
		}
		CHECK_INT(n, 10);
		CHECK_INT(transport_pending(cl.t), 990);
		CHECK(transport_want(cl.t, 1, 0) & EPOLLIN);
		CHECK_INT(transport_read(cl.t, buf, sizeof(buf)), 990);
		CHECK_INT(transport_pending(cl.t), 0);
		CHECK_INT(transport_read(cl.t, buf, sizeof(buf)), -EAGAIN);
	}
	peer_free(&cl);
	peer_free(&sv);
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

TEST(tls_server_names)
{
	struct tls_config *ccfg, *scfg, *ocfg;
	struct err ce = {0}, se = {0};
	int cerr = 0, serr = 0;

	if (!fixture())
		return;
	ccfg = client_cfg("ca.pem", NULL, NULL);
	scfg = server_cfg("srv.pem", "srv.key", NULL);
	ocfg = server_cfg("other.pem", "other.key", NULL);
	if (ccfg && scfg && ocfg) {
		/* IP literals are checked against iPAddress names */
		CHECK(session(ccfg, "127.0.0.1", scfg, &cerr, &serr, &ce, &se));
		CHECK(session(ccfg, "::1", scfg, &cerr, &serr, &ce, &se));
		CHECK(session(ccfg, "[::1]", scfg, &cerr, &serr, &ce, &se));
		CHECK(session(ccfg, "other.example", ocfg, &cerr, &serr, &ce, &se));

		CHECK(!session(ccfg, "127.0.0.2", scfg, &cerr, &serr, &ce, &se));
		CHECK_INT(cerr, -EPROTO);
		CHECK(strstr(ce.msg, "server name") != NULL);
		CHECK(serr < 0);

		err_clear(&ce);
		CHECK(!session(ccfg, "::2", scfg, &cerr, &serr, &ce, &se));
		CHECK_INT(cerr, -EPROTO);
		CHECK(strstr(ce.msg, "server name") != NULL);

		/* a DNS name the certificate does not carry, and a certificate for another name */
		err_clear(&ce);
		CHECK(!session(ccfg, "example.com", scfg, &cerr, &serr, &ce, &se));
		CHECK_INT(cerr, -EPROTO);
		CHECK(strstr(ce.msg, "server name") != NULL);
		err_clear(&ce);
		CHECK(!session(ccfg, "localhost", ocfg, &cerr, &serr, &ce, &se));
		CHECK_INT(cerr, -EPROTO);
		CHECK(strstr(ce.msg, "server name") != NULL);
		/* the other certificate has no IP names at all */
		CHECK(!session(ccfg, "127.0.0.1", ocfg, &cerr, &serr, &ce, &se));
		CHECK_INT(cerr, -EPROTO);
	}
	tls_config_free(ccfg);
	tls_config_free(scfg);
	tls_config_free(ocfg);
}

TEST(tls_unknown_ca)
{
	struct tls_config *ccfg, *scfg;
	struct err ce = {0}, se = {0};
	int cerr = 0, serr = 0;

	if (!fixture())
		return;
	ccfg = client_cfg("ca2.pem", NULL, NULL);
	scfg = server_cfg("srv.pem", "srv.key", NULL);
	if (ccfg && scfg) {
		CHECK(!session(ccfg, "localhost", scfg, &cerr, &serr, &ce, &se));
		CHECK_INT(cerr, -EPROTO);
		CHECK_INT(ce.code, EPROTO);
		CHECK(strstr(ce.msg, "trusted CA") != NULL);
		/* the server only sees the client hang up mid-handshake */
		CHECK(serr < 0);
		CHECK(strstr(se.msg, "handshake") != NULL);
	}
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

TEST(tls_ec_server)
{
	struct tls_config *ccfg, *scfg;
	struct err ce = {0}, se = {0};
	int cerr = 0, serr = 0;

	if (!fixture())
		return;
	ccfg = client_cfg("ca.pem", NULL, NULL);
	scfg = server_cfg("srvec.pem", "srvec.key", NULL);
	if (ccfg && scfg) {
		CHECK(session(ccfg, "localhost", scfg, &cerr, &serr, &ce, &se));
		CHECK(session(ccfg, "127.0.0.1", scfg, &cerr, &serr, &ce, &se));
	}
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

TEST(tls_mutual_auth)
{
	struct tls_config *scfg, *rsa_cli, *ec_cli, *no_cli, *stranger;
	struct err ce = {0}, se = {0};
	int cerr = 0, serr = 0;

	if (!fixture())
		return;
	scfg = server_cfg("srv.pem", "srv.key", "ca.pem");
	rsa_cli = client_cfg("ca.pem", "cli.pem", "cli.key");
	ec_cli = client_cfg("ca.pem", "cliec.pem", "cliec.key");
	no_cli = client_cfg("ca.pem", NULL, NULL);
	stranger = client_cfg("ca.pem", "cli2.pem", "cli2.key");
	if (scfg && rsa_cli && ec_cli && no_cli && stranger) {
		CHECK(session(rsa_cli, "localhost", scfg, &cerr, &serr, &ce, &se));
		CHECK(session(ec_cli, "localhost", scfg, &cerr, &serr, &ce, &se));

		CHECK(!session(no_cli, "localhost", scfg, &cerr, &serr, &ce, &se));
		CHECK_INT(serr, -EPROTO);
		CHECK(strstr(se.msg, "no certificate") != NULL);
		CHECK(cerr < 0);

		err_clear(&se);
		CHECK(!session(stranger, "localhost", scfg, &cerr, &serr, &ce, &se));
		CHECK_INT(serr, -EPROTO);
		CHECK(strstr(se.msg, "trusted CA") != NULL);
		CHECK(cerr < 0);
	}
	tls_config_free(scfg);
	tls_config_free(rsa_cli);
	tls_config_free(ec_cli);
	tls_config_free(no_cli);
	tls_config_free(stranger);
}

TEST(tls_close_notify)
{
	struct tls_config *ccfg, *scfg;
	struct peer cl, sv;
	struct err e = {0};
	char c;

	if (!fixture())
		return;
	ccfg = client_cfg("ca.pem", NULL, NULL);
	scfg = server_cfg("srv.pem", "srv.key", NULL);
	if (ccfg && scfg && open_pair(&cl, &sv, ccfg, "localhost", scfg, 1)) {
		set_tx(&cl, 2000, 3);
		cl.rx_want = 2000;
		sv.echo = 1;
		sv.rx_want = 2000;
		run(&cl, &sv);
		CHECK(cl.rx_len == 2000 && !cl.err && !sv.err);

		/* client closes: the server reads EOF, a clean one */
		cl.shut = 1;
		cl.want_eof = 1;
		sv.want_eof = 1;
		run(&cl, &sv);
		CHECK_INT(cl.err, 0);
		CHECK_INT(sv.err, 0);
		CHECK(sv.eof);
		CHECK(cl.eof);
		CHECK_INT(tls_last_error(sv.t, &e), 0);
		CHECK_INT(tls_last_error(cl.t, &e), 0);
		CHECK_INT(transport_read(sv.t, &c, 1), 0);
		CHECK_INT(transport_write(sv.t, "x", 1), -EPIPE);
		CHECK_INT(transport_write(cl.t, "x", 1), -EPIPE);
	}
	peer_free(&cl);
	peer_free(&sv);
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

TEST(tls_eof_without_close_notify)
{
	struct tls_config *ccfg, *scfg;
	struct peer cl, sv;
	struct err e = {0};

	if (!fixture())
		return;
	ccfg = client_cfg("ca.pem", NULL, NULL);
	scfg = server_cfg("srv.pem", "srv.key", NULL);
	if (ccfg && scfg && open_pair(&cl, &sv, ccfg, "localhost", scfg, 0)) {
		set_tx(&cl, 100, 3);
		cl.rx_want = 100;
		sv.echo = 1;
		sv.rx_want = 100;
		run(&cl, &sv);
		CHECK(cl.rx_len == 100 && !cl.err && !sv.err);
		/* a truncated stream is not a clean end */
		shutdown(cl.t->fd, SHUT_WR);
		sv.want_eof = 1;
		sv.rx_want = 0;
		cl.rx_want = 0;
		run(&cl, &sv);
		CHECK_INT(sv.err, -ECONNRESET);
		CHECK_INT(tls_last_error(sv.t, &e), -ECONNRESET);
		CHECK(strstr(e.msg, "close_notify") != NULL);
	}
	peer_free(&cl);
	peer_free(&sv);
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

TEST(tls_bad_arguments)
{
	struct tls_config *ccfg, *scfg;
	struct err e = {0};
	int fds[2];

	if (!fixture())
		return;
	ccfg = client_cfg("ca.pem", NULL, NULL);
	scfg = server_cfg("srv.pem", "srv.key", NULL);
	if (ccfg && scfg && make_pair(fds, 0) == 0) {
		/* the fd is consumed either way */
		CHECK(!tls_client_new(fds[0], ccfg, "", &e));
		CHECK_INT(e.code, EINVAL);
		CHECK(fcntl(fds[0], F_GETFD) < 0);
		CHECK(!tls_server_new(fds[1], ccfg, &e));
		CHECK(fcntl(fds[1], F_GETFD) < 0);
		CHECK_INT(tls_last_error(NULL, &e), 0);
	}
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

/* ---- interoperability ---- */

TEST(tls_openssl_s_server)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	posix_spawn_file_actions_t fa;
	struct tls_config *ccfg;
	struct peer cl = {0}, none = {.flushed = 1};
	char accept_arg[64];
	pid_t pid = -1;
	int l, fd = -1;

	if (!fixture())
		return;
	/* Pick a free loopback port for s_server. */
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) < 0) {
		CHECK(!"port");
		if (l >= 0)
			close(l);
		return;
	}
	close(l);
	snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", ntohs(a.sin_port));
	char *argv[] = {"openssl", "s_server",
			"-accept", accept_arg,
			"-cert",   (char *)fx("srv.pem"),
			"-key",	   (char *)fx("srv.key"),
			"-www",	   "-naccept",
			"1",	   NULL};
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "openssl", &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (pid < 0) {
		unit_skip("cannot start openssl s_server");
		return;
	}
	/* Wait up to 5 s for it to listen. */
	for (int i = 0; i < 100 && fd < 0; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			close(fd);
			fd = -1;
			usleep(50000);
		}
	}
	ccfg = client_cfg("ca.pem", NULL, NULL);
	if (fd < 0) {
		unit_skip("openssl s_server did not start listening");
	} else if (ccfg) {
		struct err e = {0};

		cl.t = tls_client_new(fd, ccfg, "localhost", &e);
		CHECK(cl.t != NULL);
		if (cl.t) {
			grow(&cl.tx, &cl.tx_cap, sizeof(req) - 1);
			memcpy(cl.tx, req, sizeof(req) - 1);
			cl.tx_len = sizeof(req) - 1;
			cl.want_eof = 1;
			run(&cl, &none);
			tls_last_error(cl.t, &e);
			if (cl.err)
				printf("    client: %s\n", e.msg);
			/* s_server may or may not send close_notify before closing */
			CHECK(cl.err == 0 || cl.err == -ECONNRESET);
			CHECK(cl.rx_len > 16 && memcmp(cl.rx, "HTTP/1.0 200 ok", 15) == 0);
		}
	} else if (fd >= 0) {
		close(fd);
	}
	peer_free(&cl);
	tls_config_free(ccfg);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}
