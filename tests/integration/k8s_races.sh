#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sandbox-api's Kubernetes runtime (ASan/UBSan build) against the emulator
# without its kubelet and controller (no Docker needed; the test writes the
# BatchSandbox status itself): the orders of events that lost an answer, a
# workload or memory, and objects that others may edit. Fault rules of the
# emulator's admin API widen the races. Every sandbox-api ends with SIGTERM:
# exit status 0 and no sanitizer report.
# Ends with "k8s_races: N passed, N failed"; exits 77 without node or kubectl.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
emu_dir="$top/tests/k8s"
B=${BUILD:-build}
command -v node >/dev/null && command -v kubectl >/dev/null || { echo "skip: node or kubectl missing"; exit 77; }
kubectl_usable || { echo "skip: kubectl older than 1.27 (the emulator serves OpenAPI v3 only)"; exit 77; }
[ -d "$emu_dir/node_modules" ] || (cd "$emu_dir" && npm ci --no-audit --no-fund --silent) ||
	{ ko "npm ci in $emu_dir"; summary k8s_races; exit 1; }
bin=$top/$B/test/api-san
[ -x "$bin" ] || { ko "$bin is not built"; summary k8s_races; exit 1; }

work=$(mktemp -d)
inst="k8sraces-$$"
emu_pid="" pid=""
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	k8s_emulator_stop "$inst"
	keep_failed_logs k8s-races "$work"
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1

k8s_emulator_start "$top" "$work" "$inst" --no-kubelet
check "CRD applied with kubectl" kubectl apply -f "$top/deploy/kubernetes/crd-batchsandbox.yaml"
kc() { kubectl -n opensandbox "$@"; }
fault() { # fault JSON: one rule on the emulator's admin API
	curl -s --cacert "$work/emu/ca.crt" -H "Authorization: Bearer $(cat "$work/emu/admin-token")" \
		-H 'content-type: application/json' -d "$1" "https://127.0.0.1:$eport/_emulator/faults" >/dev/null
}
faults_clear() {
	curl -s -X DELETE --cacert "$work/emu/ca.crt" -H "Authorization: Bearer $(cat "$work/emu/admin-token")" \
		"https://127.0.0.1:$eport/_emulator/faults" >/dev/null
}

key=k
H="OPEN-SANDBOX-API-KEY: $key"
port="" api="" n=0
start_api() { # start_api [ARGS]: a new sandbox-api (log api-N.log), its instance label "$inst"
	n=$((n + 1))
	port=$(free_port)
	api="http://127.0.0.1:$port"
	OPENSANDBOX_SERVER_API_KEY=$key "$bin" --port "$port" --runtime kubernetes \
		--kubeconfig "$KUBECONFIG" --k8s-namespace opensandbox --instance "$inst" \
		--execd-image sandbox/execd:latest --egress-image sandbox/egressd:latest \
		--k8s-create-timeout 20 --state-dir "$work/state" "$@" >"$work/api-$n.log" 2>&1 &
	pid=$!
	wait_http "$api/health"
}
stop_api() { # stop_api NAME: SIGTERM, then exit status 0 and no sanitizer report
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=""
	[ $rc -eq 0 ] && ok "$1: SIGTERM, exit 0" || ko "$1: exit status $rc"
	if sanitizer_report "$work/api-$n.log"; then ko "$1: sanitizer report"; else ok "$1: no sanitizer report"; fi
}
body='{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sleep","infinity"],"timeout":600,"resourceLimits":{"cpu":"250m"}}'
create() { curl -s -m "${1:-30}" -X POST -H "$H" -H 'content-type: application/json' -d "$body" "$api/v1/sandboxes"; }
ids() { curl -s -H "$H" "$api/v1/sandboxes?pageSize=100" | sed 's/"id":"/\n/g' | sed -n '2,$s/".*//p'; }
# The controller's part, by hand: the pod's address, then a phase.
phase() { # phase ID PHASE
	kc patch batchsandbox "$1" --subresource=status --type=merge -p \
		"{\"status\":{\"replicas\":1,\"allocated\":1,\"ready\":1,\"taskRunning\":0,\"taskSucceed\":0,\"taskFailed\":0,\"taskPending\":0,\"taskUnknown\":0,\"phase\":\"$2\"}}" >/dev/null
}
running() { # running: creates a sandbox and makes it Running; prints its id
	create >"$work/create.out" &
	cp=$!
	i=0
	id=""
	while [ -z "$id" ] && [ $i -lt 50 ]; do
		sleep 0.1
		id=$(ids | head -n 1)
		i=$((i + 1))
	done
	i=0
	until kc get batchsandbox "$id" >/dev/null 2>&1 || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	kc annotate batchsandbox "$id" 'sandbox.opensandbox.io/endpoints=["10.9.9.9"]' --overwrite >/dev/null
	phase "$id" Succeed
	wait $cp
	echo "$id"
}
state_of() { curl -s -H "$H" "$api/v1/sandboxes/$1" | sed -n 's/.*"state":"\([^"]*\)".*/\1/p'; }

# 1. A resume answered after a delete began: before, it waited on a record the
#    delete then removed, and was never answered. The watch is held back so the
#    delete's own answer comes first.
start_api
id=$(running)
phase "$id" Paused
i=0
until [ "$(state_of "$id")" = Paused ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
fault '{"kind":"slow","verb":"watch","delayMs":5000,"count":1}'
fault '{"kind":"dropWatch","count":1}'
fault '{"kind":"slow","verb":"patch","delayMs":800,"count":1}'
sleep 0.3
curl -s -m 15 -o "$work/resume.out" -w '%{http_code}' -X POST -H "$H" "$api/v1/sandboxes/$id/resume" >"$work/resume.code" &
rp=$!
sleep 0.2
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$H" "$api/v1/sandboxes/$id")
wait $rp
[ "$code" = 204 ] && ok "delete during resume: 204" || ko "delete during resume: $code"
case "$(cat "$work/resume.code")" in
409 | 202) grep -q '"code"\|^$' "$work/resume.out" && ok "the resume is answered ($(cat "$work/resume.code"))" ||
	ko "resume: $(cat "$work/resume.out")" ;;
*) ko "resume answered $(cat "$work/resume.code") (000: never)" ;;
esac
stop_api "delete during resume"

# 2. SIGTERM while a create's POST is on its way: the create ends answered,
#    nothing leaks.
start_api
fault '{"kind":"slow","verb":"create","delayMs":1500,"count":1}'
create >/dev/null &
cp=$!
sleep 0.4
stop_api "SIGTERM during create"
wait $cp

# 3. A delete while the create's POST is on its way, then SIGTERM: the delete
#    said 204, so the workload must go too (the create's end deletes it).
kc delete batchsandboxes -l "opensandbox.io/instance=$inst" >/dev/null 2>&1
start_api
fault '{"kind":"slow","verb":"create","delayMs":1500,"count":1}'
create >/dev/null &
cp=$!
i=0
id=""
while [ -z "$id" ] && [ $i -lt 50 ]; do sleep 0.05; id=$(ids | head -n 1); i=$((i + 1)); done
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$H" "$api/v1/sandboxes/$id")
[ "$code" = 204 ] && ok "delete during create: 204" || ko "delete during create: $code"
stop_api "delete during create, then SIGTERM"
wait $cp
left=$(kc get batchsandboxes -l "opensandbox.io/instance=$inst" -o name | wc -l)
[ "$left" -eq 0 ] && ok "the deleted sandbox's workload is gone" || ko "$left workloads left after the delete"

# 4. A create whose POST the API server applied, its answer lost (the connection
#    cut): before, the POST went again (409 AlreadyExists: the create failed on
#    its own workload, which stayed). Now it is not sent twice, the create
#    fails, and the workload it may have made is deleted.
kc delete batchsandboxes -l "opensandbox.io/instance=$inst" >/dev/null 2>&1
start_api
ids >/dev/null # the kept connection is in use before the POST
fault '{"kind":"reset","verb":"create","after":true,"count":1}'
# No answer at all is "the cluster cannot be reached": 503 INITIALIZATION_ERROR;
# an answer the API server gave (5xx included) is 500 API_ERROR (see 6.).
got=$(curl -s -m 30 -w ' %{http_code}' -X POST -H "$H" -H 'content-type: application/json' -d "$body" "$api/v1/sandboxes")
case "$got" in *KUBERNETES::INITIALIZATION_ERROR*' 503') ok "answer lost: the create fails (503 INITIALIZATION_ERROR)" ;; *) ko "answer lost: $got" ;; esac
i=0
until [ "$(kc get batchsandboxes -l "opensandbox.io/instance=$inst" -o name | wc -l)" -eq 0 ] || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ $i -lt 50 ] && ok "answer lost: the workload it made is deleted" || ko "answer lost: the workload stays"
[ -z "$(ids)" ] && ok "answer lost: no sandbox listed" || ko "answer lost: listed $(ids)"
stop_api "answer lost"

# 4a. Until its first LIST of the cluster answers, sandbox-api does not know its
#     sandboxes: a list or a sandbox it has not seen is 503, not [] or 404 (a client
#     would read those as "gone"). The first LIST is held back 4 s.
fault '{"kind":"slow","verb":"list","delayMs":4000,"count":1}'
start_api
got=$(curl -s -w ' %{http_code}' -H "$H" "$api/v1/sandboxes")
case "$got" in *KUBERNETES::INITIALIZATION_ERROR*' 503') ok "before the first LIST: the list is 503" ;; *) ko "before the first LIST: list $got" ;; esac
got=$(curl -s -w ' %{http_code}' -H "$H" "$api/v1/sandboxes/00000000-0000-4000-8000-000000000000")
case "$got" in *' 503') ok "before the first LIST: an unknown sandbox is 503, not 404" ;; *) ko "before the first LIST: get $got" ;; esac
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$H" "$api/v1/sandboxes")" = 200 ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
[ $i -lt 100 ] && ok "after the first LIST: the list is 200" || ko "after the first LIST: still not 200"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$H" "$api/v1/sandboxes/00000000-0000-4000-8000-000000000000")" = 404 ] &&
	ok "after the first LIST: an unknown sandbox is 404" || ko "after the first LIST: unknown sandbox not 404"
stop_api "before the first LIST"
faults_clear

# 4b. Past K8S_UNSURE_MAX (256) creates in flight or unanswered, a new one is refused
#     before its POST: each unanswered create lingers to delete what it may have made,
#     and one past the cap used to be dropped, its workload left running unseen.
start_api
fault '{"kind":"reset","verb":"create","count":400}'
seq 260 | xargs -P 16 -I{} curl -s -m 60 -o /dev/null -X POST -H "$H" \
	-H 'content-type: application/json' -d "$body" "$api/v1/sandboxes"
fault '{"kind":"reset","verb":"create","after":true,"count":3}'
got=$(curl -s -m 30 -w ' %{http_code}' -X POST -H "$H" -H 'content-type: application/json' -d "$body" "$api/v1/sandboxes")
case "$got" in *'in flight or unanswered'*' 503') ok "unanswered creates at the cap: a new create is refused (503)" ;; *) ko "at the cap: $got" ;; esac
made=$(kc get batchsandboxes -l "opensandbox.io/instance=$inst" -o name | wc -l)
[ "$made" -eq 0 ] && ok "unanswered creates at the cap: no workload was made" || ko "at the cap: $made workloads made"
faults_clear
stop_api "unanswered creates at the cap"

# 5. No kubelet, no controller: the workload never runs. The create answers 504
#    POD_READY_TIMEOUT once --k8s-create-timeout passes, and its workload is deleted.
start_api --k8s-create-timeout 2
got=$(curl -s -m 30 -w ' %{http_code}' -X POST -H "$H" -H 'content-type: application/json' -d "$body" "$api/v1/sandboxes")
case "$got" in *'"code":"KUBERNETES::POD_READY_TIMEOUT"'*' 504') ok "not ready in time: 504 POD_READY_TIMEOUT" ;; *) ko "not ready in time: $got" ;; esac
i=0
until [ "$(kc get batchsandboxes -l "opensandbox.io/instance=$inst" -o name | wc -l)" -eq 0 ] || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ $i -lt 50 ] && ok "not ready in time: the workload is deleted" || ko "not ready in time: the workload stays"
[ -z "$(ids)" ] && ok "not ready in time: no sandbox listed" || ko "not ready in time: listed $(ids)"

# 6. A 5xx from the API server (here 503 on the POST) is upstream's "anything
#    else": 500 KUBERNETES::API_ERROR, not INITIALIZATION_ERROR (the server was reached).
fault '{"kind":"status","code":503,"verb":"create","count":1}'
got=$(curl -s -m 30 -w ' %{http_code}' -X POST -H "$H" -H 'content-type: application/json' -d "$body" "$api/v1/sandboxes")
case "$got" in *'"code":"KUBERNETES::API_ERROR"'*'503'*' 500') ok "API server 503: the create fails with 500 API_ERROR" ;; *) ko "API server 503: $got" ;; esac
id=$(running)
fault '{"kind":"status","code":500,"verb":"patch","count":1}'
got=$(curl -s -w ' %{http_code}' -X PATCH -H "$H" -H 'content-type: application/json' -d '{"a":"b"}' "$api/v1/sandboxes/$id/metadata")
case "$got" in *'"code":"KUBERNETES::API_ERROR"'*' 500') ok "API server 500 on a patch: 500 API_ERROR" ;; *) ko "API server 500 on a patch: $got" ;; esac
stop_api "API errors"
kc delete batchsandboxes -l "opensandbox.io/instance=$inst" >/dev/null 2>&1

# 7. Objects others may edit, seen by a new server.
start_api
a=$(running)
b=$(running)
c=$(running)
d=$(running)
kc patch batchsandbox "$a" --type=merge -p '{"metadata":{"annotations":{"note":"a\u0000b"}}}' >/dev/null
kc annotate batchsandbox "$b" opensandbox.io/access-renew-extend-seconds=9223372036854775807 --overwrite >/dev/null
kc annotate batchsandbox "$c" 'sandbox.opensandbox.io/endpoints=["localhost"]' --overwrite >/dev/null
kc label batchsandbox "$d" opensandbox.io/id= --overwrite >/dev/null
stop_api "objects edited"
start_api
i=0
until ids | grep -q "$a" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
ids | grep -q "$a" && ok "an annotation with \\u0000 does not hide the collection" || ko "no list with a \\u0000 annotation"
curl -s -m 5 -o /dev/null -H "$H" "$api/sandboxes/$b/proxy/8080/" # renew on access
check "a huge renew-extend annotation is ignored on access" curl -fs "$api/health"
got=$(curl -s -H "$H" "$api/v1/sandboxes/$c/endpoints/8080")
case "$got" in *POD_IP_NOT_AVAILABLE*) ok "a host name as the pod's address is refused" ;; *) ko "endpoint: $got" ;; esac
ids | grep -qvE '^[0-9a-f-]{36}$' && ko "a sandbox id that is no UUID: $(ids | grep -vE '^[0-9a-f-]{36}$' | head -n 1)" ||
	ok "objects whose id label is no UUID are not adopted"
for q in 'since=9223372036854775807d' 'since=99999999999999999h' 'tail=-1&limit=99999999999999999999'; do
	curl -s -o /dev/null -H "$H" "$api/v1/sandboxes/$a/diagnostics/logs?$q"
done
check "diagnostics with huge since/tail/limit: still serving" curl -fs "$api/health"
stop_api "edited objects"
kc delete batchsandboxes -l "opensandbox.io/instance=$inst" >/dev/null 2>&1

kill "$emu_pid" 2>/dev/null
wait "$emu_pid" 2>/dev/null
emu_pid=""
summary k8s_races
