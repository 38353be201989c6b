#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Chaos: hundreds of concurrent hostile clients (tests/chaos/chaos.c) against
# execd, egressd's policy API and sandbox-api with its server proxy: valid,
# truncated and garbage requests, resets before the head, mid-body,
# mid-response and after an upgrade. The servers are the ASan/UBSan builds
# (and execd's release build for its memory) while two busy loops hold both
# cores. Each server must still answer afterwards, with no sanitizer report,
# and its fd count and RSS back within a small margin of where they stood
# after a warm-up round. Ends with "chaos: N passed, N failed[, N skipped]".
#   CHAOS_SECONDS (main round per server, default 20), CHAOS_CONNS (default 200)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
B="$top/${BUILD:-build}"
chaos="$B/test/chaos"
secs=${CHAOS_SECONDS:-20}
conns=${CHAOS_CONNS:-200}
work=$(mktemp -d)
ns=""
pids=""
cleanup() {
	cpu_hogs_stop
	# The sandbox first, while its server still runs; then anything left with our label.
	[ -n "${sbx:-}" ] && curl -s -o /dev/null -X DELETE -H "OPEN-SANDBOX-API-KEY: k" "http://127.0.0.1:$aport/v1/sandboxes/$sbx"
	for p in $pids; do kill "$p" 2>/dev/null; done
	docker ps -aq --filter "label=opensandbox.io/instance=chaos-$$" 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
[ -x "$chaos" ] || { echo "chaos: $chaos not built"; echo "chaos: 0 passed, 1 failed"; exit 1; }

# Waits (at most 10 s) until PID's fd count holds still for a second: the
# connections a round left behind have been accepted and closed.
settle() {
	last=-1
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		now=$(${FDS_OF:-fd_count} "$1")
		[ "$now" = "$last" ] && return 0
		last=$now
		sleep 1
	done
}

# round NAME PID FD_MARGIN RSS_MARGIN_KIB PROBE CHAOS...: a warm-up round, the
# measure, the main round, then the server must answer PROBE and be back.
round() {
	name=$1 pid=$2 fdm=$3 rssm=$4 probe=$5
	shift 5
	"$@" --seconds 3 --conns "$conns" >/dev/null 2>&1
	settle "$pid"
	fd0=$(${FDS_OF:-fd_count} "$pid") rss0=$(rss_kib "$pid")
	watcher=""
	if [ -n "${CHAOS_WATCH:-}" ]; then # make soak: fds and RSS over time
		(t=0; while kill -0 "$pid" 2>/dev/null; do
			echo "  $name: t+${t}s fds $(fd_count "$pid") RSS $(rss_kib "$pid") KiB"
			sleep "$CHAOS_WATCH"; t=$((t + CHAOS_WATCH)); done) &
		watcher=$!
	fi
	out=$("$@" --seconds "$secs" --conns "$conns" 2>&1)
	rc=$?
	[ -n "$watcher" ] && kill "$watcher" 2>/dev/null
	echo "  $out"
	wait_fds "$pid" $((fd0 + fdm))
	settle "$pid"
	fd1=$(${FDS_OF:-fd_count} "$pid") rss1=$(rss_kib "$pid")
	echo "  $name: fds $fd0 -> $fd1, RSS $rss0 -> $rss1 KiB (after warm-up -> after ${secs}s at $conns connections)"
	if [ $rc -eq 0 ]; then ok "$name: chaos round ran, nothing refused, answers came back"; else ko "$name: chaos round (exit $rc)"; fi
	check "$name: still answers" "$probe"
	check "$name: fd count back (within $fdm)" test "${fd1:-999}" -le $((${fd0:-0} + fdm))
	check "$name: RSS back (within $rssm KiB)" test "${rss1:-999999999}" -le $((${rss0:-0} + rssm))
}

cpu_hogs_start 400
ulimit -n 65536 2>/dev/null || true # room for 1,000 clients and their upstreams (make soak)
# The sanitizer builds halt on the first report; a small quarantine keeps RSS readable.
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:quarantine_size_mb=16
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# --- execd ------------------------------------------------------------------
head -c 8000000 /dev/urandom >"$work/big"
for flavour in san release; do
	bin="$B/test/execd-san"
	[ $flavour = release ] && bin="$B/bin/execd"
	port=$(free_port)
	TMPDIR="$work" EXECD_ACCESS_TOKEN=tok "$bin" --port "$port" >"$work/execd-$flavour.out" 2>"$work/execd-$flavour.err" &
	pid=$!
	pids="$pids $pid"
	if ! wait_http "http://127.0.0.1:$port/ping" -H "X-EXECD-ACCESS-TOKEN: tok"; then
		ko "execd ($flavour) did not start"
		continue
	fi
	sid=$(curl -s -X POST -H "X-EXECD-ACCESS-TOKEN: tok" -d '{}' "http://127.0.0.1:$port/pty" |
		sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p')
	margin=65536
	[ $flavour = release ] && margin=4096
	probe_execd() { curl -fs --max-time 5 -o /dev/null -H "X-EXECD-ACCESS-TOKEN: tok" "http://127.0.0.1:$port/ping"; }
	round "execd ($flavour)" $pid 2 $margin probe_execd \
		"$chaos" --target "127.0.0.1:$port" --profile execd --upstream 0 --file "$work/big" --dir "$work" \
		--id "${sid:-none}" --header "X-EXECD-ACCESS-TOKEN: tok"
	check_not "execd ($flavour): no sanitizer report" sanitizer_report "$work/execd-$flavour.err"
	sanitizer_report "$work/execd-$flavour.err"
	kill $pid 2>/dev/null
done

# --- egressd's policy API, in a namespace of its own ------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	skip "egressd: needs root and iproute2"
else
	ns="chaos-$$"
	ip netns add "$ns" && ip -n "$ns" link set lo up
	ip netns exec "$ns" env OPENSANDBOX_EGRESS_MODE=dns OPENSANDBOX_EGRESS_TOKEN=tok \
		OPENSANDBOX_EGRESS_DNS_UPSTREAM=127.0.0.53 OPENSANDBOX_EGRESS_HTTP_ADDR=127.0.0.1:18080 \
		OPENSANDBOX_EGRESS_POLICY_FILE="$work/policy.json" \
		"$B/test/egressd-san" >"$work/egressd.out" 2>"$work/egressd.err" &
	pid=$!
	pids="$pids $pid"
	i=0
	until ip netns exec "$ns" curl -fs -o /dev/null http://127.0.0.1:18080/healthz; do
		i=$((i + 1))
		[ $i -gt 100 ] && break
		sleep 0.05
	done
	# The process in the namespace is egressd itself (env execs it).
	probe_egress() { ip netns exec "$ns" curl -fs --max-time 5 -o /dev/null http://127.0.0.1:18080/healthz; }
	round "egressd (san)" $pid 2 65536 probe_egress \
		ip netns exec "$ns" "$chaos" --target 127.0.0.1:18080 --profile egress \
		--header "OPENSANDBOX-EGRESS-AUTH: tok"
	check_not "egressd (san): no sanitizer report" sanitizer_report "$work/egressd.err"
	sanitizer_report "$work/egressd.err"
fi

# --- sandbox-api and its server proxy, on the local dockerd -----------------
if ! docker info >/dev/null 2>&1; then
	skip "sandbox-api: no dockerd"
elif ! docker image inspect sandbox/base:latest >/dev/null 2>&1 && ! sh "$top/scripts/images.sh" >/dev/null 2>&1; then
	skip "sandbox-api: images could not be built"
else
	aport=$(free_port)
	OPENSANDBOX_SERVER_API_KEY=k "$B/test/api-san" --host 127.0.0.1 --port "$aport" \
		--state-dir "$work/state" --pull-policy never --instance "chaos-$$" \
		>"$work/api.out" 2>"$work/api.err" &
	pid=$!
	pids="$pids $pid"
	wait_http "http://127.0.0.1:$aport/health"
	sbx=$(curl -s -X POST -H "OPEN-SANDBOX-API-KEY: k" -H "Content-Type: application/json" \
		-d '{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sleep","600"],"timeout":600,"resourceLimits":{}}' \
		"http://127.0.0.1:$aport/v1/sandboxes" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
	probe_api() { curl -fs --max-time 5 -o /dev/null -H "OPEN-SANDBOX-API-KEY: k" "http://127.0.0.1:$aport/sandboxes/$sbx/proxy/44772/ping"; }
	i=0
	until probe_api; do
		i=$((i + 1))
		[ $i -gt 200 ] && break
		sleep 0.1
	done
	check "sandbox-api: a sandbox answers through the server proxy" probe_api
	# A 4 MB file inside the sandbox for the proxy to stream out.
	curl -s -o /dev/null -H "OPEN-SANDBOX-API-KEY: k" -H "Content-Type: application/json" \
		-d '{"command":"head -c 4000000 /dev/urandom > /tmp/big"}' \
		"http://127.0.0.1:$aport/sandboxes/$sbx/proxy/44772/command"
	# Idle pooled upstreams are counted out: they may rightly stay for 90 s.
	FDS_OF=api_fds API_FDS_URL="http://127.0.0.1:$aport" API_FDS_KEY=k \
		round "sandbox-api (san)" $pid 4 65536 probe_api \
		"$chaos" --target "127.0.0.1:$aport" --profile api --id "$sbx" --file /tmp/big \
		--header "OPEN-SANDBOX-API-KEY: k"
	check_not "sandbox-api (san): no sanitizer report" sanitizer_report "$work/api.err"
	sanitizer_report "$work/api.err"
fi
summary chaos
