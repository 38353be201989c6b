// SPDX-License-Identifier: Apache-2.0
/* api/hostpath: host volume paths walked from prefix descriptors without links, and staged
 * by descriptor (bind mounts need root, which the unit runner has). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostpath.h"
#include "unit.h"

static char tmp[PATH_MAX];

static const char *at(const char *rel)
{
	static char p[4][PATH_MAX * 2];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tmp, rel);
	return p[i];
}

static void remove_tree(void)
{
	char cmd[PATH_MAX * 3];
	snprintf(cmd, sizeof(cmd), "umount -l %s/stage-* 2>/dev/null; rm -rf %s", tmp, tmp);
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
	const char *dirs[] = {"allowed", "allowed/a", "allowed/team", "real", "real/d"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir(at(dirs[i]), 0755);
	symlink("/", at("allowed/esc"));
	symlink("a", at("allowed/inner"));
	symlink("real", at("link-prefix"));
	int fd = open(at("allowed/f"), O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	mkfifo(at("allowed/fifo"), 0600);
}

static bool same_inode(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

TEST(hostpath_open_walks_without_links)
{
	fixture();
	char allow[PATH_MAX * 4];
	snprintf(allow, sizeof(allow), "%s,%s/,%s,relative,/nonexistent-prefix", at("allowed/team"),
		 at("allowed"), at("link-prefix"));
	struct hostpath_prefix pre[8];
	struct err warn = {0}, e = {0};
	size_t n = hostpath_prefixes_open(allow, pre, 8, &warn);
	CHECK_INT(n, 3);
	CHECK(strstr(warn.msg, "skipped") != NULL);

	int fd = hostpath_open(pre, n, at("allowed/a"), false, &e);
	CHECK(fd >= 0 && same_inode(fd, at("allowed/a")));
	close(fd);
	/* The prefix itself, and a regular file. */
	fd = hostpath_open(pre, n, at("allowed"), false, &e);
	CHECK(fd >= 0 && same_inode(fd, at("allowed")));
	close(fd);
	fd = hostpath_open(pre, n, at("allowed/f"), false, &e);
	CHECK(fd >= 0 && same_inode(fd, at("allowed/f")));
	close(fd);
	/* Links below a prefix are refused, even ones that stay inside; nothing is made through
	 * one. */
	CHECK_INT(hostpath_open(pre, n, at("allowed/esc"), false, &e), -ELOOP);
	CHECK(strstr(e.msg, "allowed/esc is a symbolic link") != NULL);
	CHECK_INT(hostpath_open(pre, n, at("allowed/inner"), false, &e), -ELOOP);
	char made[PATH_MAX * 2];
	snprintf(made, sizeof(made), "%s/esc/tmp/hostpath-made-%d", at("allowed"), (int)getpid());
	CHECK_INT(hostpath_open(pre, n, made, true, &e), -ELOOP);
	snprintf(made, sizeof(made), "/tmp/hostpath-made-%d", (int)getpid());
	CHECK(access(made, F_OK) != 0);
	/* Missing directories: created only when asked. */
	CHECK_INT(hostpath_open(pre, n, at("allowed/new/deep"), false, &e), -ENOENT);
	CHECK(access(at("allowed/new"), F_OK) != 0);
	fd = hostpath_open(pre, n, at("allowed/new/deep"), true, &e);
	CHECK(fd >= 0 && same_inode(fd, at("allowed/new/deep")));
	close(fd);
	/* Not a directory, not a file, bad names. */
	CHECK_INT(hostpath_open(pre, n, at("allowed/f/x"), true, &e), -ENOTDIR);
	CHECK_INT(hostpath_open(pre, n, at("allowed/fifo"), false, &e), -EINVAL);
	CHECK_INT(hostpath_open(pre, n, at("allowed/./a"), false, &e), -EINVAL);
	CHECK_INT(hostpath_open(pre, n, at("allowed/a/../a"), false, &e), -EINVAL);
	char longname[PATH_MAX * 2];
	snprintf(longname, sizeof(longname), "%s/%0300d", at("allowed"), 0);
	CHECK_INT(hostpath_open(pre, n, longname, false, &e), -ENAMETOOLONG);
	/* Outside every prefix, or only sharing its first letters. */
	CHECK_INT(hostpath_open(pre, n, at("real"), false, &e), -EPERM);
	CHECK_INT(hostpath_open(pre, n, at("allowedx"), false, &e), -EPERM);
	CHECK(!hostpath_allowed(pre, n, "/etc"));
	CHECK(hostpath_allowed(pre, n, at("allowed/zzz")));
	CHECK_INT(hostpath_open(pre, 0, "/etc", false, &e), -EPERM);
	CHECK(strstr(e.msg, "none is configured") != NULL);
	/* An administrator's prefix may be a link: followed once, at start-up. */
	fd = hostpath_open(pre, n, at("link-prefix/d"), false, &e);
	CHECK(fd >= 0 && same_inode(fd, at("real/d")));
	close(fd);

	/* A nested prefix swapped for a link after start-up: the walk starts from the
	 * descriptor opened then, so the link is never followed. */
	CHECK_INT(rename(at("allowed/team"), at("allowed/team.old")), 0);
	CHECK_INT(symlink("/etc", at("allowed/team")), 0);
	snprintf(made, sizeof(made), "%s/hostpath-made-%d", at("allowed/team"), (int)getpid());
	fd = hostpath_open(pre, n, made, true, &e);
	CHECK(fd >= 0);
	snprintf(made, sizeof(made), "%s/hostpath-made-%d", at("allowed/team.old"), (int)getpid());
	CHECK(fd >= 0 && same_inode(fd, made));
	snprintf(made, sizeof(made), "/etc/hostpath-made-%d", (int)getpid());
	CHECK(access(made, F_OK) != 0);
	if (fd >= 0)
		close(fd);
	hostpath_prefixes_close(pre, n);
}

TEST(hostpath_stage_binds_the_descriptor)
{
	fixture();
	mkdir(at("stagesrc"), 0755);
	int fd = open(at("stagesrc"), O_PATH | O_DIRECTORY);
	CHECK(fd >= 0);
	/* Swapped after the descriptor was taken: the stage is still the original. */
	CHECK_INT(rename(at("stagesrc"), at("stagesrc.moved")), 0);
	CHECK_INT(symlink("/etc", at("stagesrc")), 0);
	struct err e = {0};
	CHECK_INT(hostpath_stage(fd, at("stage-dir"), &e), 0);
	CHECK(same_inode(fd, at("stage-dir")));
	int w = open(at("stage-dir/written"), O_CREAT | O_WRONLY, 0644);
	CHECK(w >= 0);
	if (w >= 0)
		close(w);
	CHECK(access(at("stagesrc.moved/written"), F_OK) == 0);
	close(fd);
	hostpath_unstage(at("stage-dir"));
	CHECK(access(at("stage-dir"), F_OK) != 0);
	/* A regular file is staged on an empty file. */
	fd = open(at("allowed/f"), O_PATH);
	CHECK_INT(hostpath_stage(fd, at("stage-file"), &e), 0);
	CHECK(same_inode(fd, at("stage-file")));
	close(fd);
	hostpath_unstage(at("stage-file"));
	CHECK(access(at("stage-file"), F_OK) != 0);
}
