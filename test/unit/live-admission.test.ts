import { describe, expect, it } from "vitest";
import { liveAdmission } from "../../src/admission/live-admission";
import { ORIGIN } from "../../src/admission/order-key";
import type { RoomSnapshot } from "../../src/admission/snapshot";
import { ticketStatus } from "../../src/admission/ticket-status";
import { toHistogram } from "../../src/admission/waiting-histogram";
import { config, key, T0 } from "./fixtures";

/**
 * The token endpoint's decision, made at the edge from a snapshot (sessions off the coordinator): the
 * same admission, the same tick time and the same expiry as the poll path tells the device, so a code
 * the poll handed out is redeemable exactly while the poll says "admitted", and never otherwise.
 */
const A0 = T0 - 3_600_000;
const A1 = T0 - 400_000;
const A2 = T0 - 1_000;

const snapshot: RoomSnapshot = {
  room: "permis",
  generatedAt: T0,
  config: config({ admission_ttl_seconds: 300 }),
  frontier: key(A2),
  baseline: key(A0),
  steps: [
    { at: T0 - 350_000, frontier: key(A1) },
    { at: T0 - 500, frontier: key(A2) },
  ],
  histogram: toHistogram(new Map([[Math.floor(A2 / 1000) + 1, 3]])),
  front: { keys: [], completeUntil: ORIGIN },
  ratePerSecond: 5,
  admittedLastMinute: 0,
  admittedTotal: 0,
  active: 0,
  syncedSeqs: [],
  everJoined: true,
};

describe("whether an admission may open its session, from the snapshot alone", () => {
  it("agrees with the poll path for every place: waiting, admitted (same tick time and expiry), expired, before the baseline", () => {
    const places = [key(A0 - 1), key(A0), key(A0 + 1), key(A1 - 1), key(A1), key(A1 + 1), key(A2), key(A2 + 1), key(T0)];
    for (const now of [T0, T0 + 10_000, T0 + 299_000, T0 + 300_000]) {
      for (const place of places) {
        const poll = ticketStatus(snapshot, place, now, 0.5);
        const live = liveAdmission(snapshot, place, now);
        if (poll.status === "admitted") {
          expect(live).toEqual({ ok: true, value: { admittedAt: poll.admitted_at, expiresAt: poll.admission_expires_at } });
        } else {
          expect(live).toEqual({ ok: false, reason: poll.status === "waiting" ? "not_admitted" : "expired" });
        }
      }
    }
  });

  it("an admission is refused from the moment its TTL is over, not a millisecond later", () => {
    const at = T0 - 500;
    expect(liveAdmission(snapshot, key(A2), at + 300_000 - 1)).toMatchObject({ ok: true, value: { admittedAt: at } });
    expect(liveAdmission(snapshot, key(A2), at + 300_000)).toEqual({ ok: false, reason: "expired" });
  });
});
