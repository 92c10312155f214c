import { describe, expect, it } from "vitest";
import { ORIGIN } from "../../src/admission/order-key";
import { roomState, waitingCount, wouldQueue, type RoomSnapshot } from "../../src/admission/snapshot";
import { toHistogram } from "../../src/admission/waiting-histogram";
import type { RoomConfig } from "../../src/config/room-config";
import { config, T0 } from "./fixtures";

function snap(cfg: Partial<RoomConfig>, waiting: number, active: number): RoomSnapshot {
  return {
    room: "r",
    generatedAt: T0,
    config: config({ total_active_users: 100, ...cfg }),
    frontier: ORIGIN,
    baseline: ORIGIN,
    steps: [],
    histogram: toHistogram(waiting ? new Map([[1_000, waiting]]) : new Map()),
    front: { keys: [], completeUntil: ORIGIN },
    ratePerSecond: 10,
    admittedLastMinute: 0,
    admittedTotal: 0,
    active,
    syncedSeqs: [],
    everJoined: waiting > 0,
  };
}

describe("waitingCount / wouldQueue", () => {
  it("counts everyone in the histogram", () => {
    const s = snap({}, 0, 0);
    expect(
      waitingCount({
        ...s,
        histogram: toHistogram(
          new Map([
            [1, 3],
            [2, 4],
          ]),
        ),
      }),
    ).toBe(7);
    expect(waitingCount(s)).toBe(0);
  });

  it("a newcomer queues if anyone is waiting or the active cap is full", () => {
    expect(wouldQueue(snap({}, 0, 0))).toBe(false);
    expect(wouldQueue(snap({}, 0, 99))).toBe(false);
    expect(wouldQueue(snap({}, 1, 0))).toBe(true);
    expect(wouldQueue(snap({}, 0, 100))).toBe(true);
    expect(wouldQueue(snap({}, 0, 150))).toBe(true);
  });
});

describe("roomState", () => {
  it("fifo and random: open when nobody waits, queueing otherwise", () => {
    for (const queueing_method of ["fifo", "random"] as const) {
      expect(roomState(snap({ queueing_method }, 0, 0))).toBe("open");
      expect(roomState(snap({ queueing_method }, 5, 0))).toBe("queueing");
    }
  });

  it("paused wins over everything", () => {
    for (const queueing_method of ["fifo", "random", "passthrough", "reject"] as const) {
      expect(roomState(snap({ queueing_method, paused: true }, 0, 0))).toBe("paused");
      expect(roomState(snap({ queueing_method, paused: true }, 5, 500))).toBe("paused");
    }
  });

  it("passthrough is always open", () => {
    expect(roomState(snap({ queueing_method: "passthrough" }, 5, 500))).toBe("open");
  });

  it("reject is closed as soon as a newcomer would have to wait", () => {
    expect(roomState(snap({ queueing_method: "reject" }, 0, 0))).toBe("open");
    expect(roomState(snap({ queueing_method: "reject" }, 0, 100))).toBe("closed"); // cap full, nobody in line yet
    expect(roomState(snap({ queueing_method: "reject" }, 3, 0))).toBe("closed");
  });
});
