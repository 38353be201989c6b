/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls: TLS 1.2 transports on BearSSL, client and server, non-blocking.
 *
 * A struct tls_config holds the decoded trust anchors, certificate chain and
 * private key loaded from PEM files; it is shared read-only by every
 * connection made from it and must outlive them. tls_config_free() releases it.
 *
 * Client: verifies the server chain against the CA bundle and the server name
 * (SNI is sent; the name is checked against the certificate's DNS names, and
 * IP-address names when the server name is an IP literal); optionally presents a
 * client certificate (mTLS, as the Kubernetes API uses).
 * Server: presents its chain; with a client CA it requires and verifies client
 * certificates.
 */
#ifndef LIB_TLS_H
#define LIB_TLS_H

#include "err.h"
#include "transport.h"

struct tls_config;

/*
 * Client configuration. ca_file: PEM bundle of trust anchors (required unless
 * insecure_skip_verify). cert_file/key_file: optional client certificate chain
 * and its RSA or EC private key (PEM, PKCS#1/SEC1/PKCS#8). NULL on failure with e set.
 */
struct tls_config *tls_config_client(const char *ca_file, const char *cert_file,
				     const char *key_file, struct err *e);

/* Same, from PEM text in memory (e.g. a kubeconfig's base64-decoded data); lengths in bytes. */
struct tls_config *tls_config_client_mem(const char *ca_pem, size_t ca_len, const char *cert_pem,
					 size_t cert_len, const char *key_pem, size_t key_len,
					 struct err *e);

/* Server configuration: chain + key; client_ca_file optional (then client certs are required). */
struct tls_config *tls_config_server(const char *cert_file, const char *key_file,
				     const char *client_ca_file, struct err *e);

void tls_config_free(struct tls_config *cfg);

/*
 * Wraps a connected non-blocking socket. Client side: server_name is used for
 * SNI and verification (required). Takes ownership of fd even on failure.
 * The handshake runs inside the first read/write calls.
 */
struct transport *tls_client_new(int fd, const struct tls_config *cfg, const char *server_name,
				 struct err *e);
struct transport *tls_server_new(int fd, const struct tls_config *cfg, struct err *e);

/*
 * Why a TLS transport failed (handshake, certificate or record error, socket
 * error, EOF without close_notify): fills e and returns the -errno its
 * read/write report, or 0 when it has not failed or t is not a TLS transport.
 * shutdown_write() sends close_notify; TLS 1.2 has no half-close, so data
 * arriving after it is discarded.
 */
int tls_last_error(struct transport *t, struct err *e);

#endif
