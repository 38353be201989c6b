#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make run-k8s` works as the README says: scripts/run_k8s.sh (moved to free
# ports and a temporary state folder) starts the emulator and the release
# sandbox-api, and the official SDK (sdk/run_k8s.test.mjs) runs end to end
# against it, once per provider; stopping the script's process group leaves no
# pod container behind.
# Ends with "run-k8s: N passed, N failed"; exits 77 without dockerd, node or kubectl.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
sdk="$top/tests/integration/sdk"
B=${BUILD:-build}
dockerd_up || { echo "skip: dockerd is not running"; exit 77; }
command -v node >/dev/null && command -v kubectl >/dev/null || { echo "skip: node or kubectl missing"; exit 77; }
sh "$top/scripts/images.sh" >/dev/null || { ko "images.sh"; summary run-k8s; exit 1; }
for d in "$sdk" "$top/tests/k8s"; do
	[ -d "$d/node_modules" ] || (cd "$d" && npm ci --no-audit --no-fund --silent) ||
		{ ko "npm ci in $d"; summary run-k8s; exit 1; }
done
[ -x "$top/$B/bin/sandbox-api" ] || { ko "$B/bin/sandbox-api is not built"; summary run-k8s; exit 1; }

work=$(mktemp -d)
pid=""
inst="runk8s-$$"
stop_run() { # the whole group (SIGINT is ignored in background jobs of sh)
	[ -n "$pid" ] || return 0
	kill -TERM "-$pid" 2>/dev/null
	(sleep 30 && kill -9 "-$pid") 2>/dev/null &
	watchdog=$!
	wait "$pid" 2>/dev/null
	kill "$watchdog" 2>/dev/null
	pid=""
}
cleanup() {
	stop_run
	docker ps -aq --filter "label=k8s-emu.instance=$inst" | xargs -r docker rm -f >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

for provider in ${PROVIDERS:-batchsandbox pod}; do
	port=$(free_port)
	key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	rm -rf "$work/state"
	K8S_LISTEN=127.0.0.1:$(free_port) API_PORT=$port K8S_STATE_DIR=$work/state \
		K8S_INSTANCE=$inst K8S_PROVIDER=$provider SANDBOX_API=$top/$B/bin/sandbox-api \
		OPENSANDBOX_SERVER_API_KEY=$key setsid sh "$top/scripts/run_k8s.sh" >"$work/run-$provider.log" 2>&1 &
	pid=$!
	i=0 # the emulator starts first: up to 60 s on a busy machine
	until curl -fs -o /dev/null "http://127.0.0.1:$port/health" || [ $i -ge 600 ]; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	if curl -fs -o /dev/null "http://127.0.0.1:$port/health"; then
		ok "[$provider] run_k8s.sh: sandbox-api answers"
	else
		ko "[$provider] run_k8s.sh: sandbox-api did not answer"
		sed 's/^/    /' "$work/run-$provider.log" | tail -20
		stop_run
		continue
	fi
	check "[$provider] kubectl with the kubeconfig it printed sees the CRD" env \
		"$(sed -n 's/.*\(KUBECONFIG=[^ ]*\).*/\1/p' "$work/run-$provider.log")" \
		kubectl get crd batchsandboxes.sandbox.opensandbox.io
	(cd "$sdk" && API_DOMAIN="127.0.0.1:$port" API_KEY=$key PROVIDER=$provider \
		timeout 300 node --test --test-reporter=tap run_k8s.test.mjs >"$work/sdk-$provider.tap" 2>&1)
	tap_count "$work/sdk-$provider.tap" $?
	group=$pid
	stop_run
	i=0 # the script is gone; its children end on their SIGTERM within 5 s
	while kill -0 "-$group" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	check_not "[$provider] stopped: no process of the script's group is left" kill -0 "-$group"
	left=$(docker ps -aq --filter "label=k8s-emu.instance=$inst" | wc -l)
	check "[$provider] stopped: no pod container left ($left)" [ "$left" -eq 0 ]
done
summary run-k8s
