// SPDX-License-Identifier: Apache-2.0
// CustomResourceDefinitions: each served version of a stored CRD becomes a
// resource type (with its structural schema, printer columns and /status when
// the status subresource is on); the CRD gets NamesAccepted and Established
// conditions. Deleting a CRD deletes its custom resources.
import { log } from "./log.mjs";
import { now } from "./objects.mjs";

const ID = "customresourcedefinitions.apiextensions.k8s.io";

export class Crds {
	constructor({ store, resources }) {
		this.store = store;
		this.resources = resources;
		this.registered = new Map(); // crd name -> [[group, version, plural]]
		store.on("change", (id, ev) => {
			if (id !== ID) return;
			if (ev.type === "DELETED") this.unregister(ev.object);
			else this.register(ev.object);
		});
	}

	register(crd) {
		const name = crd.metadata.name;
		const s = crd.spec;
		const was = this.registered.get(name) || [];
		for (const [g, v, p] of was) this.resources.remove(g, v, p);
		const now_ = [];
		for (const v of s.versions || []) {
			if (!v.served) continue;
			this.resources.add({
				group: s.group,
				version: v.name,
				kind: s.names.kind,
				listKind: s.names.listKind || s.names.kind + "List",
				plural: s.names.plural,
				singular: s.names.singular || s.names.kind.toLowerCase(),
				namespaced: s.scope === "Namespaced",
				shortNames: s.names.shortNames || [],
				categories: s.names.categories || [],
				verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
				status: !!v.subresources?.status,
				log: false,
				model: null,
				generation: true,
				crd: { name, schema: v.schema?.openAPIV3Schema || { type: "object", "x-kubernetes-preserve-unknown-fields": true }, columns: v.additionalPrinterColumns || [], selectableFields: (v.selectableFields || []).map((f) => f.jsonPath.replace(/^\./, "")) },
			});
			now_.push([s.group, v.name, s.names.plural]);
		}
		this.registered.set(name, now_);
		const established = (crd.status?.conditions || []).some((c) => c.type === "Established" && c.status === "True");
		if (!established) {
			// as the apiextensions controllers do, a moment after the write
			setImmediate(() => {
				const cur = this.store.get(ID, "", name);
				if (!cur || cur.metadata.uid !== crd.metadata.uid) return;
				const t = now();
				cur.status = {
					conditions: [
						{ type: "NamesAccepted", status: "True", lastTransitionTime: t, reason: "NoConflicts", message: "no conflicts found" },
						{ type: "Established", status: "True", lastTransitionTime: t, reason: "InitialNamesAccepted", message: "the initial names have been accepted" },
					],
					acceptedNames: { ...cur.spec.names },
					storedVersions: (cur.spec.versions || []).filter((v) => v.storage).map((v) => v.name),
				};
				this.store.update(ID, cur);
			});
			log.info(`crd ${name}: serving ${now_.map(([g, v, p]) => `${g}/${v}/${p}`).join(", ")}`);
		}
	}

	unregister(crd) {
		const name = crd.metadata.name;
		for (const [g, v, p] of this.registered.get(name) || []) this.resources.remove(g, v, p);
		this.registered.delete(name);
		const id = `${crd.spec.names.plural}.${crd.spec.group}`;
		for (const o of this.store.list(id)) this.store.remove(id, o.metadata.namespace, o.metadata.name);
		log.info(`crd ${name}: removed`);
	}
}
