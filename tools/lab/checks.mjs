// @ts-check
// What must hold at the end of any run of devices through one room, whatever was done to the service
// meanwhile (faults, a crash, a long soak): each check is { name, ok, detail } for a report.
import { busiestWindow } from "./numbers.mjs";

/**
 * One check's result; `advisory` marks one a tool reports without failing on it.
 * @typedef {{ name: string, ok: boolean, detail: unknown, advisory?: boolean }} Check
 */

/**
 * `records`: the devices' journey records (journey.mjs). `rate`: the room's new_users_per_minute.
 * `stats`: the room's admin statistics at the end (null if unreadable). `countInversions`: fairness.ts.
 * @param {{
 *   records: import("./journey.mjs").JourneyRecord[],
 *   rate: number,
 *   stats: { admitted_total: number, waiting: number, sessions_open: number } | null,
 *   countInversions: (values: number[]) => number,
 * }} run
 */
export function runChecks({ records, rate, stats, countInversions }) {
  /** @type {Check[]} */
  const checks = [];
  const check = (/** @type {string} */ name, /** @type {unknown} */ ok, /** @type {unknown} */ detail) =>
    checks.push({ name, ok: Boolean(ok), detail });
  const by = (/** @type {import("./journey.mjs").JourneyRecord["outcome"]} */ o) => records.filter((r) => r.outcome === o).length;
  const lost = records.filter((r) => !["issued", "denied", "abandoned"].includes(r.outcome));
  check("nobody lost: every device ended issued, denied or abandoned on purpose", lost.length === 0, {
    devices: records.length,
    issued: by("issued"),
    denied: by("denied"),
    abandoned: by("abandoned"),
    lost: lost.length,
    lost_sample: lost.slice(0, 5).map((r) => ({ person: r.person, outcome: r.outcome, error: r.error })),
  });

  // Admission order: sorted by place in line (the ticket's order key), the admission times never go back.
  /** @type {(r: import("./journey.mjs").JourneyRecord) => r is import("./journey.mjs").JourneyRecord & { ord: [number, number], admitted_at: number }} */
  const wasAdmitted = (r) => r.ord !== undefined && r.admitted_at !== undefined;
  const admitted = records.filter(wasAdmitted).sort((x, y) => x.ord[0] - y.ord[0] || x.ord[1] - y.ord[1]);
  const inversions = countInversions(admitted.map((r) => r.admitted_at));
  check("FIFO: no pair admitted out of join order", inversions === 0, { admitted: admitted.length, out_of_order_pairs: inversions });

  const worst = busiestWindow(admitted.map((r) => r.admitted_at));
  check("per-minute cap never exceeded (busiest 60 s of admissions seen by devices)", worst <= rate, { busiest_minute: worst, cap: rate });

  // A place only moves forward. Positions are exact near the front and, past the exact front list,
  // counted from a per-second histogram of people waiting: exact to within the arrivals of one second
  // (README). So a device's position may rise by at most the number of others stamped in its own second.
  /** @type {Map<number, number>} */
  const perSecond = new Map();
  for (const r of records) if (r.ord) perSecond.set(Math.floor(r.ord[0] / 1000), (perSecond.get(Math.floor(r.ord[0] / 1000)) ?? 0) + 1);
  const rises = records
    .map((r) => {
      let rise = 0;
      for (let i = 1; i < r.positions.length; i++)
        rise = Math.max(rise, /** @type {number} */ (r.positions[i]) - /** @type {number} */ (r.positions[i - 1]));
      // Every record with a place was counted in perSecond just above.
      const sameSecond = r.ord ? /** @type {number} */ (perSecond.get(Math.floor(r.ord[0] / 1000))) - 1 : 0;
      return { person: r.person, rise, same_second: sameSecond, positions: r.positions };
    })
    .filter((x) => x.rise > 0);
  const beyond = rises.filter((x) => x.rise > x.same_second);
  check("positions never went up by more than the arrivals of the device's own second", beyond.length === 0, {
    devices_with_a_rise: rises.length,
    beyond_tolerance: beyond.length,
    sample: (beyond.length ? beyond : rises).slice(0, 3),
  });

  if (stats) {
    const joined = records.filter((r) => r.ord).length;
    check("admitted_total counts each person once, and nobody is left waiting", stats.admitted_total === joined && stats.waiting === 0, {
      admitted_total: stats.admitted_total,
      joined,
      waiting: stats.waiting,
    });
    // Sessions start at the token endpoint; a notification closes them. Denied devices never notify.
    const notified = records.filter((r) => r.notified).length;
    const open = by("issued") + by("denied") - notified;
    check("sessions: every notified one closed, none lost", stats.sessions_open === open, {
      sessions_open: stats.sessions_open,
      expected: open,
      notified,
    });
  } else {
    check("room statistics readable at the end", false, null);
  }
  return checks;
}
