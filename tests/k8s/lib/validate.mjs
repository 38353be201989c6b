// SPDX-License-Identifier: Apache-2.0
// Validation of built-in kinds before they are stored, as the apiserver does
// it: the OpenAPI constraints through kubernetes-models' validate() (required
// fields, enums), then object metadata and the per-kind rules the schema
// does not carry (validate_pod.mjs for pod specs). Returns field errors.
import { Pod } from "kubernetes-models/v1/Pod";
import { Secret } from "kubernetes-models/v1/Secret";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Event } from "kubernetes-models/v1/Event";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { Service } from "kubernetes-models/v1/Service";
import { Node } from "kubernetes-models/v1/Node";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition";
import { RuntimeClass } from "kubernetes-models/node.k8s.io/v1/RuntimeClass";
import { field } from "./status.mjs";
import { dns1123Label, dns1123Subdomain, dns1035Label, pathSegmentName, qualifiedName, labelValue, configKey } from "./names.mjs";
import { validatePodSpec, validatePodUpdate, sortKeys } from "./validate_pod.mjs";
import { fromLabelSelector, matchLabels } from "./selectors.mjs";
import { structuralErrors } from "./schema.mjs";

const MODELS = { pods: Pod, secrets: Secret, configmaps: ConfigMap, events: Event, persistentvolumeclaims: PersistentVolumeClaim, namespaces: Namespace, serviceaccounts: ServiceAccount, services: Service, nodes: Node, deployments: Deployment, roles: Role, rolebindings: RoleBinding, clusterroles: ClusterRole, clusterrolebindings: ClusterRoleBinding, customresourcedefinitions: CustomResourceDefinition, runtimeclasses: RuntimeClass };

function ajvPath(p) {
	return p
		.split("/")
		.slice(1)
		.map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
		.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "");
}

function schemaErrors(rt, obj, errs) {
	const M = MODELS[rt.plural];
	if (!M) return;
	try {
		new M(obj).validate();
	} catch (e) {
		for (const x of e.errors || []) {
			const p = ajvPath(x.instancePath);
			if (x.keyword === "required") errs.push(field.required(p ? `${p}.${x.params.missingProperty}` : x.params.missingProperty, ""));
			else if (x.keyword === "enum") errs.push(field.notSupported(p, undefined, x.params.allowedValues));
		}
	}
}

const NAME_RULE = {
	namespaces: dns1123Label,
	services: dns1035Label,
	roles: pathSegmentName,
	rolebindings: pathSegmentName,
	clusterroles: pathSegmentName,
	clusterrolebindings: pathSegmentName,
};

export function validateMeta(rt, obj, errs) {
	const md = obj.metadata || {};
	if (!md.name && !md.generateName) errs.push(field.required("metadata.name", "name or generateName is required"));
	const rule = NAME_RULE[rt.plural] || dns1123Subdomain;
	if (md.name) for (const m of rule(md.name)) errs.push(field.invalid("metadata.name", md.name, m));
	if (md.generateName && !md.name) for (const m of rule(md.generateName + "a")) errs.push(field.invalid("metadata.generateName", md.generateName, m));
	if (rt.namespaced && !md.namespace) errs.push(field.required("metadata.namespace", ""));
	if (!rt.namespaced && md.namespace) errs.push(field.forbidden("metadata.namespace", "not allowed on this type"));
	for (const [k, v] of Object.entries(md.labels || {})) {
		for (const m of qualifiedName(k)) errs.push(field.invalid("metadata.labels", k, m));
		for (const m of labelValue(String(v))) errs.push(field.invalid("metadata.labels", v, m));
	}
	let asize = 0;
	for (const [k, v] of Object.entries(md.annotations || {})) {
		for (const m of qualifiedName(k.toLowerCase())) errs.push(field.invalid("metadata.annotations", k, m));
		asize += k.length + String(v).length;
	}
	if (asize > 262144) errs.push({ type: "FieldValueTooLong", field: "metadata.annotations", message: "Too long: must have at most 262144 bytes" });
	(md.ownerReferences || []).forEach((o, i) => {
		for (const k of ["apiVersion", "kind", "name", "uid"]) if (!o[k]) errs.push(field.invalid(`metadata.ownerReferences[${i}].${k}`, o[k] || "", `${k} must not be empty`));
	});
	if ((md.ownerReferences || []).filter((o) => o.controller).length > 1) errs.push(field.invalid("metadata.ownerReferences", "", "Only one reference can have Controller set to true"));
	(md.finalizers || []).forEach((f, i) => {
		for (const m of qualifiedName(f)) errs.push(field.invalid(`metadata.finalizers[${i}]`, f, m));
	});
}

function dataKeys(obj, errs, max) {
	let size = 0;
	for (const k of ["data", "stringData", "binaryData"])
		for (const [key, v] of Object.entries(obj[k] || {})) {
			for (const m of configKey(key)) errs.push(field.invalid(`${k}[${key}]`, key, m));
			size += String(v).length;
		}
	if (size > max) errs.push({ type: "FieldValueTooLong", field: "data", message: `Too long: must have at most ${max} bytes` });
}

const KIND_RULES = {
	pods(obj, errs) {
		validatePodSpec(obj.spec, "spec", errs);
	},
	secrets(obj, errs) {
		dataKeys(obj, errs, 1048576);
		if (obj.type === "kubernetes.io/dockerconfigjson") {
			const raw = obj.data?.[".dockerconfigjson"];
			if (raw === undefined) errs.push(field.required("data[.dockerconfigjson]", ""));
			else
				try {
					JSON.parse(Buffer.from(raw, "base64").toString());
				} catch (e) {
					errs.push(field.invalid("data[.dockerconfigjson]", "<secret contents redacted>", e.message));
				}
		}
	},
	configmaps(obj, errs) {
		dataKeys(obj, errs, 1048576);
	},
	persistentvolumeclaims(obj, errs) {
		const s = obj.spec || {};
		if (!(s.accessModes || []).length && !s.dataSource) errs.push(field.required("spec.accessModes", "at least 1 access mode is required"));
		(s.accessModes || []).forEach((m) => {
			if (!["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"].includes(m)) errs.push(field.notSupported("spec.accessModes", m, ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]));
		});
		if (s.resources?.requests?.storage === undefined) errs.push(field.required("spec.resources[storage]", ""));
	},
	services(obj, errs) {
		const s = obj.spec || {};
		if (s.type !== "ExternalName" && !(s.ports || []).length && s.clusterIP !== "None") errs.push(field.required("spec.ports", ""));
		(s.ports || []).forEach((p, i) => {
			if (!(p.port >= 1 && p.port <= 65535)) errs.push(field.invalid(`spec.ports[${i}].port`, p.port, "must be between 1 and 65535, inclusive"));
			if ((s.ports || []).length > 1 && !p.name) errs.push(field.required(`spec.ports[${i}].name`, ""));
		});
		if (s.type !== undefined && !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].includes(s.type)) errs.push(field.notSupported("spec.type", s.type, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]));
	},
	deployments(obj, errs) {
		const s = obj.spec || {};
		if (s.replicas !== undefined && s.replicas < 0) errs.push(field.invalid("spec.replicas", s.replicas, "must be greater than or equal to 0"));
		if (s.selector && s.template) {
			const reqs = fromLabelSelector(s.selector);
			if (reqs.length === 0) errs.push(field.invalid("spec.selector", "", "empty selector is invalid for deployment"));
			if (!matchLabels(reqs, s.template.metadata?.labels)) errs.push(field.invalid("spec.template.metadata.labels", "", "`selector` does not match template `labels`"));
		}
		if (s.template) {
			validatePodSpec(s.template.spec, "spec.template.spec", errs, { template: true });
			const rp = s.template.spec?.restartPolicy;
			if (rp !== undefined && rp !== "Always") errs.push(field.notSupported("spec.template.spec.restartPolicy", rp, ["Always"]));
		}
	},
	rolebindings(obj, errs) {
		roleRef(obj, errs, ["Role", "ClusterRole"]);
	},
	clusterrolebindings(obj, errs) {
		roleRef(obj, errs, ["ClusterRole"]);
	},
	runtimeclasses(obj, errs) {
		if (obj.handler) for (const m of dns1123Label(obj.handler)) errs.push(field.invalid("handler", obj.handler, m));
	},
	customresourcedefinitions(obj, errs) {
		const s = obj.spec || {};
		const n = s.names || {};
		if (obj.metadata?.name && n.plural && s.group && obj.metadata.name !== `${n.plural}.${s.group}`) errs.push(field.invalid("metadata.name", obj.metadata.name, 'must be spec.names.plural+"."+spec.group'));
		if (!s.group) errs.push(field.required("spec.group", ""));
		else if (s.group.split(".").length < 2) errs.push(field.invalid("spec.group", s.group, "should be a domain with at least one dot"));
		if (!["Namespaced", "Cluster"].includes(s.scope)) errs.push(field.notSupported("spec.scope", s.scope, ["Cluster", "Namespaced"]));
		for (const k of ["plural", "singular"]) if (n[k]) for (const m of dns1035Label(n[k])) errs.push(field.invalid(`spec.names.${k}`, n[k], m));
		if (!n.kind) errs.push(field.required("spec.names.kind", ""));
		if (!n.listKind && n.kind) n.listKind = n.kind + "List";
		const vs = s.versions || [];
		if (!vs.length) errs.push(field.invalid("spec.versions", vs, "must have exactly one version marked as storage version"));
		else if (vs.filter((v) => v.storage).length !== 1) errs.push(field.invalid("spec.versions", "", "must have exactly one version marked as storage version"));
		const seen = new Set();
		vs.forEach((v, i) => {
			for (const m of dns1035Label(v.name || "")) errs.push(field.invalid(`spec.versions[${i}].name`, v.name, m));
			if (seen.has(v.name)) errs.push(field.invalid(`spec.versions[${i}].name`, v.name, "must be unique"));
			seen.add(v.name);
			const sch = v.schema?.openAPIV3Schema;
			if (!sch) errs.push(field.required(`spec.versions[${i}].schema.openAPIV3Schema`, "schemas are required"));
			else {
				if (sch.type !== "object") errs.push(field.invalid(`spec.versions[${i}].schema.openAPIV3Schema.type`, sch.type, 'must be object at the root'));
				structuralErrors(sch, `spec.versions[${i}].schema.openAPIV3Schema`, errs);
			}
		});
	},
};

function roleRef(obj, errs, kinds) {
	const r = obj.roleRef || {};
	if (r.apiGroup !== "rbac.authorization.k8s.io") errs.push(field.notSupported("roleRef.apiGroup", r.apiGroup || "", ["rbac.authorization.k8s.io"]));
	if (!kinds.includes(r.kind)) errs.push(field.notSupported("roleRef.kind", r.kind || "", kinds));
	if (!r.name) errs.push(field.required("roleRef.name", ""));
	(obj.subjects || []).forEach((s, i) => {
		if (!["ServiceAccount", "User", "Group"].includes(s.kind)) errs.push(field.notSupported(`subjects[${i}].kind`, s.kind, ["Group", "ServiceAccount", "User"]));
		if (!s.name) errs.push(field.required(`subjects[${i}].name`, ""));
	});
}

export function validateBuiltin(rt, obj) {
	const errs = [];
	schemaErrors(rt, obj, errs);
	validateMeta(rt, obj, errs);
	const rule = KIND_RULES[rt.plural];
	if (rule) rule(obj, errs);
	return dedupe(errs);
}

// Update rules (immutable fields) for built-ins; old is the stored object.
export function validateBuiltinUpdate(rt, obj, old) {
	const errs = [];
	if (rt.plural === "pods") validatePodUpdate(obj, old, errs);
	if (rt.plural === "secrets" || rt.plural === "configmaps") {
		if (rt.plural === "secrets" && (obj.type || "Opaque") !== (old.type || "Opaque")) errs.push(field.invalid("type", obj.type, "field is immutable"));
		if (old.immutable) {
			if (JSON.stringify(obj.data || {}) !== JSON.stringify(old.data || {})) errs.push(field.forbidden("data", "field is immutable when `immutable` is set"));
			if (!obj.immutable) errs.push(field.forbidden("immutable", "field is immutable when `immutable` is set"));
		}
	}
	if (rt.plural === "persistentvolumeclaims") {
		const strip = (s) => {
			const c = structuredClone(s || {});
			delete c.resources;
			delete c.volumeName;
			delete c.volumeAttributesClassName;
			return JSON.stringify(sortKeys(c));
		};
		if (strip(obj.spec) !== strip(old.spec)) errs.push(field.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
	}
	if ((rt.plural === "rolebindings" || rt.plural === "clusterrolebindings") && JSON.stringify(obj.roleRef) !== JSON.stringify(old.roleRef))
		errs.push(field.invalid("roleRef", obj.roleRef, "cannot change roleRef"));
	if (rt.plural === "runtimeclasses" && obj.handler !== old.handler) errs.push(field.invalid("handler", obj.handler, "field is immutable"));
	if (rt.plural === "deployments" && JSON.stringify(obj.spec?.selector) !== JSON.stringify(old.spec?.selector)) errs.push(field.invalid("spec.selector", obj.spec?.selector, "field is immutable"));
	if (rt.plural === "customresourcedefinitions") {
		if (obj.spec?.group !== old.spec?.group) errs.push(field.invalid("spec.group", obj.spec?.group, "field is immutable"));
		if (obj.spec?.names?.plural !== old.spec?.names?.plural) errs.push(field.invalid("spec.names.plural", obj.spec?.names?.plural, "field is immutable"));
		if (obj.spec?.scope !== old.spec?.scope) errs.push(field.invalid("spec.scope", obj.spec?.scope, "field is immutable"));
	}
	return errs;
}

function dedupe(errs) {
	const seen = new Set();
	return errs.filter((e) => {
		const k = e.field + "|" + e.message;
		if (seen.has(k)) return false;
		seen.add(k);
		return true;
	});
}
