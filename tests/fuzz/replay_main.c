// SPDX-License-Identifier: Apache-2.0
/*
 * replay_main: runs a libFuzzer target over saved inputs without libFuzzer,
 * so `make test` replays every corpus under the sanitizers. Arguments are
 * files or directories; a directory's entries (not hidden, not recursive)
 * run in name order so a failure reproduces the same way every time. Each
 * input is handed over in a buffer of exactly its size.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	struct stat st;
	int ret = -1;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out;
	}
	size_t size = (size_t)st.st_size;
	data = malloc(size);
	if (!data && size) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		goto out;
	}
	if (fread(data, 1, size, f) != size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(data, size);
	(*count)++;
	ret = 0;
out:
	free(data);
	fclose(f);
	return ret;
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int replay_dir(const char *dir, size_t *count)
{
	struct dirent **names;
	int n = scandir(dir, &names, not_hidden, alphasort);
	int ret = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;
		int len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);

		if (ret == 0 && (len < 0 || (size_t)len >= sizeof(path))) {
			fprintf(stderr, "replay: %s/%s: path too long\n", dir, names[i]->d_name);
			ret = -1;
		}
		if (ret == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			ret = replay_file(path, count);
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	size_t count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int r;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode))
			r = replay_dir(argv[i], &count);
		else
			r = replay_file(argv[i], &count);
		if (r < 0)
			return 1;
	}
	printf("replay: %zu inputs ok\n", count);
	return 0;
}
