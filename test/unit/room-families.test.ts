import { describe, expect, it } from "vitest";
import { formatExposition } from "../../src/metrics/prometheus";
import { roomFamilies } from "../../src/metrics/room-families";
import { RoomStatsSchema } from "../../src/metrics/room-stats";
import { parseExposition, sampleValue, samplesOf } from "../helpers/prometheus";

const base = {
  room: "permis",
  config: {
    new_users_per_minute: 600,
    total_active_users: 2000,
    queueing_method: "fifo",
    paused: false,
    shards: 2,
    session_duration_seconds: 900,
  },
  waiting: 7,
  admitted_total: 40,
  active: 12,
  sessions_open: 3,
  admitted_last_minute: 9,
  observed_admissions_per_second: 0.5,
  oldest_waiting_age_seconds: 31,
  frontier: { a: 1, b: 2 },
  shards: [
    { shard: 0, tickets: 30, admitted: 25, waiting: 5 },
    { shard: 1, tickets: 17, admitted: 15, waiting: 2 },
  ],
  last_tick_error: null,
};

const expose = (stats: unknown, room = "permis") =>
  parseExposition(formatExposition(roomFamilies([{ room, stats: stats === null ? null : RoomStatsSchema.parse(stats) }])));

describe("room metrics", () => {
  it("exports today's statistics, per room and per shard", () => {
    const m = expose(base);
    const r = { room: "permis" };
    expect(sampleValue(m, "antichambre_room_up", r)).toBe(1);
    expect(sampleValue(m, "antichambre_room_waiting", r)).toBe(7);
    expect(sampleValue(m, "antichambre_room_admitted_total", r)).toBe(40);
    expect(sampleValue(m, "antichambre_room_admission_rate_per_second", r)).toBe(0.5);
    expect(sampleValue(m, "antichambre_room_new_users_per_minute", r)).toBe(600);
    expect(sampleValue(m, "antichambre_room_paused", r)).toBe(0);
    expect(sampleValue(m, "antichambre_room_last_tick_error", r)).toBe(0);
    expect(sampleValue(m, "antichambre_room_queueing_method", { room: "permis", method: "fifo" })).toBe(1);
    expect(sampleValue(m, "antichambre_room_queueing_method", { room: "permis", method: "random" })).toBe(0);
    expect(sampleValue(m, "antichambre_room_shard_waiting", { room: "permis", shard: "1" })).toBe(2);
    expect(m.get("antichambre_room_admitted_total")!.type).toBe("counter");
    // Not reported yet: absent, not zero.
    expect(samplesOf(m, "antichambre_room_outflow_rate_per_minute")).toEqual([]);
    expect(samplesOf(m, "antichambre_room_backend_latency_seconds")).toEqual([]);
  });

  it("leaves out a rate not observed yet, and reports an empty line as 0 s old", () => {
    const m = expose({ ...base, waiting: 0, observed_admissions_per_second: null, oldest_waiting_age_seconds: null });
    expect(samplesOf(m, "antichambre_room_admission_rate_per_second")).toEqual([]);
    expect(sampleValue(m, "antichambre_room_oldest_waiting_age_seconds")).toBe(0);
  });

  it("exports adaptive outflow, backend health, the event schedule and the lottery when present", () => {
    const m = expose({
      ...base,
      last_tick_error: "shard sync failed",
      outflow: { mode: "adaptive", rate_per_minute: 450, floor: 60, ceiling: 1200, latency_target_ms: 250 },
      backend: { latency_ms: 180, error_rate: 0.02, samples: 500 },
      config: {
        ...base.config,
        event: { prequeue_start: "2026-12-01T08:00:00Z", event_start: "2026-12-01T09:00:00Z", event_end: null, queueing_method: "random" },
      },
      effective: { queueing_method: "random", new_users_per_minute: 300, total_active_users: 1000 },
      event: {
        phase: "prequeue",
        lottery: {
          prequeue_start: "2026-12-01T08:00:00Z",
          event_start: "2026-12-01T09:00:00Z",
          commitment: "abc",
          seed: null,
          revealed_at: null,
          entrants: null,
        },
      },
    });
    expect(sampleValue(m, "antichambre_room_last_tick_error")).toBe(1);
    expect(sampleValue(m, "antichambre_room_outflow_mode", { mode: "adaptive" })).toBe(1);
    expect(sampleValue(m, "antichambre_room_outflow_mode", { mode: "fixed" })).toBe(0);
    expect(sampleValue(m, "antichambre_room_outflow_rate_per_minute")).toBe(450);
    expect(sampleValue(m, "antichambre_room_outflow_latency_target_seconds")).toBe(0.25);
    expect(sampleValue(m, "antichambre_room_backend_latency_seconds")).toBe(0.18);
    expect(sampleValue(m, "antichambre_room_backend_error_ratio")).toBe(0.02);
    expect(sampleValue(m, "antichambre_room_event_start_timestamp_seconds")).toBe(Date.UTC(2026, 11, 1, 9) / 1000);
    expect(samplesOf(m, "antichambre_room_event_end_timestamp_seconds")).toEqual([]);
    expect(sampleValue(m, "antichambre_room_event_phase", { phase: "prequeue" })).toBe(1);
    expect(sampleValue(m, "antichambre_room_lottery_revealed")).toBe(0);
    expect(samplesOf(m, "antichambre_room_lottery_entrants")).toEqual([]);
    // What is in force now: the event's method and limits.
    expect(sampleValue(m, "antichambre_room_effective_new_users_per_minute")).toBe(300);
    expect(sampleValue(m, "antichambre_room_queueing_method", { method: "random" })).toBe(1);
    expect(sampleValue(m, "antichambre_room_queueing_method", { method: "fifo" })).toBe(0);
    expect(sampleValue(m, "antichambre_room_new_users_per_minute")).toBe(600);
  });

  it("reports a revealed lottery and its entrants", () => {
    const lottery = { commitment: "abc", seed: "s33d", revealed_at: "2026-12-01T09:00:01Z", entrants: { total: 1234, ranges: [] } };
    const m = expose({ ...base, event: { phase: "event", lottery } });
    expect(sampleValue(m, "antichambre_room_lottery_revealed")).toBe(1);
    expect(sampleValue(m, "antichambre_room_lottery_entrants")).toBe(1234);
    expect(sampleValue(m, "antichambre_room_event_phase", { phase: "event" })).toBe(1);
  });

  it("drops an optional member of an unexpected shape, not the room", () => {
    const stats = RoomStatsSchema.parse({ ...base, outflow: { mode: "turbo" }, backend: "fast" });
    expect(stats.outflow).toBeUndefined();
    expect(stats.backend).toBeUndefined();
    expect(stats.waiting).toBe(7);
  });

  it("an unknown room is up 0 and nothing else", () => {
    const m = expose(null, "nope");
    expect(sampleValue(m, "antichambre_room_up", { room: "nope" })).toBe(0);
    expect(samplesOf(m, "antichambre_room_waiting")).toEqual([]);
  });
});
