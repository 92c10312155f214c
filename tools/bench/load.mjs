// @ts-check
// Timed load: autocannon (programmatic API, in this process), loopback only, bounded. One static request
// sent again and again (hello world, polls), or pre-generated requests fed one per request and never
// twice (joins, credential requests). Every status is counted, every latency kept (for exact percentiles
// over several rounds), and the workerd processes' memory is sampled while it runs. Nothing here asserts
// anything about speed: it measures.
import autocannon from "autocannon";
import { sampleRss } from "./runtime.mjs";

/** The in-flight autocannon run, so an interrupt can stop it. @type {import("autocannon").Instance | null} */
let current = null;
export function stopCurrentLoad() {
  current?.stop();
}

/**
 * A request as autocannon sends it: {method, path, headers, body}.
 * @typedef {import("autocannon").Request} LoadRequest
 * @typedef {{ items: LoadRequest[], cursor: number, ranOut: boolean, resent: number }} Feed
 */

/**
 * Pre-generated requests and how far they have been used; one feed per target, kept across rounds.
 * @param {LoadRequest[]} items
 * @returns {Feed}
 */
export function feed(items) {
  return { items, cursor: 0, ranOut: false, resent: 0 };
}

/**
 * One round's figures (null when its feed had already run out).
 * @typedef {{
 *   seconds: number, statuses: Record<string, number>, latencies: number[], transportErrors: number, timeouts: number,
 *   rss: { maxBytes: number, meanBytes: number }, resent: number, itemsUsed: number, ranOut: boolean,
 * }} RoundResult
 */

/**
 * One autocannon run: `request` sent again and again, or each request of `feed` (from feed()) sent once;
 * for `seconds`, or for `amount` requests. `base` is the origin of the Worker under load; `pids` the
 * workerd processes whose RSS is sampled.
 * @param {{ base: string, connections: number, seconds?: number, amount?: number, pids?: number[] } & ({ request: LoadRequest & { path: string }, feed?: undefined } | { feed: Feed, request?: undefined })} o
 * @returns {Promise<RoundResult | null>}
 */
export function round(o) {
  const f = o.feed;
  /** @type {import("autocannon").Instance | null} */
  let instance = null;
  /** @param {Feed} f @param {LoadRequest} req */
  const next = (f, req) => {
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
  const { request } = o;
  /** @type {import("autocannon").Options} */
  const opts = {
    // A static request's path goes in the URL (autocannon takes it from there); fed requests carry theirs.
    url: f ? o.base : `${o.base}${request?.path}`,
    connections: o.connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.seconds }),
    timeout: 10,
    ...(f
      ? { requests: [{ method: "GET", path: "/", setupRequest: (/** @type {LoadRequest} */ req) => next(f, req) }] }
      : { method: request?.method ?? "GET", headers: request?.headers ?? {}, ...(request?.body ? { body: request.body } : {}) }),
  };
  /** @type {Record<string, number>} */
  const statuses = {};
  /** @type {number[]} */
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

/**
 * The p-th percentile (nearest rank) of an ascending array; NaN when empty.
 * @param {number[]} sorted
 * @param {number} p
 */
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/**
 * Several timed rounds of one target as one measurement: rates over the summed time, exact percentiles.
 * @param {Array<RoundResult | null>} rounds
 * @param {number[]} okStatuses
 */
export function combine(rounds, okStatuses) {
  const done = rounds.filter((r) => r !== null);
  /** @type {Record<string, number>} */
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
    rss: {
      maxBytes: Math.max(...done.map((r) => r.rss.maxBytes)),
      meanBytes: done.reduce((a, r) => a + r.rss.meanBytes, 0) / (done.length || 1),
    },
    rounds: done.map((r) => ({ seconds: r.seconds, rps: okStatuses.reduce((a, s) => a + (r.statuses[s] ?? 0), 0) / r.seconds })),
    ranOut: done.some((r) => r.ranOut),
    itemsUsed: done.reduce((a, r) => a + r.itemsUsed, 0),
  };
}
