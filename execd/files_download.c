// SPDX-License-Identifier: Apache-2.0
/*
 * GET /files/download: whole file, one byte range (206), or line mode
 * (offset/limit). The body is read in chunks as the client takes it, so
 * memory does not grow with the file size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "paths.h"
#include "range.h"
#include "respond.h"

#define SEND_CHUNK (64 * 1024)
#define SEND_HIGH  (1024 * 1024)

struct sender {
	struct http_conn *c;
	int fd;
	uint64_t left; /* bytes mode: bytes still to send */
	bool lines;
	uint64_t skip;	/* lines mode: lines still to skip */
	uint64_t limit; /* lines mode: lines still to send (0 = all) */
	bool limited;
	bool line_open;	     /* inside a line being sent */
	bool any_line;	     /* a line was sent: the next one needs "\n" first */
	uint64_t pending_cr; /* "\r"s that may turn out to be trailing */
	bool eof;
};

static void sender_free(struct sender *s)
{
	if (s->c) {
		http_conn_on_close(s->c, NULL, NULL);
		http_conn_on_drain(s->c, NULL, NULL);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static void on_gone(struct http_conn *c, void *arg)
{
	struct sender *s = arg;
	(void)c;
	s->c = NULL;
	sender_free(s);
}

/* Lines mode: lines end at "\n", every trailing "\r" of a line is dropped
 * (inner ones stay), lines are joined by "\n" with none after the last. */
static void emit_lines(struct sender *s, const char *p, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (s->skip) {
			if (ch == '\n')
				s->skip--;
			continue;
		}
		if (s->limited && s->limit == 0)
			return;
		if (!s->line_open) {
			if (s->any_line)
				buf_puts(out, "\n");
			s->any_line = true;
			s->line_open = true;
		}
		if (ch == '\n') {
			s->line_open = false;
			s->pending_cr = 0;
			if (s->limited)
				s->limit--;
		} else if (ch == '\r') {
			s->pending_cr++; /* trailing or not: known at the next byte */
		} else {
			for (; s->pending_cr; s->pending_cr--)
				buf_puts(out, "\r");
			buf_append(out, &ch, 1);
		}
	}
}

static void pump(struct http_conn *c, void *arg)
{
	struct sender *s = arg;
	char chunk[SEND_CHUNK];
	struct buf out;
	buf_init(&out, 0);
	while (s->c && http_conn_out_pending(c) < SEND_HIGH) {
		size_t want = sizeof(chunk);
		if (!s->lines && s->left < want)
			want = (size_t)s->left;
		if (!s->lines && want == 0)
			break;
		if (s->lines && s->limited && s->limit == 0)
			break;
		ssize_t n = read(s->fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!s->lines && s->left) {
				/* The file shrank under us: the framing cannot be kept. */
				s->c = NULL;
				http_conn_on_close(c, NULL, NULL);
				http_conn_on_drain(c, NULL, NULL);
				http_resp_abort(c);
				sender_free(s);
				buf_free(&out);
				return;
			}
			s->eof = true;
			break;
		}
		if (s->lines) {
			buf_reset(&out);
			emit_lines(s, chunk, (size_t)n, &out);
			if (out.len && http_resp_write(c, buf_head(&out), out.len) < 0)
				break;
		} else {
			s->left -= (uint64_t)n;
			if (http_resp_write(c, chunk, (size_t)n) < 0)
				break;
		}
	}
	buf_free(&out);
	if (!s->c)
		return;
	bool done = s->lines ? s->eof || (s->limited && s->limit == 0) : s->left == 0;
	if (done) {
		s->c = NULL;
		http_conn_on_close(c, NULL, NULL);
		http_conn_on_drain(c, NULL, NULL);
		sender_free(s);
		http_resp_end(c);
		return;
	}
	http_conn_on_drain(c, pump, s);
}

static void content_disposition(char *out, size_t len, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	bool ascii = true;
	for (const char *p = base; *p; p++)
		if ((unsigned char)*p >= 0x80 || *p == '"' || *p < 0x20)
			ascii = false;
	if (ascii) {
		snprintf(out, len, "attachment; filename=\"%s\"", base);
		return;
	}
	/* Go url.PathEscape: unreserved and $&+,:=@ stay, the rest is %XX. */
	char enc[PATHS_MAX * 3 + 1];
	size_t o = 0;
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)base; *p && o + 4 < sizeof(enc); p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~$&+,:=@", *p)) {
			enc[o++] = (char)*p;
		} else {
			enc[o++] = '%';
			enc[o++] = hex[*p >> 4];
			enc[o++] = hex[*p & 15];
		}
	}
	enc[o] = '\0';
	snprintf(out, len, "attachment; filename=\"%s\"; filename*=UTF-8''%s", enc, enc);
}

void files_download(struct http_conn *c, struct http_req *req, void *arg)
{
	(void)arg;
	char path[PATHS_MAX], abs[PATHS_MAX], off[32] = "", lim[32] = "";
	struct err e = {0};
	if (http_query_get(req->query, strlen(req->query), "path", path, sizeof(path)) <= 0) {
		respond_error(c, 400, "MISSING_QUERY", "missing query parameter 'path'");
		return;
	}
	long ol = http_query_get(req->query, strlen(req->query), "offset", off, sizeof(off));
	long ll = http_query_get(req->query, strlen(req->query), "limit", lim, sizeof(lim));
	const char *range = http_req_header(req, "Range");
	bool lines = range_line_mode(ol >= 0 ? off : NULL, ol > 0 ? (size_t)ol : 0,
				     ll >= 0 ? lim : NULL, ll > 0 ? (size_t)ll : 0);
	struct range_lines rl = {0};
	if (lines) {
		const char *bad;
		if (range_line_params(ol > 0 ? off : NULL, ol > 0 ? (size_t)ol : 0,
				      ll > 0 ? lim : NULL, ll > 0 ? (size_t)ll : 0, &rl,
				      &bad) < 0) {
			respond_errorf(c, 400, "INVALID_REQUEST_BODY",
				       "invalid query parameter '%s': %s", bad,
				       strcmp(bad, "offset") == 0 ? off : lim);
			return;
		}
		if (range) {
			respond_error(c, 400, "INVALID_REQUEST_BODY",
				      "offset/limit and Range header are mutually exclusive");
			return;
		}
	}
	if (paths_expand(path, abs, &e) < 0) {
		files_error(c, e.code, "%s", e.msg);
		return;
	}
	/* O_NONBLOCK: opening a FIFO must not block the loop; only regular files are served. */
	int fd = open(abs, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int er = errno;
		if (fd >= 0)
			close(fd);
		files_error(c, er, "open %s: %s", abs, strerror(er));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		files_error(c, EINVAL, "%s: not a regular file", abs);
		return;
	}
	fcntl(fd, F_SETFL, 0);
	struct sender *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		respond_error(c, 500, "RUNTIME_ERROR", "out of memory");
		return;
	}
	s->c = c;
	s->fd = fd;
	http_conn_on_close(c, on_gone, s);
	if (lines) {
		s->lines = true;
		s->skip = rl.offset - 1;
		s->limit = rl.limit;
		s->limited = rl.limit > 0;
		http_resp_begin_stream(c, 200, "text/plain; charset=utf-8");
		pump(c, s);
		return;
	}
	uint64_t size = (uint64_t)st.st_size;
	char cd[PATHS_MAX * 6 + 64], cr[RANGE_CONTENT_RANGE_MAX], lm[64];
	struct tm tm;
	gmtime_r(&st.st_mtim.tv_sec, &tm);
	strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	content_disposition(cd, sizeof(cd), abs);
	struct range r = {.start = 0, .len = size};
	int rr = range ? range_parse(range, strlen(range), size, &r) : 1;
	if (rr == -EINVAL || rr == -ERANGE) {
		s->c = NULL;
		sender_free(s);
		if (rr == -EINVAL) {
			respond_error(c, 416, "UNKNOWN", NULL);
		} else {
			range_content_range(cr, NULL, size);
			http_resp_header(c, "Content-Range", cr);
			http_resp_send(c, 416, "text/plain; charset=utf-8",
				       "invalid range: failed to overlap", 32);
		}
		return;
	}
	http_resp_header(c, "Content-Disposition", cd);
	http_resp_header(c, "Accept-Ranges", "bytes");
	http_resp_header(c, "Last-Modified", lm);
	if (rr == 0) {
		range_content_range(cr, &r, size);
		http_resp_header(c, "Content-Range", cr);
		lseek(fd, (off_t)r.start, SEEK_SET);
	} else {
		r.start = 0;
		r.len = size;
	}
	s->left = r.len;
	http_resp_begin_length(c, rr == 0 ? 206 : 200, "application/octet-stream", r.len);
	pump(c, s);
}
