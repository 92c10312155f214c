import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { lotteryStamp } from "../../src/admission/lottery";
import { coordinatorOf } from "../../src/edge/objects";
import { MAX_TICKET_LENGTH } from "../../src/tickets/ticket-token";
import {
  ADMIN_TOKEN,
  adminGet,
  adminPut,
  call,
  createRoom,
  expectProblem,
  join,
  newDevice,
  poll,
  testClock,
  tick,
  type Joined,
} from "../helpers/api";
import { restart } from "../helpers/faults";
import { joinMany } from "../helpers/queue";

/**
 * A lottery nobody can get ahead of (docs/threats/lottery.md), tried as an attacker would: join before
 * the pre-queue opens from many keys, read one's own ticket for one's draw, and re-schedule events to
 * make a seed disappear.
 */
const iso = (ms: number) => new Date(ms).toISOString();
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));

function payloadOf(ticket: string): Record<string, unknown> {
  return JSON.parse(atob(ticket.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
}

const lotteryOf = async (room: string) => (await (await call(`/v1/rooms/${room}/lottery`)).json()) as Record<string, any>;
const reveal = (room: string) =>
  call(`/v1/admin/rooms/${room}/lottery/reveal`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

async function schedule(room: string, pre: number, start: number): Promise<void> {
  const res = await adminPut(room, { event: { prequeue_start: iso(pre), event_start: iso(start) } });
  expect(res.status).toBe(200);
}

describe("before the pre-queue opens, nobody takes a place ahead of the draw", () => {
  it("refuses joins from every fresh person and key with 409 prequeue-not-open, its opening time and a Retry-After", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 4 });
    // In line before anything was scheduled: that place stands (it was taken before the commitment).
    const earlier = await join(room);
    expect(earlier.status).toBe(201);
    const t0 = testClock.now();
    const PRE = t0 + 60_000;
    const START = t0 + 120_000;
    await schedule(room, PRE, START);

    // Many people, each with fresh keys, at various moments before the opening: all refused, and told when.
    const refusals: Joined[] = [];
    for (const at of [t0 + 1, t0 + 20_000, t0 + 45_500, PRE - 1]) {
      testClock.set(at);
      for (let i = 0; i < 3; i++) refusals.push(await join(room));
    }
    for (const [i, r] of refusals.entries()) {
      expect(r.status).toBe(409);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
      expect(r.body).toMatchObject({ type: "urn:antichambre:problem:prequeue-not-open", status: 409, prequeue_opens_at: iso(PRE) });
      expect(r.ticket).toBeUndefined();
      const at = [t0 + 1, t0 + 20_000, t0 + 45_500, PRE - 1][Math.floor(i / 3)]!;
      expect(Number(r.headers.get("retry-after"))).toBe(Math.max(1, Math.ceil((PRE - at) / 1000)));
    }
    // The same refused person again, from yet another key: still refused.
    expect((await join(room, { personId: refusals[0]!.personId, device: await newDevice() })).status).toBe(409);
    // The one who was already in line gets the same place back, even from a new key.
    const again = await join(room, { personId: earlier.personId, device: await newDevice() });
    expect(again.status).toBe(200);
    expect(payloadOf(again.ticket).sub).toBe(payloadOf(earlier.ticket).sub);

    // The ticks before the opening stored nobody new.
    await tick(room, 1);
    expect((await adminGet(room)).shards.reduce((n: number, s: { tickets: number }) => n + s.tickets, 0)).toBe(1);

    // Once it opens, the same people enter the draw, and only that.
    testClock.set(PRE + 1_000);
    const entrants: Joined[] = [];
    for (const r of refusals) {
      testClock.advance(10);
      const e = await join(room, { personId: r.personId });
      expect(e.status).toBe(201);
      expect((await poll(room, e.ticket)).body).toMatchObject({ status: "waiting", position: null, lottery_at: iso(START) });
      entrants.push(e);
    }
    testClock.set(START + 600);
    await tick(room, 0);
    // Every newcomer is an entrant of the draw; the only other place is the one taken before scheduling.
    expect((await lotteryOf(room)).entrants.total).toBe(refusals.length);
    expect((await adminGet(room)).shards.reduce((n: number, s: { tickets: number }) => n + s.tickets, 0)).toBe(refusals.length + 1);
    expect(entrants).toHaveLength(refusals.length);
  });

  it("does not renew, before the opening, a place that expired: a new one would be a FIFO place ahead of the draw", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, admission_ttl_seconds: 10 });
    const first = await join(room);
    await tick(room);
    expect((await poll(room, first.ticket)).body.status).toBe("admitted");
    testClock.advance(11_000);
    expect((await poll(room, first.ticket)).body.status).toBe("expired");
    const now = testClock.now();
    await schedule(room, now + 30_000, now + 60_000);
    const rejoin = await join(room, { personId: first.personId, device: first.device });
    expect(rejoin.status).toBe(409);
    expect(rejoin.body.prequeue_opens_at).toBe(iso(now + 30_000));
  });

  it("the waiting page says when the pre-queue opens instead of offering a place, in French and English", async () => {
    const room = await createRoom({ shards: 1 });
    const now = testClock.now();
    await schedule(room, now + 3_600_000, now + 7_200_000);
    for (const [lang, title, opens] of [
      [
        "en",
        "The pre-queue is not open yet",
        /^No place can be taken before .+\. From then on, everyone who arrives before the draw takes part in it equally/,
      ],
      [
        "fr",
        "La pré-file n'est pas encore ouverte",
        /^Aucune place ne peut être prise avant le .+\. À partir de là, toutes les personnes qui arrivent avant le tirage y participent à égalité/,
      ],
    ] as const) {
      const text = await (await call(`/rooms/${room}?lang=${lang}`)).text();
      expect(text).toContain(`id="status-heading" tabindex="-1">${title.replace("'", "&#39;")}</h2>`);
      const p = /id="prequeue-opens">([^<]*)</.exec(text)![1]!.replace(/&#39;/g, "'");
      expect(p).toMatch(opens);
      // No newcomer's wait: there is no place to wait in yet.
      expect(text).not.toContain('id="wait"');
    }
    // Once it opens, the page is the usual one again.
    testClock.advance(3_600_000);
    const open = await (await call(`/rooms/${room}?lang=en`)).text();
    expect(open).not.toContain("prequeue-opens");
    expect(open).toContain('id="wait"');
  });
});

describe("an entrant's ticket does not tell its draw", () => {
  it("seals the order key of every entrant (no readable stamp, before or after the reveal), and polls still place them as drawn", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 2 });
    const fifo = await join(room);
    const t0 = testClock.now();
    const PRE = t0 + 5_000;
    const START = t0 + 30_000;
    await schedule(room, PRE, START);
    testClock.set(PRE + 100);
    const entrants = await joinMany(room, 10, 40);

    // A FIFO ticket's key is readable as before (the hot path is unchanged for it).
    expect(payloadOf(fifo.ticket).ord).toEqual(expect.any(Array));
    for (const e of entrants) {
      const claims = payloadOf(e.ticket);
      expect(claims.ord).toBeUndefined();
      // A compact JWE (AES-GCM): five parts, the key inside unreadable.
      expect(String(claims.sord).split(".")).toHaveLength(5);
      expect(claims.ua).toBe(0);
      // Still well inside the ticket's limit (and a cookie's 4 KiB: the waiting page keeps it in one).
      expect(e.ticket.length).toBeLessThan(MAX_TICKET_LENGTH / 2);
      // Joining again (same person, another key) returns the same sealed kind of ticket.
      const again = await join(room, { personId: e.personId });
      expect(again.status).toBe(200);
      expect(payloadOf(again.ticket).ord).toBeUndefined();
      expect(payloadOf(again.ticket).sub).toBe(claims.sub);
    }

    testClock.set(START + 600);
    await tick(room, 0);
    const lottery = await lotteryOf(room);
    expect(lottery.seed).toMatch(/^[0-9a-f]{64}$/);
    // Every entrant's stamp, recomputed from the revealed seed: none appears anywhere in its ticket or in
    // its join answer, so nothing there could have told the draw before the seed was out.
    const stamps = new Map<string, number>();
    for (const e of entrants) {
      const [shard, seq] = String(payloadOf(e.ticket).sub).split(".").map(Number) as [number, number];
      const stamp = lotteryStamp(lottery.seed, shard, seq, PRE, START);
      stamps.set(String(payloadOf(e.ticket).sub), stamp);
      const decoded = JSON.stringify(payloadOf(e.ticket));
      expect(decoded).not.toContain(String(stamp));
      expect(JSON.stringify(e.body)).not.toContain(String(stamp));
    }
    // Polls read the sealed key: the entrants still waiting stand in the order of their drawn stamps, one
    // after another (the first tick may have admitted some from the front).
    const positions: [number, number][] = [];
    for (const e of entrants) {
      const s = (await poll(room, e.ticket)).body;
      if (s.status === "waiting") positions.push([stamps.get(String(payloadOf(e.ticket).sub))!, s.position]);
    }
    expect(positions.length).toBeGreaterThanOrEqual(5);
    positions.sort((a, b) => a[0] - b[0]);
    expect(positions.map(([, p]) => p)).toEqual(positions.map((_, i) => positions[0]![1] + i));
  });

  it("refuses a ticket whose sealed key was swapped for another entrant's (the signature covers it)", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const now = testClock.now();
    await schedule(room, now + 1_000, now + 20_000);
    testClock.advance(2_000);
    const [a, b] = await joinMany(room, 2);
    const [h, pa, s] = a!.ticket.split(".") as [string, string, string];
    const swapped = { ...payloadOf(a!.ticket), sord: payloadOf(b!.ticket).sord };
    const forged = `${h}.${btoa(JSON.stringify(swapped)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}.${s}`;
    expect(forged).not.toBe(`${h}.${pa}.${s}`);
    expect((await poll(room, forged)).status).toBe(401);
  });
});

describe("every lottery is kept for good", () => {
  it("re-scheduling right after event_start does not hide the seed: the tick reveals it, and the list keeps both", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 2 });
    const t0 = testClock.now();
    const PRE1 = t0 + 5_000;
    const START1 = t0 + 30_000;
    await schedule(room, PRE1, START1);
    const committed1 = (await lotteryOf(room)).commitment as string;
    testClock.set(PRE1 + 100);
    await joinMany(room, 6);
    // Just past event_start, before any tick revealed the draw: a new event replaces the configured one.
    testClock.set(START1 + 10);
    const PRE2 = START1 + 60_000;
    const START2 = START1 + 120_000;
    await schedule(room, PRE2, START2);
    const listed = await lotteryOf(room);
    expect(listed.lotteries).toHaveLength(2);
    expect(listed.lotteries[0]).toMatchObject({ commitment: committed1, seed: null, prequeue_start: iso(PRE1), event_start: iso(START1) });
    // The top level is the configured (new) event's record, as the endpoint answered before it listed them all.
    expect(listed).toMatchObject({ commitment: listed.lotteries[1].commitment, event_start: iso(START2), seed: null });

    await tick(room, 1_000);
    const after = await lotteryOf(room);
    const first = after.lotteries[0];
    expect(first.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", unhex(first.seed))))).toBe(committed1);
    expect(first.entrants.total).toBe(6);
    expect(first.withdrawn_at).toBeNull();
    expect(after.lotteries[1].seed).toBeNull();

    // Removing the event later, or scheduling more, never takes the revealed record away.
    testClock.advance(1_000);
    expect((await adminPut(room, { event: null })).status).toBe(200);
    const now = testClock.now();
    await schedule(room, now + 10_000, now + 20_000);
    const kept = await lotteryOf(room);
    expect(kept.lotteries).toHaveLength(3);
    expect(kept.lotteries[0]).toEqual(first);
  });

  it("removing an event after its start (before the tick's reveal) still gets its seed revealed", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    const t0 = testClock.now();
    await schedule(room, t0 + 2_000, t0 + 10_000);
    testClock.set(t0 + 3_000);
    await joinMany(room, 3);
    testClock.set(t0 + 10_001);
    expect((await adminPut(room, { event: null })).status).toBe(200);
    await tick(room, 1_000);
    const l = await lotteryOf(room);
    expect(l.lotteries).toHaveLength(1);
    expect(l.lotteries[0]).toMatchObject({ seed: expect.stringMatching(/^[0-9a-f]{64}$/), entrants: { total: 3 } });
    // With no event configured, the top level is the latest record, and the admin reveal answers it.
    expect(l.seed).toBe(l.lotteries[0].seed);
    expect(((await (await reveal(room)).json()) as Record<string, any>).lottery.seed).toBe(l.seed);
  });

  it("an event re-timed before its pre-queue opened is withdrawn: its seed published at once, with no entrants", async () => {
    const room = await createRoom({ shards: 2 });
    const t0 = testClock.now();
    await schedule(room, t0 + 60_000, t0 + 120_000);
    const committed = (await lotteryOf(room)).commitment as string;
    testClock.advance(5_000);
    // The attacker (an operator who dislikes the draw to come) re-times it: the old seed comes out now.
    await schedule(room, t0 + 90_000, t0 + 150_000);
    const l = await lotteryOf(room);
    expect(l.lotteries).toHaveLength(2);
    const withdrawn = l.lotteries[0];
    expect(withdrawn).toMatchObject({
      commitment: committed,
      withdrawn_at: iso(testClock.now()),
      revealed_at: iso(testClock.now()),
      entrants: { total: 0 },
    });
    expect(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", unhex(withdrawn.seed))))).toBe(committed);
    expect(l.lotteries[1]).toMatchObject({ seed: null, withdrawn_at: null, event_start: iso(t0 + 150_000) });
    expect(l.commitment).toBe(l.lotteries[1].commitment);
    expect(l.commitment).not.toBe(committed);
    // The new event draws with its own seed: entrants of its pre-queue, revealed after its start.
    testClock.set(t0 + 91_000);
    await joinMany(room, 2);
    testClock.set(t0 + 150_600);
    await tick(room, 0);
    const drawn = await lotteryOf(room);
    expect(drawn.lotteries[1].entrants.total).toBe(2);
    expect(drawn.lotteries[0]).toEqual(withdrawn);
  });

  it("a room stored with the one-row `lottery` table keeps its record after the upgrade", async () => {
    const room = await createRoom({ shards: 1 });
    const t0 = testClock.now();
    const seed = "ab".repeat(32);
    const commitment = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", unhex(seed))));
    const stub = coordinatorOf(env, room);
    // The storage an older version left: its table, one revealed row, and no `lotteries`.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("DROP TABLE lotteries");
      // Rooms of that age predate the versioned schema too (src/admission/coordinator-store.ts).
      state.storage.sql.exec("DROP TABLE schema_version");
      state.storage.sql.exec(`CREATE TABLE lottery (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        window_from INTEGER NOT NULL, window_to INTEGER NOT NULL, seed TEXT NOT NULL, commitment TEXT NOT NULL,
        committed_at INTEGER NOT NULL, revealed_at INTEGER, entrants TEXT
      )`);
      state.storage.sql.exec(
        "INSERT INTO lottery VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        t0 - 120_000,
        t0 - 60_000,
        seed,
        commitment,
        t0 - 180_000,
        t0 - 59_000,
        JSON.stringify([{ shard: 0, first: 1, last: 4, excluded: [], count: 4 }]),
      );
    });
    await restart();
    const migrated = await lotteryOf(room);
    expect(migrated.lotteries).toEqual([
      {
        prequeue_start: iso(t0 - 120_000),
        event_start: iso(t0 - 60_000),
        commitment,
        committed_at: iso(t0 - 180_000),
        seed,
        revealed_at: iso(t0 - 59_000),
        entrants: { total: 4, ranges: [{ shard: 0, first: 1, last: 4, excluded: [] }] },
        withdrawn_at: null,
      },
    ]);
    const restarted = coordinatorOf(env, room);
    const tables = await runInDurableObject(restarted, (_instance, state) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'lotter%'")
        .toArray()
        .map((r) => r.name),
    );
    expect(tables).toEqual(["lotteries"]);
    // A later event adds its record next to it.
    await schedule(room, testClock.now() + 10_000, testClock.now() + 20_000);
    expect((await lotteryOf(room)).lotteries).toHaveLength(2);
  });

  it("a room that never scheduled an event has no lottery (404)", async () => {
    const room = await createRoom();
    await expectProblem(await call(`/v1/rooms/${room}/lottery`), 404, "not-found");
  });
});
