import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { coordinatorOf, replayGuardAt, sessionsAt } from "../../src/edge/objects";
import { adminGet, call, createRoom, testClock } from "../helpers/api";
import { restart } from "../helpers/faults";

/**
 * The Durable Objects as thin shells over their stores: storage written by older versions loads
 * unchanged through the versioned migrations, the coordinator knows its room from its own id, and only
 * the RPC surface is reachable through a stub.
 */
describe("Durable Objects over their stores", () => {
  it("a room stored before schemas were versioned (no jkt column, one-row lottery table) loads unchanged", async () => {
    const room = `old-${Date.now().toString(36)}`;
    const t0 = testClock.now();
    const second = Math.floor(t0 / 1000) - 30;
    // The tables exactly as the first versions created them, written by hand into a coordinator that
    // was never created (its constructor leaves no table behind for an unknown room).
    await runInDurableObject(coordinatorOf(env, room), (_instance, state) => {
      const sql = state.storage.sql;
      expect(sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray()).toEqual([]);
      sql.exec(`CREATE TABLE room (
        id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, config TEXT NOT NULL,
        frontier_a INTEGER NOT NULL, frontier_b INTEGER NOT NULL, baseline_a INTEGER NOT NULL, baseline_b INTEGER NOT NULL,
        tokens REAL NOT NULL, last_refill INTEGER, admitted_total INTEGER NOT NULL
      )`);
      sql.exec("CREATE TABLE waiting_seconds (second INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
      sql.exec(`CREATE TABLE ticks (
        at INTEGER PRIMARY KEY, span INTEGER NOT NULL, admitted INTEGER NOT NULL,
        frontier_a INTEGER NOT NULL, frontier_b INTEGER NOT NULL, saturated INTEGER NOT NULL
      )`);
      sql.exec(
        "CREATE TABLE shards (shard INTEGER PRIMARY KEY, cursor INTEGER NOT NULL, total INTEGER NOT NULL, admitted INTEGER NOT NULL)",
      );
      sql.exec(
        "CREATE TABLE sessions (ticket_id TEXT PRIMARY KEY, admitted_at INTEGER NOT NULL, started_at INTEGER NOT NULL, ends_at INTEGER NOT NULL, ended_at INTEGER)",
      );
      sql.exec(`CREATE TABLE lottery (
        id INTEGER PRIMARY KEY CHECK (id = 1), window_from INTEGER NOT NULL, window_to INTEGER NOT NULL, seed TEXT NOT NULL,
        commitment TEXT NOT NULL, committed_at INTEGER NOT NULL, revealed_at INTEGER, entrants TEXT
      )`);
      sql.exec(
        "INSERT INTO room VALUES (1, ?, ?, ?, ?, 0, 0, 0.5, ?, 7)",
        room,
        JSON.stringify({ new_users_per_minute: 60, total_active_users: 100, shards: 2 }),
        (second - 10) * 1000,
        2 ** 32 + 3,
        t0 - 5_000,
      );
      sql.exec("INSERT INTO waiting_seconds VALUES (?, 4)", second);
      sql.exec("INSERT INTO ticks VALUES (?, 1000, 2, ?, ?, 0)", t0 - 5_000, (second - 10) * 1000, 2 ** 32 + 3);
      sql.exec("INSERT INTO shards VALUES (0, 5, 5, 3), (1, 6, 6, 4)");
      sql.exec("INSERT INTO sessions VALUES ('1.3', ?, ?, ?, NULL)", t0 - 20_000, t0 - 10_000, t0 + 600_000);
      sql.exec(
        "INSERT INTO lottery VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        t0 - 120_000,
        t0 - 60_000,
        "cd".repeat(32),
        "ef".repeat(32),
        t0 - 180_000,
        t0 - 59_000,
        "[]",
      );
    });
    await restart();

    const stats = await adminGet(room);
    expect(stats.room).toBe(room);
    expect(stats.config.shards).toBe(2);
    expect(stats.config.new_users_per_minute).toBe(60);
    expect(stats.admitted_total).toBe(7);
    expect(stats.waiting).toBe(4);
    expect(stats.sessions_open).toBe(1);
    expect(stats.frontier).toEqual({ a: (second - 10) * 1000, b: 2 ** 32 + 3 });
    expect(stats.shards).toEqual([
      { shard: 0, tickets: 5, admitted: 3, waiting: 2 },
      { shard: 1, tickets: 6, admitted: 4, waiting: 2 },
    ]);
    const lottery = (await (await call(`/v1/rooms/${room}/lottery`)).json()) as Record<string, any>;
    expect(lottery.lotteries).toHaveLength(1);
    expect(lottery.lotteries[0].seed).toBe("cd".repeat(32));

    // The schema reached today's, once: a second restart finds nothing to do and changes nothing.
    const schema = () =>
      runInDurableObject(coordinatorOf(env, room), (_instance, state) => ({
        version: state.storage.sql.exec<{ version: number }>("SELECT version FROM schema_version").one().version,
        tables: state.storage.sql
          .exec<{ name: string }>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name <> 'sqlite_sequence' ORDER BY name",
          )
          .toArray()
          .map((r) => r.name),
        sessionColumns: state.storage.sql
          .exec<{ name: string }>("SELECT name FROM pragma_table_info('sessions') ORDER BY cid")
          .toArray()
          .map((r) => r.name),
      }));
    const migrated = await schema();
    expect(migrated).toEqual({
      version: 3,
      tables: ["lotteries", "outflow_state", "room", "schema_version", "sessions", "shards", "ticks", "waiting_seconds"],
      sessionColumns: ["ticket_id", "admitted_at", "started_at", "ends_at", "ended_at", "jkt"],
    });
    await restart();
    expect(await schema()).toEqual(migrated);
    expect((await adminGet(room)).admitted_total).toBe(7);
  });

  it("a replay guard stored before its schema was versioned keeps what it remembers and gains the newer tables", async () => {
    // A guard number no value hashes to (src/edge/replay.ts uses 0…REPLAY_SHARDS-1): this test's alone.
    const guard = () => replayGuardAt(env, 900);
    const stub = guard();
    const expiresAt = testClock.now() + 60_000;
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      // What the first version had: only `seen`, and no schema_version.
      for (const t of ["schema_version", "attempts", "handoff_pending", "handoff_approved"]) sql.exec(`DROP TABLE ${t}`);
      sql.exec("INSERT INTO seen (id, expires_at) VALUES ('dpop:old', ?)", expiresAt);
    });
    await restart();
    const again = guard();
    expect(await again.claim("dpop:old", expiresAt)).toEqual({ ok: false, reason: "used" });
    expect(await again.reserve("handoff:x", 2, expiresAt)).toEqual({ ok: true, value: 1 });
    expect(await again.reserve("handoff:x", 2, expiresAt)).toEqual({ ok: true, value: 2 });
    expect(await again.reserve("handoff:x", 2, expiresAt)).toEqual({ ok: false, reason: "exhausted" });
    expect(await again.handoffApprove("handoff:h", "ABCD", testClock.now(), expiresAt)).toEqual({ ok: false, reason: "no_match" });
  });

  it("the coordinator takes its room's name from its own id (ctx.id.name), before and after a restart", async () => {
    const room = await createRoom({ shards: 1 });
    expect(await runInDurableObject(coordinatorOf(env, room), (_instance, state) => state.id.name)).toBe(room);
    await restart();
    expect(await runInDurableObject(coordinatorOf(env, room), (_instance, state) => state.id.name)).toBe(room);
    const stats = await coordinatorOf(env, room).stats();
    expect(stats.ok && stats.value.room).toBe(room);
    // A name never created is no room, and asking leaves nothing behind.
    const nobody = `nobody-${Date.now().toString(36)}`;
    expect(await coordinatorOf(env, nobody).stats()).toEqual({ ok: false, reason: "no_room" });
    expect(await coordinatorOf(env, nobody).snapshot()).toEqual({ ok: false, reason: "no_room" });
  });

  it("refusals come back as one shape: { ok: false, reason }", async () => {
    const room = await createRoom({ shards: 1 });
    const coordinator = coordinatorOf(env, room);
    expect(await coordinator.configure({ outflow: { floor_per_minute: 100, ceiling_per_minute: 10 } })).toEqual({
      ok: false,
      reason: "outflow_floor_above_ceiling",
    });
    expect(await coordinator.revealLottery()).toEqual({ ok: false, reason: "no_event" });
    // Sessions left the coordinator (docs/scaling-past-one-coordinator.md): their objects refuse alike.
    const proof = { jkt: "k", proofId: "p", proofExpiresAt: testClock.now() + 60_000 };
    expect(await sessionsAt(env, 0).spend(`${room}/0.99`, { ...proof, configuration: "mdl", count: 1 })).toEqual({
      ok: false,
      reason: "unknown_session",
    });
    expect(
      await coordinatorOf(env, `nobody-${Date.now().toString(36)}`).configure({
        outflow: { floor_per_minute: 100, ceiling_per_minute: 10 },
      }),
    ).toEqual({
      ok: false,
      reason: "outflow_floor_above_ceiling",
    });
  });

  it("internals are #private: a stub cannot reach the tick, the store or the loader over RPC", async () => {
    const room = await createRoom({ shards: 1 });
    const stub = coordinatorOf(env, room) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const name of ["tick", "load", "migrate", "create", "ensure", "apply", "reveal", "store", "room"]) {
      await expect(Promise.resolve().then(() => stub[name]!())).rejects.toThrow();
    }
    // The admin view is unchanged by the attempts.
    expect((await adminGet(room)).admitted_total).toBe(0);
  });
});
