import { errors, jwtVerify, SignJWT, type JWTHeaderParameters } from "jose";
import type { OrderKey } from "../admission/order-key";
import type { UnsyncedBasis } from "../admission/ticket-status";
import type { HmacKeyring } from "./keyring";
import { open, seal } from "./sealed";

/**
 * The queue ticket: a compact JWS the device holds and presents on every poll.
 *
 * HS256, chosen by measurement (README, Benchmarks): only this service ever verifies a ticket, and the
 * poll path runs an order of magnitude more often than anything else, where an ES256 verify would cost
 * about two whole hello-world requests and an HMAC about half of one. Keys carry a `kid` so they rotate.
 *
 * Claims: `sub` ticket id, `ord` the order key [a, b] (the holder's place), `cnf.jkt` the device key's
 * JWK thumbprint (RFC 7638), `room` and `aud` binding it to one room, `iat`/`exp`; for positions until
 * the room has synced the ticket (UnsyncedBasis), `ua` the people ahead the join's snapshot missed and
 * `jp` [position told, admitted total] (absent when the join told no position, or on older tickets).
 *
 * An event's pre-queue entrant carries `sord` instead of `ord`: the order key sealed (sealed.ts,
 * AES-GCM), because its stamp IS the entrant's lottery draw, which nobody may read before the seed is
 * revealed (docs/threats/lottery.md). Only those tickets pay the decryption on each poll.
 */
export const TICKET_ISSUER = "antichambre";
export const TICKET_TYPE = "antichambre-ticket+jwt";
export const TICKET_LIFETIME_SECONDS = 24 * 3600;

export function ticketAudience(room: string): string {
  return `antichambre:room:${room}`;
}

export interface TicketClaims {
  readonly room: string;
  readonly ticketId: string;
  readonly key: OrderKey;
  readonly jkt: string;
  readonly issuedAt: number;
  /** The person identifier, sealed (sealed.ts): opened only to mint the credential offer. */
  readonly person: string;
  /**
   * What the join knew that its room snapshot did not (people ahead not yet synced, and the position it
   * told). Until the snapshot a poll reads has synced this ticket, the poll counts them from here.
   */
  readonly unsynced: UnsyncedBasis;
  /** A lottery entrant: the order key travels sealed (`sord`), not readable (`ord`). */
  readonly sealedOrder?: boolean;
}

export async function signTicket(keys: HmacKeyring, t: TicketClaims, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const { ahead, toldPosition, admittedTotal, uncounted } = t.unsynced;
  const jp = toldPosition !== undefined && admittedTotal !== undefined ? { jp: [toldPosition, admittedTotal] } : {};
  const uc = uncounted ? { uc: 1 } : {};
  const ord: [number, number] = [t.key.a, t.key.b];
  const order = t.sealedOrder
    ? { sord: await seal(keys, "ticket-order", { ord }, nowMs, (iat + TICKET_LIFETIME_SECONDS) * 1000) }
    : { ord };
  return new SignJWT({ room: t.room, ...order, cnf: { jkt: t.jkt }, ja: t.issuedAt, psn: t.person, ua: ahead, ...jp, ...uc })
    .setProtectedHeader({ alg: "HS256", kid: keys.signing.kid, typ: TICKET_TYPE })
    .setIssuer(TICKET_ISSUER)
    .setAudience(ticketAudience(t.room))
    .setSubject(t.ticketId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TICKET_LIFETIME_SECONDS)
    .sign(keys.signing.key);
}

/** Why a ticket was refused; every reason is a 401 to the client, the reason goes to logs and tests. */
export type TicketFailure = "malformed" | "bad_signature" | "unknown_key" | "expired" | "wrong_room" | "bad_claims";

export type TicketResult = { ok: true; ticket: TicketClaims } | { ok: false; reason: TicketFailure };

/** Two non-negative safe integers: an order key [a, b], or a join basis [position, admitted total]. */
const PAIR = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every((n) => Number.isSafeInteger(n) && n >= 0);

/** A ticket is under 1 KiB; like DPoP proofs and sealed tokens, anything over this is refused unread. */
export const MAX_TICKET_LENGTH = 4096;

export async function verifyTicket(keys: HmacKeyring, token: string, room: string, nowMs: number): Promise<TicketResult> {
  if (token.length > MAX_TICKET_LENGTH) return { ok: false, reason: "malformed" };
  let unknownKid = false;
  try {
    const { payload } = await jwtVerify(
      token,
      (header: JWTHeaderParameters) => {
        const key = header.kid === undefined ? undefined : keys.byKid.get(header.kid);
        if (!key) {
          unknownKid = true;
          throw new errors.JWKSNoMatchingKey();
        }
        return key;
      },
      {
        algorithms: ["HS256"],
        issuer: TICKET_ISSUER,
        audience: ticketAudience(room),
        typ: TICKET_TYPE,
        currentDate: new Date(nowMs),
        requiredClaims: ["sub", "iat", "exp"],
      },
    );
    const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (payload.room !== room) return { ok: false, reason: "wrong_room" };
    if (payload.jp !== undefined && !PAIR(payload.jp)) return { ok: false, reason: "bad_claims" };
    const sealedOrder = typeof payload.sord === "string";
    const ord = sealedOrder ? await openOrder(keys, payload.sord as string, nowMs) : payload.ord;
    if (
      !PAIR(ord) ||
      typeof jkt !== "string" ||
      typeof payload.sub !== "string" ||
      typeof payload.ja !== "number" ||
      typeof payload.psn !== "string" ||
      !Number.isSafeInteger(payload.ua)
    ) {
      return { ok: false, reason: "bad_claims" };
    }
    return {
      ok: true,
      ticket: {
        room,
        ticketId: payload.sub,
        key: { a: ord[0], b: ord[1] },
        jkt,
        issuedAt: payload.ja,
        person: payload.psn,
        unsynced: {
          ahead: payload.ua as number,
          ...(PAIR(payload.jp) ? { toldPosition: payload.jp[0], admittedTotal: payload.jp[1] } : {}),
          ...(payload.uc === 1 ? { uncounted: true as const } : {}),
        },
        ...(sealedOrder ? { sealedOrder } : {}),
      },
    };
  } catch (e) {
    if (unknownKid) return { ok: false, reason: "unknown_key" };
    if (e instanceof errors.JWTExpired) return { ok: false, reason: "expired" };
    if (e instanceof errors.JWTClaimValidationFailed) {
      return { ok: false, reason: e.claim === "aud" ? "wrong_room" : "bad_claims" };
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: "bad_signature" };
    return { ok: false, reason: "malformed" };
  }
}

/** A sealed order key's [a, b], or null (then the ticket is refused as bad_claims). */
async function openOrder(keys: HmacKeyring, sealed: string, nowMs: number): Promise<unknown> {
  const opened = await open(keys, "ticket-order", sealed, nowMs);
  return opened.ok ? opened.claims.ord : null;
}
