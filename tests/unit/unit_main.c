// SPDX-License-Identifier: Apache-2.0
#include "unit.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#define UNIT_MAX_TESTS 1024

static struct {
	const char *name;
	unit_fn *fn;
} tests[UNIT_MAX_TESTS];
static int ntests;
static int current_failures, current_skips;

void unit_register(const char *name, unit_fn *fn)
{
	if (ntests == UNIT_MAX_TESTS) {
		fprintf(stderr, "unit: too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	current_failures++;
}

void unit_skip(const char *fmt, ...)
{
	va_list ap;
	fputs("    skip: ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	current_skips++;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;

	/* Tests write to sockets whose peers may be gone. */
	signal(SIGPIPE, SIG_IGN);
	/* Run in a stable order whatever the link order was. */
	qsort(tests, (size_t)ntests, sizeof(tests[0]), cmp_name);
	for (int i = 0; i < ntests; i++) {
		int selected = argc < 2;
		for (int a = 1; a < argc; a++)
			if (strstr(tests[i].name, argv[a]))
				selected = 1;
		if (!selected)
			continue;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		current_failures = current_skips = 0;
		tests[i].fn();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (current_failures) {
			printf("FAIL %s (%d checks failed)\n", tests[i].name, current_failures);
			failed++;
		} else if (current_skips) {
			printf("skip %s\n", tests[i].name);
			skipped++;
		} else {
			printf("ok   %s (%.1f ms)\n", tests[i].name, ms);
			passed++;
		}
		fflush(stdout);
	}
	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
