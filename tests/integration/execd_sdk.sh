#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Starts the release execd on a free loopback port and drives it with the
# official OpenSandbox JS SDK (node's test runner). Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin="$top/build/bin/execd"
sdk="$top/tests/integration/sdk"
[ -x "$bin" ] || { echo "execd_sdk: $bin not built"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -d "$sdk/node_modules/@alibaba-group/opensandbox" ]; then
	(cd "$sdk" && npm install --no-audit --no-fund --silent) || {
		echo "execd_sdk: npm install failed"; echo "0 passed, 1 failed"; exit 1; }
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + $$ % 20000)))
token=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
TMPDIR="$work" EXECD_ACCESS_TOKEN="$token" EXECD_LOG_FILE="$work/execd.log" "$bin" --port "$port" &
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
	"$sdk/execd.test.mjs" "$sdk/pty.test.mjs" >"$out" 2>&1
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
echo "sdk: ${pass:-0} passed, ${fail:-1} failed"
[ $rc -eq 0 ]
