import { Hono } from "hono";
import { z } from "zod";
import { DPOP_MAX_AGE_SECONDS, verifyDpopProof } from "../auth/dpop";
import { secret } from "../config/env";
import { claimOnce, reserveAttempt } from "../edge/replay";
import { enforceRateLimit } from "../edge/rate-limits";
import { MAX_TX_CODE_ATTEMPTS, txCodeMatches } from "../issuance/handoff";
import type { HmacKeyring } from "../tickets/keyring";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { readJson } from "../http/request";
import { isCredentialConfigurationId } from "../issuance/configurations";
import { requireDpopAccess } from "../issuance/dpop-access";
import { issueCredentials } from "../issuance/issue-credentials";
import { issuerOrigin } from "../issuance/issuer-url";
import { verifyKeyProof } from "../issuance/key-proof";
import { PRE_AUTHORIZED_GRANT } from "../issuance/offer";
import { clock } from "../lib/clock";
import { recordIssuance } from "../metrics/analytics";
import { LicenceRegister } from "../register/register";
import { observeBackend } from "../edge/backend-health";
import { hmacKeyring } from "../tickets/keyring";
import { open, seal } from "../tickets/sealed";

/**
 * OpenID4VCI 1.0, pre-authorized code flow: token → nonce → credential → notification.
 * Every refusal is problem+json that also carries the OAuth `error` member the specs define.
 */
export const oid4vci = new Hono<AppEnv>();

const NONCE_LIFETIME_MS = 5 * 60 * 1000;
const noStore = { "cache-control": "no-store", pragma: "no-cache" };

// ---- token endpoint (RFC 6749 section 4.1.3 with the pre-authorized code grant; RFC 9449) ---------------

const TokenRequestSchema = z.object({
  grant_type: z.string(),
  "pre-authorized_code": z.string().min(1).max(4096).optional(),
  tx_code: z.string().optional(),
});

oid4vci.post("/token", async (c) => {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError("invalid_request", "the token request must be application/x-www-form-urlencoded", { status: 400 });
  }
  const form = Object.fromEntries(new URLSearchParams(await c.req.text()));
  const parsed = TokenRequestSchema.safeParse(form);
  if (!parsed.success) throw new ApiError("invalid_request", "malformed token request");
  const request = parsed.data;
  if (request.grant_type !== PRE_AUTHORIZED_GRANT) {
    throw new ApiError("unsupported_grant_type", `only ${PRE_AUTHORIZED_GRANT} is supported`);
  }
  if (!request["pre-authorized_code"]) throw new ApiError("invalid_request", "pre-authorized_code is required");

  const now = clock.now();
  const proof = await verifyDpopProof(c.req.header("dpop"), { method: "POST", url: c.req.url }, now);
  // RFC 9449 section 5: at the token endpoint an unusable proof is a 400 invalid_dpop_proof.
  const badProof = (reason: string) =>
    new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${reason.replaceAll("_", " ")})`, { status: 400, extras: { reason } });
  if (!proof.ok) throw badProof(proof.reason);

  const ring = await hmacKeyring(secret(c.env, "TICKET_KEYS"));
  const opened = await open(ring, "pre-authorized-code", request["pre-authorized_code"], now);
  if (!opened.ok) throw new ApiError("invalid_grant", `the pre-authorized code is not valid (${opened.reason.replaceAll("_", " ")})`);
  const code = opened.claims as { room?: unknown; tid?: unknown; ord?: unknown; pid?: unknown; jkt?: unknown; handoff?: unknown };
  const handoff = code.handoff === true;
  // Every claim is checked, the place in line too: a code only we can seal still must not be trusted to
  // be well-formed (a missing `ord` used to reach the coordinator as a TypeError and answer 500).
  if (typeof code.room !== "string" || typeof code.tid !== "string" || typeof code.pid !== "string" || (!handoff && typeof code.jkt !== "string") || !isPlace(code.ord)) {
    throw new ApiError("invalid_grant", "the pre-authorized code is not valid (bad claims)");
  }
  const ord = code.ord;
  if (!handoff) {
    // The code was issued to one device: another key cannot redeem it, even with a valid proof.
    if (request.tx_code !== undefined) throw new ApiError("invalid_request", "this pre-authorized code takes no transaction code");
    if (proof.jkt !== code.jkt) throw badProof("key_not_bound_to_code");
  }
  await enforceRateLimit(c.env, "token_code", `${code.room}/${code.tid}${handoff ? "/handoff" : ""}`); // apart: a QR's viewer cannot stall the device
  if (!(await claimOnce(c.env, "dpop", `${proof.jkt}:${proof.jti}`, (proof.iat + DPOP_MAX_AGE_SECONDS + 120) * 1000))) {
    throw badProof("replayed");
  }
  if (handoff) await checkTxCode(c.env, ring, code.room, code.tid, request.tx_code, now);

  const coordinator = c.env.ROOM_COORDINATOR.get(c.env.ROOM_COORDINATOR.idFromName(code.room));
  // The redeeming key: a repeat by that same key while the session is open gets the session back (a lost answer).
  const session = await coordinator.startSession(code.room, { ticketId: code.tid, key: { a: ord[0], b: ord[1] }, jkt: proof.jkt });
  if (!session.ok) throw new ApiError("invalid_grant", `the pre-authorized code cannot be used (${session.reason.replaceAll("_", " ")})`);

  recordIssuance(c.env, "token_issued", { room: code.room });
  // A handoff code binds the session to the wallet that redeemed it.
  const accessToken = await seal(ring, "access-token", { pid: code.pid, jkt: handoff ? proof.jkt : code.jkt, room: code.room, tid: code.tid }, now, session.endsAt);
  return c.json({ access_token: accessToken, token_type: "DPoP", expires_in: Math.floor((session.endsAt - now) / 1000) }, 200, noStore);
});

/**
 * A handoff code needs its transaction code. Every attempt at it, right or wrong, first reserves one of
 * MAX_TX_CODE_ATTEMPTS for this admission (one counter, taken atomically by its ReplayGuard); with none
 * left the handoff code is refused for good (the device-bound code of the same admission still works).
 * Reserving before comparing is what bounds guessing: an attacker sending a thousand guesses at once
 * gets MAX_TX_CODE_ATTEMPTS comparisons, not a thousand. (It used to check "spent?", compare, then claim
 * a failure slot: guesses in flight together all passed the check and were all compared.)
 */
async function checkTxCode(env: AppEnv["Bindings"], ring: HmacKeyring, room: string, tid: string, given: string | undefined, now: number): Promise<void> {
  if (given === undefined) throw new ApiError("invalid_request", "this pre-authorized code needs the tx_code shown to its holder");
  const attempt = await reserveAttempt(env, "tx", `${room}:${tid}`, MAX_TX_CODE_ATTEMPTS, now + 24 * 3600 * 1000);
  if (attempt === null) throw new ApiError("invalid_grant", "too many wrong transaction codes: use the app on the device that waited");
  if (await txCodeMatches(ring, room, tid, given)) return;
  const left = MAX_TX_CODE_ATTEMPTS - attempt;
  throw new ApiError("invalid_grant", `wrong transaction code (${left} attempt${left === 1 ? "" : "s"} left)`);
}

/** An order key as a code carries it: [a, b], two non-negative safe integers. */
function isPlace(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every((n) => Number.isSafeInteger(n) && n >= 0);
}

// ---- nonce endpoint (OpenID4VCI section 7) ---------------------------------------------------------

oid4vci.post("/nonce", async (c) => {
  const now = clock.now();
  const ring = await hmacKeyring(secret(c.env, "TICKET_KEYS"));
  const id = crypto.randomUUID();
  const cNonce = await seal(ring, "c-nonce", { jti: id }, now, now + NONCE_LIFETIME_MS);
  return c.json({ c_nonce: cNonce }, 200, noStore);
});

/** A c_nonce is valid if it opens (ours, unexpired) and has never been used before. */
async function consumeNonce(c: { env: AppEnv["Bindings"] }, nonce: string, now: number): Promise<boolean> {
  const ring = await hmacKeyring(secret(c.env, "TICKET_KEYS"));
  const opened = await open(ring, "c-nonce", nonce, now);
  if (!opened.ok || typeof opened.claims.jti !== "string") return false;
  return claimOnce(c.env, "nonce", opened.claims.jti, (opened.claims.exp ?? 0) * 1000 + 60_000);
}

// ---- credential endpoint (OpenID4VCI section 8) ------------------------------------------------------

const CredentialRequestSchema = z
  .object({
    credential_configuration_id: z.string().min(1).max(200),
    proofs: z.object({ jwt: z.array(z.string().min(1).max(4096)).min(1).max(100) }).strict(),
  })
  .strict();

oid4vci.post("/credential", async (c) => {
  const started = Date.now(); // wall clock, for the analytics latency (the project clock may be frozen)
  const grant = await requireDpopAccess(c);
  await enforceRateLimit(c.env, "credential_session", `${grant.room}/${grant.ticketId}`);
  const body = await readJson(c, z.unknown());
  const parsed = CredentialRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError("invalid_credential_request", "expected {credential_configuration_id, proofs: {jwt: [...]}}", {
      extras: { errors: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
    });
  }
  const request = parsed.data;
  if (!isCredentialConfigurationId(request.credential_configuration_id)) {
    throw new ApiError("unknown_credential_configuration", `no credential configuration "${request.credential_configuration_id}"`);
  }
  const batchSize = Math.max(1, Number(c.env.CREDENTIAL_BATCH_SIZE) || 1);
  if (request.proofs.jwt.length > batchSize) {
    throw new ApiError("invalid_credential_request", `at most ${batchSize} proofs (credentials) per request`);
  }

  const now = clock.now();
  const issuer = issuerOrigin(c.env, c.req.url);
  const keys = [];
  const nonces = new Set<string>();
  for (const [i, jwt] of request.proofs.jwt.entries()) {
    const proof = await verifyKeyProof(jwt, issuer, now);
    if (!proof.ok) throw new ApiError("invalid_proof", `proof ${i} was refused (${proof.reason.replaceAll("_", " ")})`, { extras: { reason: proof.reason } });
    keys.push(proof.jwk);
    nonces.add(proof.nonce);
  }
  if (new Set(keys.map((k) => `${k.x}.${k.y}`)).size !== keys.length) {
    throw new ApiError("invalid_proof", "each proof must be made with a different key");
  }
  // One c_nonce per request (OpenID4VCI: a wallet uses the nonce it was given for the whole batch), so a
  // refusal consumes none: with two, a good first one was used up before a bad second one was refused.
  if (nonces.size !== 1) throw new ApiError("invalid_proof", "all proofs of one request must carry the same c_nonce");
  const [nonce] = nonces;
  if (!(await consumeNonce(c, nonce!, now))) throw new ApiError("invalid_nonce", "the c_nonce is unknown, expired or already used; get a new one from the nonce endpoint");

  // Busy or failing register: RegisterBusyError / RegisterUnavailableError become 503 + Retry-After (errors.ts).
  const holder = await observeBackend(c, grant.room, () => new LicenceRegister(c.env).findHolder(grant.personId));
  if (!holder || Date.parse(`${holder.expiry_date}T23:59:59Z`) <= now) recordIssuance(c.env, "denied", { room: grant.room, latencyMs: Date.now() - started });
  if (!holder) throw new ApiError("credential_request_denied", "no driving licence is registered for this person");
  if (Date.parse(`${holder.expiry_date}T23:59:59Z`) <= now) {
    throw new ApiError("credential_request_denied", "the driving licence registered for this person has expired");
  }

  const credentials = await issueCredentials(c.env, issuer, request.credential_configuration_id, holder, keys, now);
  recordIssuance(c.env, "issued", { room: grant.room, configuration: request.credential_configuration_id, count: credentials.length, latencyMs: Date.now() - started });
  const ring = await hmacKeyring(secret(c.env, "TICKET_KEYS"));
  const notificationId = await seal(ring, "notification", { room: grant.room, tid: grant.ticketId }, now, Math.max(grant.expiresAt, now + 60_000));
  return c.json({ credentials: credentials.map((credential) => ({ credential })), notification_id: notificationId }, 200, noStore);
});

// ---- notification endpoint (OpenID4VCI section 11) ---------------------------------------------------

const NotificationSchema = z
  .object({
    notification_id: z.string().min(1).max(4096),
    event: z.enum(["credential_accepted", "credential_failure", "credential_deleted"]),
    event_description: z.string().max(1000).optional(),
  })
  .strict();

oid4vci.post("/notification", async (c) => {
  const grant = await requireDpopAccess(c);
  const body = await readJson(c, z.unknown());
  const parsed = NotificationSchema.safeParse(body);
  if (!parsed.success) throw new ApiError("invalid_notification_request", "expected {notification_id, event}");
  const ring = await hmacKeyring(secret(c.env, "TICKET_KEYS"));
  const opened = await open(ring, "notification", parsed.data.notification_id, clock.now());
  if (!opened.ok || opened.claims.tid !== grant.ticketId || opened.claims.room !== grant.room) {
    throw new ApiError("invalid_notification_id", "unknown notification_id");
  }
  // Accepted or failed, the person is done with the backend: their slot goes to the next in line now.
  if (parsed.data.event !== "credential_deleted") {
    await c.env.ROOM_COORDINATOR.get(c.env.ROOM_COORDINATOR.idFromName(grant.room)).endSession(grant.room, grant.ticketId);
  }
  return c.body(null, 204);
});
