#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fresh-clone proof: clones HEAD into a temporary folder and runs `make test`
# there N times (default 3), each beside two busy loops holding both cores
# unless CI_REPEAT_LOAD=0, printing every run's summary line, its time and the
# load average. Exit status: 0 only if every run was green.
#   usage: scripts/ci-repeat.sh [N]
set -u
n=${1:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/integration/lib.sh" # cpu_hogs_start/stop
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
git clone -q "$top" "$dir/repo" || exit 1
cd "$dir/repo" || exit 1
echo "ci-repeat: $(git rev-parse --short HEAD), $n runs in $dir/repo"
rc=0
i=1
while [ "$i" -le "$n" ]; do
	[ "${CI_REPEAT_LOAD:-1}" != 0 ] && cpu_hogs_start 3600
	t0=$(date +%s)
	make test >"$dir/run$i.log" 2>&1
	r=$?
	t1=$(date +%s)
	cpu_hogs_stop
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dir/run$i.log" | tail -n 1)
	echo "run $i: ${line:-no summary} (exit $r, $((t1 - t0)) s, load $(cut -d' ' -f1-3 /proc/loadavg))"
	if [ $r -ne 0 ]; then
		rc=1
		grep -E "FAIL|not ok" "$dir/run$i.log" | head -n 20
		cp "$dir/run$i.log" "${TMPDIR:-/tmp}/ci-repeat-run$i.log" && echo "  log: ${TMPDIR:-/tmp}/ci-repeat-run$i.log"
	fi
	i=$((i + 1))
done
exit $rc
