#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fetches the pinned third-party sources (BearSSL, cJSON) as Debian source
# packages, checks every file against scripts/deps.lock, and builds two
# flavours of each static library:
#   $DEPS/musl/{lib,include}  musl-gcc, for the release binaries
#   $DEPS/host/{lib,include}  host gcc, for the sanitizer test build
# A second run with the same lock is a no-op. A checksum mismatch stops the build.
#
# usage: scripts/deps.sh [DEPS_DIR]     (default: build/deps)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
lock="$top/scripts/deps.lock"
DEPS=${1:-$top/build/deps}
mkdir -p "$DEPS"
DEPS=$(cd "$DEPS" && pwd)
src="$DEPS/src"
stamp="$DEPS/.built"
want=$(cat "$lock" "$0" | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi

die() {
	echo "deps: $*" >&2
	exit 1
}

lock_rows() { grep -v '^#' "$lock" | grep -v '^[[:space:]]*$'; }

# Every pinned file of package $1 is present with its pinned sha256.
verified() {
	lock_rows | while read -r pkg ver file sum; do
		[ "$pkg" = "$1" ] || continue
		[ -f "$src/$file" ] || return 1
		got=$(sha256sum "$src/$file" | cut -d' ' -f1)
		[ "$got" = "$sum" ] || return 1
	done
}

check_sums() {
	lock_rows | while read -r pkg ver file sum; do
		[ "$pkg" = "$1" ] || continue
		[ -f "$src/$file" ] || die "$file missing after download of $pkg $ver"
		got=$(sha256sum "$src/$file" | cut -d' ' -f1)
		if [ "$got" != "$sum" ]; then
			echo "deps: CHECKSUM MISMATCH for $file" >&2
			echo "deps:   pinned   $sum" >&2
			echo "deps:   received $got" >&2
			die "refusing to build $pkg from an unverified archive (see scripts/deps.lock)"
		fi
	done
}

# apt with a private sources list (deb-src of the system's own mirrors) and
# private state, so the system's apt configuration is never touched.
apt_private() {
	apt="$DEPS/apt"
	mkdir -p "$apt/parts" "$apt/lists/partial"
	found=0
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		sed 's/^Types:.*/Types: deb-src/' "$f" >"$apt/parts/$(basename "$f")"
		found=1
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^deb \(.*\)/deb-src \1/p' "$f" >"$apt/parts/$(basename "$f")"
		found=1
	done
	[ $found = 1 ] || die "no apt sources found in /etc/apt"
	APT_OPTS="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$apt/parts \
-o Dir::State::Lists=$apt/lists -o APT::Sandbox::User=root"
	if [ ! -f "$apt/.updated" ]; then
		# shellcheck disable=SC2086
		apt-get $APT_OPTS -qq update || die "apt-get update (deb-src) failed"
		touch "$apt/.updated"
	fi
}

fetch() {
	pkg=$1
	ver=$(lock_rows | awk -v p="$pkg" '$1 == p { print $2; exit }')
	verified "$pkg" && return 0
	command -v apt-get >/dev/null || die "apt-get not found: cannot fetch $pkg"
	apt_private
	echo "deps: fetching $pkg $ver (Debian source package)"
	# shellcheck disable=SC2086
	(cd "$src" && apt-get $APT_OPTS -qq source --download-only "$pkg=$ver") ||
		die "apt-get source $pkg=$ver failed: the pinned version may no longer be served; update scripts/deps.lock"
	check_sums "$pkg"
}

# Unpack package $1 (Debian patches applied) into $src/$1 once.
extract() {
	pkg=$1
	ver=$(lock_rows | awk -v p="$pkg" '$1 == p { print $2; exit }')
	dsc="$src/${pkg}_${ver}.dsc"
	[ -f "$src/$pkg/.extracted" ] && [ "$(cat "$src/$pkg/.extracted")" = "$ver" ] && return 0
	rm -rf "$src/$pkg"
	command -v dpkg-source >/dev/null || die "dpkg-source not found (install dpkg-dev)"
	dpkg-source --no-check -x "$dsc" "$src/$pkg" >/dev/null || die "dpkg-source -x $dsc failed"
	echo "$ver" >"$src/$pkg/.extracted"
}

# build_flavour NAME CC CFLAGS
build_flavour() {
	name=$1 cc=$2 cflags=$3
	out="$DEPS/$name"
	rm -rf "$out"
	mkdir -p "$out/lib" "$out/include" "$out/obj"

	echo "deps: building cJSON ($name)"
	$cc $cflags -c "$src/cjson/cJSON.c" -o "$out/obj/cJSON.o"
	ar rcs "$out/lib/libcjson.a" "$out/obj/cJSON.o"
	cp "$src/cjson/cJSON.h" "$out/include/"

	echo "deps: building BearSSL ($name)"
	make -s -C "$src/bearssl" -j"$(nproc)" lib BUILD="$out/bearssl" \
		CC="$cc" CFLAGS="$cflags" AR=ar >/dev/null
	cp "$out/bearssl/libbearssl.a" "$out/lib/"
	cp "$src/bearssl/inc/"*.h "$out/include/"
}

mkdir -p "$src"
for pkg in bearssl cjson; do
	fetch "$pkg"
	extract "$pkg"
done

command -v musl-gcc >/dev/null || die "musl-gcc not found (run scripts/setup.sh)"
build_flavour musl musl-gcc "-Os -ffunction-sections -fdata-sections -fstack-protector-strong"
build_flavour host "${HOST_CC:-gcc}" "-O1 -g -fPIC"

echo "$want" >"$stamp"
echo "deps: ready in $DEPS"
