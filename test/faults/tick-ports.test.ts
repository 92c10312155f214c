import { describe, expect, it } from "vitest";
import type { TickRecord } from "../../src/admission/admission-log";
import type { RoomState } from "../../src/admission/coordinator-store";
import type { TickPorts } from "../../src/admission/coordinator-tick";
import type { SyncReport, SyncRequest } from "../../src/admission/protocol";
import { InjectedFault } from "../../src/faults/faults";
import { wrapTickEntry, wrapTickPorts } from "../../src/faults/points";
import { arm, faultReport } from "../helpers/faults";

/**
 * Where the coordinator's fault points sit now that they are wrappers around the tick's ports (built in
 * RoomCoordinator's constructor) instead of calls inside the tick. test/faults/tick-faults.test.ts shows
 * what a fault does to the room; these show which call each point stands in front of, in particular that
 * "coordinator.persist" fires after the first write step ran, i.e. after part of the tick's rows were
 * written inside its transaction, which the room-level test cannot see because the rollback hides it.
 */

const room = { name: "r" } as RoomState;
const record = { at: 1 } as TickRecord;
const req: SyncRequest = { shard: 0, after: { a: 0, b: 0 }, limit: 1, eligibleBefore: 0, since: 0 };

/** Ports that record which of them ran. */
function recordingPorts(calls: string[]): TickPorts {
  return {
    async syncShard(r, q) {
      calls.push(`sync ${r} ${q.shard}`);
      return { heads: [] } as unknown as SyncReport;
    },
    async sessionCounts(r, q) {
      calls.push(`count ${r} ${q.object}`);
      return { redeemed: 0, open: 0 };
    },
    writeTickLog: () => void calls.push("log"),
    writeTickBooks: () => void calls.push("books"),
  };
}

describe("the tick's ports with the fault points around them", () => {
  it("pass every call through, once, when nothing is armed (and the wrappers are built before arming)", async () => {
    const calls: string[] = [];
    const ports = wrapTickPorts(recordingPorts(calls));
    const entry = wrapTickEntry(async (n: number) => void calls.push(`tick ${n}`));
    await entry(7);
    await ports.syncShard("r", req);
    await ports.sessionCounts("r", { object: 0, now: 1, ttlMs: 1 });
    ports.writeTickLog(room, [1], record);
    ports.writeTickBooks(room, []);
    expect(calls).toEqual(["tick 7", "sync r 0", "count r 0", "log", "books"]);
    expect(faultReport().fired).toEqual({});
  });

  it('"coordinator.persist" fails the second write step after the first one wrote, and never the first', () => {
    const calls: string[] = [];
    const ports = wrapTickPorts(recordingPorts(calls));
    arm({ "coordinator.persist": { mode: "throw", times: 1 } });
    ports.writeTickLog(room, [1], record);
    expect(() => ports.writeTickBooks(room, [])).toThrow(new InjectedFault("coordinator.persist"));
    expect(calls).toEqual(["log"]); // the log rows were written; the books step never ran
    expect(faultReport().fired["coordinator.persist"]).toBe(1);
    ports.writeTickBooks(room, []); // spent (times: 1): the next tick writes
    expect(calls).toEqual(["log", "books"]);
  });

  it('"shard.sync" rejects before the shard is asked, and a "delay" still reaches the shard afterwards', async () => {
    const calls: string[] = [];
    const ports = wrapTickPorts(recordingPorts(calls));
    arm({ "shard.sync": { mode: "throw", times: 1 } });
    await expect(ports.syncShard("r", req)).rejects.toThrow("injected fault at shard.sync");
    expect(calls).toEqual([]);
    arm({ "shard.sync": { mode: "delay", delayMs: 1, times: 1 } });
    await ports.syncShard("r", req);
    expect(calls).toEqual(["sync r 0"]);
    expect(faultReport().fired["shard.sync"]).toBe(2);
  });

  it('"sessions.count" rejects before the session object is asked, and a "delay" still reaches it afterwards', async () => {
    const calls: string[] = [];
    const ports = wrapTickPorts(recordingPorts(calls));
    const count = { object: 3, now: 1, ttlMs: 1 };
    arm({ "sessions.count": { mode: "throw", times: 1 } });
    await expect(ports.sessionCounts("r", count)).rejects.toThrow("injected fault at sessions.count");
    expect(calls).toEqual([]);
    arm({ "sessions.count": { mode: "delay", delayMs: 1, times: 1 } });
    expect(await ports.sessionCounts("r", count)).toEqual({ redeemed: 0, open: 0 });
    expect(calls).toEqual(["count r 3"]);
    expect(faultReport().fired["sessions.count"]).toBe(2);
  });

  it('"coordinator.tick" throws before the tick does any work', async () => {
    const calls: string[] = [];
    const entry = wrapTickEntry(async () => void calls.push("tick"));
    arm({ "coordinator.tick": { mode: "throw", times: 1 } });
    await expect(entry()).rejects.toBeInstanceOf(InjectedFault);
    expect(calls).toEqual([]);
    await entry();
    expect(calls).toEqual(["tick"]);
  });
});
