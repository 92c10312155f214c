import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { sessionsAt } from "../../src/edge/objects";
import { snapshotFetchCount } from "../../src/edge/snapshot-cache";
import { ISSUANCE_SESSION_SHARDS } from "../../src/issuance/sessions";
import { adminGet, createRoom, join, testClock, tick, type Joined } from "../helpers/api";
import { alarm, arm, books, disarmFaults, restart, statusLine } from "../helpers/faults";
import { seedValidHolders } from "../helpers/register";
import { MDOC, admittedOffer, credential, token, walletKeys, withAccess } from "../helpers/wallet";

/**
 * Issuance sessions live in the IssuanceSessions objects, not in the room's coordinator
 * (docs/scaling-past-one-coordinator.md): the token, credential and notification endpoints make no
 * coordinator call, and the coordinator's tick pulls each object's counts for the room. The active cap
 * must hold exactly as when the coordinator recorded every session itself, across faults and restarts.
 */
let holders: string[] = [];
beforeAll(async () => {
  holders = await seedValidHolders(40);
});
let next = 0;

async function joinMany(room: string, n: number): Promise<Joined[]> {
  const all: Joined[] = [];
  for (let i = 0; i < n; i++) {
    testClock.advance(10);
    const joined = await join(room, { personId: holders[next++]! });
    expect(joined.status).toBe(201);
    all.push(joined);
  }
  return all;
}

async function redeem(room: string, j: Joined): Promise<string> {
  const granted = await token(j.device, (await admittedOffer(room, j.ticket)).code);
  expect(granted.status).toBe(200);
  return granted.body.access_token as string;
}

async function accept(j: Joined, accessToken: string): Promise<void> {
  const issued = await credential(j.device, accessToken, MDOC, await walletKeys(1));
  expect(issued.status).toBe(200);
  const done = await withAccess("/notification", j.device, accessToken, {
    notification_id: issued.body.notification_id,
    event: "credential_accepted",
  });
  expect(done.status).toBe(204);
}

describe("issuance sessions off the coordinator", () => {
  it("token, credential and notification need no coordinator: with its snapshot reads failing, a device with a fresh edge snapshot goes through", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const [j] = (await joinMany(room, 1)) as [Joined];
    await tick(room);
    const { code } = await admittedOffer(room, j.ticket); // the edge now holds a fresh snapshot
    const calls = snapshotFetchCount();
    arm({ "coordinator.snapshot": { mode: "throw" } });
    const granted = await token(j.device, code);
    expect(granted.status).toBe(200);
    await accept(j, granted.body.access_token as string);
    disarmFaults();
    expect(snapshotFetchCount()).toBe(calls);
    expect((await adminGet(room)).sessions_open).toBe(0);
  });

  it("the active cap holds: sessions count until they end, an end frees exactly one slot at the next tick", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 2, total_active_users: 3 });
    const joined = await joinMany(room, 6);
    await tick(room);
    expect(await statusLine(room, joined)).toBe("AAA...");
    const tokens = [];
    for (const j of joined.slice(0, 3)) tokens.push(await redeem(room, j));
    // Three sessions, most likely in three different objects: all counted, a start frees nothing.
    expect(await adminGet(room)).toMatchObject({ active: 3, sessions_open: 3 });
    await tick(room);
    expect(await statusLine(room, joined)).toBe("AAA...");

    await accept(joined[0]!, tokens[0]!);
    expect(await adminGet(room)).toMatchObject({ active: 2, sessions_open: 2 });
    await tick(room);
    expect(await statusLine(room, joined)).toBe("AAAA..");
    await tick(room);
    expect(await statusLine(room, joined)).toBe("AAAA..");
    expect((await adminGet(room)).active).toBe(3);
  });

  it("a session object that fails to answer the tick: nobody is admitted and nothing is written; the next tick admits within the cap", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, total_active_users: 2 });
    const joined = await joinMany(room, 4);
    await tick(room);
    await redeem(room, joined[0]!);
    const before = await books(room);
    arm({ "sessions.count": { mode: "throw", times: 1 } });
    await alarm(room);
    expect(await books(room)).toEqual(before);
    expect((await adminGet(room)).last_tick_error).toMatch(/^session count failed: injected fault at sessions.count/);
    disarmFaults();
    await tick(room);
    expect(await statusLine(room, joined)).toBe("AA..");
    expect((await adminGet(room)).last_tick_error).toBeNull();
  });

  it("an idle room's tick asks no session object; once an admission is live, every tick asks them all", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, admission_ttl_seconds: 10 });
    await tick(room); // counts taken once: nobody admitted, no session
    arm({ "sessions.count": { mode: "throw" } });
    await alarm(room);
    expect((await adminGet(room)).last_tick_error).toBeNull(); // not asked
    const [j] = (await joinMany(room, 1)) as [Joined];
    await alarm(room); // admits: the room is no longer idle, but this tick counted before admitting it
    expect(await statusLine(room, [j])).toBe("A");
    await alarm(room);
    expect((await adminGet(room)).last_tick_error).toMatch(/^session count failed/);
    disarmFaults();
    await tick(room);
    // Once its TTL is over, with no session started, the room is idle again.
    testClock.advance(10_000);
    await tick(room);
    arm({ "sessions.count": { mode: "throw" } });
    await alarm(room);
    expect((await adminGet(room)).last_tick_error).toBeNull();
    disarmFaults();
  });

  it("after a restart the counts come back from the session objects' storage, and the cap still holds", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 3, total_active_users: 2 });
    const joined = await joinMany(room, 4);
    await tick(room);
    const tokens = [await redeem(room, joined[0]!), await redeem(room, joined[1]!)];
    await restart();
    expect(await adminGet(room)).toMatchObject({ active: 2, sessions_open: 2 });
    await tick(room);
    expect(await statusLine(room, joined)).toBe("AA..");
    await accept(joined[1]!, tokens[1]!);
    await restart();
    await tick(room);
    expect(await statusLine(room, joined)).toBe("AAA.");
  });

  it("one session per admission, even once its session is over and forgotten: a fresh code for it opens nothing", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, admission_ttl_seconds: 600, session_duration_seconds: 60 });
    const [j] = (await joinMany(room, 1)) as [Joined];
    await tick(room);
    await accept(j, await redeem(room, j));
    // Past the session's end and the minute its row is kept, the admission still inside its TTL.
    testClock.advance(121_000);
    for (let i = 0; i < ISSUANCE_SESSION_SHARDS; i++) await runDurableObjectAlarm(sessionsAt(env, i));
    const fresh = await token(j.device, (await admittedOffer(room, j.ticket)).code);
    expect(fresh.status).toBe(400);
    expect(fresh.body).toMatchObject({ error: "invalid_grant", reason: "admission_used" });
    expect((await adminGet(room)).active).toBe(0);
  });
});
