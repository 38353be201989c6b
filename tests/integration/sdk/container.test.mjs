// SPDX-License-Identifier: Apache-2.0
// execd as PID 1's child in a FROM-scratch busybox container (no bash, no
// libc), driven by the official SDK. Needs EXECD_URL and CONTAINER.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { ConnectionConfig, createDefaultAdapterFactory } from "@alibaba-group/opensandbox";

const base = `http://${process.env.EXECD_URL}`;
const { commands, files, health } = createDefaultAdapterFactory().createExecdStack({
  connectionConfig: new ConnectionConfig({ domain: process.env.EXECD_URL, protocol: "http" }),
  execdBaseUrl: base,
});
const texts = (msgs) => msgs.map((m) => m.text);

test("ping", async () => {
  assert.equal(await health.ping(), true);
});

test("commands run with sh when there is no bash", async () => {
  const ex = await commands.run("echo $0; cat /etc/passwd | grep -c ^root:; exit 4");
  assert.deepEqual(texts(ex.logs.stdout), ["sh", "1"]);
  assert.equal(ex.exitCode, 4);
});

test("sessions work with busybox sh", async () => {
  const id = await commands.createSession({ workingDirectory: "/tmp/s" });
  await commands.runInSession(id, "export K='a b'; cd /tmp");
  const ex = await commands.runInSession(id, "echo \"$K\"; pwd");
  assert.deepEqual(texts(ex.logs.stdout), ["a b", "/tmp"]);
  await commands.deleteSession(id);
});

test("files: binary round trip inside the container", async () => {
  const data = randomBytes(1024 * 1024 + 3);
  await files.writeFiles([{ path: "/data/blob", data }]);
  const got = Buffer.from(await files.readBytes("/data/blob"));
  assert.equal(createHash("sha256").update(got).digest("hex"), createHash("sha256").update(data).digest("hex"));
  const info = await files.getFileInfo(["/data/blob"]);
  assert.equal(info["/data/blob"].owner, "root");
});

test("orphans are reaped: no zombies linger", async () => {
  await commands.run("sh -c 'sleep 0.2 & exit 0'");
  await new Promise((r) => setTimeout(r, 800));
  const ex = await commands.run("ps -o stat,comm | awk '$1 ~ /^Z/' | wc -l");
  assert.deepEqual(texts(ex.logs.stdout), ["0"]);
});
