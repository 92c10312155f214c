import { describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  adminGet,
  adminPut,
  call,
  createRoom,
  expectProblem,
  join,
  poll,
  testClock,
  tick,
  checkAnswersAgainstOpenApiInThisFile,
} from "../helpers/api";
import { joinMany } from "../helpers/queue";

/**
 * An event end to end over HTTP: commitment published when scheduled → pre-queue entrants wait with no
 * place → the draw at event_start → the seed revealed → the order anyone can recompute from it (done
 * here independently, with WebCrypto) is exactly the admission order, with earlier arrivals ahead of
 * the entrants and later arrivals FIFO behind them.
 */
const iso = (ms: number) => new Date(ms).toISOString();
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));

function ticketId(ticket: string): string {
  const payload = JSON.parse(atob(ticket.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { sub: string };
  return payload.sub;
}

/** The published algorithm, written again from its description (README "Verifying a lottery"). */
async function recompute(lottery: Record<string, any>): Promise<string[]> {
  const key = await crypto.subtle.importKey("raw", unhex(lottery.seed), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const from = Date.parse(lottery.prequeue_start);
  const to = Date.parse(lottery.event_start);
  const rows: { id: string; stamp: number; tie: number }[] = [];
  for (const r of lottery.entrants.ranges as { shard: number; first: number; last: number; excluded: number[] }[]) {
    for (let seq = r.first; seq <= r.last; seq++) {
      if (r.excluded.includes(seq)) continue;
      const id = `${r.shard}.${seq}`;
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(id)));
      let x = 0;
      for (let i = 0; i < 6; i++) x = x * 256 + mac[i]!;
      rows.push({ id, stamp: from + Math.floor((x / 2 ** 48) * (to - from)), tie: r.shard * 2 ** 32 + seq });
    }
  }
  rows.sort((p, q) => p.stamp - q.stamp || p.tie - q.tie);
  return rows.map((r) => r.id);
}

const reveal = (room: string) =>
  call(`/v1/admin/rooms/${room}/lottery/reveal`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

describe("events with a provable pre-queue lottery", () => {
  it("pre-queue → draw at event_start → FIFO behind, with the draw recomputable from the revealed seed", async () => {
    const room = await createRoom({ new_users_per_minute: 60 });
    const t0 = testClock.now();
    const PRE = t0 + 10_000;
    const START = t0 + 70_000;
    // Three people in line before the event is scheduled: FIFO, ahead of every entrant. Not admitted
    // yet (no tick). (Once it is scheduled, joins before the pre-queue are refused: lottery-fairness.test.ts.)
    const early = await joinMany(room, 3);
    const scheduled = await adminPut(room, { event: { prequeue_start: iso(PRE), event_start: iso(START) } });
    expect(scheduled.status).toBe(200);

    // The commitment is public before the pre-queue opens; the seed is not.
    const committed = (await (await call(`/v1/rooms/${room}/lottery`)).json()) as Record<string, any>;
    expect(committed.commitment).toMatch(/^[0-9a-f]{64}$/);
    expect(committed.seed).toBeNull();
    expect(((await (await call(`/v1/rooms/${room}`)).json()) as Record<string, any>).event).toMatchObject({
      phase: "before",
      lottery_commitment: committed.commitment,
    });

    testClock.set(PRE + 1_000);
    const entrants = await joinMany(room, 12, 50);
    const waitingEntrant = await poll(room, entrants[0]!.ticket);
    expect(waitingEntrant.body).toMatchObject({ status: "waiting", position: null, estimated_wait_seconds: null, lottery_at: iso(START) });

    // While the pre-queue is open the lottery cannot move, and the seed stays secret.
    await expectProblem(await adminPut(room, { event: { prequeue_start: iso(PRE + 5_000), event_start: iso(START) } }), 409, "conflict");
    await expectProblem(await adminPut(room, { event: null }), 409, "conflict");
    await expectProblem(await reveal(room), 409, "conflict");
    // Limits may still change (same window, same lottery).
    expect((await adminPut(room, { event: { prequeue_start: iso(PRE), event_start: iso(START), new_users_per_minute: 60 } })).status).toBe(
      200,
    );

    // Ticks up to event_start admit the early three and no entrant.
    const admittedAtTick = new Map<string, number>();
    let tickNo = 0;
    const record = async (people: { ticket: string }[]) => {
      for (const p of people) {
        const id = ticketId(p.ticket);
        if (!admittedAtTick.has(id) && (await poll(room, p.ticket)).body.status === "admitted") admittedAtTick.set(id, tickNo);
      }
    };
    testClock.set(START - 6_000);
    for (let i = 0; i < 5; i++) {
      await tick(room, 1_000);
      tickNo++;
      await record([...early, ...entrants]);
    }
    expect(early.every((p) => admittedAtTick.has(ticketId(p.ticket)))).toBe(true);
    expect(entrants.some((p) => admittedAtTick.has(ticketId(p.ticket)))).toBe(false);

    // The draw: the first tick after event_start (plus the shards' settle margin) reveals the seed.
    testClock.set(START + 600);
    await tick(room, 0);
    tickNo++;
    await record(entrants);
    const late = await joinMany(room, 3);
    const lottery = (await (await call(`/v1/rooms/${room}/lottery`)).json()) as Record<string, any>;
    expect(lottery.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", unhex(lottery.seed))))).toBe(committed.commitment);
    expect(lottery.entrants.total).toBe(12);
    expect(((await (await reveal(room)).json()) as Record<string, any>).lottery.seed).toBe(lottery.seed);

    const expected = await recompute(lottery);
    expect([...expected].sort()).toEqual(entrants.map((p) => ticketId(p.ticket)).sort());
    // The drawn order is not simply the join order (12! orders; this one is fixed by a random seed).
    expect(expected).not.toEqual(entrants.map((p) => ticketId(p.ticket)));

    // Entrants now have positions, in drawn order.
    const positions = new Map<string, number>();
    for (const p of entrants) {
      const s = await poll(room, p.ticket);
      if (s.body.status === "waiting") positions.set(ticketId(p.ticket), s.body.position);
    }
    const byPosition = [...positions.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
    expect(byPosition).toEqual(expected.filter((id) => positions.has(id)));

    // 60/min: one per tick, entrants in drawn order, then the late arrivals FIFO.
    for (let i = 0; i < 16; i++) {
      await tick(room, 1_000);
      tickNo++;
      await record([...entrants, ...late]);
    }
    // Admission ticks never go backwards along the published order: entrants as drawn, then the late
    // arrivals FIFO (a tick that followed a longer gap may admit two, hence ≤ rather than <).
    const published = [...expected, ...late.map((p) => ticketId(p.ticket))];
    expect(admittedAtTick.size).toBe(3 + 12 + 3);
    for (let i = 1; i < published.length; i++)
      expect(admittedAtTick.get(published[i - 1]!)!).toBeLessThanOrEqual(admittedAtTick.get(published[i]!)!);
    // …and the ticks are spread out, so this order says something.
    expect(new Set(published.map((id) => admittedAtTick.get(id))).size).toBeGreaterThanOrEqual(13);

    const stats = await adminGet(room);
    expect(stats.event).toMatchObject({ phase: "live", lottery: { seed: lottery.seed, entrants: { total: 12 } } });
  });

  it("needs the commitment out before the pre-queue opens, and validates the schedule", async () => {
    const room = await createRoom();
    const now = testClock.now();
    await expectProblem(
      await adminPut(room, { event: { prequeue_start: iso(now - 1_000), event_start: iso(now + 60_000) } }),
      409,
      "conflict",
    );
    await expectProblem(await adminPut(room, { event: { prequeue_start: iso(now + 60_000), event_start: iso(now + 1_000) } }), 422);
    await expectProblem(await adminPut(room, { event: { prequeue_start: "tomorrow", event_start: iso(now + 1_000) } }), 422);
    await expectProblem(await call(`/v1/rooms/${room}/lottery`), 404, "not-found");
    await expectProblem(await reveal(room), 409, "conflict");
    // Nothing changed.
    expect((await adminGet(room)).config.event).toBeNull();
  });

  it("applies the event's method and limits while it is live, then the room's own again", async () => {
    const room = await createRoom({ new_users_per_minute: 60 });
    const now = testClock.now();
    const e = {
      prequeue_start: iso(now + 1_000),
      event_start: iso(now + 2_000),
      event_end: iso(now + 60_000),
      queueing_method: "reject",
      new_users_per_minute: 300,
    };
    expect((await adminPut(room, { event: e })).status).toBe(200);
    expect((await adminGet(room)).effective).toEqual({ queueing_method: "fifo", new_users_per_minute: 60, total_active_users: 2_000 });
    testClock.set(now + 1_500);
    // Pre-queue joins are always taken, whatever the event's method.
    expect((await join(room)).status).toBe(201);
    testClock.set(now + 3_000);
    await tick(room, 0);
    expect((await adminGet(room)).effective).toEqual({ queueing_method: "reject", new_users_per_minute: 300, total_active_users: 2_000 });
    // Live and someone waiting (the entrant, admitted only from the next tick): reject turns newcomers away.
    const refused = await join(room);
    if (refused.status !== 201) expect(refused.status).toBe(503);
    testClock.set(now + 61_000);
    expect((await adminGet(room)).effective.queueing_method).toBe("fifo");
    expect(((await (await call(`/v1/rooms/${room}`)).json()) as Record<string, any>).event.phase).toBe("ended");
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
