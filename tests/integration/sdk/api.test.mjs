// SPDX-License-Identifier: Apache-2.0
// sandbox-api with the Docker runtime, driven by the official SDK (and raw
// fetch where the SDK has no call). Needs API_DOMAIN (host:port), API_KEY,
// IMAGE (a busybox image) and RUN_ID (tags every sandbox made here);
// VOLROOT (the server's --allowed-host-paths) and DEBIAN_IMAGE are optional.
import { test, after } from "node:test";
import fs from "node:fs";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import WebSocket from "ws";
import { ConnectionConfig, Sandbox, SandboxManager } from "@alibaba-group/opensandbox";

const domain = process.env.API_DOMAIN;
const apiKey = process.env.API_KEY;
const image = process.env.IMAGE;
const run = process.env.RUN_ID;
const base = `http://${domain}`;
const H = { "OPEN-SANDBOX-API-KEY": apiKey };
const conn = (extra = {}) => new ConnectionConfig({ domain, apiKey, protocol: "http", ...extra });
const manager = SandboxManager.create({ connectionConfig: conn() });
const texts = (m) => m.map((x) => x.text);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const made = [];

async function api(method, path, body, headers = {}) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { ...H, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, json, text, headers: r.headers };
}

const httpd = ["sh", "-c", "mkdir -p /www && echo hello-http > /www/index.html && exec httpd -f -p 8080 -h /www"];

async function create(opts = {}) {
  const sbx = await Sandbox.create({
    connectionConfig: conn(opts.conn ?? {}),
    image,
    entrypoint: httpd,
    timeoutSeconds: 600,
    resource: { cpu: "500m", memory: "256Mi" },
    readyTimeoutSeconds: 30,
    ...opts,
    metadata: { run, ...(opts.metadata ?? {}) },
  });
  made.push(sbx.id);
  return sbx;
}

after(async () => {
  for (const id of made) await api("DELETE", `/v1/sandboxes/${id}`).catch(() => {});
});

let main;

test("create: image, entrypoint, env, metadata, timeout, resources; Running once execd answers", async () => {
  const t0 = Date.now();
  main = await create({ env: { GREETING: "hi there", EMPTY: "" }, metadata: { role: "main" } });
  // The SDK may see execd answer a moment before the server's own /ping probe does.
  let info = await main.getInfo();
  for (let i = 0; i < 100 && info.status.state !== "Running"; i++) {
    await sleep(20);
    info = await main.getInfo();
  }
  assert.equal(info.status.state, "Running");
  assert.equal(info.metadata.role, "main");
  assert.equal(info.metadata.run, run);
  assert.deepEqual(info.entrypoint, httpd);
  assert.ok(info.expiresAt instanceof Date || typeof info.expiresAt === "string");
  const left = new Date(info.expiresAt).getTime() - Date.now();
  assert.ok(left > 500_000 && left <= 600_000, `expiresAt ${info.expiresAt}`);
  const ex = await main.commands.run('echo "$GREETING"; echo "[$EMPTY]"; cat /proc/self/status | grep -c NoNewPrivs');
  assert.deepEqual(texts(ex.logs.stdout), ["hi there", "[]", "1"]);
  // The limits reached the container's cgroup.
  const mem = await main.commands.run("cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes");
  assert.equal(texts(mem.logs.stdout)[0], String(256 * 1024 * 1024));
  assert.ok(Date.now() - t0 < 30_000);
});

test("files through the returned endpoint", async () => {
  const data = randomBytes(200_000);
  await main.files.writeFiles([{ path: "/tmp/blob", data }]);
  const got = Buffer.from(await main.files.readBytes("/tmp/blob"));
  assert.ok(got.equals(data));
  await main.files.writeFiles([{ path: "/tmp/t.txt", data: "line1\nline2\n" }]);
  assert.equal(await main.files.readFile("/tmp/t.txt"), "line1\nline2\n");
});

test("endpoints: bridge shapes for 44772 and 8080, 18080 answers without egress", async () => {
  const e1 = await main.getEndpoint(44772);
  assert.match(e1.endpoint, /^[^/]+:\d+\/proxy\/44772$/);
  const e2 = await main.getEndpoint(8080);
  assert.match(e2.endpoint, /^[^/]+:\d+$/);
  const r = await fetch(`http://${e2.endpoint}/index.html`);
  assert.equal((await r.text()).trim(), "hello-http");
  const e3 = await api("GET", `/v1/sandboxes/${main.id}/endpoints/18080`);
  assert.equal(e3.status, 200);
  assert.match(e3.json.endpoint, /\/proxy\/18080$/);
  const sp = await api("GET", `/v1/sandboxes/${main.id}/endpoints/44772?use_server_proxy=true`);
  assert.equal(sp.json.endpoint, `${domain}/sandboxes/${main.id}/proxy/44772`);
  const bad = await api("GET", `/v1/sandboxes/${main.id}/endpoints/abc`);
  assert.equal(bad.status, 422);
  const range = await api("GET", `/v1/sandboxes/${main.id}/endpoints/70000`);
  assert.equal(range.status, 400);
  assert.equal(range.json.code, "DOCKER::INVALID_PORT");
  const ex = await api("GET", `/v1/sandboxes/${main.id}/endpoints/44772?use_server_proxy=true&expires=2000000000`);
  assert.equal(ex.status, 400);
  assert.equal(ex.json.code, "SANDBOX::INVALID_PARAMETER");
});

test("server proxy: the SDK with useServerProxy (commands stream as SSE)", async () => {
  const sbx = await Sandbox.connect({ sandboxId: main.id, connectionConfig: conn({ useServerProxy: true }) });
  const times = [];
  const ex = await sbx.commands.run("echo first; sleep 1; echo second", undefined, {
    onStdout: () => times.push(Date.now()),
  });
  assert.deepEqual(texts(ex.logs.stdout), ["first", "second"]);
  assert.ok(times[1] - times[0] >= 700, `streamed, not buffered (${times[1] - times[0]} ms)`);
  const data = randomBytes(3_000_000);
  await sbx.files.writeFiles([{ path: "/tmp/big", data }]);
  assert.ok(Buffer.from(await sbx.files.readBytes("/tmp/big")).equals(data));
});

test("server proxy: HTTP to an in-sandbox server, query, auth, 404, 502", async () => {
  let r = await fetch(`${base}/sandboxes/${main.id}/proxy/8080/index.html?x=1`, { headers: H });
  assert.equal(r.status, 200);
  assert.equal((await r.text()).trim(), "hello-http");
  r = await fetch(`${base}/v1/sandboxes/${main.id}/proxy/8080/nope`, { headers: H });
  assert.equal(r.status, 404);
  await r.text();
  r = await fetch(`${base}/sandboxes/${main.id}/proxy/8080/index.html`);
  assert.equal(r.status, 401, "the proxy route needs the API key");
  await r.text();
  r = await fetch(`${base}/sandboxes/no-such-sandbox/proxy/8080/`, { headers: H });
  assert.equal(r.status, 404);
  await r.text();
  r = await fetch(`${base}/sandboxes/${main.id}/proxy/9/`, { headers: H });
  assert.equal(r.status, 502);
  assert.equal((await r.json()).code, "SANDBOX::PROXY_CONNECT_FAILED");
  // The API key is not forwarded: execd's /proxy echo shows what arrived (busybox httpd CGI is absent).
  const echo = await main.commands.run("printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n' > /tmp/resp; (nc -l -p 9001 < /tmp/resp > /tmp/req &) ; sleep 0.2");
  assert.equal(echo.exitCode ?? 0, 0);
  r = await fetch(`${base}/sandboxes/${main.id}/proxy/9001/seen?q=a%20b`, { headers: { ...H, Cookie: "c=1", "X-App": "kept" } });
  assert.equal(r.status, 200);
  await r.text();
  await sleep(200);
  const seen = (await main.files.readFile("/tmp/req")).toLowerCase();
  assert.match(seen, /^get \/seen\?q=a%20b http\/1.1/);
  assert.ok(seen.includes("x-app: kept"));
  assert.ok(!seen.includes("open-sandbox-api-key"), seen);
  assert.ok(!seen.includes("cookie"), seen);
  assert.ok(seen.includes("x-forwarded-for"));
});

test("server proxy: WebSocket both ways (execd PTY through the proxy)", async () => {
  const px = `${base}/sandboxes/${main.id}/proxy/44772`;
  const r = await fetch(`${px}/pty`, { method: "POST", headers: { ...H, "content-type": "application/json" }, body: "{}" });
  assert.equal(r.status, 201);
  const id = (await r.json()).session_id;
  const ws = new WebSocket(`ws://${domain}/sandboxes/${main.id}/proxy/44772/pty/${id}/ws`, { headers: H });
  let out = "";
  ws.on("message", (d, bin) => { if (bin) out += Buffer.from(d).subarray(1).toString(); });
  await new Promise((res, rej) => { ws.once("open", res); ws.once("error", rej); });
  ws.send(Buffer.concat([Buffer.from([0]), Buffer.from("echo ws-$((6*7))\n")]));
  const end = Date.now() + 5000;
  while (!out.includes("ws-42") && Date.now() < end) await sleep(20);
  assert.ok(out.includes("ws-42"), out);
  const closed = new Promise((res) => ws.once("close", (code) => res(code)));
  ws.close(1000);
  assert.equal(await closed, 1000);
});

test("list: state and metadata filters, pagination, newest first", async () => {
  const tag = randomBytes(4).toString("hex");
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const r = await api("POST", "/v1/sandboxes", {
      image: { uri: image }, entrypoint: ["sleep", "600"], resourceLimits: { cpu: "1" }, timeout: 300,
      metadata: { run, tag, idx: String(i), note: "Demo.Test" },
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status.state, "Pending");
    ids.push(r.json.id);
    made.push(r.json.id);
  }
  const page1 = await manager.listSandboxInfos({ metadata: { tag }, pageSize: 2 });
  assert.equal(page1.items.length, 2);
  assert.equal(page1.pagination.totalItems, 3);
  assert.equal(page1.pagination.totalPages, 2);
  assert.equal(page1.pagination.hasNextPage, true);
  assert.deepEqual(page1.items.map((s) => s.id), [ids[2], ids[1]]);
  const page2 = await manager.listSandboxInfos({ metadata: { tag }, pageSize: 2, page: 2 });
  assert.deepEqual(page2.items.map((s) => s.id), [ids[0]]);
  const one = await manager.listSandboxInfos({ metadata: { tag, idx: "1", note: "Demo.Test" } });
  assert.deepEqual(one.items.map((s) => s.id), [ids[1]]);
  const raw = await api("GET", `/v1/sandboxes?metadata=${encodeURIComponent(`tag=${tag}&note=Demo%2ETest`)}&state=running&state=PENDING`);
  assert.equal(raw.json.pagination.totalItems, 3);
  const none = await manager.listSandboxInfos({ metadata: { tag }, states: ["Paused"] });
  assert.equal(none.items.length, 0);
  const bad = await api("GET", `/v1/sandboxes?metadata=${encodeURIComponent("tag=x&broken")}`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.code, "INVALID_METADATA_FORMAT");
  assert.match(bad.json.message, /bad query field: 'broken'/);
  assert.equal((await api("GET", "/v1/sandboxes?page=0")).status, 422);
  assert.equal((await api("GET", "/v1/sandboxes?pageSize=201")).status, 422);
  for (const id of ids) assert.equal((await api("DELETE", `/v1/sandboxes/${id}`)).status, 204);
  const gone = await manager.listSandboxInfos({ metadata: { tag } });
  assert.equal(gone.items.length, 0);
});

test("pause and resume", async () => {
  const sbx = await create({ entrypoint: ["sleep", "600"] });
  await sbx.pause();
  // Pause is asynchronous (202): poll as clients do, bounded.
  let state;
  for (let i = 0; i < 100; i++) {
    state = (await sbx.getInfo()).status.state;
    if (state === "Paused") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(state, "Paused");
  const again = await api("POST", `/v1/sandboxes/${sbx.id}/pause`);
  assert.equal(again.status, 409);
  assert.equal(again.json.code, "DOCKER::SANDBOX_NOT_RUNNING");
  const resumed = await sbx.resume();
  assert.equal((await resumed.getInfo()).status.state, "Running");
  const ex = await resumed.commands.run("echo back");
  assert.deepEqual(texts(ex.logs.stdout), ["back"]);
  const notPaused = await api("POST", `/v1/sandboxes/${sbx.id}/resume`);
  assert.equal(notPaused.status, 409);
  // A paused sandbox can be deleted.
  await sbx.pause();
  await sbx.kill();
  const g = await api("GET", `/v1/sandboxes/${sbx.id}`);
  assert.equal(g.status, 404);
  assert.equal(g.json.code, "DOCKER::SANDBOX_NOT_FOUND");
});

test("renew and metadata patch", async () => {
  const before = new Date((await main.getInfo()).expiresAt).getTime();
  await main.renew(1800);
  const after1 = new Date((await main.getInfo()).expiresAt).getTime();
  assert.ok(after1 > before + 1000_000, `${before} -> ${after1}`);
  const past = await api("POST", `/v1/sandboxes/${main.id}/renew-expiration`, { expiresAt: "2001-01-01T00:00:00Z" });
  assert.equal(past.status, 400);
  assert.equal(past.json.code, "DOCKER::INVALID_EXPIRATION");
  const badBody = await api("POST", `/v1/sandboxes/${main.id}/renew-expiration`, { expiresAt: 5 });
  assert.equal(badBody.status, 422);
  assert.match(badBody.json.message, /expiresAt/);
  await main.patchMetadata({ role: null, color: "blue" });
  const info = await main.getInfo();
  assert.equal(info.metadata.color, "blue");
  assert.equal(info.metadata.role, undefined);
  const reserved = await api("PATCH", `/v1/sandboxes/${main.id}/metadata`, { "opensandbox.io/id": "x" });
  assert.equal(reserved.status, 400);
  assert.equal(reserved.json.code, "INVALID_METADATA_LABEL");
});

test("manual cleanup: no expiresAt; renew is 409", async () => {
  const sbx = await create({ timeoutSeconds: null, entrypoint: ["sleep", "600"], skipHealthCheck: true });
  const info = await api("GET", `/v1/sandboxes/${sbx.id}`);
  assert.equal(info.json.expiresAt, undefined);
  const r = await api("POST", `/v1/sandboxes/${sbx.id}/renew-expiration`, { expiresAt: new Date(Date.now() + 3600_000).toISOString() });
  assert.equal(r.status, 409);
  await sbx.kill();
});

test("validation errors name the field; auth and request ids", async () => {
  let r = await api("POST", "/v1/sandboxes", "{not json");
  assert.equal(r.status, 400);
  assert.ok(r.json.code && r.json.message);
  r = await api("POST", "/v1/sandboxes", { image: { uri: image }, entrypoint: ["x"], resourceLimits: {}, timeout: 10 });
  assert.equal(r.status, 422);
  assert.match(r.json.message, /timeout/);
  r = await api("POST", "/v1/sandboxes", { image: { uri: image }, entrypoint: "sleep", resourceLimits: {} });
  assert.equal(r.status, 422);
  assert.match(r.json.message, /entrypoint/);
  r = await api("POST", "/v1/sandboxes", { image: { uri: image }, entrypoint: ["x"], resourceLimits: {}, networkPolicy: { defaultAction: "maybe", egress: [] } });
  assert.equal(r.status, 422);
  assert.match(r.json.message, /networkPolicy.defaultAction/);
  r = await api("POST", "/v1/sandboxes", { image: { uri: image }, entrypoint: ["x"], resourceLimits: {}, metadata: { "bad key!": "v" } });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, "SANDBOX::INVALID_METADATA_LABEL");
  r = await api("POST", "/v1/sandboxes", { image: { uri: image }, entrypoint: ["x"] });
  assert.equal(r.status, 422);
  assert.match(r.json.message, /resourceLimits/);
  r = await api("GET", "/v1/sandboxes", undefined, { "OPEN-SANDBOX-API-KEY": "wrong", "X-Request-ID": "req-123" });
  assert.equal(r.status, 401);
  assert.equal(r.json.code, "INVALID_API_KEY");
  assert.equal(r.headers.get("x-request-id"), "req-123");
  const nokey = await fetch(`${base}/v1/sandboxes`);
  assert.equal(nokey.status, 401);
  assert.equal((await nokey.json()).code, "MISSING_API_KEY");
  assert.ok(nokey.headers.get("x-request-id"));
  const health = await fetch(`${base}/health`);
  assert.deepEqual(await health.json(), { status: "healthy" });
});

const volroot = process.env.VOLROOT;
const docker = (...args) => {
  try { return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(); } catch { return null; }
};
test("volumes: host paths under the allowlist (rw, ro, created), named volume as pvc, removed with the sandbox", { skip: !volroot && "no VOLROOT" }, async () => {
  fs.mkdirSync(`${volroot}/data`, { recursive: true });
  fs.writeFileSync(`${volroot}/data/hello.txt`, "from-host\n");
  const claim = `${run}-cache`;
  const sbx = await create({
    entrypoint: ["sleep", "600"],
    volumes: [
      { name: "data", host: { path: `${volroot}/data` }, mountPath: "/mnt/data" },
      { name: "ro", host: { path: `${volroot}/data` }, mountPath: "/mnt/ro", readOnly: true },
      { name: "made", host: { path: `${volroot}/made` }, mountPath: "/mnt/made", subPath: "deep/er" },
      { name: "cache", pvc: { claimName: claim, createIfNotExists: true, deleteOnSandboxTermination: true }, mountPath: "/cache" },
    ],
  });
  const ex = await sbx.commands.run(
    "cat /mnt/data/hello.txt; echo from-sandbox > /mnt/data/back.txt; " +
    "(echo x > /mnt/ro/nope) 2>/dev/null && echo writable || echo read-only; " +
    "echo y > /mnt/made/f && echo kept > /cache/k && cat /cache/k");
  assert.deepEqual(texts(ex.logs.stdout), ["from-host", "read-only", "kept"]);
  assert.equal(fs.readFileSync(`${volroot}/data/back.txt`, "utf8"), "from-sandbox\n");
  assert.equal(fs.readFileSync(`${volroot}/made/deep/er/f`, "utf8"), "y\n");
  assert.equal(fs.existsSync(`${volroot}/data/nope`), false);
  assert.equal(docker("volume", "inspect", "-f", '{{index .Labels "opensandbox.io/volume-managed-by"}}', claim), "server");
  await sbx.kill();
  let gone = false;
  for (let i = 0; i < 50 && !gone; i++) {
    gone = docker("volume", "inspect", claim) === null;
    if (!gone) await sleep(100);
  }
  assert.ok(gone, `volume ${claim} was not removed with its sandbox`);
});

test("diagnostics: logs, events, inspect (secrets masked), summary, the scoped JSON forms", async () => {
  const sbx = await create({ entrypoint: ["sh", "-c", "echo hello-out; echo err-line >&2; exec sleep 600"], env: { MY_TOKEN: "s3cr3t-value", PLAIN: "plain-value" } });
  const base = `/v1/sandboxes/${sbx.id}/diagnostics`;
  let logs;
  for (let i = 0; i < 50; i++) { // the entrypoint's lines follow execd's start
    logs = await api("GET", `${base}/logs?tail=100`);
    if (logs.text.includes("err-line")) break;
    await sleep(100);
  }
  assert.equal(logs.status, 200);
  assert.equal(logs.headers.get("deprecation"), "true");
  assert.match(logs.headers.get("content-type"), /^text\/plain/);
  assert.match(logs.text, /\d{4}-\d\d-\d\dT[^ ]+ hello-out/); // timestamps on
  assert.match(logs.text, /err-line/);
  const ev = await api("GET", `${base}/events`);
  assert.match(ev.text, /Normal Created: container/);
  assert.match(ev.text, /Normal Started: started/);
  const ins = await api("GET", `${base}/inspect`);
  assert.equal(ins.headers.get("deprecation"), null);
  assert.match(ins.text, /MY_TOKEN=\*\*\*/);
  assert.match(ins.text, /PLAIN=plain-value/);
  assert.match(ins.text, /opensandbox\.io\/execd-access-token=\*\*\*/);
  assert.ok(!ins.text.includes("s3cr3t-value"), "a secret value leaked");
  const raw = await api("GET", `/v1/sandboxes/${sbx.id}/endpoints/44772`);
  assert.ok(!ins.text.includes(raw.json.headers["X-EXECD-ACCESS-TOKEN"]), "the execd token leaked");
  const sum = await api("GET", `${base}/summary?tail=5&event_limit=1`);
  assert.match(sum.text, /== inspect[\s\S]*== events[\s\S]*== logs/);
  const scoped = await api("GET", `${base}/logs?scope=container&tail=100`);
  assert.equal(scoped.json.kind, "logs");
  assert.equal(scoped.json.scope, "container");
  assert.equal(scoped.json.delivery, "inline");
  assert.equal(scoped.json.truncated, false);
  assert.match(scoped.json.content, /hello-out/);
  assert.equal(scoped.json.contentLength, Buffer.byteLength(scoped.json.content));
  const life = await api("GET", `${base}/events?scope=lifecycle`);
  assert.equal(life.json.kind, "events");
  assert.match(life.json.content, /Started/);
  for (const bad of ["logs?scope=network", "events?scope=container", "inspect?scope=x", "nope"]) {
    const r = await api("GET", `${base}/${bad}`);
    assert.equal(r.status, 501, bad);
    assert.equal(r.json.code, "DIAGNOSTICS_NOT_IMPLEMENTED");
  }
  const none = await api("GET", `/v1/sandboxes/00000000-0000-4000-8000-000000000000/diagnostics/logs`);
  assert.equal(none.status, 404);
  await sbx.kill();
});

test("snapshots: create, list, restore with the file there, delete refused while in use, then deleted", async () => {
  const src = await create({ entrypoint: ["sleep", "600"] });
  await src.files.writeFiles([{ path: "/root/kept.txt", data: "made before the snapshot" }]);
  // Enough data that the commit takes a while: Docker pauses the container meanwhile,
  // and the sandbox must still read Running (and refuse pause and resume).
  await src.commands.run("dd if=/dev/urandom of=/root/bulk bs=1M count=96 2>/dev/null");
  const snap = await manager.createSnapshot(src.id, { name: `${run}-snap` });
  assert.equal(snap.sandboxId, src.id);
  assert.equal(snap.name, `${run}-snap`);
  assert.ok(["Creating", "Ready"].includes(snap.status.state), snap.status.state);
  let got = snap;
  const seen = new Set();
  let resumed = null;
  for (let i = 0; i < 600 && got.status.state === "Creating"; i++) {
    seen.add((await api("GET", `/v1/sandboxes/${src.id}`)).json.status.state);
    if (!resumed) resumed = await api("POST", `/v1/sandboxes/${src.id}/resume`);
    await sleep(50);
    got = await manager.getSnapshot(snap.id);
  }
  assert.equal(got.status.state, "Ready", JSON.stringify(got.status));
  assert.deepEqual([...seen].filter((s) => s !== "Running"), [], "Running throughout the commit");
  if (resumed) assert.equal(resumed.status, 409, "resume while committing");
  assert.equal(got.status.reason, "snapshot_runtime_ready");
  // Filters: by source sandbox, by name, by state (OR), and pagination.
  const mine = await manager.listSnapshots({ sandboxId: src.id });
  assert.deepEqual(mine.items.map((x) => x.id), [snap.id]);
  assert.equal(mine.pagination.totalItems, 1);
  assert.equal((await manager.listSnapshots({ name: `${run}-snap`, states: ["Failed", "Ready"] })).items.length, 1);
  assert.equal((await manager.listSnapshots({ sandboxId: src.id, states: ["Creating"] })).items.length, 0);
  const raw = await api("POST", `/v1/sandboxes/${src.id}/snapshots`);
  assert.equal(raw.status, 202);
  assert.equal(raw.headers.get("location"), `/v1/snapshots/${raw.json.id}`);
  const page = await api("GET", `/v1/snapshots?sandboxId=${src.id}&pageSize=1&page=2`);
  assert.equal(page.json.items.length, 1);
  assert.equal(page.json.items[0].id, snap.id, "newest first: the unnamed one is on page 1");
  assert.equal(page.json.pagination.totalItems, 2);
  // The sandbox made from the snapshot has the file; its own credential works, the old one does not.
  const restored = await Sandbox.create({ connectionConfig: conn(), snapshotId: snap.id, metadata: { run }, timeoutSeconds: 600, readyTimeoutSeconds: 30 });
  made.push(restored.id);
  const info = await restored.getInfo();
  assert.equal(info.snapshotId, snap.id);
  assert.equal(info.image, undefined);
  assert.deepEqual(info.entrypoint, ["tail", "-f", "/dev/null"]);
  assert.equal(info.metadata.run, run);
  const ex = await restored.commands.run("cat /root/kept.txt");
  assert.deepEqual(texts(ex.logs.stdout), ["made before the snapshot"]);
  const tokens = await Promise.all([src, restored].map(async (x) =>
    (await api("GET", `/v1/sandboxes/${x.id}/endpoints/44772`)).json.headers["X-EXECD-ACCESS-TOKEN"]));
  assert.notEqual(tokens[0], tokens[1]);
  const rep = (await api("GET", `/v1/sandboxes/${restored.id}/endpoints/44772`)).json.endpoint;
  const asOld = await fetch(`http://${rep}/ping`, { headers: { "X-EXECD-ACCESS-TOKEN": tokens[0] } });
  assert.equal(asOld.status, 401, "the source sandbox's token does not open the restored one");
  // In use by the restored sandbox: refused, and still Ready.
  await assert.rejects(manager.deleteSnapshot(snap.id), (err) => err.statusCode === 409 && /in use/.test(err.message));
  assert.equal((await manager.getSnapshot(snap.id)).status.state, "Ready");
  const del = await api("DELETE", `/v1/snapshots/${snap.id}`);
  assert.equal(del.json.code, "SNAPSHOT::DELETE_CONFLICT");
  await restored.kill();
  // A restore and a delete at once: never both (the restore's container may not exist yet).
  const [race, raceDel] = await Promise.all([
    api("POST", "/v1/sandboxes", { snapshotId: snap.id, resourceLimits: {}, metadata: { run }, timeout: 300 }),
    api("DELETE", `/v1/snapshots/${snap.id}`),
  ]);
  assert.ok(!(race.status === 202 && raceDel.status === 204), `restore ${race.status}, delete ${raceDel.status}`);
  if (race.status === 202) {
    made.push(race.json.id);
    assert.equal(raceDel.json.code, "SNAPSHOT::DELETE_CONFLICT");
    await api("DELETE", `/v1/sandboxes/${race.json.id}`);
    for (let i = 0; i < 50 && (await api("DELETE", `/v1/snapshots/${snap.id}`)).status === 409; i++) await sleep(100);
  } else {
    assert.equal(race.json.code, "SNAPSHOT::NOT_READY", race.text);
  }
  await manager.deleteSnapshot(raw.json.id).catch(async () => {
    for (let i = 0; i < 100 && (await api("DELETE", `/v1/snapshots/${raw.json.id}`)).status === 409; i++) await sleep(100);
  });
  const gone = await api("GET", `/v1/snapshots/${snap.id}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.json.code, "SNAPSHOT::NOT_FOUND");
  assert.equal(docker("image", "inspect", `opensandbox-snapshots:${snap.id}`), null, "its image is gone");
  await src.kill();
});

test("snapshots: the errors (unknown, not Running, bad body, restore of an unknown one)", async () => {
  const none = await api("GET", "/v1/snapshots/00000000-0000-4000-8000-000000000000");
  assert.equal(none.status, 404);
  assert.equal(none.json.code, "SNAPSHOT::NOT_FOUND");
  assert.equal((await api("DELETE", "/v1/snapshots/nope")).status, 404);
  assert.equal((await api("POST", "/v1/sandboxes/nope/snapshots")).status, 404);
  const r = await api("POST", "/v1/sandboxes", { snapshotId: "00000000-0000-4000-8000-000000000000", resourceLimits: {}, metadata: { run } });
  assert.equal(r.status, 404);
  assert.equal(r.json.code, "SNAPSHOT::NOT_FOUND");
  const sbx = await create({ entrypoint: ["sleep", "600"] });
  for (const body of ["{bad", "[1]", '{"name":""}', '{"name":7}', '{"name":"a\\tb"}', Buffer.from('{"name":"\xff\xfe"}', "latin1")]) {
    const b = await api("POST", `/v1/sandboxes/${sbx.id}/snapshots`, body);
    assert.equal(b.status, body === "{bad" ? 400 : 422, `${body}: ${b.text}`);
  }
  await sbx.pause();
  for (let i = 0; i < 100 && (await sbx.getInfo()).status.state !== "Paused"; i++) await sleep(50);
  const paused = await api("POST", `/v1/sandboxes/${sbx.id}/snapshots`, {});
  assert.equal(paused.status, 409);
  assert.equal(paused.json.code, "SNAPSHOT::INVALID_SOURCE_STATE");
  assert.equal((await manager.listSnapshots({ sandboxId: sbx.id })).items.length, 0, "nothing recorded");
  await sbx.kill();
});

test("volumes: subPath of a named volume (read-write, read-only, a link out of the volume refused)", async () => {
  const claim = `${run}-sub`;
  const vol = (extra) => ({ name: "v", pvc: { claimName: claim, createIfNotExists: true }, mountPath: "/mnt/v", ...extra });
  const a = await create({ entrypoint: ["sleep", "600"], volumes: [vol({ subPath: "a/b" })] });
  await a.commands.run("echo from-sub > /mnt/v/f");
  const whole = await create({ entrypoint: ["sleep", "600"], volumes: [vol({})] });
  const ex = await whole.commands.run("cat /mnt/v/a/b/f; ln -s /etc /mnt/v/evil; ln -s ../../.. /mnt/v/up");
  assert.deepEqual(texts(ex.logs.stdout), ["from-sub"]);
  const ro = await create({ entrypoint: ["sleep", "600"], volumes: [vol({ subPath: "a/b", readOnly: true })] });
  const w = await ro.commands.run("cat /mnt/v/f; (echo x > /mnt/v/g) 2>/dev/null && echo writable || echo read-only");
  assert.deepEqual(texts(w.logs.stdout), ["from-sub", "read-only"]);
  // A link the sandbox made inside the volume leads nowhere: refused, nothing created.
  for (const sub of ["evil", "up/etc", "evil/x"]) {
    const r = await api("POST", "/v1/sandboxes", { image: { uri: image }, entrypoint: ["sleep", "60"], resourceLimits: {}, metadata: { run }, volumes: [vol({ subPath: sub })] });
    assert.equal(r.status, 400, `${sub}: ${r.text}`);
    assert.equal(r.json.code, "VOLUME::INVALID_SUB_PATH", r.text);
    assert.match(r.json.message, /symbolic link/);
  }
  for (const s of [a, whole, ro]) await s.kill();
  docker("volume", "rm", claim);
});

test("volumes: refused outside the allowlist, through a symlink, missing pvc, bad subPath (nothing created)", { skip: !volroot && "no VOLROOT" }, async () => {
  fs.mkdirSync(volroot, { recursive: true });
  try { fs.symlinkSync("/etc", `${volroot}/escape`); } catch { /* made by the other build's run */ }
  const body = (vol) => ({ image: { uri: image }, entrypoint: ["sleep", "60"], resourceLimits: {}, metadata: { run }, volumes: [vol] });
  const before = (await manager.listSandboxInfos({ metadata: { run } })).pagination.totalItems;
  const cases = [
    [{ name: "v", host: { path: "/etc" }, mountPath: "/m" }, 400, "VOLUME::HOST_PATH_NOT_ALLOWED", /\/etc/],
    [{ name: "v", host: { path: `${volroot}/escape` }, mountPath: "/m" }, 400, "VOLUME::HOST_PATH_NOT_ALLOWED", /escape is a symbolic link/],
    [{ name: "v", host: { path: `${volroot}/escape/${run}-made` }, mountPath: "/m" }, 400, "VOLUME::HOST_PATH_NOT_ALLOWED", /symbolic link/],
    [{ name: "v", host: { path: `${volroot}/../x` }, mountPath: "/m" }, 400, "VOLUME::INVALID_HOST_PATH", /volumes\[0\]\.host\.path/],
    [{ name: "v", pvc: { claimName: `${run}-absent`, createIfNotExists: false }, mountPath: "/m" }, 400, "VOLUME::PVC_NOT_FOUND", /absent/],
    [{ name: "v", host: { path: `${volroot}/data` }, mountPath: "/m", subPath: "../up" }, 400, "VOLUME::INVALID_SUB_PATH", /subPath/],
    [{ name: "v", host: { path: `${volroot}/data` }, pvc: { claimName: "x" }, mountPath: "/m" }, 400, "VOLUME::INVALID_BACKEND", /exactly one/],
  ];
  for (const [vol, status, code, msg] of cases) {
    const r = await api("POST", "/v1/sandboxes", body(vol));
    assert.equal(r.status, status, `${JSON.stringify(vol)} -> ${r.text}`);
    assert.equal(r.json.code, code, r.text);
    assert.match(r.json.message, msg);
  }
  assert.equal(docker("volume", "inspect", `${run}-absent`), null);
  assert.equal(fs.existsSync(`/etc/${run}-made`), false, "nothing is created through a link");
  assert.equal((await manager.listSandboxInfos({ metadata: { run } })).pagination.totalItems, before);
});

const debian = process.env.DEBIAN_IMAGE;
test("execd injection into a Debian-based image (glibc, dash as /bin/sh, bash)", { skip: !debian && "no DEBIAN_IMAGE" }, async () => {
  const sbx = await create({ image: debian, entrypoint: ["sleep", "600"], env: { WHO: "debian" } });
  const ex = await sbx.commands.run('cat /etc/debian_version; readlink /bin/sh; echo "$WHO"; ls /lib64/ld-linux-x86-64.so.2');
  const out = texts(ex.logs.stdout);
  assert.match(out[0], /^\d+(\.\d+)?$/);
  assert.deepEqual(out.slice(1), ["dash", "debian", "/lib64/ld-linux-x86-64.so.2"]);
  await sbx.files.writeFiles([{ path: "/root/note.txt", data: "on debian" }]);
  assert.equal(await sbx.files.readFile("/root/note.txt"), "on debian");
  await sbx.kill();
});

test("a bad image is a clear error and leaves nothing behind", async () => {
  const before = (await manager.listSandboxInfos({ metadata: { run } })).pagination.totalItems;
  await assert.rejects(
    Sandbox.create({ connectionConfig: conn(), image: "opensandbox-c/no-such-image:nope", metadata: { run }, readyTimeoutSeconds: 5 }),
    (err) => /no-such-image/.test(String(err.message ?? err)),
  );
  const after2 = (await manager.listSandboxInfos({ metadata: { run } })).pagination.totalItems;
  assert.equal(after2, before);
});

test("delete", async () => {
  const sbx = await create({ entrypoint: ["sleep", "600"], skipHealthCheck: true });
  await sbx.kill();
  await assert.rejects(manager.getSandboxInfo(sbx.id));
  const again = await api("DELETE", `/v1/sandboxes/${sbx.id}`);
  assert.equal(again.status, 404);
});

test("a sandbox whose command fails is Failed with its exit code and last output", async () => {
  const sbx = await create({ entrypoint: ["sh", "-c", "sleep 1; echo first; echo boom-marker >&2; exit 3"], skipHealthCheck: true });
  let info = await sbx.getInfo();
  for (let i = 0; i < 100 && !/boom-marker/.test(info.status.message ?? ""); i++) {
    await sleep(100);
    info = await sbx.getInfo();
  }
  assert.equal(info.status.state, "Failed");
  assert.equal(info.status.reason, "CONTAINER_EXITED_ERROR");
  // stdout and stderr lines, in the order the log driver kept them.
  assert.match(info.status.message, /^Container exited with code 3\. Last output: .*\b(first\|boom-marker|boom-marker\|first)$/);
  await sbx.kill();
});

test("a command that exits at once is Failed within seconds, not after the ready timeout", async () => {
  const t0 = Date.now();
  const sbx = await create({ entrypoint: ["sh", "-c", "echo gone-at-once; exit 7"], skipHealthCheck: true });
  let info = await sbx.getInfo();
  for (let i = 0; i < 100 && info.status.state !== "Failed"; i++) {
    await sleep(100);
    info = await sbx.getInfo();
  }
  assert.equal(info.status.state, "Failed");
  assert.match(info.status.message, /^Container exited with code 7\./);
  assert.ok(Date.now() - t0 < 15_000);
  await sbx.kill();
});

test("metrics", async () => {
  const r = await api("GET", "/metrics");
  assert.equal(r.status, 200);
  assert.match(r.text, /sandbox_api_requests_total\{route="create",status="202"\} \d+/);
  assert.match(r.text, /sandbox_api_sandboxes\{state="Running"\} \d+/);
  assert.match(r.text, /sandbox_api_create_seconds_count [1-9]/);
});

const egressSkip = process.env.EGRESS ? false : process.env.EGRESS_SKIP || "no egress image";
test("networkPolicy: the egress sidecar allows and denies names; policy API through the endpoint", { skip: egressSkip }, async () => {
  const out = (ex) => texts(ex.logs.stdout).join("\n");
  const sbx = await create({
    entrypoint: ["sleep", "600"],
    networkPolicy: { defaultAction: "deny", egress: [{ action: "allow", target: "allowed.test" }] },
  });
  const ep = await sbx.getEndpoint(18080);
  assert.match(ep.endpoint, /\/proxy\/18080$/);
  assert.ok(ep.headers?.["OPENSANDBOX-EGRESS-AUTH"], JSON.stringify(ep));
  let ex = await sbx.commands.run("nslookup allowed.test 2>&1");
  assert.match(out(ex), /10\.1\.2\.3/);
  ex = await sbx.commands.run("nslookup denied.test 2>&1");
  assert.ok(!out(ex).includes("10.1.2.4"), out(ex));
  ex = await sbx.commands.run("cat /proc/self/status | grep CapEff");
  const capEff = BigInt("0x" + out(ex).split(/\s+/)[1]);
  assert.equal(capEff & (1n << 12n), 0n, "NET_ADMIN is dropped in the sandbox");
  const policy = await sbx.getEgressPolicy();
  assert.equal(policy.defaultAction, "deny");
  assert.deepEqual(policy.egress.map((r) => r.target), ["allowed.test"]);
  await sbx.patchEgressRules([{ action: "allow", target: "denied.test" }]);
  ex = await sbx.commands.run("nslookup denied.test 2>&1");
  assert.match(out(ex), /10\.1\.2\.4/);
  await sbx.deleteEgressRules(["denied.test"]);
  assert.deepEqual((await sbx.getEgressPolicy()).egress.map((r) => r.target), ["allowed.test"]);
  const sidecars = () => execFileSync("docker", ["ps", "-aq", "--filter", `label=opensandbox.io/egress-sidecar-for=${sbx.id}`]).toString().trim();
  assert.notEqual(sidecars(), "");
  await sbx.kill();
  assert.equal(sidecars(), "", "the sidecar goes with the sandbox");
});

test("networkPolicy: a sidecar that never gets ready fails the create clearly and leaves nothing", { skip: egressSkip }, async () => {
  // A policy target egressd rejects makes it exit: /healthz never answers.
  const r = await api("POST", "/v1/sandboxes", {
    image: { uri: image }, entrypoint: ["sleep", "60"], resourceLimits: {}, metadata: { run, bad: "egress" },
    networkPolicy: { defaultAction: "deny", egress: [{ action: "allow", target: "bad target with spaces" }] },
  });
  assert.equal(r.status, 500, r.text);
  assert.equal(r.json.code, "DOCKER::SANDBOX_START_FAILED");
  assert.match(r.json.message, /egress sidecar not ready/);
  const list = await api("GET", `/v1/sandboxes?metadata=${encodeURIComponent("bad=egress")}`);
  assert.equal(list.json.pagination.totalItems, 0);
  const left = execFileSync("docker", ["ps", "-aq", "--filter", "label=bad=egress", "--filter", `label=run=${run}`]).toString().trim();
  assert.equal(left, "", "no container left behind");
});
