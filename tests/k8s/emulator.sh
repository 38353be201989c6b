#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Kubernetes API emulator (tests/k8s/emulator.mjs) against real clients:
# kubectl with both kubeconfig contexts (token and client certificate) for
# get/list, get -w, apply of the CRD and a BatchSandbox, apply --dry-run=server,
# patch --type merge, the status subresource, label selectors, logs, delete,
# expireTime and garbage collection, with the BatchSandbox's pod really running
# in Docker and answering on its IP; then @kubernetes/client-node
# (client.test.mjs: Status errors, validation, watches, 410, every fault kind,
# the connection counter, pods with init containers, volumes, PVCs, probes);
# last, SIGTERM: the emulator exits 0 and leaves no container, volume or image
# of its instance. Traffic goes to 127.0.0.1 and to containers made here only.
# Ends with "k8s-emulator: N passed, N failed[, N skipped]"; exits 77 when
# node or dockerd is missing.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
here="$top/tests/k8s"
command -v node >/dev/null 2>&1 || { echo "skip: node is not installed"; exit 77; }
command -v docker >/dev/null 2>&1 && curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1 ||
	{ echo "skip: dockerd is not running"; exit 77; }
image=sandbox/base:latest
if ! docker image inspect "$image" >/dev/null 2>&1; then
	(cd "$top" && make -s all >/dev/null && sh scripts/images.sh >/dev/null) || { ko "images ($image) could not be built"; summary k8s-emulator; exit 1; }
fi
[ -d "$here/node_modules/@kubernetes/client-node" ] && [ -d "$here/node_modules/kubernetes-models" ] ||
	(cd "$here" && npm ci --no-audit --no-fund --silent) || { ko "npm ci in tests/k8s"; summary k8s-emulator; exit 1; }

t_start=$(date +%s)
work=$(mktemp -d)
state="$work/state"
inst="t$$-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
port=$(free_port)
emu=""
cleanup() {
	[ -n "$emu" ] && kill -9 "$emu" 2>/dev/null
	docker ps -aq --filter "label=k8s-emu.instance=$inst" | xargs -r docker rm -f >/dev/null 2>&1
	docker volume ls -q --filter "label=k8s-emu.instance=$inst" | xargs -r docker volume rm -f >/dev/null 2>&1
	docker images -q --filter "label=k8s-emu.instance=$inst" | xargs -r docker rmi -f >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

node "$here/emulator.mjs" --listen "127.0.0.1:$port" --state-dir "$state" --instance "$inst" \
	--kubeconfig-out "$work/kubeconfig" --history 50 --bookmark-interval-ms 500 >"$work/emu.out" 2>"$work/emu.err" &
emu=$!
i=0
until grep -q '^k8s-emu ready ' "$work/emu.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 "$emu" 2>/dev/null; then
		ko "emulator start (ready line within 30 s)"
		cat "$work/emu.err"
		summary k8s-emulator
		exit 1
	fi
	sleep 0.1
done
ok "emulator start: $(cat "$work/emu.out")"
url="https://127.0.0.1:$port"
for f in ca.crt token admin-token client.crt client.key kubeconfig; do
	[ -s "$state/$f" ] || ko "state dir has $f"
done
check "kubeconfig-out written" test -s "$work/kubeconfig"

export KUBECONFIG="$work/kubeconfig" HOME="$work/home"
mkdir -p "$HOME"
k() { timeout 60 kubectl --request-timeout=30s "$@"; }
adm() { curl -fsS --max-time 10 --cacert "$state/ca.crt" -H "Authorization: Bearer $(cat "$state/admin-token")" "$@"; }
# waits (at most $1 s) until the command after it succeeds
until_ok() {
	ut_left=$(($1 * 4))
	shift
	while [ $ut_left -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
		ut_left=$((ut_left - 1))
	done
	return 1
}

echo "-- kubectl: contexts, discovery, get"
if ! command -v kubectl >/dev/null 2>&1; then
	skip "kubectl checks: kubectl is not installed"
elif ! kubectl_usable; then
	skip "kubectl checks: this kubectl is older than 1.27 (it needs OpenAPI v2, which the emulator does not serve)"
else
	check "kubectl config: token context is current" sh -c '[ "$(kubectl config current-context)" = k8s-emu ]'
	check "kubectl version reaches the server" sh -c 'timeout 30 kubectl version -o json | grep -q v1.32.4-k8s-emu'
	check "token context: get namespaces lists default and opensandbox" sh -c 'timeout 30 kubectl get ns -o name | grep -q namespace/opensandbox && timeout 30 kubectl get ns default -o name | grep -q namespace/default'
	check "client-cert context: get namespaces" sh -c 'timeout 30 kubectl --context k8s-emu-cert get ns opensandbox -o jsonpath={.status.phase} | grep -qx Active'
	check "client-cert context: the certificate's CN is the user" sh -c "curl -fsS --max-time 10 --cacert '$state/ca.crt' -H \"Authorization: Bearer \$(cat '$state/admin-token')\" $url/_emulator/stats | grep -q '\"opensandbox-client\"'"
	check "no credentials: 401 Status JSON" sh -c "curl -s --cacert '$state/ca.crt' '$url/api/v1/namespaces' | grep -q '\"code\":401' && curl -s -o /dev/null -w '%{http_code}' --cacert '$state/ca.crt' '$url/api/v1/namespaces' | grep -qx 401"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/rogue.key" -out "$work/rogue.crt" -days 1 -subj "/O=system:masters/CN=rogue" >/dev/null 2>&1
	check "a client certificate from another CA: 401" sh -c "curl -s -o /dev/null -w '%{http_code}' --cacert '$state/ca.crt' --cert '$work/rogue.crt' --key '$work/rogue.key' '$url/api/v1/namespaces' | grep -qx 401"
	check "the test CA's client certificate without a token: 200" sh -c "curl -s -o /dev/null -w '%{http_code}' --cacert '$state/ca.crt' --cert '$state/client.crt' --key '$state/client.key' '$url/api/v1/namespaces' | grep -qx 200"
	check "server certificate valid for localhost" sh -c "curl -s -o /dev/null -w '%{http_code}' --cacert '$state/ca.crt' -H \"Authorization: Bearer \$(head -n1 '$state/token')\" 'https://localhost:$port/version' | grep -qx 200"
	check "runtimeclasses: 404 unless created" sh -c 'timeout 30 kubectl get runtimeclass gvisor 2>&1 | grep -q NotFound'

	echo "-- kubectl: CRD, dry-run, apply, watch"
	check "apply -f deploy/kubernetes/crd-batchsandbox.yaml" k apply -f "$top/deploy/kubernetes/crd-batchsandbox.yaml"
	check "the CRD becomes Established" until_ok 10 sh -c 'timeout 30 kubectl get crd batchsandboxes.sandbox.opensandbox.io -o jsonpath="{.status.conditions[?(@.type==\"Established\")].status}" | grep -qx True'
	check "get bsbx (short name) answers" until_ok 10 k get bsbx -n opensandbox
	id="emu-$inst"
	cat >"$work/bs.yaml" <<YAML
apiVersion: sandbox.opensandbox.io/v1alpha1
kind: BatchSandbox
metadata:
  name: $id
  namespace: opensandbox
  labels: {opensandbox.io/id: $id, opensandbox.io/suite: k8s-emulator}
spec:
  replicas: 1
  template:
    metadata:
      labels: {opensandbox.io/id: $id}
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: sandbox
        image: $image
        command: ["/bin/sh", "-c", "echo marker-$inst; mkdir -p /www && echo pong-$inst > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /index.html, port: 8080, httpHeaders: [{name: X-Check, value: "1"}]}
          periodSeconds: 1
          failureThreshold: 30
YAML
	sed -e "s/name: $id\$/name: bad-$id/" -e 's/replicas: 1/replicas: "one"/' "$work/bs.yaml" >"$work/bad.yaml"
	k apply --dry-run=server -f "$work/bad.yaml" >"$work/bad.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q 'spec.replicas' "$work/bad.out" && grep -q 'must be of type integer' "$work/bad.out"; then ok "apply --dry-run=server: a bad replicas type is refused naming spec.replicas"; else ko "apply --dry-run=server of a bad object (rc $rc): $(cat "$work/bad.out")"; fi
	check "apply --dry-run=server: a valid object is accepted" sh -c "timeout 60 kubectl apply --dry-run=server -f '$work/bs.yaml' | grep -q 'server dry run'"
	check "... and nothing was stored" sh -c "timeout 30 kubectl get bsbx -n opensandbox $id 2>&1 | grep -q NotFound"
	timeout 120 kubectl get bsbx -n opensandbox --watch --output-watch-events >"$work/watch.out" 2>"$work/watch.err" &
	watcher=$!
	sleep 1
	check "apply -f a BatchSandbox" k apply -f "$work/bs.yaml"
	if until_ok 90 sh -c "timeout 30 kubectl get bsbx -n opensandbox $id -o jsonpath={.status.phase} | grep -qx Succeed"; then ok "the BatchSandbox reaches phase Succeed"; else ko "the BatchSandbox reaches phase Succeed: $(k get bsbx,pods -n opensandbox -o wide 2>&1; k get events -n opensandbox 2>&1 | tail -n 20)"; fi
	ip=$(k get bsbx -n opensandbox "$id" -o jsonpath='{.metadata.annotations.sandbox\.opensandbox\.io/endpoints}' | tr -d '[]"' | cut -d, -f1)
	podip=$(k get pod -n opensandbox "$id-0" -o jsonpath='{.status.podIP}')
	check "endpoints annotation holds the pod IP ($ip)" sh -c "[ -n '$ip' ] && [ '$ip' = '$podip' ]"
	check "the pod's IP answers (HTTP from its container)" sh -c "curl -fsS --max-time 5 http://$ip:8080/index.html | grep -qx pong-$inst"
	check "status counts: replicas 1, allocated 1, ready 1, observedGeneration 1" sh -c "timeout 30 kubectl get bsbx -n opensandbox $id -o jsonpath='{.status.replicas}/{.status.allocated}/{.status.ready}/{.status.observedGeneration}/{.status.taskRunning}' | grep -qx 1/1/1/1/0"
	check "pod: labels from the template, controller ownerReference" sh -c "timeout 30 kubectl get pod -n opensandbox $id-0 -o jsonpath='{.metadata.labels.opensandbox\.io/id} {.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].controller}' | grep -qx '$id BatchSandbox true'"
	check "pod runs as Docker containers of this instance (holder + sandbox)" sh -c "[ \$(docker ps -q --filter label=k8s-emu.instance=$inst --filter label=io.kubernetes.pod.name=$id-0 | wc -l) -eq 2 ]"
	check "kubectl get bsbx prints the printer columns" sh -c "timeout 30 kubectl get bsbx -n opensandbox $id | head -n1 | grep -q 'DESIRED.*TOTAL.*ALLOCATED.*READY.*EXPIRE.*AGE'"
	check "kubectl get pods: READY 1/1 Running" sh -c "timeout 30 kubectl get pod -n opensandbox $id-0 --no-headers | grep -q '1/1 *Running'"
	check "kubectl logs" sh -c "timeout 30 kubectl logs -n opensandbox $id-0 | grep -qx marker-$inst"
	check "kubectl logs --tail=1 -c sandbox" sh -c "timeout 30 kubectl logs -n opensandbox $id-0 -c sandbox --tail=1 | grep -qx marker-$inst"
	check "label selector =" sh -c "timeout 30 kubectl get pods -n opensandbox -l opensandbox.io/id=$id -o name | grep -qx pod/$id-0"
	check "label selector in (...)" sh -c "timeout 30 kubectl get bsbx -n opensandbox -l 'opensandbox.io/id in ($id,other)' -o name | grep -q $id"
	check "label selector != and notin exclude it" sh -c "! timeout 30 kubectl get bsbx -n opensandbox -l 'opensandbox.io/id!=$id,opensandbox.io/id notin (x)' -o name | grep -q $id"
	check "label selector !key excludes it" sh -c "! timeout 30 kubectl get bsbx -n opensandbox -l '!opensandbox.io/suite' -o name | grep -q $id"
	check "field selector on events (involvedObject.name)" sh -c "timeout 30 kubectl get events -n opensandbox --field-selector involvedObject.name=$id-0 -o jsonpath='{.items[*].reason}' | grep -q Started"
	check "patch --type merge: a label (generation stays 1)" sh -c "timeout 30 kubectl patch bsbx -n opensandbox $id --type merge -p '{\"metadata\":{\"labels\":{\"patched\":\"yes\"}}}' >/dev/null && timeout 30 kubectl get bsbx -n opensandbox $id -o jsonpath='{.metadata.labels.patched}/{.metadata.generation}' | grep -qx yes/1"
	check "patch --type merge of status on the main resource leaves status alone" sh -c "timeout 30 kubectl patch bsbx -n opensandbox $id --type merge -p '{\"status\":{\"taskFailed\":42}}' -o jsonpath='{.status.taskFailed}' | grep -qx 0"
	check "patch --subresource=status changes status only" sh -c "timeout 30 kubectl patch bsbx -n opensandbox $id --subresource=status --type merge -p '{\"status\":{\"taskUnknown\":3},\"spec\":{\"replicas\":7}}' -o jsonpath='{.status.taskUnknown}/{.spec.replicas}' | grep -qx 3/1"
	check "patch --type merge of spec bumps generation" sh -c "timeout 30 kubectl patch bsbx -n opensandbox $id --type merge -p '{\"spec\":{\"expireTime\":\"2099-01-01T00:00:00Z\"}}' -o jsonpath='{.metadata.generation}' | grep -qx 2"
	check "patch --type merge with a bad value: 422 naming the field" sh -c "timeout 30 kubectl patch bsbx -n opensandbox $id --type merge -p '{\"spec\":{\"pause\":\"yes\"}}' 2>&1 | grep -q 'spec.pause'"
	uid=$(k get bsbx -n opensandbox "$id" -o jsonpath='{.metadata.uid}')
	cat >"$work/secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: owned-$id
  namespace: opensandbox
  ownerReferences: [{apiVersion: sandbox.opensandbox.io/v1alpha1, kind: BatchSandbox, name: $id, uid: $uid, controller: false}]
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: $(printf '{"auths":{}}' | base64 | tr -d '\n')
YAML
	check "create a Secret owned by the BatchSandbox" k apply -f "$work/secret.yaml"
	check "delete the BatchSandbox" k delete bsbx -n opensandbox "$id" --wait=true --timeout=60s
	check "its pod goes (garbage collection)" until_ok 30 sh -c "timeout 30 kubectl get pod -n opensandbox $id-0 2>&1 | grep -q NotFound"
	check "its Secret goes (garbage collection)" until_ok 15 sh -c "timeout 30 kubectl get secret -n opensandbox owned-$id 2>&1 | grep -q NotFound"
	check "its containers go" until_ok 30 sh -c "[ \$(docker ps -aq --filter label=k8s-emu.instance=$inst --filter label=io.kubernetes.pod.name=$id-0 | wc -l) -eq 0 ]"
	sleep 1
	kill $watcher 2>/dev/null
	wait $watcher
	check "get -w (table, --output-watch-events) saw the BatchSandbox ADDED, MODIFIED, DELETED" sh -c "grep -q '^EVENT *NAME *DESIRED' '$work/watch.out' && grep -q '^ADDED *$id ' '$work/watch.out' && grep -q '^MODIFIED *$id *1 *1 *1 *1 ' '$work/watch.out' && grep -q '^DELETED *$id ' '$work/watch.out'"

	echo "-- kubectl: expireTime"
	exp=$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%SZ)
	sed -e "s/name: $id\$/name: exp-$id/" -e "s/replicas: 1/replicas: 1\n  expireTime: \"$exp\"/" "$work/bs.yaml" >"$work/exp.yaml"
	check "apply a BatchSandbox expiring at $exp" k apply -f "$work/exp.yaml"
	check "it is deleted once expired, with its pod" until_ok 40 sh -c "timeout 30 kubectl get bsbx -n opensandbox exp-$id 2>&1 | grep -q NotFound && timeout 30 kubectl get pod -n opensandbox exp-$id-0 2>&1 | grep -q NotFound"
fi

echo "-- @kubernetes/client-node"
(cd "$here" && K8S_EMU_STATE="$state" K8S_EMU_URL="$url" K8S_EMU_IMAGE="$image" timeout 240 node --test --test-reporter=tap client.test.mjs) >"$work/tap.out" 2>&1
tap_count "$work/tap.out" $?

echo "-- SIGTERM"
kill -TERM "$emu"
i=0
while kill -0 "$emu" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$emu" 2>/dev/null; then ko "the emulator exits within 30 s of SIGTERM"; else
	wait "$emu"
	rc=$?
	emu=""
	check "the emulator exits 0 on SIGTERM (exit $rc)" test "$rc" -eq 0
fi
check "no container of the instance is left" sh -c "[ -z \"\$(docker ps -aq --filter label=k8s-emu.instance=$inst)\" ]"
check "no volume of the instance is left" sh -c "[ -z \"\$(docker volume ls -q --filter label=k8s-emu.instance=$inst)\" ]"
check "no image of the instance is left" sh -c "[ -z \"\$(docker images -q --filter label=k8s-emu.instance=$inst)\" ]"
if grep -q ' error ' "$work/emu.err"; then
	ko "emulator log has no error lines"
	grep ' error ' "$work/emu.err" | head -n 10
else ok "emulator log has no error lines"; fi
echo "  (suite took $(($(date +%s) - t_start)) s)"
summary k8s-emulator
