// SPDX-License-Identifier: Apache-2.0
// The object store: one global resourceVersion counter (like etcd's revision),
// objects per storage id ("pods", "batchsandboxes.sandbox.opensandbox.io") keyed
// by "namespace/name", and per id a bounded history of watch events. A watch
// from resourceVersion R replays the history after R; if events after R were
// already dropped from the window it gets 410 Expired (as the watch cache does).
// Objects handed out are copies; the store owns what it holds.
import { EventEmitter } from "node:events";

export class Store extends EventEmitter {
	constructor({ historySize = 1000 } = {}) {
		super();
		this.setMaxListeners(0);
		this.rv = 100;
		this.historySize = historySize;
		this.buckets = new Map();
	}
	bucket(id) {
		let b = this.buckets.get(id);
		if (!b) {
			// windowStart: every event with rv > windowStart is still in history
			b = { objects: new Map(), history: [], windowStart: this.rv, watchers: new Set() };
			this.buckets.set(id, b);
		}
		return b;
	}
	currentRV() {
		return this.rv;
	}
	nextRV() {
		return ++this.rv;
	}
	key(ns, name) {
		return `${ns || ""}/${name}`;
	}
	get(id, ns, name) {
		const o = this.bucket(id).objects.get(this.key(ns, name));
		return o ? structuredClone(o) : undefined;
	}
	// Live read (no copy) for hot internal paths; callers must not mutate.
	peek(id, ns, name) {
		return this.bucket(id).objects.get(this.key(ns, name));
	}
	list(id, ns) {
		const out = [];
		for (const o of this.bucket(id).objects.values()) if (ns === undefined || ns === null || (o.metadata.namespace || "") === ns) out.push(o);
		out.sort((a, b) => cmpKey(a, b));
		return out.map((o) => structuredClone(o));
	}
	count(id) {
		return this.bucket(id).objects.size;
	}
	// Writes: obj is owned by the store afterwards; returns a copy of what was stored.
	create(id, obj) {
		obj.metadata.resourceVersion = String(this.nextRV());
		const b = this.bucket(id);
		b.objects.set(this.key(obj.metadata.namespace, obj.metadata.name), obj);
		this.record(id, b, "ADDED", obj);
		return structuredClone(obj);
	}
	update(id, obj) {
		obj.metadata.resourceVersion = String(this.nextRV());
		const b = this.bucket(id);
		const k = this.key(obj.metadata.namespace, obj.metadata.name);
		const old = b.objects.get(k);
		b.objects.set(k, obj);
		this.record(id, b, "MODIFIED", obj, old);
		return structuredClone(obj);
	}
	remove(id, ns, name) {
		const b = this.bucket(id);
		const k = this.key(ns, name);
		const old = b.objects.get(k);
		if (!old) return undefined;
		b.objects.delete(k);
		const obj = structuredClone(old);
		obj.metadata.resourceVersion = String(this.nextRV());
		this.record(id, b, "DELETED", obj, old);
		return structuredClone(obj);
	}
	record(id, b, type, obj, old) {
		const ev = { type, rv: Number(obj.metadata.resourceVersion), object: obj, old };
		b.history.push(ev);
		while (b.history.length > this.historySize) b.windowStart = b.history.shift().rv;
		for (const w of b.watchers) w(ev);
		this.emit("change", id, ev);
	}
	// Drops every bucket's history (an etcd compaction): older watches get 410.
	compact() {
		for (const b of this.buckets.values()) {
			b.history = [];
			b.windowStart = this.rv;
		}
	}
	// Events of id after rv, or null when some of them have left the window.
	since(id, rv) {
		const b = this.bucket(id);
		if (rv < b.windowStart) return null;
		return b.history.filter((e) => e.rv > rv);
	}
	oldestRV(id) {
		return this.bucket(id).windowStart;
	}
	subscribe(id, fn) {
		const b = this.bucket(id);
		b.watchers.add(fn);
		return () => b.watchers.delete(fn);
	}
	watcherCount() {
		let n = 0;
		for (const b of this.buckets.values()) n += b.watchers.size;
		return n;
	}
}

function cmpKey(a, b) {
	const ka = `${a.metadata.namespace || ""}/${a.metadata.name}`;
	const kb = `${b.metadata.namespace || ""}/${b.metadata.name}`;
	return ka < kb ? -1 : ka > kb ? 1 : 0;
}
export { cmpKey };
