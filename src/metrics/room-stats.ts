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
});

const BackendSchema = z.object({
  latency_ms: finite.nullable(),
  error_rate: finite.nullable(),
  samples: count,
});

/** The event's schedule and phase, in whatever subset the coordinator reports. */
const EventSchema = z
  .object({
    prequeue_start: z.string().optional(),
    event_start: z.string().optional(),
    event_end: z.string().nullish(),
    phase: z.string().max(40).optional(),
    state: z.string().max(40).optional(),
  })
  .loose();

/** The lottery's public state: the commitment is public by design; a seed only once revealed. */
const LotterySchema = z
  .object({
    commitment: z.string().max(200).nullish(),
    revealed: z.boolean().optional(),
    seed: z.string().max(200).nullish(),
  })
  .loose();

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
      event: optional(EventSchema.nullable()),
    })
    .loose(),
  waiting: count,
  admitted_total: count,
  active: count,
  sessions_open: count,
  admitted_last_minute: count,
  observed_admissions_per_second: finite.nullable(),
  oldest_waiting_age_seconds: finite.nullable(),
  shards: z.array(z.object({ shard: count, tickets: count, admitted: count, waiting: z.number().int() })),
  last_tick_error: z.string().nullable(),
  outflow: optional(OutflowSchema),
  backend: optional(BackendSchema),
  event: optional(EventSchema.nullable()),
  lottery: optional(LotterySchema.nullable()),
});
export type RoomStatsView = z.infer<typeof RoomStatsSchema>;
