/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nft: program nf_tables from a static C binary over raw NETLINK_NETFILTER
 * (no libmnl, no libnftnl, no nft CLI).
 *
 * Model
 *   struct nft_sock   one netlink socket; caller-owned memory (it embeds the
 *                     32 KiB receive buffer), no heap. nft_close() closes it.
 *   struct nft_batch  one transaction being built in a caller-owned byte
 *                     buffer. Builders (nft_table_add, nft_set_add,
 *                     nft_elem_add, nft_rule_begin + nft_expr_... + nft_rule_end)
 *                     only append messages; nft_batch_commit() sends them as
 *                     one NFNL_MSG_BATCH_BEGIN..END transaction, which the
 *                     kernel applies whole or not at all, then empties the
 *                     batch. A builder that finds no room returns -ENOSPC and
 *                     leaves the batch exactly as before the call, so the
 *                     caller may commit and retry (no longer one transaction)
 *                     or use a larger buffer. Element lists are split into
 *                     several messages of the same transaction as needed.
 *
 * Errors: every function returns >= 0 or -errno. The last parameter, a
 * caller-owned `struct err *` (NULL allowed), receives a message that names the
 * operation and the object, e.g. "add element 192.0.2.1 to set inet t s: No
 * such file or directory". A kernel rejection at commit is mapped back to the
 * message the kernel named (by sequence number, and to the element or
 * expression by the extended-ack offset).
 *
 * Names (table, chain, set) are 1..NFT_NAME_MAX-1 bytes; longer ones give
 * -ENAMETOOLONG. Addresses and ports are in network byte order where the type
 * says so (struct nft_elem.addr); plain integers are host order.
 * No global state; one socket or batch must not be used by two threads at once.
 */
#ifndef NETFILTER_NFT_H
#define NETFILTER_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define NFT_RX_SIZE  32768 /* receive buffer: the kernel's largest dump skb */
#define NFT_NAME_MAX 256   /* names are shorter than this (the kernel's limit) */

/* Families (the kernel's NFPROTO_* values). */
enum nft_family { NFT_INET = 1, NFT_IP = 2, NFT_IP6 = 10 };

/* Verdicts (the kernel's values); NFT_V_ACCEPT and NFT_V_DROP are also chain policies. */
enum nft_verdict {
	NFT_V_DROP = 0,
	NFT_V_ACCEPT = 1,
	NFT_V_CONTINUE = -1,
	NFT_V_JUMP = -3,
	NFT_V_GOTO = -4,
	NFT_V_RETURN = -5,
};

/* ---- socket ---------------------------------------------------------- */

struct nft_sock {
	int fd;
	uint32_t portid; /* our netlink address, assigned by the kernel */
	uint32_t seq;	 /* last sequence number used */
	size_t sndbuf;	 /* largest send the socket accepts now */
	unsigned char rx[NFT_RX_SIZE] __attribute__((aligned(8)));
};

/* Opens a NETLINK_NETFILTER socket into *s; returns 0 or -errno (-EPROTONOSUPPORT: no nf_tables).
 */
int nft_open(struct nft_sock *s, struct err *e);
/* Closes the socket (fd becomes -1); calling it again is harmless. */
void nft_close(struct nft_sock *s);
/* Reads the ruleset generation id; returns 0 or -errno. */
int nft_gen_id(struct nft_sock *s, uint32_t *genid, struct err *e);

/* ---- transactions ---------------------------------------------------- */

struct nft_batch {
	struct nft_sock *sock;
	unsigned char *buf;
	size_t cap, len; /* messages live in buf[NFT_BATCH_HEAD, len) */
	uint32_t nmsg;	 /* object messages in the batch */
	uint32_t set_id; /* last NFTA_SET_ID handed out */
	uint32_t genid;
	bool check_genid;
	int family;	  /* family of the open rule */
	size_t rule_off;  /* open rule: offset of its message, 0 = none */
	size_t exprs_off; /* open rule: offset of its expression list */
	int rule_err;	  /* first error of the open rule's builders */
};

#define NFT_BATCH_HEAD 32 /* bytes reserved for the batch begin message */

/* Starts an empty batch in the caller's buf[0, size) (any alignment) for socket s.
 * Size it for the largest transaction: an IPv4 element with a timeout takes
 * about 28 bytes (IPv6 40; a prefix in an interval set twice that), a rule
 * 100-300 bytes, a table, chain or set under 100. */
void nft_batch_init(struct nft_batch *b, struct nft_sock *s, void *buf, size_t size);
/* Drops everything added since the last commit. */
void nft_batch_reset(struct nft_batch *b);
/* Makes the commit fail with -ERESTART, applying nothing, if the ruleset
 * generation is no longer genid (from nft_gen_id): for read-modify-write. */
void nft_batch_genid(struct nft_batch *b, uint32_t genid);
/* Sends the batch as one transaction and waits for the kernel's verdict;
 * returns 0 (all applied) or -errno (nothing applied). Empties the batch either
 * way. An empty batch is a no-op. -ERESTART: generation changed. */
int nft_batch_commit(struct nft_batch *b, struct err *e);

/* ---- tables and chains ----------------------------------------------- */

/* Adds a table (no error if it exists). */
int nft_table_add(struct nft_batch *b, int family, const char *table, struct err *e);
/* Deletes a table with everything in it (-ENOENT at commit if absent). */
int nft_table_del(struct nft_batch *b, int family, const char *table, struct err *e);
/* Add, delete, add: after commit the table exists and is empty, whether or not
 * it existed before, on every kernel (no NFT_MSG_DESTROY needed). */
int nft_table_recreate(struct nft_batch *b, int family, const char *table, struct err *e);

enum nft_chain_type { NFT_TYPE_FILTER, NFT_TYPE_NAT, NFT_TYPE_ROUTE };
enum nft_hook {
	NFT_HOOK_PREROUTING,
	NFT_HOOK_INPUT,
	NFT_HOOK_FORWARD,
	NFT_HOOK_OUTPUT,
	NFT_HOOK_POSTROUTING,
};

struct nft_chain_hook {
	enum nft_chain_type type;
	enum nft_hook hook;
	int32_t priority;	 /* e.g. 0 filter, -100 dstnat, 100 srcnat */
	enum nft_verdict policy; /* NFT_V_ACCEPT or NFT_V_DROP */
};

/* Adds a chain: a base chain when hook is given, else a regular chain (a jump target). */
int nft_chain_add(struct nft_batch *b, int family, const char *table, const char *chain,
		  const struct nft_chain_hook *hook, struct err *e);
/* Deletes an empty chain that nothing jumps to. */
int nft_chain_del(struct nft_batch *b, int family, const char *table, const char *chain,
		  struct err *e);
/* Deletes every rule of a chain. */
int nft_chain_flush(struct nft_batch *b, int family, const char *table, const char *chain,
		    struct err *e);

/* ---- sets and elements ----------------------------------------------- */

enum nft_key_type { NFT_KEY_IPV4, NFT_KEY_IPV6 };

#define NFT_SETF_INTERVAL 0x4  /* elements are prefixes (start/end intervals) */
#define NFT_SETF_TIMEOUT  0x10 /* elements may expire */

/* A set's definition; also passed to the element functions, which need its
 * key type and flags. */
struct nft_set {
	const char *name;
	enum nft_key_type key;
	uint32_t flags;	     /* NFT_SETF_* */
	uint64_t timeout_ms; /* default element timeout, 0 = none; needs NFT_SETF_TIMEOUT */
};

/* Adds a set (no error if an identical one exists). */
int nft_set_add(struct nft_batch *b, int family, const char *table, const struct nft_set *set,
		struct err *e);
int nft_set_del(struct nft_batch *b, int family, const char *table, const char *set, struct err *e);
/* Deletes every element of a set. */
int nft_set_flush(struct nft_batch *b, int family, const char *table, const char *set,
		  struct err *e);

/* An element: an address or, in an interval set, a prefix. */
struct nft_elem {
	unsigned char addr[16]; /* network byte order; IPv4 uses addr[0..3] */
	uint8_t prefix;		/* 32 (IPv4) or 128 (IPv6) for one address */
	uint64_t timeout_ms;	/* 0 = the set's default */
};

/* Parses "192.0.2.1", "192.0.2.0/24", "2001:db8::/32" into *el (host bits
 * cleared, timeout 0); returns NFT_KEY_IPV4 or NFT_KEY_IPV6, or -EINVAL. */
int nft_elem_parse(struct nft_elem *el, const char *text);

/* Add n elements (no error for ones that exist; their timeout is NOT
 * restarted: see nft_elem_refresh). In an interval set each prefix becomes a
 * start element and an interval-end element (none when it reaches the top of
 * the address space). Returns 0 or -errno; -ENOSPC leaves the batch unchanged. */
int nft_elem_add(struct nft_batch *b, int family, const char *table, const struct nft_set *set,
		 const struct nft_elem *el, size_t n, struct err *e);
/* Deletes n elements (-ENOENT at commit for a missing one). */
int nft_elem_del(struct nft_batch *b, int family, const char *table, const struct nft_set *set,
		 const struct nft_elem *el, size_t n, struct err *e);
/* Adds n elements so that each one's timeout starts again now, whether or not
 * it existed (add + delete + add in the same transaction): re-adding alone
 * does not refresh a timeout on most kernels (upstream egress bug B3, docs/compatibility.md). */
int nft_elem_refresh(struct nft_batch *b, int family, const char *table, const struct nft_set *set,
		     const struct nft_elem *el, size_t n, struct err *e);

/* One element as the kernel lists it. Interval sets list their start and end
 * elements separately; an end element is the first address after the range. */
struct nft_elem_info {
	unsigned char key[16];
	uint8_t key_len;
	bool interval_end;
	uint64_t timeout_ms; /* 0 = no timeout */
	uint64_t expires_ms; /* time left before it expires (0 = none) */
};

/* Called once per element; a non-zero return stops the listing and is returned. */
typedef int nft_elem_cb(const struct nft_elem_info *el, void *arg);

/* Lists a set's elements; returns 0, the callback's non-zero value, or -errno. */
int nft_elem_list(struct nft_sock *s, int family, const char *table, const char *set,
		  nft_elem_cb *cb, void *arg, struct err *e);

/* ---- rules ----------------------------------------------------------- */

/* Starts a rule appended to a chain. Expressions and matches below add to it;
 * they return 0 or -errno, and the first error is also kept for
 * nft_rule_end(), so a sequence of them needs only that one check. */
int nft_rule_begin(struct nft_batch *b, int family, const char *table, const char *chain,
		   struct err *e);
/* Closes the rule; returns 0 or -errno (then the rule is dropped from the batch). */
int nft_rule_end(struct nft_batch *b, struct err *e);
/* Deletes the rule with this handle (handles are shown by nft_table_dump). */
int nft_rule_del(struct nft_batch *b, int family, const char *table, const char *chain,
		 uint64_t handle, struct err *e);

/* Registers: four 16-byte data registers. */
enum nft_reg { NFT_R1 = 1, NFT_R2, NFT_R3, NFT_R4 };

enum nft_meta_key {
	NFT_M_MARK = 3,
	NFT_M_IIFNAME = 6,
	NFT_M_OIFNAME = 7,
	NFT_M_NFPROTO = 15,
	NFT_M_L4PROTO = 16,
};
enum nft_ct_key { NFT_CTK_STATE = 0, NFT_CTK_STATUS = 2, NFT_CTK_MARK = 3 };
/* ct status bits (IPS_*) */
#define NFT_CTSTATUS_DNAT 0x20
/* ct state bits (an nft_match_ct_state argument is any of them). */
#define NFT_CTS_INVALID	    0x01
#define NFT_CTS_ESTABLISHED 0x02
#define NFT_CTS_RELATED	    0x04
#define NFT_CTS_NEW	    0x08
#define NFT_CTS_UNTRACKED   0x40

enum nft_payload_base { NFT_PB_LL, NFT_PB_NETWORK, NFT_PB_TRANSPORT };
enum nft_cmp_op { NFT_OP_EQ, NFT_OP_NEQ, NFT_OP_LT, NFT_OP_LTE, NFT_OP_GT, NFT_OP_GTE };
enum nft_reject_type { NFT_RJ_ICMP, NFT_RJ_TCP_RST, NFT_RJ_ICMPX };
/* Codes for NFT_RJ_ICMPX (for NFT_RJ_ICMP the ICMP/ICMPv6 unreachable code). */
enum nft_reject_code {
	NFT_RJ_NO_ROUTE,
	NFT_RJ_PORT_UNREACH,
	NFT_RJ_HOST_UNREACH,
	NFT_RJ_ADMIN_PROHIBITED,
};

/* Single expressions. Data is compared and loaded as raw bytes (len <= 16). */
int nft_expr_meta(struct nft_batch *b, enum nft_meta_key key, enum nft_reg dreg);
int nft_expr_ct(struct nft_batch *b, enum nft_ct_key key, enum nft_reg dreg);
int nft_expr_payload(struct nft_batch *b, enum nft_payload_base base, uint32_t offset, uint32_t len,
		     enum nft_reg dreg);
int nft_expr_cmp(struct nft_batch *b, enum nft_cmp_op op, enum nft_reg sreg, const void *data,
		 size_t len);
/* dreg = (sreg & mask) ^ flip over len bytes (nft's bitwise mask/xor). */
int nft_expr_bitwise(struct nft_batch *b, enum nft_reg sreg, enum nft_reg dreg, const void *mask,
		     const void *flip, size_t len);
/* Matches when sreg is (invert: is not) an element of the named set. */
int nft_expr_lookup(struct nft_batch *b, const char *set, enum nft_reg sreg, bool invert);
int nft_expr_immediate(struct nft_batch *b, enum nft_reg dreg, const void *data, size_t len);
/* accept, drop, return, continue; jump/goto need chain (else NULL). */
int nft_expr_verdict(struct nft_batch *b, enum nft_verdict v, const char *chain);
int nft_expr_counter(struct nft_batch *b);
/* redirect to the local machine, port `port` (nat chains): immediate + redir. */
int nft_expr_redir_port(struct nft_batch *b, uint16_t port);
int nft_expr_reject(struct nft_batch *b, enum nft_reject_type type, uint8_t code);
/* dreg = the route type (RTN_*, a host-order u32) of the packet's source address. */
int nft_expr_fib_saddr_type(struct nft_batch *b, enum nft_reg dreg);

/* Matches: the expression sequences nft itself generates for these statements,
 * so `nft list ruleset` prints them back as written in the comments. In an
 * inet table the address matches add the `meta nfproto` guard nft adds. */
int nft_match_mark(struct nft_batch *b, uint32_t mark);		    /* meta mark M */
int nft_match_oifname(struct nft_batch *b, const char *ifname);	    /* oifname "lo" */
int nft_match_iifname(struct nft_batch *b, const char *ifname);	    /* iifname "lo" */
int nft_match_saddr_not_local(struct nft_batch *b);		    /* fib saddr type != local */
int nft_match_l4proto(struct nft_batch *b, uint8_t proto);	    /* meta l4proto P */
int nft_match_nfproto(struct nft_batch *b, enum nft_family family); /* meta nfproto ipv4 */
int nft_match_ct_state(struct nft_batch *b, uint32_t states);	    /* ct state a,b */
int nft_match_ct_status_clear(struct nft_batch *b, uint32_t bits);  /* ct status & B == 0 */
int nft_match_dport(struct nft_batch *b, uint8_t proto, uint16_t port); /* tcp dport N */
/* ip daddr A[/len] or ip6 daddr A[/len], by the element's key type. */
int nft_match_daddr(struct nft_batch *b, enum nft_key_type key, const struct nft_elem *prefix);
/* ip daddr [!=] @set or ip6 daddr [!=] @set. */
int nft_match_daddr_set(struct nft_batch *b, enum nft_key_type key, const char *set, bool invert);

/* ---- debugging ------------------------------------------------------- */

/* Appends a text rendering of a table (chains, sets with their elements,
 * rules with handles and expressions) to out; a consistent snapshot (retried
 * while the ruleset generation moves). Returns 0 or -errno (-ENOBUFS: out full). */
int nft_table_dump(struct nft_sock *s, int family, const char *table, struct buf *out,
		   struct err *e);

/* "inet", "ip", "ip6" or "unknown". */
const char *nft_family_name(int family);

#endif
