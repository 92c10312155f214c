import { QueueingMethodSchema } from "../config/room-config";
import { bit, counter, gauge, type Labels, type MetricFamily } from "./prometheus";
import type { RoomStatsView } from "./room-stats";

/**
 * Room metrics from the coordinators' statistics: pure. These are global (each coordinator is the one
 * authority for its room), unlike the per-isolate register and edge metrics.
 *
 * A room that does not exist, or whose coordinator could not be read, is `antichambre_room_up 0` and
 * nothing else, so a dashboard can tell "empty" from "unknown". Values that do not exist yet (no rate
 * observed, no backend sample) are left out rather than written as 0 or NaN.
 */
export interface RoomReading {
  readonly room: string;
  readonly stats: RoomStatsView | null;
}

const OUTFLOW_MODES = ["fixed", "adaptive"] as const;

type Sample = { labels: Labels; value: number };

function perRoom(readings: readonly RoomReading[], pick: (s: RoomStatsView) => number | null | undefined): Sample[] {
  const out: Sample[] = [];
  for (const { room, stats } of readings) {
    if (!stats) continue;
    const value = pick(stats);
    if (value !== null && value !== undefined && Number.isFinite(value)) out.push({ labels: { room }, value });
  }
  return out;
}

/** One sample per possible value, 1 for the current one: a state set, easy to graph and alert on. */
function stateSet(
  readings: readonly RoomReading[],
  label: string,
  values: readonly string[],
  pick: (s: RoomStatsView) => string | undefined,
): Sample[] {
  const out: Sample[] = [];
  for (const { room, stats } of readings) {
    const current = stats ? pick(stats) : undefined;
    if (current === undefined) continue;
    const all = values.includes(current) ? values : [...values, current];
    for (const v of all) out.push({ labels: { room, [label]: v }, value: bit(v === current) });
  }
  return out;
}

/** Seconds since the epoch of an ISO-8601 instant, or undefined. */
function epochSeconds(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/** The schedule: as configured, else as the lottery states it. */
function scheduleOf(
  s: RoomStatsView,
): { prequeue_start?: string | undefined; event_start?: string | undefined; event_end?: string | null | undefined } | undefined {
  return s.config.event ?? lotteryOf(s) ?? undefined;
}

function lotteryOf(s: RoomStatsView) {
  return s.event?.lottery ?? s.lottery ?? undefined;
}

const P = "antichambre_room_";

export function roomFamilies(readings: readonly RoomReading[]): MetricFamily[] {
  const families: MetricFamily[] = [
    gauge(
      `${P}up`,
      "1 if the room exists and its coordinator answered, else 0.",
      readings.map(({ room, stats }) => ({ labels: { room }, value: bit(stats !== null) })),
    ),
    gauge(
      `${P}waiting`,
      "People in line behind the admission frontier (queue length).",
      perRoom(readings, (s) => s.waiting),
    ),
    counter(
      `${P}admitted_total`,
      "People admitted since the room was created.",
      perRoom(readings, (s) => s.admitted_total),
    ),
    gauge(
      `${P}admitted_last_minute`,
      "People admitted in the last 60 seconds.",
      perRoom(readings, (s) => s.admitted_last_minute),
    ),
    gauge(
      `${P}admission_rate_per_second`,
      "Admission rate the room achieved over the last minute while people were waiting (absent before any).",
      perRoom(readings, (s) => s.observed_admissions_per_second),
    ),
    gauge(
      `${P}new_users_per_minute`,
      "Configured admission rate limit (new_users_per_minute).",
      perRoom(readings, (s) => s.config.new_users_per_minute),
    ),
    gauge(
      `${P}total_active_users`,
      "Configured cap on active users (total_active_users).",
      perRoom(readings, (s) => s.config.total_active_users),
    ),
    gauge(
      `${P}effective_new_users_per_minute`,
      "Admission rate limit in force now (an event's, or the adaptive outflow's, may replace the configured one).",
      perRoom(readings, (s) => s.effective?.new_users_per_minute),
    ),
    gauge(
      `${P}effective_total_active_users`,
      "Active-user cap in force now.",
      perRoom(readings, (s) => s.effective?.total_active_users),
    ),
    gauge(
      `${P}active_users`,
      "Admissions counting as active now (unredeemed within their TTL, or open sessions).",
      perRoom(readings, (s) => s.active),
    ),
    gauge(
      `${P}sessions_open`,
      "Sessions started at the token endpoint and not yet ended.",
      perRoom(readings, (s) => s.sessions_open),
    ),
    gauge(
      `${P}session_credentials_per_configuration`,
      "Most credentials of each credential configuration one admission's issuance session may obtain.",
      perRoom(readings, (s) => s.session_limits?.credentials_per_configuration),
    ),
    gauge(
      `${P}session_register_reads`,
      "Most register reads (credential requests) one admission's issuance session may cause.",
      perRoom(readings, (s) => s.session_limits?.register_reads),
    ),
    gauge(
      `${P}oldest_waiting_age_seconds`,
      "Age of the oldest place in line, in seconds (0 when nobody waits).",
      perRoom(readings, (s) => s.oldest_waiting_age_seconds ?? 0),
    ),
    gauge(
      `${P}paused`,
      "1 if admission is paused.",
      perRoom(readings, (s) => bit(s.config.paused)),
    ),
    gauge(
      `${P}queueing_method`,
      "Queueing method in force now (an event's, else the configured one): 1 for the current one.",
      stateSet(readings, "method", QueueingMethodSchema.options, (s) => s.effective?.queueing_method ?? s.config.queueing_method),
    ),
    gauge(
      `${P}last_tick_error`,
      "1 if the last admission tick failed (a shard did not answer).",
      perRoom(readings, (s) => bit(s.last_tick_error !== null)),
    ),
    gauge(
      `${P}shards`,
      "Queue shards of the room.",
      perRoom(readings, (s) => s.config.shards),
    ),
    gauge(
      `${P}shard_tickets`,
      "Places ever taken in this shard.",
      shardSamples(readings, (x) => x.tickets),
    ),
    gauge(
      `${P}shard_waiting`,
      "People waiting in this shard.",
      shardSamples(readings, (x) => x.waiting),
    ),
    counter(
      `${P}shard_admitted_total`,
      "People admitted from this shard.",
      shardSamples(readings, (x) => x.admitted),
    ),
    // Adaptive outflow (present once the coordinator reports it).
    gauge(
      `${P}outflow_mode`,
      "Outflow mode: fixed (operator-pinned) or adaptive; 1 for the current one.",
      stateSet(readings, "mode", OUTFLOW_MODES, (s) => s.outflow?.mode),
    ),
    gauge(
      `${P}outflow_rate_per_minute`,
      "Admission rate the outflow controller targets now.",
      perRoom(readings, (s) => s.outflow?.rate_per_minute),
    ),
    gauge(
      `${P}outflow_floor_per_minute`,
      "Lowest rate the adaptive outflow may choose.",
      perRoom(readings, (s) => s.outflow?.floor),
    ),
    gauge(
      `${P}outflow_ceiling_per_minute`,
      "Highest rate the adaptive outflow may choose.",
      perRoom(readings, (s) => s.outflow?.ceiling),
    ),
    gauge(
      `${P}outflow_latency_target_seconds`,
      "Backend latency the adaptive outflow aims to stay under.",
      perRoom(readings, (s) => ms(s.outflow?.latency_target_ms)),
    ),
    gauge(
      `${P}outflow_max_error_ratio`,
      "Backend error ratio above which the adaptive outflow backs off.",
      perRoom(readings, (s) => s.outflow?.max_error_rate),
    ),
    // The protected backend as the coordinator aggregates it from the edge's samples.
    gauge(
      `${P}backend_latency_seconds`,
      "Protected backend latency the coordinator last aggregated.",
      perRoom(readings, (s) => ms(s.backend?.latency_ms)),
    ),
    gauge(
      `${P}backend_error_ratio`,
      "Share of backend calls that failed, as last aggregated (0-1).",
      perRoom(readings, (s) => s.backend?.error_rate),
    ),
    gauge(
      `${P}backend_samples`,
      "Backend samples behind the latency and error figures.",
      perRoom(readings, (s) => s.backend?.samples),
    ),
    // Events and the lottery.
    gauge(
      `${P}event_prequeue_start_timestamp_seconds`,
      "Scheduled pre-queue opening (Unix time).",
      perRoom(readings, (s) => epochSeconds(scheduleOf(s)?.prequeue_start)),
    ),
    gauge(
      `${P}event_start_timestamp_seconds`,
      "Scheduled event start (Unix time).",
      perRoom(readings, (s) => epochSeconds(scheduleOf(s)?.event_start)),
    ),
    gauge(
      `${P}event_end_timestamp_seconds`,
      "Scheduled event end (Unix time).",
      perRoom(readings, (s) => epochSeconds(scheduleOf(s)?.event_end)),
    ),
    gauge(
      `${P}event_phase`,
      "Event phase the coordinator reports: 1 for the current one.",
      stateSet(readings, "phase", [], (s) => s.event?.phase),
    ),
    gauge(
      `${P}lottery_revealed`,
      "1 once the event's lottery seed has been revealed (absent without a lottery).",
      perRoom(readings, (s) => {
        const l = lotteryOf(s);
        return l ? bit(l.revealed ?? Boolean(l.seed || l.revealed_at)) : undefined;
      }),
    ),
    gauge(
      `${P}lottery_entrants`,
      "People placed by the lottery (known once it is drawn).",
      perRoom(readings, (s) => lotteryOf(s)?.entrants?.total),
    ),
  ];
  return families;
}

function ms(value: number | null | undefined): number | undefined {
  return value === null || value === undefined ? undefined : value / 1000;
}

function shardSamples(readings: readonly RoomReading[], pick: (s: RoomStatsView["shards"][number]) => number): Sample[] {
  const out: Sample[] = [];
  for (const { room, stats } of readings) {
    for (const s of stats?.shards ?? []) out.push({ labels: { room, shard: String(s.shard) }, value: pick(s) });
  }
  return out;
}
