// SPDX-License-Identifier: Apache-2.0
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_addr(const struct sockaddr *sa, socklen_t salen, struct err *e)
{
	char name[64] = "?";
	int one = 1, fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6) {
		int zero = 0;
		/* One socket for both families where the host allows it. */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(fd, sa, salen) < 0 || listen(fd, SOCK_BACKLOG) < 0) {
		int er = errno;
		getnameinfo(sa, salen, name, sizeof(name), NULL, 0, NI_NUMERICHOST);
		close(fd);
		return err_set(e, er, "listen on %s: %s", name, strerror(er));
	}
	return fd;
}

int sock_listen_tcp(const char *host, uint16_t port, struct err *e)
{
	if (!host || !*host) {
		struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
					  .sin6_port = htons(port),
					  .sin6_addr = IN6ADDR_ANY_INIT};
		int fd = listen_addr((struct sockaddr *)&a6, sizeof(a6), NULL);
		if (fd >= 0)
			return fd;
		struct sockaddr_in a4 = {.sin_family = AF_INET,
					 .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(INADDR_ANY)};
		return listen_addr((struct sockaddr *)&a4, sizeof(a4), e);
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
	char ports[8];
	snprintf(ports, sizeof(ports), "%u", port);
	int r = getaddrinfo(host, ports, &hints, &ai);
	if (r != 0)
		return err_set(e, EADDRNOTAVAIL, "resolve %s: %s", host, gai_strerror(r));
	int fd = listen_addr(ai->ai_addr, ai->ai_addrlen, e);
	freeaddrinfo(ai);
	return fd;
}

static int unix_addr(const char *path, struct sockaddr_un *sun, struct err *e)
{
	size_t n = strlen(path);
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(sun->sun_path))
		return err_set(e, ENAMETOOLONG, "unix socket path too long: %s", path);
	memcpy(sun->sun_path, path, n);
	return 0;
}

int sock_listen_unix(const char *path, struct err *e)
{
	struct sockaddr_un sun;
	struct stat st;
	int r = unix_addr(path, &sun, e);
	if (r < 0)
		return r;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, SOCK_BACKLOG) < 0) {
		int er = errno;
		close(fd);
		return err_set(e, er, "listen on %s: %s", path, strerror(er));
	}
	return fd;
}

int sock_connect_tcp(const char *host, uint16_t port, struct err *e)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *ai, *p;
	char ports[8];
	int fd = -1, er = ECONNREFUSED;

	snprintf(ports, sizeof(ports), "%u", port);
	int r = getaddrinfo(host, ports, &hints, &ai);
	if (r == EAI_BADFLAGS || r == EAI_NONAME) {
		hints.ai_flags =
			0; /* AI_ADDRCONFIG hides loopback on hosts without other addresses */
		r = getaddrinfo(host, ports, &hints, &ai);
	}
	if (r != 0)
		return err_set(e, EHOSTUNREACH, "resolve %s: %s", host, gai_strerror(r));
	for (p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			er = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0 || errno == EINPROGRESS)
			break;
		er = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return err_set(e, er, "connect %s:%u: %s", host, port, strerror(er));
	return fd;
}

int sock_connect_unix(const char *path, struct err *e)
{
	struct sockaddr_un sun;
	int r = unix_addr(path, &sun, e);
	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, errno, "socket");
	/* A unix connect either completes or fails at once (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 && errno != EINPROGRESS) {
		int er = errno;
		close(fd);
		return err_set(e, er, "connect %s: %s", path, strerror(er));
	}
	return fd;
}

int sock_connect_result(int fd)
{
	int er = 0;
	socklen_t len = sizeof(er);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &er, &len) < 0)
		return -errno;
	return er ? -er : 0;
}

int sock_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

int sock_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

void sock_peer_str(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(out, len, "?");
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(a->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			/* An IPv4 client on the dual-stack socket: show it as IPv4. */
			inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof(host));
			snprintf(out, len, "%s:%u", host, ntohs(a->sin6_port));
			return;
		}
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		snprintf(out, len, "unix");
	}
}
