import { Hono } from "hono";
import { z } from "zod";
import { secret } from "../config/env";
import { observeBackend } from "../edge/backend-health";
import { enforceRateLimit } from "../edge/rate-limits";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { readJson } from "../http/request";
import { CredentialRequestSchema, issueForSession } from "../issuance/credential";
import { DeferredCredentialRequestSchema, redeemDeferred } from "../issuance/deferred";
import { dpopAccess } from "../issuance/dpop-access";
import { issuerOrigin } from "../issuance/issuer-url";
import { acceptNotification, NotificationSchema } from "../issuance/notification";
import { redeemPreAuthorizedCode, TokenRequestSchema } from "../issuance/token";
import { attestationHeaders } from "../oauth/client-attestation";
import { AUTHORIZATION_CODE_GRANT, AuthorizationCodeTokenRequestSchema, redeemAuthorizationCode } from "../issuance/authorization-code";
import { clock } from "../lib/clock";
import { withDpopNonce } from "../oauth/dpop-nonce";
import { LicenceRegister } from "../register/register";
import { negotiateLang } from "../pages/i18n";
import { hmacKeyring } from "../tickets/keyring";
import { seal } from "../tickets/sealed";

/**
 * OpenID4VCI 1.0, pre-authorized code flow: token → nonce → credential → notification. The handlers
 * parse and answer; the use cases live in src/issuance/. Every refusal is problem+json that also
 * carries the OAuth `error` member the specs define.
 */
export const oid4vci = new Hono<AppEnv>();

// Each answer of the DPoP endpoints carries the current DPoP nonce (RFC 9449 §8.1, §9).
for (const path of ["/token", "/credential", "/deferred_credential", "/notification"]) oid4vci.use(path, withDpopNonce);

const NONCE_LIFETIME_MS = 5 * 60 * 1000;
const noStore = { "cache-control": "no-store", pragma: "no-cache" };

oid4vci.post("/token", async (c) => {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError("invalid_request", "the token request must be application/x-www-form-urlencoded", { status: 400 });
  }
  const form = Object.fromEntries(new URLSearchParams(await c.req.text()));
  if (form.grant_type === AUTHORIZATION_CODE_GRANT) {
    // The authorization code flow's wallets (src/issuance/authorization-code.ts): wallet attestation,
    // PKCE, DPoP with a server nonce (withDpopNonce puts the current one on every answer).
    const request = AuthorizationCodeTokenRequestSchema.safeParse(form);
    if (!request.success) throw new ApiError("invalid_request", "malformed token request: code and redirect_uri are required");
    const now = clock.now();
    const answer = await redeemAuthorizationCode(
      c.env,
      request.data,
      { dpop: c.req.header("dpop"), ...attestationHeaders((name) => c.req.header(name)) },
      { url: c.req.url, issuer: issuerOrigin(c.env, c.req.url), now },
    );
    return c.json(answer, 200, noStore);
  }
  const parsed = TokenRequestSchema.safeParse(form);
  if (!parsed.success) throw new ApiError("invalid_request", "malformed token request");
  const attestation = attestationHeaders((name) => c.req.header(name));
  return c.json(await redeemPreAuthorizedCode(c.env, parsed.data, c.req.header("dpop"), c.req.url, clock.now(), attestation), 200, noStore);
});

oid4vci.post("/nonce", async (c) => {
  const now = clock.now();
  const ring = await hmacKeyring(secret(c.env, "TICKET_KEYS"));
  const cNonce = await seal(ring, "c-nonce", { jti: crypto.randomUUID() }, now, now + NONCE_LIFETIME_MS);
  return c.json({ c_nonce: cNonce }, 200, noStore);
});

oid4vci.post("/credential", dpopAccess, async (c) => {
  const startedMs = Date.now(); // wall clock, for the analytics latency (the project clock may be frozen)
  const grant = c.var.grant;
  // Per issuance session, before the request is read (docs/threats/rate-limits.md).
  await enforceRateLimit(c.env, "credential_session", `${grant.room}/${grant.ticketId}`);
  const parsed = CredentialRequestSchema.safeParse(await readJson(c, z.unknown()));
  if (!parsed.success) {
    throw new ApiError("invalid_credential_request", "expected {credential_configuration_id, proofs: {jwt: [...]}}", {
      extras: { errors: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
    });
  }
  const answer = await issueForSession(c.env, grant, parsed.data, {
    issuer: issuerOrigin(c.env, c.req.url),
    now: clock.now(),
    startedMs,
    readLicence: () => observeBackend(c, grant.room, () => new LicenceRegister(c.env).findLicence(grant.personId)),
    lang: refusalLanguage(c.req.header("accept-language")),
  });
  // Deferred (the register at capacity): 202 Accepted with the transaction_id (OpenID4VCI 1.0 §8.3, §9).
  return c.json(answer, "transaction_id" in answer ? 202 : 200, noStore);
});

oid4vci.post("/deferred_credential", dpopAccess, async (c) => {
  const startedMs = Date.now(); // wall clock, for the analytics latency
  const grant = c.var.grant;
  // The same per-session budget as the credential endpoint: polling faster than `interval` runs it out.
  await enforceRateLimit(c.env, "credential_session", `${grant.room}/${grant.ticketId}`);
  const parsed = DeferredCredentialRequestSchema.safeParse(await readJson(c, z.unknown()));
  if (!parsed.success) throw new ApiError("invalid_credential_request", "expected {transaction_id}");
  const redeemed = await redeemDeferred(c.env, grant, parsed.data, {
    issuer: issuerOrigin(c.env, c.req.url),
    now: clock.now(),
    startedMs,
    readLicence: () => observeBackend(c, grant.room, () => new LicenceRegister(c.env).findLicence(grant.personId)),
    lang: refusalLanguage(c.req.header("accept-language")),
  });
  // Still pending: 202 with the transaction_id and when to ask again (OpenID4VCI 1.0 §9.2).
  return c.json(redeemed.response, redeemed.done ? 200 : 202, noStore);
});

oid4vci.post("/notification", dpopAccess, async (c) => {
  const parsed = NotificationSchema.safeParse(await readJson(c, z.unknown()));
  if (!parsed.success) throw new ApiError("invalid_notification_request", "expected {notification_id, event}");
  await acceptNotification(c.env, c.var.grant, parsed.data, clock.now());
  return c.body(null, 204);
});

/**
 * A refusal's words in the wallet's language when it asks for French or English; English otherwise
 * (the API's language), so a wallet that sends no preference reads what it always has.
 */
function refusalLanguage(acceptLanguage: string | undefined): string {
  return acceptLanguage ? negotiateLang(null, acceptLanguage) : "en";
}
