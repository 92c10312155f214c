import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { REPLAY_SHARDS } from "../../../src/edge/replay";
import { coordinatorOf, replayGuardAt, shardOf } from "../../../src/edge/objects";
import { registerMetrics } from "../../../src/register/register";
import { ADMIN_TOKEN, call } from "../../helpers/api";
import { ContractBroken } from "./contract";

/**
 * Invariant 3: a refused request changes no state. What is observed:
 * - each room's statistics as the admin API serves them (config, waiting, admitted, active, sessions,
 *   frontier, per-shard counts, backend health): what the coordinator holds;
 * - the rows of every queue shard of those rooms (a place in line is a row before any tick syncs it);
 * - the register's metrics as the admin API serves them (a refused credential request must not read it);
 * - ReplayGuard one-time values: the exact ids a request could have claimed (its DPoP jti, the c_nonces
 *   it carried), looked up where the guard keeps them (`watchReplay`); and every guard's row counts per
 *   scope around a whole property (`replayTotals`), since reading all 16 objects per run costs ~100 ms.
 * The clock is frozen meanwhile, so nothing here moves unless a request moved it.
 */
export interface RoomRef {
  readonly name: string;
  readonly shards: number;
}

export interface Observed {
  rooms: Record<string, unknown>;
  shardRows: Record<string, string>;
  register: unknown;
  replay: Record<string, boolean>;
}

/**
 * What GET /v1/admin/rooms/{room} serves, read without the HTTP hop (the handler returns this RPC's
 * result as is): observing twice per run through the Worker doubled the suite's time on a busy machine.
 */
async function roomStats(room: string): Promise<unknown> {
  const stats = await coordinatorOf(env, room).stats();
  return stats.ok ? stats.value : null;
}

async function shardRows(room: string, shard: number): Promise<string> {
  const stub = shardOf(env, room, shard);
  return runInDurableObject(stub, async (_instance, state) => {
    const row = state.storage.sql.exec<{ n: number; m: number }>("SELECT count(*) AS n, coalesce(max(seq), 0) AS m FROM tickets").one();
    return `${row.n}/${row.m}`;
  });
}

/** The ReplayGuard object that holds `key` (the same choice as src/edge/replay.ts). */
async function guardFor(key: string): Promise<DurableObjectStub> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  const shard = ((digest[0]! << 8) | digest[1]!) % REPLAY_SHARDS;
  return replayGuardAt(env, shard);
}

/** Whether each one-time value (`scope:id`, as the guard stores it) has been claimed. */
export async function claimed(keys: readonly string[]): Promise<Record<string, boolean>> {
  const entries = await Promise.all(
    keys.map(async (key) => {
      const found = await runInDurableObject(
        await guardFor(key),
        async (_instance, state) => state.storage.sql.exec("SELECT 1 FROM seen WHERE id = ?", key).toArray().length > 0,
      );
      return [key, found] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Rows per scope over every ReplayGuard (for a before/after around a whole property). */
export async function replayTotals(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < REPLAY_SHARDS; i++) {
    const stub = replayGuardAt(env, i);
    const rows = await runInDurableObject(stub, async (_instance, state) =>
      state.storage.sql
        .exec<{ scope: string; n: number }>("SELECT substr(id, 1, instr(id, ':') - 1) AS scope, count(*) AS n FROM seen GROUP BY scope")
        .toArray(),
    );
    for (const row of rows) out[row.scope] = (out[row.scope] ?? 0) + row.n;
  }
  return out;
}

export async function observe(
  rooms: readonly RoomRef[],
  replayKeys: readonly string[] = [],
  options: { shards?: boolean } = {},
): Promise<Observed> {
  const [roomEntries, shardEntries, register, replay] = await Promise.all([
    Promise.all(rooms.map(async (r) => [r.name, await roomStats(r.name)] as const)),
    options.shards === false
      ? []
      : Promise.all(
          rooms.flatMap((r) => Array.from({ length: r.shards }, async (_, i) => [`${r.name}#${i}`, await shardRows(r.name, i)] as const)),
        ),
    // What GET /v1/admin/register serves: this isolate's register metrics (the Worker runs in this isolate).
    registerMetrics(),
    claimed(replayKeys),
  ]);
  return { rooms: Object.fromEntries(roomEntries), shardRows: Object.fromEntries(shardEntries), register, replay };
}

/**
 * Throw if anything observed changed. `allowDpopJti`: the request's DPoP proof passed every check of
 * its own, so its jti is remembered (RFC 9449 section 11.1) whatever is refused after it.
 */
export function assertUnchanged(what: string, before: Observed, after: Observed, options: { allowDpopJti?: boolean } = {}): void {
  const b = structuredClone(before);
  if (options.allowDpopJti) {
    for (const key of Object.keys(b.replay)) if (key.startsWith("dpop:")) b.replay[key] = after.replay[key]!;
  }
  for (const key of ["rooms", "shardRows", "register", "replay"] as const) {
    const x = JSON.stringify(b[key]);
    const y = JSON.stringify(after[key]);
    if (x !== y)
      throw new ContractBroken(
        `a refused request changed ${key}\n  request: ${what}\n  before: ${x.slice(0, 700)}\n  after:  ${y.slice(0, 700)}`,
      );
  }
}

/** Whether the admin API knows a room (refused requests must not create one). */
export async function roomExists(room: string): Promise<boolean> {
  const res = await call(`/v1/admin/rooms/${encodeURIComponent(room)}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  await res.body?.cancel();
  return res.status === 200;
}
