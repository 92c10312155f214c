/**
 * What each step of a person's way through the service costs in requests, as data: Worker requests
 * (with a modelled CPU time), Durable Object calls by class, SQLite rows, D1 register reads and calls to
 * the identity provider (IdP). The run counts steps; tools/sim/load.ts multiplies by this table.
 *
 * Sources: the calls are those of docs/scaling-past-one-coordinator.md (snapshot, token, credential,
 * notification, tick) and of the shared design for the authorization code flow (identity after
 * admission, one session per person claimed in the IssuanceSessions shard of the person's pseudonym).
 * CPU per request: a poll's 0.44 ms is measured (docs/measurements.md, npm run bench 2026-11-27); the
 * others are estimated from the same bench's throughput ratios (a join's two ES256 verifications, a
 * credential's signatures and MSO) and are labelled modelled in the report. Rows per call follow the
 * stores' statements (an insert writes its row and one entry per index; an indexed lookup reads one row)
 * and are modelled, not metered.
 */
export interface StepCost {
  /** Worker requests, and the modelled CPU milliseconds of each. */
  readonly worker: readonly (readonly [kind: WorkerKind, count: number])[];
  readonly queueShard?: number;
  /** IssuanceSessions calls on the shard of the session (room/ticket id)… */
  readonly sessionShard?: number;
  /** …and on the shard of the person's pseudonym (the one-session-per-person claim). */
  readonly claimShard?: number;
  readonly replayGuard?: number;
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly registerReads?: number;
  readonly idpRequests?: number;
}

export type WorkerKind = "join" | "poll" | "token" | "nonce" | "credential" | "notification" | "par" | "authorize" | "callback";

/** Modelled CPU ms per Worker request (see above: only `poll` is measured). */
export const CPU_MS: Record<WorkerKind, number> = {
  poll: 0.44,
  join: 1.6,
  token: 1.5,
  nonce: 0.3,
  credential: 4.0,
  notification: 0.5,
  par: 0.6,
  authorize: 0.4,
  callback: 1.5,
};

/** Credential requests per served person: one per format (mdoc and SD-JWT VC), each after its own nonce. */
export const CREDENTIAL_REQUESTS = 2;

export const STEPS = {
  /**
   * The app (pre-authorized flow) joins with an identity assertion it got from the IdP first: the IdP
   * sees the join rate. One QueueShard.join (find by person, insert row + 2 index entries) and the
   * DPoP proof's jti claimed in a ReplayGuard (row + expiry index).
   */
  joinApp: {
    worker: [["join", 1]],
    queueShard: 1,
    replayGuard: 1,
    rowsRead: 2,
    rowsWritten: 5,
    idpRequests: 1,
  },
  /** A browser queues anonymously (a sealed cookie holds its place): no IdP before admission. */
  joinBrowser: { worker: [["join", 1]], queueShard: 1, replayGuard: 1, rowsRead: 2, rowsWritten: 5 },
  /** A poll is answered from the isolate's snapshot: no object, no row. */
  poll: { worker: [["poll", 1]], rowsRead: 0, rowsWritten: 0 },
  /**
   * Pre-authorized code at /token: the snapshot decides (no coordinator call), then
   * IssuanceSessions.redeem on the session's shard (code and proof single use, session and admission
   * rows) and the person's claim on the pseudonym's shard.
   */
  redeemApp: {
    worker: [["token", 1]],
    sessionShard: 1,
    claimShard: 1,
    rowsRead: 4,
    rowsWritten: 8,
  },
  /**
   * Authorization code flow after admission: PAR, the authorization redirect to the IdP (the IdP's
   * login page: 1 IdP request), the callback (the IdP's token endpoint, back-channel: 1 more) with the
   * person's claim, then /token redeeming on the session's shard.
   */
  redeemBrowser: {
    worker: [
      ["par", 1],
      ["authorize", 1],
      ["callback", 1],
      ["token", 1],
    ],
    sessionShard: 1,
    claimShard: 1,
    rowsRead: 4,
    rowsWritten: 8,
    idpRequests: 2,
  },
  /**
   * Each credential request: a nonce request (sealed, no object), then /credential: IssuanceSessions.spend
   * (quota row), the c_nonce claimed in a ReplayGuard, one register read (D1, by primary key).
   */
  credential: {
    worker: [
      ["nonce", 1],
      ["credential", 1],
    ],
    sessionShard: 1,
    replayGuard: 1,
    rowsRead: 2,
    rowsWritten: 3,
    registerReads: 1,
  },
  /** The accepting notification ends the session in its shard (no coordinator call). */
  notification: { worker: [["notification", 1]], sessionShard: 1, rowsRead: 1, rowsWritten: 2 },
} satisfies Record<string, StepCost>;

export type Step = keyof typeof STEPS;

/** Per tick, beyond the rows each sync scans: the tick record, the room row, the alarm and one row per queue shard. */
export const TICK_ROWS_WRITTEN_BASE = 3;

/** D1 rows read per register read (a primary-key lookup). */
export const REGISTER_ROWS_READ = 1;

/** Memory billed per active Durable Object (Cloudflare bills 128 MB whatever is used). */
export const DURABLE_OBJECT_GB = 0.128;
