#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The project's images, each one layer over nothing (FROM scratch), written as
# `docker load` archives by scripts/image_tar.sh (reproducible: the same bytes
# for the same binaries) into <build>/images/, then loaded into the local dockerd:
#   sandbox/execd:latest    execd + bootstrap.sh in /opt/opensandbox
#   sandbox/egressd:latest  the egress sidecar (static egressd)
#   sandbox/base:latest     the default sandbox image: Debian's busybox-static
#                           applets, bash-static as /bin/bash, /etc/passwd, /tmp
#   sandbox/api:latest      sandbox-api alone (the Kubernetes Deployment's image)
# The images' contents are described in images/README.md.
#   usage: images.sh [--no-load]     (BUILD: the build folder, default build)
set -eu
top=$(CDPATH='' cd -P -- "$(dirname -- "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
load=1
[ "${1:-}" = --no-load ] && load=0
out=$build/images
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
: "${SOURCE_DATE_EPOCH:=$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH

for b in execd egressd sandbox-api; do
	[ -x "$build/bin/$b" ] || { echo "images.sh: $build/bin/$b missing (run make)" >&2; exit 1; }
done
static() { # path package
	[ -x "$1" ] && file -L "$1" | grep -q "statically linked" ||
		{ echo "images.sh: a static $1 is needed (apt-get install $2)" >&2; exit 1; }
}
static /bin/busybox busybox-static
static /bin/bash-static bash-static
umask 022
mkdir -p "$out"

# sandbox/execd
r=$ctx/execd
mkdir -p "$r/opt/opensandbox"
install -m 0755 "$build/bin/execd" "$top/images/bootstrap.sh" "$r/opt/opensandbox/"
sh "$top/scripts/image_tar.sh" "$out/sandbox-execd.tar" sandbox/execd:latest "$r" \
	'{"Entrypoint":["/opt/opensandbox/execd"]}'

# sandbox/egressd
r=$ctx/egressd
mkdir -p "$r/usr/local/bin"
install -m 0755 "$build/bin/egressd" "$r/usr/local/bin/egressd"
sh "$top/scripts/image_tar.sh" "$out/sandbox-egressd.tar" sandbox/egressd:latest "$r" \
	'{"Entrypoint":["/usr/local/bin/egressd"]}'

# sandbox/base: every busybox applet as a link in /bin, bash over busybox's.
r=$ctx/base
mkdir -p "$r/bin" "$r/etc" "$r/root" "$r/tmp" "$r/usr/bin" "$r/usr/share/doc"
install -m 0755 /bin/busybox "$r/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
done
rm -f "$r/bin/bash"
install -m 0755 /bin/bash-static "$r/bin/bash"
ln -s /bin/env "$r/usr/bin/env"
chmod 1777 "$r/tmp"
chmod 0700 "$r/root"
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
for p in busybox-static bash-static; do # their licences travel with them
	[ -f "/usr/share/doc/$p/copyright" ] && mkdir -p "$r/usr/share/doc/$p" &&
		install -m 0644 "/usr/share/doc/$p/copyright" "$r/usr/share/doc/$p/copyright"
done
sh "$top/scripts/image_tar.sh" "$out/sandbox-base.tar" sandbox/base:latest "$r" \
	'{"Env":["PATH=/usr/local/bin:/usr/bin:/bin","HOME=/root"],"Cmd":["/bin/bash"]}'

# sandbox/api: runs as 65532; with the Docker runtime give it the socket's group (docs/operations.md).
r=$ctx/api
mkdir -p "$r"
install -m 0755 "$build/bin/sandbox-api" "$r/sandbox-api"
sh "$top/scripts/image_tar.sh" "$out/sandbox-api.tar" sandbox/api:latest "$r" \
	'{"User":"65532:65532","ExposedPorts":{"8080/tcp":{},"8081/tcp":{}},"Entrypoint":["/sandbox-api"]}'

if [ $load = 1 ]; then
	for t in execd egressd base api; do
		docker load -q -i "$out/sandbox-$t.tar" >"$ctx/load.log" 2>&1 || { cat "$ctx/load.log" >&2; exit 1; }
	done
	echo "images.sh: loaded sandbox/execd:latest sandbox/egressd:latest sandbox/base:latest sandbox/api:latest"
else
	echo "images.sh: wrote $out/sandbox-{execd,egressd,base,api}.tar"
fi
