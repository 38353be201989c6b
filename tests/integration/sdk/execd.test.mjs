// SPDX-License-Identifier: Apache-2.0
// execd driven by the official OpenSandbox JS SDK (its execd stack: commands,
// files, health, metrics), plus the /proxy route with plain fetch/WebSocket.
// Needs EXECD_URL (host:port of a running execd) and EXECD_TOKEN.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { mkdtempSync, writeFileSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectionConfig, createDefaultAdapterFactory } from "@alibaba-group/opensandbox";

const base = `http://${process.env.EXECD_URL}`;
const token = process.env.EXECD_TOKEN;
const headers = { "X-EXECD-ACCESS-TOKEN": token };
const stack = createDefaultAdapterFactory().createExecdStack({
  connectionConfig: new ConnectionConfig({ domain: process.env.EXECD_URL, protocol: "http" }),
  execdBaseUrl: base,
  endpointHeaders: headers,
});
const { commands, files, health, metrics } = stack;
const texts = (msgs) => msgs.map((m) => m.text);
const work = mkdtempSync(join(tmpdir(), "execd-sdk-"));

test("ping and auth", async () => {
  assert.equal(await health.ping(), true);
  const r = await fetch(`${base}/ping`);
  assert.equal(r.status, 401);
  assert.match(await r.text(), /X-EXECD-ACCESS-TOKEN/);
});

test("command: stdout, stderr, exit code 0", async () => {
  const ex = await commands.run("echo hello; echo oops >&2; printf 'a\\n\\nb'");
  assert.equal(ex.exitCode, 0);
  assert.deepEqual(texts(ex.logs.stdout), ["hello", "a", "\n", "b"]);
  assert.deepEqual(texts(ex.logs.stderr), ["oops"]);
  assert.match(ex.id, /^[0-9a-f]{32}$/);
});

test("command: non-zero exit, status record", async () => {
  const ex = await commands.run("echo before; exit 3");
  assert.equal(ex.exitCode, 3);
  assert.equal(ex.error.name, "CommandExecError");
  assert.equal(ex.error.value, "3");
  assert.deepEqual(texts(ex.logs.stdout), ["before"]);
  const st = await commands.getCommandStatus(ex.id);
  assert.equal(st.running, false);
  assert.equal(st.exitCode, 3);
});

test("command: cwd, envs, carriage returns", async () => {
  const ex = await commands.run("pwd; echo $FOO; printf 'p1\\rp2\\r\\nend\\n'", {
    workingDirectory: work,
    envs: { FOO: "bar baz" },
  });
  assert.equal(ex.exitCode, 0);
  assert.deepEqual(texts(ex.logs.stdout), [work, "bar baz", "p1", "p2", "end"]);
});

test("command: invalid requests are 400", async () => {
  await assert.rejects(commands.run("true", { workingDirectory: join(work, "nope") }), /working directory/);
  const r = await fetch(`${base}/command`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ command: "" }),
  });
  assert.equal(r.status, 400);
  const body = await r.json();
  assert.equal(body.code, "INVALID_REQUEST_BODY");
});

test("command: uid/gid and EXECD_ENVS", async () => {
  const ex = await commands.run("id -u; id -g; echo $FROM_ENVS_FILE", { uid: 65534, gid: 65534 });
  assert.equal(ex.exitCode, 0);
  assert.deepEqual(texts(ex.logs.stdout), ["65534", "65534", "file-value"]);
  const req = await commands.run("echo $FROM_ENVS_FILE", { envs: { FROM_ENVS_FILE: "request wins" } });
  assert.deepEqual(texts(req.logs.stdout), ["request wins"]);
  await assert.rejects(commands.run("true", { gid: 1 }), /uid is required/);
});

test("code: the command language runs; Jupyter languages are a clear 500", async () => {
  const r = await fetch(`${base}/code`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ code: "echo from-code", context: { language: "command" } }),
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/event-stream");
  const events = (await r.text()).split("\n\n").filter(Boolean).map((e) => JSON.parse(e));
  assert.equal(events[0].type, "init");
  assert.ok(events.some((e) => e.type === "stdout" && e.text === "from-code"));
  assert.equal(events.at(-1).type, "execution_complete");
  const py = await fetch(`${base}/code`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ code: "print(1)", context: { language: "python" } }),
  });
  assert.equal(py.status, 500);
  assert.match((await py.json()).message, /language runtime server not configured/);
});

test("command: timeout kills the command", async () => {
  const t0 = Date.now();
  const ex = await commands.run("sleep 30", { timeoutSeconds: 0.3 });
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(ex.exitCode, -1);
});

test("command: background, logs with cursor, status", async () => {
  const ex = await commands.run("for i in 1 2 3; do echo line$i; done; echo err >&2", { background: true });
  assert.match(ex.id, /^[0-9a-f]{32}$/);
  let st;
  for (let i = 0; i < 100; i++) {
    st = await commands.getCommandStatus(ex.id);
    if (!st.running) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(st.running, false);
  assert.equal(st.exitCode, 0);
  const logs = await commands.getBackgroundCommandLogs(ex.id, 0);
  assert.equal(logs.content, "line1\nline2\nline3\nerr\n");
  assert.equal(logs.cursor, logs.content.length);
  const more = await commands.getBackgroundCommandLogs(ex.id, 6);
  assert.equal(more.content, "line2\nline3\nerr\n");
});

test("command: interrupt a running command", async () => {
  const ex = await commands.run("sleep 30", { background: true });
  const t0 = Date.now();
  await commands.interrupt(ex.id);
  assert.ok(Date.now() - t0 < 4000);
  const st = await commands.getCommandStatus(ex.id);
  assert.equal(st.running, false);
});

test("sessions: exported env and cwd persist", async () => {
  const id = await commands.createSession({ workingDirectory: work });
  assert.match(id, /^[0-9a-f-]{36}$/);
  let ex = await commands.runInSession(id, "export GREETING=hi; mkdir -p sub; cd sub; echo ran");
  assert.equal(ex.exitCode, 0);
  assert.deepEqual(texts(ex.logs.stdout), ["ran"]);
  ex = await commands.runInSession(id, "echo $GREETING; pwd");
  assert.deepEqual(texts(ex.logs.stdout), ["hi", join(work, "sub")]);
  ex = await commands.runInSession(id, "false; echo EXIT:$?");
  assert.deepEqual(texts(ex.logs.stdout), ["EXIT:1"]);
  ex = await commands.runInSession(id, "exit 7");
  assert.equal(ex.exitCode, 7);
  await commands.deleteSession(id);
  await assert.rejects(commands.deleteSession(id));
});

test("files: upload/download round trip of a binary file", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const path = join(work, "dir/blob.bin");
  await files.writeFiles([{ path, data, mode: 640 }]);
  const got = Buffer.from(await files.readBytes(path));
  assert.equal(createHash("sha256").update(got).digest("hex"), createHash("sha256").update(data).digest("hex"));
  assert.equal(statSync(path).mode & 0o777, 0o640);
  const part = Buffer.from(await files.readBytes(path, { range: "bytes=10-19" }));
  assert.deepEqual(part, data.subarray(10, 20));
});

test("files: line reads, info, search, replace, mv, permissions, directories", async () => {
  const p = join(work, "lines.txt");
  writeFileSync(p, "line1\nline2\r\nline3\nline4\nline5\n");
  assert.equal(await files.readFile(p, { offset: 2, limit: 2 }), "line2\nline3");
  const info = await files.getFileInfo([p]);
  assert.equal(info[p].type, "file");
  assert.equal(info[p].size, 31);
  symlinkSync(p, join(work, "link"));
  const li = await files.getFileInfo([join(work, "link")]);
  assert.equal(li[join(work, "link")].type, "symlink");
  const found = await files.search({ path: work, pattern: "*.txt" });
  assert.ok(found.some((f) => f.path === p));
  assert.ok(found.every((f) => f.path.endsWith(".txt")));
  const res = await files.replaceContentsDetailed([{ path: p, oldContent: "line", newContent: "L" }]);
  assert.equal(res[0].replacedCount, 5);
  assert.equal(readFileSync(p, "utf8").split("\n")[0], "L1");
  await files.moveFiles([{ src: p, dest: join(work, "moved/lines.txt") }]);
  assert.equal(readFileSync(join(work, "moved/lines.txt"), "utf8").slice(0, 2), "L1");
  await files.setPermissions([{ path: join(work, "moved/lines.txt"), mode: 600 }]);
  assert.equal(statSync(join(work, "moved/lines.txt")).mode & 0o777, 0o600);
  await files.createDirectories([{ path: join(work, "d1/d2"), mode: 755 }]);
  const list = await files.listDirectory({ path: join(work, "d1"), depth: 2 });
  assert.deepEqual(list.map((f) => f.path), [join(work, "d1/d2")]);
  await files.deleteDirectories([join(work, "d1")]);
  await assert.rejects(files.getFileInfo([join(work, "d1")]));
  await files.deleteFiles([join(work, "moved/lines.txt")]);
});

test("files: download headers, non-ASCII names, bad ranges", async () => {
  const p = join(work, "测试文件.txt");
  writeFileSync(p, "0123456789");
  const r = await fetch(`${base}/files/download?path=${encodeURIComponent(p)}`, { headers });
  assert.equal(r.status, 200);
  const enc = "%E6%B5%8B%E8%AF%95%E6%96%87%E4%BB%B6.txt";
  assert.equal(r.headers.get("content-disposition"), `attachment; filename="${enc}"; filename*=UTF-8''${enc}`);
  assert.equal(await r.text(), "0123456789");
  const plain = join(work, "file with spaces.txt");
  writeFileSync(plain, "x");
  const r2 = await fetch(`${base}/files/download?path=${encodeURIComponent(plain)}`, { headers });
  assert.equal(r2.headers.get("content-disposition"), 'attachment; filename="file with spaces.txt"');
  await r2.text();
  const bad = await fetch(`${base}/files/download?path=${encodeURIComponent(p)}`, {
    headers: { ...headers, range: "bytes=5-2" },
  });
  assert.equal(bad.status, 416);
  await bad.text();
  const past = await fetch(`${base}/files/download?path=${encodeURIComponent(p)}`, {
    headers: { ...headers, range: "bytes=50-" },
  });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get("content-range"), "bytes */10");
  await past.text();
});

test("metrics: watch streams one JSON line per period", async () => {
  const ctl = new AbortController();
  const r = await fetch(`${base}/metrics/watch`, { headers, signal: ctl.signal });
  assert.equal(r.headers.get("content-type"), "text/event-stream");
  const reader = r.body.getReader();
  let text = "";
  while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value);
  const m = JSON.parse(text.split("\n")[0]);
  assert.ok(m.cpu_count > 0 && m.mem_total_mib > 0);
  ctl.abort();
});

test("metrics", async () => {
  const m = await metrics.getMetrics();
  assert.ok(m.cpuCount > 0);
  assert.ok(m.cpuUsedPercentage >= 0 && m.cpuUsedPercentage <= 100.1);
  assert.ok(m.memoryUsedMiB <= m.memoryTotalMiB);
  assert.ok(Math.abs(Date.now() - m.timestamp) < 60000);
});

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

test("proxy: HTTP, upstream status, SSE, 502", async () => {
  const srv = http.createServer((req, res) => {
    if (req.url === "/sse") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: one\n\n");
      setTimeout(() => { res.write("data: two\n\n"); res.end(); }, 50);
      return;
    }
    if (req.url.startsWith("/forbidden")) {
      res.writeHead(403, { "content-type": "text/plain" });
      return res.end("no");
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: req.url, method: req.method, body, xff: req.headers["x-forwarded-for"] }));
    });
  });
  const port = await listen(srv);
  try {
    const r = await fetch(`${base}/proxy/${port}/credential-vault/_active?x=1`, {
      method: "POST", headers, body: "payload",
    });
    assert.equal(r.status, 200);
    const j = await r.json();
    assert.equal(j.url, "/credential-vault/_active?x=1");
    assert.equal(j.method, "POST");
    assert.equal(j.body, "payload");
    assert.equal(j.xff, "127.0.0.1");
    const f = await fetch(`${base}/proxy/${port}/forbidden`, { headers });
    assert.equal(f.status, 403);
    const sse = await fetch(`${base}/proxy/${port}/sse`, { headers });
    assert.equal(sse.headers.get("content-type"), "text/event-stream");
    assert.equal(await sse.text(), "data: one\n\ndata: two\n\n");
    const missing = await fetch(`${base}/proxy/`, { headers });
    assert.equal(missing.status, 400);
  } finally {
    srv.close();
  }
  const gone = await fetch(`${base}/proxy/1/`, { headers });
  assert.equal(gone.status, 502);
  assert.equal(await gone.text(), "Bad Gateway\n");
});

test("proxy: a real WebSocket echo server through /proxy", async () => {
  const { WebSocketServer, default: WebSocket } = await import("ws");
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((r) => wss.once("listening", r));
  wss.on("connection", (sock) => sock.on("message", (m, bin) => sock.send(m, { binary: bin })));
  const ws = new WebSocket(`ws://${process.env.EXECD_URL}/proxy/${wss.address().port}/echo`, { headers });
  await new Promise((r, j) => { ws.once("open", r); ws.once("error", j); });
  const big = randomBytes(200 * 1024);
  const replies = [];
  ws.on("message", (m) => replies.push(Buffer.from(m)));
  ws.send("hello");
  ws.send(big);
  for (let i = 0; i < 250 && replies.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(replies[0].toString(), "hello");
  assert.ok(replies[1].equals(big));
  ws.close();
  wss.close();
});

test("proxy: WebSocket upgrade is spliced both ways", async () => {
  // A raw upgrade echo server: answers 101, then echoes bytes.
  const srv = net.createServer((sock) => {
    let head = "";
    sock.on("data", function onData(chunk) {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      sock.removeListener("data", onData);
      sock.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      const rest = head.slice(end + 4);
      if (rest) sock.write(rest);
      sock.pipe(sock);
    });
  });
  const port = await listen(srv);
  const [host, eport] = process.env.EXECD_URL.split(":");
  const c = net.connect(Number(eport), host);
  await new Promise((r) => c.once("connect", r));
  c.write(`GET /proxy/${port}/ws HTTP/1.1\r\nHost: x\r\nX-EXECD-ACCESS-TOKEN: ${token}\r\n` +
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "Sec-WebSocket-Version: 13\r\n\r\n");
  let got = "";
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout: " + JSON.stringify(got))), 5000);
    c.on("data", (d) => {
      got += d.toString("latin1");
      if (got.includes("\r\n\r\n") && !got.includes("ping-pong")) c.write("ping-pong");
      if (got.endsWith("ping-pong")) { clearTimeout(t); resolve(); }
    });
  });
  assert.match(got, /^HTTP\/1\.1 101 /);
  c.destroy();
  srv.close();
});
