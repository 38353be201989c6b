/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nft_int: what the netfilter/ files share behind nft.h (private).
 */
#ifndef NETFILTER_NFT_INT_H
#define NETFILTER_NFT_INT_H

#include "nft.h"
#include "nl.h"

/* Bytes kept free at the end of a batch for the batch end message. */
#define NFT_BATCH_TAIL 20

/* The batch's free space as a builder window (write back with batch_sync). */
static inline struct nl_buf batch_window(const struct nft_batch *b)
{
	struct nl_buf nb = {b->buf, b->len, b->cap > NFT_BATCH_TAIL ? b->cap - NFT_BATCH_TAIL : 0};
	return nb;
}

/* Prefixes e's message (when e is given) and yields r, whatever e is. */
#define NFT_WRAP(r, e, ...) ((e) ? (void)err_wrap((e), __VA_ARGS__) : (void)0, (r))

/* Checks a name for an object kind ("table", "chain", "set"); 0 or -errno with e set. */
int nft_check_name(const char *name, const char *what, struct err *e);
/* Checks the family; 0 or -EAFNOSUPPORT with e set. */
int nft_check_family(int family, struct err *e);

/* Starts an object message in the batch (refused while a rule is open);
 * returns its offset or -errno with e set ("no room" names `what`). */
long nft_batch_msg_start(struct nft_batch *b, struct nl_buf *nb, uint16_t type, uint16_t flags,
			 int family, const char *what, struct err *e);
/* Finishes the message at off and counts it. */
void nft_batch_msg_end(struct nft_batch *b, struct nl_buf *nb, long off);

/* The message with sequence number seq in a sent batch (p, len), or NULL. */
const struct nlmsghdr *nft_batch_find(const void *p, size_t len, uint32_t seq);
/* Describes a message of ours for an error: "add set inet t s", or with
 * bad_offset (extack) inside an element "add element 192.0.2.1 to set inet t
 * s", inside an expression "add rule to chain inet t c (expression 3: lookup)".
 * Always NUL-terminates out (size > 0); tolerates any bytes. */
void nft_describe_msg(const struct nlmsghdr *h, uint32_t bad_offset, char *out, size_t size);
/* Writes a key as an address (4 or 16 bytes) or hex; NUL-terminated. */
void nft_key_str(const void *key, size_t len, char *out, size_t size);

/* Decodes one NFTA_LIST_ELEM nest of a set element message. 0 or -EBADMSG. */
int nft_elem_decode(const struct nlattr *nest, struct nft_elem_info *info);
/* Calls cb for every element of a NEWSETELEM message; 0, cb's value or -EBADMSG. */
int nft_elem_msg_parse(const struct nlmsghdr *h, nft_elem_cb *cb, void *arg);

/* Renders one dumped nf_tables message (table, chain, set, rule or element
 * list) as text lines into out; 0, -ENOBUFS (out full) or -EBADMSG. */
int nft_dump_render(const struct nlmsghdr *h, struct buf *out);

#endif
