#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the opensandbox-c bundle this script sits in: checks SHA256SUMS,
# loads the images into the local dockerd, copies the binaries to PREFIX/bin,
# the docs and deploy files under PREFIX/share, and the systemd unit (left
# disabled unless --enable). Needs only sh, coreutils, tar's sibling tools and
# docker: no network, no compiler. Running it again changes nothing; every
# path and image it adds is listed in PREFIX/share/opensandbox-c/installed,
# which --uninstall follows to remove exactly those.
#   usage: install.sh [--prefix DIR] [--systemd-dir DIR] [--enable] [--no-images]
#          install.sh --uninstall [--prefix DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=/usr/local
unitdir=/etc/systemd/system
enable=0 images=1 uninstall=0
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) prefix=$2; shift ;;
	--prefix=*) prefix=${1#*=} ;;
	--systemd-dir) unitdir=$2; shift ;;
	--systemd-dir=*) unitdir=${1#*=} ;;
	--enable) enable=1 ;;
	--no-images) images=0 ;;
	--uninstall) uninstall=1 ;;
	-h | --help)
		printf 'usage: install.sh [--prefix DIR] [--systemd-dir DIR] [--enable] [--no-images]\n'
		printf '       install.sh --uninstall [--prefix DIR]\n'
		exit 0 ;;
	*) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
# Absolute, so that the list of what was installed holds wherever --uninstall runs.
case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
case $unitdir in /*) ;; *) unitdir=$(pwd)/$unitdir ;; esac
share=$prefix/share/opensandbox-c
manifest=$share/installed
say() { echo "install.sh: $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }

if [ $uninstall = 1 ]; then
	[ -f "$manifest" ] || die "nothing installed under $prefix (no $manifest)"
	while read -r kind a; do # a: the rest of the line (paths may hold spaces)
		case $kind in
		enabled) command -v systemctl >/dev/null 2>&1 && systemctl disable --now "$a" >/dev/null 2>&1 || true ;;
		file) rm -f "$a" ;;
		image) # "<tag> <id>": removed only if the tag is still the image this script loaded
			if command -v docker >/dev/null 2>&1 &&
				[ "$(docker image inspect -f '{{.Id}}' "${a%% *}" 2>/dev/null || true)" = "${a#* }" ]; then
				docker rmi "${a%% *}" >/dev/null 2>&1 || say "kept ${a%% *} (in use)"
			fi ;;
		esac
	done <"$manifest"
	# Folders this script made, deepest first; one that holds other files stays.
	made=$(sort -r "$manifest.dirs" 2>/dev/null | cut -d' ' -f2- || true)
	rm -f "$manifest" "$manifest.dirs"
	printf '%s\n' "$made" | while IFS= read -r d; do
		[ -n "$d" ] && rmdir "$d" 2>/dev/null || true
	done
	say "removed what was installed under $prefix"
	exit 0
fi

(cd "$here" && sha256sum -c --quiet SHA256SUMS) || die "SHA256SUMS does not match: the bundle is damaged"

new=$(mktemp)
dirs=$(mktemp)
trap 'rm -f "$new" "$dirs"' EXIT
# What an earlier run recorded stays recorded (it made those folders and images).
if [ -f "$manifest" ]; then
	while read -r kind a; do
		[ "$kind" != image ] || echo "image $a" >>"$new"
	done <"$manifest"
fi
[ ! -f "$manifest.dirs" ] || cat "$manifest.dirs" >>"$dirs"
mkdirs() { # dir: mkdir -p, noting each folder made
	[ -d "$1" ] && return 0
	mkdirs "$(dirname "$1")"
	mkdir "$1"
	echo "dir $1" >>"$dirs"
}
put() { # mode src dst
	mkdirs "$(dirname "$3")"
	install -m "$1" "$2" "$3"
	echo "file $3" >>"$new"
}

for b in execd egressd sandbox-api; do put 0755 "$here/bin/$b" "$prefix/bin/$b"; done
put 0644 "$here/INSTALL.md" "$prefix/share/doc/opensandbox-c/INSTALL.md"
put 0644 "$here/LICENSE" "$prefix/share/doc/opensandbox-c/LICENSE"
for f in "$here"/deploy/*/*; do
	rel=${f#"$here"/}
	put 0644 "$f" "$share/$rel"
done
# The unit with this PREFIX in place of @PREFIX@ (no sed: plain sh).
unit=$(mktemp)
while IFS= read -r line || [ -n "$line" ]; do
	out=
	while :; do
		case $line in
		*@PREFIX@*) out=$out${line%%@PREFIX@*}$prefix; line=${line#*@PREFIX@} ;;
		*) break ;;
		esac
	done
	printf '%s\n' "$out$line"
done <"$here/deploy/systemd/sandbox-api.service" >"$unit"
put 0644 "$unit" "$unitdir/sandbox-api.service"
rm -f "$unit"

if [ $images = 1 ]; then
	command -v docker >/dev/null 2>&1 || die "docker is not on PATH (or use --no-images)"
	for t in "$here"/images/sandbox-*.tar; do
		n=${t##*/sandbox-}
		tag=sandbox/${n%.tar}:latest
		before=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
		docker load -q -i "$t" >/dev/null || die "docker load $t failed"
		after=$(docker image inspect -f '{{.Id}}' "$tag")
		[ "$before" = "$after" ] || echo "image $tag $after" >>"$new"
		say "image $tag ready"
	done
fi
if [ $enable = 1 ]; then
	command -v systemctl >/dev/null 2>&1 || die "--enable needs systemctl"
	systemctl daemon-reload
	systemctl enable --now sandbox-api.service
	echo "enabled sandbox-api.service" >>"$new"
fi
mkdirs "$share"
sort -u "$new" >"$manifest"
sort -u "$dirs" >"$manifest.dirs"
say "installed into $prefix (unit $unitdir/sandbox-api.service, $([ $enable = 1 ] && echo enabled || echo not enabled))"
say "next: set OPENSANDBOX_SERVER_API_KEY in /etc/sandbox-api/env, then see $prefix/share/doc/opensandbox-c/INSTALL.md"
