/**
 * The IssuanceSessions shards as the coordinator sees them (docs/scaling-past-one-coordinator.md, "Tick"):
 * sessions start, end and run out in the shards; every tick the coordinator pulls each shard's
 * `{ redeemed, open }` for the room at the tick's own `now` and computes
 *
 *     active = max(0, admittedSince(log, now − ttl) − Σ redeemed) + Σ open
 *
 * A shard answers with an index range scan; here the sums are kept as running counts instead (a walk
 * of 400,000 sessions every tick would be most of a 10 M run), with the same meaning:
 * - `redeemed`: sessions whose admission (a tick time) is inside the TTL. Counted per admitting tick; a
 *   tick's count stops changing once it leaves the window (a redemption needs its admission inside the
 *   TTL), so a cursor over ticks subtracts it once and for all.
 * - `open`: sessions neither ended nor past `endsAt`. Starts are queued by `endsAt` (nearly in order:
 *   an insertion from the back moves a few entries), and a count pops those whose `endsAt` has passed.
 * These counts are kept apart from the run's own event-driven tally (tools/sim/run.ts), which checks them
 * at every tick.
 */
export class SessionShards {
  /** Sessions started per admitting tick, by tick number; and the tick times. */
  private readonly startedByTick: number[] = [];
  private readonly tickTimes: number[] = [];
  /** Ticks below this have left the TTL window; their sessions are out of `redeemed` for good. */
  private expiredTicks = 0;
  private redeemedInWindow = 0;

  /** Person numbers of started sessions, ordered by endsAt from `head`. */
  private queue = new Int32Array(1 << 16);
  private queueEnds = new Float64Array(1 << 16);
  private head = 0;
  private tail = 0;
  private open = 0;
  /** 1 once a person's session was ended (notification, operator) or ran out. */
  private readonly closed: Uint8Array;

  constructor(
    people: number,
    readonly shards: number,
    private readonly ttlMs: number,
  ) {
    this.closed = new Uint8Array(people);
  }

  /** A tick at `time` (ms) with this number: admissions it makes may start sessions later. */
  onTick(tick: number, time: number): void {
    this.tickTimes[tick] = time;
    this.startedByTick[tick] = 0;
  }

  /** IssuanceSessions.redeem created the session of `person`, admitted by tick `admittedTick`. */
  start(person: number, admittedTick: number, endsAt: number): void {
    this.startedByTick[admittedTick]!++;
    if (admittedTick >= this.expiredTicks) this.redeemedInWindow++;
    if (this.tail === this.queue.length) this.grow();
    let i = this.tail++;
    while (i > this.head && this.queueEnds[i - 1]! > endsAt) {
      this.queue[i] = this.queue[i - 1]!;
      this.queueEnds[i] = this.queueEnds[i - 1]!;
      i--;
    }
    this.queue[i] = person;
    this.queueEnds[i] = endsAt;
    this.open++;
  }

  /** An accepting notification (or the operator) ended the session; false if it was no longer open. */
  end(person: number): boolean {
    if (this.closed[person]) return false;
    this.closed[person] = 1;
    this.open--;
    return true;
  }

  /**
   * Σ over shards of `sessionCounts({ now, ttlMs })`, and the rows those range scans read: sessions
   * admitted inside the TTL, and sessions whose `endsAt` is still ahead (ended or not).
   */
  counts(now: number): { redeemed: number; open: number; scanned: number } {
    while (this.expiredTicks < this.tickTimes.length && this.tickTimes[this.expiredTicks]! <= now - this.ttlMs) {
      this.redeemedInWindow -= this.startedByTick[this.expiredTicks]!;
      this.expiredTicks++;
    }
    while (this.head < this.tail && this.queueEnds[this.head]! <= now) {
      const person = this.queue[this.head++]!;
      if (!this.closed[person]) {
        this.closed[person] = 1;
        this.open--;
      }
    }
    return { redeemed: this.redeemedInWindow, open: this.open, scanned: this.redeemedInWindow + this.tail - this.head };
  }

  private grow(): void {
    // Drop what was popped, then double if still full.
    const live = this.tail - this.head;
    const size = live * 2 > this.queue.length ? this.queue.length * 2 : this.queue.length;
    const queue = new Int32Array(size);
    const ends = new Float64Array(size);
    queue.set(this.queue.subarray(this.head, this.tail));
    ends.set(this.queueEnds.subarray(this.head, this.tail));
    this.queue = queue;
    this.queueEnds = ends;
    this.head = 0;
    this.tail = live;
  }
}
