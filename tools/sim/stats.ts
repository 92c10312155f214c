/** Order statistics over plain samples (the report's medians and percentiles). */

/** Sorted copy, as a typed array: numeric sort without a comparator (a typed array is copied whole, not iterated). */
export function sorted(values: ArrayLike<number>): Float64Array {
  return (values instanceof Float64Array ? values.slice() : Float64Array.from(values)).sort();
}

/** The q-quantile (0 ≤ q ≤ 1) of an ascending array, nearest rank; NaN when empty. */
export function quantile(ascending: Float64Array, q: number): number {
  if (ascending.length === 0) return Number.NaN;
  const i = Math.min(ascending.length - 1, Math.max(0, Math.ceil(q * ascending.length) - 1));
  return ascending[i]!;
}

export function summary(values: ArrayLike<number>): { n: number; median: number; p90: number; max: number } {
  const s = sorted(values);
  return { n: s.length, median: quantile(s, 0.5), p90: quantile(s, 0.9), max: s.length ? s[s.length - 1]! : Number.NaN };
}

/** `x` rounded to `digits` decimals, for the report (no float noise in the JSON). */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A growable column of numbers (a JS array of doubles would box on some pushes; this never does). */
export class Column {
  private data = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  at(i: number): number {
    return this.data[i]!;
  }

  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
