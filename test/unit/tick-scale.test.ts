import { activeCount } from "../../src/admission/sessions";
import { describe, expect, it } from "vitest";
import { pruneLog, type TickRecord } from "../../src/admission/admission-log";
import { EMPTY_BUDGET } from "../../src/admission/budget";
import { compareKeys, ORIGIN, seqOf, shardOf, tieBreaker, type OrderKey } from "../../src/admission/order-key";
import { planTick, runTick, type TickInput } from "../../src/admission/tick";
import { config, rng, T0 } from "./fixtures";

/**
 * Launch day, without I/O: 1,000,000 people arrive over one hour (front-loaded: 13 % in the first
 * minute) into 8 shards; the coordinator ticks every second at 20,000/min. Each shard's line is a typed
 * array of arrival stamps in order (its FIFO stamps), and a sync report is built from it on demand.
 * Checks are plain counters (a million expect() calls would dominate the run time).
 */
const PEOPLE = 1_000_000;
const SHARDS = 8;
const HOUR = 3_600_000;
const RATE = 20_000;

describe("one simulated launch hour", () => {
  it("admits 1,000,000 people across 8 shards in exact global key order, each once, none skipped", () => {
    // Person i arrives at T0 + HOUR·(i/N)² into a random shard; a shard's stamps are then non-decreasing.
    const r = rng(31337);
    const shardOfPerson = new Uint8Array(PEOPLE);
    const sizes = new Array<number>(SHARDS).fill(0);
    for (let i = 0; i < PEOPLE; i++) sizes[(shardOfPerson[i] = Math.floor(r() * SHARDS))]!++;
    const stamps = sizes.map((n) => new Float64Array(n));
    const filled = new Array<number>(SHARDS).fill(0);
    for (let i = 0; i < PEOPLE; i++) {
      const s = shardOfPerson[i]!;
      stamps[s]![filled[s]!++] = T0 + Math.floor(HOUR * (i / PEOPLE) ** 2);
    }
    const keyOf = (s: number, seq: number): OrderKey => ({ a: stamps[s]![seq]!, b: tieBreaker(s, seq) });

    const cfg = config({ new_users_per_minute: RATE, total_active_users: 10_000_000, shards: SHARDS });
    const next = new Array<number>(SHARDS).fill(0); // per shard: first seq not yet admitted
    let frontier: OrderKey = ORIGIN;
    let baseline: OrderKey = ORIGIN;
    let budget = EMPTY_BUDGET;
    let log: TickRecord[] = [];
    let admittedTotal = 0;
    let lastAdmitted: OrderKey = ORIGIN;
    const violations: string[] = [];
    const fail = (msg: string) => violations.length < 10 && violations.push(msg);
    const perTick: number[] = [];
    let maxBacklog = 0;

    for (let t = 0; admittedTotal < PEOPLE && t < 2 * 3_600; t++) {
      const now = T0 + t * 1_000;
      const input: TickInput = {
        config: cfg,
        now,
        frontier,
        budget,
        log,
        active: activeCount(log, [], now, cfg.admission_ttl_seconds * 1000),
      };
      const plan = planTick(input);
      // Sync reports: a page of keys after the frontier that the shard has stored by now.
      // (The real shard also filters by eligibleBefore; not doing so here makes the merge do it.)
      const heads = stamps.map((line, s) => {
        const list: OrderKey[] = [];
        for (let seq = next[s]!; seq < line.length && list.length < plan.pageSize && line[seq]! <= now; seq++) {
          list.push(keyOf(s, seq));
        }
        return list;
      });
      const out = runTick(input, plan, heads);

      for (const k of out.admitted) {
        const s = shardOf(k);
        if (seqOf(k) !== next[s]) fail(`tick ${t}: shard ${s} admitted seq ${seqOf(k)}, expected ${next[s]}`);
        if (compareKeys(k, lastAdmitted) <= 0) fail(`tick ${t}: ${JSON.stringify(k)} not after ${JSON.stringify(lastAdmitted)}`);
        if (k.a >= plan.eligibleBefore) fail(`tick ${t}: admitted an unsettled key`);
        next[s] = seqOf(k) + 1;
        lastAdmitted = k;
      }
      admittedTotal += out.admitted.length;
      frontier = out.record.frontier;
      budget = out.budget;
      ({ log, baseline } = pruneLog([...log, out.record], baseline, now, cfg.admission_ttl_seconds * 1_000));
      perTick.push(out.admitted.length);

      // Nobody left behind the frontier, and nobody eligible left waiting while allowance was unused.
      let waiting = 0;
      for (let s = 0; s < SHARDS; s++) {
        if (next[s]! >= stamps[s]!.length) continue;
        const head = keyOf(s, next[s]!);
        if (compareKeys(head, frontier) <= 0) fail(`tick ${t}: shard ${s} seq ${next[s]} skipped by the frontier`);
        if (head.a < plan.eligibleBefore && out.admitted.length < plan.allowance) fail(`tick ${t}: eligible left with allowance unused`);
        // Backlog: people already arrived in this shard and still waiting.
        let lo = next[s]!;
        let hi = stamps[s]!.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (stamps[s]![mid]! <= now) lo = mid + 1;
          else hi = mid;
        }
        waiting += lo - next[s]!;
      }
      maxBacklog = Math.max(maxBacklog, waiting);

      // The snapshot's exact front must be exactly the next people in line, up to completeUntil.
      const expectedFront: OrderKey[] = [];
      for (let s = 0; s < SHARDS; s++) {
        for (let seq = next[s]!; seq < stamps[s]!.length; seq++) {
          const k = keyOf(s, seq);
          if (compareKeys(k, out.front.completeUntil) > 0) break;
          expectedFront.push(k);
        }
      }
      expectedFront.sort(compareKeys);
      if (expectedFront.length !== out.front.keys.length || expectedFront.some((k, i) => compareKeys(k, out.front.keys[i]!) !== 0)) {
        fail(`tick ${t}: exact front has ${out.front.keys.length} keys, expected ${expectedFront.length}`);
      }
    }

    expect(violations).toEqual([]);
    expect(admittedTotal).toBe(PEOPLE);
    expect(next).toEqual(sizes); // every shard's line fully consumed, in order
    // The queue really built up (so ordering was tested under saturation, not trickle).
    expect(maxBacklog).toBeGreaterThan(150_000);
    // Rate limits held throughout: per tick and per sliding minute.
    expect(Math.max(...perTick)).toBeLessThanOrEqual(Math.ceil(RATE / 60));
    let windowSum = 0;
    for (let i = 0; i < perTick.length; i++) {
      windowSum += perTick[i]! - (i >= 60 ? perTick[i - 60]! : 0);
      if (windowSum > RATE) fail(`minute ending at tick ${i}: ${windowSum} admitted`);
    }
    expect(violations).toEqual([]);
  });
});
