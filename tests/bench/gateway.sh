#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Ingress gateway benchmarks on the local dockerd, each against its peer in the
# same run:
#   1. req/s and p99 (wrk -t2 -c64, 1 KiB file, keep-alive) through the gateway
#      (header route) vs through nginx as a reverse proxy (one worker) to the
#      same in-sandbox server (an nginx run inside the sandbox's network
#      namespace with nsenter), and straight to it; three rounds in turns,
#      medians, CPU per request of each proxy (goal: gateway >= 1.0x nginx);
#   2. WebSocket round trip (ping/pong on execd's PTY socket, 500 in a row)
#      through the gateway vs straight to the sandbox's execd.
# A sandbox this script creates (label run=<id>) and the loopback only.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
sdk="$top/tests/integration/sdk"
B=${BUILD:-build}
DUR=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
for t in wrk nginx nsenter python3 node; do
	command -v $t >/dev/null || { echo "gateway bench: skip: $t not installed (scripts/setup.sh)"; exit 0; }
done
curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1 ||
	{ echo "gateway bench: skip (dockerd is not running)"; exit 0; }
sh "$top/scripts/images.sh" >/dev/null || exit 1
[ -d "$sdk/node_modules/ws" ] || (cd "$sdk" && npm ci --no-audit --no-fund --silent) || exit 1
work=$(mktemp -d)
chmod 755 "$work"
run_id="gwbench-$$"
key=bench-key
pids="" apid=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	docker ps -aq --filter "label=opensandbox.io/instance=$run_id" | xargs -r docker rm -f >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
gport=$(free_port)
OPENSANDBOX_SERVER_API_KEY=$key "$top/$B/bin/sandbox-api" --host 127.0.0.1 --port "$port" \
	--state-dir "$work/state" --pull-policy never --log-level warn --instance "$run_id" \
	--gateway-listen "127.0.0.1:$gport" 2>"$work/api.log" &
apid=$!
pids="$pids $apid"
i=0
until curl -fs -o /dev/null "http://127.0.0.1:$port/health" || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
id=$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" -H 'content-type: application/json' \
	-d '{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sleep","3600"],"timeout":900,"resourceLimits":{}}' \
	"http://127.0.0.1:$port/v1/sandboxes" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
i=0
until [ "$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes/$id" |
	python3 -c 'import sys,json; print(json.load(sys.stdin)["status"]["state"])')" = Running ] || [ $i -gt 150 ]; do
	sleep 0.2
	i=$((i + 1))
done
ctr=$(docker ps -q --filter "label=opensandbox.io/id=$id")
cip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$ctr")
cpid=$(docker inspect -f '{{.State.Pid}}' "$ctr")
echo "sandbox $id at $cip"

# The in-sandbox server: nginx in the sandbox's network namespace, one worker.
mkdir -p "$work/www" "$work/ngx"
chmod 755 "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
np=$(free_port)
conf() { # conf ROLE SERVER-BLOCK
	cat >"$work/nginx-$1.conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $work/nginx-$1.pid;
error_log $work/nginx-$1.err;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $work/ngx; proxy_temp_path $work/ngx; fastcgi_temp_path $work/ngx;
	uwsgi_temp_path $work/ngx; scgi_temp_path $work/ngx;
	$2
}
CONF
}
conf up "server { listen 0.0.0.0:8080; location / { root $work/www; } }"
conf proxy "upstream up { server $cip:8080; keepalive 64; }
	server { listen 127.0.0.1:$np; proxy_buffering off;
		location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
nsenter -t "$cpid" -n nginx -c "$work/nginx-up.conf" -p "$work" &
pids="$pids $!"
nginx -c "$work/nginx-proxy.conf" -p "$work" &
npid=$!
pids="$pids $npid"
sleep 0.5

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
run_wrk() { # name pid url [header]
	c0=$(cpu_ticks "$2")
	if [ -n "${4:-}" ]; then
		wrk -t2 -c64 -d"${DUR}s" --latency -H "$4" "$3" >"$work/wrk.$1" 2>&1
	else
		wrk -t2 -c64 -d"${DUR}s" --latency "$3" >"$work/wrk.$1" 2>&1
	fi
	c1=$(cpu_ticks "$2")
	rps=$(awk '/^Requests\/sec/ { print $2 }' "$work/wrk.$1")
	p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.$1")
	nreq=$(awk '/requests in/ { print $1 }' "$work/wrk.$1")
	non2xx=$(awk '/Non-2xx/ { print $5 }' "$work/wrk.$1")
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$nreq" 'BEGIN { printf "%.0f", n ? t * 1e6 / hz / n : 0 }')
	printf '  %-10s %10s req/s   p99 %-8s CPU %s us/req %s\n' "$1" "$rps" "$p99" "$cpu" "${non2xx:+non-2xx: $non2xx}"
	p99us=$(echo "$p99" | awk '/us$/ { sub("us",""); print $1; next } /ms$/ { sub("ms",""); print $1 * 1000; next } /s$/ { sub("s",""); print $1 * 1e6 }')
	echo "$rps $cpu $p99us" >>"$work/rounds.$1"
}
median() { sort -n -k"$2" "$work/rounds.$1" | awk -v k="$2" '{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'; }
echo "proxy: wrk -t2 -c64 -d${DUR}s x $ROUNDS rounds in turns, 1 KiB file from nginx inside the sandbox"
run_wrk direct "$npid" "http://$cip:8080/1k.bin"
r=0
while [ $r -lt "$ROUNDS" ]; do
	run_wrk nginx "$npid" "http://127.0.0.1:$np/1k.bin"
	run_wrk gateway "$apid" "http://127.0.0.1:$gport/1k.bin" "OpenSandbox-Ingress-To: $id-8080"
	r=$((r + 1))
done
awk -v g="$(median gateway 1)" -v n="$(median nginx 1)" -v cg="$(median gateway 2)" -v cn="$(median nginx 2)" \
	-v pg="$(median gateway 3)" -v pn="$(median nginx 3)" 'BEGIN {
	printf "  medians: gateway/nginx = %.2fx req/s (goal >= 1.0); p99 gateway %d us, nginx %d us\n", g / n, pg, pn
	printf "  CPU per proxied request: gateway %d us, nginx %d us\n", cg, cn }'

# WebSocket round trips: ping/pong on execd's PTY socket.
tok=$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes/$id/endpoints/44772" |
	python3 -c 'import sys,json; print(json.load(sys.stdin)["headers"]["X-EXECD-ACCESS-TOKEN"])')
(cd "$sdk" && node -e '
const WebSocket = require("ws");
const [gw, direct, id, tok] = process.argv.slice(1);
async function rtt(url, headers) {
  const pty = await (await fetch(url.replace("ws://", "http://") + "/pty", { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: "{}" })).json();
  const ws = new WebSocket(`${url}/pty/${pty.session_id}/ws`, { headers });
  await new Promise((r, j) => { ws.once("open", r); ws.once("error", j); });
  const t = [];
  for (let i = 0; i < 500; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((r) => { ws.once("pong", r); ws.ping(); });
    t.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  ws.close();
  t.sort((a, b) => a - b);
  return { p50: t[250], p99: t[495] };
}
(async () => {
  const T = { "X-EXECD-ACCESS-TOKEN": tok };
  const g = await rtt(`ws://${gw}`, { ...T, "OpenSandbox-Ingress-To": `${id}-44772` });
  const d = await rtt(`ws://${direct}`, T);
  console.log(`websocket ping/pong x500: gateway p50 ${g.p50.toFixed(0)} us p99 ${g.p99.toFixed(0)} us; direct p50 ${d.p50.toFixed(0)} us p99 ${d.p99.toFixed(0)} us; gateway adds ${(g.p50 - d.p50).toFixed(0)} us at p50`);
  process.exit(0);
})().catch((e) => { console.log("websocket bench failed: " + e); process.exit(1); });
' "127.0.0.1:$gport" "$cip:44772" "$id" "$tok")
