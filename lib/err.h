/* SPDX-License-Identifier: Apache-2.0 */
/*
 * err: a caller-owned error context. Functions that can fail with a reason
 * worth reporting take a `struct err *` as their last parameter and fill it at
 * the failure site; on success they leave it untouched. No heap is used.
 * A NULL `struct err *` is allowed everywhere and means "the caller only wants
 * the return code".
 */
#ifndef LIB_ERR_H
#define LIB_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 256

struct err {
	int code;	       /* positive errno value, 0 = no error recorded */
	char msg[ERR_MSG_MAX]; /* NUL-terminated human-readable reason */
};

/* Records errnum and a printf-style message; returns -errnum (or -EIO if errnum is 0). */
int err_set(struct err *e, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes the recorded message with context ("ctx: old"); returns -e->code. */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears the context. */
void err_clear(struct err *e);

#endif
