import { DurableObject } from "cloudflare:workers";
import type { OrderKey } from "../src/admission/order-key";
import type { JoinRequest, ShardEntrants, ShardTicket, SyncReport, SyncRequest } from "../src/admission/protocol";
import { ShardStore } from "../src/admission/shard-store";
import type { Env } from "../src/config/env";

/**
 * QueueShard: one slice of a room's line (named `${room}#${i}`, src/edge/objects.ts shardOf). Joins are
 * spread over a room's shards by a hash of the person, so no single object takes every arrival (each
 * has a soft limit of about 1,000 requests/s).
 *
 * A shard stamps each newcomer with an order key and stores one row per ticket (src/admission/shard-store.ts);
 * it knows nothing of admission. Every tick the room's coordinator asks each shard (`sync`) for the
 * first keys after the frontier and for the arrivals it has not seen yet, counted per second. Its
 * contracts are in src/admission/protocol.ts. No call here refuses: a join always gets a place.
 */
export class QueueShard extends DurableObject<Env> {
  readonly #store: ShardStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new ShardStore(ctx.storage);
  }

  /** Idempotent per person: someone who already holds a place gets the same one back, from any device. */
  join(req: JoinRequest): ShardTicket {
    return this.#store.find(req.shard, req.person, req.syncedSeq) ?? this.#store.insert(req);
  }

  /** The person's ticket, if they hold one; never creates. */
  lookup(shard: number, person: string, syncedSeq: number): ShardTicket | null {
    return this.#store.find(shard, person, syncedSeq);
  }

  /**
   * Give a person whose admission expired a new place at the back. `expiredSeq` makes it a
   * compare-and-set: two concurrent re-joins replace the old ticket once.
   */
  requeue(req: JoinRequest, expiredSeq: number): ShardTicket {
    return this.#store.replace(req, expiredSeq);
  }

  /** Tickets the caller's snapshot does not count yet that stand ahead of `key` (ShardStore.countUnsyncedAhead). */
  countUnsyncedAhead(shard: number, syncedSeq: number, key: OrderKey): number {
    return this.#store.countUnsyncedAhead(shard, syncedSeq, key);
  }

  /** The pre-queue's entrants in this shard, published with the revealed seed. */
  lotteryEntrants(shard: number, from: number, to: number): ShardEntrants {
    return this.#store.entrants(shard, from, to);
  }

  sync(req: SyncRequest): SyncReport {
    return this.#store.sync(req);
  }
}
