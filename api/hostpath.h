/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostpath: host directories (or files) for bind mounts, with no window for a
 * symbolic link to redirect them.
 *
 * The allowed prefixes are the administrator's: they are opened once, at
 * start-up (links followed then), and kept open. A requested path is walked
 * from its prefix's descriptor one component at a time with O_NOFOLLOW (a link
 * below a prefix is refused; missing directories are made with mkdirat on the
 * opened parent). The result is a descriptor of the exact inode that passed,
 * and hostpath_stage() bind-mounts that descriptor (through /proc/self/fd) at
 * a root-only staging path that the Docker daemon is given instead of the
 * user's path: a sandbox that can write inside an allowed tree cannot swap a
 * component between the check and the container's mount. This needs the
 * server in the host's mount namespace with CAP_SYS_ADMIN.
 */
#ifndef API_HOSTPATH_H
#define API_HOSTPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct hostpath_prefix {
	char *path; /* as configured, without a trailing '/' ("/" stays "/") */
	int fd;	    /* O_PATH directory */
};

/*
 * Opens each prefix of the comma-separated list into out (at most max). A
 * prefix that cannot be opened is skipped and named in warn (the last one).
 * Returns how many were opened.
 */
size_t hostpath_prefixes_open(const char *allow, struct hostpath_prefix *out, size_t max,
			      struct err *warn);
void hostpath_prefixes_close(struct hostpath_prefix *p, size_t n);

/* Whether path lies, lexically, under one of the prefixes (a cheap first check). */
bool hostpath_allowed(const struct hostpath_prefix *pre, size_t n, const char *path);

/*
 * path must be absolute and normalised (no "." or ".." segments, no "//").
 * It must lie, lexically, under one of the n prefixes (the longest match is
 * used). Missing directories are created (0755) when create is set.
 * Returns an O_PATH descriptor (the caller closes it); -EPERM (not under a
 * prefix), -ELOOP (a symbolic link below it), -ENOENT, -ENOTDIR, -EINVAL or
 * another -errno, with e naming the component.
 */
int hostpath_open(const struct hostpath_prefix *pre, size_t n, const char *path, bool create,
		  struct err *e);

/* Bind-mounts what fd names (a directory or a regular file) at stage, which is
 * created (a directory or an empty file). 0 or -errno. */
int hostpath_stage(int fd, const char *stage, struct err *e);
/* Detaches and removes a staging path (the containers keep their mounts). */
void hostpath_unstage(const char *stage);

#endif
