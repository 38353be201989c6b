// SPDX-License-Identifier: Apache-2.0
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"

/* A log line longer than this is cut (and still valid JSON). */
#define LOG_LINE_MAX 8192

static const char *prog = "-";
static enum log_level min_level = LOG_INFO;
static int log_fd = 2;
static const char *const names[] = {"debug", "info", "warn", "error"};

void log_init(const char *program, enum log_level min, int fd)
{
	prog = program;
	min_level = min;
	log_fd = fd;
}

int log_level_parse(const char *s)
{
	/* Any case: upstream configs say INFO, WARNING. */
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == '\0'))
			return i;
	if (strcasecmp(s, "warning") == 0)
		return LOG_WARN;
	return -1;
}

int log_enabled(enum log_level level)
{
	return level >= min_level;
}

void log_msg(enum log_level level, const char *request_id, const char *msg, ...)
{
	char stamp[40], store[LOG_LINE_MAX];
	struct timeval tv;
	struct tm tm;
	struct buf b;
	va_list ap;

	if (level < min_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ", (long)(tv.tv_usec / 1000));

	/* A fixed stack buffer: logging never allocates. */
	b.data = store;
	b.off = b.len = 0;
	b.cap = sizeof(store);
	b.max = sizeof(store) - 2;
	int r = buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"prog\":", stamp, names[level]);
	r = r ? r : json_buf_cstr(&b, prog, 0);
	r = r ? r : buf_puts(&b, ",\"msg\":");
	r = r ? r : json_buf_cstr(&b, msg, 0);
	if (!r && request_id) {
		r = buf_puts(&b, ",\"request_id\":");
		r = r ? r : json_buf_cstr(&b, request_id, 0);
	}
	va_start(ap, msg);
	for (const char *k; !r && (k = va_arg(ap, const char *));) {
		const char *v = va_arg(ap, const char *);
		r = buf_puts(&b, ",");
		r = r ? r : json_buf_cstr(&b, k, 0);
		r = r ? r : buf_puts(&b, ":");
		r = r ? r : json_buf_cstr(&b, v, 0);
	}
	va_end(ap);
	if (r) {
		/* Too long: keep the head and close the object properly. */
		b.len = 0;
		buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"log line too long\"",
			   stamp, names[level]);
	}
	b.max = sizeof(store);
	buf_append(&b, "}\n", 2);
	ssize_t w = write(log_fd, buf_head(&b), b.len);
	(void)w;
}
