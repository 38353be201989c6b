// SPDX-License-Identifier: Apache-2.0
#include "testpki.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static char fx_dir[256];
static int fx_state; /* 0: not made, 1: ready, -1: failed, -2: no openssl */

const char *testpki_path(const char *name)
{
	static char ring[8][512];
	static int next;
	char *p = ring[next++ % 8];

	snprintf(p, sizeof(ring[0]), "%s/%s", fx_dir, name);
	return p;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fx_cleanup(void)
{
	if (fx_dir[0])
		nftw(fx_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char fx_conf[] =
	"[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
	"[ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
	"subjectKeyIdentifier = hash\n"
	"[server]\nbasicConstraints = CA:FALSE\nkeyUsage = "
	"critical,digitalSignature,keyEncipherment\n"
	"extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1\n"
	"[other]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n"
	"subjectAltName = DNS:other.example\n"
	"[client]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n"
	"extendedKeyUsage = clientAuth\n";

/* Each step runs in the fixture directory; P256 keys where RSA is not the point. */
static const char *const fx_steps[] = {
	"openssl req -x509 -config ossl.cnf -extensions ca -newkey rsa:2048 -nodes "
	"-keyout ca.key -out ca.pem -days 2 -subj /CN=Test-CA",
	"openssl req -x509 -config ossl.cnf -extensions ca -newkey ec "
	"-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca2.key -out ca2.pem -days 2 "
	"-subj /CN=Other-CA",
	/* RSA server, PKCS#8 key */
	"openssl req -new -config ossl.cnf -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr "
	"-subj /CN=localhost",
	"openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 "
	"-extfile ossl.cnf -extensions server -out srv.pem",
	"openssl x509 -in srv.pem -outform DER -out srv.der",
	/* EC server, SEC1 key after an EC PARAMETERS block */
	"openssl ecparam -name prime256v1 -genkey -out srvec.key",
	"openssl req -new -config ossl.cnf -key srvec.key -out srvec.csr -subj /CN=localhost",
	"openssl x509 -req -in srvec.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 2 "
	"-extfile ossl.cnf -extensions server -out srvec.pem",
	/* a server certificate for another name */
	"openssl req -new -config ossl.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	"-keyout other.key -out other.csr -subj /CN=other.example",
	"openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -set_serial 4 -days 2 "
	"-extfile ossl.cnf -extensions other -out other.pem",
	/* RSA client, PKCS#1 key */
	"openssl genrsa -traditional -out cli.key 2048",
	"openssl req -new -config ossl.cnf -key cli.key -out cli.csr -subj /CN=client",
	"openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -set_serial 5 -days 2 "
	"-extfile ossl.cnf -extensions client -out cli.pem",
	/* EC client, PKCS#8 key */
	"openssl req -new -config ossl.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	"-keyout cliec.key -out cliec.csr -subj /CN=client-ec",
	"openssl x509 -req -in cliec.csr -CA ca.pem -CAkey ca.key -set_serial 6 -days 2 "
	"-extfile ossl.cnf -extensions client -out cliec.pem",
	/* a client certificate from a CA the server does not trust */
	"openssl req -new -config ossl.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	"-keyout cli2.key -out cli2.csr -subj /CN=stranger",
	"openssl x509 -req -in cli2.csr -CA ca2.pem -CAkey ca2.key -set_serial 7 -days 2 "
	"-extfile ossl.cnf -extensions client -out cli2.pem",
};

static int fx_make(void)
{
	char cmd[2048];
	FILE *f;

	if (system("command -v openssl >/dev/null 2>&1") != 0)
		return -2;
	snprintf(fx_dir, sizeof(fx_dir), "%s/test_tls.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(fx_dir)) {
		fx_dir[0] = '\0';
		return -1;
	}
	atexit(fx_cleanup);
	f = fopen(testpki_path("ossl.cnf"), "w");
	if (!f)
		return -1;
	fputs(fx_conf, f);
	fclose(f);
	for (size_t i = 0; i < sizeof(fx_steps) / sizeof(fx_steps[0]); i++) {
		snprintf(cmd, sizeof(cmd), "cd '%s' && %s >>gen.log 2>&1", fx_dir, fx_steps[i]);
		if (system(cmd) != 0) {
			printf("    fixture step failed: %s (see %s)\n", fx_steps[i],
			       testpki_path("gen.log"));
			return -1;
		}
	}
	return 1;
}

int testpki_ready(void)
{
	if (fx_state == 0)
		fx_state = fx_make();
	if (fx_state == -2)
		unit_skip("openssl CLI not found");
	CHECK(fx_state != -1);
	return fx_state == 1;
}
