// SPDX-License-Identifier: Apache-2.0
#include "uuid.h"

#include <errno.h>
#include <sys/random.h>

int uuid_v4(unsigned char out[16])
{
	size_t got = 0;
	while (got < 16) {
		ssize_t n = getrandom(out + got, 16 - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	out[6] = (unsigned char)((out[6] & 0x0f) | 0x40);
	out[8] = (unsigned char)((out[8] & 0x3f) | 0x80);
	return 0;
}

static int format(char *out, int dashes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	int r = uuid_v4(u);
	if (r < 0)
		return r;
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (dashes && (i == 4 || i == 6 || i == 8 || i == 10))
			*p++ = '-';
		*p++ = hex[u[i] >> 4];
		*p++ = hex[u[i] & 15];
	}
	*p = '\0';
	return 0;
}

int uuid_v4_str(char out[UUID_STR_LEN])
{
	return format(out, 1);
}

int uuid_v4_hex(char out[UUID_HEX_LEN])
{
	return format(out, 0);
}
