// SPDX-License-Identifier: Apache-2.0
// The control plane's small controllers and admission: built-in namespaces and
// their "default" service accounts, the node, admission checks (RuntimeClass,
// service account, namespace lifecycle), graceful deletion of pods and
// namespaces, ownerReference garbage collection (background; foreground and
// orphan through their finalizers), PVC binding, and an event TTL.
import { randomUUID } from "node:crypto";
import { ApiError } from "./status.mjs";
import { now } from "./objects.mjs";
import { log } from "./log.mjs";

export const NODE_NAME = "k8s-emu-node";
const PROTECTED_NS = new Set(["default", "kube-system", "kube-public"]);

export class Cluster {
	constructor({ store, resources, rest, nodeInfo, eventTtlMs = 3600000 }) {
		Object.assign(this, { store, resources, rest, nodeInfo, eventTtlMs });
		store.on("change", (id, ev) => this.onChange(id, ev));
		this.ttlTimer = setInterval(() => this.expireEvents(), 60000);
		this.ttlTimer.unref();
	}

	// Objects every cluster has at start.
	bootstrap(namespaces) {
		for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease", ...namespaces]) this.createNamespace(ns);
		const t = now();
		this.store.create("nodes", {
			kind: "Node",
			apiVersion: "v1",
			metadata: { name: NODE_NAME, uid: randomUUID(), creationTimestamp: t, labels: { "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux", "kubernetes.io/arch": this.nodeInfo.arch, "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": this.nodeInfo.arch } },
			spec: {},
			status: {
				addresses: [{ type: "InternalIP", address: this.nodeInfo.hostIP }, { type: "Hostname", address: NODE_NAME }],
				conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: t, lastTransitionTime: t }],
				nodeInfo: { kubeletVersion: "v1.32.4-k8s-emu", containerRuntimeVersion: "docker://emulated", operatingSystem: "linux", architecture: this.nodeInfo.arch, osImage: "k8s-emu", kernelVersion: "", kubeProxyVersion: "", machineID: "", systemUUID: "", bootID: "" },
				capacity: { cpu: "2", memory: "24Gi", pods: "110" },
				allocatable: { cpu: "2", memory: "24Gi", pods: "110" },
			},
		});
	}

	createNamespace(name) {
		if (this.store.peek("namespaces", "", name)) return;
		this.store.create("namespaces", {
			kind: "Namespace",
			apiVersion: "v1",
			metadata: { name, uid: randomUUID(), creationTimestamp: now(), labels: { "kubernetes.io/metadata.name": name } },
			spec: { finalizers: ["kubernetes"] },
			status: { phase: "Active" },
		});
	}

	// --- hooks called by rest.mjs ---
	admit(rt, obj, op, old) {
		if (rt.plural === "pods" && !rt.group && op === "create") {
			const rc = obj.spec?.runtimeClassName;
			if (rc && !this.store.peek("runtimeclasses.node.k8s.io", "", rc))
				throw new ApiError(403, `pods "${obj.metadata.name}" is forbidden: pod rejected: RuntimeClass "${rc}" not found`, "Forbidden", { name: obj.metadata.name, kind: "pods" });
			const sa = obj.spec?.serviceAccountName;
			if (sa && !this.store.peek("serviceaccounts", obj.metadata.namespace, sa))
				throw new ApiError(403, `pods "${obj.metadata.name}" is forbidden: error looking up service account ${obj.metadata.namespace}/${sa}: serviceaccount "${sa}" not found`, "Forbidden", { name: obj.metadata.name, kind: "pods" });
			const rcObj = rc && this.store.peek("runtimeclasses.node.k8s.io", "", rc);
			if (rcObj?.overhead?.podFixed) obj.spec.overhead = rcObj.overhead.podFixed;
		}
	}

	deleting(rt, o, opts) {
		if (rt.id === "pods") {
			const grace = opts.gracePeriodSeconds ?? o.spec?.terminationGracePeriodSeconds ?? 30;
			const terminal = ["Succeeded", "Failed"].includes(o.status?.phase);
			if (grace <= 0 || !o.spec?.nodeName || terminal) return null;
			const g = Math.max(1, grace);
			return { later: true, shorten: true, meta: { deletionTimestamp: new Date(Date.now() + g * 1000).toISOString().replace(/\.\d+Z$/, "Z"), deletionGracePeriodSeconds: g } };
		}
		if (rt.id === "namespaces") {
			if (PROTECTED_NS.has(o.metadata.name)) throw new ApiError(403, `namespaces "${o.metadata.name}" is forbidden: this namespace may not be deleted`, "Forbidden", { name: o.metadata.name, kind: "namespaces" });
			o.status = { ...(o.status || {}), phase: "Terminating" };
			setImmediate(() => this.finishNamespace(o.metadata.name));
			return { later: true, meta: { deletionTimestamp: now(), deletionGracePeriodSeconds: 0 } };
		}
		return null;
	}

	finalized() {
		return true;
	}

	finishNamespace(name) {
		for (const rt of this.resources.all()) {
			if (!rt.namespaced) continue;
			for (const o of this.store.list(rt.id, name)) this.store.remove(rt.id, name, o.metadata.name);
		}
		if (this.store.peek("namespaces", "", name)) this.store.remove("namespaces", "", name);
	}

	// --- controllers ---
	onChange(id, ev) {
		const o = ev.object;
		if (id === "namespaces" && ev.type === "ADDED") setImmediate(() => this.namespaceAdded(o.metadata.name));
		if (id === "persistentvolumeclaims" && ev.type === "ADDED") setImmediate(() => this.bindClaim(o.metadata.namespace, o.metadata.name));
		if ((id === "persistentvolumeclaims" && o.metadata.deletionTimestamp) || (id === "pods" && ev.type === "DELETED")) setImmediate(() => this.releaseClaims(o.metadata.namespace));
		if (ev.type === "DELETED") setImmediate(() => this.collect(o.metadata.uid));
		if (ev.type !== "DELETED" && o.metadata.deletionTimestamp && (o.metadata.finalizers || []).some((f) => f === "foregroundDeletion" || f === "orphan"))
			setImmediate(() => this.finalizeOwner(id, o.metadata.namespace, o.metadata.name));
	}

	namespaceAdded(ns) {
		const n = this.store.peek("namespaces", "", ns);
		if (!n || n.metadata.deletionTimestamp) return;
		if (!this.store.peek("serviceaccounts", ns, "default"))
			this.store.create("serviceaccounts", { kind: "ServiceAccount", apiVersion: "v1", metadata: { name: "default", namespace: ns, uid: randomUUID(), creationTimestamp: now() } });
	}

	bindClaim(ns, name) {
		const pvc = this.store.get("persistentvolumeclaims", ns, name);
		if (!pvc || pvc.status?.phase === "Bound") return;
		pvc.spec.volumeName = `pvc-${pvc.metadata.uid}`;
		pvc.spec.storageClassName ??= "standard";
		pvc.metadata.annotations = { ...(pvc.metadata.annotations || {}), "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes" };
		pvc.metadata.finalizers = [...new Set([...(pvc.metadata.finalizers || []), "kubernetes.io/pvc-protection"])];
		pvc.status = { phase: "Bound", accessModes: pvc.spec.accessModes, capacity: { storage: pvc.spec.resources?.requests?.storage } };
		this.store.update("persistentvolumeclaims", pvc);
	}

	// pvc-protection: a claim being deleted goes once no pod of its namespace uses it.
	releaseClaims(ns) {
		const pods = this.store.list("pods", ns);
		for (const pvc of this.store.list("persistentvolumeclaims", ns)) {
			if (!pvc.metadata.deletionTimestamp || !(pvc.metadata.finalizers || []).includes("kubernetes.io/pvc-protection")) continue;
			const used = pods.some((p) => (p.spec?.volumes || []).some((v) => v.persistentVolumeClaim?.claimName === pvc.metadata.name));
			if (used) continue;
			pvc.metadata.finalizers = pvc.metadata.finalizers.filter((f) => f !== "kubernetes.io/pvc-protection");
			if (!pvc.metadata.finalizers.length) this.store.remove("persistentvolumeclaims", ns, pvc.metadata.name);
			else this.store.update("persistentvolumeclaims", pvc);
		}
	}

	dependents(uid) {
		const out = [];
		for (const rt of this.resources.all()) {
			if (rt !== this.resources.byId(rt.id)) continue;
			for (const o of this.store.list(rt.id)) if ((o.metadata.ownerReferences || []).some((r) => r.uid === uid)) out.push([rt, o]);
		}
		return out;
	}

	exists(uid) {
		for (const rt of this.resources.all()) for (const o of this.store.list(rt.id)) if (o.metadata.uid === uid) return true;
		return false;
	}

	// Background deletion of the dependents of a deleted owner.
	collect(uid) {
		for (const [rt, o] of this.dependents(uid)) {
			const others = (o.metadata.ownerReferences || []).filter((r) => r.uid !== uid && this.exists(r.uid));
			if (others.length) continue;
			try {
				this.rest.deleteOne(rt, o.metadata.namespace, o.metadata.name, { propagationPolicy: "Background" });
				log.debug(`gc: deleted ${rt.id} ${o.metadata.namespace || ""}/${o.metadata.name} (owner ${uid} gone)`);
			} catch (e) {
				if (e.code !== 404) log.warn(`gc: ${rt.id} ${o.metadata.name}: ${e.message}`);
			}
		}
	}

	finalizeOwner(id, ns, name) {
		const o = this.store.get(id, ns, name);
		if (!o || !o.metadata.deletionTimestamp) return;
		const fins = o.metadata.finalizers || [];
		const deps = this.dependents(o.metadata.uid);
		if (fins.includes("orphan")) {
			for (const [rt, d] of deps) {
				d.metadata.ownerReferences = d.metadata.ownerReferences.filter((r) => r.uid !== o.metadata.uid);
				if (!d.metadata.ownerReferences.length) delete d.metadata.ownerReferences;
				this.store.update(rt.id, d);
			}
		} else if (fins.includes("foregroundDeletion")) {
			const blocking = deps.filter(([, d]) => d.metadata.ownerReferences.some((r) => r.uid === o.metadata.uid && r.blockOwnerDeletion));
			for (const [rt, d] of deps) {
				if (d.metadata.deletionTimestamp) continue;
				try {
					this.rest.deleteOne(rt, d.metadata.namespace, d.metadata.name, { propagationPolicy: "Foreground" });
				} catch {}
			}
			if (blocking.some(([rt, d]) => this.store.peek(rt.id, d.metadata.namespace, d.metadata.name))) {
				setTimeout(() => this.finalizeOwner(id, ns, name), 200);
				return;
			}
		}
		const cur = this.store.get(id, ns, name);
		if (!cur) return;
		cur.metadata.finalizers = (cur.metadata.finalizers || []).filter((f) => f !== "orphan" && f !== "foregroundDeletion");
		if (!cur.metadata.finalizers.length) this.store.remove(id, ns, name);
		else this.store.update(id, cur);
	}

	expireEvents() {
		const cutoff = Date.now() - this.eventTtlMs;
		for (const e of this.store.list("events")) if (Date.parse(e.lastTimestamp || e.metadata.creationTimestamp) < cutoff) this.store.remove("events", e.metadata.namespace, e.metadata.name);
	}
}
