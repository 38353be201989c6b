// SPDX-License-Identifier: Apache-2.0
// The REST verbs on a resource type: get, list, create, update, patch, delete,
// deletecollection, and their /status forms. Each takes a request context
//   {rt, ns, name, sub, query (URLSearchParams), body (Buffer), contentType, warnings[]}
// and returns {code, obj}. Watches are in watch.mjs, logs in the kubelet.
import yaml from "js-yaml";
import { ApiError, errors, successStatus } from "./status.mjs";
import { parseLabelSelector, matchLabels, parseFieldSelector, matchFields } from "./selectors.mjs";
import { mergePatch, jsonPatch, strategicMergePatch } from "./patch.mjs";
import { decode, admitCreate, admitUpdate, sameContent, now, parseBody } from "./objects.mjs";

export class Rest {
	// hooks: {admit(rt, obj, op, old) -> void|throws, deleting(rt, obj, opts) -> "now"|"later"}
	constructor({ store, resources, hooks }) {
		this.store = store;
		this.resources = resources;
		this.hooks = hooks;
	}

	ensureNamespace(rt, ns, forCreate, name = "") {
		if (!rt.namespaced) return;
		const n = this.store.peek("namespaces", "", ns);
		if (!n) throw new ApiError(404, `namespaces "${ns}" not found`, "NotFound", { name: ns, kind: "namespaces" });
		if (forCreate && n.metadata.deletionTimestamp)
			throw new ApiError(403, `${rt.id} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, "Forbidden", {
				name,
				group: rt.group || undefined,
				kind: rt.plural,
				causes: [{ reason: "NamespaceTerminating", message: `namespace ${ns} is being terminated`, field: "metadata.namespace" }],
			});
	}

	dryRun(q) {
		const d = q.getAll("dryRun");
		for (const v of d) if (v !== "All") throw new ApiError(400, `dryRun: Unsupported value: "${v}": supported values: "All"`, "BadRequest");
		return d.length > 0;
	}

	fieldValidation(q) {
		const v = q.get("fieldValidation") || "Warn";
		if (!["Ignore", "Warn", "Strict"].includes(v)) throw new ApiError(400, `fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`, "BadRequest");
		return v;
	}

	get(c) {
		const o = this.store.get(c.rt.id, c.ns, c.name);
		if (!o) throw errors.notFound(c.rt, c.name);
		return { code: 200, obj: this.out(c.rt, o) };
	}

	// apiVersion of the request's version for custom resources served in several versions
	out(rt, o) {
		o.apiVersion = rt.apiVersion;
		return o;
	}

	selectors(c) {
		return {
			labels: parseLabelSelector(c.query.get("labelSelector") || ""),
			fields: parseFieldSelector(c.query.get("fieldSelector") || "", c.rt),
		};
	}

	list(c) {
		const q = c.query;
		const sel = this.selectors(c);
		const rv = q.get("resourceVersion");
		const rvm = q.get("resourceVersionMatch");
		if (rvm && !rv) throw errors.invalid({ kind: "ListOptions", group: "meta.k8s.io" }, "", [{ type: "FieldValueForbidden", field: "resourceVersionMatch", message: "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided" }]);
		if (rvm && !["Exact", "NotOlderThan"].includes(rvm)) throw errors.invalid({ kind: "ListOptions", group: "meta.k8s.io" }, "", [{ type: "FieldValueNotSupported", field: "resourceVersionMatch", message: `Unsupported value: "${rvm}": supported values: "Exact", "NotOlderThan"` }]);
		const limit = Number(q.get("limit") || 0);
		const cont = q.get("continue");
		let listRV = this.store.currentRV();
		let start = "";
		if (cont) {
			if (rv) throw new ApiError(400, "specifying resource version is not allowed when using continue", "BadRequest");
			let tok;
			try {
				tok = JSON.parse(Buffer.from(cont, "base64").toString());
			} catch {
				tok = null;
			}
			if (!tok || typeof tok.rv !== "number" || typeof tok.start !== "string") throw new ApiError(400, "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)", "BadRequest");
			if (tok.rv < this.store.oldestRV(c.rt.id))
				throw new ApiError(410, "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.", "Expired");
			listRV = tok.rv;
			start = tok.start;
		} else if (rv && rvm === "Exact" && Number(rv) !== this.store.currentRV()) {
			// Only the current state is kept: an Exact list of an older version still in
			// the window is served from the current state (a documented limit).
			if (Number(rv) < this.store.oldestRV(c.rt.id)) throw new ApiError(410, `too old resource version: ${rv} (${this.store.oldestRV(c.rt.id)})`, "Expired");
		}
		let items = this.store.list(c.rt.id, c.rt.namespaced ? c.ns : undefined).filter((o) => matchLabels(sel.labels, o.metadata.labels) && matchFields(sel.fields, o));
		if (start) items = items.filter((o) => `${o.metadata.namespace || ""}/${o.metadata.name}` > start);
		const meta = { resourceVersion: String(listRV) };
		if (limit > 0 && items.length > limit) {
			const last = items[limit - 1];
			meta.remainingItemCount = items.length - limit;
			meta.continue = Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: listRV, start: `${last.metadata.namespace || ""}/${last.metadata.name}` })).toString("base64");
			items = items.slice(0, limit);
		}
		const builtin = !c.rt.crd;
		return {
			code: 200,
			obj: {
				kind: c.rt.listKind,
				apiVersion: c.rt.apiVersion,
				metadata: meta,
				items: items.map((o) => {
					this.out(c.rt, o);
					if (builtin) {
						delete o.kind;
						delete o.apiVersion;
					}
					return o;
				}),
			},
		};
	}

	create(c) {
		const q = c.query;
		const dry = this.dryRun(q);
		const fv = this.fieldValidation(q);
		const body = this.bodyOf(c);
		this.ensureNamespace(c.rt, c.ns, true, body?.metadata?.name || "");
		const obj = decode(c.rt, body, { fieldValidation: fv, warnings: c.warnings });
		admitCreate(c.rt, obj, c.ns);
		this.hooks.admit(c.rt, obj, "create", null);
		if (this.store.peek(c.rt.id, obj.metadata.namespace, obj.metadata.name)) throw errors.alreadyExists(c.rt, obj.metadata.name);
		if (dry) return { code: 201, obj };
		return { code: 201, obj: this.out(c.rt, this.store.create(c.rt.id, obj)) };
	}

	bodyOf(c) {
		const ct = (c.contentType || "application/json").split(";")[0].trim();
		if (ct === "application/yaml") {
			try {
				return yaml.load(c.body.toString("utf8"));
			} catch (e) {
				throw new ApiError(400, `error converting YAML to JSON: ${e.message}`, "BadRequest");
			}
		}
		if (ct !== "application/json" && ct !== "*/*" && ct !== "") throw new ApiError(415, `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`, "UnsupportedMediaType");
		return parseBody(c.body);
	}

	update(c) {
		const dry = this.dryRun(c.query);
		const fv = this.fieldValidation(c.query);
		const body = this.bodyOf(c);
		const obj = decode(c.rt, body, { fieldValidation: fv, warnings: c.warnings });
		return this.write(c, obj, dry, obj.metadata.resourceVersion);
	}

	// The common tail of update and patch: preconditions, admission, store.
	write(c, obj, dry, precondRV) {
		const old = this.store.get(c.rt.id, c.ns, c.name);
		if (!old) throw errors.notFound(c.rt, c.name);
		if (precondRV !== undefined && precondRV !== "" && precondRV !== old.metadata.resourceVersion)
			throw errors.conflict(c.rt, c.name, "the object has been modified; please apply your changes to the latest version and try again");
		if ((precondRV === undefined || precondRV === "") && c.verb === "update" && c.rt.crd)
			throw errors.invalid(c.rt, c.name, [{ type: "FieldValueInvalid", field: "metadata.resourceVersion", message: "Invalid value: 0x0: must be specified for an update" }]);
		const next = admitUpdate(c.rt, obj, old, c.sub);
		this.hooks.admit(c.rt, next, "update", old);
		if (sameContent(next, old)) return { code: 200, obj: this.out(c.rt, old) };
		if (dry) return { code: 200, obj: this.out(c.rt, next) };
		next.metadata.resourceVersion = old.metadata.resourceVersion;
		if (next.metadata.deletionTimestamp && !(next.metadata.finalizers || []).length && this.hooks.finalized(c.rt, next))
			return { code: 200, obj: this.out(c.rt, this.store.remove(c.rt.id, c.ns, c.name)) };
		return { code: 200, obj: this.out(c.rt, this.store.update(c.rt.id, next)) };
	}

	patch(c) {
		const dry = this.dryRun(c.query);
		const fv = this.fieldValidation(c.query);
		const ct = (c.contentType || "").split(";")[0].trim();
		let p;
		if (ct === "application/apply-patch+yaml") {
			try {
				p = yaml.load(c.body.toString("utf8"));
			} catch (e) {
				throw new ApiError(400, `error decoding YAML: ${e.message}`, "BadRequest");
			}
			if (!c.query.get("fieldManager")) throw errors.invalid({ kind: "PatchOptions", group: "meta.k8s.io" }, "", [{ type: "FieldValueRequired", field: "fieldManager", message: "Required value: is required for apply patch" }]);
			if (!this.store.peek(c.rt.id, c.ns, c.name)) {
				const body = Buffer.from(JSON.stringify(p));
				return this.create({ ...c, body, contentType: "application/json" });
			}
		} else {
			p = parseBody(c.body);
		}
		const old = this.store.get(c.rt.id, c.ns, c.name);
		if (!old) throw errors.notFound(c.rt, c.name);
		let doc;
		switch (ct) {
			case "application/merge-patch+json":
				if (p === null || typeof p !== "object" || Array.isArray(p)) throw new ApiError(400, "json: cannot unmarshal array into Go value of type map[string]interface {}", "BadRequest");
				doc = mergePatch(old, p);
				break;
			case "application/json-patch+json":
				doc = jsonPatch(old, p);
				break;
			case "application/strategic-merge-patch+json":
				if (c.rt.crd) throw new ApiError(415, "strategic merge patch is not supported for custom resources; use a JSON merge patch or a JSON patch", "UnsupportedMediaType");
				doc = strategicMergePatch(old, p);
				break;
			case "application/apply-patch+yaml":
				doc = c.rt.crd ? mergePatch(old, p) : strategicMergePatch(old, p);
				break;
			default:
				throw new ApiError(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${c.rt.crd ? "" : ", application/strategic-merge-patch+json"}`, "UnsupportedMediaType");
		}
		const precond = p && typeof p === "object" && !Array.isArray(p) ? p.metadata?.resourceVersion : undefined;
		const obj = decode(c.rt, doc, { fieldValidation: fv, warnings: c.warnings });
		return this.write(c, obj, dry, precond);
	}

	deleteOptions(c) {
		let opts = {};
		if (c.body && c.body.length) {
			try {
				opts = JSON.parse(c.body.toString("utf8")) || {};
			} catch (e) {
				throw new ApiError(400, `couldn't get version/kind; json parse error: ${e.message}`, "BadRequest");
			}
		}
		const q = c.query;
		if (q.get("gracePeriodSeconds") !== null) opts.gracePeriodSeconds = Number(q.get("gracePeriodSeconds"));
		if (q.get("propagationPolicy")) opts.propagationPolicy = q.get("propagationPolicy");
		if (q.get("orphanDependents") !== null) opts.orphanDependents = q.get("orphanDependents") === "true";
		if (q.getAll("dryRun").length) opts.dryRun = q.getAll("dryRun");
		if (opts.propagationPolicy && !["Orphan", "Background", "Foreground"].includes(opts.propagationPolicy))
			throw errors.invalid({ kind: "DeleteOptions", group: "meta.k8s.io" }, "", [{ type: "FieldValueNotSupported", field: "propagationPolicy", message: `Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"` }]);
		for (const d of opts.dryRun || []) if (d !== "All") throw new ApiError(400, `dryRun: Unsupported value: "${d}": supported values: "All"`, "BadRequest");
		if (opts.gracePeriodSeconds !== undefined && !(Number.isInteger(opts.gracePeriodSeconds))) throw new ApiError(400, "invalid gracePeriodSeconds", "BadRequest");
		return opts;
	}

	delete(c) {
		const opts = this.deleteOptions(c);
		return this.deleteOne(c.rt, c.ns, c.name, opts);
	}

	deleteOne(rt, ns, name, opts) {
		const o = this.store.get(rt.id, ns, name);
		if (!o) throw errors.notFound(rt, name);
		const pre = opts.preconditions || {};
		if (pre.uid && pre.uid !== o.metadata.uid) throw errors.conflict(rt, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${o.metadata.uid}`);
		if (pre.resourceVersion && pre.resourceVersion !== o.metadata.resourceVersion)
			throw errors.conflict(rt, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${o.metadata.resourceVersion}`);
		if ((opts.dryRun || []).length) return { code: 200, obj: this.out(rt, o) };
		const policy = opts.propagationPolicy || (opts.orphanDependents ? "Orphan" : undefined);
		const fins = new Set(o.metadata.finalizers || []);
		if (policy === "Orphan") fins.add("orphan");
		if (policy === "Foreground") fins.add("foregroundDeletion");
		if (fins.size) {
			if (!o.metadata.deletionTimestamp) {
				o.metadata.deletionTimestamp = now();
				o.metadata.deletionGracePeriodSeconds = 0;
				o.metadata.finalizers = [...fins];
				return { code: 202, obj: this.out(rt, this.store.update(rt.id, o)) };
			}
			return { code: 202, obj: this.out(rt, o) };
		}
		const how = this.hooks.deleting(rt, o, opts);
		if (how && how.later) {
			if (!o.metadata.deletionTimestamp) {
				Object.assign(o.metadata, how.meta);
				return { code: 200, obj: this.out(rt, this.store.update(rt.id, o)) };
			}
			if (how.shorten && how.meta.deletionGracePeriodSeconds < o.metadata.deletionGracePeriodSeconds) {
				Object.assign(o.metadata, how.meta);
				return { code: 200, obj: this.out(rt, this.store.update(rt.id, o)) };
			}
			return { code: 200, obj: this.out(rt, o) };
		}
		return { code: 200, obj: this.out(rt, this.store.remove(rt.id, ns, name)) };
	}

	deleteCollection(c) {
		const opts = this.deleteOptions(c);
		const sel = this.selectors(c);
		const items = this.store.list(c.rt.id, c.rt.namespaced ? c.ns : undefined).filter((o) => matchLabels(sel.labels, o.metadata.labels) && matchFields(sel.fields, o));
		const out = [];
		for (const o of items) {
			try {
				out.push(this.deleteOne(c.rt, o.metadata.namespace, o.metadata.name, opts).obj);
			} catch (e) {
				if (e.code !== 404) throw e;
			}
		}
		return { code: 200, obj: { kind: c.rt.listKind, apiVersion: c.rt.apiVersion, metadata: { resourceVersion: String(this.store.currentRV()) }, items: out } };
	}
}

export { successStatus };
