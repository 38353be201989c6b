/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostpath: host directories for bind mounts, opened one component at a time.
 *
 * Below an allowed prefix no symbolic link is followed, so a sandbox that can
 * write inside an allowed tree cannot point another sandbox's mount elsewhere
 * (a link swapped in after a realpath() check would be followed by the mount).
 * The prefixes themselves are the administrator's and are resolved. After the
 * container starts, hostpath_verify() checks that what it sees at the mount
 * point is the very inode that was checked, closing the remaining window.
 */
#ifndef API_HOSTPATH_H
#define API_HOSTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct hostpath_id {
	dev_t dev;
	ino_t ino;
};

/*
 * path must be absolute and normalised (no "." or ".." segments, no "//").
 * It must lie, lexically, under one of the comma-separated prefixes in allow.
 * Missing directories are created (0755) when create is set. On success out
 * (cap bytes) gets the path to give the Docker daemon (the resolved prefix +
 * the rest) and id the identity of the final directory or file.
 * Returns 0; -EPERM (not under a prefix), -ELOOP (a symbolic link below the
 * prefix), -ENOENT, or another -errno; e says which component.
 */
int hostpath_resolve(const char *allow, const char *path, bool create, char *out, size_t cap,
		     struct hostpath_id *id, struct err *e);

/*
 * Walks path inside the directory tree rooted at root (e.g. "/proc/PID/root"),
 * resolving symbolic links within that root as the container would (absolute
 * targets restart at root, ".." stops at root, at most 40 links), and compares
 * the final inode with id. 0 when equal, -EXDEV when different, other -errno
 * when it cannot be checked.
 */
int hostpath_verify(const char *root, const char *path, const struct hostpath_id *id,
		    struct err *e);

#endif
