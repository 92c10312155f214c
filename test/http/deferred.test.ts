import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminGet, createRoom, checkAnswersAgainstOpenApiInThisFile, call } from "../helpers/api";
import type { Device } from "../helpers/device";
import { arm, disarmFaults, restart } from "../helpers/faults";
import { seedValidHolders } from "../helpers/register";
import { MDOC, SD_JWT, credential, decodeJwt, walletKeys, withAccess, issuanceSession } from "../helpers/wallet";

/**
 * Deferred issuance (OpenID4VCI 1.0 §9, src/issuance/deferred.ts): a register at capacity defers the
 * credential request (202 `{transaction_id, interval}`) instead of refusing it with a 503; the deferred
 * credential endpoint completes it once the register answers. The attacks: replaying a transaction id,
 * redeeming it with another session's token, racing polls, and using a deferral to get more credentials
 * than the session allows.
 */
let holders: string[] = [];
beforeAll(async () => {
  holders = await seedValidHolders(20);
});
let next = 0;
afterEach(() => disarmFaults());

const inSession = (room: string) => issuanceSession(room, holders[next++]!);

const deferredCredential = (s: { device: Device; accessToken: string }, transactionId: unknown) =>
  withAccess("/deferred_credential", s.device, s.accessToken, { transaction_id: transactionId });

/** A request deferred by a full register gate: its transaction id. */
async function deferredRequest(s: { device: Device; accessToken: string }, configuration: string, keys: Device[]): Promise<string> {
  arm({ "register.busy": { mode: "throw" } });
  const answer = await credential(s.device, s.accessToken, configuration, keys);
  expect(answer.status).toBe(202);
  expect(answer.res.headers.get("cache-control")).toContain("no-store");
  expect(answer.body.interval).toBeGreaterThanOrEqual(1);
  expect(Object.keys(answer.body).sort()).toEqual(["interval", "transaction_id"]);
  return answer.body.transaction_id as string;
}

describe("a register at capacity", () => {
  it("defers the request (202); the deferred endpoint says pending while busy, then issues to the proof keys, once", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const s = await inSession(room);
    const keys = await walletKeys(2);
    const transactionId = await deferredRequest(s, SD_JWT, keys);

    const pending = await deferredCredential(s, transactionId);
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({ transaction_id: transactionId });
    expect(pending.body.interval).toBeGreaterThanOrEqual(1);

    disarmFaults();
    const done = await deferredCredential(s, transactionId);
    expect(done.status).toBe(200);
    expect(done.body.credentials).toHaveLength(2);
    for (const [i, { credential: sdJwt }] of (done.body.credentials as { credential: string }[]).entries()) {
      const payload = decodeJwt(sdJwt.split("~")[0]!);
      expect((payload.cnf as { jwk: Record<string, string> }).jwk).toMatchObject({ x: keys[i]!.publicJwk.x, y: keys[i]!.publicJwk.y });
    }
    // Single use: the same transaction id, by the same session, is over.
    const replay = await deferredCredential(s, transactionId);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: "invalid_transaction_id", type: "urn:antichambre:problem:invalid-transaction-id" });

    // The notification id it carried ends the session as usual.
    const noted = await withAccess("/notification", s.device, s.accessToken, {
      notification_id: done.body.notification_id,
      event: "credential_accepted",
    });
    expect(noted.status).toBe(204);
    expect((await adminGet(room)).sessions_open).toBe(0);
  });

  it("the pending transaction survives a restart of every object", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const s = await inSession(room);
    const transactionId = await deferredRequest(s, MDOC, await walletKeys(1));
    disarmFaults();
    await restart();
    const done = await deferredCredential(s, transactionId);
    expect(done.status).toBe(200);
    expect(done.body.credentials).toHaveLength(1);
  });
});

describe("a transaction id is its session's", () => {
  it("another session's token (and its own device key) cannot redeem it, unknown ids are refused, and the owner still can", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const victim = await inSession(room);
    const thief = await inSession(room);
    const transactionId = await deferredRequest(victim, MDOC, await walletKeys(1));
    disarmFaults();

    for (const id of [transactionId, `${transactionId}x`, "A".repeat(24)]) {
      const stolen = await deferredCredential(thief, id);
      expect(stolen.status).toBe(400);
      expect(stolen.body.error).toBe("invalid_transaction_id");
    }
    // The victim's token with the thief's key: the token is bound to the victim's key.
    const wrongKey = await withAccess("/deferred_credential", thief.device, victim.accessToken, { transaction_id: transactionId });
    expect(wrongKey.status).toBe(401);

    for (const bad of [123, "", "x".repeat(201), null]) {
      const refused = await deferredCredential(victim, bad);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe("invalid_credential_request");
    }
    const done = await deferredCredential(victim, transactionId);
    expect(done.status).toBe(200);
  });

  it("an access token alone, without a DPoP proof, is refused", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const s = await inSession(room);
    const res = await call("/deferred_credential", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `DPoP ${s.accessToken}` },
      body: JSON.stringify({ transaction_id: "anything" }),
    });
    expect(res.status).toBe(401);
  });
});

describe("the session's bounds hold through a deferral", () => {
  it("the deferred request keeps its reservation: no second set while pending, ten racing polls issue once", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, session_credentials_per_configuration: 1 });
    const s = await inSession(room);
    const transactionId = await deferredRequest(s, MDOC, await walletKeys(1));
    disarmFaults();

    // The register answers again, but this session's one mdoc is held by the pending transaction.
    const more = await credential(s.device, s.accessToken, MDOC, await walletKeys(1));
    expect(more.status).toBe(400);
    expect(more.body).toMatchObject({ error: "credential_request_denied", reason: "credential_quota_exhausted" });

    const polls = await Promise.all(Array.from({ length: 10 }, () => deferredCredential(s, transactionId)));
    const issued = polls.filter((p) => p.status === 200);
    expect(issued).toHaveLength(1);
    expect(issued[0]!.body.credentials).toHaveLength(1);
    for (const p of polls.filter((x) => x.status !== 200)) {
      // Either still held by the poll that is reading (202), or already redeemed (invalid_transaction_id).
      if (p.status === 202) expect(p.body.transaction_id).toBe(transactionId);
      else expect(p.body.error).toBe("invalid_transaction_id");
    }
    expect((await deferredCredential(s, transactionId)).body.error).toBe("invalid_transaction_id");
  });

  it("deferrals count against the register-read quota: a session cannot park more requests than it may make", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, session_register_reads: 2 });
    const s = await inSession(room);
    await deferredRequest(s, MDOC, await walletKeys(1));
    await deferredRequest(s, SD_JWT, await walletKeys(1));
    const third = await credential(s.device, s.accessToken, MDOC, await walletKeys(1));
    expect(third.status).toBe(400);
    expect(third.body).toMatchObject({ error: "credential_request_denied", reason: "register_read_quota_exhausted" });
  });
});

describe("discovery", () => {
  it("the issuer metadata names the deferred credential endpoint", async () => {
    const meta = (await (await call("/.well-known/openid-credential-issuer")).json()) as Record<string, string>;
    expect(meta.deferred_credential_endpoint).toBe(`${meta.credential_issuer}/deferred_credential`);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
