// SPDX-License-Identifier: Apache-2.0
/* The always-files: deny.always and allow.always, one target per line. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "egressd.h"
#include "log.h"

#define ALWAYS_MAX_BYTES (4u << 20)

struct policy *always_parse(const char *text, size_t len, int action, const char *path)
{
	struct policy *p = policy_new();
	size_t lines = 1, lineno = 0;

	if (!p)
		return NULL;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (!(p->rules = calloc(lines, sizeof(*p->rules)))) {
		policy_free(p);
		return NULL;
	}
	p->egress_present = true;
	const char *s = text, *end = text + len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		char line[300];
		lineno++;
		while (s < le && isspace((unsigned char)*s))
			s++;
		size_t n = (size_t)(le - s);
		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		if (n && s[0] != '#') {
			char field[64];
			struct err e = {0};
			snprintf(field, sizeof(field), "line %zu", lineno);
			if (n >= sizeof(line)) {
				log_msg(LOG_WARN, NULL, "always rule skipped", "file", path,
					"error", "line too long", NULL);
			} else {
				memcpy(line, s, n);
				line[n] = '\0';
				if (policy_rule_init(&p->rules[p->n], action ? "allow" : "deny",
						     line, field, &e) == 0)
					p->n++;
				else
					log_msg(LOG_WARN, NULL, "always rule skipped", "file", path,
						"error", e.msg, NULL);
			}
		}
		s = nl ? nl + 1 : end;
	}
	return p;
}

int always_reload(struct egressd *x, struct policy *out[2], struct err *e)
{
	int changed = 0;
	struct {
		bool present;
		int64_t mtime_ns, size;
	} seen[2] = {0};
	out[0] = out[1] = NULL;
	for (int i = 0; i < 2; i++) {
		struct always_file *f = &x->always[i];
		struct stat st;
		bool present = stat(f->path, &st) == 0;
		int64_t mt =
			present ? (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec : 0;
		int64_t sz = present ? (int64_t)st.st_size : 0;
		if (f->loaded && present == f->present && mt == f->mtime_ns && sz == f->size)
			continue;
		struct buf text;
		buf_init(&text, ALWAYS_MAX_BYTES);
		/* 1 when read, 0 when the file does not exist. */
		int r = buf_read_file(&text, f->path);
		r = r == -ENOENT ? 0 : r < 0 ? r : 1;
		if (r < 0) {
			buf_free(&text);
			policy_free(out[0]);
			policy_free(out[1]);
			out[0] = out[1] = NULL;
			return err_set(e, -r, "read %s", f->path);
		}
		struct policy *p = r ? always_parse(buf_head(&text), text.len, f->action, f->path)
				     : policy_new();
		buf_free(&text);
		if (!p) {
			policy_free(out[0]);
			policy_free(out[1]);
			out[0] = out[1] = NULL;
			return err_set(e, ENOMEM, "out of memory");
		}
		out[i] = p;
		seen[i].present = present;
		seen[i].mtime_ns = mt;
		seen[i].size = sz;
		changed = 1;
	}
	/* Only once both files are read: a failure on the second must not make the
	 * next reload think the first one was already applied. */
	for (int i = 0; i < 2; i++) {
		if (!out[i])
			continue;
		struct always_file *f = &x->always[i];
		f->loaded = true;
		f->present = seen[i].present;
		f->mtime_ns = seen[i].mtime_ns;
		f->size = seen[i].size;
	}
	return changed;
}
