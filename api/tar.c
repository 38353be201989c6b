// SPDX-License-Identifier: Apache-2.0
/* ustar headers (POSIX.1-1988): 512-byte blocks, octal fields, checksum over the header. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tar.h"

#define TAR_BLOCK 512
#define TAR_MTIME 1700000000u

static int add_header(struct buf *b, const char *name, size_t name_len, unsigned mode, size_t size,
		      char type)
{
	unsigned char h[TAR_BLOCK];
	if (name_len == 0 || name_len > 99)
		return -ENAMETOOLONG;
	memset(h, 0, sizeof(h));
	memcpy(h, name, name_len);
	snprintf((char *)h + 100, 8, "%07o", mode & 07777);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011o", TAR_MTIME);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6); /* magic "ustar\0" */
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	unsigned sum = 0;
	for (size_t i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum & 0777777);
	h[155] = ' ';
	return buf_append(b, h, sizeof(h));
}

int tar_add_dir(struct buf *b, const char *name, unsigned mode)
{
	char n[101];
	size_t len = strlen(name);
	if (len == 0 || len > 98)
		return -ENAMETOOLONG;
	memcpy(n, name, len);
	n[len++] = '/';
	return add_header(b, n, len, mode, 0, '5');
}

int tar_add_file(struct buf *b, const char *name, unsigned mode, const void *data, size_t len)
{
	int r = add_header(b, name, strlen(name), mode, len, '0');
	if (r < 0)
		return r;
	if (len && (r = buf_append(b, data, len)) < 0)
		return r;
	size_t pad = (TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK;
	static const char zero[TAR_BLOCK];
	return pad ? buf_append(b, zero, pad) : 0;
}

int tar_end(struct buf *b)
{
	static const char zero[2 * TAR_BLOCK];
	return buf_append(b, zero, sizeof(zero));
}
