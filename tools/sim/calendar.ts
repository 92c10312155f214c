/**
 * Future events (a redemption, an expiry, a tracked poll…), bucketed by second: scheduling is a push,
 * and a tick takes only the buckets up to its own time. Millions of events cost arrays of small
 * numbers, not a heap of objects.
 *
 * Events due before a tick are handled in the order they were scheduled, each at its own time, not
 * sorted by time: nothing in one tick interval depends on their order (a redemption always falls well
 * inside its admission's TTL, a notification is scheduled by its redemption), and sorting millions
 * of them would cost more than anything else in the loop.
 */
interface Bucket {
  times: number[];
  codes: number[];
}

export class Calendar {
  /** Indexed by second since the start of the run. */
  private readonly buckets: (Bucket | undefined)[] = [];
  /** Lowest second that may still hold events. */
  private cursor = 0;
  private count = 0;

  get pending(): number {
    return this.count;
  }

  /** `time` in ms since the start of the run; `code` is opaque to the calendar. */
  schedule(time: number, code: number): void {
    const second = Math.max(this.cursor, Math.floor(time / 1000));
    let b = this.buckets[second];
    if (!b) b = this.buckets[second] = { times: [], codes: [] };
    b.times.push(time);
    b.codes.push(code);
    this.count++;
  }

  /** Hand every event at or before `until` to `handle`. Handlers may schedule more, due ones too. */
  drainUntil(until: number, handle: (time: number, code: number) => void): void {
    const last = Math.floor(until / 1000);
    for (let second = this.cursor; second <= last; second++) {
      for (let b = this.buckets[second]; b && b.times.length > 0; b = this.buckets[second]) {
        // The bucket keeps only what is not due yet, before any handler runs and adds to it.
        const rest: Bucket = { times: [], codes: [] };
        this.buckets[second] = rest;
        let handled = 0;
        for (let i = 0; i < b.times.length; i++) {
          const time = b.times[i]!;
          if (time > until) {
            rest.times.push(time);
            rest.codes.push(b.codes[i]!);
            continue;
          }
          handled++;
          this.count--;
          handle(time, b.codes[i]!);
        }
        if (handled === 0) break;
      }
      if (second < last) this.buckets[second] = undefined;
    }
    // Every second before `last` is done; `last` may still hold later events.
    this.cursor = Math.max(this.cursor, last);
  }
}
