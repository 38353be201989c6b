// SPDX-License-Identifier: Apache-2.0
#include "tls.h"

#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls_pem.h"
#include "tls_san.h"

/* The largest end-entity certificate kept for the IP-address check. */
#define TLS_EE_MAX 65536

/* BearSSL keeps the server name (SNI) in a 256-byte field, NUL included. */
#define TLS_NAME_MAX 255

/*
 * TLS 1.2 with forward secrecy and AEAD only: what Go (Docker, Kubernetes) and
 * current OpenSSL servers negotiate anyway; nothing with CBC, RSA key exchange
 * or static ECDH. Client order is the preference order.
 */
static const uint16_t tls_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

/*
 * An X.509 engine wrapping x509_minimal, which matches DNS names only. For an
 * IP-literal server name the chain is validated with no name, the end-entity
 * certificate is captured on the way through, and end_chain checks its
 * iPAddress subjectAltNames. For a DNS name everything is forwarded as is.
 */
struct name_check {
	const br_x509_class *vtable; /* first: BearSSL passes &vtable as the context */
	br_x509_minimal_context *inner;
	unsigned char ip[16];
	size_t ip_len;	   /* 0: DNS name, checked by the inner engine */
	unsigned char *ee; /* captured end-entity certificate (IP mode) */
	size_t ee_len, ee_cap;
	unsigned cert_index;
	unsigned failed; /* BR_ERR_X509_* found by this wrapper, or 0 */
};

struct tls_conn {
	struct transport t;
	br_ssl_engine_context *eng; /* inside u */
	union {
		br_ssl_client_context client;
		br_ssl_server_context server;
	} u;
	br_x509_minimal_context xmin;
	struct name_check check;
	int sock_err; /* sticky -errno from the socket */
	int sock_eof; /* the peer closed its end of the TCP connection */
	int hs_done;  /* application data flowed: the handshake completed */
	int closing;  /* we started the close_notify exchange */
	int fin_sent;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

static struct tls_conn *conn_of(struct transport *t)
{
	return (struct tls_conn *)(void *)((char *)t - offsetof(struct tls_conn, t));
}

static struct name_check *check_of(const br_x509_class **ctx)
{
	return (struct name_check *)(void *)ctx;
}

static void check_drop_ee(struct name_check *nc)
{
	free(nc->ee);
	nc->ee = NULL;
	nc->ee_len = nc->ee_cap = 0;
}

static void check_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct name_check *nc = check_of(ctx);

	check_drop_ee(nc);
	nc->cert_index = 0;
	nc->failed = 0;
	nc->inner->vtable->start_chain(&nc->inner->vtable, nc->ip_len ? NULL : server_name);
}

static void check_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct name_check *nc = check_of(ctx);

	if (nc->ip_len && nc->cert_index == 0 && !nc->failed) {
		if (length > TLS_EE_MAX) {
			nc->failed = BR_ERR_X509_LIMIT_EXCEEDED;
		} else {
			nc->ee = malloc(length ? length : 1);
			nc->ee_cap = length;
			if (!nc->ee)
				nc->failed = BR_ERR_X509_LIMIT_EXCEEDED;
		}
	}
	nc->inner->vtable->start_cert(&nc->inner->vtable, length);
}

static void check_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct name_check *nc = check_of(ctx);

	if (nc->ee && nc->cert_index == 0 && !nc->failed) {
		if (len > nc->ee_cap - nc->ee_len) {
			nc->failed = BR_ERR_X509_INNER_TRUNC;
		} else {
			memcpy(nc->ee + nc->ee_len, buf, len);
			nc->ee_len += len;
		}
	}
	nc->inner->vtable->append(&nc->inner->vtable, buf, len);
}

static void check_end_cert(const br_x509_class **ctx)
{
	struct name_check *nc = check_of(ctx);

	nc->cert_index++;
	nc->inner->vtable->end_cert(&nc->inner->vtable);
}

static unsigned check_end_chain(const br_x509_class **ctx)
{
	struct name_check *nc = check_of(ctx);
	unsigned r = nc->inner->vtable->end_chain(&nc->inner->vtable);

	if (r != 0 || !nc->ip_len)
		goto out;
	if (!nc->failed && (!nc->ee || nc->ee_len != nc->ee_cap))
		nc->failed = BR_ERR_X509_TRUNCATED;
	if (!nc->failed && tls_san_match_ip(nc->ee, nc->ee_len, nc->ip, nc->ip_len) != 1)
		nc->failed = BR_ERR_X509_BAD_SERVER_NAME;
	r = nc->failed;
out:
	check_drop_ee(nc);
	return r;
}

static const br_x509_pkey *check_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct name_check *nc = (const struct name_check *)(const void *)ctx;

	if (nc->failed)
		return NULL;
	return nc->inner->vtable->get_pkey(&nc->inner->vtable, usages);
}

static const br_x509_class name_check_vtable = {
	.context_size = sizeof(struct name_check),
	.start_chain = check_start_chain,
	.start_cert = check_start_cert,
	.append = check_append,
	.end_cert = check_end_cert,
	.end_chain = check_end_chain,
	.get_pkey = check_get_pkey,
};

/* ---- socket side ---- */

/* Sends pending records: 1 when some bytes went out, -EAGAIN, or a sticky -errno. */
static int sock_send(struct tls_conn *c)
{
	size_t len;
	unsigned char *buf = br_ssl_engine_sendrec_buf(c->eng, &len);
	ssize_t n;

	if (!buf || len == 0)
		return -EAGAIN;
	for (;;) {
		n = send(c->t.fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(c->t.fd, buf, len);
		if (n > 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -EAGAIN;
		c->sock_err = n < 0 ? -errno : -EIO;
		return c->sock_err;
	}
	br_ssl_engine_sendrec_ack(c->eng, (size_t)n);
	return 1;
}

/* Receives record bytes: 1, 0 at the peer's EOF, -EAGAIN, or a sticky -errno. */
static int sock_recv(struct tls_conn *c)
{
	size_t len;
	unsigned char *buf = br_ssl_engine_recvrec_buf(c->eng, &len);
	ssize_t n;

	if (!buf || len == 0)
		return -EAGAIN;
	for (;;) {
		n = read(c->t.fd, buf, len);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		c->sock_err = -errno;
		return c->sock_err;
	}
	if (n == 0) {
		c->sock_eof = 1;
		return 0;
	}
	br_ssl_engine_recvrec_ack(c->eng, (size_t)n);
	return 1;
}

/* ---- engine state to transport results ---- */

static int engine_errno(const struct tls_conn *c, int berr)
{
	if (berr == BR_ERR_IO)
		return c->sock_err ? c->sock_err : -EIO;
	if (berr >= BR_ERR_RECV_FATAL_ALERT && berr < BR_ERR_SEND_FATAL_ALERT)
		return -ECONNRESET;
	return -EPROTO;
}

/* The engine is closed: a clean close_notify exchange reads as EOF. */
static int closed_result(const struct tls_conn *c, int writing)
{
	int berr = br_ssl_engine_last_error(c->eng);

	if (berr == BR_ERR_OK)
		return writing ? -EPIPE : 0;
	return engine_errno(c, berr);
}

/*
 * TCP EOF while the engine still expects records. After our own close_notify
 * that is how many peers answer it; otherwise the stream may have been
 * truncated, which callers must not mistake for a clean end.
 */
static int eof_result(const struct tls_conn *c, int writing)
{
	if (c->closing)
		return writing ? -EPIPE : 0;
	return -ECONNRESET;
}

static unsigned engine_state(struct tls_conn *c)
{
	unsigned st = br_ssl_engine_current_state(c->eng);

	if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
		c->hs_done = 1;
	return st;
}

/*
 * The peer's close_notify arrived: BearSSL now only wants to answer it. This
 * reads the engine's own flag because its public state bits cannot tell this
 * apart from a full output buffer.
 */
static int peer_closed(const struct tls_conn *c)
{
	return c->eng->close_received != 0;
}

/* ---- transport operations ---- */

static ssize_t tls_read(struct transport *t, void *buf, size_t len)
{
	struct tls_conn *c = conn_of(t);

	if (len == 0)
		return 0;
	for (;;) {
		unsigned st;
		int r;

		if (c->sock_err)
			return c->sock_err;
		st = engine_state(c);
		if (st & BR_SSL_CLOSED)
			return closed_result(c, 0);
		if (st & BR_SSL_RECVAPP) {
			size_t n;
			unsigned char *p = br_ssl_engine_recvapp_buf(c->eng, &n);

			if (n > len)
				n = len;
			memcpy(buf, p, n);
			br_ssl_engine_recvapp_ack(c->eng, n);
			return (ssize_t)n;
		}
		if (peer_closed(c)) {
			/* Answering close_notify is courtesy; EOF does not wait for it. */
			while (sock_send(c) > 0)
				;
			return 0;
		}
		if (st & BR_SSL_SENDREC) {
			r = sock_send(c);
			if (r > 0)
				continue;
			if (r != -EAGAIN)
				return r;
		}
		if (!(st & BR_SSL_RECVREC))
			return (st & BR_SSL_SENDREC) ? -EAGAIN : -EIO;
		if (c->sock_eof)
			return eof_result(c, 0);
		r = sock_recv(c);
		if (r < 0)
			return r;
		if (r == 0)
			return eof_result(c, 0);
	}
}

/* Sends whatever records are ready without waiting; errors stay sticky for the next call. */
static void push_records(struct tls_conn *c)
{
	while ((engine_state(c) & BR_SSL_SENDREC) && sock_send(c) > 0)
		;
}

static ssize_t tls_write(struct transport *t, const void *buf, size_t len)
{
	struct tls_conn *c = conn_of(t);
	const unsigned char *src = buf;
	size_t done = 0;
	int r = -EAGAIN;

	while (done < len) {
		unsigned st;

		if (c->sock_err) {
			r = c->sock_err;
			break;
		}
		st = engine_state(c);
		if (st & BR_SSL_CLOSED) {
			r = closed_result(c, 1);
			break;
		}
		if (c->closing || peer_closed(c)) {
			r = -EPIPE;
			break;
		}
		if (st & BR_SSL_SENDAPP) {
			size_t n;
			unsigned char *p = br_ssl_engine_sendapp_buf(c->eng, &n);

			if (n > len - done)
				n = len - done;
			memcpy(p, src + done, n);
			br_ssl_engine_sendapp_ack(c->eng, n);
			done += n;
			continue;
		}
		if (st & BR_SSL_SENDREC) {
			r = sock_send(c);
			if (r > 0)
				continue;
			if (r != -EAGAIN)
				break;
		}
		/* Only the handshake needs input before we can write; renegotiation is off. */
		if (c->hs_done || !(st & BR_SSL_RECVREC)) {
			r = -EAGAIN;
			break;
		}
		if (c->sock_eof) {
			r = eof_result(c, 1);
			break;
		}
		r = sock_recv(c);
		if (r == 0)
			r = eof_result(c, 1);
		if (r < 0)
			break;
	}
	if (done == 0)
		return len == 0 ? 0 : r;
	/* Like a socket write, accepted bytes head for the peer now, not at the next flush. */
	br_ssl_engine_flush(c->eng, 0);
	push_records(c);
	return (ssize_t)done;
}

static int tls_flush(struct transport *t)
{
	struct tls_conn *c = conn_of(t);

	if (c->sock_err)
		return c->sock_err;
	br_ssl_engine_flush(c->eng, 0);
	for (;;) {
		unsigned st = engine_state(c);
		int r;

		if (st & BR_SSL_CLOSED) {
			int berr = br_ssl_engine_last_error(c->eng);

			return berr == BR_ERR_OK ? 0 : engine_errno(c, berr);
		}
		if (!(st & BR_SSL_SENDREC))
			return 0;
		r = sock_send(c);
		if (r < 0)
			return r;
	}
}

/*
 * Sends close_notify, then a TCP FIN. TLS 1.2 has no half-close: BearSSL
 * discards application data that arrives afterwards, and reads end (0) when
 * the peer answers with its own close_notify or FIN.
 */
static int tls_shutdown_write(struct transport *t)
{
	struct tls_conn *c = conn_of(t);
	int r;

	if (!c->closing) {
		c->closing = 1;
		br_ssl_engine_flush(c->eng, 0);
		br_ssl_engine_close(c->eng);
	}
	r = tls_flush(t);
	if (r < 0)
		return r;
	if (!c->fin_sent) {
		c->fin_sent = 1;
		if (shutdown(t->fd, SHUT_WR) < 0 && errno != ENOTCONN && errno != ENOTSOCK)
			return -errno;
	}
	return 0;
}

/*
 * Records to send always need EPOLLOUT; reading needs EPOLLIN; so does
 * writing while the handshake waits for the peer. Decrypted bytes already
 * held (transport_pending) do not make the socket readable: drain them first.
 */
static uint32_t tls_want(struct transport *t, int want_read, int want_write)
{
	struct tls_conn *c = conn_of(t);
	uint32_t ev = 0;
	unsigned st;

	if (c->sock_err)
		return (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0);
	st = engine_state(c);
	if (st & BR_SSL_CLOSED)
		return (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0);
	if (st & BR_SSL_SENDREC)
		ev |= EPOLLOUT;
	if (want_read && (st & (BR_SSL_RECVAPP | BR_SSL_RECVREC)))
		ev |= EPOLLIN;
	if (want_write) {
		if (st & BR_SSL_SENDAPP)
			ev |= EPOLLOUT;
		else if (!c->hs_done && !(st & BR_SSL_SENDREC) && (st & BR_SSL_RECVREC))
			ev |= EPOLLIN;
	}
	return ev;
}

static size_t tls_pending(struct transport *t)
{
	struct tls_conn *c = conn_of(t);
	size_t len = 0;

	if (br_ssl_engine_current_state(c->eng) & BR_SSL_CLOSED)
		return 0;
	if (!br_ssl_engine_recvapp_buf(c->eng, &len))
		return 0;
	return len;
}

static void conn_free(struct tls_conn *c)
{
	check_drop_ee(&c->check);
	if (c->t.fd >= 0)
		close(c->t.fd);
	/* Session keys and plaintext live in here. */
	explicit_bzero(c, sizeof(*c));
	free(c);
}

static void tls_close(struct transport *t)
{
	conn_free(conn_of(t));
}

static const struct transport_ops tls_ops = {
	.read = tls_read,
	.write = tls_write,
	.flush = tls_flush,
	.shutdown_write = tls_shutdown_write,
	.want = tls_want,
	.pending = tls_pending,
	.close = tls_close,
	.buffers_input = true,
};

/* ---- diagnostics ---- */

static const struct {
	int code;
	const char *text;
} engine_errors[] = {
	{BR_ERR_BAD_PARAM, "bad parameter"},
	{BR_ERR_BAD_STATE, "bad state"},
	{BR_ERR_UNSUPPORTED_VERSION, "peer does not support TLS 1.2"},
	{BR_ERR_BAD_VERSION, "unexpected protocol version"},
	{BR_ERR_BAD_LENGTH, "bad record length"},
	{BR_ERR_TOO_LARGE, "record too large"},
	{BR_ERR_BAD_MAC, "bad record MAC"},
	{BR_ERR_NO_RANDOM, "no entropy source"},
	{BR_ERR_UNKNOWN_TYPE, "unknown record type"},
	{BR_ERR_UNEXPECTED, "unexpected message"},
	{BR_ERR_BAD_CCS, "bad ChangeCipherSpec"},
	{BR_ERR_BAD_ALERT, "bad alert"},
	{BR_ERR_BAD_HANDSHAKE, "bad handshake message"},
	{BR_ERR_OVERSIZED_ID, "oversized session id"},
	{BR_ERR_BAD_CIPHER_SUITE, "no shared cipher suite"},
	{BR_ERR_BAD_COMPRESSION, "bad compression"},
	{BR_ERR_BAD_FRAGLEN, "bad fragment length"},
	{BR_ERR_BAD_SECRENEG, "bad secure renegotiation"},
	{BR_ERR_EXTRA_EXTENSION, "unexpected extension"},
	{BR_ERR_BAD_SNI, "bad server name extension"},
	{BR_ERR_BAD_HELLO_DONE, "bad ServerHelloDone"},
	{BR_ERR_LIMIT_EXCEEDED, "limit exceeded"},
	{BR_ERR_BAD_FINISHED, "bad Finished message"},
	{BR_ERR_RESUME_MISMATCH, "session resumption mismatch"},
	{BR_ERR_INVALID_ALGORITHM, "unsupported algorithm"},
	{BR_ERR_BAD_SIGNATURE, "bad handshake signature"},
	{BR_ERR_WRONG_KEY_USAGE, "certificate key usage forbids this use"},
	{BR_ERR_NO_CLIENT_AUTH, "client sent no certificate"},
	{BR_ERR_IO, "I/O error"},
	{BR_ERR_X509_EMPTY_CHAIN, "peer sent no certificate"},
	{BR_ERR_X509_BAD_TIME, "bad certificate validity dates"},
	{BR_ERR_X509_UNSUPPORTED, "unsupported certificate feature"},
	{BR_ERR_X509_LIMIT_EXCEEDED, "certificate too large"},
	{BR_ERR_X509_WRONG_KEY_TYPE, "wrong certificate key type"},
	{BR_ERR_X509_BAD_SIGNATURE, "bad certificate signature"},
	{BR_ERR_X509_TIME_UNKNOWN, "current time unknown"},
	{BR_ERR_X509_EXPIRED, "certificate expired or not yet valid"},
	{BR_ERR_X509_DN_MISMATCH, "certificate chain issuer/subject mismatch"},
	{BR_ERR_X509_BAD_SERVER_NAME, "certificate does not match the server name"},
	{BR_ERR_X509_CRITICAL_EXTENSION, "unsupported critical certificate extension"},
	{BR_ERR_X509_NOT_CA, "issuer certificate is not a CA"},
	{BR_ERR_X509_FORBIDDEN_KEY_USAGE, "certificate key usage forbids this use"},
	{BR_ERR_X509_WEAK_PUBLIC_KEY, "certificate key too weak"},
	{BR_ERR_X509_NOT_TRUSTED, "certificate not signed by a trusted CA"},
};

static const struct {
	int code;
	const char *text;
} alerts[] = {
	{10, "unexpected_message"},  {20, "bad_record_mac"},	      {40, "handshake_failure"},
	{42, "bad_certificate"},     {43, "unsupported_certificate"}, {44, "certificate_revoked"},
	{45, "certificate_expired"}, {46, "certificate_unknown"},     {47, "illegal_parameter"},
	{48, "unknown_ca"},	     {49, "access_denied"},	      {50, "decode_error"},
	{51, "decrypt_error"},	     {70, "protocol_version"},	      {71, "insufficient_security"},
	{80, "internal_error"},	     {112, "unrecognized_name"},      {116, "certificate_required"},
};

static const char *alert_name(int alert)
{
	for (size_t i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++)
		if (alerts[i].code == alert)
			return alerts[i].text;
	return "alert";
}

static int describe_engine_error(const struct tls_conn *c, int berr, struct err *e)
{
	int r = engine_errno(c, berr);

	if (berr >= BR_ERR_SEND_FATAL_ALERT)
		return err_set(e, -r, "tls: sent fatal alert %d (%s)",
			       berr - BR_ERR_SEND_FATAL_ALERT,
			       alert_name(berr - BR_ERR_SEND_FATAL_ALERT));
	if (berr >= BR_ERR_RECV_FATAL_ALERT)
		return err_set(e, -r, "tls: peer sent fatal alert %d (%s)",
			       berr - BR_ERR_RECV_FATAL_ALERT,
			       alert_name(berr - BR_ERR_RECV_FATAL_ALERT));
	for (size_t i = 0; i < sizeof(engine_errors) / sizeof(engine_errors[0]); i++)
		if (engine_errors[i].code == berr)
			return err_set(e, -r, "tls: %s (BearSSL error %d)", engine_errors[i].text,
				       berr);
	if (berr >= BR_ERR_X509_OK)
		return err_set(e, -r, "tls: malformed certificate (BearSSL error %d)", berr);
	return err_set(e, -r, "tls: BearSSL error %d", berr);
}

int tls_last_error(struct transport *t, struct err *e)
{
	struct tls_conn *c;
	int berr;

	if (!t || t->ops != &tls_ops)
		return 0;
	c = conn_of(t);
	if (c->sock_err)
		return err_set(e, -c->sock_err, "tls: socket: %s", strerror(-c->sock_err));
	if (br_ssl_engine_current_state(c->eng) & BR_SSL_CLOSED) {
		berr = br_ssl_engine_last_error(c->eng);
		return berr == BR_ERR_OK ? 0 : describe_engine_error(c, berr, e);
	}
	if (c->sock_eof && !c->closing && !peer_closed(c))
		return err_set(e, ECONNRESET,
			       c->hs_done ? "tls: connection closed without close_notify"
					  : "tls: connection closed during the handshake");
	return 0;
}

/* ---- connections ---- */

static struct tls_conn *conn_new(int fd, struct err *e)
{
	struct tls_conn *c = calloc(1, sizeof(*c));
	int fl, one = 1;

	if (!c) {
		close(fd);
		err_set(e, ENOMEM, "tls: connection");
		return NULL;
	}
	c->t.ops = &tls_ops;
	c->t.fd = fd;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	/* BearSSL hands out one record at a time, so a flight (ChangeCipherSpec,
	 * Finished) leaves in several sends; Nagle would hold each later one
	 * behind a delayed ACK, 40 ms per handshake. Fails harmlessly off TCP. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return c;
}

static void setup_engine(struct tls_conn *c)
{
	br_ssl_engine_set_versions(c->eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(c->eng, tls_suites, sizeof(tls_suites) / sizeof(tls_suites[0]));
	/* Renegotiation would make writes wait on reads after the handshake. */
	br_ssl_engine_add_flags(c->eng, BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_buffer(c->eng, c->iobuf, sizeof(c->iobuf), 1);
}

/* SHA-1 and MD5 certificate signatures can be forged; chains must use SHA-2. */
static void x509_weak_hashes_off(br_x509_minimal_context *x)
{
	br_x509_minimal_set_hash(x, br_md5_ID, NULL);
	br_x509_minimal_set_hash(x, br_sha1_ID, NULL);
}

struct transport *tls_client_new(int fd, const struct tls_config *cfg, const char *server_name,
				 struct err *e)
{
	struct tls_conn *c;
	size_t name_len = server_name ? strlen(server_name) : 0;
	int ip_len;

	if (!cfg || !cfg->tas || name_len == 0 || name_len > TLS_NAME_MAX) {
		close(fd);
		err_set(e, EINVAL,
			cfg && cfg->tas ? "tls: server name must be 1..%d bytes"
					: "tls: client config without trust anchors",
			TLS_NAME_MAX);
		return NULL;
	}
	c = conn_new(fd, e);
	if (!c)
		return NULL;
	br_ssl_client_init_full(&c->u.client, &c->xmin, cfg->tas, cfg->ta_count);
	c->eng = &c->u.client.eng;
	setup_engine(c);
	x509_weak_hashes_off(&c->xmin);

	ip_len = tls_san_parse_ip(server_name, c->check.ip);
	c->check.vtable = &name_check_vtable;
	c->check.inner = &c->xmin;
	c->check.ip_len = (size_t)ip_len;
	br_ssl_engine_set_x509(c->eng, &c->check.vtable);

	if (cfg->key.type == BR_KEYTYPE_RSA)
		br_ssl_client_set_single_rsa(&c->u.client, cfg->chain, cfg->chain_len,
					     &cfg->key.rsa, br_rsa_pkcs1_sign_get_default());
	else if (cfg->key.type == BR_KEYTYPE_EC)
		br_ssl_client_set_single_ec(&c->u.client, cfg->chain, cfg->chain_len, &cfg->key.ec,
					    BR_KEYTYPE_SIGN, cfg->issuer_key_type,
					    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());

	/* RFC 6066 keeps IP literals out of SNI. */
	if (!br_ssl_client_reset(&c->u.client, ip_len ? NULL : server_name, 0)) {
		describe_engine_error(c, br_ssl_engine_last_error(c->eng), e);
		conn_free(c);
		return NULL;
	}
	return &c->t;
}

/* Asks for client certificates, refuses a handshake without one, and verifies the chain. */
static void require_client_certs(struct tls_conn *c, const struct tls_config *cfg)
{
	static const br_hash_class *const hashes[] = {
		&br_sha224_vtable,
		&br_sha256_vtable,
		&br_sha384_vtable,
		&br_sha512_vtable,
	};

	br_x509_minimal_init(&c->xmin, &br_sha256_vtable, cfg->tas, cfg->ta_count);
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		br_x509_minimal_set_hash(
			&c->xmin,
			(int)((hashes[i]->desc >> BR_HASHDESC_ID_OFF) & BR_HASHDESC_ID_MASK),
			hashes[i]);
	br_x509_minimal_set_rsa(&c->xmin, br_rsa_pkcs1_vrfy_get_default());
	br_x509_minimal_set_ecdsa(&c->xmin, br_ec_get_default(), br_ecdsa_vrfy_asn1_get_default());
	br_ssl_engine_set_x509(c->eng, &c->xmin.vtable);
	/* CertificateVerify signatures. */
	br_ssl_engine_set_default_rsavrfy(c->eng);
	br_ssl_engine_set_default_ecdsa(c->eng);
	/* Sending CA names is what makes BearSSL request a certificate; without
	 * BR_OPT_TOLERATE_NO_CLIENT_AUTH an empty answer fails the handshake. */
	br_ssl_server_set_trust_anchor_names_alt(&c->u.server, cfg->tas, cfg->ta_count);
}

struct transport *tls_server_new(int fd, const struct tls_config *cfg, struct err *e)
{
	struct tls_conn *c;

	if (!cfg || !cfg->chain_len || !cfg->key.type) {
		close(fd);
		err_set(e, EINVAL, "tls: server config without certificate and key");
		return NULL;
	}
	c = conn_new(fd, e);
	if (!c)
		return NULL;
	if (cfg->key.type == BR_KEYTYPE_RSA)
		br_ssl_server_init_full_rsa(&c->u.server, cfg->chain, cfg->chain_len,
					    &cfg->key.rsa);
	else
		br_ssl_server_init_full_ec(&c->u.server, cfg->chain, cfg->chain_len,
					   cfg->issuer_key_type, &cfg->key.ec);
	c->eng = &c->u.server.eng;
	setup_engine(c);
	if (cfg->tas)
		require_client_certs(c, cfg);
	if (!br_ssl_server_reset(&c->u.server)) {
		describe_engine_error(c, br_ssl_engine_last_error(c->eng), e);
		conn_free(c);
		return NULL;
	}
	return &c->t;
}
