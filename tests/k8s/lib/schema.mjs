// SPDX-License-Identifier: Apache-2.0
// Structural schemas (a CRD version's openAPIV3Schema), applied as the
// apiextensions-apiserver does for a custom resource: prune unknown fields
// (not under x-kubernetes-preserve-unknown-fields), drop nulls of non-nullable
// fields, apply defaults, then validate (type, format, enum, required, bounds,
// lengths, pattern, items, list-type uniqueness). Field paths as k8s prints them.
import { field } from "./status.mjs";

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const META_FIELDS = new Set(["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields"]);

function join(path, k) {
	return path ? `${path}.${k}` : k;
}

// Removes unknown fields in place; their paths go to `unknown`.
export function prune(v, s, path, unknown, root = false) {
	if (!s) return;
	if (isObj(v)) {
		if (root || s["x-kubernetes-embedded-resource"]) {
			for (const k of ["apiVersion", "kind"]) if (k in v && typeof v[k] !== "string") delete v[k];
			if (isObj(v.metadata)) for (const k of Object.keys(v.metadata)) if (!META_FIELDS.has(k)) {
				unknown.push(join(path, `metadata.${k}`));
				delete v.metadata[k];
			}
		}
		const props = s.properties || {};
		for (const k of Object.keys(v)) {
			if ((root || s["x-kubernetes-embedded-resource"]) && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
			if (props[k]) prune(v[k], props[k], join(path, k), unknown);
			else if (isObj(s.additionalProperties)) prune(v[k], s.additionalProperties, join(path, k), unknown);
			else if (s.additionalProperties === true || s["x-kubernetes-preserve-unknown-fields"]) continue;
			else {
				unknown.push(join(path, k));
				delete v[k];
			}
		}
	} else if (Array.isArray(v) && s.items) {
		v.forEach((x, i) => prune(x, s.items, `${path}[${i}]`, unknown));
	}
}

// Drops nulls of fields that are not nullable, then fills defaults (in place).
export function applyDefaults(v, s) {
	if (!s) return;
	if (isObj(v)) {
		const props = s.properties || {};
		for (const [k, ps] of Object.entries(props)) {
			if (v[k] === null && !ps.nullable) delete v[k];
			if (v[k] === undefined && ps.default !== undefined) v[k] = structuredClone(ps.default);
			if (v[k] !== undefined) applyDefaults(v[k], ps);
		}
		if (isObj(s.additionalProperties)) for (const k of Object.keys(v)) if (!props[k]) applyDefaults(v[k], s.additionalProperties);
	} else if (Array.isArray(v) && s.items) v.forEach((x) => applyDefaults(x, s.items));
}

function typeOf(v) {
	if (v === null) return "null";
	if (Array.isArray(v)) return "array";
	if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
	return typeof v;
}
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FORMATS = {
	"date-time": (x) => RFC3339.test(x) && !Number.isNaN(Date.parse(x.replace(" ", "T"))),
	date: (x) => /^\d{4}-\d{2}-\d{2}$/.test(x),
	int32: (x) => Number.isInteger(x) && x >= -2147483648 && x <= 2147483647,
	int64: (x) => Number.isInteger(x),
	byte: (x) => /^[A-Za-z0-9+/]*={0,2}$/.test(x) && x.length % 4 === 0,
	uuid: (x) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(x),
};

// Appends field errors (status.mjs field.*) to errs.
export function validate(v, s, path, errs) {
	if (!s) return;
	if (v === null) {
		if (!s.nullable && s.type && !s["x-kubernetes-preserve-unknown-fields"]) errs.push(field.invalid(path, null, `${path} in body must be of type ${s.type}: "null"`));
		return;
	}
	const t = typeOf(v);
	if (s["x-kubernetes-int-or-string"]) {
		if (t !== "integer" && t !== "string") errs.push(field.typeInvalid(path, t, `${path} in body must be of type integer or string: "${t}"`));
	} else if (s.type) {
		const okType = s.type === t || (s.type === "number" && t === "integer");
		if (!okType) {
			errs.push(field.typeInvalid(path, t, `${path} in body must be of type ${s.type}: "${t}"`));
			return;
		}
	}
	if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) errs.push(field.notSupported(path, v, s.enum));
	if (s.format && FORMATS[s.format] && (typeof v === "string" || typeof v === "number") && !FORMATS[s.format](v))
		errs.push(field.invalid(path, v, `${path} in body must be of type ${s.format}: ${JSON.stringify(v)}`));
	if (typeof v === "number") {
		if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum))
			errs.push(field.invalid(path, v, `${path} in body should be greater than ${s.exclusiveMinimum ? "" : "or equal to "}${s.minimum}`));
		if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum))
			errs.push(field.invalid(path, v, `${path} in body should be less than ${s.exclusiveMaximum ? "" : "or equal to "}${s.maximum}`));
		if (s.multipleOf && v % s.multipleOf !== 0) errs.push(field.invalid(path, v, `${path} in body should be a multiple of ${s.multipleOf}`));
	}
	if (typeof v === "string") {
		if (s.maxLength !== undefined && [...v].length > s.maxLength) errs.push({ type: "FieldValueTooLong", field: path, message: `Too long: may not be more than ${s.maxLength} bytes` });
		if (s.minLength !== undefined && [...v].length < s.minLength) errs.push(field.invalid(path, v, `${path} in body should be at least ${s.minLength} chars long`));
		if (s.pattern && !new RegExp(s.pattern, "u").test(v)) errs.push(field.invalid(path, v, `${path} in body should match '${s.pattern}'`));
	}
	if (Array.isArray(v)) {
		if (s.maxItems !== undefined && v.length > s.maxItems) errs.push({ type: "FieldValueTooMany", field: path, message: `Too many: ${v.length}: must have at most ${s.maxItems} items` });
		if (s.minItems !== undefined && v.length < s.minItems) errs.push(field.invalid(path, v, `${path} in body should have at least ${s.minItems} items`));
		if (s.items) v.forEach((x, i) => validate(x, s.items, `${path}[${i}]`, errs));
		const lt = s["x-kubernetes-list-type"];
		if (lt === "set" || s.uniqueItems) {
			const seen = new Set();
			v.forEach((x, i) => {
				const k = JSON.stringify(x);
				if (seen.has(k)) errs.push(field.duplicate(`${path}[${i}]`, x));
				seen.add(k);
			});
		} else if (lt === "map") {
			const keys = s["x-kubernetes-list-map-keys"] || [];
			const seen = new Set();
			v.forEach((x, i) => {
				if (!isObj(x)) return;
				const k = JSON.stringify(keys.map((kk) => x[kk]));
				if (seen.has(k)) errs.push(field.duplicate(`${path}[${i}]`, Object.fromEntries(keys.map((kk) => [kk, x[kk]]))));
				seen.add(k);
			});
		}
	}
	if (isObj(v)) {
		for (const r of s.required || []) if (v[r] === undefined) errs.push(field.required(join(path, r), ""));
		if (s.maxProperties !== undefined && Object.keys(v).length > s.maxProperties) errs.push({ type: "FieldValueTooMany", field: path, message: `Too many: ${Object.keys(v).length}: must have at most ${s.maxProperties} items` });
		const props = s.properties || {};
		for (const [k, x] of Object.entries(v)) {
			if (props[k]) validate(x, props[k], join(path, k), errs);
			else if (isObj(s.additionalProperties)) validate(x, s.additionalProperties, join(path, k), errs);
		}
	}
	for (const sub of s.allOf || []) validate(v, sub, path, errs);
	if (s.anyOf && !s.anyOf.some((sub) => subOk(v, sub, path))) errs.push(field.invalid(path, v, `${path} in body must match at least one schema in anyOf`));
	if (s.oneOf && s.oneOf.filter((sub) => subOk(v, sub, path)).length !== 1) errs.push(field.invalid(path, v, `${path} in body must validate one and only one schema (oneOf)`));
	if (s.not && subOk(v, s.not, path)) errs.push(field.invalid(path, v, `${path} in body should not validate the given schema`));
}

function subOk(v, s, path) {
	const e = [];
	validate(v, s, path, e);
	return e.length === 0;
}

// What the apiserver requires of a CRD schema to call it structural (a subset):
// every specified field has a type, unless preserve-unknown-fields or int-or-string.
export function structuralErrors(s, path, errs) {
	if (!isObj(s)) return;
	if (!s.type && !s["x-kubernetes-preserve-unknown-fields"] && !s["x-kubernetes-int-or-string"] && path !== "")
		errs.push(field.required(`${path}.type`, "must not be empty for specified object fields"));
	for (const [k, ps] of Object.entries(s.properties || {})) structuralErrors(ps, `${path}.properties[${k}]`, errs);
	if (isObj(s.items)) structuralErrors(s.items, `${path}.items`, errs);
	if (isObj(s.additionalProperties)) structuralErrors(s.additionalProperties, `${path}.additionalProperties`, errs);
	if (s.properties && isObj(s.additionalProperties)) errs.push(field.forbidden(`${path}.additionalProperties`, "additionalProperties and properties are mutual exclusive"));
}
