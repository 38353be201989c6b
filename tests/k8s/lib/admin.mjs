// SPDX-License-Identifier: Apache-2.0
// The admin API under /_emulator/ on the same listener, for tests and benches.
// Authenticated with the admin token (state dir "admin-token") only.
//   POST   /_emulator/faults          add a rule (faults.mjs); dropWatch also ends open watches now
//   GET    /_emulator/faults          the active rules
//   DELETE /_emulator/faults[/ID]     remove all rules (or one)
//   GET    /_emulator/stats           connection, request, watch and fault counters
//   POST   /_emulator/stats/reset     zero the counters
//   POST   /_emulator/compact         drop every watch history (older resourceVersions get 410)
//   POST   /_emulator/token/rotate    a new bearer token in the token file (the old one stops working)
//   GET    /_emulator/pods            per pod: created, scheduled, first container started, ready (ms epoch)
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { statusObject } from "./status.mjs";

export class Admin {
	constructor({ adminToken, faults, watches, store, kubelet, tokenFile }) {
		Object.assign(this, { adminToken, faults, watches, store, kubelet, tokenFile });
	}

	async handle(req, res, url, srv) {
		const auth = req.headers.authorization || "";
		const body = await srv.readBody(req).catch(() => Buffer.alloc(0));
		if (auth !== `Bearer ${this.adminToken}`) return srv.send(res, 401, statusObject(401, "Unauthorized", "Unauthorized"));
		const p = url.pathname.replace(/\/$/, "");
		const m = req.method;
		const json = () => {
			try {
				return JSON.parse(body.toString() || "{}");
			} catch {
				return null;
			}
		};
		if (p === "/_emulator/faults" && m === "POST") {
			const spec = json();
			let r;
			try {
				r = this.faults.add(spec);
			} catch (e) {
				return srv.send(res, 400, statusObject(400, e.message, "BadRequest"));
			}
			if (r.kind === "dropWatch") {
				const matchFn = (path) => this.faults.matches(r, path, "watch");
				const n = this.watches.drop(matchFn, r.count, r.reset);
				if (r.count === undefined) {
					this.faults.hits.dropWatch = (this.faults.hits.dropWatch || 0) + n;
					this.faults.remove(r.id);
				} else for (let i = 0; i < n; i++) this.faults.use(r);
				r.droppedNow = n;
			}
			const { re, ...out } = r;
			return srv.send(res, 201, out);
		}
		if (p === "/_emulator/faults" && m === "GET") return srv.send(res, 200, { faults: this.faults.list() });
		if (p === "/_emulator/faults" && m === "DELETE") {
			this.faults.clear();
			return srv.send(res, 200, { faults: [] });
		}
		const fm = /^\/_emulator\/faults\/([^/]+)$/.exec(p);
		if (fm && m === "DELETE") return this.faults.remove(fm[1]) ? srv.send(res, 200, { removed: fm[1] }) : srv.send(res, 404, statusObject(404, `fault ${fm[1]} not found`, "NotFound"));
		if (p === "/_emulator/stats" && m === "GET") return srv.send(res, 200, srv.snapshot());
		if (p === "/_emulator/stats/reset" && m === "POST") {
			srv.resetStats();
			return srv.send(res, 200, srv.snapshot());
		}
		if (p === "/_emulator/compact" && m === "POST") {
			this.store.compact();
			return srv.send(res, 200, { resourceVersion: String(this.store.currentRV()) });
		}
		if (p === "/_emulator/token/rotate" && m === "POST") {
			const token = randomBytes(24).toString("base64url");
			writeFileSync(this.tokenFile, token + "\n", { mode: 0o600 });
			return srv.send(res, 200, { token });
		}
		if (p === "/_emulator/pods" && m === "GET") return srv.send(res, 200, { pods: this.kubelet ? this.kubelet.timings() : [] });
		return srv.send(res, 404, statusObject(404, "the server could not find the requested resource", "NotFound"));
	}
}
