// SPDX-License-Identifier: Apache-2.0
#include "tls_pem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Decoded bytes of one PEM object or one DN; capacity fixed when created. */
struct acc {
	unsigned char *buf;
	size_t len, cap;
	int overflow;
};

static void acc_append(void *ctx, const void *src, size_t n)
{
	struct acc *a = ctx;

	if (a->overflow || n > a->cap - a->len) {
		a->overflow = 1;
		return;
	}
	memcpy(a->buf + a->len, src, n);
	a->len += n;
}

typedef int pem_object_fn(void *arg, const char *name, const unsigned char *der, size_t len,
			  struct err *e);

static int is_cert_name(const char *name)
{
	return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0;
}

/* Decodes each PEM object in turn and hands its DER to fn; bytes between objects are ignored. */
static int pem_each(const char *pem, size_t len, pem_object_fn *fn, void *arg, struct err *e)
{
	br_pem_decoder_context pc;
	struct acc obj = {0};
	char name[128] = "";
	size_t off = 0;
	int in_obj = 0, final_nl = 0, r = 0;

	if (len > TLS_PEM_MAX_FILE)
		return err_set(e, EFBIG, "PEM input is larger than %u bytes", TLS_PEM_MAX_FILE);
	/* Base64 decodes to at most 3/4 of its size, so one buffer fits any object. */
	obj.cap = len / 4 * 3 + 3;
	obj.buf = malloc(obj.cap);
	if (!obj.buf)
		return err_set(e, ENOMEM, "PEM buffer");
	br_pem_decoder_init(&pc);
	for (;;) {
		const char *src;
		size_t avail, n;

		if (off < len) {
			src = pem + off;
			avail = len - off;
		} else if (!final_nl) {
			/* The decoder ends an object on the newline after its END line,
			 * which the last line of a file may lack. */
			src = "\n";
			avail = 1;
		} else {
			break;
		}
		n = br_pem_decoder_push(&pc, src, avail);
		if (off < len)
			off += n;
		else if (n == 1)
			final_nl = 1;

		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			snprintf(name, sizeof(name), "%s", br_pem_decoder_name(&pc));
			obj.len = 0;
			obj.overflow = 0;
			in_obj = 1;
			br_pem_decoder_setdest(&pc, acc_append, &obj);
			break;
		case BR_PEM_END_OBJ:
			in_obj = 0;
			if (obj.overflow) {
				r = err_set(e, EINVAL, "PEM object %s too large", name);
				goto out;
			}
			r = fn(arg, name, obj.buf, obj.len, e);
			if (r < 0)
				goto out;
			break;
		case BR_PEM_ERROR:
			r = err_set(e, EINVAL, "malformed PEM object %s", in_obj ? name : "");
			goto out;
		default:
			if (n == 0) {
				r = err_set(e, EINVAL, "PEM decoder made no progress");
				goto out;
			}
		}
	}
	if (in_obj)
		r = err_set(e, EINVAL, "PEM object %s has no END line", name);
out:
	/* The object may have been a private key. */
	explicit_bzero(obj.buf, obj.cap);
	free(obj.buf);
	explicit_bzero(&pc, sizeof(pc));
	return r;
}

/* Reads a whole file into *buf (NUL-terminated, *len excludes the NUL). 0 or -errno. */
static int read_file(const char *path, char **buf, size_t *len, struct err *e)
{
	char *b = NULL;
	size_t n = 0, cap = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	for (;;) {
		ssize_t got;

		if (n == cap) {
			/* Grow to one byte past the limit so an oversized file is detected. */
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb;

			if (ncap > TLS_PEM_MAX_FILE + 1)
				ncap = TLS_PEM_MAX_FILE + 1;
			if (ncap <= cap) {
				r = err_set(e, EFBIG, "%s is larger than %u bytes", path,
					    TLS_PEM_MAX_FILE);
				goto out;
			}
			nb = malloc(ncap + 1);
			if (!nb) {
				r = err_set(e, ENOMEM, "read %s", path);
				goto out;
			}
			if (b) {
				memcpy(nb, b, n);
				explicit_bzero(b, cap);
				free(b);
			}
			b = nb;
			cap = ncap;
		}
		got = read(fd, b + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = err_set(e, errno, "read %s", path);
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > TLS_PEM_MAX_FILE) {
		r = err_set(e, EFBIG, "%s is larger than %u bytes", path, TLS_PEM_MAX_FILE);
		goto out;
	}
	if (!b) {
		b = malloc(1);
		if (!b) {
			r = err_set(e, ENOMEM, "read %s", path);
			goto out;
		}
		cap = 0;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	if (b) {
		explicit_bzero(b, cap);
		free(b);
	}
	close(fd);
	return r;
}

/* Frees a file buffer after wiping it: it may hold a key. */
static void free_file(char *buf, size_t len)
{
	if (!buf)
		return;
	explicit_bzero(buf, len);
	free(buf);
}

struct ta_list {
	br_x509_trust_anchor *v;
	size_t n, cap;
};

static size_t pkey_bytes(const br_x509_pkey *pk)
{
	if (pk->key_type == BR_KEYTYPE_RSA)
		return pk->key.rsa.nlen + pk->key.rsa.elen;
	return pk->key.ec.qlen;
}

static int add_trust_anchor(void *arg, const char *name, const unsigned char *der, size_t len,
			    struct err *e)
{
	struct ta_list *l = arg;
	br_x509_decoder_context dc;
	struct acc dn = {0};
	const br_x509_pkey *pk;
	br_x509_trust_anchor *ta;
	unsigned char *mem;
	int r = 0;

	if (!is_cert_name(name))
		return 0;
	if (l->n == TLS_PEM_MAX_CERTS)
		return err_set(e, E2BIG, "more than %d certificates", TLS_PEM_MAX_CERTS);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		br_x509_trust_anchor *nv = realloc(l->v, ncap * sizeof(*nv));

		if (!nv)
			return err_set(e, ENOMEM, "trust anchors");
		l->v = nv;
		l->cap = ncap;
	}
	/* A DN is part of the certificate, so the certificate's size bounds it. */
	dn.cap = len;
	dn.buf = malloc(len ? len : 1);
	if (!dn.buf)
		return err_set(e, ENOMEM, "trust anchor DN");
	br_x509_decoder_init(&dc, acc_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || dn.overflow) {
		r = err_set(e, EINVAL, "certificate %zu: cannot decode (BearSSL error %d)",
			    l->n + 1, br_x509_decoder_last_error(&dc));
		goto out;
	}
	/* One block per anchor: the DN, then the key bytes; dn.data owns it. */
	mem = malloc(dn.len + pkey_bytes(pk) + 1);
	if (!mem) {
		r = err_set(e, ENOMEM, "trust anchor");
		goto out;
	}
	ta = &l->v[l->n];
	memset(ta, 0, sizeof(*ta));
	memcpy(mem, dn.buf, dn.len);
	ta->dn.data = mem;
	ta->dn.len = dn.len;
	/* A non-CA certificate in the bundle is trusted as that exact end entity. */
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	mem += dn.len;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_public_key *rk = &pk->key.rsa;

		memcpy(mem, rk->n, rk->nlen);
		ta->pkey.key.rsa.n = mem;
		ta->pkey.key.rsa.nlen = rk->nlen;
		mem += rk->nlen;
		memcpy(mem, rk->e, rk->elen);
		ta->pkey.key.rsa.e = mem;
		ta->pkey.key.rsa.elen = rk->elen;
	} else {
		const br_ec_public_key *ek = &pk->key.ec;

		memcpy(mem, ek->q, ek->qlen);
		ta->pkey.key.ec.curve = ek->curve;
		ta->pkey.key.ec.q = mem;
		ta->pkey.key.ec.qlen = ek->qlen;
	}
	l->n++;
out:
	free(dn.buf);
	return r;
}

int tls_pem_trust_anchors(const char *pem, size_t len, br_x509_trust_anchor **tas, size_t *n,
			  struct err *e)
{
	struct ta_list l = {0};
	int r;

	r = pem_each(pem, len, add_trust_anchor, &l, e);
	if (r == 0 && l.n == 0)
		r = err_set(e, EINVAL, "no CERTIFICATE in CA bundle");
	if (r < 0) {
		tls_pem_free_trust_anchors(l.v, l.n);
		return r;
	}
	*tas = l.v;
	*n = l.n;
	return 0;
}

void tls_pem_free_trust_anchors(br_x509_trust_anchor *tas, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(tas[i].dn.data);
	free(tas);
}

struct cert_list {
	br_x509_certificate *v;
	size_t n, cap;
};

static int add_cert(void *arg, const char *name, const unsigned char *der, size_t len,
		    struct err *e)
{
	struct cert_list *l = arg;
	unsigned char *copy;

	if (!is_cert_name(name))
		return 0;
	if (l->n == TLS_PEM_MAX_CERTS)
		return err_set(e, E2BIG, "more than %d certificates", TLS_PEM_MAX_CERTS);
	if (len == 0)
		return err_set(e, EINVAL, "certificate %zu is empty", l->n + 1);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 4;
		br_x509_certificate *nv = realloc(l->v, ncap * sizeof(*nv));

		if (!nv)
			return err_set(e, ENOMEM, "certificate chain");
		l->v = nv;
		l->cap = ncap;
	}
	copy = malloc(len);
	if (!copy)
		return err_set(e, ENOMEM, "certificate");
	memcpy(copy, der, len);
	l->v[l->n].data = copy;
	l->v[l->n].data_len = len;
	l->n++;
	return 0;
}

int tls_pem_chain(const char *pem, size_t len, br_x509_certificate **chain, size_t *n,
		  struct err *e)
{
	struct cert_list l = {0};
	int r;

	r = pem_each(pem, len, add_cert, &l, e);
	if (r == 0 && l.n == 0)
		r = err_set(e, EINVAL, "no CERTIFICATE in chain");
	if (r < 0) {
		tls_pem_free_chain(l.v, l.n);
		return r;
	}
	*chain = l.v;
	*n = l.n;
	return 0;
}

void tls_pem_free_chain(br_x509_certificate *chain, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(chain[i].data);
	free(chain);
}

/* Copies src (len bytes) to *p and returns where it now lives. */
static unsigned char *put(unsigned char **p, const unsigned char *src, size_t len)
{
	unsigned char *at = *p;

	memcpy(at, src, len);
	*p += len;
	return at;
}

static int copy_key(struct tls_key *key, const br_skey_decoder_context *kd, struct err *e)
{
	unsigned char *p;

	key->type = br_skey_decoder_key_type(kd);
	if (key->type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(kd);

		key->mem_len = sk->plen + sk->qlen + sk->dplen + sk->dqlen + sk->iqlen;
		key->mem = p = malloc(key->mem_len);
		if (!p)
			return err_set(e, ENOMEM, "private key");
		key->rsa.n_bitlen = sk->n_bitlen;
		key->rsa.plen = sk->plen;
		key->rsa.p = put(&p, sk->p, sk->plen);
		key->rsa.qlen = sk->qlen;
		key->rsa.q = put(&p, sk->q, sk->qlen);
		key->rsa.dplen = sk->dplen;
		key->rsa.dp = put(&p, sk->dp, sk->dplen);
		key->rsa.dqlen = sk->dqlen;
		key->rsa.dq = put(&p, sk->dq, sk->dqlen);
		key->rsa.iqlen = sk->iqlen;
		key->rsa.iq = put(&p, sk->iq, sk->iqlen);
		return 0;
	}
	if (key->type == BR_KEYTYPE_EC) {
		const br_ec_private_key *sk = br_skey_decoder_get_ec(kd);

		key->mem_len = sk->xlen;
		key->mem = p = malloc(key->mem_len ? key->mem_len : 1);
		if (!p)
			return err_set(e, ENOMEM, "private key");
		key->ec.curve = sk->curve;
		key->ec.xlen = sk->xlen;
		key->ec.x = put(&p, sk->x, sk->xlen);
		return 0;
	}
	key->type = 0;
	return err_set(e, ENOTSUP, "unsupported private key type");
}

static int add_key(void *arg, const char *name, const unsigned char *der, size_t len, struct err *e)
{
	struct tls_key *key = arg;
	br_skey_decoder_context kd;
	int r, berr;

	if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0)
		return err_set(e, ENOTSUP, "encrypted private keys are not supported");
	if (strcmp(name, "PRIVATE KEY") != 0 && strcmp(name, "RSA PRIVATE KEY") != 0 &&
	    strcmp(name, "EC PRIVATE KEY") != 0)
		return 0;
	if (key->type)
		return err_set(e, EINVAL, "more than one private key");
	br_skey_decoder_init(&kd);
	br_skey_decoder_push(&kd, der, len);
	berr = br_skey_decoder_last_error(&kd);
	if (berr != 0)
		r = err_set(e, EINVAL, "cannot decode %s (BearSSL error %d)", name, berr);
	else
		r = copy_key(key, &kd, e);
	explicit_bzero(&kd, sizeof(kd));
	return r;
}

int tls_pem_key(const char *pem, size_t len, struct tls_key *key, struct err *e)
{
	int r;

	memset(key, 0, sizeof(*key));
	r = pem_each(pem, len, add_key, key, e);
	if (r == 0 && key->type == 0)
		r = err_set(e, EINVAL, "no PRIVATE KEY found");
	if (r < 0)
		tls_pem_free_key(key);
	return r;
}

void tls_pem_free_key(struct tls_key *key)
{
	if (key->mem) {
		explicit_bzero(key->mem, key->mem_len);
		free(key->mem);
	}
	memset(key, 0, sizeof(*key));
}

/* Compares two big-endian unsigned integers, ignoring leading zero bytes. */
static int same_uint(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	while (alen && *a == 0) {
		a++;
		alen--;
	}
	while (blen && *b == 0) {
		b++;
		blen--;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

int tls_pem_check_pair(const br_x509_certificate *ee, const struct tls_key *key,
		       unsigned *issuer_key_type, struct err *e)
{
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	int match = 0;

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, ee->data, ee->data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk)
		return err_set(e, EINVAL, "cannot decode certificate (BearSSL error %d)",
			       br_x509_decoder_last_error(&dc));
	if (pk->key_type != key->type)
		return err_set(e, EINVAL, "private key type does not match the certificate");
	if (key->type == BR_KEYTYPE_RSA) {
		/* BearSSL's RSA code stops at 4096-bit moduli. */
		unsigned char n[4096 / 8];
		br_rsa_compute_modulus modulus = br_rsa_compute_modulus_get_default();
		size_t nlen = modulus(NULL, &key->rsa);

		if (nlen > 0 && nlen <= sizeof(n) && modulus(n, &key->rsa) == nlen)
			match = same_uint(n, nlen, pk->key.rsa.n, pk->key.rsa.nlen);
	} else {
		unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
		br_ec_public_key pub;

		if (br_ec_compute_pub(br_ec_get_default(), &pub, q, &key->ec) != 0)
			match = pub.curve == pk->key.ec.curve && pub.qlen == pk->key.ec.qlen &&
				memcmp(pub.q, pk->key.ec.q, pub.qlen) == 0;
	}
	if (!match)
		return err_set(e, EINVAL, "private key does not match the certificate");
	*issuer_key_type = br_x509_decoder_get_signer_key_type(&dc);
	return 0;
}

/* ---- configurations (lib/tls.h) ---- */

void tls_config_free(struct tls_config *cfg)
{
	if (!cfg)
		return;
	tls_pem_free_trust_anchors(cfg->tas, cfg->ta_count);
	tls_pem_free_chain(cfg->chain, cfg->chain_len);
	tls_pem_free_key(&cfg->key);
	free(cfg);
}

static int load_cas(struct tls_config *cfg, const char *pem, size_t len, const char *what,
		    struct err *e)
{
	if (tls_pem_trust_anchors(pem, len, &cfg->tas, &cfg->ta_count, e) < 0)
		return err_wrap(e, "tls: %s", what);
	return 0;
}

static int load_identity(struct tls_config *cfg, const char *cert, size_t cert_len,
			 const char *cert_what, const char *key, size_t key_len,
			 const char *key_what, struct err *e)
{
	if (tls_pem_chain(cert, cert_len, &cfg->chain, &cfg->chain_len, e) < 0)
		return err_wrap(e, "tls: %s", cert_what);
	if (tls_pem_key(key, key_len, &cfg->key, e) < 0)
		return err_wrap(e, "tls: %s", key_what);
	if (tls_pem_check_pair(&cfg->chain[0], &cfg->key, &cfg->issuer_key_type, e) < 0)
		return err_wrap(e, "tls: %s and %s", cert_what, key_what);
	return 0;
}

/* The PEM sources of a configuration, with names for error messages. */
struct pem_src {
	const char *ca, *cert, *key;
	size_t ca_len, cert_len, key_len;
	const char *ca_what, *cert_what, *key_what;
};

static struct tls_config *config_build(const struct pem_src *s, struct err *e)
{
	struct tls_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg) {
		err_set(e, ENOMEM, "tls: config");
		return NULL;
	}
	if (s->ca && load_cas(cfg, s->ca, s->ca_len, s->ca_what, e) < 0)
		goto fail;
	if (s->cert && load_identity(cfg, s->cert, s->cert_len, s->cert_what, s->key, s->key_len,
				     s->key_what, e) < 0)
		goto fail;
	return cfg;
fail:
	tls_config_free(cfg);
	return NULL;
}

struct tls_config *tls_config_client_mem(const char *ca_pem, size_t ca_len, const char *cert_pem,
					 size_t cert_len, const char *key_pem, size_t key_len,
					 struct err *e)
{
	struct pem_src s = {
		.ca = ca_pem,
		.ca_len = ca_len,
		.ca_what = "CA bundle",
		.cert = cert_pem,
		.cert_len = cert_len,
		.cert_what = "client certificate",
		.key = key_pem,
		.key_len = key_len,
		.key_what = "client key",
	};

	if (!ca_pem) {
		err_set(e, EINVAL, "tls: a CA bundle is required");
		return NULL;
	}
	if (!cert_pem != !key_pem) {
		err_set(e, EINVAL, "tls: client certificate and key go together");
		return NULL;
	}
	return config_build(&s, e);
}

/* Reads the named files into s (a NULL name stays NULL). 0 or -errno. */
static int read_sources(struct pem_src *s, struct err *e)
{
	char *buf[3] = {NULL, NULL, NULL};
	size_t len[3] = {0, 0, 0};
	const char *path[3] = {s->ca_what, s->cert_what, s->key_what};

	for (int i = 0; i < 3; i++) {
		if (path[i] && read_file(path[i], &buf[i], &len[i], e) < 0) {
			for (int j = 0; j < i; j++)
				free_file(buf[j], len[j]);
			return err_wrap(e, "tls");
		}
	}
	s->ca = buf[0];
	s->ca_len = len[0];
	s->cert = buf[1];
	s->cert_len = len[1];
	s->key = buf[2];
	s->key_len = len[2];
	return 0;
}

static void free_sources(struct pem_src *s)
{
	free_file((char *)s->ca, s->ca_len);
	free_file((char *)s->cert, s->cert_len);
	free_file((char *)s->key, s->key_len);
}

static struct tls_config *config_from_files(const char *ca_file, const char *cert_file,
					    const char *key_file, struct err *e)
{
	struct pem_src s = {.ca_what = ca_file, .cert_what = cert_file, .key_what = key_file};
	struct tls_config *cfg;

	if (read_sources(&s, e) < 0)
		return NULL;
	cfg = config_build(&s, e);
	free_sources(&s);
	return cfg;
}

struct tls_config *tls_config_client(const char *ca_file, const char *cert_file,
				     const char *key_file, struct err *e)
{
	if (!ca_file) {
		err_set(e, EINVAL, "tls: a CA bundle is required");
		return NULL;
	}
	if (!cert_file != !key_file) {
		err_set(e, EINVAL, "tls: client certificate and key go together");
		return NULL;
	}
	return config_from_files(ca_file, cert_file, key_file, e);
}

struct tls_config *tls_config_server(const char *cert_file, const char *key_file,
				     const char *client_ca_file, struct err *e)
{
	if (!cert_file || !key_file) {
		err_set(e, EINVAL, "tls: server certificate and key are required");
		return NULL;
	}
	return config_from_files(client_ca_file, cert_file, key_file, e);
}
