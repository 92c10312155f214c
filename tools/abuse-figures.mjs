#!/usr/bin/env node
// @ts-check
// `node tools/abuse-figures.mjs`: the figures SECURITY.md quotes, measured.
//
// 1. What the join's proof of work costs. The client SDK's own solver (client/proof-of-work.ts,
//    bundled with esbuild) solves fresh random challenges at each difficulty, in Node (WebCrypto) and
//    inside workerd (Miniflare, the Workers runtime), and SHA-256 is timed with Node's native hashing
//    (what a bot writes instead of running the app's JavaScript).
// 2. What a DPoP proof on every poll would cost: the real verifyTicket alone, and followed by the real
//    verifyDpopProof, in workerd, per poll.
//
//   node tools/abuse-figures.mjs [--bits 8,10,12,14,16] [--runs 12] [--polls 3000]
//
// In workerd the clock does not move during computation (a Workers security measure), so everything
// is timed from Node around a request, minus the same request doing nothing. Writes reports/abuse.json.
import { build } from "esbuild";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    bits: { type: "string", default: "8,10,12,14,16" },
    runs: { type: "string", default: "12" },
    polls: { type: "string", default: "3000" },
  },
});
const BITS = values.bits.split(",").map(Number);
const RUNS = Number(values.runs);
const POLLS = Number(values.polls);

const outdir = join(ROOT, "node_modules", ".cache", "antichambre-pow");
mkdirSync(outdir, { recursive: true });
const entry = join(outdir, "entry.ts");
const src = (/** @type {string} */ path) => JSON.stringify(join(ROOT, path));
writeFileSync(
  entry,
  `import { SignJWT, generateKeyPair, exportJWK } from "jose";
import { solveProofOfWork } from ${src("client/proof-of-work.ts")};
import { verifyTicket, signTicket } from ${src("src/tickets/ticket-token.ts")};
import { hmacKeyring } from ${src("src/tickets/keyring.ts")};
import { verifyDpopProof, accessTokenHash } from ${src("src/auth/dpop.ts")};
export { solveProofOfWork };

const URL_POLL = "https://antichambre.example/v1/rooms/permis/tickets/current";
let fixture: Promise<{ ring: any; ticket: string; proof: string; now: number }> | null = null;
async function pollFixture() {
  const ring = await hmacKeyring(JSON.stringify([{ kid: "k1", k: "${"A".repeat(43)}" }]));
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  const now = Date.now();
  const ticket = await signTicket(ring, { room: "permis", ticketId: "3.1234", key: { a: now, b: 3 * 2 ** 32 + 1234 }, jkt: "x".repeat(43), issuedAt: now, person: "sealed", unsynced: { ahead: 0, toldPosition: 1200, admittedTotal: 34000 } }, now);
  const proof = await new SignJWT({ htm: "GET", htu: URL_POLL, jti: crypto.randomUUID(), ath: await accessTokenHash(ticket) })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk }).setIssuedAt(Math.floor(now / 1000)).sign(privateKey);
  return { ring, ticket, proof, now };
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/poll") {
      const f = await (fixture ??= pollFixture());
      const mode = url.searchParams.get("mode");
      const n = Number(url.searchParams.get("n"));
      for (let i = 0; i < n && mode !== "none"; i++) {
        const t = await verifyTicket(f.ring, f.ticket, "permis", f.now);
        if (!t.ok) throw new Error("ticket " + t.reason);
        if (mode === "dpop") {
          const p = await verifyDpopProof(f.proof, { method: "GET", url: URL_POLL }, f.now, f.ticket);
          if (!p.ok) throw new Error("proof " + p.reason);
        }
      }
      return Response.json({ n });
    }
    const r = await solveProofOfWork(url.searchParams.get("c")!, Number(url.searchParams.get("d")));
    return Response.json({ hashes: r.hashes });
  },
};
`,
);
await build({
  entryPoints: [entry],
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  conditions: ["workerd", "worker", "browser"],
  target: "es2022",
  outfile: join(outdir, "pow.mjs"),
  logLevel: "error",
});
const { solveProofOfWork } = await import(pathToFileURL(join(outdir, "pow.mjs")).href);

/** A challenge of the service's real length (about 260 characters). */
const challenge = () => `${randomBytes(150).toString("base64url")}.${randomBytes(32).toString("base64url")}`;
/** The middle value (the upper one of an even count); 0 for none. */
const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mean = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * @typedef {{ bits: number, runs: number, mean_ms: number, median_ms: number, hashes_per_second: number }} SolveRow
 * @param {string} label
 * @param {(bits: number) => Promise<{ ms: number, hashes: number }>} solveOnce
 * @returns {Promise<SolveRow[]>}
 */
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
    rows.push({
      bits,
      runs: RUNS,
      mean_ms: Math.round(mean(ms)),
      median_ms: Math.round(median(ms)),
      hashes_per_second: Math.round((hashes / totalMs) * 1000),
    });
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
/** @type {SolveRow[]} */
let workerd;
/** Microseconds per poll, three rounds, by mode. @type {{ ticket: number[], dpop: number[] }} */
const poll = { ticket: [], dpop: [] };
try {
  const url = await mf.ready;
  /** @type {(c: string, d: number) => Promise<number>} */
  const call = async (c, d) => {
    const { hashes } = /** @type {{ hashes: number }} */ (
      await (await mf.dispatchFetch(`${url.origin}/?c=${encodeURIComponent(c)}&d=${d}`)).json()
    );
    return hashes;
  };
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
  // Poll verification: three rounds of POLLS verifications per mode, the empty request subtracted.
  const timed = async (/** @type {string} */ mode, /** @type {number} */ n) => {
    const t0 = performance.now();
    const res = await mf.dispatchFetch(`${url.origin}/poll?mode=${mode}&n=${n}`);
    if (!res.ok) throw new Error(`poll ${mode}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    return performance.now() - t0;
  };
  await timed("dpop", 200); // warm up (and build the fixture)
  await timed("ticket", 200);
  for (const mode of /** @type {const} */ (["ticket", "dpop"])) {
    const perPoll = [];
    for (let round = 0; round < 3; round++) perPoll.push(((await timed(mode, POLLS)) - (await timed("none", 0))) / POLLS);
    poll[mode] = perPoll.map((ms) => Math.round(ms * 1000));
    process.stderr.write(`workerd poll ${mode}: ${poll[mode].join(", ")} µs\n`);
  }
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
  poll_verification_microseconds_workerd: { ticket_only: poll.ticket, ticket_and_dpop_proof: poll.dpop, polls_per_round: POLLS },
};
mkdirSync(join(ROOT, "reports"), { recursive: true });
writeFileSync(join(ROOT, "reports", "abuse.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log("bits | expected hashes | Node SDK mean (median) | workerd SDK mean (median) | native 1 core");
for (const [i, bits] of BITS.entries()) {
  const n = /** @type {SolveRow} */ (node[i]);
  const w = /** @type {SolveRow} */ (workerd[i]);
  console.log(
    `${bits} | ${2 ** bits} | ${n.mean_ms} ms (${n.median_ms}) | ${w.mean_ms} ms (${w.median_ms}) | ${((2 ** bits / nativePerSecond) * 1000).toFixed(2)} ms`,
  );
}
console.log(
  `SDK hashes/s: Node ${node.map((r) => r.hashes_per_second).join(", ")}; workerd ${workerd.map((r) => r.hashes_per_second).join(", ")}; native ${nativePerSecond}/s per core`,
);
console.log(
  `poll verification in workerd, µs per poll (3 rounds of ${POLLS}): ticket ${poll.ticket.join(", ")}; ticket + DPoP proof ${poll.dpop.join(", ")}`,
);
