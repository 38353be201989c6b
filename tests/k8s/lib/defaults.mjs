// SPDX-License-Identifier: Apache-2.0
// Defaulting of built-in kinds on create and update (the subset of the
// apiserver's SetDefaults_* and admission defaults that clients see), and
// the status a new object starts with.
import { randomBytes } from "node:crypto";

function imagePullPolicy(image) {
	const ref = String(image || "");
	const last = ref.split("/").pop();
	if (last.includes("@")) return "IfNotPresent";
	const tag = last.includes(":") ? last.split(":").pop() : "";
	return !tag || tag === "latest" ? "Always" : "IfNotPresent";
}

function containerDefaults(c) {
	c.terminationMessagePath ??= "/dev/termination-log";
	c.terminationMessagePolicy ??= "File";
	c.imagePullPolicy ??= imagePullPolicy(c.image);
	c.resources ??= {};
	for (const p of c.ports || []) p.protocol ??= "TCP";
	for (const pr of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
		if (!pr) continue;
		pr.timeoutSeconds ??= 1;
		pr.periodSeconds ??= 10;
		pr.successThreshold ??= 1;
		pr.failureThreshold ??= 3;
		if (pr.httpGet) {
			pr.httpGet.path ??= "/";
			pr.httpGet.scheme ??= "HTTP";
		}
	}
	for (const e of c.env || []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= "v1";
	const lim = c.resources.limits;
	if (lim) {
		c.resources.requests ??= {};
		for (const [k, v] of Object.entries(lim)) c.resources.requests[k] ??= v;
	}
}

export function podSpecDefaults(spec) {
	if (!spec) return;
	spec.restartPolicy ??= "Always";
	spec.terminationGracePeriodSeconds ??= 30;
	spec.dnsPolicy ??= "ClusterFirst";
	spec.securityContext ??= {};
	spec.schedulerName ??= "default-scheduler";
	for (const c of spec.containers || []) containerDefaults(c);
	for (const c of spec.initContainers || []) containerDefaults(c);
	for (const v of spec.volumes || []) {
		if (v.hostPath) v.hostPath.type ??= "";
		if (v.secret) v.secret.defaultMode ??= 420;
		if (v.configMap) v.configMap.defaultMode ??= 420;
	}
}

function qosClass(spec) {
	const cs = [...(spec.containers || []), ...(spec.initContainers || [])];
	let anyReq = false, all = true;
	for (const c of cs) {
		const l = c.resources?.limits || {}, r = c.resources?.requests || {};
		if (Object.keys(l).length || Object.keys(r).length) anyReq = true;
		for (const k of ["cpu", "memory"]) if (l[k] === undefined || (r[k] !== undefined && String(r[k]) !== String(l[k]))) all = false;
	}
	if (!anyReq) return "BestEffort";
	return all ? "Guaranteed" : "Burstable";
}

export function randomSuffix(n = 5) {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789";
	const b = randomBytes(n);
	return [...b].map((x) => alphabet[x % alphabet.length]).join("");
}

let clusterIPs = 10;
// Called on create (after decoding, before validation).
export function createDefaults(rt, obj) {
	switch (rt.plural) {
		case "pods":
			podSpecDefaults(obj.spec);
			if (obj.spec) {
				obj.spec.serviceAccountName ??= "default";
				obj.spec.serviceAccount ??= obj.spec.serviceAccountName;
				obj.spec.enableServiceLinks ??= true;
				obj.spec.priority ??= 0;
				obj.spec.preemptionPolicy ??= "PreemptLowerPriority";
				obj.spec.tolerations ??= [];
				for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])
					if (!obj.spec.tolerations.some((t) => t.key === key)) obj.spec.tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
			}
			obj.status = { phase: "Pending", qosClass: qosClass(obj.spec || {}) };
			break;
		case "secrets":
			obj.type ??= "Opaque";
			if (obj.stringData) {
				obj.data ??= {};
				for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString("base64");
				delete obj.stringData;
			}
			break;
		case "persistentvolumeclaims":
			obj.spec ??= {};
			obj.spec.volumeMode ??= "Filesystem";
			obj.status = { phase: "Pending" };
			break;
		case "namespaces":
			obj.metadata.labels = { ...(obj.metadata.labels || {}), "kubernetes.io/metadata.name": obj.metadata.name };
			obj.spec = { finalizers: ["kubernetes"] };
			obj.status = { phase: "Active" };
			break;
		case "services": {
			obj.spec ??= {};
			obj.spec.type ??= "ClusterIP";
			obj.spec.sessionAffinity ??= "None";
			if (obj.spec.type !== "ExternalName" && obj.spec.clusterIP !== "None" && !obj.spec.clusterIP) {
				clusterIPs++;
				obj.spec.clusterIP = `10.96.${(clusterIPs >> 8) & 255}.${clusterIPs & 255}`;
			}
			if (obj.spec.clusterIP) obj.spec.clusterIPs ??= [obj.spec.clusterIP];
			obj.spec.ipFamilies ??= ["IPv4"];
			obj.spec.ipFamilyPolicy ??= "SingleStack";
			obj.spec.internalTrafficPolicy ??= "Cluster";
			for (const p of obj.spec.ports || []) {
				p.protocol ??= "TCP";
				p.targetPort ??= p.port;
			}
			obj.status = { loadBalancer: {} };
			break;
		}
		case "deployments":
			obj.spec ??= {};
			obj.spec.replicas ??= 1;
			obj.spec.revisionHistoryLimit ??= 10;
			obj.spec.progressDeadlineSeconds ??= 600;
			obj.spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } };
			podSpecDefaults(obj.spec.template?.spec);
			obj.status = {};
			break;
		case "events":
			obj.count ??= 1;
			obj.type ??= "Normal";
			obj.reportingComponent ??= "";
			obj.reportingInstance ??= "";
			break;
		case "customresourcedefinitions":
			obj.spec.names.listKind ??= obj.spec.names.kind + "List";
			obj.spec.names.singular ??= obj.spec.names.kind?.toLowerCase();
			obj.spec.conversion ??= { strategy: "None" };
			obj.status = {};
			break;
	}
}

// Called on update (the new object, before validation).
export function updateDefaults(rt, obj) {
	if (rt.plural === "pods") podSpecDefaults(obj.spec);
	if (rt.plural === "deployments") podSpecDefaults(obj.spec?.template?.spec);
	if (rt.plural === "secrets" && obj.stringData) {
		obj.data ??= {};
		for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString("base64");
		delete obj.stringData;
	}
	if (rt.plural === "namespaces") obj.metadata.labels = { ...(obj.metadata.labels || {}), "kubernetes.io/metadata.name": obj.metadata.name };
}
