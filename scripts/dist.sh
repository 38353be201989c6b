#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make dist`: the air-gapped bundle dist/opensandbox-c-<version>-linux-<arch>.tar.gz
#   bin/        execd, egressd, sandbox-api (static)
#   images/     sandbox-{execd,egressd,base,api}.tar (docker load archives)
#   deploy/     systemd/sandbox-api.service, kubernetes/*.yaml, config/ examples (JSON, TOML)
#   install.sh  INSTALL.md  LICENSE  SHA256SUMS
# Reproducible: every time stamp is SOURCE_DATE_EPOCH (the commit's), entries
# are sorted, owners 0, gzip without a name or time, so building a commit
# twice gives the same bytes. Needs `make` to have built BUILD/bin.
#   env: BUILD (default build), DIST_DIR (default dist), VERSION
set -eu
top=$(CDPATH='' cd -P -- "$(dirname -- "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
dist=${DIST_DIR:-$top/dist}
version=${VERSION:-$(cat "$top/VERSION")}
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
: "${SOURCE_DATE_EPOCH:=$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH
name=opensandbox-c-$version-linux-$arch
# The bundle names its commit (--version): without one it could not be rebuilt.
commit=$("$build/bin/sandbox-api" --version | cut -d' ' -f4 | tr -d ',')
case $commit in
unknown*) echo "dist.sh: no git commit to name (build from a git clone)" >&2; exit 1 ;;
*-dirty) echo "dist.sh: warning: the tree has changes; this bundle cannot be rebuilt from $commit" >&2 ;;
esac
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
umask 022

sh "$top/scripts/images.sh" --no-load >/dev/null
r=$stage/$name
mkdir -p "$r/bin" "$r/images" "$r/deploy/systemd" "$r/deploy/kubernetes" "$r/deploy/config"
for b in execd egressd sandbox-api; do
	file "$build/bin/$b" | grep -q 'statically linked' || { echo "dist.sh: $b is not static" >&2; exit 1; }
	install -m 0755 "$build/bin/$b" "$r/bin/$b"
done
for i in execd egressd base api; do install -m 0644 "$build/images/sandbox-$i.tar" "$r/images/"; done
install -m 0644 "$top/deploy/systemd/sandbox-api.service" "$r/deploy/systemd/"
install -m 0644 "$top"/deploy/kubernetes/*.yaml "$r/deploy/kubernetes/"
install -m 0644 "$top"/deploy/config/* "$r/deploy/config/"
"$build/bin/sandbox-api" init-config "$r/deploy/config/sandbox.docker.toml" --example docker >/dev/null
"$build/bin/sandbox-api" init-config "$r/deploy/config/sandbox.k8s.toml" --example k8s >/dev/null
chmod 0644 "$r"/deploy/config/*
install -m 0755 "$top/scripts/install.sh" "$r/install.sh"
install -m 0644 "$top/deploy/INSTALL.md" "$top/LICENSE" "$r/"
(cd "$r" && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | sed 's|^\./||' |
	xargs sha256sum >SHA256SUMS)
chmod 0644 "$r/SHA256SUMS"
mkdir -p "$dist"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner --format=gnu \
	-C "$stage" -cf - "$name" | GZIP='' gzip -n -9 >"$dist/$name.tar.gz.tmp"
mv "$dist/$name.tar.gz.tmp" "$dist/$name.tar.gz"
echo "dist.sh: $dist/$name.tar.gz ($(stat -c %s "$dist/$name.tar.gz") bytes, sha256 $(sha256sum "$dist/$name.tar.gz" | cut -c1-16)...)"
