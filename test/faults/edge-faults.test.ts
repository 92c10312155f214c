import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDevApp } from "../../src/dev/kit";
import { guardBindings } from "../../src/edge/durable-guard";
import { clearSnapshotCache } from "../../src/edge/snapshot-cache";
import { armFaults } from "../../src/faults/faults";
import {
  ORIGIN,
  adminGet,
  call,
  createRoom,
  expectProblem,
  identityAssertion,
  join,
  newPersonId,
  poll,
  testClock,
  tick,
} from "../helpers/api";
import { newDevice } from "../helpers/device";
import { seedValidHolders } from "../helpers/register";
import { arm, disarmFaults, faultReport } from "../helpers/faults";
import { withLoggedEvents } from "../helpers/logs";
import { MDOC, admittedOffer, credential, token, walletKeys, withAccess } from "../helpers/wallet";

/**
 * Durable Object calls that fail or hang, seen from the edge: the coordinator's snapshot, a queue
 * shard's join, the ReplayGuard, the coordinator's sessions. Every one must answer a retryable 503
 * problem+json with Retry-After (never a bare 500, never a hang), change nothing, and work again as
 * soon as the object does, with no operator action.
 */
const SEEDED = 40;

let validHolders: string[] = [];
const validHolderId = (skip = 0): string => validHolders[skip]!;

beforeAll(async () => {
  validHolders = await seedValidHolders(SEEDED);
});

/** A refusal the client is told to retry: 503, problem+json, Retry-After in seconds. */
async function expectRetryable(answer: Response | { status: number; body: Record<string, any>; res: Response }): Promise<void> {
  const res = answer instanceof Response ? answer : answer.res;
  const body = answer instanceof Response ? await expectProblem(res, 503) : answer.body;
  expect(res.status).toBe(503);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(body.type).toBe("urn:antichambre:problem:temporarily-unavailable");
  expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
}

describe("the coordinator's snapshot cannot be fetched", () => {
  it("polls are served from the last snapshot for a while, then 503 + Retry-After, and recover by themselves", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 2 });
    const a = await join(room);
    testClock.advance(1_000);
    const b = await join(room);
    await tick(room); // a admitted
    expect((await poll(room, a.ticket)).body.status).toBe("admitted");

    arm({ "coordinator.snapshot": { mode: "throw" } });
    testClock.advance(2_000); // the cached snapshot is stale: the edge asks, fails, serves the old one
    expect((await poll(room, a.ticket)).body.status).toBe("admitted");
    expect((await poll(room, b.ticket)).body.status).toBe("waiting");
    testClock.advance(31_000); // past the stale limit: a clear refusal rather than an old answer
    await expectRetryable(await poll(room, b.ticket));
    const refusedJoin = await join(room);
    expect(refusedJoin.status).toBe(503);
    expect(refusedJoin.body.type).toBe("urn:antichambre:problem:temporarily-unavailable");
    expect(faultReport().fired["coordinator.snapshot"]).toBeGreaterThanOrEqual(2);

    disarmFaults();
    expect((await poll(room, a.ticket)).body.status).toBe("admitted");
    expect((await poll(room, b.ticket)).status).toBe(200);
  });
});

describe("a queue shard cannot be reached", () => {
  it("a join answers 503 + Retry-After and takes no place; the retry gets the one place", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 2 });
    const device = await newDevice();
    const personId = newPersonId();
    arm({ "shard.join": { mode: "throw" } });
    const refused = await join(room, { device, personId });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("2");
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    disarmFaults();
    const first = await join(room, { device, personId });
    expect(first.status).toBe(201);
    const again = await join(room, { device, personId });
    expect(again.status).toBe(200);
    expect(again.body.ticket).toBeDefined();
    await tick(room);
    const s = await adminGet(room);
    expect(s.shards.reduce((n: number, x: { tickets: number }) => n + x.tickets, 0)).toBe(1);
  });

  it("a shard that hangs costs a join the call deadline, not the object's whole stall", async () => {
    const room = await createRoom({ new_users_per_minute: 60, shards: 1 });
    await tick(room);
    // The Worker as src/index.ts builds it, with a short deadline for the test.
    const app = createDevApp();
    const guarded = guardBindings({ ...env, DURABLE_CALL_TIMEOUT_MS: "300" });
    const device = await newDevice();
    const personId = newPersonId();
    const url = `${ORIGIN}/v1/rooms/${room}/tickets`;
    const body = JSON.stringify({ identity_assertion: await identityAssertion(personId) });
    armFaults(env, { "shard.join": { mode: "delay", delayMs: 1_500, times: 1 } });
    const { result: res, logged: failed } = await withLoggedEvents("durable_call_failed", async () =>
      app.fetch(
        new Request(url, { method: "POST", headers: { "content-type": "application/json", dpop: await device.proof("POST", url) }, body }),
        guarded,
        createExecutionContext(),
      ),
    );
    await expectRetryable(res);
    // The edge stopped waiting at its deadline (the guard's own error), not when the hang ended.
    expect(failed.map((l) => l.error)).toEqual(["DeadlineExceeded: QUEUE_SHARD.join did not answer within 300 ms"]);
    // The slow shard still did the work after the edge stopped waiting; the retry finds that place.
    await new Promise((r) => setTimeout(r, 1_500));
    const retry = await join(room, { device, personId });
    expect(retry.status).toBe(200);
  });
});

describe("the session objects, the ReplayGuard or the room's snapshot fail during issuance", () => {
  it("token, credential and notification answer 503 + Retry-After; the code is not burnt and the slot is freed", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, total_active_users: 5 });
    const joined = await join(room, { personId: validHolderId(0) });
    await tick(room);
    const { code } = await admittedOffer(room, joined.ticket);

    arm({ "sessions.call": { mode: "throw" } });
    await expectRetryable(await token(joined.device, code));
    // The token endpoint reads the admission from the room's snapshot: with none to serve and the
    // coordinator unreachable, a 503 (sessions no longer reach the coordinator: "coordinator.session" is gone).
    clearSnapshotCache();
    arm({ "coordinator.snapshot": { mode: "throw" } });
    await expectRetryable(await token(joined.device, code));
    disarmFaults();
    const granted = await token(joined.device, code);
    expect(granted.status).toBe(200); // the refusals redeemed nothing
    const accessToken = granted.body.access_token as string;

    const [key] = await walletKeys(1);
    arm({ "sessions.call": { mode: "throw", times: 1 } });
    await expectRetryable(await credential(joined.device, accessToken, MDOC, [key!]));
    // The c_nonce's check fails after the session reserved a read: the reservation is given back.
    arm({ "replay.claim": { mode: "throw", times: 1 } });
    await expectRetryable(await credential(joined.device, accessToken, MDOC, [key!]));
    const issued = await credential(joined.device, accessToken, MDOC, [key!]);
    expect(issued.status).toBe(200);
    expect((await adminGet(room)).sessions_open).toBe(1);

    arm({ "sessions.call": { mode: "throw", times: 1 } });
    const notification = { notification_id: issued.body.notification_id, event: "credential_accepted" };
    await expectRetryable(await withAccess("/notification", joined.device, accessToken, notification));
    expect((await adminGet(room)).sessions_open).toBe(1);
    // The retry of the same notification ends the session in its object; after that it is over for good.
    expect((await withAccess("/notification", joined.device, accessToken, notification)).status).toBe(204);
    expect((await adminGet(room)).sessions_open).toBe(0);
    const over = await withAccess("/notification", joined.device, accessToken, notification);
    expect(over.status).toBe(401);
    expect(over.body).toMatchObject({ error: "invalid_token", reason: "session_ended" });
  });
});

describe("the fault switch", () => {
  it("cannot be armed outside development, and its route is development-only and admin-only", async () => {
    expect(() => armFaults({ ...env, ENVIRONMENT: "production" }, { "shard.join": { mode: "throw" } })).toThrow(/only in development/);
    const app = createDevApp();
    const put = (e: typeof env, auth?: string) =>
      app.fetch(
        new Request(`${ORIGIN}/v1/dev/faults`, {
          method: "PUT",
          headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
          body: JSON.stringify({ faults: { "shard.join": { mode: "throw" } } }),
        }),
        e,
        createExecutionContext(),
      );
    await expectProblem(await put({ ...env, ENVIRONMENT: "production", ADMIN_TOKEN: "t" }, "t"), 404, "not-found");
    await expectProblem(await put(env), 401, "unauthorized");
    await expectProblem(
      await call("/v1/dev/faults", {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: "Bearer dev-admin-token" },
        body: JSON.stringify({ faults: { "no.such.point": { mode: "throw" } } }),
      }),
      422,
    );
    const armed = await put(env, "dev-admin-token");
    expect(armed.status).toBe(200);
    expect(((await armed.json()) as { armed: object }).armed).toEqual({ "shard.join": { mode: "throw", left: null } });
    const off = await call("/v1/dev/faults", { method: "DELETE", headers: { authorization: "Bearer dev-admin-token" } });
    expect(((await off.json()) as { armed: object }).armed).toEqual({});
  });
});
