import { compareKeys, ORIGIN, seqOf, shardOf, type OrderKey } from "../../src/admission/order-key";
import type { RoomSnapshot } from "../../src/admission/snapshot";
import { ticketStatus, unsyncedAtPoll, type TicketStatus, type UnsyncedBasis } from "../../src/admission/ticket-status";
import { totalWaiting } from "../../src/admission/waiting-histogram";
import { ManualClock } from "../../src/lib/clock";
import { Calendar } from "./calendar";
import { asksEveryShard, joinUnsyncedAhead } from "./edge";
import type { SimConfig } from "./config";
import { SimCoordinator } from "./coordinator";
import { LoadModel, type LaunchTotals, type PeakLoad } from "./load";
import { countGoneWaiting, MinuteBook, type MinuteStats } from "./minutes";
import { buildPopulation, NEVER_REDEEM, NO_NOTIFY, type Population } from "./population";
import { derive, hash32, lognormal, uniform, type Random } from "../../src/lib/seeded-random";
import { CREDENTIAL_REQUESTS, STEPS, type Step } from "./request-plan";
import { SessionShards } from "./session-shards";
import { SimShard } from "./shard";
import { Column } from "./stats";

/**
 * The launch, in discrete time. Between two ticks: joins reach their shard in receipt order (each
 * stamped by the shard; the tracked ones told their place by the real ticketStatus on the snapshot the
 * edge holds), then due events, each at its own time: tracked polls, redemptions (the token
 * endpoint's snapshot check, then a session in its IssuanceSessions shard), notifications (the session
 * ended in its shard), sessions running out, unused admissions expiring. Then the coordinator ticks
 * (the session shards' counts, planTick/runTick over real shard syncs) and publishes a new snapshot.
 * The next tick fires 1 s plus a lag after this one, as an alarm re-armed once its own work is done does.
 *
 * Each person is assigned, by a hash of their number (independent of every random stream above, so the
 * admission figures do not move), a flow (app or browser), a session shard, a claim shard and the
 * ReplayGuards their one-time values land in: the load and cost model counts calls per object.
 */

/** Where each person is. Giving up changes nobody's state: the place still counts (see `gone`). */
export const WAITING = 1;
export const ADMITTED = 2;
export const IN_SESSION = 3;
export const DONE = 4;
export const EXPIRED = 5;
export const REFUSED = 6;

const POLL = 0;
const REDEEM = 1;
const EXPIRE = 2;
const NOTIFY = 3;
const SESSION_TIMEOUT = 4;
const EVENT_KINDS = 8;

/** Salts of the per-person hashes (flow, objects). */
const SALT_FLOW = 0x0f10;
const SALT_SESSION = 0x5e55;
const SALT_CLAIM = 0xc1a1;
const SALT_REPLAY = 0x4e71;

/** Untracked people learn of their admission at their next poll; until the sample has seen some, this. */
const DEFAULT_LEARN_MS = 2_400;
const LEARN_RING = 512;
const LEARN_MIN_OBSERVED = 32;

export interface Estimates {
  /** Tracked people's estimates: who, when (ms since start), how many seconds they were told. */
  readonly person: Column;
  readonly at: Column;
  readonly seconds: Column;
}

export interface RunOutput {
  readonly config: SimConfig;
  readonly population: Population;
  readonly state: Uint8Array;
  /** 1 for people who had given up by the time they were admitted. */
  readonly gone: Uint8Array;
  readonly seq: Int32Array;
  /** ms since start, NaN if never admitted. */
  readonly admittedAt: Float64Array;
  /** Person numbers in admission order. */
  readonly admissionOrder: Int32Array;
  readonly firstEstimates: Estimates;
  readonly laterEstimates: Estimates;
  readonly minutes: MinuteStats[];
  readonly worstSlidingWindow: number;
  readonly load: PeakLoad;
  readonly totals: LaunchTotals;
  readonly locations: { shares: Float64Array; isolates: Int32Array };
  readonly refusals: Record<string, number>;
  readonly checks: {
    /** Admissions not strictly after the previous one in order-key order (must be 0). */
    keyOrderViolations: number;
    /** Admissions of someone not waiting (must be 0). */
    doubleAdmissions: number;
    /** Largest |coordinator active − independently counted active| seen at a tick (must be 0). */
    activeMismatch: number;
    /** People still waiting whose key the frontier has passed: skipped, never to be admitted. */
    skipped: number;
    /** Polls answered "expired" while the admission was inside its TTL (must be 0). */
    expiredEarly: number;
    /** Tracked answers whose position was higher than the same person's previous one. */
    positionIncreases: number;
    coordinatorAdmittedTotal: number;
    coordinatorWaiting: number;
  };
  readonly peaks: { waiting: number; waitingAtMinute: number; openSessions: number; active: number };
  readonly ticks: number;
  readonly endedAtMs: number;
  readonly drained: boolean;
}

function estimates(): Estimates {
  return { person: new Column(), at: new Column(), seconds: new Column() };
}

export function runSimulation(cfg: SimConfig): RunOutput {
  const pop = buildPopulation(cfg);
  const n = pop.size;
  const start = cfg.startAt;
  const room = cfg.room;
  const ttlMs = room.admission_ttl_seconds * 1000;
  const b = cfg.behaviour;
  const clock = new ManualClock(start);
  const shards = Array.from(pop.perShard, (size, i) => new SimShard(i, size, clock));
  const objects = cfg.objects;
  const sessionShards = new SessionShards(n, objects.sessionShards, ttlMs);
  const coordinator = new SimCoordinator("permis", room, shards, sessionShards, clock);
  const rand: Random = derive(cfg.seed, 100);
  const calendar = new Calendar();
  const minutes = new MinuteBook(start);
  const load = new LoadModel(cfg.edge, n / Math.max(1, pop.trackedCount));

  const state = new Uint8Array(n);
  const gone = new Uint8Array(n);
  const seq = new Int32Array(n);
  /** 1 once an admission stopped counting as unused (redeemed or expired): decrement exactly once. */
  const settled = new Uint8Array(n);
  const admittedAt = new Float64Array(n).fill(Number.NaN);
  /** The number of the tick that admitted each person (the session shards count by it). */
  const admittedTick = new Int32Array(n);
  const admissionOrder = new Int32Array(n);
  let admittedCount = 0;
  const first = estimates();
  const later = estimates();
  const refusals: Record<string, number> = {};
  const learnRing = new Float64Array(LEARN_RING);
  let learnObserved = 0;

  // Ground truth, kept independently of the coordinator's arithmetic to check it.
  let waiting = 0;
  let unredeemed = 0;
  let open = 0;
  const peaks = { waiting: 0, waitingAtMinute: 0, openSessions: 0, active: 0 };
  const checks = {
    keyOrderViolations: 0,
    doubleAdmissions: 0,
    activeMismatch: 0,
    skipped: 0,
    expiredEarly: 0,
    positionIncreases: 0,
    coordinatorAdmittedTotal: 0,
    coordinatorWaiting: 0,
  };
  let lastAdmitted: OrderKey = ORIGIN;

  // Tracked people: what their ticket carries from the join, and the last position they were told.
  // What each tracked ticket carries from its join (UnsyncedBasis): unsynced people ahead, the position
  // it was told and the room's admitted total then (-1: told no position).
  const countedAtJoin = new Int32Array(pop.trackedCount);
  const toldAtJoin = new Float64Array(pop.trackedCount);
  const admittedTotalAtJoin = new Float64Array(pop.trackedCount);
  const lastPosition = new Float64Array(pop.trackedCount).fill(Number.POSITIVE_INFINITY);

  // Per-interval traffic for the load model.
  const shardRequests = new Int32Array(room.shards);
  const sessionRequests = new Int32Array(objects.sessionShards);
  const replayRequests = new Int32Array(objects.replayGuards);
  const steps = Object.fromEntries(Object.keys(STEPS).map((k) => [k, 0])) as Record<Step, number>;
  let directSnapshotReads = 0;
  const snapshotTtlMs = cfg.edge.snapshotTtlMs;
  const browserBelow = cfg.authorizationCodeShare * 2 ** 32;
  const isBrowser = (p: number) => hash32(p, cfg.seed ^ SALT_FLOW) < browserBelow;
  const sessionShardOf = (p: number) => hash32(p, cfg.seed ^ SALT_SESSION) % objects.sessionShards;
  const claimShardOf = (p: number) => hash32(p, cfg.seed ^ SALT_CLAIM) % objects.sessionShards;
  const replayGuardOf = (value: number) => hash32(value, cfg.seed ^ SALT_REPLAY) % objects.replayGuards;

  // Giving up is a time, not an event: patience runs out at tap + patience, whatever happens.
  const gaveUpBy = (p: number, rel: number) => pop.tap[p]! + pop.patience[p]! <= rel;
  const keyOf = (p: number) => shards[pop.shard[p]!]!.keyAt(seq[p]!);
  const at = (rel: number) => start + Math.floor(rel);
  const schedule = (rel: number, p: number, kind: number) => calendar.schedule(rel, p * EVENT_KINDS + kind);
  const redeemDelayMs = () => lognormal(rand, b.redeemMedianSeconds, b.redeemMaxSeconds, 1) * 1000;
  const learnDelayMs = () =>
    learnObserved < LEARN_MIN_OBSERVED
      ? uniform(rand, 0, DEFAULT_LEARN_MS)
      : learnRing[Math.floor(rand() * Math.min(learnObserved, LEARN_RING))]!;

  let snapshot: RoomSnapshot = coordinator.buildSnapshot(start);

  /** A tracked person hears their status, as the edge would answer it, and acts on it. */
  const told = (p: number, rel: number, book: Estimates, unsynced: UnsyncedBasis): TicketStatus => {
    const status = ticketStatus(snapshot, keyOf(p), at(rel), rand(), unsynced);
    // (The simulated launch has no pre-queue event, so a waiting answer always carries a position.)
    if (status.status === "waiting" && status.position !== null) {
      const t = pop.tracked[p]!;
      if (status.position > lastPosition[t]!) checks.positionIncreases++;
      lastPosition[t] = status.position;
      if (status.estimated_wait_seconds !== null) {
        book.person.push(p);
        book.at.push(rel);
        book.seconds.push(status.estimated_wait_seconds);
      }
      schedule(rel + status.poll_after_seconds * 1000, p, POLL);
    } else if (status.status === "admitted") {
      const learned = rel - admittedAt[p]!;
      learnRing[learnObserved++ % LEARN_RING] = learned;
      if (!(pop.traits[p]! & NEVER_REDEEM)) schedule(rel + redeemDelayMs(), p, REDEEM);
    }
    // "expired": polled too late to use the admission (the final tally counts them lost), or, if the
    // TTL is not over, an admission the snapshot forgot: counted, since it would be a bug.
    else {
      if (admittedAt[p]! + ttlMs > rel) checks.expiredEarly++;
      schedule(Math.max(rel, admittedAt[p]! + ttlMs), p, EXPIRE);
    }
    return status;
  };

  const basisAtJoin = (t: number): UnsyncedBasis =>
    toldAtJoin[t]! < 0
      ? { ahead: countedAtJoin[t]! }
      : { ahead: countedAtJoin[t]!, toldPosition: toldAtJoin[t]!, admittedTotal: admittedTotalAtJoin[t]! };

  const join = (p: number): void => {
    const rel = pop.receipt[p]!;
    clock.set(at(rel));
    const s = pop.shard[p]!;
    const ticket = shards[s]!.join(p);
    seq[p] = ticket.seq;
    state[p] = WAITING;
    waiting++;
    steps[isBrowser(p) ? "joinBrowser" : "joinApp"]++;
    replayRequests[replayGuardOf(3 * p)]!++;
    shardRequests[s]!++;
    // In a quiet room the edge also asks every other shard for its unsynced arrivals.
    if (asksEveryShard(snapshot)) for (let i = 0; i < room.shards; i++) if (i !== s) shardRequests[i]!++;
    minutes.onJoin(at(rel));
    const t = pop.tracked[p]!;
    if (t >= 0) {
      countedAtJoin[t] = joinUnsyncedAhead(snapshot, shards, s, ticket.seq, ticket.key);
      const answer = told(p, rel, first, { ahead: countedAtJoin[t]! });
      toldAtJoin[t] = answer.status === "waiting" && answer.position !== null ? answer.position : -1;
      admittedTotalAtJoin[t] = snapshot.admittedTotal;
    }
  };

  const handle = (rel: number, code: number): void => {
    const p = Math.floor(code / EVENT_KINDS);
    const kind = code % EVENT_KINDS;
    clock.set(at(rel));
    switch (kind) {
      case POLL:
        // Patience is about waiting: someone admitted before it ran out learns it at this poll.
        if (gone[p] || (state[p] === WAITING && gaveUpBy(p, rel))) return;
        steps.poll++;
        told(p, rel, later, unsyncedAtPoll(snapshot, keyOf(p), basisAtJoin(pop.tracked[p]!)));
        return;
      case REDEEM: {
        const result = coordinator.redeemCheck(keyOf(p), state[p] === IN_SESSION || state[p] === DONE);
        if (!result.ok) {
          state[p] = REFUSED;
          refusals[result.reason] = (refusals[result.reason] ?? 0) + 1;
          // Still an unused admission for the ground truth, until its TTL runs out.
          schedule(Math.max(rel, admittedAt[p]! + ttlMs), p, EXPIRE);
          return;
        }
        const endsAt = at(rel) + room.session_duration_seconds * 1000;
        sessionShards.start(p, admittedTick[p]!, endsAt);
        state[p] = IN_SESSION;
        settled[p] = 1;
        unredeemed--;
        open++;
        peaks.openSessions = Math.max(peaks.openSessions, open);
        // The token request, the session and the person's claim, then the credential requests.
        steps[isBrowser(p) ? "redeemBrowser" : "redeemApp"]++;
        const sessionShard = sessionShardOf(p);
        sessionRequests[sessionShard]!++;
        sessionRequests[claimShardOf(p)]!++;
        steps.credential += CREDENTIAL_REQUESTS;
        sessionRequests[sessionShard]! += CREDENTIAL_REQUESTS;
        for (let k = 1; k <= CREDENTIAL_REQUESTS; k++) replayRequests[replayGuardOf(3 * p + k)]!++;
        // An isolate whose copy predates the admitting tick reads the coordinator once (expected value:
        // copies are up to SNAPSHOT_TTL_MS old, evenly).
        directSnapshotReads += Math.max(0, 1 - (rel - admittedAt[p]!) / snapshotTtlMs);
        if (pop.traits[p]! & NO_NOTIFY) schedule(endsAt - start, p, SESSION_TIMEOUT);
        else schedule(rel + lognormal(rand, b.issuanceMedianSeconds, b.issuanceMaxSeconds, 1) * 1000, p, NOTIFY);
        return;
      }
      case EXPIRE:
        if (settled[p]) return;
        settled[p] = 1;
        unredeemed--;
        if (state[p] === ADMITTED) state[p] = EXPIRED;
        return;
      case NOTIFY:
        steps.notification++;
        sessionRequests[sessionShardOf(p)]!++;
        sessionShards.end(p);
        state[p] = DONE;
        open--;
        return;
      case SESSION_TIMEOUT:
        state[p] = DONE;
        open--;
        return;
    }
  };

  const admit = (key: OrderKey, tickRel: number): void => {
    if (compareKeys(key, lastAdmitted) <= 0) checks.keyOrderViolations++;
    lastAdmitted = key;
    const p = shards[shardOf(key)]!.personAt(seqOf(key));
    if (state[p] !== WAITING) checks.doubleAdmissions++;
    state[p] = ADMITTED;
    admittedAt[p] = tickRel;
    admittedTick[p] = ticks;
    admissionOrder[admittedCount++] = p;
    waiting--;
    unredeemed++;
    gone[p] = gaveUpBy(p, tickRel) ? 1 : 0;
    const willRedeem = !gone[p] && !(pop.traits[p]! & NEVER_REDEEM);
    // Expiry matters only to admissions nobody will use (a refused redemption schedules its own).
    if (!willRedeem) schedule(tickRel + ttlMs, p, EXPIRE);
    // Tracked people find out at their own next poll; the others after a poll delay like theirs.
    else if (pop.tracked[p]! < 0) schedule(tickRel + learnDelayMs() + redeemDelayMs(), p, REDEEM);
  };

  const lag = cfg.tickLagMs;
  const endRel = cfg.maxHours * 3_600_000;
  let tickRel = 1000;
  let lastTickRel = 0;
  let next = 0;
  let ticks = 0;
  let drained = false;
  while (tickRel <= endRel) {
    while (next < n && pop.receipt[pop.byReceipt[next]!]! <= tickRel) join(pop.byReceipt[next++]!);
    calendar.drainUntil(tickRel, handle);

    clock.set(at(tickRel));
    sessionShards.onTick(ticks, at(tickRel));
    const tick = coordinator.tick();
    checks.activeMismatch = Math.max(checks.activeMismatch, Math.abs(tick.input.active - (unredeemed + open)));
    peaks.active = Math.max(peaks.active, unredeemed + open);
    for (const key of tick.outcome.admitted) admit(key, tickRel);
    ticks++;
    snapshot = coordinator.buildSnapshot(at(tickRel), tick);
    checks.activeMismatch = Math.max(checks.activeMismatch, Math.abs(snapshot.active - (unredeemed + open)));
    if (waiting > peaks.waiting) {
      peaks.waiting = waiting;
      peaks.waitingAtMinute = tickRel / 60_000;
    }

    minutes.onTick(tick, { waiting, openSessions: open, quotedRate: snapshot.ratePerSecond });
    load.onTick({
      intervalMs: tickRel - lastTickRel,
      at: tickRel,
      steps,
      queueShardRequests: shardRequests,
      sessionShardRequests: sessionRequests,
      replayGuardRequests: replayRequests,
      directSnapshotReads,
      syncRowsRead: tick.rows.syncRead,
      tickRowsWritten: tick.rows.written,
      countRowsRead: tick.rows.countRead,
      admitted: tick.outcome.admitted.length,
    });
    shardRequests.fill(0);
    sessionRequests.fill(0);
    replayRequests.fill(0);
    for (const k of Object.keys(steps) as Step[]) steps[k] = 0;
    directSnapshotReads = 0;

    // Done when everyone has arrived and nobody waits or holds an unused admission or a session.
    if (next >= n && waiting === 0 && unredeemed === 0 && open === 0) {
      drained = true;
      break;
    }
    lastTickRel = tickRel;
    tickRel += 1000 + Math.round(uniform(rand, lag[0], lag[1]));
  }

  load.finish();
  for (let p = 0; p < n; p++) if (state[p] === WAITING && compareKeys(keyOf(p), coordinator.frontier) <= 0) checks.skipped++;
  countGoneWaiting(minutes.minutes, pop, admittedAt);
  checks.coordinatorAdmittedTotal = coordinator.books.admittedTotal;
  checks.coordinatorWaiting = totalWaiting(snapshot.histogram);

  return {
    config: cfg,
    population: pop,
    state,
    gone,
    seq,
    admittedAt,
    admissionOrder: admissionOrder.subarray(0, admittedCount),
    firstEstimates: first,
    laterEstimates: later,
    minutes: minutes.minutes,
    worstSlidingWindow: minutes.worstSlidingWindow,
    load: load.peak,
    totals: load.totals,
    locations: { shares: load.locations.shares, isolates: load.locations.isolates },
    refusals,
    checks,
    peaks,
    ticks,
    endedAtMs: tickRel,
    drained,
  };
}
