#!/usr/bin/env node
// @ts-check
// `npm run memory-baseline`: how much a workerd process grows under load when the Worker does nothing,
// so the soak's and the benchmark's memory figures can be read against the runtime's own behaviour.
//
// Two bare workerd processes (the binary Miniflare and wrangler use, no Miniflare layers) run the same
// hello-world Worker, one with V8's default heap sizing and one with the young generation capped at
// 1 MiB per semi-space (`--max-semi-space-size=1`, a workerd config `v8Flags` entry). Both get the same
// rounds of requests, alternately, and the RSS of each is printed after every round, side by side.
//
// What it showed (README, "Faults and load"): with the defaults, RSS climbs for hundreds of thousands of
// requests and then levels off, far above where it started; with the capped young generation it stays
// flat. The growth is V8 letting each isolate's young generation grow (and the native memory of the
// requests' objects wait in it for a scavenge), not anything a Worker keeps. Miniflare and wrangler's dev
// server expose no V8 flags, so `npm start` runs with the defaults, and every isolate they add locally
// (entry, asset router, D1, …) grows this way too.
//
//   npm run memory-baseline -- [--rounds 20] [--requests 20000] [--connections 20]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { round } from "./bench/load.mjs";
import { toolOptions } from "./lab/cli.mjs";
import { rssKiB } from "./lab/rss.mjs";
import { freePort } from "./lib/processes.mjs";

const { int } = toolOptions(
  "memory-baseline",
  {
    rounds: { type: "string", default: "20" },
    requests: { type: "string", default: "20000" },
    connections: { type: "string", default: "20" },
  },
  "usage: npm run memory-baseline -- [--rounds R] [--requests N per round] [--connections C]",
);
const rounds = int("rounds", 1, 1_000);
const requests = int("requests", 100, 10_000_000);
const connections = int("connections", 1, 1_000);

const workerdBin = createRequire(import.meta.url)("workerd").default;
const dir = mkdtempSync(join(tmpdir(), "antichambre-memory-baseline-"));
writeFileSync(join(dir, "hello.js"), 'export default { fetch() { return new Response("hello"); } };\n');

const variants = [
  { name: "V8 defaults", flags: [] },
  { name: "young generation capped", flags: ["--max-semi-space-size=1"] },
];

/**
 * A capnp text config: one hello-world Worker on 127.0.0.1:port, with the given V8 flags.
 * @param {number} port
 * @param {string[]} flags
 */
function config(port, flags) {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "hello", worker = .hello) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "hello") ],
  v8Flags = [ ${flags.map((f) => JSON.stringify(f)).join(", ")} ],
);
const hello :Workerd.Worker = (
  modules = [ (name = "hello.js", esModule = embed "hello.js") ],
  compatibilityDate = "2026-04-20",
);
`;
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const mib = (/** @type {number | null} */ kib) => (kib === null ? null : Math.round((kib / 1024) * 10) / 10);

/**
 * @typedef {{ name: string, flags: string[] }} Variant
 * @typedef {Variant & { child: import("node:child_process").ChildProcess, base: string, rss: number[] }} Running
 * @param {Variant} variant
 * @returns {Promise<Running>}
 */
async function start(variant) {
  const port = await freePort();
  const file = join(dir, `${variant.flags.length ? "capped" : "default"}.capnp`);
  writeFileSync(file, config(port, variant.flags));
  const child = spawn(workerdBin, ["serve", file], { stdio: ["ignore", "ignore", "inherit"] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(base)).ok) return { ...variant, child, base, rss: [rssMiB(child)] };
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  child.kill();
  throw new Error(`workerd (${variant.name}) did not answer on ${base}`);
}

/**
 * RSS of a started workerd in MiB. One that has gone mid-run ends the run: its figures would mean nothing.
 * @param {import("node:child_process").ChildProcess} child
 * @returns {number}
 */
function rssMiB(child) {
  const rss = child.pid === undefined ? null : mib(rssKiB(child.pid));
  if (rss === null) throw new Error(`workerd (pid ${child.pid}) is gone; no memory to read`);
  return rss;
}

/** @type {Running[]} */
const running = [];
const stopAll = () => {
  for (const r of running) r.child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
};
process.on("SIGINT", () => {
  stopAll();
  process.exit(130);
});

try {
  for (const v of variants) running.push(await start(v));
  console.log(
    `memory-baseline: hello world on bare workerd, ${rounds} rounds of ${requests} GETs (${connections} connections) each, alternately`,
  );
  console.log(`round  requests   ${variants.map((v) => v.name.padStart(24)).join("")}   (RSS, MiB)`);
  const line = (/** @type {number} */ r, /** @type {number} */ total) =>
    console.log(
      `${String(r).padStart(5)}  ${String(total).padStart(8)}   ${running.map((x) => String(x.rss.at(-1)).padStart(24)).join("")}`,
    );
  line(0, 0);
  for (let r = 1; r <= rounds; r++) {
    for (const x of running) {
      const result = await round({ base: x.base, request: { path: "/" }, amount: requests, connections });
      // Only a feed that ran out answers null; this round sends one static request.
      if (!result) throw new Error(`${x.name}: the round did not run`);
      const non200 = Object.entries(result.statuses).filter(([s]) => s !== "200");
      if (non200.length || result.transportErrors)
        throw new Error(`${x.name}: unexpected answers ${JSON.stringify(result.statuses)}, ${result.transportErrors} transport errors`);
      x.rss.push(rssMiB(x.child));
    }
    line(r, r * requests);
  }
  // Every process has its start reading (taken when it first answered), so rss is never empty.
  const summary = running.map((x) => {
    const [start, ...rest] = /** @type {[number, ...number[]]} */ (x.rss);
    return {
      variant: x.name,
      v8_flags: x.flags,
      rss_mib: x.rss,
      start_mib: start,
      end_mib: rest.at(-1) ?? start,
      max_mib: Math.max(...x.rss),
    };
  });
  for (const s of summary)
    console.log(
      `${s.variant}: ${s.start_mib} → ${s.end_mib} MiB (max ${s.max_mib}), ×${(s.end_mib / s.start_mib).toFixed(2)} of its start`,
    );
  // One summary per variant, in the order of `variants` (the default first).
  const [dflt, capped] = /** @type {[typeof summary[number], typeof summary[number]]} */ (summary);
  console.log(
    `after ${rounds * requests} requests each, the default process holds ×${(dflt.end_mib / capped.end_mib).toFixed(2)} the memory of the capped one`,
  );
  console.log(JSON.stringify({ rounds, requests_per_round: requests, connections, variants: summary }));
} finally {
  stopAll();
}
