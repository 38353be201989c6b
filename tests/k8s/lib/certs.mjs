// SPDX-License-Identifier: Apache-2.0
// The test PKI, made with the openssl CLI into the state dir at every start:
//   ca.crt/ca.key          the test CA (signs the server and client certificates)
//   server.crt/server.key  the API server's certificate: 127.0.0.1, ::1, localhost + extra SANs
//   client.crt/client.key  a client certificate (CN=opensandbox-client, O=system:masters)
//   token                  the bearer token (first line; more lines "token[,user]" may be added)
//   admin-token            the token of the /_emulator admin API
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";

function ssl(args, cwd) {
	execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

function sanLine(sans) {
	const out = [];
	for (const s of sans) {
		if (/^[0-9.]+$/.test(s) || s.includes(":")) out.push(`IP:${s}`);
		else out.push(`DNS:${s}`);
	}
	return out.join(",");
}

// Creates every file above in dir; returns their paths and the tokens.
export function makePki(dir, extraSans = []) {
	const p = (f) => join(dir, f);
	const ecParams = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
	ssl(["req", "-x509", ...ecParams, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=k8s-emu-ca",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
	const sans = ["127.0.0.1", "::1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", ...extraSans];
	writeFileSync(p("server.ext"), `subjectAltName=${sanLine(sans)}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n`);
	ssl(["req", "-new", ...ecParams, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver"], dir);
	ssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "30", "-extfile", "server.ext"], dir);
	writeFileSync(p("client.ext"), "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n");
	ssl(["req", "-new", ...ecParams, "-keyout", "client.key", "-out", "client.csr", "-subj", "/O=system:masters/CN=opensandbox-client"], dir);
	ssl(["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "30", "-extfile", "client.ext"], dir);
	const token = randomBytes(24).toString("base64url");
	const adminToken = randomBytes(24).toString("base64url");
	writeFileSync(p("token"), token + "\n");
	writeFileSync(p("admin-token"), adminToken + "\n");
	for (const f of ["ca.key", "server.key", "client.key", "token", "admin-token"]) chmodSync(p(f), 0o600);
	return {
		caFile: p("ca.crt"),
		serverCert: p("server.crt"),
		serverKey: p("server.key"),
		clientCert: p("client.crt"),
		clientKey: p("client.key"),
		tokenFile: p("token"),
		adminTokenFile: p("admin-token"),
		token,
		adminToken,
	};
}

// The token file, re-read when it changes: line "token[,user[,group...]]".
export class TokenFile {
	constructor(path) {
		this.path = path;
		this.mtime = -1;
		this.tokens = new Map();
	}
	lookup(token) {
		this.reload();
		return this.tokens.get(token);
	}
	reload() {
		let st;
		try {
			st = readFileSync(this.path, "utf8");
		} catch {
			this.tokens = new Map();
			return;
		}
		if (st === this.text) return;
		this.text = st;
		const m = new Map();
		for (const raw of st.split("\n")) {
			const ln = raw.trim();
			if (!ln || ln.startsWith("#")) continue;
			const [tok, user, ...groups] = ln.split(",");
			m.set(tok, { user: user || "opensandbox-token", groups: groups.length ? groups : ["system:masters", "system:authenticated"] });
		}
		this.tokens = m;
	}
	exists() {
		return existsSync(this.path);
	}
}
