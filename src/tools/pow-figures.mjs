#!/usr/bin/env node
// `node src/tools/pow-figures.mjs`: what the join's proof of work costs, measured. The client SDK's own
// solver (src/client/proof-of-work.ts, bundled with esbuild) solves fresh random challenges at each
// difficulty, in Node (WebCrypto) and inside workerd (Miniflare, the Workers runtime), and the same
// number of SHA-256 hashes is timed with Node's native hashing (what a bot writes instead of running
// the app's JavaScript). Writes reports/pow.json and prints a table (SECURITY.md quotes it).
//
//   node src/tools/pow-figures.mjs [--bits 8,10,12,14,16] [--runs 12]
//
// In workerd the clock does not move during computation (a Workers security measure), so each solve
// is timed from Node around the request, minus the same request at difficulty 0.
import { build } from "esbuild";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const { values } = parseArgs({ options: { bits: { type: "string", default: "8,10,12,14,16" }, runs: { type: "string", default: "12" } } });
const BITS = values.bits.split(",").map(Number);
const RUNS = Number(values.runs);

const outdir = join(ROOT, "node_modules", ".cache", "antichambre-pow");
mkdirSync(outdir, { recursive: true });
const entry = join(outdir, "entry.ts");
writeFileSync(
  entry,
  `export { solveProofOfWork } from ${JSON.stringify(join(ROOT, "src/client/proof-of-work.ts"))};
export default {
  async fetch(request: Request): Promise<Response> {
    const { solveProofOfWork } = await import(${JSON.stringify(join(ROOT, "src/client/proof-of-work.ts"))});
    const url = new URL(request.url);
    const r = await solveProofOfWork(url.searchParams.get("c")!, Number(url.searchParams.get("d")));
    return Response.json({ hashes: r.hashes });
  },
};
`,
);
await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "neutral", target: "es2022", outfile: join(outdir, "pow.mjs"), logLevel: "error" });
const { solveProofOfWork } = await import(pathToFileURL(join(outdir, "pow.mjs")).href);

/** A challenge of the service's real length (about 260 characters). */
const challenge = () => `${randomBytes(150).toString("base64url")}.${randomBytes(32).toString("base64url")}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function measure(label, solveOnce) {
  const rows = [];
  for (const bits of BITS) {
    const ms = [];
    let hashes = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = await solveOnce(bits);
      ms.push(r.ms);
      hashes += r.hashes;
    }
    const totalMs = ms.reduce((a, b) => a + b, 0);
    rows.push({ bits, runs: RUNS, mean_ms: Math.round(mean(ms)), median_ms: Math.round(median(ms)), hashes_per_second: Math.round((hashes / totalMs) * 1000) });
    process.stderr.write(`${label} ${bits} bits: mean ${Math.round(mean(ms))} ms\n`);
  }
  return rows;
}

// ---- Node, WebCrypto (the SDK as it runs in a Node app or the surge tool) ----------------------------
const node = await measure("node", async (bits) => {
  const t0 = performance.now();
  const r = await solveProofOfWork(challenge(), bits);
  return { ms: performance.now() - t0, hashes: r.hashes };
});

// ---- workerd (the Workers runtime; closest to a browser's WebCrypto we can run here) -----------------
const mf = new Miniflare({
  log: new Log(LogLevel.NONE),
  cf: false,
  modules: true,
  scriptPath: join(outdir, "pow.mjs"),
  compatibilityDate: "2026-04-20",
});
let workerd;
try {
  const url = await mf.ready;
  const call = async (c, d) => (await (await mf.dispatchFetch(`${url.origin}/?c=${encodeURIComponent(c)}&d=${d}`)).json()).hashes;
  for (let i = 0; i < 20; i++) await call(challenge(), 0); // warm up
  const base = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await call(challenge(), 0);
    base.push(performance.now() - t0);
  }
  const overhead = median(base);
  workerd = await measure("workerd", async (bits) => {
    const t0 = performance.now();
    const hashes = await call(challenge(), bits);
    return { ms: Math.max(0, performance.now() - t0 - overhead), hashes };
  });
} finally {
  await mf.dispose();
}

// ---- native hashing (a bot's own code, one core): hashes per second ---------------------------------
// The challenge's hash state is computed once and copied for each candidate (a "midstate"), as anyone
// writing a solver for speed would; a C or GPU solver goes much further (SECURITY.md).
const midstate = createHash("sha256").update(challenge());
const N = 400_000;
const t0 = performance.now();
for (let i = 0; i < N; i++) midstate.copy().update(i.toString(36)).digest();
const nativePerSecond = Math.round((N / (performance.now() - t0)) * 1000);

const report = {
  generated_at: new Date().toISOString(),
  machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
  node_webcrypto: node,
  workerd_webcrypto: workerd,
  node_native_sha256_per_core_per_second: nativePerSecond,
};
mkdirSync(join(ROOT, "reports"), { recursive: true });
writeFileSync(join(ROOT, "reports", "pow.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log("bits | expected hashes | Node SDK mean (median) | workerd SDK mean (median) | native 1 core");
for (const [i, bits] of BITS.entries()) {
  const n = node[i];
  const w = workerd[i];
  console.log(`${bits} | ${2 ** bits} | ${n.mean_ms} ms (${n.median_ms}) | ${w.mean_ms} ms (${w.median_ms}) | ${((2 ** bits / nativePerSecond) * 1000).toFixed(2)} ms`);
}
console.log(`SDK hashes/s: Node ${node.map((r) => r.hashes_per_second).join(", ")}; workerd ${workerd.map((r) => r.hashes_per_second).join(", ")}; native ${nativePerSecond}/s per core`);
