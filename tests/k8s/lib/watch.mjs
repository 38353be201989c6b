// SPDX-License-Identifier: Apache-2.0
// WATCH: a chunked stream of newline-delimited JSON WatchEvents
// ({"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}).
//   resourceVersion unset or "0": the current objects as ADDED, then changes;
//   resourceVersion R: the history after R, then changes; R older than the
//     window: one ERROR event carrying a 410 Expired Status, then the end;
//   sendInitialEvents=true: the current objects, a BOOKMARK annotated
//     k8s.io/initial-events-end, then changes (the WatchList protocol).
// A change that moves an object out of (into) the selectors is sent as
// DELETED (ADDED), as the watch cache does. A client that stops reading is
// cut off once 16 MiB wait unsent.
import { ApiError, statusObject } from "./status.mjs";
import { parseLabelSelector, matchLabels, parseFieldSelector, matchFields } from "./selectors.mjs";

const MAX_PENDING = 16 << 20;

export class Watches {
	constructor({ store, bookmarkMs = 60000, toTable }) {
		this.store = store;
		this.bookmarkMs = bookmarkMs;
		this.toTable = toTable;
		this.open = new Set();
		this.total = 0;
	}

	// Ends open watches whose path matches (fault injection); returns how many.
	drop(match, count, reset) {
		let n = 0;
		for (const w of [...this.open]) {
			if (count !== undefined && n >= count) break;
			if (!match(w.path)) continue;
			n++;
			w.end(reset);
		}
		return n;
	}

	// c: {rt, ns, query, res, path, table, gone410}
	async serve(c) {
		const q = c.query;
		const rt = c.rt;
		const labels = parseLabelSelector(q.get("labelSelector") || "");
		const fields = parseFieldSelector(q.get("fieldSelector") || "", rt);
		const rvParam = q.get("resourceVersion") || "";
		const initial = q.get("sendInitialEvents") === "true";
		const bookmarks = q.get("allowWatchBookmarks") === "true";
		if (initial && (q.get("resourceVersionMatch") !== "NotOlderThan" || !bookmarks))
			throw new ApiError(422, `ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan and allowWatchBookmarks is true`, "Invalid");
		if (q.get("sendInitialEvents") !== null && !initial && q.get("sendInitialEvents") !== "false") throw new ApiError(400, "sendInitialEvents: invalid boolean", "BadRequest");
		let timeout = q.get("timeoutSeconds") !== null ? Number(q.get("timeoutSeconds")) : 1800 + Math.floor(Math.random() * 1800);
		if (!(timeout >= 0)) throw new ApiError(400, "timeoutSeconds: invalid value", "BadRequest");
		const rvNum = rvParam === "" ? 0 : Number(rvParam);
		if (rvParam !== "" && !/^\d+$/.test(rvParam)) throw new ApiError(400, `invalid resource version: strconv.ParseUint: parsing "${rvParam}": invalid syntax`, "BadRequest");
		if (rvNum > this.store.currentRV()) {
			const until = Date.now() + 3000;
			while (rvNum > this.store.currentRV() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
			if (rvNum > this.store.currentRV())
				throw new ApiError(504, `Timeout: Too large resource version: ${rvNum}, current: ${this.store.currentRV()}`, "Timeout", { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 });
		}
		const inScope = (o) => !rt.namespaced || !c.ns || (o.metadata.namespace || "") === c.ns;
		const matches = (o) => o && inScope(o) && matchLabels(labels, o.metadata.labels) && matchFields(fields, o);

		const res = c.res;
		res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked", ...(c.headers || {}) });
		res.flushHeaders?.();
		let first = true;
		const w = { path: c.path, ended: false };
		const send = (type, object) => {
			if (w.ended) return;
			let obj = object;
			if (c.table && type !== "ERROR" && type !== "BOOKMARK") {
				obj = this.toTable(rt, [structuredClone(object)], { headers: first, query: q });
				first = false;
			} else if (type !== "ERROR") {
				obj = structuredClone(object);
				obj.apiVersion = rt.apiVersion;
				obj.kind ??= rt.kind;
			}
			res.write(JSON.stringify({ type, object: obj }) + "\n");
			if (res.writableLength > MAX_PENDING) w.end(true);
		};
		// The store emits synchronously and nothing below awaits before the
		// replay is written, so no change can slip between replay and live events.
		const deliver = (ev) => {
			const now = matches(ev.object);
			if (ev.type === "MODIFIED") {
				const was = matches(ev.old);
				if (now && was) send("MODIFIED", ev.object);
				else if (now) send("ADDED", ev.object);
				else if (was) send("DELETED", ev.object);
			} else if (ev.type === "DELETED") {
				if (matches(ev.old) || now) send("DELETED", ev.object);
			} else if (now) send(ev.type, ev.object);
		};
		const unsub = this.store.subscribe(rt.id, deliver);
		let timer, bm;
		w.end = (reset, quiet) => {
			if (w.ended) return;
			if (bookmarks && !reset && !quiet) sendBookmark();
			w.ended = true;
			unsub();
			clearTimeout(timer);
			clearInterval(bm);
			this.open.delete(w);
			if (reset) res.socket?.destroy();
			else res.end();
		};
		const sendBookmark = (annotations) => {
			const md = { resourceVersion: String(this.store.currentRV()) }; // delivery is synchronous: every event up to now was sent
			if (annotations) md.annotations = annotations;
			send("BOOKMARK", { kind: rt.kind, apiVersion: rt.apiVersion, metadata: md });
		};
		this.open.add(w);
		this.total++;
		res.on("close", () => w.end(false, true));

		if (c.gone410) {
			send("ERROR", statusObject(410, `too old resource version: ${rvNum} (${this.store.currentRV()})`, "Expired"));
			w.end(false, true);
			return;
		}
		if (rvParam === "" || rvParam === "0" || initial) {
			for (const o of this.store.list(rt.id, rt.namespaced && c.ns ? c.ns : undefined)) if (matches(o)) send("ADDED", o);
			if (initial) sendBookmark({ "k8s.io/initial-events-end": "true" });
		} else {
			const evs = this.store.since(rt.id, rvNum);
			if (evs === null) {
				send("ERROR", statusObject(410, `too old resource version: ${rvNum} (${this.store.oldestRV(rt.id) + 1})`, "Expired"));
				w.end(false, true);
				return;
			}
			for (const ev of evs) deliver(ev);
		}
		timer = setTimeout(() => w.end(false), timeout * 1000);
		if (bookmarks) bm = setInterval(() => sendBookmark(), this.bookmarkMs);
	}
}
