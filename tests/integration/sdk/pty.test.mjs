// SPDX-License-Identifier: Apache-2.0
// execd's PTY sessions over a real WebSocket client (the SDK has no PTY API).
// Needs EXECD_URL and EXECD_TOKEN.
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";

const base = `http://${process.env.EXECD_URL}`;
const wsBase = `ws://${process.env.EXECD_URL}`;
const headers = { "X-EXECD-ACCESS-TOKEN": process.env.EXECD_TOKEN };

async function createPty(body = {}) {
  const r = await fetch(`${base}/pty`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 201);
  return (await r.json()).session_id;
}

// A client that collects output (channels 1 and 3) and JSON frames.
function connect(id, query = "") {
  const ws = new WebSocket(`${wsBase}/pty/${id}/ws${query}`, { headers });
  const st = { ws, out: "", replay: null, json: [], closed: null };
  ws.on("message", (data, isBinary) => {
    if (isBinary) {
      const b = Buffer.from(data);
      if (b[0] === 3) st.replay = { offset: Number(b.readBigInt64BE(1)), text: b.subarray(9).toString() };
      else st.out += b.subarray(1).toString();
    } else {
      st.json.push(JSON.parse(data.toString()));
    }
  });
  ws.on("close", (code, reason) => (st.closed = { code, reason: reason.toString() }));
  st.opened = new Promise((resolve, reject) => {
    ws.once("open", resolve);
    // With this listener ws leaves the refused request to us: end it, or its
    // keep-alive socket holds node open until the server's idle timeout.
    ws.once("unexpected-response", (req, res) => {
      res.resume();
      req.destroy();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    ws.once("error", reject);
  });
  return st;
}

async function until(cond, what, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const send = (st, obj) => st.ws.send(JSON.stringify(obj));
const stdin = (st, text) => st.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(text)]));

test("pty: create, connect, echo, resize, ping, exit", async () => {
  const id = await createPty();
  let r = await fetch(`${base}/pty/${id}`, { headers });
  assert.deepEqual(await r.json(), { session_id: id, running: false, output_offset: 0 });
  const c = connect(id);
  await c.opened;
  await until(() => c.json.some((j) => j.type === "connected"), "connected");
  assert.deepEqual(c.json.find((j) => j.type === "connected"), { type: "connected", session_id: id, mode: "pty" });
  send(c, { type: "resize", cols: 120, rows: 40 });
  stdin(c, "stty size; echo mark-$((6*7))\n");
  await until(() => c.out.includes("40 120") && c.out.includes("mark-42"), "stty + echo");
  send(c, { type: "ping" });
  await until(() => c.json.some((j) => j.type === "pong"), "pong");
  send(c, { type: "bogus" });
  await until(() => c.json.some((j) => j.code === "INVALID_FRAME"), "INVALID_FRAME");
  r = await fetch(`${base}/pty/${id}`, { headers });
  const s = await r.json();
  assert.equal(s.running, true);
  assert.ok(s.output_offset > 0);
  send(c, { type: "stdin", data: "exit 3\n" });
  await until(() => c.closed, "close");
  assert.deepEqual(c.json.find((j) => j.type === "exit"), { type: "exit", exit_code: 3 });
  assert.equal(c.closed.code, 1000);
  assert.equal(c.closed.reason, "process exited");
  r = await fetch(`${base}/pty/${id}`, { headers });
  assert.equal((await r.json()).running, false);
});

test("pty: second client 409, takeover 4001, replay with since", async () => {
  const id = await createPty();
  const a = connect(id);
  await a.opened;
  stdin(a, "X=kept; echo first-$X\n");
  await until(() => a.out.includes("first-kept"), "first output");
  const plain = await fetch(`${base}/pty/${id}/ws?takeover=1`, { headers });
  assert.equal(plain.status, 409);
  assert.equal((await plain.json()).code, "ALREADY_CONNECTED");
  const b = connect(id, "?takeover=1&since=0");
  await b.opened;
  await until(() => a.closed, "old client closed");
  assert.equal(a.closed.code, 4001);
  assert.equal(a.closed.reason, "TAKEN_OVER");
  await until(() => b.replay, "replay");
  assert.equal(b.replay.offset, 0);
  assert.ok(b.replay.text.includes("first-kept"));
  stdin(b, "echo again-$X\n");
  await until(() => b.out.includes("again-kept"), "same shell after takeover");
  const since = Number((await (await fetch(`${base}/pty/${id}`, { headers })).json()).output_offset);
  b.ws.close();
  await until(() => b.closed, "b closed");
  const c = connect(id, `?since=${since}`);
  await c.opened;
  await until(() => c.json.some((j) => j.type === "connected"), "connected");
  assert.equal(c.replay, null); // nothing new since that offset
  c.ws.close();
  const del = await fetch(`${base}/pty/${id}`, { method: "DELETE", headers });
  assert.equal(del.status, 200);
  const gone = await fetch(`${base}/pty/${id}`, { headers });
  assert.equal(gone.status, 404);
});

test("pty: pipe mode keeps stderr apart, custom command ends", async () => {
  const id = await createPty({ command: "echo out; echo err >&2; sleep 0.2" });
  const c = connect(id, "?pty=0");
  const errs = [];
  c.ws.on("message", (d, bin) => { if (bin && d[0] === 2) errs.push(Buffer.from(d).subarray(1).toString()); });
  await c.opened;
  await until(() => c.closed, "exit");
  assert.equal(c.json.find((j) => j.type === "connected").mode, "pipe");
  assert.match(c.out, /out/);
  assert.match(errs.join(""), /err/);
  assert.deepEqual(c.json.find((j) => j.type === "exit"), { type: "exit", exit_code: 0 });
  const r = await fetch(`${base}/pty/${id}`, { headers });
  assert.equal((await r.json()).running, false);
});

test("pty: unknown session is 404", async () => {
  const r = await fetch(`${base}/pty/nope/ws`, { headers });
  assert.equal(r.status, 404);
  const s = connect("nope");
  await assert.rejects(s.opened, /HTTP 404/);
});
