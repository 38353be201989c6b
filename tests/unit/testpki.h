/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testpki: a throw-away PKI made once per test run with the openssl CLI in a
 * temporary directory (removed at exit): ca.pem/ca.key (RSA), ca2.pem (EC,
 * untrusted), srv.pem/srv.key (RSA, SAN localhost, 127.0.0.1, ::1),
 * srvec.pem/srvec.key (EC), other.pem/other.key (other.example),
 * cli.pem/cli.key (RSA PKCS#1), cliec.pem/cliec.key (EC), cli2.pem/cli2.key
 * (signed by ca2).
 */
#ifndef TESTS_TESTPKI_H
#define TESTS_TESTPKI_H

/* 1 when the PKI is ready; otherwise prints "skip: ..." or records a failure and returns 0. */
int testpki_ready(void);
/* Path of a file of the PKI (a ring of static buffers: copy it if kept long). */
const char *testpki_path(const char *name);

#endif
