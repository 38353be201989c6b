// SPDX-License-Identifier: Apache-2.0
/* Applying a policy change (kernel first, then the swap) and persisting it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "egressd.h"
#include "file.h"

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
	struct buf b;
	struct stat st;
	mode_t mode = 0600;
	int r;

	if (!path || !*path)
		return 0;
	if (stat(path, &st) == 0) /* an operator's chmod survives the rewrite */
		mode = st.st_mode & 07777;
	buf_init(&b, 0);
	if ((r = policy_to_json(p, &b, true)) < 0 || (r = buf_puts(&b, "\n")) < 0)
		r = err_set(e, -r, "serialise policy");
	else if ((r = file_write_atomic(path, buf_head(&b), b.len, mode)) < 0)
		r = err_set(e, -r, "write %s: %s", path, strerror(-r));
	buf_free(&b);
	return r;
}
