#!/usr/bin/env node
// End-to-end test: the real Worker under `npm start` (tools/start.mjs, wrangler's dev server), driven over HTTP the way
// phones and operators drive it. Unlike the vitest suites (one workerd isolate, manual clock, ticks run
// by hand) this exercises the real alarm-driven admission ticks, on-disk persistence across a restart,
// and the production bundle.
//
//   node test/e2e/run.mjs          (from the repository root; about 1-2 minutes)
//
// Plain Node ESM on purpose: no TypeScript step and no test framework, so it runs anywhere `npm ci` ran.
// Each check is a named async function; a failed check is recorded and the run goes on, so one report
// shows everything that is wrong. Results go to stdout and to reports/e2e.json; exit code 1 on failure.
// The server's own output is kept in reports/e2e-server.log (the bundle build's in e2e-bundle.log).
//
// Environment: E2E_IN_PLACE=1 serves the repository itself instead of a snapshot of it (see
// snapshotTree); E2E_KEEP=1 keeps the temporary directory (state, snapshot, bundle) even on success.

import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, inflateSync } from "node:zlib";
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { freePort, signalGroup, snapshotTree } from "../../tools/lib/processes.mjs";
import { loadLab } from "../../tools/lab/sdk.mjs";
import { DevServer } from "../../tools/lab/server.mjs";
import { assert, assertEqual, CheckError, Checks, need as needIn } from "../support/checks.mjs";
import { startIdentityProviderFor } from "../support/oidc-provider.mjs";
import { WALLET_ROOM, walletFlowChecks } from "./wallet-flow.mjs";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const REPORTS = join(REPO, "reports");
/** Where the server and the bundle build run from: a snapshot of REPO (see snapshotTree), or REPO itself. */
let ROOT = REPO;
const ADMIN_TOKEN = "dev-admin-token"; // the embedded development default (src/config/dev-defaults.ts)
const DEFAULT_ROOM = "permis"; // DEFAULT_ROOMS in wrangler.toml
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
/** 60/min admits one person a second: 20 people take about 20 s; leave room for a slow machine. */
const ADMISSION_DEADLINE_MS = 60_000;
/** Cap on the wait between polling rounds, whatever poll_after_seconds says (it can be up to 60 s). */
const MAX_POLL_WAIT_MS = 2_000;
const WORKERS_FREE_GZIP_LIMIT = 3 * 1024 * 1024;
const JOINERS = 20;
const PAUSED_JOINERS = 5;
const SHARDS = 4;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = () => Math.random().toString(36).slice(2, 8);
const log = (msg) => process.stdout.write(`  · ${msg}\n`);

// ---- source snapshot -----------------------------------------------------------------------------------

// ---- server lifecycle --------------------------------------------------------------------------------

// ---- HTTP ----------------------------------------------------------------------------------------------

/** One request; the body is parsed as JSON when the response says it is JSON (incl. problem+json). */
async function http(base, method, path, { headers = {}, body, token } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && typeof body !== "string" && !(body instanceof ReadableStream)) {
    payload = JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  const init = { method, headers: h, body: payload, signal: AbortSignal.timeout(15_000) };
  if (payload instanceof ReadableStream) init.duplex = "half";
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  let json = null;
  if (/json/.test(type) && text) {
    try {
      json = JSON.parse(text);
    } catch {
      // Reported by the check that looks at it.
    }
  }
  return {
    status: res.status,
    headers: res.headers,
    type,
    text,
    json,
    describe: () => `${method} ${path} → ${res.status} ${type} ${text.slice(0, 300)}`,
  };
}

async function sha256b64url(text) {
  return Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).toString("base64url");
}

/** Polls `device`'s ticket until admitted (a passthrough room admits within a tick or two). */
async function admittedPoll(base, room, device) {
  let status;
  for (let i = 0; i < 20; i++) {
    status = await device.poll(base, room);
    if (status.json?.status === "admitted") return status;
    await sleep(500);
  }
  throw new CheckError(`not admitted: ${status.describe()}`);
}

/** The latest DPoP-Nonce the issuer sent (RFC 9449 §8–9): every token and resource proof carries it. */
let dpopNonce;

/** `send(nonce)` with the latest nonce; once more with the answer's nonce if it was `use_dpop_nonce`. */
async function withDpopNonce(send) {
  let res = await send(dpopNonce);
  dpopNonce = res.headers.get("dpop-nonce") ?? dpopNonce;
  if (res.json?.error === "use_dpop_nonce") {
    res = await send(dpopNonce);
    dpopNonce = res.headers.get("dpop-nonce") ?? dpopNonce;
  }
  return res;
}

/** POST /token with a pre-authorized code and the device's DPoP proof. */
async function redeemCode(base, device, code) {
  return withDpopNonce(async (nonce) =>
    http(base, "POST", "/token", {
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        "pre-authorized_code": code,
      }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", dpop: await device.proof("POST", `${base}/token`, nonce) },
    }),
  );
}

/** A caller of the DPoP-bound endpoints with `accessToken`: a fresh proof (with `ath` and the nonce) per request. */
function accessCaller(base, device, accessToken) {
  return async (path, body) =>
    withDpopNonce(async (nonce) => {
      const claims = { htm: "POST", htu: `${base}${path}`, jti: crypto.randomUUID(), ath: await sha256b64url(accessToken) };
      const proof = await new SignJWT(nonce === undefined ? claims : { ...claims, nonce })
        .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: device.jwk })
        .setIssuedAt()
        .sign(device.privateKey);
      return http(base, "POST", path, { body, headers: { authorization: `DPoP ${accessToken}`, dpop: proof } });
    });
}

/** One credential request of `configuration`: a fresh c_nonce and a fresh wallet key's proof. */
async function requestCredential(base, withToken, issuer, configuration) {
  const nonceRes = await http(base, "POST", "/nonce", {});
  const walletKey = await Device.create("wallet-key");
  const keyProof = await new SignJWT({ nonce: nonceRes.json.c_nonce })
    .setProtectedHeader({ alg: "ES256", typ: "openid4vci-proof+jwt", jwk: walletKey.jwk })
    .setAudience(issuer)
    .setIssuedAt()
    .sign(walletKey.privateKey);
  return withToken("/credential", { credential_configuration_id: configuration, proofs: { jwt: [keyProof] } });
}

function expectProblem(res, status, what) {
  assert(res.status === status, `${what}: expected ${status}, got ${res.describe()}`);
  assert(res.type.startsWith("application/problem+json"), `${what}: expected application/problem+json, got ${res.describe()}`);
  assert(
    res.json && res.json.status === status && typeof res.json.type === "string",
    `${what}: not a problem document: ${res.text.slice(0, 300)}`,
  );
}

function admin(base) {
  return {
    put: (room, patch, token = ADMIN_TOKEN) => http(base, "PUT", `/v1/admin/rooms/${room}`, { body: patch, token }),
    get: (room, token = ADMIN_TOKEN) => http(base, "GET", `/v1/admin/rooms/${room}`, { token }),
  };
}

// ---- devices -------------------------------------------------------------------------------------------

/**
 * A phone: a P-256 key pair that proves possession with a DPoP proof (RFC 9449) on each join. The proof
 * binds method and URL (htu is the full URL without query), so it is signed for the exact request.
 */
class Device {
  /** `personId`: who holds the phone (a fresh synthetic person unless given). */
  static async create(label, personId = `FR-E2E-${crypto.randomUUID().slice(0, 8)}-${label}`) {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwk = await exportJWK(publicKey);
    return new Device(label, privateKey, jwk, await calculateJwkThumbprint(jwk, "sha256"), personId);
  }

  constructor(label, privateKey, jwk, jkt, personId) {
    this.label = label;
    this.personId = personId;
    this.privateKey = privateKey;
    this.jwk = jwk;
    this.jkt = jkt;
    this.ticket = null;
  }

  /** `nonce`: the issuer's DPoP nonce, where the endpoint requires one. */
  proof(method, url, nonce) {
    return new SignJWT({ htm: method, htu: url, jti: crypto.randomUUID(), ...(nonce === undefined ? {} : { nonce }) })
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: this.jwk })
      .setIssuedAt()
      .sign(this.privateKey);
  }

  /** An identity assertion for this phone's person, bound to this phone's key, from the development identity service. */
  async identityAssertion(base) {
    const res = await http(base, "POST", "/v1/dev/identity-assertions", { body: { person_id: this.personId, jkt: this.jkt } });
    if (res.status !== 201) throw new CheckError(`identity assertion: ${res.describe()}`);
    return res.json.identity_assertion;
  }

  async join(base, room) {
    const path = `/v1/rooms/${room}/tickets`;
    const body = { identity_assertion: await this.identityAssertion(base) };
    const res = await http(base, "POST", path, { body, headers: { dpop: await this.proof("POST", `${base}${path}`) } });
    if ((res.status === 200 || res.status === 201) && res.json?.ticket) this.ticket = res.json.ticket;
    return res;
  }

  poll(base, room) {
    return http(base, "GET", `/v1/rooms/${room}/tickets/current`, { token: this.ticket });
  }

  /** The ticket's place in line, [a, b]: its `ord` claim (readable, though only the service can sign it). */
  get place() {
    return decodeJwt(this.ticket).ord;
  }

  get ticketId() {
    return decodeJwt(this.ticket).sub;
  }
}

async function joinAll(base, room, devices) {
  const results = [];
  for (const d of devices) {
    const res = await d.join(base, room);
    results.push(res);
  }
  return results;
}

// ---- checks --------------------------------------------------------------------------------------------

const checks = new Checks();
const check = (name, fn) => checks.check(name, fn);
/** Shared state between checks; a check that needs something an earlier one failed to produce says so. */
const ctx = {};
const need = (...keys) => needIn(ctx, ...keys);

/**
 * Poll every device each round until all are admitted or the deadline passes. Records the round at which
 * each was first seen admitted. The order test: nobody falls back (admitted, then waiting again), and
 * nobody overtakes: along the join order, admission times never go down. Not "after every round the
 * admitted set is a prefix": the polls of one round are concurrent, and those that arrive while the
 * isolate refreshes its room snapshot are served the previous one (src/edge/snapshot-cache.ts), so one
 * round can see two snapshots a second apart.
 */
async function pollUntilAdmitted(base, room, devices, deadlineMs) {
  const firstAdmittedRound = new Array(devices.length).fill(null);
  const lastBody = new Array(devices.length).fill(null);
  const deadline = Date.now() + deadlineMs;
  for (let round = 0; ; round++) {
    const responses = await Promise.all(devices.map((d) => d.poll(base, room)));
    let pollAfter = Infinity;
    responses.forEach((res, i) => {
      assert(res.status === 200, `poll of ${devices[i].label} in round ${round}: ${res.describe()}`);
      const s = res.json.status;
      assert(s === "waiting" || s === "admitted", `${devices[i].label} in round ${round} is ${s}: ${res.text.slice(0, 200)}`);
      if (s === "admitted" && firstAdmittedRound[i] === null) firstAdmittedRound[i] = round;
      if (s === "waiting") {
        assert(
          firstAdmittedRound[i] === null,
          `${devices[i].label} was admitted in round ${firstAdmittedRound[i]} but is waiting again in round ${round}`,
        );
        pollAfter = Math.min(pollAfter, res.json.poll_after_seconds * 1000);
      }
      lastBody[i] = res.json;
    });
    const admitted = lastBody.map((b) => b?.status === "admitted");
    const k = admitted.filter(Boolean).length;
    const admittedAt = lastBody.map((b) => (b?.status === "admitted" ? Date.parse(b.admission.admitted_at) : null));
    const times = admittedAt.filter((t) => t !== null);
    assert(
      times.every((t, n) => n === 0 || times[n - 1] <= t),
      `round ${round}: admitted out of join order: ${admittedAt.map((t) => (t === null ? "." : new Date(t).toISOString().slice(17, 23))).join(" ")}`,
    );
    if (k === devices.length) return { rounds: round + 1, lastBody };
    if (Date.now() > deadline) throw new CheckError(`only ${k}/${devices.length} admitted after ${deadlineMs / 1000} s`);
    await sleep(Math.max(250, Math.min(pollAfter, MAX_POLL_WAIT_MS)));
  }
}

/** Admin stats, asserting 200. */
async function stats(base, room) {
  const res = await admin(base).get(room);
  assert(res.status === 200, `admin GET ${room}: ${res.describe()}`);
  return res.json;
}

/** Poll until a paused room's positions have settled: the coordinator has synced every arrival. */
async function settledPositions(base, room, devices, expectedWaiting) {
  const deadline = Date.now() + 15_000;
  let previous = null;
  for (;;) {
    const s = await stats(base, room);
    const responses = await Promise.all(devices.map((d) => d.poll(base, room)));
    for (const [i, res] of responses.entries()) {
      assert(res.status === 200 && res.json.status === "waiting", `${devices[i].label}: ${res.describe()}`);
    }
    const positions = responses.map((r) => r.json.position);
    if (s.waiting === expectedWaiting && previous && JSON.stringify(previous) === JSON.stringify(positions)) return positions;
    if (Date.now() > deadline)
      throw new CheckError(`positions did not settle: waiting=${s.waiting}, positions ${JSON.stringify(positions)}`);
    previous = positions;
    await sleep(1_200);
  }
}

// ---- bundle --------------------------------------------------------------------------------------------

/** The running bundle build, if any: the exit handler kills it along with the server. */
let bundleChild = null;

function run(cmd, args, env, logPath) {
  return new Promise((resolve) => {
    const out = createWriteStream(logPath);
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    bundleChild = child;
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on("exit", (code, signal) => {
      bundleChild = null;
      out.end(() => resolve({ code, signal }));
    });
  });
}

/** Files under dir, recursively. */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

async function buildBundle(workDir) {
  const outdir = join(workDir, "bundle");
  const logPath = join(REPORTS, "e2e-bundle.log");
  const { code, signal } = await run(
    "npx",
    ["wrangler", "deploy", "--dry-run", "--outdir", outdir],
    {
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_LOG_PATH: join(workDir, "wrangler-logs"),
      NO_COLOR: "1",
    },
    logPath,
  );
  return { code, signal, outdir, logPath };
}

// ---- the run -------------------------------------------------------------------------------------------

async function main() {
  mkdirSync(REPORTS, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), "antichambre-e2e-"));
  const persistDir = join(workDir, "state");
  mkdirSync(persistDir);
  const serverLog = join(REPORTS, "e2e-server.log");
  writeFileSync(serverLog, "");
  const port = await freePort();
  // The national identity service's stand-in (a real OpenID Connect provider in this process), which the
  // server is configured with for the authorization code flow's identity step (wallet-flow.mjs).
  const identity = await startIdentityProviderFor(`http://127.0.0.1:${port}`, log);
  identityProvider = identity.idp;
  // PUBLIC_ORIGIN set as a deployment must set it: the issuer identifier then never follows the Host.
  const server = new DevServer({
    root: ROOT,
    port,
    persistDir,
    logPath: serverLog,
    readyTimeoutMs: READY_TIMEOUT_MS,
    args: ["--var", `PUBLIC_ORIGIN:http://127.0.0.1:${port}`, "--var", `AUTHORIZATION_ROOM:${WALLET_ROOM}`, ...identity.args],
  });
  currentServer = server;
  const base = server.base;
  const t0 = Date.now();
  if (!process.env.E2E_IN_PLACE) ROOT = snapshotTree(REPO, workDir);
  log(`work dir ${workDir}, port ${port}, server log ${serverLog}`);

  try {
    const up = await check("server starts and answers", async () => {
      await server.start();
      return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
    });
    if (!up) return;

    await check("default room permis exists", async () => {
      const res = await http(base, "GET", `/v1/rooms/${DEFAULT_ROOM}`);
      assert(res.status === 200, res.describe());
      assertEqual(res.json.room, DEFAULT_ROOM, "room");
      assert(["open", "queueing", "paused", "closed"].includes(res.json.state), `unexpected state: ${res.text}`);
      assert(typeof res.json.waiting === "number", `no waiting count: ${res.text}`);
    });

    const room = `e2e-${rand()}`;
    await check("admin PUT creates a room (201)", async () => {
      const patch = { new_users_per_minute: 60, shards: SHARDS, admission_ttl_seconds: 300 };
      const res = await admin(base).put(room, patch);
      assert(res.status === 201, res.describe());
      assertEqual(res.json.room, room, "room");
      for (const [k, v] of Object.entries(patch)) assertEqual(res.json.config[k], v, `config.${k}`);
      // The public view sees it at once (the admin call cleared this isolate's snapshot cache).
      const pub = await http(base, "GET", `/v1/rooms/${room}`);
      assert(pub.status === 200, `public view of the new room: ${pub.describe()}`);
      ctx.room = room;
    });

    await check("admin API refuses wrong or missing token (401 problem+json)", async () => {
      const other = `e2e-${rand()}`;
      expectProblem(await admin(base).put(other, { paused: true }, "not-the-token"), 401, "PUT with wrong token");
      expectProblem(await admin(base).put(other, { paused: true }, null), 401, "PUT without token");
      expectProblem(await admin(base).get(room, "not-the-token"), 401, "GET with wrong token");
      // The refused PUT must not have created anything.
      const res = await admin(base).get(other);
      assert(res.status === 404, `room from a refused PUT: ${res.describe()}`);
    });

    await check(`${JOINERS} devices join in sequence (201, places in join order)`, async () => {
      need("room");
      const devices = await Promise.all(Array.from({ length: JOINERS }, (_, i) => Device.create(`device#${i}`)));
      const responses = await joinAll(base, room, devices);
      responses.forEach((res, i) => {
        assert(res.status === 201, `join of ${devices[i].label}: ${res.describe()}`);
        assert(typeof res.json.ticket === "string", `join of ${devices[i].label}: no ticket`);
        assertEqual(res.json.status, "waiting", `status of ${devices[i].label}`);
        for (const f of ["position", "estimated_wait_seconds", "poll_after_seconds"]) {
          assert(typeof res.json[f] === "number", `join of ${devices[i].label}: ${f} missing: ${res.text}`);
        }
      });
      // Places are distinct and follow the join order: it is the order admission must keep.
      for (let i = 1; i < devices.length; i++) {
        const [p, q] = [devices[i - 1].place, devices[i].place];
        assert(
          p[0] < q[0] || (p[0] === q[0] && p[1] < q[1]),
          `place of ${devices[i].label} ${JSON.stringify(q)} not after ${JSON.stringify(p)}`,
        );
      }
      ctx.devices = devices;
      ctx.joinPositions = responses.map((r) => r.json.position);
    });

    // Separate from the join check so that a wrong position does not stop the admission checks.
    // In a quiet room a join asks every shard for the arrivals its snapshot has not synced yet, so each
    // newcomer is told its true place (people admitted meanwhile only move it forward).
    await check("join positions count everyone ahead", async () => {
      need("joinPositions");
      const positions = ctx.joinPositions;
      assert(positions[0] === 1, `the first to join was told ${positions[0]}`);
      positions.forEach((p, i) =>
        assert(Number.isInteger(p) && p >= 1 && p <= i + 1, `join #${i} told position ${p}: ${JSON.stringify(positions)}`),
      );
      return `positions ${positions.join(",")}`;
    });

    await check("rejoin returns 200 with the same place", async () => {
      need("devices");
      const d = ctx.devices[JOINERS - 1]; // the last in line: still waiting for a good while
      const before = { place: d.place, id: d.ticketId };
      const res = await d.join(base, room);
      assert(res.status === 200, `rejoin: ${res.describe()}`);
      assertEqual(decodeJwt(res.json.ticket).ord, before.place, "place (ord) after rejoin");
      assertEqual(decodeJwt(res.json.ticket).sub, before.id, "ticket id (sub) after rejoin");
      if (res.json.status === "waiting") {
        // Admissions may have happened since the join: a place only ever moves forward, and nobody
        // can have more people ahead than joined before them.
        assert(
          res.json.position <= ctx.joinPositions[JOINERS - 1],
          `position went back: ${ctx.joinPositions[JOINERS - 1]} → ${res.json.position}`,
        );
      }
      return `status ${res.json.status}, position ${res.json.position ?? "-"}`;
    });

    // The bundle build needs no server; run it while the admission below mostly waits on the clock.
    const bundlePromise = buildBundle(workDir);

    await check(`all ${JOINERS} admitted in join order`, async () => {
      need("devices");
      const started = Date.now();
      // The order is asserted in every round, the last (everyone admitted) included: the server's
      // admission times along the join order, not the round in which each device first saw "admitted"
      // (a round's concurrent polls may be served snapshots a refresh apart).
      const { rounds, lastBody } = await pollUntilAdmitted(base, room, ctx.devices, ADMISSION_DEADLINE_MS);
      ctx.admitted = lastBody;
      return `${((Date.now() - started) / 1000).toFixed(1)} s, ${rounds} polling rounds`;
    });

    await check("admission tokens verify against /.well-known/jwks.json", async () => {
      need("admitted");
      const res = await http(base, "GET", "/.well-known/jwks.json");
      assert(res.status === 200 && Array.isArray(res.json?.keys) && res.json.keys.length > 0, `JWKS: ${res.describe()}`);
      for (const k of res.json.keys) assert(!("d" in k), `JWKS publishes a private key (kid ${k.kid})`);
      const jwks = createLocalJWKSet(res.json);
      for (const [i, body] of ctx.admitted.entries()) {
        const d = ctx.devices[i];
        const token = body.admission?.admission_token;
        assert(typeof token === "string", `${d.label}: no admission_token in ${JSON.stringify(body)}`);
        const { payload } = await jwtVerify(token, jwks, { algorithms: ["ES256"], issuer: base }).catch((e) => {
          throw new CheckError(`${d.label}: admission token refused: ${e.code ?? ""} ${e.message}`);
        });
        assertEqual(payload.room, room, `${d.label} token room`);
        assertEqual(payload.cnf?.jkt, d.jkt, `${d.label} token cnf.jkt (bound to the device key)`);
        assertEqual(payload.sub, d.ticketId, `${d.label} token sub`);
        assert(Date.parse(body.admission_expires_at) > Date.now(), `${d.label}: admission already expired: ${body.admission_expires_at}`);
      }
    });

    await check("bad ticket gets 401 problem+json", async () => {
      expectProblem(await http(base, "GET", `/v1/rooms/${room}/tickets/current`, { token: "not.a.ticket" }), 401, "garbage ticket");
      expectProblem(await http(base, "GET", `/v1/rooms/${room}/tickets/current`), 401, "no ticket");
      if (ctx.devices) {
        // A real ticket with one payload character changed: the MAC must catch it.
        const [h, p, s] = ctx.devices[0].ticket.split(".");
        const forged = `${h}.${p.slice(0, 10)}${p[10] === "A" ? "B" : "A"}${p.slice(11)}.${s}`;
        expectProblem(await http(base, "GET", `/v1/rooms/${room}/tickets/current`, { token: forged }), 401, "tampered ticket");
        // A valid ticket presented to another room.
        expectProblem(
          await http(base, "GET", `/v1/rooms/${DEFAULT_ROOM}/tickets/current`, { token: ctx.devices[0].ticket }),
          401,
          "ticket of another room",
        );
      }
    });

    await check("oversized body (20 KiB) gets 413 problem+json", async () => {
      const d = await Device.create("oversized");
      const body = JSON.stringify({ padding: "x".repeat(20 * 1024) });
      const path = `/v1/rooms/${room}/tickets`;
      // With Content-Length (what fetch sends for a string body): refused before the body is read.
      const res = await http(base, "POST", path, {
        body,
        headers: { "content-type": "application/json", dpop: await d.proof("POST", `${base}${path}`) },
      });
      expectProblem(res, 413, "20 KiB body");
    });

    // ---- issuance: the whole OpenID4VCI flow against the seeded register, as a wallet does it.
    await check("issuance: identity → join → admitted → token → nonce → mdoc + SD-JWT VC → notification", async () => {
      const issueRoom = `e2e-issue-${crypto.randomUUID().slice(0, 8)}`;
      const put = await admin(base).put(issueRoom, { queueing_method: "passthrough", shards: 2 });
      assert(put.status === 201, `create issuance room: ${put.describe()}`);
      // The synthetic register has some expired licences: try the first holders until one is valid.
      for (let n = 1; n <= 12; n++) {
        const personId = `FR-${String(n).padStart(6, "0")}`;
        const phone = await Device.create(`holder-${n}`, personId);
        const joined = await phone.join(base, issueRoom);
        assert(joined.status === 201, `join: ${joined.describe()}`);
        const status = await admittedPoll(base, issueRoom, phone);
        const offer = status.json.admission.credential_offer;
        const code = offer.grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"];
        const tokenRes = await redeemCode(base, phone, code);
        const token = tokenRes.json;
        assert(tokenRes.status === 200 && token.token_type === "DPoP", `token: ${tokenRes.describe()}`);
        const withToken = accessCaller(base, phone, token.access_token);
        const issued = {};
        for (const configuration of offer.credential_configuration_ids) {
          const res = await requestCredential(base, withToken, offer.credential_issuer, configuration);
          if (res.json?.error === "credential_request_denied") break; // expired or no licence: next person
          assert(res.status === 200, `credential ${configuration}: ${res.describe()}`);
          issued[configuration] = res.json;
        }
        if (Object.keys(issued).length === 0) continue;
        assert(Object.keys(issued).length === 2, `only ${Object.keys(issued).join(", ")} issued`);
        // mdoc: base64url CBOR IssuerSigned (a map of 2: nameSpaces, issuerAuth). Full verification with an
        // independent library runs in test/http/issuance.test.ts.
        const mdoc = Buffer.from(issued["fr.antichambre.mdl.mso_mdoc"].credentials[0].credential, "base64url");
        assert(mdoc[0] === 0xa2, `mdoc does not start with a CBOR map of two: ${mdoc.subarray(0, 4).toString("hex")}`);
        // SD-JWT VC: the issuer JWT verifies against the keys of the JWT VC issuer metadata.
        const sdJwt = issued["fr.antichambre.mdl.dc_sd_jwt"].credentials[0].credential;
        const jwks = createLocalJWKSet((await http(base, "GET", "/.well-known/jwt-vc-issuer")).json.jwks);
        const { payload } = await jwtVerify(sdJwt.split("~")[0], jwks, {
          algorithms: ["ES256"],
          issuer: offer.credential_issuer,
          typ: "dc+sd-jwt",
        });
        assert(payload.vct && payload.cnf?.jwk, "SD-JWT VC lacks vct or cnf");
        const notified = await withToken("/notification", {
          notification_id: issued["fr.antichambre.mdl.dc_sd_jwt"].notification_id,
          event: "credential_accepted",
        });
        assert(notified.status === 204, `notification: ${notified.describe()}`);
        ctx.issuedSdJwt = sdJwt;
        return `${personId}: mdoc ${mdoc.length} B, SD-JWT VC ${sdJwt.length} chars`;
      }
      throw new CheckError("no valid licence among the first 12 synthetic holders");
    });

    // ---- lifecycle: an operator revokes a credential this run was issued; a verifier sees it over HTTP.
    await check("lifecycle: an issued SD-JWT VC revoked by an operator reads 1 from its status list over HTTP", async () => {
      need("issuedSdJwt");
      const sdJwt = ctx.issuedSdJwt;
      const statusList = decodeJwt(sdJwt.split("~")[0]).status?.status_list;
      assert(
        statusList && typeof statusList.uri === "string" && Number.isInteger(statusList.idx),
        "the SD-JWT VC has no status.status_list",
      );
      assert(statusList.uri.startsWith(`${base}/`), `status list uri ${statusList.uri} is not on ${base}`);
      const path = new URL(statusList.uri).pathname;
      /** The entry's value in the Status List Token served at the uri (draft-ietf-oauth-status-list: zlib, `bits` per entry). */
      const entry = async () => {
        const res = await http(base, "GET", path, { headers: { accept: "application/statuslist+jwt" } });
        assert(res.status === 200, `status list: ${res.describe()}`);
        const token = decodeJwt(res.text.trim());
        assertEqual(token.sub, statusList.uri, "the token's sub");
        const { bits, lst } = token.status_list;
        const bytes = inflateSync(Buffer.from(lst, "base64url"));
        const perByte = 8 / bits;
        return (bytes[Math.floor(statusList.idx / perByte)] >> ((statusList.idx % perByte) * bits)) & ((1 << bits) - 1);
      };
      assertEqual(await entry(), 0, "status before the revocation");
      const list = path.split("/").pop();
      const revoked = await http(base, "POST", "/v1/admin/credentials/by-index/revoke", {
        token: ADMIN_TOKEN,
        body: { list, idx: statusList.idx, reason: "e2e: lost phone" },
      });
      assert(revoked.status === 200 && revoked.json?.changed === 1, `revoke: ${revoked.describe()}`);
      assertEqual(await entry(), 1, "status after the revocation (this location's cached token purged)");
      const again = await http(base, "POST", "/v1/admin/credentials/by-index/reinstate", {
        token: ADMIN_TOKEN,
        body: { list, idx: statusList.idx },
      });
      expectProblem(again, 409, "reinstating a revoked credential");
      const audit = await http(base, "GET", "/v1/admin/audit?limit=5", { token: ADMIN_TOKEN });
      assert(
        audit.json?.entries?.some((e) => e.action === "revoke" && e.target?.list === list && e.target?.idx === statusList.idx),
        `the revocation is not in the audit log: ${audit.describe()}`,
      );
      return `${list}/${statusList.idx}: 0 → 1 over HTTP, reinstatement refused 409, audited`;
    });

    // ---- one admission = one bounded issuance session, tried as the admitted device itself would.
    await check("one admission, one bounded session: code reuse, a 41-request loop, a dead token, a notification once", async () => {
      const boundRoom = `e2e-bound-${rand()}`;
      const put = await admin(base).put(boundRoom, { queueing_method: "passthrough", shards: 1, session_register_reads: 100 });
      assert(put.status === 201, `create room: ${put.describe()}`);
      for (let n = 13; n <= 30; n++) {
        const phone = await Device.create(`bounded-${n}`, `FR-${String(n).padStart(6, "0")}`);
        assert((await phone.join(base, boundRoom)).status === 201, "join");
        const status = await admittedPoll(base, boundRoom, phone);
        const offer = status.json.admission.credential_offer;
        const code = offer.grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"];
        const first = await redeemCode(base, phone, code);
        assert(first.status === 200, `token: ${first.describe()}`);
        const reuse = await redeemCode(base, phone, code);
        expectProblem(reuse, 400, "the same code redeemed again");
        assertEqual(reuse.json.error, "invalid_grant", "reuse error");
        const withToken = accessCaller(base, phone, first.json.access_token);
        const answers = [];
        for (let i = 0; i < 41; i++)
          answers.push(await requestCredential(base, withToken, offer.credential_issuer, offer.credential_configuration_ids[i % 2]));
        const licenceRefused = ["no_licence", "licence_expired", "licence_suspended", "licence_withdrawn"].includes(
          answers[0].json?.reason,
        );
        if (answers[0].json?.error === "credential_request_denied" && licenceRefused) continue; // no valid licence: next person
        const ok = answers.filter((a) => a.status === 200);
        const limit = (await stats(base, boundRoom)).session_limits.credentials_per_configuration;
        assertEqual(ok.length, 2 * limit, "credentials obtained by 41 requests");
        for (const a of answers.filter((x) => x.status !== 200))
          assertEqual(a.json?.reason, "credential_quota_exhausted", "refusal reason");
        const notification = { notification_id: ok[0].json.notification_id, event: "credential_accepted" };
        assertEqual((await withToken("/notification", notification)).status, 204, "notification");
        assertEqual((await stats(base, boundRoom)).active, 0, "active after the notification");
        const again = await withToken("/notification", notification);
        assertEqual(again.status, 401, "the same notification after the session ended");
        const after = await requestCredential(base, withToken, offer.credential_issuer, offer.credential_configuration_ids[0]);
        assertEqual(after.status, 401, "a credential after the session ended");
        assertEqual(after.json.error, "invalid_token", "error after the session ended");
        return `${phone.label}: ${ok.length} of 41 requests issued, code reuse ${reuse.status}, after the end ${after.status}`;
      }
      throw new CheckError("no valid licence among synthetic holders 13-30");
    });

    // ---- a standard wallet (an unmodified OpenID4VCI library) through the authorization code flow.
    await walletFlowChecks({
      base,
      check: (name, fn) => check(`wallet: ${name}`, fn),
      idp: identity.idp,
      putRoom: (r, patch) => admin(base).put(r, patch),
      personId: (await loadLab(ROOT)).population[200],
      log,
    });

    await check("a spoofed Host header: the metadata names PUBLIC_ORIGIN, never the Host it was asked under", async () => {
      const ask = (path) =>
        new Promise((resolve, reject) => {
          const req = httpRequest(`${base}${path}`, { headers: { host: "evil.example" } }, (res) => {
            let text = "";
            res.on("data", (chunk) => (text += chunk));
            res.on("end", () => resolve({ status: res.statusCode, text }));
          });
          req.on("error", reject);
          req.end();
        });
      for (const path of ["/.well-known/openid-credential-issuer", "/.well-known/oauth-authorization-server"]) {
        const res = await ask(path);
        assertEqual(res.status, 200, `${path} status`);
        assert(!res.text.includes("evil.example"), `${path} names the spoofed host: ${res.text.slice(0, 200)}`);
        assert(res.text.includes(base), `${path} does not name ${base}`);
      }
      return `issuer stays ${base}`;
    });

    // ---- restart: state on disk must carry every ticket, place and admission across a process restart.

    const pausedRoom = `e2e-paused-${rand()}`;
    await check(`${PAUSED_JOINERS} devices join a paused room`, async () => {
      // 600/min so that, once resumed after the restart, everyone goes through in a tick or two.
      const put = await admin(base).put(pausedRoom, { paused: true, shards: 4, new_users_per_minute: 600, admission_ttl_seconds: 300 });
      assert(put.status === 201, `create paused room: ${put.describe()}`);
      const devices = await Promise.all(Array.from({ length: PAUSED_JOINERS }, (_, i) => Device.create(`paused#${i}`)));
      const responses = await joinAll(base, pausedRoom, devices);
      responses.forEach((res, i) => {
        assert(res.status === 201, `join of ${devices[i].label}: ${res.describe()}`);
        assertEqual(res.json.status, "waiting", `status of ${devices[i].label}`);
        assertEqual(res.json.estimated_wait_seconds, null, `estimate of ${devices[i].label} in a paused room`);
      });
      // Positions come from the coordinator's histogram, exact once a tick has synced the arrivals.
      const positions = await settledPositions(base, pausedRoom, devices, PAUSED_JOINERS);
      for (let i = 1; i < positions.length; i++)
        assert(positions[i] >= positions[i - 1], `positions decrease: ${JSON.stringify(positions)}`);
      ctx.pausedDevices = devices;
      ctx.pausedPositions = positions;
      return `positions ${positions.join(",")}`;
    });

    await check("state recorded before restart", async () => {
      need("admitted");
      const s = await stats(base, room);
      assertEqual(s.admitted_total, JOINERS, "admitted_total");
      ctx.admittedTotalBefore = s.admitted_total;
      ctx.admittedAtBefore = ctx.admitted.map((b) => b.admission.admitted_at);
      if (ctx.pausedDevices) ctx.pausedStatsBefore = await stats(base, pausedRoom);
    });

    await check("server stops with no process left behind", async () => {
      const leftovers = await server.stop();
      assert(leftovers.length === 0, `still running ${STOP_TIMEOUT_MS / 1000} s after SIGTERM (killed): pids ${leftovers.join(",")}`);
    });

    const restarted = await check("server restarts on the same state", async () => {
      const t = Date.now();
      await server.start();
      return `${((Date.now() - t) / 1000).toFixed(1)} s`;
    });

    if (restarted) {
      await check("admitted tickets still admitted after restart", async () => {
        need("admitted", "admittedAtBefore");
        const responses = await Promise.all(ctx.devices.map((d) => d.poll(base, room)));
        responses.forEach((res, i) => {
          assert(res.status === 200, `poll of ${ctx.devices[i].label}: ${res.describe()}`);
          assertEqual(res.json.status, "admitted", `${ctx.devices[i].label} status (admission_ttl_seconds is 300)`);
          assertEqual(res.json.admission.admitted_at, ctx.admittedAtBefore[i], `${ctx.devices[i].label} admitted_at`);
        });
      });

      await check("paused-room tickets keep their positions after restart", async () => {
        need("pausedDevices");
        const responses = await Promise.all(ctx.pausedDevices.map((d) => d.poll(base, pausedRoom)));
        responses.forEach((res, i) =>
          assert(res.status === 200 && res.json.status === "waiting", `${ctx.pausedDevices[i].label}: ${res.describe()}`),
        );
        assertEqual(
          responses.map((r) => r.json.position),
          ctx.pausedPositions,
          "positions",
        );
      });

      await check("rejoin after restart returns 200 with the same place", async () => {
        need("pausedDevices");
        const d = ctx.pausedDevices[2];
        const before = { place: d.place, id: d.ticketId };
        const res = await d.join(base, pausedRoom);
        assert(res.status === 200, `rejoin: ${res.describe()}`);
        assertEqual(decodeJwt(res.json.ticket).ord, before.place, "place (ord)");
        assertEqual(decodeJwt(res.json.ticket).sub, before.id, "ticket id (sub)");
        assertEqual(res.json.position, ctx.pausedPositions[2], "position");
      });

      await check("admin stats survive restart", async () => {
        need("admittedTotalBefore");
        const s = await stats(base, room);
        assertEqual(s.admitted_total, ctx.admittedTotalBefore, `${room} admitted_total`);
        if (ctx.pausedStatsBefore) {
          const p = await stats(base, pausedRoom);
          assertEqual(p.waiting, ctx.pausedStatsBefore.waiting, `${pausedRoom} waiting`);
          assertEqual(p.config, ctx.pausedStatsBefore.config, `${pausedRoom} config`);
        }
      });

      // Admission ticks are Durable Object alarms: they must survive the restart too, or a room freezes.
      await check("resumed room admits its queue in order after restart", async () => {
        need("pausedDevices");
        const put = await admin(base).put(pausedRoom, { paused: false });
        assert(put.status === 200, `resume: ${put.describe()}`);
        await pollUntilAdmitted(base, pausedRoom, ctx.pausedDevices, 20_000);
      });
    }

    // Last request of the run, on purpose: under `wrangler dev`, after a chunked body the Worker refused
    // before reading it all, the dev proxy (not the Worker) fails the next non-GET request with a 503
    // "Your worker restarted mid-request". Going last, that cannot disturb the other checks.
    await check("oversized chunked body (no Content-Length) gets 413 problem+json", async () => {
      const d = await Device.create("oversized-chunked");
      const bytes = new TextEncoder().encode(JSON.stringify({ padding: "x".repeat(20 * 1024) }));
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 4096) controller.enqueue(bytes.slice(i, i + 4096));
          controller.close();
        },
      });
      const path = `/v1/rooms/${room}/tickets`;
      const res = await http(base, "POST", path, {
        body: stream,
        headers: { "content-type": "application/json", dpop: await d.proof("POST", `${base}${path}`) },
      });
      expectProblem(res, 413, "20 KiB chunked body");
    });

    await check("bundle builds and fits the Workers free plan (gzip < 3 MiB)", async () => {
      const { code, signal, outdir, logPath } = await bundlePromise;
      assert(code === 0, `wrangler deploy --dry-run exited ${code ?? signal}; see ${logPath}`);
      const js = walk(outdir).filter((f) => /\.m?js$/.test(f));
      assert(js.length > 0, `no .js in ${outdir}`);
      let raw = 0;
      let gz = 0;
      for (const f of js) {
        raw += statSync(f).size;
        gz += gzipSync(readFileSync(f), { level: 9 }).length;
      }
      assert(gz < WORKERS_FREE_GZIP_LIMIT, `gzip size ${gz} bytes ≥ ${WORKERS_FREE_GZIP_LIMIT}`);
      const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
      return {
        detail: `${js.length} file(s), raw ${kib(raw)}, gzip ${kib(gz)}`,
        data: { files: js.length, raw_bytes: raw, gzip_bytes: gz },
      };
    });
  } finally {
    const leftovers = await server.stop();
    if (leftovers.length) console.log(`warning: server processes needed SIGKILL: ${leftovers.join(",")}`);
    await identityProvider?.close();
    const failed = checks.failed;
    // Keep the state for diagnosis when something failed.
    if (failed === 0 && !process.env.E2E_KEEP) rmSync(workDir, { recursive: true, force: true });
    else log(`kept ${workDir} for diagnosis`);
    log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

let currentServer = null;
/** The identity provider started for the run (closed at the end). */
let identityProvider = null;

function report() {
  const { passed, failed } = checks;
  mkdirSync(REPORTS, { recursive: true });
  writeFileSync(join(REPORTS, "e2e.json"), `${JSON.stringify({ passed, failed, checks: checks.results }, null, 2)}\n`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed;
}

// Never leave a wrangler/workerd behind, whatever ends this process.
process.on("exit", () => {
  currentServer?.killNow();
  if (bundleChild) signalGroup(bundleChild.pid, "SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.log(`\ninterrupted by ${signal}`);
    checks.fail("run interrupted", signal);
    report();
    process.exit(130);
  });
}

try {
  await main();
} catch (e) {
  checks.fail("e2e runner", `${e?.stack ?? e}`);
  console.log(`FAIL e2e runner: ${e?.stack ?? e}`);
}
process.exit(report() > 0 ? 1 : 0);
