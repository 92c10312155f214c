import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";

/**
 * The one place a Durable Object stub is made from a name. Each object's name is part of its contract
 * (a shard is `${room}#${i}`, the coordinator is the room's own name, which it reads back as
 * `ctx.id.name`), so every caller, the coordinator and the bench go through here and cannot spell a
 * name two ways.
 *
 * It is also the one place where objects are put in a jurisdiction: with DATA_JURISDICTION = "eu" every
 * namespace is used through `.jurisdiction("eu")`, so queue tickets (with their pseudonyms), sessions and
 * one-time values are created and kept in the EU. The same name in another jurisdiction is another
 * object: switching the setting on a running deployment starts every room afresh (docs/operations.md).
 * Every Worker and object reads the same variable, so they all address the same objects.
 */

/** `ns`, in the deployment's jurisdiction if it has one. */
function placed<T extends Rpc.DurableObjectBranded | undefined>(env: object, ns: DurableObjectNamespace<T>): DurableObjectNamespace<T> {
  const { jurisdiction } = settingsOf(env).placement;
  return jurisdiction ? ns.jurisdiction(jurisdiction) : ns;
}

/**
 * The room's coordinator, named by the room itself. COORDINATOR_LOCATION_HINT asks Cloudflare to create
 * it near the crowd (every tick and session call reaches it); a hint only matters when the object is
 * first created, and never moves one that exists.
 */
export function coordinatorOf(env: Pick<Env, "ROOM_COORDINATOR">, room: string) {
  const ns = placed(env, env.ROOM_COORDINATOR);
  const { coordinatorLocationHint: locationHint } = settingsOf(env).placement;
  return ns.get(ns.idFromName(room), locationHint ? { locationHint } : undefined);
}

/** The name of queue shard `shard` of `room` (also the name its SQLite file is derived from). */
export function shardName(room: string, shard: number): string {
  return `${room}#${shard}`;
}

/** Queue shard `shard` of `room`. */
export function shardOf(env: Pick<Env, "QUEUE_SHARD">, room: string, shard: number) {
  const ns = placed(env, env.QUEUE_SHARD);
  return ns.get(ns.idFromName(shardName(room, shard)));
}

/** ReplayGuard number `shard` (src/edge/replay.ts picks it by a hash of the value). */
export function replayGuardAt(env: Pick<Env, "REPLAY_GUARD">, shard: number) {
  const ns = placed(env, env.REPLAY_GUARD);
  return ns.get(ns.idFromName(`replay#${shard}`));
}

/** IssuanceSessions object number `shard` (src/issuance/sessions.ts picks it by a hash of the session id). */
export function sessionsAt(env: Pick<Env, "ISSUANCE_SESSIONS">, shard: number) {
  const ns = placed(env, env.ISSUANCE_SESSIONS);
  return ns.get(ns.idFromName(`sessions#${shard}`));
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
  const ns = placed(env, env.ISSUANCE_LEDGER);
  return ns.get(ns.idFromName(`ledger#${shard}`));
}

/** The deployment's one LifecycleLog: the audit log and the register sync cursor (src/lifecycle/). */
export function lifecycleLog(env: Pick<Env, "LIFECYCLE_LOG">) {
  const ns = placed(env, env.LIFECYCLE_LOG);
  return ns.get(ns.idFromName("lifecycle"));
}
