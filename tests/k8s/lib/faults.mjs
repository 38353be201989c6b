// SPDX-License-Identifier: Apache-2.0
// Fault injection rules, set through the admin API (POST /_emulator/faults):
//   {"kind": K, "match": "substring of path?query", "regex": "...", "verb": "watch",
//    "count": N (default: unlimited; dropWatch: 1), "delayMs": N, "code": N, "reset": bool,
//    "after": bool}
// kinds:
//   status500    answer a 500 InternalError Status ("status" with "code" for any other code)
//   slow         wait delayMs before handling the request (a watch: before its first byte)
//   gone410      a watch gets one ERROR event carrying 410 Expired; other requests a 410 Status
//   dropWatch    end every open matching watch at once (at most count); with a count left
//                over, new matching watches are ended delayMs after they start;
//                "reset": true cuts the TCP connection instead of ending the stream
//   expireToken  bearer-token requests get 401 Unauthorized, as with an expired token
//   reset        cut the TCP connection without an answer; "after": true handles the
//                request first (a create is stored), then cuts instead of answering
// Each hit counts down "count"; a rule at 0 is removed.
export const KINDS = ["status500", "status", "slow", "gone410", "dropWatch", "expireToken", "reset"];

export class Faults {
	constructor() {
		this.rules = [];
		this.nextId = 1;
		this.hits = {};
	}
	add(spec) {
		if (!spec || !KINDS.includes(spec.kind)) throw new Error(`kind must be one of ${KINDS.join(", ")}`);
		const r = {
			id: String(this.nextId++),
			kind: spec.kind,
			match: spec.match !== undefined ? String(spec.match) : "",
			regex: spec.regex !== undefined ? String(spec.regex) : undefined,
			verb: spec.verb,
			count: spec.count !== undefined ? Number(spec.count) : undefined,
			delayMs: Number(spec.delayMs || 0),
			code: spec.kind === "status500" ? 500 : Number(spec.code || 500),
			reset: !!spec.reset,
			after: !!spec.after,
			retryAfterSeconds: spec.retryAfterSeconds,
		};
		if (r.regex !== undefined) r.re = new RegExp(r.regex);
		this.rules.push(r);
		return r;
	}
	clear() {
		this.rules = [];
	}
	remove(id) {
		const n = this.rules.length;
		this.rules = this.rules.filter((r) => r.id !== id);
		return this.rules.length !== n;
	}
	matches(r, path, verb) {
		if (r.verb && r.verb !== verb) return false;
		if (r.match && !path.includes(r.match)) return false;
		if (r.re && !r.re.test(path)) return false;
		return true;
	}
	// The first rule of one of kinds that matches; its count is taken.
	take(kinds, path, verb) {
		for (const r of this.rules) {
			if (!kinds.includes(r.kind) || !this.matches(r, path, verb)) continue;
			this.use(r);
			return r;
		}
		return undefined;
	}
	use(r) {
		this.hits[r.kind] = (this.hits[r.kind] || 0) + 1;
		if (r.count !== undefined) {
			r.count--;
			if (r.count <= 0) this.rules = this.rules.filter((x) => x !== r);
		}
	}
	list() {
		return this.rules.map(({ re, ...r }) => r);
	}
}
