// SPDX-License-Identifier: Apache-2.0
// The ingress gateway against real sandboxes: every route form (HTTP and a
// WebSocket), errors, secure access (header, signed, expired, bad signature),
// renew-on-access, the route cookie and many sandboxes at once. Needs
// API_DOMAIN, API_KEY, GW (the gateway's host:port), IMAGE, RUN_ID and
// SIGN_KEY (the base64 secret of key id "a"). Wildcard hosts (<id>-<port>.gw.test)
// are resolved to the loopback by the test's own lookup, never by DNS.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHash } from "node:crypto";
import WebSocket from "ws";
import { execFileSync } from "node:child_process";

const domain = process.env.API_DOMAIN;
const apiKey = process.env.API_KEY;
const gw = process.env.GW;
const [gwHost, gwPort] = gw.split(":");
const image = process.env.IMAGE;
const run = process.env.RUN_ID;
const H = { "OPEN-SANDBOX-API-KEY": apiKey };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const made = [];

async function api(method, path, body) {
  const r = await fetch(`http://${domain}${path}`, {
    method, headers: { ...H, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

// One request to the gateway with any Host: status, headers, body.
function gwGet(path, headers = {}, method = "GET") {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: gwHost, port: gwPort, path, method, headers, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const httpd = ["sh", "-c", "mkdir -p /www && echo hello-$HOSTNAME > /www/index.html && exec httpd -f -p 8080 -h /www"];
async function create(extra = {}) {
  const r = await api("POST", "/v1/sandboxes", {
    image: { uri: image }, entrypoint: httpd, timeout: 600, resourceLimits: { cpu: "500m" },
    metadata: { run }, ...extra,
  });
  assert.equal(r.status, 202, r.text);
  made.push(r.json.id);
  for (let i = 0; i < 150; i++) {
    const g = await api("GET", `/v1/sandboxes/${r.json.id}`);
    if (g.json?.status?.state === "Running") {
      // Running means execd answers; the app on 8080 may start a moment later. Any
      // gateway request counts as access, so a renew-on-access sandbox waits in its test.
      if (!extra.extensions) await appUp(r.json.id);
      return r.json.id;
    }
    await sleep(200);
  }
  throw new Error(`sandbox ${r.json.id} never ran`);
}

// Until busybox httpd in the sandbox answers through the gateway (502 until then).
async function appUp(id) {
  const ep = (await api("GET", `/v1/sandboxes/${id}/endpoints/8080`)).json ?? {};
  let r;
  for (let i = 0; i < 100; i++) {
    r = await gwGet("/", { ...(ep.headers ?? {}), "OpenSandbox-Ingress-To": `${id}-8080` });
    if (r.status !== 502) return r;
    await sleep(50);
  }
  return r;
}

after(async () => {
  for (const id of made) await api("DELETE", `/v1/sandboxes/${id}`).catch(() => {});
});

let a, b, aHost;
test("every route form reaches busybox httpd in a sandbox", async () => {
  [a, b] = await Promise.all([create(), create({ secureAccess: true })]);
  const name = (await api("GET", `/v1/sandboxes/${a}/endpoints/8080`)).json;
  assert.ok(name.endpoint, "an endpoint in gateway form");
  aHost = (await gwGet("/", { "OpenSandbox-Ingress-To": `${a}-8080` })).body.trim();
  assert.match(aHost, /^hello-/);
  const forms = [
    ["/", { "OpenSandbox-Ingress-To": `${a}-8080` }],
    ["/index.html", { "OPEN-SANDBOX-INGRESS": `${a}-8080` }],
    ["/", { Host: `${a}-8080.gw.test:${gwPort}` }],
    [`/${a}/8080/index.html`, {}],
    [`/${a}/8080`, {}],
    [`/sandboxes/${a}/port/8080/index.html`, {}],
  ];
  for (const [path, headers] of forms) {
    const r = await gwGet(path, headers);
    assert.equal(r.status, 200, `${path} ${JSON.stringify(headers)}: ${r.body}`);
    assert.equal(r.body.trim(), aHost);
  }
  const ok = await gwGet("/status.ok");
  assert.equal(ok.status, 200);
  assert.equal(ok.body, "OK");
});

test("errors: 400 no route, 400 bad port, 404 unknown sandbox, 503 paused", async () => {
  const none = await gwGet("/index.html");
  assert.equal(none.status, 400);
  assert.match(none.body, /^OpenSandbox Ingress: missing header/);
  assert.equal((await gwGet("/", { "OpenSandbox-Ingress-To": `${a}-99999` })).status, 400);
  assert.equal((await gwGet("/", { "OpenSandbox-Ingress-To": "nonsense" })).status, 400);
  const ghost = "00000000-0000-4000-8000-000000000000";
  const u = await gwGet("/", { "OpenSandbox-Ingress-To": `${ghost}-8080` });
  assert.equal(u.status, 404);
  assert.match(u.body, /not found/);
  assert.equal((await gwGet(`/${ghost}/8080/`)).status, 404);
  // A gateway named like a route (gw-1.example) is no unknown sandbox: 400.
  assert.equal((await gwGet("/index.html", { Host: "gw-1.example" })).status, 400);
  assert.equal((await api("POST", `/v1/sandboxes/${a}/pause`)).status, 202);
  for (let i = 0; i < 50 && (await api("GET", `/v1/sandboxes/${a}`)).json.status.state !== "Paused"; i++) await sleep(100);
  const p = await gwGet("/", { "OpenSandbox-Ingress-To": `${a}-8080` });
  assert.equal(p.status, 503, p.body);
  assert.equal((await api("POST", `/v1/sandboxes/${a}/resume`)).status, 202);
  for (let i = 0; i < 50 && (await api("GET", `/v1/sandboxes/${a}`)).json.status.state !== "Running"; i++) await sleep(100);
  assert.equal((await gwGet("/", { "OpenSandbox-Ingress-To": `${a}-8080` })).status, 200);
  // A closed port in a running sandbox: the upstream fails.
  assert.equal((await gwGet("/", { "OpenSandbox-Ingress-To": `${a}-8099` })).status, 502);
});

// sig = hex(sha256(BE32(len(secret)) || secret || BE32(len(canon)) || canon))[0:8] + key id
function sign(id, port, expires) {
  const secret = Buffer.from(process.env.SIGN_KEY, "base64");
  const exp36 = expires.toString(36);
  const canon = Buffer.from(`v1\nshort\n${id}\n${port}\n${exp36}\n`);
  const be = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const sig = createHash("sha256").update(Buffer.concat([be(secret.length), secret, be(canon.length), canon]))
    .digest("hex").slice(0, 8) + "a";
  return { exp36, sig };
}

test("secure access: none, wrong, right, signed, expired, bad signature", async () => {
  const ep = (await api("GET", `/v1/sandboxes/${b}/endpoints/8080`)).json;
  const tok = ep.headers["OpenSandbox-Secure-Access"];
  assert.match(tok, /^[A-Za-z0-9_-]{32,}$/);
  const to = { "OpenSandbox-Ingress-To": `${b}-8080` };
  assert.equal((await gwGet("/", to)).status, 401);
  assert.equal((await gwGet("/", { ...to, "OpenSandbox-Secure-Access": "nope" })).status, 401);
  assert.equal((await gwGet("/", { ...to, "OpenSandbox-Secure-Access": tok })).status, 200);
  // The server's signed endpoint works with no header at all.
  const exp = Math.floor(Date.now() / 1000) + 600;
  const signed = (await api("GET", `/v1/sandboxes/${b}/endpoints/8080?expires=${exp}`)).json;
  const mine = sign(b, 8080, exp);
  assert.equal(signed.headers["OpenSandbox-Ingress-To"], `${b}-8080-${mine.exp36}-${mine.sig}`,
    "byte-exact signature");
  assert.equal(signed.headers["OpenSandbox-Secure-Access"], undefined);
  assert.equal((await gwGet("/", { "OpenSandbox-Ingress-To": signed.headers["OpenSandbox-Ingress-To"] })).status, 200);
  assert.equal((await gwGet(`/${b}/8080/${mine.exp36}/${mine.sig}/index.html`)).status, 200);
  assert.equal((await gwGet("/", { Host: `${b}-8080-${mine.exp36}-${mine.sig}.gw.test` })).status, 200);
  const old = sign(b, 8080, Math.floor(Date.now() / 1000) - 10);
  assert.equal((await gwGet("/", { "OpenSandbox-Ingress-To": `${b}-8080-${old.exp36}-${old.sig}` })).status, 403);
  const bad = `${mine.sig.slice(0, 7)}${mine.sig[7] === "0" ? "1" : "0"}a`;
  assert.equal((await gwGet("/", { "OpenSandbox-Ingress-To": `${b}-8080-${mine.exp36}-${bad}` })).status, 403);
  // Past expiry in the request is refused by the server, and so is one too long to
  // read (it must never fall back to the permanent token).
  assert.equal((await api("GET", `/v1/sandboxes/${b}/endpoints/8080?expires=1`)).status, 400);
  assert.equal((await api("GET", `/v1/sandboxes/${b}/endpoints/8080?expires=${"0".repeat(40)}4738381338`)).status, 400);
  // The largest expiry (2^64-1) is signed and read back.
  const far = (await api("GET", `/v1/sandboxes/${b}/endpoints/8080?expires=18446744073709551615`)).json;
  assert.equal((await gwGet("/", { "OpenSandbox-Ingress-To": far.headers["OpenSandbox-Ingress-To"] })).status, 200);
  // A secure sandbox's app is not published on a host port: the gateway is the way in.
  const ctr = execFileSync("docker", ["ps", "-q", "--filter", `label=opensandbox.io/id=${b}`]).toString().trim();
  const ports = execFileSync("docker", ["inspect", "-f", "{{json .NetworkSettings.Ports}}", ctr]).toString();
  assert.doesNotMatch(ports, /"8080\/tcp":\[/, ports);
});

// execd's PTY WebSocket through one route form: create a PTY, type, read the echo.
async function ptyThrough(urlBase, headers) {
  const r = await gwGetJson("POST", `${urlBase.path}/pty`, headers);
  assert.equal(r.status, 201, JSON.stringify(r));
  const ws = new WebSocket(`ws://${gw}${urlBase.path}/pty/${r.json.session_id}/ws`, { headers });
  let out = "";
  ws.on("message", (d, bin) => { if (bin) out += Buffer.from(d).subarray(1).toString(); });
  await new Promise((res, rej) => { ws.once("open", res); ws.once("error", rej); });
  ws.send(Buffer.concat([Buffer.from([0]), Buffer.from("echo gw-$((6*7))\n")]));
  for (let i = 0; i < 100 && !out.includes("gw-42"); i++) await sleep(50);
  ws.close();
  return out;
}
function gwGetJson(method, path, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: gwHost, port: gwPort, path, method,
      headers: { ...headers, "content-type": "application/json" }, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => { try { resolve({ status: res.statusCode, json: JSON.parse(body) }); } catch { resolve({ status: res.statusCode, body }); } });
    });
    req.on("error", reject);
    req.end("{}");
  });
}

test("a WebSocket in the sandbox works through every route form", async () => {
  const tok = (await api("GET", `/v1/sandboxes/${a}/endpoints/44772`)).json.headers["X-EXECD-ACCESS-TOKEN"];
  assert.ok(tok);
  const T = { "X-EXECD-ACCESS-TOKEN": tok };
  const forms = [
    [{ path: "" }, { ...T, "OpenSandbox-Ingress-To": `${a}-44772` }],
    [{ path: "" }, { ...T, Host: `${a}-44772.gw.test` }],
    [{ path: `/${a}/44772` }, T],
    [{ path: `/sandboxes/${a}/port/44772` }, T],
  ];
  for (const [base, headers] of forms)
    assert.match(await ptyThrough(base, headers), /gw-42/, JSON.stringify(headers));
});

test("renew-on-access moves expiresAt, at most once per interval", async (t) => {
  const id = await create({ timeout: 120, extensions: { "access.renew.extend.seconds": "900" } });
  const expires = async () => Date.parse((await api("GET", `/v1/sandboxes/${id}`)).json.expiresAt);
  const before = await expires();
  const t0 = Date.now(); // the renewal happens after this
  assert.equal((await appUp(id)).status, 200);
  const first = await expires();
  assert.ok(first > before + 600_000, `extended to about now+900 s (${before} -> ${first})`);
  // --renew-min-interval is 2 s. On a loaded machine the next access may land
  // after it, so "not again" is asserted only when it provably came sooner.
  await sleep(1000);
  assert.equal((await gwGet("/", { "OpenSandbox-Ingress-To": `${id}-8080` })).status, 200);
  const answered = Date.now();
  const second = await expires();
  if (answered - t0 < 2000) assert.equal(second, first, "not again within --renew-min-interval");
  else t.diagnostic(`second access ${answered - t0} ms after the first: not checked`);
  await sleep(2200);
  assert.equal((await gwGet(`/${id}/8080/`)).status, 200);
  const third = await expires();
  assert.ok(third > second, "again after the interval");
  // The server proxy counts as access too.
  await sleep(2200);
  await fetch(`http://${domain}/sandboxes/${id}/proxy/8080/`, { headers: H });
  const fourth = await expires();
  assert.ok(fourth > third, "the server proxy renews as well");
});

test("the route cookie routes a URI app's absolute paths", async () => {
  const first = await gwGet(`/${a}/8080/index.html`);
  const cookie = first.headers["set-cookie"]?.[0] ?? "";
  assert.match(cookie, new RegExp(`^opensandbox-route=${a}-8080; Path=/; HttpOnly; SameSite=Lax`));
  // An absolute path with no route of its own goes where the cookie says.
  const next = await gwGet("/index.html", { Cookie: `x=1; ${cookie.split(";")[0]}` });
  assert.equal(next.status, 200);
  assert.equal(next.body.trim(), aHost);
  // noVNC's case: a page under a URI route opens a WebSocket at an absolute path.
  const tok = (await api("GET", `/v1/sandboxes/${a}/endpoints/44772`)).json.headers["X-EXECD-ACCESS-TOKEN"];
  const T = { "X-EXECD-ACCESS-TOKEN": tok };
  const page = await gwGet(`/${a}/44772/ping`, T);
  assert.equal(page.status, 200);
  const c44772 = page.headers["set-cookie"][0].split(";")[0];
  assert.equal(c44772, `opensandbox-route=${a}-44772`);
  assert.match(await ptyThrough({ path: "" }, { ...T, Cookie: c44772 }), /gw-42/);
});

test("20 sandboxes routed concurrently", async () => {
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push(...(await Promise.all([1, 2, 3, 4, 5].map(() => create()))));
  const seen = await Promise.all(ids.map((id) => gwGet("/", { "OpenSandbox-Ingress-To": `${id}-8080` })));
  const bodies = new Set(seen.map((r) => { assert.equal(r.status, 200); return r.body.trim(); }));
  assert.equal(bodies.size, 20, "each reached its own sandbox");
});
