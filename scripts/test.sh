#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every test suite and prints one combined summary line at the end:
#   1. the fuzz corpora replayed under ASan/UBSan (one check per target),
#   2. the C unit tests (build/test/unit),
#   3. each integration suite tests/integration/*.sh (executable; each ends
#      with its own "N passed, N failed[, N skipped]" line (tests/integration/lib.sh),
#      or exits 77 to be skipped whole).
# Every suite's own exit status is taken (never a pipe's).
# Exit status: 0 only if nothing failed.
set -u
BUILD=${BUILD:-build}
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Adds the counts of a suite's "N passed, N failed[, N skipped]" line (or one fail if missing).
tally() {
	name=$1 rc=$2
	line=$(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name (exit $rc, no summary line)"
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name (exit $rc)"
		failed=$((failed + 1))
	fi
}

for t in ${FUZZ_TARGETS:-}; do
	if "$BUILD/test/replay_$t" "tests/fuzz/corpus/$t"; then
		passed=$((passed + 1))
	else
		echo "FAIL fuzz corpus replay: $t"
		failed=$((failed + 1))
	fi
done

"$BUILD/test/unit" >"$log" 2>&1
rc=$?
cat "$log"
tally unit "$rc"

for s in tests/integration/*.sh; do
	[ -x "$s" ] || continue
	echo "== $s"
	"$s" >"$log" 2>&1
	rc=$?
	cat "$log"
	if [ "$rc" -eq 77 ]; then
		echo "skip $s"
		skipped=$((skipped + 1))
		continue
	fi
	tally "$s" "$rc"
done

echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
