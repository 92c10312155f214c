import { arrivalsPerSecond } from "./arrival-curve";
import type { SimConfig } from "./config";
import { derive, exponential, hash32, uniform } from "../../src/lib/seeded-random";

/**
 * Everyone who will arrive, drawn up front into flat typed arrays (3 M objects would cost seconds of
 * GC; columns cost ~100 MB and nothing else). Person i is the i-th to tap "join": indices are in true
 * arrival order, which is what fairness is measured against.
 */
export interface Population {
  readonly size: number;
  /** When the person tapped join (ms after the announcement, fractional): ascending in i. */
  readonly tap: Float64Array;
  /** When their join reached the shard (tap + network latency): the shard stamps this. */
  readonly receipt: Float64Array;
  /** Person indices in receipt order: the order joins are processed in. */
  readonly byReceipt: Int32Array;
  readonly shard: Uint8Array;
  /** Patience in ms (Infinity for the patient): leaving the line after tap + patience. */
  readonly patience: Float64Array;
  /** Bit flags, see NEVER_REDEEM and NO_NOTIFY. */
  readonly traits: Uint8Array;
  /** Index in the tracked sample, or -1. */
  readonly tracked: Int32Array;
  readonly trackedCount: number;
  /** People per shard (the shards' array sizes). */
  readonly perShard: Int32Array;
}

/** Admitted but never goes on to redeem. */
export const NEVER_REDEEM = 1;
/** Redeems but never sends the notification: the session runs out instead. */
export const NO_NOTIFY = 2;

/** Sub-stream numbers for derive(): one per kind of draw. */
const STREAM_TIMES = 1;
const STREAM_LATENCY = 2;
const STREAM_TRAITS = 3;
const STREAM_TRACKED = 4;
const SHARD_SALT = 0x5a4d;

export function buildPopulation(cfg: SimConfig): Population {
  const n = cfg.arrivals;
  const seconds = Math.ceil(cfg.hours * 3600);
  const counts = arrivalsPerSecond(cfg.curve, n, seconds);

  // Within a second, taps are uniform; sorting each second's slice keeps the whole array ascending.
  const tap = new Float64Array(n);
  const times = derive(cfg.seed, STREAM_TIMES);
  let i = 0;
  for (let s = 0; s < seconds; s++) {
    const start = i;
    for (let k = 0; k < counts[s]!; k++) tap[i++] = (s + times()) * 1000;
    tap.subarray(start, i).sort();
  }

  const latency = derive(cfg.seed, STREAM_LATENCY);
  const [lo, hi] = cfg.behaviour.joinLatencyMs;
  const receipt = new Float64Array(n);
  for (let p = 0; p < n; p++) receipt[p] = tap[p]! + uniform(latency, lo, hi);
  const byReceipt = receiptOrder(receipt);

  const shards = cfg.room.shards;
  const shard = new Uint8Array(n);
  const perShard = new Int32Array(shards);
  for (let p = 0; p < n; p++) perShard[(shard[p] = hash32(p, cfg.seed ^ SHARD_SALT) % shards)]!++;

  const b = cfg.behaviour;
  const draw = derive(cfg.seed, STREAM_TRAITS);
  const patience = new Float64Array(n);
  const traits = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    patience[p] = draw() < b.impatientFraction ? exponential(draw, b.patienceMeanMinutes * 60_000) : Number.POSITIVE_INFINITY;
    traits[p] = (draw() < b.neverRedeemFraction ? NEVER_REDEEM : 0) | (draw() < b.notifyFraction ? 0 : NO_NOTIFY);
  }

  // Selection sampling: exactly `k` people, each equally likely, in one pass.
  const k = Math.min(cfg.trackedUsers, n);
  const tracked = new Int32Array(n).fill(-1);
  const pick = derive(cfg.seed, STREAM_TRACKED);
  let chosen = 0;
  for (let p = 0; p < n && chosen < k; p++) if (pick() * (n - p) < k - chosen) tracked[p] = chosen++;

  return { size: n, tap, receipt, byReceipt, shard, patience, traits, tracked, trackedCount: chosen, perShard };
}

/**
 * Person numbers sorted by receipt time. Taps are sorted and latency is bounded, so each person is at
 * most a few hundred places from their spot: an insertion sort does a few moves each, where a
 * comparator sort of 3 M indices would take a second. Ties keep tap order (the sort is stable).
 */
function receiptOrder(receipt: Float64Array): Int32Array {
  const order = new Int32Array(receipt.length);
  for (let i = 0; i < order.length; i++) {
    const p = i;
    const t = receipt[p]!;
    let j = i - 1;
    while (j >= 0 && receipt[order[j]!]! > t) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = p;
  }
  return order;
}
