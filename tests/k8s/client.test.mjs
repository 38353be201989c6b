// SPDX-License-Identifier: Apache-2.0
// The emulator driven by @kubernetes/client-node (and, where the client would
// rewrite a deliberately bad body, by raw HTTPS with the same credentials):
// CRUD and Status errors, validation (400/422 with field paths), the CRD's
// schema (defaults, pruning, types), the status subresource, watches from a
// resourceVersion, bookmarks, 410 after the history is gone, paging, field and
// label selectors, every fault kind, the connection counter, token rotation,
// and pods really running in Docker (init containers, volumes, PVCs, probes,
// image pull failures, scheduling failures, RuntimeClass admission).
// Run by emulator.sh with K8S_EMU_STATE (the state dir) and K8S_EMU_URL set.
import { test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";

const STATE = process.env.K8S_EMU_STATE;
const URL_ = process.env.K8S_EMU_URL;
const IMAGE = process.env.K8S_EMU_IMAGE || "sandbox/base:latest";
const ca = readFileSync(join(STATE, "ca.crt"));
const token = () => readFileSync(join(STATE, "token"), "utf8").split("\n")[0].trim();
const admin = readFileSync(join(STATE, "admin-token"), "utf8").trim();
const kc = new k8s.KubeConfig();
kc.loadFromFile(join(STATE, "kubeconfig"));
const core = kc.makeApiClient(k8s.CoreV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const nodeApi = kc.makeApiClient(k8s.NodeV1Api);
const NS = "default";
const G = "sandbox.opensandbox.io", V = "v1alpha1", P = "batchsandboxes";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const uniq = (p) => `${p}-${Math.random().toString(36).slice(2, 8)}`;

// Raw HTTPS with the kubeconfig's CA and token (or admin token, or none).
function raw(method, path, { body, headers = {}, auth = "token", agent } = {}) {
	return new Promise((resolve, reject) => {
		const u = new URL(URL_ + path);
		const h = { ...headers };
		if (auth === "token") h.Authorization = `Bearer ${token()}`;
		else if (auth === "admin") h.Authorization = `Bearer ${admin}`;
		else if (auth) h.Authorization = `Bearer ${auth}`;
		let data;
		if (body !== undefined) {
			data = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
			h["Content-Type"] ??= "application/json";
			h["Content-Length"] = data.length;
		}
		const req = https.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, ca, headers: h, agent: agent || false, timeout: 20000 }, (res) => {
			const chunks = [];
			res.on("data", (c) => chunks.push(c));
			res.on("end", () => {
				const text = Buffer.concat(chunks).toString();
				let json;
				try {
					json = JSON.parse(text);
				} catch {}
				resolve({ status: res.statusCode, headers: res.headers, text, json });
			});
		});
		req.on("timeout", () => req.destroy(new Error("timeout")));
		req.on("error", reject);
		req.end(data);
	});
}
const adminPost = (path, body) => raw("POST", path, { body, auth: "admin" });

async function apiErr(p) {
	try {
		await p;
	} catch (e) {
		if (!(e instanceof k8s.ApiException)) throw e;
		const body = typeof e.body === "string" ? JSON.parse(e.body) : e.body;
		return { code: e.code, body };
	}
	throw new Error("expected an error");
}

async function until(what, fn, ms = 60000, every = 250) {
	const end = Date.now() + ms;
	let last;
	while (Date.now() < end) {
		try {
			last = await fn();
			if (last) return last;
		} catch (e) {
			last = e;
		}
		await sleep(every);
	}
	throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 400)})`);
}

// A watch collecting events; resolves `ended` when the server ends it.
async function collectWatch(path, params) {
	const events = [];
	let endedResolve;
	const ended = new Promise((r) => (endedResolve = r));
	const ctl = await new k8s.Watch(kc).watch(path, params, (type, obj) => events.push({ type, obj }), (err) => endedResolve(err || "done"));
	return { events, ended, abort: () => ctl.abort() };
}

const pod = (name, spec, labels = {}) => ({ apiVersion: "v1", kind: "Pod", metadata: { name, labels }, spec: { terminationGracePeriodSeconds: 0, ...spec } });

test("the BatchSandbox CRD is served (created from deploy/ when emulator.sh has not applied it)", async () => {
	const path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/batchsandboxes.sandbox.opensandbox.io";
	if ((await raw("GET", path)).status === 404) {
		const yaml = (await import("js-yaml")).default;
		const crd = yaml.load(readFileSync(new URL("../../deploy/kubernetes/crd-batchsandbox.yaml", import.meta.url), "utf8"));
		assert.equal((await raw("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", { body: crd })).status, 201);
	}
	await until("the CRD to be established", async () => (await raw("GET", path)).json?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"), 10000);
	assert.equal((await raw("GET", `/apis/${G}/${V}/namespaces/${NS}/${P}`)).status, 200);
});

test("discovery, namespaces and nodes", async () => {
	const ns = await core.listNamespace();
	const names = ns.items.map((n) => n.metadata.name);
	assert.ok(names.includes("default") && names.includes("opensandbox"), names.join(","));
	const v = await raw("GET", "/version");
	assert.equal(v.json.major, "1");
	const apis = await raw("GET", "/apis");
	assert.ok(apis.json.groups.some((g) => g.name === "apiextensions.k8s.io"));
	const nodes = await core.listNode();
	assert.equal(nodes.items.length, 1);
});

test("Status errors: 401 without credentials, 404, 409 AlreadyExists, 409 Conflict on a stale resourceVersion", async () => {
	const r = await raw("GET", "/api/v1/namespaces/default/configmaps", { auth: null });
	assert.equal(r.status, 401);
	assert.deepEqual({ kind: r.json.kind, apiVersion: r.json.apiVersion, status: r.json.status, code: r.json.code, reason: r.json.reason }, { kind: "Status", apiVersion: "v1", status: "Failure", code: 401, reason: "Unauthorized" });
	const bad = await raw("GET", "/api/v1/namespaces/default/configmaps", { auth: "not-a-token" });
	assert.equal(bad.status, 401);
	const nf = await apiErr(core.readNamespacedConfigMap({ name: "does-not-exist", namespace: NS }));
	assert.equal(nf.code, 404);
	assert.equal(nf.body.reason, "NotFound");
	assert.equal(nf.body.message, 'configmaps "does-not-exist" not found');
	assert.equal(nf.body.details.kind, "configmaps");
	const name = uniq("cm");
	const created = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name }, data: { a: "1" } } });
	assert.ok(created.metadata.uid && created.metadata.resourceVersion && created.metadata.creationTimestamp);
	const dup = await apiErr(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name } } }));
	assert.equal(dup.code, 409);
	assert.equal(dup.body.reason, "AlreadyExists");
	await core.replaceNamespacedConfigMap({ name, namespace: NS, body: { ...created, data: { a: "2" } } });
	const stale = await apiErr(core.replaceNamespacedConfigMap({ name, namespace: NS, body: { ...created, data: { a: "3" } } }));
	assert.equal(stale.code, 409);
	assert.equal(stale.body.reason, "Conflict");
	assert.match(stale.body.message, /the object has been modified/);
	const cur = await core.readNamespacedConfigMap({ name, namespace: NS });
	assert.equal(cur.data.a, "2");
	assert.ok(Number(cur.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
	await core.deleteNamespacedConfigMap({ name, namespace: NS });
	const gone = await apiErr(core.readNamespacedConfigMap({ name, namespace: NS }));
	assert.equal(gone.code, 404);
});

test("merge patch (null deletes), JSON patch, strategic merge patch, dryRun stores nothing", async () => {
	const name = uniq("cm");
	await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name, labels: { keep: "1", drop: "1" } }, data: { a: "1", b: "2" } } });
	const merged = await core.patchNamespacedConfigMap({ name, namespace: NS, body: { metadata: { labels: { drop: null } }, data: { b: null, c: "3" } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
	assert.deepEqual(merged.data, { a: "1", c: "3" });
	assert.deepEqual(merged.metadata.labels, { keep: "1" });
	const jp = await core.patchNamespacedConfigMap({ name, namespace: NS, body: [{ op: "replace", path: "/data/a", value: "9" }] }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch));
	assert.equal(jp.data.a, "9");
	const dry = await raw("PATCH", `/api/v1/namespaces/${NS}/configmaps/${name}?dryRun=All`, { body: { data: { a: "dry" } }, headers: { "Content-Type": "application/merge-patch+json" } });
	assert.equal(dry.status, 200);
	assert.equal(dry.json.data.a, "dry");
	assert.equal((await core.readNamespacedConfigMap({ name, namespace: NS })).data.a, "9");
	const dryCreate = await raw("POST", `/api/v1/namespaces/${NS}/configmaps?dryRun=All`, { body: { metadata: { name: "dry-only" } } });
	assert.equal(dryCreate.status, 201);
	assert.equal((await apiErr(core.readNamespacedConfigMap({ name: "dry-only", namespace: NS }))).code, 404);
	const dryDel = await raw("DELETE", `/api/v1/namespaces/${NS}/configmaps/${name}?dryRun=All`);
	assert.equal(dryDel.status, 200);
	await core.readNamespacedConfigMap({ name, namespace: NS });
	const bad = await raw("PATCH", `/api/v1/namespaces/${NS}/configmaps/${name}`, { body: "{}", headers: { "Content-Type": "text/plain" } });
	assert.equal(bad.status, 415);
	await core.deleteNamespacedConfigMap({ name, namespace: NS });
});

test("built-in validation: type errors are 400 (as the apiserver's decoder), rule violations 422 with field paths", async () => {
	const notList = await raw("POST", `/api/v1/namespaces/${NS}/pods`, { body: pod(uniq("p"), { containers: [{ name: "c", image: IMAGE, command: "not-a-list" }] }) });
	assert.equal(notList.status, 400, notList.text);
	assert.equal(notList.json.reason, "BadRequest");
	assert.match(notList.json.message, /cannot unmarshal string into Go struct field Container\.spec\.containers\.command of type \[\]string/);
	const cases = [
		[{ containers: [{ name: "c", image: IMAGE, volumeMounts: [{ name: "nope", mountPath: "/x" }] }] }, "spec.containers[0].volumeMounts[0].name", "FieldValueNotFound"],
		[{ containers: [{ name: "c", image: IMAGE }, { name: "c", image: IMAGE }] }, "spec.containers[1].name", "FieldValueDuplicate"],
		[{ containers: [{ name: "Bad_Name", image: IMAGE }] }, "spec.containers[0].name", "FieldValueInvalid"],
		[{ containers: [{ name: "c" }] }, "spec.containers[0].image", "FieldValueRequired"],
		[{ containers: [] }, "spec.containers", "FieldValueRequired"],
		[{ containers: [{ name: "c", image: IMAGE }], restartPolicy: "Sometimes" }, "spec.restartPolicy", "FieldValueNotSupported"],
		[{ containers: [{ name: "c", image: IMAGE, ports: [{ containerPort: 70000 }] }] }, "spec.containers[0].ports[0].containerPort", "FieldValueInvalid"],
		[{ containers: [{ name: "c", image: IMAGE, env: [{ name: "1BAD" }] }] }, "spec.containers[0].env[0].name", "FieldValueInvalid"],
	];
	for (const [spec, fieldPath, reason] of cases) {
		const r = await raw("POST", `/api/v1/namespaces/${NS}/pods`, { body: pod(uniq("p"), spec) });
		assert.equal(r.status, 422, `${fieldPath}: ${r.text}`);
		assert.equal(r.json.reason, "Invalid");
		assert.ok(r.json.details.causes.some((c) => c.field === fieldPath && c.reason === reason), `${fieldPath}: ${JSON.stringify(r.json.details.causes)}`);
		assert.ok(r.json.message.includes(fieldPath), r.json.message);
	}
	const badName = await raw("POST", `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: "Not_Valid" } } });
	assert.equal(badName.status, 422);
	assert.equal(badName.json.details.causes[0].field, "metadata.name");
	const strict = await raw("POST", `/api/v1/namespaces/${NS}/configmaps?fieldValidation=Strict`, { body: { metadata: { name: uniq("cm") }, bogus: 1 } });
	assert.equal(strict.status, 400);
	assert.match(strict.json.message, /unknown field "bogus"/);
	const warn = await raw("POST", `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: uniq("cm") }, bogus: 1 } });
	assert.equal(warn.status, 201);
	assert.equal(String(warn.headers.warning), '299 - "unknown field \\"bogus\\""');
	assert.equal(warn.json.bogus, undefined);
	const big = await raw("POST", `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: uniq("cm") }, data: { x: "y".repeat(3200000) } } }).catch((e) => ({ status: "reset:" + e.code }));
	assert.ok(big.status === 413 || String(big.status).startsWith("reset"), String(big.status));
	const rc = await apiErr(nodeApi.readRuntimeClass({ name: "gvisor" }));
	assert.equal(rc.code, 404);
	const noRc = await raw("POST", `/api/v1/namespaces/${NS}/pods`, { body: pod(uniq("p"), { runtimeClassName: "gvisor", containers: [{ name: "c", image: IMAGE }] }) });
	assert.equal(noRc.status, 403);
	assert.match(noRc.json.message, /RuntimeClass "gvisor" not found/);
});

test("BatchSandbox schema: defaults, pruning, 422 for a bad replicas type and a negative count, status subresource", async () => {
	const name = uniq("bs");
	const bad = await apiErr(custom.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, body: { apiVersion: `${G}/${V}`, kind: "BatchSandbox", metadata: { name }, spec: { replicas: "two" } } }));
	assert.equal(bad.code, 422);
	assert.equal(bad.body.reason, "Invalid");
	assert.ok(bad.body.details.causes.some((c) => c.field === "spec.replicas"), JSON.stringify(bad.body));
	assert.match(bad.body.message, /spec\.replicas in body must be of type integer/);
	const neg = await apiErr(custom.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, body: { apiVersion: `${G}/${V}`, kind: "BatchSandbox", metadata: { name }, spec: { replicas: -1 } } }));
	assert.equal(neg.code, 422);
	const enumBad = await apiErr(custom.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, body: { apiVersion: `${G}/${V}`, kind: "BatchSandbox", metadata: { name }, spec: { taskResourcePolicyWhenCompleted: "Keep" } } }));
	assert.equal(enumBad.code, 422);
	const dateBad = await apiErr(custom.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, body: { apiVersion: `${G}/${V}`, kind: "BatchSandbox", metadata: { name }, spec: { expireTime: "tomorrow" } } }));
	assert.equal(dateBad.code, 422);
	assert.ok(dateBad.body.details.causes.some((c) => c.field === "spec.expireTime"));
	// replicas 0: no pod is made, so this CR is only about the schema
	const o = await custom.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, body: { apiVersion: `${G}/${V}`, kind: "BatchSandbox", metadata: { name }, spec: { replicas: 0, unknownField: 1, template: { spec: { anything: { goes: true } } } }, status: { phase: "Paused" } } });
	assert.equal(o.spec.replicas, 0);
	assert.equal(o.spec.taskResourcePolicyWhenCompleted, "Retain");
	assert.equal(o.spec.unknownField, undefined);
	assert.deepEqual(o.spec.template.spec.anything, { goes: true });
	assert.equal(o.status, undefined);
	assert.equal(o.metadata.generation, 1);
	const noRv = await raw("PUT", `/apis/${G}/${V}/namespaces/${NS}/${P}/${name}`, { body: { ...o, metadata: { ...o.metadata, resourceVersion: undefined } } });
	assert.equal(noRv.status, 422);
	const cur = await custom.getNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, name });
	const withStatus = await custom.replaceNamespacedCustomObjectStatus({ group: G, version: V, namespace: NS, plural: P, name, body: { ...cur, spec: { replicas: 5 }, status: { ...cur.status, taskFailed: 7 } } });
	assert.equal(withStatus.status.taskFailed, 7);
	assert.equal(withStatus.spec.replicas, 0, "a /status write must not change spec");
	const main = await custom.patchNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, name, body: { spec: { poolRef: "p1" }, status: { taskFailed: 99 } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
	assert.equal(main.spec.poolRef, "p1");
	assert.notEqual(main.status?.taskFailed, 99, "a main-resource write must not change status");
	assert.equal(main.metadata.generation, 2);
	const labelOnly = await custom.patchNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, name, body: { metadata: { labels: { a: "b" } } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
	assert.equal(labelOnly.metadata.generation, 2, "metadata changes do not bump generation");
	const smp = await raw("PATCH", `/apis/${G}/${V}/namespaces/${NS}/${P}/${name}`, { body: { spec: {} }, headers: { "Content-Type": "application/strategic-merge-patch+json" } });
	assert.equal(smp.status, 415);
	await custom.deleteNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, name });
});

test("list: label selectors, field selectors, limit and continue", async () => {
	const tag = uniq("t");
	for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `${tag}-${i}`, labels: { tag, idx: String(i), ...(i % 2 ? { odd: "yes" } : {}) } } } });
	const sel = async (labelSelector) => (await core.listNamespacedConfigMap({ namespace: NS, labelSelector })).items.map((c) => c.metadata.name.slice(tag.length + 1)).join(",");
	assert.equal(await sel(`tag=${tag}`), "0,1,2,3,4");
	assert.equal(await sel(`tag==${tag},idx!=0`), "1,2,3,4");
	assert.equal(await sel(`tag=${tag},odd`), "1,3");
	assert.equal(await sel(`tag=${tag},!odd`), "0,2,4");
	assert.equal(await sel(`tag=${tag},idx in (1,4)`), "1,4");
	assert.equal(await sel(`tag=${tag},idx notin (1,4)`), "0,2,3");
	const badSel = await apiErr(core.listNamespacedConfigMap({ namespace: NS, labelSelector: "a in b" }));
	assert.equal(badSel.code, 400);
	const byName = await core.listNamespacedConfigMap({ namespace: NS, fieldSelector: `metadata.name=${tag}-2` });
	assert.deepEqual(byName.items.map((c) => c.metadata.name), [`${tag}-2`]);
	const badField = await apiErr(core.listNamespacedConfigMap({ namespace: NS, fieldSelector: "spec.nothing=1" }));
	assert.equal(badField.code, 400);
	const p1 = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: `tag=${tag}`, limit: 2 });
	assert.equal(p1.items.length, 2);
	assert.equal(p1.metadata.remainingItemCount, 3);
	const p2 = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: `tag=${tag}`, limit: 2, _continue: p1.metadata._continue });
	assert.deepEqual(p2.items.map((c) => c.metadata.name), [`${tag}-2`, `${tag}-3`]);
	await core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: `tag=${tag}` });
	assert.equal((await core.listNamespacedConfigMap({ namespace: NS, labelSelector: `tag=${tag}` })).items.length, 0);
});

test("watch from a resourceVersion: ADDED, MODIFIED, DELETED in order, selector moves, bookmarks", async () => {
	const tag = uniq("w");
	const list = await core.listNamespacedConfigMap({ namespace: NS });
	const rv = list.metadata.resourceVersion;
	const name = `${tag}-a`;
	await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name, labels: { tag } } } });
	await core.patchNamespacedConfigMap({ name, namespace: NS, body: { data: { x: "1" } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
	const w = await collectWatch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: rv, labelSelector: `tag=${tag}`, allowWatchBookmarks: true });
	await core.patchNamespacedConfigMap({ name, namespace: NS, body: { metadata: { labels: { tag: "other" } } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
	await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `${tag}-b`, labels: { tag } } } });
	await core.deleteNamespacedConfigMap({ name: `${tag}-b`, namespace: NS });
	await until("the watch events", () => w.events.filter((e) => e.type !== "BOOKMARK").length >= 5 && w.events.some((e) => e.type === "BOOKMARK"), 15000);
	w.abort();
	const seq = w.events.filter((e) => e.type !== "BOOKMARK").map((e) => `${e.type}:${e.obj.metadata.name.slice(tag.length + 1)}`);
	assert.deepEqual(seq, ["ADDED:a", "MODIFIED:a", "DELETED:a", "ADDED:b", "DELETED:b"]);
	const rvs = w.events.filter((e) => e.type !== "BOOKMARK").map((e) => Number(e.obj.metadata.resourceVersion));
	assert.deepEqual([...rvs].sort((a, b) => a - b), rvs, "resourceVersions increase");
	const bm = w.events.find((e) => e.type === "BOOKMARK");
	assert.ok(Number(bm.obj.metadata.resourceVersion) >= rvs[rvs.length - 1]);
	await core.deleteNamespacedConfigMap({ name, namespace: NS });
});

test("410 Gone: a watch from a resourceVersion that left the history window, a compaction, an old continue token", async () => {
	const list = await core.listNamespacedConfigMap({ namespace: NS });
	const old = list.metadata.resourceVersion;
	const name = uniq("churn");
	await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name } } });
	for (let i = 0; i < 60; i++) await core.patchNamespacedConfigMap({ name, namespace: NS, body: { data: { i: String(i) } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
	const w = await collectWatch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: old });
	const end = await Promise.race([w.ended, sleep(10000).then(() => "timeout")]);
	assert.notEqual(end, "timeout");
	const err = w.events.find((e) => e.type === "ERROR");
	assert.ok(err, JSON.stringify(w.events.slice(0, 3)));
	assert.equal(err.obj.code, 410);
	assert.equal(err.obj.reason, "Expired");
	// a recent version still works, until a compaction drops it
	const recent = (await core.listNamespacedConfigMap({ namespace: NS })).metadata.resourceVersion;
	const page = await core.listNamespacedConfigMap({ namespace: NS, limit: 1 });
	const w1 = await collectWatch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: recent });
	await core.patchNamespacedConfigMap({ name, namespace: NS, body: { data: { after: "compact" } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
	await until("the event after the recent version", () => w1.events.some((e) => e.type === "MODIFIED"), 5000);
	w1.abort();
	assert.ok(!w1.events.some((e) => e.type === "ERROR"));
	await adminPost("/_emulator/compact");
	const w2 = await collectWatch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: recent });
	await Promise.race([w2.ended, sleep(10000)]);
	assert.equal(w2.events.find((e) => e.type === "ERROR")?.obj.code, 410);
	if (page.metadata._continue) {
		const cont = await apiErr(core.listNamespacedConfigMap({ namespace: NS, limit: 1, _continue: page.metadata._continue }));
		assert.equal(cont.code, 410);
	}
	await core.deleteNamespacedConfigMap({ name, namespace: NS });
});

test("faults: status500, status 429, slow, gone410, dropWatch, expireToken, reset; stats count one reused connection", async () => {
	const path = `/api/v1/namespaces/${NS}/configmaps`;
	let r = await adminPost("/_emulator/faults", { kind: "status500", match: path, count: 1 });
	assert.equal(r.status, 201);
	const e500 = await apiErr(core.listNamespacedConfigMap({ namespace: NS }));
	assert.equal(e500.code, 500);
	assert.equal(e500.body.reason, "InternalError");
	await core.listNamespacedConfigMap({ namespace: NS });
	await adminPost("/_emulator/faults", { kind: "status", code: 429, retryAfterSeconds: 1, match: path, count: 1 });
	const e429 = await raw("GET", path);
	assert.equal(e429.status, 429);
	assert.equal(e429.headers["retry-after"], "1");
	await adminPost("/_emulator/faults", { kind: "slow", delayMs: 700, match: path, count: 1 });
	const t0 = Date.now();
	await core.listNamespacedConfigMap({ namespace: NS });
	assert.ok(Date.now() - t0 >= 650, `slow took ${Date.now() - t0} ms`);
	await adminPost("/_emulator/faults", { kind: "gone410", match: "/configmaps", verb: "watch", count: 1 });
	const g = await collectWatch(path, {});
	await Promise.race([g.ended, sleep(5000)]);
	assert.equal(g.events.find((e) => e.type === "ERROR")?.obj.code, 410);
	const dw = await collectWatch(path, { allowWatchBookmarks: false });
	await until("the watch to be open", async () => (await raw("GET", "/_emulator/stats", { auth: "admin" })).json.watches.current >= 1, 5000);
	r = await adminPost("/_emulator/faults", { kind: "dropWatch", match: "/configmaps" });
	assert.equal(r.json.droppedNow, 1);
	assert.notEqual(await Promise.race([dw.ended, sleep(5000).then(() => "timeout")]), "timeout");
	await adminPost("/_emulator/faults", { kind: "expireToken", count: 1 });
	const e401 = await apiErr(core.listNamespacedConfigMap({ namespace: NS }));
	assert.equal(e401.code, 401);
	await core.listNamespacedConfigMap({ namespace: NS });
	await adminPost("/_emulator/faults", { kind: "reset", match: path, count: 1 });
	await assert.rejects(raw("GET", path));
	assert.equal((await raw("GET", path)).status, 200);
	assert.equal((await raw("GET", "/_emulator/faults", { auth: "admin" })).json.faults.length, 0);
	assert.equal((await raw("GET", "/_emulator/stats")).status, 401, "the admin API wants the admin token");
	// exactly one TLS connection for five requests over a keep-alive agent
	await adminPost("/_emulator/stats/reset");
	const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
	for (let i = 0; i < 5; i++) assert.equal((await raw("GET", path, { agent })).status, 200);
	agent.destroy();
	const st = (await raw("GET", "/_emulator/stats", { auth: "admin" })).json;
	assert.equal(st.connections.api, 1, JSON.stringify(st.connections));
	assert.equal(st.requests.list, 5, JSON.stringify(st.requests));
	assert.equal(st.users["opensandbox-token"].connections, 1);
	const hits = st.faults.hits;
	for (const k of ["status500", "status", "slow", "gone410", "dropWatch", "expireToken", "reset"]) assert.ok(hits[k] >= 1, `${k}: ${JSON.stringify(hits)}`);
});

test("token rotation: the old token gets 401, the new one works", async () => {
	const before = token();
	const r = await adminPost("/_emulator/token/rotate");
	assert.equal(r.status, 200);
	assert.equal((await raw("GET", "/api/v1/namespaces", { auth: before })).status, 401);
	assert.equal((await raw("GET", "/api/v1/namespaces", { auth: r.json.token })).status, 200);
	// put the kubeconfig's token back for the rest of the suite
	const { writeFileSync } = await import("node:fs");
	writeFileSync(join(STATE, "token"), before + "\n");
	assert.equal((await raw("GET", "/api/v1/namespaces", { auth: before })).status, 200);
});

test("pods in Docker: init container + emptyDir, env, probes, a PVC with subPath, image pull failure, unschedulable, init failure", async () => {
	const tag = uniq("k");
	await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name: `${tag}-data` }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } });
	await until("the claim to bind", async () => (await core.readNamespacedPersistentVolumeClaim({ name: `${tag}-data`, namespace: NS })).status.phase === "Bound", 10000);
	const mk = (name, spec) => core.createNamespacedPod({ namespace: NS, body: pod(`${tag}-${name}`, spec, { tag }) });
	await mk("init", {
		restartPolicy: "Never",
		volumes: [{ name: "work", emptyDir: {} }, { name: "data", persistentVolumeClaim: { claimName: `${tag}-data` } }],
		initContainers: [{ name: "prep", image: IMAGE, command: ["sh", "-c", "echo from-init > /work/x"], volumeMounts: [{ name: "work", mountPath: "/work" }] }],
		containers: [{ name: "main", image: IMAGE, command: ["sh", "-c", "cat /work/x; echo $(GREETING) $POD_NAME; echo pvc-data > /data/f"], env: [{ name: "GREETING", value: "hi" }, { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }], volumeMounts: [{ name: "work", mountPath: "/work" }, { name: "data", mountPath: "/data", subPath: "sub" }] }],
	});
	await mk("web", {
		containers: [{ name: "web", image: IMAGE, command: ["sh", "-c", "mkdir -p /www && echo pong > /www/ready && exec httpd -f -p 8080 -h /www"], ports: [{ name: "http", containerPort: 8080 }], readinessProbe: { httpGet: { path: "/ready", port: "http", httpHeaders: [{ name: "X-Probe", value: "1" }] }, periodSeconds: 1, failureThreshold: 30 } }],
	});
	await mk("noimage", { containers: [{ name: "c", image: "k8s-emu-test/missing:1" }] });
	await mk("nonode", { nodeSelector: { "kubernetes.io/arch": "s390x-not-here" }, containers: [{ name: "c", image: IMAGE }] });
	await mk("initfail", { restartPolicy: "Never", initContainers: [{ name: "fail", image: IMAGE, command: ["sh", "-c", "exit 3"] }], containers: [{ name: "c", image: IMAGE, command: ["true"] }] });
	const get = (n) => core.readNamespacedPod({ name: `${tag}-${n}`, namespace: NS });

	const done = await until("init pod to succeed", async () => ((await get("init")).status.phase === "Succeeded" ? get("init") : null), 90000);
	assert.equal(done.status.initContainerStatuses[0].state.terminated.exitCode, 0);
	const logs = await core.readNamespacedPodLog({ name: `${tag}-init`, namespace: NS, container: "main" });
	assert.match(logs, /from-init/);
	assert.match(logs, new RegExp(`hi ${tag}-init`));
	const tail = await core.readNamespacedPodLog({ name: `${tag}-init`, namespace: NS, container: "main", tailLines: 1 });
	assert.equal(tail.trim(), `hi ${tag}-init`);

	const web = await until("web pod to be ready", async () => {
		const p = await get("web");
		return p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? p : null;
	}, 90000);
	assert.equal(web.status.phase, "Running");
	assert.ok(web.status.podIP && web.status.podIPs[0].ip === web.status.podIP);
	assert.ok(web.status.containerStatuses[0].ready && web.status.startTime);
	assert.ok(web.status.conditions.find((c) => c.type === "Ready").lastTransitionTime);
	const answer = await new Promise((resolve, reject) => {
		import("node:http").then(({ default: http }) => http.get({ host: web.status.podIP, port: 8080, path: "/ready", timeout: 5000 }, (res) => {
			let b = "";
			res.on("data", (d) => (b += d));
			res.on("end", () => resolve(b));
		}).on("error", reject));
	});
	assert.equal(answer.trim(), "pong");
	const running = await core.listNamespacedPod({ namespace: NS, fieldSelector: "status.phase=Running", labelSelector: `tag=${tag}` });
	assert.ok(running.items.some((p) => p.metadata.name === `${tag}-web`));

	const noimg = await until("ErrImagePull", async () => {
		const p = await get("noimage");
		const w = p.status.containerStatuses?.[0]?.state?.waiting?.reason;
		return w === "ErrImagePull" || w === "ImagePullBackOff" ? p : null;
	}, 30000);
	assert.equal(noimg.status.phase, "Pending");
	const evs = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${tag}-noimage` });
	assert.ok(evs.items.some((e) => e.reason === "Failed" && e.type === "Warning" && e.involvedObject.kind === "Pod"), JSON.stringify(evs.items.map((e) => e.reason)));
	const waitLog = await apiErr(core.readNamespacedPodLog({ name: `${tag}-noimage`, namespace: NS }));
	assert.equal(waitLog.code, 400);

	const nonode = await until("Unschedulable", async () => {
		const p = await get("nonode");
		return p.status.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable") ? p : null;
	}, 15000);
	assert.equal(nonode.spec.nodeName, undefined);
	const fs = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${tag}-nonode,reason=FailedScheduling` });
	assert.equal(fs.items.length, 1);
	assert.match(fs.items[0].message, /didn't match Pod's node affinity\/selector/);

	const failed = await until("init failure", async () => ((await get("initfail")).status.phase === "Failed" ? get("initfail") : null), 60000);
	assert.equal(failed.status.initContainerStatuses[0].state.terminated.exitCode, 3);

	// the PVC holds what the first pod wrote under subPath "sub"
	await mk("reader", { restartPolicy: "Never", volumes: [{ name: "d", persistentVolumeClaim: { claimName: `${tag}-data` } }], containers: [{ name: "c", image: IMAGE, command: ["cat", "/d/sub/f"], volumeMounts: [{ name: "d", mountPath: "/d" }] }] });
	await until("reader to succeed", async () => (await get("reader")).status.phase === "Succeeded", 60000);
	assert.match(await core.readNamespacedPodLog({ name: `${tag}-reader`, namespace: NS }), /pvc-data/);

	await core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: `tag=${tag}`, gracePeriodSeconds: 0 });
	await until("pods gone", async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: `tag=${tag}` })).items.length === 0, 20000);
	await core.deleteNamespacedPersistentVolumeClaim({ name: `${tag}-data`, namespace: NS });
	await until("claim gone", async () => (await apiErr(core.readNamespacedPersistentVolumeClaim({ name: `${tag}-data`, namespace: NS }))).code === 404, 20000);
});
