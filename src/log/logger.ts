/**
 * Structured logs: one JSON object per line, which Workers Logs (and `wrangler tail`) index by field.
 *
 * No personal data, by construction rather than by care at each call site:
 * - only the fields named in `LogFields` are written; anything else a caller passes is dropped, so a
 *   stray `{ ...request }` cannot smuggle a name, a person id or a header into a log line;
 * - string values are cut to MAX_STRING and anything shaped like a compact JWS/JWE, a long base64url
 *   blob or an IP address is replaced by "[redacted]": error messages are the one free-text field and
 *   may quote what they choke on.
 * Never pass names, person ids, pseudonyms, tickets, tokens, DPoP proofs or IP addresses, even so.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogFields {
  room?: string;
  route?: string;
  method?: string;
  status?: number;
  duration_ms?: number;
  /** What happened, in a word: issued, denied, ok, failed… */
  outcome?: string;
  /** A machine-readable cause (a problem kind, a DPoP refusal reason…). */
  reason?: string;
  /** An error message or name (redacted and cut). */
  error?: string;
  /** Cloudflare data centre (from request.cf), not the client's address. */
  colo?: string;
  shard?: number;
  admitted?: number;
  waiting?: number;
  active?: number;
  count?: number;
  rate_per_minute?: number;
  latency_ms?: number;
  tick_ms?: number;
  configuration?: string;
}

const ALLOWED: ReadonlySet<string> = new Set<keyof LogFields>([
  "room",
  "route",
  "method",
  "status",
  "duration_ms",
  "outcome",
  "reason",
  "error",
  "colo",
  "shard",
  "admitted",
  "waiting",
  "active",
  "count",
  "rate_per_minute",
  "latency_ms",
  "tick_ms",
  "configuration",
]);

const MAX_STRING = 300;
/** Room names are validated where they enter (RoomNameSchema); anything else in `room` is not one. */
const ROOM_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** Three dot-separated base64url runs (JWS) or five (JWE); any base64url run of 32+ characters. */
const TOKEN_LIKE = /[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){2,4}|[A-Za-z0-9_-]{32,}/g;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
/** Full IPv6 (three or more colons), or compressed with "::" (fe80::1, 2001:db8::77); not clock times. */
const IPV6 = /\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?/gi;

/** A string safe to log: personal-looking runs replaced, length capped. Exported for tests. */
export function scrub(value: string): string {
  const cut = value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  return cut.replace(TOKEN_LIKE, "[redacted]").replace(IPV4, "[redacted]").replace(IPV6, "[redacted]");
}

/** Where lines go; swapped in tests that want to read them without touching console. */
export interface LogSink {
  (level: LogLevel, line: string): void;
}

const consoleSink: LogSink = (level, line) => {
  // Workers Logs keeps the console method as the level; one argument keeps it one line.
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

let sink: LogSink = consoleSink;

export function setLogSink(next: LogSink | null): void {
  sink = next ?? consoleSink;
}

/** The line `log` would write (no I/O): exported so the format can be tested directly. */
export function formatLogLine(level: LogLevel, event: string, fields: LogFields, now = Date.now()): string {
  const out: Record<string, string | number | boolean | null> = { ts: new Date(now).toISOString(), level, event: scrub(event) };
  for (const [key, value] of Object.entries(fields)) {
    if (!ALLOWED.has(key) || value === undefined) continue;
    if (key === "room") out[key] = typeof value === "string" && ROOM_NAME.test(value) ? value : "[invalid]";
    else if (typeof value === "string") out[key] = scrub(value);
    else if (typeof value === "number") out[key] = Number.isFinite(value) ? value : null;
    else if (typeof value === "boolean" || value === null) out[key] = value;
    // Objects and anything else are dropped: they could carry anything.
  }
  return JSON.stringify(out);
}

/**
 * Write one log line. Never throws: logging must not turn a good request into a failed one.
 * `ts` is wall-clock time (Date.now), not the project clock: logs are read against other systems' logs.
 */
export function log(level: LogLevel, event: string, fields: LogFields = {}): void {
  try {
    sink(level, formatLogLine(level, event, fields));
  } catch {
    // A broken sink is not the request's problem.
  }
}

export const logger = {
  debug: (event: string, fields?: LogFields) => log("debug", event, fields),
  info: (event: string, fields?: LogFields) => log("info", event, fields),
  warn: (event: string, fields?: LogFields) => log("warn", event, fields),
  error: (event: string, fields?: LogFields) => log("error", event, fields),
};
