import { z } from "zod";

/**
 * What the metrics and the dashboard read from the coordinator's `stats()` RPC, validated rather than
 * trusted: the coordinator evolves (adaptive outflow, events, the lottery) while this code is deployed
 * beside it. The core members are required; each newer member is optional and, if its shape is not the
 * one expected, dropped on its own (`.catch(undefined)`) instead of failing the whole scrape.
 */
// zod 4 numbers are finite already (no Infinity, no NaN).
const finite = z.number();
const count = z.number().int().nonnegative();

const OutflowSchema = z.object({
  mode: z.enum(["fixed", "adaptive"]),
  rate_per_minute: finite,
  floor: finite,
  ceiling: finite,
  latency_target_ms: finite,
  max_error_rate: finite.optional(),
});

const BackendSchema = z.object({
  latency_ms: finite.nullable(),
  error_rate: finite.nullable(),
  samples: count,
});

/** The lottery's public state: the commitment is public by design; the seed only once revealed. */
const LotterySchema = z
  .object({
    prequeue_start: z.string().optional(),
    event_start: z.string().optional(),
    commitment: z.string().max(200).nullish(),
    seed: z.string().max(200).nullish(),
    revealed_at: z.string().nullish(),
    revealed: z.boolean().optional(),
    entrants: z.object({ total: count }).loose().nullish(),
  })
  .loose();

/** The event as the coordinator reports it: its phase now, and its lottery. */
const EventStateSchema = z
  .object({
    phase: z.string().max(40).optional(),
    lottery: LotterySchema.nullish().catch(undefined),
  })
  .loose();

/** The event as configured (config.event): when, and what applies during it. */
const EventConfigSchema = z
  .object({
    prequeue_start: z.string(),
    event_start: z.string(),
    event_end: z.string().nullish(),
  })
  .loose();

/** The settings in force now: an event's, or an adaptive rate, may differ from the configured ones. */
const EffectiveSchema = z.object({
  queueing_method: z.string().max(40),
  new_users_per_minute: finite,
  total_active_users: finite,
});

const optional = <S extends z.ZodType>(schema: S) => schema.optional().catch(undefined);

export const RoomStatsSchema = z.object({
  room: z.string(),
  config: z
    .object({
      new_users_per_minute: finite,
      total_active_users: finite,
      queueing_method: z.string().max(40),
      paused: z.boolean(),
      shards: count,
      event: optional(EventConfigSchema.nullable()),
    })
    .loose(),
  waiting: count,
  admitted_total: count,
  active: count,
  sessions_open: count,
  session_limits: optional(z.object({ credentials_per_configuration: count, register_reads: count })),
  admitted_last_minute: count,
  observed_admissions_per_second: finite.nullable(),
  oldest_waiting_age_seconds: finite.nullable(),
  shards: z.array(z.object({ shard: count, tickets: count, admitted: count, waiting: z.number().int() })),
  last_tick_error: z.string().nullable(),
  outflow: optional(OutflowSchema),
  backend: optional(BackendSchema),
  effective: optional(EffectiveSchema),
  event: optional(EventStateSchema.nullable()),
  /** Older or alternative placement of the lottery (the coordinator reports it under `event`). */
  lottery: optional(LotterySchema.nullable()),
});
export type RoomStatsView = z.infer<typeof RoomStatsSchema>;
