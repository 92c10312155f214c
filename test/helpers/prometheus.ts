/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: it throws on anything a
 * lenient scraper might let slide. Every line must be `# HELP`, `# TYPE` or a sample; every sample must
 * belong to a family whose TYPE came first; a family's lines must be contiguous and appear once;
 * values must be numbers (Go float syntax, NaN, ±Inf); no series twice; counters non-negative;
 * histograms complete (ascending `le`, cumulative counts, `+Inf` bucket equal to `_count`, `_sum`).
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: string | null;
  help: string | null;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|NaN)$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export class ExpositionError extends Error {}

function fail(line: number, message: string): never {
  throw new ExpositionError(`line ${line}: ${message}`);
}

function parseValue(text: string, line: number): number {
  if (!FLOAT.test(text)) fail(line, `"${text}" is not a number`);
  if (/Inf$/.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/NaN$/.test(text)) return Number.NaN;
  return Number(text);
}

/** `{a="x",b="y\"z"}` from position `i` (at "{"); returns the labels and the position after "}". */
function parseLabels(s: string, i: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // "{"
  while (s[i] !== "}") {
    const eq = s.indexOf("=", i);
    if (eq < 0) fail(line, "label without '='");
    const name = s.slice(i, eq);
    if (!LABEL.test(name) || name.startsWith("__")) fail(line, `bad label name "${name}"`);
    if (name in labels) fail(line, `label "${name}" twice`);
    if (s[eq + 1] !== '"') fail(line, `label "${name}" value not quoted`);
    let value = "";
    let j = eq + 2;
    for (;;) {
      const ch = s[j];
      if (ch === undefined) fail(line, "unterminated label value");
      if (ch === "\n") fail(line, "raw line feed in label value");
      if (ch === '"') break;
      if (ch === "\\") {
        const next = s[j + 1];
        if (next === "\\") value += "\\";
        else if (next === '"') value += '"';
        else if (next === "n") value += "\n";
        else fail(line, `bad escape "\\${next}" in label value`);
        j += 2;
        continue;
      }
      value += ch;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (s[i] === ",") {
      i++;
      if (s[i] === "}") break; // a trailing comma is allowed
    } else if (s[i] !== "}") fail(line, "expected ',' or '}' after a label");
  }
  return [labels, i + 1];
}

/** HELP text escapes only backslash and line feed. */
function unescapeHelp(text: string, line: number): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") {
      out += text[i];
      continue;
    }
    const next = text[++i];
    if (next === "\\") out += "\\";
    else if (next === "n") out += "\n";
    else fail(line, "bad escape in HELP");
  }
  return out;
}

/** The family a sample name belongs to, given the family's type. */
function belongsTo(sample: string, family: Family): boolean {
  if (sample === family.name) return family.type !== "histogram";
  if (family.type === "histogram") return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sample);
  if (family.type === "summary") return [`${family.name}_sum`, `${family.name}_count`].includes(sample);
  return false;
}

function seriesKey(name: string, labels: Record<string, string>, omit?: string): string {
  return `${name}{${Object.keys(labels)
    .filter((k) => k !== omit)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",")}}`;
}

export function parseExposition(text: string): Map<string, Family> {
  if (text.includes("\r")) throw new ExpositionError("carriage return in the exposition");
  if (text.length > 0 && !text.endsWith("\n")) throw new ExpositionError("the exposition must end with a line feed");
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: Family | null = null;
  const open = (name: string, line: number): Family => {
    if (current?.name === name) return current;
    if (families.has(name)) fail(line, `family ${name} is not contiguous`);
    if (current && current.type === null) fail(line, `family ${current.name} has no TYPE`);
    current = { name, type: null, help: null, samples: [] };
    families.set(name, current);
    return current;
  };
  const lines = text.split("\n").slice(0, -1);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw === "") fail(line, "empty line");
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) fail(line, `bad metric name "${name}"`);
      const family = open(name, line);
      if (kind === "HELP") {
        if (family.help !== null) fail(line, `second HELP for ${name}`);
        family.help = unescapeHelp(rest, line);
      } else {
        if (family.type !== null) fail(line, `second TYPE for ${name}`);
        if (family.samples.length > 0) fail(line, `TYPE after samples of ${name}`);
        if (!TYPES.has(rest)) fail(line, `unknown type "${rest}"`);
        family.type = rest;
      }
      return;
    }
    if (raw.startsWith("#")) fail(line, "comment lines other than HELP and TYPE are not expected");
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (!nameMatch) fail(line, `not a sample: ${raw}`);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (raw[i] === "{") [labels, i] = parseLabels(raw, i, line);
    if (raw[i] !== " ") fail(line, "expected a space before the value");
    const parts = raw.slice(i + 1).split(" ");
    if (parts.length > 2 || parts[0] === "") fail(line, "expected a value and an optional timestamp");
    const value = parseValue(parts[0]!, line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(line, "bad timestamp");
    const family = current as Family | null;
    if (!family || family.type === null) fail(line, `sample ${name} before its family's TYPE`);
    if (!belongsTo(name, family)) fail(line, `sample ${name} outside its family (current: ${family.name} ${family.type})`);
    const key = seriesKey(name, labels);
    if (seen.has(key)) fail(line, `series ${key} twice`);
    seen.add(key);
    if (family.type === "counter" && !(value >= 0)) fail(line, `counter ${name} is ${value}`);
    family.samples.push({ name, labels, value });
  });
  const last = current as Family | null;
  if (last && last.type === null) throw new ExpositionError(`family ${last.name} has no TYPE`);
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  const of = (s: Sample) => {
    const key = seriesKey("", s.labels, "le");
    let entry = series.get(key);
    if (!entry) series.set(key, (entry = { buckets: [] }));
    return entry;
  };
  for (const s of family.samples) {
    const entry = of(s);
    if (s.name.endsWith("_bucket")) {
      const le = s.labels.le;
      if (le === undefined) throw new ExpositionError(`${family.name}: bucket without le`);
      entry.buckets.push([le === "+Inf" ? Infinity : parseValue(le, 0), s.value]);
    } else if (s.name.endsWith("_sum")) entry.sum = s.value;
    else entry.count = s.value;
  }
  for (const [key, entry] of series) {
    const where = `${family.name}${key}`;
    if (entry.sum === undefined || entry.count === undefined) throw new ExpositionError(`${where}: missing _sum or _count`);
    for (let i = 1; i < entry.buckets.length; i++) {
      if (!(entry.buckets[i]![0] > entry.buckets[i - 1]![0])) throw new ExpositionError(`${where}: le not ascending`);
      if (entry.buckets[i]![1] < entry.buckets[i - 1]![1]) throw new ExpositionError(`${where}: buckets not cumulative`);
    }
    const inf = entry.buckets[entry.buckets.length - 1];
    if (!inf || inf[0] !== Infinity || inf[1] !== entry.count)
      throw new ExpositionError(`${where}: +Inf bucket missing or not equal to _count`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`; undefined if none. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}

/** Every sample of `name` whose labels include `labels`. */
export function samplesOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample[] {
  return [...families.values()].flatMap((f) =>
    f.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)),
  );
}
