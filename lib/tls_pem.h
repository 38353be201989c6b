/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_pem: decodes PEM text into the BearSSL structures a tls_config holds,
 * and builds tls_config from files or memory (internal to lib/tls*.c).
 *
 * Every array and buffer produced is heap memory owned by the caller (the
 * tls_config) and released with the matching *_free(), which accepts what a
 * failed call left behind. Input is bounded: at most TLS_PEM_MAX_FILE bytes
 * and TLS_PEM_MAX_CERTS certificates per call. PEM text is (buf, len) and need
 * not be NUL-terminated.
 */
#ifndef LIB_TLS_PEM_H
#define LIB_TLS_PEM_H

#include <bearssl.h>
#include <stddef.h>

#include "err.h"
#include "tls.h"

#define TLS_PEM_MAX_FILE  (4u << 20)
#define TLS_PEM_MAX_CERTS 1024

/* A private key whose byte arrays all point into mem (wiped on free). */
struct tls_key {
	unsigned type; /* 0 (none), BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	br_rsa_private_key rsa;
	br_ec_private_key ec;
	unsigned char *mem;
	size_t mem_len;
};

/* What a tls_config owns (built in tls_pem.c, used by tls.c); see lib/tls.h. */
struct tls_config {
	br_x509_trust_anchor *tas; /* CA bundle (client) or client CA (server); may be NULL */
	size_t ta_count;
	br_x509_certificate *chain; /* our certificate chain, end entity first; may be NULL */
	size_t chain_len;
	struct tls_key key;
	unsigned issuer_key_type; /* key type of the CA that signed chain[0] */
};

/* Decodes every CERTIFICATE into trust anchors (at least one). 0 or -errno. */
int tls_pem_trust_anchors(const char *pem, size_t len, br_x509_trust_anchor **tas, size_t *n,
			  struct err *e);
void tls_pem_free_trust_anchors(br_x509_trust_anchor *tas, size_t n);

/* Collects every CERTIFICATE as DER, end-entity first (at least one). 0 or -errno. */
int tls_pem_chain(const char *pem, size_t len, br_x509_certificate **chain, size_t *n,
		  struct err *e);
void tls_pem_free_chain(br_x509_certificate *chain, size_t n);

/* Decodes the one RSA or EC private key (PKCS#8, PKCS#1 or SEC1). 0 or -errno. */
int tls_pem_key(const char *pem, size_t len, struct tls_key *key, struct err *e);
void tls_pem_free_key(struct tls_key *key);

/*
 * Checks that key is the private half of the end-entity certificate ee and
 * reports the key type of the certificate's signer. 0 or -errno.
 */
int tls_pem_check_pair(const br_x509_certificate *ee, const struct tls_key *key,
		       unsigned *issuer_key_type, struct err *e);

#endif
