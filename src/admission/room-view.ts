import type { Env } from "../config/env";
import type { RoomConfig } from "../config/room-config";
import { settingsOf } from "../config/settings";
import { admittedLastMinute, observedRatePerSecond } from "./admission-log";
import type { RoomState } from "./coordinator-store";
import { effectiveConfig, eventPhase, eventWindow, type EventPhase } from "./event";
import { publicLottery, type LotteryRecord, type PublicLottery } from "./lottery";
import { backendHealth, type OutflowState } from "./outflow";
import { snapshotOf } from "./room-books";
import { activeCount } from "./sessions";
import type { RoomSnapshot } from "./snapshot";

/**
 * What the coordinator reads out of a loaded room, as pure functions of the room and the time: the
 * settings in force, the active count, the edge's snapshot and the operators' statistics.
 */

export interface RoomStats {
  readonly room: string;
  readonly config: RoomConfig;
  readonly waiting: number;
  readonly admitted_total: number;
  readonly active: number;
  readonly sessions_open: number;
  /** What one admission's issuance session may take (src/issuance/session-rules.ts). */
  readonly session_limits: { credentials_per_configuration: number; register_reads: number };
  readonly admitted_last_minute: number;
  readonly observed_admissions_per_second: number | null;
  readonly oldest_waiting_age_seconds: number | null;
  readonly frontier: { a: number; b: number };
  readonly shards: { shard: number; tickets: number; admitted: number; waiting: number }[];
  readonly last_tick_error: string | null;
  /** The settings in force now (an event's, an adaptive rate). */
  readonly effective: { queueing_method: RoomConfig["queueing_method"]; new_users_per_minute: number; total_active_users: number };
  readonly event: { phase: EventPhase; lottery: PublicLottery | null };
  readonly outflow: {
    mode: RoomConfig["outflow"]["mode"];
    rate_per_minute: number;
    floor: number;
    ceiling: number;
    latency_target_ms: number;
    max_error_rate: number;
    last_decision: OutflowState["last"];
  };
  readonly backend: { latency_ms: number | null; error_rate: number | null; samples: number };
}

/** The settings in force now: an event's, and the adaptive rate when the outflow is adaptive. */
export function effective(room: RoomState, now: number): RoomConfig {
  return effectiveConfig(room.config, now, room.config.outflow.mode === "adaptive" ? room.outflow.rate : null);
}

/**
 * The room's active count at `now`: its admissions, its legacy session rows, and the IssuanceSessions
 * objects' counts as last pulled (by the tick that just ran, or by the statistics that asked).
 */
export function active(room: RoomState, now: number): number {
  return activeCount(room.log, room.sessions.values(), now, room.config.admission_ttl_seconds * 1000, room.sessionCounts ?? undefined);
}

/** The configured event's lottery: the latest record for its window that was not withdrawn. */
export function currentLottery(room: RoomState): LotteryRecord | null {
  const w = eventWindow(room.config);
  if (!w) return null;
  for (let i = room.lotteries.length - 1; i >= 0; i--) {
    const l = room.lotteries[i]!;
    if (l.from === w.prequeueStart && l.to === w.eventStart && l.withdrawnAt === null) return l;
  }
  return null;
}

/** The room's limits on one issuance session, as the token endpoint opens it (src/issuance/sessions.ts). */
export function sessionLimits(config: RoomConfig): { credentialsPerConfiguration: number | null; registerReads: number } {
  return { credentialsPerConfiguration: config.session_credentials_per_configuration, registerReads: config.session_register_reads };
}

export function buildSnapshot(room: RoomState, now: number): RoomSnapshot {
  const outflowRate = room.config.outflow.mode === "adaptive" ? room.outflow.rate : null;
  const lottery = currentLottery(room);
  return {
    ...snapshotOf(room.name, room.config, room, now, active(room, now), { configuredPerMinute: effective(room, now).new_users_per_minute }),
    outflowRate,
    lottery: lottery ? { from: lottery.from, to: lottery.to, seed: lottery.seed, public: publicLottery(lottery)! } : null,
    lotteries: room.lotteries.map((l) => publicLottery(l)!),
  };
}

export function roomStats(room: RoomState, now: number, env: Env): RoomStats {
  const inForce = effective(room, now);
  const health = backendHealth(room.health, now);
  let waiting = 0;
  let oldestSecond = Number.POSITIVE_INFINITY;
  for (const [second, n] of room.counts) {
    waiting += n;
    oldestSecond = Math.min(oldestSecond, second);
  }
  return {
    room: room.name,
    config: room.config,
    waiting,
    admitted_total: room.admittedTotal,
    active: active(room, now),
    sessions_open: [...room.sessions.values()].filter((s) => s.endedAt === null && s.endsAt > now).length + (room.sessionCounts?.open ?? 0),
    session_limits: {
      credentials_per_configuration: room.config.session_credentials_per_configuration ?? settingsOf(env).credentialBatchSize,
      register_reads: room.config.session_register_reads,
    },
    admitted_last_minute: admittedLastMinute(room.log, now),
    observed_admissions_per_second: observedRatePerSecond(room.log, now),
    oldest_waiting_age_seconds: waiting > 0 ? Math.max(0, Math.floor(now / 1000) - oldestSecond) : null,
    frontier: { a: room.frontier.a, b: room.frontier.b },
    shards: room.shards.map((s, shard) => ({ shard, tickets: s.total, admitted: s.admitted, waiting: s.total - s.admitted })),
    last_tick_error: room.lastTickError,
    effective: {
      queueing_method: inForce.queueing_method,
      new_users_per_minute: inForce.new_users_per_minute,
      total_active_users: inForce.total_active_users,
    },
    event: { phase: eventPhase(room.config, now), lottery: publicLottery(currentLottery(room)) },
    outflow: {
      mode: room.config.outflow.mode,
      rate_per_minute: inForce.new_users_per_minute,
      floor: room.config.outflow.floor_per_minute,
      ceiling: room.config.outflow.ceiling_per_minute,
      latency_target_ms: room.config.outflow.latency_target_ms,
      max_error_rate: room.config.outflow.max_error_rate,
      last_decision: room.outflow.last,
    },
    backend: { latency_ms: round1(health.meanLatencyMs), error_rate: health.errorRate, samples: health.reads },
  };
}

function round1(x: number | null): number | null {
  return x === null ? null : Math.round(x * 10) / 10;
}
