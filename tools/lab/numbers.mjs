// @ts-check
// Small numeric helpers shared by the Node-side tools' reports.

/**
 * The p-th percentile (nearest rank) of an ascending array; null when empty.
 * @param {number[]} sorted
 * @param {number} p
 * @returns {number | null}
 */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? null;
}

/**
 * `x` to `digits` decimals; null for a missing or non-finite value.
 * @param {number | null | undefined} x
 * @returns {number | null}
 */
export function round(x, digits = 1) {
  return x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits;
}

/**
 * p50 / p99 / max of a list of milliseconds.
 * @param {Iterable<number>} values
 */
export function latencySummary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.at(-1) ?? null),
  };
}

/**
 * The most events in any window (t − windowMs, t] of a list of times: how the admission budget counts
 * "the last minute", so comparing it with new_users_per_minute finds any cap exceeded.
 * @param {Iterable<number>} times
 */
export function busiestWindow(times, windowMs = 60_000) {
  const t = [...times].sort((a, b) => a - b);
  let worst = 0;
  let start = 0;
  for (let end = 0; end < t.length; end++) {
    // Both indices stay below t.length (start never passes end).
    while (/** @type {number} */ (t[start]) <= /** @type {number} */ (t[end]) - windowMs) start++;
    worst = Math.max(worst, end - start + 1);
  }
  return worst;
}
