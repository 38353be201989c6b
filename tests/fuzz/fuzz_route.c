// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_route: the gateway's route readers and the image reference grammar on
 * arbitrary text (NUL-terminated exact-size copies, so ASan sees any read past
 * the end). Every reading names a plausible sandbox and port; a path's rest
 * lies inside the input; a signed reading's expiry re-encodes to its exp36;
 * a reference that passes has no byte or segment that would escape a path.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "gateway_route.h"
#include "image_ref.h"

static void check(const struct gw_route *r, bool is_signed)
{
	ENSURE(r->port >= 1);
	ENSURE(r->id[0] && strlen(r->id) < GW_ID_MAX && !strchr(r->id, '/'));
	ENSURE(r->is_signed == is_signed);
	if (is_signed) {
		char again[16];
		gw_base36(r->expires, again);
		ENSURE(!strcmp(again, r->exp36));
		ENSURE(strlen(r->sig) == GW_SIG_LEN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1); /* exactly the text and its NUL */
	ENSURE(s);
	memcpy(s, data, size);
	s[size] = '\0';
	struct gw_route p, g;
	int f = gw_route_label(s, &p, &g);
	if (f & GW_PLAIN)
		check(&p, false);
	if (f & GW_SIGNED)
		check(&g, true);
	f = gw_route_path(s, &p, &g);
	if (f & GW_PLAIN) {
		check(&p, false);
		ENSURE(p.rest >= s && p.rest <= s + strlen(s));
	}
	if (f & GW_SIGNED) {
		ENSURE(f & GW_PLAIN);
		check(&g, true);
		ENSURE(g.rest >= s && g.rest <= s + strlen(s));
	}
	if (gw_route_sandboxes_path(s, &p)) {
		check(&p, false);
		ENSURE(p.rest >= s && p.rest <= s + strlen(s));
	}
	if (image_ref_valid(s)) { /* a tag may hold "..", but no segment is "." or ".." */
		ENSURE(!strpbrk(s, "%?# \r\n\t\\\"") && strlen(s) > 0);
		for (const char *seg = s; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL)
			ENSURE(strncmp(seg, "../", 3) && strcmp(seg, "..") &&
			       strncmp(seg, "./", 2) && strcmp(seg, "."));
	}
	free(s);
	return 0;
}
