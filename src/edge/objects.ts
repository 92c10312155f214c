import type { Env } from "../config/env";

/**
 * The one place a Durable Object stub is made from a name. Each object's name is part of its contract
 * (a shard is `${room}#${i}`, the coordinator is the room's own name, which it reads back as
 * `ctx.id.name`), so every caller, the coordinator and the bench go through here and cannot spell a
 * name two ways.
 */

/** The room's coordinator, named by the room itself. */
export function coordinatorOf(env: Pick<Env, "ROOM_COORDINATOR">, room: string) {
  return env.ROOM_COORDINATOR.get(env.ROOM_COORDINATOR.idFromName(room));
}

/** The name of queue shard `shard` of `room` (also the name its SQLite file is derived from). */
export function shardName(room: string, shard: number): string {
  return `${room}#${shard}`;
}

/** Queue shard `shard` of `room`. */
export function shardOf(env: Pick<Env, "QUEUE_SHARD">, room: string, shard: number) {
  return env.QUEUE_SHARD.get(env.QUEUE_SHARD.idFromName(shardName(room, shard)));
}

/** ReplayGuard number `shard` (src/edge/replay.ts picks it by a hash of the value). */
export function replayGuardAt(env: Pick<Env, "REPLAY_GUARD">, shard: number) {
  return env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName(`replay#${shard}`));
}

/** IssuanceSessions object number `shard` (src/issuance/sessions.ts picks it by a hash of the session id). */
export function sessionsAt(env: Pick<Env, "ISSUANCE_SESSIONS">, shard: number) {
  return env.ISSUANCE_SESSIONS.get(env.ISSUANCE_SESSIONS.idFromName(`sessions#${shard}`));
}

/**
 * Which of `count` objects a value belongs to: the first two bytes of its SHA-256, modulo `count`. For the
 * objects spread by a hash of what they hold (one-time values, issuance sessions): no object takes more
 * than its share, whatever the values look like.
 */
export async function hashedShard(value: string, count: number): Promise<number> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  return ((digest[0]! << 8) | digest[1]!) % count;
}

/** IssuanceLedger number `shard` (src/status/ledger.ts picks it by a hash of the person's ledger pseudonym). */
export function ledgerAt(env: Pick<Env, "ISSUANCE_LEDGER">, shard: number) {
  return env.ISSUANCE_LEDGER.get(env.ISSUANCE_LEDGER.idFromName(`ledger#${shard}`));
}

/** The deployment's one LifecycleLog: the audit log and the register sync cursor (src/lifecycle/). */
export function lifecycleLog(env: Pick<Env, "LIFECYCLE_LOG">) {
  return env.LIFECYCLE_LOG.get(env.LIFECYCLE_LOG.idFromName("lifecycle"));
}
