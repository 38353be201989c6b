#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# OpenSandbox bootstrap, installed as /opt/opensandbox/bootstrap.sh: starts
# execd in the background, then the user's entrypoint, and forwards SIGTERM
# and SIGINT to it. POSIX sh only (busybox ash, dash, bash).
#
#   bootstrap.sh                 the user's shell
#   bootstrap.sh -c "cmd"        $SHELL_BIN -c "cmd"
#   bootstrap.sh prog args...    prog args...
#   BOOTSTRAP_CMD="cmd"          as -c "cmd"
set -e

truthy() {
	case "$1" in 1 | true | TRUE | True | yes | YES | on | ON) return 0 ;; *) return 1 ;; esac
}

# Stage 1 sets up and starts execd; stage 2 (the same script, exec'd again as
# PID 1 without execd's token) starts the user's entrypoint.
if [ -z "${OPENSANDBOX_BOOTSTRAP_STAGE:-}" ]; then

# Trust the transparent egress proxy's CA when it is in use (waits up to 300 s for it).
if truthy "${OPENSANDBOX_EGRESS_MITMPROXY_TRANSPARENT:-}"; then
	ca=/opt/opensandbox/mitmproxy-ca-cert.pem
	i=0
	while [ ! -s "$ca" ] && [ $i -lt 300 ]; do
		sleep 1
		i=$((i + 1))
	done
	if [ -s "$ca" ]; then
		merged=/opt/opensandbox/merged-ca-certificates.pem
		sys=""
		for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
			[ -r "$f" ] && sys=$f && break
		done
		{ [ -n "$sys" ] && cat "$sys"; cat "$ca"; } >"$merged" 2>/dev/null || cp "$ca" "$merged"
		if [ -d /usr/local/share/ca-certificates ] && command -v update-ca-certificates >/dev/null 2>&1; then
			cp "$ca" /usr/local/share/ca-certificates/opensandbox-mitmproxy.crt 2>/dev/null &&
				update-ca-certificates >/dev/null 2>&1 || true
		fi
		export NODE_EXTRA_CA_CERTS="$ca" REQUESTS_CA_BUNDLE="$merged" SSL_CERT_FILE="$merged"
	else
		echo "bootstrap: $ca did not appear within 300 s" >&2
	fi
fi

EXECD=${EXECD:-/opt/opensandbox/execd}
EXECD_ENVS=${EXECD_ENVS:-/opt/opensandbox/.env}
mkdir -p "$(dirname "$EXECD_ENVS")" 2>/dev/null || true
[ -e "$EXECD_ENVS" ] || : >"$EXECD_ENVS" 2>/dev/null || true
export EXECD_ENVS

if [ -n "${EXECD_BOOTSTRAP_PRE_SCRIPT:-}" ] && [ -r "$EXECD_BOOTSTRAP_PRE_SCRIPT" ]; then
	# shellcheck disable=SC1090
	. "$EXECD_BOOTSTRAP_PRE_SCRIPT"
fi

"$EXECD" &

# execd's credential is execd's alone. `unset` keeps it from the user's
# processes, but /proc/1/environ shows the environment PID 1 was started with:
# so PID 1 starts again without it.
if [ -n "${EXECD_ACCESS_TOKEN+x}" ]; then
	unset EXECD_ACCESS_TOKEN
	export OPENSANDBOX_BOOTSTRAP_STAGE=entrypoint
	exec /bin/sh "$0" "$@"
fi
fi
unset OPENSANDBOX_BOOTSTRAP_STAGE

if [ -n "${BOOTSTRAP_SHELL:-}" ]; then
	SHELL_BIN=$BOOTSTRAP_SHELL
elif command -v bash >/dev/null 2>&1; then
	SHELL_BIN=bash
else
	SHELL_BIN=sh
fi

if [ -n "${BOOTSTRAP_CMD:-}" ]; then
	"$SHELL_BIN" -c "$BOOTSTRAP_CMD" &
elif [ "${1:-}" = "-c" ] && [ $# -ge 2 ]; then
	"$SHELL_BIN" -c "$2" &
elif [ $# -eq 0 ]; then
	"$SHELL_BIN" &
else
	"$@" &
fi
user=$!

forward() {
	kill -s "$1" "$user" 2>/dev/null || true
	wait "$user" 2>/dev/null || true
	exit 0
}
trap 'forward TERM' TERM
trap 'forward INT' INT

set +e
wait "$user"
code=$?
# A trapped signal interrupts wait with a status over 128; forward() exits then.
exit $code
