#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Writes a one-layer image as a `docker load` archive (the docker save format:
# manifest.json, the config, the layer), byte for byte the same for the same
# inputs: entries sorted, owners 0, every mtime SOURCE_DATE_EPOCH, and the
# config's "created" that time too. No daemon and no registry are involved.
#   usage: image_tar.sh OUT.tar REPO:TAG ROOTDIR CONFIG_JSON [ARCH]
# ROOTDIR is the image's whole filesystem (modes as they should be in the
# image); CONFIG_JSON the image's "config" object ({"Entrypoint": [...], ...}).
set -eu
[ $# -ge 4 ] || { echo "usage: image_tar.sh OUT.tar REPO:TAG ROOTDIR CONFIG_JSON [ARCH]" >&2; exit 2; }
out=$1 ref=$2 root=$3 config=$4
arch=${5:-$(dpkg --print-architecture 2>/dev/null || echo amd64)}
variant=
case $arch in # Debian's names to the OCI ones docker matches on
i386) arch=386 ;;
armhf) arch=arm variant=v7 ;;
armel) arch=arm variant=v6 ;;
ppc64el) arch=ppc64le ;;
esac
umask 022
epoch=${SOURCE_DATE_EPOCH:-0}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

det_tar() { # dir out: a tar of dir's content that depends on nothing but that content
	tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=gnu \
		-C "$1" -cf "$2" .
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

det_tar "$root" "$work/layer.tar"
diff_id=$(sha "$work/layer.tar")
mkdir -p "$work/img/$diff_id"
mv "$work/layer.tar" "$work/img/$diff_id/layer.tar"
printf '{"architecture":"%s",%s"os":"linux","created":"%s","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"scripts/image_tar.sh"}]}' \
	"$arch" "${variant:+\"variant\":\"$variant\",}" "$created" "$config" "$diff_id" "$created" >"$work/config.json"
config_id=$(sha "$work/config.json")
mv "$work/config.json" "$work/img/$config_id.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
	"$config_id" "$ref" "$diff_id" >"$work/img/manifest.json"
det_tar "$work/img" "$work/image.tar"
mv "$work/image.tar" "$out"
