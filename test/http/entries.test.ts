import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import * as development from "../../src/dev/index";
import * as production from "../../src/index";
import { ADMIN_TOKEN, ORIGIN, expectProblem } from "../helpers/api";

/**
 * The two entries (docs/threats/production-build.md): what the tests and npm start run is the production
 * code plus the development kit, and the production app has no development behaviour to switch on.
 */
describe("the production and development entries", () => {
  it("export the very same Durable Object classes", () => {
    // Every class the production entry exports (all of wrangler.toml's objects), not a list kept by hand.
    const classes = Object.keys(production).filter((name) => name !== "default") as (keyof typeof production)[];
    expect(classes).toEqual(expect.arrayContaining(["RoomCoordinator", "QueueShard", "ReplayGuard", "IssuanceSessions"]));
    for (const name of classes) expect((development as Record<string, unknown>)[name]).toBe(production[name]);
  });

  it("a production app told ENVIRONMENT=development still has no dev route, no dev admin token and no dev key", async () => {
    // A deployment misconfigured as development, with none of its secrets put (the tests' own env).
    const misconfigured = { ...env, ENVIRONMENT: "development" };
    const app = createApp();
    const send = (path: string, init: RequestInit = {}) =>
      app.fetch(new Request(`${ORIGIN}${path}`, init), misconfigured, createExecutionContext());

    await expectProblem(
      await send("/v1/dev/identity-assertions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"person_id":"FR-000001"}',
      }),
      404,
      "not-found",
    );
    await expectProblem(await send("/v1/dev/faults", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), 404, "not-found");
    await expectProblem(
      await send("/v1/admin/rooms/permis", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      403,
      "admin-disabled",
    );
    await expectProblem(await send("/.well-known/jwks.json"), 503, "not-configured");
    await expectProblem(await send("/iaca.pem"), 503, "not-configured");

    // The same requests to the development entry, with the same env, are served: the difference is the
    // kit, not the env.
    expect((await exports.default.fetch(`${ORIGIN}/.well-known/jwks.json`)).status).toBe(200);
    expect(
      (await exports.default.fetch(`${ORIGIN}/v1/admin/rooms/permis`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status,
    ).toBe(200);
  });
});
