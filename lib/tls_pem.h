/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_pem: decodes PEM text into the BearSSL structures a tls_config holds
 * (internal to lib/tls*.c).
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

#define TLS_PEM_MAX_FILE (4u << 20)
#define TLS_PEM_MAX_CERTS 1024

/* A private key whose byte arrays all point into mem (wiped on free). */
struct tls_key {
	unsigned type; /* 0 (none), BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	br_rsa_private_key rsa;
	br_ec_private_key ec;
	unsigned char *mem;
	size_t mem_len;
};

/* Reads a whole file into *buf (NUL-terminated, *len excludes the NUL). 0 or -errno. */
int tls_pem_read_file(const char *path, char **buf, size_t *len, struct err *e);

/* Frees a buffer from tls_pem_read_file after wiping it (it may hold a key). */
void tls_pem_free_file(char *buf, size_t len);

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
