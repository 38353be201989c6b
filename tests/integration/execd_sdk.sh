#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Starts execd on a free loopback port and drives it with the official
# OpenSandbox JS SDK (node's test runner), twice: the static release binary,
# then the ASan/UBSan build, where any sanitizer report fails the run.
# Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
sdk="$top/tests/integration/sdk"
if [ -z "${EXECD_BIN:-}" ]; then
	rc=0
	EXECD_BIN="$top/build/bin/execd" "$0" >"${TMPDIR:-/tmp}/execd_sdk.$$" 2>&1 || rc=1
	cat "${TMPDIR:-/tmp}/execd_sdk.$$"
	p1=$(sed -n 's/^sdk: \([0-9]*\) passed, \([0-9]*\) failed/\1/p' "${TMPDIR:-/tmp}/execd_sdk.$$")
	f1=$(sed -n 's/^sdk: \([0-9]*\) passed, \([0-9]*\) failed/\2/p' "${TMPDIR:-/tmp}/execd_sdk.$$")
	EXECD_BIN="$top/build/test/execd-san" "$0" >"${TMPDIR:-/tmp}/execd_sdk.$$" 2>&1 || rc=1
	cat "${TMPDIR:-/tmp}/execd_sdk.$$"
	p2=$(sed -n 's/^sdk: \([0-9]*\) passed, \([0-9]*\) failed/\1/p' "${TMPDIR:-/tmp}/execd_sdk.$$")
	f2=$(sed -n 's/^sdk: \([0-9]*\) passed, \([0-9]*\) failed/\2/p' "${TMPDIR:-/tmp}/execd_sdk.$$")
	rm -f "${TMPDIR:-/tmp}/execd_sdk.$$"
	echo "execd: $((${p1:-0} + ${p2:-0})) passed, $((${f1:-1} + ${f2:-1})) failed"
	exit $rc
fi
bin=$EXECD_BIN
echo "== $bin"
[ -x "$bin" ] || { echo "execd_sdk: $bin not built"; echo "sdk: 0 passed, 1 failed"; exit 1; }
if [ ! -d "$sdk/node_modules/@alibaba-group/opensandbox" ]; then
	(cd "$sdk" && npm install --no-audit --no-fund --silent) || {
		echo "execd_sdk: npm install failed"; echo "0 passed, 1 failed"; exit 1; }
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + $$ % 20000)))
token=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '# for /command\nFROM_ENVS_FILE=file-value\n' >"$work/envs"
# The sanitizer build reports to stderr (into the log) and stops at the first report.
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	TMPDIR="$work" EXECD_ENVS="$work/envs" EXECD_ACCESS_TOKEN="$token" EXECD_LOG_FILE="$work/execd.log" \
	"$bin" --port "$port" \
	2>"$work/execd.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
i=0
while [ $i -lt 50 ]; do
	curl -fs -o /dev/null -H "X-EXECD-ACCESS-TOKEN: $token" "http://127.0.0.1:$port/ping" && break
	sleep 0.1
	i=$((i + 1))
done
out="$work/node.out"
EXECD_URL="127.0.0.1:$port" EXECD_TOKEN="$token" timeout 300 node --test --test-reporter=tap \
	"$sdk/execd.test.mjs" "$sdk/pty.test.mjs" "$sdk/robust.test.mjs" >"$out" 2>&1
rc=$?
grep -E '^(not ok|ok) |^# (pass|fail)' "$out" | sed 's/^/  /'
if [ $rc -ne 0 ]; then
	echo "--- node output ---"
	tail -n 80 "$out"
	echo "--- execd log (tail) ---"
	tail -n 20 "$work/execd.log"
fi
pass=$(sed -n 's/^# pass //p' "$out" | tail -n 1)
fail=$(sed -n 's/^# fail //p' "$out" | tail -n 1)
fail=${fail:-1}
if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$work/execd.err"; then
	echo "--- sanitizer report ---"
	grep -E -A40 "ERROR: AddressSanitizer|runtime error:" "$work/execd.err" | head -60
	fail=$((fail + 1))
	rc=1
fi
echo "sdk: ${pass:-0} passed, $fail failed"
[ $rc -eq 0 ]
