// SPDX-License-Identifier: Apache-2.0
// The Kubernetes bench's create part: N sandboxes made one after another with
// the official SDK (create -> ready), each beside the emulator's own start time
// of its pod (kubelet saw it -> Ready), read from the emulator's admin API.
// Env: API_DOMAIN, API_KEY, EMU_URL, EMU_ADMIN, N. Prints one JSON line.
import { execFileSync } from "node:child_process";
import { ConnectionConfig, Sandbox } from "@alibaba-group/opensandbox";

const { API_DOMAIN: domain, API_KEY: apiKey, EMU_URL: emu, EMU_ADMIN: admin } = process.env;
const n = Number(process.env.N || 5);
const conn = new ConnectionConfig({ domain, apiKey, protocol: "http", requestTimeoutSeconds: 120 });
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const sdk = [];
const ids = [];
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  const sbx = await Sandbox.create({
    connectionConfig: conn,
    image: "sandbox/base:latest",
    entrypoint: ["sleep", "infinity"],
    timeoutSeconds: 600,
    resource: { cpu: "100m", memory: "64Mi" },
    readyTimeoutSeconds: 60,
  });
  sdk.push(performance.now() - t0);
  ids.push(sbx.id);
}
const pods = JSON.parse(execFileSync("curl", ["-sk", "-H", `Authorization: Bearer ${admin}`, `${emu}/_emulator/pods`]).toString()).pods;
const start = [];
for (const id of ids) {
  const p = pods.find((x) => x.name.startsWith(id));
  if (p && p.ready && p.seen) start.push(p.ready - p.seen);
}
for (const id of ids) await fetch(`http://${domain}/v1/sandboxes/${id}`, { method: "DELETE", headers: { "OPEN-SANDBOX-API-KEY": apiKey } });
console.log(JSON.stringify({ sdk_ms: median(sdk), pod_ms: median(start), runs: n, pods: start.length }));
