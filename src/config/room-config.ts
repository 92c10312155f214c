import { z } from "zod";
import { ok, refuse, type Result } from "../lib/result";

/**
 * A room's operator-tunable configuration, as it travels on the admin API and as the coordinator stores
 * it. The type is derived from the schema, so what the API accepts and what the code reads cannot drift.
 */
export const QueueingMethodSchema = z.enum(["fifo", "random", "passthrough", "reject"]);
export type QueueingMethod = z.infer<typeof QueueingMethodSchema>;

/** ISO 8601 with a zone ("2026-12-01T08:00:00Z"); stored as given, compared as epoch ms. */
const Instant = z.iso.datetime({ offset: true });

/**
 * A scheduled launch. Everyone who joins in [prequeue_start, event_start) is placed by a provable
 * lottery at event_start (src/admission/lottery.ts); later arrivals queue behind them. From event_start
 * until event_end (if given) the event's method and limits replace the room's own.
 */
export const RoomEventSchema = z
  .object({
    prequeue_start: Instant,
    event_start: Instant,
    event_end: Instant.nullable().optional(),
    queueing_method: z.enum(["fifo", "random", "passthrough", "reject"]).optional(),
    new_users_per_minute: z.number().int().min(1).max(1_000_000).optional(),
    total_active_users: z.number().int().min(1).max(10_000_000).optional(),
  })
  .strict()
  .refine((e) => Date.parse(e.prequeue_start) < Date.parse(e.event_start), { message: "prequeue_start must come before event_start" })
  .refine((e) => !e.event_end || Date.parse(e.event_start) < Date.parse(e.event_end), { message: "event_end must come after event_start" });

/**
 * How the admission rate is chosen. `fixed`: `new_users_per_minute`, as the operator pins it.
 * `adaptive`: the coordinator moves the rate between floor and ceiling from the backend's health as the
 * edge measures it during issuance (src/admission/outflow.ts): down fast when latency or errors pass
 * their targets, up slowly when healthy and people are waiting.
 */
export const OutflowSchema = z
  .object({
    mode: z.enum(["fixed", "adaptive"]),
    floor_per_minute: z.number().int().min(1).max(1_000_000),
    ceiling_per_minute: z.number().int().min(1).max(1_000_000),
    /** Mean register read latency above this is "degraded". */
    latency_target_ms: z.number().int().min(1).max(60_000),
    /** Fraction of register reads refused or failed above this is "degraded". */
    max_error_rate: z.number().min(0).max(1),
  })
  .strict();
export type Outflow = z.infer<typeof OutflowSchema>;

export const RoomConfigSchema = z
  .object({
    /** Admission rate: at most this many people cross the frontier in any 60 s window, spread evenly. */
    new_users_per_minute: z.number().int().min(1).max(1_000_000),
    /** At most this many admitted people count as active at once. */
    total_active_users: z.number().int().min(1).max(10_000_000),
    /** How long an admission lets its holder use the protected service once started. */
    session_duration_seconds: z.number().int().min(60).max(86_400),
    /** How long an admitted person has to start before their slot is released to the next in line. */
    admission_ttl_seconds: z.number().int().min(10).max(3_600),
    queueing_method: QueueingMethodSchema,
    /** Stop admitting without losing anyone's place. */
    paused: z.boolean(),
    /** Queue-shard Durable Objects that take joins. Fixed once anyone has joined (see README). */
    shards: z.number().int().min(1).max(64),
    /** In `random` rooms: arrivals within one window are admitted in a lottery order after it closes. */
    random_window_seconds: z.number().int().min(1).max(3_600),
    /** A scheduled launch with a pre-queue lottery, or null. */
    event: RoomEventSchema.nullable(),
    outflow: OutflowSchema,
    /**
     * Least proof-of-work difficulty (leading zero bits) a join must show here, whatever the load;
     * 0 leaves it to load. The deployment's POW_CEILING_BITS caps it (src/abuse/pow-difficulty.ts).
     */
    pow_min_bits: z.number().int().min(0).max(24),
    /**
     * One admission buys one issuance session: at most this many credentials of each credential
     * configuration (null: the deployment's CREDENTIAL_BATCH_SIZE, one full batch of each)...
     */
    session_credentials_per_configuration: z.number().int().min(1).max(100_000).nullable(),
    /** ...and at most this many credential requests that read the licence register. */
    session_register_reads: z.number().int().min(1).max(100_000),
  })
  .strict();
export type RoomConfig = z.infer<typeof RoomConfigSchema>;

/** Every setting optional; `outflow` may be given in part (merged into the current one). */
export const RoomConfigPatchSchema = RoomConfigSchema.omit({ outflow: true })
  .partial()
  .extend({ outflow: OutflowSchema.partial().strict().optional() })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: "give at least one setting to change" });
export type RoomConfigPatch = z.infer<typeof RoomConfigPatchSchema>;

export const DEFAULT_ROOM_CONFIG: RoomConfig = {
  new_users_per_minute: 600,
  total_active_users: 2_000,
  session_duration_seconds: 900,
  admission_ttl_seconds: 300,
  queueing_method: "fifo",
  paused: false,
  shards: 8,
  random_window_seconds: 60,
  event: null,
  outflow: { mode: "fixed", floor_per_minute: 60, ceiling_per_minute: 6_000, latency_target_ms: 250, max_error_rate: 0.05 },
  pow_min_bits: 0,
  session_credentials_per_configuration: null,
  // Two credential configurations, one request each, and one retry of each for a failed one.
  session_register_reads: 4,
};

/** A patch applied to a config; null with the reason when the result breaks a rule across settings. */
export function patchConfig(base: RoomConfig, patch: RoomConfigPatch): Result<RoomConfig, "outflow_floor_above_ceiling"> {
  const config: RoomConfig = { ...base, ...patch, outflow: { ...base.outflow, ...patch.outflow } };
  if (config.outflow.floor_per_minute > config.outflow.ceiling_per_minute) return refuse("outflow_floor_above_ceiling");
  return ok(config);
}

/** Room names are path segments and Durable Object names: keep them short and boring. */
export const RoomNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "room names are 1-40 characters of a-z, 0-9 and '-'");
