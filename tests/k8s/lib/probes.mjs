// SPDX-License-Identifier: Apache-2.0
// One probe attempt (httpGet, tcpSocket, exec) against a pod's IP, with the
// probe's timeout. Resolves {ok, message}; never rejects.
import http from "node:http";
import https from "node:https";
import net from "node:net";

function portOf(c, p) {
	if (typeof p === "number") return p;
	const cp = (c.ports || []).find((x) => x.name === p);
	return cp ? cp.containerPort : NaN;
}

export function probeOnce(probe, { ip, container, docker, containerId }) {
	const timeoutMs = (probe.timeoutSeconds || 1) * 1000;
	return new Promise((resolve) => {
		const done = (ok, message) => resolve({ ok, message });
		if (probe.httpGet) {
			const g = probe.httpGet;
			const port = portOf(container, g.port);
			if (!port) return done(false, `port ${g.port} not found`);
			const headers = { "User-Agent": "kube-probe/1.32", Accept: "*/*" };
			for (const h of g.httpHeaders || []) headers[h.name] = h.value;
			const mod = g.scheme === "HTTPS" ? https : http;
			const req = mod.request({ host: g.host || ip, port, path: g.path || "/", method: "GET", headers, timeout: timeoutMs, rejectUnauthorized: false, agent: false }, (res) => {
				res.resume();
				const ok = res.statusCode >= 200 && res.statusCode < 400;
				done(ok, ok ? "" : `HTTP probe failed with statuscode: ${res.statusCode}`);
			});
			req.on("timeout", () => req.destroy(new Error(`Get "http://${ip}:${port}${g.path || "/"}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
			req.on("error", (e) => done(false, e.message.includes("deadline") ? e.message : `Get "${g.scheme === "HTTPS" ? "https" : "http"}://${ip}:${port}${g.path || "/"}": dial tcp ${ip}:${port}: ${e.code === "ECONNREFUSED" ? "connect: connection refused" : e.message}`));
			req.end();
		} else if (probe.tcpSocket) {
			const port = portOf(container, probe.tcpSocket.port);
			const s = net.connect({ host: probe.tcpSocket.host || ip, port, timeout: timeoutMs });
			s.on("connect", () => {
				s.destroy();
				done(true, "");
			});
			s.on("timeout", () => {
				s.destroy();
				done(false, `dial tcp ${ip}:${port}: i/o timeout`);
			});
			s.on("error", (e) => done(false, `dial tcp ${ip}:${port}: ${e.code === "ECONNREFUSED" ? "connect: connection refused" : e.message}`));
		} else if (probe.exec) {
			docker
				.exec(containerId, probe.exec.command, timeoutMs)
				.then((r) => done(r.code === 0, r.code === 0 ? "" : r.output.trim() || `command ${JSON.stringify(probe.exec.command)} exited with ${r.code}`))
				.catch((e) => done(false, e.message));
		} else done(false, "probe has no handler (grpc probes are not emulated)");
	});
}
