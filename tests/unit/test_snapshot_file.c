// SPDX-License-Identifier: Apache-2.0
/* sandbox-api's snapshots file: what a restart reads back, and what a hand-made file cannot do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot_int.h"
#include "unit.h"

/* A file of n records with ids 00000000-...-<i> (two of them twice), for sandbox "ab". */
static void write_records(const char *path, int n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fputs("{\"version\":1,\"snapshots\":[", f);
	for (int i = 0; i < n; i++)
		fprintf(f,
			"%s{\"id\":\"00000000-0000-4000-8000-%012d\",\"sandboxId\":\"ab\","
			"\"state\":\"Ready\",\"image\":\"opensandbox-snapshots:x\",\"createdUs\":%"
			"d}",
			i ? "," : "", i < 2 ? 0 : i, i);
	fputs("]}", f);
	fclose(f);
}

TEST(snapshot_file_load_bounded)
{
	char dir[] = "/tmp/snapfile.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	struct snapshots ss = {0};
	snprintf(ss.path, sizeof(ss.path), "%s/snapshots.json", dir);
	struct err e = {0};
	CHECK_INT(snapshots_load(&ss, &e), 0); /* no file: no snapshots */
	CHECK_INT((int)ss.n, 0);

	/* Past the limit a hand-made file is cut, not grown: the server keeps no more than it
	 * makes. */
	write_records(ss.path, SNAPSHOT_MAX + 100);
	CHECK_INT(snapshots_load(&ss, &e), 0);
	CHECK_INT((int)ss.n, SNAPSHOT_MAX);
	CHECK_STR(ss.v[0]->id, "00000000-0000-4000-8000-000000000000");
	CHECK_STR(ss.v[1]->id, "00000000-0000-4000-8000-000000000002"); /* the twin is skipped */
	CHECK_INT((int)ss.v[1]->created_us, 2);
	CHECK_INT(ss.v[1]->state, SNAP_READY);

	/* What is saved reads back the same. */
	CHECK_INT(snapshots_save(&ss, &e), 0);
	struct snapshots back = {0};
	memcpy(back.path, ss.path, sizeof(back.path));
	CHECK_INT(snapshots_load(&back, &e), 0);
	CHECK_INT((int)back.n, SNAPSHOT_MAX);
	CHECK_STR(back.v[SNAPSHOT_MAX - 1]->id, ss.v[SNAPSHOT_MAX - 1]->id);
	snapshots_clear(&back);
	snapshots_clear(&ss);

	/* Not a snapshots file: an error that says what to do, nothing loaded. */
	FILE *f = fopen(ss.path, "w");
	CHECK(f != NULL);
	fputs("[1,2]", f);
	fclose(f);
	CHECK(snapshots_load(&ss, &e) < 0);
	CHECK(strstr(e.msg, "not a snapshots file") != NULL);
	CHECK_INT((int)ss.n, 0);
	unlink(ss.path);
	rmdir(dir);
}
