import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDevApp } from "../../src/dev/kit";
import { clearSnapshotCache } from "../../src/edge/snapshot-cache";
import { ORIGIN, adminGet, createRoom, identityAssertion, join, newDevice, newPersonId, poll, testClock, tick } from "../helpers/api";
import { alarm, arm, books, coordinator, disarmFaults, expectPrefix, faultReport, restart, statusLine } from "../helpers/faults";
import { joinMany } from "../helpers/queue";
import { mulberry32 } from "../../src/lib/seeded-random";

/**
 * Faults inside the admission tick: a shard that fails or hangs during the sync, a tick that fails
 * half-way through writing its outcome, an alarm that throws. Each is injected through src/faults into
 * the real RoomCoordinator and QueueShards; each must leave the books as if the tick had not run, and
 * the room must go on by itself, in order, never over its cap.
 */

/** Admissions in every 60 s window (t − 60 s, t] of a tick series, as the budget counts them. */
function worstMinute(series: readonly { at: number; admitted: number }[]): number {
  let worst = 0;
  for (const end of series) {
    const n = series.filter((t) => t.at > end.at - 60_000 && t.at <= end.at).reduce((s, t) => s + t.admitted, 0);
    worst = Math.max(worst, n);
  }
  return worst;
}

describe("a shard sync that fails during a tick", () => {
  it("admits nobody that tick, records why, and the room resumes in order by itself", async () => {
    const room = await createRoom({ new_users_per_minute: 120, shards: 4, admission_ttl_seconds: 600 });
    const joined = await joinMany(room, 10, 50);
    testClock.advance(1_000); // past the shards' settle margin
    const before = await books(room);

    arm({ "shard.sync": { mode: "throw" } });
    for (let i = 0; i < 3; i++) {
      expect(await alarm(room)).toBe(true); // the alarm re-armed itself
      const s = await adminGet(room);
      expect(s.last_tick_error).toMatch(/shard sync failed: .*injected fault at shard\.sync/);
    }
    expect(await books(room)).toEqual(before);
    expect(await statusLine(room, joined)).toBe("..........");
    expect(faultReport().fired["shard.sync"]).toBeGreaterThanOrEqual(3);

    disarmFaults();
    await alarm(room);
    expect((await adminGet(room)).last_tick_error).toBeNull();
    // 3 s missed at 2/s: the bucket holds at most the time since the last refill plus one, so the
    // first tick after the outage catches up a little, not the whole outage at once.
    const first = expectPrefix(await statusLine(room, joined));
    expect(first).toBeGreaterThanOrEqual(2);
    expect(first).toBeLessThanOrEqual(5);
    for (let i = 0; i < 6; i++) await alarm(room);
    expect(expectPrefix(await statusLine(room, joined))).toBe(10);
    expect((await adminGet(room)).admitted_total).toBe(10);
  });

  it("when only some shards fail, the tick is still all or nothing", async () => {
    const room = await createRoom({ new_users_per_minute: 120, shards: 4, admission_ttl_seconds: 600 });
    const joined = await joinMany(room, 12, 20);
    testClock.advance(1_000);
    arm({ "shard.sync": { mode: "throw", probability: 0.3 } }, 42);
    let failed = 0;
    let previous = 0;
    for (let i = 0; i < 8; i++) {
      await alarm(room);
      const s = await adminGet(room);
      if (s.last_tick_error) {
        failed++;
        expect(s.admitted_total).toBe(previous); // a failed tick admitted nobody
      }
      previous = s.admitted_total;
      expectPrefix(await statusLine(room, joined));
    }
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(8);
    disarmFaults();
    for (let i = 0; i < 8; i++) await alarm(room);
    expect(expectPrefix(await statusLine(room, joined))).toBe(12);
    expect((await adminGet(room)).admitted_total).toBe(12);
  });

  it("a shard that hangs fails the tick at the call deadline instead of stalling the room", async () => {
    const room = await createRoom({ new_users_per_minute: 120, shards: 2, admission_ttl_seconds: 600 });
    const joined = await joinMany(room, 4, 50);
    testClock.advance(1_000);
    arm({ "shard.sync": { mode: "delay", delayMs: 6_000, times: 1 } });
    expect(await alarm(room)).toBe(true);
    // The deadline's own error (DURABLE_CALL_TIMEOUT_MS defaults to 5 s), not a stopwatch: the tick
    // ended because it stopped waiting, while the shard was still sleeping on its 6 s fault.
    expect((await adminGet(room)).last_tick_error).toMatch(/did not answer within 5000 ms/);
    expect(await statusLine(room, joined)).toBe("....");
    await alarm(room);
    await alarm(room);
    expect(expectPrefix(await statusLine(room, joined))).toBeGreaterThanOrEqual(2);
  }, 30_000);
});

describe("a position told at join, while ticks keep failing", () => {
  it("never rises when the poll reads a newer snapshot than the join did, with the ticket still unsynced", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1, paused: true });
    clearSnapshotCache();
    // Three people join; the first join caches the room's snapshot (nobody synced yet) at t0.
    for (let i = 0; i < 3; i++) expect((await join(room)).status).toBe(201);
    // One tick syncs those three, and the edge's cache is not told (as on another isolate, or within its TTL).
    testClock.advance(1_000);
    expect(await runDurableObjectAlarm(coordinator(room))).toBe(true);
    // A fourth joins through an edge still holding the t0 snapshot: the three are unsynced to it, counted ahead.
    const app = createDevApp();
    const device = await newDevice();
    const url = `${ORIGIN}/v1/rooms/${room}/tickets`;
    const res = await app.fetch(
      new Request(url, {
        method: "POST",
        headers: { "content-type": "application/json", dpop: await device.proof("POST", url) },
        body: JSON.stringify({ identity_assertion: await identityAssertion(newPersonId()) }),
      }),
      { ...env, SNAPSHOT_TTL_MS: "60000" },
      createExecutionContext(),
    );
    const joined = (await res.json()) as { ticket: string; position: number };
    expect(joined.position).toBe(4);

    // From now every tick fails, so the fourth is never synced; the poll's fresh snapshot has the three.
    arm({ "shard.sync": { mode: "throw" } });
    testClock.advance(1_000);
    await runDurableObjectAlarm(coordinator(room));
    expect((await adminGet(room)).last_tick_error).toMatch(/shard sync failed/);
    testClock.advance(1_000);
    const during = await poll(room, joined.ticket);
    expect(during.body.position).toBe(4); // was 7: the three counted in the snapshot and again from the ticket

    disarmFaults();
    await alarm(room);
    expect((await poll(room, joined.ticket)).body.position).toBe(4);
  });
});

describe("a tick that fails after part of its outcome was written", () => {
  it("leaves no trace: nobody reads as admitted, nobody is admitted twice, a restart sees the same books", async () => {
    const room = await createRoom({ new_users_per_minute: 120, shards: 3, admission_ttl_seconds: 600 });
    const joined = await joinMany(room, 10, 50);
    testClock.advance(1_000);
    await tick(room); // admits two
    expect(await statusLine(room, joined)).toBe("AA........");
    const before = await books(room);

    arm({ "coordinator.persist": { mode: "throw", times: 1 } });
    expect(await alarm(room)).toBe(true);
    expect(faultReport().fired["coordinator.persist"]).toBe(1);
    expect((await adminGet(room)).last_tick_error).toMatch(/injected fault at coordinator\.persist/);
    // The failed tick's admissions exist nowhere: not in polls, not in the counters.
    expect(await statusLine(room, joined)).toBe("AA........");
    expect(await books(room)).toEqual(before);

    // A restart now changes nothing: memory had been put back to what storage holds.
    await restart();
    expect(await books(room)).toEqual(before);

    // The next tick runs as if the failed one never had: it covers the 2 s since the last tick that
    // counted (4 people at 2/s), in order; after another restart, identical books.
    await alarm(room);
    expect(await statusLine(room, joined)).toBe("AAAAAA....");
    const after = await books(room);
    expect(after.admitted_total).toBe(6);
    expect(after.waiting).toBe(4);
    await restart();
    expect(await books(room)).toEqual(after);
    for (let i = 0; i < 2; i++) await alarm(room);
    expect(await statusLine(room, joined)).toBe("AAAAAAAAAA");
    const end = await adminGet(room);
    expect(end.admitted_total).toBe(10);
    expect(end.waiting).toBe(0);
    expect(end.shards.reduce((n: number, s: { admitted: number }) => n + s.admitted, 0)).toBe(10);
  });
});

describe("an alarm that throws", () => {
  it("is retried by the next alarm, and the room catches up without ever exceeding its per-minute cap", async () => {
    const RATE = 10;
    const STEP_MS = 3_000;
    const room = await createRoom({ new_users_per_minute: RATE, shards: 2, admission_ttl_seconds: 3_600 });
    const joined = await joinMany(room, 30, 5);
    testClock.advance(1_000);
    const random = mulberry32(7);
    const series: { at: number; admitted: number }[] = [];
    let total = 0;
    let failures = 0;
    // 90 s of trouble (each alarm fails with probability 0.4, plus a 15 s outage), then 66 s without.
    for (let step = 0; step < 52; step++) {
      const faulty = step < 30 && (random() < 0.4 || (step >= 12 && step < 17));
      if (faulty) arm({ "coordinator.tick": { mode: "throw", times: 1 } });
      expect(await alarm(room, STEP_MS)).toBe(true); // re-armed, whether the tick threw or not
      const s = await adminGet(room);
      if (faulty) {
        failures++;
        expect(s.last_tick_error).toMatch(/tick failed: InjectedFault/);
        expect(s.admitted_total).toBe(total);
      }
      series.push({ at: testClock.now(), admitted: s.admitted_total - total });
      total = s.admitted_total;
      expect(s.admitted_last_minute).toBeLessThanOrEqual(RATE);
    }
    disarmFaults();
    expect(failures).toBeGreaterThanOrEqual(10);
    expect(worstMinute(series)).toBeLessThanOrEqual(RATE);
    // Caught up: the last minute, all healthy, ran at exactly the configured rate.
    expect((await adminGet(room)).admitted_last_minute).toBe(RATE);
    // In order, and everyone admitted is counted once.
    expect(expectPrefix(await statusLine(room, joined))).toBe(total);
    expect((await poll(room, joined[0]!.ticket)).body.status).toBe("admitted");
  });
});
