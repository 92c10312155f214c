/**
 * The national licence register, as the issuer sees it: the protected backend the waiting room exists to
 * shield. This is the ONLY module that reads it (D1 binding REGISTER, table licence_holders; schema in
 * migrations/0001_licence_holders.sql).
 *
 * Capacity. The real register answers a bounded number of lookups at once; past that it slows for
 * everyone. So reads here go through a gate: at most `maxConcurrency` in flight, a caller that cannot
 * get a slot within `queueTimeoutMs` is refused at once with RegisterBusyError (retryable, with a
 * Retry-After hint) instead of piling on. Nobody waits longer than the queue timeout for a slot, and a
 * read that has a slot gives up after `readTimeoutMs` (RegisterUnavailableError).
 *
 * Trade-off, deliberately: the gate is per isolate, not global. On Cloudflare a Worker runs in many
 * isolates across many data centres, each enforcing its own `maxConcurrency`; the register's real load
 * is the sum. A global semaphore would need a Durable Object round trip on every read, putting a single
 * point of contention in front of the very backend we protect. The global control is the admission rate
 * (`new_users_per_minute` of the waiting room): it decides how many people reach issuance at all, and
 * this gate only shaves per-isolate bursts. Size REGISTER_MAX_CONCURRENCY as (register capacity) ÷
 * (expected concurrently active isolates), and keep the admission rate below what the register sustains.
 *
 * Slots are leases. In workerd a request that is cancelled (client gone) never runs its continuations,
 * including `finally`; a slot it held would leak and shrink this isolate's capacity for good. So each
 * slot expires after `leaseMs` even if never released (counted as `leases_expired`); likewise a waiter
 * whose request died is skipped once its deadline has passed.
 *
 * Simulated latency: in development (ENVIRONMENT=development) each read first waits `latencyMs` while
 * holding its slot, standing in for a slow national backend, so the gate and the waiting room can be
 * exercised locally. Deployments never add latency.
 */
import { z } from "zod";
import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { faultsOn, injectFault } from "../faults/points";
import { DeadlineExceeded, withDeadline } from "../lib/deadline";
import { LICENCE_STATUSES, type DrivingPrivilege, type Licence, type LicenceHolder } from "./licence-holder";
import { LICENCE_STATUS_TABLE, REGISTER_TABLE } from "./table";

export interface RegisterOptions {
  /** Reads in flight at once in this isolate. */
  readonly maxConcurrency: number;
  /** How long a read may wait for a slot before RegisterBusyError; 0 refuses at once when full. */
  readonly queueTimeoutMs: number;
  /** Simulated latency per read (added only when the options come from a development env, or are given). */
  readonly latencyMs: number;
  /** A read holding a slot gives up after this long (RegisterUnavailableError). */
  readonly readTimeoutMs: number;
  /** A slot never released (cancelled request) is reclaimed after this long. */
  readonly leaseMs: number;
}

/** `leaseMs`: not a variable. The REGISTER_* variables and their defaults are in src/config/settings.ts. */
const LEASE_MS = 30_000;

/**
 * A development drill: the simulated latency set at run time (`PUT /v1/admin/register`), per isolate,
 * so operators and tests can slow the "backend" mid-surge and watch adaptive outflow react.
 */
let latencyDrillMs: number | null = null;

export function setSimulatedLatency(ms: number | null): void {
  latencyDrillMs = ms;
}

/** The options the env asks for: REGISTER_* vars (src/config/settings.ts), and latency only in development. */
export function registerOptionsFromEnv(env: Env): RegisterOptions {
  const { register, development } = settingsOf(env);
  return {
    maxConcurrency: register.maxConcurrency,
    queueTimeoutMs: register.queueTimeoutMs,
    readTimeoutMs: register.readTimeoutMs,
    latencyMs: development ? (latencyDrillMs ?? register.latencyMs) : 0,
    leaseMs: LEASE_MS,
  };
}

// ---- errors --------------------------------------------------------------------------------------------

/** Every slot was taken for the whole queue timeout. Retryable: answer 503 with Retry-After. */
export class RegisterBusyError extends Error {
  override readonly name = "RegisterBusyError";
  readonly retryable = true;
  constructor(readonly retryAfterSeconds: number) {
    super(`the licence register is at capacity; retry in ${retryAfterSeconds} s`);
  }
}

/** D1 failed, timed out, or returned a row we cannot read. Retryable: answer 503 with Retry-After. */
export class RegisterUnavailableError extends Error {
  override readonly name = "RegisterUnavailableError";
  readonly retryable = true;
  readonly retryAfterSeconds: number;
  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 2;
  }
}

// ---- metrics (per isolate) -----------------------------------------------------------------------------

/** Upper bounds (ms) of the latency histogram's buckets; the last bucket is everything above. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000] as const;
/** Weight of the newest sample in the moving averages. */
const EWMA_ALPHA = 0.2;

export interface RegisterMetrics {
  /** Reads that reached the register and got an answer (a holder or "no licence"). */
  readonly reads: number;
  readonly found: number;
  readonly not_found: number;
  /** Reads that failed (D1 error, read timeout, unreadable row): RegisterUnavailableError. */
  readonly errors: number;
  /** Reads refused for want of a slot: RegisterBusyError. */
  readonly busy: number;
  readonly in_flight: number;
  readonly max_in_flight: number;
  /** Callers waiting for a slot right now. */
  readonly waiting: number;
  /** Slots reclaimed because their holder never released them (cancelled requests). */
  readonly leases_expired: number;
  /** Time holding a slot (simulated latency + D1), per completed or failed read. */
  readonly latency_ms: {
    readonly count: number;
    readonly sum: number;
    readonly ewma: number | null;
    readonly max: number;
    /** Cumulative counts: `le` is the bucket's upper bound in ms (null: +∞). */
    readonly buckets: readonly { readonly le: number | null; readonly count: number }[];
  };
  /** Time waiting for a slot, for reads that got one. */
  readonly queue_wait_ms_ewma: number | null;
}

interface MutableMetrics {
  reads: number;
  found: number;
  not_found: number;
  errors: number;
  busy: number;
  max_in_flight: number;
  leases_expired: number;
  latencyCount: number;
  latencySum: number;
  latencyEwma: number | null;
  latencyMax: number;
  /** Per bucket (not cumulative); index LATENCY_BUCKETS_MS.length is the overflow bucket. */
  latencyBuckets: number[];
  queueWaitEwma: number | null;
}

function freshMetrics(): MutableMetrics {
  return {
    reads: 0,
    found: 0,
    not_found: 0,
    errors: 0,
    busy: 0,
    max_in_flight: gate.leases.size,
    leases_expired: 0,
    latencyCount: 0,
    latencySum: 0,
    latencyEwma: null,
    latencyMax: 0,
    latencyBuckets: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
    queueWaitEwma: null,
  };
}

function ewma(previous: number | null, sample: number): number {
  return previous === null ? sample : previous + EWMA_ALPHA * (sample - previous);
}

function recordLatency(ms: number): void {
  m.latencyCount++;
  m.latencySum += ms;
  m.latencyMax = Math.max(m.latencyMax, ms);
  m.latencyEwma = ewma(m.latencyEwma, ms);
  let i = LATENCY_BUCKETS_MS.findIndex((le) => ms <= le);
  if (i < 0) i = LATENCY_BUCKETS_MS.length;
  m.latencyBuckets[i]!++;
}

/** A snapshot of this isolate's register metrics (a copy; safe to serialise). */
export function registerMetrics(): RegisterMetrics {
  reclaimExpired();
  let cumulative = 0;
  const buckets = m.latencyBuckets.map((count, i) => {
    cumulative += count;
    return { le: LATENCY_BUCKETS_MS[i] ?? null, count: cumulative };
  });
  return {
    reads: m.reads,
    found: m.found,
    not_found: m.not_found,
    errors: m.errors,
    busy: m.busy,
    in_flight: gate.leases.size,
    max_in_flight: m.max_in_flight,
    waiting: gate.waiting,
    leases_expired: m.leases_expired,
    latency_ms: { count: m.latencyCount, sum: m.latencySum, ewma: m.latencyEwma, max: m.latencyMax, buckets },
    queue_wait_ms_ewma: m.queueWaitEwma,
  };
}

/** Zeroes the counters (tests). Reads in flight keep their slots; max_in_flight restarts from them. */
export function resetRegisterMetrics(): void {
  m = freshMetrics();
}

// ---- the gate (per isolate) ----------------------------------------------------------------------------

const gate = {
  /** Slot id → lease expiry (Date.now() ms). */
  leases: new Map<number, number>(),
  nextId: 1,
  /** Requests currently waiting for a slot (for metrics and the Retry-After hint). */
  waiting: 0,
  /**
   * The waiters in arrival order, each with the time it stops waiting. Only the first few (as many as
   * there are free slots) may take one: FIFO without any request waking another. An entry whose request
   * was cancelled (its `finally` never ran) drops out by its own deadline, so it cannot block the line.
   */
  line: [] as { id: number; until: number }[],
  nextWaiter: 1,
};

/** How often a waiting request looks for a free slot. */
const POLL_MS = 5;

let m: MutableMetrics = freshMetrics();

/**
 * Real time, never the project's test clock (src/lib/clock.ts): tests freeze that clock, and leases and
 * queue deadlines must still pass. (In workerd Date.now() advances across I/O and timers, which is all
 * this needs.)
 */
const now = () => Date.now();

/** Drops slots whose lease has run out (their holder will never release them, or took far too long). */
function reclaimExpired(): void {
  const t = now();
  for (const [id, expiry] of gate.leases) {
    if (expiry <= t) {
      gate.leases.delete(id);
      m.leases_expired++;
    }
  }
}

function tryTake(max: number, leaseMs: number): number | null {
  if (gate.leases.size >= max) reclaimExpired();
  if (gate.leases.size >= max) return null;
  const id = gate.nextId++;
  gate.leases.set(id, now() + leaseMs);
  m.max_in_flight = Math.max(m.max_in_flight, gate.leases.size);
  return id;
}

function release(id: number): void {
  gate.leases.delete(id); // (a no-op if it was already reclaimed as expired)
}

/**
 * A slot, or RegisterBusyError once `queueTimeoutMs` has passed without one. A waiting request looks
 * again every POLL_MS on its own timer. It is never woken by the request that frees a slot: in workerd a
 * request must not wait on a promise another request resolves (the runtime cancels it as hung, a 500).
 * Waiters are still served in arrival order: each takes its place in `gate.line`, and a slot goes only to
 * the waiters at the head of the line (a newcomer never takes one while anyone waits).
 */
async function acquire(options: RegisterOptions): Promise<number> {
  // Development fault injection (src/faults): the gate refuses as if every slot were taken.
  if (faultsOn) await injectFault("register.busy").catch(() => Promise.reject(new RegisterBusyError(retryAfterSeconds(options))));
  dropStaleWaiters();
  if (gate.line.length === 0) {
    const first = tryTake(options.maxConcurrency, options.leaseMs);
    if (first !== null) return first;
  }
  const deadline = now() + options.queueTimeoutMs;
  const me = { id: gate.nextWaiter++, until: deadline };
  gate.line.push(me);
  gate.waiting++;
  try {
    while (now() < deadline) {
      await sleep(Math.min(POLL_MS, Math.max(1, deadline - now())));
      dropStaleWaiters();
      if (gate.line.indexOf(me) >= freeSlots(options)) continue;
      const id = tryTake(options.maxConcurrency, options.leaseMs);
      if (id !== null) return id;
    }
  } finally {
    gate.waiting--;
    const at = gate.line.indexOf(me);
    if (at >= 0) gate.line.splice(at, 1);
  }
  throw new RegisterBusyError(retryAfterSeconds(options));
}

/** Slots free now (leases past their expiry reclaimed first). */
function freeSlots(options: RegisterOptions): number {
  reclaimExpired();
  return Math.max(0, options.maxConcurrency - gate.leases.size);
}

/** Waiters whose deadline has passed without their request leaving the line (it was cancelled). */
function dropStaleWaiters(): void {
  const t = now();
  while (gate.line.length > 0 && gate.line.some((w) => w.until < t)) {
    gate.line.splice(
      gate.line.findIndex((w) => w.until < t),
      1,
    );
  }
}

/** A hint for Retry-After: the queue ahead drained at the observed latency, at least 1 s, at most 30 s. */
function retryAfterSeconds(options: RegisterOptions): number {
  const perRead = m.latencyEwma ?? Math.max(options.latencyMs, 50);
  const drainMs = ((gate.waiting + gate.leases.size) / options.maxConcurrency) * perRead;
  return Math.min(30, Math.max(1, Math.ceil(drainMs / 1000)));
}

// ---- reading -------------------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  const s = (globalThis as { scheduler?: { wait?: (ms: number) => Promise<void> } }).scheduler;
  if (typeof s?.wait === "function") return s.wait(ms);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One read: the holder and the licence's status (no status row: valid). */
const SELECT_HOLDER = `SELECT h.person_id, h.family_name, h.given_name, h.birth_date, h.issue_date, h.expiry_date, h.document_number,
  h.issuing_authority, h.issuing_country, h.un_distinguishing_sign, h.portrait, h.driving_privileges,
  coalesce(s.status, 'valid') AS licence_status
  FROM ${REGISTER_TABLE} AS h LEFT JOIN ${LICENCE_STATUS_TABLE} AS s ON s.person_id = h.person_id WHERE h.person_id = ?`;

interface HolderRow {
  person_id: string;
  family_name: string;
  given_name: string;
  birth_date: string;
  issue_date: string;
  expiry_date: string;
  document_number: string;
  issuing_authority: string;
  issuing_country: string;
  un_distinguishing_sign: string;
  /** D1 returns BLOBs as arrays of byte values; accept the binary forms too. */
  portrait: number[] | ArrayBuffer | Uint8Array;
  driving_privileges: string;
  licence_status: string;
}

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const PrivilegesSchema = z.array(
  z.object({
    vehicle_category_code: z.string().min(1),
    issue_date: IsoDate.optional(),
    expiry_date: IsoDate.optional(),
    codes: z.array(z.object({ code: z.string().min(1), sign: z.string().optional(), value: z.string().optional() })).optional(),
  }),
);

function bytesOf(value: HolderRow["portrait"]): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) return Uint8Array.from(value);
  throw new TypeError("portrait is not a BLOB");
}

const LicenceStatusSchema = z.enum(LICENCE_STATUSES);

function licenceOf(row: HolderRow): Licence {
  return { holder: holderOf(row), status: LicenceStatusSchema.parse(row.licence_status) };
}

function holderOf(row: HolderRow): LicenceHolder {
  const privileges: DrivingPrivilege[] = PrivilegesSchema.parse(JSON.parse(row.driving_privileges));
  return {
    person_id: row.person_id,
    family_name: row.family_name,
    given_name: row.given_name,
    birth_date: row.birth_date,
    issue_date: row.issue_date,
    expiry_date: row.expiry_date,
    issuing_country: row.issuing_country,
    issuing_authority: row.issuing_authority,
    document_number: row.document_number,
    portrait: bytesOf(row.portrait),
    driving_privileges: privileges,
    un_distinguishing_sign: row.un_distinguishing_sign,
  };
}

/** Person ids are short; anything else cannot be in the register and is answered without a read. */
const MAX_PERSON_ID_LENGTH = 64;

/** The register as one request sees it: construct per request (`new LicenceRegister(c.env)`). */
export class LicenceRegister {
  readonly options: RegisterOptions;
  private readonly db: D1Database;

  /** `overrides` replace what the env says (tests; latency given here applies in any environment). */
  constructor(env: Env, overrides: Partial<RegisterOptions> = {}) {
    this.db = env.REGISTER;
    this.options = { ...registerOptionsFromEnv(env), ...overrides };
  }

  /** The holder of `personId`'s licence, or null (findLicence without the status). */
  async findHolder(personId: string): Promise<LicenceHolder | null> {
    return (await this.findLicence(personId))?.holder ?? null;
  }

  /**
   * The licence of `personId` with its status, or null if that person holds none. Throws
   * RegisterBusyError when no slot frees up within the queue timeout, RegisterUnavailableError when the
   * register fails; both are retryable and carry `retryAfterSeconds`. Never logs the row (personal data).
   */
  async findLicence(personId: string): Promise<Licence | null> {
    if (typeof personId !== "string" || personId.length === 0 || personId.length > MAX_PERSON_ID_LENGTH) return null;
    const asked = now();
    let slot: number;
    try {
      slot = await acquire(this.options);
    } catch (err) {
      if (err instanceof RegisterBusyError) m.busy++;
      throw err;
    }
    const started = now();
    m.queueWaitEwma = ewma(m.queueWaitEwma, started - asked);
    /** The D1 query while it may still be running after a read timeout: the slot is held until it ends. */
    let outstanding: Promise<unknown> | null = null;
    try {
      if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
      const statement = this.db.prepare(SELECT_HOLDER).bind(personId);
      // Development fault injection (src/faults): a D1 error ("throw") or a read that hangs ("delay").
      const query = faultsOn ? injectFault("register.read").then(() => statement.first<HolderRow>()) : statement.first<HolderRow>();
      outstanding = query;
      let row: HolderRow | null;
      try {
        row = await withDeadline(query, this.options.readTimeoutMs, "the register read");
      } catch (err) {
        if (!(err instanceof DeadlineExceeded)) outstanding = null;
        throw err;
      }
      outstanding = null;
      const licence = row ? licenceOf(row) : null;
      m.reads++;
      if (licence) m.found++;
      else m.not_found++;
      return licence;
    } catch (err) {
      m.errors++;
      const what =
        err instanceof DeadlineExceeded
          ? "timed out"
          : err instanceof z.ZodError || err instanceof SyntaxError || err instanceof TypeError
            ? "returned an unreadable row"
            : "failed";
      throw new RegisterUnavailableError(`the licence register ${what}`, { cause: err });
    } finally {
      recordLatency(now() - started);
      if (outstanding)
        outstanding.then(
          () => release(slot),
          () => release(slot),
        );
      else release(slot);
    }
  }
}
