# SPDX-License-Identifier: Apache-2.0
# Sourced by every integration suite: one way to count, skip, report and
# clean up. A suite ends with `summary NAME`, which prints exactly
# "NAME: N passed, N failed" (", N skipped" when any) and returns non-zero
# if anything failed; scripts/test.sh adds these lines up.
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "  ok   $*"; }
ko() { fail=$((fail + 1)); echo "  FAIL $*"; }
skip() { skip=$((skip + 1)); echo "  skip $*"; }
dockerd_up() { curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; }
# A kubectl the Kubernetes emulator can serve: it has OpenAPI v3 only, and kubectl
# before 1.27 (Debian's is 1.20) asks for v2 in protobuf before apply and validation.
kubectl_usable() {
	minor=$(kubectl version --client -o json 2>/dev/null |
		sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n 1)
	[ "${minor:-0}" -ge 27 ]
}
check() { # check NAME CMD...: passes when CMD succeeds
	n=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$n"; else ko "$n"; fi
}
check_not() { # check_not NAME CMD...: passes when CMD fails
	n=$1
	shift
	if "$@" >/dev/null 2>&1; then ko "$n"; else ok "$n"; fi
}
summary() {
	if [ "$skip" -gt 0 ]; then
		echo "$1: $pass passed, $fail failed, $skip skipped"
	else
		echo "$1: $pass passed, $fail failed"
	fi
	[ "$fail" -eq 0 ]
}
# The stub DNS server image of the egress checks (docker's cache makes a rebuild
# cheap): the one DNS
# stub of the test suites (tests/bench/tool_egress_stub.c, static musl, FROM
# scratch) answering allowed.test (10.1.2.3) and denied.test (10.1.2.4) only.
#   stub_dns_image TOP BUILD; fails if it cannot be had.
stub_dns_image() {
	_ctx=$(mktemp -d)
	make -s -C "$1" BUILD="$2" "$2/bench/tool_egress_stub" >/dev/null &&
		cp "$1/$2/bench/tool_egress_stub" "$_ctx/stub" &&
		printf 'allowed.test A 10.1.2.3 60\ndenied.test A 10.1.2.4 60\n' >"$_ctx/zone" &&
		printf 'FROM scratch\nCOPY stub zone /\nENTRYPOINT ["/stub", "dns", "/zone", "0.0.0.0:53"]\n' >"$_ctx/Dockerfile" &&
		docker build -q -t opensandbox-c/stub-dns:test "$_ctx" >/dev/null 2>&1
	_rc=$?
	rm -rf "$_ctx"
	return $_rc
}
# A free TCP port on the loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + $$ % 20000))
}
# Prints the first sanitizer report in FILE and succeeds if there is one.
sanitizer_report() {
	grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$1" 2>/dev/null || return 1
	echo "--- sanitizer report ($1) ---"
	grep -E -A40 "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$1" | head -60
	return 0
}
# Keeps both cores busy (bounded: they stop by themselves after $1 seconds).
hogs=""
cpu_hogs_start() {
	for _ in 1 2; do
		timeout "${1:-300}" sh -c 'while :; do :; done' &
		hogs="$hogs $!"
	done
}
cpu_hogs_stop() {
	for h in $hogs; do kill "$h" 2>/dev/null; done
	hogs=""
}
# Open fds and resident KiB of a process.
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# sandbox-api's fds less the idle pooled upstream connections it may keep (up to
# 90 s, by design) after proxying: PID, then the server's base URL and API key.
api_fds() {
	idle=$(curl -s -H "OPEN-SANDBOX-API-KEY: $API_FDS_KEY" "$API_FDS_URL/metrics" |
		awk '/^sandbox_api_upstream_idle/ { n += $2 } END { print n + 0 }')
	echo $(($(fd_count "$1") - idle))
}
# Waits (at most 30 s) until PID holds at most MAX fds: a starved process may
# hold still for a while with closes still to do.
# FDS_OF names the counting function (default fd_count).
wait_fds() {
	i=0
	while [ "$(${FDS_OF:-fd_count} "$1")" -gt "$2" ] && [ $i -lt 60 ]; do
		sleep 0.5
		i=$((i + 1))
	done
}
rss_kib() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null; }
# Waits (at most ~5 s) until URL answers; extra curl flags may follow.
wait_http() {
	url=$1
	shift
	i=0
	until curl -fs -o /dev/null "$@" "$url"; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
}
# tap_count FILE RC: adds a `node --test --test-reporter=tap` run's counts (its
# skips as skips); a non-zero exit with no failed test counts as one failure.
tap_count() {
	grep -E '^(not ok|ok) ' "$1" | sed 's/^/  /'
	tp=$(sed -n 's/^# pass //p' "$1" | tail -n 1)
	tf=$(sed -n 's/^# fail //p' "$1" | tail -n 1)
	ts=$(sed -n 's/^# skipped //p' "$1" | tail -n 1)
	pass=$((pass + ${tp:-0}))
	fail=$((fail + ${tf:-0}))
	skip=$((skip + ${ts:-0}))
	if [ "$2" -ne 0 ]; then
		echo "--- node output ---"
		tail -n 80 "$1"
		[ "${tf:-0}" = 0 ] && fail=$((fail + 1))
	fi
	return 0
}
# each_flavour NAME VAR BIN...: runs this script again once per BIN with VAR=BIN
# (the release binary, then the sanitizer build), shows each run and adds up
# its "run: ..." line, then prints NAME's summary.
each_flavour() {
	ef_name=$1 ef_var=$2
	shift 2
	ef_rc=0
	for ef_bin in "$@"; do
		ef_out=$(mktemp)
		env "$ef_var=$ef_bin" timeout "${EF_TIMEOUT:-900}" "$0" >"$ef_out" 2>&1 || ef_rc=1
		cat "$ef_out"
		line=$(grep -E '^run: [0-9]+ passed, [0-9]+ failed' "$ef_out" | tail -n 1)
		rm -f "$ef_out"
		if [ -z "$line" ]; then
			ko "$ef_bin: no summary line"
			continue
		fi
		pass=$((pass + $(echo "$line" | sed -E 's/^run: ([0-9]+) passed.*/\1/')))
		fail=$((fail + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
		ls=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
		skip=$((skip + ${ls:-0}))
	done
	[ $ef_rc -ne 0 ] && [ "$fail" -eq 0 ] && ko "a run exited non-zero without a failed check"
	summary "$ef_name"
}
# k8s_emulator_start TOP WORK INSTANCE [ARGS...]: the Kubernetes emulator (tests/k8s) on a
# free port with its state in WORK/emu and KUBECONFIG exported; sets eport and emu_pid.
k8s_emulator_start() {
	ke_top=$1 ke_work=$2 ke_inst=$3
	shift 3
	eport=$(free_port)
	node "$ke_top/tests/k8s/emulator.mjs" --listen "127.0.0.1:$eport" --state-dir "$ke_work/emu" \
		--instance "$ke_inst" --namespace opensandbox "$@" >"$ke_work/emu.log" 2>&1 &
	emu_pid=$!
	i=0
	until grep -q '^k8s-emu ready' "$ke_work/emu.log" 2>/dev/null || [ $i -ge 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "emulator started" grep -q '^k8s-emu ready' "$ke_work/emu.log"
	export KUBECONFIG="$ke_work/emu/kubeconfig"
}
# k8s_emulator_stop INSTANCE: ends the emulator (it removes what it made), then
# whatever of the instance a killed emulator left.
k8s_emulator_stop() {
	[ -n "${emu_pid:-}" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	emu_pid=""
	docker ps -aq --filter "label=k8s-emu.instance=$1" 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
	docker volume ls -q --filter "label=k8s-emu.instance=$1" 2>/dev/null |
		xargs -r docker volume rm >/dev/null 2>&1
}
# keep_failed_logs NAME WORK: after a failure, WORK's logs, TAP and config files go to
# $TMPDIR/NAME-failed (the folder itself is about to be removed).
keep_failed_logs() {
	[ "$fail" -gt 0 ] || return 0
	kl_dir=${TMPDIR:-/tmp}/$1-failed
	rm -rf "$kl_dir"
	mkdir -p "$kl_dir" && cp "$2"/*.log "$2"/*.tap "$2"/*.toml "$kl_dir/" 2>/dev/null
	echo "  logs: $kl_dir"
}
