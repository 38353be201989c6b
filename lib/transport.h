/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport: a byte stream over a non-blocking fd, either plain or TLS, so
 * the HTTP server, the HTTP client and the splicer are written once.
 *
 * read/write never block: they return a byte count, 0 (read: EOF),
 * -EAGAIN (wait for the events transport_want() reports, then retry) or
 * another -errno. A TLS transport may need to write in order to read and the
 * reverse, so callers arm epoll with transport_want(), not with a fixed mask.
 * The transport owns its fd; transport_close() closes it and frees everything.
 */
#ifndef LIB_TRANSPORT_H
#define LIB_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct transport;

struct transport_ops {
	ssize_t (*read)(struct transport *t, void *buf, size_t len);
	ssize_t (*write)(struct transport *t, const void *buf, size_t len);
	/* Pushes buffered output to the socket: 0 when empty, -EAGAIN, -errno. */
	int (*flush)(struct transport *t);
	/* Ends the sending direction (TCP FIN / TLS close_notify) after flushing. */
	int (*shutdown_write)(struct transport *t);
	/* epoll events (EPOLLIN/EPOLLOUT) the transport needs for `want_read`/`want_write`
	 * progress. */
	uint32_t (*want)(struct transport *t, int want_read, int want_write);
	/* Bytes already decrypted and readable without waiting for the socket. */
	size_t (*pending)(struct transport *t);
	void (*close)(struct transport *t);
	/* Reads may leave input inside the transport that the socket no longer
	 * signals (TLS records): keep reading until -EAGAIN, not just until a short read. */
	bool buffers_input;
};

struct transport {
	const struct transport_ops *ops;
	int fd;
};

/* A plain transport over fd (made non-blocking); takes ownership. NULL on ENOMEM (fd closed). */
struct transport *transport_plain_new(int fd);

static inline ssize_t transport_read(struct transport *t, void *b, size_t n)
{
	return t->ops->read(t, b, n);
}
static inline ssize_t transport_write(struct transport *t, const void *b, size_t n)
{
	return t->ops->write(t, b, n);
}
static inline int transport_flush(struct transport *t)
{
	return t->ops->flush(t);
}
static inline int transport_shutdown_write(struct transport *t)
{
	return t->ops->shutdown_write(t);
}
static inline uint32_t transport_want(struct transport *t, int rd, int wr)
{
	return t->ops->want(t, rd, wr);
}
static inline size_t transport_pending(struct transport *t)
{
	return t->ops->pending(t);
}
static inline void transport_close(struct transport *t)
{
	if (t)
		t->ops->close(t);
}
/* True when a read shorter than asked proves the socket is drained. */
static inline bool transport_short_read_drains(const struct transport *t)
{
	return !t->ops->buffers_input;
}

#endif
