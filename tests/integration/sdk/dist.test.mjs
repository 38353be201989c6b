// SPDX-License-Identifier: Apache-2.0
// An installed sandbox-api (from the make dist bundle) serves the official SDK:
// create from sandbox/base:latest, a command, a file written and read back,
// an endpoint, delete. Needs API_DOMAIN, API_KEY and RUN_ID.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionConfig, Sandbox, SandboxManager } from "@alibaba-group/opensandbox";

const conn = () => new ConnectionConfig({ domain: process.env.API_DOMAIN, apiKey: process.env.API_KEY, protocol: "http" });

test("the SDK against the installed server: create, run, files, endpoint, delete", async () => {
  const sbx = await Sandbox.create({
    connectionConfig: conn(),
    image: "sandbox/base:latest",
    entrypoint: ["sleep", "600"],
    timeoutSeconds: 300,
    readyTimeoutSeconds: 60,
    metadata: { run: process.env.RUN_ID },
  });
  try {
    const ex = await sbx.commands.run("echo from-the-bundle; uname -s");
    assert.deepEqual(ex.logs.stdout.map((m) => m.text), ["from-the-bundle", "Linux"]);
    await sbx.files.writeFiles([{ path: "/tmp/air.txt", data: "gapped" }]);
    assert.equal(await sbx.files.readFile("/tmp/air.txt"), "gapped");
    const ep = await sbx.getEndpoint(44772);
    assert.match(ep.endpoint, /:\d+\/proxy\/44772$|:\d+$/);
  } finally {
    await sbx.kill();
  }
  const left = await SandboxManager.create({ connectionConfig: conn() }).listSandboxInfos({ metadata: { run: process.env.RUN_ID } });
  assert.equal(left.items.length, 0);
});
