import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDevApp } from "../../src/dev/kit";
import { guardBindings } from "../../src/edge/durable-guard";
import { registerMetrics } from "../../src/register/register";
import { adminGet, createRoom, join, tick } from "../helpers/api";
import { seedValidHolders } from "../helpers/register";
import { arm, disarmFaults, faultReport } from "../helpers/faults";
import { withAccessVia } from "../helpers/wallet-direct";
import { MDOC, admittedOffer, credential, token, walletKeys, withAccess } from "../helpers/wallet";

/**
 * The licence register failing (a D1 error), hanging (a read past its timeout) or full (the capacity
 * gate): the credential endpoint answers 503 + Retry-After (a full gate: 202 deferred, OpenID4VCI 1.0
 * §9, test/http/deferred.test.ts), the register's slot is given back, the
 * person's issuance session stays usable (the same access token works on retry) and, once notified,
 * frees its waiting-room slot; issuance recovers as soon as the register does.
 */
const SEEDED = 40;

let validHolders: string[] = [];
const validHolderId = (skip = 0): string => validHolders[skip]!;

beforeAll(async () => {
  validHolders = await seedValidHolders(SEEDED);
});

/** A person admitted and holding an access token (an open issuance session). */
async function inSession(room: string, skip: number) {
  const joined = await join(room, { personId: validHolderId(skip) });
  await tick(room);
  const { code } = await admittedOffer(room, joined.ticket);
  const granted = await token(joined.device, code);
  expect(granted.status).toBe(200);
  return { device: joined.device, accessToken: granted.body.access_token as string };
}

function expect503(r: { status: number; body: Record<string, any>; res: Response }): void {
  expect(r.status).toBe(503);
  expect(r.res.headers.get("content-type")).toBe("application/problem+json");
  expect(r.body.type).toBe("urn:antichambre:problem:temporarily-unavailable");
  expect(r.res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
}

describe("the licence register fails", () => {
  it("a D1 error answers 503 + Retry-After, a full gate defers; the retry with the same token is issued", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, total_active_users: 10 });
    const p = await inSession(room, 1);
    const [key] = await walletKeys(1);
    const before = registerMetrics();

    arm({ "register.read": { mode: "throw" } });
    expect503(await credential(p.device, p.accessToken, MDOC, [key!]));
    expect503(await credential(p.device, p.accessToken, MDOC, [key!]));
    // A full gate is not a failure: the request is deferred (202, test/http/deferred.test.ts), not refused.
    arm({ "register.busy": { mode: "throw" } });
    const deferred = await credential(p.device, p.accessToken, MDOC, [key!]);
    expect(deferred.status).toBe(202);
    expect(typeof deferred.body.transaction_id).toBe("string");
    const during = registerMetrics();
    expect(during.errors - before.errors).toBe(2);
    expect(during.busy - before.busy).toBe(1);
    expect(during.in_flight).toBe(0); // every slot given back
    expect((await adminGet(room)).sessions_open).toBe(1); // the session waits for the retry

    disarmFaults();
    const issued = await credential(p.device, p.accessToken, MDOC, [key!]);
    expect(issued.status).toBe(200);
    expect(issued.body.credentials).toHaveLength(1);
    const done = await withAccess("/notification", p.device, p.accessToken, {
      notification_id: issued.body.notification_id,
      event: "credential_accepted",
    });
    expect(done.status).toBe(204);
    const s = await adminGet(room);
    expect(s.sessions_open).toBe(0);
    expect(s.active).toBe(0);
  });
});

describe("the licence register hangs", () => {
  it("a read past its timeout answers 503 promptly, holds its slot only while the read runs, then recovers", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const p = await inSession(room, 2);
    const app = createDevApp();
    const slowEnv = guardBindings({ ...env, REGISTER_READ_TIMEOUT_MS: "200" });
    const send = () => withAccessVia(async (req) => app.fetch(req, slowEnv, createExecutionContext()), p.device, p.accessToken, MDOC);

    arm({ "register.read": { mode: "delay", delayMs: 1_200, times: 1 } });
    const res = await send();
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    // The read timeout answered, not the hang's end: the problem says so, and the slot is still held below.
    expect(((await res.json()) as { detail: string }).detail).toMatch(/register timed out/);
    expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(faultReport().fired["register.read"]).toBe(1);
    // The hung read still holds its slot (the register is still working on it), and only until it ends.
    expect(registerMetrics().in_flight).toBe(1);
    await new Promise((r) => setTimeout(r, 1_300));
    expect(registerMetrics().in_flight).toBe(0);

    const retry = await send();
    expect(retry.status).toBe(200);
    expect(registerMetrics().leases_expired).toBe(0);
  });
});
