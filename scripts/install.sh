#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the opensandbox-c bundle this script sits in: checks SHA256SUMS,
# loads the images into the local dockerd, copies the binaries to PREFIX/bin,
# the docs and deploy files under PREFIX/share, and the systemd unit (left
# disabled unless --enable). Needs only sh, coreutils and docker: no network,
# no compiler. Only files listed in SHA256SUMS are installed.
#
# Everything it does is appended to PREFIX/share/opensandbox-c/installed just
# before it is done, so even an interrupted run can be undone: --uninstall
# follows that list to remove exactly what was added, puts back any file it
# had replaced (kept as <file>.orig-opensandbox) and any image tag it had
# moved, and disables the service. Running it again changes nothing; an
# upgrade removes what the older bundle had and the new one has not.
#   usage: install.sh [--prefix DIR] [--systemd-dir DIR] [--enable] [--no-images]
#          install.sh --uninstall [--prefix DIR]
set -eu
here=$(CDPATH='' cd -P -- "$(dirname -- "$0")" && pwd)
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
say() { echo "install.sh: $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }
# Absolute, so that the list holds wherever --uninstall runs. The unit names the
# binary on its ExecStart line, where systemd splits on blanks and expands %.
case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
case $unitdir in /*) ;; *) unitdir=$(pwd)/$unitdir ;; esac
case $prefix in *[[:space:]%]*) die "PREFIX must not hold blanks or %: $prefix" ;; esac
share=$prefix/share/opensandbox-c
manifest=$share/installed
have() { command -v "$1" >/dev/null 2>&1; }
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# --- uninstall ---------------------------------------------------------------
if [ $uninstall = 1 ]; then
	[ -f "$manifest" ] || die "nothing installed under $prefix (no $manifest)"
	if have systemctl; then # enabled by --enable or by hand: stopped before its files go
		while read -r kind a; do
			case $kind:$a in file:*/sandbox-api.service)
				systemctl disable --now sandbox-api.service >/dev/null 2>&1 || true ;;
			esac
		done <"$manifest"
	fi
	while read -r kind a; do # a: the rest of the line (paths may hold spaces)
		case $kind in
		file) rm -f "$a" ;;
		image) # "<tag> <loaded id> [<id the tag had before>]"
			set -- $a
			have docker && [ "$(image_id "$1")" = "$2" ] || continue
			if [ -n "${3:-}" ] && docker tag "$3" "$1" 2>/dev/null; then
				say "gave $1 back to the image it named before"
				docker rmi "$2" >/dev/null 2>&1 || true
			else
				docker rmi "$1" >/dev/null 2>&1 || say "kept $1 (in use)"
			fi ;;
		esac
	done <"$manifest"
	while read -r kind a; do # files this script had replaced come back
		[ "$kind" != saved ] || [ ! -e "$a.orig-opensandbox" ] || mv -f "$a.orig-opensandbox" "$a"
	done <"$manifest"
	dirs=$(while read -r kind a; do [ "$kind" != dir ] || printf '%s\n' "$a"; done <"$manifest" | sort -r)
	rm -f "$manifest"
	# Folders this script made, deepest first; one that holds other files stays.
	printf '%s\n' "$dirs" | while IFS= read -r d; do
		[ -z "$d" ] || rmdir "$d" 2>/dev/null || true
	done
	! have systemctl || systemctl daemon-reload >/dev/null 2>&1 || true
	say "removed what was installed under $prefix"
	exit 0
fi

# --- install -----------------------------------------------------------------
# Everything that could refuse is checked before the first file is written.
(cd "$here" && sha256sum -c --quiet SHA256SUMS) || die "SHA256SUMS does not match: the bundle is damaged"
[ $images = 0 ] || have docker || die "docker is not on PATH (or use --no-images)"
[ $enable = 0 ] || have systemctl || die "--enable needs systemctl"

old=$(mktemp)
now=$(mktemp)
unit=$(mktemp)
trap 'rm -f "$old" "$now" "$unit"' EXIT
[ ! -f "$manifest" ] || cp "$manifest" "$old"
# The list's own folder first: the folders it took are its first entries.
made=$(d=$share; while [ ! -d "$d" ]; do printf '%s\n' "$d"; d=$(dirname -- "$d"); done)
mkdir -p "$share"
printf '%s\n' "$made" | while IFS= read -r d; do
	[ -z "$d" ] || printf 'dir %s\n' "$d" >>"$manifest"
done
note() { printf '%s\n' "$*" >>"$manifest"; } # before the act: an interrupted run is undone too
listed() { # kind path: whether an earlier run recorded it
	while read -r k a; do [ "$k $a" != "$1 $2" ] || return 0; done <"$old"
	return 1
}
mkdirs() { # mkdir -p, each folder made noted
	[ ! -d "$1" ] || return 0
	mkdirs "$(dirname -- "$1")"
	note "dir $1"
	mkdir "$1"
}
put() { # mode src dst
	mkdirs "$(dirname -- "$3")"
	if [ -e "$3" ] && ! listed file "$3" && ! listed saved "$3"; then
		note "saved $3"
		mv -f "$3" "$3.orig-opensandbox" # not ours: kept, and back on --uninstall
	fi
	listed file "$3" || note "file $3"
	install -m "$1" "$2" "$3"
	printf '%s\n' "$3" >>"$now"
}

# The unit with this PREFIX in place of @PREFIX@ (no sed: plain sh).
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

# Only what SHA256SUMS vouches for.
while read -r sum rel; do
	case $rel in
	bin/*) put 0755 "$here/$rel" "$prefix/$rel" ;;
	INSTALL.md | LICENSE) put 0644 "$here/$rel" "$prefix/share/doc/opensandbox-c/$rel" ;;
	deploy/systemd/sandbox-api.service)
		put 0644 "$here/$rel" "$share/$rel"
		put 0644 "$unit" "$unitdir/sandbox-api.service" ;;
	deploy/*) put 0644 "$here/$rel" "$share/$rel" ;;
	images/sandbox-*.tar)
		[ $images = 1 ] || continue
		n=${rel#images/sandbox-}
		tag=sandbox/${n%.tar}:latest
		before=$(image_id "$tag")
		docker load -q -i "$here/$rel" >/dev/null || die "docker load $rel failed"
		after=$(image_id "$tag")
		if [ "$before" != "$after" ]; then
			note "image $tag $after $before"
		fi
		say "image $tag ready" ;;
	esac
done <"$here/SHA256SUMS"

# An upgrade: what an older bundle installed and this one does not is removed.
while read -r kind a; do
	[ "$kind" = file ] || continue
	while IFS= read -r f; do [ "$f" != "$a" ] || continue 2; done <"$now"
	rm -f "$a"
	! listed saved "$a" || [ ! -e "$a.orig-opensandbox" ] || mv -f "$a.orig-opensandbox" "$a"
done <"$old"
# The list, rewritten: this run's files and everything else ever recorded.
{
	while IFS= read -r f; do printf 'file %s\n' "$f"; done <"$now"
	while read -r kind a; do [ "$kind" = file ] || printf '%s %s\n' "$kind" "$a"; done <"$manifest"
} | sort -u >"$old"
cp "$old" "$manifest"

if [ $enable = 1 ]; then
	systemctl daemon-reload
	if [ -f /etc/sandbox-api/env ]; then
		systemctl enable --now sandbox-api.service
	else # it would only fail for want of an API key
		systemctl enable sandbox-api.service
		say "enabled; start it once /etc/sandbox-api/env holds OPENSANDBOX_SERVER_API_KEY"
	fi
fi
say "installed into $prefix (unit $unitdir/sandbox-api.service, $([ $enable = 1 ] && echo enabled || echo not enabled))"
say "next: put OPENSANDBOX_SERVER_API_KEY in /etc/sandbox-api/env (mode 600), see $prefix/share/doc/opensandbox-c/INSTALL.md"
