// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostpath.h"

size_t hostpath_prefixes_open(const char *allow, struct hostpath_prefix *out, size_t max,
			      struct err *warn)
{
	size_t n = 0;
	for (const char *p = allow; p && *p && n < max;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		while (len > 1 && p[len - 1] == '/')
			len--;
		char *path = len && p[0] == '/' ? strndup(p, len) : NULL;
		int fd = path ? open(path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
		if (fd >= 0) {
			out[n].path = path;
			out[n].fd = fd;
			n++;
		} else {
			err_set(warn, path ? errno : EINVAL, "allowed host path '%.*s' skipped: %s",
				(int)len, p, path ? strerror(errno) : "not absolute");
			free(path);
		}
		p = comma ? comma + 1 : NULL;
	}
	return n;
}

void hostpath_prefixes_close(struct hostpath_prefix *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		close(p[i].fd);
		free(p[i].path);
	}
}

/* The longest prefix holding path lexically, or NULL. */
static const struct hostpath_prefix *prefix_of(const struct hostpath_prefix *pre, size_t n,
					       const char *path)
{
	const struct hostpath_prefix *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(pre[i].path);
		bool root = len == 1;
		if (strncmp(path, pre[i].path, len) == 0 &&
		    (root || path[len] == '\0' || path[len] == '/') && (!best || len > best_len)) {
			best = &pre[i];
			best_len = len;
		}
	}
	return best;
}

bool hostpath_allowed(const struct hostpath_prefix *pre, size_t n, const char *path)
{
	return prefix_of(pre, n, path) != NULL;
}

int hostpath_open(const struct hostpath_prefix *pre, size_t n, const char *path, bool create,
		  struct err *e)
{
	const struct hostpath_prefix *p = prefix_of(pre, n, path);
	if (!p)
		return err_set(e, EPERM, "host path %s is not under an allowed prefix%s", path,
			       n ? "" : " (none is configured)");
	int dir = fcntl(p->fd, F_DUPFD_CLOEXEC, 0);
	if (dir < 0)
		return err_set(e, errno, "%s: %s", p->path, strerror(errno));
	char part[NAME_MAX + 1];
	const char *rest = path + (strlen(p->path) == 1 ? 0 : strlen(p->path));
	while (*rest) {
		while (*rest == '/')
			rest++;
		size_t k = strcspn(rest, "/");
		if (!k)
			break;
		int r = 0;
		if (k > NAME_MAX)
			r = err_set(e, ENAMETOOLONG, "host path %s: a name is too long", path);
		else if ((k == 1 && rest[0] == '.') || (k == 2 && !strncmp(rest, "..", 2)))
			r = err_set(e, EINVAL, "host path %s: '.' and '..' are not allowed", path);
		if (r) {
			close(dir);
			return r;
		}
		memcpy(part, rest, k);
		part[k] = '\0';
		rest += k;
		int upto = (int)(rest - path); /* errors name the path up to this component */
		int fd = openat(dir, part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(dir, part, 0755) < 0 && errno != EEXIST)
				r = err_set(e, errno, "cannot create %.*s: %s", upto, path,
					    strerror(errno));
			else
				fd = openat(dir, part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		struct stat st;
		if (!r && fd < 0)
			r = err_set(e, errno, "%.*s: %s", upto, path, strerror(errno));
		else if (!r && fstat(fd, &st) < 0)
			r = err_set(e, errno, "%.*s: %s", upto, path, strerror(errno));
		else if (!r && S_ISLNK(st.st_mode))
			r = err_set(
				e, ELOOP,
				"%.*s is a symbolic link (not followed below an allowed prefix)",
				upto, path);
		else if (!r && *rest && !S_ISDIR(st.st_mode))
			r = err_set(e, ENOTDIR, "%.*s is not a directory", upto, path);
		else if (!r && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			r = err_set(e, EINVAL, "%.*s is neither a directory nor a regular file",
				    upto, path);
		close(dir);
		if (r) {
			if (fd >= 0)
				close(fd);
			return r;
		}
		dir = fd;
	}
	return dir;
}

int hostpath_stage(int fd, const char *stage, struct err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_set(e, errno, "staging %s: %s", stage, strerror(errno));
	int r = S_ISDIR(st.st_mode) ? mkdir(stage, 0700) : mknod(stage, S_IFREG | 0600, 0);
	if (r < 0)
		return err_set(e, errno, "staging %s: %s", stage, strerror(errno));
	/* The kernel follows the descriptor's magic link to its inode: no path is
	 * looked up again, so nothing can be swapped in. */
	char src[64];
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (mount(src, stage, NULL, MS_BIND, NULL) < 0) {
		int err = errno;
		S_ISDIR(st.st_mode) ? rmdir(stage) : unlink(stage);
		return err_set(
			e, err, "bind-mounting a host volume at %s: %s%s", stage, strerror(err),
			err == EPERM ? " (needs CAP_SYS_ADMIN in the host's mount namespace)" : "");
	}
	return 0;
}

void hostpath_unstage(const char *stage)
{
	umount2(stage, MNT_DETACH);
	if (rmdir(stage) < 0 && errno == ENOTDIR)
		unlink(stage);
}
