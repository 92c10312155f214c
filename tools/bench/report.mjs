// @ts-check
// Presenting a benchmark run: the console table, and the markdown for the README (`--publish`).
// Every figure is printed raw next to its ratio; a target missed says "missed", never anything softer.

/**
 * One scenario's figures, as bench/load.mjs measures them (the fields shown here).
 * @typedef {{ rps: number, latencyMs: { p50: number, p99: number }, ok: number, failed: number, transportErrors: number, ranOut: boolean, rss: { maxBytes: number } }} Measurement
 * @typedef {[string, Measurement | null | undefined]} LoadRow a scenario's label and figures (none when its phase failed)
 * @typedef {{ label: string, display: string, wanted: string, met: boolean | null }} Ratio
 * @typedef {[string, string]} MemoryRow
 */

const int = (/** @type {number} */ n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const fixed = (/** @type {number} */ n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "–");
/** Mebibytes (2^20 bytes), one decimal. */
export const mib = (/** @type {number} */ bytes) => (Number.isFinite(bytes) ? (bytes / 1024 / 1024).toFixed(1) : "–");

/**
 * Columns aligned: the first to the left, the others to the right.
 * @param {[Array<string | number>, ...Array<Array<string | number>>]} rows the header first
 */
function pad(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i] ?? 0) : String(c).padStart(widths[i] ?? 0))).join("  "))
    .join("\n");
}

/** @param {Measurement} m */
function failedCell(m) {
  const extra = [
    m.failed ? `${m.failed} failed` : "",
    m.transportErrors ? `${m.transportErrors} errors` : "",
    m.ranOut ? "ran out*" : "",
  ].filter(Boolean);
  return extra.length ? extra.join(", ") : "0";
}

/**
 * Rows of the load table: [label, measurement] pairs (measurement may be missing if a phase failed).
 * @param {LoadRow[]} rows
 */
export function loadTable(rows) {
  const header = ["scenario", "req/s", "p50 ms", "p99 ms", "ok", "not ok", "workerd RSS max MiB"];
  const body = rows.map(([label, m]) =>
    m
      ? [label, int(m.rps), fixed(m.latencyMs.p50, 0), fixed(m.latencyMs.p99, 0), int(m.ok), failedCell(m), mib(m.rss.maxBytes)]
      : [label, "–", "–", "–", "–", "not run", "–"],
  );
  return pad([header, ...body]);
}

/** @param {Ratio[]} ratios */
export function ratioTable(ratios) {
  const header = ["target", "measured", "wanted", "verdict"];
  const body = ratios.map((r) => [r.label, r.display, r.wanted, r.met === null ? "not measured" : r.met ? "met" : "MISSED"]);
  return pad([header, ...body]);
}

/** @param {Iterable<MemoryRow>} memory */
export function memoryTable(memory) {
  /** @type {[MemoryRow, ...MemoryRow[]]} */
  const rows = [["memory", "value"]];
  for (const [label, value] of memory) rows.push([label, value]);
  return pad(rows);
}

// ---- markdown --------------------------------------------------------------------------------------

/**
 * @param {string[]} header
 * @param {Array<Array<string | number>>} rows
 */
function mdTable(header, rows) {
  const esc = (/** @type {string | number} */ c) => String(c).replaceAll("|", "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/**
 * The published page (results/bench/latest.md).
 * @param {{
 *   date: string,
 *   machine: { cpus: number, cpuModel: string, memoryGiB: number, node: string, loadAverage: { start: string, end: string | null } },
 *   runtime: Record<string, string | number>,
 *   settings: { connections: number, seconds: number, warmupSeconds: number },
 *   ratios: Ratio[],
 *   memoryRows: MemoryRow[],
 *   notes: string[],
 * }} report
 * @param {LoadRow[]} loadRows
 */
export function markdown(report, loadRows) {
  const m = report.machine;
  const r = report.runtime;
  const s = report.settings;
  const lines = [];
  lines.push("<!-- Written by `npm run bench -- --publish` (tools/bench.mjs); do not edit by hand. -->");
  lines.push("");
  lines.push(
    `Measured ${report.date.slice(0, 10)} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, load average ${m.loadAverage.start} at start / ${m.loadAverage.end} at end (a load near or above the core count means other jobs shared the machine: absolute figures drift with it; read the ratios, measured side by side).`,
  );
  lines.push(
    `Runtime: one workerd process under Miniflare ${r.miniflare} (workerd ${r.workerd}, compatibility date ${r.compatibilityDate}), the Worker bundle built by wrangler ${r.wrangler} (\`wrangler deploy --dry-run\`), every Worker on its own loopback socket, \`cf\` off, logging off, Durable Objects and D1 persisted on ${r.persistMedium}; load from autocannon ${r.autocannon} in Node ${m.node}, ${s.connections} connections; each scenario warmed up (${s.warmupSeconds} s), then timed ${s.seconds} s in two halves, the targets compared in one series run in mirrored order (A B … B A).`,
  );
  lines.push("");
  lines.push(
    mdTable(
      ["scenario", "req/s", "p50 ms", "p99 ms", "not ok", "workerd RSS max MiB"],
      loadRows.map(([label, x]) =>
        x
          ? [label, int(x.rps), fixed(x.latencyMs.p50, 0), fixed(x.latencyMs.p99, 0), failedCell(x), mib(x.rss.maxBytes)]
          : [label, "–", "–", "–", "not run", "–"],
      ),
    ),
  );
  lines.push("");
  lines.push(
    mdTable(
      ["target", "measured", "wanted", "verdict"],
      report.ratios.map((x) => [x.label, x.display, x.wanted, x.met === null ? "not measured" : x.met ? "met" : "**missed**"]),
    ),
  );
  lines.push("");
  lines.push(mdTable(["memory", "value"], report.memoryRows));
  if (report.notes.length) {
    lines.push("");
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  lines.push("");
  lines.push(
    "Reproduce: `npm install && npm run bench` (add `-- --publish` to rewrite this file; `-- --help` for options). Raw figures of the last run: `reports/bench.json`.",
  );
  lines.push("");
  return lines.join("\n");
}
