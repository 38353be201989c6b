#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# egressd end to end, in three network namespaces this script creates:
#   dns  - the stub authoritative server (tests/bench/tool_egress_stub, egressd's codec)
#          on 198.51.100.53 and fd00:53::53 (UDP+TCP 53)
#   web  - HTTP "hello <addr>" on 203.0.113.10-15 and fd00:80::10-11, ports 8080 and 853
#   app  - egressd and the client (dig, curl); routes to both, nothing else.
# The matrix runs in mode dns and in mode dns+nft, against build/bin/egressd and then
# build/test/egressd-san (any sanitizer report fails). Only *.test names and addresses
# from 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and fd00::/8 are used.
# Ends with "egressd: N passed, N failed" (tests/integration/lib.sh); exits 77
# (skip) without root or tools.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
B=${BUILD:-build}
if [ -z "${EGRESSD_BIN:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "skip: egressd_netns needs root (network namespaces, nftables)"; exit 77; }
	for t in ip dig curl nft; do
		command -v $t >/dev/null || { echo "skip: $t not installed (scripts/setup.sh)"; exit 77; }
	done
	make -s -C "$top" BUILD="$B" "$B/bench/tool_egress_stub" >/dev/null || { ko "tool_egress_stub"; summary egressd; exit 1; }
	EF_TIMEOUT=600 each_flavour egressd EGRESSD_BIN "$top/$B/bin/egressd" "$top/$B/test/egressd-san"
	exit $?
fi

bin=$EGRESSD_BIN
stub="$top/$B/bench/tool_egress_stub"
id=$$
A=egapp$id D=egdns$id W=egweb$id
work=$(mktemp -d)
epid="" spid="" wpid=""
cleanup() {
	for p in $epid $spid $wpid; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$D" 2>/dev/null
	ip netns del "$W" 2>/dev/null
	rm -rf "/etc/netns/$A" "$work"
}
trap cleanup EXIT INT TERM

inapp() { ip netns exec "$A" "$@"; }
# dig in the app namespace through /etc/netns/$A/resolv.conf (198.51.100.53, redirected)
# Positive checks ask up to 3 times: one lost UDP packet under load is not a failure.
q() { inapp dig +time=2 +tries=3 "$@"; }
status_is() { q "$2" "$3" 2>/dev/null | grep -q "status: $1"; }
resolves_to() { q +short "$1" "$2" 2>/dev/null | grep -qx "$3"; }
http_ok() { inapp curl -s --max-time 2 "$@" | grep -q hello; }
api() { inapp curl -s --max-time 5 -H "OPENSANDBOX-EGRESS-AUTH: tok" "$@"; }
api_code() { inapp curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "OPENSANDBOX-EGRESS-AUTH: tok" "$@"; }
# expires_ms IP: time left of a dyn_allow_v4 element, in ms
expires_ms() {
	inapp nft list set inet opensandbox dyn_allow_v4 | grep -o "$1 timeout [^ ]* expires [0-9a-z]*" |
		awk '{ s = $5; ms = 0
			while (match(s, /^[0-9]+(ms|s|m|h|d)/)) {
				t = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1); n = t + 0; u = t; sub(/^[0-9]+/, "", u)
				ms += n * (u == "ms" ? 1 : u == "s" ? 1000 : u == "m" ? 60000 : u == "h" ? 3600000 : 86400000)
			}
			print ms }'
}
wait_for() { # wait_for TRIES CMD...: polls every 0.1 s
	t=$1; shift
	i=0
	while [ $i -lt "$t" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# ---- topology ---------------------------------------------------------------------------
for n in $A $D $W; do ip netns add "$n" && ip -n "$n" link set lo up || { ko "netns $n"; summary run; exit 1; }; done
ip link add "va$id" netns "$A" type veth peer name "vd$id" netns "$D"
ip link add "vb$id" netns "$A" type veth peer name "vw$id" netns "$W"
ip -n "$A" addr add 198.51.100.1/24 dev "va$id"
ip -n "$A" addr add fd00:53::1/64 dev "va$id" nodad
ip -n "$D" addr add 198.51.100.53/24 dev "vd$id"
ip -n "$D" addr add fd00:53::53/64 dev "vd$id" nodad
ip -n "$A" addr add 203.0.113.1/24 dev "vb$id"
ip -n "$A" addr add fd00:80::1/64 dev "vb$id" nodad
for i in 10 11 12 13 14 15 20; do ip -n "$W" addr add 203.0.113.$i/24 dev "vw$id"; done
ip -n "$W" addr add fd00:80::10/64 dev "vw$id" nodad
ip -n "$W" addr add fd00:80::11/64 dev "vw$id" nodad
for n in "va$id:$A" "vd$id:$D" "vb$id:$A" "vw$id:$W"; do ip -n "${n#*:}" link set "${n%%:*}" up; done
mkdir -p "/etc/netns/$A"
echo "nameserver 198.51.100.53" >"/etc/netns/$A/resolv.conf"

cat >"$work/zone" <<'EOF'
allowed.test A 203.0.113.10 30
www.allowed.test CNAME allowed.test 30
denied.test A 203.0.113.11 30
*.wild.test A 203.0.113.12 30
wild.test A 203.0.113.12 30
tc.test A 203.0.113.13 30 tc
alias.test CNAME cdenied.test 30
cdenied.test A 203.0.113.14 30
short.test A 203.0.113.15 1
slow.test A 203.0.113.16 30 drop
long.test A 203.0.113.17 3600
cdn.test A 203.0.113.18 300
cdn2.test A 203.0.113.18 1
v6.test AAAA fd00:80::10 30
txt.test TXT hello 30
EOF
ip netns exec "$D" "$stub" dns "$work/zone" 198.51.100.53:53 "[fd00:53::53]:53" >"$work/stub.log" 2>&1 &
spid=$!
ip netns exec "$W" "$stub" http 203.0.113.10:8080 203.0.113.11:8080 203.0.113.12:8080 \
	203.0.113.13:8080 203.0.113.14:8080 203.0.113.20:8080 203.0.113.10:853 "[fd00:80::10]:8080" "[fd00:80::11]:8080" \
	>"$work/web.log" 2>&1 &
wpid=$!
wait_for 50 grep -q ready "$work/stub.log"
wait_for 50 grep -q ready "$work/web.log"

POLICY='{"defaultAction":"deny","egress":[
 {"action":"allow","target":"allowed.test"},{"action":"allow","target":"www.allowed.test"},
 {"action":"deny","target":"bad.wild.test"},{"action":"allow","target":"*.wild.test"},
 {"action":"allow","target":"alias.test"},{"action":"allow","target":"v6.test"},
 {"action":"allow","target":"tc.test"},{"action":"allow","target":"short.test"},
 {"action":"allow","target":"slow.test"},{"action":"allow","target":"long.test"},
 {"action":"allow","target":"cdn.test"},{"action":"allow","target":"cdn2.test"},
 {"action":"allow","target":"txt.test"}]}'

start_egressd() { # start_egressd MODE [flags]
	mode=$1; shift
	mkdir -p "$work/rules"
	ip netns exec "$A" env ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		OPENSANDBOX_EGRESS_MODE="$mode" OPENSANDBOX_EGRESS_TOKEN=tok \
		OPENSANDBOX_EGRESS_DNS_UPSTREAM="198.51.100.53,[fd00:53::53]" \
		OPENSANDBOX_EGRESS_DNS_UPSTREAM_TIMEOUT=2 \
		OPENSANDBOX_EGRESS_HTTP_ADDR=127.0.0.1:18080 OPENSANDBOX_EGRESS_RULES="$POLICY" \
		OPENSANDBOX_EGRESS_POLICY_FILE="$work/policy.json" \
		OPENSANDBOX_EGRESS_RULES_DIR="$work/rules" OPENSANDBOX_EGRESS_ALWAYS_RELOAD_SEC=1 \
		"$bin" "$@" >>"$work/egressd.out" 2>>"$work/egressd.err" &
	epid=$!
	wait_for 100 inapp curl -sf --max-time 1 http://127.0.0.1:18080/healthz
}
stop_egressd() { # stop_egressd [SIGNAL]
	kill "-${1:-TERM}" "$epid" 2>/dev/null
	wait "$epid" 2>/dev/null
	epid=""
}

run_mode() {
	mode=$1
	nft=false
	[ "$mode" = "dns+nft" ] && nft=true
	echo "== mode $mode ($bin)"
	rm -f "$work/policy.json" "$work/rules/"*
	check "[$mode] healthz 200 once the ruleset is in" start_egressd "$mode"
	check "[$mode] redirect table installed before healthz" sh -c "ip netns exec $A nft list table ip opensandbox_dns_redirect | grep -q 'redirect to :15353'"
	if $nft; then
		check "[$mode] filter table with policy drop" sh -c "ip netns exec $A nft list chain inet opensandbox egress | grep -q 'policy drop'"
	fi
	check "[$mode] allowed name resolves" resolves_to allowed.test A 203.0.113.10
	check "[$mode] allowed name connects" http_ok http://allowed.test:8080/
	check "[$mode] denied name gets NXDOMAIN" status_is NXDOMAIN denied.test A
	check "[$mode] NXDOMAIN echoes the EDNS OPT" sh -c "ip netns exec $A dig +time=2 +tries=1 denied.test | grep -q 'OPT PSEUDOSECTION'"
	check "[$mode] denial logged" grep -q '"action":"deny","target.host":"denied.test"' "$work/egressd.out"
	check "[$mode] wildcard allows a.wild.test" resolves_to a.wild.test A 203.0.113.12
	check "[$mode] wildcard allows deep names" resolves_to x.y.wild.test A 203.0.113.12
	check "[$mode] wildcard excludes the apex" status_is NXDOMAIN wild.test A
	check "[$mode] first match: deny bad.wild.test before *.wild.test" status_is NXDOMAIN bad.wild.test A
	check "[$mode] CNAME chain resolves" resolves_to www.allowed.test A 203.0.113.10
	check "[$mode] TXT of an allowed name" sh -c "ip netns exec $A dig +short +time=2 +tries=1 TXT txt.test | grep -q hello"
	check "[$mode] DNS to another resolver IP is redirected (allowed)" sh -c "ip netns exec $A dig +short +time=2 +tries=1 @203.0.113.99 allowed.test | grep -qx 203.0.113.10"
	check "[$mode] DNS to another resolver IP is redirected (denied)" sh -c "ip netns exec $A dig +time=2 +tries=1 @203.0.113.99 denied.test | grep -q NXDOMAIN"
	check "[$mode] TCP DNS through egressd" sh -c "ip netns exec $A dig +tcp +short +time=2 +tries=1 allowed.test | grep -qx 203.0.113.10"
	check "[$mode] TCP query forwarded over TCP" grep -q "dns tcp allowed.test" "$work/stub.log"
	check "[$mode] TC=1 upstream answer retried over TCP" sh -c "ip netns exec $A dig +notcp +ignore +short +time=3 +tries=1 tc.test | grep -qx 203.0.113.13"
	check "[$mode] TC retry reached the stub over TCP" grep -q "dns tcp tc.test" "$work/stub.log"
	check "[$mode] IPv6: AAAA via a v6 resolver (redirected to [::1]:15353)" sh -c "ip netns exec $A dig +short +time=2 +tries=3 @fd00:53::53 AAAA v6.test | grep -qx fd00:80::10"
	check "[$mode] IPv6: allowed v6 address connects" http_ok "http://[fd00:80::10]:8080/"
	check "[$mode] CNAME to a denied name: the question decides" resolves_to alias.test A 203.0.113.14
	if command -v python3 >/dev/null; then
		check "[$mode] QDCOUNT=2 gets FORMERR with the same id" sh -c "ip netns exec $A python3 -c '
import socket,struct
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2)
q=lambda n: b\"\".join(bytes([len(l)])+l.encode() for l in n.split(\".\"))+b\"\\0\\0\\1\\0\\1\"
for attempt in range(3):
  s.sendto(struct.pack(\">6H\",0x4242,0x100,2,0,0,0)+q(\"allowed.test\")+q(\"denied.test\"),(\"198.51.100.53\",53))
  try:
    r=s.recv(512); break
  except socket.timeout:
    r=b\"\"
assert r[:2]==b\"\\x42\\x42\" and r[3]&15==1, r'"
	else
		skip "[$mode] QDCOUNT=2 check: no python3"
	fi
	check "[$mode] the denied CNAME target asked directly: NXDOMAIN" status_is NXDOMAIN cdenied.test A
	# API
	check "[$mode] GET /policy without token: 401" sh -c "[ \"\$(ip netns exec $A curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18080/policy)\" = 401 ]"
	check "[$mode] invalid defaultAction: 400 naming the field" sh -c "ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' -X POST -d '{\"defaultAction\":\"block\"}' http://127.0.0.1:18080/policy | grep -q defaultAction"
	check "[$mode] malformed name: 400 naming egress[0].target" sh -c "ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' -X POST -d '{\"egress\":[{\"action\":\"allow\",\"target\":\"a b\"}]}' http://127.0.0.1:18080/policy | grep -q 'egress\\[0\\].target'"
	check "[$mode] bad CIDR rejected with 400" sh -c "[ \"\$(ip netns exec $A curl -s -o /dev/null -w '%{http_code}' -H 'OPENSANDBOX-EGRESS-AUTH: tok' -X POST -d '{\"egress\":[{\"action\":\"allow\",\"target\":\"10.0.0.0/33\"}]}' http://127.0.0.1:18080/policy)\" = 400 ]"
	check "[$mode] PATCH puts rules in front" sh -c "ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' -X PATCH -d '[{\"action\":\"allow\",\"target\":\"bad.wild.test\"}]' http://127.0.0.1:18080/policy | grep -q enforcing"
	check "[$mode] patched name now resolves" resolves_to bad.wild.test A 203.0.113.12
	check "[$mode] GET shows the patch first" sh -c "ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' http://127.0.0.1:18080/policy | grep -q '\"egress\":\\[{\"action\":\"allow\",\"target\":\"bad.wild.test\"}'"
	check "[$mode] policy file written atomically after the change" grep -q bad.wild.test "$work/policy.json"
	check "[$mode] DELETE removes the rule" sh -c "ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' -X DELETE -d '[\"BAD.wild.test\"]' http://127.0.0.1:18080/policy | grep -q enforcing"
	check "[$mode] DELETE removed both bad.wild.test rules: the wildcard allow decides" resolves_to bad.wild.test A 203.0.113.12
	check "[$mode] DELETE of an unknown target" sh -c "ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' -X DELETE -d '[\"nonexistent.test\"]' http://127.0.0.1:18080/policy | grep -q 'no matching targets found'"
	check "[$mode] DELETE with an empty body: 400" sh -c "[ \"\$(ip netns exec $A curl -s -o /dev/null -w '%{http_code}' -H 'OPENSANDBOX-EGRESS-AUTH: tok' -X DELETE http://127.0.0.1:18080/policy)\" = 400 ]"
	check "[$mode] /metrics counts denials" sh -c "ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' http://127.0.0.1:18080/metrics | grep -q 'egress_dns_queries_total{result=\"denied\"} [1-9]'"
	# always files beat user rules
	echo "allowed.test" >"$work/rules/deny.always"
	echo "denied.test" >"$work/rules/allow.always"
	check "[$mode] deny.always beats a user allow" wait_for 40 status_is NXDOMAIN allowed.test A
	check "[$mode] allow.always beats the default deny" wait_for 40 resolves_to denied.test A 203.0.113.11
	check "[$mode] always rules not shown by GET" sh -c "! ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' http://127.0.0.1:18080/policy | grep -q denied.test"
	rm -f "$work/rules/deny.always" "$work/rules/allow.always"
	check "[$mode] deleting the always files removes their rules" wait_for 40 resolves_to allowed.test A 203.0.113.10
	check "[$mode] ... and denied.test is denied again" wait_for 40 status_is NXDOMAIN denied.test A
	if $nft; then
		check_not "[$mode] direct IP of a never-resolved host is dropped" http_ok http://203.0.113.20:8080/
		check_not "[$mode] direct IPv6 of a never-resolved host is dropped" http_ok "http://[fd00:80::11]:8080/"
		check_not "[$mode] DoT port blocked even to an allowed IP" http_ok http://203.0.113.10:853/
		check "[$mode] learned IP in dyn_allow_v4" sh -c "ip netns exec $A nft list set inet opensandbox dyn_allow_v4 | grep -q 203.0.113.10"
		# The client may not cache an answer longer than its address stays allowed (6 min).
		check "[$mode] a 3600 s TTL reaches the client as 300 s" sh -c \
			"ip netns exec $A dig +noall +answer +time=2 +tries=1 long.test | grep -Eq '^long\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+203\.0\.113\.17'"
		# timeout refresh (B3): short.test has TTL 1 -> timeout 61 s; asking again restarts it.
		resolves_to short.test A 203.0.113.15
		e1=$(expires_ms 203.0.113.15)
		sleep 2.2
		e2=$(expires_ms 203.0.113.15)
		resolves_to short.test A 203.0.113.15
		e3=$(expires_ms 203.0.113.15)
		check "[$mode] timeout 61 s for TTL 1" sh -c "ip netns exec $A nft list set inet opensandbox dyn_allow_v4 | grep -q '203.0.113.15 timeout 1m1s'"
		check "[$mode] dynamic element timeout refreshed ($e1 -> $e2 -> $e3 ms)" [ "${e3:-0}" -gt "${e2:-999999}" ]
		# One address, two names (a CDN): the 1 s TTL answer does not cut the 300 s one's 6 min.
		resolves_to cdn.test A 203.0.113.18
		resolves_to cdn2.test A 203.0.113.18
		e4=$(expires_ms 203.0.113.18)
		check "[$mode] a short TTL does not shorten a shared address ($e4 ms left)" [ "${e4:-0}" -gt 300000 ]
		# a policy update keeps the dynamic sets (B4)
		check "[$mode] POST a policy without allowed.test" sh -c "ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' -X POST -d '{\"defaultAction\":\"deny\",\"egress\":[{\"action\":\"allow\",\"target\":\"txt.test\"},{\"action\":\"deny\",\"target\":\"192.0.2.0/24\"}]}' http://127.0.0.1:18080/policy | grep -q enforcing"
		check "[$mode] deny CIDR in the static set" sh -c "ip netns exec $A nft list set inet opensandbox deny_v4 | grep -q 192.0.2.0/24"
		check "[$mode] already-resolved IP still connects after the update" http_ok http://203.0.113.10:8080/
		check "[$mode] ... and is still in dyn_allow_v4" sh -c "ip netns exec $A nft list set inet opensandbox dyn_allow_v4 | grep -q 203.0.113.10"
		check "[$mode] the name itself is now denied" status_is NXDOMAIN allowed.test A
		api -X POST -d "$POLICY" http://127.0.0.1:18080/policy >/dev/null
		# Forged replies looped back inside the namespace (as from an app with CAP_NET_RAW or
		# CAP_NET_ADMIN) while slow.test is out at the upstream, which never answers it:
		# every id is tried, none may be learned.
		up=$(ip netns exec "$A" ss -Hnu state established dst 198.51.100.53:53 | awk '{print $3; exit}')
		q slow.test A >/dev/null 2>&1 &
		qpid=$!
		sleep 0.3
		sent=$(ip netns exec "$A" python3 "$top/tests/integration/fixtures/dns_spoof.py" 198.51.100.53 \
			"${up%:*}" "${up##*:}" slow.test 203.0.113.16 2>&1)
		wait "$qpid"
		check "[$mode] forged upstream replies sent ($sent to $up)" [ "${sent:-0}" -gt 60000 ]
		check_not "[$mode] ... and none was learned" sh -c "ip netns exec $A nft list set inet opensandbox dyn_allow_v4 | grep -q 203.0.113.16"
		check "[$mode] ... dropped by the spoof guard (nft: iifname lo fib saddr type != local ...)" sh -c \
			"ip netns exec $A nft list chain inet opensandbox spoof_guard | grep -Eq 'iifname \"lo\" fib saddr type != local .*counter packets [0-9]{5,} bytes [0-9]+ drop'"
	else
		check "[$mode] dns mode: no filter table" sh -c "! ip netns exec $A nft list table inet opensandbox"
	fi
	# crash: the kernel state stays, DNS fails closed, restart adopts
	stop_egressd KILL
	check "[$mode] after SIGKILL the redirect stays" sh -c "ip netns exec $A nft list table ip opensandbox_dns_redirect | grep -q redirect"
	check_not "[$mode] after SIGKILL DNS fails closed" sh -c "ip netns exec $A dig +short +time=1 +tries=1 allowed.test | grep -qx 203.0.113.10"
	check_not "[$mode] after SIGKILL DNS to another resolver fails closed too" sh -c "ip netns exec $A dig +short +time=1 +tries=1 @203.0.113.99 allowed.test | grep -qx 203.0.113.10"
	if $nft; then
		check_not "[$mode] after SIGKILL a non-allowed IP stays blocked" http_ok http://203.0.113.20:8080/
	fi
	check "[$mode] restart: healthz" start_egressd "$mode"
	check "[$mode] restart: allowed traffic works again" http_ok http://allowed.test:8080/
	check "[$mode] restart: denied still denied" status_is NXDOMAIN denied.test A
	check "[$mode] restart: policy file wins over the env" sh -c "ip netns exec $A curl -s -H 'OPENSANDBOX-EGRESS-AUTH: tok' http://127.0.0.1:18080/policy | grep -q short.test"
	# clean stop: fail closed
	stop_egressd TERM
	check "[$mode] SIGTERM leaves a deny-by-default filter" sh -c "ip netns exec $A nft list chain inet opensandbox egress | grep -q 'policy drop'"
	check "[$mode] SIGTERM leaves DNS redirected" sh -c "ip netns exec $A nft list table ip opensandbox_dns_redirect | grep -q redirect"
	check_not "[$mode] after SIGTERM nothing resolves" sh -c "ip netns exec $A dig +short +time=1 +tries=1 allowed.test | grep -qx 203.0.113.10"
	check "[$mode] --cleanup-on-exit: start" start_egressd "$mode" --cleanup-on-exit
	stop_egressd TERM
	check "[$mode] --cleanup-on-exit removes the tables" sh -c "! ip netns exec $A nft list tables | grep -q opensandbox"
}

# Floods and fd exhaustion on the policy API (the listener and server of lib/).
limits() {
	sdk="$top/tests/integration/sdk"
	echo "== limits ($bin)"
	check "[limits] start" start_egressd dns
	r=$(cd "$sdk" && ip netns exec "$A" node flood.mjs flood 127.0.0.1:18080 /policy "$epid" 1100 "OPENSANDBOX-EGRESS-AUTH: tok")
	echo "    $r"
	check "[limits] a token holder is served within 1 s behind 1,100 slow strangers" \
		python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["all_ok"] and d["max_ms"] < 1000))' "$r"
	check "[limits] DNS still answers during the flood" status_is NOERROR allowed.test A
	stop_egressd TERM
	# A hard limit of 256 fds: never spinning, 503 for who cannot be taken, then served again.
	check "[limits] start with 256 fds" start_egressd dns
	# (prlimit on the running process: the start-up raise to the hard limit already ran)
	prlimit --pid "$epid" --nofile=256:256
	r=$(cd "$sdk" && ip netns exec "$A" node flood.mjs emfile 127.0.0.1:18080 /policy "$epid" 400 "OPENSANDBOX-EGRESS-AUTH: tok")
	echo "    $r"
	check "[limits] out of fds: no spinning, 503, served again" \
		python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["cpu_out_of_fds"] < 0.2 and d["during"]["status"] == 200 and d["refused_503"] + d["shed"] >= 1 and d["after"]["status"] == 200))' "$r"
	check "[limits] out of fds is logged" grep -q "out of file descriptors" "$work/egressd.out"
	stop_egressd TERM
}

run_mode dns
run_mode dns+nft
limits
check_not "no sanitizer report" sanitizer_report "$work/egressd.err"
sanitizer_report "$work/egressd.err"
if [ $fail -ne 0 ]; then
	echo "--- egressd stderr (tail) ---"; tail -n 20 "$work/egressd.err"
	echo "--- egressd log (tail) ---"; tail -n 20 "$work/egressd.out"
	echo "--- stub log (tail) ---"; tail -n 20 "$work/stub.log"
fi
summary run
