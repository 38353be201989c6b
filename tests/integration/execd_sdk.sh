#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Starts execd on a free loopback port and drives it with the official
# OpenSandbox JS SDK (node's test runner), twice: the static release binary,
# then the ASan/UBSan build, where any sanitizer report fails the run.
# Ends with "execd: N passed, N failed[, N skipped]" (tests/integration/lib.sh).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
sdk="$top/tests/integration/sdk"
. "$top/tests/integration/lib.sh"
if [ -z "${EXECD_BIN:-}" ]; then
	each_flavour execd EXECD_BIN "$top/${BUILD:-build}/bin/execd" "$top/${BUILD:-build}/test/execd-san"
	exit $?
fi
bin=$EXECD_BIN
echo "== $bin"
[ -x "$bin" ] || { ko "$bin not built"; summary run; exit 1; }
if [ ! -d "$sdk/node_modules/@alibaba-group/opensandbox" ]; then
	(cd "$sdk" && npm ci --no-audit --no-fund --silent) || { ko "npm ci failed"; summary run; exit 1; }
fi
work=$(mktemp -d)
port=$(free_port)
token=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '# for /command\nFROM_ENVS_FILE=file-value\n' >"$work/envs"
# The sanitizer build reports to stderr (into the log) and stops at the first report.
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	TMPDIR="$work" EXECD_ENVS="$work/envs" EXECD_ACCESS_TOKEN="$token" EXECD_LOG_FILE="$work/execd.log" \
	"$bin" --port "$port" \
	2>"$work/execd.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
wait_http "http://127.0.0.1:$port/ping" -H "X-EXECD-ACCESS-TOKEN: $token" || ko "execd did not answer /ping"
out="$work/node.out"
EXECD_URL="127.0.0.1:$port" EXECD_TOKEN="$token" EXECD_PID=$pid timeout 300 node --test --test-reporter=tap \
	"$sdk/execd.test.mjs" "$sdk/pty.test.mjs" "$sdk/robust.test.mjs" >"$out" 2>&1
rc=$?
tap_count "$out" $rc
if [ $rc -ne 0 ]; then
	echo "--- execd log (tail) ---"
	tail -n 20 "$work/execd.log"
fi
sanitizer_report "$work/execd.err" && ko "sanitizer report from $bin"
summary run
