import { env } from "cloudflare:workers";
import { base64url } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import { withDevSecrets } from "../../src/dev/secrets";
import { currentDpopNonce, DPOP_NONCE_WINDOW_MS, isCurrentDpopNonce } from "../../src/oauth/dpop-nonce";
import { createRoom, join, testClock, tick } from "../helpers/api";
import { seedValidHolders } from "../helpers/register";
import { SD_JWT, admittedOffer, credential, keyProof, nonce, token, walletKeys, withAccess } from "../helpers/wallet";

/**
 * DPoP server nonces (RFC 9449 §8–9, src/oauth/dpop-nonce.ts): the token, credential and notification
 * endpoints take only proofs that carry a nonce the server handed out in this time window or the one
 * before. Each test is a client that kept a proof, a nonce, or made one up.
 */
const testEnv = withDevSecrets(env as unknown as Env);
let holders: string[] = [];
beforeAll(async () => {
  holders = await seedValidHolders(12);
});
let next = 0;

async function admitted(room: string) {
  const joined = await join(room, { personId: holders[next++]! });
  expect(joined.status).toBe(201);
  await tick(room);
  return { ...joined, code: (await admittedOffer(room, joined.ticket)).code };
}

async function inSession(room: string) {
  const a = await admitted(room);
  const granted = await token(a.device, a.code);
  expect(granted.status).toBe(200);
  return { ...a, accessToken: granted.body.access_token as string };
}

/** The nonce of `windows` windows ago, made by the server's own key (a client that kept an old one). */
const nonceOfWindowsAgo = (windows: number) => currentDpopNonce(testEnv, testClock.now() - windows * DPOP_NONCE_WINDOW_MS);

/** The current window's number with a MAC that is not ours (same shape as a real nonce). */
function forgedNonce(real: string): string {
  const mac = crypto.getRandomValues(new Uint8Array(16));
  return `${real.split(".")[0]}.${base64url.encode(mac)}`;
}

describe("at the token endpoint (RFC 9449 §8)", () => {
  it("a proof without a nonce is 400 use_dpop_nonce with the nonce to use; the same code then succeeds, and every answer carries one", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const a = await admitted(room);
    const refused = await token(a.device, a.code, {}, { dpopNonce: null });
    expect(refused.status).toBe(400);
    expect(refused.res.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({ error: "use_dpop_nonce", status: 400 });
    const given = refused.res.headers.get("dpop-nonce");
    expect(given).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(await isCurrentDpopNonce(testEnv, given, testClock.now())).toBe(true);

    // The refusal burned nothing: the code is still good, with the nonce it was told to use.
    const granted = await token(a.device, a.code, {}, { dpopNonce: given });
    expect(granted.status).toBe(200);
    expect(granted.res.headers.get("dpop-nonce")).toBe(given);
  });

  it("a nonce from two windows ago, a forged one and one made with another key are refused; the previous window's is accepted", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const current = await currentDpopNonce(testEnv, testClock.now());
    const otherKeys = withDevSecrets({
      ...(env as unknown as Env),
      TICKET_KEYS: JSON.stringify([{ kid: "x", k: base64url.encode(new Uint8Array(32).fill(7)) }]),
    });
    const foreign = await currentDpopNonce(otherKeys, testClock.now());
    expect(foreign).not.toBe(current);
    const a = await admitted(room);
    for (const bad of [await nonceOfWindowsAgo(2), forgedNonce(current), foreign, "", "1.2", current.replace(/.$/, "")]) {
      const refused = await token(a.device, a.code, {}, { dpopNonce: bad });
      expect(refused.status, bad).toBe(400);
      expect(refused.body.error).toBe("use_dpop_nonce");
      expect(refused.res.headers.get("dpop-nonce")).toBe(current);
    }
    // Handed out just before the window turned: still good for the whole next window.
    const granted = await token(a.device, a.code, {}, { dpopNonce: await nonceOfWindowsAgo(1) });
    expect(granted.status).toBe(200);
  });

  it("a nonce held past the next window stops working, and the answer hands out the new one", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const a = await admitted(room);
    const held = await currentDpopNonce(testEnv, testClock.now());
    testClock.advance(2 * DPOP_NONCE_WINDOW_MS);
    const refused = await token(a.device, a.code, {}, { dpopNonce: held });
    expect(refused.body.error).toBe("use_dpop_nonce");
    const fresh = refused.res.headers.get("dpop-nonce");
    expect(fresh).not.toBe(held);
    // Past the code's lifetime by now: what matters is that the nonce check passed and the code's was reached.
    const next = await token(a.device, a.code, {}, { dpopNonce: fresh });
    expect(next.body.error).not.toBe("use_dpop_nonce");
  });
});

describe("at the credential and notification endpoints (RFC 9449 §9)", () => {
  it("a proof without a current nonce is 401 with a use_dpop_nonce challenge and spends nothing: the c_nonce and quota stay", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, session_credentials_per_configuration: 1 });
    const s = await inSession(room);
    const cNonce = await nonce();
    const [key] = await walletKeys(1);
    const body = { credential_configuration_id: SD_JWT, proofs: { jwt: [await keyProof(key!, cNonce)] } };
    const current = await currentDpopNonce(testEnv, testClock.now());
    for (const bad of [null, await nonceOfWindowsAgo(2), forgedNonce(current)]) {
      const refused = await withAccess("/credential", s.device, s.accessToken, body, { dpopNonce: bad });
      expect(refused.status).toBe(401);
      expect(refused.res.headers.get("content-type")).toBe("application/problem+json");
      expect(refused.body).toMatchObject({ type: "urn:antichambre:problem:use-dpop-nonce", status: 401, error: "use_dpop_nonce" });
      expect(refused.res.headers.get("www-authenticate")).toContain('error="use_dpop_nonce"');
      expect(refused.res.headers.get("dpop-nonce")).toBe(current);
    }
    // Same c_nonce, same key proof, now with the nonce: issued (the session's one credential was not spent).
    const issued = await withAccess("/credential", s.device, s.accessToken, body, { dpopNonce: current });
    expect(issued.status).toBe(200);
    expect(issued.res.headers.get("dpop-nonce")).toBe(current);

    const refused = await withAccess(
      "/notification",
      s.device,
      s.accessToken,
      { notification_id: issued.body.notification_id, event: "credential_accepted" },
      { dpopNonce: null },
    );
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe("use_dpop_nonce");
    // The notification was not taken: it goes through with the nonce.
    const noted = await withAccess("/notification", s.device, s.accessToken, {
      notification_id: issued.body.notification_id,
      event: "credential_accepted",
    });
    expect(noted.status).toBe(204);
    expect(noted.res.headers.get("dpop-nonce")).toBe(current);
  });

  it("a refusal for another reason still carries the current nonce; the helpers' retry with it gets credentials", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const s = await inSession(room);
    const bad = await withAccess("/credential", s.device, s.accessToken, { credential_configuration_id: SD_JWT });
    expect(bad.status).toBe(400);
    expect(await isCurrentDpopNonce(testEnv, bad.res.headers.get("dpop-nonce"), testClock.now())).toBe(true);
    // Two windows on: the remembered nonce is stale, the first try is refused, the retry succeeds.
    testClock.advance(2 * DPOP_NONCE_WINDOW_MS);
    const issued = await credential(s.device, s.accessToken, SD_JWT, await walletKeys(1));
    expect(issued.status).toBe(200);
  });
});

describe("the nonce itself", () => {
  it("only our window number and MAC pass; anything else a client can send is refused without throwing", async () => {
    const now = testClock.now();
    const current = await currentDpopNonce(testEnv, now);
    expect(await isCurrentDpopNonce(testEnv, current, now)).toBe(true);
    expect(await isCurrentDpopNonce(testEnv, current, now + DPOP_NONCE_WINDOW_MS)).toBe(true);
    expect(await isCurrentDpopNonce(testEnv, current, now + 2 * DPOP_NONCE_WINDOW_MS)).toBe(false);
    // A nonce "from the future" (next window, our own MAC) is not current either.
    expect(await isCurrentDpopNonce(testEnv, await currentDpopNonce(testEnv, now + DPOP_NONCE_WINDOW_MS), now)).toBe(false);
    for (const junk of [
      undefined,
      null,
      42,
      {},
      "",
      ".",
      "zzzzzzzzzzzzzzzzzzzz.x",
      `${current}x`,
      "x".repeat(10_000),
      current.toUpperCase(),
    ]) {
      expect(await isCurrentDpopNonce(testEnv, junk, now)).toBe(false);
    }
  });
});
