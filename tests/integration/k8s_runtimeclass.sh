#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The secure runtime on Kubernetes (ASan/UBSan build, emulator with its kubelet
# and controller): a configured RuntimeClass that does not exist stops
# sandbox-api at start-up (exit status not 0, the reason logged); once applied
# with kubectl, the server starts and the workloads of both providers carry
# runtimeClassName (--k8s-runtime-class, and the TOML secure_runtime.type =
# "gvisor" mapped to class gvisor). gVisor cannot run here: the classes'
# handler is runc, and a class whose handler Docker lacks fails the pod
# sandbox (FailedCreatePodSandBox), as the kubelet does.
# Ends with "k8s_runtimeclass: N passed, N failed"; exits 77 without dockerd,
# node, kubectl or the sandbox images.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
emu_dir="$top/tests/k8s"
B=${BUILD:-build}
dockerd_up || { echo "skip: dockerd is not running"; exit 77; }
command -v node >/dev/null && command -v kubectl >/dev/null || { echo "skip: node or kubectl missing"; exit 77; }
kubectl_usable || { echo "skip: kubectl older than 1.27 (the emulator serves OpenAPI v3 only)"; exit 77; }
for img in sandbox/execd:latest sandbox/base:latest; do
	docker image inspect "$img" >/dev/null 2>&1 || { echo "skip: image $img missing (scripts/images.sh)"; exit 77; }
done
[ -d "$emu_dir/node_modules" ] || (cd "$emu_dir" && npm ci --no-audit --no-fund --silent) ||
	{ ko "npm ci in $emu_dir"; summary k8s_runtimeclass; exit 1; }
bin=$top/$B/test/api-san
[ -x "$bin" ] || { ko "$bin is not built"; summary k8s_runtimeclass; exit 1; }

work=$(mktemp -d)
inst="k8src-$$"
emu_pid="" pid=""
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	k8s_emulator_stop "$inst"
	keep_failed_logs k8s-runtimeclass "$work"
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1

k8s_emulator_start "$top" "$work" "$inst"
check "CRD applied with kubectl" kubectl apply -f "$top/deploy/kubernetes/crd-batchsandbox.yaml"
kc() { kubectl -n opensandbox "$@"; }
runtimeclass() { # runtimeclass NAME HANDLER: applied with kubectl
	printf 'apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: %s\nhandler: %s\n' "$1" "$2" |
		kubectl apply -f - >/dev/null
}
want() { # want NAME GOT WANT
	[ "$2" = "$3" ] && ok "$1" || ko "$1: got '$2', want '$3'"
}

key=k
H="OPEN-SANDBOX-API-KEY: $key"
port="" api="" an=0
start_api() { # start_api ARGS: a new sandbox-api in the background (log api-N.log)
	an=$((an + 1))
	port=$(free_port)
	api="http://127.0.0.1:$port"
	OPENSANDBOX_SERVER_API_KEY=$key "$bin" --port "$port" --kubeconfig "$KUBECONFIG" \
		--instance "$inst" --egress-image sandbox/egressd:latest --k8s-create-timeout 40 \
		--state-dir "$work/state" "$@" >"$work/api-$an.log" 2>&1 &
	pid=$!
}
no_report() { # no_report NAME: the last sandbox-api's log has no sanitizer report
	if sanitizer_report "$work/api-$an.log"; then ko "$1: sanitizer report"; else ok "$1: no sanitizer report"; fi
}
refused() { # refused NAME CLASS ARGS: sandbox-api exits non-zero at start-up, naming the class
	rname=$1 class=$2
	shift 2
	start_api "$@"
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		ko "$rname: still running after 30 s"
		kill -9 "$pid"
		wait "$pid" 2>/dev/null
	else
		wait "$pid"
		rc=$?
		[ $rc -ne 0 ] && ok "$rname: exit status $rc" || ko "$rname: exit status 0"
	fi
	pid=""
	check "$rname: the log names the missing RuntimeClass" \
		grep -q "RuntimeClass '$class' (the secure runtime) does not exist" "$work/api-$an.log"
	no_report "$rname"
}
stop_api() { # stop_api NAME: SIGTERM, then exit status 0 and no sanitizer report
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=""
	[ $rc -eq 0 ] && ok "$1: SIGTERM, exit 0" || ko "$1: exit status $rc"
	no_report "$1"
}
body='{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sleep","infinity"],"timeout":600,"resourceLimits":{"cpu":"250m"}}'
id=""
create() { # create NAME: a sandbox on $api, its id in $id
	out=$(curl -s -m 60 -X POST -H "$H" -H 'content-type: application/json' -d "$body" "$api/v1/sandboxes")
	id=$(printf '%s' "$out" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
	case "$out" in *'"state":"Running"'*) ok "$1: sandbox created and Running" ;; *) ko "$1: create: $out" ;; esac
}

echo "== --k8s-runtime-class, provider batchsandbox"
refused "no RuntimeClass test-rc" test-rc --runtime kubernetes --k8s-namespace opensandbox \
	--k8s-runtime-class test-rc
check "RuntimeClass test-rc applied with kubectl" runtimeclass test-rc runc
want "kubectl get runtimeclass shows its handler" \
	"$(kubectl get runtimeclass test-rc --no-headers 2>&1 | awk '{print $1, $2}')" "test-rc runc"
start_api --runtime kubernetes --k8s-namespace opensandbox --k8s-runtime-class test-rc
check "sandbox-api starts once test-rc exists" wait_http "$api/health"
check "its start-up log names the class" grep -q '"runtimeClassName":"test-rc"' "$work/api-$an.log"
create "[batchsandbox]"
want "[batchsandbox] the BatchSandbox template carries runtimeClassName" \
	"$(kc get batchsandbox "$id" -o jsonpath='{.spec.template.spec.runtimeClassName}' 2>&1)" test-rc
want "[batchsandbox] its pod does too" \
	"$(kc get pods -l "opensandbox.io/id=$id" -o jsonpath='{.items[0].spec.runtimeClassName}' 2>&1)" test-rc
curl -s -X DELETE -H "$H" "$api/v1/sandboxes/$id" >/dev/null
stop_api "[batchsandbox]"

echo "== TOML secure_runtime.type = gvisor, provider pod"
cat >"$work/sandbox.toml" <<EOF
[runtime]
type = "kubernetes"
execd_image = "sandbox/execd:latest"
[kubernetes]
namespace = "opensandbox"
workload_provider = "pod"
[secure_runtime]
type = "gvisor"
EOF
refused "gvisor without its RuntimeClass" gvisor --config "$work/sandbox.toml"
# A stand-in: its handler is runc, since no gVisor runs on these machines.
check "RuntimeClass gvisor applied with kubectl (handler runc)" runtimeclass gvisor runc
start_api --config "$work/sandbox.toml"
check "sandbox-api starts once gvisor exists" wait_http "$api/health"
create "[pod]"
want "[pod] the Pod carries runtimeClassName gvisor" \
	"$(kc get pod "$id" -o jsonpath='{.spec.runtimeClassName}' 2>&1)" gvisor
curl -s -X DELETE -H "$H" "$api/v1/sandboxes/$id" >/dev/null
stop_api "[pod]"

echo "== the kubelet and a handler Docker lacks"
pod_yaml() { # pod_yaml NAME CLASS
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: opensandbox}\nspec:\n  runtimeClassName: %s\n  containers: [{name: c, image: sandbox/base:latest, command: [sleep, infinity]}]\n' "$1" "$2"
}
if docker info --format '{{json .Runtimes}}' | grep -q '"runsc"'; then
	skip "dockerd has runsc: a pod of that class would run"
else
	check "RuntimeClass runsc applied with kubectl" runtimeclass runsc runsc
	check "a pod of class runsc is admitted" sh -c "printf '%s' \"\$1\" | kubectl apply -f -" _ "$(pod_yaml rc-runsc runsc)"
	ev() { kc get events --field-selector involvedObject.name=rc-runsc 2>/dev/null | grep FailedCreatePodSandBox; }
	i=0
	until ev >/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
	case "$(ev)" in *'no runtime for "runsc"'*) ok "its pod sandbox fails: FailedCreatePodSandBox" ;;
	*) ko "no FailedCreatePodSandBox event: $(kc get events 2>&1 | tail -3)" ;; esac
	want "it stays Pending" "$(kc get pod rc-runsc -o jsonpath='{.status.phase}' 2>&1)" Pending
	kc delete pod rc-runsc --wait=false >/dev/null 2>&1
fi
# A class deleted after its pod was admitted: the pod (held unscheduled by a
# missing claim meanwhile) fails its sandbox, retried until the class is back.
check "RuntimeClass later-rc applied" runtimeclass later-rc runc
out=$( (pod_yaml rc-later later-rc | sed 's/^  containers:/  volumes: [{name: v, persistentVolumeClaim: {claimName: later-claim}}]\n&/'
	) | kubectl apply -f - 2>&1)
check "a pod of class later-rc is admitted (its claim missing)" kc get pod rc-later
check "RuntimeClass later-rc deleted" kubectl delete runtimeclass later-rc
printf 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: later-claim, namespace: opensandbox}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n' |
	kubectl apply -f - >/dev/null 2>&1
lev() { kc get events --field-selector involvedObject.name=rc-later 2>/dev/null | grep FailedCreatePodSandBox; }
i=0
until lev >/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
case "$(lev)" in *'runtimeclass.node.k8s.io "later-rc" not found'*) ok "scheduled without its class: FailedCreatePodSandBox" ;;
*) ko "no FailedCreatePodSandBox for later-rc: $(kc get events 2>&1 | tail -3)" ;; esac
want "it is Pending" "$(kc get pod rc-later -o jsonpath='{.status.phase}' 2>&1)" Pending
check "RuntimeClass later-rc applied again" runtimeclass later-rc runc
i=0
until [ "$(kc get pod rc-later -o jsonpath='{.status.phase}' 2>/dev/null)" = Running ] || [ $i -ge 150 ]; do sleep 0.1; i=$((i + 1)); done
want "the retried sandbox starts once the class is back" "$(kc get pod rc-later -o jsonpath='{.status.phase}' 2>&1)" Running
kc delete pod rc-later --wait=false >/dev/null 2>&1
out=$(pod_yaml rc-absent absent | kubectl apply -f - 2>&1)
case "$out" in *'RuntimeClass "absent" not found'*) ok "a pod of a missing class is refused at admission" ;;
*) ko "a pod of a missing class: $out" ;; esac

summary k8s_runtimeclass
