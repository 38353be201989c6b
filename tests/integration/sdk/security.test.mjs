// SPDX-License-Identifier: Apache-2.0
// The security model, tried as a hostile neighbour would, against sandbox-api
// on the local dockerd with the official SDK. Needs API_DOMAIN, API_KEY, IMAGE
// (busybox), RUN_ID, VICTIM_VOLUME (a Docker volume this server did not make)
// and SHARED_VOLUME (one matching the server's --allowed-volumes).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import http from "node:http";
import { ConnectionConfig, Sandbox } from "@alibaba-group/opensandbox";

const domain = process.env.API_DOMAIN;
const apiKey = process.env.API_KEY;
const image = process.env.IMAGE;
const run = process.env.RUN_ID;
const base = `http://${domain}`;
const H = { "OPEN-SANDBOX-API-KEY": apiKey };
const conn = () => new ConnectionConfig({ domain, apiKey, protocol: "http" });
const made = [];

async function api(method, path, body, headers = {}) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { ...H, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, json, text, headers: r.headers };
}

async function create(extra = {}) {
  const sbx = await Sandbox.create({
    connectionConfig: conn(),
    image,
    entrypoint: ["sleep", "600"],
    timeoutSeconds: 300,
    resource: { cpu: "500m", memory: "128Mi" },
    readyTimeoutSeconds: 30,
    metadata: { run },
    ...extra,
  });
  made.push(sbx.id);
  return sbx;
}

after(async () => {
  for (const id of made) await api("DELETE", `/v1/sandboxes/${id}`).catch(() => {});
});

const out = (ex) => ex.logs.stdout.map((m) => m.text).join("\n");
let a, b, epB;

test("the SDK works unchanged with per-sandbox tokens", async () => {
  [a, b] = await Promise.all([create(), create()]);
  const r = await a.commands.run("echo hi-from-a");
  assert.equal(out(r), "hi-from-a");
  epB = (await api("GET", `/v1/sandboxes/${b.id}/endpoints/44772`)).json;
  const epA = (await api("GET", `/v1/sandboxes/${a.id}/endpoints/44772`)).json;
  const tb = epB.headers?.["X-EXECD-ACCESS-TOKEN"], ta = epA.headers?.["X-EXECD-ACCESS-TOKEN"];
  assert.match(tb, /^[A-Za-z0-9_-]{32,}$/, "the endpoint carries the execd token");
  assert.notEqual(ta, tb, "each sandbox has its own token");
  // An application port through execd's /proxy needs the token too; 8080 is direct.
  const ep9 = (await api("GET", `/v1/sandboxes/${b.id}/endpoints/9000`)).json;
  assert.equal(ep9.headers?.["X-EXECD-ACCESS-TOKEN"], tb);
  const ep8080 = (await api("GET", `/v1/sandboxes/${b.id}/endpoints/8080`)).json;
  assert.equal(ep8080.headers?.["X-EXECD-ACCESS-TOKEN"], undefined);
});

test("the published execd port answers 401 without the token, 401 with another sandbox's", async () => {
  const url = `http://${epB.endpoint}/command`;
  const body = JSON.stringify({ command: "id" });
  const none = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
  assert.equal(none.status, 401);
  const epA = (await api("GET", `/v1/sandboxes/${a.id}/endpoints/44772`)).json;
  const wrong = await fetch(url, { method: "POST", body, headers: epA.headers });
  assert.equal(wrong.status, 401);
  const right = await fetch(`http://${epB.endpoint}/ping`, { headers: epB.headers });
  assert.equal(right.status, 200);
});

test("sandbox A cannot run commands in sandbox B over the bridge", async () => {
  const ipB = execFileSync("docker", ["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
    execFileSync("docker", ["ps", "-q", "--filter", `label=opensandbox.io/id=${b.id}`]).toString().trim()]).toString().trim();
  assert.match(ipB, /^\d+\.\d+\.\d+\.\d+$/);
  const r = await a.commands.run(
    `wget -q -O - --post-data '{"command":"hostname"}' --header 'Content-Type: application/json' ` +
    `http://${ipB}:44772/command 2>&1; echo "rc=$?"`);
  const text = out(r);
  assert.match(text, /401|Unauthorized/, text);
  assert.doesNotMatch(text, /"type":"stdout"/, "B ran nothing");
});

test("execd's token is not in the sandbox's commands, PID 1's environment, nor readable from execd", async () => {
  const r = await a.commands.run(
    "env | grep -c EXECD_ACCESS_TOKEN; " +
    "tr '\\000' '\\n' </proc/1/environ | grep -c EXECD_ACCESS_TOKEN; " +
    "for p in /proc/[0-9]*; do case $(cat $p/comm 2>/dev/null) in execd) " +
    "cat $p/environ >/dev/null 2>&1 && echo environ-readable || echo environ-denied;; esac; done");
  const text = out(r);
  assert.deepEqual(text.split("\n").slice(0, 2), ["0", "0"], "not inherited by commands, not in PID 1's environment");
  assert.match(text, /environ-denied/, text);
  assert.doesNotMatch(text, /environ-readable/, text);
});

test("a pvc may mount only volumes this server made or the operator allowed", async () => {
  const victim = process.env.VICTIM_VOLUME;
  const body = (claim, create) => ({
    image: { uri: image }, entrypoint: ["sleep", "60"], timeout: 60, resourceLimits: { cpu: "1" },
    metadata: { run },
    volumes: [{ name: "v", mountPath: "/mnt/v", pvc: { claimName: claim, createIfNotExists: create } }],
  });
  const r = await api("POST", "/v1/sandboxes", body(victim, false));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.code, "VOLUME::PVC_NOT_ALLOWED");
  assert.ok(r.json.message.includes(victim), r.json.message);
  // createIfNotExists makes and labels a new one; it is then ours to mount.
  const fresh = `${run}-fresh`;
  const c1 = await api("POST", "/v1/sandboxes", body(fresh, true));
  assert.equal(c1.status, 202, c1.text);
  made.push(c1.json.id);
  const labels = execFileSync("docker", ["volume", "inspect", "-f", "{{json .Labels}}", fresh]).toString();
  assert.match(labels, /"opensandbox.io\/volume-managed-by":"server"/);
  // The operator's allow-list admits a volume by name.
  const c2 = await api("POST", "/v1/sandboxes", body(process.env.SHARED_VOLUME, false));
  assert.equal(c2.status, 202, c2.text);
  made.push(c2.json.id);
});

test("image.uri must be an image reference: 400 naming the field", async () => {
  for (const uri of ["../../_ping", "busybox\r\nX: y", "UPPER/case", "a/../b"]) {
    const r = await api("POST", "/v1/sandboxes", {
      image: { uri }, entrypoint: ["true"], timeout: 60, resourceLimits: { cpu: "1" },
    });
    assert.equal(r.status, 400, `${JSON.stringify(uri)}: ${r.text}`);
    assert.match(r.json.message, /image\.uri/);
  }
});

test("a body with a key twice is refused with 400, never echoed twice", async () => {
  const r = await fetch(`${base}/v1/sandboxes`, {
    method: "POST", headers: { ...H, "content-type": "application/json" },
    body: `{"image":{"uri":"${image}"},"entrypoint":["true"],"timeout":60,"resourceLimits":{},` +
      `"metadata":{"a":"b","a":"c"}}`,
  });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /duplicate key/);
});

test("server-proxy endpoints take the host from configuration or a valid Host only", async () => {
  const [h, p] = domain.split(":");
  const get = (host) => new Promise((resolve, reject) => {
    const req = http.request({ host: h, port: p, path: `/v1/sandboxes/${a.id}/endpoints/44772?use_server_proxy=true`,
      headers: { ...H, Host: host } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, json: JSON.parse(body) }));
    });
    req.on("error", reject);
    req.end();
  });
  const evil = await get("evil.example/x?");
  assert.equal(evil.status, 200);
  assert.equal(evil.json.endpoint, `${domain}/sandboxes/${a.id}/proxy/44772`, "this server's own address and port");
  const named = await get("api.example:8443");
  assert.equal(named.json.endpoint, `api.example:8443/sandboxes/${a.id}/proxy/44772`);
});

test("the server proxy adds execd's token for key holders and strips it on other ports", async () => {
  // With the API key, no token needed: the server adds it.
  const p = await fetch(`${base}/sandboxes/${a.id}/proxy/44772/ping`, { headers: H });
  assert.equal(p.status, 200);
  // An app port never sees the execd token or the API key.
  await a.commands.run("printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n' > /tmp/resp; " +
    "(nc -l -p 9002 < /tmp/resp > /tmp/req &); sleep 0.3");
  const epA = (await api("GET", `/v1/sandboxes/${a.id}/endpoints/44772`)).json;
  await fetch(`${base}/sandboxes/${a.id}/proxy/9002/x`, { headers: { ...H, ...epA.headers } }).catch(() => {});
  const seen = out(await a.commands.run("cat /tmp/req"));
  assert.match(seen, /GET \/x/);
  assert.doesNotMatch(seen, /X-EXECD-ACCESS-TOKEN/i);
  assert.doesNotMatch(seen, /OPEN-SANDBOX-API-KEY/i);
  // The same through execd's own /proxy on the published port.
  await a.commands.run("(nc -l -p 9003 < /tmp/resp > /tmp/req2 &); sleep 0.3");
  const ep = (await api("GET", `/v1/sandboxes/${a.id}/endpoints/9003`)).json;
  await fetch(`http://${ep.endpoint}/y`, { headers: { ...H, ...ep.headers } }).catch(() => {});
  const seen2 = out(await a.commands.run("cat /tmp/req2"));
  assert.match(seen2, /GET \/y/);
  assert.doesNotMatch(seen2, /X-EXECD-ACCESS-TOKEN/i);
  assert.doesNotMatch(seen2, /OPEN-SANDBOX-API-KEY/i);
});
