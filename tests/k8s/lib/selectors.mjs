// SPDX-License-Identifier: Apache-2.0
// Label selectors (k8s.io/apimachinery/pkg/labels grammar: key, !key, =, ==, !=,
// in (...), notin (...), gt/lt with > and <; comma means AND) and field selectors
// (=, ==, != on the fields each resource supports). parse* throw ApiError 400.
import { ApiError } from "./status.mjs";

const bad = (msg) => new ApiError(400, msg, "BadRequest");
const KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const VAL_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function tokenize(s) {
	const toks = [];
	let i = 0;
	while (i < s.length) {
		const c = s[i];
		if (c === " " || c === "\t") {
			i++;
			continue;
		}
		if (c === "," || c === "(" || c === ")") {
			toks.push({ t: c });
			i++;
			continue;
		}
		if (s.startsWith("==", i) || s.startsWith("!=", i)) {
			toks.push({ t: s.slice(i, i + 2) });
			i += 2;
			continue;
		}
		if (c === "=" || c === ">" || c === "<" || c === "!") {
			toks.push({ t: c });
			i++;
			continue;
		}
		let j = i;
		while (j < s.length && !" \t,()=!<>".includes(s[j])) j++;
		const w = s.slice(i, j);
		toks.push({ t: w === "in" || w === "notin" ? w : "id", v: w });
		i = j;
	}
	return toks;
}

// Returns [{key, op: exists|!|=|!=|in|notin|gt|lt, values}]
export function parseLabelSelector(s) {
	if (!s || !s.trim()) return [];
	const toks = tokenize(s);
	const reqs = [];
	let i = 0;
	const peek = () => toks[i];
	const next = () => toks[i++];
	const checkKey = (k) => {
		if (!KEY_RE.test(k) || k.split("/").pop().length > 63) throw bad(`unable to parse requirement: invalid label key "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
	};
	const checkVal = (v) => {
		if (v.length > 63 || !VAL_RE.test(v)) throw bad(`unable to parse requirement: values[0][${v}]: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
	};
	while (i < toks.length) {
		let t = next();
		if (t.t === "!") {
			const k = next();
			if (!k || k.t !== "id") throw bad(`unable to parse requirement: found '${k ? k.v || k.t : ""}', expected: identifier`);
			checkKey(k.v);
			reqs.push({ key: k.v, op: "!", values: [] });
		} else if (t.t === "id") {
			const key = t.v;
			checkKey(key);
			const op = peek();
			if (!op || op.t === ",") {
				reqs.push({ key, op: "exists", values: [] });
			} else if (op.t === "=" || op.t === "==" || op.t === "!=" || op.t === ">" || op.t === "<") {
				next();
				let v = peek();
				let val = "";
				if (v && v.t === "id") {
					val = v.v;
					next();
				} else if (op.t === ">" || op.t === "<") throw bad(`unable to parse requirement: found '', expected: identifier`);
				if (op.t === ">" || op.t === "<") {
					if (!/^-?\d+$/.test(val)) throw bad(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
					reqs.push({ key, op: op.t === ">" ? "gt" : "lt", values: [val] });
				} else {
					checkVal(val);
					reqs.push({ key, op: op.t === "!=" ? "!=" : "=", values: [val] });
				}
			} else if (op.t === "in" || op.t === "notin") {
				next();
				if (!peek() || peek().t !== "(") throw bad(`unable to parse requirement: found '${peek() ? peek().v || peek().t : ""}', expected: '('`);
				next();
				const vals = [];
				for (;;) {
					const v = next();
					if (!v) throw bad("unable to parse requirement: found '', expected: ')'");
					if (v.t === ")") break;
					if (v.t === ",") {
						if (vals.length === 0 || (peek() && (peek().t === "," || peek().t === ")"))) vals.push("");
						continue;
					}
					if (v.t !== "id") throw bad(`unable to parse requirement: found '${v.t}', expected: ',', ')' or identifier`);
					checkVal(v.v);
					vals.push(v.v);
				}
				reqs.push({ key, op: op.t, values: vals });
			} else {
				throw bad(`unable to parse requirement: found '${op.v || op.t}', expected: in, notin, =, ==, !=, gt, lt`);
			}
		} else {
			throw bad(`unable to parse requirement: found '${t.v || t.t}', expected: !, identifier`);
		}
		const sep = next();
		if (sep && sep.t !== ",") throw bad(`found '${sep.v || sep.t}', expected: ',' or 'end of string'`);
		if (sep && i >= toks.length) throw bad("found '', expected: !, identifier");
	}
	return reqs;
}

export function matchLabels(reqs, labels) {
	labels = labels || {};
	for (const r of reqs) {
		const has = Object.prototype.hasOwnProperty.call(labels, r.key);
		const v = labels[r.key];
		switch (r.op) {
			case "exists":
				if (!has) return false;
				break;
			case "!":
				if (has) return false;
				break;
			case "=":
				if (!has || v !== r.values[0]) return false;
				break;
			case "!=":
				if (has && v === r.values[0]) return false;
				break;
			case "in":
				if (!has || !r.values.includes(v)) return false;
				break;
			case "notin":
				if (has && r.values.includes(v)) return false;
				break;
			case "gt":
			case "lt": {
				if (!has || !/^-?\d+$/.test(v)) return false;
				const a = Number(v), b = Number(r.values[0]);
				if (r.op === "gt" ? !(a > b) : !(a < b)) return false;
				break;
			}
		}
	}
	return true;
}

// metav1.LabelSelector {matchLabels, matchExpressions} -> requirement list
export function fromLabelSelector(sel) {
	const reqs = [];
	for (const [k, v] of Object.entries(sel?.matchLabels || {})) reqs.push({ key: k, op: "=", values: [v] });
	for (const e of sel?.matchExpressions || []) {
		const op = { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" }[e.operator];
		reqs.push({ key: e.key, op, values: e.values || [] });
	}
	return reqs;
}

const get = (o, path) => path.split(".").reduce((x, k) => (x == null ? undefined : x[k]), o);
const FIELDS = {
	pods: {
		"spec.nodeName": (o) => o.spec?.nodeName || "",
		"spec.restartPolicy": (o) => o.spec?.restartPolicy || "",
		"spec.schedulerName": (o) => o.spec?.schedulerName || "",
		"spec.serviceAccountName": (o) => o.spec?.serviceAccountName || "",
		"spec.hostNetwork": (o) => String(!!o.spec?.hostNetwork),
		"status.phase": (o) => o.status?.phase || "",
		"status.podIP": (o) => o.status?.podIP || "",
		"status.nominatedNodeName": (o) => o.status?.nominatedNodeName || "",
	},
	events: Object.fromEntries(
		["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"].map((f) => [
			f,
			(o) => (f === "source" ? o.source?.component || "" : String(get(o, f) ?? "")),
		]),
	),
	secrets: { type: (o) => o.type || "" },
	namespaces: { "status.phase": (o) => o.status?.phase || "" },
	persistentvolumeclaims: {},
	nodes: { "spec.unschedulable": (o) => String(!!o.spec?.unschedulable) },
};

// Returns [{field, op: "="|"!=", value, get}]
export function parseFieldSelector(s, rt) {
	if (!s || !s.trim()) return [];
	const out = [];
	for (const part of s.split(",")) {
		const m = /^\s*([^=!]+?)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
		if (!m) throw bad(`invalid selector: '${s}'; can't understand '${part}'`);
		const [, f, op, value] = m;
		let getter;
		if (f === "metadata.name") getter = (o) => o.metadata.name;
		else if (f === "metadata.namespace" && rt.namespaced) getter = (o) => o.metadata.namespace || "";
		else if (!rt.crd && FIELDS[rt.plural] && FIELDS[rt.plural][f]) getter = FIELDS[rt.plural][f];
		else if (rt.crd && rt.crd.selectableFields && rt.crd.selectableFields.includes(f)) getter = (o) => String(get(o, f) ?? "");
		else throw bad(`field label not supported: ${f}`);
		out.push({ field: f, op: op === "!=" ? "!=" : "=", value, get: getter });
	}
	return out;
}

export function matchFields(reqs, obj) {
	for (const r of reqs) {
		const v = r.get(obj);
		if (r.op === "=" ? v !== r.value : v === r.value) return false;
	}
	return true;
}
