// SPDX-License-Identifier: Apache-2.0
#include "lines.h"

#include <errno.h>
#include <string.h>

void lines_init(struct lines *l, enum lines_mode mode, lines_cb *cb, void *arg)
{
	memset(l, 0, sizeof(*l));
	l->mode = mode;
	l->max_line = LINES_MAX_DEFAULT;
	l->cb = cb;
	l->arg = arg;
	buf_init(&l->hold, l->max_line);
}

void lines_free(struct lines *l)
{
	buf_free(&l->hold);
}

static void emit(struct lines *l, const char *s, size_t n)
{
	l->cb(s, n, l->arg);
}

static void emit_hold(struct lines *l)
{
	emit(l, buf_head(&l->hold), l->hold.len);
	buf_reset(&l->hold);
}

/*
 * Adds bytes to the current line, more of which is known to follow (a
 * terminator or the next feed). A full hold is reported as a piece only when
 * another byte arrives, so a line of exactly max_line bytes stays one event.
 */
static int add_partial(struct lines *l, const char *s, size_t n)
{
	while (n) {
		if (l->hold.len >= l->max_line)
			emit_hold(l);
		if (l->hold.len == 0 && n > l->max_line) {
			/* Whole pieces straight from the input, no copy. */
			emit(l, s, l->max_line);
			s += l->max_line;
			n -= l->max_line;
			continue;
		}
		size_t take = l->max_line - l->hold.len;
		if (take > n)
			take = n;
		if (buf_append(&l->hold, s, take) < 0)
			return -ENOMEM;
		s += take;
		n -= take;
	}
	return 0;
}

/* The line made of the hold and s[0, n) has ended at a terminator. */
static int end_line(struct lines *l, const char *s, size_t n)
{
	if (l->mode == LINES_SESSION) {
		if (n)
			n -= s[n - 1] == '\r';
		else if (l->hold.len && buf_head(&l->hold)[l->hold.len - 1] == '\r')
			l->hold.len--;
	}
	if (l->hold.len + n == 0) {
		if (l->mode == LINES_COMMAND)
			emit(l, "\n", 1);
		return 0;
	}
	if (l->hold.len) {
		/* Everything except the line's last piece goes through the hold. */
		size_t last = (l->hold.len + n - 1) % l->max_line + 1;
		if (last < n) {
			if (add_partial(l, s, n - last) < 0)
				return -ENOMEM;
			s += n - last;
			n = last;
		}
		if (l->hold.len) {
			if (l->hold.len + n > l->max_line) {
				emit_hold(l);
			} else {
				if (buf_append(&l->hold, s, n) < 0)
					return -ENOMEM;
				emit_hold(l);
				return 0;
			}
		}
	}
	while (n > l->max_line) {
		emit(l, s, l->max_line);
		s += l->max_line;
		n -= l->max_line;
	}
	if (n)
		emit(l, s, n);
	return 0;
}

static size_t find_terminator(const struct lines *l, const char *p, size_t i, size_t n)
{
	if (l->mode == LINES_SESSION) {
		const char *nl = memchr(p + i, '\n', n - i);
		return nl ? (size_t)(nl - p) : n;
	}
	for (; i < n; i++)
		if (p[i] == '\n' || p[i] == '\r')
			return i;
	return n;
}

int lines_feed(struct lines *l, const char *p, size_t n)
{
	size_t i = 0;

	if (!n)
		return 0;
	if (l->after_cr) {
		/* The "\n" of a "\r\n" cut by the previous feed. */
		l->after_cr = false;
		if (p[0] == '\n')
			i = 1;
	}
	while (i < n) {
		size_t j = find_terminator(l, p, i, n);
		if (j == n)
			return add_partial(l, p + i, n - i);
		if (end_line(l, p + i, j - i) < 0)
			return -ENOMEM;
		if (p[j] == '\r') {
			if (j + 1 == n)
				l->after_cr = true;
			else if (p[j + 1] == '\n')
				j++;
		}
		i = j + 1;
	}
	return 0;
}

void lines_flush(struct lines *l)
{
	if (l->hold.len) {
		if (l->mode == LINES_SESSION && buf_head(&l->hold)[l->hold.len - 1] == '\r')
			l->hold.len--;
		if (l->hold.len)
			emit_hold(l);
	}
	buf_reset(&l->hold);
	l->after_cr = false;
}
