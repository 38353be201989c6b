#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The ingress gateway (api/gateway.c) on the local dockerd, ASan build of
# sandbox-api: sdk/gateway.test.mjs (route forms, WebSocket, errors, secure
# access, renew-on-access, route cookie, 20 sandboxes), then the official SDK
# through the gateway in each --gateway-route-mode (the server restarted in
# each; sandboxes survive restarts), then the chaos clients against the
# gateway. Containers are labelled with this run's instance and removed on exit.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
sdk="$top/tests/integration/sdk"
B=${BUILD:-build}
dockerd_up ||
	{ echo "skip: dockerd is not running"; exit 77; }
sh "$top/scripts/images.sh" >/dev/null || { ko "images.sh"; summary gateway; exit 1; }
[ -d "$sdk/node_modules/@alibaba-group/opensandbox" ] ||
	(cd "$sdk" && npm ci --no-audit --no-fund --silent) || { ko "npm ci"; summary gateway; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
bin="$top/$B/test/api-san"
work=$(mktemp -d)
run_id="gwtest-$$-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
sign_key=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	ids=$(docker ps -aq --filter "label=opensandbox.io/instance=$run_id")
	[ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
port=$(free_port)
gport=$(free_port)
start() { # start ROUTE_MODE ADDRESS
	OPENSANDBOX_SERVER_API_KEY=$key "$bin" --host 127.0.0.1 --port "$port" --state-dir "$work/state" \
		--pull-policy never --instance "$run_id" --gateway-listen "127.0.0.1:$gport" \
		--ingress-mode gateway --gateway-route-mode "$1" --gateway-address "$2" \
		--secure-access-keys "a:$sign_key" --secure-access-active-key a \
		--gateway-route-cookie --renew-min-interval 2 >>"$work/api.log" 2>&1 &
	pid=$!
	wait_http "http://127.0.0.1:$port/health" && wait_http "http://127.0.0.1:$gport/status.ok"
}
stop() {
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=""
}
check "server with the gateway starts" start header "127.0.0.1:$gport"
out="$work/gw.tap"
API_DOMAIN="127.0.0.1:$port" API_KEY=$key GW="127.0.0.1:$gport" IMAGE=sandbox/base:latest \
	RUN_ID=$run_id SIGN_KEY=$sign_key timeout 400 node --test --test-reporter=tap \
	"$sdk/gateway.test.mjs" >"$out" 2>&1
tap_count "$out" $?

# A secureAccess sandbox whose token must survive the restarts below.
api() { curl -s -H "OPEN-SANDBOX-API-KEY: $key" -H 'content-type: application/json' "$@"; }
jq1() { python3 -c 'import sys,json
d=json.load(sys.stdin)
for k in sys.argv[1].split("/"): d=d.get(k) if isinstance(d,dict) else None
print("" if d is None else d)' "$1"; }
sec=$(api -d '{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sh","-c","mkdir -p /www && echo s > /www/index.html && exec httpd -f -p 8080 -h /www"],"timeout":600,"resourceLimits":{},"secureAccess":true}' \
	"http://127.0.0.1:$port/v1/sandboxes" | jq1 id)
i=0
until [ "$(api "http://127.0.0.1:$port/v1/sandboxes/$sec" | jq1 status/state)" = Running ] || [ $i -gt 150 ]; do sleep 0.2; i=$((i + 1)); done
sec_tok=$(api "http://127.0.0.1:$port/v1/sandboxes/$sec/endpoints/8080" | jq1 headers/OpenSandbox-Secure-Access)

# The SDK through the gateway in each endpoint mode (one sandbox, kept across restarts).
sbx=""
for mode in header uri wildcard; do
	addr="127.0.0.1:$gport"
	[ $mode = wildcard ] && addr="*.gw.test:$gport"
	stop
	check "[$mode] restart with --gateway-route-mode $mode" start "$mode" "$addr"
	r=$(cd "$sdk" && API_DOMAIN="127.0.0.1:$port" API_KEY=$key IMAGE=sandbox/base:latest RUN_ID=$run_id \
		SANDBOX_ID=$sbx MODE=$mode timeout 120 node gateway_sdk.mjs 2>&1)
	echo "    $r"
	case "$r" in
	ok*) ok "[$mode] the SDK's commands and getEndpoint go through the gateway" ;;
	*) ko "[$mode] the SDK through the gateway" ;;
	esac
	[ -z "$sbx" ] && sbx=$(echo "$r" | sed -n 's/^ok \([0-9a-f-]*\).*/\1/p')
done
# After three restarts the secure sandbox keeps its token, and the gateway still asks for it.
now=$(api "http://127.0.0.1:$port/v1/sandboxes/$sec/endpoints/8080" | jq1 headers/OpenSandbox-Secure-Access)
[ -n "$sec_tok" ] && [ "$now" = "$sec_tok" ] && ok "secure-access token survives restarts" ||
	ko "secure-access token after restarts ($sec_tok -> $now)"
st() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(st -H "OpenSandbox-Ingress-To: $sec-8080" "http://127.0.0.1:$gport/")" = 401 ] &&
	[ "$(st -H "OpenSandbox-Ingress-To: $sec-8080" -H "OpenSandbox-Secure-Access: $sec_tok" "http://127.0.0.1:$gport/")" = 200 ] &&
	ok "after restarts: 401 without the token, 200 with it" || ko "secure access after restarts"

# The chaos clients (resets at every point, garbage, upgrades) against the gateway.
make -s -C "$top" BUILD="$B" "$B/test/chaos" >/dev/null 2>&1
if [ -x "$top/$B/test/chaos" ] && [ -n "$sbx" ]; then
	# Two rounds; a leak grows in each. Idle pooled upstream connections may
	# rightly stay (up to 100, for 90 s): they are counted out (api_fds, lib.sh).
	API_FDS_URL="http://127.0.0.1:$port" API_FDS_KEY=$key FDS_OF=api_fds
	fd0=$(api_fds "$pid")
	for round in 1 2; do
		"$top/$B/test/chaos" --target "127.0.0.1:$gport" --profile gateway --id "$sbx" --seconds 6 \
			--conns 64 >"$work/chaos$round.log" 2>&1
		wait_fds "$pid" $((fd0 + 8)) # closes still to do on a loaded machine
		eval "fd$round=\$(api_fds \"\$pid\")"
	done
	FDS_OF=
	check "chaos against the gateway: it still answers" curl -fs -o /dev/null "http://127.0.0.1:$gport/status.ok"
	[ "$fd2" -le $((fd1 + 8)) ] && ok "chaos: no fd growth from round 1 to 2 (fds other than idle pooled upstreams: $fd0 -> $fd1 -> $fd2)" ||
		ko "chaos: fds grew ($fd0 -> $fd1 -> $fd2)"
fi
stop
check_not "no sanitizer report" sanitizer_report "$work/api.log"
sanitizer_report "$work/api.log"
[ "$fail" -ne 0 ] && tail -n 30 "$work/api.log"
summary gateway
