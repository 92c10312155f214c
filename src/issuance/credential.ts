import { z } from "zod";
import { CNonceSchema, openGrant } from "./grants";
import { secret, type Env } from "../config/env";
import { claimOnce } from "../edge/replay";
import { ApiError } from "../http/problem";
import { recordIssuance } from "../metrics/analytics";
import { logger } from "../log/logger";
import type { Licence } from "../register/licence-holder";
import { hmacKeyring } from "../tickets/keyring";
import { seal } from "../tickets/sealed";
import { isCredentialConfigurationId } from "./configurations";
import type { AccessGrant } from "./dpop-access";
import { checkSigner, formatOf, issueCredentials } from "./issue-credentials";
import { ledgerPseudonym, recordIssued, setListStatus, type StatusReference } from "../status/ledger";
import { STATUS } from "../status/status-values";
import { verifyKeyProof } from "./key-proof";
import { sessionObject, sessionRefusal } from "./sessions";
import { settingsOf } from "../config/settings";
import { denialText, type LicenceDenialReason } from "./denial-reasons";

/**
 * The credential endpoint's use case (OpenID4VCI 1.0 §8): key proofs in, credentials bound to their
 * keys out, within the admission's session.
 *
 * Order, cheapest refusal first and nothing spent on a request that will fail: the body and every key
 * proof are checked in the isolate; then one call to the session's object checks the session is open,
 * claims the DPoP proof's id, and reserves one register read and the credentials asked for; then the
 * c_nonce is taken; only then is the register read. Credentials reserved but not handed out (a bad
 * nonce, a denied person) are given back; the read stays counted, because it was spent.
 *
 * Before anything is spent, the signer's certificate must be valid now (signer-validity.ts). Before
 * anything is signed, each credential gets its status list entry and its ledger row, in one call for
 * the whole batch (src/status/ledger.ts): a credential whose ledger write failed is never handed out,
 * so there is no credential the lifecycle operations cannot find and revoke.
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
  context: {
    issuer: string;
    now: number;
    readLicence: () => Promise<Licence | null>;
    startedMs: number;
    /** The language of a refusal's `error_description` ("fr" or "en"; src/issuance/denial-reasons.ts). */
    lang: string;
  },
): Promise<CredentialResponse> {
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
  await checkSigner(env, issuer, configuration, now);

  const sessions = await sessionObject(env, grant.sessionId);
  const spent = await sessions.spend(grant.sessionId, {
    jkt: grant.jkt,
    proofId: grant.proofId,
    proofExpiresAt: grant.proofExpiresAt,
    configuration,
    count: keys.length,
  });
  if (!spent.ok) throw sessionRefusal(spent.reason, "resource");

  // From here on, whatever stops the request gives back what was reserved and not used.
  let readSpent = false;
  let handedOut = false;
  let statuses: StatusReference[] = [];
  try {
    if (!(await consumeNonce(env, nonce!, now)))
      throw new ApiError("invalid_nonce", "the c_nonce is unknown, expired or already used; get a new one from the nonce endpoint");
    readSpent = true;
    // Busy or failing register: RegisterBusyError / RegisterUnavailableError become 503 + Retry-After (errors.ts).
    const licence = await context.readLicence();
    const refused = denialOf(licence, now);
    if (refused) {
      recordIssuance(env, "denied", { room: grant.room, latencyMs: Date.now() - context.startedMs });
      throw new ApiError("credential_request_denied", denialText(context.lang, refused), { extras: { reason: refused } });
    }
    const holder = licence!.holder;
    statuses = await recordIssued(env, issuer, {
      person: await ledgerPseudonym(env, grant.personId),
      sessionId: grant.sessionId,
      format: formatOf(configuration),
      configuration,
      issuedAt: now,
      count: keys.length,
    });
    const credentials = await issueCredentials(env, issuer, configuration, holder, keys, statuses, now);
    handedOut = true;
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
  } finally {
    if (!handedOut && statuses.length > 0) {
      // Recorded but never handed out (signing failed): the entries are revoked, so that even a
      // credential that somehow left would read as invalid. The ledger keeps the rows.
      await setListStatus(env, statuses, STATUS.invalid, now).catch((e: unknown) => {
        logger.warn("status_void_failed", { room: grant.room, error: e instanceof Error ? e.message : String(e) });
      });
    }
    if (!handedOut) {
      // Best effort: if the session's object is unreachable now, the reservation stays spent (the
      // session's limits err on the side of the register).
      await sessions.release(grant.sessionId, configuration, keys.length, readSpent).catch((e: unknown) => {
        logger.warn("session_release_failed", { room: grant.room, error: e instanceof Error ? e.message : String(e) });
      });
    }
  }
}

/**
 * Why this licence may not be issued, or null if it may. A withdrawn or suspended licence is refused
 * whatever its dates (the reason the person must hear is the register's decision, not the date).
 */
export function denialOf(licence: Licence | null, now: number): LicenceDenialReason | null {
  if (!licence) return "no_licence";
  if (licence.status === "withdrawn") return "licence_withdrawn";
  if (licence.status === "suspended") return "licence_suspended";
  if (Date.parse(`${licence.holder.expiry_date}T23:59:59Z`) <= now) return "licence_expired";
  return null;
}

/** A c_nonce is valid if it opens (ours, unexpired) and has never been used before. */
async function consumeNonce(env: Env, nonce: string, now: number): Promise<boolean> {
  const opened = await openGrant(await hmacKeyring(secret(env, "TICKET_KEYS")), "c-nonce", CNonceSchema, nonce, now);
  if (!opened.ok) return false;
  return claimOnce(env, "nonce", opened.claims.jti, opened.claims.exp * 1000 + 60_000);
}
