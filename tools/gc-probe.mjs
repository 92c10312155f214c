#!/usr/bin/env node
// @ts-check
// `npm run gc-probe -- --pid PID`: is a workerd's memory growth garbage or a leak? Asks every isolate of
// that workerd (through its V8 inspector, loopback only) for its heap use, forces a full collection in
// each, and prints the process's RSS before and after. Memory that a collection gives back was garbage
// V8 had not yet collected (workerd schedules major collections by heap size, not by the native memory
// requests leave behind); memory that stays is held (or sits in an isolate that did not answer).
//
// The workerd must have an inspector: `npm start -- --inspect` (npm start runs without one, see start.mjs).
// workerd's inspector takes one session per isolate: an isolate held by another session (wrangler's
// inspector proxy keeps one on the Worker's isolate at times) does not answer within 5 s and is reported "busy"; the
// rest are measured and collected. Needs Node's WebSocket: `npm run gc-probe` passes
// --experimental-websocket on Node 20.
import { execFileSync } from "node:child_process";
import { get } from "node:http";
import { toolOptions } from "./lab/cli.mjs";
import { rssKiB } from "./lab/rss.mjs";

const { int } = toolOptions("gc-probe", { pid: { type: "string" } }, "usage: npm run gc-probe -- --pid WORKERD_PID");
const pid = int("pid", 1, 2 ** 31);
const mib = (/** @type {number | null} */ kib) => (kib === null ? null : Math.round((kib / 1024) * 10) / 10);
const heapMiB = (/** @type {{ usedSize: number }} */ usage) => Math.round((usage.usedSize / 2 ** 20) * 10) / 10;

/**
 * The loopback ports `pid` listens on (ss), one of which is its inspector.
 * @param {number} processId
 */
function listeningPorts(processId) {
  const out = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" });
  return [...out.matchAll(/127\.0\.0\.1:(\d+)\s.*pid=(\d+),/g)].filter((m) => Number(m[2]) === processId).map((m) => Number(m[1]));
}

/**
 * GET /json/list on `port` over a connection of its own that closes after the answer: workerd's
 * inspector serves one connection at a time, so a pooled keep-alive connection (fetch's) would hold
 * off the WebSocket sessions that follow.
 * @param {number} port
 * @returns {Promise<unknown>}
 */
function jsonList(port) {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port, path: "/json/list", agent: false, timeout: 2_000 }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => {
        try {
          resolve(JSON.parse(text));
        } catch {
          resolve(null);
        }
      });
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(null));
  });
}

/**
 * An inspector's list of targets (one per isolate): the first port that answers with one.
 * @param {number[]} ports
 * @returns {Promise<InspectorTarget[] | null>}
 */
async function inspectorTargets(ports) {
  for (const port of ports) {
    const list = await jsonList(port);
    if (Array.isArray(list) && list.length > 0 && list.every((t) => typeof t?.webSocketDebuggerUrl === "string")) return list;
  }
  return null;
}

/**
 * One DevTools session: the isolate's heap use, then a full collection asked for. workerd runs the
 * collection but (on these versions) does not always answer it, so the session does not wait for that
 * answer: it asks, gives the isolate a moment, and closes. The effect is read on the process's RSS.
 * Settles once the socket is closed (the inspector takes the next session after this one ends); null
 * if the isolate did not answer at all.
 * @typedef {{ id: string, webSocketDebuggerUrl: string }} InspectorTarget
 * @param {InspectorTarget} target
 * @returns {Promise<number | null>}
 */
function collect(target, timeoutMs = 5_000) {
  return new Promise((settle) => {
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    /** @type {number | null} */
    let outcome = null;
    let closing = false;
    const finish = (/** @type {number | null} */ value) => {
      if (closing) return;
      closing = true;
      outcome = value;
      ws.close();
      setTimeout(() => settle(outcome), 2_000); // a close the server never acknowledges
    };
    ws.addEventListener("close", () => settle(outcome));
    ws.addEventListener("error", () => finish(null));
    const timer = setTimeout(() => finish(null), timeoutMs);
    ws.addEventListener("message", (event) => {
      const msg = JSON.parse(String(event.data));
      if (msg.id !== 1) return;
      clearTimeout(timer);
      ws.send(JSON.stringify({ id: 2, method: "HeapProfiler.enable", params: {} }));
      ws.send(JSON.stringify({ id: 3, method: "HeapProfiler.collectGarbage", params: {} }));
      setTimeout(() => finish(heapMiB(msg.result)), 500);
    });
    ws.addEventListener("open", () => ws.send(JSON.stringify({ id: 1, method: "Runtime.getHeapUsage", params: {} })));
  });
}

const targets = await inspectorTargets(listeningPorts(pid));
if (!targets) {
  console.error(`gc-probe: no V8 inspector found among the loopback ports of pid ${pid} (start the service with npm start -- --inspect)`);
  process.exit(2);
}
const rssBefore = rssKiB(pid);
const isolates = [];
// The Worker's own isolate last: wrangler's inspector proxy keeps a session on it, and a session that hangs holds up
// the inspector's next ones.
const order = [...targets].sort((a, b) => Number(a.id.startsWith("core:user:")) - Number(b.id.startsWith("core:user:")));
for (const t of order) isolates.push({ isolate: t.id, heap_used_mib: await collect(t) });
await new Promise((r) => setTimeout(r, 3_000)); // let the collections run and freed pages go back
const rssAfter = rssKiB(pid);
const report = { pid, rss_before_mib: mib(rssBefore), rss_after_mib: mib(rssAfter), isolates };
for (const i of isolates)
  console.log(
    `  ${i.isolate.padEnd(48)} ${i.heap_used_mib === null ? "busy (no answer within 5 s: another session holds it)" : `heap used ${i.heap_used_mib} MiB, collection asked`}`,
  );
console.log(
  `gc-probe: workerd ${pid} RSS ${report.rss_before_mib} → ${report.rss_after_mib} MiB after a full collection was asked of every isolate that answered`,
);
console.log(JSON.stringify(report));
