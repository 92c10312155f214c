/**
 * Benchmark-only Worker (npm run bench): the floors the real endpoints are compared with, and a fast way
 * to fill a room's real queue shards. Never deployed; tools/bench.mjs bundles it and runs it in the
 * same workerd process as the real Worker, with the same options.
 *
 * | route                           | what it does, and nothing else                                        |
 * |---------------------------------|-----------------------------------------------------------------------|
 * | POST /floor/rpc-insert          | one Durable Object RPC whose method does one SQLite insert            |
 * | POST /v1/rooms/{room}/tickets   | a join's signature checks (DPoP proof, identity assertion; the very   |
 * |                                 | functions the join uses) + the same RPC and insert                    |
 * | POST /credential                | a credential request's signature work: DPoP proof (with `ath`), each  |
 * |                                 | key proof, and one COSE_Sign1 ES256 signature per credential          |
 * | POST /floor/register-read       | one licence register read (D1), the row a credential is made from     |
 * | POST /floor/credential-objects/ | a credential request's Durable Object round trips as they were before |
 * |   before                        | the issuance session: DPoP jti claim + c_nonce claim (two ReplayGuard) |
 * | POST /floor/credential-objects/ | ...and as they are now: the session's spend (session open, proof id,  |
 * |   after                         | quotas: one IssuanceSessions RPC) + the c_nonce claim (ReplayGuard)   |
 * | POST /floor/session-objects/    | one issuance session's start and end, object round trips as they were |
 * |   before                        | with sessions in the coordinator: coordinator insert, redeem, notify, |
 * |                                 | coordinator update, end confirmation (one room: one coordinator)      |
 * | POST /floor/session-objects/    | ...and as they are now: redeem, notify (IssuanceSessions only)        |
 * |   after                         |                                                                       |
 * | POST /floor/snapshot-miss/      | an isolate whose snapshot is a TTL old, before: the coordinator's     |
 * |   before?room=                  | snapshot RPC (every isolate, once per TTL)                            |
 * | POST /floor/snapshot-miss/      | ...and now: the location's copy (Cache API match + parse); the        |
 * |   after?room=                   | coordinator only when the copy is a TTL old (once per location)       |
 * | POST /fill                      | joins synthetic people into a room's REAL QueueShard objects          |
 * | GET /shard-ids?room=&shards=    | those objects' ids (their SQLite files on disk are named after them)  |
 *
 * The floor routes check proofs made for the real Worker: `TARGET_ORIGIN` (a var set by the bench) is the
 * real Worker's origin, which the proofs' `htu` and the key proofs' `aud` name.
 */
import { DurableObject } from "cloudflare:workers";
import { base64url, importJWK } from "jose";
import type { IssuanceSessions } from "../../../durable-objects/issuance-sessions";
import type { QueueShard } from "../../../durable-objects/queue-shard";
import type { RoomCoordinator } from "../../../durable-objects/room-coordinator";
import type { ReplayGuard } from "../../../durable-objects/replay-guard";
import type { JoinRequest } from "../../../src/admission/protocol";
import { coordinatorOf, shardName, shardOf } from "../../../src/edge/objects";
import { LOCATION_CACHE, publishLocationCopy, readLocationCopy } from "../../../src/edge/snapshot-cache";
import { verifyDpopProof } from "../../../src/auth/dpop";
import { DEV_MDOC_DS_CERT_PEM, DEV_MDOC_DS_KEY } from "../../../src/config/dev-credentials";
import { DEV_IDENTITY_ISSUER, DEV_IDENTITY_KEY, DEV_PSEUDONYM_KEY } from "../../../src/config/dev-defaults";
import { signCoseSign1, type CoseSign1Signer } from "../../../src/credentials/mdoc/cose-sign1";
import { pemToDer } from "../../../src/credentials/mdoc/pem";
import { claimOnce } from "../../../src/edge/replay";
import { shardFor } from "../../../src/edge/shard-for";
import { sessionObject } from "../../../src/issuance/sessions";
import type { Env } from "../../../src/config/env";
import { verifyIdentityAssertion } from "../../../src/identity/identity-assertion";
import { personPseudonym } from "../../../src/identity/pseudonym";
import { verifyKeyProof } from "../../../src/issuance/key-proof";
import { REGISTER_TABLE } from "../../../src/register/table";

interface FloorEnv {
  FLOOR_SHARD: DurableObjectNamespace<FloorShard>;
  /** The real Worker's queue shards (script "antichambre"), for /fill. */
  QUEUE_SHARD: DurableObjectNamespace<QueueShard>;
  /** The real Worker's one-time values and issuance sessions, for /floor/credential-objects/*. */
  REPLAY_GUARD: DurableObjectNamespace<ReplayGuard>;
  ISSUANCE_SESSIONS: DurableObjectNamespace<IssuanceSessions>;
  /** The real Worker's room coordinators (their snapshot), for /floor/snapshot-miss/*. */
  ROOM_COORDINATOR: DurableObjectNamespace<RoomCoordinator>;
  /** Stands in for the coordinator's session rows as they were, for /floor/session-objects/before. */
  FLOOR_COORDINATOR: DurableObjectNamespace<FloorCoordinator>;
  /** The licence register (the same D1 database as the real Worker's), for /floor/register-read. */
  REGISTER: D1Database;
  TARGET_ORIGIN: string;
}

/** As many floor objects as a room has queue shards by default, so both spread their writes alike. */
const FLOOR_SHARDS = 8;

/**
 * The floor's storage: the same table shape as QueueShard's `tickets` (so the insert costs what the
 * real one costs), and nothing else.
 */
export class FloorShard extends DurableObject<FloorEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS tickets (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        person TEXT NOT NULL UNIQUE,
        jkt TEXT NOT NULL,
        a INTEGER NOT NULL,
        joined_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS tickets_by_order ON tickets (a, seq);
    `);
  }

  /**
   * One row written. An upsert rather than a plain insert only so that a request the bench sends twice
   * (its calibration reuses the first pre-generated joins) writes again instead of failing; a new person,
   * which is every other request, costs exactly an insert.
   */
  insert(person: string, jkt: string): number {
    const now = Date.now();
    return this.sql
      .exec<{ seq: number }>(
        "INSERT INTO tickets (person, jkt, a, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT (person) DO UPDATE SET jkt = excluded.jkt RETURNING seq",
        person,
        jkt,
        now,
        now,
      )
      .one().seq;
  }
}

/**
 * The coordinator's session rows as they were before sessions left it (the table's shape, an insert
 * when a session started, an update when it ended): one object, as a room had one coordinator.
 */
export class FloorCoordinator extends DurableObject<FloorEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS sessions (
      ticket_id TEXT PRIMARY KEY, admitted_at INTEGER NOT NULL, started_at INTEGER NOT NULL,
      ends_at INTEGER NOT NULL, ended_at INTEGER, jkt TEXT
    )`);
  }

  startSession(ticketId: string, jkt: string): number {
    const now = Date.now();
    this.sql.exec("INSERT INTO sessions VALUES (?, ?, ?, ?, NULL, ?)", ticketId, now, now, now + 900_000, jkt);
    return now + 900_000;
  }

  endSession(ticketId: string): boolean {
    this.sql.exec("UPDATE sessions SET ended_at = ? WHERE ticket_id = ? AND ended_at IS NULL", Date.now(), ticketId);
    return true;
  }
}

const IDENTITY_JWKS = JSON.stringify({
  keys: [{ kid: DEV_IDENTITY_KEY.kid, kty: "EC", crv: "P-256", x: DEV_IDENTITY_KEY.x, y: DEV_IDENTITY_KEY.y }],
});

let roundRobin = 0;
const floorStub = (env: FloorEnv, shard: number) => env.FLOOR_SHARD.get(env.FLOOR_SHARD.idFromName(`floor#${shard}`));

/** Cheap, non-cryptographic spread of a string over the floor shards (FNV-1a). */
function spread(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % FLOOR_SHARDS;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

async function rpcInsert(env: FloorEnv): Promise<Response> {
  const person = crypto.randomUUID();
  const seq = await floorStub(env, roundRobin++ % FLOOR_SHARDS).insert(person, person);
  return json({ seq }, 201);
}

async function joinCrypto(request: Request, env: FloorEnv, path: string): Promise<Response> {
  const now = Date.now();
  const body = (await request.json()) as { identity_assertion?: unknown };
  const proof = await verifyDpopProof(
    request.headers.get("dpop") ?? undefined,
    { method: "POST", url: `${env.TARGET_ORIGIN}${path}` },
    now,
  );
  if (!proof.ok) return json({ refused: "dpop", reason: proof.reason }, 401);
  const identity = await verifyIdentityAssertion(
    typeof body.identity_assertion === "string" ? body.identity_assertion : "",
    { jwks: IDENTITY_JWKS, issuer: DEV_IDENTITY_ISSUER, audience: "antichambre" },
    now,
    { jkt: proof.jkt },
  );
  if (!identity.ok) return json({ refused: "identity", reason: identity.reason }, 401);
  const seq = await floorStub(env, spread(identity.personId)).insert(identity.personId, proof.jkt);
  return json({ seq }, 201);
}

let dsSigner: Promise<CoseSign1Signer> | null = null;

function documentSigner(): Promise<CoseSign1Signer> {
  dsSigner ??= (async () => {
    const jwk = JSON.parse(DEV_MDOC_DS_KEY) as Record<string, string>;
    const key = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
    return { key, x5chain: [pemToDer(DEV_MDOC_DS_CERT_PEM)] };
  })();
  return dsSigner;
}

/**
 * About the size of a real mDL's MobileSecurityObject (digests of every element, device key, validity).
 * The bytes do not matter to the signature's cost. (No randomness here: workerd forbids it at global scope.)
 */
const MSO_SIZED_PAYLOAD = Uint8Array.from({ length: 1024 }, (_, i) => (i * 131 + 7) & 0xff);

async function credentialCrypto(request: Request, env: FloorEnv): Promise<Response> {
  const now = Date.now();
  const token = /^DPoP (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!token) return json({ refused: "token" }, 401);
  const proof = await verifyDpopProof(
    request.headers.get("dpop") ?? undefined,
    { method: "POST", url: `${env.TARGET_ORIGIN}/credential` },
    now,
    token,
  );
  if (!proof.ok) return json({ refused: "dpop", reason: proof.reason }, 401);
  const body = (await request.json()) as { proofs?: { jwt?: unknown } };
  const jwts = Array.isArray(body.proofs?.jwt) ? (body.proofs.jwt as unknown[]) : [];
  const signer = await documentSigner();
  const signatures: string[] = [];
  for (const jwt of jwts) {
    const keyProof = await verifyKeyProof(typeof jwt === "string" ? jwt : "", env.TARGET_ORIGIN, now);
    if (!keyProof.ok) return json({ refused: "key_proof", reason: keyProof.reason }, 400);
    const [, , , signature] = await signCoseSign1(MSO_SIZED_PAYLOAD, signer);
    signatures.push(base64url.encode(signature));
  }
  return json({ signatures });
}

/** The columns the issuer reads (src/register/register.ts), for one person. */
const SELECT_HOLDER = `SELECT person_id, family_name, given_name, birth_date, issue_date, expiry_date, document_number,
  issuing_authority, issuing_country, un_distinguishing_sign, portrait, driving_privileges
  FROM ${REGISTER_TABLE} WHERE person_id = ?`;

async function registerRead(request: Request, env: FloorEnv): Promise<Response> {
  const { person_id } = (await request.json()) as { person_id: string };
  const row = await env.REGISTER.prepare(SELECT_HOLDER).bind(person_id).first<Record<string, unknown>>();
  return row ? json({ found: true }) : json({ found: false }, 404);
}

/**
 * The credential endpoint's object round trips, before and after issuance sessions, through the very
 * functions the endpoint uses (claimOnce, sessionObject, IssuanceSessions.spend). Sixteen sessions per
 * isolate, opened on first use with limits no run reaches, like the bench's real credential sessions.
 */
const BENCH_SESSIONS = 16;
const openedSessions = new Map<string, Promise<unknown>>();
const asEnv = (env: FloorEnv) => env as unknown as Env;

async function credentialObjectsBefore(env: FloorEnv): Promise<Response> {
  const expires = Date.now() + 600_000;
  // One after the other, as the endpoint made them: the proof's jti when the token was checked, the
  // c_nonce once the key proofs were.
  const dpop = await claimOnce(asEnv(env), "dpop", `bench:${crypto.randomUUID()}`, expires);
  const nonce = await claimOnce(asEnv(env), "nonce", crypto.randomUUID(), expires);
  return dpop && nonce ? json({ ok: true }) : json({ refused: true }, 409);
}

async function credentialObjectsAfter(env: FloorEnv): Promise<Response> {
  const sessionId = `bench-floor/0.${roundRobin++ % BENCH_SESSIONS}`;
  const sessions = await sessionObject(asEnv(env), sessionId);
  const expires = Date.now() + 600_000;
  let opened = openedSessions.get(sessionId);
  if (!opened) {
    const limits = { credentialsPerConfiguration: 1e9, registerReads: 1e9 };
    opened = sessions.redeem(sessionId, {
      codeId: crypto.randomUUID(),
      codeExpiresAt: expires,
      jkt: "bench",
      proofId: crypto.randomUUID(),
      proofExpiresAt: expires,
      room: "bench-floor",
      ticketId: sessionId,
      endsAt: Date.now() + 86_400_000,
      limits,
      admittedAt: Date.now(),
      admissionExpiresAt: expires,
    });
    openedSessions.set(sessionId, opened);
  }
  await opened;
  // In the endpoint's order: the session's spend (with the proof's jti), then the c_nonce.
  const spent = await sessions.spend(sessionId, {
    jkt: "bench",
    proofId: crypto.randomUUID(),
    proofExpiresAt: expires,
    configuration: "fr.antichambre.mdl.mso_mdoc",
    count: 1,
  });
  if (!spent.ok) return json({ refused: spent.reason }, 409);
  const nonce = await claimOnce(asEnv(env), "nonce", crypto.randomUUID(), expires);
  return nonce ? json({ ok: true }) : json({ refused: "nonce" }, 409);
}

/**
 * One issuance session, opened by the token endpoint and ended by an accepting notification, through
 * the real IssuanceSessions object. Before: the coordinator heard both (its start RPC wrote a row, its
 * end RPC updated it, and the notification confirmed the end to the session object afterwards); now the
 * session object alone. Each request is a new session (new ticket id).
 */
async function sessionObjects(env: FloorEnv, before: boolean): Promise<Response> {
  const ticketId = crypto.randomUUID();
  const sessionId = `bench-floor/${ticketId}`;
  const sessions = await sessionObject(asEnv(env), sessionId);
  const coordinator = env.FLOOR_COORDINATOR.get(env.FLOOR_COORDINATOR.idFromName("bench-floor"));
  const now = Date.now();
  const proof = () => ({ jkt: "bench", proofId: crypto.randomUUID(), proofExpiresAt: now + 600_000 });
  const endsAt = before ? await coordinator.startSession(ticketId, "bench") : now + 900_000;
  const redeemed = await sessions.redeem(sessionId, {
    ...proof(),
    codeId: crypto.randomUUID(),
    codeExpiresAt: now + 600_000,
    room: "bench-floor",
    ticketId,
    endsAt,
    limits: { credentialsPerConfiguration: 1, registerReads: 1 },
    admittedAt: now,
    admissionExpiresAt: now + 300_000,
  });
  if (!redeemed.ok) return json({ refused: redeemed.reason }, 409);
  const noted = await sessions.notify(sessionId, {
    ...proof(),
    notificationId: crypto.randomUUID(),
    notificationExpiresAt: now + 600_000,
    event: "credential_accepted",
  });
  if (!noted.ok) return json({ refused: noted.reason }, 409);
  if (before) {
    await coordinator.endSession(ticketId);
    // The end's confirmation was one more session-object RPC that rewrote the session's row.
    await sessions.release(sessionId, "none", 0, true);
  }
  return json({ ok: true });
}

/**
 * An isolate whose snapshot is a TTL old. Before: it asked the coordinator (every isolate, once per
 * TTL). Now: it reads its location's copy, and asks the coordinator only when that copy is itself a TTL
 * old (one request per location per TTL), publishing the new copy.
 */
async function snapshotMiss(url: URL, env: FloorEnv, before: boolean): Promise<Response> {
  const room = url.searchParams.get("room") ?? "";
  const read = async () => {
    const answer = await coordinatorOf(env, room).snapshot();
    return answer.ok ? answer.value : null;
  };
  if (before) return json({ generatedAt: (await read())?.generatedAt ?? null });
  const location = await caches.open(LOCATION_CACHE);
  const copy = await readLocationCopy(location, room);
  if (copy && Date.now() - copy.fetchedAt < 1_000) return json({ generatedAt: copy.snapshot?.generatedAt ?? null });
  const snapshot = await read();
  await publishLocationCopy(location, room, { fetchedAt: Date.now(), snapshot });
  return json({ generatedAt: snapshot?.generatedAt ?? null });
}

/** Per room and shard: the highest seq seen, passed on as a snapshot's `syncedSeq` would be. */
const lastSeq = new Map<string, number>();

interface FillRequest {
  room: string;
  shards: number;
  from: number;
  count: number;
  concurrency?: number;
}

/**
 * Joins people `BENCH-<from>` … into the room's real QueueShard objects through their own `join` RPC,
 * with the pseudonyms the Worker would compute and random device thumbprints: exactly the rows real joins
 * write, without each join's signature checks (measured separately).
 */
async function fill(request: Request, env: FloorEnv): Promise<Response> {
  const { room, shards, from, count, concurrency = 64 } = (await request.json()) as FillRequest;
  const started = Date.now();
  let next = from;
  const end = from + count;
  let created = 0;
  let retries = 0;
  const worker = async () => {
    while (next < end) {
      const i = next++;
      const person = await personPseudonym(DEV_PSEUDONYM_KEY, room, `BENCH-${String(i).padStart(7, "0")}`);
      const shard = shardFor(person, shards);
      const key = shardName(room, shard);
      const jkt = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
      const req: JoinRequest = { shard, person, jkt, syncedSeq: lastSeq.get(key) ?? 0, stamp: { kind: "fifo" } };
      // A join is idempotent per person, so a failed call (an overloaded object) is simply made again.
      for (let attempt = 1; ; attempt++) {
        try {
          const held = await shardOf(env, room, shard).join(req);
          if (held.created) created++;
          lastSeq.set(key, Math.max(lastSeq.get(key) ?? 0, held.seq));
          break;
        } catch (error) {
          if (attempt >= 5) throw error;
          retries++;
          await scheduler.wait(50 * attempt);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return json({ joined: count, created, retries, ms: Date.now() - started });
}

/** The hex ids of a room's shard objects: their SQLite files are named after them. */
function shardIds(url: URL, env: FloorEnv): Response {
  const room = url.searchParams.get("room") ?? "";
  const shards = Number(url.searchParams.get("shards") ?? "0");
  return json({ ids: Array.from({ length: shards }, (_, k) => env.QUEUE_SHARD.idFromName(shardName(room, k)).toString()) });
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/floor/rpc-insert") return rpcInsert(env);
    if (request.method === "POST" && /^\/v1\/rooms\/[^/]+\/tickets$/.test(url.pathname)) return joinCrypto(request, env, url.pathname);
    if (request.method === "POST" && url.pathname === "/credential") return credentialCrypto(request, env);
    if (request.method === "POST" && url.pathname === "/floor/register-read") return registerRead(request, env);
    if (request.method === "POST" && url.pathname === "/floor/credential-objects/before") return credentialObjectsBefore(env);
    if (request.method === "POST" && url.pathname === "/floor/credential-objects/after") return credentialObjectsAfter(env);
    if (request.method === "POST" && url.pathname === "/floor/session-objects/before") return sessionObjects(env, true);
    if (request.method === "POST" && url.pathname === "/floor/session-objects/after") return sessionObjects(env, false);
    if (request.method === "POST" && url.pathname === "/floor/snapshot-miss/before") return snapshotMiss(url, env, true);
    if (request.method === "POST" && url.pathname === "/floor/snapshot-miss/after") return snapshotMiss(url, env, false);
    if (request.method === "POST" && url.pathname === "/fill") return fill(request, env);
    if (request.method === "GET" && url.pathname === "/shard-ids") return shardIds(url, env);
    return json({ error: "not found" }, 404);
  },
} satisfies ExportedHandler<FloorEnv>;
