#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the project's FROM-scratch images with the local dockerd (no registry):
#   sandbox/execd:latest    execd + bootstrap.sh in /opt/opensandbox
#   sandbox/egressd:latest  the egress sidecar (static egressd)
#   sandbox/base:latest     the default sandbox image: Debian's busybox-static
#                           applets, bash-static as /bin/bash, /etc/passwd, /tmp
#   sandbox/api:latest      sandbox-api alone (the Kubernetes Deployment's image)
# Needs `make` to have built build/bin/{execd,egressd}. Repeated runs reuse
# docker's build cache, so they take well under a second.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

for b in execd egressd sandbox-api; do
	[ -x "$top/build/bin/$b" ] || { echo "images.sh: build/bin/$b missing (run make)" >&2; exit 1; }
done
static() { # path package
	[ -x "$1" ] && file -L "$1" | grep -q "statically linked" ||
		{ echo "images.sh: a static $1 is needed (apt-get install $2)" >&2; exit 1; }
}
static /bin/busybox busybox-static
static /bin/bash-static bash-static

mkdir -p "$ctx/execd" "$ctx/egressd" "$ctx/base" "$ctx/api"
cp "$top/build/bin/execd" "$top/images/bootstrap.sh" "$top/images/execd/Dockerfile" "$ctx/execd/"
cp "$top/build/bin/egressd" "$top/images/egressd/Dockerfile" "$ctx/egressd/"
cp /bin/busybox "$ctx/base/busybox"
cp /bin/bash-static "$ctx/base/bash"
cp "$top/images/base/Dockerfile" "$ctx/base/"
cp "$top/build/bin/sandbox-api" "$top/images/api/Dockerfile" "$ctx/api/"
build() { docker build -q -t "$1" "$2" >"$ctx/build.log" 2>&1 || { cat "$ctx/build.log" >&2; exit 1; }; }
build sandbox/execd:latest "$ctx/execd"
build sandbox/egressd:latest "$ctx/egressd"
build sandbox/base:latest "$ctx/base"
build sandbox/api:latest "$ctx/api"
echo "images.sh: built sandbox/execd:latest sandbox/egressd:latest sandbox/base:latest sandbox/api:latest"
