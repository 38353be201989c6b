/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf: a growable byte buffer with a hard size limit, used for socket input
 * and output queues. Data lives in data[off, off+len); consuming from the
 * front only moves `off`, and the gap is reclaimed lazily when space is
 * needed, so a stream of small consumes costs no memmove per call.
 * The buffer owns `data`; buf_free() releases it. `max` bounds the stored
 * bytes (0 = no limit); appends that would exceed it fail with -ENOBUFS
 * and change nothing.
 */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;
	size_t off; /* start of unread bytes */
	size_t len; /* number of unread bytes */
	size_t cap; /* allocated size of data */
	size_t max; /* hard limit on len (0 = unlimited) */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);

/* Stands in for data before the first allocation, so an empty buffer still
 * yields a valid pointer (no arithmetic on NULL, no NULL to memcpy). */
extern char buf_empty[1];

/* Pointer to the first unread byte (valid until the next mutating call). */
static inline char *buf_head(const struct buf *b)
{
	return b->data ? b->data + b->off : buf_empty;
}

/* Ensures room for n more bytes after the unread data; returns 0 or -ENOMEM/-ENOBUFS. */
int buf_reserve(struct buf *b, size_t n);
/* Pointer to the free space after the unread data (call buf_reserve first). */
static inline char *buf_tail(const struct buf *b)
{
	return b->data ? b->data + b->off + b->len : buf_empty;
}
/* Marks n bytes written at buf_tail() as data. */
static inline void buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

/* Appends bytes; returns 0 or -ENOMEM/-ENOBUFS. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
/* Appends formatted text; returns 0 or -ENOMEM/-ENOBUFS/-EINVAL. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Appends v in decimal. 0 or -errno. */
int buf_append_u64(struct buf *b, uint64_t v);
/* Appends an HTTP header line "name: value\r\n" from spans (no printf on hot paths). */
int buf_append_header(struct buf *b, const char *name, size_t nlen, const char *value, size_t vlen);

/* Drops n bytes from the front (n is clamped to len). */
void buf_consume(struct buf *b, size_t n);
/* Appends everything fd gives until end of file (EINTR retried). 0; -EFBIG when
 * the data would pass the buffer's max; -ENOMEM or the read's -errno. */
int buf_read_fd(struct buf *b, int fd);
/* The same for the file at path (opened O_CLOEXEC): 0 or -errno (-ENOENT, -EFBIG...). */
int buf_read_file(struct buf *b, const char *path);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Appends a NUL after the data without counting it; returns a C string or NULL. */
char *buf_cstr(struct buf *b);

#endif
