// SPDX-License-Identifier: Apache-2.0
// sandbox-api in its other Docker set-ups, driven by the official SDK:
//   MODE=host            network mode host: endpoints are H:<port>, no mappings
//   MODE=<network name>  a user-defined network, with the server reaching
//                        dockerd over DOCKER_HOST=tcp://... (a recording front,
//                        DOCKER_LOG), which also shows X-Registry-Auth on pulls.
// Needs API_DOMAIN, API_KEY, IMAGE, RUN_ID, MODE; DOCKER_LOG for tcp://.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { ConnectionConfig, Sandbox, SandboxManager } from "@alibaba-group/opensandbox";

const { API_DOMAIN: domain, API_KEY: apiKey, IMAGE: image, RUN_ID: run, MODE: mode, DOCKER_LOG: dockerLog } = process.env;
const H = { "OPEN-SANDBOX-API-KEY": apiKey, "content-type": "application/json" };
const conn = () => new ConnectionConfig({ domain, apiKey, protocol: "http" });
const manager = SandboxManager.create({ connectionConfig: conn() });
const texts = (m) => m.map((x) => x.text);
const made = [];
const inspect = (id, fmt) =>
  execFileSync("docker", ["inspect", "-f", fmt, id], { encoding: "utf8" }).trim();
const containerOf = (sid) =>
  execFileSync("docker", ["ps", "-q", "--filter", `label=opensandbox.io/id=${sid}`], { encoding: "utf8" }).trim();

after(async () => {
  for (const id of made) await fetch(`http://${domain}/v1/sandboxes/${id}`, { method: "DELETE", headers: H }).catch(() => {});
});

test(`create, endpoints, commands and delete in network mode ${mode}`, async () => {
  const mark = randomBytes(6).toString("hex");
  const sbx = await Sandbox.create({
    connectionConfig: conn(),
    image,
    entrypoint: ["sh", "-c", "mkdir -p /www && echo $MARK > /www/index.html && exec httpd -f -p 8080 -h /www"],
    env: { MARK: mark },
    metadata: { run },
    timeoutSeconds: 300,
    readyTimeoutSeconds: 30,
  });
  made.push(sbx.id);
  const cid = containerOf(sbx.id);
  assert.ok(cid, "a container carries the sandbox id label");
  const e44772 = await sbx.getEndpoint(44772);
  const e8080 = await sbx.getEndpoint(8080);
  if (mode === "host") {
    assert.equal(inspect(cid, "{{.HostConfig.NetworkMode}}"), "host");
    assert.match(e44772.endpoint, /^[^/]+:44772$/);
    assert.match(e8080.endpoint, /^[^/]+:8080$/);
    assert.equal(inspect(cid, "{{len .HostConfig.PortBindings}}"), "0");
  } else {
    assert.equal(inspect(cid, "{{.HostConfig.NetworkMode}}"), mode);
    assert.notEqual(inspect(cid, `{{(index .NetworkSettings.Networks "${mode}").IPAddress}}`), "");
    assert.match(e44772.endpoint, /^[^/]+:\d+\/proxy\/44772$/);
    assert.match(e8080.endpoint, /^[^/]+:\d+$/);
  }
  // The SDK talks to execd through the endpoint it was given: this sandbox's, not another's.
  const ex = await sbx.commands.run('echo "$MARK"; hostname');
  assert.equal(texts(ex.logs.stdout)[0], mark);
  const page = await fetch(`http://${e8080.endpoint}/index.html`);
  assert.equal((await page.text()).trim(), mark);
  await sbx.files.writeFiles([{ path: "/tmp/m.txt", data: mark }]);
  assert.equal(await sbx.files.readFile("/tmp/m.txt"), mark);
  await sbx.kill();
  await assert.rejects(manager.getSandboxInfo(sbx.id));
  assert.equal(containerOf(sbx.id), "");
});

test("tcp:// Docker host: the server's calls went through it", { skip: !dockerLog && "not over tcp://" }, () => {
  const log = fs.readFileSync(dockerLog, "latin1");
  assert.match(log, /^POST \/(v[\d.]+\/)?containers\/create\?name=sandbox-[0-9a-f-]+ HTTP\/1\.1$/m);
  assert.match(log, /^PUT \/(v[\d.]+\/)?containers\/[0-9a-f]+\/archive\?path=%2F HTTP\/1\.1$/m);
});

test("registry auth: a pull sends X-Registry-Auth and a failed pull is a clear error", { skip: !dockerLog && "not over tcp://" }, async () => {
  // A registry on a closed loopback port: the daemon's pull fails at once, never leaving the host.
  const uri = `127.0.0.1:9/${run}/private:v1`;
  const r = await fetch(`http://${domain}/v1/sandboxes`, {
    method: "POST",
    headers: H,
    body: JSON.stringify({
      image: { uri, auth: { username: "robot", password: "s3cret+/=" } },
      entrypoint: ["true"], resourceLimits: {}, timeout: 60, metadata: { run },
    }),
  });
  const body = await r.json();
  assert.equal(r.status, 500, JSON.stringify(body));
  assert.equal(body.code, "DOCKER::SANDBOX_IMAGE_PULL_FAILED");
  assert.match(body.message, /127\.0\.0\.1:9/);
  const log = fs.readFileSync(dockerLog, "latin1");
  const pull = log.split("\n\n").find((h) => h.startsWith("POST ") && h.includes("/images/create?fromImage=") && h.includes(encodeURIComponent(`${run}/private`)));
  assert.ok(pull, "the pull request was sent");
  assert.match(pull, /fromImage=127\.0\.0\.1%3A9%2F[^&]+%2Fprivate&tag=v1/);
  const hdr = /^X-Registry-Auth: (\S+)$/im.exec(pull);
  assert.ok(hdr, "X-Registry-Auth header present");
  const json = JSON.parse(Buffer.from(hdr[1].replace(/-/g, "+").replace(/_/g, "/"), "base64").toString());
  assert.deepEqual(json, { username: "robot", password: "s3cret+/=" });
  const listed = await manager.listSandboxInfos({ metadata: { run } });
  assert.equal(listed.items.filter((s) => s.image?.uri === uri).length, 0);
});
