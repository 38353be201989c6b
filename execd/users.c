// SPDX-License-Identifier: Apache-2.0
#include "users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERS_LINE_MAX 4096

/* Splits a colon-separated line into at most n fields (in place). */
static int split(char *line, char **f, int n)
{
	int i = 0;
	line[strcspn(line, "\n")] = '\0';
	while (i < n) {
		f[i++] = line;
		char *c = strchr(line, ':');
		if (!c)
			break;
		*c = '\0';
		line = c + 1;
	}
	return i;
}

static int parse_id(const char *s, unsigned long *out)
{
	char *end;
	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return (*end || errno) ? -1 : 0;
}

/* Calls match(fields) for each line of path until it returns nonzero. */
static int scan(const char *path, int nf, int (*match)(char **f, int n, void *arg), void *arg)
{
	FILE *fp = fopen(path, "re");
	char line[USERS_LINE_MAX];
	char *f[8];
	int r = 0;
	if (!fp)
		return 0;
	while (!r && fgets(line, sizeof(line), fp))
		r = match(f, split(line, f, nf), arg);
	fclose(fp);
	return r;
}

struct q {
	const char *name;
	unsigned long id, id2;
	char *out;
	size_t len;
	gid_t *groups;
	int ngroups, max;
};

static int by_uid(char **f, int n, void *arg)
{
	struct q *q = arg;
	unsigned long id;
	if (n < 4 || parse_id(f[2], &id) || id != q->id)
		return 0;
	snprintf(q->out, q->len, "%s", f[0]);
	parse_id(f[3], &q->id2);
	return 1;
}

static int by_gid(char **f, int n, void *arg)
{
	struct q *q = arg;
	unsigned long id;
	if (n < 3 || parse_id(f[2], &id) || id != q->id)
		return 0;
	snprintf(q->out, q->len, "%s", f[0]);
	return 1;
}

static int by_name(char **f, int n, void *arg)
{
	struct q *q = arg;
	if (n < 3 || strcmp(f[0], q->name) != 0)
		return 0;
	if (parse_id(f[2], &q->id))
		return 0;
	if (n >= 4)
		parse_id(f[3], &q->id2);
	return 1;
}

void users_uid_name(uid_t uid, char *out, size_t len)
{
	struct q q = {.id = uid, .out = out, .len = len};
	if (!scan("/etc/passwd", 4, by_uid, &q))
		snprintf(out, len, "%lu", (unsigned long)uid);
}

void users_gid_name(gid_t gid, char *out, size_t len)
{
	struct q q = {.id = gid, .out = out, .len = len};
	if (!scan("/etc/group", 3, by_gid, &q))
		snprintf(out, len, "%lu", (unsigned long)gid);
}

int users_find_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct q q = {.name = name};
	if (scan("/etc/passwd", 4, by_name, &q)) {
		*uid = (uid_t)q.id;
		if (gid)
			*gid = (gid_t)q.id2;
		return 0;
	}
	unsigned long id;
	if (parse_id(name, &id) == 0) {
		*uid = (uid_t)id;
		if (gid && users_primary_gid((uid_t)id, gid) < 0)
			*gid = 0;
		return 0;
	}
	return -ENOENT;
}

int users_find_group(const char *name, gid_t *gid)
{
	struct q q = {.name = name};
	if (scan("/etc/group", 3, by_name, &q)) {
		*gid = (gid_t)q.id;
		return 0;
	}
	unsigned long id;
	if (parse_id(name, &id) == 0) {
		*gid = (gid_t)id;
		return 0;
	}
	return -ENOENT;
}

int users_primary_gid(uid_t uid, gid_t *gid)
{
	char name[256];
	struct q q = {.id = uid, .out = name, .len = sizeof(name)};
	if (!scan("/etc/passwd", 4, by_uid, &q))
		return -ENOENT;
	*gid = (gid_t)q.id2;
	return 0;
}

static int member_of(char **f, int n, void *arg)
{
	struct q *q = arg;
	unsigned long id;
	if (n < 4 || parse_id(f[2], &id) || q->ngroups >= q->max)
		return 0;
	for (char *m = strtok(f[3], ","); m; m = strtok(NULL, ",")) {
		if (strcmp(m, q->name) == 0 && id != q->groups[0]) {
			q->groups[q->ngroups++] = (gid_t)id;
			break;
		}
	}
	return 0;
}

int users_groups_of(uid_t uid, gid_t primary, gid_t *out, int max)
{
	char name[256];
	struct q q = {.id = uid, .out = name, .len = sizeof(name)};
	if (max < 1)
		return 0;
	out[0] = primary;
	if (!scan("/etc/passwd", 4, by_uid, &q))
		return 1;
	struct q g = {.name = name, .groups = out, .ngroups = 1, .max = max};
	scan("/etc/group", 4, member_of, &g);
	return g.ngroups;
}
