/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lines: splits command output into the per-line events of the streaming
 * endpoints. Fed arbitrary chunks; calls cb once per line with the text
 * without its terminator. The result never depends on how the input was cut
 * into chunks.
 *
 * LINES_COMMAND (/command, reference 4.2): a line ends at "\n" or "\r";
 * "\r\n" is one terminator, also when split across two feeds; an empty line
 * is reported as the one-byte text "\n"; a partial last line is held until
 * more data or lines_flush(), which reports it without a newline.
 *
 * LINES_SESSION (/session/:id/run, reference 5): a line ends at "\n" only; a
 * "\r" right before it is dropped, a lone "\r" stays in the text; empty lines
 * are not reported (the final flush drops a trailing "\r" too, as Go's
 * bufio.ScanLines does at EOF).
 *
 * There is no line-length limit, but the held partial line is bounded: a line
 * longer than max_line bytes (LINES_MAX_DEFAULT = 1 MiB, set by lines_init)
 * is reported as consecutive pieces of max_line bytes, the last piece being
 * the remainder (1..max_line bytes). Pieces are never empty, so this adds no
 * blank-line events. (The Go reference holds any length; it emits a 256 KiB
 * line whole, and so does this.)
 *
 * Memory: the struct owns `hold` (a buf of at most max_line bytes);
 * lines_free() releases it. The text passed to cb is valid only during the
 * call: it points into the fed chunk or into hold.
 */
#ifndef EXECD_LINES_H
#define EXECD_LINES_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define LINES_MAX_DEFAULT (1024 * 1024)

enum lines_mode {
	LINES_COMMAND,
	LINES_SESSION,
};

typedef void lines_cb(const char *text, size_t len, void *arg);

struct lines {
	enum lines_mode mode;
	size_t max_line; /* piece size; may be lowered (not raised) before the first feed */
	struct buf hold; /* the partial line so far */
	bool after_cr;	 /* COMMAND: the last byte fed was a "\r" terminator */
	lines_cb *cb;
	void *arg;
};

void lines_init(struct lines *l, enum lines_mode mode, lines_cb *cb, void *arg);

/* Feeds n bytes (p may be NULL if n is 0). Returns 0, or -ENOMEM (then stop: the split is lost). */
int lines_feed(struct lines *l, const char *p, size_t n);

/* End of input: reports the held partial line, if any, and resets the state. */
void lines_flush(struct lines *l);

/* Releases hold; the struct may be lines_init'ed again. */
void lines_free(struct lines *l);

#endif
