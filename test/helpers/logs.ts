import { setLogSink } from "../../src/log/logger";

/** A structured log line as the logger writes it (src/log/logger.ts), the fields the tests read. */
export interface LoggedEvent {
  readonly event: string;
  readonly error?: string;
  readonly [field: string]: unknown;
}

/**
 * Runs `fn` with the Worker's log lines captured instead of printed (tests, Worker and objects share
 * one isolate), and returns its result with the lines logged as `event` meanwhile.
 */
export async function withLoggedEvents<T>(event: string, fn: () => Promise<T>): Promise<{ result: T; logged: LoggedEvent[] }> {
  const lines: string[] = [];
  setLogSink((_level, line) => void lines.push(line));
  try {
    const result = await fn();
    return { result, logged: lines.map((l) => JSON.parse(l) as LoggedEvent).filter((l) => l.event === event) };
  } finally {
    setLogSink(null);
  }
}
