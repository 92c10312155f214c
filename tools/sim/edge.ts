import type { OrderKey } from "../../src/admission/order-key";
import type { RoomSnapshot } from "../../src/admission/snapshot";
import type { SimShard } from "./shard";

/**
 * The edge's arithmetic around ticketStatus, as src/routes/tickets.ts does it: how many people ahead of
 * a ticket joined after the snapshot's last sync (the snapshot cannot count them). The route itself
 * needs a Worker and Durable Object stubs; these few lines are what it computes with them.
 */

/** Mirrors EXACT_JOIN_POSITION_BELOW in src/routes/tickets.ts (test/unit/simulation.test.ts checks it). */
export const EXACT_JOIN_POSITION_BELOW = 20;

/** A quiet room: a join asks every other shard for its unsynced arrivals (one extra call each). */
export function asksEveryShard(snapshot: RoomSnapshot): boolean {
  return snapshot.config.shards > 1 && (snapshot.arrivalsPerSecond ?? 0) < EXACT_JOIN_POSITION_BELOW;
}

/**
 * At join: this shard's unsynced tickets ahead counted exactly (QueueShard.countBetween); the other
 * shards' asked of each in a quiet room, else estimated as the same number per shard.
 */
export function joinUnsyncedAhead(snapshot: RoomSnapshot, shards: readonly SimShard[], shard: number, seq: number, key: OrderKey): number {
  const own = Math.max(0, seq - (snapshot.syncedSeqs[shard] ?? 0) - 1);
  if (!asksEveryShard(snapshot)) return own * snapshot.config.shards;
  let ahead = own;
  for (let i = 0; i < shards.length; i++) if (i !== shard) ahead += shards[i]!.countUnsyncedAhead(i, snapshot.syncedSeqs[i] ?? 0, key);
  return ahead;
}
