// SPDX-License-Identifier: Apache-2.0
// The admission pipeline shared by create, update and patch: decode or prune,
// default, validate. One entry point per step so rest.mjs reads as the
// apiserver's handler order. Throws ApiError.
import { randomUUID } from "node:crypto";
import { ApiError, errors } from "./status.mjs";
import { decodeObject, DecodeError } from "./decode.mjs";
import { prune, applyDefaults, validate as schemaValidate } from "./schema.mjs";
import { validateBuiltin, validateBuiltinUpdate, validateMeta } from "./validate.mjs";
import { createDefaults, updateDefaults, randomSuffix } from "./defaults.mjs";
import { sortKeys } from "./validate_pod.mjs";

export function now() {
	return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

export function parseBody(buf, contentType) {
	const text = buf.toString("utf8");
	if (!text.trim()) throw new ApiError(400, "Object 'Kind' is missing in ''", "BadRequest");
	try {
		return JSON.parse(text);
	} catch (e) {
		throw new ApiError(400, `couldn't get version/kind; json parse error: ${e.message}`, "BadRequest");
	}
}

// Decodes (built-in) or prunes (custom) obj in place of the body; fieldValidation
// decides what unknown fields do. Returns the object to continue with.
export function decode(rt, body, { fieldValidation, warnings }) {
	if (body === null || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, `Object 'Kind' is missing in '${JSON.stringify(body)}'`, "BadRequest");
	if (body.apiVersion !== undefined && body.apiVersion !== rt.apiVersion && !(rt.crd && body.apiVersion?.startsWith(rt.group + "/")))
		throw new ApiError(400, `the API version in the data (${body.apiVersion}) does not match the expected API version (${rt.apiVersion})`, "BadRequest");
	if (body.kind !== undefined && body.kind !== rt.kind) throw new ApiError(400, `${body.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: no kind "${body.kind}" is registered for version "${rt.apiVersion}" in scheme`, "BadRequest");
	let obj, unknown;
	if (rt.crd) {
		obj = structuredClone(body);
		unknown = [];
		prune(obj, rt.crd.schema, "", unknown, true);
	} else {
		try {
			({ object: obj, unknown } = decodeObject(body, rt.model));
		} catch (e) {
			if (e instanceof DecodeError) throw new ApiError(400, `${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: ${e.message}`, "BadRequest");
			throw e;
		}
	}
	obj.apiVersion = rt.apiVersion;
	obj.kind = rt.kind;
	obj.metadata ??= {};
	if (unknown.length) {
		if (fieldValidation === "Strict") {
			const list = unknown.map((u) => `unknown field "${u}"`);
			throw new ApiError(400, `${rt.crd ? "" : ""}strict decoding error: ${list.join(", ")}`, "BadRequest");
		}
		if (fieldValidation !== "Ignore") for (const u of unknown) warnings.push(`unknown field "${u}"`);
	}
	return obj;
}

function specOf(o) {
	const c = { ...o };
	delete c.metadata;
	delete c.status;
	delete c.apiVersion;
	delete c.kind;
	return JSON.stringify(sortKeys(c));
}

export function hasGeneration(rt) {
	return !!rt.crd || rt.generation;
}

// Fills server-owned metadata of a new object and the type's defaults, then validates.
export function admitCreate(rt, obj, ns) {
	const md = obj.metadata;
	if (rt.namespaced) {
		if (md.namespace && md.namespace !== ns) throw new ApiError(400, "the namespace of the provided object does not match the namespace sent on the request", "BadRequest");
		md.namespace = ns;
	} else if (md.namespace) delete md.namespace;
	if (!md.name && md.generateName) md.name = md.generateName + randomSuffix();
	md.uid = randomUUID();
	md.creationTimestamp = now();
	delete md.resourceVersion;
	delete md.deletionTimestamp;
	delete md.deletionGracePeriodSeconds;
	delete md.selfLink;
	delete md.managedFields;
	if (hasGeneration(rt)) md.generation = 1;
	else delete md.generation;
	if (rt.crd) {
		if (rt.status) delete obj.status;
		applyDefaults(obj, rt.crd.schema);
	} else createDefaults(rt, obj);
	check(rt, obj);
	return obj;
}

// Builds the object an update stores from the request's object and the stored one.
// sub: "" or "status".
export function admitUpdate(rt, obj, old, sub) {
	const md = obj.metadata;
	if (md.name !== undefined && md.name !== old.metadata.name) throw new ApiError(400, `the name of the object (${md.name}) does not match the name on the URL (${old.metadata.name})`, "BadRequest");
	if (rt.namespaced && md.namespace && md.namespace !== old.metadata.namespace) throw new ApiError(400, "the namespace of the provided object does not match the namespace sent on the request", "BadRequest");
	let next;
	if (sub === "status") {
		next = structuredClone(old);
		if (obj.status !== undefined) next.status = obj.status;
		else delete next.status;
	} else {
		next = obj;
		next.metadata.name = old.metadata.name;
		if (rt.namespaced) next.metadata.namespace = old.metadata.namespace;
		else delete next.metadata.namespace;
		for (const k of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"]) {
			if (old.metadata[k] !== undefined) next.metadata[k] = old.metadata[k];
			else delete next.metadata[k];
		}
		delete next.metadata.managedFields;
		if (rt.status) {
			if (old.status !== undefined) next.status = old.status;
			else delete next.status;
		}
		if (rt.crd) applyDefaults(next, rt.crd.schema);
		else updateDefaults(rt, next);
		if (old.metadata.deletionTimestamp && (next.metadata.finalizers || []).some((f) => !(old.metadata.finalizers || []).includes(f)))
			throw new ApiError(422, `${rt.kind} "${old.metadata.name}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify((next.metadata.finalizers || []).filter((f) => !(old.metadata.finalizers || []).includes(f)))}`, "Invalid");
	}
	if (hasGeneration(rt)) {
		next.metadata.generation = old.metadata.generation || 1;
		if (sub !== "status" && specOf(next) !== specOf(old)) next.metadata.generation++;
	}
	check(rt, next);
	if (!rt.crd) {
		const errs = validateBuiltinUpdate(rt, next, old);
		if (errs.length) throw errors.invalid(rt, old.metadata.name, errs);
	}
	return next;
}

function check(rt, obj) {
	let errs;
	if (rt.crd) {
		errs = [];
		validateMeta(rt, obj, errs);
		const body = structuredClone(obj);
		delete body.metadata;
		const s = structuredClone(rt.crd.schema);
		if (s.properties) delete s.properties.metadata;
		schemaValidate(body, s, "", errs);
	} else errs = validateBuiltin(rt, obj);
	if (errs.length) throw errors.invalid(rt, obj.metadata.name || obj.metadata.generateName || "", errs);
}

export function sameContent(a, b) {
	const strip = (o) => {
		const c = structuredClone(o);
		delete c.metadata.resourceVersion;
		return JSON.stringify(sortKeys(c));
	};
	return strip(a) === strip(b);
}
