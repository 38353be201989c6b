#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sandbox-api on the local dockerd, driven by the official OpenSandbox JS SDK
# (tests/integration/sdk/api.test.mjs), then the fault checks: kill -9 with
# live sandboxes and a restart (all listed again, renewal and metadata patch
# kept, expiry still enforced, orphan sidecar removed), the other set-ups
# (api_modes.test.mjs: host network mode; a user-defined network with dockerd
# over tcp:// and a registry-auth pull), Docker unreachable (503), graceful
# SIGTERM. Runs against the static release binary and the
# ASan/UBSan build; any sanitizer report fails. Every container made here
# carries the label run=<RUN_ID> and is removed on exit.
# Ends with "api: N passed, N failed[, N skipped]" (tests/integration/lib.sh);
# exits 77 when dockerd is not running.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
sdk="$top/tests/integration/sdk"
tmp=${TMPDIR:-/tmp}
if [ -z "${API_BIN:-}" ]; then
	dockerd_up ||
		{ echo "skip: dockerd is not running"; exit 77; }
	sh "$top/scripts/images.sh" >/dev/null || { ko "images.sh"; summary api; exit 1; }
	[ -d "$sdk/node_modules/@alibaba-group/opensandbox" ] ||
		(cd "$sdk" && npm ci --no-audit --no-fund --silent) || { ko "npm ci"; summary api; exit 1; }
	# The stub DNS server image for the egress checks (lib.sh); the sidecar is
	# sandbox/egressd:latest from images.sh.
	stub_dns_image "$top" "${BUILD:-build}" || echo "  (stub DNS image build failed)"
	sh "$top/tests/integration/fixtures/debian_image.sh" opensandbox-c/debian-min:test ||
		echo "  (Debian-based image build failed)"
	each_flavour api API_BIN "$top/${BUILD:-build}/bin/sandbox-api" "$top/${BUILD:-build}/test/api-san"
	exit $?
fi

bin=$API_BIN
echo "== $bin"
[ -x "$bin" ] || { ko "$bin is not built"; summary run; exit 1; }
work=$(mktemp -d)
run_id="apitest-$$-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
image=sandbox/base:latest
pid="" front=""
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	ids=$(docker ps -aq --filter "label=run=$run_id")
	for c in $ids; do
		sid=$(docker inspect -f '{{index .Config.Labels "opensandbox.io/id"}}' "$c" 2>/dev/null)
		[ -n "$sid" ] && docker ps -aq --filter "label=opensandbox.io/egress-sidecar-for=$sid" | xargs -r docker rm -f >/dev/null 2>&1
	done
	[ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
	for i in "$run_id" "$run_id-m"; do
		docker ps -aq --filter "label=opensandbox.io/instance=$i" | xargs -r docker rm -f >/dev/null 2>&1
	done
	[ -n "$front" ] && kill "$front" 2>/dev/null
	docker network rm "$run_id-net" >/dev/null 2>&1
	docker volume ls -q --filter "name=$run_id" | xargs -r docker volume rm >/dev/null 2>&1
	docker images -q --filter "label=opensandbox.io/instance=$run_id" | xargs -r docker rmi -f >/dev/null 2>&1
	for sid in ${snaps:-}; do docker rmi "opensandbox-snapshots:$sid" >/dev/null 2>&1; done
	rm -rf "$work"
}
trap cleanup EXIT
port=$(free_port)
base="http://127.0.0.1:$port"
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Egress: a stub DNS server container answers allowed.test and denied.test (never a real domain).
egress_args="" egress_env="" egress_skip=""
if docker image inspect sandbox/egressd:latest >/dev/null 2>&1 &&
	docker image inspect opensandbox-c/stub-dns:test >/dev/null 2>&1; then
	dns=$(docker run -d --label "run=$run_id" opensandbox-c/stub-dns:test)
	dns_ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$dns")
	egress_args="--egress-image sandbox/egressd:latest --egress-env OPENSANDBOX_EGRESS_DNS_UPSTREAM=$dns_ip --egress-ready-timeout 10"
	egress_env=1
else
	egress_skip="no sandbox/egressd:latest or stub DNS image"
fi
mkdir -p "$work/vols" # allowed host path prefixes are opened at start-up
start() {
	OPENSANDBOX_SERVER_API_KEY=$key "$bin" --host 127.0.0.1 --port "$port" --state-dir "$work/state" \
		--pull-policy never --sweep-seconds 2 --instance "$run_id" --allowed-host-paths "$work/vols" \
		$egress_args "$@" \
		>>"$work/server.log" 2>>"$work/server.err" &
	pid=$!
	i=0
	until curl -fs -o /dev/null "$base/health"; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
}
api() { # method path [body]
	if [ $# -ge 3 ]; then
		curl -s -X "$1" -H "OPEN-SANDBOX-API-KEY: $key" -H 'content-type: application/json' -d "$3" "$base$2"
	else
		curl -s -X "$1" -H "OPEN-SANDBOX-API-KEY: $key" "$base$2"
	fi
}
status() { curl -s -o /dev/null -w '%{http_code}' -X "$1" -H "OPEN-SANDBOX-API-KEY: $key" "$base$2"; }
jget() { python3 -c 'import sys,json
d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if isinstance(d,list) else d.get(k) if d is not None else None
print("" if d is None else d)' "$1"; }

start || { ko "server starts"; summary run; exit 1; }

# Sandboxes that must survive a kill -9: one expiring soon, one renewed, one manual with patched metadata.
mk() { api POST /v1/sandboxes "{\"image\":{\"uri\":\"$image\"},\"entrypoint\":[\"sleep\",\"3600\"],\"resourceLimits\":{\"cpu\":\"1\"},\"metadata\":{\"run\":\"$run_id\",\"who\":\"$1\"}$2}" | jget id; }
b=$(mk renewed ',"timeout":120')
c=$(mk manual '')
renew_to=$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.123456Z"))')
[ "$(api POST "/v1/sandboxes/$b/renew-expiration" "{\"expiresAt\":\"$renew_to\"}" | jget expiresAt)" = "$renew_to" ] &&
	ok "renew answers the new expiry" || ko "renew answers the new expiry"
[ "$(api PATCH "/v1/sandboxes/$c/metadata" '{"patched":"yes"}' | jget metadata.patched)" = yes ] &&
	ok "metadata patch" || ko "metadata patch"

debian=""
docker image inspect opensandbox-c/debian-min:test >/dev/null 2>&1 && debian=opensandbox-c/debian-min:test
out="$work/node.out"
EGRESS=$egress_env EGRESS_SKIP=$egress_skip API_DOMAIN="127.0.0.1:$port" API_KEY=$key IMAGE=$image RUN_ID=$run_id \
	VOLROOT="$work/vols" DEBIAN_IMAGE=$debian timeout 300 node --test --test-reporter=tap "$sdk/api.test.mjs" >"$out" 2>&1
tap_count "$out" $?
# Host volumes are bind-mounted by descriptor at a staging path until their container starts.
grep -q " $work/state/mounts/" /proc/self/mountinfo && ko "staged host volume mounts left behind"

# kill -9 with live sandboxes, an orphan sidecar appears meanwhile, then restart.
# The 60 s one is made only now: its expiry must still be pending at the restart,
# however long the SDK tests above took on a loaded machine.
a=$(mk short ',"timeout":60')
a_created=$(date +%s)
for s in $a $b $c; do
	i=0
	while [ "$(api GET "/v1/sandboxes/$s" | jget status.state)" != Running ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=""
orphan=$(docker create --label "run=$run_id" --label "opensandbox.io/instance=$run_id" \
	--label "opensandbox.io/egress-sidecar-for=gone-$run_id" "$image" sleep 60)
# Snapshot records the kill interrupted: a commit whose image exists (Ready), one
# whose image never came (Failed), a delete half done (finished at start-up).
snaps=$(python3 -c 'import uuid; print(*(uuid.uuid4() for _ in range(6)))')
set -- $snaps
snap_made=$1 snap_lost=$2 snap_del=$3 snap_young=$4 snap_odd=$5 snap_foreign=$6
docker tag "$image" "opensandbox-snapshots:$snap_made"
docker tag "$image" "opensandbox-snapshots:$snap_del"
python3 - "$work/state/snapshots.json" "$b" $snaps <<'PYEOF2'
import json, os, sys
path, src, made, lost, gone, young, odd, foreign = sys.argv[1:]
doc = json.load(open(path)) if os.path.exists(path) else {"version": 1, "snapshots": []}
import time
now = int(time.time() * 1e6)
for sid, state, created in ((made, "Creating", 1), (lost, "Creating", 1), (gone, "Deleting", 1),
                            (young, "Creating", now), (odd, "Ready", 1e300), (foreign, "Ready", 1)):
    doc["snapshots"].append({"id": sid, "sandboxId": src, "state": state,
        "image": ("busybox:latest" if sid == foreign else "opensandbox-snapshots:" + sid),
        "beforeDelete": "Ready", "reason": "snapshot_accepted", "message": "",
        "createdUs": created, "transitionUs": -9223372036854775808 if sid == odd else 1})
json.dump(doc, open(path, "w"))
PYEOF2
start || ko "server restarts"
# One server per state folder: a second one refuses to start before touching anything.
p2=$(free_port)
OPENSANDBOX_SERVER_API_KEY=$key timeout 20 "$bin" --host 127.0.0.1 --port "$p2" --state-dir "$work/state" \
	--instance "$run_id" >"$work/second.log" 2>&1
[ $? = 1 ] && awk '/in use by another sandbox-api/ { f = 1 } END { exit !f }' "$work/second.log" &&
	ok "a second server on the same state folder refuses to start" || { cat "$work/second.log"; ko "second server on one state folder"; }
list=$(api GET "/v1/sandboxes?metadata=$(python3 -c "import urllib.parse; print(urllib.parse.quote('run=$run_id'))")&pageSize=200")
n=$(echo "$list" | python3 -c 'import sys,json; print(len([i for i in json.load(sys.stdin)["items"] if i["metadata"].get("who")]))')
[ "$n" = 3 ] && ok "after kill -9 and restart all 3 sandboxes are listed" || ko "after restart: $n of 3 listed ($list)"
[ "$(api GET "/v1/sandboxes/$b" | jget expiresAt)" = "$renew_to" ] && ok "the renewal survived the restart" ||
	ko "renewal lost: $(api GET "/v1/sandboxes/$b" | jget expiresAt) != $renew_to"
[ "$(api GET "/v1/sandboxes/$c" | jget metadata.patched)" = yes ] && ok "patched metadata survived the restart" ||
	ko "patched metadata lost"
[ "$(api GET "/v1/sandboxes/$c" | jget expiresAt)" = "" ] && ok "manual cleanup sandbox has no expiresAt" || ko "manual expiresAt"
[ -z "$(docker ps -aq --filter "id=$orphan")" ] && ok "orphan sidecar removed at start-up" || ko "orphan sidecar left"
epj=$(api GET "/v1/sandboxes/$b/endpoints/44772")
ep=$(echo "$epj" | jget endpoint)
etok=$(echo "$epj" | jget headers.X-EXECD-ACCESS-TOKEN)
# The sandbox's execd token survived the restart (kept in its labels).
[ -n "$etok" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-EXECD-ACCESS-TOKEN: $etok" "http://$ep/ping")" = 200 ] &&
	ok "execd reachable with its token after restart ($ep)" || ko "execd not reachable after restart ($ep)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$ep/ping")" = 401 ] &&
	ok "execd still refuses a request without the token after restart" || ko "execd without token after restart"
i=0
while [ "$(api GET "/v1/snapshots/$snap_made" | jget status.state)" = Creating ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(api GET "/v1/snapshots/$snap_made" | jget status.state)" = Ready ] &&
	ok "snapshot recovery: Creating with its image there is Ready" || ko "snapshot recovery: $(api GET "/v1/snapshots/$snap_made")"
[ "$(api GET "/v1/snapshots/$snap_lost" | jget status.reason)" = snapshot_recovery_missing_image ] &&
	[ "$(api GET "/v1/snapshots/$snap_lost" | jget status.state)" = Failed ] &&
	ok "snapshot recovery: Creating without an image is Failed" || ko "snapshot recovery: $(api GET "/v1/snapshots/$snap_lost")"
[ "$(api POST /v1/sandboxes "{\"snapshotId\":\"$snap_lost\",\"resourceLimits\":{}}" | jget code)" = SNAPSHOT::NOT_READY ] &&
	ok "restore from a Failed snapshot: 409 SNAPSHOT::NOT_READY" || ko "restore from a Failed snapshot"
i=0
while [ "$(status GET "/v1/snapshots/$snap_del")" != 404 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
! docker image inspect "opensandbox-snapshots:$snap_del" >/dev/null 2>&1 && [ "$(status GET "/v1/snapshots/$snap_del")" = 404 ] &&
	ok "snapshot recovery: a half-done delete is finished" || ko "snapshot recovery: delete not finished"
[ "$(api GET "/v1/snapshots/$snap_young" | jget status.state)" = Creating ] &&
	ok "snapshot recovery: a commit that may still end stays Creating" || ko "young Creating: $(api GET "/v1/snapshots/$snap_young")"
[ "$(status GET "/v1/snapshots/$snap_odd")" = 200 ] && [ "$(status GET "/v1/snapshots?pageSize=200")" = 200 ] &&
	ok "out-of-range times in the file are read as unknown" || ko "odd times"
[ "$(status GET "/v1/snapshots/$snap_foreign")" = 404 ] &&
	ok "a record naming an image this server would not make is dropped" || ko "foreign image record kept"
# A Ready snapshot whose image went away: the restore says so, and never pulls.
docker rmi "opensandbox-snapshots:$snap_made" >/dev/null
[ "$(api POST /v1/sandboxes "{\"snapshotId\":\"$snap_made\",\"resourceLimits\":{},\"metadata\":{\"run\":\"$run_id\"}}" | jget code)" = SNAPSHOT::INVALID_RESTORE_CONFIG ] &&
	ok "restore of a snapshot whose image is gone: 409, nothing pulled" || ko "restore with the image gone"
for sid in $snap_made $snap_lost $snap_odd; do
	[ "$(status DELETE "/v1/snapshots/$sid")" = 204 ] || ko "delete recovered snapshot $sid"
done
[ "$(status GET "/v1/snapshots?sandboxId=$b")" = 200 ] && [ "$(api GET "/v1/snapshots?sandboxId=$b" | jget pagination.totalItems)" = 1 ] &&
	ok "recovered snapshots deleted (the young one stays Creating)" || ko "recovered snapshots: $(api GET "/v1/snapshots?sandboxId=$b")"
api POST "/v1/sandboxes/$b/pause" >/dev/null
[ "$(api GET "/v1/sandboxes/$b" | jget status.state)" = Paused ] && ok "pause after restart" || ko "pause after restart"

# The other set-ups, each on a second server, while the 60 s sandbox's expiry is pending.
mode_run() { # mode then server flags
	m=$1
	shift
	p=$(free_port)
	OPENSANDBOX_SERVER_API_KEY=$key "$bin" --host 127.0.0.1 --port "$p" --state-dir "$work/state-m" \
		--sweep-seconds 2 --instance "$run_id-m" "$@" >>"$work/server.log" 2>>"$work/server.err" &
	mpid=$!
	i=0
	until curl -fs -o /dev/null "http://127.0.0.1:$p/health" || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
	MODE=$m DOCKER_LOG=${docker_log:-} API_DOMAIN="127.0.0.1:$p" API_KEY=$key IMAGE=$image RUN_ID=$run_id \
		timeout 120 node --test --test-reporter=tap "$sdk/api_modes.test.mjs" >"$work/modes.out" 2>&1
	tap_count "$work/modes.out" $?
	kill -TERM "$mpid"
	wait "$mpid" || ko "$m server: exit status $? after SIGTERM"
}
# Host mode puts execd on the host's 44772 and the sandbox's server on 8080: only when both are free.
if python3 -c 'import socket
for p in (44772, 8080):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", p)); s.close()' 2>/dev/null; then
	mode_run host --network-mode host --pull-policy never
	# execd never answers: 44772 is held by a listener that accepts and stays silent, so the
	# sandbox's execd cannot bind it. Failed EXECD_NOT_READY after --ready-timeout, still Failed
	# after reconciliations and a kill -9 + restart, removed with its container after --failed-ttl.
	python3 -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 44772)); s.listen(64); time.sleep(90)' &
	silent=$!
	p=$(free_port)
	nr_start() {
		OPENSANDBOX_SERVER_API_KEY=$key "$bin" --host 127.0.0.1 --port "$p" --state-dir "$work/state-nr" \
			--sweep-seconds 1 --instance "$run_id-m" --network-mode host --pull-policy never \
			--ready-timeout 3 --failed-ttl 12 >>"$work/server.log" 2>>"$work/server.err" &
		mpid=$!
		i=0
		# Up to 20 s: a loaded machine starts the ASan build slowly.
		until curl -fs -o /dev/null "http://127.0.0.1:$p/health" || [ $i -gt 400 ]; do sleep 0.05; i=$((i + 1)); done
	}
	nrget() { curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$p/v1/sandboxes/$1" | jget "$2"; }
	sleep 0.3
	nr_start
	nr=$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" -d "{\"image\":{\"uri\":\"$image\"},\"entrypoint\":[\"sleep\",\"600\"],\"resourceLimits\":{},\"metadata\":{\"run\":\"$run_id\"}}" \
		"http://127.0.0.1:$p/v1/sandboxes" | jget id)
	i=0
	while [ "$(nrget "$nr" status.state)" != Failed ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(nrget "$nr" status.reason)" = EXECD_NOT_READY ] && ok "execd never answers: Failed EXECD_NOT_READY" ||
		ko "execd never answers: $(nrget "$nr" status.state) $(nrget "$nr" status.reason)"
	sleep 2.5
	[ "$(nrget "$nr" status.reason)" = EXECD_NOT_READY ] && ok "EXECD_NOT_READY stays after reconciliations" ||
		ko "EXECD_NOT_READY turned into $(nrget "$nr" status.state)"
	kill -9 "$mpid"
	wait "$mpid" 2>/dev/null
	nr_start
	[ "$(nrget "$nr" status.reason)" = EXECD_NOT_READY ] && ok "EXECD_NOT_READY survives kill -9 and restart" ||
		ko "after restart: $(nrget "$nr" status.state) $(nrget "$nr" status.reason)"
	i=0
	while [ "$(curl -s -o /dev/null -w '%{http_code}' -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$p/v1/sandboxes/$nr")" != 404 ] &&
		[ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	[ -z "$(docker ps -aq --filter "label=opensandbox.io/id=$nr")" ] && ok "removed with its container after --failed-ttl" ||
		ko "not removed after --failed-ttl"
	kill "$silent" 2>/dev/null
	kill -TERM "$mpid"
	wait "$mpid"
else
	echo "  skip - host network mode: port 44772 or 8080 is busy on this host"
fi
# An upstream-style TOML config read as is (port and everything else from the file).
p=$(free_port)
cat >"$work/sandbox.toml" <<EOF
# as opensandbox-server init-config writes it
[server]
host = "127.0.0.1"
port = $p
[log]
level = "WARNING"
[runtime]
type = "docker"
execd_image = "sandbox/execd:latest"
[docker]
network_mode = "bridge"
no_new_privileges = true
pids_limit = 2048
[egress]
image = "sandbox/egressd:latest"
mode = "dns"
[storage]
allowed_host_paths = []
EOF
OPENSANDBOX_SERVER_API_KEY=$key SANDBOX_CONFIG_PATH="$work/sandbox.toml" "$bin" --state-dir "$work/state-t" \
	--instance "$run_id-m" >>"$work/server.log" 2>>"$work/server.err" &
mpid=$!
i=0
until curl -fs -o /dev/null "http://127.0.0.1:$p/health" || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "TOML config: listening on the port from the file" curl -fs "http://127.0.0.1:$p/health"
MODE=bridge API_DOMAIN="127.0.0.1:$p" API_KEY=$key IMAGE=$image RUN_ID=$run_id \
	timeout 120 node --test --test-reporter=tap "$sdk/api_modes.test.mjs" >"$work/modes.out" 2>&1
tap_count "$work/modes.out" $?
kill -TERM "$mpid"
wait "$mpid" || ko "TOML server: exit status $? after SIGTERM"

docker network create --label "run=$run_id" "$run_id-net" >/dev/null
dport=$(free_port)
docker_log="$work/docker_tcp.log"
node "$top/tests/integration/fixtures/docker_tcp.mjs" "$dport" "$docker_log" >"$work/front.out" 2>&1 &
front=$!
i=0
until grep -q docker_tcp "$work/front.out" || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
DOCKER_HOST=tcp://127.0.0.1:$dport mode_run "$run_id-net" --network-mode "$run_id-net" --pull-policy missing
docker_log=""
# A configured network that does not exist: 400 naming it, nothing created.
p=$(free_port)
OPENSANDBOX_SERVER_API_KEY=$key "$bin" --host 127.0.0.1 --port "$p" --state-dir "$work/state-n" \
	--instance "$run_id-m" --network-mode "$run_id-absent" >>"$work/server.log" 2>>"$work/server.err" &
mpid=$!
i=0
until curl -fs -o /dev/null "http://127.0.0.1:$p/health" || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
r=$(curl -s -w ' %{http_code}' -H "OPEN-SANDBOX-API-KEY: $key" \
	-d "{\"image\":{\"uri\":\"$image\"},\"entrypoint\":[\"true\"],\"resourceLimits\":{}}" "http://127.0.0.1:$p/v1/sandboxes")
case "$r" in *"$run_id-absent"*400) ok "a missing user-defined network: 400 naming it" ;; *) ko "missing network: $r" ;; esac
[ -z "$(docker ps -aq --filter "label=opensandbox.io/instance=$run_id-m")" ] && ok "other set-ups left no container" ||
	ko "other set-ups left containers"
kill -TERM "$mpid"
wait "$mpid"

# Expiry still enforced after the restart (timer re-armed; sweep every 2 s).
deadline=$((a_created + 60 + 25))
while [ "$(status GET "/v1/sandboxes/$a")" != 404 ] && [ "$(date +%s)" -lt $deadline ]; do sleep 1; done
took=$(($(date +%s) - a_created))
if [ "$(status GET "/v1/sandboxes/$a")" = 404 ] && [ -z "$(docker ps -aq --filter "label=opensandbox.io/id=$a")" ]; then
	ok "the 60 s sandbox expired ${took} s after create, container removed"
else
	ko "the 60 s sandbox still exists after ${took} s"
fi

# Docker unreachable: a clear 503.
port2=$(free_port)
OPENSANDBOX_SERVER_API_KEY=$key DOCKER_HOST=unix://$work/nodocker.sock "$bin" --host 127.0.0.1 --port "$port2" \
	--state-dir "$work/state2" --execd-image none >"$work/server2.log" 2>>"$work/server.err" &
pid2=$!
i=0
until curl -fs -o /dev/null "http://127.0.0.1:$port2/health" || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
r=$(curl -s -w ' %{http_code}' -H "OPEN-SANDBOX-API-KEY: $key" -d "{\"image\":{\"uri\":\"$image\"},\"entrypoint\":[\"true\"],\"resourceLimits\":{}}" "http://127.0.0.1:$port2/v1/sandboxes")
case "$r" in *unreachable*503) ok "Docker unreachable: 503 with a clear message" ;; *) ko "Docker unreachable: $r" ;; esac
kill "$pid2" 2>/dev/null
wait "$pid2" 2>/dev/null

# Graceful shutdown.
for s in $b $c; do [ "$(status DELETE "/v1/sandboxes/$s")" = 204 ] || ko "delete $s"; done
kill -TERM "$pid"
wait "$pid"
src=$?
pid=""
[ $src -eq 0 ] && ok "SIGTERM: clean exit" || ko "SIGTERM: exit status $src"
left=$(docker ps -aq --filter "label=opensandbox.io/instance=$run_id")
[ -z "$left" ] && ok "no container left behind" || ko "containers left: $left"

sanitizer_report "$work/server.err" && ko "sanitizer report from $bin"
if [ $fail -ne 0 ]; then
	echo "--- server log (tail) ---"
	tail -n 30 "$work/server.log"
	tail -n 20 "$work/server.err"
	cp "$work/server.log" "$tmp/api_sdk.failed.log" 2>/dev/null
fi
summary run
