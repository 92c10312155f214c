import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedValidHolders } from "../helpers/register";
import {
  ADMIN_TOKEN,
  adminGet,
  adminPut,
  call,
  createRoom,
  expectProblem,
  join,
  poll,
  tick,
  type Joined,
  checkAnswersAgainstOpenApiInThisFile,
} from "../helpers/api";
import { joinMany } from "../helpers/queue";
import { MDOC, admittedOffer, credential, token, walletKeys } from "../helpers/wallet";

/**
 * Adaptive outflow end to end: real issuance reads the (development) register, the edge times each
 * read and reports to the coordinator, whose controller lowers the admission rate when the register is
 * slowed (the latency drill) and raises it again once it is fast.
 */
const SEEDED = 80;
const holders: string[] = [];

beforeAll(async () => {
  holders.push(...(await seedValidHolders(SEEDED)));
});

afterAll(async () => {
  await drill(null);
});

async function drill(ms: number | null): Promise<void> {
  const res = await call("/v1/admin/register", {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ simulated_latency_ms: ms }),
  });
  expect(res.status).toBe(200);
}

/** Wait in line until admitted (ticking a second at a time), then token → nonce → credential. */
async function issue(room: string, joined: Joined): Promise<void> {
  for (let i = 0; i < 10 && (await poll(room, joined.ticket)).body.status !== "admitted"; i++) await tick(room);
  const { code } = await admittedOffer(room, joined.ticket);
  const t = await token(joined.device, code);
  expect(t.status).toBe(200);
  const c = await credential(joined.device, t.body.access_token, MDOC, await walletKeys(1));
  expect(c.status).toBe(200);
}

const outflow = async (room: string) => ((await adminGet(room)) as Record<string, any>).outflow as Record<string, any>;

describe("adaptive outflow", () => {
  it("backs off when the register slows and recovers when it is fast again", async () => {
    const room = await createRoom({
      new_users_per_minute: 60,
      outflow: { mode: "adaptive", floor_per_minute: 6, ceiling_per_minute: 120, latency_target_ms: 250, max_error_rate: 0.5 },
    });
    expect(await outflow(room)).toMatchObject({ mode: "adaptive", rate_per_minute: 60, last_decision: "none" });

    // The register takes 800 ms a read: far above the 250 ms target (wide margins: a loaded CI machine
    // must not make the fast phase look slow).
    await drill(800);
    for (let i = 0; i < 4; i++) await issue(room, await join(room, { personId: holders.shift()! }));
    await tick(room);
    const slow = await adminGet(room);
    expect(slow.backend.latency_ms).toBeGreaterThanOrEqual(700);
    expect(slow.outflow.last_decision).toBe("decrease");
    expect(slow.outflow.rate_per_minute).toBeLessThanOrEqual(42);
    expect(slow.effective.new_users_per_minute).toBe(slow.outflow.rate_per_minute);
    const lowest = slow.outflow.rate_per_minute as number;

    // Fast again, and people are waiting: the rate climbs back by 6/min (5 % of the ceiling) per decision.
    await drill(0);
    // Let the slow phase's last reports (sent off the response path) land and age out of the window.
    await tick(room, 6_000);
    const served = [];
    for (let i = 0; i < 8; i++) served.push(await join(room, { personId: holders.shift()! }));
    await joinMany(room, 30);
    for (const j of served.slice(0, -1)) await issue(room, j);
    // An isolate reports its reads at most once a second, with the next read (backend-health.ts): reads
    // made in the same second as a report wait for it. One more read a second later sends them, so the
    // controller judges every fast read and not only those that happened to start a new second.
    await tick(room);
    await issue(room, served.at(-1)!);
    for (let i = 0; i < 10; i++) await tick(room);
    const recovered = await outflow(room);
    expect(["increase", "hold"]).toContain(recovered.last_decision);
    expect(recovered.rate_per_minute).toBeGreaterThan(lowest);
  });

  it("a fixed (pinned) outflow ignores backend health, and the bounds are validated", async () => {
    const room = await createRoom({ new_users_per_minute: 60 });
    await drill(300);
    await issue(room, await join(room, { personId: holders.shift()! }));
    await drill(null);
    for (let i = 0; i < 6; i++) await tick(room);
    expect(await outflow(room)).toMatchObject({ mode: "fixed", rate_per_minute: 60 });
    await expectProblem(await adminPut(room, { outflow: { floor_per_minute: 500, ceiling_per_minute: 100 } }), 422);
    await expectProblem(await adminPut(room, { outflow: { mode: "turbo" } }), 422);
    expect((await outflow(room)).floor).toBe(60);
  });

  it("the latency drill exists only as an admin call", async () => {
    const res = await call("/v1/admin/register", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ simulated_latency_ms: 5 }),
    });
    await expectProblem(res, 401);
    await expectProblem(
      await call("/v1/admin/register", {
        method: "PUT",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ simulated_latency_ms: -1 }),
      }),
      422,
    );
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
