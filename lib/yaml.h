/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yaml: a strict YAML subset, read into a cJSON tree, for kubeconfig files
 * (as kubectl, kind, minikube and the EKS/GKE/AKS tools write them) and
 * Kubernetes manifests such as a BatchSandbox template.
 *
 * Supported: one document, optionally opened by `---` and closed by `...`;
 * block mappings and sequences, including `- key: v` entries and sequences
 * at their key's own indentation (`users:\n- name: x`); plain scalars (also
 * over several lines, folded), 'single' and "double" quoted scalars (all YAML
 * escapes, also over several lines); `|` and `>` block scalars with chomping
 * (`-`, `+`) and indentation (1-9) indicators; flow sequences and mappings
 * (`[]`, `{}`, `[a, b]`, `{a: 1}`, `[{operator: Exists}]`, JSON itself),
 * over several lines too; comments; a UTF-8 BOM; CR LF line ends.
 *
 * Values: plain scalars resolve by the YAML 1.2 core schema: null (`null`,
 * `Null`, `NULL`, `~`, nothing), booleans (`true`, `True`, `TRUE`, `false`,
 * ...), integers (`12`, `-3`, `0x1f`, `0o17`), floats (`1.5`, `-2e3`, `.5`);
 * anything else is a string, and so is every quoted or block scalar. YAML 1.1
 * forms (`yes`, `on`, `1_000`, timestamps) are strings, as in YAML 1.2. Keys
 * are strings (a plain key keeps its text: `1: a` is {"1": "a"}).
 *
 * Refused, with the line and column: anchors, aliases and tags (`&a`, `*a`,
 * `!t`: "not supported"), directives (`%YAML`), complex keys (`? k`),
 * collections as keys, a second document, tabs in indentation, inconsistent
 * indentation, duplicate keys, integers past +-(2^53-1) (cJSON numbers are
 * doubles), integers with a leading zero (`0644`: YAML 1.1, which
 * Kubernetes' own reader follows, takes it as octal, YAML 1.2 as decimal; write
 * `0o644` or `420`), `.inf` and `.nan` (no JSON form), NUL anywhere (also as
 * an escape: cJSON strings end at a NUL), invalid UTF-8 and control
 * characters. A plain scalar inside a flow collection stays on one line.
 *
 * Messages read "line L, column C: reason" (columns count characters from 1).
 */
#ifndef LIB_YAML_H
#define LIB_YAML_H

#include <stddef.h>

#include <cJSON.h>

#include "err.h"

#define YAML_MAX_INPUT (4u << 20) /* bytes of text */
#define YAML_MAX_DEPTH 64	  /* collections inside collections */
#define YAML_MAX_NODES 250000	  /* values in one document (scalars and collections) */

/* Parses text[0, len) (need not be NUL-terminated; never read past len).
 * Returns the tree (an empty document is a cJSON null), owned by the caller
 * (cJSON_Delete), or NULL with e set (EINVAL: the text, with line and column,
 * the depth and value caps included; EFBIG: over YAML_MAX_INPUT; ENOMEM). */
cJSON *yaml_parse(const char *text, size_t len, struct err *e);

#endif
