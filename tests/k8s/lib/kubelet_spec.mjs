// SPDX-License-Identifier: Apache-2.0
// From a pod's container spec to a Docker create body: environment (value,
// valueFrom, envFrom, $(VAR) expansion as the kubelet does it), command/args
// onto Entrypoint/Cmd, mounts (emptyDir, hostPath, PVC volumes with subPath,
// secret and configMap files), security context, resources, ports.
// Errors a kubelet reports as CreateContainerConfigError throw ConfigError.
import { mkdirSync, writeFileSync, existsSync, statSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseQuantity } from "./names.mjs";

export class ConfigError extends Error {}
export class MountError extends Error {}

// $(VAR) -> value when VAR is defined, $$ -> $, anything else stays.
export function expand(s, env) {
	return String(s).replace(/\$\$|\$\(([^)]*)\)/g, (m, name) => {
		if (m === "$$") return "$";
		return Object.prototype.hasOwnProperty.call(env, name) ? env[name] : m;
	});
}

function fieldRef(pod, path) {
	const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
	if (m) return pod.metadata[m[1]]?.[m[2]] ?? "";
	const v = {
		"metadata.name": pod.metadata.name,
		"metadata.namespace": pod.metadata.namespace,
		"metadata.uid": pod.metadata.uid,
		"spec.nodeName": pod.spec.nodeName,
		"spec.serviceAccountName": pod.spec.serviceAccountName,
		"status.podIP": pod.status?.podIP,
		"status.hostIP": pod.status?.hostIP,
		"status.podIPs": (pod.status?.podIPs || []).map((p) => p.ip).join(","),
		"status.hostIPs": (pod.status?.hostIPs || []).map((p) => p.ip).join(","),
	}[path];
	return v ?? "";
}

function resourceRef(c, ref) {
	const [kind, res] = ref.resource.split(".");
	const q = c.resources?.[kind]?.[res];
	const div = ref.divisor ? parseQuantity(ref.divisor) : 1;
	if (q === undefined) return res === "cpu" ? "2" : String(24 * 1024 ** 3);
	return String(Math.ceil(parseQuantity(q) / div));
}

// lookup(kind, ns, name) -> object or undefined (kind: "secrets" | "configmaps")
export function containerEnv(pod, c, lookup) {
	const env = {};
	const order = [];
	const set = (k, v) => {
		if (!(k in env)) order.push(k);
		env[k] = v;
	};
	const ns = pod.metadata.namespace;
	for (const src of c.envFrom || []) {
		const ref = src.configMapRef || src.secretRef;
		const kind = src.configMapRef ? "configmaps" : "secrets";
		const o = lookup(kind, ns, ref.name);
		if (!o) {
			if (ref.optional) continue;
			throw new ConfigError(`${kind === "secrets" ? "secret" : "configmap"} "${ref.name}" not found`);
		}
		for (const [k, v] of Object.entries(o.data || {})) set((src.prefix || "") + k, kind === "secrets" ? Buffer.from(v, "base64").toString() : v);
	}
	for (const e of c.env || []) {
		if (e.valueFrom) {
			const vf = e.valueFrom;
			if (vf.fieldRef) set(e.name, fieldRef(pod, vf.fieldRef.fieldPath));
			else if (vf.resourceFieldRef) set(e.name, resourceRef(c, vf.resourceFieldRef));
			else {
				const ref = vf.secretKeyRef || vf.configMapKeyRef;
				const kind = vf.secretKeyRef ? "secrets" : "configmaps";
				const o = lookup(kind, ns, ref.name);
				const what = kind === "secrets" ? "secret" : "configmap";
				if (!o) {
					if (ref.optional) continue;
					throw new ConfigError(`${what} "${ref.name}" not found`);
				}
				const raw = o.data?.[ref.key];
				if (raw === undefined) {
					if (ref.optional) continue;
					throw new ConfigError(`couldn't find key ${ref.key} in ${kind === "secrets" ? "Secret" : "ConfigMap"} ${ns}/${ref.name}`);
				}
				set(e.name, kind === "secrets" ? Buffer.from(raw, "base64").toString() : raw);
			}
		} else set(e.name, expand(e.value ?? "", env));
	}
	return { env, list: order.map((k) => `${k}=${env[k]}`) };
}

// Prepares the pod's volumes on the host; returns name -> {type: bind|volume|tmpfs, source, readOnly}
export async function prepareVolumes(pod, podDir, { docker, claimVolume, lookup }) {
	const out = {};
	for (const v of pod.spec.volumes || []) {
		const dir = join(podDir, "volumes", v.name);
		if (v.emptyDir) {
			if (v.emptyDir.medium === "Memory") out[v.name] = { type: "tmpfs", size: v.emptyDir.sizeLimit };
			else {
				mkdirSync(dir, { recursive: true });
				out[v.name] = { type: "bind", source: dir };
			}
		} else if (v.hostPath) {
			const p = v.hostPath.path, t = v.hostPath.type || "";
			const isDir = existsSync(p) && statSync(p).isDirectory();
			const isFile = existsSync(p) && statSync(p).isFile();
			if (t === "DirectoryOrCreate" && !existsSync(p)) mkdirSync(p, { recursive: true, mode: 0o755 });
			else if (t === "FileOrCreate" && !existsSync(p)) writeFileSync(p, "", { mode: 0o644 });
			else if (t === "Directory" && !isDir) throw new MountError(`MountVolume.SetUp failed for volume "${v.name}" : hostPath type check failed: ${p} is not a directory`);
			else if (t === "File" && !isFile) throw new MountError(`MountVolume.SetUp failed for volume "${v.name}" : hostPath type check failed: ${p} is not a file`);
			else if (t === "" && !existsSync(p)) mkdirSync(p, { recursive: true }); // docker would do the same
			out[v.name] = { type: "bind", source: p };
		} else if (v.persistentVolumeClaim) {
			const claim = v.persistentVolumeClaim.claimName;
			const pvc = lookup("persistentvolumeclaims", pod.metadata.namespace, claim);
			if (!pvc) throw new MountError(`persistentvolumeclaim "${claim}" not found`);
			const vol = await docker.volumeInspect(claimVolume(pod.metadata.namespace, claim));
			if (!vol) throw new MountError(`MountVolume.SetUp failed for volume "${v.name}" : volume for claim ${claim} is not ready`);
			out[v.name] = { type: "volume", source: vol.Name, mountpoint: vol.Mountpoint, readOnly: !!v.persistentVolumeClaim.readOnly };
		} else if (v.secret || v.configMap) {
			const kind = v.secret ? "secrets" : "configmaps";
			const name = v.secret ? v.secret.secretName : v.configMap.name;
			const src = v.secret || v.configMap;
			const o = lookup(kind, pod.metadata.namespace, name);
			if (!o) {
				if (!src.optional) throw new MountError(`MountVolume.SetUp failed for volume "${v.name}" : ${kind === "secrets" ? "secret" : "configmap"} "${name}" not found`);
			}
			rmSync(dir, { recursive: true, force: true });
			mkdirSync(dir, { recursive: true });
			const data = o?.data || {};
			const items = src.items || Object.keys(data).map((k) => ({ key: k, path: k }));
			for (const it of items) {
				if (data[it.key] === undefined) continue;
				const file = join(dir, it.path);
				mkdirSync(join(file, ".."), { recursive: true });
				writeFileSync(file, kind === "secrets" ? Buffer.from(data[it.key], "base64") : data[it.key], { mode: it.mode ?? src.defaultMode ?? 0o644 });
			}
			out[v.name] = { type: "bind", source: dir, readOnly: true };
		} else {
			mkdirSync(dir, { recursive: true });
			out[v.name] = { type: "bind", source: dir, readOnly: true, unsupported: Object.keys(v).find((k) => k !== "name") };
		}
	}
	return out;
}

function mounts(c, vols, env) {
	const list = [];
	for (const m of c.volumeMounts || []) {
		const v = vols[m.name];
		if (!v) continue;
		const ro = !!m.readOnly || !!v.readOnly;
		const sub = m.subPath || (m.subPathExpr ? expand(m.subPathExpr, env) : "");
		if (v.type === "tmpfs") {
			list.push({ Type: "tmpfs", Target: m.mountPath, TmpfsOptions: v.size ? { SizeBytes: Math.floor(parseQuantity(v.size)) } : {} });
		} else if (v.type === "volume" && !sub) {
			list.push({ Type: "volume", Source: v.source, Target: m.mountPath, ReadOnly: ro });
		} else {
			let src = v.type === "volume" ? v.mountpoint : v.source;
			if (sub) {
				src = join(src, sub);
				if (!existsSync(src)) mkdirSync(src, { recursive: true });
			}
			// a PVC's subPath lies under Docker's root, where dockerd wants rslave
			const b = { Type: "bind", Source: src, Target: m.mountPath, ReadOnly: ro };
			if (v.type === "volume") b.BindOptions = { Propagation: "rslave" };
			list.push(b);
		}
	}
	return list;
}

// The body of POST /containers/create for container c of pod.
export function createBody(pod, c, { holderId, vols, env, labels, runtime, hostNetwork }) {
	const psc = pod.spec.securityContext || {};
	const sc = c.securityContext || {};
	const uid = sc.runAsUser ?? psc.runAsUser;
	const gid = sc.runAsGroup ?? psc.runAsGroup;
	const user = uid !== undefined ? (gid !== undefined ? `${uid}:${gid}` : String(uid)) : undefined;
	const body = {
		Image: c.image,
		Env: env.list,
		WorkingDir: c.workingDir || undefined,
		Tty: !!c.tty,
		OpenStdin: !!c.stdin,
		StdinOnce: !!c.stdinOnce,
		Labels: labels,
		User: user,
		// ports are the holder's (Docker refuses exposed ports on a container that joins another's network)
		ExposedPorts: hostNetwork ? Object.fromEntries((c.ports || []).map((p) => [`${p.containerPort}/${(p.protocol || "TCP").toLowerCase()}`, {}])) : undefined,
		HostConfig: {
			NetworkMode: hostNetwork ? "host" : `container:${holderId}`,
			IpcMode: hostNetwork ? undefined : `container:${holderId}`,
			PidMode: pod.spec.shareProcessNamespace ? `container:${holderId}` : undefined,
			Mounts: mounts(c, vols, env.env),
			CapAdd: sc.capabilities?.add || undefined,
			CapDrop: sc.capabilities?.drop || undefined,
			Privileged: !!sc.privileged,
			ReadonlyRootfs: !!sc.readOnlyRootFilesystem,
			SecurityOpt: sc.allowPrivilegeEscalation === false ? ["no-new-privileges"] : undefined,
			GroupAdd: psc.supplementalGroups ? psc.supplementalGroups.map(String) : undefined,
			Runtime: runtime,
			LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "2" } },
		},
	};
	const lim = c.resources?.limits || {};
	if (lim.memory !== undefined) body.HostConfig.Memory = Math.floor(parseQuantity(lim.memory));
	if (lim.cpu !== undefined) body.HostConfig.NanoCpus = Math.floor(parseQuantity(lim.cpu) * 1e9);
	if (c.command) {
		body.Entrypoint = c.command.map((s) => expand(s, env.env));
		body.Cmd = (c.args || []).map((s) => expand(s, env.env));
	} else if (c.args) body.Cmd = c.args.map((s) => expand(s, env.env));
	return body;
}
