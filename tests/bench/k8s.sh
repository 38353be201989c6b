#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Kubernetes runtime benchmarks on the emulator (tests/k8s), release build:
#   1. create -> ready with the official SDK (5 in a row) against the
#      emulator's own start time of the same pods (kubelet saw it -> Ready);
#   2. a list of 200 sandboxes from sandbox-api's cache against the API
#      server's own LIST of the same 200 BatchSandboxes (the peer), medians of
#      50 each; sandbox-api's RSS holding them (goal <= 4 MiB);
#   3. connections opened to the API server for all calls (goal: one, reused).
# The 200 are made straight in a second emulator without a kubelet (no
# containers). Loopback and containers made here only.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
sdk="$top/tests/integration/sdk"
emu_dir="$top/tests/k8s"
B=${BUILD:-build}
for t in node kubectl python3; do
	command -v $t >/dev/null || { echo "k8s bench: skip: $t not installed"; exit 0; }
done
curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1 ||
	{ echo "k8s bench: skip (dockerd is not running)"; exit 0; }
sh "$top/scripts/images.sh" >/dev/null || exit 1
for d in "$sdk" "$emu_dir"; do
	[ -d "$d/node_modules" ] || (cd "$d" && npm ci --no-audit --no-fund --silent) || exit 1
done
work=$(mktemp -d)
inst="k8sbench-$$"
key=bench-key
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
emulator() { # emulator NAME [--no-kubelet]: starts one, sets eport
	eport=$(free_port)
	node "$emu_dir/emulator.mjs" --listen "127.0.0.1:$eport" --state-dir "$work/$1" \
		--instance "$inst-$1" --namespace opensandbox ${2:-} >"$work/$1.log" 2>&1 &
	pids="$pids $!"
	i=0
	until grep -q '^k8s-emu ready' "$work/$1.log" 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
	KUBECONFIG="$work/$1/kubeconfig" kubectl apply -f "$top/deploy/kubernetes/crd-batchsandbox.yaml" >/dev/null
}
api() { # api NAME: sandbox-api on that emulator, sets port and apid
	port=$(free_port)
	OPENSANDBOX_SERVER_API_KEY=$key "$top/$B/bin/sandbox-api" --host 127.0.0.1 --port "$port" \
		--runtime kubernetes --kubeconfig "$work/$1/kubeconfig" --k8s-namespace opensandbox \
		--state-dir "$work/state-$1" --log-level warn --egress-disable-ipv6=false 2>"$work/api-$1.log" &
	apid=$!
	pids="$pids $apid"
	i=0
	until curl -fs -o /dev/null "http://127.0.0.1:$port/health" || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
ms() { python3 -c 'import time; print(int(time.time()*1000))'; }

# 1. create -> ready
emulator run
api run
out=$(cd "$sdk" && API_DOMAIN="127.0.0.1:$port" API_KEY=$key EMU_URL="https://127.0.0.1:$eport" \
	EMU_ADMIN=$(cat "$work/run/admin-token") N=5 node k8s.bench.mjs 2>&1 | tail -n 1)
echo "create -> ready (5 in a row, medians): $out" | python3 -c '
import sys, json
line = sys.stdin.read().strip()
pre, js = line.split(": ", 1)
try:
    d = json.loads(js)
    print("create -> ready (SDK, 5 in a row, median): %.0f ms; the emulator started the same pods in %.0f ms (sandbox-api adds %.0f ms, %.2fx)" % (d["sdk_ms"], d["pod_ms"], d["sdk_ms"] - d["pod_ms"], d["sdk_ms"] / d["pod_ms"]))
except Exception:
    print(line)'
calls=$(curl -s "http://127.0.0.1:$port/metrics" -H "OPEN-SANDBOX-API-KEY: $key" |
	sed -n 's/^sandbox_api_k8s_connections_total{use="\([a-z]*\)"} \([0-9]*\)/\1=\2/p' | tr '\n' ' ')
echo "connections to the API server after the creates and deletes: $calls(goal: calls=1)"

# 2. 200 sandboxes: made straight in the API server, listed from the cache.
emulator list --no-kubelet
export KUBECONFIG="$work/list/kubeconfig"
tok=$(cat "$work/list/token")
python3 - "$eport" "$tok" <<'PY'
import json, ssl, sys, uuid, http.client
port, tok = int(sys.argv[1]), sys.argv[2]
ctx = ssl._create_unverified_context()
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
for i in range(200):
    sid = str(uuid.uuid4())
    body = {"apiVersion": "sandbox.opensandbox.io/v1alpha1", "kind": "BatchSandbox",
            "metadata": {"name": sid, "labels": {"opensandbox.io/id": sid, "team": "bench"},
                         "annotations": {"opensandbox.io/execd-access-token": "t" * 32}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "sandbox", "image": "sandbox/base:latest",
                 "command": ["/opt/opensandbox/bootstrap.sh", "sleep", "infinity"]}]}}}}
    c.request("POST", "/apis/sandbox.opensandbox.io/v1alpha1/namespaces/opensandbox/batchsandboxes",
              json.dumps(body), {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
PY
api list
i=0
until [ "$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes?pageSize=200" |
	python3 -c 'import sys,json; print(len(json.load(sys.stdin)["items"]))')" = 200 ] || [ $i -gt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
python3 - "$port" "$key" "$eport" "$tok" "$apid" <<'PY'
import http.client, ssl, statistics, sys, time
port, key, eport, tok, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
def bench(conn, path, hdrs):
    t = []
    for _ in range(50):
        t0 = time.perf_counter(); conn.request("GET", path, headers=hdrs)
        r = conn.getresponse(); body = r.read(); t.append((time.perf_counter() - t0) * 1000)
        assert r.status == 200, r.status
    return statistics.median(t), len(body)
a = http.client.HTTPConnection("127.0.0.1", port)
ours, n1 = bench(a, "/v1/sandboxes?pageSize=200", {"OPEN-SANDBOX-API-KEY": key})
k = http.client.HTTPSConnection("127.0.0.1", eport, context=ssl._create_unverified_context())
peer, n2 = bench(k, "/apis/sandbox.opensandbox.io/v1alpha1/namespaces/opensandbox/batchsandboxes", {"Authorization": "Bearer " + tok})
rss = int([l for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0].split()[1])
print("list of 200 sandboxes (median of 50): sandbox-api from its cache %.2f ms (%d bytes); the API server's LIST %.2f ms (%d bytes): %.1fx faster" % (ours, n1, peer, n2, peer / ours))
print("sandbox-api RSS holding 200 sandboxes: %d KiB (goal <= 4096 KiB)" % rss)
PY
