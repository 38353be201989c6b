// SPDX-License-Identifier: Apache-2.0
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Sockets are read and written with recv()/send(): they skip the VFS layer
 * that read()/write() go through (a measurable share of a proxied request),
 * and send() takes MSG_NOSIGNAL so a closed peer is an error, not SIGPIPE.
 * Pipes and other non-sockets answer ENOTSOCK once and use read()/write(). */
struct plain {
	struct transport t;
	bool not_sock;
};

static ssize_t plain_read(struct transport *t, void *buf, size_t len)
{
	struct plain *p = (struct plain *)t;
	for (;;) {
		ssize_t n = p->not_sock ? read(t->fd, buf, len) : recv(t->fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == ENOTSOCK && !p->not_sock) {
			p->not_sock = true;
			continue;
		}
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

static ssize_t plain_write(struct transport *t, const void *buf, size_t len)
{
	struct plain *p = (struct plain *)t;
	for (;;) {
		ssize_t n =
			p->not_sock ? write(t->fd, buf, len) : send(t->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == ENOTSOCK && !p->not_sock) {
			p->not_sock = true;
			continue;
		}
		if (errno == EINTR)
			continue;
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

static int plain_flush(struct transport *t)
{
	(void)t;
	return 0;
}

static int plain_shutdown_write(struct transport *t)
{
	if (shutdown(t->fd, SHUT_WR) < 0 && errno != ENOTCONN && errno != ENOTSOCK)
		return -errno;
	return 0;
}

static uint32_t plain_want(struct transport *t, int want_read, int want_write)
{
	(void)t;
	return (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0);
}

static size_t plain_pending(struct transport *t)
{
	(void)t;
	return 0;
}

static void plain_close(struct transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

static const struct transport_ops plain_ops = {
	.read = plain_read,
	.write = plain_write,
	.flush = plain_flush,
	.shutdown_write = plain_shutdown_write,
	.want = plain_want,
	.pending = plain_pending,
	.close = plain_close,
};

struct transport *transport_plain_new(int fd)
{
	struct plain *p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return NULL;
	}
	struct transport *t = &p->t;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	t->ops = &plain_ops;
	t->fd = fd;
	return t;
}
