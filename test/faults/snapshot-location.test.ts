import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RoomSnapshot } from "../../src/admission/snapshot";
import type { Env } from "../../src/config/env";
import { LOCATION_CACHE, SnapshotCache, publishLocationCopy } from "../../src/edge/snapshot-cache";
import { createRoom, join, testClock, tick } from "../helpers/api";
import { arm } from "../helpers/faults";

/**
 * Many isolates of one Cloudflare location, each with its own memory, over the one location cache
 * Miniflare's Cache API provides: how many times the room's coordinator is asked for its snapshot.
 * Each `SnapshotCache` below is one isolate's memory; they share the named cache as isolates of a
 * location do (src/edge/snapshot-cache.ts).
 */
const edgeEnv = env as unknown as Env;
const TTL_MS = 1_000; // SNAPSHOT_TTL_MS in wrangler.toml
const ISOLATES = 40;

const isolates = (n: number, location?: () => Promise<Cache | null>) => Array.from({ length: n }, () => new SnapshotCache(location));
const calls = (caches: SnapshotCache[]) => caches.reduce((n, c) => n + c.fetchCount, 0);

/**
 * Every isolate reads the room `steps` times, `stepMs` apart: `together` all in the same instant (the
 * worst case: they all find the copy stale at once), else one after the other (as requests spread over
 * time reach a location). Checks that no isolate is ever served a snapshot older than the one before.
 */
async function readAll(room: string, all: SnapshotCache[], steps: number, stepMs: number, together: boolean): Promise<void> {
  const last = all.map(() => Number.NEGATIVE_INFINITY);
  const check = (s: RoomSnapshot | null, i: number) => {
    expect(s).toMatchObject({ room });
    expect(s!.generatedAt).toBeGreaterThanOrEqual(last[i]!);
    last[i] = s!.generatedAt;
  };
  for (let step = 0; step < steps; step++) {
    testClock.advance(stepMs);
    if (together) (await Promise.all(all.map((c) => c.read(edgeEnv, room)))).forEach(check);
    else for (let i = 0; i < all.length; i++) check(await all[i]!.read(edgeEnv, room), i);
  }
}

describe("the room snapshot shared by the isolates of one location", () => {
  it("40 isolates reading every 100 ms for 10 s ask the coordinator once per TTL, not once per isolate per TTL", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const shared = isolates(ISOLATES);
    await readAll(room, shared, 100, 100, false);
    const seconds = (100 * 100) / TTL_MS;
    // One call per TTL, plus the first read of a cold location.
    expect(calls(shared)).toBeLessThanOrEqual(seconds + 1);
    expect(calls(shared)).toBeGreaterThanOrEqual(seconds);

    // The same reads with isolate memory alone (the layer before this one): a call per isolate per TTL.
    const alone = isolates(ISOLATES, () => Promise.resolve(null));
    await readAll(room, alone, 100, 100, false);
    expect(calls(alone)).toBeGreaterThanOrEqual(ISOLATES * seconds);
  });

  it("40 isolates finding the copy stale in the same instant, every TTL: the claim read-back keeps the stampede far below one call per isolate", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const shared = isolates(ISOLATES);
    await readAll(room, shared, 100, 100, true);
    const seconds = (100 * 100) / TTL_MS;
    // No compare-and-set in the Cache API: claims whose read-back overlaps still both call (see
    // src/edge/snapshot-cache.ts). Bounded well under the isolates' own rate, never the full stampede.
    expect(calls(shared)).toBeGreaterThanOrEqual(seconds);
    expect(calls(shared)).toBeLessThanOrEqual((ISOLATES * seconds) / 4);
  });

  it("an isolate that joins the location late takes the location's copy without a call, and sees each tick's result within a TTL", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const [first, late] = isolates(2) as [SnapshotCache, SnapshotCache];
    const before = await first.read(edgeEnv, room);
    expect(first.fetchCount).toBe(1);
    expect(await late.read(edgeEnv, room)).toEqual(before);
    expect(late.fetchCount).toBe(0);

    await join(room);
    await tick(room); // admits the one person; its TTL-old copies are now stale
    const after = await late.read(edgeEnv, room);
    expect(after!.generatedAt).toBeGreaterThan(before!.generatedAt);
    expect(after!.admittedTotal).toBe(1);
    // The first isolate gets the late one's fresh copy from the location: still one call each.
    expect(await first.read(edgeEnv, room)).toEqual(after);
    expect(first.fetchCount + late.fetchCount).toBe(2);
  });

  it("a late publish of an older snapshot never takes an isolate back in time", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const [reader] = isolates(1) as [SnapshotCache];
    const older = (await reader.read(edgeEnv, room))!;
    await join(room);
    await tick(room);
    testClock.advance(TTL_MS);
    const newer = (await reader.read(edgeEnv, room))!;
    expect(newer.generatedAt).toBeGreaterThan(older.generatedAt);
    // Another isolate's refresh that started before the tick and answered after it publishes the older
    // snapshot with a fresher fetch time: a cross of two calls.
    testClock.advance(TTL_MS);
    await publishLocationCopy(await caches.open(LOCATION_CACHE), room, { fetchedAt: testClock.now(), snapshot: older });
    const served = (await reader.read(edgeEnv, room))!;
    expect(served.generatedAt).toBe(newer.generatedAt);
    expect(served.admittedTotal).toBe(1);
  });

  it("while the coordinator is slow, the other isolates serve the location's previous copy at once and make no call", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const all = isolates(10);
    const previous = await all[0]!.read(edgeEnv, room);
    for (const c of all.slice(1)) expect(await c.read(edgeEnv, room)).toEqual(previous);
    testClock.advance(TTL_MS + 1);
    arm({ "coordinator.snapshot": { mode: "delay", delayMs: 200, times: 1 } });
    const before = all.map((c) => c.fetchCount);
    const order: number[] = [];
    const got = await Promise.all(
      all.map((c, i) =>
        c.read(edgeEnv, room).then((s) => {
          order.push(i);
          return s;
        }),
      ),
    );
    // One refresh for the whole location.
    const refreshers = all.flatMap((c, i) => (c.fetchCount > before[i]! ? [i] : []));
    expect(refreshers).toHaveLength(1);
    // Everyone else was answered before its slow call came back, with the previous copy.
    expect(order.at(-1)).toBe(refreshers[0]);
    got.forEach((s, i) => {
      if (i !== refreshers[0]) expect(s).toEqual(previous);
      else expect(s!.generatedAt).toBeGreaterThanOrEqual(previous!.generatedAt);
    });
  });
});
