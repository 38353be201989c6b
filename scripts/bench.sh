#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every benchmark: build/bench/bench_* programs and tests/bench/*.sh
# scripts. Each prints its own figures and ratios against its named peer.
set -u
BUILD=${BUILD:-build}
rc=0
for b in "$BUILD"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "== $b"
	"$b" || rc=1
done
for s in tests/bench/*.sh; do
	[ -x "$s" ] || continue
	echo "== $s"
	"$s" || rc=1
done
exit $rc
