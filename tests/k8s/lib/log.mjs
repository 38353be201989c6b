// SPDX-License-Identifier: Apache-2.0
// One-line logs on stderr: "k8s-emu <level> <message>". K8S_EMU_DEBUG=1 adds debug lines.
const debugOn = !!process.env.K8S_EMU_DEBUG;
function line(level, args) {
	const msg = args.map((a) => (typeof a === "string" ? a : a instanceof Error ? a.message : JSON.stringify(a))).join(" ");
	process.stderr.write(`k8s-emu ${new Date().toISOString()} ${level} ${msg}\n`);
}
export const log = {
	info: (...a) => line("info", a),
	warn: (...a) => line("warn", a),
	error: (...a) => line("error", a),
	debug: (...a) => debugOn && line("debug", a),
};
