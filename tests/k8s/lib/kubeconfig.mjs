// SPDX-License-Identifier: Apache-2.0
// Writes a kubeconfig (the format kubectl reads) with one cluster and two
// users/contexts: "k8s-emu" (bearer token, the current context) and
// "k8s-emu-cert" (the client certificate). Data is embedded (*-data fields).
import { readFileSync, writeFileSync, chmodSync } from "node:fs";
import yaml from "js-yaml";

export function writeKubeconfig(file, { server, pki, namespace = "default" }) {
	const b64 = (f) => readFileSync(f).toString("base64");
	const cfg = {
		apiVersion: "v1",
		kind: "Config",
		preferences: {},
		clusters: [{ name: "k8s-emu", cluster: { server, "certificate-authority-data": b64(pki.caFile) } }],
		users: [
			{ name: "k8s-emu-token", user: { token: pki.token } },
			{ name: "k8s-emu-cert", user: { "client-certificate-data": b64(pki.clientCert), "client-key-data": b64(pki.clientKey) } },
		],
		contexts: [
			{ name: "k8s-emu", context: { cluster: "k8s-emu", user: "k8s-emu-token", namespace } },
			{ name: "k8s-emu-cert", context: { cluster: "k8s-emu", user: "k8s-emu-cert", namespace } },
		],
		"current-context": "k8s-emu",
	};
	writeFileSync(file, yaml.dump(cfg, { lineWidth: -1 }));
	chmodSync(file, 0o600);
}
