import { afterEach, describe, expect, it } from "vitest";
import { formatLogLine, logger, scrub, setLogSink, type LogLevel } from "../../src/log/logger";

afterEach(() => setLogSink(null));

describe("structured logs", () => {
  it("writes one JSON object with ts, level, event and the allowed fields", () => {
    const line = formatLogLine(
      "info",
      "request",
      { route: "/v1/rooms/:room", room: "permis", status: 200, duration_ms: 12 },
      Date.UTC(2026, 0, 2),
    );
    expect(JSON.parse(line)).toEqual({
      ts: "2026-01-02T00:00:00.000Z",
      level: "info",
      event: "request",
      route: "/v1/rooms/:room",
      room: "permis",
      status: 200,
      duration_ms: 12,
    });
    expect(line).not.toContain("\n");
  });

  it("drops fields that are not on the list, and objects", () => {
    const fields = { status: 401, person_id: "FR-000123", name: "Dupont", headers: { authorization: "Bearer x" } } as Record<
      string,
      unknown
    >;
    const parsed = JSON.parse(formatLogLine("warn", "x", fields as never));
    expect(Object.keys(parsed).sort()).toEqual(["event", "level", "status", "ts"]);
  });

  it("redacts token-shaped strings and IP addresses in free text, and refuses a room that is not a room name", () => {
    const jws = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    expect(scrub(`bad ticket ${jws} from 203.0.113.9 or 2001:db8:0:0:0:0:0:1`)).toBe("bad ticket [redacted] from [redacted] or [redacted]");
    expect(scrub("from 2001:db8::77 and fe80::1 at 13:44:30")).toBe("from [redacted] and [redacted] at 13:44:30");
    expect(scrub("x".repeat(500)).length).toBeLessThanOrEqual(301 + "[redacted]".length);
    expect(JSON.parse(formatLogLine("info", "e", { room: "FR-000123 Dupont" })).room).toBe("[invalid]");
    expect(JSON.parse(formatLogLine("info", "e", { error: `opening ${jws}` })).error).toBe("opening [redacted]");
  });

  it("never throws, even with a broken sink; levels reach the sink", () => {
    const seen: [LogLevel, string][] = [];
    setLogSink((level, line) => seen.push([level, line]));
    logger.error("tick_failed", { room: "permis", error: "shard sync failed" });
    logger.info("admitted", { room: "permis", admitted: 3 });
    expect(seen.map(([l]) => l)).toEqual(["error", "info"]);
    setLogSink(() => {
      throw new Error("sink down");
    });
    expect(() => logger.info("x")).not.toThrow();
  });
});
