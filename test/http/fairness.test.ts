import { describe, expect, it } from "vitest";
import { joinMany, statuses } from "../helpers/queue";
import { env } from "cloudflare:workers";
import { coordinatorOf } from "../../src/edge/objects";
import { decodeJwt } from "jose";
import { adminGet, createRoom, join, poll, tick } from "../helpers/api";

describe("fairness and limits", () => {
  it("admits in arrival order across all shards", async () => {
    const room = await createRoom({ new_users_per_minute: 180, shards: 6 });
    const joined = await joinMany(room, 36, 40);
    const shardsUsed = new Set(joined.map((j) => String(decodeJwt(j.ticket).sub).split(".")[0]));
    expect(shardsUsed.size).toBeGreaterThan(3);

    const admittedAtTick: number[] = new Array(joined.length).fill(-1);
    for (let t = 0; t < 14 && admittedAtTick.includes(-1); t++) {
      await tick(room);
      for (let i = 0; i < joined.length; i++) {
        if (admittedAtTick[i] !== -1) continue;
        if ((await poll(room, joined[i]!.ticket)).body.status === "admitted") admittedAtTick[i] = t;
      }
    }
    expect(admittedAtTick).not.toContain(-1);
    // Everyone who joined earlier was admitted no later than anyone who joined after them.
    for (let i = 1; i < admittedAtTick.length; i++) expect(admittedAtTick[i]!).toBeGreaterThanOrEqual(admittedAtTick[i - 1]!);
    // 180/min is 3 a second: each tick admitted exactly three.
    const perTick = new Map<number, number>();
    for (const t of admittedAtTick) perTick.set(t, (perTick.get(t) ?? 0) + 1);
    expect([...perTick.values()]).toEqual(Array(12).fill(3));
  });

  it("never admits more than new_users_per_minute in any minute, spread over it", async () => {
    const room = await createRoom({ new_users_per_minute: 12, total_active_users: 1000 });
    const joined = await joinMany(room, 40, 5);
    const admittedBy: number[] = [];
    const coordinator = coordinatorOf(env, room);
    for (let s = 1; s <= 130; s++) {
      await tick(room);
      // Straight from the coordinator (RPC) rather than the admin API: 130 reads, and the HTTP layer
      // adds nothing this test is about.
      const stats = await coordinator.stats();
      if (!stats.ok) throw new Error(stats.reason);
      admittedBy.push(stats.value.admitted_total);
    }
    // Per tick: at most one second's worth (12/min → 0.2/s → never more than 1 at once).
    for (let s = 1; s < admittedBy.length; s++) expect(admittedBy[s]! - admittedBy[s - 1]!).toBeLessThanOrEqual(1);
    // Per sliding minute: at most 12.
    for (let s = 60; s < admittedBy.length; s++) expect(admittedBy[s]! - admittedBy[s - 60]!).toBeLessThanOrEqual(12);
    // And the rate is actually used: 130 s at 0.2/s.
    expect(admittedBy[admittedBy.length - 1]).toBeGreaterThanOrEqual(25);
    expect((await poll(room, joined[0]!.ticket)).body.status).toBe("admitted");
  });

  it("holds total_active_users and releases slots after admission_ttl_seconds", async () => {
    const room = await createRoom({ new_users_per_minute: 600, total_active_users: 3, admission_ttl_seconds: 30 });
    const joined = await joinMany(room, 8);
    for (let s = 0; s < 10; s++) await tick(room);
    expect(await statuses(room, joined)).toEqual([...Array(3).fill("admitted"), ...Array(5).fill("waiting")]);
    expect((await adminGet(room)).active).toBe(3);

    // Nobody started within the TTL: their slots go to the next in line; their tickets say expired.
    for (let s = 0; s < 21; s++) await tick(room);
    expect(await statuses(room, joined)).toEqual([...Array(3).fill("expired"), ...Array(3).fill("admitted"), "waiting", "waiting"]);
    expect((await poll(room, joined[6]!.ticket)).body.position).toBe(1);
    expect((await adminGet(room)).active).toBe(3);
  });

  it("gives a device whose admission expired a new place at the back when it re-joins", async () => {
    const room = await createRoom({ new_users_per_minute: 60, admission_ttl_seconds: 10, shards: 1 });
    const [a, b] = await joinMany(room, 2);
    await tick(room);
    for (let s = 0; s < 11; s++) await tick(room);
    expect((await poll(room, a!.ticket)).body.status).toBe("expired");
    const c = await join(room);
    const again = await join(room, { device: a!.device, personId: a!.personId });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ status: "waiting", position: 2 });
    expect(decodeJwt(again.ticket).sub).not.toBe(decodeJwt(a!.ticket).sub);
    expect((await poll(room, b!.ticket)).body.status).toBe("expired");
    expect((await poll(room, c.ticket)).body.position).toBe(1);
  });
});
