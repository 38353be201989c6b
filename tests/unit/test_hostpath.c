// SPDX-License-Identifier: Apache-2.0
/* api/hostpath: host volume paths walked without symbolic links; in-root verification. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostpath.h"
#include "unit.h"

static char tmp[PATH_MAX];

static void mk(const char *rel)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	mkdir(p, 0755);
}

static void ln(const char *target, const char *rel)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	symlink(target, p);
}

static int resolve(const char *allow_rel, const char *rel, bool create, char *out,
		   struct hostpath_id *id)
{
	char allow[PATH_MAX * 2], path[PATH_MAX * 2];
	snprintf(allow, sizeof(allow), "%s/%s", tmp, allow_rel);
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	struct err e = { 0 };
	return hostpath_resolve(allow, path, create, out, PATH_MAX, id, &e);
}

static bool same(const char *path, const struct hostpath_id *id)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino;
}

static void remove_tree(void)
{
	char cmd[PATH_MAX * 2];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

/* A scratch tree, made once per run (either test may run alone), removed at exit. */
static void fixture(void)
{
	if (tmp[0])
		return;
	snprintf(tmp, sizeof(tmp), "/tmp/hostpath-test-%d", (int)getpid());
	mkdir(tmp, 0755);
	atexit(remove_tree);
	mk("allowed");
	mk("allowed/a");
	mk("real");
	ln("/", "allowed/esc");
	ln("a", "allowed/inner");
	ln("real", "link-prefix");
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/allowed/f", tmp);
	FILE *f = fopen(p, "w");
	if (f)
		fclose(f);
	mk("root");
	mk("root/real");
	mk("root/other");
	ln("/real", "root/mnt");
	ln("../../real", "root/up");
	ln("loop2", "root/loop1");
	ln("loop1", "root/loop2");
}

TEST(hostpath_resolve_walks_without_links)
{
	fixture();
	char p[PATH_MAX * 2];

	char out[PATH_MAX], want[PATH_MAX * 2];
	struct hostpath_id id;
	CHECK_INT(resolve("allowed", "allowed/a", false, out, &id), 0);
	snprintf(want, sizeof(want), "%s/allowed/a", tmp);
	CHECK(strcmp(out, want) == 0);
	CHECK(same(want, &id));
	/* The prefix itself, and a file. */
	CHECK_INT(resolve("allowed/", "allowed", false, out, &id), 0);
	CHECK_INT(resolve("allowed", "allowed/f", false, out, &id), 0);
	/* Symbolic links below the prefix are refused, even ones that stay inside. */
	CHECK_INT(resolve("allowed", "allowed/esc", false, out, &id), -ELOOP);
	CHECK_INT(resolve("allowed", "allowed/inner", false, out, &id), -ELOOP);
	/* mkdir never goes through a link: nothing is created outside. */
	CHECK_INT(resolve("allowed", "allowed/esc/tmp/hostpath-made", true, out, &id), -ELOOP);
	CHECK(access("/tmp/hostpath-made", F_OK) != 0);
	/* Missing directories: created only when asked. */
	CHECK_INT(resolve("allowed", "allowed/new/deep", false, out, &id), -ENOENT);
	CHECK_INT(resolve("allowed", "allowed/new/deep", true, out, &id), 0);
	snprintf(want, sizeof(want), "%s/allowed/new/deep", tmp);
	CHECK(same(want, &id));
	CHECK_INT(resolve("allowed", "allowed/f/x", true, out, &id), -ENOTDIR);
	/* Outside the prefix, or only sharing its first letters. */
	CHECK_INT(resolve("allowed", "real", false, out, &id), -EPERM);
	CHECK_INT(resolve("allow", "allowed/a", false, out, &id), -EPERM);
	struct err e = { 0 };
	CHECK_INT(hostpath_resolve("", "/etc", false, out, sizeof(out), &id, &e), -EPERM);
	CHECK(strstr(e.msg, "none is configured") != NULL);
	/* An administrator's prefix may be a link: the daemon gets the resolved path. */
	mk("real/d");
	CHECK_INT(resolve("link-prefix", "link-prefix/d", false, out, &id), 0);
	snprintf(want, sizeof(want), "%s/real/d", tmp);
	CHECK(strcmp(out, want) == 0);
	/* "/" as the prefix. */
	snprintf(p, sizeof(p), "%s/allowed/a", tmp);
	CHECK_INT(hostpath_resolve("/", p, false, out, sizeof(out), &id, &e), 0);
	CHECK(strcmp(out, p) == 0);
	CHECK_INT(hostpath_resolve("/", "/", false, out, sizeof(out), &id, &e), 0);
	CHECK(strcmp(out, "/") == 0);
	/* A comma list. */
	char allow[PATH_MAX * 3];
	snprintf(allow, sizeof(allow), "/nonexistent,%s/allowed", tmp);
	snprintf(p, sizeof(p), "%s/allowed/a", tmp);
	CHECK_INT(hostpath_resolve(allow, p, false, out, sizeof(out), &id, &e), 0);
}

TEST(hostpath_verify_resolves_inside_the_root)
{
	/* A container root: /mnt -> /real (absolute, meant inside the root), /up -> ../../real. */
	fixture();
	char root[PATH_MAX * 2], real[PATH_MAX * 3];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(real, sizeof(real), "%s/real", root);
	struct stat st;
	CHECK_INT(stat(real, &st), 0);
	struct hostpath_id id = { st.st_dev, st.st_ino };
	struct err e = { 0 };
	CHECK_INT(hostpath_verify(root, "/real", &id, &e), 0);
	CHECK_INT(hostpath_verify(root, "/mnt", &id, &e), 0);
	CHECK_INT(hostpath_verify(root, "/up", &id, &e), 0);
	CHECK_INT(hostpath_verify(root, "/../../real/./", &id, &e), 0);
	CHECK_INT(hostpath_verify(root, "/other", &id, &e), -EXDEV);
	CHECK_INT(hostpath_verify(root, "/loop1", &id, &e), -ELOOP);
	CHECK_INT(hostpath_verify(root, "/absent", &id, &e), -ENOENT);
}
