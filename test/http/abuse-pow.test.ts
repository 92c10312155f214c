import { calculateJwkThumbprint } from "jose";
import { describe, expect, it } from "vitest";
import { AntichambreClient, DeviceKey, solveProofOfWork } from "../../client";
import {
  withEnv,
  type Send,
  checkAnswersAgainstOpenApiInThisFile,
  ORIGIN,
  adminGet,
  call,
  createRoom,
  expectProblem,
  identityAssertion,
  newDevice,
  newPersonId,
  testClock,
  tick,
} from "../helpers/api";
import type { Device } from "../helpers/device";

/**
 * The join's proof of work (src/edge/proof-of-work.ts): challenges bound to a room and a device key,
 * verified without state, spent once through the ReplayGuard; difficulty from the room's arrivals.
 */
const send: Send = (path, init) => call(path, init);

const jktOf = (d: Device) => calculateJwkThumbprint(d.publicJwk, "sha256");

async function getChallenge(s: Send, room: string, jkt: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await s(`/v1/rooms/${room}/challenge`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jkt }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** A join; the response is left unread (expectProblem reads it), `body` reads it once. */
async function joinWith(
  s: Send,
  room: string,
  device: Device,
  pow?: { challenge: string; solution: string },
  personId = newPersonId(),
): Promise<{ res: Response; body: () => Promise<Record<string, any>> }> {
  const path = `/v1/rooms/${room}/tickets`;
  const res = await s(path, {
    method: "POST",
    headers: { "content-type": "application/json", dpop: await device.proof("POST", `${ORIGIN}${path}`) },
    body: JSON.stringify({ identity_assertion: await identityAssertion(personId), ...(pow ? { pow } : {}) }),
  });
  return { res, body: async () => (await res.json()) as Record<string, any> };
}

async function solve(challenge: { challenge: string; difficulty: number }) {
  return { challenge: challenge.challenge, solution: (await solveProofOfWork(challenge.challenge, challenge.difficulty)).solution };
}

describe("a room that asks for proof of work", () => {
  it("refuses a join without one (428, with a challenge), takes one solved, and never the same twice", async () => {
    const room = await createRoom({ shards: 2, pow_min_bits: 8 });
    const phone = await newDevice();
    const missing = await joinWith(send, room, phone);
    const refusal = await expectProblem(missing.res, 428, "pow-required");
    expect(refusal).toMatchObject({ reason: "missing", difficulty: 8, algorithm: "sha256-leading-zero-bits" });
    expect(typeof refusal.challenge).toBe("string");

    const pow = await solve(refusal as { challenge: string; difficulty: number });
    const joined = await joinWith(send, room, phone, pow);
    expect(joined.res.status).toBe(201);
    // The same solution again, even for another person on the same device: spent.
    const again = await joinWith(send, room, phone, pow);
    expect((await expectProblem(again.res, 428, "pow-required")).reason).toBe("replayed");
    await tick(room);
    const stats = await adminGet(room);
    expect(stats.waiting + stats.admitted_total).toBe(1);
  });

  it("hands out challenges ahead of time, bound to the key and the room, for two minutes", async () => {
    const room = await createRoom({ shards: 1, pow_min_bits: 6 });
    const other = await createRoom({ shards: 1, pow_min_bits: 6 });
    const phone = await newDevice();
    const thief = await newDevice();
    const c = await getChallenge(send, room, await jktOf(phone));
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ difficulty: 6, algorithm: "sha256-leading-zero-bits" });
    expect(Date.parse(c.body.expires_at) - testClock.now()).toBe(120_000);
    const pow = await solve(c.body as { challenge: string; difficulty: number });

    const reasons: string[] = [];
    for (const [s, r, d] of [
      [send, room, thief],
      [send, other, phone],
    ] as const) {
      reasons.push((await expectProblem((await joinWith(s, r, d, pow)).res, 428, "pow-required")).reason);
    }
    expect(reasons).toEqual(["wrong_device_key", "wrong_room"]);
    testClock.advance(120_001);
    expect((await expectProblem((await joinWith(send, room, phone, pow)).res, 428, "pow-required")).reason).toBe("expired");
    const fresh = await getChallenge(send, room, await jktOf(phone));
    expect((await joinWith(send, room, phone, await solve(fresh.body as { challenge: string; difficulty: number }))).res.status).toBe(201);
  });

  it("checks the challenge request, and says 404 for unknown rooms", async () => {
    const room = await createRoom({ shards: 1 });
    const bad = await send(`/v1/rooms/${room}/challenge`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jkt: "short" }),
    });
    await expectProblem(bad, 422, "validation-failed");
    const extra = await send(`/v1/rooms/${room}/challenge`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jkt: "A".repeat(43), difficulty: 0 }),
    });
    await expectProblem(extra, 422, "validation-failed");
    await expectProblem(
      await send(`/v1/rooms/nowhere-${Date.now()}/challenge`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jkt: "A".repeat(43) }),
      }),
      404,
      "not-found",
    );
    const wrongShape = await joinWith(send, room, await newDevice(), { challenge: "x", solution: "not allowed!" });
    await expectProblem(wrongShape.res, 422, "validation-failed");
  });
});

describe("difficulty follows load", () => {
  it("is 0 in a quiet room, rises once arrivals pass the threshold, one bit per doubling, capped by the ceiling", async () => {
    // Threshold lowered so a handful of joins is "busy": 0.05 arrivals/s (3 a minute) → 10 bits.
    const busy = withEnv({ POW_BUSY_ARRIVALS_PER_SECOND: "0.05", POW_CEILING_BITS: "12" });
    const room = await createRoom({ shards: 1 });
    const phone = await newDevice();
    const jkt = await jktOf(phone);
    const difficulty = async () => (await getChallenge(busy, room, jkt)).body.difficulty as number;
    expect(await difficulty()).toBe(0);
    // Nothing asked: a join with no work is welcome.
    expect((await joinWith(busy, room, await newDevice())).res.status).toBe(201);

    const arrive = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const device = await newDevice();
        let attempt = await joinWith(busy, room, device);
        if (attempt.res.status === 428)
          attempt = await joinWith(busy, room, device, await solve((await attempt.body()) as { challenge: string; difficulty: number }));
        expect(attempt.res.status).toBe(201);
      }
      await tick(room);
    };
    await arrive(2); // 3 in the last minute: 0.05/s
    expect(await difficulty()).toBe(10);
    await arrive(3); // 6: 0.1/s
    expect(await difficulty()).toBe(11);
    await arrive(6); // 12: 0.2/s
    expect(await difficulty()).toBe(12);
    await arrive(12); // 24: 0.4/s, but the ceiling is 12
    expect(await difficulty()).toBe(12);
    // A minute later the arrivals have left the window: quiet again.
    for (let s = 0; s < 61; s++) await tick(room);
    expect(await difficulty()).toBe(0);
  });

  it("a ceiling of 0 switches proof of work off, even where a room asks", async () => {
    const room = await createRoom({ shards: 1, pow_min_bits: 12 });
    const off = withEnv({ POW_CEILING_BITS: "0" });
    expect((await joinWith(off, room, await newDevice())).res.status).toBe(201);
    expect((await getChallenge(off, room, "A".repeat(43))).body.difficulty).toBe(0);
  });
});

describe("the client SDK", () => {
  it("solves the challenge transparently when a join is refused for lack of work", async () => {
    const room = await createRoom({ shards: 1, pow_min_bits: 10 });
    const bodies: string[] = [];
    const solved: number[] = [];
    const client = new AntichambreClient({
      baseUrl: ORIGIN,
      room,
      device: await DeviceKey.create(),
      fetch: async (url, init) => {
        if (init?.method === "POST" && url.endsWith("/tickets")) bodies.push(String(init.body));
        return call(new URL(url).pathname, init);
      },
      clock: () => testClock.now(),
      onProofOfWork: (info) => solved.push(info.difficulty),
    });
    const joined = await client.join(await identityAssertion(newPersonId()));
    expect(joined).toMatchObject({ status: "waiting", created: true, position: 1 });
    expect(solved).toEqual([10]);
    expect(bodies).toHaveLength(2);
    expect(JSON.parse(bodies[0]!).pow).toBeUndefined();
    expect(JSON.parse(bodies[1]!).pow).toMatchObject({ challenge: expect.any(String), solution: expect.any(String) });
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
