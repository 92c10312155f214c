import { z } from "zod";

/**
 * A room's operator-tunable configuration, as it travels on the admin API and as the coordinator stores
 * it. The type is derived from the schema, so what the API accepts and what the code reads cannot drift.
 */
export const QueueingMethodSchema = z.enum(["fifo", "random", "passthrough", "reject"]);
export type QueueingMethod = z.infer<typeof QueueingMethodSchema>;

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
  })
  .strict();
export type RoomConfig = z.infer<typeof RoomConfigSchema>;

export const RoomConfigPatchSchema = RoomConfigSchema.partial()
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
};

/** Room names are path segments and Durable Object names: keep them short and boring. */
export const RoomNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "room names are 1-40 characters of a-z, 0-9 and '-'");
