#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Starts dockerd in the background (log in /var/log/dockerd.log) unless one
# already answers on /var/run/docker.sock; waits until GET /_ping says OK.
set -eu
SOCK=/var/run/docker.sock

ping_docker() {
	curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null | grep -q OK
}

ping_docker && exit 0
if ! command -v dockerd >/dev/null 2>&1; then
	echo "dockerd.sh: dockerd is not installed (run scripts/setup.sh)" >&2
	exit 1
fi
echo "dockerd.sh: starting dockerd (log: /var/log/dockerd.log)"
nohup dockerd >>/var/log/dockerd.log 2>&1 &
i=0
while [ $i -lt 60 ]; do
	ping_docker && exit 0
	sleep 0.5
	i=$((i + 1))
done
echo "dockerd.sh: dockerd did not answer /_ping within 30 s; tail of its log:" >&2
tail -n 20 /var/log/dockerd.log >&2
exit 1
