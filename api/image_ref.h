/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image_ref: the Docker image reference grammar (distribution/reference):
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] path-component ( "/" path-component )*
 *   domain     := host [ ":" port ], host a DNS name or a bracketed IPv6 literal;
 *                 the first component is a domain only if it has '.' or ':' or
 *                 is "localhost" (as Docker decides)
 *   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := algorithm ":" hex, algorithm [A-Za-z][A-Za-z0-9]* ( [-_+.][A-Za-z][A-Za-z0-9]*
 * )*, hex [0-9a-fA-F]{32,} The name is at most 255 bytes. A valid reference has no '%', '?', '#',
 * spaces, controls or ".." segment, so it is safe in an Engine API path.
 */
#ifndef API_IMAGE_REF_H
#define API_IMAGE_REF_H

#include <stdbool.h>

bool image_ref_valid(const char *ref);

#endif
