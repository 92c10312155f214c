import { beforeAll, describe, expect, it } from "vitest";
import { seedValidHolders } from "../helpers/register";
import { createRoom, join, poll, testClock, tick } from "../helpers/api";
import { newDevice } from "../helpers/device";
import { provenPoll } from "../helpers/proven-poll";
import { MDOC, credential, token, walletKeys } from "../helpers/wallet";

/**
 * Handing an admission to a wallet on another device (the web page's QR code): the handoff offer is
 * redeemable by any key, but only with the six digits shown to the ticket holder, a few guesses at most.
 */
const SEEDED = 40;
const holders: string[] = [];

beforeAll(async () => {
  holders.push(...(await seedValidHolders(SEEDED)));
});

async function admittedWithHandoff(room: string) {
  const joined = await join(room, { personId: holders.shift()! });
  await tick(room);
  // The tx_code comes only with a poll signed by the ticket's key (the SDK signs every poll).
  const { body } = await provenPoll(room, joined.ticket, joined.device);
  expect(body.status).toBe("admitted");
  const handoff = body.admission.handoff as { credential_offer: Record<string, any>; credential_offer_uri: string; tx_code: string };
  const grant = handoff.credential_offer.grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"];
  const boundCode = body.admission.credential_offer.grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"] as string;
  return { joined, handoff, grant, boundCode };
}

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("handoff to a wallet on another device", () => {
  it("redeems with the tx_code from another key, binds the credential to that wallet, and uses up the admission", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const { joined, handoff, grant, boundCode } = await admittedWithHandoff(room);
    expect(handoff.tx_code).toMatch(/^[0-9]{6}$/);
    expect(grant.tx_code).toMatchObject({ input_mode: "numeric", length: 6 });
    expect(handoff.credential_offer_uri).toContain(encodeURIComponent(grant["pre-authorized_code"]));
    // The same digits on every poll (derived, not random), so a QR code scanned earlier still matches.
    expect((await provenPoll(room, joined.ticket, joined.device)).body.admission.handoff.tx_code).toBe(handoff.tx_code);
    // A bearer poll (a copied ticket) shows the handoff offer, not the code that unlocks it.
    expect((await poll(room, joined.ticket)).body.admission.handoff.tx_code).toBeUndefined();

    const wallet = await newDevice();
    const missing = await token(wallet, grant["pre-authorized_code"]);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe("invalid_request");
    const bad = await token(wallet, grant["pre-authorized_code"], { tx_code: wrong(handoff.tx_code) });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_grant");
    expect(bad.body.error_description).toContain("4 attempts left");

    const ok = await token(wallet, grant["pre-authorized_code"], { tx_code: handoff.tx_code });
    expect(ok.status).toBe(200);
    const keys = await walletKeys(1);
    const issued = await credential(wallet, ok.body.access_token, MDOC, keys);
    expect(issued.status).toBe(200);
    expect(typeof issued.body.credentials[0].credential).toBe("string");
    // The access token is the wallet's: the device that waited cannot use it.
    expect((await credential(joined.device, ok.body.access_token, MDOC, keys)).status).toBe(401);
    // One admission, one session: the device-bound code is now spent too.
    const again = await token(joined.device, boundCode);
    expect(again.status).toBe(400);
    expect(again.body.error_description).toContain("already used");
  });

  it("allows five wrong guesses, then refuses even the right code; the device-bound code still works", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const { joined, handoff, grant, boundCode } = await admittedWithHandoff(room);
    const thief = await newDevice();
    for (let i = 0; i < 5; i++) {
      const r = await token(thief, grant["pre-authorized_code"], { tx_code: wrong(handoff.tx_code) });
      expect(r.body.error).toBe("invalid_grant");
    }
    const late = await token(thief, grant["pre-authorized_code"], { tx_code: handoff.tx_code });
    expect(late.status).toBe(400);
    expect(late.body.error_description).toContain("too many");
    expect((await token(joined.device, boundCode)).status).toBe(200);
  });

  it("compares at most five guesses however many are sent at once, the right digits among them", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const { handoff, grant } = await admittedWithHandoff(room);
    const guesses = [...Array.from({ length: 11 }, () => wrong(handoff.tx_code)), handoff.tx_code];
    const wallets = await Promise.all(guesses.map(() => newDevice()));
    const answers = await Promise.all(guesses.map((tx_code, i) => token(wallets[i]!, grant["pre-authorized_code"], { tx_code })));
    const compared = answers.filter((r) => r.status === 200 || /^wrong transaction code/.test(r.body.error_description ?? ""));
    const refused = answers.filter((r) => /^too many/.test(r.body.error_description ?? ""));
    // Checking "spent?" before comparing let every guess in flight be compared (12 here).
    expect(compared).toHaveLength(5);
    expect(refused).toHaveLength(7);
    expect(refused.every((r) => r.status === 400 && r.body.error === "invalid_grant")).toBe(true);
  });

  it("refuses a transaction code on a device-bound code, and the bound code on another key", async () => {
    const room = await createRoom({ new_users_per_minute: 600 });
    const { handoff, boundCode } = await admittedWithHandoff(room);
    const r = await token(await newDevice(), boundCode, { tx_code: handoff.tx_code });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
    const other = await token(await newDevice(), boundCode);
    expect(other.status).toBe(400);
    expect(other.body.reason).toBe("key_not_bound_to_code");
  });
});
