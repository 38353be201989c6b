// SPDX-License-Identifier: Apache-2.0
// Decoding of built-in kinds the way the apiserver's JSON decoder does it,
// driven by the Go type information that @kubernetes/client-node ships (each
// model's attributeTypeMap, generated from the v1.34 OpenAPI document):
//   - a value of the wrong JSON type is a decode error (the apiserver answers
//     400 "X in version "v1" cannot be handled as a X: json: cannot unmarshal ...");
//   - unknown fields are collected (fieldValidation Strict: 400; Warn: a Warning
//     header; Ignore: silently) and always dropped, as the typed decoder drops them;
//   - nulls are dropped (Go decodes null into a zero value, which is then omitted).
// decodeObject returns {object, unknown: [paths]} or throws DecodeError.
import * as k8s from "@kubernetes/client-node";

export class DecodeError extends Error {}

const QUANTITY_MAPS = new Set(["limits", "requests", "capacity", "allocatable", "hard", "used", "overhead"]);
const QUANTITY_FIELDS = new Set(["sizeLimit"]);
const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

function goType(t) {
	if (t === "string") return "string";
	if (t === "boolean") return "bool";
	if (t === "any") return "interface {}";
	if (t === "Date") return "v1.Time";
	if (t === "IntOrString") return "intstr.IntOrString";
	let m = /^Array<(.+)>$/.exec(t);
	if (m) return "[]" + goType(m[1]);
	m = /^\{ \[key: string\]: (.+); \}$/.exec(t);
	if (m) return "map[string]" + goType(m[1]);
	return "v1." + structName(t);
}
function structName(model) {
	return model.replace(/^(Core|Apps|Rbac|Apiextensions|Node|Events|Discovery|Storage)?V\d+(alpha\d+|beta\d+)?/, "");
}
function jsonKind(v) {
	if (v === null) return "null";
	if (Array.isArray(v)) return "array";
	if (typeof v === "number") return `number`;
	if (typeof v === "boolean") return "bool";
	return typeof v; // string, object
}

const typeMaps = new Map();
function attrs(model) {
	let m = typeMaps.get(model);
	if (m === undefined) {
		const cls = k8s[model];
		m = cls && cls.attributeTypeMap ? new Map(cls.attributeTypeMap.map((a) => [a.baseName, a])) : null;
		typeMaps.set(model, m);
	}
	return m;
}

// ctx: {kind, version, unknown: [], struct, jsonPath (dotted, no indices), fieldPath (with [i])}
function fail(ctx, v, t, format) {
	let what = jsonKind(v);
	if (what === "number" && (format === "int32" || format === "int64")) what = `number ${v}`;
	const tn = t === "number" ? (format === "int32" ? "int32" : format === "int64" ? "int64" : "float64") : goType(t);
	throw new DecodeError(`json: cannot unmarshal ${what} into Go struct field ${ctx.struct}.${ctx.jsonPath} of type ${tn}`);
}

function decodeValue(v, t, format, ctx, name) {
	if (v === null) return undefined;
	if (t === "any") return v;
	if (t === "string") {
		if (QUANTITY_FIELDS.has(name) || ctx.quantity) return quantity(v, ctx, t);
		if (typeof v !== "string") fail(ctx, v, t, format);
		return v;
	}
	if (t === "number") {
		if (typeof v !== "number") fail(ctx, v, t, format);
		if ((format === "int32" || format === "int64") && !Number.isInteger(v)) fail(ctx, v, t, format);
		if (format === "int32" && (v > 2147483647 || v < -2147483648)) fail(ctx, v, t, format);
		return v;
	}
	if (t === "boolean") {
		if (typeof v !== "boolean") fail(ctx, v, t, format);
		return v;
	}
	if (t === "Date") {
		if (typeof v !== "string") fail(ctx, v, t, format);
		if (Number.isNaN(Date.parse(v))) throw new DecodeError(`parsing time "${v}" as "2006-01-02T15:04:05Z07:00": cannot parse "${v}" as "2006"`);
		return v;
	}
	if (t === "IntOrString") {
		if (typeof v === "string") return v;
		if (typeof v === "number" && Number.isInteger(v)) return v;
		fail(ctx, v, t, format);
	}
	let m = /^Array<(.+)>$/.exec(t);
	if (m) {
		if (!Array.isArray(v)) fail(ctx, v, t, format);
		return v.map((x, i) => {
			const r = decodeValue(x, m[1], format, { ...ctx, fieldPath: `${ctx.fieldPath}[${i}]` }, name);
			return r === undefined ? (m[1] === "string" ? "" : {}) : r;
		});
	}
	m = /^\{ \[key: string\]: (.+); \}$/.exec(t);
	if (m) {
		if (typeof v !== "object" || Array.isArray(v)) fail(ctx, v, t, format);
		const out = {};
		const q = QUANTITY_MAPS.has(name);
		for (const [k, x] of Object.entries(v)) {
			if (format === "byte") {
				if (typeof x !== "string") fail(ctx, x, "string", "");
				if (!/^[A-Za-z0-9+/]*={0,2}$/.test(x) || x.length % 4 !== 0) {
					const bad = x.search(/[^A-Za-z0-9+/=]/);
					throw new DecodeError(`illegal base64 data at input byte ${bad >= 0 ? bad : x.length}`);
				}
				out[k] = x;
				continue;
			}
			const r = decodeValue(x, m[1], format, { ...ctx, quantity: q, fieldPath: `${ctx.fieldPath}[${k}]` }, k);
			if (r !== undefined) out[k] = r;
		}
		return out;
	}
	const a = attrs(t);
	if (!a) return v;
	if (typeof v !== "object" || Array.isArray(v)) fail(ctx, v, t, format);
	const out = {};
	for (const [k, x] of Object.entries(v)) {
		const at = a.get(k);
		const fp = ctx.fieldPath ? `${ctx.fieldPath}.${k}` : k;
		if (!at) {
			ctx.unknown.push(fp);
			continue;
		}
		const sub = { ...ctx, struct: structName(t), jsonPath: ctx.jsonPath ? `${ctx.jsonPath}.${k}` : k, fieldPath: fp, quantity: false };
		const r = decodeValue(x, at.type, at.format, sub, k);
		if (r !== undefined) out[k] = r;
	}
	return out;
}

function quantity(v, ctx, t) {
	if (typeof v === "number") return String(v);
	if (typeof v !== "string") fail(ctx, v, "string", "");
	if (!QUANTITY_RE.test(v)) throw new DecodeError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
	return v;
}

export function decodeObject(obj, model) {
	const ctx = { struct: structName(model), jsonPath: "", fieldPath: "", unknown: [] };
	const object = decodeValue(obj, model, "", ctx, "");
	return { object, unknown: ctx.unknown.filter((p) => p !== "apiVersion" && p !== "kind") };
}
export { structName };
