// SPDX-License-Identifier: Apache-2.0
// A small Docker Engine API client over the unix socket (API 1.41, which the
// dockerd of these machines speaks): containers, exec, logs (demultiplexed),
// wait, commit, volumes, images, networks. Every call has a timeout; a non-2xx
// answer throws an Error carrying .status and the daemon's message.
import http from "node:http";

const API = "/v1.41";

export class Docker {
	constructor(socketPath = "/var/run/docker.sock") {
		this.socketPath = socketPath;
		this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
	}

	raw(method, path, { body, timeout = 120000, stream = false, query } = {}) {
		const qs = query ? "?" + new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)])).toString() : "";
		return new Promise((resolve, reject) => {
			const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
			const req = http.request(
				{ socketPath: this.socketPath, method, path: API + path + qs, agent: stream || timeout === 0 ? false : this.agent, headers: data ? { "Content-Type": "application/json", "Content-Length": data.length } : {} },
				(res) => {
					if (stream && res.statusCode < 300) {
						req.setTimeout(0);
						return resolve(res);
					}
					const chunks = [];
					res.on("data", (c) => chunks.push(c));
					res.on("end", () => {
						const buf = Buffer.concat(chunks);
						if (res.statusCode >= 300) {
							let msg = buf.toString();
							try {
								msg = JSON.parse(msg).message || msg;
							} catch {}
							const e = new Error(`docker ${method} ${path}: ${res.statusCode} ${msg.trim()}`);
							e.status = res.statusCode;
							e.daemonMessage = msg.trim();
							return reject(e);
						}
						resolve(buf);
					});
					res.on("error", reject);
				},
			);
			if (timeout > 0) req.setTimeout(timeout, () => req.destroy(new Error(`docker ${method} ${path}: timed out`)));
			req.on("error", reject);
			req.end(data);
		});
	}
	async json(method, path, opts) {
		const b = await this.raw(method, path, opts);
		return b.length ? JSON.parse(b.toString()) : null;
	}

	async imageInspect(ref) {
		try {
			return await this.json("GET", `/images/${encodeURIComponent(ref)}/json`);
		} catch (e) {
			if (e.status === 404) return null;
			throw e;
		}
	}
	async create(name, body) {
		return (await this.json("POST", "/containers/create", { body, query: { name } })).Id;
	}
	start(id) {
		return this.raw("POST", `/containers/${id}/start`);
	}
	stop(id, t) {
		return this.raw("POST", `/containers/${id}/stop`, { query: { t }, timeout: (t + 30) * 1000 }).catch((e) => {
			if (e.status !== 304 && e.status !== 404) throw e;
		});
	}
	kill(id) {
		return this.raw("POST", `/containers/${id}/kill`).catch((e) => {
			if (e.status !== 409 && e.status !== 404) throw e;
		});
	}
	remove(id) {
		return this.raw("DELETE", `/containers/${id}`, { query: { force: true, v: true } }).catch((e) => {
			if (e.status !== 404) throw e;
		});
	}
	inspect(id) {
		return this.json("GET", `/containers/${id}/json`);
	}
	// Resolves with the exit code once the container stops (long poll).
	async wait(id) {
		const r = await this.json("POST", `/containers/${id}/wait`, { timeout: 0 });
		return r.StatusCode;
	}
	list(label) {
		return this.json("GET", "/containers/json", { query: { all: 1, filters: { label: [label] } } });
	}
	async exec(id, cmd, timeoutMs) {
		const ex = await this.json("POST", `/containers/${id}/exec`, { body: { Cmd: cmd, AttachStdout: true, AttachStderr: true } });
		const out = await this.raw("POST", `/exec/${ex.Id}/start`, { body: { Detach: false, Tty: false }, timeout: timeoutMs });
		const info = await this.json("GET", `/exec/${ex.Id}/json`);
		return { code: info.ExitCode, output: demux(out).toString() };
	}
	// A readable stream of the demultiplexed log (stdout and stderr interleaved).
	async logs(id, { tail, since, timestamps, follow, tty }) {
		const res = await this.raw("GET", `/containers/${id}/logs`, { stream: true, query: { stdout: 1, stderr: 1, tail: tail === undefined ? "all" : tail, since, timestamps: timestamps ? 1 : 0, follow: follow ? 1 : 0 } });
		return tty ? res : demuxStream(res);
	}
	commit(id, repo, tag, changes) {
		return this.json("POST", "/commit", { query: { container: id, repo, tag, pause: true, changes }, timeout: 600000 });
	}
	removeImage(ref) {
		return this.raw("DELETE", `/images/${encodeURIComponent(ref)}`, { query: { force: true } }).catch((e) => {
			if (e.status !== 404 && e.status !== 409) throw e;
		});
	}
	images(label) {
		return this.json("GET", "/images/json", { query: { filters: { label: [label] } } });
	}
	volumeCreate(name, labels) {
		return this.json("POST", "/volumes/create", { body: { Name: name, Labels: labels } });
	}
	async volumeInspect(name) {
		try {
			return await this.json("GET", `/volumes/${encodeURIComponent(name)}`);
		} catch (e) {
			if (e.status === 404) return null;
			throw e;
		}
	}
	volumeRemove(name) {
		return this.raw("DELETE", `/volumes/${encodeURIComponent(name)}`, { query: { force: true } }).catch((e) => {
			if (e.status !== 404) throw e;
		});
	}
	volumes(label) {
		return this.json("GET", "/volumes", { query: { filters: { label: [label] } } });
	}
	async gatewayIP(network) {
		const n = await this.json("GET", `/networks/${encodeURIComponent(network)}`, { timeout: 5000 });
		return n?.IPAM?.Config?.[0]?.Gateway || "127.0.0.1";
	}
	async runtimes() {
		const info = await this.json("GET", "/info", { timeout: 10000 });
		return Object.keys(info.Runtimes || {});
	}
}

// Docker's multiplexed stream: 8-byte frames [type, 0, 0, 0, size(be32)].
export function demux(buf) {
	const out = [];
	let i = 0;
	while (i + 8 <= buf.length) {
		const n = buf.readUInt32BE(i + 4);
		out.push(buf.subarray(i + 8, i + 8 + n));
		i += 8 + n;
	}
	return Buffer.concat(out);
}

import { Transform } from "node:stream";
function demuxStream(src) {
	let pending = Buffer.alloc(0);
	const t = new Transform({
		transform(chunk, _enc, cb) {
			pending = Buffer.concat([pending, chunk]);
			while (pending.length >= 8) {
				const n = pending.readUInt32BE(4);
				if (pending.length < 8 + n) break;
				this.push(pending.subarray(8, 8 + n));
				pending = pending.subarray(8 + n);
			}
			cb();
		},
	});
	src.pipe(t);
	t.on("close", () => src.destroy());
	src.on("error", (e) => t.destroy(e));
	return t;
}
