// SPDX-License-Identifier: Apache-2.0
#include "http_parse.h"

#include <limits.h>
#include <string.h>

#include "ascii.h"

/*
 * Chunked decoding is a byte-at-a-time state machine (RFC 9112 7.1), so a
 * feed may end anywhere, even inside "\r\n", and never needs look-ahead.
 * The two ranges of line states are bounded by HTTP_CHUNK_LINE_MAX (a line
 * counts its CRLF) and the trailer states also by HTTP_TRAILER_MAX in all.
 */
enum {
	ST_SIZE_FIRST, /* first hex digit of a chunk size */
	ST_SIZE,       /* more hex digits, then BWS, ';' or CR */
	ST_SIZE_BWS,   /* BWS after the size: only ';' may follow */
	ST_EXT,	       /* chunk extensions, skipped up to CR */
	ST_SIZE_LF,
	ST_DATA,
	ST_DATA_CR, /* CRLF that closes chunk data */
	ST_DATA_LF,
	ST_TRAILER_START, /* a trailer field line or the final CRLF */
	ST_TRAILER_NAME,
	ST_TRAILER_VALUE,
	ST_TRAILER_LF,
	ST_END_LF,
	ST_DONE,
	ST_ERROR,
};

#define CHUNK_SIZE_MAX (1ULL << 60)

void http_body_init(struct http_body *b, enum http_body_kind kind, uint64_t content_length)
{
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->state = ST_SIZE_FIRST;
	switch (kind) {
	case HTTP_BODY_NONE:
		b->done = true;
		break;
	case HTTP_BODY_LENGTH:
		b->remaining = content_length;
		b->done = content_length == 0;
		break;
	case HTTP_BODY_CHUNKED:
	case HTTP_BODY_UNTIL_CLOSE:
		break;
	}
}

/* Counts one byte against the line and trailer bounds of the current state. */
static int count_framing(struct http_body *b)
{
	bool size_line = b->state <= ST_SIZE_LF;
	bool trailer = b->state >= ST_TRAILER_START && b->state <= ST_END_LF;

	if (!size_line && !trailer)
		return 0;
	if (++b->line_len > HTTP_CHUNK_LINE_MAX)
		return -1;
	if (trailer && ++b->trailer_len > HTTP_TRAILER_MAX)
		return -1;
	return 0;
}

/* One framing byte; ST_DATA is handled by the caller. */
static int step(struct http_body *b, unsigned char c)
{
	int d;

	if (count_framing(b) < 0)
		return -1;
	switch (b->state) {
	case ST_SIZE_FIRST:
		d = ascii_hex_value(c);
		if (d < 0)
			return -1;
		b->remaining = (uint64_t)d;
		b->state = ST_SIZE;
		return 0;
	case ST_SIZE:
		d = ascii_hex_value(c);
		if (d >= 0) {
			/* Leading zeros keep the value at 0, so only the line bound limits them. */
			if (b->remaining > (CHUNK_SIZE_MAX - (uint64_t)d) / 16)
				return -1;
			b->remaining = b->remaining * 16 + (uint64_t)d;
		} else if (c == ';') {
			b->state = ST_EXT;
		} else if (c == ' ' || c == '\t') {
			b->state = ST_SIZE_BWS;
		} else if (c == '\r') {
			b->state = ST_SIZE_LF;
		} else {
			return -1;
		}
		return 0;
	case ST_SIZE_BWS:
		if (c == ';')
			b->state = ST_EXT;
		else if (c != ' ' && c != '\t')
			return -1;
		return 0;
	case ST_EXT:
		/*
		 * Extensions are ignored, but their bytes must be field characters:
		 * a bare LF here is the classic way to split one message in two.
		 */
		if (c == '\r')
			b->state = ST_SIZE_LF;
		else if (!ascii_is_field_char(c))
			return -1;
		return 0;
	case ST_SIZE_LF:
		if (c != '\n')
			return -1;
		b->line_len = 0;
		b->state = b->remaining ? ST_DATA : ST_TRAILER_START;
		return 0;
	case ST_DATA_CR:
		if (c != '\r')
			return -1;
		b->state = ST_DATA_LF;
		return 0;
	case ST_DATA_LF:
		if (c != '\n')
			return -1;
		b->state = ST_SIZE_FIRST;
		return 0;
	case ST_TRAILER_START:
		/* Trailer fields are checked like header fields, then dropped. */
		if (c == '\r')
			b->state = ST_END_LF;
		else if (ascii_is_tchar(c))
			b->state = ST_TRAILER_NAME;
		else
			return -1;
		return 0;
	case ST_TRAILER_NAME:
		if (c == ':')
			b->state = ST_TRAILER_VALUE;
		else if (!ascii_is_tchar(c))
			return -1;
		return 0;
	case ST_TRAILER_VALUE:
		if (c == '\r')
			b->state = ST_TRAILER_LF;
		else if (!ascii_is_field_char(c))
			return -1;
		return 0;
	case ST_TRAILER_LF:
		if (c != '\n')
			return -1;
		b->line_len = 0;
		b->state = ST_TRAILER_START;
		return 0;
	case ST_END_LF:
		if (c != '\n')
			return -1;
		b->state = ST_DONE;
		b->done = true;
		return 0;
	}
	return -1;
}

static long decode_chunked(struct http_body *b, const char *in, size_t len, const char **data,
			   size_t *data_len)
{
	size_t i = 0;

	while (i < len && b->state != ST_DONE) {
		if (b->state == ST_ERROR)
			return -1;
		if (b->state == ST_DATA) {
			/* One span per call: hand the data back before any more framing. */
			size_t n = len - i;
			if (n > b->remaining)
				n = (size_t)b->remaining;
			*data = in + i;
			*data_len = n;
			b->remaining -= n;
			b->total += n;
			if (!b->remaining)
				b->state = ST_DATA_CR;
			return (long)(i + n);
		}
		if (step(b, (unsigned char)in[i]) < 0) {
			/* Sticky, so a caller that ignores -1 cannot resync mid-stream. */
			b->state = ST_ERROR;
			return -1;
		}
		i++;
	}
	return b->state == ST_ERROR ? -1 : (long)i;
}

long http_body_decode(struct http_body *b, const char *in, size_t len, const char **data,
		      size_t *data_len)
{
	*data = in;
	*data_len = 0;
	if (len > LONG_MAX)
		len = LONG_MAX;
	if (b->done)
		return 0;
	switch (b->kind) {
	case HTTP_BODY_LENGTH: {
		size_t n = len;
		if (n > b->remaining)
			n = (size_t)b->remaining;
		*data_len = n;
		b->remaining -= n;
		b->total += n;
		b->done = b->remaining == 0;
		return (long)n;
	}
	case HTTP_BODY_UNTIL_CLOSE:
		*data_len = len;
		b->total += len;
		return (long)len;
	case HTTP_BODY_CHUNKED:
		return decode_chunked(b, in, len, data, data_len);
	case HTTP_BODY_NONE:
		break;
	}
	/* A NONE body is done from the start; anything else here was never initialised. */
	return -1;
}

int http_body_eof(const struct http_body *b)
{
	return b->done || b->kind == HTTP_BODY_UNTIL_CLOSE ? 0 : -1;
}

size_t http_chunk_header(char out[20], size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char digits[2 * sizeof(n)];
	size_t k = 0, o = 0;

	do {
		digits[k++] = hex[n & 15];
		n >>= 4;
	} while (n);
	while (k)
		out[o++] = digits[--k];
	out[o++] = '\r';
	out[o++] = '\n';
	/* At most 16 digits + CRLF, so the terminator always fits. */
	out[o] = '\0';
	return o;
}
