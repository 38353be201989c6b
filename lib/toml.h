/* SPDX-License-Identifier: Apache-2.0 */
/*
 * toml: a strict TOML 1.0 subset, read into a cJSON tree (an object), for the
 * server configuration (~/.sandbox.toml: [server], [runtime], [docker],
 * [kubernetes.execd_init_resources.limits], [ingress.secure_access] with
 * keys = [{key_id = "a", key = "..."}], ...).
 *
 * Supported: tables `[a.b]`, arrays of tables `[[a]]`, bare, quoted and
 * dotted keys; basic strings (escapes \b \t \n \f \r \" \\ \uXXXX
 * \UXXXXXXXX), literal strings, and both as multi-line strings; integers
 * (decimal with `_`, 0x, 0o, 0b); floats; booleans; arrays (over lines,
 * mixed types, trailing comma); inline tables; comments; a UTF-8 BOM; CR LF.
 * TOML's rules hold: a key or table is defined once, a table made by dotted
 * keys or an inline table is not extended by a header or later keys, and a
 * static array is not appended to by [[...]].
 *
 * Refused with "not supported": date-times (offset, local; no JSON form),
 * inf and nan (no JSON form), NUL in a string (cJSON strings end at a NUL).
 * Refused as errors: integers past +-(2^53-1) (cJSON numbers are doubles,
 * which hold no more exactly), floats that overflow, invalid UTF-8, control
 * characters.
 *
 * Messages read "line N: key 'a.b': reason" once a key is known, "line N:
 * table 'a': reason" inside a table before one is, else "line N: reason".
 */
#ifndef LIB_TOML_H
#define LIB_TOML_H

#include <stddef.h>

#include <cJSON.h>

#include "err.h"

#define TOML_MAX_INPUT	   (1u << 20) /* bytes of text */
#define TOML_MAX_DEPTH	   32	      /* tables and arrays inside one another */
#define TOML_MAX_KEY_PARTS 16	      /* parts of one dotted key or table name */
#define TOML_MAX_NODES	   100000     /* values in one document (tables, arrays, scalars) */

/* Parses text[0, len) (need not be NUL-terminated; never read past len).
 * Returns the root table, owned by the caller (cJSON_Delete), or NULL with
 * e set (EINVAL: the text, with its line, the depth, key and value caps
 * included; EFBIG: over TOML_MAX_INPUT; ENOMEM). */
cJSON *toml_parse(const char *text, size_t len, struct err *e);

#endif
