import { DurableObject } from "cloudflare:workers";
import { CoordinatorStore, type RoomState } from "../src/admission/coordinator-store";
import {
  plainTickPorts,
  revealLottery,
  roomSessions,
  roomShards,
  saveOutflow,
  tickRoom,
  updateLottery,
  type TickHost,
} from "../src/admission/coordinator-tick";
import { eventWindow } from "../src/admission/event";
import { commitment, newSeed, publicLottery, type LotteryRecord } from "../src/admission/lottery";
import { initialOutflow, WINDOW_MS } from "../src/admission/outflow";
import type { Configured, ConfigureRefusal, Revealed } from "../src/admission/protocol";
import { emptyBooks } from "../src/admission/room-books";
import { buildSnapshot, currentLottery, roomStats, type RoomStats } from "../src/admission/room-view";
import type { RoomSnapshot } from "../src/admission/snapshot";
import { SETTLE_MS } from "../src/admission/tick";
import type { Env } from "../src/config/env";
import { settingsOf } from "../src/config/settings";
import { DEFAULT_ROOM_CONFIG, patchConfig, type RoomConfig, type RoomConfigPatch } from "../src/config/room-config";
import { wrapTickEntry, wrapTickPorts } from "../src/faults/points";
import { clock } from "../src/lib/clock";
import { ok, refuse, type Result } from "../src/lib/result";
import { logger } from "../src/log/logger";

export type { RoomStats } from "../src/admission/room-view";

/**
 * RoomCoordinator: the one object per room that decides who is admitted. Its RPC surface and its alarm;
 * storage is src/admission/coordinator-store.ts, the tick src/admission/coordinator-tick.ts, what it
 * reads out of the room src/admission/room-view.ts, and its contracts src/admission/protocol.ts.
 *
 * It is off the hot path by design: joins go to queue shards, polls are answered at the edge from a
 * snapshot, issuance sessions start and end in the IssuanceSessions objects. The coordinator is asked
 * for a snapshot about once a second per Cloudflare location (src/edge/snapshot-cache.ts), for admin
 * calls, and runs an alarm every ADMISSION_TICK_MS that syncs with every queue shard, pulls every
 * IssuanceSessions object's session counts for the room, moves the frontier and persists the outcome
 * in one transaction (docs/scaling-past-one-coordinator.md).
 *
 * The object is named by its room (src/edge/objects.ts coordinatorOf) and reads that name back as
 * `ctx.id.name`, so no call carries the room name again. A stored room keeps its name in its row, which
 * is what the alarm uses (an alarm has no caller).
 */
export class RoomCoordinator extends DurableObject<Env> {
  readonly #store: CoordinatorStore;
  #room: RoomState | null;
  #snapshot: RoomSnapshot | null = null;
  #ticking = false;
  readonly #host: TickHost;
  /** tickRoom, as the alarm runs it. */
  readonly #runTick: (room: RoomState, now: number) => Promise<void>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new CoordinatorStore(ctx.storage);
    this.#room = this.#store.load();
    // The tick's collaborators are chosen here, at the object's edge, once: the development fault points
    // (src/faults/points.ts) wrap them and the tick's entry, so the tick and the store call no fault code.
    this.#host = {
      env,
      store: this.#store,
      ports: wrapTickPorts(plainTickPorts(env, this.#store)),
      reload: () => {
        this.#room = this.#store.load();
      },
      changed: () => {
        this.#snapshot = null;
      },
    };
    this.#runTick = wrapTickEntry((room: RoomState, now: number) => tickRoom(this.#host, room, now));
  }

  // ---- RPC ----------------------------------------------------------------------------------------

  /**
   * What the edge caches. Its `active` uses the session counts the last tick pulled; the first snapshot
   * after a restart (no counts in memory yet) pulls them itself, so that newcomers are not told the
   * room has room it has not. If a session object does not answer, the snapshot goes without them
   * until the next tick: it is what newcomers are shown, never what the budget uses.
   */
  async snapshot(): Promise<Result<RoomSnapshot, "no_room">> {
    const room = await this.#ensure();
    if (!room) return refuse("no_room");
    if (room.sessionCounts === null) await this.#countSessions(room);
    this.#snapshot ??= buildSnapshot(room, clock.now());
    return ok(this.#snapshot);
  }

  /** Create the room or change its configuration; `created` says which. */
  async configure(patch: RoomConfigPatch): Promise<Configured> {
    const name = this.#name();
    if (name === null) return refuse("no_room");
    const existing = await this.#ensure();
    const base = existing?.config ?? DEFAULT_ROOM_CONFIG;
    const patched = patchConfig(base, patch);
    if (!patched.ok) return patched;
    const next = patched.value;
    const now = clock.now();
    if (existing && next.shards !== existing.config.shards) {
      // Devices are routed to a shard by their key: re-sharding a room that has tickets would give a
      // returning device a second place. Only an empty room may change its shard count.
      const totals = await roomShards(this.env, name).totals(existing.shards.length);
      if (totals.some((t) => t.total > 0)) return refuse("shards_locked");
    }
    const lotteryChange = scheduleLottery(existing, base, next, now);
    if (!lotteryChange.ok) return lotteryChange;
    const change = lotteryChange.value;
    const room = existing ?? this.#create(name, next);
    room.config = next;
    if (room.shards.length !== next.shards) {
      room.shards = emptyBooks(next.shards).shards;
      this.#store.clearShards();
    }
    if (next.outflow.mode === "adaptive" && base.outflow.mode !== "adaptive") {
      // Switching to adaptive starts from the rate the operator had pinned.
      saveOutflow(this.#store, room, initialOutflow(next.outflow, next.new_users_per_minute));
    }
    if (change.withdraw) {
      const entrants = room.shards.map((_, shard) => ({ shard, first: 1, last: 0, excluded: [], count: 0 }));
      updateLottery(this.#store, room, { ...change.withdraw, revealedAt: now, withdrawnAt: now, entrants });
    }
    if (change.add) room.lotteries.push({ ...change.add, id: this.#store.addLottery(change.add) });
    this.#store.saveConfig(next);
    // The next tick counts the sessions again (the admission TTL may have changed: see quietSessions).
    room.sessionCountsAt = null;
    this.#snapshot = null;
    if (!existing) await this.#ensureAlarm();
    return ok({ created: !existing, config: next });
  }

  /**
   * Publish the lottery's seed and entrants. Only once event_start has passed (plus the shards' settle
   * margin, so every entrant is stored): before that the seed would let anyone predict the draw.
   * The first tick after that does it by itself; operators may call it (idempotent).
   */
  async revealLottery(): Promise<Revealed> {
    const room = await this.#ensure();
    if (!room) return refuse("no_room");
    // The configured event's, else the latest scheduled (an event removed after its start).
    const target = currentLottery(room) ?? room.lotteries[room.lotteries.length - 1];
    if (!target) return refuse("no_event");
    const now = clock.now();
    if (now < target.to + SETTLE_MS) return refuse("not_yet_drawn");
    const revealed = target.revealedAt === null ? await revealLottery(this.#host, room, target, now) : target;
    return ok({ lottery: publicLottery(revealed)! });
  }

  /** An isolate's register reads since its last report (src/edge/backend-health.ts). */
  async reportHealth(sample: { reads: number; errors: number; latencySumMs: number }): Promise<Result<null, "no_room">> {
    const room = await this.#ensure();
    if (!room) return refuse("no_room");
    const now = clock.now();
    room.health = room.health.filter((h) => h.at > now - 2 * WINDOW_MS);
    room.health.push({ at: now, reads: sample.reads, errors: sample.errors, latencySumMs: sample.latencySumMs });
    return ok(null);
  }

  /** The operators' statistics, with the sessions counted now (all IssuanceSessions objects asked). */
  async stats(): Promise<Result<RoomStats, "no_room">> {
    const room = await this.#ensure();
    if (!room) return refuse("no_room");
    const now = clock.now();
    const counts = await roomSessions(this.env, room.name).counts(now, room.config.admission_ttl_seconds * 1000);
    return ok(roomStats({ ...room, sessionCounts: counts, sessionCountsAt: now }, now, this.env));
  }

  override async alarm(): Promise<void> {
    try {
      await this.#tick();
    } catch (e) {
      // A failed tick wrote nothing (its persist is all-or-nothing), so the next alarm simply retries
      // the same work from stored state. Swallowed rather than rethrown: the runtime's own alarm retries
      // would run on top of the re-arm below, at a schedule of their own.
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      if (this.#room) this.#room.lastTickError = `tick failed: ${error}`;
      logger.error("tick_failed", { room: this.#room?.name, error });
    } finally {
      // Keep ticking even when a tick failed: the next one retries the same work from stored state.
      if (this.#room) await this.ctx.storage.setAlarm(Date.now() + this.#tickMs());
    }
  }

  // ---- internals ----------------------------------------------------------------------------------

  /** One tick at a time, and at most one per clock reading (src/admission/coordinator-tick.ts). */
  async #tick(): Promise<void> {
    const room = this.#room;
    if (!room || this.#ticking) return;
    const now = clock.now();
    const last = room.log[room.log.length - 1];
    if (last && now <= last.at) return;
    this.#ticking = true;
    try {
      await this.#runTick(room, now);
    } finally {
      this.#ticking = false;
    }
  }

  async #countSessions(room: RoomState): Promise<void> {
    const now = clock.now();
    try {
      const counts = await roomSessions(this.env, room.name).counts(now, room.config.admission_ttl_seconds * 1000);
      if (room.sessionCounts !== null) return; // a tick counted meanwhile, later than this
      room.sessionCounts = counts;
      room.sessionCountsAt = now;
      this.#snapshot = null;
    } catch (error) {
      logger.warn("session_count_failed", { room: room.name, error: String(error) });
    }
  }

  /** The room's name: stored once created, else the name this object was reached by. */
  #name(): string | null {
    return this.#room?.name ?? this.ctx.id.name ?? null;
  }

  /** The room, creating it with defaults if it is one of DEFAULT_ROOMS; null if it does not exist. */
  async #ensure(): Promise<RoomState | null> {
    if (this.#room) return this.#room;
    const name = this.#name();
    if (name === null || !settingsOf(this.env).defaultRooms.includes(name)) return null;
    const room = this.#create(name, DEFAULT_ROOM_CONFIG);
    await this.#ensureAlarm();
    return room;
  }

  #create(name: string, config: RoomConfig): RoomState {
    this.#room = this.#store.create(name, config);
    return this.#room;
  }

  async #ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.#tickMs());
  }

  #tickMs(): number {
    return settingsOf(this.env).admissionTickMs;
  }
}

/**
 * What scheduling `next.event` does to the lotteries. The commitment must be public before the
 * pre-queue opens and the draw must not change while it is open: a new or re-timed event needs a
 * pre-queue that starts in the future, and an event whose pre-queue is open cannot be moved or removed.
 *
 * Records are only ever added: a new window adds one, and an earlier event's record stays as it is
 * (revealed, or revealed by the tick once its event_start has passed, whether or not it is still the
 * configured event). The one exception is a record whose pre-queue never opened, when its event is
 * re-timed or removed: it is withdrawn, its seed revealed at once with no entrants.
 */
function scheduleLottery(
  existing: RoomState | null,
  base: RoomConfig,
  next: RoomConfig,
  now: number,
): Result<{ add?: Omit<LotteryRecord, "id">; withdraw?: LotteryRecord }, ConfigureRefusal> {
  const before = eventWindow(base);
  const after = eventWindow(next);
  const sameWindow = !!before && !!after && before.prequeueStart === after.prequeueStart && before.eventStart === after.eventStart;
  if (sameWindow) return ok({});
  if (before && now >= before.prequeueStart && now < before.eventStart) return refuse("prequeue_open");
  if (after && after.prequeueStart <= now) return refuse("prequeue_not_in_future");
  const previous = existing ? currentLottery(existing) : null;
  const withdraw = previous && now < previous.from && previous.revealedAt === null ? { withdraw: previous } : {};
  if (!after) return ok(withdraw);
  const seed = newSeed();
  return ok({
    ...withdraw,
    add: {
      from: after.prequeueStart,
      to: after.eventStart,
      seed,
      commitment: commitment(seed),
      committedAt: now,
      revealedAt: null,
      withdrawnAt: null,
      entrants: null,
    },
  });
}
