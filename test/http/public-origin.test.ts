import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import type { Env } from "../../src/config/env";
import { DEV_SECRETS } from "../../src/dev/secrets";
import {
  ORIGIN,
  call,
  createRoom,
  expectProblem,
  identityAssertion,
  newDevice,
  newPersonId,
  tick,
  checkAnswersAgainstOpenApiInThisFile,
} from "../helpers/api";

/**
 * The issuer identifier in a deployment comes from PUBLIC_ORIGIN only (src/issuance/issuer-url.ts). An
 * attacker picks the Host (here: the request URL's host, which is what the Worker sees) and tries to get
 * cacheable metadata, or a credential offer, naming an origin of their choosing. The app is the
 * production one (src/app.ts without the development kit), given a deployment's env: every secret put
 * (the development values, standing in for real ones), ENVIRONMENT=production.
 */
const app = createApp();
const deployment: Env = { ...env, ...DEV_SECRETS, ENVIRONMENT: "production", PUBLIC_ORIGIN: undefined };
const PUBLIC = "https://permis.example.fr";
const EVIL = "https://evil.example";
const METADATA = ["/.well-known/openid-credential-issuer", "/.well-known/oauth-authorization-server", "/.well-known/jwt-vc-issuer"];

const send = (config: Partial<Env>, url: string, init: RequestInit = {}) =>
  app.fetch(new Request(url, init), { ...deployment, ...config }, createExecutionContext());

describe("issuer metadata in a deployment", () => {
  it("answers 503 not-configured without PUBLIC_ORIGIN, whatever Host the request names", async () => {
    for (const path of METADATA) {
      for (const origin of [EVIL, ORIGIN, PUBLIC]) {
        const res = await send({}, `${origin}${path}`);
        const body = await expectProblem(res, 503, "not-configured");
        expect(JSON.stringify(body)).not.toContain("evil.example");
      }
    }
  });

  it("names PUBLIC_ORIGIN and nothing else when the Host is another origin", async () => {
    for (const path of METADATA) {
      for (const origin of [EVIL, "http://evil.example:8443", PUBLIC]) {
        const res = await send({ PUBLIC_ORIGIN: PUBLIC }, `${origin}${path}`, { headers: { "x-forwarded-host": "evil.example" } });
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text).not.toContain("evil.example");
        const body = JSON.parse(text) as Record<string, any>;
        expect(body.credential_issuer ?? body.issuer).toBe(PUBLIC);
      }
    }
    const issuer = (await (await send({ PUBLIC_ORIGIN: PUBLIC }, `${EVIL}/.well-known/openid-credential-issuer`)).json()) as Record<
      string,
      any
    >;
    for (const key of ["credential_endpoint", "nonce_endpoint", "notification_endpoint", "mdoc_iacas_uri", "iaca_certificate_pem_uri"]) {
      expect(new URL(issuer[key]).origin).toBe(PUBLIC);
    }
    expect(issuer.authorization_servers).toEqual([PUBLIC]);
  });

  it("refuses a PUBLIC_ORIGIN that is not an origin (a path, another scheme) instead of publishing it", async () => {
    for (const bad of [`${PUBLIC}/issuer`, `${PUBLIC}?x=1`, "ftp://permis.example.fr", "permis.example.fr", "https://"]) {
      await expectProblem(await send({ PUBLIC_ORIGIN: bad }, `${PUBLIC}/.well-known/openid-credential-issuer`), 503, "not-configured");
    }
    // A trailing slash is the same origin.
    const ok = (await (await send({ PUBLIC_ORIGIN: `${PUBLIC}/` }, `${EVIL}/.well-known/openid-credential-issuer`)).json()) as Record<
      string,
      any
    >;
    expect(ok.credential_issuer).toBe(PUBLIC);
  });
});

describe("an admitted device's credential offer in a deployment", () => {
  async function joinAndAdmit(config: Partial<Env>, origin: string) {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const device = await newDevice();
    const url = `${origin}/v1/rooms/${room}/tickets`;
    const joined = await send(config, url, {
      method: "POST",
      headers: { "content-type": "application/json", dpop: await device.proof("POST", url) },
      body: JSON.stringify({ identity_assertion: await identityAssertion(newPersonId()) }),
    });
    expect(joined.status).toBe(201);
    const { ticket } = (await joined.json()) as { ticket: string };
    await tick(room);
    return send(config, `${origin}/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${ticket}` } });
  }

  it("is refused 503 not-configured without PUBLIC_ORIGIN rather than naming the request's host", async () => {
    const res = await joinAndAdmit({}, EVIL);
    const body = await expectProblem(res, 503, "not-configured");
    expect(JSON.stringify(body)).not.toContain("evil.example");
  });

  it("names PUBLIC_ORIGIN as its credential issuer when the Host is another origin", async () => {
    const res = await joinAndAdmit({ PUBLIC_ORIGIN: PUBLIC }, EVIL);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("evil.example");
    const body = JSON.parse(text) as Record<string, any>;
    expect(body.status).toBe("admitted");
    expect(body.admission.credential_offer.credential_issuer).toBe(PUBLIC);
  });
});

describe("issuer metadata in development", () => {
  it("follows the request's origin when PUBLIC_ORIGIN is unset (npm start reached on a LAN address)", async () => {
    const res = await call("/.well-known/openid-credential-issuer");
    expect(((await res.json()) as Record<string, any>).credential_issuer).toBe(ORIGIN);
    const lan = await exports.default.fetch("http://192.168.1.20:8787/.well-known/openid-credential-issuer");
    expect(((await lan.json()) as Record<string, any>).credential_issuer).toBe("http://192.168.1.20:8787");
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
