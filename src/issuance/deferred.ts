import { z } from "zod";
import type { JWK } from "jose";
import type { Env } from "../config/env";
import { ApiError } from "../http/problem";
import { logger } from "../log/logger";
import { recordIssuance } from "../metrics/analytics";
import type { Licence } from "../register/licence-holder";
import { RegisterBusyError } from "../register/register";
import { isCredentialConfigurationId } from "./configurations";
import { issueToHolder, type CredentialResponse, type IssuanceContext } from "./credential";
import type { AccessGrant } from "./dpop-access";
import { sessionObject, sessionRefusal } from "./sessions";

/**
 * Deferred issuance (OpenID4VCI 1.0 §9): when the licence register is at capacity (its gate refuses the
 * read, RegisterBusyError), the credential endpoint answers 202 `{transaction_id, interval}` instead of
 * a 503, and the wallet comes back to the deferred credential endpoint with that id until the register
 * answers.
 *
 * Where the pending request lives: in the session's own object (IssuanceSessions), next to the
 * reservation it already made: the proof keys (checked, their c_nonce already consumed) and the
 * configuration, under a random id. So it survives restarts, dies with the session, and stays inside
 * the session's bounds by construction: the credentials and the register read were reserved by the
 * credential request that was deferred, and redeeming the transaction reserves nothing more. A
 * transaction is bound to its session (another session's token finds nothing under that id) and is
 * taken once: a poll leases it while it reads the register, so two concurrent polls cannot both issue,
 * and it is deleted when its credentials are handed out or its person is denied.
 *
 * Only the gate's refusal defers: a register that fails (D1 error, a read past its timeout) still
 * answers 503 + Retry-After, as a failure the client retries, because deferring a request the register
 * cannot serve at all would only move the failure later.
 */
export const DeferredCredentialRequestSchema = z.object({ transaction_id: z.string().min(1).max(200) }).strict();
export type DeferredCredentialRequest = z.infer<typeof DeferredCredentialRequestSchema>;

export interface DeferredResponse {
  transaction_id: string;
  /** Seconds the wallet should wait before asking the deferred credential endpoint. */
  interval: number;
}

/** Never ask sooner than this, however short the register's own Retry-After hint. */
const MIN_INTERVAL_SECONDS = 2;

export function intervalFor(err: RegisterBusyError): number {
  return Math.max(MIN_INTERVAL_SECONDS, err.retryAfterSeconds);
}

/**
 * A credential request the register could not take now: stored in the session with its reservation
 * kept. Throws (after which the caller gives the reservation back) if the session's object cannot
 * record it.
 */
export async function deferIssuance(
  env: Env,
  grant: AccessGrant,
  request: { configuration: string; keys: readonly JWK[]; busy: RegisterBusyError },
): Promise<DeferredResponse> {
  const sessions = await sessionObject(env, grant.sessionId);
  const deferred = await sessions.defer(grant.sessionId, { jkt: grant.jkt, configuration: request.configuration, keys: [...request.keys] });
  if (!deferred.ok) throw sessionRefusal(deferred.reason, "resource");
  recordIssuance(env, "deferred", { room: grant.room });
  return { transaction_id: deferred.value.transactionId, interval: intervalFor(request.busy) };
}

/**
 * The deferred credential endpoint's use case: the credentials when the register answers, the same
 * transaction_id and a new interval while it is still busy, `invalid_transaction_id` for an id this
 * session does not hold (unknown, another session's, or already redeemed).
 */
export async function redeemDeferred(
  env: Env,
  grant: AccessGrant,
  request: DeferredCredentialRequest,
  context: IssuanceContext & { readLicence: () => Promise<Licence | null> },
): Promise<{ done: true; response: CredentialResponse } | { done: false; response: DeferredResponse }> {
  const sessions = await sessionObject(env, grant.sessionId);
  const taken = await sessions.takeDeferred(grant.sessionId, {
    jkt: grant.jkt,
    proofId: grant.proofId,
    proofExpiresAt: grant.proofExpiresAt,
    transactionId: request.transaction_id,
  });
  if (!taken.ok) {
    if (taken.reason === "transaction_in_progress") {
      // Another poll of the same transaction is reading the register right now.
      return { done: false, response: { transaction_id: request.transaction_id, interval: MIN_INTERVAL_SECONDS } };
    }
    throw sessionRefusal(taken.reason, "resource");
  }
  const { configuration, keys } = taken.value;
  if (!isCredentialConfigurationId(configuration)) throw new ApiError("invalid_transaction_id", "unknown transaction_id");

  // Whatever stops this poll before the credentials are handed out gives the transaction back (its
  // lease ends), or, for a denied person, ends it with its credentials released. Best effort: if that
  // fails, the lease runs out by itself.
  const settle = (outcome: "pending" | "denied") =>
    sessions.settleDeferred(grant.sessionId, request.transaction_id, outcome).catch((e: unknown) => {
      logger.warn("deferred_settle_failed", { room: grant.room, error: e instanceof Error ? e.message : String(e) });
    });
  let licence: Licence | null;
  try {
    licence = await context.readLicence();
  } catch (err) {
    await settle("pending");
    if (!(err instanceof RegisterBusyError)) throw err;
    return { done: false, response: { transaction_id: request.transaction_id, interval: intervalFor(err) } };
  }
  let response: CredentialResponse;
  try {
    response = await issueToHolder(env, grant, { configuration, keys, licence }, context);
  } catch (err) {
    await settle(err instanceof ApiError && err.kind === "credential_request_denied" ? "denied" : "pending");
    throw err;
  }
  // Not best effort: the transaction is closed before its credentials leave, so no later poll (after a
  // lease ran out) can be handed a second set. If this fails, nothing is handed out and a poll retries.
  await sessions.settleDeferred(grant.sessionId, request.transaction_id, "issued");
  return { done: true, response };
}
