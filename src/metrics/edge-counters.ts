import { counter, gauge, type HistogramSeries, type MetricFamily } from "./prometheus";

/**
 * Requests this isolate answered, by route pattern, method and status class; and their durations.
 * Isolate memory only: cheap enough for the poll path (a map update), bounded (route patterns, not
 * URLs, so no room name, ticket or query string ever becomes a label), and reset when the isolate goes.
 * A deployment has many isolates; Prometheus sees whichever one answers a scrape, told apart by the
 * `isolate` label of antichambre_isolate_info.
 */
const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

interface RouteDurations {
  buckets: number[];
  count: number;
  sum: number;
}

const requests = new Map<string, { route: string; method: string; status_class: string; count: number }>();
const durations = new Map<string, RouteDurations>();
let isolate: { id: string; startedAt: number } | null = null;

/** Random values may not be made at global scope in Workers: the id is drawn on first use. */
function isolateInfo(): { id: string; startedAt: number } {
  isolate ??= { id: crypto.randomUUID().slice(0, 8), startedAt: Date.now() };
  return isolate;
}

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "other";
}

export function recordRequest(route: string, method: string, status: number, durationMs: number): void {
  isolateInfo();
  const m = METHODS.has(method) ? method : "OTHER";
  const cls = statusClass(status);
  const key = `${m} ${route} ${cls}`;
  const entry = requests.get(key);
  if (entry) entry.count++;
  else requests.set(key, { route, method: m, status_class: cls, count: 1 });

  let d = durations.get(route);
  if (!d) {
    d = { buckets: new Array<number>(DURATION_BUCKETS_S.length).fill(0), count: 0, sum: 0 };
    durations.set(route, d);
  }
  const seconds = Math.max(0, durationMs) / 1000;
  d.count++;
  d.sum += seconds;
  const i = DURATION_BUCKETS_S.findIndex((le) => seconds <= le);
  if (i >= 0) d.buckets[i]!++;
}

export function edgeFamilies(): MetricFamily[] {
  const info = isolateInfo();
  const series: HistogramSeries[] = [...durations].map(([route, d]) => {
    let cumulative = 0;
    return {
      labels: { route },
      buckets: DURATION_BUCKETS_S.map((le, i) => ({ le, count: (cumulative += d.buckets[i]!) })),
      count: d.count,
      sum: d.sum,
    };
  });
  return [
    gauge("antichambre_isolate_info", "The isolate that answered this scrape (edge and register metrics are per isolate).", [
      { labels: { isolate: info.id }, value: 1 },
    ]),
    gauge("antichambre_isolate_start_timestamp_seconds", "When this isolate's counters started (Unix time).", [
      { value: info.startedAt / 1000 },
    ]),
    counter(
      "antichambre_http_requests_total",
      "Requests this isolate answered, by route pattern, method and status class.",
      [...requests.values()].map((r) => ({ labels: { route: r.route, method: r.method, status_class: r.status_class }, value: r.count })),
    ),
    {
      name: "antichambre_http_request_duration_seconds",
      help: "Time to answer a request in this isolate (wall clock across I/O), by route pattern.",
      type: "histogram",
      series,
    },
  ];
}
