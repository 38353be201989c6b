// SPDX-License-Identifier: Apache-2.0
// Hostile and unlucky clients: execd must stay up and consistent (run against
// the ASan/UBSan build too, where a use-after-free fails the suite).
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";

const [host, port] = process.env.EXECD_URL.split(":");
const base = `http://${process.env.EXECD_URL}`;
const token = process.env.EXECD_TOKEN;
const headers = { "X-EXECD-ACCESS-TOKEN": token };
const work = mkdtempSync(join(tmpdir(), "execd-robust-"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function alive() {
  const r = await fetch(`${base}/ping`, { headers });
  assert.equal(r.status, 200);
}

// Sends raw bytes, then resets the connection (RST) after ms.
async function sendThenReset(raw, ms) {
  const s = net.connect(Number(port), host);
  await new Promise((r) => s.once("connect", r));
  s.write(raw);
  await sleep(ms);
  s.resetAndDestroy();
  await sleep(100);
}

test("malformed chunked body to /proxy: the upstream exchange is dropped cleanly", async () => {
  const srv = http.createServer((req, res) => setTimeout(() => res.end("late"), 300));
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const s = net.connect(Number(port), host);
  await new Promise((r) => s.once("connect", r));
  s.write(`POST /proxy/${srv.address().port}/x HTTP/1.1\r\nHost: x\r\nX-EXECD-ACCESS-TOKEN: ${token}\r\n` +
    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n");
  await sleep(600);
  s.destroy();
  srv.close();
  await alive();
});

test("clients that reset mid-request: download, upload, session run", async () => {
  execFileSync("dd", ["if=/dev/zero", `of=${join(work, "big")}`, "bs=1M", "count=32"], { stdio: "ignore" });
  await sendThenReset(`GET /files/download?path=${encodeURIComponent(join(work, "big"))} HTTP/1.1\r\n` +
    `Host: x\r\nX-EXECD-ACCESS-TOKEN: ${token}\r\n\r\n`, 20);
  const body = "--B\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"metadata\"\r\n\r\n" +
    `{"path":"${join(work, "up")}"}\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nabc`;
  await sendThenReset(`POST /files/upload HTTP/1.1\r\nHost: x\r\nX-EXECD-ACCESS-TOKEN: ${token}\r\n` +
    `Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n${body}`, 20);
  const sid = (await (await fetch(`${base}/session`, { method: "POST", headers })).json()).session_id;
  const run = JSON.stringify({ command: "sleep 5" });
  await sendThenReset(`POST /session/${sid}/run HTTP/1.1\r\nHost: x\r\nX-EXECD-ACCESS-TOKEN: ${token}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${run.length}\r\n\r\n${run}`, 1);
  await alive();
});

test("a FIFO is refused without blocking the agent", async () => {
  execFileSync("mkfifo", [join(work, "fifo")]);
  const t0 = Date.now();
  const r = await fetch(`${base}/files/download?path=${encodeURIComponent(join(work, "fifo"))}`, { headers });
  assert.ok(r.status >= 400);
  await r.text();
  assert.ok(Date.now() - t0 < 2000);
  await alive();
});

test("a 100 KB PTY stdin frame is accepted", async () => {
  const r = await fetch(`${base}/pty`, { method: "POST", headers, body: "{}" });
  const id = (await r.json()).session_id;
  const ws = new WebSocket(`ws://${process.env.EXECD_URL}/pty/${id}/ws`, { headers });
  let out = "";
  let closed = null;
  ws.on("message", (d, bin) => { if (bin) out += Buffer.from(d).subarray(1).toString(); });
  ws.on("close", (code) => (closed = code));
  await new Promise((res, rej) => { ws.once("open", res); ws.once("error", rej); });
  const payload = "x".repeat(100 * 1024);
  ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(`cat >/dev/null <<'EOF'\n${payload}\nEOF\necho pasted-ok\n`)]));
  for (let i = 0; i < 250 && !out.includes("pasted-ok") && closed === null; i++) await sleep(20);
  assert.equal(closed, null);
  assert.match(out, /pasted-ok/);
  ws.close();
  await fetch(`${base}/pty/${id}`, { method: "DELETE", headers });
});

test("session output with a slow reader is complete", async () => {
  const sid = (await (await fetch(`${base}/session`, { method: "POST", headers })).json()).session_id;
  const r = await fetch(`${base}/session/${sid}/run`, {
    method: "POST", headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ command: "seq 1 300000" }),
  });
  const reader = r.body.getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    await sleep(1); // a slow consumer
  }
  const lines = text.split("\n\n").filter(Boolean).map((e) => JSON.parse(e)).filter((e) => e.type === "stdout");
  assert.equal(lines.length, 300000);
  assert.equal(lines.at(-1).text, "300000");
});

// Pings make pongs: a client that floods them and reads nothing must not grow
// execd's memory (replies stop being read above 1 MiB of unread output).
test("a PTY WebSocket ping flood from a client that does not read stays bounded", async (t) => {
  const pid = process.env.EXECD_PID;
  if (!pid) { t.skip("EXECD_PID not given"); return; }
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
  const r = await fetch(`${base}/pty`, { method: "POST", headers, body: "{}" });
  const id = (await r.json()).session_id;
  const s = net.connect(Number(port), host);
  await new Promise((res) => s.once("connect", res));
  s.write(`GET /pty/${id}/ws HTTP/1.1\r\nHost: x\r\nX-EXECD-ACCESS-TOKEN: ${token}\r\nConnection: Upgrade\r\n` +
    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  await sleep(200);
  s.pause(); // never read again
  const ping = Buffer.concat([Buffer.from([0x89, 0x80 | 125, 1, 2, 3, 4]), Buffer.alloc(125)]);
  const burst = Buffer.concat(Array(2000).fill(ping)); // 262 KB of pings, 250 KB of pongs owed
  const before = rss();
  let sent = 0;
  for (let i = 0; i < 200; i++) { // up to 50 MB of pongs owed
    if (!s.write(burst)) await Promise.race([new Promise((res) => s.once("drain", res)), sleep(50)]);
    sent += burst.length;
  }
  await sleep(300);
  const grown = rss() - before;
  s.resetAndDestroy();
  await fetch(`${base}/pty/${id}`, { method: "DELETE", headers });
  assert.ok(grown < 16 * 1024, `execd RSS grew by ${grown} KiB after ${sent} bytes of pings`);
  await alive();
});
