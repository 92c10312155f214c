import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import { clearSnapshotCache, roomSnapshot, snapshotFetchCount } from "../../src/edge/snapshot-cache";
import { createRoom, testClock } from "../helpers/api";
import { arm } from "../helpers/faults";

/**
 * The isolate's room snapshot while the coordinator is slow to answer a refresh. No request may wait on
 * a refresh another request started: under workerd that request has no I/O of its own left, and the
 * runtime cancels it as hung with a bare 500 (seen under `npm start` with 20 concurrent room reads).
 * So a request either serves the snapshot it has or makes its own call.
 */
const edgeEnv = env as unknown as Env;
/** Long enough that every other request of the test is answered before the refresh returns. */
const SLOW_REFRESH_MS = 200;

/** Starts `n` reads and records in which order they are answered. */
function reads(room: string, labels: string[], order: string[]) {
  return labels.map((label) =>
    roomSnapshot(edgeEnv, room).then((snapshot) => {
      order.push(label);
      return snapshot;
    }),
  );
}

describe("the room snapshot cache, with a slow coordinator", () => {
  it("while one request refreshes the snapshot, the others are served the previous one at once", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    clearSnapshotCache();
    const previous = await roomSnapshot(edgeEnv, room);
    expect(previous).toMatchObject({ room });
    testClock.advance(1_001); // past SNAPSHOT_TTL_MS
    arm({ "coordinator.snapshot": { mode: "delay", delayMs: SLOW_REFRESH_MS, times: 1 } });
    const before = snapshotFetchCount();

    const order: string[] = [];
    const [refresher, ...others] = reads(room, ["refresher", "a", "b", "c", "d", "e"], order);
    const served = await Promise.all(others);
    // Answered before the refresh came back (the old code made them wait for it, and answered last).
    expect(order).toEqual(["a", "b", "c", "d", "e"]);
    for (const s of served) expect(s).toEqual(previous);
    expect(await refresher).toMatchObject({ room });
    expect(order.at(-1)).toBe("refresher");
    expect(snapshotFetchCount()).toBe(before + 1);

    // The refreshed snapshot is what the next reads get, with no further call.
    const after = await Promise.all(reads(room, ["f", "g"], []));
    for (const s of after) expect(s).toMatchObject({ room });
    expect(snapshotFetchCount()).toBe(before + 1);
  });

  it("with no snapshot to serve yet, each request makes its own call rather than waiting on another's", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    clearSnapshotCache();
    arm({ "coordinator.snapshot": { mode: "delay", delayMs: SLOW_REFRESH_MS } });
    const before = snapshotFetchCount();
    const got = await Promise.all(reads(room, ["a", "b", "c"], []));
    for (const s of got) expect(s).toMatchObject({ room });
    expect(snapshotFetchCount()).toBe(before + 3);
  });

  it("a refresh that never settles does not hide the next one", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    clearSnapshotCache();
    await roomSnapshot(edgeEnv, room);
    testClock.advance(1_001);
    arm({ "coordinator.snapshot": { mode: "delay", delayMs: SLOW_REFRESH_MS, times: 1 } });
    const before = snapshotFetchCount();
    const stuck = roomSnapshot(edgeEnv, room); // in flight for SLOW_REFRESH_MS of real time
    // Five seconds of the injected clock later, that refresh counts as lost: the next read refreshes.
    testClock.advance(5_000);
    expect(await roomSnapshot(edgeEnv, room)).toMatchObject({ room });
    expect(snapshotFetchCount()).toBe(before + 2);
    await stuck;
  });
});
