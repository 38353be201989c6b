#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs every package the build, the tests and `make run` need, and starts
# dockerd if it is not running. Idempotent: a second run changes nothing.
set -eu

PKGS="make gcc musl-tools clang llvm libclang-rt-14-dev dpkg-dev file binutils \
      docker.io nftables iproute2 busybox-static bash-static openssl ca-certificates \
      curl procps wrk nginx-light dnsmasq-base dnsperf bind9-dnsutils"
# Node.js may come from another repository that bundles npm (and conflicts with
# Debian's npm package): only ask Debian for it when there is no node at all.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
# kubectl (make run-k8s and the Kubernetes suites): Debian's when there is none.
command -v kubectl >/dev/null 2>&1 || PKGS="$PKGS kubernetes-client"

need=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		need="$need $p"
done
if [ -n "$need" ]; then
	echo "setup: installing:$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

sh "$(dirname "$0")/dockerd.sh"
