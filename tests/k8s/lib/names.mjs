// SPDX-License-Identifier: Apache-2.0
// Name and key rules of k8s.io/apimachinery/pkg/util/validation, with the
// apiserver's messages. Each returns a list of detail strings (empty when valid).
const SUB_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QNAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LVAL_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_RE = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CFGKEY_RE = /^[-._a-zA-Z0-9]+$/;

export function dns1123Subdomain(v) {
	const e = [];
	if (v.length > 253) e.push("must be no more than 253 characters");
	if (!SUB_RE.test(v))
		e.push(
			"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
		);
	return e;
}
export function dns1123Label(v) {
	const e = [];
	if (v.length > 63) e.push("must be no more than 63 characters");
	if (!LABEL_RE.test(v))
		e.push(
			"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
		);
	return e;
}
export function dns1035Label(v) {
	const e = [];
	if (v.length > 63) e.push("must be no more than 63 characters");
	if (!DNS1035_RE.test(v))
		e.push(
			"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
		);
	return e;
}
export function pathSegmentName(v) {
	if (v === "." || v === "..") return [`may not be '${v}'`];
	if (v.includes("/")) return ["may not contain '/'"];
	if (v.includes("%")) return ["may not contain '%'"];
	return [];
}
export function qualifiedName(v) {
	const e = [];
	const parts = v.split("/");
	let name = v;
	if (parts.length === 2) {
		if (parts[0].length === 0) e.push("prefix part must be non-empty");
		else e.push(...dns1123Subdomain(parts[0]).map((m) => "prefix part " + m));
		name = parts[1];
	} else if (parts.length > 2) {
		return [
			"a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
		];
	}
	if (name.length === 0) e.push("name part must be non-empty");
	else if (name.length > 63) e.push("name part must be no more than 63 characters");
	if (name.length && !QNAME_RE.test(name))
		e.push(
			"name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
		);
	return e;
}
export function labelValue(v) {
	const e = [];
	if (v.length > 63) e.push("must be no more than 63 characters");
	if (!LVAL_RE.test(v))
		e.push(
			"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
		);
	return e;
}
export function envVarName(v) {
	return ENV_RE.test(v)
		? []
		: ["a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"];
}
export function configKey(v) {
	const e = [];
	if (v.length > 253) e.push("must be no more than 253 characters");
	if (!CFGKEY_RE.test(v))
		e.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
	if (v === "." || v === "..") e.push(`must not be '${v}'`);
	else if (v.startsWith("..")) e.push("must not start with '..'");
	return e;
}
export function ianaSvcName(v) {
	const e = [];
	if (v.length > 15) e.push("must be no more than 15 characters");
	if (!/^[-a-z0-9]+$/.test(v)) e.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
	if (v.includes("--")) e.push("must not contain consecutive hyphens");
	if (!/[a-z]/.test(v)) e.push("must contain at least one letter (a-z)");
	if (/^-|-$/.test(v)) e.push("must not begin or end with a hyphen");
	return e;
}

// Quantity -> number (base units; cpu in cores, memory in bytes). NaN when malformed.
const SUFFIX = { "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6 };
export function parseQuantity(q) {
	if (typeof q === "number") return q;
	const m = /^([+-]?[0-9.]+)(([eE][-+]?[0-9]+)|([a-zA-Z]*))$/.exec(String(q));
	if (!m) return NaN;
	const n = Number(m[1]);
	if (m[3]) return Number(m[1] + m[3]);
	const mul = SUFFIX[m[4]];
	return mul === undefined ? NaN : n * mul;
}
