#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs libFuzzer targets one after another (one core each, never at once):
#   fuzz.sh [-k] SECONDS TARGET...
# Each build/fuzz/fuzz_<t> grows its work corpus build/fuzz/corpus_<t>, seeded
# from tests/fuzz/corpus/<t>; its log is build/fuzz/<t>.log and a crashing input
# is saved as build/fuzz/<t>-crash-* (leak-*, timeout-*, oom-*).
# Without -k the first crash stops the run. With -k every target still runs
# and all crashes are listed at the end. Exit status: 0 only if none crashed.
set -u
BUILD=${BUILD:-build}
keep_going=0
if [ "${1:-}" = "-k" ]; then
	keep_going=1
	shift
fi
seconds=$1
shift
crashed=""
summary=""

for t in "$@"; do
	work=$BUILD/fuzz/corpus_$t
	log=$BUILD/fuzz/$t.log
	mkdir -p "$work"
	echo "fuzz: $t for $seconds s"
	# A single input that takes 10 s is a bug (a hang), not slowness.
	"$BUILD/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$BUILD/fuzz/$t-" "$work" "tests/fuzz/corpus/$t" 2>"$log"
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
	line=$(printf '%-10s %12s execs %6s MB peak RSS' "$t" "${execs:-?}" "${rss:-?}")
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log"
		artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		line="$line  CRASHED (exit $rc) ${artifact:-see $log}"
		crashed="$crashed $t"
	fi
	echo "$line"
	summary="$summary$line
"
	if [ "$rc" -ne 0 ] && [ "$keep_going" -eq 0 ]; then
		exit 1
	fi
done

printf '\nfuzz summary (%s s per target):\n%s' "$seconds" "$summary"
if [ -n "$crashed" ]; then
	echo "crashed:$crashed"
	exit 1
fi
echo "no crashes"
