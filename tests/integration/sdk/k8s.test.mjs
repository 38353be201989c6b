// SPDX-License-Identifier: Apache-2.0
// sandbox-api with the Kubernetes runtime on the emulator (tests/k8s), driven
// by the official SDK. Needs API_DOMAIN, API_KEY, PROVIDER (batchsandbox|pod),
// RUN_ID, KUBECONFIG (kubectl), EMU_URL and EMU_ADMIN (the emulator's admin API).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { ConnectionConfig, Sandbox } from "@alibaba-group/opensandbox";

const domain = process.env.API_DOMAIN;
const apiKey = process.env.API_KEY;
const provider = process.env.PROVIDER;
const run = process.env.RUN_ID;
const emu = process.env.EMU_URL;
const admin = process.env.EMU_ADMIN;
const ns = "opensandbox";
const kind = provider === "pod" ? "pods" : "batchsandboxes";
const base = `http://${domain}`;
// Create answers once the pod is ready (as upstream): give it time on a busy machine.
const conn = () => new ConnectionConfig({ domain, apiKey, protocol: "http", requestTimeoutSeconds: 120 });
const texts = (m) => m.map((x) => x.text);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const made = [];

async function api(method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { "OPEN-SANDBOX-API-KEY": apiKey, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* text */ }
  return { status: r.status, json, text, headers: r.headers };
}

// The emulator's admin API (faults, stats); its CA is the test CA.
async function emuAdmin(method, path, body) {
  const out = execFileSync("curl", ["-sk", "-X", method, "-H", `Authorization: Bearer ${admin}`,
    ...(body ? ["-H", "content-type: application/json", "-d", JSON.stringify(body)] : []), `${emu}${path}`]);
  return JSON.parse(out.toString() || "{}");
}

const kubectl = (...args) => execFileSync("kubectl", ["-n", ns, ...args], { encoding: "utf8" });
const kget = (name) => JSON.parse(kubectl("get", kind, name, "-o", "json"));

async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function create(opts = {}) {
  const sbx = await Sandbox.create({
    connectionConfig: conn(),
    image: "sandbox/base:latest",
    entrypoint: ["sleep", "infinity"],
    timeoutSeconds: 600,
    // The emulated node has the machine's CPUs: small requests let many pods fit.
    resource: { cpu: "100m", memory: "128Mi" },
    readyTimeoutSeconds: 60,
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

test(`[${provider}] create, run, files: the pod runs execd and the SDK drives it`, async () => {
  main = await create({ env: { GREETING: "hello k8s" }, metadata: { role: "main" } });
  const info = await main.getInfo();
  assert.equal(info.status.state, "Running");
  assert.equal(info.metadata.role, "main");
  const ex = await main.commands.run('echo "$GREETING"; hostname');
  assert.equal(texts(ex.logs.stdout)[0], "hello k8s");
  const data = randomBytes(100_000);
  await main.files.writeFiles([{ path: "/tmp/blob", data }]);
  assert.ok(Buffer.from(await main.files.readBytes("/tmp/blob")).equals(data));
  // The workload as the cluster sees it: named by the id, labelled, the pod spec pieces.
  const obj = kget(main.id);
  assert.equal(obj.metadata.labels["opensandbox.io/id"], main.id);
  assert.equal(obj.metadata.labels.role, "main");
  const spec = provider === "pod" ? obj.spec : obj.spec.template.spec;
  assert.equal(spec.initContainers[0].name, "execd-installer");
  assert.deepEqual(spec.containers[0].command.slice(0, 3), ["/opt/opensandbox/bootstrap.sh", "sleep", "infinity"]);
  assert.equal(spec.containers[0].resources.limits.cpu, "100m");
  assert.ok(spec.volumes.some((v) => v.name === "opensandbox-bin" && v.emptyDir));
});

test(`[${provider}] endpoints are the pod IP; execd's carries the sandbox token`, async () => {
  const e = await main.getEndpoint(44772);
  const pod = provider === "pod" ? kget(main.id) : JSON.parse(kubectl("get", "pods", "-l", `opensandbox.io/id=${main.id}`, "-o", "json")).items[0];
  assert.equal(e.endpoint, `${pod.status.podIP}:44772`);
  const raw = await api("GET", `/v1/sandboxes/${main.id}/endpoints/44772`);
  assert.ok(raw.json.headers["X-EXECD-ACCESS-TOKEN"].length >= 32);
  const r = await fetch(`http://${e.endpoint}/ping`);
  assert.equal(r.status, 401); // the token is the sandbox's own
  const ok = await fetch(`http://${e.endpoint}/ping`, { headers: raw.json.headers });
  assert.equal(ok.status, 200);
  const e8080 = await api("GET", `/v1/sandboxes/${main.id}/endpoints/8080`);
  assert.equal(e8080.json.endpoint, `${pod.status.podIP}:8080`);
  const sp = await api("GET", `/v1/sandboxes/${main.id}/endpoints/44772?use_server_proxy=true`);
  assert.equal(sp.json.endpoint, `${domain}/sandboxes/${main.id}/proxy/44772`);
  // The server proxy reaches the pod IP.
  const viaProxy = await fetch(`${base}/sandboxes/${main.id}/proxy/44772/ping`, { headers: { "OPEN-SANDBOX-API-KEY": apiKey } });
  assert.equal(viaProxy.status, 200);
  const none = await api("GET", `/v1/sandboxes/00000000-0000-4000-8000-000000000000`);
  assert.equal(none.status, 404);
  assert.equal(none.json.code, "KUBERNETES::SANDBOX_NOT_FOUND");
});

test(`[${provider}] renew and metadata reach the cluster object`, async () => {
  await main.renew(1800);
  const info = await main.getInfo();
  const left = new Date(info.expiresAt).getTime() - Date.now();
  assert.ok(left > 1700_000 && left <= 1800_000, `expiresAt ${info.expiresAt}`);
  const obj = kget(main.id);
  const stored = provider === "pod" ? obj.metadata.annotations["opensandbox.io/expires-at"] : obj.spec.expireTime;
  assert.equal(new Date(stored).getTime(), new Date(info.expiresAt).getTime());
  await main.patchMetadata({ role: null, color: "blue" });
  const after1 = await main.getInfo();
  assert.equal(after1.metadata.color, "blue");
  assert.equal(after1.metadata.role, undefined);
  assert.equal(kget(main.id).metadata.labels.color, "blue");
  // A label set with kubectl comes back through the watch.
  kubectl("label", kind, main.id, "shade=dark", "--overwrite");
  await until("the watched label", async () => (await main.getInfo()).metadata.shade === "dark");
});

test(`[${provider}] diagnostics: pod logs and events as text`, async () => {
  const logs = await api("GET", `/v1/sandboxes/${main.id}/diagnostics/logs?tail=20`);
  assert.equal(logs.status, 200);
  assert.equal(logs.headers.get("deprecation"), "true");
  assert.match(logs.text, /execd/);
  const ev = await api("GET", `/v1/sandboxes/${main.id}/diagnostics/events?limit=50`);
  assert.equal(ev.status, 200);
  assert.match(ev.text, /Started/);
  const scoped = await api("GET", `/v1/sandboxes/${main.id}/diagnostics/logs?scope=container`);
  assert.equal(scoped.status, 200);
  assert.equal(scoped.json.delivery, "inline");
  assert.match(scoped.json.content, /execd/);
  const other = await api("GET", `/v1/sandboxes/${main.id}/diagnostics/logs?scope=network`);
  assert.equal(other.status, 501);
  const ins = await api("GET", `/v1/sandboxes/${main.id}/diagnostics/inspect`);
  assert.equal(ins.status, 501);
});

test(`[${provider}] pause and resume`, async () => {
  const sbx = await create();
  if (provider === "pod") {
    const r = await api("POST", `/v1/sandboxes/${sbx.id}/pause`);
    assert.equal(r.status, 400);
    assert.equal(r.json.code, "KUBERNETES::INVALID_STATE");
    await sbx.kill();
    return;
  }
  await sbx.commands.run("echo kept > /tmp/mark");
  await sbx.pause();
  await until("Paused", async () => (await sbx.getInfo()).status.state === "Paused");
  assert.equal(kget(sbx.id).spec.pause, true);
  const again = await api("POST", `/v1/sandboxes/${sbx.id}/pause`);
  assert.equal(again.status, 409);
  assert.equal(again.json.code, "KUBERNETES::INVALID_STATE");
  const resumed = await sbx.resume();
  await until("Running again", async () => (await resumed.getInfo()).status.state === "Running");
  const ex = await resumed.commands.run("cat /tmp/mark");
  assert.deepEqual(texts(ex.logs.stdout), ["kept"]); // the rootfs was committed
  const notPaused = await api("POST", `/v1/sandboxes/${sbx.id}/resume`);
  assert.equal(notPaused.status, 409);
  await sbx.kill();
});

test(`[${provider}] networkPolicy: the egress sidecar joins the pod`, async () => {
  const sbx = await create({ networkPolicy: { defaultAction: "deny", egress: [{ action: "allow", target: "allowed.test" }] } });
  const obj = kget(sbx.id);
  const spec = provider === "pod" ? obj.spec : obj.spec.template.spec;
  const eg = spec.containers.find((c) => c.name === "egress");
  assert.ok(eg, "egress container");
  assert.deepEqual(eg.securityContext.capabilities.add, ["NET_ADMIN"]);
  assert.deepEqual(spec.containers[0].securityContext.capabilities.drop, ["NET_ADMIN"]);
  const ep = await api("GET", `/v1/sandboxes/${sbx.id}/endpoints/18080`);
  assert.ok(ep.json.headers["OPENSANDBOX-EGRESS-AUTH"]);
  const pol = await fetch(`http://${ep.json.endpoint}/policy`, { headers: ep.json.headers });
  assert.equal(pol.status, 200);
  assert.match(await pol.text(), /allowed\.test/);
  const noAuth = await fetch(`http://${ep.json.endpoint}/policy`);
  assert.equal(noAuth.status, 401);
  await sbx.kill();
});

// Enforcement, from inside the pod: the sidecar's DNS answers only what the policy
// allows. The one upstream is the stub DNS container (DNS_STUB), which knows both names.
test(`[${provider}] networkPolicy: the sidecar resolves allowed names only`, { skip: !process.env.DNS_STUB && "no stub DNS server (DNS_STUB)" }, async () => {
  const out = (ex) => texts(ex.logs.stdout).join("\n");
  const sbx = await create({ networkPolicy: { defaultAction: "deny", egress: [{ action: "allow", target: "allowed.test" }] } });
  let ex = await sbx.commands.run("nslookup allowed.test 2>&1");
  assert.match(out(ex), /10\.1\.2\.3/);
  ex = await sbx.commands.run("nslookup denied.test 2>&1");
  assert.ok(!out(ex).includes("10.1.2.4"), out(ex));
  // The stub itself, asked directly, is not reachable: only the sidecar may speak DNS.
  ex = await sbx.commands.run(`nslookup denied.test ${process.env.DNS_STUB} 2>&1`);
  assert.ok(!out(ex).includes("10.1.2.4"), out(ex));
  ex = await sbx.commands.run("grep CapEff /proc/self/status");
  assert.equal(BigInt("0x" + out(ex).split(/\s+/)[1]) & (1n << 12n), 0n, "NET_ADMIN is dropped in the sandbox");
  // A rule added at run time takes effect.
  await sbx.patchEgressRules([{ action: "allow", target: "denied.test" }]);
  ex = await sbx.commands.run("nslookup denied.test 2>&1");
  assert.match(out(ex), /10\.1\.2\.4/);
  await sbx.kill();
});

test(`[${provider}] a PVC created if missing, shared by two sandboxes`, async () => {
  const claim = `pvc-${run}`.toLowerCase().slice(0, 60);
  const vol = { name: "data", pvc: { claimName: claim, createIfNotExists: true }, mountPath: "/data" };
  const a = await create({ volumes: [vol] });
  await a.commands.run("echo shared > /data/f");
  assert.equal(JSON.parse(kubectl("get", "pvc", claim, "-o", "json")).metadata.name, claim);
  const b = await create({ volumes: [vol] });
  const ex = await b.commands.run("cat /data/f");
  assert.deepEqual(texts(ex.logs.stdout), ["shared"]);
  await a.kill();
  await b.kill();
});

test(`[${provider}] API faults: a 500 on create fails that create only; dropped and expired watches recover`, async () => {
  // A 5xx from the API server is upstream's "anything else": 500 KUBERNETES::API_ERROR (4.3).
  await emuAdmin("POST", "/_emulator/faults", { kind: "status500", match: `/${kind}`, verb: "create", count: 1 });
  await assert.rejects(create({ skipHealthCheck: true }),
    (e) => e.statusCode === 500 && e.error?.code === "KUBERNETES::API_ERROR" && /500/.test(e.message));
  const ok = await create();
  assert.equal((await ok.getInfo()).status.state, "Running");
  // A dropped watch, then one whose history is gone (410): a change made meanwhile still arrives.
  await emuAdmin("POST", "/_emulator/faults", { kind: "dropWatch", match: `/${kind}` });
  kubectl("label", kind, ok.id, "step=one", "--overwrite");
  await until("label after a dropped watch", async () => (await ok.getInfo()).metadata.step === "one");
  await emuAdmin("POST", "/_emulator/faults", { kind: "gone410", match: `/${kind}`, verb: "watch", count: 1 });
  await emuAdmin("POST", "/_emulator/faults", { kind: "dropWatch", match: `/${kind}` });
  kubectl("label", kind, ok.id, "step=two", "--overwrite");
  await until("label after 410 Gone", async () => (await ok.getInfo()).metadata.step === "two");
  // Slow answers are waited for.
  await emuAdmin("POST", "/_emulator/faults", { kind: "slow", match: `/${kind}/${ok.id}`, delayMs: 1500, count: 1 });
  await ok.patchMetadata({ slow: "yes" });
  assert.equal((await ok.getInfo()).metadata.slow, "yes");
  // An expired token: calls fail with a clear error while it lasts.
  await emuAdmin("POST", "/_emulator/faults", { kind: "expireToken", match: `/${kind}/${ok.id}`, count: 1 });
  // Upstream maps no API-server 401: it is "anything else", 500 KUBERNETES::API_ERROR.
  const denied = await api("PATCH", `/v1/sandboxes/${ok.id}/metadata`, { k: "v" });
  assert.equal(denied.status, 500, denied.text);
  assert.equal(denied.json.code, "KUBERNETES::API_ERROR");
  assert.match(denied.json.message, /401/);
  const after2 = await api("PATCH", `/v1/sandboxes/${ok.id}/metadata`, { k: "v" });
  assert.equal(after2.status, 200);
  await emuAdmin("DELETE", "/_emulator/faults");
  await ok.kill();
});

test(`[${provider}] image.auth: a pull secret owned by the workload, named in the pod spec`, async () => {
  const r = await api("POST", "/v1/sandboxes", {
    image: { uri: "sandbox/base:latest", auth: { username: "robot", password: "s3cret" } },
    entrypoint: ["sleep", "infinity"], timeout: 300, resourceLimits: { cpu: "100m" }, metadata: { run },
  });
  assert.equal(r.status, 202, r.text);
  made.push(r.json.id);
  const name = `opensandbox-image-auth-${r.json.id}`;
  const sec = JSON.parse(kubectl("get", "secret", name, "-o", "json"));
  assert.equal(sec.type, "kubernetes.io/dockerconfigjson");
  const cfg = JSON.parse(Buffer.from(sec.data[".dockerconfigjson"], "base64").toString());
  const auth = cfg.auths["https://index.docker.io/v1/"];
  assert.equal(auth.username, "robot");
  assert.equal(Buffer.from(auth.auth, "base64").toString(), "robot:s3cret");
  const obj = kget(r.json.id);
  assert.equal(sec.metadata.ownerReferences[0].uid, obj.metadata.uid);
  const spec = provider === "pod" ? obj.spec : obj.spec.template.spec;
  assert.deepEqual(spec.imagePullSecrets, [{ name }]);
  await api("DELETE", `/v1/sandboxes/${r.json.id}`);
});

test(`[${provider}] the ingress gateway routes to the pod IP`, async () => {
  const raw = await api("GET", `/v1/sandboxes/${main.id}/endpoints/44772`);
  const r = await fetch(`http://127.0.0.1:${process.env.GW_PORT}/ping`, {
    headers: { "OpenSandbox-Ingress-To": `${main.id}-44772`, "X-EXECD-ACCESS-TOKEN": raw.json.headers["X-EXECD-ACCESS-TOKEN"] },
  });
  assert.equal(r.status, 200);
  const unknown = await fetch(`http://127.0.0.1:${process.env.GW_PORT}/`, { headers: { "OpenSandbox-Ingress-To": `00000000-0000-4000-8000-000000000000-44772` } });
  assert.equal(unknown.status, 404);
});

test(`[${provider}] API faults: a reset kept connection is retried; 429 is a clear error`, async () => {
  await emuAdmin("POST", "/_emulator/faults", { kind: "reset", match: `/${kind}/${main.id}`, count: 1 });
  const a = await api("PATCH", `/v1/sandboxes/${main.id}/metadata`, { after: "reset" });
  assert.equal(a.status, 200, a.text); // the call went again on a new connection
  await emuAdmin("POST", "/_emulator/faults", { kind: "status", code: 429, match: `/${kind}/${main.id}`, count: 1 });
  const b = await api("PATCH", `/v1/sandboxes/${main.id}/metadata`, { after: "429" });
  assert.equal(b.status, 500, b.text); // not retried, not mapped: upstream's API_ERROR
  assert.equal(b.json.code, "KUBERNETES::API_ERROR");
  assert.match(b.json.message, /429/);
  await emuAdmin("DELETE", "/_emulator/faults");
});

// Provider pod only: with batchsandbox the controller owns expiry.
if (provider === "pod") test(`[${provider}] an expiry moved into the past ends the sandbox`, async () => {
  const sbx = await create({ timeoutSeconds: 600 });
  // As another client would: the annotation sandbox-api owns, set back by hand.
  const past = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, "Z");
  kubectl("annotate", "pods", sbx.id, `opensandbox.io/expires-at=${past}`, "--overwrite");
  await until("the expired sandbox gone from the API", async () => (await api("GET", `/v1/sandboxes/${sbx.id}`)).status === 404);
  const g = await api("GET", `/v1/sandboxes/${sbx.id}`);
  assert.equal(g.json.code, "KUBERNETES::SANDBOX_NOT_FOUND");
  await until("the expired pod deleted", async () => {
    try { kget(sbx.id); return false; } catch { return true; }
  });
});

test(`[${provider}] delete removes the workload`, async () => {
  const sbx = await create();
  await sbx.kill();
  const g = await api("GET", `/v1/sandboxes/${sbx.id}`);
  assert.equal(g.status, 404);
  await until("the workload gone", async () => {
    try { kget(sbx.id); return false; } catch { return true; }
  });
});
