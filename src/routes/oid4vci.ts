import { Hono } from "hono";
import { z } from "zod";
import { secret } from "../config/env";
import { observeBackend } from "../edge/backend-health";
import { enforceRateLimit } from "../edge/rate-limits";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { readJson } from "../http/request";
import { CredentialRequestSchema, issueForSession } from "../issuance/credential";
import { dpopAccess } from "../issuance/dpop-access";
import { issuerOrigin } from "../issuance/issuer-url";
import { acceptNotification, NotificationSchema } from "../issuance/notification";
import { redeemPreAuthorizedCode, TokenRequestSchema } from "../issuance/token";
import { clock } from "../lib/clock";
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

const NONCE_LIFETIME_MS = 5 * 60 * 1000;
const noStore = { "cache-control": "no-store", pragma: "no-cache" };

oid4vci.post("/token", async (c) => {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError("invalid_request", "the token request must be application/x-www-form-urlencoded", { status: 400 });
  }
  const parsed = TokenRequestSchema.safeParse(Object.fromEntries(new URLSearchParams(await c.req.text())));
  if (!parsed.success) throw new ApiError("invalid_request", "malformed token request");
  return c.json(await redeemPreAuthorizedCode(c.env, parsed.data, c.req.header("dpop"), c.req.url, clock.now()), 200, noStore);
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
    // A refusal's words in the wallet's language when it asks for French or English; English otherwise
    // (the API's language), so a wallet that sends no preference reads what it always has.
    lang: c.req.header("accept-language") ? negotiateLang(null, c.req.header("accept-language")) : "en",
  });
  return c.json(answer, 200, noStore);
});

oid4vci.post("/notification", dpopAccess, async (c) => {
  const parsed = NotificationSchema.safeParse(await readJson(c, z.unknown()));
  if (!parsed.success) throw new ApiError("invalid_notification_request", "expected {notification_id, event}");
  await acceptNotification(c.env, c.var.grant, parsed.data, clock.now());
  return c.body(null, 204);
});
