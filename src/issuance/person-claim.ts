import { required, type Env } from "../config/env";
import { coordinatorOf, hashedShard, sessionsAt } from "../edge/objects";
import { roomSnapshot } from "../edge/snapshot-cache";
import { personPseudonym } from "../identity/pseudonym";
import { ISSUANCE_SESSION_SHARDS } from "./sessions";

/**
 * One person = one issuance session per room, across the pre-authorized flow (the app) and the
 * authorization code flow (any wallet through a browser), however many browsers, wallets or devices
 * the person uses (docs/authorization-flow.md, "One person, one session").
 *
 * The claim lives in the IssuanceSessions objects, sharded by the person's pseudonym (HMAC of room and
 * person id, src/identity/pseudonym.ts): every admission of one person meets in one object, whichever
 * admission it is, so two browsers racing are decided one after the other (IssuanceSessions.claimPerson).
 * The person id itself is never stored.
 */
export interface AdmissionRef {
  readonly room: string;
  readonly ticketId: string;
  readonly key: { readonly a: number; readonly b: number };
}

export type PersonClaimResult = { ok: true; admission: AdmissionRef; resumed: boolean } | { ok: false; reason: "person_has_session" };

/** How long past the session's latest possible end a claim is kept (late calls still meet it). */
const CLAIM_MARGIN_MS = 60_000;

export async function claimPersonSession(
  env: Env,
  input: { admission: AdmissionRef; personId: string; jkt?: string; admissionExpiresAt: number; now: number },
): Promise<PersonClaimResult> {
  const { admission } = input;
  const person = await personPseudonym(required(env, "PSEUDONYM_KEY"), admission.room, input.personId);
  // The claim must outlive the session it stands for: the session cannot end later than its start
  // (now or before the admission expires) plus the room's session duration.
  const snapshot = await roomSnapshot(env, admission.room);
  const sessionMs = (snapshot?.config.session_duration_seconds ?? 86_400) * 1000;
  const expiresAt = Math.max(input.admissionExpiresAt, input.now) + sessionMs + CLAIM_MARGIN_MS;
  const object = sessionsAt(env, await hashedShard(`person:${person}`, ISSUANCE_SESSION_SHARDS));
  const claimed = await object.claimPerson(admission.room, person, {
    ticketId: admission.ticketId,
    key: { a: admission.key.a, b: admission.key.b },
    ...(input.jkt !== undefined ? { jkt: input.jkt } : {}),
    expiresAt,
  });
  if (!claimed.ok) return { ok: false, reason: claimed.reason };
  return {
    ok: true,
    admission: { room: admission.room, ticketId: claimed.value.ticketId, key: claimed.value.key },
    resumed: claimed.value.resumed,
  };
}

/**
 * An admission that will not open a session of its own (its person already has one) gives its place
 * back at once rather than holding capacity until its TTL runs out: it is marked as a session that
 * started and ended, the same bookkeeping as a session ended by its notification. Best effort: an
 * admission that can no longer start (expired, already used) has nothing to give back.
 */
export async function freeAdmission(env: Env, admission: AdmissionRef): Promise<void> {
  const coordinator = coordinatorOf(env, admission.room);
  const started = await coordinator.startSession({ ticketId: admission.ticketId, key: { a: admission.key.a, b: admission.key.b } });
  if (started.ok) await coordinator.endSession(admission.ticketId);
}
