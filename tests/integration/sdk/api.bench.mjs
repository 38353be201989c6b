// SPDX-License-Identifier: Apache-2.0
// Benchmarks for sandbox-api through the official SDK (driven by tests/bench/api.sh).
// BENCH=ready: Sandbox.create -> ready, N sequential runs, prints the samples in ms.
// BENCH=burst: N concurrent Sandbox.create, prints successes and latencies.
import { ConnectionConfig, Sandbox } from "@alibaba-group/opensandbox";

const conn = () => new ConnectionConfig({ domain: process.env.API_DOMAIN, apiKey: process.env.API_KEY, protocol: "http" });
const n = Number(process.env.N ?? 20);
const opts = () => ({
  connectionConfig: conn(), image: process.env.IMAGE, entrypoint: ["sleep", "600"], timeoutSeconds: 600,
  metadata: { run: process.env.RUN_ID }, readyTimeoutSeconds: 120, healthCheckPollingInterval: 20,
});

if (process.env.BENCH === "ready") {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const sbx = await Sandbox.create(opts());
    ms.push(performance.now() - t0);
    await sbx.kill();
  }
  console.log(JSON.stringify({ ms }));
} else {
  const res = await Promise.allSettled(
    Array.from({ length: n }, async () => {
      const t0 = performance.now();
      const sbx = await Sandbox.create(opts());
      return { ms: performance.now() - t0, id: sbx.id };
    }),
  );
  const ok = res.filter((r) => r.status === "fulfilled").map((r) => r.value);
  const errors = res.filter((r) => r.status === "rejected").map((r) => String(r.reason?.message ?? r.reason).slice(0, 200));
  console.log(JSON.stringify({ ok: ok.length, ms: ok.map((x) => x.ms), ids: ok.map((x) => x.id), errors }));
}
