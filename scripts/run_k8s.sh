#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make run-k8s: the Kubernetes emulator (tests/k8s) on 127.0.0.1:6443 with its
# kubeconfig in build/k8s/kubeconfig and the BatchSandbox CRD applied, then
# sandbox-api on :8080 with --runtime kubernetes (namespace opensandbox,
# provider batchsandbox unless K8S_PROVIDER=pod), ready for the SDK. Pods run
# as Docker containers (the emulator's kubelet). Ctrl-C stops both.
# Not a real cluster: see tests/k8s/README.md for what the emulator covers.
# K8S_LISTEN, API_PORT, K8S_STATE_DIR, K8S_INSTANCE and SANDBOX_API move the
# emulator, the API port, the state and the binary (tests/integration/run_k8s.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
state=${K8S_STATE_DIR:-$top/build/k8s}
listen=${K8S_LISTEN:-127.0.0.1:6443}
api_port=${API_PORT:-8080}
mkdir -p "$state"
[ -d "$top/tests/k8s/node_modules" ] ||
	(cd "$top/tests/k8s" && npm ci --no-audit --no-fund --silent)
node "$top/tests/k8s/emulator.mjs" --listen "$listen" --state-dir "$state" \
	--kubeconfig-out "$state/kubeconfig" --instance "${K8S_INSTANCE:-run-k8s}" \
	--namespace opensandbox >"$state/emulator.log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null; wait $emu 2>/dev/null' EXIT INT TERM
i=0
until grep -q '^k8s-emu ready' "$state/emulator.log" 2>/dev/null; do
	kill -0 $emu 2>/dev/null || { cat "$state/emulator.log" >&2; exit 1; }
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "run-k8s: the emulator did not start" >&2; exit 1; }
	sleep 0.1
done
# --validate=false: Debian's kubectl (1.20, what setup.sh installs when there
# is none) validates against OpenAPI v2 in protobuf, which the emulator does not
# serve; the emulator validates the CRD itself either way.
KUBECONFIG=$state/kubeconfig kubectl apply --validate=false \
	-f "$top/deploy/kubernetes/crd-batchsandbox.yaml" >/dev/null
key=${OPENSANDBOX_SERVER_API_KEY:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
echo "kubernetes emulator: https://$listen  KUBECONFIG=$state/kubeconfig (kubectl works)"
echo "sandbox-api: http://localhost:$api_port  API key: $key"
echo "  SDK: new ConnectionConfig({ domain: 'localhost:$api_port', apiKey: '$key' }), image 'sandbox/base:latest'"
# Privileged containers (the installer's IPv6 switch) need a host that allows
# them; the sidecar's nftables rules still apply without it.
OPENSANDBOX_SERVER_API_KEY=$key "${SANDBOX_API:-$top/build/bin/sandbox-api}" --port "$api_port" \
	--runtime kubernetes --kubeconfig "$state/kubeconfig" --k8s-namespace opensandbox \
	--k8s-provider "${K8S_PROVIDER:-batchsandbox}" --egress-disable-ipv6=false \
	--state-dir "$state/api" "$@"
