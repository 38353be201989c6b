/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nl: netlink building and parsing for netfilter/ (private to it, its tests
 * and its fuzz target).
 *
 * Building: struct nl_buf is a window on a caller-owned buffer. Every put is
 * checked: when it does not fit it returns -ENOSPC (or NULL) and writes
 * nothing. Nests are closed with nla_nest_end() (which refuses a nest longer
 * than a u16) or dropped with nla_nest_cancel(), which truncates back to the
 * nest's start; the same works for whole messages with nl_buf_truncate().
 *
 * Parsing: pure functions over (pointer, length) that never read outside
 * the range they were given, including for hostile input. A received message
 * is first accepted by nl_walk_next() (NLMSG_OK: the header fits and
 * nlmsg_len covers the header and stays inside the datagram); only then are
 * its fields read. Attributes whose length overruns their container make
 * the whole container -EBADMSG.
 */
#ifndef NETFILTER_NL_H
#define NETFILTER_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nf_uapi.h"

struct nft_sock;
struct err;

/* ---- building -------------------------------------------------------- */

struct nl_buf {
	unsigned char *p;
	size_t len, cap;
};

/* Starts an nf_tables message (nlmsghdr + nfgenmsg) of type NFT_MSG_`type`;
 * returns its offset or -ENOSPC. NLM_F_REQUEST is always set. */
long nl_msg_start(struct nl_buf *nb, uint16_t type, uint16_t flags, uint8_t family);
/* Same with a raw netlink type and res_id (batch begin/end). */
long nl_msg_start_raw(struct nl_buf *nb, uint16_t type, uint16_t flags, uint8_t family,
		      uint16_t res_id);
/* Sets the length of the message that starts at off to end at nb->len. */
void nl_msg_end(struct nl_buf *nb, long off);
/* Drops everything from off on. */
void nl_buf_truncate(struct nl_buf *nb, size_t off);

int nla_put(struct nl_buf *nb, uint16_t type, const void *data, size_t len);
int nla_put_str(struct nl_buf *nb, uint16_t type, const char *s);
int nla_put_be32(struct nl_buf *nb, uint16_t type, uint32_t v);
int nla_put_be64(struct nl_buf *nb, uint16_t type, uint64_t v);
/* Opens a nest; returns its offset or -ENOSPC. */
long nla_nest_start(struct nl_buf *nb, uint16_t type);
/* Closes a nest; -EMSGSIZE (nothing changed) if it grew beyond 65535 bytes. */
int nla_nest_end(struct nl_buf *nb, long off);
void nla_nest_cancel(struct nl_buf *nb, long off);

/* ---- parsing --------------------------------------------------------- */

struct nl_walk {
	const unsigned char *p;
	size_t len, off;
};

static inline void nl_walk_init(struct nl_walk *w, const void *p, size_t len)
{
	w->p = p;
	w->len = len;
	w->off = 0;
}

/* Next message of a datagram: 1 (*h set, h->nlmsg_len within the datagram),
 * 0 at the end, -EBADMSG for a malformed header or trailing bytes. */
int nl_walk_next(struct nl_walk *w, const struct nlmsghdr **h);

/* The attributes of an nfnetlink message: 0 (*nfg may be NULL) or -EBADMSG. */
int nl_msg_attrs(const struct nlmsghdr *h, const struct nfgenmsg **nfg, const void **attrs,
		 size_t *len);

struct nla_iter {
	const unsigned char *p;
	size_t len, off;
};

static inline void nla_iter_init(struct nla_iter *it, const void *p, size_t len)
{
	it->p = p;
	it->len = len;
	it->off = 0;
}

/* Next attribute: 1 (*a set, its payload within the range), 0 at the end,
 * -EBADMSG when an attribute header or payload overruns the range. */
int nla_next(struct nla_iter *it, const struct nlattr **a);

/* Indexes attributes by type into tb[0..max] (later duplicates win, types
 * above max are ignored); returns 0 or -EBADMSG. tb is cleared first. */
int nla_parse(const struct nlattr **tb, unsigned max, const void *p, size_t len);
/* Same over a nested attribute's payload. */
int nla_parse_nested(const struct nlattr **tb, unsigned max, const struct nlattr *nest);

static inline uint16_t nla_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}
static inline const void *nla_data(const struct nlattr *a)
{
	return (const unsigned char *)a + NLA_HDRLEN;
}
static inline size_t nla_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* Typed getters: 0, or -EBADMSG when a is NULL or its payload has the wrong size. */
int nla_get_u32(const struct nlattr *a, uint32_t *v);
int nla_get_be32(const struct nlattr *a, uint32_t *v);
int nla_get_be64(const struct nlattr *a, uint64_t *v);
/* Copies a string payload (NUL-terminated or not) into out[size]; -EBADMSG if
 * a is NULL, -ENAMETOOLONG if it does not fit. */
int nla_get_str(const struct nlattr *a, char *out, size_t size);
/* Whether a string attribute equals s. */
bool nla_str_eq(const struct nlattr *a, const char *s);
/* The value of an NFTA_DATA_VALUE nest: 0 and (*data, *len), or -EBADMSG. */
int nla_get_data_value(const struct nlattr *nest, const void **data, size_t *len);

/* A decoded NLMSG_ERROR (an ACK when error == 0). */
struct nl_ack {
	int error;	     /* positive errno, 0 = ACK */
	uint32_t seq;	     /* sequence number of the answered message */
	uint16_t type;	     /* its type */
	uint32_t bad_offset; /* extack: offset of the offending attribute in it, 0 = none */
	const char *msg;     /* extack message (not NUL-terminated), or NULL */
	size_t msg_len;
};

/* Decodes an NLMSG_ERROR message (the kernel's sign convention is normalised
 * and values outside the errno range become EPROTO); 0 or -EBADMSG. */
int nl_parse_ack(const struct nlmsghdr *h, struct nl_ack *ack);

/* ---- socket I/O (nl.c) ----------------------------------------------- */

/* Sends len bytes as one datagram; 0 or -errno. Grows the socket's send
 * buffer first when len needs it. */
int nl_send(struct nft_sock *s, const void *p, size_t len);
/* Receives one datagram into s->rx; its length, or -errno (-EAGAIN when
 * nonblocking and nothing is queued, -ENOSPC when truncated, -ETIMEDOUT). */
long nl_recv(struct nft_sock *s, bool nonblocking);

/* Called for every reply message of a request other than the final ACK/DONE. */
typedef int nl_msg_cb(const struct nlmsghdr *h, void *arg);

/* Sends a request made with nl_msg_start() in req (seq and portid are set
 * here) and reads replies until its ACK (non-dump) or NLMSG_DONE (dump),
 * calling cb for each data message. Returns 0, cb's first non-zero value
 * (the rest is still read), -EINTR if a dump was interrupted by a change, or
 * -errno (a kernel error for the request). */
int nl_request(struct nft_sock *s, struct nl_buf *req, nl_msg_cb *cb, void *arg);

#endif
