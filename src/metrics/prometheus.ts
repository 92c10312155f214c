/**
 * The Prometheus text exposition format, version 0.0.4: pure formatting, no I/O.
 *
 * Families are written in the order given, each as `# HELP`, `# TYPE`, then its samples, so every
 * family's lines are contiguous (a scraper rejects a family that reappears later). Label values are
 * escaped as the format demands (backslash, double quote, line feed), HELP text likewise (backslash,
 * line feed). Invalid metric or label names throw: they are programming errors, and a scrape that
 * half-parses is worse than a failing test.
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface ScalarFamily {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "untyped";
  readonly samples: readonly { readonly labels?: Labels; readonly value: number }[];
}

export interface HistogramSeries {
  readonly labels?: Labels;
  /** Cumulative counts by finite upper bound, ascending; the +Inf bucket is `count`. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly count: number;
  readonly sum: number;
}

export interface HistogramFamily {
  readonly name: string;
  readonly help: string;
  readonly type: "histogram";
  readonly series: readonly HistogramSeries[];
}

export type MetricFamily = ScalarFamily | HistogramFamily;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

export function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** A sample value as Go's ParseFloat reads it back: NaN, +Inf, -Inf, or a JS number literal. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return Object.is(value, -0) ? "0" : String(value);
}

function formatLabels(labels: Labels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  const seen = new Set<string>();
  const parts = pairs.map(([name, value]) => {
    if (!LABEL_NAME.test(name) || name.startsWith("__")) throw new Error(`invalid label name "${name}"`);
    if (seen.has(name)) throw new Error(`label "${name}" given twice`);
    seen.add(name);
    return `${name}="${escapeLabelValue(value)}"`;
  });
  return `{${parts.join(",")}}`;
}

function sampleLine(name: string, labels: Labels | undefined, value: number, extra?: [string, string]): string {
  return `${name}${formatLabels(labels, extra)} ${formatValue(value)}`;
}

function familyLines(family: MetricFamily): string[] {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`];
  if (family.type !== "histogram") {
    for (const s of family.samples) lines.push(sampleLine(family.name, s.labels, s.value));
    return lines;
  }
  for (const series of family.series) {
    if (series.labels && "le" in series.labels) throw new Error(`histogram ${family.name} may not carry its own "le" label`);
    let previous = -Infinity;
    for (const b of series.buckets) {
      if (!(b.le > previous) || !Number.isFinite(b.le))
        throw new Error(`histogram ${family.name}: bucket bounds must be finite and ascending`);
      previous = b.le;
      lines.push(sampleLine(`${family.name}_bucket`, series.labels, b.count, ["le", formatValue(b.le)]));
    }
    lines.push(sampleLine(`${family.name}_bucket`, series.labels, series.count, ["le", "+Inf"]));
    lines.push(sampleLine(`${family.name}_sum`, series.labels, series.sum));
    lines.push(sampleLine(`${family.name}_count`, series.labels, series.count));
  }
  return lines;
}

/** The whole exposition, ending with a line feed as the format requires. */
export function formatExposition(families: readonly MetricFamily[]): string {
  const names = new Set<string>();
  const lines: string[] = [];
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid metric name "${family.name}"`);
    if (names.has(family.name)) throw new Error(`metric family "${family.name}" given twice`);
    names.add(family.name);
    lines.push(...familyLines(family));
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

// ---- small builders, so callers read as a list of metrics -------------------------------------------------

export function gauge(name: string, help: string, samples: ScalarFamily["samples"]): ScalarFamily {
  return { name, help, type: "gauge", samples };
}

export function counter(name: string, help: string, samples: ScalarFamily["samples"]): ScalarFamily {
  return { name, help, type: "counter", samples };
}

/** A boolean as the 0/1 gauge PromQL expects. */
export function bit(value: boolean): number {
  return value ? 1 : 0;
}
