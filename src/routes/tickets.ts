import { Hono, type Context } from "hono";
import { TicketPersonSchema, openGrant, sealPreAuthorizedCode } from "../issuance/grants";
import { z } from "zod";
import type { RoomSnapshot } from "../admission/snapshot";
import { ticketStatus, unsyncedAtPoll, type TicketStatus } from "../admission/ticket-status";
import { DPOP_MAX_AGE_SECONDS, verifyDpopProof } from "../auth/dpop";
import { secret } from "../config/env";
import { roomSnapshot } from "../edge/snapshot-cache";
import { enforceClientLimit, enforceRateLimit } from "../edge/rate-limits";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { bearerToken, noRoom, readJson, roomParam } from "../http/request";
import { clock } from "../lib/clock";
import { currentDpopNonce } from "../oauth/dpop-nonce";
import { signAdmissionToken } from "../tickets/admission-token";
import { ecKeyring, hmacKeyring } from "../tickets/keyring";
import { verifyTicket, type TicketClaims } from "../tickets/ticket-token";
import { claimOnce } from "../edge/replay";
import { approveHandoff, normalizeConfirmationCode } from "../issuance/handoff";
import { handoffOfferLink } from "../issuance/handoff-offer";
import { credentialOffer, credentialOfferLink, type CredentialOffer } from "../issuance/offer";
import { issuerOrigin } from "../issuance/issuer-url";
import { JoinBodySchema, joinQueue } from "../tickets/join";

/**
 * Joining the queue and polling one's place.
 *
 * The join goes to one queue shard, the person's (src/tickets/join.ts); the poll touches no Durable
 * Object: it verifies the ticket's MAC and reads the isolate's cached room snapshot.
 */
export const tickets = new Hono<AppEnv>();

tickets.post("/:room/tickets", async (c) => {
  const room = roomParam(c);
  // The client's address is counted before any parsing or crypto (the rest of the checks, cheapest
  // first, are the use case's: src/tickets/join.ts).
  await enforceClientLimit(c.env, c.req.raw, "join");
  const body = await readJson(c, JoinBodySchema);
  const joined = await joinQueue(c.env, { room, body, dpop: c.req.header("dpop"), url: c.req.url, now: clock.now() });
  const result = await answer(c.env, c.req.url, joined.claims, joined.snapshot, joined.status);
  return send(c, { ...result, body: { ticket: joined.ticket, ...result.body } }, joined.created ? 201 : 200);
});

tickets.get("/:room/tickets/current", async (c) => {
  const room = roomParam(c);
  const token = bearerToken(c);
  if (!token) throw invalidTicket("missing_bearer_token");
  return send(
    c,
    await currentTicket(c.env, room, token, c.req.url, {
      // Limited per place in line (ticket ids are per room), once the ticket is known to be ours: a
      // forged one cannot use up another's budget.
      onVerified: (t) => enforceRateLimit(c.env, "poll", `${room}/${t.ticketId}`),
    }),
    200,
  );
});

/**
 * The poll's whole answer for a ticket: verified, compared with the room snapshot, and (once admitted)
 * with its credential offer. Throws the ApiError the poll would answer. Exported so the waiting page
 * renders a cookie-held ticket exactly as the poll endpoint reads it.
 *
 * The poll is a bearer request (SECURITY.md: an ES256 check on every poll would cost the hot path for
 * nothing a copied ticket could use). Nothing in its answer lets another key redeem the admission: the
 * handoff offer it carries needs the approval of the ticket's own key (`POST …/tickets/current/handoff`).
 */
export async function currentTicket(
  env: AppEnv["Bindings"],
  room: string,
  token: string,
  requestUrl: string,
  options: { onVerified?: (ticket: TicketClaims) => Promise<void> } = {},
): Promise<TicketAnswer> {
  const now = clock.now();
  const verified = await verifyTicket(await hmacKeyring(secret(env, "TICKET_KEYS")), token, room, now);
  if (!verified.ok) throw invalidTicket(verified.reason);
  await options.onVerified?.(verified.ticket);
  const snapshot = await roomSnapshot(env, room);
  if (!snapshot) throw noRoom(room);
  const { key } = verified.ticket;
  // A ticket this snapshot has not synced yet is missing from it, and so are the people who joined just
  // before it: counted from what the join knew, so a position never goes up between join and sync.
  const status = ticketStatus(snapshot, key, now, Math.random(), unsyncedAtPoll(snapshot, key, verified.ticket.unsynced));
  return answer(env, requestUrl, verified.ticket, snapshot, status);
}

export const ApproveBodySchema = z.object({ confirmation_code: z.string().min(1).max(64) }).strict();

/**
 * The waiting page approves the wallet that shows `confirmation_code` (src/issuance/handoff.ts): only
 * the ticket's holder can, proven by a DPoP proof (POST, this URL, `ath` = hash of the ticket) by the
 * key the ticket is bound to. A copied ticket, or a photo of the page, is not enough.
 */
tickets.post("/:room/tickets/current/handoff", async (c) => {
  const room = roomParam(c);
  const token = bearerToken(c);
  if (!token) throw invalidTicket("missing_bearer_token");
  const now = clock.now();
  const verified = await verifyTicket(await hmacKeyring(secret(c.env, "TICKET_KEYS")), token, room, now);
  if (!verified.ok) throw invalidTicket(verified.reason);
  const ticket = verified.ticket;
  // The poll's budget: an approval costs an ES256 check, which a copied ticket must not get for free.
  await enforceRateLimit(c.env, "poll", `${room}/${ticket.ticketId}`);
  const body = await readJson(c, ApproveBodySchema);
  const code = normalizeConfirmationCode(body.confirmation_code);
  if (code === null) {
    throw new ApiError("validation_failed", "the confirmation code is the six letters and digits your wallet shows", {
      extras: { reason: "malformed_code" },
    });
  }
  const proof = await verifyDpopProof(c.req.header("dpop"), { method: "POST", url: c.req.url }, now, token);
  const refused = (reason: string) =>
    new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${reason.replaceAll("_", " ")})`, {
      extras: { reason },
      headers: { "www-authenticate": 'DPoP algs="ES256"' },
    });
  if (!proof.ok) throw refused(proof.reason);
  if (proof.jkt !== ticket.jkt) throw refused("key_not_bound_to_ticket");
  if (!(await claimOnce(c.env, "dpop", `${proof.jkt}:${proof.jti}`, (proof.iat + DPOP_MAX_AGE_SECONDS + 120) * 1000)))
    throw refused("replayed");
  const snapshot = await roomSnapshot(c.env, room);
  if (!snapshot) throw noRoom(room);
  const status = ticketStatus(snapshot, ticket.key, now, 0, unsyncedAtPoll(snapshot, ticket.key, ticket.unsynced));
  if (status.status !== "admitted")
    throw new ApiError("conflict", "only an admitted ticket can hand its admission to a wallet", {
      extras: { reason: `ticket_${status.status}` },
    });
  const approval = await approveHandoff(c.env, { room, tid: ticket.ticketId, code, now });
  c.header("cache-control", "no-store");
  return c.json({ status: "approved", attempts_left: approval.attemptsLeft }, 200);
});

function invalidTicket(reason: string): ApiError {
  return new ApiError("invalid_ticket", `the queue ticket was refused (${reason.replaceAll("_", " ")})`, {
    extras: { reason },
    headers: { "www-authenticate": 'Bearer realm="antichambre", error="invalid_token"' },
  });
}

/** What a join or a poll answers: the JSON body, and for a waiting ticket the Retry-After in seconds. */
export interface TicketAnswer {
  body: TicketBody;
  retryAfterSeconds: number | null;
}

export type TicketBody =
  | Extract<TicketStatus, { status: "waiting" }>
  | { status: "expired" }
  | {
      status: "admitted";
      admission: {
        admitted_at: string;
        credential_offer: CredentialOffer;
        credential_offer_uri: string;
        admission_token: string;
        /**
         * For a wallet on another device (the web page's QR code): the handoff offer by reference, a
         * fresh single-use link on every answer (src/issuance/handoff-offer.ts), usable until
         * `expires_at`; the wallet then needs the page's approval (src/issuance/handoff.ts).
         */
        handoff: { credential_offer_uri: string; expires_at: string };
      };
      admission_expires_at: string;
    };

async function send(
  c: Context<AppEnv>,
  result: TicketAnswer & { body: TicketBody & { ticket?: string } },
  code: 200 | 201,
): Promise<Response> {
  c.header("cache-control", "no-store");
  if (result.retryAfterSeconds !== null) c.header("retry-after", String(result.retryAfterSeconds));
  // An admitted device's next request is /token, which requires a DPoP nonce (RFC 9449 §8): handing the
  // current one out with the admission spares every device the use_dpop_nonce round trip there.
  if (result.body.status === "admitted") c.header("dpop-nonce", await currentDpopNonce(c.env, clock.now()));
  return c.json(result.body, code);
}

async function answer(
  env: AppEnv["Bindings"],
  requestUrl: string,
  claims: TicketClaims,
  snapshot: RoomSnapshot,
  status: TicketStatus,
): Promise<TicketAnswer> {
  if (status.status === "waiting") return { body: status, retryAfterSeconds: status.poll_after_seconds };
  if (status.status === "expired") return { body: { status: "expired" }, retryAfterSeconds: null };
  const issuer = issuerOrigin(env, requestUrl);
  const ec = await ecKeyring(secret(env, "SIGNING_KEYS"));
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const person = await openGrant(ring, "ticket-person", TicketPersonSchema, claims.person, clock.now());
  if (!person.ok) throw invalidTicket("bad_claims");
  // The pre-authorized code: single use (its id is taken when redeemed), valid as long as the admission,
  // bound to this device's key and to the person, sealed so its holder cannot read or alter it. Every
  // poll gets a fresh one: the way back for a device whose token answer was lost (src/issuance/token.ts).
  const place = {
    room: snapshot.room,
    tid: claims.ticketId,
    ord: [claims.key.a, claims.key.b] as [number, number],
    pid: person.claims.pid,
  };
  const preAuthorizedCode = await sealPreAuthorizedCode(ring, { ...place, jkt: claims.jkt }, clock.now(), status.admission_expires_at);
  const offer = credentialOffer(issuer, preAuthorizedCode);
  const handoff = await handoffOfferLink(
    env,
    issuer,
    {
      room: snapshot.room,
      tid: claims.ticketId,
      ord: [claims.key.a, claims.key.b],
      pid: person.claims.pid,
      admissionExpiresAt: status.admission_expires_at,
    },
    clock.now(),
  );
  const admissionToken = await signAdmissionToken(ec, issuer, {
    room: snapshot.room,
    ticketId: claims.ticketId,
    jkt: claims.jkt,
    admittedAt: status.admitted_at,
    expiresAt: status.admission_expires_at,
  });
  return {
    body: {
      status: "admitted",
      admission: {
        admitted_at: iso(status.admitted_at),
        credential_offer: offer,
        credential_offer_uri: credentialOfferLink(offer),
        admission_token: admissionToken,
        handoff: { credential_offer_uri: handoff.link, expires_at: iso(handoff.expiresAt) },
      },
      admission_expires_at: iso(status.admission_expires_at),
    },
    retryAfterSeconds: null,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
