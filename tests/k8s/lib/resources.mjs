// SPDX-License-Identifier: Apache-2.0
// The resource types this server serves: the built-in ones below plus one per
// established CustomResourceDefinition version (added and removed by crd.mjs).
// A type: {group, version, kind, listKind, plural, singular, namespaced,
// shortNames, categories, status (has /status), model (client-node class name
// used for decoding built-ins), crd (for custom resources: {schema, columns})}.
const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

const BUILTIN = [
	["", "v1", "Pod", "pods", true, ["po"], { status: true, log: true, categories: ["all"], model: "V1Pod" }],
	["", "v1", "Event", "events", true, ["ev"], { model: "CoreV1Event" }],
	["", "v1", "Secret", "secrets", true, [], { model: "V1Secret" }],
	["", "v1", "ConfigMap", "configmaps", true, ["cm"], { model: "V1ConfigMap" }],
	["", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, ["pvc"], { status: true, model: "V1PersistentVolumeClaim" }],
	["", "v1", "Namespace", "namespaces", false, ["ns"], { status: true, model: "V1Namespace", verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] }],
	["", "v1", "ServiceAccount", "serviceaccounts", true, ["sa"], { model: "V1ServiceAccount" }],
	["", "v1", "Service", "services", true, ["svc"], { status: true, categories: ["all"], model: "V1Service", verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] }],
	["", "v1", "Node", "nodes", false, ["no"], { status: true, model: "V1Node" }],
	["apps", "v1", "Deployment", "deployments", true, ["deploy"], { status: true, categories: ["all"], model: "V1Deployment", generation: true }],
	["rbac.authorization.k8s.io", "v1", "Role", "roles", true, [], { model: "V1Role" }],
	["rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, [], { model: "V1RoleBinding" }],
	["rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, [], { model: "V1ClusterRole" }],
	["rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, [], { model: "V1ClusterRoleBinding" }],
	["apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, ["crd", "crds"], { status: true, model: "V1CustomResourceDefinition", generation: true }],
	["node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false, [], { model: "V1RuntimeClass" }],
];

function builtin([group, version, kind, plural, namespaced, shortNames, o]) {
	return {
		group,
		version,
		kind,
		listKind: kind + "List",
		plural,
		singular: kind.toLowerCase(),
		namespaced,
		shortNames,
		categories: o.categories || [],
		verbs: o.verbs || VERBS,
		status: !!o.status,
		log: !!o.log,
		model: o.model,
		generation: !!o.generation,
		crd: null,
	};
}

export class Resources {
	constructor() {
		this.types = new Map(); // "group/version/plural" -> type
		for (const b of BUILTIN) this.add(builtin(b));
		this.version = 0; // bumped on every change (discovery documents are rebuilt)
	}
	key(group, version, plural) {
		return `${group}/${version}/${plural}`;
	}
	add(rt) {
		rt.apiVersion = rt.group ? `${rt.group}/${rt.version}` : rt.version;
		rt.id = rt.group ? `${rt.plural}.${rt.group}` : rt.plural; // storage key: one per group+resource
		this.types.set(this.key(rt.group, rt.version, rt.plural), rt);
		this.version++;
	}
	remove(group, version, plural) {
		this.types.delete(this.key(group, version, plural));
		this.version++;
	}
	get(group, version, plural) {
		return this.types.get(this.key(group, version, plural));
	}
	byKind(apiVersion, kind) {
		for (const rt of this.types.values()) if (rt.apiVersion === apiVersion && rt.kind === kind) return rt;
		return undefined;
	}
	byId(id) {
		for (const rt of this.types.values()) if (rt.id === id) return rt;
		return undefined;
	}
	all() {
		return [...this.types.values()];
	}
	groups() {
		const g = new Map();
		for (const rt of this.types.values()) {
			if (!g.has(rt.group)) g.set(rt.group, new Set());
			g.get(rt.group).add(rt.version);
		}
		return g;
	}
}
