/* SPDX-License-Identifier: Apache-2.0 */
/*
 * glob: the /files/search pattern (reference 7.3), matched against one file
 * name (a basename), in the style of Go's doublestar v4 plus a "!(...)"
 * negation. Pure functions; no allocation.
 *
 *   *          any run of characters (none of them '/'); "**" is the same
 *   ?          one character (one UTF-8 rune; an invalid byte counts as one)
 *   [abc] [a-z] [!x] [^x]
 *              one rune in / not in the class; "\" escapes inside; '-' first
 *              or last is literal; a range whose ends are reversed matches
 *              nothing; an empty class ("[]", "[!]") is an error
 *   {a,b,c}    any of the alternatives (nestable; empty ones allowed)
 *   !(a|b)     any run of characters matching none of the alternatives,
 *              like bash's extglob; a '!' not followed by '(' is an error
 *   \c         the character c itself; a trailing '\' is an error
 *   ** then '/' at the start (repeated or not) is dropped: it matches zero
 *              directories, so the pattern "**" "/" "*.txt" matches "a.txt"
 * Any other '/' never matches, so patterns with a path never match a
 * basename (as the reference says). ',' outside braces and '(', ')', '|'
 * outside "!(...)" are literal; a '}' without its '{' is an error (as in
 * doublestar), as are unclosed '{', '[' or "!(".
 * Matching is case-sensitive and dotfiles are not special. Literals compare
 * bytes; '?' and classes decode runes (invalid bytes become U+FFFD, as in Go).
 *
 * Limits: patterns up to GLOB_PATTERN_MAX bytes and GLOB_DEPTH_MAX nested
 * groups; recursion depth is bounded by the pattern length. A tail without
 * groups (the usual "*.txt") is matched iteratively in O(pattern x name);
 * stars before groups remember where they already failed. Whatever is left
 * (e.g. many look-alike alternatives) is bounded by GLOB_STEPS_MAX steps per
 * match: a match that needs more fails with -E2BIG instead of running on.
 */
#ifndef EXECD_GLOB_H
#define EXECD_GLOB_H

#include <stddef.h>

#define GLOB_PATTERN_MAX 1024
#define GLOB_DEPTH_MAX	 16
#define GLOB_STEPS_MAX	 (1L << 20)

/* Returns 0 if pat is well-formed, else -EINVAL with a static reason (reason may be NULL). */
int glob_validate(const char *pat, size_t len, const char **reason);

/*
 * Matches name against pat. Returns 1 (match), 0 (no match), -EINVAL (bad
 * pattern, as glob_validate) or -E2BIG (step budget exhausted).
 */
int glob_match(const char *pat, size_t plen, const char *name, size_t nlen);

#endif
