// SPDX-License-Identifier: Apache-2.0
// The BatchSandbox controller (sandbox.opensandbox.io/v1alpha1), as upstream's CRD
// describes it: pods <name>-0..N-1 from spec.template (template labels and
// annotations, a controller ownerReference), status counts and phase (Pending
// until every pod is Ready, then Succeed; Failed when a pod fails or cannot be
// created), the annotation sandbox.opensandbox.io/endpoints (JSON array of pod
// IPs), spec.expireTime (the CR is deleted when it passes; its pods and
// Secrets go with it through the garbage collector), and spec.pause:
//   true:  Pausing -> docker commit of the main container ("sandbox", else the
//          first) -> pods deleted -> Paused (condition Paused=True)
//   false: (from Paused) Resuming -> pods recreated from the committed image -> Succeed
//   null:  nothing.
// Pod creation goes through the same admission as an API request, so a
// template the apiserver would refuse fails here too (event FailedCreate).
import { log } from "./log.mjs";
import { now } from "./objects.mjs";

const ID = "batchsandboxes.sandbox.opensandbox.io";
const ENDPOINTS = "sandbox.opensandbox.io/endpoints";
const SNAPSHOT = "sandbox.opensandbox.io/paused-image";
const MAX_TIMER = 86400000;

export class Controller {
	constructor({ store, resources, recorder, docker, kubelet, instance, rest }) {
		Object.assign(this, { store, resources, recorder, docker, kubelet, instance, rest });
		this.queue = new Map(); // key -> {running, again}
		this.timers = new Map();
		store.on("change", (id, ev) => {
			const o = ev.object;
			if (id === ID) {
				if (ev.type === "DELETED") this.forget(o);
				else this.enqueue(o.metadata.namespace, o.metadata.name);
			} else if (id === "pods") {
				const owner = (o.metadata.ownerReferences || []).find((r) => r.controller && r.kind === "BatchSandbox");
				if (owner) this.enqueue(o.metadata.namespace, owner.name);
			}
		});
	}

	stop() {
		for (const t of this.timers.values()) clearTimeout(t);
		this.stopped = true;
	}

	rt() {
		return this.resources.byId(ID);
	}

	enqueue(ns, name) {
		const key = `${ns}/${name}`;
		const q = this.queue.get(key);
		if (q) {
			q.again = true;
			return;
		}
		const entry = { again: false };
		this.queue.set(key, entry);
		setImmediate(async () => {
			do {
				entry.again = false;
				try {
					await this.reconcile(ns, name);
				} catch (e) {
					log.error(`batchsandbox ${key}: ${e.stack || e.message}`);
				}
			} while (entry.again && !this.stopped);
			this.queue.delete(key);
		});
	}

	forget(o) {
		const key = `${o.metadata.namespace}/${o.metadata.name}`;
		clearTimeout(this.timers.get(key));
		this.timers.delete(key);
		const img = o.metadata.annotations?.[SNAPSHOT];
		if (img) setTimeout(() => this.docker.removeImage(img).catch(() => {}), 2000);
	}

	owned(bs) {
		return this.store.list("pods", bs.metadata.namespace).filter((p) => (p.metadata.ownerReferences || []).some((r) => r.uid === bs.metadata.uid));
	}

	mainContainer(spec) {
		const cs = spec?.containers || [];
		return cs.find((c) => c.name === "sandbox") || cs[0];
	}

	expiry(bs) {
		const key = `${bs.metadata.namespace}/${bs.metadata.name}`;
		clearTimeout(this.timers.get(key));
		this.timers.delete(key);
		const at = bs.spec?.expireTime ? Date.parse(bs.spec.expireTime) : NaN;
		if (Number.isNaN(at)) return false;
		const left = at - Date.now();
		if (left <= 0) {
			log.info(`batchsandbox ${key}: expired at ${bs.spec.expireTime}, deleting`);
			try {
				this.rest.deleteOne(this.rt(), bs.metadata.namespace, bs.metadata.name, { propagationPolicy: "Background" });
			} catch (e) {
				if (e.code !== 404) log.warn(`batchsandbox ${key}: delete: ${e.message}`);
			}
			return true;
		}
		this.timers.set(key, setTimeout(() => this.enqueue(bs.metadata.namespace, bs.metadata.name), Math.min(left + 50, MAX_TIMER)));
		return false;
	}

	podFromTemplate(bs, i, image) {
		const t = structuredClone(bs.spec.template || {});
		const spec = t.spec || {};
		if (image) {
			const main = this.mainContainer(spec);
			if (main) main.image = image;
		}
		return {
			apiVersion: "v1",
			kind: "Pod",
			metadata: {
				name: `${bs.metadata.name}-${i}`,
				labels: { ...(t.metadata?.labels || {}) },
				annotations: t.metadata?.annotations && Object.keys(t.metadata.annotations).length ? { ...t.metadata.annotations } : undefined,
				ownerReferences: [{ apiVersion: bs.apiVersion, kind: "BatchSandbox", name: bs.metadata.name, uid: bs.metadata.uid, controller: true, blockOwnerDeletion: true }],
			},
			spec,
		};
	}

	createPod(bs, i, image) {
		const pod = this.podFromTemplate(bs, i, image);
		const podsRt = this.resources.get("", "v1", "pods");
		try {
			this.rest.create({ rt: podsRt, ns: bs.metadata.namespace, query: new URLSearchParams(), body: Buffer.from(JSON.stringify(pod)), contentType: "application/json", warnings: [] });
			this.recorder.record(bs, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, "batchsandbox-controller");
			return null;
		} catch (e) {
			if (e.code === 409) return null;
			const msg = `Error creating: ${e.message}`;
			this.recorder.record(bs, "Warning", "FailedCreate", msg, "batchsandbox-controller");
			return msg;
		}
	}

	deletePod(p, grace) {
		try {
			this.rest.deleteOne(this.resources.get("", "v1", "pods"), p.metadata.namespace, p.metadata.name, grace === undefined ? {} : { gracePeriodSeconds: grace });
		} catch (e) {
			if (e.code !== 404) log.warn(`delete pod ${p.metadata.name}: ${e.message}`);
		}
	}

	podReady(p) {
		return (p.status?.conditions || []).some((c) => c.type === "Ready" && c.status === "True");
	}

	async reconcile(ns, name) {
		let bs = this.store.get(ID, ns, name);
		if (!bs || bs.metadata.deletionTimestamp || !this.rt()) return;
		if (this.expiry(bs)) return;
		const replicas = bs.spec?.replicas ?? 1;
		const pause = bs.spec?.pause;
		let phase = bs.status?.phase;
		let pods = this.owned(bs);
		const conds = {};
		for (const c of bs.status?.conditions || []) conds[c.type] = c;
		let createError = null;

		if (pause === true && phase !== "Paused") {
			if (replicas !== 1 && phase !== "Pausing") {
				conds.PauseFailed = { type: "PauseFailed", status: "True", reason: "UnsupportedReplicas", message: "pause needs replicas == 1" };
			} else if (!conds.PauseFailed || conds.PauseFailed.status !== "True" || bs.metadata.generation !== bs.status?.pauseObservedGeneration) {
				await this.pause(bs, pods, conds);
				return;
			}
		} else if (phase === "Paused" && pause !== false) {
			this.writeStatus(bs, pods, "Paused", conds);
			return;
		} else if (phase === "Paused" && pause === false) {
			phase = "Resuming";
			delete conds.ResumeFailed;
		}
		if (pause === false && phase === "Resuming" && !pods.length) {
			this.writeStatus(bs, pods, "Resuming", conds);
			bs = this.store.get(ID, ns, name);
		}
		if (bs.spec?.poolRef && !bs.spec?.template) {
			conds.Progressing = { type: "Progressing", status: "False", reason: "PoolNotEmulated", message: `pool ${bs.spec.poolRef}: pools are not emulated` };
			this.writeStatus(bs, pods, "Pending", conds);
			return;
		}
		// keep pods 0..replicas-1 (pods of a pause in progress are left alone)
		const image = phase === "Resuming" || (bs.metadata.annotations?.[SNAPSHOT] && pause === false) ? bs.metadata.annotations?.[SNAPSHOT] : undefined;
		const have = new Set(pods.map((p) => p.metadata.name));
		for (let i = 0; i < replicas; i++) if (!have.has(`${name}-${i}`)) createError ||= this.createPod(bs, i, image);
		for (const p of pods) {
			const idx = Number(p.metadata.name.slice(name.length + 1));
			if (!(idx < replicas) && !p.metadata.deletionTimestamp) this.deletePod(p);
		}
		pods = this.owned(bs);
		const live = pods.filter((p) => Number(p.metadata.name.slice(name.length + 1)) < replicas);
		const failed = live.find((p) => p.status?.phase === "Failed");
		const ready = live.filter((p) => this.podReady(p)).length;
		let next;
		if (createError) {
			next = "Failed";
			conds.PodFailed = { type: "PodFailed", status: "True", reason: "FailedCreate", message: createError.slice(0, 1024) };
		} else if (failed) {
			next = "Failed";
			const why = (failed.status.containerStatuses || []).concat(failed.status.initContainerStatuses || []).map((s) => s.state?.terminated).find((t) => t && t.exitCode !== 0);
			conds.PodFailed = { type: "PodFailed", status: "True", reason: "PodFailed", message: `pod ${failed.metadata.name} failed${why ? `: ${why.reason} (exit code ${why.exitCode})` : ""}` };
			if (phase === "Resuming") conds.ResumeFailed = { type: "ResumeFailed", status: "True", reason: "PodFailed", message: conds.PodFailed.message };
		} else {
			delete conds.PodFailed;
			if (ready === replicas && replicas > 0) {
				next = "Succeed";
				if (phase === "Resuming") conds.Paused = { type: "Paused", status: "False", reason: "Resumed", message: "the sandbox was resumed" };
			} else next = phase === "Resuming" ? "Resuming" : "Pending";
		}
		conds.Ready = ready === replicas && replicas > 0 ? { type: "Ready", status: "True", reason: "PodsReady", message: "" } : { type: "Ready", status: "False", reason: "PodsNotReady", message: `${ready}/${replicas} pods ready` };
		this.writeEndpoints(bs, live);
		this.writeStatus(this.store.get(ID, ns, name), pods, next, conds);
	}

	async pause(bs, pods, conds) {
		const { namespace: ns, name } = bs.metadata;
		const pod = pods.find((p) => p.metadata.name === `${name}-0`);
		if (bs.status?.phase !== "Pausing") this.writeStatus(bs, pods, "Pausing", conds);
		let image;
		if (pod) {
			const main = this.mainContainer(pod.spec);
			const id = main && this.kubelet.containerId(pod.metadata.uid, main.name);
			if (!id) {
				conds.PauseFailed = { type: "PauseFailed", status: "True", reason: "ContainerNotRunning", message: `the main container of pod ${pod.metadata.name} is not running` };
				const cur = this.store.get(ID, ns, name);
				if (cur) this.writeStatus(cur, pods, "Succeed", conds, { pauseObservedGeneration: cur.metadata.generation });
				return;
			}
			const repo = `k8s-emu-snapshot/${this.instance.toLowerCase()}`;
			const tag = `${ns}-${name}-g${bs.metadata.generation}`.toLowerCase().replace(/[^a-z0-9_.-]/g, "-").slice(0, 120);
			try {
				await this.docker.commit(id, repo, tag, `LABEL k8s-emu.instance=${this.instance}`);
				image = `${repo}:${tag}`;
			} catch (e) {
				conds.PauseFailed = { type: "PauseFailed", status: "True", reason: "CommitFailed", message: e.message };
				this.recorder.record(bs, "Warning", "PauseFailed", e.message, "batchsandbox-controller");
				const cur = this.store.get(ID, ns, name);
				if (cur) this.writeStatus(cur, pods, "Succeed", conds, { pauseObservedGeneration: cur.metadata.generation });
				return;
			}
		}
		let cur = this.store.get(ID, ns, name);
		if (!cur) return;
		if (image) {
			cur.metadata.annotations = { ...(cur.metadata.annotations || {}), [SNAPSHOT]: image };
			delete cur.metadata.annotations[ENDPOINTS];
			cur = this.store.update(ID, cur);
		}
		for (const p of this.owned(cur)) this.deletePod(p, 0);
		delete conds.PauseFailed;
		conds.Paused = { type: "Paused", status: "True", reason: "Paused", message: image ? `rootfs committed to ${image}` : "no pod was running" };
		conds.Ready = { type: "Ready", status: "False", reason: "Paused", message: "" };
		this.writeStatus(cur, [], "Paused", conds, { pauseObservedGeneration: cur.metadata.generation });
		this.recorder.record(cur, "Normal", "Paused", image ? `Paused; rootfs committed to ${image}` : "Paused", "batchsandbox-controller");
	}

	writeEndpoints(bs, pods) {
		const ips = pods
			.slice()
			.sort((a, b) => Number(a.metadata.name.slice(bs.metadata.name.length + 1)) - Number(b.metadata.name.slice(bs.metadata.name.length + 1)))
			.map((p) => p.status?.podIP)
			.filter(Boolean);
		const cur = bs.metadata.annotations?.[ENDPOINTS];
		const want = ips.length ? JSON.stringify(ips) : undefined;
		if (cur === want) return;
		const o = this.store.get(ID, bs.metadata.namespace, bs.metadata.name);
		if (!o) return;
		o.metadata.annotations = { ...(o.metadata.annotations || {}) };
		if (want) o.metadata.annotations[ENDPOINTS] = want;
		else delete o.metadata.annotations[ENDPOINTS];
		if (!Object.keys(o.metadata.annotations).length) delete o.metadata.annotations;
		this.store.update(ID, o);
	}

	writeStatus(bs, pods, phase, conds, extra = {}) {
		if (!bs) return;
		const t = now();
		const old = {};
		for (const c of bs.status?.conditions || []) old[c.type] = c;
		const conditions = Object.values(conds).map((c) => {
			const prev = old[c.type];
			const lt = prev && prev.status === c.status ? prev.lastTransitionTime : t;
			const out = { type: c.type, status: c.status, reason: c.reason || c.type, message: c.message || "", lastTransitionTime: lt };
			return out;
		});
		const status = {
			observedGeneration: bs.metadata.generation,
			replicas: pods.length,
			allocated: pods.filter((p) => p.spec.nodeName).length,
			ready: pods.filter((p) => this.podReady(p)).length,
			taskRunning: 0,
			taskSucceed: 0,
			taskFailed: 0,
			taskPending: 0,
			taskUnknown: 0,
			phase,
			conditions,
		};
		const pog = extra.pauseObservedGeneration ?? bs.status?.pauseObservedGeneration;
		if (pog !== undefined) status.pauseObservedGeneration = pog;
		if (JSON.stringify(status) === JSON.stringify(bs.status)) return;
		bs.status = status;
		this.store.update(ID, bs);
	}
}
