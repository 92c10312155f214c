/// <reference types="vite/client" />
// The licence register: the synthetic population (seed.ts), the D1 table it lives in, and the only
// reader (register.ts) with its per-isolate capacity gate. The REGISTER binding starts empty in this
// file; beforeAll creates the table and seeds all 10,000 holders, timing it.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import schemaFile from "../../src/register/migrations/0001_licence_holders.sql?raw";
import type { LicenceHolder } from "../../src/register/licence-holder";
import { PORTRAITS, PORTRAIT_HEIGHT, PORTRAIT_WIDTH } from "../../src/register/portraits";
import {
  LicenceRegister,
  RegisterBusyError,
  RegisterUnavailableError,
  registerMetrics,
  resetRegisterMetrics,
} from "../../src/register/register";
import { REGISTER_SCHEMA_SQL } from "../../src/register/schema";
import {
  POPULATION_AS_OF,
  REGISTER_POPULATION,
  ensureRegisterSchema,
  holderIndexOf,
  personIdFor,
  seedRegister,
  syntheticHolder,
} from "../../src/register/seed";

const db = env.REGISTER;
const EU_CATEGORIES = new Set(["AM", "A1", "A2", "A", "B1", "B", "C1", "C", "D1", "D", "BE", "C1E", "CE", "D1E", "DE"]);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

let firstSeed: { inserted: number; ms: number };

beforeAll(async () => {
  expect(await ensureRegisterSchema(db)).toEqual({ created: true });
  const t0 = performance.now();
  const { inserted, total } = await seedRegister(db);
  firstSeed = { inserted, ms: performance.now() - t0 };
  expect(total).toBe(inserted);
  console.log(`register: seeded ${inserted} licence holders in ${Math.round(firstSeed.ms)} ms`);
});

/** A valid calendar date: parses, and prints back the same. */
function isCalendarDate(s: string | undefined): boolean {
  return typeof s === "string" && ISO_DATE.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(text: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** A holder as canonical JSON (portrait as hex), for hashing and comparing. */
function canonical(h: LicenceHolder): string {
  return JSON.stringify({ ...h, portrait: hex(h.portrait) });
}

describe("schema", () => {
  it("the migration file and the DDL ensureRegisterSchema runs are the same text", () => {
    expect(REGISTER_SCHEMA_SQL).toBe(schemaFile);
  });

  it("ensureRegisterSchema does nothing when the table exists", async () => {
    expect(await ensureRegisterSchema(db)).toEqual({ created: false });
  });
});

describe("synthetic population", () => {
  it("seeds 10,000 holders, all of them, in one go", async () => {
    expect(firstSeed.inserted).toBe(REGISTER_POPULATION);
    expect(await db.prepare("SELECT count(*) AS n FROM licence_holders").first("n")).toBe(10_000);
  });

  it("is deterministic: the same holder for the same n, and a stable hash over a sample", async () => {
    expect(syntheticHolder(42)).toEqual(syntheticHolder(42));
    expect(canonical(syntheticHolder(42))).toBe(canonical(syntheticHolder(42)));
    expect(syntheticHolder(42)).not.toEqual(syntheticHolder(43));
    // Read back from the database, through the one reader; any change to the generator, the schema or
    // the read path changes this hash (update it deliberately, never to make a test pass by accident).
    const register = new LicenceRegister(env, { latencyMs: 0 });
    const sample = [1, 2, 3, 42, 777, 1_000, 4_321, 5_000, 9_999, 10_000];
    const rows = [];
    for (const n of sample) rows.push(canonical((await register.findHolder(personIdFor(n)))!));
    const generated = sample.map((n) => canonical(syntheticHolder(n)));
    expect(rows).toEqual(generated);
    expect(await sha256Hex(rows.join("\n"))).toBe(SAMPLE_SHA256);
  });

  it("numbers people FR-000001 … FR-010000 and no one else", () => {
    expect(personIdFor(42)).toBe("FR-000042");
    expect(holderIndexOf("FR-000042")).toBe(42);
    expect(holderIndexOf("FR-010000")).toBe(10_000);
    expect(holderIndexOf("FR-010001")).toBeNull();
    expect(holderIndexOf("FR-000000")).toBeNull();
    expect(holderIndexOf("DE-000042")).toBeNull();
    expect(() => syntheticHolder(0)).toThrow(RangeError);
    expect(() => syntheticHolder(10_001)).toThrow(RangeError);
    expect(() => syntheticHolder(1.5)).toThrow(RangeError);
  });

  it("gives every holder every mandatory field, in the right format", () => {
    // Plain checks collected into a list (10,000 holders × 30 expect() calls take seconds).
    const problems: string[] = [];
    const check = (ok: boolean, n: number, what: string) => {
      if (!ok) problems.push(`holder ${n}: ${what}`);
    };
    let expired = 0;
    let withCodes = 0;
    const categoryCounts = new Map<string, number>();
    for (let n = 1; n <= REGISTER_POPULATION; n++) {
      const h = syntheticHolder(n);
      check(h.person_id === personIdFor(n) && /^FR-\d{6}$/.test(h.person_id), n, `person_id ${h.person_id}`);
      check(h.family_name.trim().length > 0 && h.given_name.trim().length > 0, n, "names");
      for (const d of [h.birth_date, h.issue_date, h.expiry_date]) check(isCalendarDate(d), n, `date ${d}`);
      check(h.birth_date >= "1940-01-01" && h.birth_date <= "2007-12-31", n, `birth ${h.birth_date}`);
      // Licensed at 18 at the earliest, issued by the as-of date, valid 15 years.
      check(h.issue_date >= `${Number(h.birth_date.slice(0, 4)) + 18}${h.birth_date.slice(4)}`, n, "issued before 18");
      check(h.issue_date <= POPULATION_AS_OF, n, `issued ${h.issue_date}, after the as-of date`);
      check(Number(h.expiry_date.slice(0, 4)) - Number(h.issue_date.slice(0, 4)) === 15, n, "15-year validity");
      if (h.expiry_date < POPULATION_AS_OF) expired++;
      check(/^\d{2}[A-Z]{2}\d{8}$/.test(h.document_number), n, `document_number ${h.document_number}`);
      check(h.document_number.slice(0, 2) === h.issue_date.slice(2, 4), n, "document number starts with the issue year");
      check(/^(Préfecture .+|ANTS \(Agence nationale des titres sécurisés\))$/.test(h.issuing_authority), n, h.issuing_authority);
      check(h.issuing_country === "FR" && h.un_distinguishing_sign === "F", n, "country and UN sign");
      check(h.portrait[0] === 0xff && h.portrait[1] === 0xd8, n, "portrait SOI");
      check(h.portrait.at(-2) === 0xff && h.portrait.at(-1) === 0xd9, n, "portrait EOI");
      check(h.driving_privileges.length >= 1 && h.driving_privileges.length <= 4, n, `${h.driving_privileges.length} privileges`);
      const codes = h.driving_privileges.map((p) => p.vehicle_category_code);
      check(new Set(codes).size === codes.length, n, "a category twice");
      for (const p of h.driving_privileges) {
        check(EU_CATEGORIES.has(p.vehicle_category_code), n, `category ${p.vehicle_category_code}`);
        categoryCounts.set(p.vehicle_category_code, (categoryCounts.get(p.vehicle_category_code) ?? 0) + 1);
        check(isCalendarDate(p.issue_date) && isCalendarDate(p.expiry_date), n, "privilege dates");
        check(p.issue_date! <= h.issue_date, n, "category obtained after the card's issue");
        check(p.expiry_date! <= h.expiry_date, n, "category valid longer than the card");
        if (p.codes) {
          withCodes++;
          for (const c of p.codes)
            check(/^\d{2}(\.\d{2})?$/.test(c.code) && (c.value === undefined || isCalendarDate(c.value)), n, `code ${c.code}`);
        }
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
    // Some expired, most not; some codes; B for nearly everyone, heavier categories for a few.
    expect(expired).toBeGreaterThan(500);
    expect(expired).toBeLessThan(3_000);
    expect(withCodes).toBeGreaterThan(500);
    expect(categoryCounts.get("B")).toBeGreaterThan(9_000);
    for (const c of ["AM", "A", "BE", "C", "CE", "D"]) expect(categoryCounts.get(c) ?? 0, c).toBeGreaterThan(0);
  });

  it("gives every holder a unique document number, in the database too", async () => {
    const generated = new Set<string>();
    for (let n = 1; n <= REGISTER_POPULATION; n++) generated.add(syntheticHolder(n).document_number);
    expect(generated.size).toBe(REGISTER_POPULATION);
    expect(await db.prepare("SELECT count(DISTINCT document_number) AS n FROM licence_holders").first("n")).toBe(10_000);
  });

  it("stores exactly what the generator makes, for every holder (portraits by their markers and size)", async () => {
    const { results } = await db
      .prepare(
        `SELECT person_id, family_name, given_name, birth_date, issue_date, expiry_date, document_number, issuing_authority,
           issuing_country, un_distinguishing_sign, driving_privileges, hex(substr(portrait, 1, 2)) AS soi,
           hex(substr(portrait, -2, 2)) AS eoi, length(portrait) AS size, typeof(portrait) AS kind
         FROM licence_holders ORDER BY person_id`,
      )
      .all<Record<string, string | number>>();
    expect(results.length).toBe(REGISTER_POPULATION);
    results.forEach((row, i) => {
      const h = syntheticHolder(i + 1);
      const { portrait, driving_privileges, ...text } = h;
      expect(row).toEqual({
        ...text,
        driving_privileges: JSON.stringify(driving_privileges),
        soi: "FFD8",
        eoi: "FFD9",
        size: portrait.length,
        kind: "blob",
      });
    });
  });

  it("embeds portraits that are valid baseline JPEGs of 16×16 pixels", () => {
    expect(PORTRAITS.length).toBeGreaterThanOrEqual(2);
    for (const p of PORTRAITS) {
      expect(decodeBaselineJpeg(p)).toEqual({ width: PORTRAIT_WIDTH, height: PORTRAIT_HEIGHT, components: 3, blocks: 6 });
    }
  });
});

describe("findHolder", () => {
  it("returns FR-000042's licence with the portrait bytes intact", async () => {
    const register = new LicenceRegister(env); // the env's own settings: 40 ms simulated latency in development
    const holder = await register.findHolder("FR-000042");
    expect(holder).not.toBeNull();
    expect(holder).toEqual(syntheticHolder(42));
    expect(holder!.portrait).toBeInstanceOf(Uint8Array);
    expect(hex(holder!.portrait)).toBe(hex(syntheticHolder(42).portrait));
    expect(decodeBaselineJpeg(holder!.portrait).width).toBe(16);
  });

  it("returns null for people without a licence, after a read", async () => {
    resetRegisterMetrics();
    const register = new LicenceRegister(env, { latencyMs: 0 });
    expect(await register.findHolder("FR-010001")).toBeNull();
    expect(await register.findHolder("FR-999999")).toBeNull();
    expect(await register.findHolder("not an id")).toBeNull();
    expect(await register.findHolder("")).toBeNull(); // no read at all
    expect(registerMetrics()).toMatchObject({ reads: 3, found: 0, not_found: 3, errors: 0, busy: 0, in_flight: 0 });
  });

  it("reads options from the env: REGISTER_* vars, latency only in development", () => {
    const dev = new LicenceRegister(env);
    expect(dev.options).toMatchObject({ maxConcurrency: 8, queueTimeoutMs: 250, latencyMs: 40 });
    const prod = new LicenceRegister({ ...env, ENVIRONMENT: "production", REGISTER_MAX_CONCURRENCY: "3", REGISTER_QUEUE_TIMEOUT_MS: "0" });
    expect(prod.options).toMatchObject({ maxConcurrency: 3, queueTimeoutMs: 0, latencyMs: 0 });
    // Malformed values are no longer replaced by defaults: the register refuses to start, naming both.
    expect(() => new LicenceRegister({ ...env, REGISTER_MAX_CONCURRENCY: "zero", REGISTER_LATENCY_MS: "-5" })).toThrow(
      expect.objectContaining({
        name: "ConfigError",
        problems: [expect.objectContaining({ name: "REGISTER_MAX_CONCURRENCY" }), expect.objectContaining({ name: "REGISTER_LATENCY_MS" })],
      }),
    );
  });
});

describe("capacity", () => {
  /** Fires reads at once; records the order in which they settle. */
  async function fire(register: LicenceRegister, n: number) {
    const order: string[] = [];
    const outcomes = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        register.findHolder(personIdFor(i + 1)).then(
          (h) => {
            order.push(`ok ${i}`);
            return h;
          },
          (e: unknown) => {
            order.push(`refused ${i}`);
            throw e;
          },
        ),
      ),
    );
    return { order, outcomes };
  }

  it("with 2 slots, 6 concurrent slow reads: 2 answered, 4 refused as busy before the slow ones finish", async () => {
    resetRegisterMetrics();
    const register = new LicenceRegister(env, { maxConcurrency: 2, latencyMs: 200, queueTimeoutMs: 50 });
    const { order, outcomes } = await fire(register, 6);

    // Settlement order: every refusal comes before either slow read resolves. (Waiters poll on timers
    // of their own, so the refusals may settle in any order among themselves.)
    expect([...order.slice(0, 4)].sort()).toEqual(["refused 2", "refused 3", "refused 4", "refused 5"]);
    expect([...order.slice(4)].sort()).toEqual(["ok 0", "ok 1"]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "rejected", "rejected", "rejected"]);
    for (const o of outcomes.slice(0, 2))
      expect((o as PromiseFulfilledResult<LicenceHolder | null>).value?.person_id).toMatch(/^FR-00000[12]$/);
    for (const o of outcomes.slice(2)) {
      const reason = (o as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(RegisterBusyError);
      expect(reason.retryable).toBe(true);
      expect(reason.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(reason.retryAfterSeconds).toBeLessThanOrEqual(30);
    }
    const metrics = registerMetrics();
    expect(metrics).toMatchObject({ reads: 2, found: 2, busy: 4, errors: 0, in_flight: 0, max_in_flight: 2, waiting: 0 });
    expect(metrics.latency_ms.count).toBe(2);
    expect(metrics.latency_ms.buckets.at(-1)).toEqual({ le: null, count: 2 });
    expect(metrics.latency_ms.ewma).not.toBeNull();
  });

  it("a waiter gets a slot that frees up within its queue timeout, in arrival order", async () => {
    resetRegisterMetrics();
    const register = new LicenceRegister(env, { maxConcurrency: 1, latencyMs: 20, queueTimeoutMs: 10_000 });
    const { order, outcomes } = await fire(register, 4);
    expect(order).toEqual(["ok 0", "ok 1", "ok 2", "ok 3"]);
    expect(outcomes.every((o) => o.status === "fulfilled")).toBe(true);
    expect(registerMetrics()).toMatchObject({ reads: 4, busy: 0, in_flight: 0, max_in_flight: 1, waiting: 0 });
  });

  it("with no queue timeout, refuses at once when full", async () => {
    resetRegisterMetrics();
    const register = new LicenceRegister(env, { maxConcurrency: 1, latencyMs: 50, queueTimeoutMs: 0 });
    const { order } = await fire(register, 3);
    expect(order).toEqual(["refused 1", "refused 2", "ok 0"]);
    expect(registerMetrics()).toMatchObject({ reads: 1, busy: 2 });
  });

  it("reclaims a slot whose lease ran out (a cancelled request never releases it)", async () => {
    resetRegisterMetrics();
    const stuck = new LicenceRegister(env, { maxConcurrency: 1, latencyMs: 150, queueTimeoutMs: 0, leaseMs: 1 });
    const slow = stuck.findHolder("FR-000001");
    await scheduler.wait(20);
    // The slot is still taken by the slow read, but its lease has expired: a newcomer gets it.
    const other = new LicenceRegister(env, { maxConcurrency: 1, latencyMs: 0, queueTimeoutMs: 0 });
    expect((await other.findHolder("FR-000002"))?.person_id).toBe("FR-000002");
    expect((await slow)?.person_id).toBe("FR-000001");
    expect(registerMetrics()).toMatchObject({ reads: 2, busy: 0, leases_expired: 1, in_flight: 0 });
  });

  it("turns a D1 failure into RegisterUnavailableError and frees the slot", async () => {
    resetRegisterMetrics();
    const failing = {
      prepare: () => {
        throw new Error("D1_ERROR: no such table: licence_holders");
      },
    } as unknown as D1Database;
    const register = new LicenceRegister({ ...env, REGISTER: failing }, { latencyMs: 0, maxConcurrency: 1 });
    const err = await register.findHolder("FR-000042").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegisterUnavailableError);
    expect((err as RegisterUnavailableError).retryable).toBe(true);
    expect((err as RegisterUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((err as Error).message).not.toContain("FR-000042");
    expect(registerMetrics()).toMatchObject({ reads: 0, errors: 1, in_flight: 0 });
    // The slot is free again: a healthy read goes through at once.
    expect(await new LicenceRegister(env, { latencyMs: 0, maxConcurrency: 1, queueTimeoutMs: 0 }).findHolder("FR-000042")).not.toBeNull();
  });

  it("gives up on a read that hangs, as unavailable", async () => {
    resetRegisterMetrics();
    const hanging = { prepare: () => ({ bind: () => ({ first: () => new Promise(() => {}) }) }) } as unknown as D1Database;
    const register = new LicenceRegister({ ...env, REGISTER: hanging }, { latencyMs: 0, readTimeoutMs: 30, leaseMs: 60_000 });
    await expect(register.findHolder("FR-000042")).rejects.toBeInstanceOf(RegisterUnavailableError);
    // The hung query still holds its slot (the register may still be working on it) until its lease ends.
    expect(registerMetrics()).toMatchObject({ errors: 1, in_flight: 1 });
  });
});

describe("seeding again", () => {
  it("inserts nothing the second time", async () => {
    expect(await seedRegister(db)).toEqual({ inserted: 0, total: 10_000 });
    expect(await db.prepare("SELECT count(*) AS n FROM licence_holders").first("n")).toBe(10_000);
  });

  it("completes a seed that stopped half-way, inserting only who is missing", async () => {
    await db.prepare("DELETE FROM licence_holders WHERE person_id IN ('FR-000007', 'FR-005000', 'FR-010000')").run();
    expect(await seedRegister(db)).toEqual({ inserted: 3, total: 10_000 });
    expect(await db.prepare("SELECT count(*) AS n FROM licence_holders").first("n")).toBe(10_000);
    expect(await new LicenceRegister(env, { latencyMs: 0 }).findHolder("FR-005000")).toEqual(syntheticHolder(5_000));
  });
});

// ---- a minimal baseline JPEG decoder: enough to prove the portraits decode ------------------------------

/**
 * Walks the markers of a baseline (SOF0) JPEG and Huffman-decodes every block of every MCU, checking the
 * stream is complete and well formed: SOI first, quantisation and Huffman tables defined before use,
 * every coefficient code valid, no more than 64 coefficients per block, the scan ending exactly at EOI.
 * (It stops short of the inverse DCT: pixel values cannot make a stream invalid.)
 */
function decodeBaselineJpeg(bytes: Uint8Array): { width: number; height: number; components: number; blocks: number } {
  const fail = (why: string): never => {
    throw new Error(`not a valid baseline JPEG: ${why}`);
  };
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) fail("no SOI");
  const u16 = (i: number) => (bytes[i]! << 8) | bytes[i + 1]!;
  type Huffman = Map<string, number>;
  const huffman = new Map<number, Huffman>(); // key: class << 4 | id
  const quant = new Set<number>();
  let frame: { width: number; height: number; comps: { id: number; h: number; v: number; tq: number }[] } | null = null;
  let pos = 2;
  for (;;) {
    if (bytes[pos] !== 0xff) fail(`marker expected at ${pos}`);
    const marker = bytes[pos + 1]!;
    const len = u16(pos + 2);
    const seg = pos + 4;
    if (marker === 0xdb) {
      for (let i = seg; i < pos + 2 + len;) {
        const pq = bytes[i]! >> 4;
        quant.add(bytes[i]! & 15);
        i += 1 + 64 * (pq + 1);
      }
    } else if (marker === 0xc0) {
      const comps = [];
      for (let c = 0; c < bytes[seg + 5]!; c++) {
        const o = seg + 6 + c * 3;
        comps.push({ id: bytes[o]!, h: bytes[o + 1]! >> 4, v: bytes[o + 1]! & 15, tq: bytes[o + 2]! });
      }
      frame = { height: u16(seg + 1), width: u16(seg + 3), comps };
      for (const c of comps) if (!quant.has(c.tq)) fail("quantisation table used before it is defined");
    } else if (marker >= 0xc1 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      fail(`not baseline (SOF${marker - 0xc0})`);
    } else if (marker === 0xc4) {
      for (let i = seg; i < pos + 2 + len;) {
        const key = bytes[i]!;
        const counts = bytes.subarray(i + 1, i + 17);
        const table: Huffman = new Map();
        let code = 0;
        let k = i + 17;
        for (let l = 1; l <= 16; l++) {
          for (let j = 0; j < counts[l - 1]!; j++) table.set((code++).toString(2).padStart(l, "0"), bytes[k++]!);
          code <<= 1;
        }
        huffman.set(key, table);
        i = k;
      }
    } else if (marker === 0xda) {
      if (!frame) fail("scan before frame");
      const f = frame!;
      const n = bytes[seg]!;
      const scan = [];
      for (let c = 0; c < n; c++) {
        const comp = f.comps.find((x) => x.id === bytes[seg + 1 + c * 2])!;
        const t = bytes[seg + 2 + c * 2]!;
        const dc = huffman.get(t >> 4) ?? fail("DC table missing");
        const ac = huffman.get(0x10 | (t & 15)) ?? fail("AC table missing");
        scan.push({ comp, dc, ac });
      }
      // Entropy-coded data, with stuffed zero bytes removed, up to the next marker.
      let p = pos + 2 + len;
      const data: number[] = [];
      while (!(bytes[p] === 0xff && bytes[p + 1] !== 0x00)) {
        if (p >= bytes.length) fail("scan runs past the end");
        data.push(bytes[p]!);
        p += bytes[p] === 0xff ? 2 : 1;
      }
      let bit = 0;
      const readBit = () => {
        if (bit >= data.length * 8) fail("scan data ends inside a block");
        const b = (data[bit >> 3]! >> (7 - (bit & 7))) & 1;
        bit++;
        return b;
      };
      const readCode = (table: Huffman) => {
        let code = "";
        while (code.length < 16) {
          code += readBit();
          const v = table.get(code);
          if (v !== undefined) return v;
        }
        return fail("invalid Huffman code");
      };
      const hmax = Math.max(...f.comps.map((c) => c.h));
      const vmax = Math.max(...f.comps.map((c) => c.v));
      const mcus = Math.ceil(f.width / (8 * hmax)) * Math.ceil(f.height / (8 * vmax));
      let blocks = 0;
      for (let mcu = 0; mcu < mcus; mcu++) {
        for (const { comp, dc, ac } of scan) {
          for (let b = 0; b < comp.h * comp.v; b++) {
            const size = readCode(dc);
            for (let s = 0; s < size; s++) readBit();
            for (let k = 1; k < 64;) {
              const rs = readCode(ac);
              if (rs === 0x00) break; // end of block
              k += (rs >> 4) + 1;
              if (k > 64) fail("more than 64 coefficients in a block");
              for (let s = 0; s < (rs & 15); s++) readBit();
            }
            blocks++;
          }
        }
      }
      // Only the final byte's padding (all ones) may remain, then EOI, then nothing.
      while (bit < data.length * 8) if (readBit() !== 1) fail("data left after the last block");
      if (bytes[p] !== 0xff || bytes[p + 1] !== 0xd9 || p + 2 !== bytes.length) fail("scan not followed by EOI at the end");
      return { width: f.width, height: f.height, components: f.comps.length, blocks: blocks / mcus };
    } else if (marker === 0xd9) {
      fail("EOI before any scan");
    }
    pos += 2 + len;
  }
}

/** sha-256 over the canonical JSON of the sample above, as read back from D1. */
const SAMPLE_SHA256 = "5d97fc1e1f5d87cc93b0115cb81deec1b9608b9db256e5c4a459361cc90980f2";
