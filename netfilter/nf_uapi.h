/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nf_uapi: the part of the Linux netlink, nfnetlink and nf_tables UAPI that
 * netfilter/ uses, with the kernel's own names and values (a stable ABI).
 * Private to netfilter/ and its tests: musl-gcc sees no kernel headers, and
 * copying the few definitions keeps the release build self-contained. Never
 * include this together with <linux/netlink.h> or <linux/netfilter/...>.
 */
#ifndef NETFILTER_NF_UAPI_H
#define NETFILTER_NF_UAPI_H

#include <stdint.h>

/* <linux/netlink.h> */
#define NETLINK_NETFILTER 12
#define NETLINK_CAP_ACK	  10
#define NETLINK_EXT_ACK	  11
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct sockaddr_nl {
	unsigned short nl_family;
	unsigned short nl_pad;
	uint32_t nl_pid;
	uint32_t nl_groups;
};

struct nlmsghdr {
	uint32_t nlmsg_len;
	uint16_t nlmsg_type;
	uint16_t nlmsg_flags;
	uint32_t nlmsg_seq;
	uint32_t nlmsg_pid;
};

struct nlmsgerr {
	int error;
	struct nlmsghdr msg;
};

struct nlattr {
	uint16_t nla_len;
	uint16_t nla_type;
};

#define NLM_F_REQUEST	0x01
#define NLM_F_MULTI	0x02
#define NLM_F_ACK	0x04
#define NLM_F_DUMP_INTR 0x10
#define NLM_F_ROOT	0x100
#define NLM_F_MATCH	0x200
#define NLM_F_DUMP	(NLM_F_ROOT | NLM_F_MATCH)
#define NLM_F_REPLACE	0x100
#define NLM_F_EXCL	0x200
#define NLM_F_CREATE	0x400
#define NLM_F_APPEND	0x800
#define NLM_F_CAPPED	0x100
#define NLM_F_ACK_TLVS	0x200

#define NLMSG_ALIGNTO	 4U
#define NLMSG_ALIGN(len) (((len) + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1))
#define NLMSG_HDRLEN	 ((int)NLMSG_ALIGN(sizeof(struct nlmsghdr)))
#define NLMSG_NOOP	 0x1
#define NLMSG_ERROR	 0x2
#define NLMSG_DONE	 0x3
#define NLMSG_OVERRUN	 0x4
#define NLMSG_MIN_TYPE	 0x10

enum {
	NLMSGERR_ATTR_UNUSED,
	NLMSGERR_ATTR_MSG,
	NLMSGERR_ATTR_OFFS,
	NLMSGERR_ATTR_COOKIE,
	NLMSGERR_ATTR_POLICY,
	NLMSGERR_ATTR_MISS_TYPE,
	NLMSGERR_ATTR_MISS_NEST,
	NLMSGERR_ATTR_MAX = NLMSGERR_ATTR_MISS_NEST
};

#define NLA_F_NESTED	    (1 << 15)
#define NLA_F_NET_BYTEORDER (1 << 14)
#define NLA_TYPE_MASK	    ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
#define NLA_ALIGNTO	    4
#define NLA_ALIGN(len)	    (((len) + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1))
#define NLA_HDRLEN	    ((int)NLA_ALIGN(sizeof(struct nlattr)))

/* <linux/netfilter/nfnetlink.h> */
struct nfgenmsg {
	uint8_t nfgen_family;
	uint8_t version;
	uint16_t res_id; /* big endian */
};

#define NFNETLINK_V0	     0
#define NFNL_SUBSYS_NFTABLES 10
#define NFNL_MSG_BATCH_BEGIN NLMSG_MIN_TYPE
#define NFNL_MSG_BATCH_END   (NLMSG_MIN_TYPE + 1)
#define NFNL_BATCH_GENID     1

/* <linux/netfilter.h> */
#define NFPROTO_UNSPEC 0
#define NFPROTO_INET   1
#define NFPROTO_IPV4   2
#define NFPROTO_IPV6   10
#define NF_DROP	       0
#define NF_ACCEPT      1

/* <linux/netfilter/nf_tables.h> */
#define NFT_REG_VERDICT 0
#define NFT_REG_1	1
#define NFT_REG_4	4
#define NFT_JUMP	(-3)
#define NFT_GOTO	(-4)

enum nf_tables_msg_types {
	NFT_MSG_NEWTABLE,
	NFT_MSG_GETTABLE,
	NFT_MSG_DELTABLE,
	NFT_MSG_NEWCHAIN,
	NFT_MSG_GETCHAIN,
	NFT_MSG_DELCHAIN,
	NFT_MSG_NEWRULE,
	NFT_MSG_GETRULE,
	NFT_MSG_DELRULE,
	NFT_MSG_NEWSET,
	NFT_MSG_GETSET,
	NFT_MSG_DELSET,
	NFT_MSG_NEWSETELEM,
	NFT_MSG_GETSETELEM,
	NFT_MSG_DELSETELEM,
	NFT_MSG_NEWGEN,
	NFT_MSG_GETGEN,
};

#define NFTA_LIST_ELEM 1

enum { NFTA_HOOK_UNSPEC, NFTA_HOOK_HOOKNUM, NFTA_HOOK_PRIORITY, NFTA_HOOK_DEV };

enum { NFTA_TABLE_UNSPEC, NFTA_TABLE_NAME, NFTA_TABLE_FLAGS, NFTA_TABLE_USE, NFTA_TABLE_HANDLE };

enum {
	NFTA_CHAIN_UNSPEC,
	NFTA_CHAIN_TABLE,
	NFTA_CHAIN_HANDLE,
	NFTA_CHAIN_NAME,
	NFTA_CHAIN_HOOK,
	NFTA_CHAIN_POLICY,
	NFTA_CHAIN_USE,
	NFTA_CHAIN_TYPE,
	NFTA_CHAIN_COUNTERS,
	NFTA_CHAIN_PAD,
	NFTA_CHAIN_FLAGS,
	NFTA_CHAIN_MAX = NFTA_CHAIN_FLAGS
};

enum {
	NFTA_RULE_UNSPEC,
	NFTA_RULE_TABLE,
	NFTA_RULE_CHAIN,
	NFTA_RULE_HANDLE,
	NFTA_RULE_EXPRESSIONS,
	NFTA_RULE_COMPAT,
	NFTA_RULE_POSITION,
	NFTA_RULE_USERDATA,
	NFTA_RULE_MAX = NFTA_RULE_USERDATA
};

#define NFT_SET_INTERVAL 0x4
#define NFT_SET_TIMEOUT	 0x10

enum {
	NFTA_SET_UNSPEC,
	NFTA_SET_TABLE,
	NFTA_SET_NAME,
	NFTA_SET_FLAGS,
	NFTA_SET_KEY_TYPE,
	NFTA_SET_KEY_LEN,
	NFTA_SET_DATA_TYPE,
	NFTA_SET_DATA_LEN,
	NFTA_SET_POLICY,
	NFTA_SET_DESC,
	NFTA_SET_ID,
	NFTA_SET_TIMEOUT,
	NFTA_SET_GC_INTERVAL,
	NFTA_SET_USERDATA,
	NFTA_SET_MAX = NFTA_SET_USERDATA
};

#define NFT_SET_ELEM_INTERVAL_END 0x1

enum {
	NFTA_SET_ELEM_UNSPEC,
	NFTA_SET_ELEM_KEY,
	NFTA_SET_ELEM_DATA,
	NFTA_SET_ELEM_FLAGS,
	NFTA_SET_ELEM_TIMEOUT,
	NFTA_SET_ELEM_EXPIRATION,
	NFTA_SET_ELEM_USERDATA,
	NFTA_SET_ELEM_EXPR,
	NFTA_SET_ELEM_PAD,
	NFTA_SET_ELEM_OBJREF,
	NFTA_SET_ELEM_KEY_END,
	NFTA_SET_ELEM_MAX = NFTA_SET_ELEM_KEY_END
};

enum {
	NFTA_SET_ELEM_LIST_UNSPEC,
	NFTA_SET_ELEM_LIST_TABLE,
	NFTA_SET_ELEM_LIST_SET,
	NFTA_SET_ELEM_LIST_ELEMENTS,
	NFTA_SET_ELEM_LIST_SET_ID,
	NFTA_SET_ELEM_LIST_MAX = NFTA_SET_ELEM_LIST_SET_ID
};

enum { NFTA_DATA_UNSPEC, NFTA_DATA_VALUE, NFTA_DATA_VERDICT, NFTA_DATA_MAX = NFTA_DATA_VERDICT };
#define NFT_DATA_VALUE_MAXLEN 64

enum { NFTA_VERDICT_UNSPEC, NFTA_VERDICT_CODE, NFTA_VERDICT_CHAIN, NFTA_VERDICT_MAX = 2 };

enum { NFTA_EXPR_UNSPEC, NFTA_EXPR_NAME, NFTA_EXPR_DATA, NFTA_EXPR_MAX = NFTA_EXPR_DATA };

enum { NFTA_IMMEDIATE_UNSPEC, NFTA_IMMEDIATE_DREG, NFTA_IMMEDIATE_DATA };

enum {
	NFTA_BITWISE_UNSPEC,
	NFTA_BITWISE_SREG,
	NFTA_BITWISE_DREG,
	NFTA_BITWISE_LEN,
	NFTA_BITWISE_MASK,
	NFTA_BITWISE_XOR
};

enum { NFTA_CMP_UNSPEC, NFTA_CMP_SREG, NFTA_CMP_OP, NFTA_CMP_DATA };

#define NFT_LOOKUP_F_INV 1
enum {
	NFTA_LOOKUP_UNSPEC,
	NFTA_LOOKUP_SET,
	NFTA_LOOKUP_SREG,
	NFTA_LOOKUP_DREG,
	NFTA_LOOKUP_SET_ID,
	NFTA_LOOKUP_FLAGS
};

enum {
	NFTA_PAYLOAD_UNSPEC,
	NFTA_PAYLOAD_DREG,
	NFTA_PAYLOAD_BASE,
	NFTA_PAYLOAD_OFFSET,
	NFTA_PAYLOAD_LEN
};

enum { NFTA_META_UNSPEC, NFTA_META_DREG, NFTA_META_KEY, NFTA_META_SREG };

enum { NFTA_CT_UNSPEC, NFTA_CT_DREG, NFTA_CT_KEY, NFTA_CT_DIRECTION, NFTA_CT_SREG };

enum { NFTA_FIB_UNSPEC, NFTA_FIB_DREG, NFTA_FIB_RESULT, NFTA_FIB_FLAGS };
#define NFT_FIB_RESULT_ADDRTYPE 3
#define NFTA_FIB_F_SADDR	(1u << 0)
#define NFT_RTN_LOCAL		2 /* the route type of a local address (RTN_LOCAL) */

enum { NFTA_COUNTER_UNSPEC, NFTA_COUNTER_BYTES, NFTA_COUNTER_PACKETS };

enum { NFTA_REJECT_UNSPEC, NFTA_REJECT_TYPE, NFTA_REJECT_ICMP_CODE };

enum { NFTA_REDIR_UNSPEC, NFTA_REDIR_REG_PROTO_MIN, NFTA_REDIR_REG_PROTO_MAX, NFTA_REDIR_FLAGS };

enum { NFTA_GEN_UNSPEC, NFTA_GEN_ID };

/* <linux/netfilter/nf_nat.h> */
#define NF_NAT_RANGE_PROTO_SPECIFIED (1 << 1)

/*
 * nft's own conventions (libnftnl udata), not kernel ABI: the set key's
 * datatype ids and the user-data TLVs nft writes, so that `nft list` shows
 * what this library programs exactly as it shows its own.
 */
#define NFT_DATATYPE_IPADDR	       7
#define NFT_DATATYPE_IP6ADDR	       8
#define NFTNL_UDATA_SET_KEYBYTEORDER   0
#define NFTNL_UDATA_SET_ELEM_FLAGS     1
#define NFTNL_SET_ELEM_F_INTERVAL_OPEN 1
#define NFT_BYTEORDER_BIG_ENDIAN       2

#endif
