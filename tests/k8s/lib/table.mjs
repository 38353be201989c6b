// SPDX-License-Identifier: Apache-2.0
// Server-side printing (meta.k8s.io/v1 Table), what kubectl get asks for with
// "Accept: application/json;as=Table;v=v1;g=meta.k8s.io". Columns follow the
// apiserver's printers for the kinds kubectl users look at; custom resources
// use their CRD's additionalPrinterColumns (simple JSONPath: .a.b[0].c and
// [?(@.k=="v")] filters); everything else gets Name and Age.

export function humanDuration(ms) {
	const s = Math.floor(ms / 1000);
	if (s < -1) return "<invalid>";
	if (s < 0) return "0s";
	if (s < 120) return `${s}s`;
	const m = Math.floor(s / 60);
	if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
	if (m < 180) return `${m}m`;
	const h = Math.floor(m / 60);
	if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
	if (h < 48) return `${h}h`;
	if (h < 192) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
	if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
	return `${Math.floor(h / 24 / 365)}y`;
}
const age = (t) => (t ? humanDuration(Date.now() - Date.parse(t)) : "<unknown>");

const col = (name, type = "string", priority = 0, format = "") => ({ name, type, format, description: name, priority });
const NAME = col("Name", "string", 0, "name");

function podStatus(p) {
	const st = p.status || {};
	let reason = st.reason || st.phase || "Unknown";
	const inits = p.spec?.initContainers || [];
	let initializing = false;
	(st.initContainerStatuses || []).forEach((c, i) => {
		if (initializing) return;
		const t = c.state?.terminated;
		if (t && t.exitCode === 0) return;
		initializing = true;
		if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
		else if (c.state?.waiting?.reason && c.state.waiting.reason !== "PodInitializing") reason = `Init:${c.state.waiting.reason}`;
		else reason = `Init:${i}/${inits.length}`;
	});
	if (!initializing) {
		let hasRunning = false;
		for (const c of [...(st.containerStatuses || [])].reverse()) {
			if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
			else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
			else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
			else if (c.state?.running && c.ready) hasRunning = true;
		}
		if (reason === "Completed" && hasRunning) reason = "Running";
	}
	if (p.metadata.deletionTimestamp) reason = "Terminating";
	return reason;
}

const PRINTERS = {
	pods: {
		columns: [NAME, col("Ready"), col("Status"), col("Restarts"), col("Age"), col("IP", "string", 1), col("Node", "string", 1), col("Nominated Node", "string", 1), col("Readiness Gates", "string", 1)],
		cells: (p) => {
			const cs = p.status?.containerStatuses || [];
			const ready = cs.filter((c) => c.ready).length;
			const restarts = cs.reduce((n, c) => n + (c.restartCount || 0), 0);
			return [p.metadata.name, `${ready}/${(p.spec?.containers || []).length}`, podStatus(p), String(restarts), age(p.metadata.creationTimestamp), p.status?.podIP || "<none>", p.spec?.nodeName || "<none>", "<none>", "<none>"];
		},
	},
	namespaces: { columns: [NAME, col("Status"), col("Age")], cells: (o) => [o.metadata.name, o.status?.phase || "", age(o.metadata.creationTimestamp)] },
	secrets: { columns: [NAME, col("Type"), col("Data", "string"), col("Age")], cells: (o) => [o.metadata.name, o.type || "", Object.keys(o.data || {}).length, age(o.metadata.creationTimestamp)] },
	configmaps: { columns: [NAME, col("Data", "string"), col("Age")], cells: (o) => [o.metadata.name, Object.keys(o.data || {}).length + Object.keys(o.binaryData || {}).length, age(o.metadata.creationTimestamp)] },
	events: {
		columns: [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Message")],
		cells: (e) => [age(e.lastTimestamp || e.eventTime || e.metadata.creationTimestamp), e.type || "", e.reason || "", `${(e.involvedObject?.kind || "").toLowerCase()}/${e.involvedObject?.name || ""}`, e.message || ""],
	},
	persistentvolumeclaims: {
		columns: [NAME, col("Status"), col("Volume"), col("Capacity"), col("Access Modes"), col("StorageClass"), col("VolumeAttributesClass"), col("Age")],
		cells: (o) => [o.metadata.name, o.status?.phase || "", o.spec?.volumeName || "", o.status?.capacity?.storage || "", (o.status?.accessModes || []).map((m) => ({ ReadWriteOnce: "RWO", ReadOnlyMany: "ROX", ReadWriteMany: "RWX", ReadWriteOncePod: "RWOP" })[m]).join(","), o.spec?.storageClassName || "<unset>", "<unset>", age(o.metadata.creationTimestamp)],
	},
	services: {
		columns: [NAME, col("Type"), col("Cluster-IP"), col("External-IP"), col("Port(s)"), col("Age")],
		cells: (o) => [o.metadata.name, o.spec?.type || "", o.spec?.clusterIP || "", "<none>", (o.spec?.ports || []).map((p) => `${p.port}/${p.protocol || "TCP"}`).join(",") || "<none>", age(o.metadata.creationTimestamp)],
	},
	deployments: {
		columns: [NAME, col("Ready"), col("Up-to-date", "integer"), col("Available", "integer"), col("Age")],
		cells: (o) => [o.metadata.name, `${o.status?.readyReplicas || 0}/${o.spec?.replicas ?? 1}`, o.status?.updatedReplicas || 0, o.status?.availableReplicas || 0, age(o.metadata.creationTimestamp)],
	},
	nodes: {
		columns: [NAME, col("Status"), col("Roles"), col("Age"), col("Version")],
		cells: (o) => [o.metadata.name, "Ready", "<none>", age(o.metadata.creationTimestamp), o.status?.nodeInfo?.kubeletVersion || ""],
	},
	runtimeclasses: { columns: [NAME, col("Handler"), col("Age")], cells: (o) => [o.metadata.name, o.handler, age(o.metadata.creationTimestamp)] },
	customresourcedefinitions: { columns: [NAME, col("Created At", "date")], cells: (o) => [o.metadata.name, o.metadata.creationTimestamp] },
};

export function jsonPath(obj, path) {
	const toks = [];
	const re = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*["']([^"']*)["']\)\]|\['([^']+)'\]/g;
	let m, last = 0;
	while ((m = re.exec(path))) {
		if (m.index !== last) return undefined;
		last = re.lastIndex;
		if (m[1] !== undefined) toks.push({ k: m[1] });
		else if (m[2] !== undefined) toks.push({ i: Number(m[2]) });
		else if (m[3] !== undefined) toks.push({ f: m[3], v: m[4] });
		else toks.push({ k: m[5] });
	}
	let cur = obj;
	for (const t of toks) {
		if (cur == null) return undefined;
		if (t.k !== undefined) cur = cur[t.k];
		else if (t.i !== undefined) cur = Array.isArray(cur) ? cur[t.i] : undefined;
		else cur = Array.isArray(cur) ? cur.find((x) => String(x?.[t.f]) === t.v) : undefined;
	}
	return cur;
}

function crdPrinter(rt) {
	const cols = rt.crd.columns || [];
	if (!cols.length) return { columns: [NAME, col("Age", "date")], cells: (o) => [o.metadata.name, age(o.metadata.creationTimestamp)] };
	return {
		columns: [NAME, ...cols.map((c) => ({ name: c.name, type: c.type, format: c.format || "", description: c.description || "", priority: c.priority || 0 }))],
		cells: (o) =>
			[o.metadata.name].concat(
				cols.map((c) => {
					const v = jsonPath(o, c.jsonPath);
					if (v === undefined || v === null) return null;
					if (c.type === "date") return age(v);
					if (c.type === "string" && typeof v !== "string") return JSON.stringify(v);
					return v;
				}),
			),
	};
}

// items: objects; opts: {headers: bool, query (includeObject), rv}
export function toTable(rt, items, opts = {}) {
	const pr = rt.crd ? crdPrinter(rt) : PRINTERS[rt.plural] || { columns: [NAME, col("Age")], cells: (o) => [o.metadata.name, age(o.metadata.creationTimestamp)] };
	const include = opts.query?.get?.("includeObject") || "Metadata";
	const t = {
		kind: "Table",
		apiVersion: "meta.k8s.io/v1",
		metadata: { resourceVersion: opts.rv || "" },
		columnDefinitions: opts.headers === false ? null : pr.columns,
		rows: items.map((o) => {
			const row = { cells: pr.cells(o) };
			if (include === "Object") row.object = { ...o, apiVersion: rt.apiVersion, kind: rt.kind };
			else if (include === "Metadata") row.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
			return row;
		}),
	};
	if (opts.continue) t.metadata.continue = opts.continue;
	if (opts.remaining !== undefined) t.metadata.remainingItemCount = opts.remaining;
	return t;
}
