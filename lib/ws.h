/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ws: the RFC 6455 WebSocket frame codec, allocation-free except for the
 * message assembler's caller-supplied struct buf.
 *
 * Decoding: ws_frame_parse() is pure over (buf, len) like http_parse: it
 * returns the bytes of one whole frame (header + payload), -1 if the frame
 * breaks the protocol (f->error names the reason and f->close_code is the
 * code to close with: 1002 protocol error, 1009 too big) or -2 if more bytes
 * are needed. It checks everything that can be checked from the header as
 * soon as those bytes are there, so a hostile length is refused before any
 * payload arrives. The payload stays masked in buf; unmask it with
 * ws_unmask() (in place or into another buffer, in pieces if streamed), or
 * let the assembler do it. ws_frame_parse_header() stops after the header for
 * callers that stream large payloads.
 *
 * Rules enforced: RSV1-3 clear (no extension is ever negotiated), opcodes
 * 0, 1, 2, 8, 9, 10 only, control frames final and at most 125 bytes, the
 * 64-bit length with its top bit clear, the shortest length encoding, and the
 * mask bit as the role needs (WS_FROM_CLIENT: a server requires masked frames;
 * without it a client refuses masked ones).
 *
 * Assembling: struct ws_msg joins fragments (continuation frames, with
 * control frames allowed in between) into one message in a caller-owned
 * struct buf, bounded by max_msg (over it: 1009), and checks text messages are
 * UTF-8 when they end (else 1007). Control payloads (at most 125 bytes) are
 * unmasked into the struct itself.
 *
 * Close handshake, for users: on receiving a close frame, check its payload
 * (ws_msg_feed does, ws_close_parse gives the code), send a close frame back
 * if none was sent yet (echo the code, or 1000 if the peer sent none), stop
 * sending data, and close TCP: a server closes right after its close frame
 * has been written; a client waits for the server's TCP close (with a timeout).
 * When you start the close: send the close frame, keep reading (ignoring
 * data frames) until the peer's close frame arrives, then close TCP. On a
 * protocol error send a close frame with f->close_code / m->close_code and
 * close TCP without waiting. Never send 1005, 1006 or 1015.
 */
#ifndef LIB_WS_H
#define LIB_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http_parse.h"

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* Close codes (RFC 6455 7.4.1) this code base sends or checks. */
#define WS_CLOSE_NORMAL	     1000
#define WS_CLOSE_GOING_AWAY  1001
#define WS_CLOSE_PROTOCOL    1002
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_NO_STATUS   1005 /* received empty close payload; never sent */
#define WS_CLOSE_BAD_DATA    1007 /* invalid UTF-8 in a text message */
#define WS_CLOSE_POLICY	     1008
#define WS_CLOSE_TOO_BIG     1009
#define WS_CLOSE_INTERNAL    1011

#define WS_CONTROL_MAX	   125 /* control frame payload limit */
#define WS_HEADER_MAX	   14  /* 2 + 8 (length) + 4 (mask) */
#define WS_CLOSE_FRAME_MAX (WS_HEADER_MAX + WS_CONTROL_MAX)

/* ws_frame_parse flags. */
#define WS_FROM_CLIENT 1 /* frames must be masked (a server reading); else must not be */

struct ws_frame {
	bool fin;
	uint8_t opcode; /* enum ws_opcode */
	bool masked;
	uint8_t mask[4]; /* the masking key when masked */
	uint64_t payload_len;
	size_t header_len;   /* 2..14 */
	const char *payload; /* buf + header_len, still masked (whole-frame parse only) */
	/* On -1: */
	const char *error;   /* static text */
	uint16_t close_code; /* 1002 or 1009 */
};

/*
 * Parses one whole frame: returns header_len + payload_len, -1 or -2.
 * A payload over max_payload is -1 with 1009 (control frames are always
 * limited to 125 by the protocol). flags: WS_FROM_CLIENT or 0.
 */
long ws_frame_parse(const char *buf, size_t len, struct ws_frame *f, size_t max_payload, int flags);

/* As ws_frame_parse, but returns header_len once the header is complete; f->payload is NULL. */
long ws_frame_parse_header(const char *buf, size_t len, struct ws_frame *f, size_t max_payload,
			   int flags);

/*
 * XORs len bytes of src with the key into dst (dst == src is allowed).
 * offset is the position of src[0] within the payload, so a payload
 * unmasked in pieces gives the same bytes as in one go.
 */
void ws_unmask(char *dst, const char *src, size_t len, const uint8_t key[4], uint64_t offset);

/*
 * Writes a frame header into out (WS_HEADER_MAX bytes) with the shortest
 * length encoding; mask_key NULL means unmasked (server to client). The
 * payload that follows must be masked by the caller (ws_unmask with offset 0)
 * when a key is given. Returns the header length (2..14).
 */
size_t ws_frame_header(char out[WS_HEADER_MAX], uint8_t opcode, bool fin, uint64_t len,
		       const uint8_t *mask_key);

/* True if s is well-formed UTF-8 (no overlongs, surrogates or code points over U+10FFFF). */
bool ws_utf8_valid(const char *s, size_t len);

/* True for codes a peer may send in a close frame: 1000-1003, 1007-1014, 3000-4999. */
bool ws_close_code_valid(unsigned code);

/*
 * Checks a received (unmasked) close payload: empty (code = 1005, empty
 * reason) or a valid code and a UTF-8 reason. Returns 0, or -1 with the
 * close code to answer with in *code (1002, or 1007 for a bad reason).
 */
int ws_close_parse(const char *payload, size_t len, uint16_t *code, const char **reason,
		   size_t *reason_len);

/*
 * Writes a whole close frame (header + payload) into out: code (0 = no
 * payload at all) and a reason cut to 123 bytes at a UTF-8 boundary.
 * mask_key as for ws_frame_header. Returns the frame length.
 */
size_t ws_close_frame(char out[WS_CLOSE_FRAME_MAX], uint16_t code, const char *reason,
		      size_t reason_len, const uint8_t *mask_key);

/* Message assembly. */
enum ws_msg_result {
	WS_MSG_MORE = 0,    /* a fragment was added; the message is not complete */
	WS_MSG_DATA = 1,    /* a whole text/binary message is in out (m->opcode says which) */
	WS_MSG_CONTROL = 2, /* a control frame: m->control_op, m->control[0, control_len) */
};

struct ws_msg {
	struct buf *out;    /* caller-owned; reset when a data message starts; leave it
			     * alone while in_progress (its length is the size so far) */
	size_t max_msg;	    /* total payload bytes of one message; 0 = out->max only */
	uint8_t opcode;	    /* TEXT/BINARY of the message in progress or just completed */
	bool in_progress;   /* a fragmented message awaits continuations */
	uint8_t control_op; /* for WS_MSG_CONTROL */
	size_t control_len;
	char control[WS_CONTROL_MAX]; /* unmasked control payload */
	/* On -1: */
	const char *error;
	uint16_t close_code; /* 1002, 1007, 1009, or 1011 (out of memory) */
};

/* Initialises the assembler; out must stay valid while m is used. */
void ws_msg_init(struct ws_msg *m, struct buf *out, size_t max_msg);

/*
 * Feeds one frame from ws_frame_parse (f->payload must hold the whole,
 * still masked payload). Returns an enum ws_msg_result or -1 (error,
 * close_code set). A completed message stays in out until the next data
 * frame is fed. Close frames are checked with ws_close_parse.
 */
int ws_msg_feed(struct ws_msg *m, const struct ws_frame *f);

/*
 * Handshake: validates a client's upgrade request (RFC 6455 4.2.1): method
 * GET, HTTP/1.1 or later, an Upgrade field with the token "websocket", a
 * Connection field with "upgrade", Sec-WebSocket-Version exactly "13", and
 * exactly one Sec-WebSocket-Key of 24 base64 characters that decode to 16
 * bytes. Header values are as http_parse gives them (trimmed); every field
 * line of a name is looked at. Returns 0 with the key span (for
 * ws_accept_key), or -1 with a static reason for the 400.
 */
int ws_handshake_check(const char *method, int minor_version, const struct http_header *h, size_t n,
		       const char **key, size_t *key_len, const char **reason);

/*
 * Writes the "101 Switching Protocols" response head for key into out (cap
 * bytes, WS_HANDSHAKE_RESPONSE_MAX is enough). Returns its length or -1 if cap is too small.
 */
#define WS_HANDSHAKE_RESPONSE_MAX 160
int ws_handshake_response(char *out, size_t cap, const char *key, size_t key_len);

#endif
