// @ts-nocheck: JSDoc types not written yet (issue 14, item 7); `npx tsc -p tools` checks every other tool.
// Timed load: autocannon (programmatic API, in this process), loopback only, bounded. One static request
// sent again and again (hello world, polls), or pre-generated requests fed one per request and never
// twice (joins, credential requests). Every status is counted, every latency kept (for exact percentiles
// over several rounds), and the workerd processes' memory is sampled while it runs. Nothing here asserts
// anything about speed: it measures.
import autocannon from "autocannon";
import { sampleRss } from "./runtime.mjs";

/** The in-flight autocannon run, so an interrupt can stop it. */
let current = null;
export function stopCurrentLoad() {
  current?.stop();
}

/** Pre-generated requests and how far they have been used; one feed per target, kept across rounds. */
export function feed(items) {
  return { items, cursor: 0, ranOut: false, resent: 0 };
}

/**
 * One autocannon run.
 * @param {object} o
 * @param {string} o.base           origin of the Worker under load
 * @param {object} [o.request]      {method, path, headers, body}: sent again and again
 * @param {object} [o.feed]         from feed(): each request sent once
 * @param {number} [o.seconds]      run for this long …
 * @param {number} [o.amount]       … or for this many requests
 * @param {number} o.connections
 * @param {number[]} [o.pids]       workerd processes whose RSS is sampled
 */
export function round(o) {
  const f = o.feed;
  let instance = null;
  const next = (req) => {
    if (f.cursor < f.items.length) return { ...req, ...f.items[f.cursor++] };
    // Out of pre-generated requests: stop the run; until it stops, resend the last one (counted apart:
    // a resent join or credential request is refused as a replay, which is not the server failing).
    if (!f.ranOut) {
      f.ranOut = true;
      setImmediate(() => instance?.stop());
    }
    f.resent++;
    return { ...req, ...f.items[f.items.length - 1] };
  };
  if (f?.ranOut) return Promise.resolve(null);
  const opts = {
    // A static request's path goes in the URL (autocannon takes it from there); fed requests carry theirs.
    url: f ? o.base : `${o.base}${o.request.path}`,
    connections: o.connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.seconds }),
    timeout: 10,
    ...(f
      ? { requests: [{ method: "GET", path: "/", setupRequest: next }] }
      : { method: o.request.method ?? "GET", headers: o.request.headers ?? {}, ...(o.request.body ? { body: o.request.body } : {}) }),
  };
  const statuses = {};
  const latencies = [];
  const resentBefore = f?.resent ?? 0;
  const usedBefore = f?.cursor ?? 0;
  const rss = o.pids ? sampleRss(o.pids) : null;
  return new Promise((resolve, reject) => {
    instance = autocannon(opts, (err, result) => {
      current = null;
      const memory = rss?.stop() ?? { max: 0, mean: 0 };
      if (err) return reject(err);
      resolve({
        seconds: result.duration,
        statuses,
        latencies,
        transportErrors: result.errors,
        timeouts: result.timeouts,
        rss: { maxBytes: memory.max, meanBytes: memory.mean },
        resent: (f?.resent ?? 0) - resentBefore,
        itemsUsed: (f?.cursor ?? 0) - usedBefore,
        ranOut: f?.ranOut ?? false,
      });
    });
    current = instance;
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      latencies.push(responseTime);
    });
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Several timed rounds of one target as one measurement: rates over the summed time, exact percentiles. */
export function combine(rounds, okStatuses) {
  const done = rounds.filter(Boolean);
  const statuses = {};
  for (const r of done) for (const [s, n] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
  const seconds = done.reduce((a, r) => a + r.seconds, 0);
  const ok = okStatuses.reduce((a, s) => a + (statuses[s] ?? 0), 0);
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  const resent = done.reduce((a, r) => a + r.resent, 0);
  const sorted = done.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return {
    seconds,
    ok,
    rps: ok / seconds,
    // Resent requests after running out are expected refusals, not failures (and are few: ≤ 1 per connection).
    failed: Math.max(0, answered - ok - resent),
    statuses,
    transportErrors: done.reduce((a, r) => a + r.transportErrors, 0),
    timeouts: done.reduce((a, r) => a + r.timeouts, 0),
    latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, max: sorted.at(-1) ?? NaN },
    rss: { maxBytes: Math.max(...done.map((r) => r.rss.maxBytes)), meanBytes: done.reduce((a, r) => a + r.rss.meanBytes, 0) / (done.length || 1) },
    rounds: done.map((r) => ({ seconds: r.seconds, rps: okStatuses.reduce((a, s) => a + (r.statuses[s] ?? 0), 0) / r.seconds })),
    ranOut: done.some((r) => r.ranOut),
    itemsUsed: done.reduce((a, r) => a + r.itemsUsed, 0),
  };
}
