import { z } from "zod";
import type { Env } from "../config/env";
import { ApiError } from "../http/problem";
import { ledgerPseudonym, setListStatus, setPersonStatus, type ListStatusChange } from "../status/ledger";
import { STATUS, type StatusValue } from "../status/status-values";
import { recordAudit } from "./audit";
import type { AuditAction } from "./audit-store";
import { purgeCachedLists } from "./purge";

/**
 * The operators' controls over issued credentials: suspend (status 2, reversible), reinstate (back to
 * 0) and revoke (1, final: draft-ietf-oauth-status-list §7.1, a credential once invalid is not valid
 * again), for every credential of a person or for one credential by list and index. Each change is
 * recorded in the audit log and purges this location's cached Status List Tokens of the lists it
 * touched, so a verifier here sees it at once (other locations within the token's ttl).
 *
 * A person is named by their person id on entry and pseudonymised at once (src/status/ledger.ts's
 * ledger pseudonym, one per person across rooms: a licence is the person's, whatever room they queued
 * in), so the call covers every room; the id itself is neither stored nor logged nor answered.
 */
export const LIFECYCLE_ACTIONS = ["suspend", "reinstate", "revoke"] as const satisfies readonly AuditAction[];
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

export const TARGET_STATUS: Record<LifecycleAction, StatusValue> = {
  suspend: STATUS.suspended,
  reinstate: STATUS.valid,
  revoke: STATUS.invalid,
};

/** Why, in the operator's words: short, one line, and (the dashboard says so) no personal data. */
const ReasonSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}]*$/u, "one line of text, no control characters");

/** Person ids are short identifiers (the identity assertion's `sub`). */
export const PersonIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\x21-\x7e]+$/, "a person id is printable ASCII without spaces");

export const PersonActionSchema = z.object({ person_id: PersonIdSchema, reason: ReasonSchema.optional() }).strict();
export const CredentialActionSchema = z
  .object({
    /** The status list's name: the last segment of the credential's `status.status_list.uri`. */
    list: z.string().min(1).max(32),
    idx: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32),
    reason: ReasonSchema.optional(),
  })
  .strict();

/** What a change did, as the admin API answers it (no person id; the pseudonym names the person). */
export interface ChangeOutcome {
  action: LifecycleAction;
  status: StatusValue;
  target: { kind: "person"; pseudonym: string } | { kind: "credential"; list: string; idx: number };
  /** Credentials now holding `status`. */
  changed: number;
  /** Already holding it. */
  unchanged: number;
  /** Revoked, and so left as they are (a suspension or reinstatement never touches them). */
  revoked_kept: number;
  /** Every credential the call covered, with its status now (the lists that changed are purged from this location's cache). */
  credentials: { list: string; idx: number; status: StatusValue }[];
}

interface Context {
  /** The issuer origin the lists' URLs start with; null: unknown here (no purge, the ttl bounds the delay). */
  readonly issuer: string | null;
  readonly actor: string;
  readonly now: number;
  readonly reason: string | null;
}

/**
 * Every credential of the person `personId`. 404 if the ledger holds none; 409 for a suspension or a
 * reinstatement when every one is revoked.
 */
export async function changePerson(env: Env, personId: string, action: LifecycleAction, ctx: Context): Promise<ChangeOutcome> {
  const pseudonym = await ledgerPseudonym(env, personId);
  return applyToPerson(env, pseudonym, action, ctx);
}

/** The same, for a person already pseudonymised (the register sync). */
export async function applyToPerson(env: Env, pseudonym: string, action: LifecycleAction, ctx: Context): Promise<ChangeOutcome> {
  const status = TARGET_STATUS[action];
  const change = await setPersonStatus(env, pseudonym, status, ctx.now);
  const total = change.changed.length + change.unchanged.length + change.revoked.length;
  if (total === 0) throw new ApiError("not_found", "no credential has been issued to this person");
  const outcome = outcomeOf(action, { kind: "person", pseudonym }, change);
  await settle(env, ctx, outcome, change);
  if (action !== "revoke" && change.changed.length + change.unchanged.length === 0) {
    throw new ApiError("conflict", "every credential of this person is revoked, and a revocation is final", {
      extras: { reason: "revoked_is_final" },
    });
  }
  return outcome;
}

/** One credential by list and index. 404 if never issued; 409 if revoked and the action is not a revocation. */
export async function changeCredential(
  env: Env,
  entry: { list: string; idx: number },
  action: LifecycleAction,
  ctx: Context,
): Promise<ChangeOutcome> {
  const status = TARGET_STATUS[action];
  const change = await setListStatus(env, [entry], status, ctx.now);
  if (change.unknown.length > 0) throw new ApiError("not_found", `no credential at ${entry.list}/${entry.idx}`);
  const outcome = outcomeOf(action, { kind: "credential", list: entry.list, idx: entry.idx }, change);
  await settle(env, ctx, outcome, change);
  if (change.revoked.length > 0) {
    throw new ApiError("conflict", `the credential at ${entry.list}/${entry.idx} is revoked, and a revocation is final`, {
      extras: { reason: "revoked_is_final" },
    });
  }
  return outcome;
}

function outcomeOf(action: LifecycleAction, target: ChangeOutcome["target"], change: ListStatusChange): ChangeOutcome {
  const status = TARGET_STATUS[action];
  return {
    action,
    status,
    target,
    changed: change.changed.length,
    unchanged: change.unchanged.length,
    revoked_kept: change.revoked.length,
    credentials: [
      ...[...change.changed, ...change.unchanged].map((e) => ({ ...e, status })),
      ...change.revoked.map((e) => ({ ...e, status: STATUS.invalid })),
    ],
  };
}

/**
 * After a change: purge this location's cached tokens of the lists that changed, then record the
 * audit row. A change that changed nothing is still recorded (an operator's decision, and what they
 * saw), with count 0.
 */
async function settle(env: Env, ctx: Context, outcome: ChangeOutcome, change: ListStatusChange): Promise<void> {
  if (ctx.issuer) await purgeCachedLists(ctx.issuer, new Set(change.changed.map((e) => e.list)));
  await recordAudit(env, [
    {
      at: ctx.now,
      actor: ctx.actor,
      action: outcome.action,
      target: outcome.target,
      count: outcome.changed,
      reason: ctx.reason,
    },
  ]);
}
