import { describe, expect, it } from "vitest";
import { adminPutOk, joinMany, statuses } from "../helpers/queue";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { snapshotFetchCount } from "../../src/edge/snapshot-cache";
import { adminGet, call, createRoom, join, poll, testClock, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";

describe("join → wait → admitted", () => {
  it("gives a signed ticket, an honest position, then admits with a verifiable admission token", async () => {
    // One shard: a newcomer's position is then exact even before the coordinator's next sync.
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const [first, second, third] = await joinMany(room, 3);

    expect(first!.body).toMatchObject({ status: "waiting", position: 1 });
    expect(second!.body.position).toBe(2);
    expect(third!.body.position).toBe(3);
    for (const j of [first!, second!, third!]) {
      expect(j.body.estimated_wait_seconds).toBeGreaterThan(0);
      expect(j.body.poll_after_seconds).toBeGreaterThanOrEqual(2);
    }

    // One tick at 60/min admits one person: the first to arrive.
    await tick(room);
    const p1 = await poll(room, first!.ticket);
    expect(p1.status).toBe(200);
    expect(p1.body.status).toBe("admitted");
    expect(Date.parse(p1.body.admission_expires_at)).toBe(Date.parse(p1.body.admission.admitted_at) + 300_000);
    const p2 = await poll(room, second!.ticket);
    expect(p2.body).toMatchObject({ status: "waiting", position: 1 });
    expect(p2.res.headers.get("retry-after")).toBe(String(p2.body.poll_after_seconds));
    expect((await poll(room, third!.ticket)).body.position).toBe(2);

    // The admission token is an ES256 JWT the protected service verifies against the published JWKS.
    const jwks = (await (await call("/.well-known/jwks.json")).json()) as { keys: Record<string, string>[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys) {
      expect(k.kid).toBeTruthy();
      expect(k.d).toBeUndefined();
    }
    const { payload, protectedHeader } = await jwtVerify(p1.body.admission.admission_token, createLocalJWKSet(jwks as any), {
      algorithms: ["ES256"],
      audience: "antichambre:protected-service",
      issuer: "http://antichambre.test",
      currentDate: new Date(testClock.now()),
    });
    expect(protectedHeader.kid).toBe(jwks.keys[0]!.kid);
    expect((payload.cnf as { jkt: string }).jkt).toBe((decodeJwt(first!.ticket).cnf as { jkt: string }).jkt);

    await tick(room);
    await tick(room);
    expect(await statuses(room, [first!, second!, third!])).toEqual(["admitted", "admitted", "admitted"]);
    const stats = await adminGet(room);
    expect(stats).toMatchObject({ waiting: 0, admitted_total: 3, active: 3 });
  });

  it("re-joining from the same device returns the same place (200), never a better or worse one", async () => {
    const room = await createRoom({ shards: 1 });
    const [a, b] = await joinMany(room, 2);
    testClock.advance(5_000);
    const again = await join(room, { device: b!.device, personId: b!.personId });
    expect(again.status).toBe(200);
    expect(again.body.position).toBe(2);
    expect(decodeJwt(again.ticket).ord).toEqual(decodeJwt(b!.ticket).ord);
    expect(decodeJwt(again.ticket).sub).toBe(decodeJwt(b!.ticket).sub);
    // And nobody new was added to the line.
    await tick(room);
    expect((await adminGet(room)).shards.reduce((n: number, s: { tickets: number }) => n + s.tickets, 0)).toBe(2);
    expect((await poll(room, a!.ticket)).body.status).toBe("admitted");
  });

  it("keeps one place per person: the same person on a second device gets the same place, bound to that device", async () => {
    const room = await createRoom({ shards: 3 });
    const [a, b] = await joinMany(room, 2);
    const phone2 = await join(room, { personId: b!.personId });
    expect(phone2.status).toBe(200);
    expect(decodeJwt(phone2.ticket).ord).toEqual(decodeJwt(b!.ticket).ord);
    // Each device's ticket is bound to that device's own key.
    expect((decodeJwt(phone2.ticket).cnf as { jkt: string }).jkt).not.toBe((decodeJwt(b!.ticket).cnf as { jkt: string }).jkt);
    await tick(room);
    expect((await adminGet(room)).shards.reduce((n: number, s: { tickets: number }) => n + s.tickets, 0)).toBe(2);
    expect((await poll(room, phone2.ticket)).body.position).toBe(1);
    expect((await poll(room, a!.ticket)).body.status).toBe("admitted");
    // The ticket does not reveal the person identifier.
    expect(phone2.ticket).not.toContain(b!.personId);
    expect(JSON.stringify(decodeJwt(phone2.ticket))).not.toContain(b!.personId);
  });

  it("counts only the people still ahead: positions fall as the line moves", async () => {
    const room = await createRoom({ new_users_per_minute: 120, shards: 1 });
    const joined = await joinMany(room, 8, 150);
    expect(joined.map((j) => j.body.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    await tick(room); // 2 per second
    const after = [];
    for (const j of joined) after.push((await poll(room, j.ticket)).body);
    expect(after.map((b) => b.status)).toEqual(["admitted", "admitted", ...Array(6).fill("waiting")]);
    expect(after.slice(2).map((b) => b.position)).toEqual([1, 2, 3, 4, 5, 6]);
    const room_ = (await (await call(`/v1/rooms/${room}`)).json()) as Record<string, unknown>;
    expect(room_).toMatchObject({ room, state: "queueing", waiting: 6 });
  });
});

describe("the poll path", () => {
  it("answers polls from the cached snapshot: no Durable Object call per poll", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 2 });
    const joined = await joinMany(room, 5);
    await tick(room);
    await poll(room, joined[0]!.ticket); // warms this isolate's snapshot
    const before = snapshotFetchCount();
    for (let round = 0; round < 20; round++) for (const j of joined) expect((await poll(room, j.ticket)).status).toBe(200);
    expect(snapshotFetchCount()).toBe(before);
    // Once the snapshot is older than SNAPSHOT_TTL_MS, the next poll refreshes it: one call, not one per poll.
    testClock.advance(1_001);
    for (const j of joined) await poll(room, j.ticket);
    expect(snapshotFetchCount()).toBe(before + 1);
  });

  it("tells people far back in line to poll less often than those near the front", async () => {
    const room = await createRoom({ new_users_per_minute: 6, shards: 1, paused: true });
    const joined = await joinMany(room, 60, 1_000);
    await adminPutOk(room, { paused: false });
    await tick(room);
    const front = await poll(room, joined[1]!.ticket);
    const back = await poll(room, joined[59]!.ticket);
    // Second in line at 6/min: about 20-24 s away (the first tick's zero admissions count in the
    // achieved rate), so poll after wait/8 ≈ 3 s, jittered ±20 %: at most 4.
    expect(front.body.poll_after_seconds).toBeLessThanOrEqual(4);
    // 59 ahead at 6/min: about 10 minutes away, so polling about once a minute (jittered) is plenty.
    expect(back.body.estimated_wait_seconds).toBeGreaterThan(480);
    expect(back.body.poll_after_seconds).toBeGreaterThanOrEqual(48);
    expect(back.res.headers.get("retry-after")).toBe(String(back.body.poll_after_seconds));
  });
});

describe("positions with several shards", () => {
  it("counts a newcomer's place exactly in a quiet room, asking every shard for arrivals not yet synced", async () => {
    const room = await createRoom({ shards: 4, paused: true });
    const joined = await joinMany(room, 12, 20);
    // No tick has run: the snapshot knows nobody, yet each newcomer is told its true place.
    expect(joined.map((j) => j.body.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await tick(room); // paused: a sync, nobody admitted
    const polled = [];
    for (const j of joined) polled.push((await poll(room, j.ticket)).body.position);
    expect(polled).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const late = await join(room);
    expect(late.body.position).toBe(13);
  });

  it("counts people who joined in the same millisecond on other shards by their order key", async () => {
    const room = await createRoom({ shards: 4, paused: true });
    // A frozen clock: every stamp is equal, so only the tie-breaker (shard, seq) orders them.
    const joined = [];
    for (let i = 0; i < 12; i++) joined.push(await join(room));
    await tick(room);
    const polled = [];
    for (const j of joined) polled.push((await poll(room, j.ticket)).body.position as number);
    // At join each was told exactly what the synced snapshot later says.
    const late = await join(room);
    await tick(room);
    expect((await poll(room, late.ticket)).body.position).toBe(late.body.position);
    expect(new Set(polled).size).toBe(12);
    expect(late.body.position).toBe(13);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
