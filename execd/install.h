/* SPDX-License-Identifier: Apache-2.0 */
/* install: `execd --install DIR` for init containers (install.c). */
#ifndef EXECD_INSTALL_H
#define EXECD_INSTALL_H

#include <stdbool.h>

#include "err.h"

/* Copies this binary and the bootstrap.sh beside it into dir, each through a
 * temporary file and a rename; with disable_ipv6 first turns IPv6 off in the
 * network namespace. 0 or -errno with e set. */
int install_run(const char *dir, bool disable_ipv6, struct err *e);

#endif
