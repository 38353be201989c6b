// SPDX-License-Identifier: Apache-2.0
// core/v1 Events as the client-go event recorder writes them: one object per
// (object, type, reason, message, source), its count and lastTimestamp bumped
// when the same event repeats.
import { randomUUID } from "node:crypto";
import { now } from "./objects.mjs";

export class Recorder {
	constructor({ store, host }) {
		this.store = store;
		this.host = host;
		this.index = new Map();
	}
	// obj: the involved object (full); component: "kubelet", "default-scheduler", ...
	record(obj, type, reason, message, component = "kubelet", fieldPath) {
		const ns = obj.metadata.namespace || "default";
		if (!this.store.peek("namespaces", "", ns)) return;
		const key = [obj.metadata.uid, type, reason, message, component, fieldPath || ""].join("\0");
		const t = now();
		const name = this.index.get(key);
		const ex = name && this.store.get("events", ns, name);
		if (ex) {
			ex.count = (ex.count || 1) + 1;
			ex.lastTimestamp = t;
			this.store.update("events", ex);
			return;
		}
		const evName = `${obj.metadata.name}.${(Date.now() * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
		const involvedObject = { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid, apiVersion: obj.apiVersion, resourceVersion: obj.metadata.resourceVersion };
		if (fieldPath) involvedObject.fieldPath = fieldPath;
		if (!involvedObject.namespace) delete involvedObject.namespace;
		this.store.create("events", {
			kind: "Event",
			apiVersion: "v1",
			metadata: { name: evName, namespace: ns, uid: randomUUID(), creationTimestamp: t },
			involvedObject,
			reason,
			message,
			source: component === "kubelet" ? { component, host: this.host } : { component },
			firstTimestamp: t,
			lastTimestamp: t,
			count: 1,
			type,
			eventTime: null,
			reportingComponent: component,
			reportingInstance: component === "kubelet" ? this.host : "",
		});
		this.index.set(key, evName);
		if (this.index.size > 10000) this.index.delete(this.index.keys().next().value);
	}
}
