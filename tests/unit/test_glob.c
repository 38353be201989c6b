// SPDX-License-Identifier: Apache-2.0
/* glob: a (pattern, name, expected) table, the bad patterns, limits and the step budget. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "unit.h"

struct glob_case {
	const char *pat, *name;
	int want;
};

static const struct glob_case cases[] = {
	/* stars; dotfiles are not special */
	{"*.txt", "a.txt", 1},
	{"*.txt", "a.md", 0},
	{"*.txt", ".txt", 1},
	{"*.txt", "a.txt.bak", 0},
	{"*", "", 1},
	{"*", ".hidden", 1},
	{"", "", 1},
	{"", "a", 0},
	{"a*b*c", "abc", 1},
	{"a*b*c", "aXbYc", 1},
	{"a*b*c", "aXbYcZ", 0},
	{"*a", "bbba", 1},
	{"**", "anything.at.all", 1},
	{"**.txt", "a.txt", 1},
	{"***", "x", 1},
	/* the directory forms */
	{"**/x", "x", 1},
	{"**/*.txt", "a.txt", 1},
	{"**/*.txt", "a.md", 0},
	{"**/**/x", "x", 1},
	{"**/", "", 1},
	{"a/b", "b", 0},
	{"a/b", "a/b", 0},
	{"*/x", "x", 0},
	{"/x", "x", 0},
	{"x/**", "x", 0},
	{"x**/y", "xy", 0},
	{"*", "a/b", 0},
	{"{a/b,c}", "c", 1},
	{"{a/b,c}", "b", 0},
	/* ? is one rune */
	{"?", "a", 1},
	{"?", "", 0},
	{"?", "ab", 0},
	{"a?c", "abc", 1},
	{"?", "\xc3\xa9", 1},
	{"??", "\xc3\xa9", 0},
	{"?", "\xe6\xb5\x8b", 1},
	{"?", "\xf0\x9f\x98\x80", 1},
	{"?", "\xff", 1},
	{"??", "\xc3", 0},
	{"*\xa9", "\xc3\xa9", 0}, /* a star never stops inside a rune */
	/* classes */
	{"[abc]", "b", 1},
	{"[abc]", "d", 0},
	{"[a-z]", "m", 1},
	{"[a-z]", "M", 0},
	{"[a-cx-z]", "y", 1},
	{"[!x]", "y", 1},
	{"[!x]", "x", 0},
	{"[^x]", "x", 0},
	{"[^x]", "", 0},
	{"[!x]", "\xc3\xa9", 1},
	{"[!a]x", "\xc3\xa9x", 1},
	{"[\xc3\xa9]", "\xc3\xa9", 1},
	{"[\xc3\xa0-\xc3\xbc]", "\xc3\xa9", 1},
	{"[\xc3\xa0-\xc3\xbc]", "e", 0},
	{"[-a]", "-", 1},
	{"[a-]", "-", 1},
	{"[a-]", "b", 0},
	{"[\\]]", "]", 1},
	{"[\\-]", "-", 1},
	{"[a\\-z]", "m", 0},
	{"[z-a]", "m", 0},
	{"[*]", "*", 1},
	{"[*]", "a", 0},
	{"[{]", "{", 1},
	{"[/]", "/", 0},
	{"*.[ch]", "x.c", 1},
	{"*.[ch]", "x.o", 0},
	/* braces */
	{"{a,b}", "a", 1},
	{"{a,b}", "b", 1},
	{"{a,b}", "c", 0},
	{"{a,b}", "ab", 0},
	{"{a,b}c", "bc", 1},
	{"x{a,{b,c}d}", "xcd", 1},
	{"x{a,{b,c}d}", "xa", 1},
	{"x{a,{b,c}d}", "xc", 0},
	{"{,a}b", "b", 1},
	{"{,a}b", "ab", 1},
	{"{}", "", 1},
	{"{}x", "x", 1},
	{"{*.txt,*.md}", "r.md", 1},
	{"{*.txt,*.md}", "r.c", 0},
	{"{a,b}{c,d}", "bd", 1},
	{"{a,b}{c,d}", "ba", 0},
	{"{a*,*b}", "xb", 1},
	{"{[ab],c}", "b", 1},
	{"{\\,,x}", ",", 1},
	{"{a,b\\}}", "b}", 1},
	{"a,b", "a,b", 1},
	{"a,b", "a", 0},
	/* escapes */
	{"\\*", "*", 1},
	{"\\*", "a", 0},
	{"\\?", "?", 1},
	{"a\\[", "a[", 1},
	{"\\!", "!", 1},
	{"\\{a\\}", "{a}", 1},
	{"\\\xc3\xa9", "\xc3\xa9", 1},
	{"\\\\", "\\", 1},
	/* negation */
	{"!(*.txt)", "a.md", 1},
	{"!(*.txt)", "a.txt", 0},
	{"!(a|b)", "a", 0},
	{"!(a|b)", "b", 0},
	{"!(a|b)", "c", 1},
	{"!(a|b)", "ab", 1},
	{"!(x)", "", 1},
	{"*.!(txt)", "a.md", 1},
	{"*.!(txt)", "a.txt", 0},
	{"a!(b)c", "ac", 1},
	{"a!(b)c", "abc", 0},
	{"a!(b)c", "abbc", 1},
	{"!({a,b}*)", "cat", 1},
	{"!({a,b}*)", "bat", 0},
	{"!(!(a))", "a", 1},
	{"!(!(a))", "b", 0},
	{"!(a,b)", "a,b", 0},
	{"!(a,b)", "a", 1},
	/* literal punctuation */
	{"(a)", "(a)", 1},
	{"a|b", "a|b", 1},
	{"a)", "a)", 1},
	{"{a)b,c}", "a)b", 1},
	{"\xc3\xa9t\xc3\xa9.txt", "\xc3\xa9t\xc3\xa9.txt", 1},
	{"\xe6\xb5\x8b*", "\xe6\xb5\x8b\xe8\xaf\x95.txt", 1},
	{"A*", "a", 0}, /* case-sensitive */
};

TEST(glob_table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct glob_case *c = &cases[i];
		/* Exact-size copies, no NUL: ASan sees any read past either end. */
		size_t pl = strlen(c->pat), nl = strlen(c->name);
		char *pat = malloc(pl ? pl : 1), *name = malloc(nl ? nl : 1);
		memcpy(pat, c->pat, pl);
		memcpy(name, c->name, nl);
		CHECK_INT(glob_validate(pat, pl, NULL), 0);
		int r = glob_match(pat, pl, name, nl);
		if (r != c->want)
			unit_fail(__FILE__, __LINE__, "glob \"%s\" vs \"%s\": %d, expected %d",
				  c->pat, c->name, r, c->want);
		free(pat);
		free(name);
	}
}

TEST(glob_bad_patterns)
{
	static const char *const bad[] = {
		"[",	 "a[",	   "[a",    "[a-",    "[\\",
		"[]",	 "[!]",	   "[^]",   "a[]b",   "\\",
		"a\\",	 "[a\\",   "{",	    "{a,b",   "a{b{c}",
		"{[}]",	 "}",	   "a}",    "{a}}",   "!",
		"a!b",	 "!a",	   "!(",    "!(a",    "!(a|b",
		"!(a})", "{!(a})", "{!(a}", "*.!txt", "{{{{{{{{{{{{{{{{{a}}}}}}}}}}}}}}}}}",
	};
	char *long_pat = malloc(GLOB_PATTERN_MAX + 2);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		size_t n = strlen(bad[i]);
		char *p = malloc(n ? n : 1);
		memcpy(p, bad[i], n);
		if (glob_validate(p, n, &why) != -EINVAL || !why)
			unit_fail(__FILE__, __LINE__, "pattern \"%s\" accepted", bad[i]);
		if (glob_match(p, n, "a", 1) != -EINVAL)
			unit_fail(__FILE__, __LINE__, "pattern \"%s\" matched", bad[i]);
		free(p);
	}
	/* Sixteen levels are allowed, seventeen are not (the last case above). */
	static const char deep[] = "{{{{{{{{{{{{{{{{a}}}}}}}}}}}}}}}}";
	CHECK_INT(glob_match(deep, sizeof(deep) - 1, "a", 1), 1);
	memset(long_pat, 'a', GLOB_PATTERN_MAX + 1);
	CHECK_INT(glob_validate(long_pat, GLOB_PATTERN_MAX, NULL), 0);
	CHECK_INT(glob_validate(long_pat, GLOB_PATTERN_MAX + 1, NULL), -EINVAL);
	free(long_pat);
}

TEST(glob_backtracking_bounded)
{
	char name[256], pat[512];
	size_t n = 0;

	/* Many stars: the star memo keeps this linear-ish, and it is a plain "no". */
	memset(name, 'a', 200);
	for (int i = 0; i < 12; i++) {
		pat[n++] = '*';
		pat[n++] = 'a';
	}
	pat[n++] = '*';
	pat[n++] = 'b';
	CHECK_INT(glob_match(pat, n, name, 200), 0);
	name[199] = 'b';
	CHECK_INT(glob_match(pat, n, name, 200), 1);

	/* Nested negations of stars, same. */
	CHECK_INT(glob_match("!(*a*a*a*a*a*a*c)", 17, name, 200), 1);

	/* Alternatives that all look alike explode; the budget stops them. */
	n = 0;
	for (int i = 0; i < 60; i++) {
		memcpy(pat + n, "{a,a}", 5);
		n += 5;
	}
	pat[n++] = 'b';
	memset(name, 'a', 60);
	CHECK_INT(glob_match(pat, n, name, 60), -E2BIG);
	/* The same shape, short enough, is answered. */
	CHECK_INT(glob_match(pat + 5 * 50, n - 5 * 50, name, 10), 0);
}
