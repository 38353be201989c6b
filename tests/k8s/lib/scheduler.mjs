// SPDX-License-Identifier: Apache-2.0
// Scheduling onto the one emulated node: nodeSelector, required node affinity,
// PVCs that must exist, and cpu/memory requests against what is left. Returns
// null when the pod fits, or the message a scheduler would put in the
// PodScheduled=False condition and the FailedScheduling event.
import { parseQuantity } from "./names.mjs";

function matchExpr(labels, e, name) {
	const v = e.key === "metadata.name" ? name : labels[e.key];
	switch (e.operator) {
		case "In": return v !== undefined && (e.values || []).includes(v);
		case "NotIn": return v === undefined || !(e.values || []).includes(v);
		case "Exists": return v !== undefined;
		case "DoesNotExist": return v === undefined;
		case "Gt": return v !== undefined && Number(v) > Number(e.values?.[0]);
		case "Lt": return v !== undefined && Number(v) < Number(e.values?.[0]);
		default: return false;
	}
}

function requests(pod) {
	let cpu = 0, mem = 0;
	for (const c of pod.spec?.containers || []) {
		cpu += parseQuantity(c.resources?.requests?.cpu ?? 0) || 0;
		mem += parseQuantity(c.resources?.requests?.memory ?? 0) || 0;
	}
	return { cpu, mem };
}

export function unschedulable(pod, node, others, lookup) {
	const labels = node.metadata.labels || {};
	const why = [];
	for (const v of pod.spec?.volumes || []) {
		const claim = v.persistentVolumeClaim?.claimName;
		if (claim && !lookup("persistentvolumeclaims", pod.metadata.namespace, claim)) return `0/1 nodes are available: persistentvolumeclaim "${claim}" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`;
	}
	let selectorOk = Object.entries(pod.spec?.nodeSelector || {}).every(([k, v]) => labels[k] === v);
	const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
	if (terms && terms.length)
		selectorOk &&= terms.some((t) => (t.matchExpressions || []).every((e) => matchExpr(labels, e, node.metadata.name)) && (t.matchFields || []).every((e) => matchExpr({}, e, node.metadata.name)));
	if (!selectorOk) why.push("1 node(s) didn't match Pod's node affinity/selector");
	const alloc = node.status.allocatable;
	const used = others.reduce((a, p) => {
		const r = requests(p);
		return { cpu: a.cpu + r.cpu, mem: a.mem + r.mem };
	}, { cpu: 0, mem: 0 });
	const r = requests(pod);
	if (r.cpu + used.cpu > parseQuantity(alloc.cpu)) why.push("1 Insufficient cpu");
	if (r.mem + used.mem > parseQuantity(alloc.memory)) why.push("1 Insufficient memory");
	if (!why.length) return null;
	return `0/1 nodes are available: ${why.join(", ")}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`;
}
