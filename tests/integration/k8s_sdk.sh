#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sandbox-api's Kubernetes runtime on the emulator (tests/k8s: real HTTPS and
# Kubernetes semantics, pods run as Docker containers; no real API server can
# run on these machines), driven by the official SDK (sdk/k8s.test.mjs) for
# both providers, on the ASan/UBSan build; then kill -9 and a restart (every
# sandbox listed again, the watch resumes), the deploy manifests applied with
# kubectl (and --dry-run=server), and no container left behind.
# Ends with "k8s: N passed, N failed[, N skipped]"; exits 77 without dockerd,
# node or kubectl.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
sdk="$top/tests/integration/sdk"
emu_dir="$top/tests/k8s"
B=${BUILD:-build}
dockerd_up ||
	{ echo "skip: dockerd is not running"; exit 77; }
command -v node >/dev/null && command -v kubectl >/dev/null || { echo "skip: node or kubectl missing"; exit 77; }
sh "$top/scripts/images.sh" >/dev/null || { ko "images.sh"; summary k8s; exit 1; }
for d in "$sdk" "$emu_dir"; do
	[ -d "$d/node_modules" ] || (cd "$d" && npm ci --no-audit --no-fund --silent) ||
		{ ko "npm ci in $d"; summary k8s; exit 1; }
done
bin=$top/$B/test/api-san
[ -x "$bin" ] || { ko "$bin is not built"; summary k8s; exit 1; }

work=$(mktemp -d)
inst="k8stest-$$"
run_id="k8s-$$-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
emu_pid="" pid=""
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	docker ps -aq --filter "label=k8s-emu.instance=$inst" | xargs -r docker rm -f >/dev/null 2>&1
	if [ "$fail" -gt 0 ]; then # keep the logs of a failed run
		rm -rf "${TMPDIR:-/tmp}/k8s-sdk-failed"
		mkdir -p "${TMPDIR:-/tmp}/k8s-sdk-failed" && cp "$work"/*.log "$work"/*.tap "${TMPDIR:-/tmp}/k8s-sdk-failed/" 2>/dev/null
		echo "  logs: ${TMPDIR:-/tmp}/k8s-sdk-failed"
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1

eport=$(free_port)
node "$emu_dir/emulator.mjs" --listen "127.0.0.1:$eport" --state-dir "$work/emu" \
	--instance "$inst" --namespace opensandbox >"$work/emu.log" 2>&1 &
emu_pid=$!
i=0
until grep -q '^k8s-emu ready' "$work/emu.log" 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
check "emulator started" grep -q '^k8s-emu ready' "$work/emu.log"
export KUBECONFIG="$work/emu/kubeconfig"
check "CRD applied with kubectl" kubectl apply -f "$top/deploy/kubernetes/crd-batchsandbox.yaml"

port=""
start_api() { # start_api PROVIDER [LOG]
	port=$(free_port)
	gport=$(free_port)
	OPENSANDBOX_SERVER_API_KEY=$key "$bin" --port "$port" --runtime kubernetes \
		--gateway-listen "127.0.0.1:$gport" \
		--kubeconfig "$KUBECONFIG" --k8s-namespace opensandbox --k8s-provider "$1" \
		--execd-image sandbox/execd:latest --egress-image sandbox/egressd:latest \
		--egress-disable-ipv6=false --k8s-watch-timeout 20 --instance "$inst-$1" \
		--state-dir "$work/state-$1" >>"$work/api-$1.log" 2>&1 &
	pid=$!
	wait_http "http://127.0.0.1:$port/health"
}

for provider in batchsandbox pod; do
	echo "== provider $provider"
	start_api $provider
	check "[$provider] sandbox-api (ASan) answers" curl -fs "http://127.0.0.1:$port/health"
	(cd "$sdk" && API_DOMAIN="127.0.0.1:$port" API_KEY=$key PROVIDER=$provider RUN_ID="$run_id" \
		EMU_URL="https://127.0.0.1:$eport" EMU_ADMIN=$(cat "$work/emu/admin-token") GW_PORT=$gport \
		timeout 600 node --test --test-reporter=tap k8s.test.mjs >"$work/sdk-$provider.tap" 2>&1)
	tap_count "$work/sdk-$provider.tap" $?
	# Every call of the whole run went over one kept connection (watches keep their
	# own), and one more after the connection the emulator reset on purpose.
	calls=$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/metrics" |
		sed -n 's/^sandbox_api_k8s_connections_total{use="calls"} //p')
	[ "${calls:-0}" -eq 2 ] && ok "[$provider] one kept connection carried every API call (a second after the injected reset)" ||
		ko "[$provider] API call connections: ${calls:-none} (want 2)"
	if [ "$provider" = batchsandbox ]; then
		# kill -9 with live sandboxes; a new server lists them all and follows changes.
		made=$(curl -s -X POST -H "OPEN-SANDBOX-API-KEY: $key" -H 'content-type: application/json' \
			-d '{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sleep","infinity"],"timeout":600,"resourceLimits":{"cpu":"250m"},"metadata":{"keep":"yes"}}' \
			"http://127.0.0.1:$port/v1/sandboxes" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
		kill -9 "$pid"
		wait "$pid" 2>/dev/null
		start_api $provider
		got=$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes/$made")
		case "$got" in *'"keep":"yes"'*'"state":"Running"'* | *'"state":"Running"'*'"keep":"yes"'*) ok "after kill -9: the sandbox is listed, Running, with its metadata" ;;
		*) ko "after kill -9: $got" ;; esac
		kubectl -n opensandbox label batchsandboxes "$made" after=restart --overwrite >/dev/null 2>&1
		i=0
		until curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes/$made" | grep -q '"after":"restart"' || [ $i -ge 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		[ $i -lt 100 ] && ok "after kill -9: the watch follows the cluster again" || ko "after kill -9: no watch"
		curl -s -X DELETE -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/v1/sandboxes/$made" >/dev/null
	fi
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	rc=$?
	pid=""
	[ $rc -eq 0 ] && ok "[$provider] SIGTERM: clean exit" || ko "[$provider] exit status $rc"
	if sanitizer_report "$work/api-$provider.log"; then ko "[$provider] sanitizer report"; else ok "[$provider] no sanitizer report"; fi
done

# The deploy manifests: a server-side dry run, then applied for real.
check "deploy manifests: kubectl apply --dry-run=server" kubectl apply --dry-run=server -f "$top/deploy/kubernetes/"
check "deploy manifests: kubectl apply" kubectl apply -f "$top/deploy/kubernetes/"
check "deploy: the Role allows watching batchsandboxes" sh -c \
	"kubectl -n opensandbox get role sandbox-api -o jsonpath='{.rules[0].verbs}' | grep -q watch"
check "deploy: the Deployment runs sandbox/api:latest" sh -c \
	"kubectl -n opensandbox get deployment sandbox-api -o jsonpath='{.spec.template.spec.containers[0].image}' | grep -qx sandbox/api:latest"

# In-cluster credentials: the sandbox/api image with a service-account token and CA
# mounted where the kubelet puts them (host network, to reach the emulator on the
# loopback), its token rotated mid-run (last: kubectl has the old token).
mkdir -p "$work/sa" && cp "$work/emu/ca.crt" "$work/sa/ca.crt"
iport=$(free_port)
sa=/var/run/secrets/kubernetes.io/serviceaccount
docker run -d --name "$inst-api" --label "k8s-emu.instance=$inst" --network host --user 0 \
	-v "$work/emu/token:$sa/token:ro" -v "$work/sa/ca.crt:$sa/ca.crt:ro" \
	-e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT="$eport" \
	-e OPENSANDBOX_SERVER_API_KEY="$key" sandbox/api:latest --host 127.0.0.1 --port "$iport" \
	--runtime kubernetes --k8s-namespace opensandbox --instance "$inst-ic" >/dev/null 2>&1
wait_http "http://127.0.0.1:$iport/health"
H="OPEN-SANDBOX-API-KEY: $key"
ic=$(curl -s -m 90 -X POST -H "$H" -H 'content-type: application/json' \
	-d '{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sleep","infinity"],"timeout":300,"resourceLimits":{"cpu":"100m"}}' \
	"http://127.0.0.1:$iport/v1/sandboxes")
id=$(echo "$ic" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
case "$ic" in *'"state":"Running"'*) ok "in-cluster: sandbox/api:latest with the service account creates a Running sandbox" ;;
*) ko "in-cluster create: $ic"; docker logs "$inst-api" 2>&1 | tail -n 5 ;; esac
curl -sk -X POST -H "Authorization: Bearer $(cat "$work/emu/admin-token")" "https://127.0.0.1:$eport/_emulator/token/rotate" >/dev/null
sleep 1.2 # the token file is looked at once a second
st=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "$H" -H 'content-type: application/json' \
	-d '{"rotated":"yes"}' "http://127.0.0.1:$iport/v1/sandboxes/$id/metadata")
[ "$st" = 200 ] && ok "in-cluster: a rotated token is read again (the next call passes)" || ko "in-cluster after rotation: $st"
curl -s -X DELETE -H "$H" "http://127.0.0.1:$iport/v1/sandboxes/$id" >/dev/null
docker rm -f "$inst-api" >/dev/null 2>&1

kill "$emu_pid" 2>/dev/null
wait "$emu_pid" 2>/dev/null
emu_pid=""
left=$(docker ps -aq --filter "label=k8s-emu.instance=$inst" | wc -l)
[ "$left" -eq 0 ] && ok "no pod container left behind" || ko "$left containers left"
summary k8s
