#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the project's FROM-scratch images with the local dockerd (no registry):
#   opensandbox-c/execd:dev     execd + bootstrap.sh in /opt/opensandbox
#   opensandbox-c/busybox:dev   a minimal shell image (Debian's busybox-static)
# Needs `make` to have built build/bin/execd. Repeated runs reuse docker's cache.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

[ -x "$top/build/bin/execd" ] || { echo "images.sh: build/bin/execd missing (run make)" >&2; exit 1; }
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file "$busybox" | grep -q "statically linked" ||
	{ echo "images.sh: a static busybox is needed (apt-get install busybox-static)" >&2; exit 1; }

mkdir -p "$ctx/execd" "$ctx/busybox"
cp "$top/build/bin/execd" "$top/images/bootstrap.sh" "$ctx/execd/"
cp "$top/images/execd/Dockerfile" "$ctx/execd/"
build() { docker build -q -t "$1" "$2" >"$ctx/build.log" 2>&1 || { cat "$ctx/build.log" >&2; exit 1; }; }
build opensandbox-c/execd:dev "$ctx/execd"

cp "$busybox" "$ctx/busybox/busybox"
cp "$top/images/busybox/Dockerfile" "$ctx/busybox/"
build opensandbox-c/busybox:dev "$ctx/busybox"
echo "images.sh: built opensandbox-c/execd:dev opensandbox-c/busybox:dev"
