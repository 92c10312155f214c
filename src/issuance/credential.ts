import { z } from "zod";
import { CNonceSchema, openGrant } from "./grants";
import { secret, type Env } from "../config/env";
import { claimOnce } from "../edge/replay";
import { ApiError } from "../http/problem";
import { recordIssuance } from "../metrics/analytics";
import { logger } from "../log/logger";
import type { LicenceHolder } from "../register/licence-holder";
import { hmacKeyring } from "../tickets/keyring";
import { seal } from "../tickets/sealed";
import { isCredentialConfigurationId, type CredentialConfigurationId } from "./configurations";
import { deferIssuance, type DeferredResponse } from "./deferred";
import { RegisterBusyError } from "../register/register";
import type { JWK } from "jose";
import type { AccessGrant } from "./dpop-access";
import { issueCredentials } from "./issue-credentials";
import { verifyKeyProof } from "./key-proof";
import { sessionObject, sessionRefusal } from "./sessions";
import { settingsOf } from "../config/settings";

/**
 * The credential endpoint's use case (OpenID4VCI 1.0 §8): key proofs in, credentials bound to their
 * keys out, within the admission's session.
 *
 * Order, cheapest refusal first and nothing spent on a request that will fail: the body and every key
 * proof are checked in the isolate; then one call to the session's object checks the session is open,
 * claims the DPoP proof's id, and reserves one register read and the credentials asked for; then the
 * c_nonce is taken; only then is the register read. Credentials reserved but not handed out (a bad
 * nonce, a denied person) are given back; the read stays counted, because it was spent. A register at
 * capacity defers the request (202 with a transaction_id, OpenID4VCI 1.0 §9): its reservation then
 * stays with the transaction until the deferred credential endpoint issues or denies it.
 */
export const CredentialRequestSchema = z
  .object({
    credential_configuration_id: z.string().min(1).max(200),
    proofs: z.object({ jwt: z.array(z.string().min(1).max(4096)).min(1).max(100) }).strict(),
  })
  .strict();
export type CredentialRequest = z.infer<typeof CredentialRequestSchema>;

export interface CredentialResponse {
  credentials: { credential: string }[];
  notification_id: string;
}

const NOTIFICATION_MIN_LIFETIME_MS = 60_000;

export async function issueForSession(
  env: Env,
  grant: AccessGrant,
  request: CredentialRequest,
  context: { issuer: string; now: number; readHolder: () => Promise<LicenceHolder | null>; startedMs: number },
): Promise<CredentialResponse | DeferredResponse> {
  const { issuer, now } = context;
  const configuration = request.credential_configuration_id;
  if (!isCredentialConfigurationId(configuration))
    throw new ApiError("unknown_credential_configuration", `no credential configuration "${configuration}"`);
  const batchSize = settingsOf(env).credentialBatchSize;
  if (request.proofs.jwt.length > batchSize)
    throw new ApiError("invalid_credential_request", `at most ${batchSize} proofs (credentials) per request`);

  const keys = [];
  const nonces = new Set<string>();
  for (const [i, jwt] of request.proofs.jwt.entries()) {
    const proof = await verifyKeyProof(jwt, issuer, now);
    if (!proof.ok)
      throw new ApiError("invalid_proof", `proof ${i} was refused (${proof.reason.replaceAll("_", " ")})`, {
        extras: { reason: proof.reason },
      });
    keys.push(proof.jwk);
    nonces.add(proof.nonce);
  }
  if (new Set(keys.map((k) => `${k.x}.${k.y}`)).size !== keys.length)
    throw new ApiError("invalid_proof", "each proof must be made with a different key");
  // One c_nonce per request (OpenID4VCI: a wallet uses the nonce it was given for the whole batch), so a
  // refusal consumes none: with two, a good first one was used up before a bad second one was refused.
  if (nonces.size !== 1) throw new ApiError("invalid_proof", "all proofs of one request must carry the same c_nonce");
  const [nonce] = nonces;

  const sessions = await sessionObject(env, grant.sessionId);
  const spent = await sessions.spend(grant.sessionId, {
    jkt: grant.jkt,
    proofId: grant.proofId,
    proofExpiresAt: grant.proofExpiresAt,
    configuration,
    count: keys.length,
  });
  if (!spent.ok) throw sessionRefusal(spent.reason, "resource");

  // From here on, whatever stops the request gives back what was reserved and not used, unless the
  // request was deferred: then its transaction keeps the reservation (src/issuance/deferred.ts).
  let readSpent = false;
  let kept = false;
  try {
    if (!(await consumeNonce(env, nonce!, now)))
      throw new ApiError("invalid_nonce", "the c_nonce is unknown, expired or already used; get a new one from the nonce endpoint");
    readSpent = true;
    let holder: LicenceHolder | null;
    try {
      holder = await context.readHolder();
    } catch (err) {
      // The register at capacity: deferred (202) instead of a 503. A failing register stays a 503 +
      // Retry-After (RegisterUnavailableError, errors.ts).
      if (!(err instanceof RegisterBusyError)) throw err;
      const deferred = await deferIssuance(env, grant, { configuration, keys, busy: err });
      kept = true;
      return deferred;
    }
    const answer = await issueToHolder(env, grant, { configuration, keys, holder }, context);
    kept = true;
    return answer;
  } finally {
    if (!kept) {
      // Best effort: if the session's object is unreachable now, the reservation stays spent (the
      // session's limits err on the side of the register).
      await sessions.release(grant.sessionId, configuration, keys.length, readSpent).catch((e: unknown) => {
        logger.warn("session_release_failed", { room: grant.room, error: e instanceof Error ? e.message : String(e) });
      });
    }
  }
}

/**
 * What the register answered, turned into credentials: refused for no licence or an expired one
 * (credential_request_denied), else one credential per key and a notification id. Shared by the
 * credential endpoint and the deferred credential endpoint.
 */
export async function issueToHolder(
  env: Env,
  grant: AccessGrant,
  request: { configuration: CredentialConfigurationId; keys: readonly JWK[]; holder: LicenceHolder | null },
  context: { issuer: string; now: number; startedMs: number },
): Promise<CredentialResponse> {
  const { holder, configuration } = request;
  const { issuer, now } = context;
  const expired = holder !== null && Date.parse(`${holder.expiry_date}T23:59:59Z`) <= now;
  if (!holder || expired) {
    recordIssuance(env, "denied", { room: grant.room, latencyMs: Date.now() - context.startedMs });
    throw new ApiError(
      "credential_request_denied",
      holder ? "the driving licence registered for this person has expired" : "no driving licence is registered for this person",
    );
  }
  const credentials = await issueCredentials(env, issuer, configuration, holder, request.keys, now);
  recordIssuance(env, "issued", {
    room: grant.room,
    configuration,
    count: credentials.length,
    latencyMs: Date.now() - context.startedMs,
  });
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const notificationId = await seal(
    ring,
    "notification",
    { room: grant.room, tid: grant.ticketId, nid: crypto.randomUUID() },
    now,
    Math.max(grant.expiresAt, now + NOTIFICATION_MIN_LIFETIME_MS),
  );
  return { credentials: credentials.map((credential) => ({ credential })), notification_id: notificationId };
}

/** A c_nonce is valid if it opens (ours, unexpired) and has never been used before. */
async function consumeNonce(env: Env, nonce: string, now: number): Promise<boolean> {
  const opened = await openGrant(await hmacKeyring(secret(env, "TICKET_KEYS")), "c-nonce", CNonceSchema, nonce, now);
  if (!opened.ok) return false;
  return claimOnce(env, "nonce", opened.claims.jti, opened.claims.exp * 1000 + 60_000);
}
