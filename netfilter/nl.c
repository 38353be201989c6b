// SPDX-License-Identifier: Apache-2.0
/*
 * nl: the NETLINK_NETFILTER socket: open, send, receive, and the
 * request/reply loop used by gets and dumps. Replies are accepted only from
 * the kernel (sender address 0), addressed to us (portid) and answering the
 * request (seq); anything else is a stale reply of an abandoned request and
 * is skipped. Every wait is bounded by the socket's receive timeout and every
 * loop by a count and a deadline.
 */
#include "nft_int.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NL_TIMEOUT_S	 5  /* one receive */
#define NL_DEADLINE_S	 30 /* a whole request, however long the dump */
#define NL_MAX_DATAGRAMS 1000000
#define NL_RCVBUF	 (4 << 20)

static void set_int_opt(int fd, int level, int name, int value)
{
	/* Best effort: an old kernel without CAP_ACK/EXT_ACK still works. */
	(void)setsockopt(fd, level, name, &value, sizeof(value));
}

static size_t get_sndbuf(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l) < 0 || v < 0)
		return 0;
	return (size_t)v;
}

int nft_open(struct nft_sock *s, struct err *e)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	socklen_t sl = sizeof(sa);
	struct timeval tv = {.tv_sec = NL_TIMEOUT_S};
	int fd, ret;

	s->fd = -1;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return err_set(e, errno, "netlink socket (NETLINK_NETFILTER)");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		ret = err_set(e, errno, "netlink bind");
		goto fail;
	}
	if (sl != sizeof(sa) || sa.nl_family != AF_NETLINK) {
		ret = err_set(e, EPROTO, "netlink bind: unexpected address");
		goto fail;
	}
	set_int_opt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
	set_int_opt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
	/* Room for a whole dump burst; FORCE needs CAP_NET_ADMIN, which nf_tables needs anyway. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){NL_RCVBUF}, sizeof(int)) < 0)
		set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, NL_RCVBUF);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		ret = err_set(e, errno, "netlink receive timeout");
		goto fail;
	}
	s->fd = fd;
	s->portid = sa.nl_pid;
	s->seq = (uint32_t)time(NULL);
	s->sndbuf = get_sndbuf(fd);
	return 0;
fail:
	close(fd);
	return ret;
}

void nft_close(struct nft_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int nl_send(struct nft_sock *s, const void *p, size_t len)
{
	/* The kernel refuses a datagram above sk_sndbuf - 32 with -EMSGSIZE, and a
	 * transaction must be one datagram, so grow the buffer to fit it. */
	if (len + 64 > s->sndbuf) {
		size_t want = len + 4096;
		if (want > (size_t)(1 << 30))
			return -EMSGSIZE;
		if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &(int){(int)want}, sizeof(int)) <
		    0)
			set_int_opt(s->fd, SOL_SOCKET, SO_SNDBUF, (int)want);
		s->sndbuf = get_sndbuf(s->fd);
	}
	for (int tries = 0; tries < 16; tries++) {
		ssize_t n = send(s->fd, p, len, 0);
		if (n >= 0)
			return (size_t)n == len ? 0 : -EIO;
		if (errno != EINTR)
			return -errno;
	}
	return -EINTR;
}

long nl_recv(struct nft_sock *s, bool nonblocking)
{
	for (int tries = 0; tries < 16; tries++) {
		struct sockaddr_nl from;
		struct iovec iov = {s->rx, sizeof(s->rx)};
		struct msghdr mh = {.msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1};
		ssize_t n = recvmsg(s->fd, &mh, MSG_TRUNC | (nonblocking ? MSG_DONTWAIT : 0));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return nonblocking ? -EAGAIN : -ETIMEDOUT;
			return -errno;
		}
		if ((size_t)n > sizeof(s->rx) || (mh.msg_flags & MSG_TRUNC))
			return -ENOSPC;
		/* Only the kernel speaks for nf_tables; drop anything a process sent us. */
		if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
			continue;
		return (long)n;
	}
	return -EINTR;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Handles one message answering our request: 1 when the request is finished
 * (*ret holds the result), 0 to go on. */
static int request_msg(const struct nlmsghdr *m, bool dump, nl_msg_cb *cb, void *arg, bool *intr,
		       int *ret)
{
	struct nl_ack ack;

	if (m->nlmsg_flags & NLM_F_DUMP_INTR)
		*intr = true;
	switch (m->nlmsg_type) {
	case NLMSG_ERROR:
		if (nl_parse_ack(m, &ack) < 0) {
			*ret = -EBADMSG;
			return 1;
		}
		if (ack.error)
			*ret = -ack.error;
		return ack.error || !dump;
	case NLMSG_DONE:
		/* A dump that failed midway reports its error in the DONE payload. */
		if (m->nlmsg_len >= sizeof(*m) + sizeof(int)) {
			int v;
			memcpy(&v, m + 1, sizeof(v));
			if (v < 0)
				*ret = v < -4095 ? -EPROTO : v;
		}
		if (*ret == 0 && *intr)
			*ret = -EINTR;
		return 1;
	case NLMSG_NOOP:
		return 0;
	case NLMSG_OVERRUN:
		*ret = -EIO;
		return 1;
	default:
		if (*ret == 0 && cb) {
			int c = cb(m, arg);
			if (c)
				*ret = c;
		}
		return 0;
	}
}

int nl_request(struct nft_sock *s, struct nl_buf *req, nl_msg_cb *cb, void *arg)
{
	struct nlmsghdr *h = (struct nlmsghdr *)req->p;
	bool dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP, intr = false;
	uint32_t seq = ++s->seq;
	double deadline = now_s() + NL_DEADLINE_S;
	int ret = 0, r;

	h->nlmsg_seq = seq;
	h->nlmsg_pid = 0;
	if (!dump)
		h->nlmsg_flags |= NLM_F_ACK;
	r = nl_send(s, req->p, req->len);
	if (r < 0)
		return r;
	for (long i = 0; i < NL_MAX_DATAGRAMS; i++) {
		const struct nlmsghdr *m;
		struct nl_walk w;
		long n = nl_recv(s, false);

		if (n < 0)
			return (int)n;
		nl_walk_init(&w, s->rx, (size_t)n);
		while ((r = nl_walk_next(&w, &m)) > 0) {
			if (m->nlmsg_pid != s->portid || m->nlmsg_seq != seq)
				continue;
			if (request_msg(m, dump, cb, arg, &intr, &ret))
				return ret;
		}
		if (r < 0)
			return r;
		if (now_s() > deadline)
			return -ETIMEDOUT;
	}
	return -ETIMEDOUT;
}

static int gen_cb(const struct nlmsghdr *h, void *arg)
{
	const struct nlattr *tb[NFTA_GEN_ID + 1];
	const void *attrs;
	size_t len;

	if (h->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN))
		return 0;
	if (nl_msg_attrs(h, NULL, &attrs, &len) < 0 || nla_parse(tb, NFTA_GEN_ID, attrs, len) < 0 ||
	    nla_get_be32(tb[NFTA_GEN_ID], arg) < 0)
		return -EBADMSG;
	return 1;
}

int nft_gen_id(struct nft_sock *s, uint32_t *genid, struct err *e)
{
	uint32_t req_space[8];
	struct nl_buf nb = {(unsigned char *)req_space, 0, sizeof(req_space)};
	long off = nl_msg_start(&nb, NFT_MSG_GETGEN, 0, NFPROTO_UNSPEC);
	int r;

	if (off < 0)
		return err_set(e, ENOSPC, "get generation id: no room");
	nl_msg_end(&nb, off);
	r = nl_request(s, &nb, gen_cb, genid);
	if (r == 1)
		return 0;
	return err_set(e, r < 0 ? -r : EPROTO, "get generation id");
}

const char *nft_family_name(int family)
{
	switch (family) {
	case NFT_INET:
		return "inet";
	case NFT_IP:
		return "ip";
	case NFT_IP6:
		return "ip6";
	default:
		return "unknown";
	}
}
