import { DEFAULT_ROOM_CONFIG, RoomConfigSchema, type RoomConfig } from "../../src/config/room-config";

/**
 * Everything a launch-day simulation depends on. A run is a pure function of this object (the seed
 * included), so two runs with the same config produce the same report, byte for byte.
 */

/** The announcement spike: relative arrival rate over time (1 at the peak), see arrival-curve.ts. */
export interface ArrivalCurve {
  /** Minutes from the announcement to the peak (a steep linear ramp). */
  readonly rampMinutes: number;
  /** After the peak the rate decays exponentially with this time constant. */
  readonly decayMinutes: number;
  /** Share of the peak rate that never goes away (people hearing the news later): the long tail. */
  readonly floor: number;
}

/** What people do. Durations are drawn per person from the seeded generator. */
export interface Behaviour {
  /** Share of people with finite patience; the others wait however long it takes. */
  readonly impatientFraction: number;
  /** Patience of the impatient (exponential): past it they close the app and never come back. */
  readonly patienceMeanMinutes: number;
  /** Of those still there when admitted, the share who never redeem (got distracted, no wallet). */
  readonly neverRedeemFraction: number;
  /** From seeing "admitted" to calling the token endpoint (log-normal, clipped under the TTL). */
  readonly redeemMedianSeconds: number;
  readonly redeemMaxSeconds: number;
  /** From the token endpoint to the notification: the issuance itself (log-normal, clipped). */
  readonly issuanceMedianSeconds: number;
  readonly issuanceMaxSeconds: number;
  /** Share of sessions closed by a notification; the rest run to session_duration_seconds. */
  readonly notifyFraction: number;
  /** Tap-to-shard latency (uniform): the shard stamps on receipt, so this is where order blurs. */
  readonly joinLatencyMs: readonly [number, number];
}

/**
 * The edge the crowd reaches (tools/sim/locations.ts): Cloudflare locations with Zipf-distributed
 * traffic, isolates spread over them, the snapshot's time to live, and the window in which two isolates
 * of one location can both claim the refresh (the Cache API has no compare-and-set; counted as callers,
 * an upper bound: the claim's read-back turns some away).
 */
export interface EdgeModel {
  readonly locations: number;
  /** Zipf exponent of traffic over locations: 0 spreads evenly, 1.5 puts ~40 % on the biggest. */
  readonly locationSkew: number;
  /** Isolates in all, spread by traffic share (at least one per location). */
  readonly isolates: number;
  /** SNAPSHOT_TTL_MS */
  readonly snapshotTtlMs: number;
  readonly cacheRaceMs: number;
  /** Not built: a random 0–J ms added per isolate to the copy's age limit, to size that fix (0: as built). */
  readonly snapshotJitterMs: number;
}

/** Objects spread by a hash (src/edge/replay.ts, src/issuance/sessions.ts). */
export interface ObjectCounts {
  /** ISSUANCE_SESSION_SHARDS */
  readonly sessionShards: number;
  /** REPLAY_SHARDS */
  readonly replayGuards: number;
}

export interface SimConfig {
  readonly seed: number;
  /** Epoch ms of the announcement (a whole minute, so report minutes are calendar minutes). */
  readonly startAt: number;
  readonly arrivals: number;
  /** Arrivals happen within this many hours. */
  readonly hours: number;
  /** The run stops after this many hours even if people still wait (the drain included). */
  readonly maxHours: number;
  readonly room: RoomConfig;
  /** Sessions the protected backend can hold at once. */
  readonly backendCapacity: number;
  /** People whose every poll is simulated (the rest are counted analytically). */
  readonly trackedUsers: number;
  /** How late each alarm fires after the previous one plus 1 s (the tick's own work, scheduling). */
  readonly tickLagMs: readonly [number, number];
  readonly curve: ArrivalCurve;
  readonly behaviour: Behaviour;
  readonly edge: EdgeModel;
  readonly objects: ObjectCounts;
  /**
   * Share of people who use the browser and the authorization code flow (identity after admission);
   * the others use the app, whose identity assertion is fetched before joining.
   */
  readonly authorizationCodeShare: number;
}

export interface SimOptions {
  readonly seed?: number;
  readonly arrivals?: number;
  readonly hours?: number;
  readonly maxHours?: number;
  readonly shards?: number;
  /** new_users_per_minute */
  readonly rate?: number;
  /** total_active_users (and the backend capacity it protects) */
  readonly active?: number;
  readonly trackedUsers?: number;
  readonly tickLagMs?: readonly [number, number];
  readonly curve?: Partial<ArrivalCurve>;
  readonly behaviour?: Partial<Behaviour>;
  readonly edge?: Partial<EdgeModel>;
  readonly authorizationCodeShare?: number;
}

export const DEFAULT_CURVE: ArrivalCurve = { rampMinutes: 30, decayMinutes: 75, floor: 0.05 };

export const DEFAULT_BEHAVIOUR: Behaviour = {
  impatientFraction: 0.3,
  patienceMeanMinutes: 45,
  neverRedeemFraction: 0.06,
  redeemMedianSeconds: 30,
  redeemMaxSeconds: 180,
  issuanceMedianSeconds: 70,
  issuanceMaxSeconds: 600,
  notifyFraction: 0.95,
  joinLatencyMs: [20, 250],
};

/**
 * France-wide traffic: a few big locations (Paris, Marseille…) take most of it, hundreds see a little.
 * 3,000 isolates, the scale issue 17 asks the snapshot path to be independent of.
 */
export const DEFAULT_EDGE: EdgeModel = {
  locations: 300,
  locationSkew: 1.5,
  isolates: 3_000,
  snapshotTtlMs: 1_000,
  cacheRaceMs: 2,
  snapshotJitterMs: 0,
};

export const DEFAULT_OBJECTS: ObjectCounts = { sessionShards: 32, replayGuards: 16 };

/** The default room holds 50,000 active at 12,000 admissions a minute: the same 25/6 minutes at any rate. */
const ACTIVE_MINUTES_PER_ADMISSION = 25 / 6;

/**
 * The simulated clock starts one day after the Unix epoch rather than on a real date. The admission
 * modules only ever use differences of times, and times below 2^31 ms stay small integers that V8
 * stores unboxed: the per-tick walk over 40,000+ sessions runs several times faster than with
 * present-day epoch milliseconds, each a boxed double.
 */
export const DEFAULT_START = 86_400_000;

/**
 * Launch day defaults: 3 M people over 6 h, a backend that holds 50,000 sessions, and an admission rate
 * sized so that at full rate the active count stays well under it (see `expectedActiveAtFullRate`);
 * at another rate the backend is scaled with it unless `active` is given.
 */
export function simConfig(o: SimOptions = {}): SimConfig {
  const rate = o.rate ?? 12_000;
  const active = o.active ?? Math.ceil(rate * ACTIVE_MINUTES_PER_ADMISSION);
  // The real schema validates the room, so the simulator cannot run a room the API would refuse.
  const room = RoomConfigSchema.parse({
    ...DEFAULT_ROOM_CONFIG,
    new_users_per_minute: rate,
    total_active_users: active,
    shards: o.shards ?? 8,
  });
  const edge = { ...DEFAULT_EDGE, ...o.edge };
  if (edge.isolates < edge.locations)
    throw new Error(`every location has an isolate: isolates (${edge.isolates}) < locations (${edge.locations})`);
  const share = o.authorizationCodeShare ?? 0.3;
  if (!(share >= 0 && share <= 1)) throw new Error("the authorization code share is a fraction from 0 to 1");
  const hours = o.hours ?? 6;
  return {
    seed: o.seed ?? 20260101,
    startAt: DEFAULT_START,
    arrivals: o.arrivals ?? 3_000_000,
    hours,
    maxHours: o.maxHours ?? Math.max(24, hours * 4),
    room,
    backendCapacity: active,
    trackedUsers: o.trackedUsers ?? 20_000,
    tickLagMs: o.tickLagMs ?? [5, 40],
    curve: { ...DEFAULT_CURVE, ...o.curve },
    behaviour: { ...DEFAULT_BEHAVIOUR, ...o.behaviour },
    edge,
    objects: DEFAULT_OBJECTS,
    authorizationCodeShare: share,
  };
}

/**
 * Seconds an admission keeps a slot, on average, under this behaviour (modeled, for sizing): an unused
 * admission holds it for the whole TTL; a redeemed one until the notification or the session's end.
 */
export function activeSecondsPerAdmission(room: RoomConfig, b: Behaviour, waitingAbandonShare: number): number {
  const unused = waitingAbandonShare + (1 - waitingAbandonShare) * b.neverRedeemFraction;
  // Log-normal with sigma 0.6 (random.ts): mean = median * e^(0.18).
  const mean = (median: number) => median * Math.exp(0.18);
  const session = b.notifyFraction * mean(b.issuanceMedianSeconds) + (1 - b.notifyFraction) * room.session_duration_seconds;
  return unused * room.admission_ttl_seconds + (1 - unused) * (2 + mean(b.redeemMedianSeconds) + session);
}

export type { RoomConfig };
