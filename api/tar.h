/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tar: a minimal ustar writer into a struct buf, for PUT /containers/{id}/archive.
 * Entries are regular files and directories owned by root with a fixed mtime.
 * Names are relative ("opt/opensandbox/execd") and at most 99 bytes.
 */
#ifndef API_TAR_H
#define API_TAR_H

#include <stddef.h>

#include "buf.h"

/* Appends a directory entry (name without trailing '/'). 0 or -errno (-ENAMETOOLONG). */
int tar_add_dir(struct buf *b, const char *name, unsigned mode);
/* Appends a regular file with its content. 0 or -errno. */
int tar_add_file(struct buf *b, const char *name, unsigned mode, const void *data, size_t len);
/* Appends the two zero blocks that end an archive. 0 or -errno. */
int tar_end(struct buf *b);

#endif
