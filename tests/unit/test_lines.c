// SPDX-License-Identifier: Apache-2.0
/*
 * lines: the reference's pinned splitting cases (13), the session rules,
 * CRLF across feeds, over-long lines, and equivalence of every way of
 * cutting the input (byte at a time, every two-way split, random chunks)
 * with a naive model of the rules.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lines.h"
#include "unit.h"

/* Events are logged as "<len>:<text>," so any bytes compare exactly. */
static void log_event(const char *text, size_t len, void *arg)
{
	struct buf *b = arg;
	buf_printf(b, "%zu:", len);
	buf_append(b, text, len);
	buf_puts(b, ",");
}

static void expect_log(struct buf *b, const char *const *ev, size_t n)
{
	buf_reset(b);
	for (size_t i = 0; i < n; i++)
		log_event(ev[i], strlen(ev[i]), b);
}

static bool same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (!a->len || memcmp(buf_head(a), buf_head(b), a->len) == 0);
}

/* Runs input through a splitter fed in pieces of `step` bytes (0 = one feed), then flushes. */
static void run(struct buf *out, enum lines_mode mode, size_t max, const char *in, size_t n,
		size_t step)
{
	struct lines l;

	buf_reset(out);
	lines_init(&l, mode, log_event, out);
	if (max)
		l.max_line = max;
	for (size_t off = 0; off < n || (n == 0 && off == 0);) {
		size_t take = step && step < n - off ? step : n - off;
		/* Each piece in its own exact-size buffer: a read past it is an ASan report. */
		char *piece = malloc(take ? take : 1);
		memcpy(piece, in + off, take);
		CHECK_INT(lines_feed(&l, piece, take), 0);
		free(piece);
		off += take;
		if (!take)
			break;
	}
	lines_flush(&l);
	lines_free(&l);
}

/* Every chunking of in gives the log `want`: one feed, byte at a time, every two-way split. */
static void check_all_cuts(enum lines_mode mode, const char *in, size_t n, const char *const *ev,
			   size_t nev, int line)
{
	struct buf want, got;
	struct lines l;

	buf_init(&want, 0);
	buf_init(&got, 0);
	expect_log(&want, ev, nev);
	for (size_t step = 0; step <= 1; step++) {
		run(&got, mode, 0, in, n, step);
		if (!same(&got, &want))
			unit_fail(__FILE__, line, "step %zu: got \"%s\", want \"%s\"", step,
				  buf_cstr(&got), buf_cstr(&want));
	}
	for (size_t cut = 0; cut <= n; cut++) {
		buf_reset(&got);
		lines_init(&l, mode, log_event, &got);
		lines_feed(&l, in, cut);
		lines_feed(&l, in + cut, n - cut);
		lines_flush(&l);
		lines_free(&l);
		if (!same(&got, &want))
			unit_fail(__FILE__, line, "cut %zu: got \"%s\", want \"%s\"", cut,
				  buf_cstr(&got), buf_cstr(&want));
	}
	buf_free(&want);
	buf_free(&got);
}

#define CUTS(mode, in, ...)                                                                        \
	do {                                                                                       \
		static const char *const ev_[] = {__VA_ARGS__};                                    \
		check_all_cuts(mode, in, sizeof(in) - 1, ev_, sizeof(ev_) / sizeof(ev_[0]),        \
			       __LINE__);                                                          \
	} while (0)
#define CUTS_NONE(mode, in) check_all_cuts(mode, in, sizeof(in) - 1, NULL, 0, __LINE__)

TEST(lines_command_pinned_cases)
{
	/* stdout splitting: progress lines with \r, then an appended CRLF tail. */
	CUTS(LINES_COMMAND, "line1\nprog 10%\rprog 20%\rprog 30%\nlast\n", "line1", "prog 10%",
	     "prog 20%", "prog 30%", "last");
	CUTS(LINES_COMMAND, "line1\nprog 10%\rprog 20%\rprog 30%\nlast\ntail1\r\ntail2\n", "line1",
	     "prog 10%", "prog 20%", "prog 30%", "last", "tail1", "tail2");
	/* blank lines */
	CUTS(LINES_COMMAND, "a\n\nb\n\n\nc\n\r\nd\n", "a", "\n", "b", "\n", "\n", "c", "\n", "d");
	CUTS(LINES_COMMAND, "a\n\nb\n\n\nc\n", "a", "\n", "b", "\n", "\n", "c");
	/* CRLF: one terminator; CR CR LF is a blank line; LF CR is two terminators. */
	CUTS(LINES_COMMAND, "a\r\nb\n", "a", "b");
	CUTS(LINES_COMMAND, "\r\n", "\n");
	CUTS(LINES_COMMAND, "a\r\r\nb", "a", "\n", "b");
	CUTS(LINES_COMMAND, "a\n\rb", "a", "\n", "b");
	CUTS(LINES_COMMAND, "\r\r", "\n", "\n");
	/* partial line: held, then flushed without a newline */
	CUTS(LINES_COMMAND, "line1\nlast-without-newline", "line1", "last-without-newline");
	CUTS_NONE(LINES_COMMAND, "");
	CUTS(LINES_COMMAND, "{\"foo\":1}", "{\"foo\":1}");
}

TEST(lines_command_crlf_across_feeds)
{
	struct buf got;
	struct lines l;

	buf_init(&got, 0);
	lines_init(&l, LINES_COMMAND, log_event, &got);
	lines_feed(&l, "a\r", 2);
	CHECK_STR(buf_cstr(&got), "1:a,");
	lines_feed(&l, "\nb\n", 3);
	CHECK_STR(buf_cstr(&got), "1:a,1:b,");
	buf_reset(&got);
	lines_feed(&l, "\r", 1);
	CHECK_STR(buf_cstr(&got), "1:\n,"); /* reported at once */
	lines_feed(&l, "\n", 1);
	CHECK_STR(buf_cstr(&got), "1:\n,"); /* no extra blank */
	lines_feed(&l, "\n", 1);
	CHECK_STR(buf_cstr(&got), "1:\n,1:\n,"); /* but a second LF is one */
	buf_reset(&got);
	lines_feed(&l, NULL, 0);
	lines_feed(&l, "x\r", 2);
	lines_feed(&l, NULL, 0); /* an empty feed keeps the pending CR */
	lines_feed(&l, "\ny", 2);
	CHECK_STR(buf_cstr(&got), "1:x,");
	lines_feed(&l, "z\n", 2); /* "y" was held */
	CHECK_STR(buf_cstr(&got), "1:x,2:yz,");

	/* partial line: nothing until flush */
	buf_reset(&got);
	lines_feed(&l, "line1\nlast-without-newline", 26);
	CHECK_STR(buf_cstr(&got), "5:line1,");
	lines_flush(&l);
	CHECK_STR(buf_cstr(&got), "5:line1,20:last-without-newline,");
	lines_flush(&l);
	CHECK_STR(buf_cstr(&got), "5:line1,20:last-without-newline,");
	lines_free(&l);
	buf_free(&got);
}

TEST(lines_session_rules)
{
	CUTS(LINES_SESSION, "a\r\nb\n\n\rc\n\r\n", "a", "b", "\rc");
	CUTS(LINES_SESSION, "x\ry\n", "x\ry");
	CUTS(LINES_SESSION, "x\r\r\n", "x\r");
	CUTS(LINES_SESSION, "{\"foo\":1}", "{\"foo\":1}");
	CUTS(LINES_SESSION, "abc\r", "abc");
	CUTS(LINES_SESSION, "EXIT:1\n", "EXIT:1");
	CUTS_NONE(LINES_SESSION, "\r"); /* a CR-only last line is empty once the CR is dropped */
	CUTS_NONE(LINES_SESSION, "");
	CUTS_NONE(LINES_SESSION, "\n\n\n");
	CUTS_NONE(LINES_SESSION, "\r\n\r\n");
}

static char *pattern_line(size_t n)
{
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	s[n] = '\n';
	return s;
}

TEST(lines_long_lines)
{
	struct buf got;
	struct lines l;
	size_t n = 256 * 1024;
	char *s = pattern_line(n);

	buf_init(&got, 0);
	/* A 256 KiB line is one event, fed whole or in 4 KiB reads. */
	for (size_t step = 0; step <= 4096; step += 4096) {
		run(&got, LINES_COMMAND, 0, s, n + 1, step);
		CHECK(strncmp(buf_head(&got), "262144:abc", 10) == 0);
		CHECK_INT(got.len, 7 + n + 1);
	}
	free(s);

	/* Over the hold limit: pieces of max_line, the last one the remainder. */
	n = LINES_MAX_DEFAULT + 1;
	s = pattern_line(n);
	for (size_t step = 0; step <= 65536; step += 65536) {
		size_t pieces = 0, total = 0;
		run(&got, LINES_COMMAND, 0, s, n + 1, step);
		const char *p = buf_head(&got);
		while (p < buf_head(&got) + got.len) {
			char *end;
			size_t len = strtoul(p, &end, 10);
			total += len;
			pieces++;
			p = end + 1 + len + 1;
			if (pieces == 1)
				CHECK_INT(len, LINES_MAX_DEFAULT);
		}
		CHECK_INT(pieces, 2);
		CHECK_INT(total, n);
	}
	/* Exactly max_line bytes stays one event. */
	run(&got, LINES_SESSION, 0, s + 1, LINES_MAX_DEFAULT + 1, 0);
	CHECK_INT(got.len, strlen("1048576:") + LINES_MAX_DEFAULT + 1);
	free(s);

	/* Small max_line: the piece rule in every mode and cut. */
	lines_init(&l, LINES_COMMAND, log_event, &got);
	l.max_line = 4;
	buf_reset(&got);
	lines_feed(&l, "abcdefghij\nabcd\nab", 18);
	lines_feed(&l, "cdefgh\r\nabcd", 12);
	lines_flush(&l);
	CHECK_STR(buf_cstr(&got), "4:abcd,4:efgh,2:ij,4:abcd,4:abcd,4:efgh,4:abcd,");
	lines_free(&l);
	buf_free(&got);
}

/* The rules written the obvious way over the whole input, for comparison. */
static void model_pieces(struct buf *out, const char *s, size_t n, size_t max)
{
	for (size_t k = 0; k < n; k += max)
		log_event(s + k, n - k < max ? n - k : max, out);
}

static void model(struct buf *out, enum lines_mode mode, size_t max, const char *s, size_t n)
{
	size_t i = 0;

	buf_reset(out);
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != '\n' && (mode == LINES_SESSION || s[j] != '\r'))
			j++;
		size_t len = j - i;
		if (mode == LINES_SESSION && len && s[i + len - 1] == '\r')
			len--;
		if (len)
			model_pieces(out, s + i, len, max);
		else if (j < n && mode == LINES_COMMAND)
			log_event("\n", 1, out);
		if (j < n && s[j] == '\r' && j + 1 < n && s[j + 1] == '\n')
			j++;
		i = j + 1;
	}
}

TEST(lines_random_cuts_match_model)
{
	static const char alphabet[] = "ab\r\n";
	static const size_t maxes[] = {1, 2, 3, 5, 64};
	uint32_t seed = 12345;
	struct buf want, got;
	char in[64];

	buf_init(&want, 0);
	buf_init(&got, 0);
	for (int iter = 0; iter < 4000; iter++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 16) % sizeof(in);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % 4];
		}
		enum lines_mode mode = iter & 1 ? LINES_SESSION : LINES_COMMAND;
		size_t max = maxes[(iter / 2) % 5];
		size_t step = (size_t)(iter / 10) % 7;
		model(&want, mode, max, in, n);
		run(&got, mode, max, in, n, step);
		if (!same(&got, &want)) {
			unit_fail(__FILE__, __LINE__,
				  "iter %d mode %d max %zu step %zu: \"%s\" vs \"%s\"", iter, mode,
				  max, step, buf_cstr(&got), buf_cstr(&want));
			break;
		}
	}
	buf_free(&want);
	buf_free(&got);
}
