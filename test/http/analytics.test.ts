import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDevApp } from "../../src/dev/kit";
import type { AnalyticsSink } from "../../src/metrics/analytics";
import { ensureRegisterSchema, personIdFor, seedRegister, syntheticHolder } from "../../src/register/seed";
import { ORIGIN, createRoom, join, newPersonId, testClock, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";
import { MDOC, admittedOffer } from "../helpers/wallet";
import { withAccessVia } from "../helpers/wallet-direct";
import type { Device } from "../helpers/device";

/**
 * Analytics Engine, over HTTP. Miniflare 4.20260426 does simulate `analytics_engine_datasets`, but its
 * local dataset discards every data point (writeDataPoint is a no-op), so nothing could be read back.
 * Here the real Worker runs with a recording stand-in bound as ANALYTICS (the same Env shape a
 * deployment gets), and the issuance flow is driven through it.
 */
type Point = Parameters<AnalyticsSink["writeDataPoint"]>[0];
const points: Point[] = [];
const app = createDevApp();
const withAnalytics = { ...env, ANALYTICS: { writeDataPoint: (p: Point) => void points.push(p) } };
const send = async (req: Request): Promise<Response> => app.fetch(req, withAnalytics, createExecutionContext());

beforeAll(async () => {
  await ensureRegisterSchema(env.REGISTER);
  await seedRegister(env.REGISTER, 40);
});

function validHolderId(): string {
  const today = new Date(testClock.now()).toISOString().slice(0, 10);
  for (let n = 1; n <= 40; n++) if (syntheticHolder(n).expiry_date > today) return personIdFor(n);
  throw new Error("no valid holder in the seed");
}

async function redeem(room: string, personId: string): Promise<{ device: Device; accessToken: string }> {
  const joined = await join(room, { personId });
  await tick(room);
  const { code } = await admittedOffer(room, joined.ticket);
  const url = `${ORIGIN}/token`;
  const res = await send(
    new Request(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", dpop: await joined.device.proof("POST", url) },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": code }),
    }),
  );
  expect(res.status).toBe(200);
  return { device: joined.device, accessToken: ((await res.json()) as { access_token: string }).access_token };
}

describe("Analytics Engine data points", () => {
  it("record the token, the credential issued and a denial, with room and outcome and no personal data", async () => {
    const room = await createRoom({ shards: 1 });
    const holder = validHolderId();
    const stranger = newPersonId();
    points.length = 0;

    const ok = await redeem(room, holder);
    expect((await withAccessVia(send, ok.device, ok.accessToken, MDOC)).status).toBe(200);
    const denied = await redeem(room, stranger);
    expect((await withAccessVia(send, denied.device, denied.accessToken, MDOC)).status).toBe(400);

    expect(points.map((p) => p.blobs?.slice(0, 3))).toEqual([
      ["issuance", room, "token_issued"],
      ["issuance", room, "issued"],
      ["issuance", room, "token_issued"],
      ["issuance", room, "denied"],
    ]);
    const issued = points[1]!;
    expect(issued.indexes).toEqual([room]);
    expect(issued.blobs![3]).toBe(MDOC);
    expect(issued.doubles![0]).toBe(1);
    expect(issued.doubles![1]).toBeGreaterThanOrEqual(0);
    const everything = JSON.stringify(points);
    expect(everything).not.toContain(holder);
    expect(everything).not.toContain(stranger);
    expect(everything).not.toContain(ok.accessToken);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
