import type { SyncReport, SyncRequest } from "../../src/admission/protocol";
import { tieBreaker, type OrderKey } from "../../src/admission/order-key";
import type { Clock } from "../../src/lib/clock";

/**
 * A QueueShard without SQLite: its `tickets` table reduced to the two columns admission reads, as
 * typed arrays in seq order. FIFO stamps never go backwards within a shard, so seq order is (a, seq)
 * order and the array is already the `tickets_by_order` index: `sync` is a binary search plus a slice,
 * answering exactly what src/admission/shard-store.ts answers with its range scan.
 */
const SHARD_STRIDE = 2 ** 32;

export class SimShard {
  /** stamps[seq - 1] = the ticket's `a`. */
  private readonly stamps: Float64Array;
  /** persons[seq - 1] = who holds ticket seq (the simulator's stand-in for the pseudonym column). */
  private readonly persons: Int32Array;
  private count = 0;
  private lastStamp = 0;
  /** The heads the last sync reported (immutable keys), and the row index of the first. */
  private lastPage: readonly OrderKey[] = [];
  private lastPageFrom = 0;

  constructor(
    readonly index: number,
    capacity: number,
    private readonly clock: Clock,
  ) {
    this.stamps = new Float64Array(capacity);
    this.persons = new Int32Array(capacity);
  }

  /** Tickets this shard has room for (the simulator knows every arrival in advance). */
  get capacity(): number {
    return this.stamps.length;
  }

  get total(): number {
    return this.count;
  }

  /** queue-shard insert(), FIFO: stamped max(now, last stamp), seq autoincrements from 1. */
  join(person: number): { seq: number; key: OrderKey } {
    const a = Math.max(this.clock.now(), this.lastStamp);
    this.lastStamp = a;
    this.stamps[this.count] = a;
    this.persons[this.count] = person;
    const seq = ++this.count;
    return { seq, key: { a, b: tieBreaker(this.index, seq) } };
  }

  personAt(seq: number): number {
    return this.persons[seq - 1]!;
  }

  keyAt(seq: number): OrderKey {
    return { a: this.stamps[seq - 1]!, b: tieBreaker(this.index, seq) };
  }

  /**
   * QueueShard.countUnsyncedAhead: tickets with seq > syncedSeq whose (a, seq) is before `key`'s
   * (a, floor). Rows are in key order, so it is a binary search, less the rows already synced.
   */
  countUnsyncedAhead(shard: number, syncedSeq: number, key: OrderKey): number {
    const floor = Math.min(SHARD_STRIDE, Math.max(-1, key.b - shard * SHARD_STRIDE));
    return Math.max(0, this.firstNotBefore(key.a, floor) - syncedSeq);
  }

  /** Index of the first row whose (a, seq) is not below (a, seq floor): rows before it are ahead. */
  private firstNotBefore(a: number, floor: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const stamp = this.stamps[mid]!;
      if (stamp < a || (stamp === a && mid + 1 < floor)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Same contract as QueueShard.sync: heads after the frontier below eligibleBefore, arrivals since. */
  sync(req: SyncRequest): SyncReport {
    // (a, seq) > (after.a, floor), with floor derived from the frontier's b exactly as the shard does.
    const floor = Math.min(SHARD_STRIDE, Math.max(-1, req.after.b - req.shard * SHARD_STRIDE));
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const a = this.stamps[mid]!;
      if (a < req.after.a || (a === req.after.a && mid + 1 <= floor)) lo = mid + 1;
      else hi = mid;
    }
    // The same rows are reported tick after tick until they are admitted (a page is allowance + 1 rows
    // per shard, of which a shard's share is admitted): their key objects are reused, not rebuilt.
    const heads: OrderKey[] = [];
    const cached = this.lastPage;
    const from = this.lastPageFrom;
    for (let i = lo; i < this.count && heads.length < req.limit && this.stamps[i]! < req.eligibleBefore; i++) {
      heads.push(i >= from && i - from < cached.length ? cached[i - from]! : { a: this.stamps[i]!, b: tieBreaker(this.index, i + 1) });
    }
    this.lastPage = heads;
    this.lastPageFrom = lo;
    // "SELECT a / 1000 AS s, count(*) … WHERE seq > since GROUP BY s": stamps ascend, so runs suffice.
    const arrivals: { second: number; count: number }[] = [];
    for (let i = Math.max(0, req.since); i < this.count; i++) {
      const second = Math.floor(this.stamps[i]! / 1000);
      const run = arrivals[arrivals.length - 1];
      if (run && run.second === second) run.count++;
      else arrivals.push({ second, count: 1 });
    }
    return { heads, arrivals, cursor: this.count, total: this.count };
  }
}
