import { env } from "cloudflare:workers";
import { calculateJwkThumbprint, decodeJwt, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { seedValidHolders } from "../helpers/register";
import { accessTokenHash, DPOP_CLOCK_SKEW_SECONDS, DPOP_MAX_AGE_SECONDS } from "../../src/auth/dpop";
import { runDurableObjectAlarm } from "cloudflare:test";
import { REPLAY_SHARDS } from "../../src/edge/replay";
import { replayGuardAt } from "../../src/edge/objects";
import { ORIGIN, call, createRoom, join, newDevice, poll, testClock, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";
import type { Device } from "../helpers/device";
import { serverDpopNonce } from "../helpers/dpop-nonce";
import { approve, askToken, scannedCode } from "../helpers/handoff";
import { MDOC, admittedOffer, credential, keyProof, nonce, token, walletKeys } from "../helpers/wallet";

/**
 * What a copy is worth on another device (SECURITY.md, "Stolen tickets, codes and tokens"), and how long
 * a captured one-time value stays refused. Complements test/http/issuance.test.ts (a code is single use
 * and refused to another key; an access token is refused with another key's proof; a used c_nonce is
 * refused) and test/http/handoff.test.ts (the handoff offer and its approval), without repeating them.
 */
const SEEDED = 40;
const holders: string[] = [];

beforeAll(async () => {
  holders.push(...(await seedValidHolders(SEEDED)));
  // Other files take holders from the front; these tests take theirs from the back.
  holders.reverse();
});

async function admitted(room: string) {
  const joined = await join(room, { personId: holders.shift()! });
  expect(joined.status).toBe(201);
  await tick(room);
  return { ...joined, ...(await admittedOffer(room, joined.ticket)) };
}

/** A DPoP proof for a request carrying an access token, with every claim under the test's control. */
async function accessProof(
  device: Device,
  path: string,
  accessToken: string,
  ath: string,
  o: { iat?: number; jti?: string } = {},
): Promise<string> {
  return new SignJWT({ htm: "POST", htu: `${ORIGIN}${path}`, jti: o.jti ?? crypto.randomUUID(), ath, nonce: await serverDpopNonce() })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: device.publicJwk })
    .setIssuedAt(o.iat ?? Math.floor(testClock.now() / 1000))
    .sign(device.privateKey);
}

async function sendWithProof(
  path: string,
  accessToken: string,
  proof: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, any> }> {
  const res = await call(path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `DPoP ${accessToken}`, dpop: proof },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

describe("a copied ticket", () => {
  it("shows its place and admission to whoever holds it, but the device-bound code and the admission token stay the original key's", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const phone = await admitted(room);
    const thief = await newDevice();
    // A poll is a bearer request: the copy reads the same answer (the decision and its cost: SECURITY.md).
    const seen = await poll(room, phone.ticket);
    expect(seen.body.status).toBe("admitted");
    // The admission token names the phone's key (cnf.jkt) for any protected service that checks it.
    const admission = decodeJwt(seen.body.admission.admission_token) as { cnf: { jkt: string } };
    expect(admission.cnf.jkt).toBe(await calculateJwkThumbprint(phone.device.publicJwk, "sha256"));
    expect(admission.cnf.jkt).toBe((decodeJwt(phone.ticket) as { cnf: { jkt: string } }).cnf.jkt);
    // The device-bound pre-authorized code is refused to any other key, and stays usable by its own.
    const stolen = await token(thief, phone.code);
    expect(stolen.status).toBe(400);
    expect(stolen.body.reason).toBe("key_not_bound_to_code");
    expect((await token(phone.device, phone.code)).status).toBe(200);
  });

  it("shows the handoff offer, but cannot approve a wallet for it: only a request signed by the ticket's key can", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const phone = await admitted(room);
    const thief = await newDevice();
    // The copy reads the handoff offer (by reference) and redeems it with the thief's wallet key: pending.
    const code = await scannedCode(room, phone.ticket);
    const pending = await askToken(thief, code);
    expect(pending.body.error).toBe("authorization_pending");
    // Approving the thief's own code needs a DPoP proof by the ticket's key: the copy has none.
    expect((await approve(room, phone.ticket, null, pending.confirmation!)).status).toBe(401);
    expect((await approve(room, phone.ticket, thief, pending.confirmation!)).body.reason).toBe("key_not_bound_to_ticket");
    expect((await token(thief, code)).body.error).toBe("authorization_pending");
    // The holder's own approval (the page, signed by the phone's key) lets that wallet in: their choice.
    expect((await approve(room, phone.ticket, phone.device, pending.confirmation!)).status).toBe(200);
    expect((await token(thief, code)).status).toBe(200);
  });
});

describe("access tokens on another device, and replayed DPoP proofs", () => {
  it("the notification endpoint refuses another key's proof, a replayed jti and a proof for another endpoint", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const phone = await admitted(room);
    const at = (await token(phone.device, phone.code)).body.access_token as string;
    const ath = await accessTokenHash(at);
    const [walletKey] = await walletKeys(1);
    const issued = await credential(phone.device, at, MDOC, [walletKey!]);
    expect(issued.status).toBe(200);
    const note = { notification_id: issued.body.notification_id, event: "credential_accepted" };

    const thief = await newDevice();
    const wrongKey = await sendWithProof(
      "/notification",
      at,
      await accessProof(thief, "/notification", at, await accessTokenHash(at)),
      note,
    );
    expect(wrongKey).toMatchObject({ status: 401, body: { error: "invalid_dpop_proof", reason: "key_not_bound_to_token" } });
    const forCredential = await accessProof(phone.device, "/credential", at, ath);
    expect((await sendWithProof("/notification", at, forCredential, note)).body.reason).toBe("wrong_url");

    const proof = await accessProof(phone.device, "/notification", at, ath);
    expect((await sendWithProof("/notification", at, proof, note)).status).toBe(204);
    const replay = await sendWithProof("/notification", at, proof, note);
    expect(replay).toMatchObject({ status: 401, body: { error: "invalid_dpop_proof", reason: "replayed" } });
  });

  it("a credential request's proof is refused when replayed, through its window and after it (stale), even once the guard forgot it", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const phone = await admitted(room);
    const at = (await token(phone.device, phone.code)).body.access_token as string;
    const ath = await accessTokenHash(at);
    const [walletKey] = await walletKeys(1);
    const request = async () => ({ credential_configuration_id: MDOC, proofs: { jwt: [await keyProof(walletKey!, await nonce())] } });

    const proof = await accessProof(phone.device, "/credential", at, ath);
    expect((await sendWithProof("/credential", at, proof, await request())).status).toBe(200);
    // Within the window: remembered by the ReplayGuard.
    testClock.advance((DPOP_MAX_AGE_SECONDS - 10) * 1000);
    expect((await sendWithProof("/credential", at, proof, await request())).body.reason).toBe("replayed");
    // Past the window (max age + clock skew) the guard may drop it: the proof is then refused as stale.
    testClock.advance((10 + DPOP_CLOCK_SKEW_SECONDS + 121) * 1000);
    for (let shard = 0; shard < REPLAY_SHARDS; shard++) {
      await runDurableObjectAlarm(replayGuardAt(env, shard));
    }
    expect((await sendWithProof("/credential", at, proof, await request())).body.reason).toBe("stale");
  });

  it("a c_nonce is refused once used and once expired", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const phone = await admitted(room);
    const at = (await token(phone.device, phone.code)).body.access_token as string;
    const [walletKey] = await walletKeys(1);
    const late = await nonce();
    testClock.advance(5 * 60 * 1000 + 1_000);
    const expired = await credential(phone.device, at, MDOC, [walletKey!], late);
    expect(expired.body.error).toBe("invalid_nonce");
    expect((await credential(phone.device, at, MDOC, [walletKey!])).status).toBe(200);
  });
});

describe("a join's DPoP proof", () => {
  it("is not single use, and a replay gains nothing: the same place, bound to the same key", async () => {
    const room = await createRoom({ shards: 1, paused: true });
    const device = await newDevice();
    const url = `${ORIGIN}/v1/rooms/${room}/tickets`;
    const proof = await device.proof("POST", url);
    const personId = holders.shift()!;
    const { identityAssertion } = await import("../helpers/api");
    const body = JSON.stringify({ identity_assertion: await identityAssertion(personId) });
    const send = () =>
      call(`/v1/rooms/${room}/tickets`, { method: "POST", headers: { "content-type": "application/json", dpop: proof }, body });
    const first = (await (await send()).json()) as { ticket: string };
    const again = await send();
    expect(again.status).toBe(200);
    const replayed = decodeJwt(((await again.json()) as { ticket: string }).ticket);
    const original = decodeJwt(first.ticket);
    expect(replayed.sub).toBe(original.sub);
    expect(replayed.ord).toEqual(original.ord);
    expect(replayed.cnf).toEqual(original.cnf);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
