#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// A Kubernetes API emulator for testing sandbox-api's Kubernetes runtime: real
// HTTPS with a test CA, bearer-token and client-certificate auth, discovery,
// core/v1 + apps + rbac + CRDs + node.k8s.io, watches with a bounded history,
// the three patch dialects, validation, a BatchSandbox controller and a kubelet
// that runs pods as Docker containers. It is an emulator, not an API server:
// see README.md for what is and is not emulated.
//
//   node tests/k8s/emulator.mjs --listen 127.0.0.1:6443 --state-dir DIR
//        [--kubeconfig-out FILE] [--instance NAME] [--san NAME|IP]... [--namespace NS]...
//        [--history N] [--bookmark-interval-ms N] [--no-kubelet] [--pause-image IMG]
//        [--docker-socket PATH] [--network NAME]
//
// Writes ca.crt, token, admin-token, client.crt/key, server.crt/key and kubeconfig
// into DIR, prints "k8s-emu ready https://HOST:PORT kubeconfig=FILE" on stdout,
// and on SIGTERM/SIGINT removes every container and volume it made, then exits 0.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { log } from "./lib/log.mjs";
import { makePki, TokenFile } from "./lib/certs.mjs";
import { writeKubeconfig } from "./lib/kubeconfig.mjs";
import { Resources } from "./lib/resources.mjs";
import { Store } from "./lib/store.mjs";
import { Rest } from "./lib/rest.mjs";
import { Watches } from "./lib/watch.mjs";
import { toTable } from "./lib/table.mjs";
import { Faults } from "./lib/faults.mjs";
import { Admin } from "./lib/admin.mjs";
import { ApiServer } from "./lib/server.mjs";
import { Crds } from "./lib/crd.mjs";
import { Cluster, NODE_NAME } from "./lib/cluster.mjs";
import { Recorder } from "./lib/events.mjs";

function usage(msg) {
	if (msg) process.stderr.write(`emulator: ${msg}\n`);
	process.stderr.write("usage: emulator.mjs --listen HOST:PORT --state-dir DIR [--kubeconfig-out FILE] [--instance NAME] [--san X]... [--namespace NS]... [--history N] [--bookmark-interval-ms N] [--no-kubelet] [--pause-image IMG] [--docker-socket PATH] [--network NAME]\n");
	process.exit(2);
}

function parseArgs(argv) {
	const o = { listen: "127.0.0.1:6443", sans: [], namespaces: [], history: 1000, bookmarkMs: 60000, kubelet: true, pauseImage: "sandbox/base:latest", dockerSocket: "/var/run/docker.sock", network: "bridge", instance: "default" };
	for (let i = 2; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length) usage(`${a} needs a value`);
			return argv[++i];
		};
		switch (a) {
			case "--listen": o.listen = val(); break;
			case "--state-dir": o.stateDir = val(); break;
			case "--kubeconfig-out": o.kubeconfig = val(); break;
			case "--instance": o.instance = val(); break;
			case "--san": o.sans.push(val()); break;
			case "--namespace": o.namespaces.push(val()); break;
			case "--history": o.history = Number(val()); break;
			case "--bookmark-interval-ms": o.bookmarkMs = Number(val()); break;
			case "--no-kubelet": o.kubelet = false; break;
			case "--pause-image": o.pauseImage = val(); break;
			case "--docker-socket": o.dockerSocket = val(); break;
			case "--network": o.network = val(); break;
			case "-h": case "--help": usage(); break;
			default: usage(`unknown argument ${a}`);
		}
	}
	if (!o.stateDir) usage("--state-dir is required");
	if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}$/.test(o.instance)) usage("--instance: letters, digits, '_', '.', '-' (at most 41)");
	if (!(o.history >= 1)) usage("--history must be >= 1");
	const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(o.listen);
	if (!m) usage("--listen HOST:PORT");
	o.host = m[1].replace(/^\[|\]$/g, "");
	o.port = Number(m[2]);
	return o;
}

async function main() {
	const o = parseArgs(process.argv);
	const stateDir = resolve(o.stateDir);
	mkdirSync(stateDir, { recursive: true, mode: 0o700 });
	const pki = makePki(stateDir, o.sans);
	const resources = new Resources();
	const store = new Store({ historySize: o.history });
	const faults = new Faults();
	const watches = new Watches({ store, bookmarkMs: o.bookmarkMs, toTable });
	const hooks = {};
	const rest = new Rest({ store, resources, hooks });
	new Crds({ store, resources });
	let kubelet = null, controller = null, docker = null;
	let hostIP = "127.0.0.1";
	if (o.kubelet) {
		const { Docker } = await import("./lib/docker.mjs");
		docker = new Docker(o.dockerSocket);
		hostIP = await docker.gatewayIP(o.network).catch(() => "127.0.0.1");
	}
	const arch = { x64: "amd64", arm64: "arm64" }[process.arch] || process.arch;
	const cluster = new Cluster({ store, resources, rest, nodeInfo: { arch, hostIP } });
	Object.assign(hooks, { admit: (...a) => cluster.admit(...a), deleting: (...a) => cluster.deleting(...a), finalized: (...a) => cluster.finalized(...a) });
	cluster.bootstrap(["opensandbox", ...o.namespaces]);
	const recorder = new Recorder({ store, host: NODE_NAME });
	if (o.kubelet) {
		const { Kubelet } = await import("./lib/kubelet.mjs");
		const { Controller } = await import("./lib/controller.mjs");
		kubelet = new Kubelet({ store, resources, recorder, docker, instance: o.instance, stateDir, pauseImage: o.pauseImage, network: o.network, hostIP, rest });
		controller = new Controller({ store, resources, recorder, docker, kubelet, instance: o.instance, rest });
		await kubelet.start();
	}
	const address = `${o.host.includes(":") ? `[${o.host}]` : o.host}:${o.port}`;
	const tokens = new TokenFile(pki.tokenFile);
	const admin = new Admin({ adminToken: pki.adminToken, faults, watches, store, kubelet, tokenFile: pki.tokenFile });
	const server = new ApiServer({ pki, tokens, adminToken: pki.adminToken, resources, rest, watches, faults, admin, kubelet, address });
	const addr = await server.listen(o.host, o.port);
	const url = `https://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`;
	const kubeconfig = resolve(o.kubeconfig || join(stateDir, "kubeconfig"));
	writeKubeconfig(kubeconfig, { server: url, pki });
	if (o.kubeconfig) writeKubeconfig(join(stateDir, "kubeconfig"), { server: url, pki });
	log.info(`listening on ${url}, instance ${o.instance}, state ${stateDir}`);
	process.stdout.write(`k8s-emu ready ${url} kubeconfig=${kubeconfig}\n`);

	let stopping = false;
	const stop = async (sig) => {
		if (stopping) return;
		stopping = true;
		log.info(`${sig}: stopping`);
		server.close();
		controller?.stop();
		try {
			if (kubelet) await kubelet.shutdown();
		} catch (e) {
			log.error("cleanup:", e.message);
		}
		log.info("stopped");
		process.exit(0);
	};
	process.on("SIGTERM", () => stop("SIGTERM"));
	process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((e) => {
	log.error(e.stack || String(e));
	process.exit(1);
});
