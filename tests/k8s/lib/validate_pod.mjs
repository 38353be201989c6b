// SPDX-License-Identifier: Apache-2.0
// The apiserver's pod spec rules that a JSON schema does not express (a subset
// of k8s.io/kubernetes/pkg/apis/core/validation ValidatePodSpec): container and
// volume names, mounts that name pod volumes, ports, env names and sources,
// probes, resources, enums. Each function appends field errors to errs.
import { field } from "./status.mjs";
import { dns1123Label, dns1123Subdomain, envVarName, ianaSvcName, parseQuantity, qualifiedName, labelValue } from "./names.mjs";

const VOLUME_SOURCES = ["hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image"];
const HOSTPATH_TYPES = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"];

function validPort(p) {
	return Number.isInteger(p) && p >= 1 && p <= 65535;
}

function probe(p, path, errs, c, { liveness }) {
	if (!p) return;
	const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => p[h] !== undefined);
	if (handlers.length === 0) errs.push(field.required(path, "must specify a handler type"));
	else if (handlers.length > 1) errs.push(field.forbidden(`${path}.${handlers[1]}`, "may not specify more than 1 handler type"));
	for (const k of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"])
		if (p[k] !== undefined && p[k] < 0) errs.push(field.invalid(`${path}.${k}`, p[k], "must be greater than or equal to 0"));
	if (liveness && p.successThreshold !== undefined && p.successThreshold !== 1) errs.push(field.invalid(`${path}.successThreshold`, p.successThreshold, "must be 1"));
	const port = (v, f) => {
		if (typeof v === "number") {
			if (!validPort(v)) errs.push(field.invalid(f, v, "must be between 1 and 65535, inclusive"));
		} else if (typeof v === "string") {
			const e = ianaSvcName(v);
			if (e.length) errs.push(field.invalid(f, v, e.join(", ")));
		} else errs.push(field.required(f, ""));
	};
	if (p.httpGet) {
		port(p.httpGet.port, `${path}.httpGet.port`);
		if (p.httpGet.scheme && !["HTTP", "HTTPS"].includes(p.httpGet.scheme)) errs.push(field.notSupported(`${path}.httpGet.scheme`, p.httpGet.scheme, ["HTTP", "HTTPS"]));
		(p.httpGet.httpHeaders || []).forEach((h, i) => {
			if (!h.name) errs.push(field.required(`${path}.httpGet.httpHeaders[${i}].name`, ""));
			else if (!/^[-!#$%&'*+.^_`|~0-9A-Za-z]+$/.test(h.name)) errs.push(field.invalid(`${path}.httpGet.httpHeaders[${i}].name`, h.name, "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"));
		});
	}
	if (p.tcpSocket) port(p.tcpSocket.port, `${path}.tcpSocket.port`);
	if (p.exec && !(p.exec.command || []).length) errs.push(field.required(`${path}.exec.command`, ""));
}

function container(c, path, errs, volumes, names, { init }) {
	if (!c.name) errs.push(field.required(`${path}.name`, ""));
	else {
		for (const m of dns1123Label(c.name)) errs.push(field.invalid(`${path}.name`, c.name, m));
		if (names.has(c.name)) errs.push(field.duplicate(`${path}.name`, c.name));
		names.add(c.name);
	}
	if (!c.image || !String(c.image).trim()) errs.push(field.required(`${path}.image`, ""));
	if (c.imagePullPolicy !== undefined && !["Always", "IfNotPresent", "Never"].includes(c.imagePullPolicy))
		errs.push(field.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, ["Always", "IfNotPresent", "Never"]));
	const portNames = new Set();
	(c.ports || []).forEach((p, i) => {
		const f = `${path}.ports[${i}]`;
		if (p.containerPort === undefined) errs.push(field.required(`${f}.containerPort`, ""));
		else if (!validPort(p.containerPort)) errs.push(field.invalid(`${f}.containerPort`, p.containerPort, "must be between 1 and 65535, inclusive"));
		if (p.hostPort !== undefined && p.hostPort !== 0 && !validPort(p.hostPort)) errs.push(field.invalid(`${f}.hostPort`, p.hostPort, "must be between 1 and 65535, inclusive"));
		if (p.protocol !== undefined && !["TCP", "UDP", "SCTP"].includes(p.protocol)) errs.push(field.notSupported(`${f}.protocol`, p.protocol, ["SCTP", "TCP", "UDP"]));
		if (p.name !== undefined) {
			for (const m of ianaSvcName(p.name)) errs.push(field.invalid(`${f}.name`, p.name, m));
			if (portNames.has(p.name)) errs.push(field.duplicate(`${f}.name`, p.name));
			portNames.add(p.name);
		}
	});
	(c.env || []).forEach((e, i) => {
		const f = `${path}.env[${i}]`;
		if (!e.name) errs.push(field.required(`${f}.name`, ""));
		else for (const m of envVarName(e.name)) errs.push(field.invalid(`${f}.name`, e.name, m));
		if (e.valueFrom) {
			const srcs = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"].filter((k) => e.valueFrom[k]);
			if (srcs.length === 0) errs.push(field.invalid(`${f}.valueFrom`, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
			else if (srcs.length > 1) errs.push(field.invalid(`${f}.valueFrom`, "", "may not have more than one field specified at a time"));
			if (e.value) errs.push(field.invalid(`${f}.valueFrom`, "", "may not be specified when `value` is not empty"));
			for (const k of ["configMapKeyRef", "secretKeyRef"]) if (e.valueFrom[k] && !e.valueFrom[k].key) errs.push(field.required(`${f}.valueFrom.${k}.key`, ""));
			if (e.valueFrom.fieldRef && !e.valueFrom.fieldRef.fieldPath) errs.push(field.required(`${f}.valueFrom.fieldRef.fieldPath`, ""));
		}
	});
	const mountPaths = new Set();
	(c.volumeMounts || []).forEach((m, i) => {
		const f = `${path}.volumeMounts[${i}]`;
		if (!m.name) errs.push(field.required(`${f}.name`, ""));
		else if (!volumes.has(m.name)) errs.push(field.notFound(`${f}.name`, m.name));
		if (!m.mountPath) errs.push(field.required(`${f}.mountPath`, ""));
		else {
			if (mountPaths.has(m.mountPath)) errs.push(field.invalid(`${f}.mountPath`, m.mountPath, "must be unique"));
			mountPaths.add(m.mountPath);
		}
		if (m.subPath) {
			if (m.subPath.startsWith("/")) errs.push(field.invalid(`${f}.subPath`, m.subPath, "must be a relative path"));
			if (m.subPath.split("/").includes("..")) errs.push(field.invalid(`${f}.subPath`, m.subPath, "must not contain '..'"));
		}
		if (m.subPath && m.subPathExpr) errs.push(field.invalid(`${f}.subPathExpr`, m.subPathExpr, "subPathExpr and subPath are mutually exclusive"));
	});
	const res = c.resources || {};
	for (const kind of ["limits", "requests"])
		for (const [k, q] of Object.entries(res[kind] || {})) {
			const n = parseQuantity(q);
			if (Number.isNaN(n)) errs.push(field.invalid(`${path}.resources.${kind}[${k}]`, q, "must be a valid quantity"));
			else if (n < 0) errs.push(field.invalid(`${path}.resources.${kind}[${k}]`, q, "must be greater than or equal to 0"));
			if (!k.includes("/") && !["cpu", "memory", "ephemeral-storage", "storage"].includes(k) && !k.startsWith("hugepages-"))
				errs.push(field.invalid(`${path}.resources.${kind}[${k}]`, k, "must be a standard resource type or fully qualified"));
		}
	for (const [k, q] of Object.entries(res.requests || {})) {
		const lim = (res.limits || {})[k];
		if (lim !== undefined && parseQuantity(q) > parseQuantity(lim)) errs.push(field.invalid(`${path}.resources.requests`, q, `must be less than or equal to ${k} limit of ${lim}`));
	}
	const sidecar = init && c.restartPolicy === "Always";
	if (init && !sidecar) {
		for (const k of ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"]) if (c[k]) errs.push(field.forbidden(`${path}.${k}`, "may not be set for init containers without restartPolicy=Always"));
	}
	if (c.restartPolicy !== undefined && !(init && c.restartPolicy === "Always")) errs.push(field.notSupported(`${path}.restartPolicy`, c.restartPolicy, init ? ["Always"] : []));
	probe(c.readinessProbe, `${path}.readinessProbe`, errs, c, { liveness: false });
	probe(c.livenessProbe, `${path}.livenessProbe`, errs, c, { liveness: true });
	probe(c.startupProbe, `${path}.startupProbe`, errs, c, { liveness: true });
	const sc = c.securityContext;
	if (sc?.privileged === true && sc?.allowPrivilegeEscalation === false) errs.push(field.invalid(`${path}.securityContext`, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
	if (sc?.runAsUser !== undefined && sc.runAsUser < 0) errs.push(field.invalid(`${path}.securityContext.runAsUser`, sc.runAsUser, "must be between 0 and 2147483647, inclusive"));
	if (c.terminationMessagePolicy !== undefined && !["File", "FallbackToLogsOnError"].includes(c.terminationMessagePolicy))
		errs.push(field.notSupported(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, ["File", "FallbackToLogsOnError"]));
}

export function validatePodSpec(spec, path, errs, { template = false } = {}) {
	if (!spec || typeof spec !== "object") {
		errs.push(field.required(path, ""));
		return;
	}
	const volumes = new Set();
	(spec.volumes || []).forEach((v, i) => {
		const f = `${path}.volumes[${i}]`;
		if (!v.name) errs.push(field.required(`${f}.name`, ""));
		else {
			for (const m of dns1123Label(v.name)) errs.push(field.invalid(`${f}.name`, v.name, m));
			if (volumes.has(v.name)) errs.push(field.duplicate(`${f}.name`, v.name));
			volumes.add(v.name);
		}
		const srcs = VOLUME_SOURCES.filter((s) => v[s] !== undefined);
		if (srcs.length === 0) errs.push(field.required(f, "must specify a volume type"));
		else if (srcs.length > 1) errs.push(field.forbidden(`${f}.${srcs[1]}`, "may not specify more than 1 volume type"));
		if (v.hostPath) {
			if (!v.hostPath.path) errs.push(field.required(`${f}.hostPath.path`, ""));
			else if (v.hostPath.path.split("/").includes("..")) errs.push(field.invalid(`${f}.hostPath.path`, v.hostPath.path, "must not contain '..'"));
			if (v.hostPath.type !== undefined && !HOSTPATH_TYPES.includes(v.hostPath.type)) errs.push(field.notSupported(`${f}.hostPath.type`, v.hostPath.type, HOSTPATH_TYPES));
		}
		if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) errs.push(field.required(`${f}.persistentVolumeClaim.claimName`, ""));
		if (v.secret && !v.secret.secretName) errs.push(field.required(`${f}.secret.secretName`, ""));
		if (v.configMap && !v.configMap.name) errs.push(field.required(`${f}.configMap.name`, ""));
		if (v.emptyDir?.medium !== undefined && !["", "Memory", "HugePages"].includes(v.emptyDir.medium)) errs.push(field.notSupported(`${f}.emptyDir.medium`, v.emptyDir.medium, ["", "Memory", "HugePages"]));
	});
	const names = new Set();
	if (!spec.containers || spec.containers.length === 0) errs.push(field.required(`${path}.containers`, ""));
	(spec.initContainers || []).forEach((c, i) => container(c, `${path}.initContainers[${i}]`, errs, volumes, names, { init: true }));
	(spec.containers || []).forEach((c, i) => container(c, `${path}.containers[${i}]`, errs, volumes, names, { init: false }));
	const allowed = { restartPolicy: ["Always", "OnFailure", "Never"], dnsPolicy: ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"] };
	for (const [k, vals] of Object.entries(allowed)) if (spec[k] !== undefined && !vals.includes(spec[k])) errs.push(field.notSupported(`${path}.${k}`, spec[k], vals));
	if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0 && !template)
		errs.push(field.invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, "must be greater than or equal to 0"));
	if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds >= 1)) errs.push(field.invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, "must be between 1 and 2147483647, inclusive"));
	if (spec.runtimeClassName !== undefined) for (const m of dns1123Subdomain(spec.runtimeClassName)) errs.push(field.invalid(`${path}.runtimeClassName`, spec.runtimeClassName, m));
	if (spec.serviceAccountName) for (const m of dns1123Subdomain(spec.serviceAccountName)) errs.push(field.invalid(`${path}.serviceAccountName`, spec.serviceAccountName, m));
	if (spec.hostname) for (const m of dns1123Label(spec.hostname)) errs.push(field.invalid(`${path}.hostname`, spec.hostname, m));
	for (const [k, v] of Object.entries(spec.nodeSelector || {})) {
		for (const m of qualifiedName(k)) errs.push(field.invalid(`${path}.nodeSelector`, k, m));
		for (const m of labelValue(v)) errs.push(field.invalid(`${path}.nodeSelector`, v, m));
	}
	(spec.imagePullSecrets || []).forEach((s, i) => {
		if (!s.name) errs.push(field.required(`${path}.imagePullSecrets[${i}].name`, ""));
	});
	(spec.tolerations || []).forEach((t, i) => {
		if (t.operator !== undefined && !["Exists", "Equal"].includes(t.operator)) errs.push(field.notSupported(`${path}.tolerations[${i}].operator`, t.operator, ["Equal", "Exists"]));
		if (t.operator === "Exists" && t.value) errs.push(field.invalid(`${path}.tolerations[${i}].operator`, t.value, "value must be empty when `operator` is 'Exists'"));
		if (t.effect !== undefined && t.effect !== "" && !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(t.effect)) errs.push(field.notSupported(`${path}.tolerations[${i}].effect`, t.effect, ["NoExecute", "NoSchedule", "PreferNoSchedule"]));
	});
	if (spec.hostNetwork)
		[...(spec.containers || []), ...(spec.initContainers || [])].forEach((c) =>
			(c.ports || []).forEach((p) => {
				if (p.hostPort && p.hostPort !== p.containerPort) errs.push(field.invalid(`${path}.containers[0].ports[0].hostPort`, p.hostPort, "must match `containerPort` when `hostNetwork` is true"));
			}),
		);
}

// Pod update: the spec is immutable except for the fields ValidatePodUpdate lets through.
export function validatePodUpdate(next, old, errs) {
	const strip = (s) => {
		const c = structuredClone(s || {});
		for (const k of ["containers", "initContainers"]) (c[k] || []).forEach((x) => delete x.image);
		delete c.activeDeadlineSeconds;
		delete c.tolerations;
		delete c.terminationGracePeriodSeconds;
		return JSON.stringify(sortKeys(c));
	};
	if (strip(next.spec) !== strip(old.spec))
		errs.push(
			field.forbidden(
				"spec",
				"pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
			),
		);
}

export function sortKeys(v) {
	if (Array.isArray(v)) return v.map(sortKeys);
	if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
	return v;
}
