import { describe, expect, it } from "vitest";
import { ORIGIN } from "../../src/admission/order-key";
import type { RoomSnapshot } from "../../src/admission/snapshot";
import { aheadOf, ticketStatus, unsyncedAtPoll } from "../../src/admission/ticket-status";
import { toHistogram } from "../../src/admission/waiting-histogram";
import { config, key, T0 } from "./fixtures";

// Stamps (ms): baseline, then three frontier moves, the last one being the current frontier.
const A0 = T0 - 3_600_000;
const A1 = T0 - 3_000_000;
const A2 = T0 - 2_000_000;
const A3 = T0 - 1_000_000;
const S3 = Math.floor(A3 / 1000); // the frontier's second

function snapshot(patch: Partial<RoomSnapshot> = {}): RoomSnapshot {
  return {
    room: "permis",
    generatedAt: T0,
    config: config({ admission_ttl_seconds: 300 }),
    frontier: key(A3),
    baseline: key(A0),
    steps: [
      { at: T0 - 400_000, frontier: key(A1) },
      { at: T0 - 100_000, frontier: key(A2) },
      { at: T0 - 1_000, frontier: key(A3) },
    ],
    // 10 people waiting in the second after the frontier's, 30 in the one after that.
    histogram: toHistogram(
      new Map([
        [S3 + 1, 10],
        [S3 + 2, 30],
      ]),
    ),
    // No exact front: positions come from the histogram (as after a coordinator restart).
    front: { keys: [], completeUntil: ORIGIN },
    ratePerSecond: 5,
    admittedLastMinute: 0,
    admittedTotal: 0,
    active: 0,
    syncedSeqs: [],
    everJoined: true,
    ...patch,
  };
}

describe("ticketStatus: behind the frontier", () => {
  it("is admitted at the step that passed the key, until the TTL runs out", () => {
    expect(ticketStatus(snapshot(), key(A3), T0, 0.5)).toEqual({
      status: "admitted",
      admitted_at: T0 - 1_000,
      admission_expires_at: T0 - 1_000 + 300_000,
    });
    expect(ticketStatus(snapshot(), key(A2 - 1), T0, 0.5)).toEqual({
      status: "admitted",
      admitted_at: T0 - 100_000,
      admission_expires_at: T0 + 200_000,
    });
  });

  it("expires exactly when admitted_at + TTL is reached", () => {
    expect(ticketStatus(snapshot(), key(A2), T0 + 199_999, 0.5).status).toBe("admitted");
    expect(ticketStatus(snapshot(), key(A2), T0 + 200_000, 0.5)).toEqual({ status: "expired" });
  });

  it("is expired when admitted longer ago than the TTL", () => {
    expect(ticketStatus(snapshot(), key(A1), T0, 0.5)).toEqual({ status: "expired" });
  });

  it("is expired at or behind the baseline (no step records it any more)", () => {
    expect(ticketStatus(snapshot(), key(A0), T0, 0.5)).toEqual({ status: "expired" });
    expect(ticketStatus(snapshot(), key(A0 - 60_000), T0, 0.5)).toEqual({ status: "expired" });
  });

  it("stays admitted while the room is paused", () => {
    const s = snapshot({ config: config({ admission_ttl_seconds: 300, paused: true }) });
    expect(ticketStatus(s, key(A3), T0, 0.5).status).toBe("admitted");
  });
});

describe("ticketStatus: ahead of the frontier", () => {
  it("counts the position from the histogram and estimates from the rate", () => {
    // Start of second S3+2: the 10 of second S3+1 are ahead.
    expect(ticketStatus(snapshot(), key((S3 + 2) * 1000), T0, 0.5)).toEqual({
      status: "waiting",
      position: 11,
      estimated_wait_seconds: 3, // ceil(11 / 5)
      poll_after_seconds: 2,
    });
    // First in line: nobody ahead (a key one ms after the frontier, in a second nobody else is in).
    const first = ticketStatus(snapshot(), key(A3 + 1), T0, 0.5);
    expect(first).toMatchObject({ status: "waiting", position: 1, estimated_wait_seconds: 1 });
  });

  it("interpolates inside the ticket's own second", () => {
    // Halfway through S3+2: 10 before, plus floor(29 × 0.5) = 14 of the others in that second.
    const s = ticketStatus(snapshot(), key((S3 + 2) * 1000 + 500), T0, 0.5);
    expect(s).toMatchObject({ status: "waiting", position: 25, estimated_wait_seconds: 5 });
  });

  it("a key just after the frontier with the same stamp is waiting, not admitted", () => {
    expect(ticketStatus(snapshot(), key(A3, 0, 1), T0, 0.5).status).toBe("waiting");
    expect(ticketStatus(snapshot(), key(A3, 1, 0), T0, 0.5).status).toBe("waiting");
  });

  it("polls less often far back in line", () => {
    // 1,000 ahead at 10/s: wait 101 s, poll around 101 / 8 ≈ 12.6 s.
    const s = snapshot({ ratePerSecond: 10, histogram: toHistogram(new Map([[S3 + 1, 1_000]])) });
    const far = ticketStatus(s, key((S3 + 5) * 1000), T0, 0.5);
    expect(far).toEqual({ status: "waiting", position: 1_001, estimated_wait_seconds: 101, poll_after_seconds: 13 });
  });

  it("gives no wait estimate while paused, and polls rarely", () => {
    const s = snapshot({ config: config({ paused: true }) });
    const paused = ticketStatus(s, key((S3 + 2) * 1000), T0, 0.5);
    expect(paused).toEqual({ status: "waiting", position: 11, estimated_wait_seconds: null, poll_after_seconds: 60 });
    const early = ticketStatus(s, key((S3 + 2) * 1000), T0, 0);
    expect(early.status === "waiting" && early.poll_after_seconds).toBe(48);
  });
});

describe("ticketStatus: the exact front of the line", () => {
  // The next five people, known exactly; the histogram (10 + 30 people) says otherwise on purpose.
  const FRONT = [key(A3 + 10, 2, 0), key(A3 + 10, 5, 0), key(A3 + 400, 1, 3), key(A3 + 1_200, 0, 7), key(A3 + 1_300, 4, 1)];
  const s = snapshot({ front: { keys: FRONT, completeUntil: FRONT[4]! } });

  it("counts the people ahead exactly up to completeUntil", () => {
    expect(FRONT.map((k) => aheadOf(s, k))).toEqual([0, 1, 2, 3, 4]);
    expect(ticketStatus(s, FRONT[0]!, T0, 0.5)).toMatchObject({ status: "waiting", position: 1 });
    expect(ticketStatus(s, FRONT[3]!, T0, 0.5)).toMatchObject({ status: "waiting", position: 4, estimated_wait_seconds: 1 });
  });

  it("falls back to the histogram past completeUntil", () => {
    // Halfway through second S3+2: all 10 of second S3+1, then floor(29 × 0.5) of its own second.
    expect(aheadOf(s, key((S3 + 2) * 1000 + 500, 4, 2))).toBe(10 + 14);
    // Where the histogram's estimate is smaller than the exact front, the front wins: everyone in it is
    // ahead of a key past completeUntil, so positions never go backwards across the boundary.
    const histogramOnly = aheadOf(snapshot(), key(A3 + 1_300, 4, 2));
    expect(histogramOnly).toBeLessThan(s.front.keys.length);
    expect(aheadOf(s, key(A3 + 1_300, 4, 2))).toBe(s.front.keys.length);
  });

  it("adds people who joined ahead since the last sync", () => {
    expect(ticketStatus(s, FRONT[2]!, T0, 0.5, { ahead: 4 })).toMatchObject({ status: "waiting", position: 3 + 4 });
    expect(ticketStatus(snapshot(), key((S3 + 2) * 1000), T0, 0.5, { ahead: 4 })).toMatchObject({ position: 11 + 4 });
  });
});

describe("ticketStatus: a ticket the snapshot has not synced yet", () => {
  // Joined on shard 1 as its seq 9, in second S3+4 (behind everyone in the histogram).
  const mine = key((S3 + 4) * 1000 + 200, 1, 9);
  // The join's snapshot: shard 1 synced up to seq 5, so seqs 6..8 (3 people) were ahead and unsynced.
  const atJoin = snapshot({ syncedSeqs: [0, 5], admittedTotal: 100 });
  const told = ticketStatus(atJoin, mine, T0, 0.5, { ahead: 3 });
  const position = told.status === "waiting" ? told.position! : NaN;
  const basis = { ahead: 3, toldPosition: position, admittedTotal: 100 };

  it("counts the join's unsynced people while the ticket is unsynced, and nothing once it is", () => {
    expect(position).toBe(40 + 3 + 1);
    expect(unsyncedAtPoll(atJoin, mine, basis)).toBe(basis);
    expect(unsyncedAtPoll(snapshot({ syncedSeqs: [0, 9] }), mine, basis)).toEqual({ ahead: 0 });
  });

  it("never rises when a later snapshot synced those people but not the ticket (ticks failing since)", () => {
    // A tick synced seqs 6..8 (second S3+3), then ticks failed, so seq 9 was never read.
    const later = snapshot({
      syncedSeqs: [0, 8],
      admittedTotal: 100,
      histogram: toHistogram(
        new Map([
          [S3 + 1, 10],
          [S3 + 2, 30],
          [S3 + 3, 3],
        ]),
      ),
    });
    // Counted twice without the join's bound: 43 in the histogram, plus the same 3 again.
    expect(ticketStatus(later, mine, T0, 0.5, { ahead: 3 })).toMatchObject({ position: 47 });
    expect(ticketStatus(later, mine, T0, 0.5, unsyncedAtPoll(later, mine, basis))).toMatchObject({ position: position });
  });

  it("moves forward by the admissions since the join, and never below the people the snapshot counts", () => {
    const after12 = snapshot({ syncedSeqs: [0, 5], admittedTotal: 112, histogram: toHistogram(new Map([[S3 + 2, 28]])) });
    // The histogram says 28 + 3 ahead; the join's bound says 44 - 12 = 32: the smaller, 32 (of 31 + 1).
    expect(ticketStatus(after12, mine, T0, 0.5, basis)).toMatchObject({ position: 32 });
    // A bound below what the snapshot itself counts (an estimate at join that ran low) does not win.
    const crowded = snapshot({ syncedSeqs: [0, 5], admittedTotal: 130, histogram: toHistogram(new Map([[S3 + 2, 25]])) });
    expect(ticketStatus(crowded, mine, T0, 0.5, basis)).toMatchObject({ position: 26 });
    // A snapshot older than the join's (another isolate's cache): admissions do not go negative.
    const older = snapshot({
      syncedSeqs: [0, 5],
      admittedTotal: 90,
      histogram: toHistogram(
        new Map([
          [S3 + 1, 12],
          [S3 + 2, 30],
        ]),
      ),
    });
    expect(ticketStatus(older, mine, T0, 0.5, basis)).toMatchObject({ position: 44 });
  });
});
