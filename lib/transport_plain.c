// SPDX-License-Identifier: Apache-2.0
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static ssize_t plain_read(struct transport *t, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(t->fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

static ssize_t plain_write(struct transport *t, const void *buf, size_t len)
{
	for (;;) {
		/* send() with MSG_NOSIGNAL so a closed peer is an error, not SIGPIPE;
		 * fall back to write() for pipes and other non-sockets. */
		ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(t->fd, buf, len);
		if (n >= 0)
			return n;
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
	struct transport *t = malloc(sizeof(*t));
	if (!t) {
		close(fd);
		return NULL;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	t->ops = &plain_ops;
	t->fd = fd;
	return t;
}
