// SPDX-License-Identifier: Apache-2.0
/*
 * batch: transactions. Object messages are appended after NFT_BATCH_HEAD
 * reserved bytes; at commit the batch begin message (with the generation id
 * when asked) is written just before them, the batch end after them, every
 * message gets its sequence number, and the whole is sent as one datagram,
 * which nfnetlink turns into one transaction.
 *
 * Only the last object message asks for an ACK. nfnetlink reports an error
 * for every failing message whether or not it asked, and delivers them, in
 * message order, after deciding the transaction, so the last message's
 * answer (ACK or error) is the final word; an error answering the batch
 * begin (bad generation, failed commit) ends it too. Processing happens
 * inside send(), so the answers are already queued when it returns.
 */
#include "nft_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define BATCH_MAX_DATAGRAMS 100000

void nft_batch_init(struct nft_batch *b, struct nft_sock *s, void *buf, size_t size)
{
	/* Headers are written in place: start on an 8-byte boundary. */
	size_t skip = (size_t)(-(uintptr_t)buf & 7);

	memset(b, 0, sizeof(*b));
	b->sock = s;
	b->buf = (unsigned char *)buf + (skip < size ? skip : size);
	b->cap = skip < size ? size - skip : 0;
	nft_batch_reset(b);
}

void nft_batch_reset(struct nft_batch *b)
{
	b->len = b->cap >= NFT_BATCH_HEAD ? NFT_BATCH_HEAD : b->cap;
	b->nmsg = 0;
	b->check_genid = false;
	b->rule_off = 0;
	b->exprs_off = 0;
	b->rule_err = 0;
}

void nft_batch_genid(struct nft_batch *b, uint32_t genid)
{
	b->genid = genid;
	b->check_genid = true;
}

int nft_check_name(const char *name, const char *what, struct err *e)
{
	size_t n;

	if (!name || !*name)
		return err_set(e, EINVAL, "%s name is empty", what);
	n = strnlen(name, NFT_NAME_MAX);
	if (n >= NFT_NAME_MAX)
		return err_set(e, ENAMETOOLONG, "%s name longer than %d bytes", what,
			       NFT_NAME_MAX - 1);
	return 0;
}

int nft_check_family(int family, struct err *e)
{
	if (family != NFT_INET && family != NFT_IP && family != NFT_IP6)
		return err_set(e, EAFNOSUPPORT, "family %d is not inet, ip or ip6", family);
	return 0;
}

long nft_batch_msg_start(struct nft_batch *b, struct nl_buf *nb, uint16_t type, uint16_t flags,
			 int family, const char *what, struct err *e)
{
	long off;

	if (b->rule_off)
		return err_set(e, EBUSY, "%s: a rule is open (call nft_rule_end)", what);
	if (b->len < NFT_BATCH_HEAD)
		return err_set(e, ENOSPC, "%s: batch buffer too small", what);
	off = nl_msg_start(nb, type, flags, (uint8_t)family);
	if (off < 0)
		return err_set(e, ENOSPC, "%s: batch full (%zu bytes)", what, b->cap);
	return off;
}

void nft_batch_msg_end(struct nft_batch *b, struct nl_buf *nb, long off)
{
	nl_msg_end(nb, off);
	b->len = nb->len;
	b->nmsg++;
}

const struct nlmsghdr *nft_batch_find(const void *p, size_t len, uint32_t seq)
{
	const struct nlmsghdr *h;
	struct nl_walk w;

	nl_walk_init(&w, p, len);
	while (nl_walk_next(&w, &h) > 0)
		if (h->nlmsg_seq == seq)
			return h;
	return NULL;
}

/* Writes begin and end around the messages and numbers them; returns the
 * offset where the datagram starts. */
static size_t seal(struct nft_batch *b, uint32_t seq0, uint32_t *last_seq)
{
	unsigned char begin_space[NFT_BATCH_HEAD] __attribute__((aligned(4)));
	struct nl_buf hb = {begin_space, 0, sizeof(begin_space)};
	struct nl_buf tail = {b->buf, b->len, b->cap};
	struct nlmsghdr *h = NULL;
	uint32_t seq = seq0;
	size_t start, off;
	long m;

	m = nl_msg_start_raw(&hb, NFNL_MSG_BATCH_BEGIN, 0, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
	if (b->check_genid)
		nla_put_be32(&hb, NFNL_BATCH_GENID, b->genid);
	nl_msg_end(&hb, m);
	start = NFT_BATCH_HEAD - hb.len;
	memcpy(b->buf + start, begin_space, hb.len);

	m = nl_msg_start_raw(&tail, NFNL_MSG_BATCH_END, 0, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
	nl_msg_end(&tail, m);

	for (off = start; off < tail.len; off += NLMSG_ALIGN(h->nlmsg_len)) {
		h = (struct nlmsghdr *)(b->buf + off);
		h->nlmsg_seq = seq++;
		h->nlmsg_pid = 0;
		h->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	}
	/* The last object message is the one before the end message. */
	*last_seq = seq - 2;
	h = (struct nlmsghdr *)nft_batch_find(b->buf + start, tail.len - start, *last_seq);
	if (h)
		h->nlmsg_flags |= NLM_F_ACK;
	b->len = tail.len;
	return start;
}

struct verdict {
	uint32_t seq0, last_seq;
	bool done;
	uint32_t nerr;
	struct nl_ack first; /* the first error by sequence number */
	char first_msg[160]; /* its extack text (the receive buffer is reused) */
};

static void note_error(struct verdict *v, const struct nl_ack *ack)
{
	v->nerr++;
	if (v->nerr > 1 && (uint32_t)(ack->seq - v->seq0) >= (uint32_t)(v->first.seq - v->seq0))
		return;
	v->first = *ack;
	v->first.msg = NULL; /* points into the receive buffer; keep a copy */
	v->first_msg[0] = '\0';
	if (ack->msg) {
		size_t n = ack->msg_len < sizeof(v->first_msg) - 1 ? ack->msg_len
								   : sizeof(v->first_msg) - 1;
		memcpy(v->first_msg, ack->msg, n);
		v->first_msg[n] = '\0';
	}
}

/* Takes in one datagram of answers; -EBADMSG if it is malformed. */
static int absorb(struct verdict *v, uint32_t portid, const void *p, size_t len)
{
	const struct nlmsghdr *h;
	struct nl_walk w;
	struct nl_ack ack;
	int r;

	nl_walk_init(&w, p, len);
	while ((r = nl_walk_next(&w, &h)) > 0) {
		if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_pid != portid)
			continue;
		if (nl_parse_ack(h, &ack) < 0)
			return -EBADMSG;
		/* Modular: the range may wrap. Outside it is a stale answer to an
		 * abandoned request. */
		if ((uint32_t)(ack.seq - v->seq0) > (uint32_t)(v->last_seq - v->seq0))
			continue;
		if (ack.error)
			note_error(v, &ack);
		if (ack.seq == v->last_seq || (ack.error && ack.seq == v->seq0))
			v->done = true;
	}
	return r;
}

static int report(const struct nft_batch *b, size_t start, const struct verdict *v, struct err *e)
{
	const struct nlmsghdr *h;
	char what[192];

	if (v->first.seq == v->seq0) {
		if (v->first.error == ERESTART)
			return err_set(e, ERESTART, "commit: ruleset generation is no longer %u",
				       b->genid);
		snprintf(what, sizeof(what), "commit of %u messages", b->nmsg);
	} else {
		h = nft_batch_find(b->buf + start, b->len - start, v->first.seq);
		if (h)
			nft_describe_msg(h, v->first.bad_offset, what, sizeof(what));
		else
			snprintf(what, sizeof(what), "message seq %u", v->first.seq);
	}
	if (v->first_msg[0])
		return err_set(e, v->first.error, "%s: %s (%s)%s", what, strerror(v->first.error),
			       v->first_msg, v->nerr > 1 ? " and more errors" : "");
	return err_set(e, v->first.error, "%s: %s%s", what, strerror(v->first.error),
		       v->nerr > 1 ? " and more errors" : "");
}

int nft_batch_commit(struct nft_batch *b, struct err *e)
{
	struct nft_sock *s = b->sock;
	struct verdict v = {0};
	size_t start;
	int ret = 0;

	if (b->rule_off) {
		ret = err_set(e, EBUSY, "commit: a rule is open (call nft_rule_end)");
		goto out;
	}
	if (b->nmsg == 0)
		goto out;
	v.seq0 = s->seq + 1;
	start = seal(b, v.seq0, &v.last_seq);
	s->seq = v.last_seq + 1;
	ret = nl_send(s, b->buf + start, b->len - start);
	if (ret < 0) {
		ret = err_set(e, -ret, "commit: send %zu bytes", b->len - start);
		goto out;
	}
	for (int i = 0; i < BATCH_MAX_DATAGRAMS && !v.done; i++) {
		long n = nl_recv(s, false);
		if (n < 0) {
			if (v.nerr)
				break;
			/* -ENOBUFS: answers were lost; whether it applied is unknown. */
			ret = err_set(e, (int)-n, "commit: reading the kernel's answer");
			goto out;
		}
		if (absorb(&v, s->portid, s->rx, (size_t)n) < 0) {
			ret = err_set(e, EBADMSG, "commit: malformed answer");
			goto out;
		}
	}
	if (v.nerr)
		ret = report(b, start, &v, e);
	else if (!v.done)
		ret = err_set(e, ETIMEDOUT, "commit: no answer from the kernel");
out:
	nft_batch_reset(b);
	return ret;
}
