import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { DEV_TICKET_KEYS } from "../../src/config/dev-defaults";
import { MAX_HEADER_BYTES, MAX_HEADERS_BYTES, MAX_URL_BYTES } from "../../src/http/input-limits";
import { ensureRegisterSchema, personIdFor, seedRegister, syntheticHolder } from "../../src/register/seed";
import { hmacKeyring } from "../../src/tickets/keyring";
import { seal } from "../../src/tickets/sealed";
import { ORIGIN, call, createRoom, expectProblem, join, testClock, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";
import { SD_JWT, admittedOffer, keyProof, nonce, token, walletKeys, withAccess } from "../helpers/wallet";

/**
 * Regressions found by the bad-input properties (test/property), each pinned by a plain example, and
 * the size limits on what arrives before it is parsed (src/http/input-limits.ts).
 */
beforeAll(async () => {
  await ensureRegisterSchema(env.REGISTER);
  await seedRegister(env.REGISTER, 20);
});

function validHolder(skip: number): string {
  const today = new Date(testClock.now()).toISOString().slice(0, 10);
  const ids = [];
  for (let n = 1; n <= 20; n++) if (syntheticHolder(n).expiry_date > today) ids.push(personIdFor(n));
  return ids[skip]!;
}

describe("regressions", () => {
  it("a pre-authorized code whose place in line is missing is invalid_grant, not a 500", async () => {
    // Only the issuer's key can seal a code, so this is defence in depth: the claims are checked anyway.
    const room = await createRoom({ shards: 1 });
    const joined = await join(room);
    const jkt = (await import("jose")).calculateJwkThumbprint(joined.device.publicJwk, "sha256");
    const ring = await hmacKeyring(DEV_TICKET_KEYS);
    for (const ord of [null, "x", [1], [-1, 0], [1.5, 0]]) {
      const code = await seal(
        ring,
        "pre-authorized-code",
        { cid: crypto.randomUUID(), room, tid: "0.999", ord, pid: "FR-000001", jkt: await jkt },
        testClock.now(),
        testClock.now() + 60_000,
      );
      const res = await token(joined.device, code);
      expect(res.status, JSON.stringify(ord)).toBe(400);
      expect(res.body.error).toBe("invalid_grant");
    }
  });

  it("a credential request whose proofs carry different c_nonces is refused before any nonce is used", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const joined = await join(room, { personId: validHolder(0) });
    await tick(room);
    const { code } = await admittedOffer(room, joined.ticket);
    const accessToken = (await token(joined.device, code)).body.access_token as string;
    const [k1, k2] = await walletKeys(2);
    const good = await nonce();
    // The first proof's nonce is fresh, the second's is not a nonce of ours: this used to spend `good`.
    const mixed = await withAccess("/credential", joined.device, accessToken, {
      credential_configuration_id: SD_JWT,
      proofs: { jwt: [await keyProof(k1!, good), await keyProof(k2!, "made-up")] },
    });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error).toBe("invalid_proof");
    // Two fresh nonces in one request are refused alike: one nonce per request.
    const other = await nonce();
    const two = await withAccess("/credential", joined.device, accessToken, {
      credential_configuration_id: SD_JWT,
      proofs: { jwt: [await keyProof(k1!, good), await keyProof(k2!, other)] },
    });
    expect(two.body.error).toBe("invalid_proof");
    // Both nonces are still unused: a batch over either one is issued.
    const batch = await withAccess("/credential", joined.device, accessToken, {
      credential_configuration_id: SD_JWT,
      proofs: { jwt: [await keyProof(k1!, good), await keyProof(k2!, good)] },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.credentials).toHaveLength(2);
    const single = await withAccess("/credential", joined.device, accessToken, {
      credential_configuration_id: SD_JWT,
      proofs: { jwt: [await keyProof(k1!, other)] },
    });
    expect(single.status).toBe(200);
  });
});

describe("methods", () => {
  it("a path the Worker serves, with a method it does not serve there, is 405 with Allow (not 404)", async () => {
    const wrong = await call("/v1/rooms/permis", { method: "PUT" });
    await expectProblem(wrong, 405, "method-not-allowed");
    expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    expect((await call("/token", { method: "GET" })).headers.get("allow")).toBe("POST");
    await expectProblem(await call("/v1/rooms/permis/tickets", { method: "DELETE" }), 405, "method-not-allowed");
    // No such path: still 404. The admin guard still answers first (401), and a wrong method with the
    // token is 405 there too.
    await expectProblem(await call("/v1/rooms/permis/elsewhere", { method: "PUT" }), 404, "not-found");
    await expectProblem(await call("/v1/admin/rooms/permis", { method: "DELETE" }), 401, "unauthorized");
    const admin = await call("/v1/admin/rooms/permis", { method: "DELETE", headers: { authorization: "Bearer dev-admin-token" } });
    await expectProblem(admin, 405, "method-not-allowed");
    expect(admin.headers.get("allow")).toBe("GET, HEAD, PUT");
  });
});

describe("size limits before parsing", () => {
  it(`a URL over ${MAX_URL_BYTES} bytes is 414 problem+json, at any path and in the query`, async () => {
    await expectProblem(await call(`/v1/rooms/${"r".repeat(MAX_URL_BYTES)}`), 414, "uri-too-long");
    await expectProblem(await call(`/v1/admin/metrics?${"room=r&".repeat(MAX_URL_BYTES / 7)}`), 414, "uri-too-long");
    await expectProblem(await call(`/nowhere?q=${"%41".repeat(MAX_URL_BYTES / 3)}`), 414, "uri-too-long");
    // Just under it, the request is read as usual.
    const under = `/v1/rooms/permis?q=${"a".repeat(MAX_URL_BYTES - ORIGIN.length - 40)}`;
    expect((await call(under)).status).toBe(200);
  });

  it(`a header over ${MAX_HEADER_BYTES} bytes, or headers over ${MAX_HEADERS_BYTES} in all, are 431 problem+json`, async () => {
    const room = await createRoom({ shards: 1 });
    const big = "x".repeat(MAX_HEADER_BYTES);
    // Before the ticket, the admin token, the DPoP proof or the cookies are read.
    await expectProblem(
      await call(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${big}` } }),
      431,
      "headers-too-large",
    );
    await expectProblem(await call("/v1/admin/rooms/permis", { headers: { authorization: `Bearer ${big}` } }), 431, "headers-too-large");
    await expectProblem(await call(`/rooms/${room}`, { headers: { cookie: `antichambre_ticket=${big}` } }), 431, "headers-too-large");
    await expectProblem(
      await call(`/v1/rooms/${room}/tickets`, { method: "POST", headers: { dpop: big, "content-type": "application/json" }, body: "{}" }),
      431,
      "headers-too-large",
    );
    const many: Record<string, string> = {};
    for (let i = 0; i < 4; i++) many[`x-filler-${i}`] = "y".repeat(MAX_HEADER_BYTES - 100);
    await expectProblem(await call("/.well-known/jwks.json", { headers: many }), 431, "headers-too-large");
    // Three such headers fit.
    delete many["x-filler-3"];
    expect((await call("/.well-known/jwks.json", { headers: many })).status).toBe(200);
  });

  it("a ticket over 4 KiB is refused unread (401 malformed), under the header limit", async () => {
    const room = await createRoom({ shards: 1 });
    const res = await call(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${"e".repeat(4097)}` } });
    expect((await expectProblem(res, 401, "invalid-ticket")).reason).toBe("malformed");
  });

  it("a body streamed without Content-Length is cut at 16 KiB (413); exactly 16 KiB is read", async () => {
    const room = await createRoom({ shards: 1 });
    const stream = (bytes: number) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let sent = 0; sent < bytes; sent += 1024) controller.enqueue(new Uint8Array(Math.min(1024, bytes - sent)).fill(0x20));
          controller.close();
        },
      });
    const post = (body: BodyInit) =>
      call(`/v1/rooms/${room}/tickets`, { method: "POST", headers: { "content-type": "application/json" }, body });
    await expectProblem(await post(stream(16 * 1024 + 1)), 413, "payload-too-large");
    // 16 KiB of spaces is no JSON: read in full, then refused for what it is.
    await expectProblem(await post(stream(16 * 1024)), 400, "invalid-json");
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
