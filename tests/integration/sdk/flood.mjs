// SPDX-License-Identifier: Apache-2.0
// Connection floods against one server (loopback only), printing one JSON line.
//   node flood.mjs flood  HOST:PORT PATH PID CONNS "Header: value"
//     CONNS strangers each send half a request head and wait; meanwhile a client
//     with the header asks PATH on fresh connections. Reports its latencies and
//     the server's CPU share while the flood sat there.
//   node flood.mjs emfile HOST:PORT PATH PID CONNS "Header: value"
//     the same, for a server whose fd limit is below CONNS: reports the CPU
//     share while out of fds, whether the credentialed client is served while
//     strangers hold every fd, how many strangers were answered 503 or shed,
//     and whether PATH is served again once the strangers leave.
import net from "node:net";
import http from "node:http";
import { readFileSync } from "node:fs";

const [mode, target, path, pid, conns, header] = process.argv.slice(2);
const [host, port] = target.split(":");
const [hname, ...hrest] = (header || "X-None: x").split(":");
const headers = { [hname.trim()]: hrest.join(":").trim() };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hz = 100; // USER_HZ

function cpuTicks() {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]); // utime + stime
}

// Share of one core the server used over ms.
async function cpuShare(ms) {
  const t0 = cpuTicks();
  await sleep(ms);
  return (cpuTicks() - t0) / hz / (ms / 1000);
}

function ask(timeoutMs) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = http.request({ host, port, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, ms: Date.now() - t0 }));
    });
    req.on("timeout", () => { req.destroy(); resolve({ status: 0, ms: Date.now() - t0 }); });
    req.on("error", () => resolve({ status: -1, ms: Date.now() - t0 }));
    req.end();
  });
}

const strangers = [];
let refused = 0, closedEarly = 0;
async function openStrangers(n) {
  for (let i = 0; i < n; i++) {
    const s = net.connect(Number(port), host);
    s.on("error", () => {});
    s.on("data", (d) => { if (d.toString().startsWith("HTTP/1.1 503")) refused++; });
    s.on("close", () => closedEarly++);
    s.on("connect", () => s.write("GET / HTTP/1.1\r\nHo"));
    strangers.push(s);
    if (i % 100 === 99) await sleep(20);
  }
  await sleep(500);
}

const n = Number(conns);
await openStrangers(n);
const out = { mode, conns: n };
if (mode === "flood") {
  out.cpu_idle_flood = await cpuShare(1000);
  const asks = [];
  for (let i = 0; i < 5; i++) asks.push(await ask(3000));
  out.asks = asks;
  out.max_ms = Math.max(...asks.map((a) => a.ms));
  out.all_ok = asks.every((a) => a.status === 200);
  out.strangers_closed = closedEarly;
} else {
  out.cpu_out_of_fds = await cpuShare(2000);
  // Strangers hold every fd: a credentialed client still gets in (one is shed).
  out.during = await ask(3000);
  out.refused_503 = refused;
  out.shed = closedEarly;
  for (const s of strangers) s.destroy();
  await sleep(300);
  const after = await ask(3000);
  out.after = after;
}
for (const s of strangers) s.destroy();
console.log(JSON.stringify(out));
process.exit(0);
