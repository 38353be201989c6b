// SPDX-License-Identifier: Apache-2.0
// Discovery documents (legacy, unaggregated: kubectl falls back to them when
// the server does not answer the aggregated form): /version, /api, /api/v1,
// /apis, /apis/<group>, /apis/<group>/<version>.
import { createHash } from "node:crypto";

export const VERSION = { major: "1", minor: "32", gitVersion: "v1.32.4-k8s-emu", gitCommit: "0000000000000000000000000000000000000000", gitTreeState: "clean", buildDate: "2025-01-01T00:00:00Z", goVersion: "go1.23.8", compiler: "gc", platform: "linux/amd64" };

function resourceList(resources, group, version) {
	const out = [];
	for (const rt of resources.all()) {
		if (rt.group !== group || rt.version !== version) continue;
		const r = {
			name: rt.plural,
			singularName: rt.singular,
			namespaced: rt.namespaced,
			kind: rt.kind,
			verbs: rt.verbs,
			storageVersionHash: createHash("sha256").update(`${group}/${version}/${rt.kind}`).digest("base64").slice(0, 11),
		};
		if (rt.shortNames.length) r.shortNames = rt.shortNames;
		if (rt.categories.length) r.categories = rt.categories;
		out.push(r);
		if (rt.status) out.push({ name: `${rt.plural}/status`, singularName: "", namespaced: rt.namespaced, kind: rt.kind, verbs: ["get", "patch", "update"] });
		if (rt.log) out.push({ name: `${rt.plural}/log`, singularName: "", namespaced: rt.namespaced, kind: "Pod", verbs: ["get"] });
	}
	out.sort((a, b) => (a.name < b.name ? -1 : 1));
	return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : version, resources: out };
}

function groupDoc(resources, name, versions) {
	const vs = [...versions].sort().reverse().map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
	return { name, versions: vs, preferredVersion: vs[0] };
}

// Returns the document for path, or undefined.
export function discovery(resources, path, serverAddress) {
	if (path === "/version" || path === "/version/") return VERSION;
	if (path === "/api" || path === "/api/") return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
	if (path === "/api/v1" || path === "/api/v1/") return resourceList(resources, "", "v1");
	const groups = resources.groups();
	if (path === "/apis" || path === "/apis/") {
		const list = [];
		for (const [g, vs] of groups) if (g) list.push(groupDoc(resources, g, vs));
		return { kind: "APIGroupList", apiVersion: "v1", groups: list };
	}
	const m = /^\/apis\/([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
	if (m && groups.has(m[1])) {
		if (!m[2]) return { kind: "APIGroup", apiVersion: "v1", ...groupDoc(resources, m[1], groups.get(m[1])) };
		if (groups.get(m[1]).has(m[2])) return resourceList(resources, m[1], m[2]);
	}
	return undefined;
}
