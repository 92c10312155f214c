import { Hono, type Context } from "hono";
import { z } from "zod";
import { snapshotConfig, wouldQueue, type RoomSnapshot } from "../admission/snapshot";
import { prequeueNotOpenUntil, stampPlan } from "../admission/event";
import { ticketStatus, unsyncedAtPoll, type TicketStatus } from "../admission/ticket-status";
import { DPOP_MAX_AGE_SECONDS, verifyDpopProof } from "../auth/dpop";
import { identityAudience, required, secret } from "../config/env";
import { roomSnapshot } from "../edge/snapshot-cache";
import { shardFor } from "../edge/shard-for";
import { requireProofOfWork } from "../edge/proof-of-work";
import { POW_SOLUTION_PATTERN } from "../abuse/pow";
import { enforceClientLimit, enforceRateLimit } from "../edge/rate-limits";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { bearerToken, noRoom, readJson, roomParam } from "../http/request";
import { clock } from "../lib/clock";
import { signAdmissionToken } from "../tickets/admission-token";
import { ecKeyring, hmacKeyring } from "../tickets/keyring";
import { lotteryRank } from "../tickets/lottery-rank";
import { signTicket, TICKET_LIFETIME_SECONDS, verifyTicket, type TicketClaims } from "../tickets/ticket-token";
import { open, seal } from "../tickets/sealed";
import { sealPreAuthorizedCode } from "../issuance/grants";
import { claimOnce } from "../edge/replay";
import { approveHandoff, normalizeConfirmationCode } from "../issuance/handoff";
import { handoffOfferLink } from "../issuance/handoff-offer";
import { credentialOffer, credentialOfferLink, type CredentialOffer } from "../issuance/offer";
import { issuerOrigin } from "../issuance/issuer-url";
import { identityBinding, verifyIdentityAssertion } from "../identity/identity-assertion";
import { personPseudonym } from "../identity/pseudonym";
import type { JoinRequest, ShardTicket } from "../../durable-objects/queue-shard";

/**
 * Joining the queue and polling one's place.
 *
 * The join goes to one queue shard (chosen by device key); the poll touches no Durable Object: it
 * verifies the ticket's MAC and reads the isolate's cached room snapshot.
 */
export const tickets = new Hono<AppEnv>();

/** Unknown members are refused so typos do not pass silently. */
export const JoinBodySchema = z
  .object({
    /** From the national identity service: who is joining (one place per person). */
    identity_assertion: z.string().min(1).max(4096),
    /** A solved proof-of-work challenge, when the room asks for one (src/edge/proof-of-work.ts). */
    pow: z.object({ challenge: z.string().min(1).max(1024), solution: z.string().regex(POW_SOLUTION_PATTERN) }).strict().optional(),
  })
  .strict();

tickets.post("/:room/tickets", async (c) => {
  const room = roomParam(c);
  // Abuse checks run cheapest first (SECURITY.md): the client's address before any parsing or crypto,
  // the device key once its proof is verified, the person once the identity assertion holds (fresh
  // device keys do not multiply one person's joins); nothing reaches a Durable Object (not even the
  // room's coordinator, for a name it may not know) before then; then the proof of work.
  await enforceClientLimit(c.env, c.req.raw, "join");
  const body = await readJson(c, JoinBodySchema);
  const now = clock.now();
  const proof = await verifyDpopProof(c.req.header("dpop"), { method: "POST", url: c.req.url }, now);
  if (!proof.ok) {
    throw new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${proof.reason.replaceAll("_", " ")})`, {
      extras: { reason: proof.reason },
      headers: { "www-authenticate": 'DPoP algs="ES256"' },
    });
  }
  await enforceRateLimit(c.env, "join_device", proof.jkt);
  const identity = await verifyIdentityAssertion(
    body.identity_assertion,
    {
      jwks: required(c.env, "IDENTITY_JWKS"),
      issuer: required(c.env, "IDENTITY_ISSUER"),
      audience: identityAudience(c.env),
      binding: identityBinding(c.env.IDENTITY_BINDING),
    },
    now,
    { jkt: proof.jkt },
  );
  if (!identity.ok) {
    throw new ApiError("invalid_identity_assertion", `the identity assertion was refused (${identity.reason.replaceAll("_", " ")})`, {
      extras: { reason: identity.reason },
    });
  }
  const person = await personPseudonym(required(c.env, "PSEUDONYM_KEY"), room, identity.personId);
  await enforceRateLimit(c.env, "join_person", person);
  const snapshot = await roomSnapshot(c.env, room);
  if (!snapshot) throw noRoom(room);
  await requireProofOfWork(c.env, { room, jkt: proof.jkt, snapshot, pow: body.pow }, now);
  const keys = await hmacKeyring(secret(c.env, "TICKET_KEYS"));
  // The settings in force now: an event's method and limits while it is live.
  const config = snapshotConfig(snapshot, now);
  // Routed by person, not device: the same person from any device reaches the shard holding their place.
  const shard = shardFor(person, config.shards);
  const stub = c.env.QUEUE_SHARD.get(c.env.QUEUE_SHARD.idFromName(`${room}#${shard}`));
  const plan = stampPlan(snapshot.config, now);

  const opensAt = prequeueNotOpenUntil(snapshot.config, now);
  if (opensAt !== null) {
    // An event is scheduled and its pre-queue is not open: nobody may take a place ahead of its draw.
    // Someone who held a place from before the event was scheduled keeps it (same answer as ever);
    // a place that expired is not renewed, since a new one would be a FIFO place ahead of the draw.
    const held = await stub.lookup(shard, person, Number.MAX_SAFE_INTEGER);
    if (!held || ticketStatus(snapshot, held.key, now, 0).status === "expired") throw prequeueNotOpen(opensAt, now);
  }

  if (config.queueing_method === "reject" && plan.kind !== "prequeue" && wouldQueue(snapshot, now)) {
    // A closed room turns newcomers away but never takes a place from someone who already has one.
    const held = await stub.lookup(shard, person, Number.MAX_SAFE_INTEGER);
    if (!held) {
      throw new ApiError("room_closed", "the room is full and not queueing new arrivals; try again later", {
        headers: { "retry-after": "60" },
      });
    }
  }

  let stamp: JoinRequest["stamp"] = { kind: "fifo" };
  if (plan.kind === "lottery") {
    stamp = { kind: "lottery", from: plan.from, to: plan.to, rank: await lotteryRank(keys, room, plan.from, person) };
  } else if (plan.kind === "prequeue") {
    if (!snapshot.lottery) throw new ApiError("temporarily_unavailable", "the event's lottery is not ready yet; try again in a moment", { headers: { "retry-after": "2" } });
    stamp = { kind: "prequeue", from: plan.from, to: plan.to, seed: snapshot.lottery.seed };
  }
  const request: JoinRequest = { shard, person, jkt: proof.jkt, syncedSeq: snapshot.syncedSeqs[shard] ?? 0, stamp };
  let held = await stub.join(request);
  if (!held.created && ticketStatus(snapshot, held.key, now, 0).status === "expired") {
    // The place was used (admitted, then left unused past its TTL): a new place at the back.
    held = await stub.requeue(request, held.seq);
  }
  // A pre-queue entrant's key is its lottery draw: it is sealed in the ticket, and nothing derived from
  // it (people ahead of it in other shards) is counted or carried before the draw. Its poll tells no
  // position until event_start, by which time the room has synced it.
  const lottery = snapshot.lottery;
  const entrant = !!lottery && held.key.a >= lottery.from && held.key.a < lottery.to;
  const ahead = entrant ? 0 : await unsyncedAhead(c.env, room, snapshot, shard, held);
  const current = ticketStatus(snapshot, held.key, now, Math.random(), { ahead });
  // The join's own basis for later polls (UnsyncedBasis): the position told bounds them until synced.
  const told = current.status === "waiting" && current.position !== null ? { toldPosition: current.position, admittedTotal: snapshot.admittedTotal } : {};
  const claims: TicketClaims = {
    room,
    ticketId: `${shard}.${held.seq}`,
    key: held.key,
    jkt: proof.jkt,
    issuedAt: held.joinedAt,
    // Sealed: the ticket travels and is logged by proxies; the person identifier must not be readable.
    person: await seal(keys, "ticket-person", { pid: identity.personId }, now, now + TICKET_LIFETIME_SECONDS * 1000),
    unsynced: { ahead, ...told },
    ...(entrant ? { sealedOrder: true } : {}),
  };
  const ticket = await signTicket(keys, claims, now);
  const result = await answer(c.env, c.req.url, claims, snapshot, current);
  return send(c, { ...result, body: { ticket, ...result.body } }, held.created ? 201 : 200);
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
    throw new ApiError("validation_failed", "the confirmation code is the six letters and digits your wallet shows", { extras: { reason: "malformed_code" } });
  }
  const proof = await verifyDpopProof(c.req.header("dpop"), { method: "POST", url: c.req.url }, now, token);
  const refused = (reason: string) =>
    new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${reason.replaceAll("_", " ")})`, {
      extras: { reason },
      headers: { "www-authenticate": 'DPoP algs="ES256"' },
    });
  if (!proof.ok) throw refused(proof.reason);
  if (proof.jkt !== ticket.jkt) throw refused("key_not_bound_to_ticket");
  if (!(await claimOnce(c.env, "dpop", `${proof.jkt}:${proof.jti}`, (proof.iat + DPOP_MAX_AGE_SECONDS + 120) * 1000))) throw refused("replayed");
  const snapshot = await roomSnapshot(c.env, room);
  if (!snapshot) throw noRoom(room);
  const status = ticketStatus(snapshot, ticket.key, now, 0, unsyncedAtPoll(snapshot, ticket.key, ticket.unsynced));
  if (status.status !== "admitted") throw new ApiError("conflict", "only an admitted ticket can hand its admission to a wallet", { extras: { reason: `ticket_${status.status}` } });
  const approval = await approveHandoff(c.env, { room, tid: ticket.ticketId, code, now });
  c.header("cache-control", "no-store");
  return c.json({ status: "approved", attempts_left: approval.attemptsLeft }, 200);
});

/** Below this many arrivals per second, a join asks every shard for its unsynced arrivals (exact). */
export const EXACT_JOIN_POSITION_BELOW = 20;

/**
 * People ahead of a newcomer who joined after the snapshot's last sync. Its own shard's are counted
 * exactly. The other shards': while the room is quiet, asked of each (exact, and cheap: few joins); when
 * it is busy, estimated as the same number per shard (devices hash evenly, so this is unbiased and
 * close at volume), which keeps a join at one shard call when joins are what the room is flooded with.
 *
 * A re-join (the person already held this place: `created` false) is always estimated, never asked of
 * every shard: re-joins cost nobody a place, so they are what a flood from fresh device keys would be
 * made of, and in a quiet room each would otherwise cost one call per shard. Nothing is lost in the
 * common case: for a place the snapshot has synced (any re-join more than a tick after the first join)
 * its own shard counts 0 unsynced ahead, so the estimate is 0, which is what its polls count too. Only a
 * re-join within a tick of the first join gets an estimate for the other shards, and only in its own
 * answer and polls until the next sync.
 */
async function unsyncedAhead(env: AppEnv["Bindings"], room: string, snapshot: RoomSnapshot, shard: number, held: ShardTicket): Promise<number> {
  const shards = snapshot.config.shards;
  if (shards === 1 || !held.created || (snapshot.arrivalsPerSecond ?? 0) >= EXACT_JOIN_POSITION_BELOW) return held.unsyncedAhead * shards;
  const others = await Promise.all(
    Array.from({ length: shards }, (_, i) => i)
      .filter((i) => i !== shard)
      .map((i) => env.QUEUE_SHARD.get(env.QUEUE_SHARD.idFromName(`${room}#${i}`)).countUnsyncedAhead(i, snapshot.syncedSeqs[i] ?? 0, held.key)),
  );
  return others.reduce((n, k) => n + k, held.unsyncedAhead);
}

/** The refusal of a join before an event's pre-queue opens: when to come back, as a time and a Retry-After. */
function prequeueNotOpen(opensAt: number, now: number): ApiError {
  const at = iso(opensAt);
  return new ApiError("prequeue_not_open", `the event's pre-queue opens at ${at}; joins before it are refused, and everyone who joins between then and the draw is placed at random`, {
    extras: { prequeue_opens_at: at },
    headers: { "retry-after": String(Math.max(1, Math.ceil((opensAt - now) / 1000))) },
  });
}

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

function send(c: Context<AppEnv>, result: TicketAnswer & { body: TicketBody & { ticket?: string } }, code: 200 | 201): Response {
  c.header("cache-control", "no-store");
  if (result.retryAfterSeconds !== null) c.header("retry-after", String(result.retryAfterSeconds));
  return c.json(result.body, code);
}

async function answer(env: AppEnv["Bindings"], requestUrl: string, claims: TicketClaims, snapshot: RoomSnapshot, status: TicketStatus): Promise<TicketAnswer> {
  if (status.status === "waiting") return { body: status, retryAfterSeconds: status.poll_after_seconds };
  if (status.status === "expired") return { body: { status: "expired" }, retryAfterSeconds: null };
  const issuer = issuerOrigin(env, requestUrl);
  const ec = await ecKeyring(secret(env, "SIGNING_KEYS"));
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const person = await open(ring, "ticket-person", claims.person, clock.now());
  if (!person.ok || typeof person.claims.pid !== "string") throw invalidTicket("bad_claims");
  // The pre-authorized code: single use (its id is taken when redeemed), valid as long as the admission,
  // bound to this device's key and to the person, sealed so its holder cannot read or alter it. Every
  // poll gets a fresh one: the way back for a device whose token answer was lost (src/issuance/token.ts).
  const place = { room: snapshot.room, tid: claims.ticketId, ord: [claims.key.a, claims.key.b] as [number, number], pid: person.claims.pid };
  const preAuthorizedCode = await sealPreAuthorizedCode(ring, { ...place, jkt: claims.jkt }, clock.now(), status.admission_expires_at);
  const offer = credentialOffer(issuer, preAuthorizedCode);
  const handoff = await handoffOfferLink(
    env,
    issuer,
    { room: snapshot.room, tid: claims.ticketId, ord: [claims.key.a, claims.key.b], pid: person.claims.pid, admissionExpiresAt: status.admission_expires_at },
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
