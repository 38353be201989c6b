// SPDX-License-Identifier: Apache-2.0
// The official SDK through the gateway in one --gateway-route-mode (MODE): it
// creates (or, with SANDBOX_ID, connects to) a sandbox, runs a command (execd
// through the gateway) and fetches port 8080 through getEndpoint. Prints
// "ok <sandbox id> <endpoint>" or the error. *.gw.test names resolve to the
// loopback through this process's own lookup (never DNS).
import dns from "node:dns";
import { ConnectionConfig, Sandbox } from "@alibaba-group/opensandbox";

// The SDK makes its own undici Agent; every Node socket resolves through
// dns.lookup, so that is where the test's names are answered.
const realLookup = dns.lookup;
dns.lookup = (host, opts, cb) => {
  if (typeof opts === "function") [opts, cb] = [{}, opts];
  if (!String(host).endsWith(".gw.test")) return realLookup(host, opts, cb);
  const o = typeof opts === "number" ? { family: opts } : opts ?? {};
  return o.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4);
};

const connectionConfig = new ConnectionConfig({
  domain: process.env.API_DOMAIN, apiKey: process.env.API_KEY, protocol: "http",
});
try {
  const sbx = process.env.SANDBOX_ID
    ? await Sandbox.connect({ sandboxId: process.env.SANDBOX_ID, connectionConfig })
    : await Sandbox.create({
      connectionConfig, image: process.env.IMAGE, timeoutSeconds: 600, readyTimeoutSeconds: 30,
      entrypoint: ["sh", "-c", "mkdir -p /www && echo hello-sdk > /www/index.html && exec httpd -f -p 8080 -h /www"],
      metadata: { run: process.env.RUN_ID },
    });
  const ex = await sbx.commands.run("echo via-$((40+2))");
  const said = ex.logs.stdout.map((m) => m.text).join("");
  if (said !== "via-42") throw new Error(`command said ${JSON.stringify(said)}`);
  const ep = await sbx.getEndpoint(8080);
  const r = await fetch(`http://${ep.endpoint}/index.html`, { headers: ep.headers ?? {} });
  const body = (await r.text()).trim();
  if (r.status !== 200 || body !== "hello-sdk") throw new Error(`8080 via ${ep.endpoint}: ${r.status} ${body}`);
  console.log(`ok ${sbx.id} ${ep.endpoint}`);
  process.exit(0);
} catch (e) {
  console.log(`error (${process.env.MODE}): ${e?.stack ?? e}`);
  process.exit(1);
}
