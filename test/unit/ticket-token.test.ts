import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { hmacKeyring } from "../../src/tickets/keyring";
import { seal } from "../../src/tickets/sealed";
import { signTicket, TICKET_ISSUER, TICKET_TYPE, ticketAudience, verifyTicket, type TicketClaims } from "../../src/tickets/ticket-token";
import { key, T0 } from "./fixtures";

/**
 * The queue ticket's own claims round-trip, in particular the join's basis for positions before the
 * room has synced the ticket (`ua`, and `jp` [position told, admitted total]), which older tickets lack.
 */
const RAW = JSON.stringify([{ kid: "t1", k: "gpjj7LylSJ7aPO4vvLtAWmlQXxDMmT0knN8D0fHDElM" }]);

const claims = (unsynced: TicketClaims["unsynced"]): TicketClaims => ({
  room: "permis",
  ticketId: "1.9",
  key: key(T0, 1, 9),
  jkt: "j".repeat(43),
  issuedAt: T0,
  person: "sealed",
  unsynced,
});

/** A ticket signed with the ring's key and exactly `payload` (to forge claim shapes signTicket never makes). */
async function rawTicket(payload: Record<string, unknown>): Promise<string> {
  const ring = await hmacKeyring(RAW);
  return new SignJWT({ room: "permis", ord: [T0, 2 ** 32 + 9], cnf: { jkt: "j".repeat(43) }, ja: T0, psn: "sealed", ua: 3, ...payload })
    .setProtectedHeader({ alg: "HS256", kid: "t1", typ: TICKET_TYPE })
    .setIssuer(TICKET_ISSUER)
    .setAudience(ticketAudience("permis"))
    .setSubject("1.9")
    .setIssuedAt(Math.floor(T0 / 1000))
    .setExpirationTime(Math.floor(T0 / 1000) + 3600)
    .sign(ring.signing.key);
}

describe("queue ticket claims", () => {
  it("carry the join's basis: unsynced people ahead, and the position told with the admitted total then", async () => {
    const ring = await hmacKeyring(RAW);
    for (const unsynced of [{ ahead: 3, toldPosition: 44, admittedTotal: 100 }, { ahead: 0 }]) {
      const verified = await verifyTicket(ring, await signTicket(ring, claims(unsynced), T0), "permis", T0);
      expect(verified).toEqual({ ok: true, ticket: claims(unsynced) });
    }
  });

  it("still read tickets issued before `jp` existed (no bound), and refuse a malformed one", async () => {
    const ring = await hmacKeyring(RAW);
    const old = await verifyTicket(ring, await rawTicket({}), "permis", T0);
    expect(old.ok && old.ticket.unsynced).toEqual({ ahead: 3 });
    for (const jp of [[44], [44, -1], ["44", 100], [44, 1.5], { p: 44 }, null]) {
      expect(await verifyTicket(ring, await rawTicket({ jp }), "permis", T0), JSON.stringify(jp)).toEqual({
        ok: false,
        reason: "bad_claims",
      });
    }
  });

  it("seal a lottery entrant's order key: no readable `ord`, the same key back on verify, and a foreign seal refused", async () => {
    const ring = await hmacKeyring(RAW);
    // A drawn stamp inside the pre-queue (unlike a FIFO stamp, not the join time `ja`).
    const entrant = { ...claims({ ahead: 0 }), key: key(T0 + 12_345, 1, 9), sealedOrder: true };
    const token = await signTicket(ring, entrant, T0);
    const payload = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    expect(payload.ord).toBeUndefined();
    expect(JSON.stringify(payload)).not.toContain(String(entrant.key.a));
    expect(await verifyTicket(ring, token, "permis", T0)).toEqual({ ok: true, ticket: entrant });
    // A seal made for another purpose (here the ticket's person seal), or an unsealed pair, is not an order key.
    const personSeal = await seal(ring, "ticket-person", { ord: [T0, 2 ** 32 + 9] }, T0, T0 + 3_600_000);
    expect(await verifyTicket(ring, await rawTicket({ ord: undefined, sord: personSeal }), "permis", T0)).toEqual({
      ok: false,
      reason: "bad_claims",
    });
    expect(await verifyTicket(ring, await rawTicket({ ord: undefined, sord: "a.b.c.d.e" }), "permis", T0)).toEqual({
      ok: false,
      reason: "bad_claims",
    });
  });
});
