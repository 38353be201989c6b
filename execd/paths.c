// SPDX-License-Identifier: Apache-2.0
#include "paths.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

static int is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Expands into b; the names of undefined variables go into missing (comma list). */
static int expand(const char *in, struct buf *b, struct buf *missing)
{
	int r = 0;
	for (const char *p = in; *p && !r;) {
		if (*p != '$') {
			size_t n = strcspn(p, "$");
			r = buf_append(b, p, n);
			p += n;
			continue;
		}
		const char *name = p + 1;
		size_t n = 0;
		const char *next;
		if (*name == '{') {
			const char *close = strchr(name, '}');
			if (!close) { /* not a reference: keep it literally */
				r = buf_append(b, p, 1);
				p++;
				continue;
			}
			name++;
			n = (size_t)(close - name);
			next = close + 1;
		} else if (is_name_char((unsigned char)*name) && !isdigit((unsigned char)*name)) {
			while (is_name_char((unsigned char)name[n]))
				n++;
			next = name + n;
		} else if (*name && strchr("*#$@!?-0123456789", *name)) {
			p = name + 1; /* shell-special: expands to nothing */
			continue;
		} else {
			r = buf_append(b, p, 1);
			p++;
			continue;
		}
		char key[256];
		if (n == 0 || n >= sizeof(key)) {
			r = buf_append(b, p, (size_t)(next - p));
			p = next;
			continue;
		}
		memcpy(key, name, n);
		key[n] = '\0';
		const char *v = getenv(key);
		if (v)
			r = buf_puts(b, v);
		else if (missing)
			r = buf_printf(missing, "%s%s", missing->len ? "," : "", key);
		p = next;
	}
	return r;
}

int paths_expand(const char *in, char *out, struct err *e)
{
	struct buf b, missing;
	buf_init(&b, PATHS_MAX - 1);
	buf_init(&missing, 1024);
	const char *src = in;
	int r = 0;
	if (in[0] == '~' && (in[1] == '\0' || in[1] == '/')) {
		const char *home = getenv("HOME");
		r = buf_puts(&b, home ? home : "/");
		src = in + 1;
	}
	r = r ? r : expand(src, &b, &missing);
	if (!r && missing.len)
		r = err_set(e, EINVAL, "path references undefined environment variables: %s",
			    buf_cstr(&missing));
	else if (r)
		r = err_set(e, ENAMETOOLONG, "path too long");
	else
		memcpy(out, buf_cstr(&b), b.len + 1);
	buf_free(&b);
	buf_free(&missing);
	return r;
}

void paths_clean(char *p)
{
	bool abs = p[0] == '/';
	size_t w = abs ? 1 : 0; /* write position */
	size_t floor = w;	/* ".." may not go below this (relative: after leading ".."s) */
	size_t r = w;

	while (p[r]) {
		if (p[r] == '/') {
			r++;
			continue;
		}
		size_t n = strcspn(p + r, "/");
		if (n == 1 && p[r] == '.') {
			r += 1;
			continue;
		}
		if (n == 2 && p[r] == '.' && p[r + 1] == '.') {
			r += 2;
			if (w > floor) {
				/* Remove the last element written. */
				while (w > floor && p[w - 1] != '/')
					w--;
				if (w > floor)
					w--;
			} else if (!abs) {
				if (w > 0)
					p[w++] = '/';
				p[w++] = '.';
				p[w++] = '.';
				floor = w;
			}
			continue;
		}
		if (w > (abs ? 1u : 0u))
			p[w++] = '/';
		memmove(p + w, p + r, n);
		w += n;
		r += n;
	}
	if (w == 0)
		p[w++] = '.';
	p[w] = '\0';
}

int paths_abs(const char *in, char *out, struct err *e)
{
	char tmp[PATHS_MAX];
	int r = paths_expand(in, tmp, e);
	if (r < 0)
		return r;
	if (tmp[0] == '/') {
		memcpy(out, tmp, strlen(tmp) + 1);
	} else {
		char cwd[PATHS_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			return err_set(e, errno, "getcwd");
		size_t a = strlen(cwd), n = strlen(tmp);
		if (a + 1 + n + 1 > PATHS_MAX)
			return err_set(e, ENAMETOOLONG, "path too long");
		memcpy(out, cwd, a);
		out[a] = '/';
		memcpy(out + a + 1, tmp, n + 1);
	}
	paths_clean(out);
	return 0;
}

char *paths_expand_value(const char *in)
{
	struct buf b;
	buf_init(&b, 0);
	if (expand(in, &b, NULL) < 0) {
		buf_free(&b);
		return NULL;
	}
	char *s = buf_cstr(&b);
	return s ? s : strdup("");
}

int paths_mkdir_all(const char *path, unsigned mode)
{
	char tmp[PATHS_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}
