/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns: a pure DNS message codec (RFC 1035 + EDNS0 OPT), no allocation, no I/O.
 *
 * dns_parse() walks a whole message over (buf, len) and never reads past len:
 * every name (with compression pointers that must point strictly backwards,
 * so pointer loops are impossible), every record header and RDATA length is
 * checked against the buffer. It keeps the first question as lowercase text
 * (no trailing dot) for the policy, where the question and the OPT record
 * are, and leaves the rest in the buffer for the walkers below.
 *
 * Builders write into a caller-owned buffer and return the length written,
 * or -1 if it does not fit (or the input is unusable).
 */
#ifndef EGRESSD_DNS_H
#define EGRESSD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN	  12
#define DNS_NAME_WIRE_MAX 255  /* octets of an uncompressed name */
#define DNS_NAME_TEXT_MAX 254  /* 253 characters + NUL */
#define DNS_UDP_MIN	  512  /* what a client without EDNS accepts */
#define DNS_EDNS_SIZE	  1232 /* the UDP size we advertise in OPT records we write */

enum dns_rcode {
	DNS_NOERROR = 0,
	DNS_FORMERR = 1,
	DNS_SERVFAIL = 2,
	DNS_NXDOMAIN = 3,
	DNS_NOTIMP = 4,
	DNS_REFUSED = 5,
};

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_OPT = 41,
};
#define DNS_CLASS_IN 1

#define DNS_F_QR	  0x8000
#define DNS_F_AA	  0x0400
#define DNS_F_TC	  0x0200
#define DNS_F_RD	  0x0100
#define DNS_F_RA	  0x0080
#define DNS_F_AD	  0x0020
#define DNS_F_CD	  0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags)  ((flags)&0xf)

struct dns_msg {
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
	char qname[DNS_NAME_TEXT_MAX]; /* first question, lowercase, "" for the root */
	uint16_t qtype, qclass;
	size_t question_end; /* the first question is [DNS_HDR_LEN, question_end) */
	size_t answer_off;   /* where the answer section starts */
	bool has_opt;
	uint16_t opt_udp_size; /* the OPT record's class: the sender's UDP size */
	uint32_t opt_ttl;      /* extended rcode, version, DO bit */
};

/*
 * Lowers every TTL above max (answer, authority and additional sections; the
 * OPT pseudo-record, whose TTL field is flags, is left alone), in place, so a
 * client never caches an answer longer than its addresses stay allowed.
 * Returns how many were lowered, or -1 if the records cannot be walked.
 */
int dns_clamp_ttls(uint8_t *p, size_t len, const struct dns_msg *m, uint32_t max);

/*
 * Parses a whole message. Returns the bytes used (the message may be followed
 * by nothing else in a datagram: callers compare with len), -1 if malformed
 * (bad label, forward or looping pointer, name too long, a second OPT, an OPT
 * outside the additional section or not at the root, a question name with a
 * byte that cannot be written as text), -2 if the buffer ends too early.
 */
int dns_parse(const uint8_t *p, size_t len, struct dns_msg *m);

/*
 * Reads the (possibly compressed) name at *off into text (lowercase, no
 * trailing dot; cap >= DNS_NAME_TEXT_MAX) and moves *off past it.
 * Returns the text length, -1 malformed, -2 truncated.
 */
int dns_name_read(const uint8_t *p, size_t len, size_t *off, char *text, size_t cap);

/* An address record of the answer section. */
struct dns_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint32_t ttl;
};

/* Stores up to max A/AAAA records (class IN) of the answer section of a parsed
 * message, in order, CNAME-chain targets included. Returns how many, or -1. */
int dns_answer_addrs(const uint8_t *p, size_t len, const struct dns_msg *m, struct dns_addr *out,
		     size_t max);

/* A writer over a caller buffer; a write that does not fit sets overflow and
 * every later write is ignored. */
struct dns_writer {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};
void dns_w_init(struct dns_writer *w, void *buf, size_t cap);
void dns_w_u16(struct dns_writer *w, uint16_t v);
void dns_w_u32(struct dns_writer *w, uint32_t v);
void dns_w_bytes(struct dns_writer *w, const void *b, size_t n);
/* Writes a text name ("a.b.test", trailing dot optional, "" or "." = root)
 * uncompressed. 0, or -1 if it is not a valid name (the writer is unchanged). */
int dns_w_name(struct dns_writer *w, const char *text);
void dns_w_header(struct dns_writer *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		  uint16_t ns, uint16_t ar);
/* An OPT record advertising udp_size with the given TTL field and no options. */
void dns_w_opt(struct dns_writer *w, uint16_t udp_size, uint32_t ttl);
/* The writer's length, or -1 after an overflow. */
int dns_w_done(const struct dns_writer *w);

/*
 * A reply without records to the parsed query q[0, qlen): same id and opcode,
 * RD and CD copied, QR set, the given rcode (and TC if tc), the question copied
 * when the query had exactly one (its name uncompressed, case kept), and an OPT
 * record when the query had one (our UDP size, the DO bit copied). Returns the
 * length or -1.
 */
int dns_reply_rcode(const uint8_t *q, size_t qlen, const struct dns_msg *m, int rcode, bool tc,
		    uint8_t *out, size_t cap);

/* A header-only FORMERR for a message too broken to parse (len >= 2 gives
 * its id). Returns the length or -1. */
int dns_reply_formerr_raw(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap);

/* A query for name/qtype class IN. Returns the length or -1. */
int dns_build_query(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t qtype,
		    bool rd);

/* The largest UDP reply the sender of m accepts (512 without EDNS). */
size_t dns_udp_limit(const struct dns_msg *m);

#endif
