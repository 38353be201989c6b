#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The air-gapped path. `make dist` twice, the second time from an empty build
# folder: the two tarballs must be byte-identical. The bundle is extracted into
# a temporary root and its install.sh run with PATH holding only coreutils,
# tar and docker (no compiler, no sed or grep), twice (nothing changes); every
# file in bin/ must be static and answer --version with this commit. The
# installed sandbox-api (no build/ tree beside it: execd comes from the loaded
# sandbox/execd image) and then `docker run sandbox/api:latest` each serve the
# official SDK (sdk/dist.test.mjs). `install.sh --uninstall` must leave the
# root as it found it. Containers are labelled with this run's instance and
# removed on exit. Ends with "dist: N passed, N failed"; exits 77 without dockerd.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
sdk="$top/tests/integration/sdk"
dockerd_up ||
	{ echo "skip: dockerd is not running"; exit 77; }
B=${BUILD:-build}
case $B in /*) ;; *) B=$top/$B ;; esac
work=$(mktemp -d)
run_id="dist-$$-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
pid="" cname=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -n "$cname" ] && docker rm -f "$cname" >/dev/null 2>&1
	docker rmi "sandbox/$run_id:latest" "sandbox/$run_id-p:latest" >/dev/null 2>&1
	for i in "$run_id" "$run_id-c"; do
		docker ps -aq --filter "label=opensandbox.io/instance=$i" | xargs -r docker rm -f >/dev/null 2>&1
	done
	rm -rf "$work"
	sh "$top/scripts/images.sh" >/dev/null 2>&1 # whatever happened, the next suites have theirs
}
trap cleanup EXIT
[ -d "$sdk/node_modules/@alibaba-group/opensandbox" ] ||
	(cd "$sdk" && npm ci --no-audit --no-fund --silent) || { ko "npm ci"; summary dist; exit 1; }
# 1. Reproducible: the second build starts from nothing but the third-party libraries.
make -s -C "$top" BUILD="$B" DIST_DIR="$work/d1" dist >"$work/dist1.log" 2>&1 || { cat "$work/dist1.log"; ko "make dist"; }
# The images the suites use are this build's (make dist relinked what was out of date),
# so loading the bundle's changes nothing, and the uninstall must keep them.
sh "$top/scripts/images.sh" >/dev/null || { ko "images.sh"; summary dist; exit 1; }
mkdir -p "$work/b2"
cp -a "$B/deps" "$work/b2/"
# ... under another umask, locale, time zone and gzip default options.
(umask 077 && LC_ALL=C.UTF-8 TZ=Asia/Kolkata GZIP=--rsyncable \
	make -s -C "$top" BUILD="$work/b2" DIST_DIR="$work/d2" dist) >"$work/dist2.log" 2>&1 ||
	{ cat "$work/dist2.log"; ko "make dist (second build)"; }
rm -rf "$work/b2"
t1=$(ls "$work"/d1/opensandbox-c-*.tar.gz 2>/dev/null | head -n 1)
t2=$(ls "$work"/d2/opensandbox-c-*.tar.gz 2>/dev/null | head -n 1)
[ -n "$t1" ] && [ "${t1##*/}" = "opensandbox-c-$(cat "$top/VERSION")-linux-$(dpkg --print-architecture).tar.gz" ] &&
	ok "make dist names the bundle ${t1##*/}" || ko "bundle name: ${t1:-none}"
[ -n "$t1" ] && [ -n "$t2" ] && cmp -s "$t1" "$t2" &&
	ok "two builds of one commit give identical tarballs ($(sha256sum "$t1" | cut -c1-16)...)" ||
	ko "the two tarballs differ"

# 2. Install with only coreutils, tar and docker on PATH.
root=$work/root
mkdir -p "$root" "$work/path"
tar -xzf "$t1" -C "$work"
bundle=$(ls -d "$work"/opensandbox-c-*/ | head -n 1)
for f in $(dpkg -L coreutils | awk '/\/bin\//'); do
	[ -f "$f" ] && [ -x "$f" ] && ln -sf "$f" "$work/path/${f##*/}"
done
ln -sf "$(command -v tar)" "$work/path/tar"
ln -sf "$(command -v docker)" "$work/path/docker"
# A systemctl that only records what it is asked (the unit must not really start here).
printf '#!/bin/sh\necho "$*" >>%s/systemctl.log\n' "$work" >"$work/path/systemctl"
chmod +x "$work/path/systemctl"
for c in gcc cc musl-gcc sed grep awk make python3 gzip; do
	if PATH=$work/path command -v "$c" >/dev/null 2>&1; then ko "the limited PATH has $c"; fi
done
# One image the daemon does not have yet, added to the bundle (and its sums), so that
# the uninstall has an image of its own to remove.
mkdir -p "$work/tiny"
printf 'tiny\n' >"$work/tiny/hello"
sh "$top/scripts/image_tar.sh" "$bundle/images/sandbox-$run_id.tar" "sandbox/$run_id:latest" "$work/tiny" '{}'
# And one whose tag the daemon already gives to another image: the tag goes back on --uninstall.
sh "$top/scripts/image_tar.sh" "$work/prev.tar" "sandbox/$run_id-p:latest" "$work/tiny" '{"Cmd":["prev"]}'
docker load -q -i "$work/prev.tar" >/dev/null
prev_id=$(docker image inspect -f '{{.Id}}' "sandbox/$run_id-p:latest")
sh "$top/scripts/image_tar.sh" "$bundle/images/sandbox-$run_id-p.tar" "sandbox/$run_id-p:latest" "$work/tiny" '{"Cmd":["new"]}'
(cd "$bundle" && sha256sum "images/sandbox-$run_id.tar" "images/sandbox-$run_id-p.tar" >>SHA256SUMS)
# The root already holds an operator's own unit: kept aside, and back after --uninstall.
mkdir -p "$root/etc/systemd/system"
echo "# the operator's own" >"$root/etc/systemd/system/sandbox-api.service"
before=$(cd "$root" && find . -exec ls -ld {} + | sort -k9 | awk '{ print $1, $5, $9 }')
own=$(cat "$root/etc/systemd/system/sandbox-api.service")
inst() { PATH=$work/path "$bundle/install.sh" --prefix "$root/usr" --systemd-dir "$root/etc/systemd/system" "$@"; }
inst >"$work/inst1.log" 2>&1 && ok "install.sh with PATH limited to coreutils, tar and docker" ||
	{ cat "$work/inst1.log"; ko "install.sh failed"; }
first=$(cd "$root" && find . -type f | sort | xargs sha256sum)
inst --enable >"$work/inst2.log" 2>&1 && [ "$(cd "$root" && find . -type f | sort | xargs sha256sum)" = "$first" ] &&
	ok "install.sh again (with --enable) changes no file" || { cat "$work/inst2.log"; ko "second install differs"; }
[ -f "$root/etc/systemd/system/sandbox-api.service.orig-opensandbox" ] && ok "a file it would replace is kept aside" ||
	ko "the operator's unit was overwritten"
want="enable sandbox-api.service"
[ -f /etc/sandbox-api/env ] && want="enable --now sandbox-api.service"
awk -v w="$want" '$0 == w { f = 1 } END { exit !f }' "$work/systemctl.log" 2>/dev/null &&
	ok "--enable enables the unit, and starts it only once /etc/sandbox-api/env exists" || ko "--enable: $(cat "$work/systemctl.log" 2>/dev/null)"
# An older bundle's file that the newer one lacks goes on upgrade.
echo stale >"$root/usr/share/opensandbox-c/deploy/config/old.toml"
echo "file $root/usr/share/opensandbox-c/deploy/config/old.toml" >>"$root/usr/share/opensandbox-c/installed"
inst >"$work/inst3.log" 2>&1 && [ ! -e "$root/usr/share/opensandbox-c/deploy/config/old.toml" ] &&
	ok "an upgrade removes what only the older bundle had" || { cat "$work/inst3.log"; ko "upgrade left old.toml"; }
[ -f "$root/etc/systemd/system/sandbox-api.service" ] && ! awk '/@PREFIX@/ { f = 1 } END { exit !f }' "$root/etc/systemd/system/sandbox-api.service" &&
	awk -v p="ExecStart=$root/usr/bin/sandbox-api" 'index($0, p) == 1 { f = 1 } END { exit !f }' "$root/etc/systemd/system/sandbox-api.service" &&
	ok "the systemd unit names the installed binary" || ko "systemd unit"
dyn=0
for f in "$root"/usr/bin/*; do
	file "$f" | awk '/statically linked/ { s = 1 } END { exit !s }' || { dyn=1; echo "  dynamic: $f"; }
done
[ $dyn = 0 ] && [ -x "$root/usr/bin/sandbox-api" ] && ok "no file in bin/ is dynamically linked" || ko "a dynamically linked binary"
commit=$(git -C "$top" rev-parse --short=12 HEAD)
vers=0
for b in execd egressd sandbox-api; do
	v=$("$root/usr/bin/$b" --version)
	case $v in "$b $(cat "$top/VERSION") (commit $commit"*", built "*")") ;; *) vers=1; echo "  $v" ;; esac
done
[ $vers = 0 ] && ok "every binary answers --version with the version, commit and date" || ko "--version"
(cd "$bundle" && sha256sum -c --quiet SHA256SUMS) && ok "SHA256SUMS matches" || ko "SHA256SUMS"
cp "$bundle/bin/execd" "$work/execd.bak"
printf 'x' >>"$bundle/bin/execd"
PATH=$work/path "$bundle/install.sh" --prefix "$work/other" >/dev/null 2>&1 && ko "a damaged bundle was installed" ||
	{ [ ! -e "$work/other" ] && ok "a damaged bundle is refused before anything is installed" || ko "damaged bundle left files"; }
cp "$work/execd.bak" "$bundle/bin/execd"

# 3. The installed server, far from any build tree, and the SDK.
sdk_run() { # domain label
	API_DOMAIN=$1 API_KEY=$key RUN_ID=$run_id timeout 180 node --test --test-reporter=tap "$sdk/dist.test.mjs" >"$work/node.out" 2>&1
	tap_count "$work/node.out" $?
}
port=$(free_port)
(cd / && OPENSANDBOX_SERVER_API_KEY=$key exec "$root/usr/bin/sandbox-api" --host 127.0.0.1 --port "$port" \
	--state-dir "$work/state" --instance "$run_id" --pull-policy never >"$work/api.log" 2>&1) &
pid=$!
i=0
until curl -fs -o /dev/null "http://127.0.0.1:$port/health" || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
awk '/execd injection from image/ { f = 1 } END { exit !f }' "$work/api.log" &&
	ok "the installed sandbox-api takes execd from the sandbox/execd image" || { tail -5 "$work/api.log"; ko "execd source"; }
sdk_run "127.0.0.1:$port"
kill "$pid"
wait "$pid" 2>/dev/null
pid=""

# 4. The same from the image, as the docs show it.
port=$(free_port)
cname=$run_id-api
docker run -d --name "$cname" --network host -v /var/run/docker.sock:/var/run/docker.sock \
	--group-add "$(stat -c %g /var/run/docker.sock)" --tmpfs /var/lib/sandbox-api:uid=65532 \
	-e OPENSANDBOX_SERVER_API_KEY="$key" sandbox/api:latest \
	--host 127.0.0.1 --port "$port" --instance "$run_id-c" --pull-policy never >/dev/null ||
	ko "docker run sandbox/api:latest"
i=0
until curl -fs -o /dev/null "http://127.0.0.1:$port/health" || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "docker run sandbox/api:latest answers /health" curl -fs "http://127.0.0.1:$port/health"
[ "$(docker inspect -f '{{.Config.User}}' "$cname")" = 65532:65532 ] && ok "the image runs as 65532" || ko "image user"
sdk_run "127.0.0.1:$port"
docker logs "$cname" >"$work/api-c.log" 2>&1
docker rm -f "$cname" >/dev/null
cname=""

# 5. Uninstall: the root as it was; the images stay (they were there before).
PATH=$work/path "$bundle/install.sh" --uninstall --prefix "$root/usr" >"$work/uninst.log" 2>&1 ||
	{ cat "$work/uninst.log"; ko "install.sh --uninstall"; }
after=$(cd "$root" && find . -exec ls -ld {} + | sort -k9 | awk '{ print $1, $5, $9 }')
[ "$after" = "$before" ] && [ "$(cat "$root/etc/systemd/system/sandbox-api.service")" = "$own" ] &&
	ok "--uninstall removes exactly what was installed and puts back what it replaced" ||
	{ echo "$after" | head -n 20; ko "left after --uninstall"; }
awk '/^disable --now sandbox-api.service$/ { f = 1 } END { exit !f }' "$work/systemctl.log" &&
	ok "--uninstall stops and disables the service first" || ko "uninstall did not disable the service"
docker image inspect sandbox/execd:latest >/dev/null 2>&1 && ok "images loaded before the install are kept" ||
	ko "uninstall removed an image it did not load"
! docker image inspect "sandbox/$run_id:latest" >/dev/null 2>&1 && ok "the image the install loaded is removed" ||
	ko "the install's own image was left"
[ "$(docker image inspect -f '{{.Id}}' "sandbox/$run_id-p:latest" 2>/dev/null)" = "$prev_id" ] &&
	ok "a tag the install had moved names its old image again" || ko "the moved tag was not given back"
summary dist
