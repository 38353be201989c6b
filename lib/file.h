/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file: replacing a file so that a crash at any point leaves either the old
 * content or the new one, never a mix: write a temporary file beside it,
 * fsync, rename over the path, fsync the directory.
 */
#ifndef LIB_FILE_H
#define LIB_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Writes len bytes of data to path atomically with permissions mode. The
 * temporary file is "<path>.tmp.<pid>": one writer per path at a time.
 * 0 or -errno (the temporary file is removed on failure). */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

#endif
