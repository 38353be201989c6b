#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sandbox-api benchmarks on the local dockerd (busybox scratch image):
#  1. SDK Sandbox.create -> ready, median of 20, against the limit measured in
#     the same run: raw Engine API create + PUT archive (execd) + start + execd
#     /ping, by curl on the unix socket (goal <= 1.15x).
#  2. 50 concurrent SDK creates: success rate, p50/p99.
#  3. GET /v1/sandboxes (pageSize 200) with 200 live sandboxes: latency; the
#     server's peak RSS (goal <= 4 MiB).
# Every container made here is labelled run=<id> and removed at the end.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
sdk="$top/tests/integration/sdk"
curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1 ||
	{ echo "api bench: skip (dockerd is not running)"; exit 0; }
sh "$top/scripts/images.sh" >/dev/null || exit 1
# A fresh clone has no node_modules: the SDK comes from npm, pinned by the lock file.
if [ ! -d "$sdk/node_modules/@alibaba-group/opensandbox" ]; then
	(cd "$sdk" && npm ci --no-audit --no-fund --silent) || { echo "api bench: npm ci failed"; exit 1; }
fi
bin="$top/build/bin/sandbox-api"
image=sandbox/base:latest
work=$(mktemp -d)
run_id="apibench-$$"
key=bench-key
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	docker ps -aq --filter "label=run=$run_id" | xargs -r docker rm -f >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
OPENSANDBOX_SERVER_API_KEY=$key "$bin" --host 127.0.0.1 --port "$port" --state-dir "$work/state" \
	--pull-policy never --log-level warn --instance "$run_id" 2>"$work/server.log" &
pid=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/health"; do sleep 0.05; done
stats() { python3 -c 'import sys,json,statistics
ms=sorted(json.load(sys.stdin)["ms"]); n=len(ms)
p=lambda q: ms[min(n-1,int(q*n))] if n else 0
print("%d %.1f %.1f %.1f" % (n, statistics.median(ms) if n else 0, p(0.99), max(ms) if n else 0))'; }

# 1a. The limit: raw Engine API calls by curl, the same work the server does.
mkdir -p "$work/root/opt/opensandbox"
cp "$top/build/bin/execd" "$top/images/bootstrap.sh" "$work/root/opt/opensandbox/"
tar -C "$work/root" -cf "$work/inject.tar" opt
raw_ms=""
# The same container the server makes: two published ports, the hardening, the SDK's default limits.
for i in $(seq 1 20); do
	hp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])')
	hp2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])')
	t0=$(date +%s%N)
	cid=$(curl -s --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' \
		-d "{\"Image\":\"$image\",\"Entrypoint\":[\"/opt/opensandbox/bootstrap.sh\"],\"Cmd\":[\"sleep\",\"600\"],\"Labels\":{\"run\":\"$run_id\"},\"ExposedPorts\":{\"44772/tcp\":{},\"8080/tcp\":{}},\"HostConfig\":{\"PortBindings\":{\"44772/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"$hp\"}],\"8080/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"$hp2\"}]},\"SecurityOpt\":[\"no-new-privileges:true\"],\"CapDrop\":[\"AUDIT_WRITE\",\"MKNOD\",\"NET_ADMIN\",\"NET_RAW\",\"SYS_ADMIN\",\"SYS_MODULE\",\"SYS_PTRACE\",\"SYS_TIME\",\"SYS_TTY_CONFIG\"],\"PidsLimit\":4096,\"Memory\":2147483648,\"NanoCpus\":1000000000}}" \
		http://localhost/containers/create | python3 -c 'import sys,json; print(json.load(sys.stdin)["Id"])')
	curl -s --unix-socket /var/run/docker.sock -X PUT -H 'Content-Type: application/x-tar' \
		--data-binary @"$work/inject.tar" "http://localhost/containers/$cid/archive?path=/" >/dev/null
	curl -s --unix-socket /var/run/docker.sock -X POST "http://localhost/containers/$cid/start" >/dev/null
	until curl -fs -o /dev/null "http://127.0.0.1:$hp/ping"; do sleep 0.01; done
	t1=$(date +%s%N)
	raw_ms="$raw_ms$(( (t1 - t0) / 1000000 )),"
	curl -s --unix-socket /var/run/docker.sock -X DELETE "http://localhost/containers/$cid?force=1" >/dev/null
done
raw=$(echo "{\"ms\":[${raw_ms%,}]}" | stats)
# 1b. The SDK through sandbox-api.
API_DOMAIN="127.0.0.1:$port" API_KEY=$key IMAGE=$image RUN_ID=$run_id BENCH=ready N=20 \
	node "$sdk/api.bench.mjs" >"$work/ready.json" || { cat "$work/ready.json"; exit 1; }
sdkr=$(stats <"$work/ready.json")
set -- $raw
raw_med=$2
set -- $sdkr
sdk_med=$2
ratio=$(python3 -c "print('%.2f' % ($sdk_med / $raw_med))")
echo "create->ready (median of 20): SDK via sandbox-api ${sdk_med} ms; raw Engine API + ping ${raw_med} ms; ratio ${ratio}x (goal <= 1.15x)"

# 2. 50 concurrent creates.
API_DOMAIN="127.0.0.1:$port" API_KEY=$key IMAGE=$image RUN_ID=$run_id BENCH=burst N=50 \
	node "$sdk/api.bench.mjs" >"$work/burst.json" || { cat "$work/burst.json"; exit 1; }
okn=$(python3 -c 'import sys,json; print(json.load(open(sys.argv[1]))["ok"])' "$work/burst.json")
set -- $(stats <"$work/burst.json")
echo "50 concurrent creates: $okn/50 ready; p50 $2 ms, p99 $3 ms"
python3 -c 'import sys,json; e=json.load(open(sys.argv[1]))["errors"]; print("  errors:", e[:3]) if e else None' "$work/burst.json"

# 3. 200 live sandboxes (the 50 above + 150 more created through the API, not waited for).
# (Waiting for the curls by pid: a bare `wait` would also wait for the server.)
curls=""
for i in $(seq 1 150); do
	curl -s -o /dev/null -H "OPEN-SANDBOX-API-KEY: $key" \
		-d "{\"image\":{\"uri\":\"$image\"},\"entrypoint\":[\"sleep\",\"600\"],\"resourceLimits\":{},\"timeout\":600,\"metadata\":{\"run\":\"$run_id\"}}" \
		"http://127.0.0.1:$port/v1/sandboxes" &
	curls="$curls $!"
	if [ $((i % 25)) -eq 0 ]; then
		for c in $curls; do wait "$c"; done
		curls=""
	fi
done
i=0
while [ "$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes?state=Pending&pageSize=1" |
	python3 -c 'import sys,json; print(json.load(sys.stdin)["pagination"]["totalItems"])')" -gt 0 ] && [ $i -lt 300 ]; do
	sleep 1
	i=$((i + 1))
done
pending=$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes?state=Pending&pageSize=1" |
	python3 -c 'import sys,json; print(json.load(sys.stdin)["pagination"]["totalItems"])')
[ "$pending" -gt 0 ] && echo "  WARNING: $pending sandboxes still Pending after ${i} s"
total=$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes?pageSize=1" |
	python3 -c 'import sys,json; print(json.load(sys.stdin)["pagination"]["totalItems"])')
lat=""
for i in $(seq 1 50); do
	t=$(curl -s -o /dev/null -w '%{time_total}' -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes?pageSize=200")
	lat="$lat$(python3 -c "print(round($t*1000,2))"),"
done
set -- $(echo "{\"ms\":[${lat%,}]}" | stats)
rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "GET /v1/sandboxes?pageSize=200 with $total live sandboxes: median $2 ms, p99 $3 ms (curl, 50 requests)"
echo "sandbox-api peak RSS: $((rss / 1024)).$(((rss % 1024) * 10 / 1024)) MiB (VmHWM; goal <= 4 MiB)"
