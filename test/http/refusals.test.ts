import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createDevApp } from "../../src/dev/kit";
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import {
  checkAnswersAgainstOpenApiInThisFile,
  ADMIN_TOKEN,
  ORIGIN,
  adminGet,
  adminPut,
  call,
  createRoom,
  expectProblem,
  identityAssertion,
  join,
  newDevice,
  newPersonId,
  poll,
  testClock,
  tick,
} from "../helpers/api";

const b64url = (s: string) => btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** A copy of `ticket` with its payload edited and the original signature kept. */
function tamper(ticket: string, edit: (payload: Record<string, unknown>) => void): string {
  const [h, , sig] = ticket.split(".");
  const payload = decodeJwt(ticket) as Record<string, unknown>;
  edit(payload);
  return `${h}.${b64url(JSON.stringify(payload))}.${sig}`;
}

/** Sign the ticket's own claims with another HMAC key and header. */
async function resign(ticket: string, header: Record<string, unknown>, secret: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new SignJWT(decodeJwt(ticket)).setProtectedHeader({ alg: "HS256", ...header }).sign(key);
}

describe("bad tickets are refused with 401 problem+json", async () => {
  const room = await createRoom({ shards: 1 });
  const other = await createRoom({ shards: 1 });
  const { ticket } = await join(room);
  const header = decodeProtectedHeader(ticket);

  const cases: [string, () => Promise<string | null>, string][] = [
    ["missing", async () => null, "missing_bearer_token"],
    ["not a JWS", async () => "not-a-ticket", "malformed"],
    ["tampered place in line", async () => tamper(ticket, (p) => (p.ord = [1, 1])), "bad_signature"],
    ["tampered device binding", async () => tamper(ticket, (p) => (p.cnf = { jkt: "x".repeat(43) })), "bad_signature"],
    [
      "forged with another key under the real kid",
      async () => resign(ticket, { kid: header.kid, typ: header.typ }, crypto.getRandomValues(new Uint8Array(32))),
      "bad_signature",
    ],
    [
      "signed by an unknown kid",
      async () => resign(ticket, { kid: "rogue", typ: header.typ }, crypto.getRandomValues(new Uint8Array(32))),
      "unknown_key",
    ],
    [
      "alg none",
      async () => `${b64url(JSON.stringify({ alg: "none", typ: header.typ, kid: header.kid }))}.${ticket.split(".")[1]}.`,
      "malformed",
    ],
    [
      "ES256 instead of HS256",
      async () => {
        const { privateKey } = await generateKeyPair("ES256");
        return new SignJWT(decodeJwt(ticket)).setProtectedHeader({ alg: "ES256", kid: header.kid, typ: header.typ }).sign(privateKey);
      },
      "malformed",
    ],
  ];

  for (const [name, make, reason] of cases) {
    it(name, async () => {
      const token = await make();
      const res = await call(`/v1/rooms/${room}/tickets/current`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
      const body = await expectProblem(res, 401, "invalid-ticket");
      expect(body.reason).toBe(reason);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
    });
  }

  it("for another room", async () => {
    const res = await call(`/v1/rooms/${other}/tickets/current`, { headers: { authorization: `Bearer ${ticket}` } });
    expect((await expectProblem(res, 401, "invalid-ticket")).reason).toBe("wrong_room");
  });

  it("expired", async () => {
    const { ticket: t } = await join(room);
    testClock.advance(25 * 3600 * 1000);
    const res = await call(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${t}` } });
    expect((await expectProblem(res, 401, "invalid-ticket")).reason).toBe("expired");
  });

  it("and the genuine ticket still works, whatever the case of the scheme (RFC 9110); not under another scheme", async () => {
    const { ticket: t } = await join(room);
    expect((await poll(room, t)).status).toBe(200);
    for (const scheme of ["bearer", "BEARER", "bEaReR"]) {
      expect((await call(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `${scheme} ${t}` } })).status).toBe(200);
    }
    for (const scheme of ["Basic", "DPoP", "Bearer:"]) {
      const res = await call(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `${scheme} ${t}` } });
      expect((await expectProblem(res, 401, "invalid-ticket")).reason).toBe("missing_bearer_token");
    }
  });
});

describe("bad DPoP proofs on join are refused with 401 and change nothing", async () => {
  const room = await createRoom({ shards: 1, paused: true });
  const url = `${ORIGIN}/v1/rooms/${room}/tickets`;
  const device = await newDevice();
  const other = await newDevice();

  const cases: [string, () => Promise<Record<string, string>>, string][] = [
    ["missing", async () => ({}), "missing"],
    ["garbage", async () => ({ dpop: "a.b.c" }), "malformed"],
    ["wrong method", async () => ({ dpop: await device.proof("GET", url) }), "wrong_method"],
    ["wrong URL", async () => ({ dpop: await device.proof("POST", `${ORIGIN}/v1/rooms/elsewhere/tickets`) }), "wrong_url"],
    ["stale iat", async () => ({ dpop: await device.proof("POST", url, { iat: Math.floor(testClock.now() / 1000) - 3600 }) }), "stale"],
    [
      "iat in the future",
      async () => ({ dpop: await device.proof("POST", url, { iat: Math.floor(testClock.now() / 1000) + 3600 }) }),
      "stale",
    ],
    ["wrong typ", async () => ({ dpop: await device.proof("POST", url, { typ: "JWT" }) }), "wrong_type"],
    [
      "signed by another key than the embedded one",
      async () => ({ dpop: await device.proof("POST", url, { signWith: other.privateKey }) }),
      "bad_signature",
    ],
    ["too short jti", async () => ({ dpop: await device.proof("POST", url, { jti: "x" }) }), "missing_claims"],
    ["oversized", async () => ({ dpop: "e".repeat(5000) }), "too_large"],
  ];
  for (const [name, headers, reason] of cases) {
    it(name, async () => {
      const body = JSON.stringify({ identity_assertion: await identityAssertion(newPersonId()) });
      const res = await call(`/v1/rooms/${room}/tickets`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(await headers()) },
        body,
      });
      expect((await expectProblem(res, 401, "invalid-dpop-proof")).reason).toBe(reason);
    });
  }

  it("left no ticket behind", async () => {
    await tick(room);
    expect((await adminGet(room)).shards[0].tickets).toBe(0);
  });
});

describe("bad requests get the right problem+json", () => {
  it("unknown room: 404 on join, poll and room state", async () => {
    const joined = await join("no-such-room");
    expect(joined.status).toBe(404);
    expect(joined.body.type).toBe("urn:antichambre:problem:not-found");
    await expectProblem(await call("/v1/rooms/no-such-room"), 404, "not-found");
    await expectProblem(await call("/v1/rooms/Not_A_Room!"), 404, "not-found");
    await expectProblem(await call("/v1/nothing-here"), 404, "not-found");
  });

  it("bad JSON, wrong content type, unknown members and oversized bodies on join", async () => {
    const room = await createRoom({ shards: 1 });
    const bad = await join(room, { init: { body: "{not json", headers: { "content-type": "application/json" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe("urn:antichambre:problem:invalid-json");
    const wrongType = await join(room, { init: { body: "{}", headers: { "content-type": "text/plain" } } });
    expect(wrongType.status).toBe(415);
    const unknown = await join(room, { init: { body: JSON.stringify({ vip: true }), headers: { "content-type": "application/json" } } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors.length).toBeGreaterThan(0);
    const huge = await join(room, {
      init: { body: JSON.stringify({ pad: "x".repeat(20_000) }), headers: { "content-type": "application/json" } },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.type).toBe("urn:antichambre:problem:payload-too-large");
    const missing = await join(room, { init: { body: "{}", headers: { "content-type": "application/json" } } });
    expect(missing.status).toBe(422);
    const noBody = await join(room, { init: {} });
    expect(noBody.status).toBe(415);
    const ok = await join(room);
    expect(ok.status).toBe(201);
    expect(ok.body.position).toBe(1); // none of the refused requests took a place
  });

  it("admin: missing or wrong token is 401; invalid settings are 422 and change nothing", async () => {
    const room = await createRoom({ new_users_per_minute: 60 });
    await expectProblem(await adminPut(room, { paused: true }, null), 401, "unauthorized");
    await expectProblem(await adminPut(room, { paused: true }, "wrong-token"), 401, "unauthorized");
    await expectProblem(await call(`/v1/admin/rooms/${room}`), 401, "unauthorized");
    for (const body of [{ new_users_per_minute: 0 }, { queueing_method: "vip-first" }, { paused: "yes" }, { surprise: 1 }, {}, [], "x"]) {
      const res = await adminPut(room, body);
      await expectProblem(res, 422, "validation-failed");
    }
    const notJson = await call(`/v1/admin/rooms/${room}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: "{",
    });
    await expectProblem(notJson, 400, "invalid-json");
    const stats = await adminGet(room);
    expect(stats.config).toMatchObject({ new_users_per_minute: 60, paused: false, queueing_method: "fifo" });
    await expectProblem(
      await call("/v1/admin/rooms/never-made", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      404,
      "not-found",
    );
  });

  it("admin: the shard count cannot change once someone has joined (409)", async () => {
    const room = await createRoom({ shards: 2 });
    expect((await adminPut(room, { shards: 3 })).status).toBe(200);
    await join(room);
    await expectProblem(await adminPut(room, { shards: 5 }), 409, "conflict");
    expect((await adminGet(room)).config.shards).toBe(3);
  });

  it("a deployment without an ADMIN_TOKEN secret refuses every admin call", async () => {
    const app = createApp();
    const production = { ...env, ENVIRONMENT: "production", ADMIN_TOKEN: undefined };
    for (const token of [ADMIN_TOKEN, "anything", null]) {
      const res = await app.fetch(
        new Request(`${ORIGIN}/v1/admin/rooms/permis`, token ? { headers: { authorization: `Bearer ${token}` } } : {}),
        production,
        createExecutionContext(),
      );
      await expectProblem(res, 403, "admin-disabled");
    }
    // ...and, lacking signing secrets, signs nothing either.
    const jwks = await app.fetch(new Request(`${ORIGIN}/.well-known/jwks.json`), production, createExecutionContext());
    await expectProblem(jwks, 503, "not-configured");
    // With a real secret, that token and only that token opens it.
    const deployed = { ...production, ADMIN_TOKEN: "s3cret-from-wrangler-secret-put" };
    const ok = await app.fetch(
      new Request(`${ORIGIN}/v1/admin/rooms/permis`, { headers: { authorization: "Bearer s3cret-from-wrangler-secret-put" } }),
      deployed,
      createExecutionContext(),
    );
    expect(ok.status).toBe(200);
    const dev = await app.fetch(
      new Request(`${ORIGIN}/v1/admin/rooms/permis`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      deployed,
      createExecutionContext(),
    );
    await expectProblem(dev, 401, "unauthorized");
  });
});

describe("bad identity assertions on join are refused with 401 and take no place", async () => {
  const { DEV_IDENTITY_ISSUER, DEV_IDENTITY_KEY } = await import("../../src/config/dev-defaults");
  const { importJWK } = await import("jose");
  const devKey = (await importJWK({ ...DEV_IDENTITY_KEY, alg: "ES256" }, "ES256")) as CryptoKey;
  const room = await createRoom({ shards: 1, paused: true });
  const now = () => Math.floor(testClock.now() / 1000);

  const assertion = (
    o: { key?: CryptoKey; kid?: string; iss?: string; aud?: string; sub?: string | null; iat?: number; exp?: number } = {},
  ) => {
    const jwt = new SignJWT(o.sub === null ? {} : { sub: o.sub ?? newPersonId() })
      .setProtectedHeader({ alg: "ES256", kid: o.kid ?? DEV_IDENTITY_KEY.kid })
      .setIssuer(o.iss ?? DEV_IDENTITY_ISSUER)
      .setAudience(o.aud ?? "antichambre")
      .setIssuedAt(o.iat ?? now())
      .setExpirationTime(o.exp ?? now() + 300);
    return jwt.sign(o.key ?? devKey);
  };

  it("accepts a well-formed assertion signed by the identity service (the control)", async () => {
    const res = await join(room, {
      init: { headers: { "content-type": "application/json" }, body: JSON.stringify({ identity_assertion: await assertion() }) },
    });
    expect(res.status).toBe(201);
  });

  const cases: [string, () => Promise<string>, string][] = [
    [
      "signed by another key under the service's kid",
      async () => assertion({ key: (await generateKeyPair("ES256")).privateKey }),
      "bad_signature",
    ],
    ["signed by an unknown kid", async () => assertion({ key: (await generateKeyPair("ES256")).privateKey, kid: "rogue" }), "unknown_key"],
    ["another issuer", async () => assertion({ iss: "https://evil.example" }), "wrong_issuer"],
    ["another audience", async () => assertion({ aud: "someone-else" }), "wrong_audience"],
    ["expired", async () => assertion({ iat: now() - 900, exp: now() - 600 }), "expired"],
    ["without a subject", async () => assertion({ sub: null }), "bad_claims"],
    ["not a JWT", async () => "nope", "malformed"],
  ];
  for (const [name, make, reason] of cases) {
    it(name, async () => {
      const res = await join(room, {
        init: { headers: { "content-type": "application/json" }, body: JSON.stringify({ identity_assertion: await make() }) },
      });
      expect(res.status).toBe(401);
      expect(res.body.type).toBe("urn:antichambre:problem:invalid-identity-assertion");
      expect(res.body.reason).toBe(reason);
    });
  }

  it("left only the control's place behind", async () => {
    await tick(room);
    expect((await adminGet(room)).shards[0].tickets).toBe(1);
  });
});

describe("identity assertions bound to a device key (cnf.jkt)", async () => {
  const { calculateJwkThumbprint } = await import("jose");
  const room = await createRoom({ shards: 1, paused: true });
  const thumbprint = (d: Awaited<ReturnType<typeof newDevice>>) => calculateJwkThumbprint(d.publicJwk, "sha256");
  /** An assertion from the development identity service, bound to `jkt` when given. */
  const devAssertion = async (personId: string, jkt?: string) => {
    const res = await call("/v1/dev/identity-assertions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ person_id: personId, ...(jkt ? { jkt } : {}) }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { identity_assertion: string }).identity_assertion;
  };
  const joinWith = (assertion: string, device: Awaited<ReturnType<typeof newDevice>>) =>
    join(room, {
      device,
      init: { headers: { "content-type": "application/json" }, body: JSON.stringify({ identity_assertion: assertion }) },
    });

  it("join only with a proof by that key: a captured assertion is worth nothing on another device", async () => {
    const phone = await newDevice();
    const thief = await newDevice();
    const personId = newPersonId();
    const bound = await devAssertion(personId, await thumbprint(phone));
    expect(decodeJwt(bound).cnf).toEqual({ jkt: await thumbprint(phone) });
    const stolen = await joinWith(bound, thief);
    expect(stolen.status).toBe(401);
    expect(stolen.body.type).toBe("urn:antichambre:problem:invalid-identity-assertion");
    expect(stolen.body.reason).toBe("bound_to_another_key");
    const before = (await adminGet(room)).shards[0].tickets;
    expect((await joinWith(bound, phone)).status).toBe(201);
    await tick(room);
    expect((await adminGet(room)).shards[0].tickets).toBe(before + 1); // the thief's attempt took no place
  });

  it("with IDENTITY_BINDING=required, refuse unbound assertions and accept bound ones", async () => {
    const app = createDevApp();
    const strict = { ...env, IDENTITY_BINDING: "required" };
    const send = async (assertion: string, device: Awaited<ReturnType<typeof newDevice>>) => {
      const url = `${ORIGIN}/v1/rooms/${room}/tickets`;
      const req = new Request(url, {
        method: "POST",
        headers: { "content-type": "application/json", dpop: await device.proof("POST", url) },
        body: JSON.stringify({ identity_assertion: assertion }),
      });
      return app.fetch(req, strict, createExecutionContext());
    };
    const phone = await newDevice();
    const unbound = await send(await devAssertion(newPersonId()), phone);
    expect((await expectProblem(unbound, 401, "invalid-identity-assertion")).reason).toBe("key_not_bound");
    expect((await send(await devAssertion(newPersonId(), await thumbprint(phone)), phone)).status).toBe(201);
  });

  it("refuse a cnf that is not a thumbprint, and a dev request for one", async () => {
    const { DEV_IDENTITY_ISSUER, DEV_IDENTITY_KEY } = await import("../../src/config/dev-defaults");
    const { importJWK } = await import("jose");
    const key = (await importJWK({ ...DEV_IDENTITY_KEY, alg: "ES256" }, "ES256")) as CryptoKey;
    const iat = Math.floor(testClock.now() / 1000);
    for (const cnf of [{ jkt: "short" }, { jwk: {} }, "x", null]) {
      const assertion = await new SignJWT({ sub: newPersonId(), cnf })
        .setProtectedHeader({ alg: "ES256", kid: DEV_IDENTITY_KEY.kid })
        .setIssuer(DEV_IDENTITY_ISSUER)
        .setAudience("antichambre")
        .setIssuedAt(iat)
        .setExpirationTime(iat + 300)
        .sign(key);
      const res = await joinWith(assertion, await newDevice());
      expect(res.status, JSON.stringify(cnf)).toBe(401);
      expect(res.body.reason).toBe("bad_claims");
    }
    const bad = await call("/v1/dev/identity-assertions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ person_id: "x", jkt: "not-a-thumbprint" }),
    });
    await expectProblem(bad, 422);
  });
});

describe("the development identity service", () => {
  it("is absent outside development", async () => {
    const app = createDevApp();
    const production = { ...env, ENVIRONMENT: "production" };
    const res = await app.fetch(
      new Request(`${ORIGIN}/v1/dev/identity-assertions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"person_id":"FR-000001"}',
      }),
      production,
      createExecutionContext(),
    );
    await expectProblem(res, 404, "not-found");
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
