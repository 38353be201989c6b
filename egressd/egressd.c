// SPDX-License-Identifier: Apache-2.0
/* Applying a policy change (kernel first, then the swap) and persisting it. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "egressd.h"

int egressd_apply(struct egressd *x, struct policy *user, struct policy *always_deny,
		  struct policy *always_allow, struct err *e)
{
	const struct policy *layers[3] = {always_deny ? always_deny : x->always_deny,
					  always_allow ? always_allow : x->always_allow,
					  user ? user : x->user};
	int def = layers[2] ? layers[2]->default_action : POLICY_DENY;
	struct policy_index *ix = policy_index_build(layers, 3, def);
	if (!ix)
		return err_set(e, ENOMEM, "out of memory");
	if (x->nft_mode && x->sets.open) {
		int r = sets_update(&x->sets, layers, 3, def, e);
		if (r < 0) {
			policy_index_free(ix);
			return r;
		}
	}
	if (user) {
		policy_free(x->user);
		x->user = user;
	}
	if (always_deny) {
		policy_free(x->always_deny);
		x->always_deny = always_deny;
	}
	if (always_allow) {
		policy_free(x->always_allow);
		x->always_allow = always_allow;
	}
	policy_index_free(x->index);
	x->index = ix;
	return 0;
}

int egressd_persist(const struct egressd *x, const struct policy *p, struct err *e)
{
	const char *path = x->policy_file;
	char tmp[4096], dir[4096];
	struct buf b;
	struct stat st;
	mode_t mode = 0600;
	int fd = -1, r = 0;

	if (!path || !*path)
		return 0;
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return err_set(e, ENAMETOOLONG, "policy file path too long");
	buf_init(&b, 0);
	if ((r = policy_to_json(p, &b, true)) < 0 || (r = buf_puts(&b, "\n")) < 0) {
		err_set(e, -r, "serialise policy");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		r = err_set(e, errno, "create %s", tmp);
		goto out;
	}
	fchmod(fd, mode);
	for (size_t off = 0; off < b.len;) {
		ssize_t n = write(fd, buf_head(&b) + off, b.len - off);
		if (n < 0) {
			r = err_set(e, errno, "write %s", tmp);
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		r = err_set(e, errno, "fsync %s", tmp);
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = err_set(e, errno, "rename %s to %s", tmp, path);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	buf_free(&b);
	return r;
}
