// SPDX-License-Identifier: Apache-2.0
// A minimal OpenAPI v3 publication: /openapi/v3 lists one document per
// group-version, and each document has the resource paths with their
// operations, the x-kubernetes-group-version-kind extension and the query
// parameters. That is what kubectl reads to learn that the server validates
// fields (fieldValidation) and dry-runs (dryRun) itself. No schemas are
// published: kubectl explain does not work, and kubectl apply builds its
// patches from its compiled-in types (strategic merge) or as JSON merge
// patches (custom resources), as it does when a document has no patch schema.
import { createHash } from "node:crypto";

const q = (name, type = "string") => ({ name, in: "query", schema: { type }, uniqueItems: true });
const WRITE_PARAMS = [q("dryRun"), q("fieldManager"), q("fieldValidation")];
const LIST_PARAMS = ["allowWatchBookmarks:boolean", "continue", "fieldSelector", "labelSelector", "limit:integer", "resourceVersion", "resourceVersionMatch", "sendInitialEvents:boolean", "timeoutSeconds:integer", "watch:boolean"].map((p) => {
	const [n, t] = p.split(":");
	return q(n, t || "string");
});
const body = (types) => ({ content: Object.fromEntries(types.map((t) => [t, { schema: { type: "object" } }])), required: true });
const ok = { responses: { 200: { description: "OK" } } };

function gvDoc(resources, group, version) {
	const paths = {};
	const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
	for (const rt of resources.all()) {
		if (rt.group !== group || rt.version !== version) continue;
		const gvk = { group, version, kind: rt.kind };
		const base = rt.namespaced ? `${prefix}/namespaces/{namespace}/${rt.plural}` : `${prefix}/${rt.plural}`;
		const ext = (action) => ({ "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk });
		paths[base] = {
			get: { operationId: `list${rt.kind}`, parameters: LIST_PARAMS, ...ok, ...ext("list") },
			post: { operationId: `create${rt.kind}`, parameters: WRITE_PARAMS, requestBody: body(["*/*"]), ...ok, ...ext("post") },
			delete: { operationId: `deletecollection${rt.kind}`, parameters: [q("dryRun"), q("gracePeriodSeconds", "integer"), q("propagationPolicy"), ...LIST_PARAMS], ...ok, ...ext("deletecollection") },
		};
		const patchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];
		if (!rt.crd) patchTypes.push("application/strategic-merge-patch+json");
		const item = {
			get: { operationId: `read${rt.kind}`, ...ok, ...ext("get") },
			put: { operationId: `replace${rt.kind}`, parameters: WRITE_PARAMS, requestBody: body(["*/*"]), ...ok, ...ext("put") },
			patch: { operationId: `patch${rt.kind}`, parameters: [...WRITE_PARAMS, q("force", "boolean")], requestBody: body(patchTypes), ...ok, ...ext("patch") },
			delete: { operationId: `delete${rt.kind}`, parameters: [q("dryRun"), q("gracePeriodSeconds", "integer"), q("propagationPolicy")], ...ok, ...ext("delete") },
		};
		paths[`${base}/{name}`] = item;
		if (rt.status)
			paths[`${base}/{name}/status`] = {
				get: { operationId: `read${rt.kind}Status`, ...ok, ...ext("get") },
				put: { operationId: `replace${rt.kind}Status`, parameters: WRITE_PARAMS, requestBody: body(["*/*"]), ...ok, ...ext("put") },
				patch: { operationId: `patch${rt.kind}Status`, parameters: [...WRITE_PARAMS, q("force", "boolean")], requestBody: body(patchTypes), ...ok, ...ext("patch") },
			};
	}
	return { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.4-k8s-emu" }, paths, components: { schemas: {} } };
}

// Returns the document for pathname, or undefined.
export function openapi(resources, pathname) {
	const gvs = [];
	for (const [g, vs] of resources.groups()) for (const v of vs) gvs.push([g, v]);
	if (pathname === "/openapi/v3" || pathname === "/openapi/v3/") {
		const paths = {};
		for (const [g, v] of gvs) {
			const key = g ? `apis/${g}/${v}` : `api/${v}`;
			const hash = createHash("sha512").update(JSON.stringify(gvDoc(resources, g, v))).digest("hex").slice(0, 64).toUpperCase();
			paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
		}
		return { paths };
	}
	const m = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(pathname);
	if (!m) return undefined;
	const [g, v] = m[1] ? ["", m[1]] : [m[2], m[3]];
	if (!gvs.some(([a, b]) => a === g && b === v)) return undefined;
	return gvDoc(resources, g, v);
}
