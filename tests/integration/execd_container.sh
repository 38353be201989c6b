#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# execd inside a FROM-scratch busybox container, started by bootstrap.sh as
# PID 1, driven by the SDK; then `docker stop` must end it promptly (SIGTERM
# forwarded by bootstrap.sh). Skips (exit 77) when dockerd is not reachable.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/integration/lib.sh"
sdk="$top/tests/integration/sdk"
dockerd_up ||
	{ echo "skip: dockerd is not running"; exit 77; }
sh "$top/scripts/images.sh" || { ko "set-up"; summary container; exit 1; }
[ -d "$sdk/node_modules/@alibaba-group/opensandbox" ] ||
	(cd "$sdk" && npm ci --no-audit --no-fund --silent) || { ko "set-up"; summary container; exit 1; }

# sandbox/base without bash: execd must fall back to busybox sh.
printf 'FROM sandbox/base:latest\nRUN ["/bin/busybox", "rm", "/bin/bash"]\n' |
	docker build -q -t opensandbox-c/busybox-only:test - >/dev/null || { ko "set-up"; summary container; exit 1; }
name="execd-test-$$"
work=$(mktemp -d)
trap 'docker rm -f "$name" >/dev/null 2>&1; rm -rf "$work"' EXIT
docker create --name "$name" -p 127.0.0.1::44772 --entrypoint /opt/opensandbox/bootstrap.sh \
	opensandbox-c/busybox-only:test -c "sleep 3600" >/dev/null || { ko "set-up"; summary container; exit 1; }
# Inject execd the way the lifecycle server does: a tar archive put into the
# created (not yet started) container.
mkdir -p "$work/root/opt/opensandbox"
cp "$top/${BUILD:-build}/bin/execd" "$top/images/bootstrap.sh" "$work/root/opt/opensandbox/"
tar -C "$work/root" -cf - opt | docker cp - "$name:/" || { ko "set-up"; summary container; exit 1; }
docker start "$name" >/dev/null
port=$(docker port "$name" 44772/tcp | head -n 1 | sed 's/.*://')
i=0
until curl -fs -o /dev/null "http://127.0.0.1:$port/ping"; do
	i=$((i + 1))
	[ $i -gt 100 ] && { docker logs "$name" | tail; ko "execd answers in the container"; summary container; exit 1; }
	sleep 0.1
done
out="$work/node.out"
EXECD_URL="127.0.0.1:$port" CONTAINER="$name" timeout 300 node --test --test-reporter=tap \
	"$sdk/container.test.mjs" >"$out" 2>&1
tap_count "$out" $?

# PID 1 duties: SIGTERM reaches the user process; the container stops well
# before docker's 10 s SIGKILL fallback.
t0=$(date +%s)
docker stop "$name" >/dev/null
t1=$(date +%s)
code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
if [ $((t1 - t0)) -lt 5 ] && [ "$code" = 0 ]; then
	ok "docker stop ends the sandbox in $((t1 - t0)) s (exit $code)"
else
	ko "docker stop took $((t1 - t0)) s, exit code $code"
fi
summary container
