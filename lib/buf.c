// SPDX-License-Identifier: Apache-2.0
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}

int buf_reserve(struct buf *b, size_t n)
{
	if (b->max && (n > b->max || b->len > b->max - n))
		return -ENOBUFS;
	if (b->off + b->len + n <= b->cap)
		return 0;
	/* Reclaim the consumed prefix before growing. */
	if (b->off) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		if (b->len + n <= b->cap)
			return 0;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n) {
		if (cap > (size_t)-1 / 2)
			return -ENOMEM;
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int r = buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(buf_tail(b), p, n);
	b->len += n;
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	char small[256];

	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	int r = buf_reserve(b, (size_t)n + 1);
	if (r < 0)
		return r;
	vsnprintf(buf_tail(b), (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}

void buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

char *buf_cstr(struct buf *b)
{
	/* The terminator may exceed max by one byte: it is not data. */
	size_t max = b->max;
	b->max = 0;
	int r = buf_reserve(b, 1);
	b->max = max;
	if (r < 0)
		return NULL;
	*buf_tail(b) = '\0';
	return buf_head(b);
}

int buf_append_u64(struct buf *b, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return buf_append(b, tmp + sizeof(tmp) - n, n);
}

int buf_append_header(struct buf *b, const char *name, size_t nlen, const char *value, size_t vlen)
{
	int r = buf_reserve(b, nlen + vlen + 4);
	if (r < 0)
		return r;
	char *p = buf_tail(b);
	memcpy(p, name, nlen);
	p[nlen] = ':';
	p[nlen + 1] = ' ';
	memcpy(p + nlen + 2, value, vlen);
	p[nlen + 2 + vlen] = '\r';
	p[nlen + 3 + vlen] = '\n';
	b->len += nlen + vlen + 4;
	return 0;
}

int buf_read_fd(struct buf *b, int fd)
{
	for (;;) {
		size_t room = 64 * 1024;
		if (b->max && b->max - b->len < room)
			room = b->max - b->len;
		/* At the limit: one more byte says whether the file is larger. */
		char probe;
		int r = room ? buf_reserve(b, room) : 0;
		if (r < 0)
			return r;
		ssize_t n = read(fd, room ? buf_tail(b) : &probe, room ? room : 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (!room)
			return -EFBIG;
		buf_commit(b, (size_t)n);
	}
}

int buf_read_file(struct buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = buf_read_fd(b, fd);
	close(fd);
	return r;
}
