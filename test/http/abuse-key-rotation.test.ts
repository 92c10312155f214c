import {
  base64url,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  type JSONWebKeySet,
} from "jose";
import { describe, expect, it } from "vitest";
import {
  withEnv,
  type Send,
  ORIGIN,
  createRoom,
  expectProblem,
  identityAssertion,
  newDevice,
  newPersonId,
  testClock,
  tick,
  checkAnswersAgainstOpenApiInThisFile,
} from "../helpers/api";
import type { Device } from "../helpers/device";
import { sendWithDpopNonce } from "../helpers/dpop-nonce";

/**
 * Key rotation without downtime (SECURITY.md, "Rotating keys"): TICKET_KEYS and SIGNING_KEYS are lists
 * by `kid`; the first signs, every one verifies. Each step of the documented procedure is one Worker
 * configuration here (the app called with that env), over the same Durable Objects, as a deployment's
 * successive versions would be.
 */

const hmacKey = (kid: string) => ({ kid, k: base64url.encode(crypto.getRandomValues(new Uint8Array(32))) });
async function signingKey(kid: string) {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  return { kid, ...(await exportJWK(privateKey)) };
}

async function joinVia(send: Send, room: string, device: Device): Promise<{ status: number; body: Record<string, any> }> {
  const path = `/v1/rooms/${room}/tickets`;
  const res = await send(path, {
    method: "POST",
    headers: { "content-type": "application/json", dpop: await device.proof("POST", `${ORIGIN}${path}`) },
    body: JSON.stringify({ identity_assertion: await identityAssertion(newPersonId()) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const pollVia = (send: Send, room: string, ticket: string) =>
  send(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${ticket}` } });

/** The DPoP nonce is derived from TICKET_KEYS too: a rotated deployment's first answer hands out its own. */
async function tokenVia(send: Send, device: Device, code: string): Promise<Response> {
  return sendWithDpopNonce(async (nonce) =>
    send("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", dpop: await device.proof("POST", `${ORIGIN}/token`, { nonce }) },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": code }),
    }),
  );
}

const codeOf = (body: Record<string, any>) =>
  body.admission.credential_offer.grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"] as string;

describe("rotating TICKET_KEYS", () => {
  it("old tickets and codes keep working during the overlap while new ones use the new kid; dropping the old key refuses them", async () => {
    const old = hmacKey("t-2026-10");
    const next = hmacKey("t-2026-11");
    const before = withEnv({ TICKET_KEYS: JSON.stringify([old]) });
    const overlap = withEnv({ TICKET_KEYS: JSON.stringify([next, old]) });
    const after = withEnv({ TICKET_KEYS: JSON.stringify([next]) });
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, paused: true });

    // Step 0: one key.
    const early = await newDevice();
    const oldTicket = (await joinVia(before, room, early)).body.ticket as string;
    expect(decodeProtectedHeader(oldTicket).kid).toBe(old.kid);

    // Step 1: the new key prepended. Old tickets verify; new ones are signed with the new kid.
    expect((await pollVia(overlap, room, oldTicket)).status).toBe(200);
    const late = await newDevice();
    const newTicket = (await joinVia(overlap, room, late)).body.ticket as string;
    expect(decodeProtectedHeader(newTicket).kid).toBe(next.kid);

    // A pre-authorized code sealed before the rotation is still redeemable during the overlap.
    await withEnv({})(`/v1/admin/rooms/${room}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: "Bearer dev-admin-token" },
      body: JSON.stringify({ paused: false }),
    });
    await tick(room);
    const admittedBefore = (await (await pollVia(before, room, oldTicket)).json()) as Record<string, any>;
    expect(admittedBefore.status).toBe("admitted");
    const oldCode = codeOf(admittedBefore);
    expect((await tokenVia(overlap, early, oldCode)).status).toBe(200);
    // The new ticket, admitted under the new key, redeems too.
    const admittedNew = (await (await pollVia(overlap, room, newTicket)).json()) as Record<string, any>;
    const newCode = codeOf(admittedNew);

    // Step 2: the old key removed. What it signed or sealed is refused; what the new one did is not.
    expect((await expectProblem(await pollVia(after, room, oldTicket), 401, "invalid-ticket")).reason).toBe("unknown_key");
    expect((await pollVia(after, room, newTicket)).status).toBe(200);
    expect((await tokenVia(after, late, newCode)).status).toBe(200);
  });

  it("a code sealed under a removed key is refused as an invalid grant", async () => {
    const old = hmacKey("t-a");
    const next = hmacKey("t-b");
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const device = await newDevice();
    const before = withEnv({ TICKET_KEYS: JSON.stringify([old]) });
    const joined = await joinVia(before, room, device);
    await tick(room);
    const code = codeOf((await (await pollVia(before, room, joined.body.ticket)).json()) as Record<string, any>);
    const refused = await tokenVia(withEnv({ TICKET_KEYS: JSON.stringify([next]) }), device, code);
    const body = await expectProblem(refused, 400, "invalid-grant");
    expect(body.error_description).toContain("unknown key");
  });
});

describe("rotating SIGNING_KEYS", () => {
  it("publishes both keys during the overlap, signs with the new kid, and stops publishing the old one after", async () => {
    const old = await signingKey("s-2026-10");
    const next = await signingKey("s-2026-11");
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const device = await newDevice();
    const before = withEnv({ SIGNING_KEYS: JSON.stringify([old]) });
    const overlap = withEnv({ SIGNING_KEYS: JSON.stringify([next, old]) });
    const after = withEnv({ SIGNING_KEYS: JSON.stringify([next]) });
    const jwks = async (send: Send) => (await (await send("/.well-known/jwks.json")).json()) as JSONWebKeySet;
    const admissionToken = async (send: Send, ticket: string) =>
      ((await (await pollVia(send, room, ticket)).json()) as Record<string, any>).admission.admission_token as string;

    const { ticket } = (await joinVia(before, room, device)).body as { ticket: string };
    await tick(room);
    const oldToken = await admissionToken(before, ticket);
    expect(decodeProtectedHeader(oldToken).kid).toBe(old.kid);

    const published = await jwks(overlap);
    expect(published.keys.map((k) => k.kid)).toEqual([next.kid, old.kid]);
    expect(published.keys.every((k) => !("d" in k))).toBe(true);
    // A protected service holding the overlap JWKS verifies tokens from before and after the rotation.
    const newToken = await admissionToken(overlap, ticket);
    expect(decodeProtectedHeader(newToken).kid).toBe(next.kid);
    for (const t of [oldToken, newToken]) {
      // Verified on the tests' clock: the token's exp is on it, not on the real date.
      const { payload } = await jwtVerify(t, createLocalJWKSet(published), {
        algorithms: ["ES256"],
        currentDate: new Date(testClock.now()),
      });
      expect(payload.cnf).toEqual(decodeJwt(ticket).cnf);
    }
    // After: the old key is gone from the JWKS, so what it signed no longer verifies.
    const remaining = await jwks(after);
    expect(remaining.keys.map((k) => k.kid)).toEqual([next.kid]);
    // Refused for want of its key, not for its age: the same token still verifies against the overlap set.
    const verifyAt = { algorithms: ["ES256"], currentDate: new Date(testClock.now()) };
    await expect(jwtVerify(oldToken, createLocalJWKSet(remaining), verifyAt)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
