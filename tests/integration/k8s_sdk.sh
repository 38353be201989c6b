#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sandbox-api's Kubernetes runtime on the emulator (tests/k8s: real HTTPS and
# Kubernetes semantics, pods run as Docker containers; no real API server can
# run on these machines), driven by the official SDK (sdk/k8s.test.mjs) for
# both providers, on the ASan/UBSan build; then kill -9 and a restart for each
# (every sandbox listed again, the watch resumes; pod provider: an expiry moved
# into the past while the server was down ends that sandbox), a server on the
# kubeconfig's client-certificate context with gateway-form endpoints, the
# deploy manifests applied with kubectl (and --dry-run=server), sandbox/api as
# the Deployment and ConfigMap run it, and no container left behind.
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
kubectl_usable || { echo "skip: kubectl older than 1.27 (the emulator serves OpenAPI v3 only)"; exit 77; }
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
	k8s_emulator_stop "$inst"
	keep_failed_logs k8s-sdk "$work"
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1

k8s_emulator_start "$top" "$work" "$inst"
check "CRD applied with kubectl" kubectl apply -f "$top/deploy/kubernetes/crd-batchsandbox.yaml"

# Egress checks resolve through a stub DNS server container (lib.sh), the only
# upstream the sidecars get: allowed.test and denied.test, never a real name.
dns_args="" dns_ip=""
if docker image inspect sandbox/egressd:latest >/dev/null 2>&1 && stub_dns_image "$top" "$B"; then
	docker run -d --name "$inst-dns" --label "k8s-emu.instance=$inst" opensandbox-c/stub-dns:test >/dev/null &&
		dns_ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$inst-dns")
fi
[ -n "$dns_ip" ] && dns_args="--egress-env OPENSANDBOX_EGRESS_DNS_UPSTREAM=$dns_ip"
# jget PATH: a field of the JSON on stdin ("a/b"), objects as JSON, "" if absent.
jget() {
	node -e 'let d=JSON.parse(require("fs").readFileSync(0,"utf8")||"null");
for(const k of process.argv[1].split("/"))d=d==null?d:d[k];
console.log(d==null?"":typeof d==="object"?JSON.stringify(d):String(d))' "$1" 2>/dev/null
}
emu_stats() { curl -sk -H "Authorization: Bearer $(cat "$work/emu/admin-token")" "https://127.0.0.1:$eport/_emulator/stats"; }
H="OPEN-SANDBOX-API-KEY: $key"

port=""
start_api() { # start_api PROVIDER [LOG]
	port=$(free_port)
	gport=$(free_port)
	OPENSANDBOX_SERVER_API_KEY=$key "$bin" --port "$port" --runtime kubernetes \
		--gateway-listen "127.0.0.1:$gport" \
		--kubeconfig "$KUBECONFIG" --k8s-namespace opensandbox --k8s-provider "$1" \
		--execd-image sandbox/execd:latest --egress-image sandbox/egressd:latest \
		--egress-disable-ipv6=false --k8s-watch-timeout 20 --instance "$inst-$1" $dns_args \
		--state-dir "$work/state-$1" >>"$work/api-$1.log" 2>&1 &
	pid=$!
	wait_http "http://127.0.0.1:$port/health"
}

for provider in batchsandbox pod; do
	echo "== provider $provider"
	start_api $provider
	check "[$provider] sandbox-api (ASan) answers" curl -fs "http://127.0.0.1:$port/health"
	(cd "$sdk" && API_DOMAIN="127.0.0.1:$port" API_KEY=$key PROVIDER=$provider RUN_ID="$run_id" \
		EMU_URL="https://127.0.0.1:$eport" EMU_ADMIN=$(cat "$work/emu/admin-token") GW_PORT=$gport DNS_STUB=$dns_ip \
		timeout 600 node --test --test-reporter=tap k8s.test.mjs >"$work/sdk-$provider.tap" 2>&1)
	tap_count "$work/sdk-$provider.tap" $?
	# Every call of the whole run went over one kept connection (watches keep their
	# own), and one more after the connection the emulator reset on purpose.
	calls=$(curl -s -H "OPEN-SANDBOX-API-KEY: $key" "http://127.0.0.1:$port/metrics" |
		sed -n 's/^sandbox_api_k8s_connections_total{use="calls"} //p')
	[ "${calls:-0}" -eq 2 ] && ok "[$provider] one kept connection carried every API call (a second after the injected reset)" ||
		ko "[$provider] API call connections: ${calls:-none} (want 2)"
	# kill -9 with live sandboxes; a new server lists them all and follows changes.
	kind=batchsandboxes
	[ "$provider" = pod ] && kind=pods
	mk() { curl -s -m 90 -X POST -H "$H" -H 'content-type: application/json' \
		-d '{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sleep","infinity"],"timeout":600,"resourceLimits":{"cpu":"100m"},"metadata":{"keep":"yes"}}' \
		"http://127.0.0.1:$port/v1/sandboxes" | jget id; }
	mk >"$work/made" &
	mkp=$!
	old=""
	[ "$provider" = pod ] && old=$(mk)
	wait $mkp
	made=$(cat "$work/made")
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	# While no server runs, its expiry is moved into the past (pods: the server owns it).
	[ -n "$old" ] && kubectl -n opensandbox annotate pods "$old" "opensandbox.io/expires-at=2000-01-01T00:00:00Z" --overwrite >/dev/null
	start_api $provider
	got=$(curl -s -H "$H" "http://127.0.0.1:$port/v1/sandboxes/$made")
	[ -n "$made" ] && [ "$(echo "$got" | jget metadata/keep)" = yes ] && [ "$(echo "$got" | jget status/state)" = Running ] &&
		ok "[$provider] after kill -9: the sandbox is listed, Running, with its metadata" || ko "[$provider] after kill -9: $made $got"
	kubectl -n opensandbox label $kind "$made" after=restart --overwrite >/dev/null 2>&1
	i=0
	until curl -s -H "$H" "http://127.0.0.1:$port/v1/sandboxes/$made" | grep -q '"after":"restart"' || [ $i -ge 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ $i -lt 100 ] && ok "[$provider] after kill -9: the watch follows the cluster again" || ko "[$provider] after kill -9: no watch"
	if [ "$provider" = pod ]; then
		# The first list of the new server arms its expiry (past: at once); the pod goes.
		i=0
		until { [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$H" "http://127.0.0.1:$port/v1/sandboxes/$old")" = 404 ] &&
			! kubectl -n opensandbox get pods "$old" >/dev/null 2>&1; } || [ $i -ge 150 ]; do
			sleep 0.2; i=$((i + 1))
		done
		[ -n "$old" ] && [ $i -lt 150 ] && ok "[pod] expired while the server was down: 404 and the pod deleted after the restart" ||
			ko "[pod] expired while down: $old still there"
	fi
	curl -s -X DELETE -H "$H" "http://127.0.0.1:$port/v1/sandboxes/$made" >/dev/null
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	rc=$?
	pid=""
	[ $rc -eq 0 ] && ok "[$provider] SIGTERM: clean exit" || ko "[$provider] exit status $rc"
	if sanitizer_report "$work/api-$provider.log"; then ko "[$provider] sanitizer report"; else ok "[$provider] no sanitizer report"; fi
done

# The kubeconfig's other context (k8s-emu-cert: a client certificate, no token),
# and endpoints in the gateway's forms (server.md 2.2: header, then uri after a
# restart): one request goes through each form to the pod.
users() { emu_stats | jget users/opensandbox-client/requests; }
c0=$(users)
port=$(free_port)
gport=$(free_port)
A="http://127.0.0.1:$port/v1/sandboxes"
start_cert() { # start_cert ROUTE_MODE
	OPENSANDBOX_SERVER_API_KEY=$key "$bin" --host 127.0.0.1 --port "$port" --runtime kubernetes \
		--kubeconfig "$KUBECONFIG" --k8s-context k8s-emu-cert --k8s-namespace opensandbox --k8s-provider pod \
		--execd-image sandbox/execd:latest --instance "$inst-cert" --state-dir "$work/state-cert" \
		--gateway-listen "127.0.0.1:$gport" --ingress-mode gateway --gateway-route-mode "$1" \
		--gateway-address "127.0.0.1:$gport" >>"$work/api-cert.log" 2>&1 &
	pid=$!
	wait_http "http://127.0.0.1:$port/health"
}
stop_cert() { # stop_cert NAME: SIGTERM, exit status 0
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=""
	[ $rc -eq 0 ] && ok "[$1] SIGTERM: clean exit" || ko "[$1] exit status $rc"
}
start_cert header
cid=$(curl -s -m 90 -X POST -H "$H" -H 'content-type: application/json' \
	-d '{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sleep","infinity"],"timeout":300,"resourceLimits":{"cpu":"100m"},"metadata":{"ctx":"cert"}}' \
	"$A" | jget id)
[ -n "$cid" ] && ok "[cert context] create" || ko "[cert context] create failed: $(tail -n 3 "$work/api-cert.log")"
curl -s -H "$H" "$A?metadata=ctx%3Dcert" | grep -q "\"id\":\"$cid\"" && ok "[cert context] list" || ko "[cert context] list"
c1=$(users)
[ "${c1:-0}" -gt "${c0:-0}" ] && ok "[cert context] the emulator saw the client certificate (${c0:-0} -> $c1 requests)" ||
	ko "[cert context] no request authenticated by the certificate (${c0:-0} -> ${c1:-0})"
ep=$(curl -s -H "$H" "$A/$cid/endpoints/44772")
[ "$(echo "$ep" | jget endpoint)" = "127.0.0.1:$gport" ] &&
	[ "$(echo "$ep" | jget headers/OpenSandbox-Ingress-To)" = "$cid-44772" ] &&
	ok "[gateway] endpoint: the gateway's address, OpenSandbox-Ingress-To: <id>-<port>" || ko "[gateway] endpoint: $ep"
e8=$(curl -s -H "$H" "$A/$cid/endpoints/8080")
[ "$(echo "$e8" | jget endpoint)" = "127.0.0.1:$gport" ] && [ "$(echo "$e8" | jget headers/OpenSandbox-Ingress-To)" = "$cid-8080" ] &&
	ok "[gateway] endpoint 8080 in the same form" || ko "[gateway] endpoint 8080: $e8"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "OpenSandbox-Ingress-To: $(echo "$ep" | jget headers/OpenSandbox-Ingress-To)" \
	-H "X-EXECD-ACCESS-TOKEN: $(echo "$ep" | jget headers/X-EXECD-ACCESS-TOKEN)" "http://$(echo "$ep" | jget endpoint)/ping")
[ "$st" = 200 ] && ok "[gateway] a request in the endpoint's form reaches execd in the pod" || ko "[gateway] through the endpoint: $st"
stop_cert "gateway header"
start_cert uri
i=0
until curl -s -H "$H" "$A/$cid" | grep -q '"state":"Running"' || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
ep=$(curl -s -H "$H" "$A/$cid/endpoints/44772")
[ "$(echo "$ep" | jget endpoint)" = "127.0.0.1:$gport/$cid/44772" ] && [ -z "$(echo "$ep" | jget headers/OpenSandbox-Ingress-To)" ] &&
	ok "[gateway uri] endpoint: <address>/<id>/<port>, no routing header" || ko "[gateway uri] endpoint: $ep"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "X-EXECD-ACCESS-TOKEN: $(echo "$ep" | jget headers/X-EXECD-ACCESS-TOKEN)" \
	"http://$(echo "$ep" | jget endpoint)/ping")
[ "$st" = 200 ] && ok "[gateway uri] a request in the endpoint's form reaches execd in the pod" || ko "[gateway uri] through the endpoint: $st"
st=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$H" "$A/$cid")
i=0
until ! kubectl -n opensandbox get pods "$cid" >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$st" = 204 ] && [ $i -lt 100 ] && ok "[cert context] delete: 204, the pod is gone" || ko "[cert context] delete: $st"
stop_cert "cert context"
if sanitizer_report "$work/api-cert.log"; then ko "[cert context] sanitizer report"; else ok "[cert context] no sanitizer report"; fi

# The deploy manifests: a server-side dry run, then applied for real.
check "deploy manifests: kubectl apply --dry-run=server" kubectl apply --dry-run=server -f "$top/deploy/kubernetes/"
check "deploy manifests: kubectl apply" kubectl apply -f "$top/deploy/kubernetes/"
check "deploy: the Role allows watching batchsandboxes" sh -c \
	"kubectl -n opensandbox get role sandbox-api -o jsonpath='{.rules[0].verbs}' | grep -q watch"
check "deploy: the Deployment runs sandbox/api:latest" sh -c \
	"kubectl -n opensandbox get deployment sandbox-api -o jsonpath='{.spec.template.spec.containers[0].image}' | grep -qx sandbox/api:latest"

# In-cluster, as deploy/kubernetes/deployment.yaml runs sandbox/api: the
# ConfigMap's config.json mounted read-only at /etc/sandbox-api and named by
# --config, the API key from the Secret sandbox-api-key, user and group 65532,
# a read-only root, the state dir on a tmpfs (the emptyDir), no capabilities,
# no privilege escalation. The service-account token and CA are where the
# kubelet puts them, owned by the pod's user, mode 0600, as the kubelet makes
# projected tokens when runAsUser is set and no fsGroup. Host network, to reach
# the emulator on the loopback: so the config's ports and listen addresses are
# the one change made to it (free loopback ports, not 8080/8081 on all hosts).
# The token is rotated mid-run (last: kubectl has the old token).
mkdir -p "$work/cfg" "$work/sa"
iport=$(free_port)
igport=$(free_port)
# (applied as YAML: the emulator takes no body of `kubectl create secret`)
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: sandbox-api-key, namespace: opensandbox}\ndata: {key: %s}\n' \
	"$(printf %s "$key" | base64 -w0)" | kubectl apply -f - >/dev/null
ikey=$(kubectl -n opensandbox get secret sandbox-api-key -o jsonpath='{.data.key}' | base64 -d)
kubectl -n opensandbox get configmap sandbox-api -o jsonpath='{.data.config\.json}' |
	node -e 'const c=JSON.parse(require("fs").readFileSync(0,"utf8"));
c.server.host="127.0.0.1"; c.server.port=+process.argv[1]; c.ingress.gateway.listen="127.0.0.1:"+process.argv[2];
console.log(JSON.stringify(c,null,1))' "$iport" "$igport" >"$work/cfg/config.json"
cp "$work/emu/ca.crt" "$work/sa/ca.crt"
chown 65532:65532 "$work/emu/token" "$work/sa/ca.crt" && chmod 600 "$work/emu/token" "$work/sa/ca.crt" && chmod 755 "$work/cfg" && chmod 644 "$work/cfg/config.json"
sa=/var/run/secrets/kubernetes.io/serviceaccount
cfgd=/etc/sandbox-api
docker run -d --name "$inst-api" --label "k8s-emu.instance=$inst" --network host \
	--user 65532:65532 --read-only --tmpfs /var/lib/sandbox-api:rw,noexec,nosuid,uid=65532,gid=65532,mode=0700 \
	--cap-drop ALL --security-opt no-new-privileges \
	-v "$work/cfg:$cfgd:ro" -v "$work/emu/token:$sa/token:ro" -v "$work/sa/ca.crt:$sa/ca.crt:ro" \
	-e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT="$eport" \
	-e OPENSANDBOX_SERVER_API_KEY="$ikey" sandbox/api:latest --config "$cfgd/config.json" >/dev/null 2>&1
check "in-cluster: sandbox/api runs as the Deployment's user, read-only" sh -c \
	"docker inspect -f '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}' $inst-api | grep -qx '65532:65532 true'"
wait_http "http://127.0.0.1:$iport/health"
ic=$(curl -s -m 90 -X POST -H "$H" -H 'content-type: application/json' \
	-d '{"image":{"uri":"sandbox/base:latest"},"entrypoint":["sleep","infinity"],"timeout":300,"resourceLimits":{"cpu":"100m"}}' \
	"http://127.0.0.1:$iport/v1/sandboxes")
id=$(echo "$ic" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
case "$ic" in *'"state":"Running"'*) ok "in-cluster: sandbox/api:latest with the service account creates a Running sandbox" ;;
*) ko "in-cluster create: $ic"; docker logs "$inst-api" 2>&1 | tail -n 5 ;; esac
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$igport/status.ok")" = 200 ] &&
	ok "in-cluster: the gateway listens as configured" || ko "in-cluster: no gateway on the configured listen address"

curl -sk -X POST -H "Authorization: Bearer $(cat "$work/emu/admin-token")" "https://127.0.0.1:$eport/_emulator/token/rotate" >/dev/null
sleep 1.2 # the token file is looked at once a second
st=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "$H" -H 'content-type: application/json' \
	-d '{"rotated":"yes"}' "http://127.0.0.1:$iport/v1/sandboxes/$id/metadata")
[ "$st" = 200 ] && ok "in-cluster: a rotated token is read again (the next call passes)" || ko "in-cluster after rotation: $st"
curl -s -X DELETE -H "$H" "http://127.0.0.1:$iport/v1/sandboxes/$id" >/dev/null
docker rm -f "$inst-api" >/dev/null 2>&1

docker rm -f "$inst-dns" >/dev/null 2>&1
kill "$emu_pid" 2>/dev/null
wait "$emu_pid" 2>/dev/null
emu_pid=""
left=$(docker ps -aq --filter "label=k8s-emu.instance=$inst" | wc -l)
[ "$left" -eq 0 ] && ok "no pod container left behind" || ko "$left containers left"
summary k8s
