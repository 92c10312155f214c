import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import type { Env } from "../../src/config/env";
import { createDevApp } from "../../src/dev/kit";
import { DEV_SECRETS } from "../../src/dev/secrets";
import { ORIGIN, expectProblem } from "../helpers/api";

/**
 * A deployment with a bad variable answers 503 not-configured on every route, naming each bad variable
 * (src/config/settings.ts, src/http/errors.ts), instead of running on a silent default: before, an
 * ADMISSION_TICK_MS of "1s" quietly became 1000 ms. The production app, given a deployment's env (every
 * secret put: the development values standing in), like test/http/public-origin.test.ts.
 */
const app = createApp();
const deployment: Env = { ...env, ...DEV_SECRETS, ENVIRONMENT: "production", PUBLIC_ORIGIN: "https://permis.example.fr" };
const send = (config: Partial<Env>, path: string, init: RequestInit = {}) =>
  app.fetch(new Request(`${ORIGIN}${path}`, init), { ...deployment, ...config }, createExecutionContext());

/** Routes of every kind: public metadata, the queue's public view, a join, the admin API, a page. */
const ROUTES: [string, RequestInit][] = [
  ["/.well-known/openid-credential-issuer", {}],
  ["/v1/rooms/permis", {}],
  ["/v1/rooms/permis/tickets", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
  ["/v1/admin/rooms/permis", { headers: { authorization: `Bearer ${DEV_SECRETS.ADMIN_TOKEN}` } }],
  ["/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=x" }],
];

describe("a deployment with a malformed variable", () => {
  it('answers ADMISSION_TICK_MS="1s" with 503 not-configured naming it, on every route', async () => {
    for (const [path, init] of ROUTES) {
      const body = await expectProblem(await send({ ADMISSION_TICK_MS: "1s" }, path, init), 503, "not-configured");
      expect(body.detail, path).toContain("ADMISSION_TICK_MS");
      expect(body.invalid_settings).toEqual([{ name: "ADMISSION_TICK_MS", reason: expect.any(String) }]);
    }
  });

  it("names every bad variable at once, never a value, and none of the good ones", async () => {
    const leaked = "operator-pasted-the-wrong-secret-here";
    const res = await send(
      { ADMISSION_TICK_MS: "1s", RATE_LIMIT_POLL: "120 per minute", TICKET_KEYS: leaked, LOG_REQUESTS: "verbose" },
      "/v1/rooms/permis",
    );
    const body = await expectProblem(res, 503, "not-configured");
    expect(body.invalid_settings.map((p: { name: string }) => p.name).sort()).toEqual([
      "ADMISSION_TICK_MS",
      "LOG_REQUESTS",
      "RATE_LIMIT_POLL",
      "TICKET_KEYS",
    ]);
    expect(JSON.stringify(body)).not.toContain(leaked);
    expect(JSON.stringify(body)).not.toContain("SNAPSHOT_TTL_MS");
  });

  it("is refused the same by the development app (the dev kit fills secrets, not bad variables)", async () => {
    const res = await createDevApp().fetch(
      new Request(`${ORIGIN}/v1/rooms/permis`),
      { ...env, SNAPSHOT_TTL_MS: "1s" },
      createExecutionContext(),
    );
    const body = await expectProblem(res, 503, "not-configured");
    expect(body.invalid_settings.map((p: { name: string }) => p.name)).toEqual(["SNAPSHOT_TTL_MS"]);
  });

  it("serves normally once the variable is fixed, or left unset (its default)", async () => {
    for (const config of [{ ADMISSION_TICK_MS: "1000" }, { ADMISSION_TICK_MS: undefined }, { ADMISSION_TICK_MS: "" }]) {
      const res = await send(config, "/.well-known/openid-credential-issuer");
      expect(res.status).toBe(200);
      expect(((await res.json()) as { credential_issuer: string }).credential_issuer).toBe("https://permis.example.fr");
    }
  });

  it("a missing secret is not a bad variable: only what needs it answers not-configured, naming it", async () => {
    const res = await send({ IACA_CERT: undefined }, "/iaca.pem");
    const body = await expectProblem(res, 503, "not-configured");
    expect(body.detail).toBe("IACA_CERT is not configured on this deployment");
    expect((await send({ IACA_CERT: undefined }, "/.well-known/openid-credential-issuer")).status).toBe(200);
  });
});
