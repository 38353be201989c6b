// SPDX-License-Identifier: Apache-2.0
// The HTTPS front: TLS with optional client certificates, authentication
// (bearer token or a client certificate signed by the test CA; neither is a
// 401 Status), request bodies capped at 3 MiB, routing of discovery, resource
// and admin paths, content negotiation (JSON, Table, PartialObjectMetadata),
// Warning headers, fault injection and the connection/request counters.
import https from "node:https";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { log } from "./log.mjs";
import { ApiError, statusObject, errors } from "./status.mjs";
import { discovery } from "./discovery.mjs";
import { toTable } from "./table.mjs";
import { openapi } from "./openapi.mjs";

const MAX_BODY = 3 * 1024 * 1024;

function parsePath(pathname) {
	const segs = pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
	let group, version, rest;
	if (segs[0] === "api" && segs.length >= 2) {
		group = "";
		version = segs[1];
		rest = segs.slice(2);
	} else if (segs[0] === "apis" && segs.length >= 3) {
		group = segs[1];
		version = segs[2];
		rest = segs.slice(3);
	} else return null;
	let watchPrefix = false;
	if (rest[0] === "watch") {
		watchPrefix = true;
		rest = rest.slice(1);
	}
	if (rest.length === 0) return null;
	let ns, plural, name, sub;
	if (rest[0] === "namespaces" && rest.length >= 3 && !(group === "" && rest.length === 3 && ["status", "finalize"].includes(rest[2]))) {
		ns = rest[1];
		[plural, name, sub] = rest.slice(2);
		if (rest.length > 5) return null;
	} else {
		[plural, name, sub] = rest;
		if (rest.length > 3) return null;
	}
	return { group, version, ns, plural, name, sub, watchPrefix };
}

function acceptMode(accept) {
	for (const part of (accept || "application/json").split(",")) {
		const p = part.trim();
		const [mt, ...params] = p.split(";").map((x) => x.trim());
		const as = params.find((x) => x.startsWith("as="))?.slice(3);
		if (mt === "application/vnd.kubernetes.protobuf") continue;
		if (mt !== "application/json" && mt !== "*/*" && mt !== "application/*") continue;
		if (!as) return "json";
		if (as === "Table") return "table";
		if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") return "meta";
	}
	return "json";
}

export class ApiServer {
	constructor({ pki, tokens, adminToken, resources, rest, watches, faults, admin, kubelet, address }) {
		Object.assign(this, { pki, tokens, adminToken, resources, rest, watches, faults, admin, kubelet, address });
		this.stats = { reset: () => this.resetStats() };
		this.resetStats();
		this.connSeq = 0;
		this.sockets = new Set();
	}
	resetStats() {
		this.counters = { tcpAccepted: 0, tlsAccepted: 0, tlsFailed: 0, apiConnections: 0, requests: {}, users: {} };
	}

	listen(host, port) {
		this.server = https.createServer(
			{
				key: readFileSync(this.pki.serverKey),
				cert: readFileSync(this.pki.serverCert),
				ca: readFileSync(this.pki.caFile),
				requestCert: true,
				rejectUnauthorized: false,
				ALPNProtocols: ["http/1.1"],
			},
			(req, res) => this.handle(req, res).catch((e) => this.fail(res, e)),
		);
		// The apiserver's idle timeout is long; a client that keeps one connection
		// for minutes must not see it closed under it.
		this.server.keepAliveTimeout = 90000;
		this.server.headersTimeout = 60000;
		this.server.requestTimeout = 0;
		this.server.on("connection", (s) => {
			this.counters.tcpAccepted++;
			this.sockets.add(s);
			s.on("close", () => this.sockets.delete(s));
		});
		this.server.on("secureConnection", (s) => {
			this.counters.tlsAccepted++;
			s.k8sEmu = { id: ++this.connSeq, api: false };
		});
		this.server.on("tlsClientError", () => this.counters.tlsFailed++);
		return new Promise((resolve, reject) => {
			this.server.once("error", reject);
			this.server.listen(port, host, () => resolve(this.server.address()));
		});
	}

	close() {
		this.server?.close();
		for (const s of this.sockets) s.destroy();
	}

	authenticate(req) {
		const h = req.headers.authorization || "";
		if (h.startsWith("Bearer ")) {
			const u = this.tokens.lookup(h.slice(7).trim());
			return u ? { ...u, via: "token" } : null;
		}
		const s = req.socket;
		if (s.authorized) {
			const cert = s.getPeerCertificate();
			if (cert && cert.subject) return { user: cert.subject.CN, groups: [].concat(cert.subject.O || []), via: "cert" };
		}
		return null;
	}

	readBody(req) {
		return new Promise((resolve, reject) => {
			const chunks = [];
			let n = 0;
			req.on("data", (c) => {
				n += c.length;
				if (n > MAX_BODY) {
					reject(errors.tooLarge());
					req.destroy();
					return;
				}
				chunks.push(c);
			});
			req.on("end", () => resolve(Buffer.concat(chunks)));
			req.on("error", reject);
		});
	}

	send(res, code, obj, headers = {}) {
		if (res.headersSent) return;
		if (res.k8sEmuCut) return res.socket.destroy(); // a "reset" fault with "after"
		const body = JSON.stringify(obj);
		res.writeHead(code, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Audit-Id": randomUUID(), "Content-Length": Buffer.byteLength(body), ...headers });
		res.end(body);
	}

	fail(res, e) {
		if (e instanceof ApiError) return this.send(res, e.code, e.status);
		log.error("internal error:", e.stack || String(e));
		this.send(res, 500, statusObject(500, `Internal error occurred: ${e.message}`, "InternalError"));
	}

	count(verb, user) {
		this.counters.requests[verb] = (this.counters.requests[verb] || 0) + 1;
		if (user) {
			const u = (this.counters.users[user] ||= { requests: 0, connections: 0 });
			u.requests++;
		}
	}

	async handle(req, res) {
		const url = new URL(req.url, "https://x");
		const path = url.pathname;
		const full = path + url.search;
		if (path.startsWith("/_emulator/")) return this.admin.handle(req, res, url, this);

		const route = parsePath(path);
		const verb = this.verbOf(req.method, route, url.searchParams);
		const sock = req.socket;
		if (sock.k8sEmu && !sock.k8sEmu.api) {
			sock.k8sEmu.api = true;
			this.counters.apiConnections++;
		}
		let user = null;
		if (!["/healthz", "/livez", "/readyz"].includes(path)) {
			user = this.authenticate(req);
			if (user && user.via === "token" && this.faults.take(["expireToken"], full, verb)) user = null;
			if (!user) {
				this.count("unauthorized");
				await this.drain(req);
				return this.send(res, 401, statusObject(401, "Unauthorized", "Unauthorized"));
			}
			if (sock.k8sEmu && !sock.k8sEmu.user) {
				sock.k8sEmu.user = user.user;
				(this.counters.users[user.user] ||= { requests: 0, connections: 0 }).connections++;
			}
		}
		this.count(verb, user?.user);
		const slow = this.faults.take(["slow"], full, verb);
		if (slow) await new Promise((r) => setTimeout(r, slow.delayMs));
		const cut = this.faults.take(["reset"], full, verb);
		if (cut && !cut.after) return req.socket.destroy();
		if (cut) res.k8sEmuCut = true;
		const st = this.faults.take(["status500", "status"], full, verb);
		if (st) {
			await this.drain(req);
			const s = statusObject(st.code, st.code === 500 ? "Internal error occurred: injected fault" : `injected fault (HTTP ${st.code})`);
			if (st.retryAfterSeconds !== undefined) s.details = { retryAfterSeconds: st.retryAfterSeconds };
			return this.send(res, st.code, s, st.retryAfterSeconds !== undefined ? { "Retry-After": String(st.retryAfterSeconds) } : {});
		}
		const gone = verb !== "watch" ? this.faults.take(["gone410"], full, verb) : undefined;
		if (gone) return this.send(res, 410, statusObject(410, "too old resource version: injected fault", "Expired"));

		if (["/healthz", "/livez", "/readyz"].includes(path)) {
			res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
			return res.end("ok");
		}
		if (req.method === "GET") {
			const d = discovery(this.resources, path.replace(/\/$/, "") || "/", this.address);
			if (d) return this.send(res, 200, d);
			const oa = path.startsWith("/openapi/") && openapi(this.resources, path);
			if (oa) return this.send(res, 200, oa);
			if (path.startsWith("/openapi/")) return this.send(res, 404, statusObject(404, "the server could not find the requested resource", "NotFound", { causes: [{ reason: "UnexpectedServerResponse", message: "404 page not found" }] }));
		}
		if (!route) return this.send(res, 404, statusObject(404, "the server could not find the requested resource", "NotFound", { causes: [{ reason: "UnexpectedServerResponse", message: "404 page not found" }] }));
		const rt = this.resources.get(route.group, route.version, route.plural);
		if (!rt) return this.send(res, 404, statusObject(404, "the server could not find the requested resource", "NotFound", { causes: [{ reason: "UnexpectedServerResponse", message: "404 page not found" }] }));
		if (!rt.namespaced && route.ns !== undefined) return this.send(res, 404, statusObject(404, "the server could not find the requested resource", "NotFound"));
		if (route.sub && !((route.sub === "status" && rt.status) || (route.sub === "log" && rt.log)))
			return this.send(res, 404, statusObject(404, "the server could not find the requested resource", "NotFound"));
		const body = ["POST", "PUT", "PATCH", "DELETE"].includes(req.method) ? await this.readBody(req) : Buffer.alloc(0);
		const c = {
			rt,
			ns: route.ns,
			name: route.name,
			sub: route.sub || "",
			verb,
			query: url.searchParams,
			body,
			contentType: req.headers["content-type"],
			warnings: [],
			res,
			path: full,
			user,
		};
		if (rt.namespaced && route.name !== undefined && route.ns === undefined && verb !== "watch") return this.send(res, 404, statusObject(404, "the server could not find the requested resource", "NotFound"));
		const mode = acceptMode(req.headers.accept);
		if (verb === "watch") {
			if (route.name !== undefined) c.query.set("fieldSelector", [c.query.get("fieldSelector"), `metadata.name=${route.name}`].filter(Boolean).join(","));
			const gone410 = !!this.faults.take(["gone410"], full, verb);
			const drop = this.faults.rules.find((r) => r.kind === "dropWatch" && this.faults.matches(r, full, verb));
			await this.watches.serve({ ...c, table: mode === "table", gone410 });
			if (drop) setTimeout(() => {
				if (!this.faults.rules.includes(drop)) return;
				if (this.watches.drop((p) => p === full, 1, drop.reset)) this.faults.use(drop);
			}, drop.delayMs);
			return;
		}
		if (verb === "log") return this.kubelet.logs(c, this);
		let r;
		switch (verb) {
			case "get": // reads in a namespace that does not exist are a 404 of the object or an empty list, as upstream
				r = this.rest.get(c);
				break;
			case "list":
				r = this.rest.list(c);
				break;
			case "create":
				if (rt.namespaced && route.ns === undefined) throw errors.methodNotAllowed();
				r = this.rest.create(c);
				break;
			case "update":
				r = this.rest.update(c);
				break;
			case "patch":
				r = this.rest.patch(c);
				break;
			case "delete":
				r = this.rest.delete(c);
				break;
			case "deletecollection":
				r = this.rest.deleteCollection(c);
				break;
			default:
				throw errors.methodNotAllowed();
		}
		const headers = {};
		if (c.warnings.length) headers.Warning = c.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
		let out = r.obj;
		if (mode === "table" && (verb === "get" || verb === "list")) {
			const items = verb === "get" ? [out] : out.items;
			out = toTable(rt, items, { query: c.query, rv: out.metadata?.resourceVersion, continue: out.metadata?.continue, remaining: out.metadata?.remainingItemCount });
		} else if (mode === "meta" && (verb === "get" || verb === "list")) {
			const pm = (o) => ({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata });
			out = verb === "get" ? pm(out) : { kind: "PartialObjectMetadataList", apiVersion: "meta.k8s.io/v1", metadata: out.metadata, items: out.items.map(pm) };
		}
		this.send(res, r.code, out, headers);
	}

	verbOf(method, route, q) {
		if (!route) return method === "GET" ? "get" : method.toLowerCase();
		const watch = route.watchPrefix || q.get("watch") === "true" || q.get("watch") === "1";
		switch (method) {
			case "GET":
				if (route.sub === "log") return "log";
				if (watch) return "watch";
				return route.name !== undefined ? "get" : "list";
			case "POST":
				return route.name === undefined ? "create" : "post";
			case "PUT":
				return "update";
			case "PATCH":
				return "patch";
			case "DELETE":
				return route.name !== undefined ? "delete" : "deletecollection";
			default:
				return method.toLowerCase();
		}
	}

	drain(req) {
		return new Promise((r) => {
			req.resume();
			req.on("end", r);
			req.on("error", r);
			if (req.complete) r();
		});
	}

	snapshot() {
		const open = [...this.sockets].length;
		return {
			connections: { tcpAccepted: this.counters.tcpAccepted, tlsAccepted: this.counters.tlsAccepted, tlsFailed: this.counters.tlsFailed, api: this.counters.apiConnections, open },
			requests: this.counters.requests,
			users: this.counters.users,
			watches: { current: this.watches.open.size, total: this.watches.total, open: [...this.watches.open].slice(0, 50).map((w) => w.path) },
			faults: { active: this.faults.list(), hits: this.faults.hits },
		};
	}
}
