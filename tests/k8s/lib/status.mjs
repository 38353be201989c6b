// SPDX-License-Identifier: Apache-2.0
// Kubernetes Status objects (meta/v1 Status) and the ApiError that carries one
// from a handler to the HTTP layer. Shapes and messages follow k8s.io/apimachinery
// pkg/api/errors.
const REASONS = {
	400: "BadRequest",
	401: "Unauthorized",
	403: "Forbidden",
	404: "NotFound",
	405: "MethodNotAllowed",
	406: "NotAcceptable",
	409: "Conflict",
	410: "Expired",
	413: "RequestEntityTooLarge",
	415: "UnsupportedMediaType",
	422: "Invalid",
	429: "TooManyRequests",
	500: "InternalError",
	503: "ServiceUnavailable",
	504: "Timeout",
};

export function statusObject(code, message, reason, details) {
	const s = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: reason || REASONS[code] || "", code };
	if (details) s.details = details;
	if (s.reason === "") delete s.reason;
	return s;
}

export function successStatus(details) {
	const s = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" };
	if (details) s.details = details;
	return s;
}

export class ApiError extends Error {
	constructor(code, message, reason, details) {
		super(message);
		this.status = statusObject(code, message, reason, details);
		this.code = code;
	}
}

// The resource's "qualified" name used in messages: pods, batchsandboxes.sandbox.opensandbox.io
function qualified(rt) {
	return rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
}
function qualifiedKind(rt) {
	return rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
}

export const errors = {
	notFound: (rt, name) =>
		new ApiError(404, `${qualified(rt)} "${name}" not found`, "NotFound", { name, group: rt.group || undefined, kind: rt.plural }),
	alreadyExists: (rt, name) =>
		new ApiError(409, `${qualified(rt)} "${name}" already exists`, "AlreadyExists", { name, group: rt.group || undefined, kind: rt.plural }),
	conflict: (rt, name, why) =>
		new ApiError(409, `Operation cannot be fulfilled on ${qualified(rt)} "${name}": ${why}`, "Conflict", { name, group: rt.group || undefined, kind: rt.plural }),
	badRequest: (msg) => new ApiError(400, msg, "BadRequest"),
	forbidden: (rt, name, why) =>
		new ApiError(403, `${qualified(rt)} "${name}" is forbidden: ${why}`, "Forbidden", { name, group: rt.group || undefined, kind: rt.plural }),
	methodNotAllowed: (msg) => new ApiError(405, msg || "the server does not allow this method on the requested resource", "MethodNotAllowed"),
	gone: (msg) => new ApiError(410, msg, "Expired"),
	tooLarge: (msg) => new ApiError(413, msg || "Request entity too large: limit is 3145728", "RequestEntityTooLarge"),
	unsupportedMedia: (ct) => new ApiError(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`, "UnsupportedMediaType"),
	internal: (msg) => new ApiError(500, `Internal error occurred: ${msg}`, "InternalError", { causes: [{ message: msg }] }),
	unauthorized: () => new ApiError(401, "Unauthorized", "Unauthorized"),
	// causes: [{type: "FieldValueInvalid"|"FieldValueRequired"|..., field, message(detail)}]
	invalid: (rt, name, causes) => {
		const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
		const joined = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
		return new ApiError(422, `${qualifiedKind(rt)} "${name}" is invalid: ${joined}`, "Invalid", {
			name,
			group: rt.group || undefined,
			kind: rt.kind,
			causes: causes.map((c) => ({ reason: c.type, message: c.message, field: c.field })),
		});
	},
};

// field error builders (k8s.io/apimachinery/pkg/util/validation/field), detail text as k8s prints it
function fmtValue(v) {
	if (typeof v === "string") return JSON.stringify(v);
	if (v === null || v === undefined) return "null";
	if (typeof v === "object") return Array.isArray(v) ? "[]interface {}{...}" : "map[string]interface {}{...}";
	return String(v);
}
export const field = {
	invalid: (f, v, detail) => ({ type: "FieldValueInvalid", field: f, message: `Invalid value: ${fmtValue(v)}${detail ? ": " + detail : ""}` }),
	required: (f, detail) => ({ type: "FieldValueRequired", field: f, message: `Required value${detail ? ": " + detail : ""}` }),
	notFound: (f, v) => ({ type: "FieldValueNotFound", field: f, message: `Not found: ${fmtValue(v)}` }),
	duplicate: (f, v) => ({ type: "FieldValueDuplicate", field: f, message: `Duplicate value: ${fmtValue(v)}` }),
	notSupported: (f, v, allowed) => ({
		type: "FieldValueNotSupported",
		field: f,
		message: `Unsupported value: ${fmtValue(v)}${allowed ? ": supported values: " + allowed.map((a) => JSON.stringify(a)).join(", ") : ""}`,
	}),
	forbidden: (f, detail) => ({ type: "FieldValueForbidden", field: f, message: `Forbidden: ${detail}` }),
	tooLong: (f, v, max) => ({ type: "FieldValueTooLong", field: f, message: `Too long: may not be more than ${max} bytes` }),
	typeInvalid: (f, v, detail) => ({ type: "FieldValueTypeInvalid", field: f, message: `Invalid value: ${fmtValue(v)}: ${detail}` }),
};
