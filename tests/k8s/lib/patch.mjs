// SPDX-License-Identifier: Apache-2.0
// The three PATCH dialects: JSON merge patch (RFC 7386), JSON patch (RFC 6902)
// and Kubernetes strategic merge patch (lists merged by their patchMergeKey,
// the $patch/$setElementOrder/$deleteFromPrimitiveList/$retainKeys directives).
// All are pure: they return a new document and throw ApiError 400/422 on a bad patch.
import { ApiError } from "./status.mjs";

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

export function mergePatch(target, patch) {
	if (!isObj(patch)) return structuredClone(patch);
	const out = isObj(target) ? structuredClone(target) : {};
	for (const [k, v] of Object.entries(patch)) {
		if (v === null) delete out[k];
		else out[k] = mergePatch(out[k], v);
	}
	return out;
}

// --- RFC 6902 ---
function unescape(tok) {
	return tok.replace(/~1/g, "/").replace(/~0/g, "~");
}
function parsePointer(p) {
	if (p === "") return [];
	if (typeof p !== "string" || p[0] !== "/") throw new ApiError(400, `json patch: invalid path "${p}"`, "BadRequest");
	return p.slice(1).split("/").map(unescape);
}
function walk(doc, toks, create) {
	let cur = doc;
	for (let i = 0; i < toks.length - 1; i++) {
		const t = toks[i];
		const next = Array.isArray(cur) ? cur[Number(t)] : cur?.[t];
		if (next === undefined || next === null || typeof next !== "object") throw new ApiError(422, `doc is missing path: "/${toks.slice(0, i + 1).join("/")}": missing value`, "Invalid");
		cur = next;
	}
	return cur;
}
export function jsonPatch(doc, ops) {
	if (!Array.isArray(ops)) throw new ApiError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch", "BadRequest");
	let out = structuredClone(doc);
	for (const op of ops) {
		const toks = parsePointer(op.path);
		const get = (d, t) => {
			let cur = d;
			for (const x of t) {
				if (cur === null || typeof cur !== "object" || !(x in cur)) return undefined;
				cur = cur[x];
			}
			return cur;
		};
		const remove = (d, t) => {
			const parent = walk(d, t);
			const last = t[t.length - 1];
			if (Array.isArray(parent)) {
				const i = Number(last);
				if (!(i >= 0 && i < parent.length)) throw new ApiError(422, `Unable to remove nonexistent key: ${last}: missing value`, "Invalid");
				return parent.splice(i, 1)[0];
			}
			if (!(last in parent)) throw new ApiError(422, `Unable to remove nonexistent key: ${last}: missing value`, "Invalid");
			const v = parent[last];
			delete parent[last];
			return v;
		};
		const add = (d, t, v) => {
			if (t.length === 0) return v;
			const parent = walk(d, t);
			const last = t[t.length - 1];
			if (Array.isArray(parent)) {
				const i = last === "-" ? parent.length : Number(last);
				if (!(i >= 0 && i <= parent.length)) throw new ApiError(422, `Unable to access invalid index: ${last}: invalid index referenced`, "Invalid");
				parent.splice(i, 0, v);
			} else parent[last] = v;
			return d;
		};
		switch (op.op) {
			case "add":
				out = add(out, toks, structuredClone(op.value));
				break;
			case "remove":
				remove(out, toks);
				break;
			case "replace":
				if (toks.length === 0) {
					out = structuredClone(op.value);
					break;
				}
				if (get(out, toks) === undefined) throw new ApiError(422, `replace operation does not apply: doc is missing key: ${op.path}: missing value`, "Invalid");
				remove(out, toks);
				out = add(out, toks, structuredClone(op.value));
				break;
			case "move": {
				const v = remove(out, parsePointer(op.from));
				out = add(out, toks, v);
				break;
			}
			case "copy": {
				const v = get(out, parsePointer(op.from));
				if (v === undefined) throw new ApiError(422, `copy operation does not apply: doc is missing from path: ${op.from}: missing value`, "Invalid");
				out = add(out, toks, structuredClone(v));
				break;
			}
			case "test":
				if (JSON.stringify(get(out, toks)) !== JSON.stringify(op.value)) throw new ApiError(422, `testing value ${op.path} failed: test failed`, "Invalid");
				break;
			default:
				throw new ApiError(400, `Unexpected kind: ${op.op}`, "BadRequest");
		}
	}
	return out;
}

// --- strategic merge patch ---
// patchMergeKey per list field name (as the built-in Go types declare them); a
// list not named here is replaced, like a list without patchStrategy=merge.
const MERGE_KEYS = {
	containers: "name",
	initContainers: "name",
	ephemeralContainers: "name",
	volumes: "name",
	env: "name",
	volumeMounts: "mountPath",
	volumeDevices: "devicePath",
	imagePullSecrets: "name",
	ownerReferences: "uid",
	conditions: "type",
	hostAliases: "ip",
	topologySpreadConstraints: "topologyKey",
	resourceClaims: "name",
	readinessGates: "conditionType",
	secrets: "name",
};
const PRIMITIVE_MERGE = new Set(["finalizers"]);

function mergeKeyFor(field, list) {
	if (field === "ports") {
		const probe = list.find(isObj);
		return probe && "containerPort" in probe ? "containerPort" : "port";
	}
	return MERGE_KEYS[field];
}

export function strategicMergePatch(target, patch) {
	if (!isObj(patch)) throw new ApiError(400, "unable to find api field in struct for the patch", "BadRequest");
	return smpMap(isObj(target) ? target : {}, patch);
}

function smpMap(target, patch) {
	if (patch.$patch === "replace") {
		const p = structuredClone(patch);
		delete p.$patch;
		return stripDirectives(p);
	}
	if (patch.$patch === "delete") return undefined;
	const out = structuredClone(target);
	const orders = {};
	let retain = null;
	for (const [k, v] of Object.entries(patch)) {
		if (k === "$patch") continue;
		if (k === "$retainKeys") {
			retain = v;
			continue;
		}
		if (k.startsWith("$setElementOrder/")) {
			orders[k.slice(17)] = v;
			continue;
		}
		if (k.startsWith("$deleteFromPrimitiveList/")) {
			const f = k.slice(25);
			if (Array.isArray(out[f])) out[f] = out[f].filter((x) => !v.includes(x));
			continue;
		}
		if (v === null) {
			delete out[k];
			continue;
		}
		if (isObj(v)) {
			const r = smpMap(isObj(out[k]) ? out[k] : {}, v);
			if (r === undefined) delete out[k];
			else out[k] = r;
		} else if (Array.isArray(v)) {
			out[k] = smpList(k, Array.isArray(out[k]) ? out[k] : [], v);
		} else out[k] = v;
	}
	for (const [f, order] of Object.entries(orders)) if (Array.isArray(out[f])) out[f] = applyOrder(f, out[f], order);
	if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
	return out;
}

function smpList(field, target, patch) {
	if (patch.some((e) => isObj(e) && e.$patch === "replace")) return stripDirectives(patch.filter((e) => !(isObj(e) && e.$patch === "replace")));
	if (PRIMITIVE_MERGE.has(field)) {
		const out = [...target];
		for (const v of patch) if (!out.includes(v)) out.push(v);
		return out;
	}
	const key = mergeKeyFor(field, patch.length ? patch : target);
	if (!key || !patch.every(isObj)) return stripDirectives(structuredClone(patch));
	const out = structuredClone(target);
	for (const el of patch) {
		const idx = out.findIndex((x) => isObj(x) && x[key] === el[key]);
		if (el.$patch === "delete") {
			if (idx >= 0) out.splice(idx, 1);
			continue;
		}
		if (idx >= 0) out[idx] = smpMap(out[idx], el);
		else out.push(stripDirectives(structuredClone(el)));
	}
	return out;
}

function applyOrder(field, list, order) {
	if (!order.length) return list;
	if (!isObj(order[0])) {
		const pos = (v) => {
			const i = order.indexOf(v);
			return i < 0 ? Infinity : i;
		};
		return [...list].sort((a, b) => pos(a) - pos(b));
	}
	const key = Object.keys(order[0])[0];
	const pos = (v) => {
		const i = order.findIndex((o) => o[key] === v[key]);
		return i < 0 ? Infinity : i;
	};
	return [...list].sort((a, b) => pos(a) - pos(b));
}

function stripDirectives(v) {
	if (Array.isArray(v)) return v.map(stripDirectives);
	if (!isObj(v)) return v;
	const o = {};
	for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) o[k] = stripDirectives(x);
	return o;
}
