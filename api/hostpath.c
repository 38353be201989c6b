// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostpath.h"

#define HOSTPATH_MAX_LINKS 40

/* The length of the prefix in allow (comma list) that holds path, or 0. */
static size_t allowed_prefix(const char *allow, const char *path, char *prefix, size_t cap)
{
	for (const char *p = allow; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		while (n > 1 && p[n - 1] == '/')
			n--;
		if (n && p[0] == '/' && strncmp(path, p, n) == 0 &&
		    (path[n] == '\0' || path[n] == '/' || n == 1) && n < cap) {
			memcpy(prefix, p, n);
			prefix[n] = '\0';
			return n;
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

int hostpath_resolve(const char *allow, const char *path, bool create, char *out, size_t cap,
		     struct hostpath_id *id, struct err *e)
{
	char prefix[PATH_MAX], real[PATH_MAX], part[NAME_MAX + 1];
	size_t n = allowed_prefix(allow, path, prefix, sizeof(prefix));
	if (!n)
		return err_set(e, EPERM, "host path %s is not under an allowed prefix%s", path,
			       allow && *allow ? "" : " (none is configured)");
	if (!realpath(prefix, real))
		return err_set(e, errno, "allowed prefix %s: %s", prefix, strerror(errno));
	int r = 0;
	int dir = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return err_set(e, errno, "allowed prefix %s: %s", prefix, strerror(errno));
	/* The root as a prefix contributes no characters of its own ("/a", not "//a"). */
	size_t len = (size_t)snprintf(out, cap, "%s", strcmp(real, "/") ? real : "");
	const char *rest = path + (n == 1 ? 0 : n);
	while (*rest) {
		while (*rest == '/')
			rest++;
		size_t k = strcspn(rest, "/");
		if (!k)
			break;
		if (k > NAME_MAX || (k == 1 && rest[0] == '.') || (k == 2 && !strncmp(rest, "..", 2))) {
			r = err_set(e, EINVAL, "host path %s: bad component", path);
			goto out;
		}
		memcpy(part, rest, k);
		part[k] = '\0';
		rest += k;
		int fd = openat(dir, part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(dir, part, 0755) < 0 && errno != EEXIST) {
				r = err_set(e, errno, "cannot create %s/%s: %s", out, part, strerror(errno));
				goto out;
			}
			fd = openat(dir, part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			r = err_set(e, errno, "%s/%s: %s", out, part, strerror(errno));
			goto out;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			r = err_set(e, errno, "%s/%s: %s", out, part, strerror(errno));
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode) || (*rest && !S_ISDIR(st.st_mode))) {
			int code = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
			close(fd);
			r = err_set(e, code, "%s/%s is %s", out, part,
				    code == ELOOP ? "a symbolic link (not followed below an allowed prefix)"
						  : "not a directory");
			goto out;
		}
		close(dir);
		dir = fd;
		if (len + 1 + k >= cap) {
			r = err_set(e, ENAMETOOLONG, "host path %s is too long", path);
			goto out;
		}
		len += (size_t)snprintf(out + len, cap - len, "/%s", part);
	}
	if (!len)
		snprintf(out, cap, "/");
	struct stat st;
	if (fstat(dir, &st) < 0) {
		r = err_set(e, errno, "%s: %s", out, strerror(errno));
		goto out;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
out:
	close(dir);
	return r;
}

int hostpath_verify(const char *root, const char *path, const struct hostpath_id *id,
		    struct err *e)
{
	char todo[PATH_MAX * 2], part[NAME_MAX + 1], link[PATH_MAX];
	struct stat rst, st;
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_set(e, errno, "%s: %s", root, strerror(errno));
	if (fstat(rootfd, &rst) < 0) {
		close(rootfd);
		return err_set(e, errno, "%s: %s", root, strerror(errno));
	}
	int cur = dup(rootfd), r = 0, links = 0;
	snprintf(todo, sizeof(todo), "%s", path);
	const char *rest = todo;
	while (cur >= 0 && *rest) {
		while (*rest == '/')
			rest++;
		size_t k = strcspn(rest, "/");
		if (!k)
			break;
		if (k > NAME_MAX) {
			r = err_set(e, ENAMETOOLONG, "%s: name too long", path);
			goto out;
		}
		memcpy(part, rest, k);
		part[k] = '\0';
		rest += k;
		if (!strcmp(part, "."))
			continue;
		struct stat cst;
		if (!strcmp(part, "..") && fstat(cur, &cst) == 0 && cst.st_dev == rst.st_dev &&
		    cst.st_ino == rst.st_ino)
			continue; /* ".." at the root stays there */
		int fd = openat(cur, part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			r = err_set(e, errno, "%s: %s: %s", path, part, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		if (!S_ISLNK(st.st_mode)) {
			close(cur);
			cur = fd;
			continue;
		}
		ssize_t ln = readlinkat(fd, "", link, sizeof(link) - 1);
		close(fd);
		if (ln < 0 || ++links > HOSTPATH_MAX_LINKS) {
			r = err_set(e, ln < 0 ? errno : ELOOP, "%s: cannot follow %s", path, part);
			goto out;
		}
		link[ln] = '\0';
		/* The link's target, then what was left. */
		char next[PATH_MAX * 2];
		if (snprintf(next, sizeof(next), "%s/%s", link, rest) >= (int)sizeof(next)) {
			r = err_set(e, ENAMETOOLONG, "%s: too long after links", path);
			goto out;
		}
		snprintf(todo, sizeof(todo), "%s", next);
		rest = todo;
		if (link[0] == '/') {
			close(cur);
			cur = dup(rootfd);
		}
	}
	if (cur < 0 || fstat(cur, &st) < 0) {
		r = err_set(e, errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_dev != id->dev || st.st_ino != id->ino)
		r = err_set(e, EXDEV, "%s is not the host path that was checked", path);
out:
	if (cur >= 0)
		close(cur);
	close(rootfd);
	return r;
}
