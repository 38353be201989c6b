/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unit: a tiny test runner. TEST(name) defines and registers a test; CHECK*
 * record a failure (file:line and the expression) and let the test go on.
 * unit_skip() marks the running test skipped (what the machine lacks, said
 * once); a skipped test with no failed check counts as a skip, not a pass.
 * The runner prints one line per failing check and test, and ends with
 * exactly "N passed, N failed" or "N passed, N failed, N skipped".
 * Arguments filter tests by substring.
 */
#ifndef TESTS_UNIT_H
#define TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

typedef void unit_fn(void);
void unit_register(const char *name, unit_fn *fn);
void unit_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void unit_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TEST(name)                                                                                 \
	static void test_##name(void);                                                             \
	__attribute__((constructor)) static void register_##name(void)                             \
	{                                                                                          \
		unit_register(#name, test_##name);                                                 \
	}                                                                                          \
	static void test_##name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                         \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_)                                                                      \
			unit_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, a_,   \
				  #b, b_);                                                         \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                                             \
			unit_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,         \
				  a_ ? a_ : "(null)", b_ ? b_ : "(null)");                         \
	} while (0)

/* Compares a (pointer, length) span with a C string. */
#define CHECK_SPAN(p, n, s)                                                                        \
	do {                                                                                       \
		const char *p_ = (p), *s_ = (s);                                                   \
		size_t n_ = (n);                                                                   \
		if (n_ != strlen(s_) || (n_ && memcmp(p_, s_, n_) != 0))                           \
			unit_fail(__FILE__, __LINE__, "%s == \"%.*s\", expected \"%s\"", #p,       \
				  (int)n_, p_ ? p_ : "", s_);                                      \
	} while (0)

#endif
