#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# egressd benchmarks, inside a network namespace this script creates (loopback only),
# against the same stub upstream (tool_egress_stub on 127.0.0.2:5300), same client, same run:
#   1. allowed-query QPS: dnsperf through egressd (mode dns, and dns+nft where every answer
#      is inserted into the dynamic set before the reply) vs dnsmasq as a plain forwarder
#      with the cache off (--cache-size=0); ratio egressd/dnsmasq (goal >= 1.0);
#   2. denied-query QPS (answered by egressd itself);
#   3. p50/p99 latency added over querying the stub directly (one query at a time);
#   4. idle RSS (goal <= 1 MiB), RSS with 4,096 rules, and the binary size.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin="$top/build/bin/egressd"
stub="$top/build/bench/tool_egress_stub"
lat="$top/build/bench/tool_egress_dnslat"
DUR=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-3}
[ "$(id -u)" = 0 ] || { echo "bench egressd: skip: needs root (network namespace)"; exit 0; }
for t in dnsperf dnsmasq ip; do
	command -v $t >/dev/null || { echo "bench egressd: skip: $t not installed (scripts/setup.sh)"; exit 0; }
done
ns=egbench$$
work=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
ip netns add "$ns" && ip -n "$ns" link set lo up && ip -n "$ns" addr add 127.0.0.2/8 dev lo || exit 1
inns() { ip netns exec "$ns" "$@"; }
echo "*.bench.test A 192.0.2.1 300" >"$work/zone"
echo "*.denied.test A 192.0.2.2 300" >>"$work/zone"
STUB_QUIET=1 ip netns exec "$ns" "$stub" dns "$work/zone" 127.0.0.2:5300 >/dev/null 2>&1 &
pids="$pids $!"
i=0; while [ $i -lt 5000 ]; do echo "q$i.bench.test A"; i=$((i + 1)); done >"$work/allowed.txt"
i=0; while [ $i -lt 5000 ]; do echo "q$i.denied.test A"; i=$((i + 1)); done >"$work/denied.txt"
POLICY='{"defaultAction":"deny","egress":[{"action":"allow","target":"*.bench.test"}]}'

start_egressd() { # MODE [POLICY_FILE]
	ip netns exec "$ns" env OPENSANDBOX_EGRESS_MODE="$1" OPENSANDBOX_EGRESS_DNS_UPSTREAM=127.0.0.2:5300 \
		OPENSANDBOX_EGRESS_HTTP_ADDR=127.0.0.1:18080 OPENSANDBOX_EGRESS_RULES="$POLICY" \
		OPENSANDBOX_EGRESS_POLICY_FILE="${2:-$work/nofile}" \
		OPENSANDBOX_EGRESS_RULES_DIR="$work/none" OPENSANDBOX_EGRESS_MAX_RULES=0 \
		"$bin" --cleanup-on-exit >/dev/null 2>&1 &
	epid=$!
	pids="$pids $epid"
	i=0
	while [ $i -lt 100 ]; do
		inns curl -sf -o /dev/null --max-time 1 http://127.0.0.1:18080/healthz && return 0
		sleep 0.05; i=$((i + 1))
	done
	echo "bench egressd: egressd did not start"; exit 1
}
stop_egressd() { kill "$epid" 2>/dev/null; wait "$epid" 2>/dev/null; }
qps() { # PORT FILE -> queries per second
	inns dnsperf -s 127.0.0.1 -p "$1" -d "$2" -l "$DUR" -c 4 -q 200 2>&1 |
		sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rss_kib() { sed -n "s/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
p50() { echo "$1" | sed -n 's/.*p50_us=\([0-9-]*\).*/\1/p'; }
p99() { echo "$1" | sed -n 's/.*p99_us=\([0-9-]*\).*/\1/p'; }

ip netns exec "$ns" dnsmasq -k --conf-file=/dev/null --port=5301 --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --no-hosts --server=127.0.0.2#5300 --cache-size=0 --user=root --pid-file= \
	>/dev/null 2>&1 &
pids="$pids $!"
sleep 0.3

start_egressd dns
sleep 0.3
idle=$(rss_kib "$epid")
# Rounds alternate between egressd and dnsmasq; the median of each is reported.
a="" b="" c=""
r=0
while [ $r -lt "$ROUNDS" ]; do
	a="$a $(qps 15353 "$work/allowed.txt")"
	b="$b $(qps 5301 "$work/allowed.txt")"
	c="$c $(qps 15353 "$work/denied.txt")"
	r=$((r + 1))
done
q_eg=$(echo "$a" | median) q_dm=$(echo "$b" | median) q_den=$(echo "$c" | median)
l_direct=$(inns "$lat" 127.0.0.2 5300 "l.bench.test" 5000)
l_eg=$(inns "$lat" 127.0.0.1 15353 "l.bench.test" 5000)
l_dm=$(inns "$lat" 127.0.0.1 5301 "l.bench.test" 5000)
l_den=$(inns "$lat" 127.0.0.1 15353 "l.denied.test" 5000)
busy=$(rss_kib "$epid")
stop_egressd

start_egressd dns+nft
a=""
r=0
while [ $r -lt "$ROUNDS" ]; do a="$a $(qps 15353 "$work/allowed.txt")"; r=$((r + 1)); done
q_nft=$(echo "$a" | median)
l_nft=$(inns "$lat" 127.0.0.1 15353 "n.bench.test" 5000)
stop_egressd

# 4,096 rules: 4,000 names and wildcards + 96 CIDRs, in dns+nft mode (sets populated).
i=0
rules=""
while [ $i -lt 4000 ]; do
	if [ $((i % 2)) = 0 ]; then t="host$i.rules.test"; else t="*.zone$i.rules.test"; fi
	rules="$rules{\"action\":\"allow\",\"target\":\"$t\"},"
	i=$((i + 1))
done
i=0
while [ $i -lt 96 ]; do rules="$rules{\"action\":\"deny\",\"target\":\"198.51.$i.0/24\"},"; i=$((i + 1)); done
echo "{\"defaultAction\":\"deny\",\"egress\":[${rules%,}]}" >"$work/4k.json"
start_egressd dns+nft "$work/4k.json"
sleep 0.3
rss4k=$(rss_kib "$epid")
n4k=$(inns curl -s http://127.0.0.1:18080/policy | grep -o '"target"' | wc -l)
l_4k=$(inns "$lat" 127.0.0.1 15353 "x.zone3999.rules.test" 2000)
stop_egressd

size=$(stat -c %s "$bin")
dsize=$(stat -c %s "$(command -v dnsmasq)")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "egressd DNS (dnsperf, median of $ROUNDS alternating runs of $DUR s, 4 clients x 200 outstanding, stub upstream on loopback, cache off everywhere)"
printf '  allowed QPS   egressd dns      %10s\n' "$q_eg"
printf '  allowed QPS   egressd dns+nft  %10s   (every answer inserted into dyn_allow before the reply)\n' "$q_nft"
printf '  allowed QPS   dnsmasq          %10s   (--cache-size=0, plain forwarder)\n' "$q_dm"
printf '  ratio egressd/dnsmasq: dns %s, dns+nft %s (goal >= 1.0)\n' "$(ratio "$q_eg" "$q_dm")" "$(ratio "$q_nft" "$q_dm")"
printf '  denied QPS    egressd          %10s   (%s x allowed)\n' "$q_den" "$(ratio "$q_den" "$q_eg")"
echo "latency, one query at a time (5,000 queries): p50 / p99 in microseconds"
printf '  direct to stub     %6s / %6s\n' "$(p50 "$l_direct")" "$(p99 "$l_direct")"
printf '  egressd dns        %6s / %6s   added p50 %s us, p99 %s us\n' "$(p50 "$l_eg")" "$(p99 "$l_eg")" \
	"$(($(p50 "$l_eg") - $(p50 "$l_direct")))" "$(($(p99 "$l_eg") - $(p99 "$l_direct")))"
printf '  egressd dns+nft    %6s / %6s   added p50 %s us, p99 %s us\n' "$(p50 "$l_nft")" "$(p99 "$l_nft")" \
	"$(($(p50 "$l_nft") - $(p50 "$l_direct")))" "$(($(p99 "$l_nft") - $(p99 "$l_direct")))"
printf '  dnsmasq            %6s / %6s   added p50 %s us, p99 %s us\n' "$(p50 "$l_dm")" "$(p99 "$l_dm")" \
	"$(($(p50 "$l_dm") - $(p50 "$l_direct")))" "$(($(p99 "$l_dm") - $(p99 "$l_direct")))"
printf '  egressd denied     %6s / %6s   (answered locally)\n' "$(p50 "$l_den")" "$(p99 "$l_den")"
printf '  egressd 4,096 rules %5s / %6s   (dns+nft, wildcard hit on the last rule)\n' "$(p50 "$l_4k")" "$(p99 "$l_4k")"
echo "footprint"
printf '  idle RSS            %6s KiB (goal <= 1024)\n' "$idle"
printf '  RSS after the load  %6s KiB\n' "$busy"
printf '  RSS with 4,096 rules %5s KiB (dns+nft, static sets populated; %s rules loaded)\n' "$rss4k" "$n4k"
printf '  binary size         %8s bytes (static musl, stripped); dnsmasq %s bytes (dynamic) = %s x\n' \
	"$size" "$dsize" "$(ratio "$size" "$dsize")"
