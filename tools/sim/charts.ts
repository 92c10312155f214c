import type { SimulationReport } from "./report";
import { lineChart } from "./svg";

/** The three charts of a run, as SVG text keyed by file name. */
export function renderCharts(r: SimulationReport): Record<string, string> {
  const hours = r.series.minute.map((m) => m / 60);
  const at = (values: number[]) => values.map((v, i) => [hours[i]!, v] as const);
  const limit = r.admissions.limitPerMinute;
  const w = r.waits;
  const joinHours = w.joinMinute.map((m) => (m + w.binMinutes / 2) / 60);
  const byJoin = (values: number[]) => values.map((v, i) => [joinHours[i]!, v] as const);
  const arrivals = r.people.joined.toLocaleString("en-US");

  return {
    "queue-length.svg": lineChart({
      title: `People waiting (${arrivals} arrivals over ${r.config.hours} h)`,
      xLabel: "hours since the announcement",
      yLabel: "people in line",
      series: [
        { name: "waiting", color: "#2563eb", points: at(r.series.waiting), area: true },
        { name: "of whom gave up (their place still counts)", color: "#64748b", points: at(r.series.waitingGone), dash: "5 3" },
      ],
    }),
    "admission-rate.svg": lineChart({
      title: "Admissions per minute against the configured limit",
      xLabel: "hours since the announcement",
      yLabel: "people per minute",
      series: [
        { name: "admitted", color: "#16a34a", points: at(r.series.admitted) },
        { name: "limit (new_users_per_minute)", color: "#dc2626", points: at(r.series.admitted.map(() => limit)), dash: "6 4" },
        { name: "rate quoted to estimates", color: "#9333ea", points: at(r.series.quotedRatePerMinute), dash: "2 3" },
      ],
    }),
    "wait-estimate.svg": lineChart({
      title: `Wait told at join vs wait experienced (${r.estimates.tracked.toLocaleString("en-US")} tracked people)`,
      xLabel: "joined, hours since the announcement",
      yLabel: "minutes",
      series: [
        { name: "actual wait (median)", color: "#0f766e", points: byJoin(w.actualMedianMinutes) },
        { name: "actual wait (p90)", color: "#0f766e", points: byJoin(w.actualP90Minutes), dash: "2 3" },
        { name: "first estimate (median)", color: "#ea580c", points: byJoin(w.firstEstimateMedianMinutes), dash: "6 4" },
      ],
    }),
  };
}
