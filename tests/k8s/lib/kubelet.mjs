// SPDX-License-Identifier: Apache-2.0
// The kubelet (and the scheduler's binding) of the one emulated node: each
// pod runs as Docker containers. A holder container ("pause", the pause image
// sleeping) owns the pod's network and IPC namespaces; the pod's containers
// join them with --network container:<holder>, so the pod IP is the holder's
// address on the Docker network. Init containers run first, in order, each to
// completion; then the containers start, probes drive readiness, exits follow
// restartPolicy. Images are never pulled: a missing one leaves the pod Pending
// with ErrImagePull/ImagePullBackOff. Status and events are written as the
// kubelet writes them. Every Docker object carries the label
// k8s-emu.instance=<instance> and is removed at shutdown.
//
// Docker names: holder  k8s-emu-<instance>_POD_<pod>_<namespace>_<uid8>
//               others  k8s-emu-<instance>_<container>_<pod>_<namespace>_<uid8>
//               volumes k8s-emu-<instance>-<namespace>-<claim> (one per PVC)
import { rmSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { log } from "./log.mjs";
import { ApiError, errors } from "./status.mjs";
import { now } from "./objects.mjs";
import { NODE_NAME } from "./cluster.mjs";
import { unschedulable } from "./scheduler.mjs";
import { containerEnv, createBody, prepareVolumes, ConfigError, MountError } from "./kubelet_spec.mjs";
import { probeOnce } from "./probes.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TERMINAL = ["Succeeded", "Failed"];

export class Kubelet {
	constructor({ store, resources, recorder, docker, instance, stateDir, pauseImage, network, hostIP }) {
		Object.assign(this, { store, resources, recorder, docker, instance, pauseImage, network, hostIP });
		this.label = `k8s-emu.instance=${instance}`;
		this.podsDir = join(stateDir, "pods");
		this.pods = new Map(); // uid -> state
		this.unscheduled = new Set(); // "ns/name"
	}

	async start() {
		await this.removeAll();
		mkdirSync(this.podsDir, { recursive: true });
		this.runtimes = await this.docker.runtimes().catch(() => ["runc"]);
		this.store.on("change", (id, ev) => {
			if (id === "pods") this.onPod(ev);
			else if (id === "persistentvolumeclaims") this.onClaim(ev);
		});
		this.tick = setInterval(() => {
			for (const k of this.unscheduled) {
				const [ns, name] = k.split("/");
				this.schedule(ns, name);
			}
		}, 2000);
		this.tick.unref();
	}

	async shutdown() {
		clearInterval(this.tick);
		for (const st of this.pods.values()) this.stopLoops(st);
		await this.removeAll();
		rmSync(this.podsDir, { recursive: true, force: true });
	}

	async removeAll() {
		const cs = await this.docker.list(this.label);
		await Promise.all(cs.map((c) => this.docker.remove(c.Id).catch((e) => log.warn(e.message))));
		const vs = (await this.docker.volumes(this.label))?.Volumes || [];
		await Promise.all(vs.map((v) => this.docker.volumeRemove(v.Name).catch((e) => log.warn(e.message))));
		const imgs = await this.docker.images(this.label);
		for (const i of imgs) for (const t of i.RepoTags || [i.Id]) await this.docker.removeImage(t).catch((e) => log.warn(e.message));
		if (cs.length || vs.length) log.info(`removed ${cs.length} containers and ${vs.length} volumes of instance ${this.instance}`);
	}

	claimVolume(ns, claim) {
		return `k8s-emu-${this.instance}-${ns}-${claim}`;
	}

	lookup = (kind, ns, name) => this.store.peek(kind, ns, name);

	onClaim(ev) {
		const o = ev.object;
		const name = this.claimVolume(o.metadata.namespace, o.metadata.name);
		if (ev.type === "ADDED") this.docker.volumeCreate(name, { "k8s-emu.instance": this.instance, "k8s-emu.namespace": o.metadata.namespace, "k8s-emu.claim": o.metadata.name }).catch((e) => log.warn(`pvc ${name}: ${e.message}`));
		if (ev.type === "DELETED") this.docker.volumeRemove(name).catch((e) => log.warn(`pvc ${name}: ${e.message}`));
	}

	onPod(ev) {
		const pod = ev.object;
		const uid = pod.metadata.uid;
		const st = this.pods.get(uid);
		if (ev.type === "DELETED") {
			this.unscheduled.delete(`${pod.metadata.namespace}/${pod.metadata.name}`);
			if (st) this.kill(st);
			return;
		}
		if (!pod.spec.nodeName) {
			setImmediate(() => this.schedule(pod.metadata.namespace, pod.metadata.name));
			return;
		}
		if (pod.metadata.deletionTimestamp) {
			if (st && !st.terminating) this.terminate(st, pod.metadata.deletionGracePeriodSeconds ?? 30);
			else if (!st) setImmediate(() => this.finalDelete(pod.metadata.namespace, pod.metadata.name, uid));
			return;
		}
		if (!st && !TERMINAL.includes(pod.status?.phase)) {
			const s = this.newState(pod);
			this.pods.set(uid, s);
			this.run(s).catch((e) => log.error(`pod ${s.ns}/${s.name}: ${e.stack || e.message}`));
		}
	}

	schedule(ns, name) {
		const pod = this.store.get("pods", ns, name);
		const key = `${ns}/${name}`;
		if (!pod || pod.spec.nodeName || pod.metadata.deletionTimestamp) {
			this.unscheduled.delete(key);
			return;
		}
		const node = this.store.peek("nodes", "", NODE_NAME);
		const others = this.store.list("pods").filter((p) => p.spec.nodeName && !TERMINAL.includes(p.status?.phase));
		const why = unschedulable(pod, node, others, this.lookup);
		const conds = (pod.status.conditions || []).filter((c) => c.type !== "PodScheduled");
		if (why) {
			const prev = (pod.status.conditions || []).find((c) => c.type === "PodScheduled");
			this.unscheduled.add(key);
			if (prev && prev.message === why) return;
			pod.status.conditions = [...conds, { type: "PodScheduled", status: "False", lastProbeTime: null, lastTransitionTime: now(), reason: "Unschedulable", message: why }];
			this.store.update("pods", pod);
			this.recorder.record(pod, "Warning", "FailedScheduling", why, "default-scheduler");
			return;
		}
		this.unscheduled.delete(key);
		pod.spec.nodeName = NODE_NAME;
		pod.status.conditions = [...conds, { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: now() }];
		this.store.update("pods", pod);
		this.recorder.record(pod, "Normal", "Scheduled", `Successfully assigned ${ns}/${name} to ${NODE_NAME}`, "default-scheduler");
	}

	newState(pod) {
		const uid = pod.metadata.uid;
		const st = {
			uid,
			ns: pod.metadata.namespace,
			name: pod.metadata.name,
			dir: join(this.podsDir, uid),
			holder: null,
			ip: null,
			phase: "Pending",
			startTime: null,
			containers: new Map(),
			initDone: !(pod.spec.initContainers || []).length,
			stopped: false,
			terminating: false,
			conds: {},
			timers: new Set(),
			timings: { seen: Date.now() },
		};
		for (const c of pod.spec.initContainers || []) st.containers.set(c.name, this.newContainer(c, true));
		for (const c of pod.spec.containers || []) st.containers.set(c.name, this.newContainer(c, false));
		return st;
	}

	newContainer(c, init) {
		return { spec: c, init, id: null, restartCount: 0, state: { waiting: { reason: init ? "PodInitializing" : "ContainerCreating" } }, lastState: {}, ready: false, started: false, imageID: "" };
	}

	pod(st) {
		const p = this.store.get("pods", st.ns, st.name);
		return p && p.metadata.uid === st.uid ? p : null;
	}

	prefix(st) {
		return `k8s-emu-${this.instance}`;
	}
	containerName(st, c) {
		return `${this.prefix(st)}_${c}_${st.name}_${st.ns}_${st.uid.slice(0, 8)}`;
	}
	labels(st, c) {
		return { "k8s-emu.instance": this.instance, "io.kubernetes.pod.name": st.name, "io.kubernetes.pod.namespace": st.ns, "io.kubernetes.pod.uid": st.uid, "io.kubernetes.container.name": c, "io.kubernetes.docker.type": c === "POD" ? "podsandbox" : "container" };
	}

	delay(st, ms) {
		return new Promise((r) => {
			const t = setTimeout(() => {
				st.timers.delete(t);
				r();
			}, ms);
			st.timers.add(t);
		});
	}

	async run(st) {
		let pod = this.pod(st);
		if (!pod) return;
		if (!(await this.imagesPresent(st, pod))) return;
		pod = this.pod(st);
		if (!pod || st.stopped) return;
		let vols;
		for (let attempt = 0; ; attempt++) {
			try {
				vols = await prepareVolumes(pod, st.dir, { docker: this.docker, claimVolume: (n, c) => this.claimVolume(n, c), lookup: this.lookup });
				break;
			} catch (e) {
				if (!(e instanceof MountError)) throw e;
				this.recorder.record(pod, "Warning", "FailedMount", e.message);
				await this.delay(st, Math.min(2000 * (attempt + 1), 10000));
				pod = this.pod(st);
				if (!pod || st.stopped) return;
			}
		}
		st.vols = vols;
		if (!(await this.startHolder(st, pod))) return;
		this.writeStatus(st);
		for (const c of pod.spec.initContainers || []) {
			if (!(await this.runInit(st, c))) return;
		}
		st.initDone = true;
		for (const c of pod.spec.containers || []) {
			if (st.stopped || st.terminating) return;
			const cs = st.containers.get(c.name);
			await this.createAndStart(st, cs);
			this.watchExit(st, cs).catch((e) => log.error(`pod ${st.ns}/${st.name} ${c.name}: ${e.message}`));
		}
		if (!st.stopped && !st.terminating) {
			st.phase = "Running";
			this.writeStatus(st);
		}
	}

	async imagesPresent(st, pod) {
		const all = [...(pod.spec.initContainers || []), ...(pod.spec.containers || [])];
		for (let attempt = 0; !st.stopped; attempt++) {
			const missing = [];
			for (const c of all) {
				const img = await this.docker.imageInspect(c.image);
				if (img) st.containers.get(c.name).imageID = `docker-pullable://${c.image}@${img.Id}`;
				else missing.push(c);
			}
			if (!(await this.docker.imageInspect(this.pauseImage))) {
				this.recorder.record(pod, "Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: pause image "${this.pauseImage}" is not present on the node`);
				await this.delay(st, 5000);
				continue;
			}
			if (!missing.length) return true;
			const p = this.pod(st);
			if (!p) return false;
			for (const c of missing) {
				const cs = st.containers.get(c.name);
				const fp = `spec.${cs.init ? "initContainers" : "containers"}{${c.name}}`;
				if (attempt === 0) {
					this.recorder.record(p, "Normal", "Pulling", `Pulling image "${c.image}"`, "kubelet", fp);
					this.recorder.record(p, "Warning", "Failed", `Failed to pull image "${c.image}": image "${c.image}" is not present on the node and this emulated node never pulls images`, "kubelet", fp);
					this.recorder.record(p, "Warning", "Failed", "Error: ErrImagePull", "kubelet", fp);
					cs.state = { waiting: { reason: "ErrImagePull", message: `image "${c.image}" is not present on the node (images are never pulled here)` } };
				} else {
					this.recorder.record(p, "Normal", "BackOff", `Back-off pulling image "${c.image}"`, "kubelet", fp);
					this.recorder.record(p, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet", fp);
					cs.state = { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${c.image}": ErrImagePull: image "${c.image}" is not present on the node` } };
				}
			}
			this.writeStatus(st);
			await this.delay(st, Math.min(2000 * 2 ** attempt, 20000));
		}
		return false;
	}

	async startHolder(st, pod) {
		const hostNetwork = !!pod.spec.hostNetwork;
		let runtime;
		const rcName = pod.spec.runtimeClassName;
		if (rcName) {
			// Admission refused pods of a missing class; one deleted since then
			// leaves the pod Pending, the sandbox retried with back-off (as the
			// kubelet's runtimeClassManager lookup does).
			let rc = this.store.peek("runtimeclasses.node.k8s.io", "", rcName);
			for (let attempt = 0; !rc; attempt++) {
				const msg = `Failed to create pod sandbox: runtimeclass.node.k8s.io "${rcName}" not found`;
				this.recorder.record(pod, "Warning", "FailedCreatePodSandBox", msg);
				st.holderError = msg;
				await this.delay(st, Math.min(2000 * 2 ** attempt, 20000));
				if (!this.pod(st) || st.stopped) return false;
				rc = this.store.peek("runtimeclasses.node.k8s.io", "", rcName);
			}
			if (rc.handler !== "runc" && !this.runtimes.includes(rc.handler)) {
				const msg = `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to get sandbox runtime: no runtime for "${rc.handler}" is configured`;
				this.recorder.record(pod, "Warning", "FailedCreatePodSandBox", msg);
				st.holderError = msg;
				return false;
			}
			if (rc.handler !== "runc") runtime = rc.handler;
		}
		st.runtime = runtime;
		const hostPorts = {};
		const exposed = {};
		for (const c of pod.spec.containers || []) for (const p of c.ports || []) exposed[`${p.containerPort}/${(p.protocol || "TCP").toLowerCase()}`] = {};
		for (const c of pod.spec.containers || []) for (const p of c.ports || []) if (p.hostPort) hostPorts[`${p.containerPort}/${(p.protocol || "TCP").toLowerCase()}`] = [{ HostIp: p.hostIP || "127.0.0.1", HostPort: String(p.hostPort) }];
		const body = {
			Image: this.pauseImage,
			Entrypoint: ["/bin/sleep"],
			Cmd: ["2147483647"],
			Hostname: hostNetwork ? undefined : pod.spec.hostname || pod.metadata.name,
			Domainname: pod.spec.subdomain ? `${pod.spec.subdomain}.${st.ns}.svc.cluster.local` : undefined,
			Labels: this.labels(st, "POD"),
			ExposedPorts: hostNetwork ? undefined : exposed,
			HostConfig: {
				NetworkMode: hostNetwork ? "host" : this.network,
				IpcMode: "shareable",
				PortBindings: hostNetwork ? undefined : hostPorts,
				ExtraHosts: (pod.spec.hostAliases || []).flatMap((a) => (a.hostnames || []).map((h) => `${h}:${a.ip}`)),
				Runtime: runtime,
			},
		};
		try {
			st.holder = await this.docker.create(this.containerName(st, "POD"), body);
			await this.docker.start(st.holder);
			const info = await this.docker.inspect(st.holder);
			st.ip = hostNetwork ? this.hostIP : info.NetworkSettings?.Networks?.[this.network]?.IPAddress || info.NetworkSettings?.IPAddress || "";
		} catch (e) {
			this.recorder.record(pod, "Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${e.daemonMessage || e.message}`);
			st.holderError = e.message;
			return false;
		}
		st.startTime = now();
		st.timings.sandboxReady = Date.now();
		return !st.stopped;
	}

	async runInit(st, c) {
		const cs = st.containers.get(c.name);
		const policy = this.pod(st)?.spec.restartPolicy || "Always";
		for (;;) {
			if (st.stopped || st.terminating) return false;
			if (!cs.id) await this.createAndStart(st, cs);
			else await this.restart(st, cs);
			const code = cs.startError ? 128 : await this.docker.wait(cs.id).catch(() => -1);
			if (st.stopped || st.terminating) return false;
			await this.recordExit(st, cs, code);
			if (code === 0) {
				this.writeStatus(st);
				return true;
			}
			if (policy === "Never") {
				st.phase = "Failed";
				this.writeStatus(st);
				this.docker.kill(st.holder).catch(() => {});
				return false;
			}
			await this.backOff(st, cs);
		}
	}

	async createAndStart(st, cs) {
		const c = cs.spec;
		const fp = `spec.${cs.init ? "initContainers" : "containers"}{${c.name}}`;
		for (let attempt = 0; ; attempt++) {
			const pod = this.pod(st);
			if (!pod || st.stopped || st.terminating) return;
			let env;
			try {
				env = containerEnv(pod, c, this.lookup);
			} catch (e) {
				if (!(e instanceof ConfigError)) throw e;
				cs.state = { waiting: { reason: "CreateContainerConfigError", message: e.message } };
				this.recorder.record(pod, "Warning", "Failed", `Error: ${e.message}`, "kubelet", fp);
				this.writeStatus(st);
				await this.delay(st, Math.min(2000 * (attempt + 1), 10000));
				continue;
			}
			this.recorder.record(pod, "Normal", "Pulled", `Container image "${c.image}" already present on machine`, "kubelet", fp);
			try {
				const body = createBody(pod, c, { holderId: st.holder, vols: st.vols, env, labels: this.labels(st, c.name), runtime: st.runtime, hostNetwork: !!pod.spec.hostNetwork });
				cs.id = await this.docker.create(this.containerName(st, c.name), body);
				if (st.stopped) {
					await this.docker.remove(cs.id).catch(() => {});
					return;
				}
			} catch (e) {
				cs.state = { waiting: { reason: "CreateContainerError", message: e.daemonMessage || e.message } };
				this.recorder.record(pod, "Warning", "Failed", `Error: ${e.daemonMessage || e.message}`, "kubelet", fp);
				this.writeStatus(st);
				await this.delay(st, Math.min(2000 * (attempt + 1), 10000));
				continue;
			}
			this.recorder.record(pod, "Normal", "Created", `Created container: ${c.name}`, "kubelet", fp);
			await this.startContainer(st, cs, pod, fp);
			return;
		}
	}

	async startContainer(st, cs, pod, fp) {
		try {
			await this.docker.start(cs.id);
			cs.startError = null;
			cs.state = { running: { startedAt: now() } };
			cs.started = true;
			st.timings.firstContainerStarted ??= Date.now();
			this.recorder.record(pod, "Normal", "Started", `Started container ${cs.spec.name}`, "kubelet", fp);
			if (!cs.init) this.startProbes(st, cs);
		} catch (e) {
			const msg = e.daemonMessage || e.message;
			cs.startError = msg;
			cs.state = { terminated: { exitCode: 128, reason: "StartError", message: msg, startedAt: "1970-01-01T00:00:00Z", finishedAt: now(), containerID: `docker://${cs.id}` } };
			this.recorder.record(pod, "Warning", "Failed", `Error: ${msg}`, "kubelet", fp);
		}
		this.writeStatus(st);
	}

	async restart(st, cs) {
		const pod = this.pod(st);
		if (!pod) return;
		cs.restartCount++;
		await this.startContainer(st, cs, pod, `spec.${cs.init ? "initContainers" : "containers"}{${cs.spec.name}}`);
	}

	async recordExit(st, cs, code) {
		this.stopProbes(cs);
		cs.ready = false;
		if (cs.startError) return;
		let info = null;
		try {
			info = await this.docker.inspect(cs.id);
		} catch {}
		const t = {
			exitCode: code,
			reason: code === 0 ? "Completed" : info?.State?.OOMKilled ? "OOMKilled" : "Error",
			startedAt: info?.State?.StartedAt?.replace(/\.\d+Z$/, "Z") || now(),
			finishedAt: info?.State?.FinishedAt?.replace(/\.\d+Z$/, "Z") || now(),
			containerID: `docker://${cs.id}`,
		};
		cs.state = { terminated: t };
	}

	async backOff(st, cs) {
		const pod = this.pod(st);
		const secs = Math.min(10 * 2 ** Math.min(cs.restartCount, 5), 300);
		cs.lastState = { terminated: cs.state.terminated };
		cs.state = { waiting: { reason: "CrashLoopBackOff", message: `back-off ${secs}s restarting failed container=${cs.spec.name} pod=${st.name}_${st.ns}(${st.uid})` } };
		if (pod) this.recorder.record(pod, "Warning", "BackOff", `Back-off restarting failed container ${cs.spec.name} in pod ${st.name}_${st.ns}(${st.uid})`, "kubelet", `spec.${cs.init ? "initContainers" : "containers"}{${cs.spec.name}}`);
		this.writeStatus(st);
		await this.delay(st, secs * 1000);
	}

	async watchExit(st, cs) {
		while (!st.stopped && !st.terminating && cs.id) {
			const code = cs.startError ? 128 : await this.docker.wait(cs.id).catch(() => -1);
			if (st.stopped || st.terminating) return;
			await this.recordExit(st, cs, code);
			const policy = this.pod(st)?.spec.restartPolicy || "Always";
			if (!(policy === "Always" || (policy === "OnFailure" && code !== 0))) {
				this.writeStatus(st);
				this.checkTerminal(st);
				return;
			}
			await this.backOff(st, cs);
			if (st.stopped || st.terminating) return;
			await this.restart(st, cs);
		}
	}

	checkTerminal(st) {
		const main = [...st.containers.values()].filter((c) => !c.init);
		if (!main.every((c) => c.state.terminated)) return;
		st.phase = main.every((c) => c.state.terminated.exitCode === 0) ? "Succeeded" : "Failed";
		this.writeStatus(st);
		if (st.holder) this.docker.kill(st.holder).catch(() => {});
	}

	// --- probes ---
	startProbes(st, cs) {
		const c = cs.spec;
		cs.probe = { timers: new Set(), startupOk: !c.startupProbe };
		if (!c.readinessProbe) cs.ready = true;
		const loop = (probe, kind) => {
			let succ = 0, fail = 0;
			const tick = async () => {
				if (st.stopped || st.terminating || !cs.probe || cs.state.running === undefined) return;
				if (kind !== "startup" && !cs.probe.startupOk) return schedule(1000);
				const r = await probeOnce(probe, { ip: st.ip, container: c, docker: this.docker, containerId: cs.id });
				if (st.stopped || st.terminating || !cs.probe) return;
				const pod = this.pod(st);
				if (r.ok) {
					succ++;
					fail = 0;
					if (kind === "startup" && !cs.probe.startupOk) {
						cs.probe.startupOk = true;
						return;
					}
					if (kind === "readiness" && !cs.ready && succ >= (probe.successThreshold || 1)) {
						cs.ready = true;
						this.writeStatus(st);
					}
				} else {
					fail++;
					succ = 0;
					const label = { readiness: "Readiness", liveness: "Liveness", startup: "Startup" }[kind];
					if (pod) this.recorder.record(pod, "Warning", "Unhealthy", `${label} probe failed: ${r.message}`, "kubelet", `spec.containers{${c.name}}`);
					if (fail >= (probe.failureThreshold || 3)) {
						if (kind === "readiness" && cs.ready) {
							cs.ready = false;
							this.writeStatus(st);
						}
						if (kind !== "readiness") {
							if (pod) this.recorder.record(pod, "Normal", "Killing", `Container ${c.name} failed ${kind} probe, will be restarted`, "kubelet", `spec.containers{${c.name}}`);
							this.docker.kill(cs.id).catch(() => {});
							return;
						}
					}
				}
				schedule((probe.periodSeconds || 10) * 1000);
			};
			const schedule = (ms) => {
				if (!cs.probe) return;
				const t = setTimeout(() => {
					cs.probe?.timers.delete(t);
					tick().catch((e) => log.warn(`probe: ${e.message}`));
				}, ms);
				cs.probe.timers.add(t);
			};
			schedule((probe.initialDelaySeconds || 0) * 1000);
		};
		if (c.startupProbe) loop(c.startupProbe, "startup");
		if (c.readinessProbe) loop(c.readinessProbe, "readiness");
		if (c.livenessProbe) loop(c.livenessProbe, "liveness");
	}

	stopProbes(cs) {
		if (!cs.probe) return;
		for (const t of cs.probe.timers) clearTimeout(t);
		cs.probe = null;
	}

	stopLoops(st) {
		st.stopped = true;
		for (const t of st.timers) clearTimeout(t);
		for (const cs of st.containers.values()) this.stopProbes(cs);
	}

	// --- status ---
	cond(st, type, status, reason, message) {
		const prev = st.conds[type];
		if (!prev || prev.status !== status) st.conds[type] = { status, t: now() };
		const c = { type, status, lastProbeTime: null, lastTransitionTime: st.conds[type].t };
		if (reason) c.reason = reason;
		if (message) c.message = message;
		return c;
	}

	containerStatus(cs) {
		const s = { name: cs.spec.name, state: cs.state, lastState: cs.lastState, ready: cs.ready && !!cs.state.running, restartCount: cs.restartCount, image: cs.spec.image, imageID: cs.imageID, started: !!cs.state.running };
		if (cs.id) s.containerID = `docker://${cs.id}`;
		if (cs.init) delete s.started;
		return s;
	}

	writeStatus(st) {
		const pod = this.pod(st);
		if (!pod) return;
		const all = [...st.containers.values()];
		const init = all.filter((c) => c.init), main = all.filter((c) => !c.init);
		if (st.initDone || init.every((c) => c.state.terminated?.exitCode === 0)) {
			for (const c of main) if (c.state.waiting?.reason === "PodInitializing") c.state = { waiting: { reason: "ContainerCreating" } };
		}
		const terminal = TERMINAL.includes(st.phase);
		const unready = main.filter((c) => !(c.ready && c.state.running)).map((c) => c.spec.name);
		const incomplete = init.filter((c) => c.state.terminated?.exitCode !== 0).map((c) => c.spec.name);
		const ready = !terminal && st.phase === "Running" && unready.length === 0;
		const readyReason = terminal ? "PodCompleted" : "ContainersNotReady";
		const readyMsg = terminal ? undefined : `containers with unready status: [${unready.join(" ")}]`;
		const conditions = [
			this.cond(st, "PodReadyToStartContainers", st.holder && !terminal ? "True" : "False"),
			incomplete.length ? this.cond(st, "Initialized", "False", "ContainersNotInitialized", `containers with incomplete status: [${incomplete.join(" ")}]`) : this.cond(st, "Initialized", "True", terminal && init.length ? "PodCompleted" : undefined),
			ready ? this.cond(st, "Ready", "True") : this.cond(st, "Ready", "False", readyReason, readyMsg),
			ready ? this.cond(st, "ContainersReady", "True") : this.cond(st, "ContainersReady", "False", readyReason, readyMsg),
			...(pod.status.conditions || []).filter((c) => c.type === "PodScheduled"),
		];
		if (ready) st.timings.ready ??= Date.now();
		const status = { phase: st.phase, conditions, hostIP: this.hostIP, hostIPs: [{ ip: this.hostIP }] };
		if (st.ip) {
			status.podIP = st.ip;
			status.podIPs = [{ ip: st.ip }];
		}
		if (st.startTime) status.startTime = st.startTime;
		if (init.length) status.initContainerStatuses = init.map((c) => this.containerStatus(c));
		status.containerStatuses = main.map((c) => this.containerStatus(c));
		status.qosClass = pod.status.qosClass;
		if (JSON.stringify(status) === JSON.stringify(pod.status)) return;
		pod.status = status;
		this.store.update("pods", pod);
	}

	// --- deletion ---
	async terminate(st, grace) {
		st.terminating = true;
		for (const cs of st.containers.values()) this.stopProbes(cs);
		const pod = this.pod(st);
		const running = [...st.containers.values()].filter((c) => c.id && c.state.running);
		for (const cs of running) if (pod) this.recorder.record(pod, "Normal", "Killing", `Stopping container ${cs.spec.name}`, "kubelet", `spec.containers{${cs.spec.name}}`);
		await Promise.all(running.map((cs) => this.docker.stop(cs.id, grace).catch((e) => log.warn(e.message))));
		await this.cleanup(st);
		this.finalDelete(st.ns, st.name, st.uid);
	}

	finalDelete(ns, name, uid) {
		const p = this.store.peek("pods", ns, name);
		if (p && p.metadata.uid === uid) this.store.remove("pods", ns, name);
	}

	kill(st) {
		this.stopLoops(st);
		this.cleanup(st).catch((e) => log.warn(`pod ${st.ns}/${st.name} cleanup: ${e.message}`));
	}

	async cleanup(st) {
		this.stopLoops(st);
		const ids = [...st.containers.values()].map((c) => c.id).filter(Boolean);
		await Promise.all(ids.map((id) => this.docker.remove(id).catch(() => {})));
		if (st.holder) await this.docker.remove(st.holder).catch(() => {});
		// containers being created right now are found by label
		const left = await this.docker.list(`io.kubernetes.pod.uid=${st.uid}`).catch(() => []);
		await Promise.all(left.map((c) => this.docker.remove(c.Id).catch(() => {})));
		rmSync(st.dir, { recursive: true, force: true });
		this.pods.delete(st.uid);
	}

	// --- for the controller and the admin API ---
	containerId(uid, name) {
		return this.pods.get(uid)?.containers.get(name)?.id || null;
	}

	timings() {
		const out = [];
		for (const st of this.pods.values()) out.push({ namespace: st.ns, name: st.name, uid: st.uid, ...st.timings });
		return out;
	}

	// GET .../pods/NAME/log
	async logs(c, srv) {
		const q = c.query;
		const pod = this.store.get("pods", c.ns, c.name);
		if (!pod) throw errors.notFound(c.rt, c.name);
		const mains = (pod.spec.containers || []).map((x) => x.name), inits = (pod.spec.initContainers || []).map((x) => x.name);
		let name = q.get("container");
		if (!name) {
			const def = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
			if (mains.length === 1) name = mains[0];
			else if (def && mains.includes(def)) name = def;
			else throw new ApiError(400, `a container name must be specified for pod ${c.name}, choose one of: [${mains.join(" ")}]${inits.length ? ` or one of the init containers: [${inits.join(" ")}]` : ""}`, "BadRequest");
		}
		if (!mains.includes(name) && !inits.includes(name)) throw new ApiError(400, `container ${name} is not valid for pod ${c.name}`, "BadRequest");
		if (q.get("previous") === "true") throw new ApiError(400, `previous terminated container "${name}" in pod "${c.name}" not found`, "BadRequest");
		const st = this.pods.get(pod.metadata.uid);
		const cs = st?.containers.get(name);
		if (!cs || !cs.id) {
			const w = (pod.status.containerStatuses || []).concat(pod.status.initContainerStatuses || []).find((s) => s.name === name)?.state?.waiting?.reason || "ContainerCreating";
			throw new ApiError(400, `container "${name}" in pod "${c.name}" is waiting to start: ${w}`, "BadRequest");
		}
		const num = (k) => {
			const v = q.get(k);
			if (v === null) return undefined;
			if (!/^-?\d+$/.test(v)) throw new ApiError(400, `${k}: invalid value "${v}"`, "BadRequest");
			return Number(v);
		};
		const tail = num("tailLines");
		const sinceSeconds = num("sinceSeconds");
		const limitBytes = num("limitBytes");
		if (sinceSeconds !== undefined && sinceSeconds < 1) throw errors.invalid({ kind: "PodLogOptions" }, "", [{ type: "FieldValueInvalid", field: "sinceSeconds", message: `Invalid value: ${sinceSeconds}: must be greater than 0` }]);
		if (tail !== undefined && tail < 0) throw errors.invalid({ kind: "PodLogOptions" }, "", [{ type: "FieldValueInvalid", field: "tailLines", message: `Invalid value: ${tail}: must be greater than or equal to 0` }]);
		let since;
		if (sinceSeconds !== undefined) since = Date.now() / 1000 - sinceSeconds;
		else if (q.get("sinceTime")) since = Date.parse(q.get("sinceTime")) / 1000;
		const follow = q.get("follow") === "true";
		const stream = await this.docker.logs(cs.id, { tail, since, timestamps: q.get("timestamps") === "true", follow, tty: !!cs.spec.tty });
		const res = c.res;
		res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
		let sent = 0;
		stream.on("data", (d) => {
			if (limitBytes !== undefined) {
				if (sent >= limitBytes) return;
				d = d.subarray(0, limitBytes - sent);
			}
			sent += d.length;
			res.write(d);
			if (limitBytes !== undefined && sent >= limitBytes) stream.destroy();
		});
		const end = () => res.end();
		stream.on("end", end);
		stream.on("close", end);
		stream.on("error", end);
		res.on("close", () => stream.destroy());
	}
}
