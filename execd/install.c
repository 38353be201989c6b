// SPDX-License-Identifier: Apache-2.0
/*
 * `execd --install DIR`: what the Kubernetes init container runs. It copies
 * this binary and the bootstrap.sh beside it into DIR (the pod's shared
 * emptyDir), so the execd image needs no shell and no cp.
 */
#include "install.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"

#define INSTALL_MAX (64u << 20)

/* Writes data to dir/name atomically, mode 0755. */
static int put_file(const char *dir, const char *name, const struct buf *data, struct err *e)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return err_set(e, ENAMETOOLONG, "%s: path too long", dir);
	int r = file_write_atomic(path, data->data + data->off, data->len, 0755);
	return r < 0 ? err_set(e, -r, "%s: %s", path, strerror(-r)) : 0;
}

static int copy_in(const char *src, const char *dir, const char *name, struct err *e)
{
	struct buf b;
	buf_init(&b, INSTALL_MAX);
	int r = buf_read_file(&b, src);
	if (r < 0)
		r = err_set(e, -r, "%s: %s", src, strerror(-r));
	else
		r = put_file(dir, name, &b, e);
	buf_free(&b);
	return r;
}

int install_run(const char *dir, bool disable_ipv6, struct err *e)
{
	char self[PATH_MAX], boot[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return err_set(e, errno ? errno : EIO, "/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	snprintf(boot, sizeof(boot), "%.*s/bootstrap.sh", slash ? (int)(slash - self) : 1,
		 slash ? self : ".");
	if (disable_ipv6) {
		/* The pod's network namespace, before the sidecar programs it. */
		int fd = open("/proc/sys/net/ipv6/conf/all/disable_ipv6", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "1\n", 2) != 2) {
			int r = err_set(e, errno, "disable_ipv6: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			return r;
		}
		close(fd);
	}
	int r = copy_in(self, dir, "execd", e);
	return r < 0 ? r : copy_in(boot, dir, "bootstrap.sh", e);
}
