// SPDX-License-Identifier: Apache-2.0
// `make run-k8s` as a newcomer uses it: the official SDK against whatever
// scripts/run_k8s.sh started (API_DOMAIN, API_KEY, PROVIDER), with nothing
// else: create, run, files, endpoint, renew, list, kill.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ConnectionConfig, Sandbox, SandboxManager } from "@alibaba-group/opensandbox";

const domain = process.env.API_DOMAIN;
const apiKey = process.env.API_KEY;
const provider = process.env.PROVIDER;
const conn = () => new ConnectionConfig({ domain, apiKey, protocol: "http", requestTimeoutSeconds: 120 });

test(`make run-k8s [${provider}]: the SDK end to end`, async () => {
  const sbx = await Sandbox.create({
    connectionConfig: conn(),
    image: "sandbox/base:latest",
    entrypoint: ["sleep", "infinity"],
    timeoutSeconds: 600,
    resource: { cpu: "100m", memory: "128Mi" },
    readyTimeoutSeconds: 90,
    env: { GREETING: `hello ${provider}` },
  });
  try {
    assert.equal((await sbx.getInfo()).status.state, "Running");
    const ex = await sbx.commands.run('echo "$GREETING"');
    assert.deepEqual(ex.logs.stdout.map((m) => m.text), [`hello ${provider}`]);
    const data = randomBytes(50_000);
    await sbx.files.writeFiles([{ path: "/tmp/blob", data }]);
    assert.ok(Buffer.from(await sbx.files.readBytes("/tmp/blob")).equals(data));
    const e = await sbx.getEndpoint(44772);
    assert.match(e.endpoint, /^\d+\.\d+\.\d+\.\d+:44772$/); // the pod IP
    await sbx.renew(1200);
    const manager = SandboxManager.create({ connectionConfig: conn() });
    const list = await manager.listSandboxInfos({});
    assert.ok(list.items.some((s) => s.id === sbx.id));
  } finally {
    await sbx.kill();
  }
  // The cluster deletes in the background: the sandbox is gone within 30 s.
  let status = 0;
  for (let i = 0; i < 300 && status !== 404; i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    status = (await fetch(`http://${domain}/v1/sandboxes/${sbx.id}`, { headers: { "OPEN-SANDBOX-API-KEY": apiKey } })).status;
  }
  assert.equal(status, 404);
});
