import type { QueueShard } from "../../durable-objects/queue-shard";
import type { RoomCoordinator } from "../../durable-objects/room-coordinator";
import { DEV_ADMIN_TOKEN, DEV_SIGNING_KEYS, DEV_TICKET_KEYS } from "./dev-defaults";

/** The Worker's bindings, as declared in wrangler.toml (vars) and by `wrangler secret put` (secrets). */
export interface Env {
  ROOM_COORDINATOR: DurableObjectNamespace<RoomCoordinator>;
  QUEUE_SHARD: DurableObjectNamespace<QueueShard>;
  /** "development" switches on the embedded dev defaults; anything else is a deployment. */
  ENVIRONMENT: string;
  /** Comma-separated rooms that exist before any admin call. */
  DEFAULT_ROOMS: string;
  ADMISSION_TICK_MS: string;
  SNAPSHOT_TTL_MS: string;
  /** Secrets. */
  ADMIN_TOKEN?: string;
  TICKET_KEYS?: string;
  SIGNING_KEYS?: string;
}

export function isDevelopment(env: Env): boolean {
  return env.ENVIRONMENT === "development";
}

/** A secret, or in development its embedded default; undefined when a deployment lacks it. */
export function secret(env: Env, name: "ADMIN_TOKEN" | "TICKET_KEYS" | "SIGNING_KEYS"): string | undefined {
  const value = env[name];
  if (value) return value;
  if (!isDevelopment(env)) return undefined;
  return { ADMIN_TOKEN: DEV_ADMIN_TOKEN, TICKET_KEYS: DEV_TICKET_KEYS, SIGNING_KEYS: DEV_SIGNING_KEYS }[name];
}

export function intVar(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

export function defaultRooms(env: Env): string[] {
  return (env.DEFAULT_ROOMS ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
}
