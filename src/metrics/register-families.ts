import type { RegisterMetrics } from "../register/register";
import { counter, gauge, type MetricFamily } from "./prometheus";

/**
 * This isolate's view of the protected licence register (src/register/register.ts), pure. Per isolate:
 * each scrape reaches one isolate, and counters restart with it (see antichambre_isolate_info).
 */
const P = "antichambre_register_";

export function registerFamilies(m: RegisterMetrics): MetricFamily[] {
  const one = (value: number | null) => (value === null ? [] : [{ value }]);
  return [
    counter(`${P}reads_total`, "Register reads that got an answer (a holder or no licence).", [{ value: m.reads }]),
    counter(`${P}found_total`, "Register reads that found a licence holder.", [{ value: m.found }]),
    counter(`${P}not_found_total`, "Register reads that found no licence holder.", [{ value: m.not_found }]),
    counter(`${P}errors_total`, "Register reads that failed (D1 error, timeout, unreadable row).", [{ value: m.errors }]),
    counter(`${P}busy_total`, "Register reads refused for want of a slot (503, retryable).", [{ value: m.busy }]),
    counter(`${P}leases_expired_total`, "Register slots reclaimed from requests that never released them.", [{ value: m.leases_expired }]),
    gauge(`${P}in_flight`, "Register reads in flight now.", [{ value: m.in_flight }]),
    gauge(`${P}max_in_flight`, "Most register reads in flight at once since the counters started.", [{ value: m.max_in_flight }]),
    gauge(`${P}queued`, "Requests waiting for a register slot now.", [{ value: m.waiting }]),
    {
      name: `${P}latency_seconds`,
      help: "Time holding a register slot per read (simulated latency and D1).",
      type: "histogram",
      series: [
        {
          buckets: m.latency_ms.buckets.flatMap((b) => (b.le === null ? [] : [{ le: b.le / 1000, count: b.count }])),
          count: m.latency_ms.count,
          sum: m.latency_ms.sum / 1000,
        },
      ],
    },
    gauge(
      `${P}latency_ewma_seconds`,
      "Moving average of register read latency.",
      one(m.latency_ms.ewma === null ? null : m.latency_ms.ewma / 1000),
    ),
    gauge(
      `${P}queue_wait_ewma_seconds`,
      "Moving average of the wait for a register slot.",
      one(m.queue_wait_ms_ewma === null ? null : m.queue_wait_ms_ewma / 1000),
    ),
  ];
}
