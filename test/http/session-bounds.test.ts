import { beforeAll, describe, expect, it } from "vitest";
import { registerMetrics } from "../../src/register/register";
import { ADMIN_TOKEN, adminGet, call, createRoom, join, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";
import { seedValidHolders } from "../helpers/register";
import { MDOC, SD_JWT, admittedOffer, credential, decodeJwt, token, walletKeys, withAccess } from "../helpers/wallet";

/**
 * One admission buys one issuance session, bounded in time, in credentials and in register reads.
 * Each test is an attack by someone holding one real admission (its device key) and as many fresh keys
 * as they like, sending requests one after the other and all at once.
 */
let holders: string[] = [];
beforeAll(async () => {
  holders = await seedValidHolders(60);
});
let next = 0;
const holder = () => holders[next++]!;

async function admittedDevice(room: string) {
  const joined = await join(room, { personId: holder() });
  expect(joined.status).toBe(201);
  await tick(room);
  return joined;
}

async function session(room: string) {
  const joined = await admittedDevice(room);
  const { code } = await admittedOffer(room, joined.ticket);
  const granted = await token(joined.device, code);
  expect(granted.status).toBe(200);
  return { ...joined, code, accessToken: granted.body.access_token as string };
}

describe("the pre-authorized code is single use", () => {
  it("the admitted device's own second redemption is refused; ten at once give exactly one token", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const s = await session(room);
    const again = await token(s.device, s.code);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: "invalid_grant", reason: "code_used" });

    const other = await admittedDevice(room);
    const { code } = await admittedOffer(room, other.ticket);
    const answers = await Promise.all(Array.from({ length: 10 }, () => token(other.device, code)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) expect(a.body.error).toBe("invalid_grant");
  });

  it("a fresh code from polling again resumes the same session with what it already used, never a second one", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, session_credentials_per_configuration: 1 });
    const s = await session(room);
    const [k1, k2] = await walletKeys(2);
    expect((await credential(s.device, s.accessToken, MDOC, [k1!])).status).toBe(200);
    // "Lost" the token answer, polled again, redeemed the fresh code: a new token for the same session...
    const resumed = await token(s.device, (await admittedOffer(room, s.ticket)).code);
    expect(resumed.status).toBe(200);
    expect((await adminGet(room)).sessions_open).toBe(1);
    // ...whose quota is already spent for that configuration.
    const more = await credential(s.device, resumed.body.access_token, MDOC, [k2!]);
    expect(more.status).toBe(400);
    expect(more.body).toMatchObject({ error: "credential_request_denied", reason: "credential_quota_exhausted" });
  });
});

describe("a session issues a bounded number of credentials and reads the register a bounded number of times", () => {
  it("41 credential requests with one token: at most the batch size per configuration, then credential_request_denied", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, session_register_reads: 100 });
    const s = await session(room);
    const limits = (await adminGet(room)).session_limits;
    expect(limits).toEqual({ credentials_per_configuration: 4, register_reads: 100 });
    const statuses: number[] = [];
    for (let i = 0; i < 41; i++) {
      const answer = await credential(s.device, s.accessToken, i % 2 ? MDOC : SD_JWT, await walletKeys(1));
      statuses.push(answer.status);
      if (answer.status !== 200)
        expect(answer.body).toMatchObject({ error: "credential_request_denied", reason: "credential_quota_exhausted" });
    }
    expect(statuses.filter((x) => x === 200)).toHaveLength(8); // 4 mdocs + 4 SD-JWT VCs
    expect(statuses.slice(8).every((x) => x === 400)).toBe(true);
  });

  it("register reads are capped per session, and a burst of concurrent requests cannot overdraw either limit", async () => {
    const room = await createRoom({
      new_users_per_minute: 600,
      shards: 1,
      session_register_reads: 2,
      session_credentials_per_configuration: 10,
    });
    const s = await session(room);
    const readsBefore = registerMetrics().reads;
    const burst = await Promise.all(
      Array.from({ length: 12 }, async () => credential(s.device, s.accessToken, SD_JWT, await walletKeys(1))),
    );
    expect(burst.filter((a) => a.status === 200)).toHaveLength(2);
    for (const refused of burst.filter((a) => a.status !== 200)) {
      expect(refused.body).toMatchObject({ error: "credential_request_denied", reason: "register_read_quota_exhausted" });
    }
    // The refused ten never reached the register.
    expect(registerMetrics().reads - readsBefore).toBe(2);
  });

  it("a refused request gives back what it reserved: a used c_nonce costs no read and no credential", async () => {
    const room = await createRoom({
      new_users_per_minute: 600,
      shards: 1,
      session_register_reads: 1,
      session_credentials_per_configuration: 1,
    });
    const s = await session(room);
    const [k] = await walletKeys(1);
    const bad = await credential(s.device, s.accessToken, MDOC, [k!], "not-a-nonce-of-ours");
    expect(bad.body.error).toBe("invalid_nonce");
    expect((await credential(s.device, s.accessToken, MDOC, [k!])).status).toBe(200);
  });
});

describe("the token is tied to its session", () => {
  it("after credential_accepted the slot is free and the same token gets 401 invalid_token, with a fresh c_nonce too", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const s = await session(room);
    const issued = await credential(s.device, s.accessToken, MDOC, await walletKeys(1));
    expect(issued.status).toBe(200);
    const done = await withAccess("/notification", s.device, s.accessToken, {
      notification_id: issued.body.notification_id,
      event: "credential_accepted",
    });
    expect(done.status).toBe(204);
    expect((await adminGet(room)).active).toBe(0);

    const after = await credential(s.device, s.accessToken, SD_JWT, await walletKeys(1));
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: "invalid_token", reason: "session_ended" });
    expect(after.res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    // A fresh code for the spent admission starts nothing either.
    const fresh = await token(s.device, (await admittedOffer(room, s.ticket)).code);
    expect(fresh.status).toBe(400);
    expect(fresh.body.error).toBe("invalid_grant");
  });

  it("credential_deleted ends the session too; credential_failure leaves it open and keeps the slot", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const s = await session(room);
    const first = await credential(s.device, s.accessToken, MDOC, await walletKeys(1));
    expect(
      (
        await withAccess("/notification", s.device, s.accessToken, {
          notification_id: first.body.notification_id,
          event: "credential_failure",
        })
      ).status,
    ).toBe(204);
    expect((await adminGet(room)).sessions_open).toBe(1);
    const second = await credential(s.device, s.accessToken, MDOC, await walletKeys(1));
    expect(second.status).toBe(200);
    expect(
      (
        await withAccess("/notification", s.device, s.accessToken, {
          notification_id: second.body.notification_id,
          event: "credential_deleted",
        })
      ).status,
    ).toBe(204);
    expect((await adminGet(room)).sessions_open).toBe(0);
    expect((await credential(s.device, s.accessToken, MDOC, await walletKeys(1))).status).toBe(401);
  });

  it("a notification_id is accepted once", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const s = await session(room);
    const issued = await credential(s.device, s.accessToken, SD_JWT, await walletKeys(1));
    const failure = { notification_id: issued.body.notification_id, event: "credential_failure" };
    expect((await withAccess("/notification", s.device, s.accessToken, failure)).status).toBe(204);
    const twice = await withAccess("/notification", s.device, s.accessToken, failure);
    expect(twice.status).toBe(400);
    expect(twice.body).toMatchObject({ error: "invalid_notification_id", reason: "notification_used" });
    // Nor can the used id end the session afterwards.
    const accepted = await withAccess("/notification", s.device, s.accessToken, { ...failure, event: "credential_accepted" });
    expect(accepted.body.error).toBe("invalid_notification_id");
    expect((await adminGet(room)).sessions_open).toBe(1);
  });

  it("an operator ends a session: the token dies at once and the slot is freed", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const s = await session(room);
    const admitted = (await (
      await call(`/v1/rooms/${room}/tickets/current`, { headers: { authorization: `Bearer ${s.ticket}` } })
    ).json()) as Record<string, any>;
    const ticketId = decodeJwt(admitted.admission.admission_token).sub!;
    const end = (id: string, auth = ADMIN_TOKEN) =>
      call(`/v1/admin/rooms/${room}/sessions/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${auth}` } });
    expect((await end(ticketId, "wrong")).status).toBe(401);
    expect((await end("not a ticket")).status).toBe(422);
    expect((await end(ticketId)).status).toBe(204);
    expect((await end(ticketId)).status).toBe(404);
    expect((await adminGet(room)).sessions_open).toBe(0);
    const after = await credential(s.device, s.accessToken, MDOC, await walletKeys(1));
    expect(after.status).toBe(401);
    expect(after.body.reason).toBe("session_ended");
  });

  it("a session past session_duration_seconds: its token is refused", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, session_duration_seconds: 60 });
    const s = await session(room);
    await tick(room, 61_000);
    const after = await credential(s.device, s.accessToken, MDOC, await walletKeys(1));
    expect(after.status).toBe(401);
    expect(after.body.error).toBe("invalid_token");
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
