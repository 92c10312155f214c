import { z } from "zod";
import { POW_SOLUTION_PATTERN } from "../abuse/pow";
import { prequeueNotOpenUntil, stampPlan } from "../admission/event";
import { seqOf } from "../admission/order-key";
import type { JoinRequest, ShardTicket } from "../admission/protocol";
import { snapshotConfig, wouldQueue, type RoomSnapshot } from "../admission/snapshot";
import { ticketStatus, type TicketStatus } from "../admission/ticket-status";
import { verifyDpopProof } from "../auth/dpop";
import { required, secret, type Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { shardOf } from "../edge/objects";
import { requireProofOfWork } from "../edge/proof-of-work";
import { enforceRateLimit } from "../edge/rate-limits";
import { shardFor } from "../edge/shard-for";
import { roomSnapshot } from "../edge/snapshot-cache";
import { ApiError } from "../http/problem";
import { noRoom } from "../http/request";
import { verifyIdentityAssertion } from "../identity/identity-assertion";
import { personPseudonym } from "../identity/pseudonym";
import { hmacKeyring } from "./keyring";
import { lotteryRank } from "./lottery-rank";
import { seal } from "./sealed";
import { signTicket, TICKET_LIFETIME_SECONDS, type TicketClaims } from "./ticket-token";

/**
 * Joining the queue: the use case behind POST /v1/rooms/{room}/tickets.
 *
 * Abuse checks run cheapest first (SECURITY.md): the device key once its proof is verified, the person
 * once the identity assertion holds (fresh device keys do not multiply one person's joins); nothing
 * reaches a Durable Object (not even the room's coordinator, for a name it may not know) before then;
 * then the proof of work. The join goes to one queue shard, the person's (routed by person, not device:
 * the same person from any device reaches the shard holding their place).
 */
/** Unknown members are refused so typos do not pass silently. */
export const JoinBodySchema = z
  .object({
    /** From the national identity service: who is joining (one place per person). */
    identity_assertion: z.string().min(1).max(4096),
    /** A solved proof-of-work challenge, when the room asks for one (src/edge/proof-of-work.ts). */
    pow: z
      .object({ challenge: z.string().min(1).max(1024), solution: z.string().regex(POW_SOLUTION_PATTERN) })
      .strict()
      .optional(),
  })
  .strict();

export type JoinBody = z.infer<typeof JoinBodySchema>;

export interface Joined {
  /** The signed queue ticket, and the claims it carries. */
  ticket: string;
  claims: TicketClaims;
  snapshot: RoomSnapshot;
  status: TicketStatus;
  /** A new place (201), or the place the person already held (200). */
  created: boolean;
}

export async function joinQueue(
  env: Env,
  input: { room: string; body: JoinBody; dpop: string | undefined; url: string; now: number },
): Promise<Joined> {
  const { room, body, now } = input;
  const proof = await verifyDpopProof(input.dpop, { method: "POST", url: input.url }, now);
  if (!proof.ok) {
    throw new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${proof.reason.replaceAll("_", " ")})`, {
      extras: { reason: proof.reason },
      headers: { "www-authenticate": 'DPoP algs="ES256"' },
    });
  }
  await enforceRateLimit(env, "join_device", proof.jkt);
  const identity = await verifyIdentityAssertion(
    body.identity_assertion,
    {
      jwks: required(env, "IDENTITY_JWKS"),
      issuer: required(env, "IDENTITY_ISSUER"),
      audience: settingsOf(env).identity.audience,
      binding: settingsOf(env).identity.binding,
    },
    now,
    { jkt: proof.jkt },
  );
  if (!identity.ok) {
    throw new ApiError("invalid_identity_assertion", `the identity assertion was refused (${identity.reason.replaceAll("_", " ")})`, {
      extras: { reason: identity.reason },
    });
  }
  const person = await personPseudonym(required(env, "PSEUDONYM_KEY"), room, identity.personId);
  await enforceRateLimit(env, "join_person", person);
  const keys = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const placed = await placeInLine(env, { room, person, jkt: proof.jkt, now, pow: body.pow });
  const { snapshot, held, ahead, told, uncounted, entrant, ticketId, status: current } = placed;
  const claims: TicketClaims = {
    room,
    ticketId,
    key: held.key,
    jkt: proof.jkt,
    issuedAt: held.joinedAt,
    // Sealed: the ticket travels and is logged by proxies; the person identifier must not be readable.
    person: await seal(keys, "ticket-person", { pid: identity.personId }, now, now + TICKET_LIFETIME_SECONDS * 1000),
    unsynced: { ahead, ...told, ...(uncounted ? { uncounted: true as const } : {}) },
    ...(entrant ? { sealedOrder: true } : {}),
  };
  return { ticket: await signTicket(keys, claims, now), claims, snapshot, status: current, created: held.created };
}

/** A place in line, as taken for a person (or an anonymous browser) on one device key. */
export interface Placed {
  snapshot: RoomSnapshot;
  held: ShardTicket;
  /** SHARD.SEQ: the place's id in its room. */
  ticketId: string;
  ahead: number;
  told: { toldPosition?: number; admittedTotal?: number };
  uncounted: boolean;
  entrant: boolean;
  status: TicketStatus;
}

/**
 * Takes (or finds again) `person`'s place in `room`: the room's rules for newcomers (pre-queue, closed
 * room, lottery stamps), the shard's join, and the status the newcomer is told. Shared by the app's
 * join and the authorization flow's anonymous browsers (src/oauth/authorization.ts), which pass
 * `pow: "not_asked"`.
 */
export async function placeInLine(
  env: Env,
  input: { room: string; person: string; jkt: string; now: number; pow: JoinBody["pow"] | "not_asked" },
): Promise<Placed> {
  const { room, person, jkt, now, pow } = input;
  const snapshot = await roomSnapshot(env, room);
  if (!snapshot) throw noRoom(room);
  // A browser of the authorization code flow cannot solve a challenge without JavaScript: its joins
  // are bounded per address instead (src/oauth/authorization.ts, docs/authorization-flow.md).
  if (pow !== "not_asked") await requireProofOfWork(env, { room, jkt, snapshot, pow }, now);
  // The settings in force now: an event's method and limits while it is live.
  const config = snapshotConfig(snapshot, now);
  // Routed by person, not device: the same person from any device reaches the shard holding their place.
  const shard = shardFor(person, config.shards);
  const stub = shardOf(env, room, shard);
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
    stamp = {
      kind: "lottery",
      from: plan.from,
      to: plan.to,
      rank: await lotteryRank(await hmacKeyring(secret(env, "TICKET_KEYS")), room, plan.from, person),
    };
  } else if (plan.kind === "prequeue") {
    if (!snapshot.lottery)
      throw new ApiError("temporarily_unavailable", "the event's lottery is not ready yet; try again in a moment", {
        headers: { "retry-after": "2" },
      });
    stamp = { kind: "prequeue", from: plan.from, to: plan.to, seed: snapshot.lottery.seed };
  }
  const request: JoinRequest = { shard, person, jkt, syncedSeq: snapshot.syncedSeqs[shard] ?? 0, stamp };
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
  // A re-join never asks every shard (a flood of re-joins from fresh keys would cost one call per shard
  // each): while its place is not synced yet, its position is told as unknown rather than guessed.
  const uncounted = !entrant && !held.created && snapshot.config.shards > 1 && seqOf(held.key) > (snapshot.syncedSeqs[shard] ?? 0);
  const ahead = entrant || uncounted ? 0 : await unsyncedAhead(env, room, snapshot, shard, held);
  const current = ticketStatus(snapshot, held.key, now, Math.random(), { ahead, ...(uncounted ? { uncounted: true as const } : {}) });
  // The join's own basis for later polls (UnsyncedBasis): the position told bounds them until synced.
  const told =
    current.status === "waiting" && current.position !== null
      ? { toldPosition: current.position, admittedTotal: snapshot.admittedTotal }
      : {};
  return { snapshot, held, ticketId: `${shard}.${held.seq}`, ahead, told, uncounted, entrant, status: current };
}

/** Below this many arrivals per second, a join asks every shard for its unsynced arrivals (exact). */
export const EXACT_JOIN_POSITION_BELOW = 20;

/**
 * People ahead of a newcomer who joined after the snapshot's last sync. Its own shard's are counted
 * exactly. The other shards': while the room is quiet, asked of each (exact, and cheap: few joins); when
 * it is busy, estimated as the same number per shard (devices hash evenly, so this is unbiased and
 * close at volume), which keeps a join at one shard call when joins are what the room is flooded with.
 *
 * A re-join (the person already held this place: `created` false) is never asked of every shard:
 * re-joins cost nobody a place, so they are what a flood from fresh device keys would be made of, and in
 * a quiet room each would otherwise cost one call per shard. For a place the snapshot has synced (any
 * re-join more than a tick after the first join) its own shard counts 0 unsynced ahead, so the estimate
 * is 0, which is what its polls count too; a re-join within a tick of the first join is told its
 * position is unknown until the next sync (the join handler's `uncounted`), never a guess that rises.
 */
async function unsyncedAhead(env: Env, room: string, snapshot: RoomSnapshot, shard: number, held: ShardTicket): Promise<number> {
  const shards = snapshot.config.shards;
  if (shards === 1 || !held.created || (snapshot.arrivalsPerSecond ?? 0) >= EXACT_JOIN_POSITION_BELOW) return held.unsyncedAhead * shards;
  const others = await Promise.all(
    Array.from({ length: shards }, (_, i) => i)
      .filter((i) => i !== shard)
      .map((i) => shardOf(env, room, i).countUnsyncedAhead(i, snapshot.syncedSeqs[i] ?? 0, held.key)),
  );
  return others.reduce((n, k) => n + k, held.unsyncedAhead);
}

/** The refusal of a join before an event's pre-queue opens: when to come back, as a time and a Retry-After. */
function prequeueNotOpen(opensAt: number, now: number): ApiError {
  const at = new Date(opensAt).toISOString();
  return new ApiError(
    "prequeue_not_open",
    `the event's pre-queue opens at ${at}; joins before it are refused, and everyone who joins between then and the draw is placed at random`,
    {
      extras: { prequeue_opens_at: at },
      headers: { "retry-after": String(Math.max(1, Math.ceil((opensAt - now) / 1000))) },
    },
  );
}
