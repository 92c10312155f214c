import { beforeAll, describe, expect, it } from "vitest";
import { accessTokenHash } from "../../src/auth/dpop";
import { DEV_TICKET_KEYS } from "../../src/config/dev-defaults";
import { hmacKeyring } from "../../src/tickets/keyring";
import { seal } from "../../src/tickets/sealed";
import { CONFIRMATION_ALPHABET, MAX_APPROVAL_ATTEMPTS, MAX_PENDING_WALLETS } from "../../src/issuance/handoff";
import { seedValidHolders } from "../helpers/register";
import { ORIGIN, call, createRoom, join, poll, testClock, tick, checkAnswersAgainstOpenApiInThisFile } from "../helpers/api";
import { newDevice } from "../helpers/device";
import { GRANT, approvalProof, approve, askToken, fetchOffer, handoffLink, offerUrl, otherCode, scannedCode } from "../helpers/handoff";
import { MDOC, credential, token, walletKeys } from "../helpers/wallet";

/**
 * Handing an admission to a wallet on another device (docs/threats/handoff.md): the waiting page's QR
 * code is a single-use, short-lived offer reference; the wallet that redeems it gets a token only once
 * the page (the ticket's device key) approves the code the wallet shows. What a photo, screenshot or
 * screen share of the page gives, and what someone who sees only the QR code can do, is not enough.
 */
const SEEDED = 40;
const holders: string[] = [];

beforeAll(async () => {
  holders.push(...(await seedValidHolders(SEEDED)));
});

async function admitted(room: string) {
  const joined = await join(room, { personId: holders.shift()! });
  expect(joined.status).toBe(201);
  await tick(room);
  const { body } = await poll(room, joined.ticket);
  expect(body.status).toBe("admitted");
  const boundCode = body.admission.credential_offer.grants[GRANT]["pre-authorized_code"] as string;
  return { ...joined, boundCode };
}

/** A wallet that scanned the page's current QR code and asked for its token: pending, with its code. */
async function pendingWallet(room: string, ticket: string) {
  const device = await newDevice();
  const code = await scannedCode(room, ticket);
  const first = await askToken(device, code);
  expect(first.status).toBe(400);
  expect(first.body.error).toBe("authorization_pending");
  return { device, code, confirmation: first.confirmation! };
}

describe("the handoff offer by reference", () => {
  it("is a short link to this service, fresh on every poll, answered once, with no tx_code", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const person = await admitted(room);
    const link = await handoffLink(room, person.ticket);
    expect(link.startsWith(`openid-credential-offer://?credential_offer_uri=${encodeURIComponent(`${ORIGIN}/offers/`)}`)).toBe(true);
    // Small enough for a QR code any phone reads off a screen (the offer by value was about 1,000).
    expect(link.length).toBeLessThan(500);
    expect(await handoffLink(room, person.ticket)).not.toBe(link);
    const { body: polled } = await poll(room, person.ticket);
    expect(polled.admission.handoff.tx_code).toBeUndefined();
    expect(polled.admission.handoff.credential_offer).toBeUndefined();

    const first = await fetchOffer(link);
    expect(first.status).toBe(200);
    expect(first.body.credential_issuer).toBe(ORIGIN);
    expect(first.body.grants[GRANT].tx_code).toBeUndefined();
    expect(typeof first.body.grants[GRANT]["pre-authorized_code"]).toBe("string");
    expect(first.body.grants[GRANT].interval).toBeGreaterThanOrEqual(1);
    // A screenshot of that QR code, scanned after the person's wallet did: nothing.
    const again = await fetchOffer(link);
    expect(again.status).toBe(404);
    expect(again.body.reason).toBe("offer_already_used");
    // Nor twice at once: one answer wins.
    const other = await handoffLink(room, person.ticket);
    const racing = await Promise.all(Array.from({ length: 6 }, () => fetchOffer(other)));
    expect(racing.filter((r) => r.status === 200)).toHaveLength(1);
    expect(racing.filter((r) => r.status === 404)).toHaveLength(5);
  });

  it("expires after two minutes, never after the admission, and refuses anything that is not one", async () => {
    const room = await createRoom({ new_users_per_minute: 600, admission_ttl_seconds: 300 });
    const person = await admitted(room);
    const { body } = await poll(room, person.ticket);
    const handoff = body.admission.handoff as { credential_offer_uri: string; expires_at: string };
    expect(Date.parse(handoff.expires_at) - testClock.now()).toBeLessThanOrEqual(120_000);
    testClock.advance(121_000);
    const late = await fetchOffer(handoff.credential_offer_uri);
    expect(late.status).toBe(404);
    expect(late.body.reason).toBe("offer_expired");

    const short = await createRoom({ new_users_per_minute: 600, admission_ttl_seconds: 30 });
    const brief = await admitted(short);
    const { body: b } = await poll(short, brief.ticket);
    expect(b.admission.handoff.expires_at).toBe(b.admission_expires_at);

    // Garbage, and a sealed value of another purpose (a pre-authorized code) in the reference's place.
    const ring = await hmacKeyring(DEV_TICKET_KEYS);
    const foreign = await seal(
      ring,
      "pre-authorized-code",
      { room, tid: "0.1", ord: [0, 0], pid: "FR-000001", handoff: true },
      testClock.now(),
      testClock.now() + 60_000,
    );
    for (const id of [
      "x",
      foreign,
      `${offerUrl(await handoffLink(room, person.ticket))
        .split("/")
        .pop()!
        .slice(0, -2)}AA`,
    ]) {
      const res = await call(`/offers/${id}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
  });
});

describe("handoff approval", () => {
  it("photo attack: a wallet with an offer captured from the page never gets a token while the page approves the real wallet's code", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const person = await admitted(room);
    // The thief photographs a QR code and scans it; the person's wallet scans the next one.
    const thief = await pendingWallet(room, person.ticket);
    const wallet = await pendingWallet(room, person.ticket);
    expect(wallet.confirmation).toMatch(new RegExp(`^[${CONFIRMATION_ALPHABET}]{6}$`));
    expect(wallet.confirmation).not.toBe(thief.confirmation);
    // The wallet asks again with a new proof: still pending, the same code on its screen.
    expect((await askToken(wallet.device, wallet.code)).confirmation).toBe(wallet.confirmation);

    const approved = await approve(room, person.ticket, person.device, wallet.confirmation);
    expect(approved).toMatchObject({ status: 200, body: { status: "approved", attempts_left: MAX_APPROVAL_ATTEMPTS - 1 } });

    // The thief, with either code it holds, stays pending: only the approved key gets a token.
    expect((await askToken(thief.device, thief.code)).body.error).toBe("authorization_pending");
    expect((await askToken(thief.device, wallet.code)).body.error).toBe("authorization_pending");
    const granted = await token(wallet.device, wallet.code);
    expect(granted.status).toBe(200);
    const keys = await walletKeys(1);
    expect((await credential(wallet.device, granted.body.access_token, MDOC, keys)).status).toBe(200);
    // The token is the wallet's: neither the thief nor the browser that waited can use it.
    expect((await credential(thief.device, granted.body.access_token, MDOC, keys)).status).toBe(401);
    expect((await credential(person.device, granted.body.access_token, MDOC, keys)).status).toBe(401);
    // One admission, one session: the thief still gets nothing, and the browser's own code is spent.
    expect((await token(thief.device, thief.code)).status).toBe(400);
    expect((await token(person.device, person.boundCode)).body.error_description).toContain("already used");
  });

  it("whoever sees only the QR code cannot approve, and their pending wallets do not crowd out the real one", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const person = await admitted(room);
    const wallet = await pendingWallet(room, person.ticket);
    // A stranger who scanned a QR code floods the handoff with fresh wallet keys.
    const code = await scannedCode(room, person.ticket);
    const strangers = await Promise.all(Array.from({ length: MAX_PENDING_WALLETS + 3 }, () => newDevice()));
    const flood = await Promise.all(strangers.map((s) => askToken(s, code)));
    expect(flood.every((r) => r.body.error === "authorization_pending")).toBe(true);
    // With no ticket, and with only their own key, they cannot approve anything (nor spend attempts).
    const noTicket = await approve(room, null, strangers[0]!, flood[0]!.confirmation!);
    expect(noTicket.status).toBe(401);
    // The real wallet asks again (as it does every `interval`): the same code, still waiting.
    expect((await askToken(wallet.device, wallet.code)).confirmation).toBe(wallet.confirmation);
    const approved = await approve(room, person.ticket, person.device, wallet.confirmation);
    expect(approved).toMatchObject({ status: 200, body: { attempts_left: MAX_APPROVAL_ATTEMPTS - 1 } });
    expect((await token(wallet.device, wallet.code)).status).toBe(200);
  });

  it("needs a DPoP proof by the ticket's key: a copied ticket alone, or with another key's proof, neither approves nor spends an attempt", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const person = await admitted(room);
    const wallet = await pendingWallet(room, person.ticket);
    const thief = await newDevice();
    const path = `/v1/rooms/${room}/tickets/current/handoff`;

    const bare = await approve(room, person.ticket, null, wallet.confirmation);
    expect(bare).toMatchObject({ status: 401, body: { error: "invalid_dpop_proof" } });
    const otherKey = await approve(room, person.ticket, thief, wallet.confirmation);
    expect(otherKey).toMatchObject({ status: 401, body: { reason: "key_not_bound_to_ticket" } });
    // The device's own key, but a proof not tied to this ticket (no ath), or for another request.
    expect((await approve(room, person.ticket, person.device, wallet.confirmation, { ath: null })).status).toBe(401);
    const getProof = await approve(room, person.ticket, null, wallet.confirmation, {
      proof: await person.device.proof("GET", `${ORIGIN}${path}`),
    });
    expect(getProof.status).toBe(401);
    // A malformed code is bad input: refused, nothing spent.
    const malformed = await approve(room, person.ticket, person.device, "0O1IL!");
    expect(malformed).toMatchObject({ status: 422, body: { reason: "malformed_code" } });
    expect((await token(wallet.device, wallet.code)).body.error).toBe("authorization_pending");

    // The real approval, typed in lower case with a separator: all five attempts were still there.
    const typed = `${wallet.confirmation.slice(0, 3)}-${wallet.confirmation.slice(3)}`.toLowerCase();
    const proof = await approvalProof(person.device, path, await accessTokenHash(person.ticket));
    const ok = await approve(room, person.ticket, null, typed, { proof });
    expect(ok).toMatchObject({ status: 200, body: { attempts_left: MAX_APPROVAL_ATTEMPTS - 1 } });
    // The same proof again is a replay.
    expect((await approve(room, person.ticket, null, typed, { proof })).body.reason).toBe("replayed");
    expect((await token(wallet.device, wallet.code)).status).toBe(200);
  });

  it("allows five approvals per admission: then refuses even the right code; the device-bound code still works", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const person = await admitted(room);
    const wallet = await pendingWallet(room, person.ticket);
    for (let i = 1; i <= MAX_APPROVAL_ATTEMPTS; i++) {
      const wrong = await approve(room, person.ticket, person.device, otherCode(wallet.confirmation, i));
      expect(wrong).toMatchObject({ status: 400, body: { reason: "wrong_code", attempts_left: MAX_APPROVAL_ATTEMPTS - i } });
    }
    const late = await approve(room, person.ticket, person.device, wallet.confirmation);
    expect(late).toMatchObject({ status: 403, body: { reason: "too_many_attempts" } });
    expect((await token(wallet.device, wallet.code)).body.error).toBe("authorization_pending");
    expect((await token(person.device, person.boundCode)).status).toBe(200);
  });

  it("compares at most five codes however many are sent at once, the right one among them", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const person = await admitted(room);
    const wallet = await pendingWallet(room, person.ticket);
    const codes = [...Array.from({ length: 11 }, (_, i) => otherCode(wallet.confirmation, 1 + (i % 30))), wallet.confirmation];
    const answers = await Promise.all(codes.map((c) => approve(room, person.ticket, person.device, c)));
    const compared = answers.filter((r) => r.status === 200 || r.body.reason === "wrong_code");
    const refused = answers.filter((r) => r.body.reason === "too_many_attempts");
    expect(compared).toHaveLength(MAX_APPROVAL_ATTEMPTS);
    expect(refused).toHaveLength(codes.length - MAX_APPROVAL_ATTEMPTS);
    expect(refused.every((r) => r.status === 403)).toBe(true);
    // The wallet gets its token exactly when the right code was among those compared.
    const rightCompared = answers[codes.length - 1]!.status === 200;
    expect((await token(wallet.device, wallet.code)).status).toBe(rightCompared ? 200 : 400);
  });

  it("a wallet that lost its token answer scans a fresh QR code and its approved key gets the same session back", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const person = await admitted(room);
    const wallet = await pendingWallet(room, person.ticket);
    expect((await approve(room, person.ticket, person.device, wallet.confirmation)).status).toBe(200);
    const lost = await token(wallet.device, wallet.code);
    expect(lost.status).toBe(200);
    // The answer never arrived; the old QR code is used up. A fresh one, the same wallet key.
    const fresh = await scannedCode(room, person.ticket);
    const resumed = await token(wallet.device, fresh);
    expect(resumed.status).toBe(200);
    expect(resumed.body.expires_in).toBeLessThanOrEqual(lost.body.expires_in);
    expect((await credential(wallet.device, resumed.body.access_token, MDOC, await walletKeys(1))).status).toBe(200);
    // Another key with the fresh code is still only pending.
    expect((await askToken(await newDevice(), fresh)).body.error).toBe("authorization_pending");
  });

  it("is refused before admission, and leaves the device-bound code as it was: its own key only, no approval", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1, paused: true });
    const waiting = await join(room, { personId: holders.shift()! });
    expect(waiting.body.status).toBe("waiting");
    const early = await approve(room, waiting.ticket, waiting.device, "ABCDEF");
    expect(early).toMatchObject({ status: 409, body: { reason: "ticket_waiting" } });

    const other = await createRoom({ new_users_per_minute: 600 });
    const person = await admitted(other);
    const stranger = await token(await newDevice(), person.boundCode);
    expect(stranger.status).toBe(400);
    expect(stranger.body.reason).toBe("key_not_bound_to_code");
    expect((await token(person.device, person.boundCode)).status).toBe(200);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
