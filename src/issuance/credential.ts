import type { JWK } from "jose";
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
import { configurationKey, isCredentialConfigurationId, KEY_REQUIREMENTS, type CredentialConfigurationId } from "./configurations";
import { deferIssuance, type DeferredResponse } from "./deferred";
import { RegisterBusyError } from "../register/register";
import type { AccessGrant } from "./dpop-access";
import { checkSigner, formatOf, issueCredentials } from "./issue-credentials";
import { ledgerPseudonym, recordIssued, setListStatus } from "../status/ledger";
import { STATUS } from "../status/status-values";
import { checkKeyAttestation, verifyAttestationProof, type KeyAttestationFailure, type VerifiedAttestations } from "./key-attestation";
import { MAX_PROOF_LENGTH, verifyKeyProof } from "./key-proof";
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
 * nonce, a denied person) are given back; the read stays counted, because it was spent. A register at
 * capacity defers the request (202 with a transaction_id, OpenID4VCI 1.0 §9): its reservation then
 * stays with the transaction until the deferred credential endpoint issues or denies it.
 *
 * Before anything is spent, the signer's certificate must be valid now (signer-validity.ts). Before
 * anything is signed, each credential gets its status list entry and its ledger row, in one call for
 * the whole batch (src/status/ledger.ts): a credential whose ledger write failed is never handed out,
 * so there is no credential the lifecycle operations cannot find and revoke.
 */
export const CredentialRequestSchema = z
  .object({
    credential_configuration_id: z.string().min(1).max(200).optional(),
    /**
     * OpenID4VCI 1.0 §8.2: instead of the configuration id when the token response named
     * credential_identifiers (authorization_details); here each identifier is its configuration's id.
     */
    credential_identifier: z.string().min(1).max(200).optional(),
    // Exactly one proof type (OpenID4VCI 1.0 §8.2): `jwt` key proofs, or one key attestation (appendix D)
    // as the `attestation` proof type, which binds a credential to each of its attested keys.
    proofs: z.union([
      z.object({ jwt: z.array(z.string().min(1).max(MAX_PROOF_LENGTH)).min(1).max(100) }).strict(),
      z.object({ attestation: z.array(z.string().min(1).max(MAX_PROOF_LENGTH)).length(1) }).strict(),
    ]),
  })
  .strict()
  .refine((r) => (r.credential_configuration_id === undefined) !== (r.credential_identifier === undefined), {
    message: "exactly one of credential_configuration_id and credential_identifier",
  });
export type CredentialRequest = z.infer<typeof CredentialRequestSchema>;

export interface CredentialResponse {
  credentials: { credential: string }[];
  notification_id: string;
}

const NOTIFICATION_MIN_LIFETIME_MS = 60_000;

const KEY_ATTESTATION_REFUSALS: Record<KeyAttestationFailure, string> = {
  key_attestation_missing: "this credential configuration requires a key attestation (key_attestation header) for each proof key",
  key_attestation_malformed: "the key attestation is malformed",
  untrusted_chain: "the key attestation does not chain to a trusted wallet provider",
  bad_signature: "the key attestation's signature does not verify",
  expired: "the key attestation (or a certificate of its chain) has expired",
  key_not_attested: "the proof's key is not among the key attestation's attested_keys",
  key_storage_too_weak: "the attested key storage does not meet this configuration's key_attestations_required",
  user_authentication_too_weak: "the attested user authentication does not meet this configuration's key_attestations_required",
  nonce_mismatch: "the key attestation's nonce is not the proof's c_nonce",
  missing_nonce: "an attestation proof must carry the c_nonce in its nonce claim",
  unsupported_key: "the attested keys must be P-256 public keys",
};

export async function issueForSession(
  env: Env,
  grant: AccessGrant,
  request: CredentialRequest,
  context: IssuanceContext & { readLicence: () => Promise<Licence | null> },
): Promise<CredentialResponse | DeferredResponse> {
  const { issuer, now } = context;
  const configuration = request.credential_configuration_id ?? request.credential_identifier!;
  if (!isCredentialConfigurationId(configuration))
    throw new ApiError("unknown_credential_configuration", `no credential configuration "${configuration}"`);
  // An authorization code grant's token obtains only what the person authorized.
  if (grant.configurations && !grant.configurations.includes(configuration))
    throw new ApiError("invalid_credential_request", `the access token does not authorize "${configuration}"`, {
      extras: { reason: "configuration_not_authorized" },
    });
  const { keys, nonce } = await proofKeys(env, configuration, request.proofs, issuer, now);
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

  // From here on, whatever stops the request gives back what was reserved and not used, unless the
  // request was deferred: then its transaction keeps the reservation (src/issuance/deferred.ts).
  let readSpent = false;
  let kept = false;
  try {
    if (!(await consumeNonce(env, nonce!, now)))
      throw new ApiError("invalid_nonce", "the c_nonce is unknown, expired or already used; get a new one from the nonce endpoint");
    readSpent = true;
    let licence: Licence | null;
    try {
      licence = await context.readLicence();
    } catch (err) {
      // The register at capacity: deferred (202) instead of a 503. A failing register stays a 503 +
      // Retry-After (RegisterUnavailableError, errors.ts).
      if (!(err instanceof RegisterBusyError)) throw err;
      const deferred = await deferIssuance(env, grant, { configuration, keys, busy: err });
      kept = true;
      return deferred;
    }
    const answer = await issueToHolder(env, grant, { configuration, keys, licence }, context);
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
 * The keys to bind credentials to, and the one c_nonce they were proved with, from the request's proofs;
 * all checked in the isolate (signatures, key attestations), so a refusal spends nothing.
 */
async function proofKeys(
  env: Env,
  configuration: CredentialConfigurationId,
  proofs: CredentialRequest["proofs"],
  issuer: string,
  now: number,
): Promise<{ keys: JWK[]; nonce: string }> {
  const settings = settingsOf(env);
  const batchSize = settings.credentialBatchSize;
  const key = configurationKey(configuration);
  const attestationCheck = {
    policy: settings.keyAttestations[key],
    requirement: KEY_REQUIREMENTS[key],
    anchors: settings.secrets.WALLET_PROVIDER_ANCHORS,
    now,
  };
  const refused = (i: number, reason: KeyAttestationFailure) =>
    new ApiError("invalid_proof", `proof ${i} was refused: ${KEY_ATTESTATION_REFUSALS[reason]}`, { extras: { reason } });

  if ("attestation" in proofs) {
    const attested = await verifyAttestationProof(proofs.attestation[0]!, attestationCheck);
    if (!attested.ok) throw refused(0, attested.reason);
    if (attested.value.keys.length > batchSize)
      throw new ApiError("invalid_credential_request", `at most ${batchSize} attested keys (credentials) per request`);
    return attested.value;
  }

  if (proofs.jwt.length > batchSize)
    throw new ApiError("invalid_credential_request", `at most ${batchSize} proofs (credentials) per request`);
  const verifiedAttestations: VerifiedAttestations = new Map();
  const keys = [];
  const nonces = new Set<string>();
  for (const [i, jwt] of proofs.jwt.entries()) {
    const proof = await verifyKeyProof(jwt, issuer, now);
    if (!proof.ok)
      throw new ApiError("invalid_proof", `proof ${i} was refused (${proof.reason.replaceAll("_", " ")})`, {
        extras: { reason: proof.reason },
      });
    // Key attestation (OpenID4VCI appendix D): required or optional per configuration; one that is sent is always checked.
    const attested = await checkKeyAttestation(proof.keyAttestation, proof, attestationCheck, verifiedAttestations);
    if (!attested.ok) throw refused(i, attested.reason);
    keys.push(proof.jwk);
    nonces.add(proof.nonce);
  }
  if (new Set(keys.map((k) => `${k.x}.${k.y}`)).size !== keys.length)
    throw new ApiError("invalid_proof", "each proof must be made with a different key");
  // One c_nonce per request (OpenID4VCI: a wallet uses the nonce it was given for the whole batch), so a
  // refusal consumes none: with two, a good first one was used up before a bad second one was refused.
  if (nonces.size !== 1) throw new ApiError("invalid_proof", "all proofs of one request must carry the same c_nonce");
  const [nonce] = nonces;
  return { keys, nonce: nonce! };
}

/** What issuing needs besides the request: where, when, and the language of a refusal. */
export interface IssuanceContext {
  issuer: string;
  now: number;
  startedMs: number;
  /** The language of a refusal's `error_description` ("fr" or "en"; src/issuance/denial-reasons.ts). */
  lang: string;
}

/**
 * What the register answered, turned into credentials: refused for no licence, a withdrawn, suspended
 * or expired one (credential_request_denied with the reason), else one credential per key and a
 * notification id. Shared by the credential endpoint and the deferred credential endpoint.
 */
export async function issueToHolder(
  env: Env,
  grant: AccessGrant,
  request: { configuration: CredentialConfigurationId; keys: readonly JWK[]; licence: Licence | null },
  context: IssuanceContext,
): Promise<CredentialResponse> {
  const { licence, configuration } = request;
  const { issuer, now } = context;
  const refused = denialOf(licence, now);
  if (refused) {
    recordIssuance(env, "denied", { room: grant.room, latencyMs: Date.now() - context.startedMs });
    throw new ApiError("credential_request_denied", denialText(context.lang, refused), { extras: { reason: refused } });
  }
  const holder = licence!.holder;
  const statuses = await recordIssued(env, issuer, {
    person: await ledgerPseudonym(env, grant.personId),
    sessionId: grant.sessionId,
    format: formatOf(configuration),
    configuration,
    issuedAt: now,
    count: request.keys.length,
  });
  let credentials: string[];
  try {
    credentials = await issueCredentials(env, issuer, configuration, holder, request.keys, statuses, now);
  } catch (err) {
    // Recorded but never handed out (signing failed): the entries are revoked, so that even a
    // credential that somehow left would read as invalid. The ledger keeps the rows.
    await setListStatus(env, statuses, STATUS.invalid, now).catch((e: unknown) => {
      logger.warn("status_void_failed", { room: grant.room, error: e instanceof Error ? e.message : String(e) });
    });
    throw err;
  }
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
